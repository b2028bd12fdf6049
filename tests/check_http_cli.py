#!/usr/bin/env python3
# goprof record --http on the httpserv fixture's script (run by the CLI as its command):
# every events.jsonl line is valid JSON, the server requests are there with the exact
# bytes of their paths (binary ones escaped, long ones truncated with their length), and
# the summary prints the endpoint table.
# usage: check_http_cli.py GOPROF_CLI HTTPSERV_FIXTURE
import json
import os
import subprocess
import sys
import tempfile
import time

cli, fixture = sys.argv[1], sys.argv[2]
if os.geteuid() != 0 and os.environ.get("CI") != "true":
    print("skipping: needs root for BPF")
    sys.exit(77)
out = tempfile.mkdtemp(prefix="goprof-http-cli-")
p = subprocess.Popen([cli, "record", "--http", "-d", "8", "-o", out, "--", fixture, "script"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     text=True)
head = []
for line in p.stdout:  # the fixture's own output comes through the CLI's
    head.append(line)
    if line.startswith("listening"):
        break
time.sleep(1.5)  # the CLI handles the exec record and installs the probes meanwhile
p.stdin.write("go\n")
p.stdin.flush()
time.sleep(3)
p.stdin.close()  # the fixture exits, then the CLI
summary = "".join(head) + p.stdout.read()
p.wait(timeout=60)
print(summary)
assert p.returncode == 0, f"goprof record exited {p.returncode}"

events = [json.loads(line) for line in open(os.path.join(out, "events.jsonl"))]
server = {e["path"]: e for e in events if e["type"] == "http_request"}
client = [e for e in events if e["type"] == "http_client_request"]
assert len(server) == 10, f"{len(server)} server requests: {sorted(server)}"
assert len(client) == 12, f"{len(client)} client requests"
assert server["/hello"]["status"] == 200 and server["/hello"]["response_bytes"] == 6
assert server["/implicit"]["status"] == 200 and server["/implicit"]["implicit_status"]
assert server["/upload"]["content_length"] == 1234 and server["/upload"]["method"] == "POST"
assert server["/fail"]["status"] == 500
binary = "/bin\x00\xff\n\"\\"  # the URL's %00%FF%0A%22%5C, decoded by net/http
assert server[binary]["status"] == 404, sorted(server)
long_path = [e for p, e in server.items() if p.startswith("/long/")][0]
assert long_path["truncated"] and long_path["path_len"] == 306 and len(long_path["path"]) == 63
method = [e for e in server.values() if e["path"] == "/method"][0]
assert method["method"] == "M" * 15 and method["method_len"] == 40
assert "hijacked" in server["/hijack"]["unsupported"]
assert "HTTP server requests: 10 traced" in summary
assert "1 unfinished" in summary
row = [l for l in summary.splitlines() if l.split()[1:2] == ["/fail"]][0]
assert row.split()[2:4] == ["1", "1"], row  # count 1, one 5xx
print("ok")
