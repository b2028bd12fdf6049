#!/usr/bin/env python3
# Nothing invisible in pprof (issue 19, item 3): every profile goprof record writes shows
# 100% of its total in `go tool pprof -top`, for every sample type. A sample without a
# location is left out of every pprof view; goroutines created before the session
# attached have no creation stack, and used to be such samples (97.6% of sched.pb.gz).
# The fixture's goroutines are started before goprof attaches, on purpose.
# usage: check_pprof_totals.py GOPROF SCHED_FIXTURE GO
import glob
import os
import re
import subprocess
import sys
import tempfile

goprof, fixture, go = sys.argv[1:4]
errors = []

if os.geteuid() != 0:
    if os.environ.get("CI") == "true":
        print("FAIL: CI=true: this test needs root (BPF)")
        sys.exit(1)
    print("SKIP: needs root (BPF)")
    sys.exit(77)

target = subprocess.Popen([fixture, "busy", "6"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
assert target.stdout.readline().strip() == "waiting"
target.stdin.write("go\n")
target.stdin.flush()
assert target.stdout.readline().strip() == "started"

out = tempfile.mkdtemp(prefix="goprof-totals-")
r = subprocess.run([goprof, "record", "-F", "49", "-d", "3", "-o", out, "-p", str(target.pid),
                    "--runtime", "--sched=precise", "--block", "--offcpu"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True, timeout=120)
target.stdin.close()
target.kill()
target.wait()
if r.returncode != 0:
    print("FAIL: goprof record exited %d: %s" % (r.returncode, r.stderr))
    sys.exit(1)

env = dict(os.environ, HOME=tempfile.gettempdir())
profiles = sorted(glob.glob(os.path.join(out, "*.pb.gz")))
if len(profiles) < 5:
    errors.append("expected cpu, goroutines, sched, block, offcpu... profiles, got %s" % profiles)
for path in profiles:
    raw = subprocess.run([go, "tool", "pprof", "-raw", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    m = re.search(r"^Samples:\n(.*)$", raw.stdout, re.M)
    types = m.group(1).split() if m else []
    for idx, stype in enumerate(types):
        top = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=%d" % idx, path],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        m = re.search(r"Showing nodes accounting for (\S+), ([\d.]+)% of (\S+) total", top.stdout)
        if not m:
            if re.search(r"\b0 total|no samples|0 of 0", top.stdout + top.stderr):
                print("ok   %s %s: empty" % (os.path.basename(path), stype))
                continue
            errors.append("%s %s: no total in pprof -top: %s %s" % (path, stype, top.stdout[:300],
                                                                     top.stderr[:300]))
            continue
        line = "%s %s: nodes account for %s of %s (%s%%)" % (os.path.basename(path), stype,
                                                            m.group(1), m.group(3), m.group(2))
        if m.group(3) == "0":
            print("ok   %s: empty" % line)
            if os.path.basename(path) == "sched.pb.gz":
                errors.append("sched.pb.gz is empty: the fixture's goroutines wait to run")
            continue
        ok = m.group(2) == "100"
        print(("ok   " if ok else "FAIL ") + line)
        if not ok:
            errors.append(line)

subprocess.run(["rm", "-rf", out])
if errors:
    for e in errors:
        print("FAIL", e)
    sys.exit(1)
