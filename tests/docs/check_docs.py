#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""The API reference builds with zero Doxygen warnings (undocumented public items,
parameters or return values, broken references or example includes), and every page
and public header made it into the output.

usage: check_docs.py DOXYGEN DOXYFILE   (DOXYGEN "" when not installed: skip, or fail
under CI=true)
"""
import os
import subprocess
import sys
import tempfile

PAGES = ["cpu", "goroutines", "gc", "heap", "sched", "symbolizer", "formats", "ffi", "tcp",
         "offcpu", "block", "http", "kernels", "releases",
         "newer_releases"]
HEADERS = ["session.h", "profile.h", "symbolizer.h", "common.h", "error.h", "version.h"]


def main():
    doxygen, doxyfile = sys.argv[1:3]
    if not doxygen:
        if os.environ.get("CI") == "true":
            print("FAIL (CI must not skip): no doxygen (install it with scripts/setup; do not configure -Ddocs=disabled)")
            return 1
        print("SKIP: no doxygen (not installed, or -Ddocs=disabled)")
        return 77
    with tempfile.TemporaryDirectory() as out:
        conf = open(doxyfile).read() + ("\nOUTPUT_DIRECTORY = %s\nWARN_LOGFILE = %s/w.log\n"
                                         "WARN_AS_ERROR = FAIL_ON_WARNINGS\n" % (out, out))
        res = subprocess.run([doxygen, "-"], input=conf, text=True, capture_output=True)
        warnings = open(os.path.join(out, "w.log")).read() if os.path.exists(
            os.path.join(out, "w.log")) else ""
        if res.returncode or warnings.strip():
            print("FAIL: doxygen exit %d, warnings:\n%s%s" % (res.returncode, warnings,
                                                            res.stderr))
            return 1
        html = os.path.join(out, "html")
        files = os.listdir(html)
        missing = [p for p in PAGES if not any(f.startswith(p) and f.endswith(".html")
                                               for f in files)]
        missing += [h for h in HEADERS if h.replace(".", "_8") + ".html" not in files]
        if missing:
            print("FAIL: not in the output: %s (files: %s)" % (missing, sorted(files)[:40]))
            return 1
        index = open(os.path.join(html, "index.html")).read()
        for p in PAGES:
            if p not in index:
                print("FAIL: index does not link page %s" % p)
                return 1
        print("ok: %d HTML files, 0 warnings" % len([f for f in files if f.endswith(".html")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
