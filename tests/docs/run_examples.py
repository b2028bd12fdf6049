#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""The examples of the docs run: each prints its usage (exit 2) without arguments;
symbolize names main.hot at its address (from `nm`) in the split fixture; cpu_profile
profiles the running fixture and writes a pprof file (gzip) and an OTLP body that
protoc decodes, with timestamps; export writes every format, its pprof file with the
thread labels `go tool pprof` shows; offcpu, block and http watch the offcpu, chanblock
and httpserv fixtures and report what those measured themselves (the time main.sleeper
spent in nanosleep, the time main.sendSlow waited on "chan send", the requests served).

usage: run_examples.py EXAMPLE...   (env: GOPROF_FIXTURES, GOPROF_GO_VERSIONS,
GOPROF_OTLP_PROTO; needs BPF privileges for the profiling examples: skips without them,
fails under CI=true)
"""
import os
import re
import subprocess
import sys
import tempfile

REQ = "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def start_fixture(fixture):
    # Runs until killed: on a busy machine the example's start-up alone can take seconds.
    child = subprocess.Popen([fixture, "-seconds", "120", "-workers", "2"],
                             stdout=subprocess.PIPE, text=True)
    if child.stdout.readline().strip() != "ready":
        fail("fixture did not start")
    return child


def watch(exe, argv, secs):
    """Starts fixture argv (it prints one line, then waits for one on stdin), runs the
    example on it for secs seconds, starts the fixture's work once the example attached.
    Returns the fixture's lines up to "done" and the example's output."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    ex = subprocess.Popen([exe, str(child.pid), str(secs)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    first = ex.stdout.readline()
    lines = []
    if first.strip() == "attached":
        child.stdin.write("go\n")
        child.stdin.flush()
        for line in child.stdout:
            if line.strip() == "done":
                break
            lines.append(line.split())
    try:
        out, err = ex.communicate(timeout=secs + 60)
    finally:
        child.stdin.close()
        child.kill()
        child.wait(30)
    name = os.path.basename(exe)
    if ex.returncode:
        fail("%s: exit %d, %s%s%s" % (name, ex.returncode, first, out, err))
    print("%s:\n%s" % (name, out.rstrip()))
    return lines, out


def check_runtime_examples(exes, ver):
    fixtures = os.environ["GOPROF_FIXTURES"]
    # goroutine_snapshot: the gsnap fixture parks 137 goroutines created by main.startLeaks.
    child = subprocess.Popen([os.path.join(fixtures, "gsnap-stripped-go" + ver), "137", "0"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    child.stdin.write("go\n")
    child.stdin.flush()
    child.stdout.readline()
    r = run([exes["goroutine_snapshot"], str(child.pid)])
    child.stdin.close()
    child.wait(30)
    site = [l for l in r.stdout.splitlines() if l.split()[:3] == ["137", "created", "by"]]
    if r.returncode or not site or "main.startLeaks" not in site[0]:
        fail("goroutine_snapshot: exit %d, %s%s" % (r.returncode, r.stdout[-800:], r.stderr))
    print("goroutine_snapshot: " + site[0].strip())
    # offcpu: main.sleeper sleeps 5 ms at a time in syscall.Nanosleep, for 2 s.
    lines, out = watch(exes["offcpu"], [os.path.join(fixtures, "offcpu-go" + ver), "wait", "2",
                                        "5", "10"], 5)
    truth = dict(f.split("=") for l in lines for f in l if "=" in f)
    seen = sum(float(l.split()[0]) for l in out.splitlines() if l.endswith("<- main.sleeper"))
    want = int(truth.get("sleep_ns", 0)) / 1e6
    if not want or not 0.5 * want <= seen <= 1.5 * want:
        fail("offcpu: %.1f ms off CPU under main.sleeper, the fixture slept %.1f ms" % (seen, want))
    # block: main.sendSlow's sends each wait ~2 ms ("chan send").
    lines, out = watch(exes["block"], [os.path.join(fixtures, "chanblock-go" + ver),
                                       "unbuffered", "2"], 5)
    want = sum(int(l[2]) for l in lines if l[:2] == ["site", "main.sendSlow"]) / 1e6
    seen = sum(float(l.split()[-2]) for l in out.splitlines() if l.startswith("chan send "))
    if not want or not 0.5 * want <= seen <= 2 * want:
        fail("block: %.1f ms of \"chan send\", main.sendSlow measured %.1f ms" % (seen, want))
    if not re.search(r"^chan cap 0 at main\.(sendSlow|consume) ", out, re.M):
        fail("block: no blocked channel first used by main.sendSlow or main.consume")
    # http: 200 requests to /load, 2 at a time.
    lines, out = watch(exes["http"], [os.path.join(fixtures, "httpserv-go" + ver), "load", "200",
                                      "2"], 5)
    sent = [l for l in lines if l[:1] == ["sent"]]
    if not sent or ("served GET /load: %s requests" % sent[0][3]) not in out:
        fail("http: the fixture says %s, the example saw otherwise" % sent)


def main():
    exes = {os.path.basename(e).replace("docs-example-", ""): e for e in sys.argv[1:]}
    for name, exe in exes.items():
        r = run([exe])
        if r.returncode != 2 or "usage:" not in r.stderr:
            fail("%s without arguments: exit %d, %r" % (name, r.returncode, r.stderr))
    fixture = os.path.join(os.environ["GOPROF_FIXTURES"],
                           "split-go" + os.environ["GOPROF_GO_VERSIONS"].split()[0])

    addr = [l.split()[0] for l in run(["nm", fixture]).stdout.splitlines()
            if l.endswith(" main.hot")]
    if not addr:
        fail("nm finds no main.hot in " + fixture)
    r = run([exes["symbolize"], fixture, addr[0]])
    if r.returncode or " main.hot " not in r.stdout:
        fail("symbolize: exit %d, %s%s" % (r.returncode, r.stdout, r.stderr))
    print(r.stdout.strip())

    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            fail("CI must not skip: the profiling examples need root")
        print("SKIP: the profiling examples need root")
        return 77
    with tempfile.TemporaryDirectory() as out:
        child = start_fixture(fixture)
        r = run([exes["cpu_profile"], str(child.pid), "2", out + "/cpu"])
        child.kill()
        child.wait(30)
        if r.returncode:
            fail("cpu_profile: exit %d, %s%s" % (r.returncode, r.stdout, r.stderr))
        print("cpu_profile: " + r.stdout.strip())
        if open(out + "/cpu.pb.gz", "rb").read(2) != b"\x1f\x8b":
            fail("cpu_profile wrote no gzip pprof file")
        proto = os.environ["GOPROF_OTLP_PROTO"]
        d = subprocess.run(["protoc", "--decode=" + REQ, "-I", os.path.dirname(proto),
                            os.path.basename(proto)], stdin=open(out + "/cpu.otlp", "rb"),
                           capture_output=True, text=True)
        if d.returncode or "main.hot" not in d.stdout or "timestamps_unix_nano" not in d.stdout:
            fail("cpu_profile's OTLP body: protoc exit %d, main.hot %s, timestamps %s; %s"
                 % (d.returncode, "main.hot" in d.stdout, "timestamps_unix_nano" in d.stdout,
                    d.stderr))
        child = start_fixture(fixture)
        pid = child.pid
        r = run([exes["export"], str(pid), "2", out])
        child.kill()
        child.wait(30)
        if r.returncode:
            fail("export: exit %d, %s%s" % (r.returncode, r.stdout, r.stderr))
        for f in ["cpu.pb.gz", "cpu.folded", "cpu.svg", "cpu.otlp"]:
            if not os.path.getsize(os.path.join(out, f)):
                fail("export wrote an empty " + f)
        if "main.hot" not in open(out + "/cpu.folded").read():
            fail("export's folded stacks lack main.hot")
        go = "/opt/libgoprof/go-%s/bin/go" % os.environ["GOPROF_GO_VERSIONS"].split()[-1]
        raw = run([go, "tool", "pprof", "-raw", out + "/cpu.pb.gz"], cwd="/tmp",
                  env=dict(os.environ, HOME="/tmp", GOTOOLCHAIN="local"))
        tids = {int(t) for t in re.findall(r"thread_id:\[(\d+)\]", raw.stdout)}
        if raw.returncode or not tids or min(tids) < pid:
            fail("go tool pprof -raw of export's cpu.pb.gz: exit %d, thread_id labels %s (pid "
                 "%d) %s" % (raw.returncode, sorted(tids), pid, raw.stderr[-300:]))
        print("export: pprof thread_id labels %s (pid %d)" % (sorted(tids), pid))
    check_runtime_examples(exes, os.environ["GOPROF_GO_VERSIONS"].split()[-1])
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
