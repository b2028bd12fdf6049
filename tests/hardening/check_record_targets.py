#!/usr/bin/env python3
# goprof record with a target that ends strangely (issue 15, item 4): a target that
# becomes a zombie (exited, its parent never reaps it) ends the recording, as an exited
# one does (kill(pid, 0) still succeeds on a zombie). The library's refusals (a zombie or
# kernel thread PID, --exe of a script or non-ELF file) are checked in hard_lifecycle,
# on one session, since each goprof run costs a BPF load.
# usage: check_record_targets.py GOPROF
# Needs BPF privileges (root): skipped (77) without them, except under CI=true.
import os
import subprocess
import sys
import tempfile
import time

goprof = sys.argv[1]
errors = []

if os.geteuid() != 0:
    if os.environ.get("CI") == "true":
        print("FAIL: CI=true: this test needs root (BPF)")
        sys.exit(1)
    print("SKIP: needs root (BPF)")
    sys.exit(77)


def record(*args, timeout=30):
    with tempfile.TemporaryDirectory(prefix="goprof-targets-") as out:
        t0 = time.monotonic()
        r = subprocess.run([goprof, "record", "-F", "49", "-o", out, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


# A child of ours, never reaped once it exits: a zombie while goprof records. It exits
# when its stdin closes, which the test does once goprof has started (its perf events are
# open), then times how long goprof takes to notice.
def perf_events_open(pid):
    try:
        return any("perf_event" in os.readlink("/proc/%d/fd/%s" % (pid, fd))
                   for fd in os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return False


zombie = subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE)
with tempfile.TemporaryDirectory(prefix="goprof-targets-") as out:
    rec = subprocess.Popen([goprof, "record", "-F", "49", "-o", out, "-p", str(zombie.pid),
                            "-d", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 60
    while not perf_events_open(rec.pid) and rec.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    zombie.stdin.close()  # it exits; nobody reaps it
    t0 = time.monotonic()
    try:
        out_, err = rec.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        rec.kill()
        out_, err = rec.communicate()
    took = time.monotonic() - t0
    rc = rec.returncode
if stat_fields(zombie.pid)[0] != "Z":
    errors.append("the target is not a zombie: state %s" % stat_fields(zombie.pid)[0])
if rc != 0 or "every target has exited" not in err or took > 5:
    errors.append("zombie target: rc %s, %.1f s after it exited (want the recording to end "
                  "within 5 s): %s" % (rc, took, err.strip()))
else:
    print("a zombie target ends the recording %.1f s after it exits" % took)

zombie.wait()

for e in errors:
    print("FAIL:", e)
print("ok" if not errors else "%d failures" % len(errors))
sys.exit(1 if errors else 0)
