#!/usr/bin/env python3
# events.jsonl lines up with the profiles (issue 19, item 4): every line of goprof record's
# events.jsonl follows docs/events.schema.json (type, wall-clock time_unix_ns and pid on
# every line; a versioned "recording" header first), every line type the CLI can write is
# in the schema and every type in the schema is one it writes, and the times fall inside
# the recording's wall-clock window.
# usage: check_events_schema.py GOPROF DEMO_APP SCHEMA CLI_SOURCE_DIR
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

goprof, demo, schema_path, cli_dir = sys.argv[1:5]
errors = []
schema = json.load(open(schema_path))
variants = {v["properties"]["type"]["const"]: v for v in schema["oneOf"]}


def resolve(p):
    if "$ref" in p:
        p = schema["$defs"][p["$ref"].rsplit("/", 1)[1]]
    return p


TYPES = {"integer": int, "string": str, "boolean": bool, "number": (int, float), "array": list}


def check_value(p, v, where):
    p = resolve(p)
    if "const" in p and v != p["const"]:
        return "%s: %r, expected %r" % (where, v, p["const"])
    if "enum" in p and v not in p["enum"]:
        return "%s: %r not in %r" % (where, v, p["enum"])
    t = p.get("type")
    if t and (not isinstance(v, TYPES[t]) or (t in ("integer", "number") and isinstance(v, bool))):
        return "%s: %r is not %s" % (where, v, t)
    if "minimum" in p and v < p["minimum"]:
        return "%s: %r below %r" % (where, v, p["minimum"])
    if t == "array":
        for i, x in enumerate(v):
            e = check_value(p["items"], x, "%s[%d]" % (where, i))
            if e:
                return e
    return None


def validate(obj):
    """The schema's rules (oneOf by type, required, no other members, member types);
    also jsonschema's verdict where that module is installed."""
    v = variants.get(obj.get("type"))
    if v is None:
        return "type %r is not in the schema" % obj.get("type")
    for r in v["required"]:
        if r not in obj:
            return "%s: %s missing" % (obj["type"], r)
    for k, val in obj.items():
        if k not in v["properties"]:
            return "%s: member %s is not in the schema" % (obj["type"], k)
        e = check_value(v["properties"][k], val, "%s.%s" % (obj["type"], k))
        if e:
            return e
    return None


try:
    import jsonschema
    full_validator = jsonschema.Draft202012Validator(schema)
except ImportError:
    full_validator = None

# Every type the CLI writes: the literals handed to jsonl_begin() and tcp_event_name().
written = set()
for src in glob.glob(os.path.join(cli_dir, "*.c")):
    text = open(src).read()
    for call in re.findall(r"jsonl_begin\(([^;]*?)\);", text, re.S):
        written.update(re.findall(r'"([a-z_]+)"', call))
    m = re.search(r"tcp_event_name\([^)]*\)\s*\{(.*?)\n\}", text, re.S)
    if m:
        written.update(re.findall(r'"(tcp_[a-z_]+)"', m.group(1)))
for t in sorted(written - set(variants)):
    errors.append("the CLI writes '%s' lines; the schema has no such type" % t)
for t in sorted(set(variants) - written):
    errors.append("the schema has type '%s'; the CLI writes no such line" % t)
print("schema: %d types; the CLI writes %d" % (len(variants), len(written)))

if os.geteuid() != 0:
    if os.environ.get("CI") == "true":
        print("FAIL: CI=true: the recording part needs root (BPF)")
        sys.exit(1)
    print("SKIP: the recording part needs root (BPF)")
    sys.exit(77 if not errors else 1)

out = tempfile.mkdtemp(prefix="goprof-events-")
log = open(os.path.join(out, "demo.log"), "w+")
app = subprocess.Popen([demo, "-clients", "4"], stdout=log, stderr=subprocess.STDOUT)
try:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log.seek(0)
        if "listening" in log.read():
            break
        time.sleep(0.1)
    runs = [["--goroutines", "--gc", "--sched=precise", "--tcp", "--http", "--channels",
             "--leak-age", "1", "--overhead-budget", "0.01"],
            ["--runtime", "--http-wire", "--offcpu", "--leak-age", "1"]]
    seen = {}
    for i, args in enumerate(runs):
        d = os.path.join(out, "run%d" % i)
        t0 = time.time_ns()
        r = subprocess.run([goprof, "record", "-F", "99", "-d", "4", "-o", d, "-p", str(app.pid)] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        t1 = time.time_ns()
        if r.returncode != 0:
            errors.append("goprof record %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr[-300:]))
            continue
        lines = open(os.path.join(d, "events.jsonl"), encoding="utf-8").read().splitlines()
        for n, line in enumerate(lines):
            obj = json.loads(line)
            e = validate(obj)
            # jsonschema (slow: oneOf tries every type) on the first lines of each type.
            if not e and full_validator and seen.get(obj["type"], 0) < 50:
                problems = list(full_validator.iter_errors(obj))
                e = problems and "jsonschema: %s" % problems[0].message
            if e:
                errors.append("run %d line %d: %s" % (i, n + 1, e))
                continue
            if n == 0 and obj["type"] != "recording":
                errors.append("run %d: the first line is %s, not the recording header" % (i, obj["type"]))
            if not t0 - 5 * 10**9 <= obj["time_unix_ns"] <= t1 + 10**9:
                errors.append("run %d line %d: time_unix_ns %d outside the recording [%d, %d]"
                              % (i, n + 1, obj["time_unix_ns"], t0, t1))
            if obj["pid"] not in (0, app.pid):
                errors.append("run %d line %d: pid %d is neither 0 nor the target" % (i, n + 1, obj["pid"]))
            seen[obj["type"]] = seen.get(obj["type"], 0) + 1
finally:
    app.kill()
    app.wait()
    subprocess.run(["rm", "-rf", out])

print("lines by type: %s" % json.dumps(seen, sort_keys=True))
for t in ("recording", "gc_cycle", "gc_summary", "sched_latency", "sched_site", "goroutine_leak",
          "http_request", "tcp_accept", "tcp_close", "tcp_peer", "channel", "probe_detached"):
    if not seen.get(t):
        errors.append("no '%s' line in the recordings of the demo" % t)
for e in errors[:30]:
    print("FAIL", e)
sys.exit(1 if errors else 0)
