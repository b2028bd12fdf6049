#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""The Python binding (examples/python/goprof.py) covers the whole public API.

Parses the public headers (goprof_headers.py) and checks, without loading the library:
- every GOPROF_API function is in goprof.FUNCTIONS with the same number of arguments,
  a ctypes type matching each C type (size and signedness of integers, pointer depth,
  the declared struct, the callback type) and a Python name that exists;
- every struct with a body is in goprof.STRUCTS with the same fields in the same order
  and matching types (test_ffi_layout.c compares the offsets);
- every opaque struct has a handle class in goprof.HANDLES;
- every callback typedef is in goprof.CALLBACKS with matching argument and return types;
- every object-like GOPROF_X macro is goprof.X with the same value, every function-like
  one a callable goprof.X;
and that the binding names nothing the headers lack. ABSENT lists what is left out on
purpose, each with the reason; an entry that no longer applies fails too.

usage: test_api_coverage.py INCLUDE_DIR... [--module DIR] [--self-test]
       (the source include directory and the build's, which has the generated version.h;
       DIR holds goprof.py; --self-test checks that API added to a copy of the headers is
       reported, one precise line each)
Exit 0 pass, 1 fail (with one line per missing or wrong binding).
"""
import ctypes
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import goprof_headers  # noqa: E402
from goprof_headers import C_INTS, CType  # noqa: E402

#: Items of the headers deliberately without a binding: name -> why.
ABSENT = {
    "GOPROF_API": "the export attribute of the C declarations: nothing to call or compare",
}


def ctype_name(t):
    if t is None:
        return "None"
    return getattr(t, "__name__", repr(t))


class Checker:
    def __init__(self, goprof, decls):
        self.g, self.decls = goprof, decls
        self.values = goprof_headers.macro_values(decls)
        self.opaque = {d.name for d in decls if d.kind == "opaque"}
        self.problems = []

    def fail(self, decl, what):
        self.problems.append("%-9s %s (%s): %s" % (decl.kind, decl.name, decl.where, what))

    # A ctypes type against a C type; returns None or what differs.
    def match(self, ct, c):
        g = self.g
        if c.array:
            n = self.values.get(c.array) if not c.array.isdigit() else int(c.array)
            if not (isinstance(ct, type) and issubclass(ct, ctypes.Array)):
                return "declared %s, C has the array %s" % (ctype_name(ct), c.text)
            if ct._length_ != n:
                return "array of %d, C has %s = %s" % (ct._length_, c.array, n)
            return self.match(ct._type_, CType(c.base, c.ptr, None, c.text))
        if c.ptr == 0:
            if c.base == "void":
                return None if ct is None else "declared %s, C returns void" % ctype_name(ct)
            if c.base.endswith("_fn"):
                want = g.CALLBACKS.get(c.base)
                return None if ct is want and want is not None else \
                    "declared %s, C has the callback type %s" % (ctype_name(ct), c.base)
            if c.base in C_INTS:
                size, signed = C_INTS[c.base]
                if c.base == "char":
                    return None if ct is ctypes.c_char else "declared %s, C has char" % (
                        ctype_name(ct))
                if not (isinstance(ct, type) and issubclass(ct, ctypes._SimpleCData)) or \
                        ct._type_ not in "bBhHiIlLqQ":
                    return "declared %s, C has %s" % (ctype_name(ct), c.text)
                if ctypes.sizeof(ct) != size or ct._type_.islower() != signed:
                    return "declared %s (%d bytes, %s), C has %s" % (
                        ctype_name(ct), ctypes.sizeof(ct),
                        "signed" if ct._type_.islower() else "unsigned", c.text)
                return None
            if c.base in ("float", "double"):
                want = ctypes.c_float if c.base == "float" else ctypes.c_double
                return None if ct is want else "declared %s, C has %s" % (ctype_name(ct),
                                                                         c.text)
            if c.base.startswith("struct "):
                return "a struct passed by value (%s): the ABI rules forbid it" % c.text
            return "unknown C type %s" % c.text
        # pointers
        if ct is ctypes.c_void_p:
            if c.ptr == 1 and (c.base == "void" or c.base[7:] in self.opaque):
                return None
            return "declared c_void_p, C has %s: declare the pointed-to type" % c.text
        if ct is ctypes.c_char_p:
            return None if c.ptr == 1 and c.base == "char" else \
                "declared c_char_p, C has %s" % c.text
        if isinstance(ct, type) and issubclass(ct, ctypes._Pointer):
            inner = CType(c.base, c.ptr - 1, None, c.text)
            if inner.ptr == 0 and c.base.startswith("struct "):
                want = g.STRUCTS.get(c.base[7:])
                return None if ct._type_ is want and want is not None else \
                    "declared POINTER(%s), C has %s" % (ctype_name(ct._type_), c.text)
            err = self.match(ct._type_, inner)
            return None if err is None else "%s (in %s)" % (err, c.text)
        return "declared %s, C has the pointer %s" % (ctype_name(ct), c.text)

    def resolve(self, path):
        obj = self.g
        for part in path.split("."):
            obj = getattr(obj, part, None)
        return obj

    def check_function(self, d):
        entry = self.g.FUNCTIONS.get(d.name)
        if entry is None:
            return self.fail(d, "no binding: add it to goprof.FUNCTIONS (ctypes prototype "
                             "and the Python that calls it)")
        res, args, pyname = entry
        if not callable(self.resolve(pyname)):
            self.fail(d, "goprof.FUNCTIONS names goprof.%s, which does not exist" % pyname)
        err = self.match(res, d.ret)
        if err:
            self.fail(d, "return type: " + err)
        if len(args) != len(d.params):
            return self.fail(d, "%d arguments declared, C has %d (%s)" % (
                len(args), len(d.params), ", ".join(n for n, _ in d.params)))
        for ct, (pname, c) in zip(args, d.params):
            err = self.match(ct, c)
            if err:
                self.fail(d, "argument %s: %s" % (pname, err))

    def check_struct(self, d):
        cls = self.g.STRUCTS.get(d.name)
        if cls is None:
            return self.fail(d, "no binding: declare it and add it to goprof.STRUCTS")
        py = [n for n, _ in cls._fields_]
        c = [n for n, _ in d.fields]
        for i, name in enumerate(c):
            if name not in py:
                after = " (after %s)" % c[i - 1] if i else ""
                self.fail(d, "field %s%s missing from goprof.%s" % (name, after, cls.__name__))
        for name in py:
            if name not in c:
                self.fail(d, "goprof.%s has field %s, which C does not" % (cls.__name__, name))
        if set(py) == set(c) and py != c:
            self.fail(d, "fields in another order than C's: %s" % ", ".join(py))
        types = dict(cls._fields_)
        for name, ctyp in d.fields:
            if name in types:
                err = self.match(types[name], ctyp)
                if err:
                    self.fail(d, "field %s: %s" % (name, err))

    def check_callback(self, d):
        ft = self.g.CALLBACKS.get(d.name)
        if ft is None:
            return self.fail(d, "no binding: declare its CFUNCTYPE and add it to "
                             "goprof.CALLBACKS")
        err = self.match(ft._restype_ if ft._restype_ is not type(None) else None, d.ret)
        if err:
            self.fail(d, "return type: " + err)
        if len(ft._argtypes_) != len(d.params):
            return self.fail(d, "%d arguments declared, C has %d" % (len(ft._argtypes_),
                                                                     len(d.params)))
        for ct, (pname, c) in zip(ft._argtypes_, d.params):
            err = self.match(ct, c)
            if err:
                self.fail(d, "argument %s: %s" % (pname, err))

    def check_macro(self, d):
        pyname = d.name[len("GOPROF_"):]
        if not hasattr(self.g, pyname):
            return self.fail(d, "no goprof.%s%s" % (
                pyname, "" if d.function_like else " (= %s)" % d.value))
        v = getattr(self.g, pyname)
        if d.function_like:
            if not callable(v):
                self.fail(d, "goprof.%s is not callable" % pyname)
        elif d.name not in self.values:
            self.fail(d, "its value %r is not a constant this test can compare" % d.value)
        elif v != self.values[d.name]:
            self.fail(d, "goprof.%s = %r, C has %r" % (pyname, v, self.values[d.name]))

    def run(self):
        checks = {"function": self.check_function, "struct": self.check_struct,
                  "callback": self.check_callback, "macro": self.check_macro,
                  "opaque": lambda d: None if d.name in self.g.HANDLES else
                  self.fail(d, "no handle class in goprof.HANDLES")}
        names = {d.name for d in self.decls}
        for d in self.decls:
            if d.name in ABSENT:
                if d.kind == "macro" and hasattr(self.g, d.name[len("GOPROF_"):]):
                    self.fail(d, "listed in ABSENT but bound: remove it from ABSENT")
                continue
            checks[d.kind](d)
        stale = goprof_headers.Decl("binding", "goprof.py", "examples/python")
        for table in ("FUNCTIONS", "STRUCTS", "CALLBACKS", "HANDLES"):
            for name in getattr(self.g, table):
                if name not in names:
                    self.fail(stale, "%s names %s, which no public header declares"
                              % (table, name))
        for name in ABSENT:
            if name not in names:
                self.problems.append("ABSENT lists %s, which no public header declares "
                                     "any more" % name)
        return self.problems


# --self-test: headers with new API the binding lacks, and what the test must say.
MUTATIONS = [
    ("uint64_t processes_filtered;", "uint64_t processes_filtered; uint64_t rt_new_bytes;",
     "struct    goprof_session_stats (session.h:", "field rt_new_bytes (after "
     "processes_filtered) missing from goprof.SessionStats"),
    ("#define GOPROF_FEATURE_HTTP_WIRE 0x400u", "#define GOPROF_FEATURE_HTTP_WIRE 0x400u\n"
     "#define GOPROF_FEATURE_NEW 0x8000u", "macro     GOPROF_FEATURE_NEW (session.h:",
     "no goprof.FEATURE_NEW (= 0x8000u)"),
    ("#define GOPROF_TCP_IPV6 10", "#define GOPROF_TCP_IPV6 11", "macro     GOPROF_TCP_IPV6",
     "goprof.TCP_IPV6 = 10, C has 11"),
    ("int goprof_session_detach_pid(struct goprof_session *session, int pid)",
     "int goprof_session_detach_pid(struct goprof_session *session, uint64_t pid)",
     "function  goprof_session_detach_pid", "argument pid: declared c_int (4 bytes, signed), "
     "C has uint64_t"),
    ("struct goprof_session;", "struct goprof_session;\nstruct goprof_new_handle;\n"
     "struct goprof_new_info { uint32_t sz; uint32_t state; uint64_t goid; };\n"
     "typedef int (*goprof_new_fn)(const struct goprof_new_info *info, void *ctx);\n"
     "GOPROF_API int goprof_session_foreach_new(struct goprof_session *session,\n"
     "\tgoprof_new_fn fn, void *ctx);",
     "function  goprof_session_foreach_new (session.h:", "no binding: add it to "
     "goprof.FUNCTIONS"),
    (None, None, "struct    goprof_new_info (session.h:", "no binding: declare it"),
    (None, None, "callback  goprof_new_fn (session.h:", "no binding: declare its CFUNCTYPE"),
    (None, None, "opaque    goprof_new_handle (session.h:", "no handle class"),
]


def self_test(argv, goprof):
    """The test itself: every mutation of session.h must be reported, precisely."""
    import tempfile
    headers = goprof_headers.public_headers(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for h in headers:
            text = open(h, encoding="utf-8").read()
            name = os.path.basename(h)
            if name == "session.h":
                for old, new, _, _ in MUTATIONS:
                    if old is not None:
                        assert old in text, "session.h no longer has %r: update MUTATIONS" % old
                        text = text.replace(old, new, 1)
            paths.append(os.path.join(tmp, name))
            with open(paths[-1], "w", encoding="utf-8") as f:
                f.write(text)
        problems = Checker(goprof, goprof_headers.parse_files(paths)).run()
    print("\n".join("  " + p for p in problems))
    missing = [(where, what) for _, _, where, what in MUTATIONS
               if not any(p.startswith(where) and what in p for p in problems)]
    for where, what in missing:
        print("FAIL: not reported: %s... %s" % (where, what))
    if len(problems) != len(MUTATIONS):
        print("FAIL: %d problems reported for %d changes" % (len(problems), len(MUTATIONS)))
        return 1
    if missing:
        return 1
    print("ok: each of the %d changes was reported" % len(MUTATIONS))
    return 0


def main(argv):
    module_dir = os.path.join(os.environ.get("GOPROF_SOURCE_ROOT", ""), "examples", "python")
    if "--module" in argv:
        i = argv.index("--module")
        module_dir = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    selftest = "--self-test" in argv
    argv = [a for a in argv if a != "--self-test"]
    headers = goprof_headers.public_headers(argv)
    sys.path.insert(0, module_dir)
    import goprof
    if selftest:
        return self_test(argv, goprof)
    decls = goprof_headers.parse_files(headers)
    problems = Checker(goprof, decls).run()
    count = {}
    for d in decls:
        count[d.kind] = count.get(d.kind, 0) + 1
    nfields = sum(len(d.fields) for d in decls if d.kind == "struct")
    print("headers: %s" % " ".join(os.path.relpath(h) for h in headers))
    print("public API: %d functions, %d structs (%d fields), %d callback types, "
          "%d opaque handles, %d macros" % (count.get("function", 0), count.get("struct", 0),
                                            nfields, count.get("callback", 0),
                                            count.get("opaque", 0), count.get("macro", 0)))
    for name, why in sorted(ABSENT.items()):
        print("intentionally absent: %s: %s" % (name, why))
    if problems:
        print("FAIL: the Python binding (%s/goprof.py) does not cover the public API; "
              "%d problems:" % (module_dir, len(problems)))
        for p in problems:
            print("  " + p)
        print("Bind each in goprof.py: constants by name, struct fields in C's order and "
              "types, functions in FUNCTIONS with the method that calls them (or list an "
              "item in ABSENT of %s with the reason)." % os.path.basename(__file__))
        return 1
    print("ok: every public function, struct field, callback type, handle and macro has a "
          "binding")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
