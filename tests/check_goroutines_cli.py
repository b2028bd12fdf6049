#!/usr/bin/env python3
# goprof record --goroutines (snapshots, the default) on the gsnap fixture, which parks
# 137 goroutines at main.leaky (created by main.startLeaks) while 50 at a time come and
# go: the summary names the site with exactly 137, events.jsonl has the leak group (as
# found and at the end), goroutines.pb.gz and goroutine_waits.pb.gz are written, and the
# session statistics show snapshots taken and no uprobe installed or detached.
# usage: check_goroutines_cli.py GOPROF_CLI GSNAP_FIXTURE
import json
import os
import re
import subprocess
import sys
import tempfile

cli, fixture = sys.argv[1], sys.argv[2]
if os.geteuid() != 0 and os.environ.get("CI") != "true":
    print("skipping: needs root for BPF")
    sys.exit(77)
out = tempfile.mkdtemp(prefix="goprof-goroutines-cli-")
child = subprocess.Popen([fixture, "137", "50"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
assert child.stdout.readline().strip() == "waiting"
child.stdin.write("go\n")
child.stdin.flush()
assert child.stdout.readline().strip() == "started"
r = subprocess.run([cli, "record", "-p", str(child.pid), "--goroutines", "--leak-age", "1",
                    "-d", "3", "-o", out], capture_output=True, text=True, timeout=120)
child.stdin.close()
child.wait(30)
print(r.stdout)
print(r.stderr)
assert r.returncode == 0, f"goprof record exited {r.returncode}"
m = re.search(r"^ +(\d+) goroutines parked in main\.leaky \[chan receive\].*created by "
              r"main\.startLeaks \(", r.stdout, re.M)
assert m and m.group(1) == "137", "the leak site with 137 goroutines is not in the summary"


def stat(name):
    v = re.search(r"^  %s +(\d+)" % name, r.stdout, re.M)
    assert v, name + " missing from the session statistics"
    return int(v.group(1))


assert stat("uprobes_installed") == 0, "--goroutines installed uprobes"
assert stat("probe_sets_detached") == 0
assert stat("goroutine_snapshots") >= 2
assert stat("snapshot_goroutines_read") >= 2 * 137
events = [json.loads(line) for line in open(os.path.join(out, "events.jsonl"))]
found = [e for e in events if e["type"] == "goroutine_leak_found" and e["function"] == "main.leaky"]
final = [e for e in events if e["type"] == "goroutine_leak" and e["function"] == "main.leaky"]
assert found and found[-1]["count"] == 137, found
assert len(final) == 1 and final[0]["count"] == 137 and final[0]["wait_reason"] == "chan receive"
assert final[0]["site"].startswith("main.startLeaks ("), final[0]
assert not [e for e in events if e["type"].startswith("goroutine_leak") and
            e["function"].startswith("main.churn")], "short-lived goroutines reported as leaks"
for f in ["goroutines.pb.gz", "goroutine_waits.pb.gz"]:
    assert open(os.path.join(out, f), "rb").read(2) == b"\x1f\x8b", f + " is not a gzip file"
print("ok")
