#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""The ctypes binding (examples/python/goprof.py) end to end: a session profiles the split
fixture for about 2 s, the pprof bytes come back through a Python write callback, and
Go's own `go tool pprof -raw` must read them and find main.hot. The OTLP bytes of the
same profile come back too, and foreach_sample agrees with pprof on the total.

usage: test_binding.py   (env: GOPROF_LIB, GOPROF_SOURCE_ROOT, GOPROF_FIXTURES,
                          GOPROF_GO_VERSIONS; CI=true turns skips into failures)
Exit 0 pass, 77 skip (meson's convention), 1 fail.
"""
import hashlib
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["GOPROF_SOURCE_ROOT"], "examples", "python"))
import goprof  # noqa: E402


def skip(why):
    if os.environ.get("CI") == "true":
        print("FAIL (CI must not skip): " + why)
        sys.exit(1)
    print("SKIP: " + why)
    sys.exit(77)


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)


def profile_split(fixture):
    try:
        s = goprof.Session(cpu_freq_hz=199)
        s.start()
    except goprof.Error as e:
        if e.errno in (1, 13):  # EPERM, EACCES: no BPF privileges here
            skip(str(e))
        raise
    child = subprocess.Popen([fixture, "-seconds", "2", "-workers", "2"],
                             stdout=subprocess.PIPE, text=True)
    try:
        check(child.stdout.readline().strip() == "ready", "fixture did not start")
        s.attach_pid(child.pid)
        done = ""
        deadline = time.monotonic() + 30
        while not done and time.monotonic() < deadline:
            s.poll(50)  # drain as a host's loop would while the target runs
            r, _, _ = select.select([child.stdout], [], [], 0)
            if r:
                done = child.stdout.readline().strip()
        check(done.startswith("done"), "fixture did not finish: %r" % done)
        check(child.wait(10) == 0, "fixture failed")
        while s.poll(100) > 0:
            pass
        return s, s.snapshot_cpu()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def main():
    versions = os.environ.get("GOPROF_GO_VERSIONS", "").split()
    check(versions, "GOPROF_GO_VERSIONS is empty")
    fixture = os.path.join(os.environ["GOPROF_FIXTURES"], "split-go" + versions[0])
    check(os.access(fixture, os.X_OK), "no fixture " + fixture)
    go = "/opt/libgoprof/go-%s/bin/go" % versions[-1]
    if not os.access(go, os.X_OK):
        skip("no Go toolchain at " + go)

    print("libgoprof", goprof.lib().goprof_version_string().decode())
    session, prof = profile_split(fixture)
    with session, prof:
        info = prof.info()
        check(info.nr_samples > 0, "empty profile")
        t0 = time.monotonic()
        data = prof.write(goprof.FORMAT_PPROF)
        ms = (time.monotonic() - t0) * 1000
        print("pprof: %d bytes in %.1f ms through the Python callback, %d distinct samples"
              % (len(data), ms, info.nr_samples))
        check(data[:2] == b"\x1f\x8b", "not gzip: %r" % data[:4])
        otlp = prof.write(goprof.FORMAT_OTLP, service_name="py", pid=1234,
                          resource_attrs={"host.name": "test"})
        check(b"service.name" in otlp and b"main.hot" in otlp and b"host.name" in otlp,
              "OTLP bytes lack the resource or main.hot")
        samples = prof.samples()
        check(len(samples) == info.nr_samples, "foreach gave %d samples, info says %d"
              % (len(samples), info.nr_samples))
        total = sum(s["values"][0] for s in samples)
        hot = sum(s["values"][0] for s in samples
                  if any(f["function"] == "main.hot" for f in s["frames"]))
        cold = sum(s["values"][0] for s in samples
                   if any(f["function"] == "main.cold" for f in s["frames"]))
        check(any(s["labels"].get("part") == ["hot"] for s in samples), "no part=hot label")
        # The executable's htlhash, recomputed here from the OTel specification.
        exe = open(fixture, "rb").read()
        want = hashlib.sha256(exe[:4096] + exe[-4096:] + len(exe).to_bytes(8, "big")).digest()
        got = {f["htlhash"] for s in samples for f in s["frames"] if f["function"] == "main.hot"}
        check(got == {want[:16].hex()}, "htlhash of main.hot frames %r, hashlib %s"
              % (got, want[:16].hex()))
        check(info.nr_timestamps == 0 and all(not s["timestamps"] for s in samples),
              "timestamps kept without GOPROF_CPU_PROFILE_TIMESTAMPS")

    with tempfile.NamedTemporaryFile(suffix=".pb.gz") as f:
        f.write(data)
        f.flush()
        env = dict(os.environ, HOME="/tmp", GOTOOLCHAIN="local")
        raw = subprocess.run([go, "tool", "pprof", "-raw", f.name], capture_output=True,
                             text=True, cwd="/tmp", env=env)
        check(raw.returncode == 0, "go tool pprof -raw failed: " + raw.stderr)
        check("main.hot" in raw.stdout, "main.hot missing from pprof -raw")
        # The sample counts pprof reads equal what foreach_sample handed to Python.
        rows = raw.stdout.split("\nSamples:\n", 1)[1].split("\nLocations\n", 1)[0]
        count = 0
        for line in rows.splitlines()[1:]:
            parts = line.split(":", 1)[0].split()
            if len(parts) == 2 and parts[0].isdigit():
                count += int(parts[0])
        check(count == total, "pprof -raw counts %d samples, foreach_sample %d" % (count, total))
    print("samples %d, in main.hot %d, in main.cold %d" % (total, hot, cold))
    # 70/30 by design; the ratio survives a busy machine, absolute counts do not.
    check(hot > cold > 0, "main.hot %d vs main.cold %d samples: expected about 70/30"
          % (hot, cold))
    print("ok")


if __name__ == "__main__":
    main()
