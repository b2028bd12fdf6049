# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""libgoprof from Python through ctypes: the whole public API, no compiler, no build step.

    import goprof
    events = []
    with goprof.Session(cpu_freq_hz=99, features=goprof.FEATURE_GC,
                        on_event=events.append) as s:
        s.attach_pid(pid)
        s.start()
        ...                      # call s.poll(100) regularly while the target runs
        print(s.stats().cpu_samples, s.gc_stats().cycles)
        with s.snapshot_cpu() as prof:
            prof.write_file(goprof.FORMAT_PPROF, "cpu.pb.gz")
            for sample in prof.samples():
                print(sample.values, [f.function for f in sample.frames])

    with goprof.Binary("/usr/bin/app") as b:
        print(b.go_version(), b.symbolize([0x4a1230]))

Names follow the C API without its prefix: GOPROF_FEATURE_GC is FEATURE_GC, struct
goprof_session_stats is SessionStats (a ctypes.Structure), the callback type
goprof_event_fn is EventFn, and goprof_session_attach_pid() is Session.attach_pid().
FUNCTIONS lists every C function with its ctypes prototype and the Python that calls it.
Handles (Session, Profile, Binary, Symbolizer) are freed by close() or a `with` block.

Structs the library fills come back as Record objects: fields as attributes that read as
a mapping too (stats.cpu_samples == stats["cpu_samples"]), strings decoded, arrays as lists,
nested structs as Records, reserved fields left out. Callbacks (on_sample, on_event, the
foreach_* functions, the symbolizers) take Python callables that receive Records; what
they return is handed back to the library (None counts as 0), and an exception they
raise stops the C call and is raised again from the Python method that made it. Every
foreach_X(fn) also has a list form (processes(), threads(), channels(), ...). A failed
call raises Error, an OSError whose errno is the library's (an errno value or one of the
ERRNO_* codes) and whose text is goprof_last_error().

Struct sizes and compatibility. Every struct declared here is the whole C struct
(tests/python/test_ffi_layout.c compares offsets and sizes with the headers, and
tests/python/test_api_coverage.py fails when the headers gain a function, field or
macro this module lacks). They stay compatible across library versions through `sz`,
as in C: options structs (size_t sz) tell the library how much the caller knows, and a
library older than this module accepts them as long as the fields it does not know are
zero; structs the caller sizes (stats, info) are filled up to their sz (the fields an
older library does not know stay 0); structs the
library hands to callbacks (uint32_t sz) say how much it filled, and Records leave out
the fields beyond it. A binding that lags behind the headers may still declare a prefix
of a struct and set sz to that prefix's size (docs/ffi.md); this one does not need to.

The library is found through $GOPROF_LIB (a path to libgoprof.so.1), else by its soname
libgoprof.so.1 through the dynamic loader's search (LD_LIBRARY_PATH, ld.so.cache, the
system directories: an installed libgoprof), else through ctypes.util.find_library.
`python3 goprof.py --layout` prints the declared offsets; `python3 goprof.py` prints the
version of the library found.
"""
import ctypes
import ctypes.util
import errno as _errno
import ipaddress
import os
import sys

from ctypes import CFUNCTYPE, POINTER, c_char, c_int, c_size_t, c_uint, c_void_p

c_u8, c_u16, c_u32, c_u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
c_i32, c_i64 = ctypes.c_int32, ctypes.c_int64
c_str = ctypes.c_char_p

# ---------------------------------------------------------------------------------------
# Constants (the GOPROF_* macros, in header order)
# ---------------------------------------------------------------------------------------

# version.h: the version of the headers this module describes (version() is the loaded
# library's).
VERSION_MAJOR = 1
VERSION_MINOR = 1
VERSION_PATCH = 0
VERSION_STRING = "1.1.0"
VERSION_NUMBER = VERSION_MAJOR * 10000 + VERSION_MINOR * 100 + VERSION_PATCH

# common.h: libgoprof's own error codes (negated in return values, like errno values)
ERRNO_BASE = 4000
ERRNO_NOT_GO = 4001       # not a Go program
ERRNO_CORRUPT = 4002      # corrupt Go metadata
ERRNO_GO_VERSION = 4003   # a table format newer than the library knows
ERRNO_KERNEL = 4004       # the kernel lacks a needed feature
ERRNO_VERIFIER = 4005     # a BPF program was rejected by the verifier
ERRNO_END = 4006

# common.h: frame kinds (Frame.kind, ProfileFrame.kind)
FRAME_KIND_UNKNOWN = 0
FRAME_KIND_GO = 1
FRAME_KIND_NATIVE = 2
FRAME_KIND_KERNEL = 3

# profile.h: output formats, write flags
FORMAT_PPROF = 1
FORMAT_FOLDED = 2
FORMAT_SVG = 3
FORMAT_OTLP = 4
OTLP_PROTO_RELEASE = "v1.11.0"
WRITE_PPROF_UNCOMPRESSED = 0x1
WRITE_FOLDED_UNIT = 0x2

# session.h
COMM_LEN = 16
SAMPLE_GO = 0x1                  # Sample.flags
SAMPLE_LABELS_TRUNCATED = 0x2
SAMPLE_USER_TRUNCATED = 0x4
SAMPLE_KERNEL_TRUNCATED = 0x8
EVENT_GOROUTINE_CREATE = 1       # Event.type
EVENT_GOROUTINE_EXIT = 2
EVENT_GC_CYCLE = 3
EVENT_PROBE_DETACHED = 4
EVENT_OFFCPU_THROTTLED = 40
EVENT_HTTP_REQUEST = 30
EVENT_HTTP_CLIENT_REQUEST = 31
EVENT_TCP_CONNECT = 20
EVENT_TCP_ACCEPT = 21
EVENT_TCP_CLOSE = 22
EVENT_PROCESS_EXEC = 60
EVENT_PROCESS_EXIT = 61
TCP_IPV4 = 2                     # Event.tcp_family, TcpPeer.family
TCP_IPV6 = 10
TCP_ACCEPTED = 0x1               # Event.tcp_flags, TcpPeer.flags
TCP_RESET_RECEIVED = 0x2
TCP_RESET_SENT = 0x4
HTTP_NOT_HTTP1 = 0x1             # HttpRequest.flags, HttpEndpoint.flags
HTTP_HTTP2 = 0x2
HTTP_HIJACKED = 0x4
HTTP_CLIENT_ERROR = 0x8
HTTP_IMPLICIT_200 = 0x10
HTTP_WIRE = 0x20
HTTP_METHOD_TRUNCATED = 0x100
HTTP_PATH_TRUNCATED = 0x200
HTTP_HOST_TRUNCATED = 0x400
GC_TRIGGER_HEAP = 0              # Event.gc_trigger
GC_TRIGGER_TIME = 1
GC_TRIGGER_CYCLE = 2
EVENT_GOROUTINE_LEAK = 50
FEATURE_GOROUTINE_SNAPSHOTS = 0x2000
GOROUTINE_NO_STACK = 0x1
GOROUTINE_STACK_TRUNCATED = 0x2
GOROUTINE_LABELS_TRUNCATED = 0x4
GOROUTINE_WAIT_AT_LEAST = 0x8
GOROUTINE_LEAKED = 0x10
GSTATUS_RUNNABLE = 1
GSTATUS_RUNNING = 2
GSTATUS_SYSCALL = 3
GSTATUS_WAITING = 4
GSTATUS_PREEMPTED = 9
GSTATUS_LEAKED = 10
GC_TRIGGER_UNKNOWN = 255
GC_FROM_MEMORY = 0x1
GC_PAUSE_UNKNOWN = 0x2
STATS_FROM_PROBES = 1
STATS_FROM_MEMORY = 2
GC_HEAP_VALID = 0x1
GC_HEAP_LIMITED = 0x2
CPU_PROFILE_TIMESTAMPS = 0x1     # SessionOpts.cpu_profile_flags
CPU_PROFILE_THREADS = 0x2
FEATURE_GOROUTINES = 0x1         # SessionOpts.features
FEATURE_GC = 0x2
FEATURE_HEAP = 0x4
FEATURE_SCHED = 0x8
FEATURE_ALLOCS = 0x10
FEATURE_OFFCPU = 0x20
FEATURE_TCP = 0x100
FEATURE_BLOCK = 0x40
FEATURE_CHANNELS = 0x80
FEATURE_HTTP = 0x200
FEATURE_HTTP_WIRE = 0x400
FEATURE_GC_PRECISE = 0x800
FEATURE_SCHED_PRECISE = 0x1000
NO_KERNEL_STACKS = 0xFFFFFFFF    # SessionOpts.kernel_stack_depth
ATTACH_ALL_GO_ONLY = 0x1         # AttachAllOpts.flags
SNAPSHOT_RESET = 0x1             # flags of snapshot_cpu() and snapshot_offcpu()
GC_HIST_BUCKETS = 24
SCHED_HIST_BUCKETS = 32
PROCESS_GO = 0x1                 # ProcessInfo.flags
PROCESS_GOROUTINES = 0x2
PROCESS_EXITED = 0x4
PROCESS_BY_EXE = 0x8
PROCESS_HEAP_OFF = 0x20
PROCESS_RUNTIME_PROBES = 0x10
PROCESS_HTTP = 0x200
PROCESS_NO_ACCESS = 0x400
PROCESS_LAYOUT_VALIDATED = 0x800
PROCESS_RUNTIME_STATS = 0x1000
PROCESS_BY_ALL = 0x8000
MAX_CHANNELS = 8192
CHANNEL_HIST_BUCKETS = 32
CHANNEL_OPS_COUNTED = 0x1        # ChannelStats.flags
CHANNEL_EXITED = 0x2
HTTP_SERVER = 0                  # HttpEndpoint.kind
HTTP_CLIENT = 1

# symbolizer.h
FRAME_INLINED = 0x1              # Frame.flags
PCLNTAB_GO1_2 = 1                # PclntabInfo.format
PCLNTAB_GO1_16 = 2
PCLNTAB_GO1_18 = 3
PCLNTAB_GO1_20 = 4
PCLNTAB_FOUND_SECTION = 1        # PclntabInfo.found_by
PCLNTAB_FOUND_SYMBOL = 2
PCLNTAB_FOUND_SCAN = 3
GO_SUPPORT_STACKS = 0x1          # GoSupport.flags
GO_SUPPORT_INLINE = 0x2
GO_SUPPORT_GOROUTINE_IDS = 0x4


# ---------------------------------------------------------------------------------------
# Records: what structs become in Python
# ---------------------------------------------------------------------------------------

class Record:
    """A struct's fields as attributes (r.pid), also readable as a mapping (r["pid"],
    dict(r), "pid" in r)."""

    def __init__(self, fields=(), **kw):
        self.__dict__.update(fields, **kw)

    def __getitem__(self, key):
        return self.__dict__[key]

    def __contains__(self, key):
        return key in self.__dict__

    def __iter__(self):
        return iter(self.__dict__)

    def __len__(self):
        return len(self.__dict__)

    def keys(self):
        return self.__dict__.keys()

    def __eq__(self, other):
        return isinstance(other, Record) and self.__dict__ == other.__dict__

    def __repr__(self):
        return "Record(%s)" % ", ".join("%s=%r" % kv for kv in self.__dict__.items())


def _text(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


class _Struct(ctypes.Structure):
    """Base of the struct declarations. Class attributes say how to read pointer fields:
    _arrays_ {pointer field: field counting its entries}, _rows_ {pointer field: field
    giving the length of each row}, _bytes_ {char * field: field counting its bytes}."""
    _arrays_ = {}
    _rows_ = {}
    _bytes_ = {}

    def record(self):
        """The fields as a Record: only those within sz when the library filled sz."""
        cls = type(self)
        limit = ctypes.sizeof(cls)
        if cls._fields_[0] == ("sz", c_u32):
            limit = min(limit, self.sz)
        rec = {}
        for name, typ in cls._fields_:
            desc = getattr(cls, name)
            if name.startswith("reserved") or name == "tcp_reserved":
                continue
            if desc.offset + desc.size > limit:
                break
            rec[name] = self._field(name, typ, desc)
        return Record(rec)

    def _field(self, name, typ, desc):
        v = getattr(self, name)
        if name in self._arrays_:
            n = getattr(self, self._arrays_[name])
            if name in self._rows_:
                width = getattr(self, self._rows_[name])
                return [[v[i * width + j] for j in range(width)] for i in range(n)] if v else []
            if not v:
                return []
            if issubclass(typ._type_, ctypes._Pointer):
                return [v[i].contents.record() for i in range(n)]
            return [v[i] for i in range(n)]
        if name in self._bytes_:
            ptr = c_void_p.from_buffer(self, desc.offset).value
            return _text(ctypes.string_at(ptr, getattr(self, self._bytes_[name]))) if ptr else None
        if typ is c_str:
            return _text(v)
        if issubclass(typ, ctypes.Array):
            if typ._type_ is c_char:
                return _text(v)
            if typ._type_ is c_u8:
                return bytes(v)
            return list(v)
        if issubclass(typ, ctypes._Pointer):
            return v.contents.record() if v else None
        return v


def OPTS(cls, **fields):
    """An options struct like GOPROF_OPTS(): zeroed, sz set, the fields given (str values
    of char * fields are encoded)."""
    o = cls()
    ctypes.memset(ctypes.byref(o), 0, ctypes.sizeof(o))
    o.sz = ctypes.sizeof(o)
    types = dict(cls._fields_)
    for k, v in fields.items():
        if k not in types or k == "sz":
            raise TypeError("%s has no option %r (options: %s)" % (
                cls.__name__, k, ", ".join(n for n in types if n not in ("sz", "ctx")
                                           and not n.startswith("reserved"))))
        if types[k] is c_str and isinstance(v, str):
            v = os.fsencode(v)
        setattr(o, k, v)
    return o


def _sized(cls):
    """A struct the library fills, with sz set to its size."""
    o = cls()
    o.sz = ctypes.sizeof(o)
    return o


def label_dict(labels):
    """ProfileLabel Records as {key: [values]} (numbers for numeric labels)."""
    out = {}
    for lb in labels:
        out.setdefault(lb.key, []).append(lb.num if lb.is_num else lb.str)
    return out


def address(family, addr):
    """An IPv4Address or IPv6Address from a TCP family and 16 address bytes."""
    return ipaddress.ip_address(bytes(addr[:4] if family == TCP_IPV4 else addr[:16]))


# ---------------------------------------------------------------------------------------
# Structs and callback types (full C layouts, in dependency order)
# ---------------------------------------------------------------------------------------

# profile.h

class ProfileInfo(_Struct):
    """struct goprof_profile_info"""
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


class ProfileFrame(_Struct):
    """struct goprof_profile_frame"""
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


class ProfileLabel(_Struct):
    """struct goprof_profile_label"""
    _fields_ = [("sz", c_u32),
                ("is_num", c_u32),
                ("key", c_str),
                ("str", c_str),
                ("num", c_i64),
                ("num_unit", c_str)]


class ProfileSample(_Struct):
    """struct goprof_profile_sample"""
    _fields_ = [("sz", c_u32),
                ("nr_frames", c_u32),
                ("frames", POINTER(POINTER(ProfileFrame))),
                ("nr_values", c_u32),
                ("nr_labels", c_u32),
                ("values", POINTER(c_i64)),
                ("labels", POINTER(POINTER(ProfileLabel))),
                ("comm", c_str),
                ("nr_timestamps", c_u32),
                ("reserved0", c_u32),
                ("timestamps", POINTER(c_i64)),
                ("timestamp_values", POINTER(c_i64))]
    _arrays_ = {"frames": "nr_frames", "values": "nr_values", "labels": "nr_labels",
                "timestamps": "nr_timestamps", "timestamp_values": "nr_timestamps"}
    _rows_ = {"timestamp_values": "nr_values"}


ProfileSampleFn = CFUNCTYPE(c_int, POINTER(ProfileSample), c_void_p)
ProfileWriteFn = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)


class ProfileWriteOpts(_Struct):
    """struct goprof_profile_write_opts"""
    _fields_ = [("sz", c_size_t),
                ("value_index", c_u32),
                ("flags", c_u32),
                ("title", c_str),
                ("service_name", c_str),
                ("pid", c_i64),
                ("resource_attrs", POINTER(c_str)),
                ("link_keys", POINTER(c_str))]


# symbolizer.h

class Frame(_Struct):
    """struct goprof_frame"""
    _fields_ = [("sz", c_u32),
                ("kind", c_u32),
                ("flags", c_u32),
                ("line", c_u32),
                ("start_line", c_u32),
                ("frame_index", c_u32),
                ("nframes", c_u32),
                ("reserved0", c_u32),
                ("addr_index", c_u64),
                ("addr", c_u64),
                ("vaddr", c_u64),
                ("func_addr", c_u64),
                ("function", c_str),
                ("file", c_str),
                ("module", c_str),
                ("reserved", c_u64 * 4)]


FrameFn = CFUNCTYPE(c_int, POINTER(Frame), c_void_p)


class Function(_Struct):
    """struct goprof_function"""
    _fields_ = [("sz", c_u32),
                ("kind", c_u32),
                ("start_line", c_u32),
                ("reserved0", c_u32),
                ("entry", c_u64),
                ("end", c_u64),
                ("name", c_str),
                ("file", c_str),
                ("reserved", c_u64 * 2)]


FunctionFn = CFUNCTYPE(c_int, POINTER(Function), c_void_p)


class BinaryOpts(_Struct):
    """struct goprof_binary_opts"""
    _fields_ = [("sz", c_size_t),
                ("allow_newer_go", c_u32),
                ("reserved0", c_u32)]


class PclntabInfo(_Struct):
    """struct goprof_pclntab_info"""
    _fields_ = [("sz", c_u32),
                ("format", c_u32),
                ("found_by", c_u32),
                ("nfunc", c_u32),
                ("addr", c_u64),
                ("file_offset", c_u64),
                ("size", c_u64),
                ("text_start", c_u64),
                ("moduledata", c_u64),
                ("nfiles", c_u32),
                ("quantum", c_u32),
                ("ptr_size", c_u32),
                ("reserved0", c_u32)]


class GoSupport(_Struct):
    """struct goprof_go_support"""
    _fields_ = [("sz", c_u32),
                ("flags", c_u32),
                ("features", c_u32),
                ("go_minor", c_u32),
                ("note", c_char * 256)]


class SymbolizerOpts(_Struct):
    """struct goprof_symbolizer_opts"""
    _fields_ = [("sz", c_size_t),
                ("allow_newer_go", c_u32),
                ("reserved0", c_u32),
                ("kallsyms_path", c_str)]


# session.h

class Sample(_Struct):
    """struct goprof_sample (handed to on_sample)"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("tid", c_u32),
                ("cpu", c_u32),
                ("time_ns", c_u64),
                ("comm", c_char * COMM_LEN),
                ("goid", c_u64),
                ("flags", c_u32),
                ("nr_labels", c_u32),
                ("labels", POINTER(POINTER(ProfileLabel))),
                ("nr_user_ips", c_u32),
                ("nr_kernel_ips", c_u32),
                ("user_ips", POINTER(c_u64)),
                ("kernel_ips", POINTER(c_u64))]
    _arrays_ = {"labels": "nr_labels", "user_ips": "nr_user_ips",
                "kernel_ips": "nr_kernel_ips"}


class HttpRequest(_Struct):
    """struct goprof_http_request (Event.http)"""
    _fields_ = [("sz", c_u32),
                ("flags", c_u32),
                ("start_ns", c_u64),
                ("duration_ns", c_u64),
                ("content_length", c_i64),
                ("response_bytes", c_i64),
                ("status", c_u32),
                ("reserved0", c_u32),
                ("method", c_str),
                ("path", c_str),
                ("host", c_str),
                ("method_bytes", c_u32),
                ("path_bytes", c_u32),
                ("host_bytes", c_u32),
                ("method_len", c_u32),
                ("path_len", c_u32),
                ("host_len", c_u32)]
    # A path may hold NUL bytes: read as many bytes as the library says.
    _bytes_ = {"method": "method_bytes", "path": "path_bytes", "host": "host_bytes"}


class ProcessInfo(_Struct):
    """struct goprof_process_info"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("flags", c_u32),
                ("reserved", c_u32),
                ("go_version", c_char * 32),
                ("note", c_char * 160)]


class GoroutineLeak(_Struct):
    """struct goprof_goroutine_leak (goroutine snapshots: a leak group)"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("count", c_u64),
                ("parked", c_u64),
                ("first_count", c_u64),
                ("first_seen_ns", c_u64),
                ("last_seen_ns", c_u64),
                ("growth_per_min", c_i64),
                ("oldest_wait_ns", c_u64),
                ("creation_pc", c_u64),
                ("example_goid", c_u64),
                ("created_by", c_str),
                ("wait_reason", c_str),
                ("top_function", c_str),
                ("stack", c_str)]


class Event(_Struct):
    """struct goprof_event (handed to on_event)"""
    _fields_ = [("sz", c_u32),
                ("type", c_u32),
                ("pid", c_u32),
                ("tid", c_u32),
                ("time_ns", c_u64),
                ("goid", c_u64),
                ("parent_goid", c_u64),
                ("gc_cycle", c_u64),
                ("gc_trigger", c_u32),
                ("reserved0", c_u32),
                ("gc_start_ns", c_u64),
                ("gc_end_ns", c_u64),
                ("gc_sweep_term_pause_ns", c_u64),
                ("gc_mark_ns", c_u64),
                ("gc_mark_term_pause_ns", c_u64),
                ("message", c_str),
                ("tcp_conn_id", c_u64),
                ("tcp_local_addr", c_u8 * 16),
                ("tcp_remote_addr", c_u8 * 16),
                ("tcp_family", c_u16),
                ("tcp_local_port", c_u16),
                ("tcp_remote_port", c_u16),
                ("tcp_reserved", c_u16),
                ("tcp_error", c_i32),
                ("tcp_flags", c_u32),
                ("tcp_handshake_ns", c_u64),
                ("tcp_duration_ns", c_u64),
                ("tcp_bytes_sent", c_u64),
                ("tcp_bytes_received", c_u64),
                ("tcp_retransmits", c_u32),
                ("tcp_srtt_us", c_u32),
                ("http", POINTER(HttpRequest)),
                ("process", POINTER(ProcessInfo)),
                ("gc_pause_ns", c_u64),
                ("gc_flags", c_u32),
                ("gc_reserved", c_u32),
                ("leak", POINTER(GoroutineLeak))]


EventFn = CFUNCTYPE(c_int, POINTER(Event), c_void_p)
SampleFn = CFUNCTYPE(c_int, POINTER(Sample), c_void_p)


class SessionOpts(_Struct):
    """struct goprof_session_opts"""
    _fields_ = [("sz", c_size_t),
                ("cpu_freq_hz", c_u32),
                ("ringbuf_kib", c_u32),
                ("on_sample", SampleFn),
                ("ctx", c_void_p),
                ("user_stack_depth", c_u32),
                ("kernel_stack_depth", c_u32),
                ("features", c_u32),
                ("overhead_budget_bp", c_u32),
                ("on_event", EventFn),
                ("cpu_profile_flags", c_u32),
                ("cpu_timestamps_max", c_u32),
                ("offcpu_min_us", c_u32),
                ("offcpu_max_us", c_u32),
                ("offcpu_sample_every", c_u32),
                ("snapshot_cpu_budget_bp", c_u32),
                ("snapshot_interval_ms", c_u32),
                ("goroutine_leak_age_ms", c_u32)]


class AttachOpts(_Struct):
    """struct goprof_attach_opts"""
    _fields_ = [("sz", c_size_t)]


AttachFilterFn = CFUNCTYPE(c_int, c_int, c_str, c_void_p)


class AttachAllOpts(_Struct):
    """struct goprof_attach_all_opts"""
    _fields_ = [("sz", c_size_t),
                ("flags", c_u32),
                ("max_processes", c_u32),
                ("filter", AttachFilterFn),
                ("ctx", c_void_p)]


class GcStats(_Struct):
    """struct goprof_gc_stats"""
    _fields_ = [("sz", c_u32),
                ("reserved0", c_u32),
                ("cycles", c_u64),
                ("pauses", c_u64),
                ("pause_total_ns", c_u64),
                ("pause_p50_ns", c_u64),
                ("pause_p90_ns", c_u64),
                ("pause_p99_ns", c_u64),
                ("pause_max_ns", c_u64),
                ("cycle_p50_ns", c_u64),
                ("cycle_max_ns", c_u64),
                ("other_stw", c_u64),
                ("first_cycle_ns", c_u64),
                ("last_cycle_ns", c_u64),
                ("pause_hist", c_u64 * GC_HIST_BUCKETS),
                ("cycle_hist", c_u64 * GC_HIST_BUCKETS),
                ("source", c_u32),
                ("heap_flags", c_u32),
                ("forced_cycles", c_u64),
                ("heap_inuse_bytes", c_u64),
                ("heap_live_bytes", c_u64),
                ("heap_marked_bytes", c_u64),
                ("heap_goal_bytes", c_u64)]


class SchedStats(_Struct):
    """struct goprof_sched_stats"""
    _fields_ = [("sz", c_u32),
                ("goroutines", c_u32),
                ("waits", c_u64),
                ("total_ns", c_u64),
                ("p50_ns", c_u64),
                ("p90_ns", c_u64),
                ("p99_ns", c_u64),
                ("max_ns", c_u64),
                ("hist", c_u64 * SCHED_HIST_BUCKETS),
                ("source", c_u32),
                ("sample_every", c_u32)]


SchedSiteFn = CFUNCTYPE(c_int, POINTER(ProfileSample), POINTER(SchedStats), c_void_p)


ProcessFn = CFUNCTYPE(c_int, POINTER(ProcessInfo), c_void_p)


class ThreadSamples(_Struct):
    """struct goprof_thread_samples"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("tid", c_u32),
                ("reserved", c_u32),
                ("samples", c_u64),
                ("comm", c_char * COMM_LEN)]


ThreadFn = CFUNCTYPE(c_int, POINTER(ThreadSamples), c_void_p)


class SessionStats(_Struct):
    """struct goprof_session_stats"""
    _fields_ = [("sz", c_u32),
                ("attached_pids", c_u32),
                ("cpu_samples", c_u64),
                ("samples_delivered", c_u64),
                ("lost_ringbuf_full", c_u64),
                ("lost_thread_table_full", c_u64),
                ("lost_targets_full", c_u64),
                ("lost_aggregation", c_u64),
                ("go_context_failed", c_u64),
                ("frames_unsymbolized", c_u64),
                ("symbol_cache_hits", c_u64),
                ("symbol_cache_misses", c_u64),
                ("processes_exited", c_u64),
                ("goroutines_created", c_u64),
                ("goroutines_exited", c_u64),
                ("goroutines_live", c_u64),
                ("probe_hits", c_u64),
                ("uprobes_installed", c_u32),
                ("probe_sets_detached", c_u32),
                ("probe_cost_ns", c_u64),
                ("lost_events", c_u64),
                ("events_delivered", c_u64),
                ("ringbuf_bytes", c_u64),
                ("ringbuf_high_water_bytes", c_u64),
                ("cpu_profile_stacks", c_u64),
                ("symbol_cache_entries", c_u64),
                ("cpu_profile_resets", c_u64),
                ("offcpu_switches", c_u64),
                ("offcpu_switch_outs", c_u64),
                ("offcpu_intervals", c_u64),
                ("offcpu_filtered", c_u64),
                ("offcpu_stacks_lost", c_u64),
                ("lost_offcpu", c_u64),
                ("offcpu_sample_every", c_u32),
                ("offcpu_attached", c_u32),
                ("tcp_sockets_tracked", c_u64),
                ("tcp_events", c_u64),
                ("lost_tcp_events", c_u64),
                ("lost_tcp_untracked", c_u64),
                ("tcp_hook_runs", c_u64),
                ("block_events", c_u64),
                ("lost_block_events", c_u64),
                ("lost_channels", c_u64),
                ("http_requests", c_u64),
                ("http_client_requests", c_u64),
                ("lost_http", c_u64),
                ("lost_http_unfinished", c_u64),
                ("http_wire_hook_runs", c_u64),
                ("lost_http_wire_conns", c_u64),
                ("processes_unreadable", c_u64),
                ("processes_over_limit", c_u64),
                ("processes_filtered", c_u64),
                ("rt_reads", c_u64),
                ("rt_read_bytes", c_u64),
                ("rt_read_failures", c_u64),
                ("rt_read_cpu_ns", c_u64),
                ("rt_processes", c_u32),
                ("rt_interval_ms", c_u32),
                ("goroutine_snapshots", c_u64),
                ("goroutine_snapshots_failed", c_u64),
                ("snapshot_goroutines_read", c_u64),
                ("snapshot_retries", c_u64),
                ("snapshot_changed", c_u64),
                ("snapshot_rejected", c_u64),
                ("snapshot_cpu_ns", c_u64),
                ("snapshot_bytes_read", c_u64),
                ("snapshot_interval_ms", c_u32),
                ("goroutine_leak_groups", c_u32)]


class TcpPeer(_Struct):
    """struct goprof_tcp_peer"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("flags", c_u32),
                ("family", c_u16),
                ("port", c_u16),
                ("addr", c_u8 * 16),
                ("connections", c_u64),
                ("failed", c_u64),
                ("closed", c_u64),
                ("resets", c_u64),
                ("errors", c_u64),
                ("bytes_sent", c_u64),
                ("bytes_received", c_u64),
                ("retransmits", c_u64),
                ("handshake_total_ns", c_u64),
                ("handshake_max_ns", c_u64),
                ("duration_total_ns", c_u64)]


TcpPeerFn = CFUNCTYPE(c_int, POINTER(TcpPeer), c_void_p)


class ChannelStats(_Struct):
    """struct goprof_channel_stats"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("address", c_u64),
                ("flags", c_u32),
                ("capacity", c_u32),
                ("sends", c_u64),
                ("recvs", c_u64),
                ("blocked_sends", c_u64),
                ("blocked_recvs", c_u64),
                ("blocked_ns", c_u64),
                ("send_blocked_ns", c_u64),
                ("max_blocked_ns", c_u64),
                ("send_p50_ns", c_u64),
                ("send_p90_ns", c_u64),
                ("send_p99_ns", c_u64),
                ("recv_p50_ns", c_u64),
                ("recv_p90_ns", c_u64),
                ("recv_p99_ns", c_u64),
                ("max_occupancy", c_u64),
                ("occupancy_sum", c_u64),
                ("first_seen_ns", c_u64),
                ("send_hist", c_u64 * CHANNEL_HIST_BUCKETS),
                ("recv_hist", c_u64 * CHANNEL_HIST_BUCKETS),
                ("site", c_str),
                ("stack", c_str)]


ChannelFn = CFUNCTYPE(c_int, POINTER(ChannelStats), c_void_p)


class HttpEndpoint(_Struct):
    """struct goprof_http_endpoint"""
    _fields_ = [("sz", c_u32),
                ("kind", c_u32),
                ("method", c_str),
                ("path", c_str),
                ("host", c_str),
                ("flags", c_u32),
                ("reserved0", c_u32),
                ("count", c_u64),
                ("errors", c_u64),
                ("total_ns", c_u64),
                ("p50_ns", c_u64),
                ("p90_ns", c_u64),
                ("p99_ns", c_u64),
                ("max_ns", c_u64),
                ("cpu_samples", c_u64),
                ("cpu_ns", c_u64)]


HttpEndpointFn = CFUNCTYPE(c_int, POINTER(HttpEndpoint), c_void_p)

class Goroutine(_Struct):
    """struct goprof_goroutine (one goroutine of a snapshot)"""
    _arrays_ = {"stack": "nr_stack", "labels": "nr_labels"}
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("goid", c_u64),
                ("parent_goid", c_u64),
                ("status", c_u32),
                ("wait_reason_code", c_u32),
                ("wait_reason", c_str),
                ("wait_ns", c_u64),
                ("creation_pc", c_u64),
                ("start_pc", c_u64),
                ("created_by", c_str),
                ("start_function", c_str),
                ("flags", c_u32),
                ("nr_stack", c_u32),
                ("stack", POINTER(c_u64)),
                ("nr_labels", c_u32),
                ("reserved0", c_u32),
                ("labels", POINTER(POINTER(ProfileLabel))),
                ("channel", c_u64)]


class GoroutineSnapshotInfo(_Struct):
    """struct goprof_goroutine_snapshot_info"""
    _fields_ = [("sz", c_u32),
                ("processes", c_u32),
                ("goroutines", c_u64),
                ("time_ns", c_u64),
                ("duration_ns", c_u64),
                ("retries", c_u64),
                ("changed", c_u64),
                ("rejected", c_u64),
                ("failed", c_u32),
                ("reserved0", c_u32)]


class SnapshotChannel(_Struct):
    """struct goprof_snapshot_channel (a channel goroutines of a snapshot wait on)"""
    _fields_ = [("sz", c_u32),
                ("pid", c_u32),
                ("address", c_u64),
                ("capacity", c_u64),
                ("occupancy", c_u64),
                ("waiting_senders", c_u32),
                ("waiting_receivers", c_u32),
                ("closed", c_u32),
                ("reserved0", c_u32),
                ("oldest_wait_ns", c_u64),
                ("site", c_str)]


GoroutineFn = CFUNCTYPE(c_int, POINTER(Goroutine), c_void_p)
SnapshotChannelFn = CFUNCTYPE(c_int, POINTER(SnapshotChannel), c_void_p)
GoroutineLeakFn = CFUNCTYPE(c_int, POINTER(GoroutineLeak), c_void_p)

#: Every public struct: C name -> its declaration here (the order of --layout).
STRUCTS = {
    "goprof_profile_info": ProfileInfo, "goprof_profile_frame": ProfileFrame,
    "goprof_profile_label": ProfileLabel, "goprof_profile_sample": ProfileSample,
    "goprof_profile_write_opts": ProfileWriteOpts,
    "goprof_frame": Frame, "goprof_function": Function, "goprof_binary_opts": BinaryOpts,
    "goprof_pclntab_info": PclntabInfo, "goprof_go_support": GoSupport,
    "goprof_symbolizer_opts": SymbolizerOpts,
    "goprof_sample": Sample, "goprof_http_request": HttpRequest, "goprof_event": Event,
    "goprof_session_opts": SessionOpts, "goprof_attach_opts": AttachOpts,
    "goprof_attach_all_opts": AttachAllOpts, "goprof_gc_stats": GcStats,
    "goprof_sched_stats": SchedStats, "goprof_process_info": ProcessInfo,
    "goprof_thread_samples": ThreadSamples, "goprof_session_stats": SessionStats,
    "goprof_tcp_peer": TcpPeer, "goprof_channel_stats": ChannelStats,
    "goprof_http_endpoint": HttpEndpoint, "goprof_goroutine": Goroutine,
    "goprof_goroutine_snapshot_info": GoroutineSnapshotInfo,
    "goprof_snapshot_channel": SnapshotChannel, "goprof_goroutine_leak": GoroutineLeak,
}

#: Every callback typedef: C name -> its ctypes function type.
CALLBACKS = {
    "goprof_profile_sample_fn": ProfileSampleFn, "goprof_profile_write_fn": ProfileWriteFn,
    "goprof_frame_fn": FrameFn, "goprof_function_fn": FunctionFn,
    "goprof_event_fn": EventFn, "goprof_sample_fn": SampleFn,
    "goprof_attach_filter_fn": AttachFilterFn, "goprof_sched_site_fn": SchedSiteFn,
    "goprof_process_fn": ProcessFn, "goprof_thread_fn": ThreadFn,
    "goprof_tcp_peer_fn": TcpPeerFn, "goprof_channel_fn": ChannelFn,
    "goprof_http_endpoint_fn": HttpEndpointFn, "goprof_goroutine_fn": GoroutineFn,
    "goprof_snapshot_channel_fn": SnapshotChannelFn, "goprof_goroutine_leak_fn": GoroutineLeakFn,
}

H = c_void_p  # an opaque handle: struct goprof_session *, goprof_profile *, ...

#: Every public function: C name -> (return type, argument types, the Python calling it).
FUNCTIONS = {
    # version.h, error.h
    "goprof_version": (c_uint, [], "version"),
    "goprof_version_string": (c_str, [], "version_string"),
    "goprof_strerror": (c_int, [c_int, POINTER(c_char), c_size_t], "strerror"),
    "goprof_last_error": (c_str, [], "last_error"),
    # profile.h
    "goprof_profile_free": (None, [H], "Profile.close"),
    "goprof_profile_get_info": (c_int, [H, POINTER(ProfileInfo)], "Profile.info"),
    "goprof_profile_sample_type": (c_int, [H, c_u32, POINTER(c_str), POINTER(c_str)],
                                   "Profile.sample_type"),
    "goprof_profile_foreach_sample": (c_int, [H, ProfileSampleFn, c_void_p],
                                      "Profile.foreach_sample"),
    "goprof_profile_write": (c_int, [H, c_u32, POINTER(ProfileWriteOpts), ProfileWriteFn,
                                     c_void_p], "Profile.write"),
    "goprof_profile_write_file": (c_int, [H, c_u32, POINTER(ProfileWriteOpts), c_str],
                                  "Profile.write_file"),
    # session.h
    "goprof_session_new": (H, [POINTER(SessionOpts)], "Session"),
    "goprof_session_free": (None, [H], "Session.close"),
    "goprof_session_attach_pid": (c_int, [H, c_int, POINTER(AttachOpts)], "Session.attach_pid"),
    "goprof_session_attach_exe": (c_int, [H, c_str, POINTER(AttachOpts)], "Session.attach_exe"),
    "goprof_session_attach_all": (c_int, [H, POINTER(AttachAllOpts)], "Session.attach_all"),
    "goprof_session_detach_pid": (c_int, [H, c_int], "Session.detach_pid"),
    "goprof_session_start": (c_int, [H], "Session.start"),
    "goprof_session_stop": (c_int, [H], "Session.stop"),
    "goprof_session_fd": (c_int, [H], "Session.fd"),
    "goprof_session_poll": (c_int, [H, c_int], "Session.poll"),
    "goprof_session_snapshot_cpu": (H, [H, c_u32], "Session.snapshot_cpu"),
    "goprof_session_snapshot_offcpu": (H, [H, c_u32], "Session.snapshot_offcpu"),
    "goprof_session_symbolize_sample": (c_int, [H, POINTER(Sample), FrameFn, c_void_p],
                                        "Session.symbolize_sample"),
    "goprof_session_snapshot_goroutines": (H, [H, c_u64, c_u32], "Session.snapshot_goroutines"),
    "goprof_session_gc_stats": (c_int, [H, c_int, POINTER(GcStats)], "Session.gc_stats"),
    "goprof_session_snapshot_heap": (H, [H, c_u32], "Session.snapshot_heap"),
    "goprof_session_snapshot_allocs": (H, [H, c_u32], "Session.snapshot_allocs"),
    "goprof_session_sched_stats": (c_int, [H, c_int, POINTER(SchedStats)], "Session.sched_stats"),
    "goprof_session_snapshot_sched": (H, [H, c_u32], "Session.snapshot_sched"),
    "goprof_session_foreach_sched_site": (c_int, [H, SchedSiteFn, c_void_p],
                                          "Session.foreach_sched_site"),
    "goprof_session_foreach_process": (c_int, [H, ProcessFn, c_void_p],
                                       "Session.foreach_process"),
    "goprof_session_foreach_thread": (c_int, [H, ThreadFn, c_void_p], "Session.foreach_thread"),
    "goprof_session_stats": (c_int, [H, POINTER(SessionStats)], "Session.stats"),
    "goprof_session_foreach_tcp_peer": (c_int, [H, TcpPeerFn, c_void_p],
                                        "Session.foreach_tcp_peer"),
    "goprof_session_snapshot_block": (H, [H, c_u32], "Session.snapshot_block"),
    "goprof_session_foreach_channel": (c_int, [H, ChannelFn, c_void_p],
                                       "Session.foreach_channel"),
    "goprof_session_take_goroutine_snapshot": (H, [H, c_int, c_u32],
                                               "Session.take_goroutine_snapshot"),
    "goprof_goroutine_snapshot_foreach": (c_int, [H, GoroutineFn, c_void_p],
                                          "GoroutineSnapshot.foreach"),
    "goprof_goroutine_snapshot_info": (c_int, [H, POINTER(GoroutineSnapshotInfo)],
                                       "GoroutineSnapshot.info"),
    "goprof_goroutine_snapshot_foreach_channel": (c_int, [H, SnapshotChannelFn, c_void_p],
                                                  "GoroutineSnapshot.foreach_channel"),
    "goprof_goroutine_snapshot_free": (None, [H], "GoroutineSnapshot.close"),
    "goprof_session_snapshot_goroutine_waits": (H, [H, c_u32],
                                                "Session.snapshot_goroutine_waits"),
    "goprof_session_foreach_goroutine_leak": (c_int, [H, GoroutineLeakFn, c_void_p],
                                              "Session.foreach_goroutine_leak"),
    "goprof_session_foreach_http_endpoint": (c_int, [H, HttpEndpointFn, c_void_p],
                                             "Session.foreach_http_endpoint"),
    # symbolizer.h
    "goprof_binary_open": (H, [c_str, POINTER(BinaryOpts)], "Binary"),
    "goprof_binary_free": (None, [H], "Binary.close"),
    "goprof_binary_is_go": (c_int, [H], "Binary.is_go"),
    "goprof_binary_path": (c_str, [H], "Binary.path"),
    "goprof_binary_go_version": (c_str, [H], "Binary.go_version"),
    "goprof_binary_go_modinfo": (c_str, [H], "Binary.go_modinfo"),
    "goprof_binary_go_build_info": (c_int, [H, c_str, POINTER(c_char), c_size_t],
                                    "Binary.go_build_info"),
    "goprof_binary_go_build_id": (c_str, [H], "Binary.go_build_id"),
    "goprof_binary_gnu_build_id": (c_int, [H, POINTER(c_u8), c_size_t], "Binary.gnu_build_id"),
    "goprof_binary_pclntab_info": (c_int, [H, POINTER(PclntabInfo)], "Binary.pclntab_info"),
    "goprof_binary_go_support": (c_int, [H, POINTER(GoSupport)], "Binary.go_support"),
    "goprof_binary_symbolize": (c_int, [H, POINTER(c_u64), c_size_t, FrameFn, c_void_p],
                                "Binary.symbolize"),
    "goprof_binary_symbolize_addr": (c_int, [H, c_u64, POINTER(Frame), c_size_t, c_size_t],
                                     "Binary.symbolize_addr"),
    "goprof_binary_foreach_function": (c_int, [H, FunctionFn, c_void_p],
                                       "Binary.foreach_function"),
    "goprof_symbolizer_new": (H, [POINTER(SymbolizerOpts)], "Symbolizer"),
    "goprof_symbolizer_free": (None, [H], "Symbolizer.close"),
    "goprof_symbolizer_symbolize_pid": (c_int, [H, c_int, POINTER(c_u64), c_size_t, FrameFn,
                                                c_void_p], "Symbolizer.symbolize_pid"),
    "goprof_symbolizer_symbolize_kernel": (c_int, [H, POINTER(c_u64), c_size_t, FrameFn,
                                                   c_void_p], "Symbolizer.symbolize_kernel"),
    "goprof_symbolizer_forget_pid": (c_int, [H, c_int], "Symbolizer.forget_pid"),
}


# ---------------------------------------------------------------------------------------
# Loading the library, errors
# ---------------------------------------------------------------------------------------

SONAME = "libgoprof.so.1"


class Error(OSError):
    """A libgoprof call failed: errno is the library's (an errno value or ERRNO_*),
    strerror "function: message"; function and last_error (goprof_last_error(), "" if
    the library set none) are attributes too."""
    function = ""
    last_error = ""


class LibraryNotFound(Error):
    """libgoprof.so.1 could not be loaded."""


def _missing(name, have):
    def stub(*args):
        raise Error(_errno.ENOSYS, "%s: not in the loaded libgoprof %s (this binding "
                    "describes %s)" % (name, have, VERSION_STRING))
    return stub


def _load():
    env = os.environ.get("GOPROF_LIB")
    names = [env] if env else [SONAME]
    if not env:
        found = ctypes.util.find_library("goprof")
        if found and found != SONAME:
            names.append(found)
    tried = []
    for name in names:
        try:
            dll = ctypes.CDLL(name, use_errno=True)
            break
        except OSError as e:
            tried.append(str(e))
    else:
        raise LibraryNotFound(_errno.ENOENT, "libgoprof not found (%s): install it, or set "
                              "LD_LIBRARY_PATH to its directory or GOPROF_LIB to "
                              "libgoprof.so.1" % "; ".join(tried))
    dll.goprof_version_string.restype = c_str
    have = dll.goprof_version_string().decode()
    for name, (res, args, _) in FUNCTIONS.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:  # an older library: calling it raises Error(ENOSYS)
            setattr(dll, name, _missing(name, have))
            continue
        fn.restype, fn.argtypes = res, args
    return dll


_lib = None


def lib():
    """The loaded library (loaded on first use), a ctypes.CDLL with every prototype set."""
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def last_error():
    """goprof_last_error(): the calling thread's message about the last failure, or ""."""
    return _text(lib().goprof_last_error()) or ""


def strerror(err):
    """goprof_strerror(): the text of an errno value or an ERRNO_* code."""
    size = 128
    while True:
        buf = ctypes.create_string_buffer(size)
        ret = lib().goprof_strerror(err, buf, size)
        if ret != -_errno.ERANGE or size > 65536:
            return _text(buf.value)
        size *= 4


def version():
    """goprof_version() of the loaded library: MAJOR * 10000 + MINOR * 100 + PATCH."""
    return lib().goprof_version()


def version_string():
    """goprof_version_string() of the loaded library: "MAJOR.MINOR.PATCH"."""
    return _text(lib().goprof_version_string())


def _fail(err, what):
    msg = last_error()
    e = Error(err, "%s: %s" % (what, msg or strerror(err)))
    e.function, e.last_error = what, msg
    raise e


def _check(ret, what):
    if ret < 0:
        _fail(-ret, what)
    return ret


def _handle_or_raise(h, what):
    if not h:
        _fail(ctypes.get_errno() or _errno.EINVAL, what)
    return h


class _Callback:
    """A Python callable behind a C callback: converts the C arguments, returns what the
    callable returned (None as 0), and on an exception returns `stop` and keeps the
    exception for reraise() once the C call is over."""

    def __init__(self, ftype, fn, convert, stop):
        self.exc = None

        def call(*args):
            if self.exc is not None:
                return stop
            try:
                return int(fn(*convert(*args[:-1])) or 0)  # the last argument is ctx
            except BaseException as e:  # KeyboardInterrupt too: raised again after
                self.exc = e
                return stop
        self.c = ftype(call)

    def reraise(self):
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc


def _one_record(p):
    return (p.contents.record(),)


def _run(ftype, fn, convert, stop, call, what):
    """Calls call(c_callback) with fn behind the callback; raises its exception or the
    library's error; returns the C result (0, or the callback's non-zero value)."""
    cb = _Callback(ftype, fn, convert, stop)
    ret = call(cb.c)
    cb.reraise()
    return _check(ret, what)


def _collect(foreach, *args):
    out = []
    foreach(*args, lambda *rec: out.append(rec[0] if len(rec) == 1 else rec))
    return out


def _addr_array(addrs):
    addrs = list(addrs)
    return (c_u64 * max(len(addrs), 1))(*addrs), len(addrs)


# ---------------------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------------------

class _Handle:
    _free = None  # the C function that frees the handle

    _h = None

    def _handle(self):
        if not self._h:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._h

    def close(self):
        """Frees the handle (goprof_*_free); later calls raise ValueError."""
        h, self._h = self._h, None
        if h:
            getattr(lib(), self._free)(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class Profile(_Handle):
    """A profile snapshot (struct goprof_profile *), taken from a Session; it outlives
    the session. Several threads may read it at once."""
    _free = "goprof_profile_free"

    def __init__(self, handle):
        self._h = handle

    def info(self):
        """goprof_profile_get_info(): a ProfileInfo Record."""
        i = _sized(ProfileInfo)
        _check(lib().goprof_profile_get_info(self._handle(), ctypes.byref(i)),
               "goprof_profile_get_info")
        return i.record()

    def sample_type(self, index):
        """goprof_profile_sample_type(): (type, unit) of sample value `index`."""
        t, u = c_str(), c_str()
        _check(lib().goprof_profile_sample_type(self._handle(), index, ctypes.byref(t),
                                                ctypes.byref(u)), "goprof_profile_sample_type")
        return _text(t.value), _text(u.value)

    def sample_types(self):
        """Every (type, unit), in the order of the sample values."""
        return [self.sample_type(i) for i in range(self.info().nr_sample_types)]

    def foreach_sample(self, fn):
        """goprof_profile_foreach_sample(): fn(ProfileSample Record) for every sample;
        a non-zero return stops and is returned."""
        h = self._handle()
        return _run(ProfileSampleFn, fn, _one_record, 1,
                    lambda cb: lib().goprof_profile_foreach_sample(h, cb, None),
                    "goprof_profile_foreach_sample")

    def samples(self):
        """Every sample as a ProfileSample Record: frames (leaf first, ProfileFrame
        Records), values, labels (ProfileLabel Records; label_dict() makes a dict), comm,
        timestamps and timestamp_values (one row of values per timestamp)."""
        return _collect(self.foreach_sample)

    def __iter__(self):
        return iter(self.samples())

    @staticmethod
    def _opts(fields, keep):
        if isinstance(fields.get("resource_attrs"), dict):
            fields["resource_attrs"] = list(fields["resource_attrs"].items())
        for key in ("resource_attrs", "link_keys"):
            if fields.get(key) is not None:
                items = fields[key]
                if key == "resource_attrs":
                    items = [x for kv in items for x in kv]
                arr = (c_str * (len(items) + 1))(*[os.fsencode(s) for s in items], None)
                keep.append(arr)
                fields[key] = ctypes.cast(arr, POINTER(c_str))
            else:
                fields.pop(key, None)
        return OPTS(ProfileWriteOpts, **fields)

    def write(self, format=FORMAT_PPROF, out=None, **opts):
        """goprof_profile_write(): encodes the profile. opts are ProfileWriteOpts fields:
        value_index, flags (WRITE_*), title, service_name, pid, resource_attrs (a dict or
        (key, value) pairs), link_keys (a list of trace-id/span-id key pairs; [] turns
        links off). Returns the bytes, or with `out` (anything with a write method)
        hands each chunk to it and returns None."""
        keep, chunks = [], []
        o = self._opts(opts, keep)
        sink = out.write if out is not None else chunks.append
        h = self._handle()
        _run(ProfileWriteFn, lambda data, n: sink(ctypes.string_at(data, n)) and 0,
             lambda data, n: (data, n), 1,
             lambda cb: lib().goprof_profile_write(h, format, ctypes.byref(o), cb, None),
             "goprof_profile_write")
        return None if out is not None else b"".join(chunks)

    def write_file(self, format, path, **opts):
        """goprof_profile_write_file(): encodes the profile into the file at path,
        replaced whole (opts as for write())."""
        o = self._opts(opts, [])
        _check(lib().goprof_profile_write_file(self._handle(), format, ctypes.byref(o),
                                               os.fsencode(path)),
               "goprof_profile_write_file(%s)" % path)


class Session(_Handle):
    """A profiling session (struct goprof_session *). Keyword arguments are the fields of
    SessionOpts (cpu_freq_hz, features, cpu_profile_flags, ...); on_sample(Sample
    Record) and on_event(Event Record) are Python callables, called from poll() on the
    thread that polls. Use one session from one thread at a time."""
    _free = "goprof_session_free"

    def __init__(self, on_sample=None, on_event=None, **opts):
        self._callbacks = []
        self._current = (None, None)  # the sample on_sample is handling, and its pointer
        if on_sample is not None:
            def sample_fn(p):
                rec = p.contents.record()
                self._current = (rec, p)
                try:
                    return on_sample(rec)
                finally:
                    self._current = (None, None)
            cb = _Callback(SampleFn, sample_fn, lambda p: (p,), -_errno.ECANCELED)
            self._callbacks.append(cb)
            opts["on_sample"] = cb.c
        if on_event is not None:
            cb = _Callback(EventFn, on_event, _one_record, -_errno.ECANCELED)
            self._callbacks.append(cb)
            opts["on_event"] = cb.c
        self._opts = OPTS(SessionOpts, **opts)
        self._h = _handle_or_raise(lib().goprof_session_new(ctypes.byref(self._opts)),
                                   "goprof_session_new")

    def _reraise(self):
        for cb in self._callbacks:
            cb.reraise()

    def close(self):
        """goprof_session_free(): stops sampling, detaches, frees. No callback runs after."""
        super().close()

    def attach_pid(self, pid):
        """goprof_session_attach_pid(): profiles process pid (all its threads)."""
        _check(lib().goprof_session_attach_pid(self._handle(), pid, None),
               "goprof_session_attach_pid(%d)" % pid)

    def attach_exe(self, path):
        """goprof_session_attach_exe(): every process running the executable at path,
        now and later."""
        _check(lib().goprof_session_attach_exe(self._handle(), os.fsencode(path), None),
               "goprof_session_attach_exe(%s)" % path)

    def attach_all(self, flags=0, max_processes=0, filter=None):
        """goprof_session_attach_all(): every process now and at its exec. flags:
        ATTACH_ALL_GO_ONLY; filter(pid, comm) returning true leaves a process out (it is
        called from here and from poll())."""
        fields = dict(flags=flags, max_processes=max_processes)
        if filter is not None:
            cb = _Callback(AttachFilterFn, filter, lambda pid, comm: (pid, _text(comm)), 1)
            self._callbacks.append(cb)  # alive as long as the session
            fields["filter"] = cb.c
        o = OPTS(AttachAllOpts, **fields)
        ret = lib().goprof_session_attach_all(self._handle(), ctypes.byref(o))
        self._reraise()
        _check(ret, "goprof_session_attach_all")

    def detach_pid(self, pid):
        """goprof_session_detach_pid()"""
        _check(lib().goprof_session_detach_pid(self._handle(), pid),
               "goprof_session_detach_pid(%d)" % pid)

    def start(self):
        """goprof_session_start(): starts sampling."""
        _check(lib().goprof_session_start(self._handle()), "goprof_session_start")

    def stop(self):
        """goprof_session_stop(): stops sampling; counts are kept."""
        _check(lib().goprof_session_stop(self._handle()), "goprof_session_stop")

    def fd(self):
        """goprof_session_fd(): a descriptor that becomes readable when records wait
        (owned by the session). fileno() is the same, so select() takes a Session."""
        return _check(lib().goprof_session_fd(self._handle()), "goprof_session_fd")

    fileno = fd

    def poll(self, timeout_ms=0):
        """goprof_session_poll(): takes in waiting records, calling on_sample and
        on_event; returns the number of samples. An exception of a callback stops the
        poll and is raised here."""
        ret = lib().goprof_session_poll(self._handle(), timeout_ms)
        self._reraise()
        return _check(ret, "goprof_session_poll")

    def _snapshot(self, name, *args):
        h = getattr(lib(), name)(self._handle(), *args)
        return Profile(_handle_or_raise(h, name))

    def snapshot_cpu(self, flags=0):
        """goprof_session_snapshot_cpu(): the CPU profile (flags: SNAPSHOT_RESET)."""
        return self._snapshot("goprof_session_snapshot_cpu", flags)

    def snapshot_offcpu(self, flags=0):
        """goprof_session_snapshot_offcpu() (FEATURE_OFFCPU; flags: SNAPSHOT_RESET)"""
        return self._snapshot("goprof_session_snapshot_offcpu", flags)

    def snapshot_goroutines(self, min_age_ns=0, flags=0):
        """goprof_session_snapshot_goroutines() (FEATURE_GOROUTINES): live goroutines at
        least min_age_ns old, by creation stack."""
        return self._snapshot("goprof_session_snapshot_goroutines", min_age_ns, flags)

    def snapshot_heap(self, flags=0):
        """goprof_session_snapshot_heap() (FEATURE_HEAP)"""
        return self._snapshot("goprof_session_snapshot_heap", flags)

    def snapshot_allocs(self, flags=0):
        """goprof_session_snapshot_allocs() (FEATURE_ALLOCS)"""
        return self._snapshot("goprof_session_snapshot_allocs", flags)

    def snapshot_sched(self, flags=0):
        """goprof_session_snapshot_sched() (FEATURE_SCHED, sites with FEATURE_GOROUTINES)"""
        return self._snapshot("goprof_session_snapshot_sched", flags)

    def snapshot_block(self, flags=0):
        """goprof_session_snapshot_block() (FEATURE_BLOCK)"""
        return self._snapshot("goprof_session_snapshot_block", flags)

    def snapshot_goroutine_waits(self, flags=0):
        """goprof_session_snapshot_goroutine_waits() (FEATURE_GOROUTINE_SNAPSHOTS): parked
        time by stack and wait reason, sampled by snapshots (flags: SNAPSHOT_RESET)."""
        return self._snapshot("goprof_session_snapshot_goroutine_waits", flags)

    def take_goroutine_snapshot(self, pid=0, flags=0):
        """goprof_session_take_goroutine_snapshot(): every goroutine of process pid (0: of
        every attached Go process), read from the runtime's memory: a GoroutineSnapshot."""
        h = lib().goprof_session_take_goroutine_snapshot(self._handle(), pid, flags)
        return GoroutineSnapshot(_handle_or_raise(h, "goprof_session_take_goroutine_snapshot"))

    def foreach_goroutine_leak(self, fn):
        """goprof_session_foreach_goroutine_leak() (FEATURE_GOROUTINE_SNAPSHOTS):
        fn(GoroutineLeak Record) per leak group."""
        return self._foreach("goprof_session_foreach_goroutine_leak", GoroutineLeakFn, fn)

    def goroutine_leaks(self):
        return _collect(self.foreach_goroutine_leak)

    def symbolize_sample(self, sample, fn=None):
        """goprof_session_symbolize_sample(): the frames (Frame Records, leaf first,
        kernel first) of the sample handed to on_sample; call it from on_sample. With fn,
        calls fn(frame) for each and returns the C result instead."""
        rec, ptr = self._current
        if rec is None or sample is not rec:
            raise ValueError("symbolize_sample() takes the sample on_sample is handling")
        if fn is None:
            return _collect(self.symbolize_sample, sample)
        h = self._handle()
        return _run(FrameFn, fn, _one_record, 1,
                    lambda cb: lib().goprof_session_symbolize_sample(h, ptr, cb, None),
                    "goprof_session_symbolize_sample")

    def gc_stats(self, pid=0):
        """goprof_session_gc_stats() (FEATURE_GC): a GcStats Record, of pid or of all."""
        s = _sized(GcStats)
        _check(lib().goprof_session_gc_stats(self._handle(), pid, ctypes.byref(s)),
               "goprof_session_gc_stats")
        return s.record()

    def sched_stats(self, pid=0):
        """goprof_session_sched_stats() (FEATURE_SCHED): a SchedStats Record."""
        s = _sized(SchedStats)
        _check(lib().goprof_session_sched_stats(self._handle(), pid, ctypes.byref(s)),
               "goprof_session_sched_stats")
        return s.record()

    def stats(self):
        """goprof_session_stats(): a SessionStats Record."""
        s = _sized(SessionStats)
        _check(lib().goprof_session_stats(self._handle(), ctypes.byref(s)),
               "goprof_session_stats")
        return s.record()

    def _foreach(self, name, ftype, fn, convert=_one_record):
        h = self._handle()
        return _run(ftype, fn, convert, 1, lambda cb: getattr(lib(), name)(h, cb, None), name)

    def foreach_sched_site(self, fn):
        """goprof_session_foreach_sched_site(): fn(site, stats) per goroutine creation
        site (a ProfileSample and a SchedStats Record)."""
        return self._foreach("goprof_session_foreach_sched_site", SchedSiteFn, fn,
                             lambda s, st: (s.contents.record(), st.contents.record()))

    def sched_sites(self):
        """[(site, stats)] of foreach_sched_site()."""
        return _collect(self.foreach_sched_site)

    def foreach_process(self, fn):
        """goprof_session_foreach_process(): fn(ProcessInfo Record) per process."""
        return self._foreach("goprof_session_foreach_process", ProcessFn, fn)

    def processes(self):
        return _collect(self.foreach_process)

    def foreach_thread(self, fn):
        """goprof_session_foreach_thread(): fn(ThreadSamples Record) per thread."""
        return self._foreach("goprof_session_foreach_thread", ThreadFn, fn)

    def threads(self):
        return _collect(self.foreach_thread)

    def foreach_tcp_peer(self, fn):
        """goprof_session_foreach_tcp_peer() (FEATURE_TCP): fn(TcpPeer Record);
        address(peer.family, peer.addr) gives the IP address."""
        return self._foreach("goprof_session_foreach_tcp_peer", TcpPeerFn, fn)

    def tcp_peers(self):
        return _collect(self.foreach_tcp_peer)

    def foreach_channel(self, fn):
        """goprof_session_foreach_channel() (FEATURE_CHANNELS): fn(ChannelStats Record)."""
        return self._foreach("goprof_session_foreach_channel", ChannelFn, fn)

    def channels(self):
        return _collect(self.foreach_channel)

    def foreach_http_endpoint(self, fn):
        """goprof_session_foreach_http_endpoint() (FEATURE_HTTP or FEATURE_HTTP_WIRE):
        fn(HttpEndpoint Record)."""
        return self._foreach("goprof_session_foreach_http_endpoint", HttpEndpointFn, fn)

    def http_endpoints(self):
        return _collect(self.foreach_http_endpoint)


def _symbolize(what, fn, call):
    """Runs a goprof_*_symbolize* call; without fn, returns the Frame Records."""
    if fn is None:
        out = []
        _symbolize(what, out.append, call)
        return out
    return _run(FrameFn, fn, _one_record, 1, call, what)


class GoroutineSnapshot(_Handle):
    """A goroutine snapshot (struct goprof_goroutine_snapshot *) from
    Session.take_goroutine_snapshot(); it outlives the session."""
    _free = "goprof_goroutine_snapshot_free"

    def __init__(self, handle):
        self._h = handle

    def info(self):
        """goprof_goroutine_snapshot_info(): a GoroutineSnapshotInfo Record."""
        i = _sized(GoroutineSnapshotInfo)
        _check(lib().goprof_goroutine_snapshot_info(self._handle(), ctypes.byref(i)),
               "goprof_goroutine_snapshot_info")
        return i.record()

    def foreach(self, fn):
        """goprof_goroutine_snapshot_foreach(): fn(Goroutine Record) per goroutine."""
        h = self._handle()
        return _run(GoroutineFn, fn, _one_record, 1,
                    lambda cb: lib().goprof_goroutine_snapshot_foreach(h, cb, None),
                    "goprof_goroutine_snapshot_foreach")

    def goroutines(self):
        return _collect(self.foreach)

    def foreach_channel(self, fn):
        """goprof_goroutine_snapshot_foreach_channel(): fn(SnapshotChannel Record) per
        channel its goroutines wait on."""
        h = self._handle()
        return _run(SnapshotChannelFn, fn, _one_record, 1,
                    lambda cb: lib().goprof_goroutine_snapshot_foreach_channel(h, cb, None),
                    "goprof_goroutine_snapshot_foreach_channel")

    def channels(self):
        return _collect(self.foreach_channel)


class Binary(_Handle):
    """An ELF binary opened for symbolization (struct goprof_binary *): link-time
    addresses of that file. Keyword arguments are BinaryOpts fields."""
    _free = "goprof_binary_free"

    def __init__(self, path, **opts):
        o = OPTS(BinaryOpts, **opts)
        self._h = _handle_or_raise(lib().goprof_binary_open(os.fsencode(path), ctypes.byref(o)),
                                   "goprof_binary_open(%s)" % path)

    def is_go(self):
        """goprof_binary_is_go(): True if the binary has a usable Go pclntab."""
        return lib().goprof_binary_is_go(self._handle()) == 1

    def path(self):
        """goprof_binary_path()"""
        return _text(lib().goprof_binary_path(self._handle()))

    def go_version(self):
        """goprof_binary_go_version(): "go1.21.5", or None."""
        return _text(lib().goprof_binary_go_version(self._handle()))

    def go_modinfo(self):
        """goprof_binary_go_modinfo(): the text `go version -m` prints, or None."""
        return _text(lib().goprof_binary_go_modinfo(self._handle()))

    def go_build_info(self, key):
        """goprof_binary_go_build_info(): "path", "mod" or a build setting ("GOOS",
        "vcs.revision", ...), or None if absent."""
        h, k = self._handle(), os.fsencode(key)
        n = lib().goprof_binary_go_build_info(h, k, None, 0)
        if n == -_errno.ENOENT:
            return None
        buf = ctypes.create_string_buffer(_check(n, "goprof_binary_go_build_info") + 1)
        _check(lib().goprof_binary_go_build_info(h, k, buf, len(buf)),
               "goprof_binary_go_build_info")
        return _text(buf.value)

    def go_build_id(self):
        """goprof_binary_go_build_id(), or None."""
        return _text(lib().goprof_binary_go_build_id(self._handle()))

    def gnu_build_id(self):
        """goprof_binary_gnu_build_id(): the NT_GNU_BUILD_ID bytes, or None."""
        size = 64
        while True:
            buf = (c_u8 * size)()
            n = lib().goprof_binary_gnu_build_id(self._handle(), buf, size)
            if n == -_errno.ENOENT:
                return None
            if _check(n, "goprof_binary_gnu_build_id") <= size:
                return bytes(buf[:n])
            size = n

    def pclntab_info(self):
        """goprof_binary_pclntab_info(): a PclntabInfo Record (Error ERRNO_NOT_GO if
        the binary has no pclntab)."""
        i = _sized(PclntabInfo)
        _check(lib().goprof_binary_pclntab_info(self._handle(), ctypes.byref(i)),
               "goprof_binary_pclntab_info")
        return i.record()

    def go_support(self):
        """goprof_binary_go_support(): a GoSupport Record (flags GO_SUPPORT_*, the
        FEATURE_* that give data, go_minor, note)."""
        s = _sized(GoSupport)
        _check(lib().goprof_binary_go_support(self._handle(), ctypes.byref(s)),
               "goprof_binary_go_support")
        return s.record()

    def symbolize(self, addrs, fn=None):
        """goprof_binary_symbolize(): Frame Records of link-time addresses, innermost
        first for each (addr_index says which); with fn, fn(frame) each instead."""
        arr, n = _addr_array(addrs)
        h = self._handle()
        return _symbolize("goprof_binary_symbolize", fn,
                          lambda cb: lib().goprof_binary_symbolize(h, arr, n, cb, None))

    def symbolize_addr(self, addr):
        """goprof_binary_symbolize_addr(): the Frame Records of one address ([] if it is
        in no function)."""
        cap = 8
        while True:
            frames = (Frame * cap)()
            n = _check(lib().goprof_binary_symbolize_addr(self._handle(), addr, frames, cap,
                                                          ctypes.sizeof(Frame)),
                       "goprof_binary_symbolize_addr")
            if n <= cap:
                return [frames[i].record() for i in range(n)]
            cap = n

    def foreach_function(self, fn):
        """goprof_binary_foreach_function(): fn(Function Record) in address order."""
        h = self._handle()
        return _run(FunctionFn, fn, _one_record, 1,
                    lambda cb: lib().goprof_binary_foreach_function(h, cb, None),
                    "goprof_binary_foreach_function")

    def functions(self):
        return _collect(self.foreach_function)


class Symbolizer(_Handle):
    """Run-time addresses of processes and of the kernel (struct goprof_symbolizer *).
    Keyword arguments are SymbolizerOpts fields (kallsyms_path)."""
    _free = "goprof_symbolizer_free"

    def __init__(self, **opts):
        self._opts = OPTS(SymbolizerOpts, **opts)
        self._h = _handle_or_raise(lib().goprof_symbolizer_new(ctypes.byref(self._opts)),
                                   "goprof_symbolizer_new")

    def symbolize_pid(self, pid, addrs, fn=None):
        """goprof_symbolizer_symbolize_pid(): Frame Records of run-time addresses of
        process pid (addr run-time, vaddr link-time); with fn, fn(frame) each instead."""
        arr, n = _addr_array(addrs)
        h = self._handle()
        return _symbolize("goprof_symbolizer_symbolize_pid(%d)" % pid, fn,
                          lambda cb: lib().goprof_symbolizer_symbolize_pid(h, pid, arr, n, cb,
                                                                           None))

    def symbolize_kernel(self, addrs, fn=None):
        """goprof_symbolizer_symbolize_kernel(): Frame Records of kernel addresses."""
        arr, n = _addr_array(addrs)
        h = self._handle()
        return _symbolize("goprof_symbolizer_symbolize_kernel", fn,
                          lambda cb: lib().goprof_symbolizer_symbolize_kernel(h, arr, n, cb,
                                                                              None))

    def forget_pid(self, pid):
        """goprof_symbolizer_forget_pid(): drops the cached mappings of pid (Error
        ENOENT if none)."""
        _check(lib().goprof_symbolizer_forget_pid(self._handle(), pid),
               "goprof_symbolizer_forget_pid(%d)" % pid)


#: Every opaque handle type: C struct name -> the class that owns it.
HANDLES = {"goprof_session": Session, "goprof_profile": Profile, "goprof_binary": Binary,
           "goprof_symbolizer": Symbolizer, "goprof_goroutine_snapshot": GoroutineSnapshot}


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
        print("libgoprof %s (binding %s)" % (version_string(), VERSION_STRING))
