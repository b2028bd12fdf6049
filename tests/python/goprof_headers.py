# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""A parser of libgoprof's public headers (include/goprof/*.h), just enough for the
binding tests: the GOPROF_API functions, the structs and their fields, the callback
typedefs, the opaque handles and the GOPROF_* macros, each with its file and line.

It reads the declarations as the headers write them (one declaration per statement,
fixed-width types, no nested structs, no enums, no bit fields: the rules of
docs/ffi.md), so it needs no C compiler. gen_ffi_layout.py turns its structs into C
offsetof tables, and test_api_coverage.py compares it with the Python binding.
"""
import ast
import os
import re

C_INTS = {  # C integer type: (size in bytes on LP64, signed)
    "uint8_t": (1, False), "uint16_t": (2, False), "uint32_t": (4, False),
    "uint64_t": (8, False), "int8_t": (1, True), "int16_t": (2, True),
    "int32_t": (4, True), "int64_t": (8, True), "int": (4, True), "unsigned": (4, False),
    "unsigned int": (4, False), "size_t": (8, False), "char": (1, True),
}


class Decl:
    """A parsed declaration: kind ("function", "struct", "opaque", "callback",
    "macro"), name, where ("session.h:123") and kind-specific fields."""

    def __init__(self, kind, name, where, **kw):
        self.kind, self.name, self.where = kind, name, where
        self.__dict__.update(kw)

    def __repr__(self):
        return "<%s %s at %s>" % (self.kind, self.name, self.where)


class CType:
    """A C type as written: base ("uint32_t", "char", "struct goprof_frame",
    "goprof_frame_fn", "void"), pointer depth and array length (None if not an array)."""

    def __init__(self, base, ptr=0, array=None, text=""):
        self.base, self.ptr, self.array, self.text = base, ptr, array, text

    def __repr__(self):
        return self.text


def _blank_comments(text):
    """Comments replaced by as many newlines as they spanned (line numbers stay)."""
    def repl(m):
        return "\n" * m.group(0).count("\n") + " "
    text = re.sub(r"/\*.*?\*/", repl, text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def parse_type(decl):
    """Splits 'const struct goprof_x *const *name[N]' into (name, CType)."""
    decl = " ".join(decl.split())
    m = re.match(r"^(.*?)\s*\b(\w+)\s*(?:\[\s*([^\]]+)\s*\])?$", decl)
    if not m:
        raise ValueError("cannot parse declaration %r" % decl)
    typ, name, array = m.group(1), m.group(2), m.group(3)
    ptr = typ.count("*")
    base = " ".join(w for w in typ.replace("*", " ").split() if w != "const")
    return name, CType(base, ptr, array, typ.strip() + ("[%s]" % array if array else ""))


def _params(text):
    text = text.strip()
    if text in ("", "void"):
        return []
    return [parse_type(p) for p in text.split(",")]


def parse_files(paths):
    """Every public declaration of the given headers, in order: a list of Decl."""
    decls, seen_macros = [], set()
    for path in paths:
        fname = os.path.basename(path)
        if fname.endswith(".in"):
            fname = fname[:-3]
        raw = open(path, encoding="utf-8").read()
        text = _blank_comments(raw)
        guards = set(re.findall(r"^\s*#\s*ifndef\s+(GOPROF_\w+_H)\b", text, flags=re.M))
        # Macros: #define lines with their continuations, then blanked out.
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if re.match(r"^\s*#", line):
                start, full = i, line
                while full.endswith("\\") and i + 1 < len(lines):
                    full = full[:-1] + " " + lines[i + 1]
                    lines[i] = ""
                    i += 1
                lines[i] = ""
                m = re.match(r"^\s*#\s*define\s+(GOPROF_\w+)(\()?\s*(.*)$", full)
                if m and m.group(1) not in guards and m.group(1) not in seen_macros:
                    seen_macros.add(m.group(1))
                    value = m.group(3).strip()
                    if m.group(2):  # function-like: (ARGS) body
                        value = "(" + value
                    decls.append(Decl("macro", m.group(1), "%s:%d" % (fname, start + 1),
                                      value=value, function_like=bool(m.group(2))))
            i += 1
        text = "\n".join(lines)
        text = re.sub(r'extern\s+"C"\s*\{', " ", text)
        # Top-level statements: split on ';' at brace depth 0.
        depth, start = 0, 0
        for pos, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:  # the closing brace of extern "C"
                    depth = 0
                    start = pos + 1
            elif ch == ";" and depth == 0:
                stmt = text[start:pos]
                line = text.count("\n", 0, start + len(stmt) - len(stmt.lstrip())) + 1
                _statement(" ".join(stmt.split()), "%s:%d" % (fname, line), decls)
                start = pos + 1
    # A forward declaration of a struct defined elsewhere in the headers is not a handle.
    defined = {d.name for d in decls if d.kind == "struct"}
    return [d for d in decls if not (d.kind == "opaque" and d.name in defined)]


def _statement(stmt, where, decls):
    if not stmt:
        return
    m = re.match(r"^struct (goprof_\w+)$", stmt)
    if m:
        decls.append(Decl("opaque", m.group(1), where))
        return
    m = re.match(r"^struct (goprof_\w+) \{(.*)\}$", stmt)
    if m:
        fields = [parse_type(f) for f in m.group(2).split(";") if f.strip()]
        decls.append(Decl("struct", m.group(1), where, fields=fields))
        return
    m = re.match(r"^typedef (.+?)\(\s*\*\s*(goprof_\w+)\s*\)\s*\((.*)\)$", stmt)
    if m:
        _, ret = parse_type(m.group(1) + " _")
        decls.append(Decl("callback", m.group(2), where, ret=ret, params=_params(m.group(3))))
        return
    m = re.match(r"^GOPROF_API (.+?)\b(goprof_\w+)\s*\((.*)\)$", stmt)
    if m:
        _, ret = parse_type(m.group(1) + " _")
        decls.append(Decl("function", m.group(2), where, ret=ret, params=_params(m.group(3))))
        return
    raise ValueError("%s: unknown public declaration: %s" % (where, stmt[:120]))


def public_headers(include_dirs):
    """The goprof/*.h files of the include directories (a generated version.h wins over
    version.h.in)."""
    found = {}
    for d in include_dirs:
        sub = os.path.join(d, "goprof") if os.path.isdir(os.path.join(d, "goprof")) else d
        for f in sorted(os.listdir(sub)):
            if f.endswith(".h") or (f.endswith(".h.in") and f[:-3] not in found):
                found[f[:-3] if f.endswith(".in") else f] = os.path.join(sub, f)
    return [found[k] for k in sorted(found)]


def macro_values(decls):
    """Values of the object-like macros that are numbers, strings or expressions of
    them: {name: value}. Others (attributes, empty) are left out."""
    raw = {d.name: d.value for d in decls if d.kind == "macro" and not d.function_like}
    out = {}

    def value(name, depth=0):
        if name in out:
            return out[name]
        if depth > 20 or name not in raw:
            raise ValueError(name)
        expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", raw[name])
        expr = expr.replace("UINT32_MAX", "4294967295").replace("UINT64_MAX",
                                                                 "18446744073709551615")
        expr = re.sub(r"\bGOPROF_\w+\b", lambda m: repr(value(m.group(0), depth + 1)), expr)
        out[name] = _safe_eval(expr)
        return out[name]

    for name in raw:
        try:
            value(name)
        except (ValueError, SyntaxError):
            pass
    return out


def _safe_eval(expr):
    if not expr.strip():
        raise ValueError("empty")
    tree = ast.parse(expr.strip(), mode="eval")
    ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.BitOr: lambda a, b: a | b,
           ast.LShift: lambda a, b: a << b, ast.BitAnd: lambda a, b: a & b}

    def ev(n):
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, str)):
            return n.value
        if isinstance(n, ast.BinOp) and type(n.op) in ops:
            return ops[type(n.op)](ev(n.left), ev(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        raise ValueError("not a constant expression: %s" % expr)
    return ev(tree)


if __name__ == "__main__":
    import sys
    for d in parse_files(public_headers(sys.argv[1:])):
        print(d.kind, d.name, d.where, getattr(d, "value", ""),
              getattr(d, "fields", getattr(d, "params", "")))
