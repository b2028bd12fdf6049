#!/usr/bin/env python3
# goprof record --interval and the statistics block, on a real Go process.
#
# Checks: every window's CPU profile holds only that window (the windows' sample counts
# add up to the samples the session took in, which add up with the losses to what the
# kernel counted: no sample is in two windows or in none); the files on disk agree with
# the index; only the newest --keep windows stay and DIR/latest points at the newest; the
# statistics block prints every field of struct goprof_session_stats (read from the
# public header, not from a list of our own) with values that agree with each other.
#
# usage: check_record_windows.py GOPROF SESSION_H FIXTURE
import os
import re
import subprocess
import sys
import tempfile

goprof, session_h, fixture = sys.argv[1:4]
# 8 s: under ASan on a loaded host the first poll (symbolizing) has taken 5 s.
INTERVAL, KEEP, SECONDS, HZ = 1.0, 3, 8, 199


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def stats_fields(header):
    text = open(header).read()
    body = re.search(r"struct goprof_session_stats \{(.*?)\n\};", text, re.S).group(1)
    return [m.group(1) for m in re.finditer(r"^\s*uint(?:32|64)_t (\w+);", body, re.M)
            if m.group(1) != "sz"]


def folded_total(path):
    total = 0
    with open(path) as f:
        for line in f:
            total += int(line.rsplit(" ", 1)[1])
    return total


with tempfile.TemporaryDirectory(prefix="goprof-windows-") as out:
    cmd = [goprof, "record", "-F", str(HZ), "--runtime", "--sched=precise", "--interval", str(INTERVAL),
           "--keep", str(KEEP), "-d", str(SECONDS), "-o", out, "--", fixture, "2", "30"]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=120)
    print(run.stdout)
    if run.returncode != 0:
        fail("goprof record exited with %d" % run.returncode)

    # The statistics block: every public field, as "name value".
    block = run.stdout.split("\nsession statistics:\n", 1)
    if len(block) != 2:
        fail("no statistics block")
    stats = {}
    for line in block[1].splitlines():
        m = re.match(r"^  (\w+)\s+(\d+)\s", line)
        if m:
            stats[m.group(1)] = int(m.group(2))
    missing = [f for f in stats_fields(session_h) if f not in stats]
    if missing:
        fail("statistics block lacks %s" % ", ".join(missing))

    # The index: one line per window, numbered from 1.
    with open(os.path.join(out, "windows.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f][1:]
    seqs = [int(r[0]) for r in rows]
    if seqs != list(range(1, len(rows) + 1)):
        fail("windows numbered %s" % seqs)
    if len(rows) < KEEP + 1:
        fail("%d windows in %.1f s at %.1f s intervals" % (len(rows), SECONDS, INTERVAL))
    per_window = [int(r[3]) for r in rows]
    print("windows:", per_window, "stats:", stats)

    # Disjoint and complete: each sample taken in lands in exactly one window.
    if sum(per_window) != stats["samples_delivered"] - stats["lost_aggregation"]:
        fail("windows hold %d samples, the session took in %d" %
             (sum(per_window), stats["samples_delivered"]))
    if stats["cpu_samples"] != stats["samples_delivered"] + stats["lost_ringbuf_full"]:
        fail("kernel counted %d samples, %d delivered + %d lost" %
             (stats["cpu_samples"], stats["samples_delivered"], stats["lost_ringbuf_full"]))
    if stats["cpu_profile_resets"] != len(rows):
        fail("%d resets for %d windows" % (stats["cpu_profile_resets"], len(rows)))
    # A fresh window starts from empty tables: the profile is empty after the last one.
    if stats["cpu_profile_stacks"] != 0 or stats["symbol_cache_entries"] != 0:
        fail("tables not emptied by the last reset: %d stacks, %d cache entries" %
             (stats["cpu_profile_stacks"], stats["symbol_cache_entries"]))
    # The default ring: a second of 2 KiB samples of every CPU, doubled with runtime
    # events (--runtime), as a power of two of at least 1 MiB (session.h, ringbuf_kib).
    possible = 0  # CPUs as the library counts them: /sys/devices/system/cpu/possible
    for part in open("/sys/devices/system/cpu/possible").read().strip().split(","):
        lo, _, hi = part.partition("-")
        possible += int(hi or lo) - int(lo) + 1
    want = 1 << 20
    while want < possible * HZ * 2 * 2 * 1024:
        want <<= 1
    if stats["ringbuf_bytes"] != want:
        fail("ring buffer of %d bytes, the default here is %d" % (stats["ringbuf_bytes"], want))
    if not 0 < stats["ringbuf_high_water_bytes"] <= stats["ringbuf_bytes"]:
        fail("ring buffer high-water %d" % stats["ringbuf_high_water_bytes"])
    if stats["events_delivered"] < 1 or stats["uprobes_installed"] < 1:
        fail("--runtime: %d events, %d uprobes" % (stats["events_delivered"],
                                                  stats["uprobes_installed"]))
    if stats["symbol_cache_hits"] + stats["symbol_cache_misses"] == 0:
        fail("no symbol lookups counted")

    # On disk: the newest KEEP windows, each file agreeing with the index.
    kept = sorted(os.listdir(os.path.join(out, "windows")))
    want = ["%06d" % s for s in seqs[-KEEP:]]
    if kept != want:
        fail("windows on disk %s, want %s" % (kept, want))
    if os.readlink(os.path.join(out, "latest")) != "windows/" + want[-1]:
        fail("latest -> %s" % os.readlink(os.path.join(out, "latest")))
    for r in rows[-KEEP:]:
        d = os.path.join(out, r[4])
        for name in ("cpu.pb.gz", "cpu.folded", "heap.pb.gz", "goroutines.pb.gz", "sched.pb.gz"):
            if not os.path.isfile(os.path.join(d, name)):
                fail("%s/%s missing" % (r[4], name))
        if folded_total(os.path.join(d, "cpu.folded")) != int(r[3]):
            fail("%s/cpu.folded holds %d samples, the index says %s" %
                 (r[4], folded_total(os.path.join(d, "cpu.folded")), r[3]))
    # The busy threads ran in every full window (not all in the first one).
    if min(per_window[1:-1]) == 0:
        fail("a full window without samples: %s" % per_window)
print("ok")
