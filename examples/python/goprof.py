# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""libgoprof from Python through ctypes: no compiler, no build step.

    import goprof
    with goprof.Session(cpu_freq_hz=99) as s:
        s.start()
        s.attach_pid(pid)
        ...                      # call s.poll(100) regularly while the target runs
        with s.snapshot_cpu() as prof:
            open("cpu.pb.gz", "wb").write(prof.write(goprof.FORMAT_PPROF))

The library is found through $GOPROF_LIB (a path to libgoprof.so.1) or the system's
search path. Structs are declared as prefixes of the C ones: every options struct and
every struct the library fills starts with its size (`sz`), so the library reads and
writes only the fields declared here, and a newer library stays compatible with this
file. `python3 goprof.py --layout` prints the declared offsets, which the C test
tests/python/test_ffi_layout.c compares with the headers.
"""
import ctypes
import ctypes.util
import errno
import os
import sys

FORMAT_PPROF = 1
FORMAT_FOLDED = 2
FORMAT_SVG = 3
FORMAT_OTLP = 4
WRITE_PPROF_UNCOMPRESSED = 0x1
SNAPSHOT_RESET = 0x1
FRAME_KINDS = {0: "unknown", 1: "go", 2: "native", 3: "kernel"}

c_u32, c_u64, c_i64 = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64
c_str = ctypes.c_char_p


class SessionOpts(ctypes.Structure):
    """struct goprof_session_opts (prefix: the fields a Python host needs)."""
    _fields_ = [("sz", ctypes.c_size_t),
                ("cpu_freq_hz", c_u32),
                ("ringbuf_kib", c_u32),
                ("on_sample", ctypes.c_void_p),  # goprof_sample_fn; NULL here
                ("ctx", ctypes.c_void_p)]


class WriteOpts(ctypes.Structure):
    """struct goprof_profile_write_opts."""
    _fields_ = [("sz", ctypes.c_size_t),
                ("value_index", c_u32),
                ("flags", c_u32),
                ("title", c_str),
                ("service_name", c_str),
                ("pid", c_i64),
                ("resource_attrs", ctypes.POINTER(c_str)),
                ("link_keys", ctypes.POINTER(c_str))]


class ProfileInfo(ctypes.Structure):
    """struct goprof_profile_info."""
    _fields_ = [("sz", c_u32),
                ("nr_sample_types", c_u32),
                ("nr_samples", c_u64),
                ("time_nanos", c_i64),
                ("duration_nanos", c_i64),
                ("period", c_i64),
                ("period_type", c_str),
                ("period_unit", c_str),
                ("default_sample_type", c_str),
                ("nr_timestamps", c_u64),
                ("timestamps_dropped", c_u64)]


class Frame(ctypes.Structure):
    """struct goprof_profile_frame."""
    _fields_ = [("sz", c_u32),
                ("kind", c_u32),
                ("inlined", c_u32),
                ("symbolized", c_u32),
                ("address", c_u64),
                ("function", c_str),
                ("system_name", c_str),
                ("file", c_str),
                ("line", c_i64),
                ("start_line", c_i64),
                ("mapping_file", c_str),
                ("build_id", c_str),
                ("mapping_start", c_u64),
                ("mapping_limit", c_u64),
                ("mapping_offset", c_u64),
                ("htlhash", c_str)]


class Label(ctypes.Structure):
    """struct goprof_profile_label."""
    _fields_ = [("sz", c_u32),
                ("is_num", c_u32),
                ("key", c_str),
                ("str", c_str),
                ("num", c_i64),
                ("num_unit", c_str)]


class Sample(ctypes.Structure):
    """struct goprof_profile_sample."""
    _fields_ = [("sz", c_u32),
                ("nr_frames", c_u32),
                ("frames", ctypes.POINTER(ctypes.POINTER(Frame))),
                ("nr_values", c_u32),
                ("nr_labels", c_u32),
                ("values", ctypes.POINTER(c_i64)),
                ("labels", ctypes.POINTER(ctypes.POINTER(Label))),
                ("comm", c_str),
                ("nr_timestamps", c_u32),
                ("reserved0", c_u32),
                ("timestamps", ctypes.POINTER(c_i64)),
                ("timestamp_values", ctypes.POINTER(c_i64))]


STRUCTS = {"goprof_session_opts": SessionOpts, "goprof_profile_write_opts": WriteOpts,
           "goprof_profile_info": ProfileInfo, "goprof_profile_frame": Frame,
           "goprof_profile_label": Label, "goprof_profile_sample": Sample}

WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
SAMPLE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Sample), ctypes.c_void_p)


class Error(OSError):
    """A libgoprof call failed: errno plus the library's own message."""


def _load():
    path = os.environ.get("GOPROF_LIB") or ctypes.util.find_library("goprof")
    if not path:
        raise ImportError("libgoprof not found: set GOPROF_LIB to libgoprof.so.1")
    lib = ctypes.CDLL(path, use_errno=True)
    sigs = {
        "goprof_version_string": (c_str, []),
        "goprof_last_error": (c_str, []),
        "goprof_session_new": (ctypes.c_void_p, [ctypes.POINTER(SessionOpts)]),
        "goprof_session_free": (None, [ctypes.c_void_p]),
        "goprof_session_start": (ctypes.c_int, [ctypes.c_void_p]),
        "goprof_session_stop": (ctypes.c_int, [ctypes.c_void_p]),
        "goprof_session_attach_pid": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]),
        "goprof_session_poll": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
        "goprof_session_snapshot_cpu": (ctypes.c_void_p, [ctypes.c_void_p, c_u32]),
        "goprof_profile_free": (None, [ctypes.c_void_p]),
        "goprof_profile_get_info": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ProfileInfo)]),
        "goprof_profile_write": (ctypes.c_int, [ctypes.c_void_p, c_u32, ctypes.POINTER(WriteOpts),
                                                WRITE_FN, ctypes.c_void_p]),
        "goprof_profile_foreach_sample": (ctypes.c_int, [ctypes.c_void_p, SAMPLE_FN,
                                                         ctypes.c_void_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


_lib = None


def lib():
    """The loaded library (loaded on first use)."""
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def _check(ret, what):
    if ret < 0:
        msg = (lib().goprof_last_error() or b"").decode(errors="replace")
        raise Error(-ret, "%s: %s" % (what, msg or os.strerror(-ret)))
    return ret


def _opts(cls, **fields):
    """An options struct like GOPROF_OPTS(): zeroed, sz set, fields given."""
    o = cls()
    ctypes.memset(ctypes.byref(o), 0, ctypes.sizeof(o))
    o.sz = ctypes.sizeof(o)
    for k, v in fields.items():
        setattr(o, k, v)
    return o


def _str_list(items):
    """A NULL-terminated const char *const[] (kept alive by the caller)."""
    arr = (c_str * (len(items) + 1))(*[s.encode() for s in items], None)
    return ctypes.cast(arr, ctypes.POINTER(c_str)), arr


class Profile:
    """A profile snapshot (struct goprof_profile *), freed by close() or `with`."""

    def __init__(self, handle):
        self._h = handle

    def close(self):
        if self._h:
            lib().goprof_profile_free(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def info(self):
        i = ProfileInfo(sz=ctypes.sizeof(ProfileInfo))
        _check(lib().goprof_profile_get_info(self._h, ctypes.byref(i)), "goprof_profile_get_info")
        return i

    def write(self, fmt=FORMAT_PPROF, flags=0, value_index=0, service_name=None, pid=0,
              resource_attrs=None, link_keys=None):
        """Encodes the profile; returns the bytes the write callback received."""
        chunks, keep = [], []

        def on_write(data, length, ctx):
            chunks.append(ctypes.string_at(data, length))
            return 0

        fields = dict(flags=flags, value_index=value_index, pid=pid)
        if service_name:
            fields["service_name"] = service_name.encode()
        if resource_attrs:
            fields["resource_attrs"], arr = _str_list(
                [x for kv in resource_attrs.items() for x in kv])
            keep.append(arr)
        if link_keys is not None:
            fields["link_keys"], arr = _str_list(link_keys)
            keep.append(arr)
        opts = _opts(WriteOpts, **fields)
        cb = WRITE_FN(on_write)  # referenced until the call returns
        _check(lib().goprof_profile_write(self._h, fmt, ctypes.byref(opts), cb, None),
               "goprof_profile_write")
        return b"".join(chunks)

    def samples(self):
        """Every sample as a dict: frames (leaf first), labels, values, comm."""
        out = []

        def on_sample(sp, ctx):
            s = sp.contents
            frames = []
            for i in range(s.nr_frames):
                f = s.frames[i].contents
                frames.append({"function": f.function.decode(), "file": f.file.decode(),
                               "line": f.line, "kind": FRAME_KINDS.get(f.kind, "?"),
                               "inlined": bool(f.inlined), "address": f.address,
                               "htlhash": f.htlhash.decode()})
            labels = {}
            for i in range(s.nr_labels):
                lb = s.labels[i].contents
                labels.setdefault(lb.key.decode(), []).append(
                    lb.num if lb.is_num else lb.str.decode())
            out.append({"frames": frames, "labels": labels, "comm": s.comm.decode(),
                        "values": [s.values[i] for i in range(s.nr_values)],
                        "timestamps": [s.timestamps[i] for i in range(s.nr_timestamps)]})
            return 0

        cb = SAMPLE_FN(on_sample)
        _check(lib().goprof_profile_foreach_sample(self._h, cb, None),
               "goprof_profile_foreach_sample")
        return out


class Session:
    """A profiling session (struct goprof_session *), freed by close() or `with`."""

    def __init__(self, cpu_freq_hz=0, ringbuf_kib=0):
        opts = _opts(SessionOpts, cpu_freq_hz=cpu_freq_hz, ringbuf_kib=ringbuf_kib)
        self._h = lib().goprof_session_new(ctypes.byref(opts))
        if not self._h:
            e = ctypes.get_errno() or errno.EINVAL
            raise Error(e, "goprof_session_new: %s" % lib().goprof_last_error().decode())

    def close(self):
        if self._h:
            lib().goprof_session_free(self._h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        _check(lib().goprof_session_start(self._h), "goprof_session_start")

    def stop(self):
        _check(lib().goprof_session_stop(self._h), "goprof_session_stop")

    def attach_pid(self, pid):
        _check(lib().goprof_session_attach_pid(self._h, pid, None), "goprof_session_attach_pid")

    def poll(self, timeout_ms=0):
        """Takes in waiting samples; returns how many events were handled."""
        return _check(lib().goprof_session_poll(self._h, timeout_ms), "goprof_session_poll")

    def snapshot_cpu(self, flags=0):
        h = lib().goprof_session_snapshot_cpu(self._h, flags)
        if not h:
            raise Error(ctypes.get_errno() or errno.ENOMEM,
                        "goprof_session_snapshot_cpu: %s" % lib().goprof_last_error().decode())
        return Profile(h)


def layout():
    """(struct, field, offset, size) of every declared field, and each struct's size."""
    rows = []
    for name, cls in STRUCTS.items():
        for fname, _ in cls._fields_:
            f = getattr(cls, fname)
            rows.append((name, fname, f.offset, f.size))
        rows.append((name, "(sizeof)", ctypes.sizeof(cls), 0))
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["--layout"]:
        for row in layout():
            print("%s %s %d %d" % row)
    else:
        print("libgoprof %s" % lib().goprof_version_string().decode())
