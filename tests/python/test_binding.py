#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
"""The ctypes binding (examples/python/goprof.py) end to end, on real processes with real
BPF, as a Python host uses it:

1. version and errors: version() against the binding's VERSION_NUMBER, strerror() of the
   library's codes, Error carrying errno and goprof_last_error();
2. the symbolizer on a Go fixture binary: build info, build IDs, pclntab, Go support,
   functions, symbolize/symbolize_addr; a Symbolizer on the running fixture's PID and on
   a kernel address from /proc/kallsyms; forget_pid;
3. a session with nine features on the allcaps fixture (attached by executable), with
   on_sample (symbolize_sample from inside it) and on_event: every event type the fixture
   causes, the statistics (session, GC, scheduling), processes, threads, TCP peers,
   channels, HTTP endpoints, scheduling sites, and a profile of every kind;
4. profile writing in every format (pprof gzip and uncompressed, folded with the unit
   line, SVG, OTLP) to bytes, to a file object and to files, pprof read back by
   `go tool pprof -raw` with the sample count foreach_sample gave Python;
5. a second session with the two other features (ALLOCS, HTTP_WIRE): attach_all with a
   filter, attach_pid, detach_pid, fd() in select(), stop, and an exception raised in
   on_sample coming out of poll().

usage: test_binding.py   (env: GOPROF_LIB, GOPROF_SOURCE_ROOT, GOPROF_FIXTURES,
                          GOPROF_GO_VERSIONS; CI=true turns skips into failures)
Exit 0 pass, 77 skip (meson's convention), 1 fail.
"""
import collections
import gzip
import io
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["GOPROF_SOURCE_ROOT"], "examples", "python"))
import goprof  # noqa: E402

# Scheduling in its precise mode: latency by creation site (sched_sites) needs the probes;
# GC in the default memory mode.
RUNTIME = (goprof.FEATURE_GOROUTINES | goprof.FEATURE_GC | goprof.FEATURE_HEAP |
           goprof.FEATURE_SCHED | goprof.FEATURE_SCHED_PRECISE | goprof.FEATURE_OFFCPU |
           goprof.FEATURE_BLOCK | goprof.FEATURE_CHANNELS | goprof.FEATURE_TCP |
           goprof.FEATURE_HTTP)


def skip(why):
    if os.environ.get("CI") == "true":
        print("FAIL (CI must not skip): " + why)
        sys.exit(1)
    print("SKIP: " + why)
    sys.exit(77)


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)


def raises(errno, fn, *args):
    """fn(*args) must raise goprof.Error with that errno and a message; returns it."""
    try:
        fn(*args)
    except goprof.Error as e:
        check(e.errno == errno, "%s: errno %s, expected %d: %s" % (fn.__name__, e.errno,
                                                                   errno, e))
        return e
    check(False, "%s%r did not raise Error(%d)" % (fn.__name__, args, errno))


def fixture(name):
    ver = os.environ.get("GOPROF_GO_VERSIONS", "").split()
    check(ver, "GOPROF_GO_VERSIONS is empty")
    path = os.path.join(os.environ["GOPROF_FIXTURES"], "%s-go%s" % (name, ver[-1]))
    check(os.access(path, os.X_OK), "no fixture " + path)
    return path, ver[-1]


def new_session(**kw):
    try:
        return goprof.Session(**kw)
    except goprof.Error as e:
        if e.errno in (1, 13):  # EPERM, EACCES: no BPF privileges here
            skip(str(e))
        raise


def test_version_and_errors():
    check(goprof.version() == goprof.VERSION_NUMBER, "library %d, binding %d" % (
        goprof.version(), goprof.VERSION_NUMBER))
    check(goprof.version_string() == goprof.VERSION_STRING, goprof.version_string())
    check(goprof.strerror(goprof.ERRNO_NOT_GO) == goprof.strerror(-goprof.ERRNO_NOT_GO) != "",
          "strerror of ERRNO_NOT_GO")
    check("No such file" in goprof.strerror(2), goprof.strerror(2))
    e = raises(2, goprof.Binary, "/nonexistent/app")
    check(e.last_error and e.last_error == goprof.last_error() and e.last_error in str(e)
          and e.function == "goprof_binary_open(/nonexistent/app)", str(e))
    e = raises(goprof.ERRNO_NOT_GO, goprof.Binary, "/etc/hostname")
    check("ELF" in str(e), str(e))
    try:
        goprof.Session(cpu_freqhz=99)
        check(False, "a misspelt option was accepted")
    except TypeError as e:
        check("cpu_freq_hz" in str(e), "the TypeError does not list the options: %s" % e)
    print("ok: version %s, errors carry errno and goprof_last_error()"
          % goprof.version_string())


def test_symbolizer(path, ver):
    with goprof.Binary(path) as b:
        check(b.is_go() and b.path() == path, "is_go/path")
        check(b.go_version().startswith("go" + ver), "go_version %s" % b.go_version())
        check(b.go_build_info("path") == "goprof.test/allcaps", b.go_build_info("path"))
        check(b.go_build_info("GOOS") == "linux" and b.go_build_info("no such key") is None,
              "go_build_info")
        check("mod\tgoprof.test/allcaps" in b.go_modinfo(), b.go_modinfo())
        check(b.go_build_id() and "/" in b.go_build_id(), "go_build_id %r" % b.go_build_id())
        gnu = b.gnu_build_id()
        check(gnu is None or len(gnu) in (16, 20), "gnu_build_id %r" % gnu)
        info = b.pclntab_info()
        check(info.format == goprof.PCLNTAB_GO1_20 and info.nfunc > 1000 and
              info.ptr_size == 8, "pclntab_info %r" % info)
        sup = b.go_support()
        want = goprof.GO_SUPPORT_STACKS | goprof.GO_SUPPORT_INLINE | goprof.GO_SUPPORT_GOROUTINE_IDS
        check(sup.flags & want == want and sup.features & goprof.FEATURE_GC and
              sup.go_minor == int(ver.split(".")[1]), "go_support %r" % sup)
        funcs = b.functions()
        check(len(funcs) == info.nfunc, "%d functions, pclntab says %d" % (len(funcs),
                                                                          info.nfunc))
        hot = [f for f in funcs if f.name == "main.hot"]
        check(len(hot) == 1 and hot[0].kind == goprof.FRAME_KIND_GO and
              hot[0].file.endswith("allcaps/main.go"), "main.hot %r" % hot)
        entry = hot[0].entry
        frames = b.symbolize([entry, entry + 4, 0x10])
        check([f.addr_index for f in frames] == [0, 1] and
              all(f.function == "main.hot" and f.line > 0 for f in frames),
              "symbolize %r" % frames)
        check(b.symbolize_addr(entry)[0].function == "main.hot", "symbolize_addr")
        check(b.foreach_function(lambda f: 42) == 42, "a callback's non-zero return")
        try:
            b.foreach_function(lambda f: 1 / 0)
            check(False, "an exception in a callback was swallowed")
        except ZeroDivisionError:
            pass
    try:
        b.is_go()
        check(False, "a closed Binary was used")
    except ValueError:
        pass

    # A Symbolizer on the running fixture (not PIE: run-time addresses are link-time ones).
    child = subprocess.Popen([path, "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        check(child.stdout.readline().strip() == "waiting", "allcaps did not start")
        with goprof.Symbolizer() as sym:
            frames = sym.symbolize_pid(child.pid, [entry])
            check(len(frames) == 1 and frames[0].function == "main.hot" and
                  frames[0].module == path, "symbolize_pid %r" % frames)
            sym.forget_pid(child.pid)
            raises(2, sym.forget_pid, child.pid)
            kallsyms = [l.split() for l in open("/proc/kallsyms")]
            addr = [int(a, 16) for a, t, name, *_ in kallsyms if name == "schedule"][0]
            if addr == 0:
                skip("/proc/kallsyms hides addresses (kptr_restrict)")
            k = sym.symbolize_kernel([addr])
            check(k and k[0].function == "schedule" and k[0].kind == goprof.FRAME_KIND_KERNEL,
                  "symbolize_kernel %r" % k)
    finally:
        child.kill()
        child.wait()
    print("ok: symbolizer: %s, %d functions, main.hot at %#x, kernel and PID lookups"
          % (os.path.basename(path), len(funcs), entry))


class Run:
    """What the callbacks of the allcaps session saw."""

    def __init__(self):
        self.events = collections.Counter()
        self.http_paths = collections.Counter()
        self.gc = []
        self.tcp_remote = set()
        self.samples = 0
        self.go_samples = 0
        self.symbolized = []
        self.process_events = []
        self.session = None


def on_event(run, e):
    run.events[e.type] += 1
    check(e.sz >= 200 and e.time_ns > 0, "event sz %d" % e.sz)
    if e.type in (goprof.EVENT_HTTP_REQUEST, goprof.EVENT_HTTP_CLIENT_REQUEST):
        check(e.http is not None and e.http.method == "GET", "http %r" % e.http)
        run.http_paths[(e.type, e.http.path, e.http.status)] += 1
    elif e.type == goprof.EVENT_GC_CYCLE:
        run.gc.append(e)
    elif e.type == goprof.EVENT_TCP_CONNECT:
        run.tcp_remote.add(str(goprof.address(e.tcp_family, e.tcp_remote_addr)))
    elif e.type in (goprof.EVENT_PROCESS_EXEC, goprof.EVENT_PROCESS_EXIT):
        check(e.process is not None and e.process.pid == e.pid, "process %r" % e.process)
        run.process_events.append(e)
    elif e.type == goprof.EVENT_PROBE_DETACHED:
        print("note: probes detached: %s" % e.message)


def on_sample(run, s):
    run.samples += 1
    check(len(s.comm) > 0 and len(s.user_ips) == s.nr_user_ips, "sample %r" % s)
    if s.flags & goprof.SAMPLE_GO and s.goid:
        run.go_samples += 1
        if len(run.symbolized) < 200:
            run.symbolized.append([f.function for f in run.session.symbolize_sample(s)])


def profile_allcaps(path):
    run = Run()
    s = run.session = new_session(
        cpu_freq_hz=199, features=RUNTIME, overhead_budget_bp=10000,
        cpu_profile_flags=goprof.CPU_PROFILE_TIMESTAMPS | goprof.CPU_PROFILE_THREADS,
        on_sample=lambda smp: on_sample(run, smp), on_event=lambda e: on_event(run, e))
    child = subprocess.Popen([path, "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        check(child.stdout.readline().strip() == "waiting", "allcaps did not start")
        s.attach_exe(path)
        s.start()
        child.stdin.write("go\n")
        child.stdin.flush()
        done, deadline = "", time.monotonic() + 60
        while not done and time.monotonic() < deadline:
            s.poll(50)  # as a host's loop would, while the target runs
            if select.select([child.stdout], [], [], 0)[0]:
                done = child.stdout.readline().strip()
        check(done.startswith("done"), "allcaps did not finish: %r" % done)
        for _ in range(4):
            s.poll(50)
        # While the leaked goroutines live (the fixture waits for stdin to close).
        run.goroutines = s.snapshot_goroutines(min_age_ns=0)
        run.sites = s.sched_sites()
        # Read from the runtime's memory, no probe: every goroutine of the process.
        run.snap_pid = child.pid
        with s.take_goroutine_snapshot(child.pid) as snap:
            run.snap_info = snap.info()
            run.snap_goroutines = snap.goroutines()
            run.snap_channels = snap.channels()
        child.stdin.close()
        check(child.wait(20) == 0, "allcaps failed under the probes")
        while s.poll(50) > 0:
            pass
        s.poll(200)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return run, s, child.pid


def check_session(run, s, pid, path):
    ev = run.events
    for t in ("GOROUTINE_CREATE", "GOROUTINE_EXIT", "GC_CYCLE", "TCP_CONNECT", "TCP_ACCEPT",
              "TCP_CLOSE", "HTTP_REQUEST", "HTTP_CLIENT_REQUEST"):
        check(ev[getattr(goprof, "EVENT_" + t)] > 0, "no EVENT_%s through on_event (%r)"
              % (t, dict(ev)))
    check(run.http_paths[(goprof.EVENT_HTTP_REQUEST, "/hello", 200)] >= 20,
          "server requests %r" % run.http_paths)
    # GOPROF_FEATURE_GC reads the runtime's memory by default (GC_FROM_MEMORY): the end
    # of each cycle and its pauses together; the precise mode has the phases too.
    check(all((g.gc_end_ns > g.gc_start_ns and g.gc_trigger in (
        goprof.GC_TRIGGER_HEAP, goprof.GC_TRIGGER_TIME, goprof.GC_TRIGGER_CYCLE))
        if not g.gc_flags & goprof.GC_FROM_MEMORY else
        (g.gc_end_ns > 0 and (g.gc_pause_ns > 0 or g.gc_flags & goprof.GC_PAUSE_UNKNOWN) and
         g.gc_trigger in (goprof.GC_TRIGGER_CYCLE, goprof.GC_TRIGGER_UNKNOWN)) for g in run.gc)
          and any(g.gc_trigger == goprof.GC_TRIGGER_CYCLE for g in run.gc),  # runtime.GC()
          "GC events %r" % run.gc[:2])
    check("127.0.0.1" in run.tcp_remote, "TCP peers %r" % run.tcp_remote)
    exits = [e for e in run.process_events if e.type == goprof.EVENT_PROCESS_EXIT]
    check(len(exits) == 1 and exits[0].pid == pid and
          exits[0].process.flags & goprof.PROCESS_EXITED and
          exits[0].process.go_version.startswith("go1."), "process exit events %r" % exits)
    check(run.samples > 50 and run.go_samples > 0, "%d samples, %d with a goroutine"
          % (run.samples, run.go_samples))
    check(any("main.hot" in fs for fs in run.symbolized),
          "symbolize_sample never gave main.hot (%d stacks)" % len(run.symbolized))

    st = s.stats()
    check(st.sz == goprof.ctypes.sizeof(goprof.SessionStats) and st.cpu_samples > 0 and
          st.samples_delivered == run.samples and st.goroutines_created > 0 and
          st.http_requests > 0 and st.tcp_events > 0 and st.block_events > 0 and
          st.uprobes_installed > 0, "stats %r" % st)
    gc = s.gc_stats()
    check(gc.cycles >= len(run.gc) > 0 and gc.pauses > 0 and
          sum(gc.pause_hist) == gc.pauses and len(gc.cycle_hist) == goprof.GC_HIST_BUCKETS,
          "gc_stats %r" % gc)
    check(s.gc_stats(pid).cycles == gc.cycles, "gc_stats of the pid differs from all")
    sched = s.sched_stats()
    check(sched.waits > 0 and sum(sched.hist) == sched.waits, "sched_stats %r" % sched)
    procs = [p for p in s.processes() if p.pid == pid]
    want = goprof.PROCESS_GO | goprof.PROCESS_BY_EXE | goprof.PROCESS_EXITED
    check(len(procs) == 1 and procs[0].flags & want == want and
          procs[0].go_version.startswith("go1."), "processes %r" % procs)
    threads = [t for t in s.threads() if t.pid == pid]
    check(threads and sum(t.samples for t in threads) > 0, "threads %r" % threads[:3])
    peers = [p for p in s.tcp_peers() if p.pid == pid]
    check(any(str(goprof.address(p.family, p.addr)) == "127.0.0.1" and p.connections > 0
              for p in peers), "tcp_peers %r" % peers[:3])
    chans = [c for c in s.channels() if c.pid == pid]
    check(any(c.blocked_sends + c.blocked_recvs > 0 and len(c.send_hist) ==
              goprof.CHANNEL_HIST_BUCKETS for c in chans), "channels %r" % chans[:2])
    eps = s.http_endpoints()
    check(any(e.kind == goprof.HTTP_SERVER and e.path == "/hello" and e.count >= 20
              for e in eps) and any(e.kind == goprof.HTTP_CLIENT for e in eps),
          "http_endpoints %r" % eps)
    sites = run.sites
    check(len(sites) > 1 and all(st.waits > 0 for _, st in sites), "sched_sites %r" % sites[:1])
    gs = run.snap_goroutines
    check(run.snap_info.goroutines == len(gs) > 1 and run.snap_info.processes == 1,
          "goroutine snapshot: info %r, %d goroutines" % (run.snap_info, len(gs)))
    check(any(g.goid == 1 and g.start_function == "runtime.main" for g in gs) and
          all(g.pid == run.snap_pid for g in gs) and
          any(g.status == goprof.GSTATUS_WAITING and g.wait_reason for g in gs),
          "goroutine snapshot: no main goroutine or no parked one: %r" % gs[:3])
    check(all(c.pid == run.snap_pid for c in run.snap_channels), "snapshot channels %r" % run.snap_channels[:2])
    print("ok: session: %d samples (%d Go), events %s, GC %d cycles, %d endpoints, "
          "%d channels, %d sched sites" % (run.samples, run.go_samples, dict(ev), gc.cycles,
                                           len(eps), len(chans), len(sites)))

    raises(22, s.snapshot_allocs)  # FEATURE_ALLOCS is off: EINVAL with a message
    kinds = {"cpu": s.snapshot_cpu(), "offcpu": s.snapshot_offcpu(),
             "goroutines": run.goroutines, "heap": s.snapshot_heap(),
             "sched": s.snapshot_sched(), "block": s.snapshot_block()}
    for name, prof in kinds.items():
        info = prof.info()
        check(info.nr_samples > 0 and len(prof.samples()) == info.nr_samples,
              "%s profile: %r" % (name, info))
    check(("alloc_space", "bytes") in kinds["heap"].sample_types(),
          "heap types %r" % kinds["heap"].sample_types())
    return kinds


def check_formats(prof, go, fixture_path):
    info = prof.info()
    samples = prof.samples()
    check(info.nr_timestamps > 0 and any(x.timestamps for x in samples) and
          all(len(x.timestamp_values) == len(x.timestamps) for x in samples),
          "CPU_PROFILE_TIMESTAMPS kept no timestamps")
    check(any("thread_id" in goprof.label_dict(x.labels) for x in samples),
          "CPU_PROFILE_THREADS: no thread_id label")
    check(any(goprof.label_dict(x.labels).get("work") == ["hot"] for x in samples),
          "no work=hot pprof label")
    hot = [f for x in samples for f in x.frames if f.function == "main.hot"]
    check(hot and hot[0].mapping_file == fixture_path and len(hot[0].htlhash) == 32,
          "main.hot frames %r" % hot[:1])

    data = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fmt, opts in [
                ("pprof", goprof.FORMAT_PPROF, {}),
                ("pprof-raw", goprof.FORMAT_PPROF, {"flags": goprof.WRITE_PPROF_UNCOMPRESSED}),
                ("folded", goprof.FORMAT_FOLDED, {"flags": goprof.WRITE_FOLDED_UNIT}),
                ("svg", goprof.FORMAT_SVG, {"title": "Python flame graph"}),
                ("otlp", goprof.FORMAT_OTLP, {"service_name": "py", "pid": 1234,
                                              "resource_attrs": {"host.name": "test"},
                                              "link_keys": []})]:
            b = prof.write(fmt, **opts)
            buf = io.BytesIO()
            check(prof.write(fmt, out=buf, **opts) is None and buf.getvalue() == b,
                  "%s: write(out=) differs from write()" % name)
            f = os.path.join(tmp, name)
            prof.write_file(fmt, f, **opts)
            check(open(f, "rb").read() == b, "%s: write_file differs from write()" % name)
            data[name] = b
        check(data["pprof"][:2] == b"\x1f\x8b" and
              gzip.decompress(data["pprof"]) == data["pprof-raw"], "pprof vs uncompressed")
        check(data["folded"].startswith(b"# goprof folded stacks: ") and
              b";main.hot " in data["folded"], "folded: %r" % data["folded"][:200])
        check(data["svg"].lstrip().startswith((b"<?xml", b"<svg")) and
              b"Python flame graph" in data["svg"] and b"main.hot" in data["svg"], "svg")
        check(all(k in data["otlp"] for k in (b"service.name", b"host.name", b"main.hot")),
              "otlp lacks the resource or main.hot")
        raises(22, prof.write, 99)  # an unknown format

        class Broken:
            def write(self, chunk):
                raise OSError(28, "disk full")
        try:
            prof.write(goprof.FORMAT_SVG, out=Broken())
            check(False, "the out object's exception was swallowed")
        except OSError as e:
            check(e.errno == 28 and not isinstance(e, goprof.Error), "out error %r" % e)

        # Go reads the pprof bytes Python received, with the counts foreach_sample gave.
        if not os.access(go, os.X_OK):
            skip("no Go toolchain at " + go)
        f = os.path.join(tmp, "pprof")
        env = dict(os.environ, HOME="/tmp", GOTOOLCHAIN="local")
        raw = subprocess.run([go, "tool", "pprof", "-raw", f], capture_output=True,
                             text=True, cwd="/tmp", env=env)
        check(raw.returncode == 0, "go tool pprof -raw failed: " + raw.stderr)
        rows = raw.stdout.split("\nSamples:\n", 1)[1].split("\nLocations\n", 1)[0]
        count = sum(int(line.split()[0]) for line in rows.splitlines()[1:]
                    if line.split() and line.split()[0].isdigit())
        total = sum(x.values[0] for x in samples)
        check(count == total and "main.hot" in raw.stdout,
              "pprof -raw counts %d samples, foreach_sample %d" % (count, total))
    print("ok: formats: %s; go tool pprof reads %d samples" % (
        ", ".join("%s %d B" % (k, len(v)) for k, v in data.items()), total))


def test_second_session(busy):
    """attach_all with a filter, attach_pid, detach_pid, fd(), stop, a raising on_sample."""
    seen = []
    state = {"raise": False}

    def on_sample(smp):
        if state["raise"]:
            raise RuntimeError("raised in on_sample")

    def start(secs):
        c = subprocess.Popen([busy, "1", str(secs)], stdout=subprocess.PIPE, text=True)
        check(c.stdout.readline().startswith("ready"), "busy did not start")
        return c

    a = start(20)
    b = start(20)
    # The two features the allcaps session leaves out (HTTP_WIRE excludes HTTP).
    s = new_session(cpu_freq_hz=199, on_sample=on_sample, overhead_budget_bp=10000,
                    features=goprof.FEATURE_ALLOCS | goprof.FEATURE_HTTP_WIRE)
    try:
        def only_a(pid, comm):
            seen.append((pid, comm))
            return pid != a.pid  # non-zero leaves the process out
        s.attach_all(flags=goprof.ATTACH_ALL_GO_ONLY, filter=only_a)
        check(any(p == a.pid and c for p, c in seen),
              "the filter was not asked about %d: %r" % (a.pid, seen[:5]))
        raises(22, s.attach_pid, -1)
        s.attach_pid(b.pid)
        s.start()
        raises(114, s.start)  # EALREADY
        r, _, _ = select.select([s], [], [], 2.0)  # fileno() is fd()
        check(s.fd() >= 0, "fd")
        deadline = time.monotonic() + 10
        while s.stats().samples_delivered < 20 and time.monotonic() < deadline:
            s.poll(100)
        procs = {p.pid: p for p in s.processes()}
        check(a.pid in procs and procs[a.pid].flags & goprof.PROCESS_BY_ALL and
              b.pid in procs and not procs[b.pid].flags & goprof.PROCESS_BY_ALL,
              "processes %r" % procs)
        check(s.stats().processes_filtered > 0, "processes_filtered is 0")
        with s.snapshot_allocs() as allocs:  # busy allocates next to nothing
            check(allocs.sample_types()[0] == ("alloc_objects", "count"), "allocs types %r"
                  % allocs.sample_types())
        check(s.http_endpoints() == [], "HTTP endpoints of a program without HTTP")
        s.detach_pid(b.pid)
        raises(2, s.detach_pid, b.pid)
        state["raise"] = True
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                s.poll(100)
            check(False, "poll() did not raise the on_sample exception")
        except RuntimeError as e:
            check(str(e) == "raised in on_sample", repr(e))
        s.stop()
        raises(114, s.stop)
    finally:
        for c in (a, b):
            c.kill()
            c.wait()
        s.close()
    s.close()  # twice is fine
    try:
        s.poll()
        check(False, "a closed Session was used")
    except ValueError:
        pass
    print("ok: attach_all (filter asked about %d processes), attach_pid, detach_pid, "
          "fd, stop, on_sample's exception from poll()" % len(seen))


def main():
    print("libgoprof", goprof.version_string(), "from", os.environ.get("GOPROF_LIB"))
    allcaps, ver = fixture("allcaps")
    busy, _ = fixture("busy")
    go = "/opt/libgoprof/go-%s/bin/go" % ver
    test_version_and_errors()
    test_symbolizer(allcaps, ver)
    run, s, pid = profile_allcaps(allcaps)
    with s:
        kinds = check_session(run, s, pid, allcaps)
    # Profiles outlive their session.
    check_formats(kinds["cpu"], go, allcaps)
    for prof in kinds.values():
        prof.close()
    test_second_session(busy)
    print("ok")


if __name__ == "__main__":
    main()
