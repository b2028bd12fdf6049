#!/usr/bin/env python3
"""Checks the `goprof symbolize` / `goprof info` CLI against debug/gosym (gosym_oracle).

usage: check_cli.py GOPROF GOSYM_ORACLE BINARY [REFERENCE]
REFERENCE is the same link unstripped, for the oracle (which needs a section or symbols).
- `goprof symbolize --json BINARY PC...`: one JSON object per PC, exactly the keys of the
  issue ({"pc","frames":[{"function","file","line","inlined"}]}), innermost first, the
  last frame not inlined; outermost function and innermost file:line equal gosym's;
  a PC outside every function gives "frames":[]; PCs on stdin give the same output.
- `goprof info BINARY`: Go version, pclntab format/location, function count, build IDs,
  and one yes/no line per capability (CPU stacks with inline frames must be yes).
"""
import json
import random
import subprocess
import sys

goprof, oracle, binary = sys.argv[1:4]
reference = sys.argv[4] if len(sys.argv) > 4 else binary
funcs = []
for line in subprocess.run([oracle, reference, 'funcs'], capture_output=True, text=True, check=True).stdout.splitlines():
    entry, end, name = line.split('\t')
    funcs.append((int(entry, 16), int(end, 16), name))
rnd = random.Random(7)
pcs = []
for _ in range(300):
    e, x, _ = rnd.choice(funcs)
    pcs.append(e + rnd.randrange(max(1, x - e)))
pcs.append(0x10)  # in no function
truth = {}
out = subprocess.run([oracle, reference], input=''.join('%x\n' % p for p in pcs), capture_output=True, text=True,
                     check=True).stdout
for line in out.splitlines():
    pc, fn, file, ln = line.split('\t')
    truth[int(pc, 16)] = (fn, file, int(ln))

args = [goprof, 'symbolize', '--json', binary] + ['0x%x' % p for p in pcs]
res = subprocess.run(args, capture_output=True, text=True, check=True).stdout
stdin_res = subprocess.run([goprof, 'symbolize', '--json', binary], input=''.join('0x%x\n' % p for p in pcs),
                           capture_output=True, text=True, check=True).stdout
errors = []
if res != stdin_res:
    errors.append('PCs from stdin give different output than PCs as arguments')
lines = res.splitlines()
if len(lines) != len(pcs):
    errors.append('%d output lines for %d PCs' % (len(lines), len(pcs)))
for pc, line in zip(pcs, lines):
    obj = json.loads(line)
    if set(obj) != {'pc', 'frames'} or obj['pc'] != '0x%x' % pc:
        errors.append('bad object %s' % line)
        continue
    frames = obj['frames']
    for f in frames:
        if set(f) != {'function', 'file', 'line', 'inlined'} or not isinstance(f['line'], int) \
                or not isinstance(f['inlined'], bool):
            errors.append('bad frame %s' % f)
    if frames and (frames[-1]['inlined'] or not all(f['inlined'] for f in frames[:-1])):
        errors.append('0x%x: inlined flags %s' % (pc, [f['inlined'] for f in frames]))
    fn, file, ln = truth[pc]
    if fn == '?':
        if frames:
            errors.append('0x%x: gosym finds no function, goprof says %s' % (pc, frames))
        continue
    if not frames or frames[-1]['function'] != fn:
        errors.append('0x%x: outermost %s, gosym %s' % (pc, frames and frames[-1]['function'], fn))
    elif ln > 0 and (frames[0]['file'], frames[0]['line']) != (file, ln):
        errors.append('0x%x: %s:%d, gosym %s:%d' % (pc, frames[0]['file'], frames[0]['line'], file, ln))

info = subprocess.run([goprof, 'info', binary], capture_output=True, text=True, check=True).stdout
for key in ('go version:', 'pclntab:', 'functions:', 'go build id:'):
    if key not in info:
        errors.append('goprof info lacks "%s":\n%s' % (key, info))
# Capabilities: CPU stacks with inline frames always; every capability has a yes/no line.
if '  cpu stacks       yes\n' not in info:
    errors.append('goprof info does not report CPU stacks with inline frames:\n%s' % info)
for cap in ('goroutine ids', 'pprof labels', 'heap', 'gc', 'goroutines', 'sched latency', 'blocking', 'channels',
            'http (uprobes)', 'off-cpu'):
    if not any(l.startswith('  %-16s ' % cap) and l.split()[-1] in ('yes', 'no') for l in info.splitlines()):
        errors.append('goprof info lacks capability "%s":\n%s' % (cap, info))
if ('functions:      %d\n' % len(funcs)) not in info:
    errors.append('goprof info function count differs from gosym (%d):\n%s' % (len(funcs), info))

for e in errors[:20]:
    print(e)
print('%s: %d PCs, %d problems' % (binary, len(pcs), len(errors)))
sys.exit(1 if errors else 0)
