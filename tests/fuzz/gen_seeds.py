#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets.

pclntab: the first 32 KiB of real tables (formats 1.18 and 1.20, from the symbolizer
fixtures, if a build dir is given) and two minimal hand-made tables in the Go 1.2 and 1.16
formats (one function "main.f" in "f.go", lines 10-11), so the fuzzer starts inside the
old-format code paths no installed toolchain produces. buildinfo: real .go.buildinfo
sections, and hand-made ones with the version strings and cuts the symbolizer must take
(go1.27rc1, "devel go1.28-...", a blob cut inside the module info, one cut inside the
version). proc_maps: a maps excerpt.

usage: gen_seeds.py [FIXTURE_DIR]
"""
import os
import struct
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def write(sub, name, data):
    with open(os.path.join(here, 'corpus', sub, name), 'wb') as f:
        f.write(data)


def pc_table(pairs):
    """pairs of (value, pc_delta); Go's zig-zag value deltas from -1, then a 0 end."""
    out, prev = bytearray(), -1
    for val, pcd in pairs:
        d = val - prev
        out += bytes([((d << 1) ^ (d >> 31)) & 0x7f, pcd])
        prev = val
    return bytes(out + b'\x00')


def go116():
    names, cutab, files = b'main.f\x00', struct.pack('<I', 0), b'f.go\x00'
    pctab = b'\x00' + pc_table([(0, 16)]) + pc_table([(10, 8), (11, 8)])
    pcfile, pcln = 1, 1 + len(pc_table([(0, 16)]))
    hdr = 8 + 7 * 8
    off_names = hdr
    off_cu = off_names + len(names)
    off_files = off_cu + len(cutab)
    off_pctab = off_files + len(files)
    off_pcln = (off_pctab + len(pctab) + 7) & ~7
    ftab = struct.pack('<QQQQ', 0x401000, 32, 0x401010, 0)
    func = struct.pack('<QIIIIIIII', 0x401000, 0, 0, 0, 0, pcfile, pcln, 0, 0) + bytes([0, 0, 0, 0])
    head = struct.pack('<IBBBB', 0xfffffffa, 0, 0, 1, 8) + struct.pack('<7Q', 1, 1, off_names, off_cu,
                                                                          off_files, off_pctab, off_pcln)
    body = head + names + cutab + files + pctab
    body += b'\x00' * (off_pcln - len(body))
    return body + ftab + func


def go12():
    # header, ftab {entry, funcoff} + end, u32 filetab offset, then _func, tables, strings
    ftab_off = 16
    func_off = ftab_off + 3 * 8 + 8
    func_len = 8 + 8 * 4
    pct_off = func_off + func_len
    pcfile_t = pc_table([(1, 16)])
    pcln_t = pc_table([(10, 8), (11, 8)])
    name_off = pct_off + len(pcfile_t) + len(pcln_t)
    name = b'main.f\x00'
    fname_off = name_off + len(name)
    fname = b'f.go\x00'
    filetab_off = (fname_off + len(fname) + 3) & ~3
    data = struct.pack('<IBBBBQ', 0xfffffffb, 0, 0, 1, 8, 1)
    data += struct.pack('<QQQ', 0x401000, func_off, 0x401010)
    data += struct.pack('<I', filetab_off) + b'\x00' * 4
    data += struct.pack('<QIIIIIIII', 0x401000, name_off, 0, 0, 0, pct_off, pct_off + len(pcfile_t), 0, 0)
    data += pcfile_t + pcln_t + name + fname
    data += b'\x00' * (filetab_off - len(data))
    data += struct.pack('<II', 2, fname_off)
    return data


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def buildinfo(version, modinfo):
    """A Go 1.18+ .go.buildinfo: header, flags 2 (inline strings), then varint-prefixed
    version and sentinel-wrapped module info."""
    mod = b'0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6' + modinfo + \
        b'\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2'
    head = b'\xff Go buildinf:' + bytes([8, 2]) + b'\x00' * 16
    return head + uvarint(len(version)) + version + uvarint(len(mod)) + mod


MODINFO = b'path\texample.com/symfix\nmod\texample.com/symfix\t(devel)\t\nbuild\tGOOS=linux\n'


def section(binary, name):
    out = subprocess.run(['objcopy', '-O', 'binary', '--only-section=' + name, binary, '/dev/stdout'],
                         capture_output=True, check=True)
    return out.stdout


write('pclntab', 'go1.16-minimal', go116())
write('pclntab', 'go1.2-minimal', go12())
write('proc_maps', 'maps', b'''00400000-004a3000 r-xp 00000000 fd:01 1234 /usr/bin/app
004a3000-00530000 r--p 000a3000 fd:01 1234 /usr/bin/app
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000158000 r-xp 00028000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
''')
write('buildinfo', 'go1.27rc1', buildinfo(b'go1.27rc1', MODINFO))
write('buildinfo', 'devel-go1.28', buildinfo(b'devel go1.28-abcdef0123 Mon Nov 30 12:00:00 2026 +0000', MODINFO))
write('buildinfo', 'cut-in-modinfo', buildinfo(b'go1.27.3', MODINFO)[:60])
write('buildinfo', 'cut-in-version', buildinfo(b'go1.27.3', MODINFO)[:36])
if len(sys.argv) > 1:
    for ver in ('1.19', '1.23', '1.27'):
        b = os.path.join(sys.argv[1], 'symfix-%s-default' % ver)
        write('pclntab', 'go%s-head' % ver, section(b, '.gopclntab')[:32768])
        write('buildinfo', 'go%s' % ver, section(b, '.go.buildinfo'))
