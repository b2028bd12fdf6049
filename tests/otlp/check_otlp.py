#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""Checks an OTLP ExportProfilesServiceRequest written by libgoprof.

The body is decoded with `protoc --decode` against our schema of the pinned release
(otlp_profiles_v1_11.proto), independently of the library's writer. The expectation is
the same profile as read through the public API (goprof_profile_foreach_sample), dumped
as JSON by the C test: this script applies the documented mapping rules itself (labels to
attributes, trace labels to links, comm to thread.name, frame kinds to profile.frame.type)
and compares sample by sample. It also checks the dictionary invariants of the spec:
element 0 of every table is the zero value, no duplicates, every index in range, unique
attribute keys per sample. Timestamps: when every event of the profile kept its time,
each OTLP sample must carry them with one value per timestamp (and fall within the
profile's interval); otherwise one summed value and none. Each
process.executable.build_id.htlhash of a file that exists here is recomputed with hashlib
from the specification's definition.

usage: check_otlp.py PROTO BODY EXPECT.json [--gzip] [--spans FILE --linked FUNCTION]
                     [--htlhash-files N] [--timestamps]
With --htlhash-files N, at least N distinct files' htlhashes must have been recomputed;
with --timestamps, the profile must have carried timestamps.
With --spans (lines "span KEY TRACE_ID SPAN_ID" a traced process printed) and --linked,
every link must be one of those spans, and every sample whose stack holds FUNCTION must
carry a link.
Exit status 0 if everything matches; otherwise 1 with the differences on stderr.
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter

REQ = "opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest"
KINDS = {1: "go", 2: "native", 3: "kernel"}
DEFAULT_LINK_KEYS = ["trace_id", "span_id", "otel.traceid", "otel.spanid"]
HTLHASH = "process.executable.build_id.htlhash"
# Labels of profiles that keep threads, and their semantic-convention attribute keys.
THREAD_KEYS = {"thread_id": "thread.id", "thread_name": "thread.name"}
errors = []
htlhash_checked = set()


def htlhash(path):
    """The OTel profiles specification's htlhash (profiles/mappings.md), from scratch."""
    data = open(path, "rb").read()
    digest = hashlib.sha256(data[:4096] + data[-4096:] + len(data).to_bytes(8, "big"))
    return digest.digest()[:16].hex()


def check_htlhash(path, value, what):
    """Recomputes the htlhash of a file we can read; files that do not exist (synthetic
    profiles) are skipped."""
    if not path.startswith("/") or not os.path.isfile(path):
        return
    if path in htlhash_checked:
        return
    want = htlhash(path)
    if value != want:
        fail("%s: htlhash of %s is %r, hashlib says %r" % (what, path, value, want))
    htlhash_checked.add(path)


def fail(msg):
    errors.append(msg)


# ---- protoc text format -> nested dicts (every field a list) ----

def unquote(s):
    """Decodes a protoc text-format string literal (C escapes, octal) into bytes."""
    assert s[0] == '"' and s[-1] == '"', s
    out, i, body = bytearray(), 0, s[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = body[i + 1]
        if n in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8))
            i = j
        elif n == "x":
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        else:
            out += {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\",
                    "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v"}[n]
            i += 2
    return bytes(out)


def parse_text(text):
    root, stack = {}, []
    cur = root
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            cur = stack.pop()
        elif line.endswith("{"):
            name = line[:-1].strip()
            child = {}
            cur.setdefault(name, []).append(child)
            stack.append(cur)
            cur = child
        else:
            name, value = line.split(":", 1)
            value = value.strip()
            if value.startswith('"'):
                value = unquote(value)
            else:
                value = int(value)
            cur.setdefault(name, []).append(value)
    assert not stack, "unbalanced braces"
    return root


def one(msg, field, default=0):
    v = msg.get(field, [default])
    if len(v) != 1:
        fail("field %s repeated: %r" % (field, v))
    return v[0]


# ---- decoding helpers ----

def any_value(v):
    if "string_value" in v:
        return one(v, "string_value").decode()
    if "int_value" in v:
        return one(v, "int_value")
    if "array_value" in v:
        return [any_value(x) for x in one(v, "array_value").get("values", [])]
    if not v:
        return None
    fail("unexpected AnyValue %r" % v)
    return None


def check_table(d, name, zero):
    table = d.get(name, [])
    if not table:
        fail("%s is empty: element 0 must be present" % name)
        return table
    if table[0] != zero:
        fail("%s[0] = %r, not the zero value %r" % (name, table[0], zero))
    seen = Counter(json.dumps(x, sort_keys=True, default=repr) for x in table)
    for k, n in seen.items():
        if n > 1:
            fail("%s holds %d copies of %s" % (name, n, k))
    return table


def in_range(idx, table, what):
    if not 0 <= idx < len(table):
        fail("%s index %d out of range (table of %d)" % (what, idx, len(table)))
        return False
    return True


def main():
    proto, body_path, expect_path = sys.argv[1:4]
    body = open(body_path, "rb").read()
    if "--gzip" in sys.argv[4:]:
        body = gzip.decompress(body)
    res = subprocess.run(["protoc", "--decode=" + REQ, "-I", proto.rsplit("/", 1)[0],
                          proto.rsplit("/", 1)[1]], input=body, capture_output=True)
    if res.returncode:
        print("protoc failed: %s" % res.stderr.decode(), file=sys.stderr)
        return 1
    req = parse_text(res.stdout.decode())
    exp = json.load(open(expect_path))

    d = one(req, "dictionary", {})
    strs = [s.decode() for s in check_table(d, "string_table", b"")]
    maps = check_table(d, "mapping_table", {})
    locs = check_table(d, "location_table", {})
    fns = check_table(d, "function_table", {})
    attrs = check_table(d, "attribute_table", {})
    stacks = check_table(d, "stack_table", {})
    links = check_table(d, "link_table", {"trace_id": [bytes(16)], "span_id": [bytes(8)]})

    def s(i):
        return strs[i] if in_range(i, strs, "string") else "?"

    def attr_list(indices, what):
        out = {}
        for a in indices:
            if not in_range(a, attrs, what + " attribute") or a == 0:
                fail("%s references attribute %d" % (what, a))
                continue
            kv = attrs[a]
            key = s(one(kv, "key_strindex"))
            if key in out:
                fail("%s has attribute key %s twice" % (what, key))
            out[key] = (any_value(one(kv, "value", {})), s(one(kv, "unit_strindex")))
        return out

    # Resource and scope.
    rps = req.get("resource_profiles", [])
    if len(rps) != 1:
        fail("expected 1 ResourceProfiles, got %d" % len(rps))
        return report()
    rp = rps[0]
    resource = {}
    for kv in one(rp, "resource", {}).get("attributes", []):
        key = one(kv, "key").decode()
        if key in resource:
            fail("resource attribute %s twice" % key)
        resource[key] = any_value(one(kv, "value", {}))
    exp_res = dict(exp["resource"])
    path = resource.get("process.executable.path", "")
    if HTLHASH in resource and HTLHASH not in exp_res and os.path.isfile(path):
        exp_res[HTLHASH] = htlhash(path)  # the independent truth
        htlhash_checked.add(path)
    if resource != exp_res:
        fail("resource %r != expected %r" % (resource, exp_res))
    sps = rp.get("scope_profiles", [])
    if len(sps) != 1 or one(one(sps[0], "scope", {}), "name", b"") != b"libgoprof":
        fail("expected one scope named libgoprof")
        return report()
    profiles = sps[0].get("profiles", [])

    # Sample types: one Profile each, default first.
    types = [tuple(t) for t in exp["sample_types"]]
    order = list(range(len(types)))
    if exp.get("default_sample_type"):
        first = [i for i, t in enumerate(types) if t[0] == exp["default_sample_type"]][0]
        order = [first] + [i for i in order if i != first]
    got_types = [(s(one(one(p, "sample_type", {}), "type_strindex")),
                  s(one(one(p, "sample_type", {}), "unit_strindex"))) for p in profiles]
    if got_types != [types[i] for i in order]:
        fail("profiles' sample types %r != expected %r" % (got_types, [types[i] for i in order]))
        return report()

    # Expected samples keyed like OTLP's sample identity, after the documented rules.
    link_keys = exp.get("link_keys")
    if link_keys is None:
        link_keys = DEFAULT_LINK_KEYS
    expected = [Counter() for _ in types]
    expected_ts = [{} for _ in types]
    # OTLP's rule: timestamps only if they account for every value of every sample.
    timed = exp.get("nr_timestamps", 0) > 0 and exp.get("timestamps_dropped", 0) == 0 and all(
        [sum(v[t] for _, v in smp["timestamps"]) for t in range(len(types))] == smp["values"]
        for smp in exp["samples"])
    if "--timestamps" in sys.argv[4:] and not timed:
        fail("the profile was expected to carry complete timestamps (%d kept, %d dropped)"
             % (exp.get("nr_timestamps", 0), exp.get("timestamps_dropped", 0)))
    for smp in exp["samples"]:
        labels = smp["labels"]
        strlab = {}
        for l in labels:
            if "str" in l:
                strlab.setdefault(l["key"], l["str"])
        link, used = None, ()
        for tk, sk in zip(link_keys[0::2], link_keys[1::2]):
            t, sp = strlab.get(tk, ""), strlab.get(sk, "")
            if is_id(t, 16) and is_id(sp, 8):
                link, used = (t.lower(), sp.lower()), (tk, sk)
                break
        a = {}
        for l in labels:
            if l["key"] in used:
                continue
            v = l["str"] if "str" in l else l["num"]
            unit = "" if "str" in l else l.get("unit", "")
            k = THREAD_KEYS.get(l["key"], l["key"])
            if k in a:
                old = a[k][0]
                a[k] = ((old if isinstance(old, list) else [old]) + [v], a[k][1])
            else:
                a[k] = (v, unit)
        if smp["comm"] and "thread.name" not in a:
            a["thread.name"] = (smp["comm"], "")
        frames = [frame_key(f["function"], f["system_name"], f["file"], f["line"],
                            f["start_line"], f["address"], KINDS.get(f["kind"]),
                            f["mapping_file"], f["build_id"], f["htlhash"])
                  for f in smp["frames"]]
        key = json.dumps([frames, sorted(a.items()), link])
        for t in range(len(types)):
            expected[t][key] += smp["values"][t]
            if timed:
                expected_ts[t][key] = [(ts, v[t]) for ts, v in smp["timestamps"]]

    # Decode each Profile's samples the same way.
    for pi, p in enumerate(profiles):
        t = order[pi]
        got, ids = Counter(), Counter()
        for smp in p.get("samples", []):
            st = one(smp, "stack_index")
            frames = []
            if in_range(st, stacks, "stack"):
                for li in stacks[st].get("location_indices", []):
                    if li == 0 or not in_range(li, locs, "location"):
                        fail("stack %d references location %d" % (st, li))
                        continue
                    frames += location_frames(locs[li], maps, fns, s, attr_list)
            a = attr_list(smp.get("attribute_indices", []), "sample")
            a = {k: v for k, v in a.items()}
            li = one(smp, "link_index")
            link = None
            if li and in_range(li, links, "link"):
                lk = links[li]
                link = (one(lk, "trace_id").hex(), one(lk, "span_id").hex())
            key = json.dumps([frames, sorted(a.items()), link])
            ids[key] += 1
            vals = smp.get("values", [])
            stamps = smp.get("timestamps_unix_nano", [])
            if timed:
                if len(vals) != len(stamps) or not stamps:
                    fail("sample has %d values and %d timestamps, expected one value per "
                         "timestamp" % (len(vals), len(stamps)))
                    continue
                t0, dur = exp["time_nanos"], exp["duration_nanos"]
                for ts in stamps:
                    if not t0 <= ts < t0 + dur:
                        fail("timestamp %d outside the profile's [%d, %d)" % (ts, t0, t0 + dur))
                if list(zip(stamps, vals)) != expected_ts[t].get(key):
                    fail("profile %d: sample %s: timestamps/values %r, expected %r"
                         % (pi, key, list(zip(stamps, vals))[:5], expected_ts[t].get(key, [])[:5]))
                got[key] += sum(vals)
                continue
            if stamps:
                fail("sample has %d timestamps; the profile's are incomplete" % len(stamps))
            if len(vals) != 1:
                fail("sample has %d values, expected 1" % len(vals))
                continue
            got[key] += vals[0]
        for k, n in ids.items():
            if n > 1:
                fail("profile %d: sample identity repeated %d times: %s" % (pi, n, k))
        if got != expected[t]:
            for k in set(got) | set(expected[t]):
                if got.get(k) != expected[t].get(k):
                    fail("profile %d (%s): sample %s: got %r, expected %r"
                         % (pi, types[t][0], k, got.get(k), expected[t].get(k)))
        if one(p, "period") != exp["period"]:
            fail("period %r != %r" % (one(p, "period"), exp["period"]))
        pt = one(p, "period_type", {})
        if [s(one(pt, "type_strindex")), s(one(pt, "unit_strindex"))] != exp["period_type"]:
            fail("period_type mismatch")
        if one(p, "time_unix_nano") != exp["time_nanos"]:
            fail("time_unix_nano %r != %r" % (one(p, "time_unix_nano"), exp["time_nanos"]))
        if one(p, "duration_nano") != exp["duration_nanos"]:
            fail("duration_nano %r != %r" % (one(p, "duration_nano"), exp["duration_nanos"]))

    # No orphans: every dictionary entry must be referenced (the spec's SHOULD).
    check_orphans(req, d, profiles, strs, maps, locs, fns, attrs, stacks, links)
    if "--spans" in sys.argv:
        check_spans(sys.argv[sys.argv.index("--spans") + 1],
                    sys.argv[sys.argv.index("--linked") + 1], profiles, stacks, locs, fns, s,
                    links)
    if "--htlhash-files" in sys.argv:
        need = int(sys.argv[sys.argv.index("--htlhash-files") + 1])
        if len(htlhash_checked) < need:
            fail("htlhash recomputed for %d files (%s), expected at least %d"
                 % (len(htlhash_checked), sorted(htlhash_checked), need))
        else:
            print("htlhash: %d files recomputed with hashlib" % len(htlhash_checked))
    return report()


def check_spans(path, function, profiles, stacks, locs, fns, s, links):
    spans = set()
    for line in open(path):
        f = line.split()
        if len(f) == 4 and f[0] == "span":
            spans.add((f[2], f[3]))
    linked = {(one(l, "trace_id").hex(), one(l, "span_id").hex()) for l in links[1:]}
    if not linked:
        fail("no links at all")
    for l in linked - spans:
        fail("link %s/%s is no span the process printed" % l)
    with_fn = without = 0
    for smp in profiles[0].get("samples", []):
        names = set()
        for li in stacks[one(smp, "stack_index")].get("location_indices", []):
            for ln in locs[li].get("lines", []):
                names.add(s(one(fns[one(ln, "function_index")], "name_strindex")))
        if function in names:
            with_fn += 1
            if not one(smp, "link_index"):
                without += 1
                stack = []
                for li in stacks[one(smp, "stack_index")].get("location_indices", []):
                    stack += [s(one(fns[one(ln, "function_index")], "name_strindex"))
                              for ln in locs[li].get("lines", [])] or ["?"]
                print("unlinked sample (%d attributes): %s" % (
                    len(smp.get("attribute_indices", [])), " < ".join(stack)), file=sys.stderr)
    if not with_fn:
        fail("no sample in %s" % function)
    # The labels come from the session's BPF reads of the goroutine; a few samples can
    # miss them (reported by the session, not the encoder): allow 10%, print them.
    if without * 10 > with_fn:
        fail("%d of %d samples in %s have no link" % (without, with_fn, function))
    print("spans: %d printed, %d linked; %d samples in %s, %d without a link"
          % (len(spans), len(linked), with_fn, function, without))


def is_id(s, n):
    try:
        return len(s) == 2 * n and int(s, 16) != 0
    except ValueError:
        return False


def frame_key(function, system_name, file, line, start_line, address, kind, mfile, bid, htl):
    return [function, system_name, file, line, start_line, address, kind, mfile, bid, htl]


def location_frames(loc, maps, fns, s, attr_list):
    a = attr_list(loc.get("attribute_indices", []), "location")
    kind = a.get("profile.frame.type", (None, ""))[0]
    mfile = bid = htl = ""
    mi = one(loc, "mapping_index")
    if mi and in_range(mi, maps, "mapping"):
        m = maps[mi]
        mfile = s(one(m, "filename_strindex"))
        ma = attr_list(m.get("attribute_indices", []), "mapping")
        htl = ma.pop(HTLHASH, ("", ""))[0]
        if htl:
            check_htlhash(mfile, htl, "mapping")
        ids = [v[0] for k, v in ma.items() if k.startswith("process.executable.build_id.")]
        bid = ids[0] if ids else ""
        for k, v in ma.items():
            want = "process.executable.build_id." + (
                "gnu" if all(c in "0123456789abcdefABCDEF" for c in v[0]) and len(v[0]) % 2 == 0
                else "go")
            if k != want:
                fail("mapping attribute %s for build ID %r, expected %s" % (k, v[0], want))
    addr = one(loc, "address")
    lines = loc.get("lines", [])
    if not lines:
        return [frame_key("", "", "", 0, 0, addr, kind, mfile, bid, htl)]
    out = []
    for ln in lines:
        fi = one(ln, "function_index")
        f = fns[fi] if in_range(fi, fns, "function") else {}
        out.append(frame_key(s(one(f, "name_strindex")), s(one(f, "system_name_strindex")),
                             s(one(f, "filename_strindex")), one(ln, "line"),
                             one(f, "start_line"), addr, kind, mfile, bid, htl))
    return out


def check_orphans(req, d, profiles, strs, maps, locs, fns, attrs, stacks, links):
    used = {"s": {0}, "m": {0}, "l": {0}, "f": {0}, "a": {0}, "st": {0}, "lk": {0}}
    for p in profiles:
        for vt in p.get("sample_type", []) + p.get("period_type", []):
            used["s"].update([one(vt, "type_strindex"), one(vt, "unit_strindex")])
        for smp in p.get("samples", []):
            used["st"].add(one(smp, "stack_index"))
            used["a"].update(smp.get("attribute_indices", []))
            used["lk"].add(one(smp, "link_index"))
    for st in stacks:
        used["l"].update(st.get("location_indices", []))
    for loc in locs:
        used["m"].add(one(loc, "mapping_index"))
        used["a"].update(loc.get("attribute_indices", []))
        used["f"].update(one(ln, "function_index") for ln in loc.get("lines", []))
    for m in maps:
        used["s"].add(one(m, "filename_strindex"))
        used["a"].update(m.get("attribute_indices", []))
    for f in fns:
        used["s"].update(one(f, k) for k in ("name_strindex", "system_name_strindex",
                                              "filename_strindex"))
    for a in attrs:
        used["s"].update([one(a, "key_strindex"), one(a, "unit_strindex")])
    for name, table in (("s", strs), ("m", maps), ("l", locs), ("f", fns), ("a", attrs),
                        ("st", stacks), ("lk", links)):
        orphans = set(range(len(table))) - used[name]
        if orphans:
            fail("table %s: unreferenced entries %s" % (name, sorted(orphans)[:10]))


def report():
    for e in errors[:50]:
        print(e, file=sys.stderr)
    if errors:
        print("%d problems" % len(errors), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
