#!/usr/bin/env python3
"""`goprof symbolize` input handling (issue 15, item 6), on an unstripped Go binary.

usage: check_symbolize_input.py GOPROF BINARY
- a blank or whitespace-only line on stdin is skipped (never read as 0x0);
- "-1", "+5", "0x", 17 hex digits and "12zz" are refused (exit 2), as arguments and on
  stdin, with the line number for stdin, and print nothing for that input;
- a line longer than the limit (1 MB of hex digits) is refused whole: one message, no
  piece of it read as a PC;
- a PC past the end of text (after runtime.etext, from the ELF symbols) and one near the
  top of the address space are "no symbol" ("frames":[] / "??"), not runtime.etext;
- a symbol name with terminal escapes reaches a terminal as '?', a pipe unchanged.
"""
import json
import os
import pty
import subprocess
import sys
import tempfile

goprof, binary = sys.argv[1:3]
errors = []


def run(args, stdin=""):
    r = subprocess.run([goprof, "symbolize"] + args, input=stdin, capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def nm_symbol(name):
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise SystemExit("FAIL: %s has no symbol %s" % (binary, name))


# Blank lines: nothing printed, exit 0.
rc, out, err = run([binary], "   \n\t\n\r\n\n# comment\n")
if rc != 0 or out or err:
    errors.append("blank lines: rc %d, out %r, err %r" % (rc, out, err))

# Bad addresses, as arguments and on stdin.
for bad in ["-1", "+5", "0x", "11111111111111111", "12zz", " "]:
    rc, out, err = run(["--json", binary, bad])
    if rc != 2 or out or "not a hex address" not in err:
        errors.append("argument %r: rc %d, out %r, err %r" % (bad, rc, out, err))
    if bad.strip():
        rc, out, err = run(["--json", binary], bad + "\n")
        if rc != 2 or out or "line 1: not a hex address" not in err:
            errors.append("stdin %r: rc %d, out %r, err %r" % (bad, rc, out, err))

# A 1 MB line, then a good one: the long line refused whole, the good one symbolized.
etext = nm_symbol("runtime.etext")
main = nm_symbol("main.main")
rc, out, err = run(["--json", binary], "4" * 1000000 + "\n0x%x\n" % main)
lines = out.splitlines()
if rc != 2 or len(lines) != 1 or json.loads(lines[0])["pc"] != "0x%x" % main:
    errors.append("1 MB line: rc %d, %d output lines: %s" % (rc, len(lines), out[:200]))
if err.count("\n") != 1 or "line 1: 1000001 bytes" not in err:
    errors.append("1 MB line: expected one message for line 1, got %r" % err[:300])

# Past the end of text: no symbol.
for pc in [etext + 0x10, etext + 0x100000, 0xffffffffffffff00]:
    rc, out, err = run(["--json", binary, "0x%x" % pc])
    if rc != 0 or json.loads(out)["frames"] != []:
        errors.append("PC 0x%x past the end of text: %s" % (pc, out.strip()))
    rc, out, err = run([binary, "0x%x" % pc])
    if rc != 0 or out.splitlines()[1:] != ["    ??"]:
        errors.append("PC 0x%x past the end of text (text output): %r" % (pc, out))
# ... while main.main still resolves.
rc, out, err = run(["--json", binary, "%x" % main])
if rc != 0 or json.loads(out)["frames"][-1]["function"] != "main.main":
    errors.append("main.main: %s" % out.strip())

# A symbol name holding terminal escapes (ESC [31m, the C1 CSI U+009B) printed to a
# terminal: shown as '?', never passed to it; into a pipe the bytes stay as they are.
with tempfile.TemporaryDirectory(prefix="goprof-esc-") as d:
    src, plain, evil = (os.path.join(d, n) for n in ("esc.c", "esc", "esc-evil"))
    with open(src, "w") as f:
        f.write("int work(int x) { return x * 3; }\nint main(int c, char **v) { return work(c); }\n")
    subprocess.run(["cc", "-O0", "-o", plain, src], check=True)
    subprocess.run([b"objcopy", b"--redefine-sym", b"work=evil\x1b[31m\xc2\x9bwork",
                    plain.encode(), evil.encode()], check=True)
    addr = [l.split()[0] for l in subprocess.run(["nm", evil], capture_output=True,
                                                  check=True).stdout.splitlines()
            if l.endswith(b"work")][0].decode()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(goprof, [goprof, "symbolize", evil, "0x" + addr])
    shown = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.waitpid(pid, 0)
    if b"\x1b" in shown or b"\xc2\x9b" in shown or b"evil?[31m?work" not in shown:
        errors.append("terminal output of an escape-laden name: %r" % shown)
    piped = subprocess.run([goprof, "symbolize", evil, "0x" + addr], capture_output=True).stdout
    if b"evil\x1b[31m\xc2\x9bwork" not in piped:
        errors.append("piped output altered: %r" % piped)

for e in errors:
    print("FAIL:", e)
print("ok" if not errors else "%d failures" % len(errors))
sys.exit(1 if errors else 0)
