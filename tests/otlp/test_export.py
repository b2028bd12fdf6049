#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""examples/otlp-export against a loopback OTLP/HTTP receiver started here.

The receiver (http.server on 127.0.0.1) gunzips every body and decodes it with
`protoc --decode` against tests/otlp/otlp_profiles_v1_11.proto. Scenarios:
  flaky  - answers 503 twice, then 200: the exporter must retry and deliver everything;
           the profiles must name the process and hold main.hot, and the CPU time they
           add up to must match the CPU time the fixture reports for itself.
  slow   - takes 1.5 s per request with a queue of 1 and 100 ms intervals: requests are
           dropped and counted, and the profiler is not slowed down (ends on time).
  once   - one profile for the whole run in one request (otlp_export_once).
  down   - nothing listens: retries are bounded, everything counted as failed, no hang.

usage: test_export.py EXPORTER   (env: GOPROF_OTLP_TEST_DIR, GOPROF_FIXTURES,
                                  GOPROF_GO_VERSIONS; CI=true turns skips into failures)
Exit 0 pass, 77 skip, 1 fail.
"""
import gzip
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time

REQ = "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest"
HERE = os.environ["GOPROF_OTLP_TEST_DIR"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def skip(why):
    if os.environ.get("CI") == "true":
        fail("CI must not skip: " + why)
    print("SKIP: " + why)
    sys.exit(77)


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self, mode):
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode, self.posts, self.decoded, self.lock = mode, [], [], threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1development/profiles" % self.server_address[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with srv.lock:
            n = len(srv.posts)
            srv.posts.append((self.path, dict(self.headers), body))
        if srv.mode == "flaky" and n < 2:
            return self.answer(503)
        if srv.mode == "slow":
            time.sleep(1.5)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        res = subprocess.run(["protoc", "--decode=" + REQ, "-I", HERE,
                              "otlp_profiles_v1_11.proto"], input=body, capture_output=True)
        with srv.lock:
            srv.decoded.append(res.stdout.decode() if res.returncode == 0
                               else "DECODE ERROR " + res.stderr.decode())
        self.answer(200 if res.returncode == 0 else 400)

    def answer(self, code):
        # An empty ExportProfilesServiceResponse is a valid protobuf body.
        self.send_response(code)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def run(exporter, fixture, url, seconds, *args):
    """Runs the fixture and the exporter on it; returns (stats dict, fixture cpu ns, wall s)."""
    child = subprocess.Popen([fixture, "-seconds", str(seconds), "-workers", "2"],
                             stdout=subprocess.PIPE, text=True)
    try:
        check(child.stdout.readline().strip() == "ready", "fixture did not start")
        t0 = time.monotonic()
        ex = subprocess.run([exporter, "--pid", str(child.pid), "--url", url, "--hz", "99",
                             *args], capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - t0
        done = child.stdout.readline().split()
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if ex.returncode != 0 and ("permission" in ex.stderr.lower()
                               or "operation not permitted" in ex.stderr.lower()):
        skip(ex.stderr.strip())
    check(ex.returncode == 0, "exporter failed (%d): %s" % (ex.returncode, ex.stderr))
    m = re.search(r"export: enqueued (\d+) sent (\d+) dropped (\d+) failed (\d+) retries (\d+) "
                  r"bytes (\d+)", ex.stdout)
    check(m, "no stats line in: " + ex.stdout)
    st = dict(zip(["enqueued", "sent", "dropped", "failed", "retries", "bytes"],
                  map(int, m.groups())))
    cpu_ns = int(done[3]) if len(done) >= 4 and done[0] == "done" else 0
    ready = re.search(r"session ready in (\d+) ms", ex.stdout)
    st["ready_s"] = int(ready.group(1)) / 1000 if ready else 0
    print("  %s: %s (wall %.1f s)" % (url, st, wall))
    return st, cpu_ns, wall, child.pid


def check_cpu(what, sampled, cpu_ns, seconds, ready_s):
    """The CPU time in the profiles against the fixture's own: never more than it had
    (plus sampling noise), and not much less than its share while the session ran (the
    run minus the session's start-up). Loose on the low side: on a busy host the
    fixture's CPU is not spread evenly over its run."""
    check(cpu_ns > 0, "%s: fixture reported no CPU time" % what)
    expected = cpu_ns * (seconds - ready_s) / seconds
    print("  %s: CPU time in the exported profiles %.2f s, fixture's own %.2f s, about %.2f s "
          "of it while profiled" % (what, sampled / 1e9, cpu_ns / 1e9, expected / 1e9))
    check(0.4 * expected < sampled < 1.25 * cpu_ns, "%s: exported CPU %d ns, fixture's %d ns "
          "(about %d ns while profiled)" % (what, sampled, cpu_ns, expected))


def profile_cpu_ns(text):
    """Sum of the cpu/nanoseconds Profile's values in one decoded request."""
    strings = re.findall(r'^\s*string_table: "(.*)"$', text, re.M)
    total = 0
    for prof in re.split(r"\n    profiles \{\n", text)[1:]:
        m = re.match(r"\s*sample_type \{\s*type_strindex: (\d+)", prof)
        if m and strings[int(m.group(1))] == "cpu":
            body = prof.split("\n    }\n", 1)[0]
            total += sum(int(v) for v in re.findall(r"^\s+values: (-?\d+)$", body, re.M))
    return total


def main():
    exporter = sys.argv[1]
    versions = os.environ.get("GOPROF_GO_VERSIONS", "").split()
    fixture = os.path.join(os.environ["GOPROF_FIXTURES"], "split-go" + versions[0])
    check(os.access(fixture, os.X_OK), "no fixture " + fixture)
    if subprocess.run(["protoc", "--version"], capture_output=True).returncode:
        skip("protoc is not installed")

    # flaky: retries deliver everything.
    rx = Receiver("flaky")
    # 6 s: the session's start-up alone took 3.1 s on a host with load 20.
    st, cpu_ns, wall, pid = run(exporter, fixture, rx.url, 6, "--interval-ms", "500",
                                "--service", "export-test", "--backoff-ms", "50")
    rx.shutdown()
    check(st["failed"] == 0 and st["dropped"] == 0, "flaky: lost requests: %s" % st)
    check(st["retries"] == 2, "flaky: expected 2 retries after two 503s: %s" % st)
    check(st["sent"] == st["enqueued"] >= 3, "flaky: %s" % st)
    check(len(rx.posts) == st["sent"] + 2, "receiver saw %d POSTs" % len(rx.posts))
    for path, headers, _ in rx.posts:
        check(path == "/v1development/profiles", "path " + path)
        check(headers.get("Content-Type") == "application/x-protobuf", "content type")
        check(headers.get("Content-Encoding") == "gzip", "not gzip")
    check(all(not d.startswith("DECODE ERROR") for d in rx.decoded),
          "protoc could not decode a body: %s" % [d[:300] for d in rx.decoded])
    for d in rx.decoded:
        check('string_value: "export-test"' in d, "service.name missing")
        check(re.search(r'key: "process.pid"\s+value \{\s+int_value: %d' % pid, d),
              "process.pid %d missing" % pid)
    joined = "\n".join(rx.decoded)
    check('string_table: "main.hot"' in joined, "main.hot in no request")
    # Every sample's time is sent: one timestamp per value, as OTLP wants them paired.
    stamps = len(re.findall(r"^\s+timestamps_unix_nano: \d+$", joined, re.M))
    values = len(re.findall(r"^\s+values: -?\d+$", joined, re.M))
    check(stamps > 0 and stamps == values, "%d timestamps for %d values" % (stamps, values))
    check('string_value: "go"' in joined, "no Go frames typed as go")
    sampled = sum(profile_cpu_ns(d) for d in rx.decoded)
    check_cpu("flaky", sampled, cpu_ns, 6, st["ready_s"])

    # slow: the queue overflows, drops are counted, the profiler keeps its pace.
    rx = Receiver("slow")
    # 6 s: the session's start-up alone took 2.9 s on a host with load 18.
    st, _, wall, _ = run(exporter, fixture, rx.url, 6, "--interval-ms", "100", "--queue", "1")
    rx.shutdown()
    # Profiling time: the fixture's 6 s minus the session's start-up (slow on a busy host).
    profiled = 6 - st["ready_s"]
    check(profiled > 1.5, "slow: the session took %.1f s to start" % st["ready_s"])
    check(st["dropped"] > 0, "slow: nothing dropped with a 1-slot queue: %s" % st)
    check(st["enqueued"] + st["dropped"] >= profiled * 10 * 0.6, "slow: intervals missing: %s" % st)
    check(st["sent"] >= 1, "slow: %s" % st)
    # The run + at most two 1.5 s requests at the flush; a profiler that waited for the
    # receiver would take 1.5 s per interval (about 90 s).
    check(wall < 6 + 3 + 2, "slow: the exporter took %.1f s" % wall)

    # once: one request for the whole run (otlp_export_once, as a CLI recorder uses it).
    rx = Receiver("ok")
    # 3 s: a session start-up of 1.6 s was seen on a host with load 25.
    st, cpu_ns, _, pid = run(exporter, fixture, rx.url, 3, "--once", "--service", "once",
                             "--threads")
    rx.shutdown()
    check(st["sent"] == 1 == len(rx.decoded) and st["failed"] == 0, "once: %s" % st)
    check('string_value: "once"' in rx.decoded[0], "once: service.name missing")
    # --threads: the samples name their threads (thread.id, an integer attribute): TIDs of
    # the fixture, allocated at or after its PID (the host does not wrap PIDs in a test).
    strings = re.findall(r'^\s*string_table: "(.*)"$', rx.decoded[0], re.M)
    check("thread.id" in strings, "once --threads: no thread.id key")
    tids = {int(t) for t in re.findall(r"key_strindex: %d\s+value \{\s+int_value: (\d+)"
                                       % strings.index("thread.id"), rx.decoded[0])}
    print("  once --threads: thread.id values %s (pid %d)" % (sorted(tids), pid))
    check(tids and all(t >= pid for t in tids), "once --threads: thread IDs %s" % tids)
    check_cpu("once", profile_cpu_ns(rx.decoded[0]), cpu_ns, 3, st["ready_s"])

    # down: nothing listens on the port.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    st, _, wall, _ = run(exporter, fixture, "http://127.0.0.1:%d/v1development/profiles" % port,
                         2, "--interval-ms", "400", "--retries", "2", "--backoff-ms", "20")
    check(st["sent"] == 0 and st["failed"] == st["enqueued"] >= 1, "down: %s" % st)
    check(st["retries"] == 2 * st["failed"], "down: retries not bounded at 2: %s" % st)
    check(wall < 2 + 5, "down: took %.1f s" % wall)
    print("ok")


if __name__ == "__main__":
    main()
