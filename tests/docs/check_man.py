#!/usr/bin/env python3
# The man page (docs/goprof.1) covers the CLI: every long option "goprof record --help"
# lists is documented there, man(1) renders it without warnings, and `meson install`
# puts it and the goprof command where man and PATH find them.
# usage: check_man.py GOPROF MANPAGE BUILD_DIR
import os
import re
import shutil
import subprocess
import sys
import tempfile

goprof, page, build = sys.argv[1:4]
errors = []
help_text = subprocess.run([goprof, "record", "--help"], stdout=subprocess.PIPE, text=True).stdout
options = sorted(set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text)))
roff = open(page).read()
# In roff a "-" is written "\-": compare with the escapes removed.
plain = roff.replace("\\-", "-")
for opt in options:
    if opt not in plain:
        errors.append("option %s of goprof record --help is not in %s" % (opt, page))
print("man page: %d options of goprof record --help checked" % len(options))

if shutil.which("man"):
    r = subprocess.run(["man", "--warnings", "-l", "-E", "UTF-8", page], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80"))
    if r.returncode != 0 or r.stderr.strip():
        errors.append("man -l %s: status %d: %s" % (page, r.returncode, r.stderr.strip()[:500]))
    elif "goprof record" not in r.stdout:
        errors.append("man -l %s renders no 'goprof record'" % page)
elif os.environ.get("CI") == "true":
    errors.append("man is not installed (scripts/setup installs man-db)")

with tempfile.TemporaryDirectory(prefix="goprof-man-") as root:
    r = subprocess.run(["meson", "install", "-C", build, "--destdir", root, "--no-rebuild", "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        errors.append("meson install failed: %s" % r.stderr[-500:])
    found = {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}
    if not any(re.search(r"share/man/man1/goprof\.1(\.gz)?$", f) for f in found):
        errors.append("meson install did not install the man page: %s" % sorted(found)[:20])
    if not any(f.endswith("bin/goprof") for f in found):
        errors.append("meson install did not install bin/goprof")

for e in errors:
    print("FAIL", e)
sys.exit(1 if errors else 0)
