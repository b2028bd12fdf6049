#!/usr/bin/env python3
# goprof record with targets that end strangely (issue 15, item 4):
#   - a target that becomes a zombie (exited, its parent never reaps it) ends the
#     recording, as an exited one does (kill(pid, 0) still succeeds on a zombie);
#   - a PID that is already a zombie, or a kernel thread, is refused with a message;
#   - --exe of a script or of a non-ELF file is an error naming the file.
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

# Attaching the zombie: refused.
rc, out, err, took = record("-p", str(zombie.pid), "-d", "5")
if rc == 0 or "zombie" not in err or str(zombie.pid) not in err:
    errors.append("attaching a zombie: rc %d: %s" % (rc, err.strip()))
else:
    print("zombie refused:", err.strip())
zombie.wait()

# A kernel thread: kthreadd (PID 2), or the first one found.
kthread = None
for pid in [2] + sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
    try:
        if int(stat_fields(pid)[6]) & 0x00200000:  # PF_KTHREAD
            kthread = pid
            break
    except (OSError, ValueError, IndexError):
        continue
if kthread is None:
    errors.append("no kernel thread found in /proc")
else:
    rc, out, err, took = record("-p", str(kthread), "-d", "5")
    if rc == 0 or "kernel thread" not in err or str(kthread) not in err:
        errors.append("kernel thread %d: rc %d: %s" % (kthread, rc, err.strip()))
    else:
        print("kernel thread refused:", err.strip())

# --exe of a script and of a file that is no ELF.
with tempfile.TemporaryDirectory(prefix="goprof-exe-") as d:
    script = os.path.join(d, "run.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nsleep 1\n")
    os.chmod(script, 0o755)
    text = os.path.join(d, "notes.txt")
    with open(text, "w") as f:
        f.write("not a program\n")
    os.chmod(text, 0o755)
    for path, want in [(script, "is a script"), (text, "not an ELF executable")]:
        rc, out, err, took = record("--exe", path, "-d", "5")
        if rc == 0 or want not in err or path not in err:
            errors.append("--exe %s: rc %d: %s" % (path, rc, err.strip()))
        else:
            print("--exe refused:", err.strip())

for e in errors:
    print("FAIL:", e)
print("ok" if not errors else "%d failures" % len(errors))
sys.exit(1 if errors else 0)
