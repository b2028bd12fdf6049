// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The session object: loads the BPF programs, keeps the set of attached processes in
 * the kernel's target map, runs the CPU sampler and delivers ring-buffer samples.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "goprof/error.h"
#include "goprof/session.h"
#include "goprof_bpf.h"
#include "cpu_sample.skel.h"
#include "core/bpf_load.h"
#include "core/bpf_maps.h"
#include "caps/cpu/cpu_table.h"
#include "go/go_probes.h"
#include "core/probe_budget.h"
#include "caps/rtstats/rtstats.h"
#include "go/rt_reader.h"
#include "caps/goroutines/cap.h"
#include "caps/gsnap/cap.h"
#include "internal.h"
#include "caps/cpu/perf_sampler.h"
#include "core/proc.h"
#include "sym/symbolizer_internal.h"
#include "core/target.h"
#include "core/cap_set.h"
#include "go/wait_reasons.h"

#define DEFAULT_FREQ_HZ 99
#define MAX_FREQ_HZ 10000
#define DEFAULT_RINGBUF_KIB 1024

/* A process attached directly or found through an attached executable. */
struct attached_process {
	struct goprof_process_info info;
	char comm[GOPROF_COMM_LEN]; /* process name: the root frame of folded stacks */
	int exe;       /* index in exes[] when found through an attached executable, else -1 */
	bool attached; /* still in the kernel's target map */
	bool detached; /* by goprof_session_detach_pid(): attach_all does not take it back */
	dev_t exe_dev; /* its executable (stat of /proc/PID/exe at attach or exec) */
	ino_t exe_ino;
	const struct gp_wait_reasons *wait; /* Go release's wait reasons, NULL if unknown */
	/* Runtime layout still undecided (process seen before its runtime started, or with
	 * no goroutine on a thread): looked at again at revalidate_next_ns, every
	 * REVALIDATE_EVERY_NS until revalidate_until_ns, then every REVALIDATE_LATER_NS
	 * (CLOCK_MONOTONIC); revalidate_until_ns 0 when decided. */
	uint64_t revalidate_until_ns, revalidate_next_ns;
	/* Re-judgements in a row that found the layout wrong: a goroutine moving between
	 * threads while we read can fail one pass, so context goes off after a few. */
	uint32_t revalidate_failures;
};

/*
 * A process exec'd a moment ago has no goroutines to validate a layout against yet, and
 * an idle one may have none on a thread: looked at often for a while, then once a second.
 */
#define REVALIDATE_FOR_NS 5000000000ull
#define REVALIDATE_EVERY_NS 50000000ull
#define REVALIDATE_LATER_NS 1000000000ull
#define REVALIDATE_FAILURES 3

/* An executable attached by path. */
struct attached_exe {
	uint64_t dev, ino;         /* the kernel's dev_t and inode */
	struct goprof_binary *bin; /* for processes gone before their maps were read; ET_EXEC only */
	dev_t st_dev;              /* dev as stat() gives it */
	struct gp_target target;   /* inspected at attach: what its processes get */
	struct goprof_process_info info; /* ... and what they are listed as */
};

/* Exited processes kept for goprof_session_foreach_process(); older ones are dropped. */
#define MAX_EXITED_PROCESSES 256

struct goprof_session {
	struct gp_cap_set caps; /* first: gp_session_cap() finds it here */
	struct cpu_sample_bpf *skel;
	struct ring_buffer *ringbuf;
	struct gp_perf_sampler sampler;
	struct goprof_symbolizer *sym;
	struct gp_cpu_table *cpu;
	struct gp_go_probes *go_probes;   /* GOPROF_FEATURE_GOROUTINES */
	struct gp_probe_budget budget;
	struct gp_shared_maps shared; /* the CPU sampler's maps other BPF objects reuse */
	struct gp_host host;          /* what the capabilities share */
	uint32_t features;
	bool kernel_stacks;
	goprof_event_fn on_event;
	bool started;
	unsigned freq_hz;
	unsigned attached;
	unsigned nr_exes;
	uint64_t delivered, lost_aggregation, exited;
	uint64_t unreadable; /* processes inspected without access (GOPROF_PROCESS_NO_ACCESS) */
	uint64_t events_delivered, ringbuf_high_water, ringbuf_bytes;
	/* take_in_records(): records taken in this call, and when it must hand back */
	unsigned taken_in_call;
	int64_t take_in_until_ns;
	bool yielded;
	goprof_sample_fn on_sample;
	void *ctx;
	const struct gp_sample_event *current; /* the record on_sample is looking at */

	struct attached_process *procs;
	size_t nr_procs, procs_cap;
	struct attached_exe *exes;
	size_t nr_exes_cap;

	/* goprof_session_attach_all(): all_max is 0 until it is called */
	uint32_t all_flags, all_max;
	goprof_attach_filter_fn all_filter;
	void *all_ctx;
	uint64_t over_limit, filtered;
};

/*
 * libbpf's messages: the last warning is kept per thread so that a load failure can be
 * summarised in goprof_last_error() instead of a verifier dump on stderr. Everything is
 * printed when GOPROF_DEBUG is set in the environment.
 */
static __thread char libbpf_last_warning[256];
static bool libbpf_debug;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_debug)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last_warning, sizeof(libbpf_last_warning), fmt, ap);
		libbpf_last_warning[strcspn(libbpf_last_warning, "\n")] = '\0';
	}
	return 0;
}

static void libbpf_setup_once(void)
{
	libbpf_debug = getenv("GOPROF_DEBUG") != NULL;
	libbpf_set_print(libbpf_print);
}

/* Features served by the Go runtime uprobes (lib/go/go_probes.c). */
#define PROBE_FEATURES (GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP | \
			GOPROF_FEATURE_SCHED | GOPROF_FEATURE_ALLOCS | GOPROF_FEATURE_BLOCK | \
			GOPROF_FEATURE_CHANNELS | GOPROF_FEATURE_HTTP)
#define KNOWN_FEATURES (PROBE_FEATURES | GOPROF_FEATURE_OFFCPU | GOPROF_FEATURE_TCP | \
			GOPROF_FEATURE_HTTP_WIRE | GOPROF_FEATURE_GC_PRECISE | \
			GOPROF_FEATURE_SCHED_PRECISE | GOPROF_FEATURE_GOROUTINE_SNAPSHOTS)
/* GC and scheduling latency come from the runtime's memory unless the precise mode is asked for. */
#define GC_FROM_MEMORY(f) (((f) & GOPROF_FEATURE_GC) && !((f) & GOPROF_FEATURE_GC_PRECISE))
#define SCHED_FROM_MEMORY(f) (((f) & GOPROF_FEATURE_SCHED) && !((f) & GOPROF_FEATURE_SCHED_PRECISE))
#define HTTP_FEATURES (GOPROF_FEATURE_HTTP | GOPROF_FEATURE_HTTP_WIRE)
#define KNOWN_CPU_PROFILE_FLAGS (GOPROF_CPU_PROFILE_TIMESTAMPS | GOPROF_CPU_PROFILE_THREADS)
#define DEFAULT_CPU_TIMESTAMPS_MAX 65536

struct session_config {
	const struct goprof_session_opts *opts; /* checked: capabilities read their own */
	unsigned freq_hz, ringbuf_kib, user_depth, kernel_depth;
	uint32_t features, budget_bp;
	uint32_t cpu_flags, cpu_timestamps_max;
};

static int validate_depth(uint32_t depth, const char *field, bool allow_none, unsigned *out)
{
	if (allow_none && depth == GOPROF_NO_KERNEL_STACKS) {
		*out = 0;
		return 0;
	}
	if (depth > GP_MAX_STACK_DEPTH)
		return gp_err(-EINVAL, "goprof_session_opts.%s: %u frames is above the maximum "
				       "of %d", field, depth, GP_MAX_STACK_DEPTH);
	*out = depth ? depth : GP_MAX_STACK_DEPTH;
	return 0;
}

/*
 * The ring buffer holds what arrives while the poller is busy elsewhere (a first sample
 * loading a binary's symbols, a burst of execs). A full-depth sample takes about 2 KiB:
 * one second of every CPU sampling at freq_hz, doubled when runtime events share the
 * ring, at least DEFAULT_RINGBUF_KIB. 2 CPUs at 99 Hz: 1 MiB; 64 CPUs: 32 MiB.
 */
static unsigned default_ringbuf_kib(unsigned freq_hz, uint32_t features)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t kib = (uint64_t)(ncpus > 0 ? ncpus : 1) * freq_hz * 2;
	unsigned pow2 = DEFAULT_RINGBUF_KIB;

	if (features & ~(uint32_t)(GOPROF_FEATURE_OFFCPU | GOPROF_FEATURE_TCP))
		kib *= 2; /* goroutine, GC, heap, blocking, HTTP records */
	while (pow2 < kib && pow2 < (256u << 10))
		pow2 <<= 1;
	return pow2;
}

static int validate_opts(const struct goprof_session_opts *opts, struct session_config *cfg)
{
	unsigned *freq_hz = &cfg->freq_hz, *ringbuf_kib = &cfg->ringbuf_kib;
	int err = OPTS_VALID(opts, goprof_session_opts, goroutine_leak_age_ms);

	if (err)
		return err;
	*freq_hz = OPTS_GET(opts, cpu_freq_hz, 0) ?: DEFAULT_FREQ_HZ;
	if (*freq_hz > MAX_FREQ_HZ)
		return gp_err(-EINVAL, "goprof_session_opts.cpu_freq_hz: %u Hz is above the "
				       "maximum of %u Hz", *freq_hz, MAX_FREQ_HZ);
	*ringbuf_kib = OPTS_GET(opts, ringbuf_kib, 0) ?: default_ringbuf_kib(*freq_hz,
									       OPTS_GET(opts, features, 0));
	if (*ringbuf_kib < 4 || (*ringbuf_kib & (*ringbuf_kib - 1)) || *ringbuf_kib > (1u << 20))
		return gp_err(-EINVAL, "goprof_session_opts.ringbuf_kib: %u is not a power of two "
				       "between 4 and 1048576", *ringbuf_kib);
	err = validate_depth(OPTS_GET(opts, user_stack_depth, 0), "user_stack_depth", false,
			     &cfg->user_depth);
	if (!err)
		err = validate_depth(OPTS_GET(opts, kernel_stack_depth, 0), "kernel_stack_depth",
				     true, &cfg->kernel_depth);
	cfg->features = OPTS_GET(opts, features, 0);
	if (cfg->features & GOPROF_FEATURE_GC_PRECISE)
		cfg->features |= GOPROF_FEATURE_GC;
	if (cfg->features & GOPROF_FEATURE_SCHED_PRECISE)
		cfg->features |= GOPROF_FEATURE_SCHED;
	if (!err && cfg->features & ~KNOWN_FEATURES)
		err = gp_err(-EINVAL, "goprof_session_opts.features: unknown flags 0x%x",
			     cfg->features & ~KNOWN_FEATURES);
	if (!err && (cfg->features & HTTP_FEATURES) == HTTP_FEATURES)
		err = gp_err(-EINVAL, "goprof_session_opts.features: GOPROF_FEATURE_HTTP and "
				      "GOPROF_FEATURE_HTTP_WIRE trace the same requests; choose one");
	if (!err && cfg->features & GOPROF_FEATURE_CHANNELS && !(cfg->features & GOPROF_FEATURE_BLOCK))
		err = gp_err(-EINVAL, "goprof_session_opts.features: GOPROF_FEATURE_CHANNELS needs "
				      "GOPROF_FEATURE_BLOCK (blocked channel operations are timed by "
				      "the blocking probes)");
	cfg->budget_bp = OPTS_GET(opts, overhead_budget_bp, 0);
	if (!err && cfg->budget_bp > 10000)
		err = gp_err(-EINVAL, "goprof_session_opts.overhead_budget_bp: %u is above 10000 "
				      "(100%% of the targets' CPU)", cfg->budget_bp);
	cfg->cpu_flags = OPTS_GET(opts, cpu_profile_flags, 0);
	if (!err && cfg->cpu_flags & ~KNOWN_CPU_PROFILE_FLAGS)
		err = gp_err(-EINVAL, "goprof_session_opts.cpu_profile_flags: unknown flags 0x%x "
				      "(expected GOPROF_CPU_PROFILE_*)",
			     cfg->cpu_flags & ~KNOWN_CPU_PROFILE_FLAGS);
	cfg->cpu_timestamps_max = OPTS_GET(opts, cpu_timestamps_max, 0) ?: DEFAULT_CPU_TIMESTAMPS_MAX;
	cfg->opts = opts;
	return err ? err : gp_caps_validate(opts, cfg->features);
}

static struct attached_process *find_process(struct goprof_session *s, uint32_t pid)
{
	/* Newest first: a reused PID refers to the latest process. */
	for (size_t i = s->nr_procs; i-- > 0;)
		if (s->procs[i].info.pid == pid)
			return &s->procs[i];
	return NULL;
}

static struct attached_process *add_process(struct goprof_session *s, uint32_t pid)
{
	struct attached_process *p;

	if (s->nr_procs == s->procs_cap) {
		size_t cap = s->procs_cap ? 2 * s->procs_cap : 16;

		p = realloc(s->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		s->procs = p;
		s->procs_cap = cap;
	}
	p = &s->procs[s->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->info.sz = sizeof(p->info);
	p->info.pid = pid;
	p->exe = -1;
	return p;
}

static int ignore_frame(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	return 0;
}

static struct goprof_binary *exe_of_pid(void *ctx, uint32_t pid)
{
	struct goprof_session *s = ctx;
	struct attached_process *p = find_process(s, pid);

	return p && p->exe >= 0 ? s->exes[p->exe].bin : NULL;
}

static void read_comm(const char *path, char comm[GOPROF_COMM_LEN])
{
	FILE *f = fopen(path, "re");

	comm[0] = '\0';
	if (f) {
		if (fgets(comm, GOPROF_COMM_LEN, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

/* Installs the goroutine probes on a Go executable when the session wants them. */
static void attach_go_probes(struct goprof_session *s, const char *exe, int pid,
			     const struct gp_target *t, struct goprof_process_info *info)
{
	char saved[sizeof(info->note)];
	uint32_t notes = 0;

	if (!s->go_probes || !t->is_go)
		return;
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	if (gp_go_probes_attach_exe(s->go_probes, exe, pid, &notes) == 0 &&
	    gp_go_probes_attach_pid(s->go_probes, exe, (int)info->pid) == 0) /* GC/sched: precise */
		info->flags |= GOPROF_PROCESS_RUNTIME_PROBES;
	else
		snprintf(info->note, sizeof(info->note), "no Go runtime probes: %s", goprof_last_error());
	if (s->features & GOPROF_FEATURE_HTTP && info->flags & GOPROF_PROCESS_RUNTIME_PROBES) {
		if (notes & GP_NOTE_HTTP_OFF)
			snprintf(info->note, sizeof(info->note), "no HTTP tracing: %s",
				 gp_go_probes_http_note(s->go_probes));
		else
			info->flags |= GOPROF_PROCESS_HTTP;
	}
	if (notes & GP_NOTE_HEAP_OFF) {
		info->flags |= GOPROF_PROCESS_HEAP_OFF;
		snprintf(info->note, sizeof(info->note), "heap profile empty: the Go linker turned "
			 "memory profiling off in this binary (nothing in it reads a heap profile, "
			 "so MemProfileRate is 0)");
	}
	gp_err(0, "%s", saved);
}

/*
 * The process's executable, maps and memory are closed to us: another user's process and
 * no CAP_SYS_PTRACE (or a stricter ptrace policy: Yama, an LSM). Say what is lost.
 */
static void no_access(struct goprof_session *s, struct attached_process *p, struct gp_target *t)
{
	char dir[32];
	struct stat st;

	memset(t, 0, sizeof(*t));
	p->info.flags &= ~(GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES);
	p->info.go_version[0] = '\0';
	snprintf(dir, sizeof(dir), "/proc/%u", p->info.pid);
	if (!(p->info.flags & GOPROF_PROCESS_NO_ACCESS))
		s->unreadable++;
	p->info.flags |= GOPROF_PROCESS_NO_ACCESS;
	if (stat(dir, &st) == 0 && st.st_uid != geteuid())
		snprintf(p->info.note, sizeof(p->info.note),
			 "uid %u's process, unreadable: needs CAP_SYS_PTRACE or uid %u; lost: Go "
			 "detection, goroutines, runtime/HTTP probes, user symbols",
			 (unsigned)st.st_uid, (unsigned)st.st_uid);
	else
		snprintf(p->info.note, sizeof(p->info.note),
			 "/proc/%u/exe unreadable (ptrace access denied: CAP_SYS_PTRACE, Yama or "
			 "an LSM); lost: Go detection, goroutines, probes, user symbols",
			 p->info.pid);
}

/* Tells the capabilities that p is followed (attached, or its new image inspected). */
static void capabilities_add(struct goprof_session *s, const struct attached_process *p)
{
	const struct gp_process_view view = { p->info.pid, p->info.flags,
					      p->info.go_version[0] ? p->info.go_version : NULL };

	gp_caps_process_added(&s->caps, &view);
}

/* Flags that inspecting an executable sets (the others describe the process). */
#define INSPECT_FLAGS (GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_RUNTIME_PROBES | \
		       GOPROF_PROCESS_HTTP | GOPROF_PROCESS_HEAP_OFF | GOPROF_PROCESS_NO_ACCESS)

/* Reads the process's executable and tells the BPF side how to read its goroutines. */
static void inspect_process(struct goprof_session *s, struct attached_process *p, struct gp_target *t)
{
	uint64_t probe = 0, now;
	struct stat st;
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%u/comm", p->info.pid);
	read_comm(exe, p->comm);
	if (p->exe >= 0 && (size_t)p->exe < s->nr_exes) {
		/*
		 * It exec'd an executable attached by path (the kernel matched its device and
		 * inode): that file was inspected, and its probes placed, at attach. Reuse
		 * that rather than /proc/PID/exe, which a short-lived process may have left
		 * already (it would then be listed "not Go").
		 */
		const struct attached_exe *e = &s->exes[p->exe];

		*t = e->target;
		p->info.flags = (p->info.flags & ~INSPECT_FLAGS) | (e->info.flags & INSPECT_FLAGS);
		gp_strlcpy(p->info.go_version, e->info.go_version, sizeof(p->info.go_version));
		gp_strlcpy(p->info.note, e->info.note, sizeof(p->info.note));
		p->exe_dev = e->st_dev;
		p->exe_ino = (ino_t)e->ino;
		p->wait = gp_wait_reasons_find(p->info.go_version);
		/* The runtime layout is the process's to prove: judged once its runtime runs. */
		if (p->info.flags & GOPROF_PROCESS_GO) {
			now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
			p->revalidate_until_ns = now + REVALIDATE_FOR_NS;
			p->revalidate_next_ns = now + REVALIDATE_EVERY_NS;
		}
		goprof_symbolizer_symbolize_pid(s->sym, (int)p->info.pid, &probe, 1, ignore_frame, NULL);
		capabilities_add(s, p);
		if (s->go_probes && p->info.flags & GOPROF_PROCESS_RUNTIME_PROBES) {
			/* the precise GC/scheduling probes are the process's own (PID-filtered) */
			snprintf(exe, sizeof(exe), "/proc/%u/exe", p->info.pid);
			gp_go_probes_attach_pid(s->go_probes, exe, (int)p->info.pid);
		}
		return;
	}
	snprintf(exe, sizeof(exe), "/proc/%u/exe", p->info.pid);
	if (stat(exe, &st) == 0) {
		p->exe_dev = st.st_dev;
		p->exe_ino = st.st_ino;
	} else if (errno == EACCES || errno == EPERM) {
		no_access(s, p, t);
		return;
	}
	p->info.flags &= ~GOPROF_PROCESS_NO_ACCESS;
	now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
	p->revalidate_until_ns = 0;
	if (gp_target_inspect(exe, (int)p->info.pid, t, &p->info) == GP_TARGET_UNDECIDED) {
		p->revalidate_until_ns = now + REVALIDATE_FOR_NS;
		p->revalidate_next_ns = now + REVALIDATE_EVERY_NS;
	}
	p->wait = gp_wait_reasons_find(p->info.go_version); /* NULL: numeric reasons */
	attach_go_probes(s, exe, (int)p->info.pid, t, &p->info); /* this process only */
	/* Read the mappings now: a short-lived process may be gone when its samples arrive. */
	goprof_symbolizer_symbolize_pid(s->sym, (int)p->info.pid, &probe, 1, ignore_frame, NULL);
	capabilities_add(s, p);
}

static void release_exe_probes(struct goprof_session *s, const struct attached_process *gone);

/* GOPROF_EVENT_PROCESS_EXEC or _EXIT about p: the callback's answer. */
static int process_event(struct goprof_session *s, uint32_t type, const struct attached_process *p)
{
	struct goprof_event ev = { .sz = sizeof(ev), .type = type, .pid = p->info.pid,
				   .time_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC),
				   .process = &p->info };

	return s->on_event ? s->on_event(&ev, s->ctx) : 0;
}

/* Removes a process from the list (one left out by goprof_session_attach_all()). */
static void drop_process(struct goprof_session *s, struct attached_process *p)
{
	size_t i = (size_t)(p - s->procs);

	memmove(p, p + 1, (s->nr_procs - i - 1) * sizeof(*p));
	s->nr_procs--;
}

/*
 * goprof_session_attach_all(): is a process that started running (in the kernel's target
 * table already, as a plain process) to be followed? If not, it leaves the table.
 */
static bool follow_new(struct goprof_session *s, uint32_t pid, const char *comm)
{
	char name[GOPROF_COMM_LEN];
	__u32 key = pid;

	if (!s->all_max)
		return false; /* not from attach_all: an exec record of a process we let go */
	gp_strlcpy(name, comm, sizeof(name));
	if (s->attached >= s->all_max) {
		s->over_limit++;
	} else if (s->all_filter && s->all_filter((int)pid, name, s->all_ctx)) {
		s->filtered++;
	} else {
		return true;
	}
	bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0);
	return false;
}

static int handle_exec(struct goprof_session *s, const struct gp_exec_event *ev)
{
	struct attached_process *p = find_process(s, ev->pid), before;
	struct gp_target t;
	__u32 key = ev->pid;

	if (p && p->info.flags & GOPROF_PROCESS_EXITED)
		p = NULL; /* a new process with a reused PID */
	if (p && p->detached && !ev->exe.ino) {
		/* Detached by the caller: attach_all's exec hook does not take it back. */
		bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0);
		return 0;
	}
	if (p && !p->attached) { /* detached, now running an executable attached by path */
		p->attached = true;
		p->detached = false;
		s->attached++;
	}
	if (!p && !ev->exe.ino && !follow_new(s, ev->pid, ev->comm))
		return 0; /* started under goprof_session_attach_all(), and not wanted */
	if (!p) {
		p = add_process(s, ev->pid);
		if (!p)
			return 0;
		p->info.flags |= ev->exe.ino ? GOPROF_PROCESS_BY_EXE : GOPROF_PROCESS_BY_ALL;
		p->attached = true;
		s->attached++;
	}
	before = *p;
	p->exe = -1; /* the new image is an attached executable, or not */
	for (size_t i = 0; ev->exe.ino && i < s->nr_exes; i++)
		if (s->exes[i].dev == ev->exe.dev && s->exes[i].ino == ev->exe.ino)
			p->exe = (int)i;
	/* The old image's mappings and Go settings are gone with the exec. */
	goprof_symbolizer_forget_pid(s->sym, (int)ev->pid);
	gp_go_probes_detach_pid(s->go_probes, (int)ev->pid);
	gp_caps_process_gone(&s->caps, ev->pid, GP_PROCESS_EXECED);
	inspect_process(s, p, &t);
	if (before.exe_ino && (before.exe_ino != p->exe_ino || before.exe_dev != p->exe_dev))
		release_exe_probes(s, &before); /* its old image's probes, if no one else runs it */
	bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_EXIST);
	if (p->info.flags & GOPROF_PROCESS_BY_ALL && s->all_flags & GOPROF_ATTACH_ALL_GO_ONLY &&
	    !(p->info.flags & GOPROF_PROCESS_GO)) {
		goprof_session_detach_pid(s, (int)ev->pid);
		drop_process(s, find_process(s, ev->pid));
		s->filtered++;
		gp_clear_error();
		return 0;
	}
	return process_event(s, GOPROF_EVENT_PROCESS_EXEC, p);
}

/* Keeps the MAX_EXITED_PROCESSES most recent exited processes in the list. */
static void prune_exited(struct goprof_session *s)
{
	size_t exited = 0, kept = 0;

	for (size_t i = 0; i < s->nr_procs; i++)
		exited += !s->procs[i].attached;
	for (size_t i = 0; i < s->nr_procs; i++) {
		if (!s->procs[i].attached && exited > MAX_EXITED_PROCESSES) {
			exited--;
			continue;
		}
		s->procs[kept++] = s->procs[i];
	}
	s->nr_procs = kept;
}

static uint64_t kernel_dev(dev_t dev);

/*
 * A process attached by PID has probes of its own (placed in it alone): they go with it.
 * An executable attached by path has probes every process running it traps on: they go
 * when no attached process runs it and it is no longer attached by path.
 */
static void release_exe_probes(struct goprof_session *s, const struct attached_process *gone)
{
	if (!s->go_probes || !gone->exe_ino)
		return;
	gp_go_probes_detach_exe(s->go_probes, gone->exe_dev, gone->exe_ino, (int)gone->info.pid);
	for (size_t i = 0; i < s->nr_procs; i++)
		if (s->procs[i].attached && s->procs[i].exe_dev == gone->exe_dev &&
		    s->procs[i].exe_ino == gone->exe_ino)
			return;
	for (size_t i = 0; i < s->nr_exes; i++)
		if (s->exes[i].dev == kernel_dev(gone->exe_dev) && s->exes[i].ino == gone->exe_ino)
			return;
	gp_go_probes_detach_exe(s->go_probes, gone->exe_dev, gone->exe_ino, 0);
}

static int handle_exit(struct goprof_session *s, const struct gp_exec_event *ev)
{
	struct attached_process *p = find_process(s, ev->pid);
	int ret;

	if (!p || !p->attached)
		return 0;
	s->exited++;
	/* The kernel already dropped it from the target map; symbols stay for its samples. */
	p->attached = false;
	p->info.flags |= GOPROF_PROCESS_EXITED;
	s->attached--;
	release_exe_probes(s, p);
	/* Its samples are in (the ring buffer keeps order): drop what the PID's reuse would
	 * get wrong, and what would grow with every process that comes and goes. */
	gp_go_probes_detach_pid(s->go_probes, (int)ev->pid); /* its own precise GC/sched probes */
	gp_cpu_table_forget_pid(s->cpu, ev->pid);
	gp_caps_process_gone(&s->caps, ev->pid, GP_PROCESS_EXITED);
	goprof_symbolizer_forget_pid(s->sym, (int)ev->pid);
	ret = process_event(s, GOPROF_EVENT_PROCESS_EXIT, p);
	prune_exited(s);
	return ret;
}

static int deliver_sample(struct goprof_session *s, const struct gp_sample_event *ev)
{
	struct goprof_profile_label labels[GP_MAX_LABELS];
	const struct goprof_profile_label *label_ptrs[GP_MAX_LABELS];
	struct goprof_sample sample = { .sz = sizeof(sample) };
	uint32_t nr_labels = GP_MIN(ev->nr_labels, GP_MAX_LABELS);
	int ret;

	sample.pid = ev->pid;
	sample.tid = ev->tid;
	sample.cpu = ev->cpu;
	sample.time_ns = ev->time_ns;
	memcpy(sample.comm, ev->comm, sizeof(sample.comm));
	sample.comm[sizeof(sample.comm) - 1] = '\0';
	sample.goid = ev->goid;
	sample.flags = ev->flags; /* GP_SAMPLE_F_* equal GOPROF_SAMPLE_* */
	for (uint32_t i = 0; i < nr_labels; i++) {
		labels[i] = (struct goprof_profile_label){
			.sz = sizeof(labels[i]),
			.key = ev->labels[i].key,
			.str = ev->labels[i].value,
			.num_unit = "",
		};
		label_ptrs[i] = &labels[i];
	}
	sample.nr_labels = nr_labels;
	sample.labels = label_ptrs;
	sample.nr_user_ips = GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH);
	sample.nr_kernel_ips = GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH);
	sample.user_ips = (const uint64_t *)ev->stack;
	sample.kernel_ips = (const uint64_t *)ev->stack + sample.nr_user_ips;
	s->current = ev;
	ret = s->on_sample(&sample, s->ctx);
	s->current = NULL;
	return ret;
}

/* Buffer pressure: the most data ever found waiting while records are taken in. */
static void note_ringbuf_fill(struct goprof_session *s)
{
	struct ring *r = ring_buffer__ring(s->ringbuf, 0);

	if (r)
		s->ringbuf_high_water = GP_MAX(s->ringbuf_high_water, (uint64_t)ring__avail_data_size(r));
}

static int dispatch_record(void *ctx, void *data, size_t len)
{
	struct goprof_session *s = ctx;
	const struct gp_sample_event *ev = data;
	const struct gp_cap_slot *cap;
	struct attached_process *proc;

	if (len < sizeof(uint32_t))
		return 0;
	cap = gp_caps_record_taker(&s->caps, ev->type);
	if (ev->type != GP_REC_SAMPLE && !(cap && cap->ops->counts_own_records))
		s->events_delivered++;
	note_ringbuf_fill(s); /* two loads: what is still waiting behind this record */
	if (cap)
		return cap->ops->take_record(cap->state, data, len);
	switch (ev->type) {
	case GP_REC_EXEC:
		return len >= sizeof(struct gp_exec_event) ? handle_exec(s, data) : 0;
	case GP_REC_EXIT:
		return len >= sizeof(struct gp_exec_event) ? handle_exit(s, data) : 0;
	case GP_REC_SAMPLE:
		if (len < GP_SAMPLE_EVENT_HEADER_SIZE ||
		    len < GP_SAMPLE_EVENT_SIZE(GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH),
					       GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH)))
			return 0;
		proc = find_process(s, ev->pid);
		if (gp_cpu_table_add(s->cpu, ev, proc ? proc->comm : NULL))
			s->lost_aggregation++;
		gp_caps_sample(&s->caps, ev);
		s->delivered++;
		return s->on_sample ? deliver_sample(s, ev) : 0;
	}
	return 0;
}

/*
 * High-rate records do not wake the poller one by one (bpf/shared.bpf.h lazy_wakeup()),
 * and a record that did not wake it leaves the ring's descriptor unreadable: what is
 * waiting is taken in first, and a long wait is cut into slices of this length.
 */
#define POLL_SLICE_MS 100
/* handle_record()'s "slice spent" (s->yielded tells it from a callback's own error). */
#define GP_RING_YIELD (-ECANCELED)

/*
 * A producer faster than us (a goroutine storm, a sanitized build) would keep libbpf's
 * consume loop going forever, and the budget that could stop the storm would never run:
 * after each record, once the call's slice is spent, a negative return stops the loop
 * (libbpf has already moved past the record) and take_in_records() hands back.
 */
static int handle_record(void *ctx, void *data, size_t len)
{
	struct goprof_session *s = ctx;
	int ret = dispatch_record(ctx, data, len);

	if (ret < 0)
		return ret;
	if (++s->taken_in_call % 64 == 0 && gp_clock_ns(CLOCK_MONOTONIC) > s->take_in_until_ns) {
		s->yielded = true;
		return GP_RING_YIELD;
	}
	return 0;
}

static const char *process_name(void *ctx, uint32_t pid)
{
	struct attached_process *p = find_process(ctx, pid);

	return p && p->comm[0] ? p->comm : NULL;
}

static int host_emit(struct goprof_session *s, const struct goprof_event *ev)
{
	return s->on_event ? s->on_event(ev, s->ctx) : 0;
}

static void host_process_flags(struct goprof_session *s, uint32_t pid, uint32_t set,
			       uint32_t clear, const char *note, bool note_over)
{
	struct attached_process *p = find_process(s, pid);

	if (!p)
		return;
	p->info.flags = (p->info.flags & ~clear) | set;
	if (note && (note_over || !p->info.note[0]))
		gp_strlcpy(p->info.note, note, sizeof(p->info.note));
}

static struct gp_process_view *host_processes(struct goprof_session *s, uint32_t pid, size_t *n)
{
	struct gp_process_view *v = calloc(s->nr_procs + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < s->nr_procs; i++) {
		const struct attached_process *p = &s->procs[i];

		if (!p->attached || p->info.flags & GOPROF_PROCESS_EXITED || (pid && p->info.pid != pid))
			continue;
		v[(*n)++] = (struct gp_process_view){ p->info.pid, p->info.flags,
						      p->info.go_version[0] ? p->info.go_version : NULL };
	}
	return v;
}

static const struct gp_wait_reasons *host_wait_reasons(struct goprof_session *s, uint32_t pid)
{
	const struct attached_process *p = find_process(s, pid);

	return p ? p->wait : NULL;
}

static void reconcile_exits(struct goprof_session *s);

static void host_count_detached(struct goprof_session *s)
{
	s->budget.sets_detached++;
}

static uint64_t targets_cpu_ns(struct goprof_session *s);

/* The capabilities of capability.h whose features the session has, in registry order. */
static int create_capabilities(struct goprof_session *s, const struct session_config *cfg)
{
	s->host = (struct gp_host){
		.shared = s->shared,
		.sym = s->sym,
		.opts = cfg->opts,
		.features = cfg->features,
		.budget_bp = s->budget.budget_bp,
		.user_depth = cfg->user_depth,
		.freq_hz = cfg->freq_hz,
		.kernel_depth = cfg->kernel_depth,
		.probes = s->go_probes,
		.session = s,
		.emit = host_emit,
		.targets_cpu_ns = targets_cpu_ns,
		.count_detached = host_count_detached,
		.process_flags = host_process_flags,
		.wait_reasons = host_wait_reasons,
		.reconcile_exits = reconcile_exits,
		.processes = host_processes,
		.process_name = process_name,
		.exe_of_pid = exe_of_pid,
	};
	return gp_caps_create(&s->caps, &s->host);
}

static int load_programs(struct goprof_session *s, const struct session_config *cfg)
{
	uint32_t probe_features;
	int err;

	s->skel = cpu_sample_bpf__open();
	if (!s->skel)
		return gp_err(-errno, "opening the embedded BPF object failed: %s", strerror(errno));
	s->skel->rodata->user_stack_bytes = cfg->user_depth * 8;
	s->skel->rodata->kernel_stack_bytes = cfg->kernel_depth * 8;
	err = bpf_map__set_max_entries(s->skel->maps.samples, cfg->ringbuf_kib * 1024);
	if (err)
		return gp_err(err, "sizing the sample ring buffer failed: %s", strerror(-err));
	/* The in-flight request table only matters with HTTP tracing; keep it tiny without. */
	s->skel->rodata->http_labels = cfg->features & HTTP_FEATURES;
	err = bpf_map__set_max_entries(s->skel->maps.http_active,
				       cfg->features & HTTP_FEATURES ? GP_HTTP_MAX_ACTIVE : 64);
	if (err)
		return gp_err(err, "sizing the HTTP request table failed: %s", strerror(-err));
	libbpf_last_warning[0] = '\0';
	err = cpu_sample_bpf__load(s->skel);
	if (err == -EPERM || err == -EACCES)
		return gp_err(-EPERM, "loading BPF programs: permission denied: needs CAP_BPF and "
				      "CAP_PERFMON, or root (%s)", libbpf_last_warning);
	if (err)
		return gp_err(-GOPROF_ERRNO_VERIFIER, "loading BPF programs failed (%s): %s; set "
			      "GOPROF_DEBUG=1 for the verifier log", strerror(-err), libbpf_last_warning);
	err = cpu_sample_bpf__attach(s->skel); /* exec/exit tracepoints; perf events at start */
	if (err)
		return gp_err(err == -ENOENT ? -GOPROF_ERRNO_KERNEL : err,
			      "attaching the sched_process_exec/exit tracepoints failed: %s",
			      strerror(-err));
	s->ringbuf = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), handle_record, s, NULL);
	s->ringbuf_bytes = (uint64_t)cfg->ringbuf_kib * 1024;
	if (!s->ringbuf)
		return gp_err(-errno, "creating the ring buffer reader failed: %s", strerror(errno));
	gp_probe_budget_init(&s->budget, cfg->budget_bp);
	s->features = cfg->features;
	s->shared = (struct gp_shared_maps){
		.targets = s->skel->maps.targets,
		.samples = s->skel->maps.samples,
		.lost = s->skel->maps.lost,
		.http_active = s->skel->maps.http_active,
	};
	/* GC and scheduling latency install uprobes only in their precise modes. */
	probe_features = cfg->features & ~((GC_FROM_MEMORY(cfg->features) ? GOPROF_FEATURE_GC : 0) |
					   (SCHED_FROM_MEMORY(cfg->features) ? GOPROF_FEATURE_SCHED : 0));
	if (probe_features & PROBE_FEATURES) {
		s->go_probes = gp_go_probes_new(&s->shared, probe_features);
		if (!s->go_probes)
			return errno ? -errno : -ENOMEM;
	}
	if (cfg->features & GOPROF_FEATURE_HTTP) {
		err = gp_go_probes_enable_http(s->go_probes, s->skel->maps.http_active);
		if (err)
			return err;
	}
	return create_capabilities(s, cfg);
}

GOPROF_API struct goprof_session *goprof_session_new(const struct goprof_session_opts *opts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct goprof_session *s;
	struct session_config cfg = { 0 };
	int err;

	gp_clear_error();
	err = validate_opts(opts, &cfg);
	if (!err)
		err = gp_check_bpf_privileges("goprof_session_new");
	if (!err)
		err = gp_check_kernel_btf();
	if (err)
		return gp_fail_null(err);
	pthread_once(&once, libbpf_setup_once);

	s = calloc(1, sizeof(*s));
	if (!s)
		return gp_err_null(-ENOMEM, "goprof_session_new: out of memory");
	s->freq_hz = cfg.freq_hz;
	s->kernel_stacks = cfg.kernel_depth > 0;
	s->on_sample = OPTS_GET(opts, on_sample, NULL);
	s->on_event = OPTS_GET(opts, on_event, NULL);
	s->ctx = OPTS_GET(opts, ctx, NULL);
	s->sym = goprof_symbolizer_new(NULL);
	s->cpu = s->sym ? gp_cpu_table_new(s->sym, cfg.freq_hz, cfg.cpu_flags,
							  cfg.cpu_timestamps_max) : NULL;
	if (s->cpu)
		gp_cpu_table_set_fallback(s->cpu, exe_of_pid, s);
	err = s->cpu ? load_programs(s, &cfg) : -ENOMEM;
	if (err) {
		goprof_session_free(s); /* records no error */
		return gp_fail_null(err);
	}
	return s;
}

GOPROF_API void goprof_session_free(struct goprof_session *s)
{
	if (!s)
		return;
	gp_perf_sampler_stop(&s->sampler);
	ring_buffer__free(s->ringbuf);
	cpu_sample_bpf__destroy(s->skel);
	gp_go_probes_free(s->go_probes);
	gp_caps_destroy(&s->caps);
	gp_cpu_table_free(s->cpu);
	goprof_symbolizer_free(s->sym);
	for (unsigned i = 0; i < s->nr_exes; i++)
		goprof_binary_free(s->exes[i].bin);
	free(s->exes);
	free(s->procs);
	free(s);
}

GOPROF_API int goprof_session_attach_pid(struct goprof_session *s, int pid,
					 const struct goprof_attach_opts *opts)
{
	struct attached_process *p;
	struct gp_target t;
	__u32 key = (__u32)pid;
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_attach_pid: session is NULL");
	err = OPTS_VALID(opts, goprof_attach_opts, sz);
	if (err)
		return err;
	err = gp_proc_check_pid(pid);
	if (err)
		return err;
	p = find_process(s, (uint32_t)pid);
	if (p && p->attached)
		return gp_err(-EEXIST, "attach: process %d is already attached", pid);
	/*
	 * Into the target table first, then inspect: an exec between the two is then seen
	 * by the kernel (an exec record follows and inspects again); the other way round the
	 * process could exec unseen and keep the settings of its old image.
	 */
	memset(&t, 0, sizeof(t));
	if (bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST) /* attached meanwhile at an exec (by executable or attach_all) */
			return gp_err(err, "attach: process %d is already attached", pid);
		if (err == -E2BIG || err == -ENOSPC)
			return gp_err(-ENOSPC, "attach: %d processes are attached, the maximum",
				      GP_MAX_TARGETS);
		return gp_err(err, "attach: updating the target map failed: %s", strerror(-err));
	}
	if (!p || p->info.flags & GOPROF_PROCESS_EXITED)
		p = add_process(s, (uint32_t)pid);
	if (!p) {
		bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0);
		return gp_err(-ENOMEM, "attach: out of memory");
	}
	p->detached = false;
	inspect_process(s, p, &t);
	bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_EXIST);
	p->attached = true;
	p->info.flags &= ~GOPROF_PROCESS_BY_EXE;
	s->attached++;
	return 0;
}

/* The kernel's dev_t encoding (MKDEV: major << 20 | minor), as inode->i_sb->s_dev holds it. */
static uint64_t kernel_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

/* The executable opened for symbolization without its process, if its addresses are
 * link-time addresses (ET_EXEC, Go's default on amd64), else NULL. */
static struct goprof_binary *link_time_binary(const char *path)
{
	char saved[256];
	struct goprof_binary *bin;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	bin = goprof_binary_open(path, NULL);
	if (bin && bin->elf.type != ET_EXEC) {
		goprof_binary_free(bin);
		bin = NULL;
	}
	gp_err(0, "%s", saved);
	return bin;
}

/* Attaches the processes already running the executable (dev, ino). */
static void attach_running(struct goprof_session *s, dev_t dev, ino_t ino)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char exe[64];
		struct stat st;
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
		if (stat(exe, &st) || st.st_dev != dev || st.st_ino != ino)
			continue;
		if (goprof_session_attach_pid(s, pid, NULL) == 0)
			find_process(s, (uint32_t)pid)->info.flags |= GOPROF_PROCESS_BY_EXE;
	}
	closedir(proc);
	gp_clear_error(); /* races with exiting processes are expected */
}

/*
 * The kernel runs an executable's processes under its own inode only for ELF files: a
 * script's processes run its interpreter, so attaching the script would profile nothing.
 */
static int check_elf(const char *path)
{
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0) {
		err = -errno;
		return gp_err(err, "attach: cannot open executable %s: %s", path, strerror(-err));
	}
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n >= 2 && magic[0] == '#' && magic[1] == '!')
		return gp_err(-ENOEXEC, "attach: %s is a script (#!): its processes run its "
			      "interpreter; attach the interpreter's executable or the processes "
			      "by PID", path);
	if (n != 4 || memcmp(magic, "\x7f" "ELF", 4))
		return gp_err(-ENOEXEC, "attach: %s is not an ELF executable", path);
	return 0;
}

GOPROF_API int goprof_session_attach_exe(struct goprof_session *s, const char *path,
					 const struct goprof_attach_opts *opts)
{
	struct goprof_process_info info = { .sz = sizeof(info) };
	struct gp_exe_key key = { 0 };
	struct gp_target t;
	struct stat st;
	int err;

	gp_clear_error();
	if (!s || !path)
		return gp_err(-EINVAL, "goprof_session_attach_exe: NULL argument");
	err = OPTS_VALID(opts, goprof_attach_opts, sz);
	if (err)
		return err;
	if (stat(path, &st))
		return gp_err(-errno, "attach: cannot stat executable %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gp_err(-EINVAL, "attach: %s is not a regular file", path);
	err = check_elf(path);
	if (err)
		return err;
	key.dev = kernel_dev(st.st_dev);
	key.ino = st.st_ino;
	gp_target_inspect(path, 0, &t, &info);
	attach_go_probes(s, path, 0, &t, &info); /* every process that runs it */
	if (bpf_map__update_elem(s->skel->maps.exe_targets, &key, sizeof(key), &t, sizeof(t), BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST)
			return gp_err(err, "attach: executable %s is already attached", path);
		if (err == -E2BIG || err == -ENOSPC)
			return gp_err(-ENOSPC, "attach: %d executables are attached, the maximum",
				      GP_MAX_EXE_TARGETS);
		return gp_err(err, "attach: updating the executable map failed: %s", strerror(-err));
	}
	if (s->nr_exes == s->nr_exes_cap) {
		size_t cap = s->nr_exes_cap ? 2 * s->nr_exes_cap : 4;
		struct attached_exe *e = realloc(s->exes, cap * sizeof(*e));

		if (!e) {
			bpf_map__delete_elem(s->skel->maps.exe_targets, &key, sizeof(key), 0);
			return gp_err(-ENOMEM, "attach: out of memory");
		}
		s->exes = e;
		s->nr_exes_cap = cap;
	}
	s->exes[s->nr_exes] = (struct attached_exe){ key.dev, key.ino, link_time_binary(path),
						     st.st_dev, t, info };
	s->nr_exes++;
	attach_running(s, st.st_dev, st.st_ino);
	return 0;
}

/* Is the executable of the process a Go program? (GOPROF_ATTACH_ALL_GO_ONLY, at the scan) */
static bool runs_go(int pid)
{
	char exe[64], saved[256];
	struct goprof_binary *bin;
	bool go;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	bin = goprof_binary_open(exe, NULL);
	go = bin && goprof_binary_is_go(bin);
	goprof_binary_free(bin);
	gp_err(0, "%s", saved);
	return go;
}

/* goprof_session_attach_all(): the processes running at the call. */
static void attach_all_running(struct goprof_session *s)
{
	DIR *proc = opendir("/proc");
	int self = getpid();
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		int pid = atoi(de->d_name);
		struct attached_process *p;
		char path[64], comm[GOPROF_COMM_LEN];

		if (pid <= 0 || pid == self || ((p = find_process(s, (uint32_t)pid)) && p->attached))
			continue;
		if (gp_proc_check_pid(pid))
			continue; /* a kernel thread, a zombie, or gone */
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		read_comm(path, comm);
		if (s->attached >= s->all_max) {
			s->over_limit++;
			continue;
		}
		if ((s->all_filter && s->all_filter(pid, comm, s->all_ctx)) ||
		    (s->all_flags & GOPROF_ATTACH_ALL_GO_ONLY && !runs_go(pid))) {
			s->filtered++;
			continue;
		}
		if (goprof_session_attach_pid(s, pid, NULL) == 0)
			find_process(s, (uint32_t)pid)->info.flags |= GOPROF_PROCESS_BY_ALL;
	}
	closedir(proc);
}

GOPROF_API int goprof_session_attach_all(struct goprof_session *s,
					 const struct goprof_attach_all_opts *opts)
{
	uint32_t flags, max;
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_attach_all: session is NULL");
	err = OPTS_VALID(opts, goprof_attach_all_opts, ctx);
	if (err)
		return err;
	flags = OPTS_GET(opts, flags, 0);
	if (flags & ~GOPROF_ATTACH_ALL_GO_ONLY)
		return gp_err(-EINVAL, "goprof_session_attach_all: unknown flags 0x%x", flags);
	if (s->all_max)
		return gp_err(-EALREADY, "goprof_session_attach_all: already called on this session");
	max = OPTS_GET(opts, max_processes, 0);
	s->all_max = !max || max > GP_MAX_TARGETS ? GP_MAX_TARGETS : max;
	s->all_flags = flags;
	s->all_filter = OPTS_GET(opts, filter, NULL);
	s->all_ctx = OPTS_GET(opts, ctx, NULL);
	/* Execs first, then the scan: a process that execs in between is seen by both and
	 * attached once (the scan skips what an exec record attached, and the other way). */
	s->skel->bss->attach_all = true;
	attach_all_running(s);
	gp_clear_error(); /* races with processes that exit during the scan are expected */
	return 0;
}

GOPROF_API int goprof_session_detach_pid(struct goprof_session *s, int pid)
{
	__u32 key = (__u32)pid;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_detach_pid: session is NULL");
	struct attached_process *p = find_process(s, (uint32_t)pid);

	if (!p || !p->attached)
		return gp_err(-ENOENT, "detach: process %d is not attached", pid);
	bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0); /* may have exited */
	p->attached = false;
	p->detached = true;
	s->attached--;
	release_exe_probes(s, p);
	gp_go_probes_detach_pid(s->go_probes, pid);
	gp_caps_process_gone(&s->caps, (uint32_t)pid, GP_PROCESS_DETACHED);
	return 0;
}

GOPROF_API int goprof_session_start(struct goprof_session *s)
{
	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_start: session is NULL");
	if (s->started)
		return gp_err(-EALREADY, "goprof_session_start: the session is already sampling");
	int err;

	if (s->kernel_stacks) {
		/* Load kernel symbols now, not inside the first poll that meets a kernel frame
		 * (0.3-0.6 s: short-lived processes would exit before their samples are read). */
		uint64_t probe = 0;

		goprof_symbolizer_symbolize_kernel(s->sym, &probe, 1, ignore_frame, NULL);
		gp_clear_error();
	}
	err = gp_perf_sampler_start(&s->sampler, s->skel->progs.on_cpu_sample, s->freq_hz);
	if (err)
		return err;
	err = gp_caps_start(&s->caps);
	if (err) {
		gp_perf_sampler_stop(&s->sampler);
		return err;
	}
	s->started = true;
	gp_cpu_table_mark_start(s->cpu);
	return 0;
}

GOPROF_API int goprof_session_stop(struct goprof_session *s)
{
	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_stop: session is NULL");
	if (!s->started)
		return gp_err(-EALREADY, "goprof_session_stop: the session is not sampling");
	gp_perf_sampler_stop(&s->sampler);
	gp_caps_stop(&s->caps);
	s->started = false;
	return 0;
}

GOPROF_API int goprof_session_fd(const struct goprof_session *s)
{
	if (!s)
		return gp_err(-EINVAL, "goprof_session_fd: session is NULL");
	return ring_buffer__epoll_fd(s->ringbuf);
}

/* CPU time (user + system) of the attached processes that still run, in nanoseconds. */
static uint64_t targets_cpu_ns(struct goprof_session *s)
{
	long ticks = sysconf(_SC_CLK_TCK);
	uint64_t total = 0;

	for (size_t i = 0; i < s->nr_procs; i++) {
		unsigned long long utime, stime;
		char path[64], buf[1024], *p;
		FILE *f;

		if (!s->procs[i].attached)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/stat", s->procs[i].info.pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* After "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
		 * cmajflt utime stime: fields 3..15 of the line. */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&utime, &stime) == 2)
			total += (utime + stime) * (1000000000ull / (uint64_t)ticks);
	}
	return total;
}

static int enforce_budget(struct goprof_session *s)
{
	struct gp_budget_verdict verdicts[GP_SET_NR];
	uint64_t now_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
	int n;

	if (!gp_probe_budget_due(&s->budget, now_ns))
		return 0;
	n = gp_probe_budget_check(&s->budget, s->go_probes, now_ns, targets_cpu_ns(s), verdicts);
	for (int i = 0; i < n && s->on_event; i++) {
		struct goprof_event ev = {
			.sz = sizeof(ev),
			.type = GOPROF_EVENT_PROBE_DETACHED,
			.time_ns = now_ns,
			.message = verdicts[i].message,
		};
		int ret = s->on_event(&ev, s->ctx);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Processes whose runtime layout could not be judged when they were attached (exec'd a
 * moment before: no goroutines yet): judged again until their runtime shows enough.
 * A layout that validates gets goroutine context (and the runtime probes, for a newer
 * release); one that does not loses it.
 */
static void revalidate_tick(struct goprof_session *s)
{
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);

	for (size_t i = 0; i < s->nr_procs; i++) {
		struct attached_process *p = &s->procs[i];
		struct goprof_process_info info = p->info;
		__u32 key = p->info.pid;
		struct gp_target t;
		char exe[64];
		int ret;

		if (!p->revalidate_until_ns || !p->attached || p->info.flags & GOPROF_PROCESS_EXITED ||
		    now < p->revalidate_next_ns)
			continue;
		p->revalidate_next_ns = now + (now < p->revalidate_until_ns ? REVALIDATE_EVERY_NS
									  : REVALIDATE_LATER_NS);
		snprintf(exe, sizeof(exe), "/proc/%u/exe", p->info.pid);
		ret = gp_target_inspect(exe, (int)p->info.pid, &t, &info);
		if (ret == GP_TARGET_UNDECIDED) {
			if (!t.is_go) /* a newer release: the latest reason it is still off */
				gp_strlcpy(p->info.note, info.note, sizeof(p->info.note));
			continue;
		}
		if (!t.is_go && ++p->revalidate_failures < REVALIDATE_FAILURES) {
			p->revalidate_next_ns = now + REVALIDATE_EVERY_NS; /* confirm it soon */
			continue;
		}
		p->revalidate_failures = 0;
		p->revalidate_until_ns = 0;
		if (t.is_go) {
			p->info.flags |= info.flags & (GOPROF_PROCESS_GOROUTINES |
						       GOPROF_PROCESS_LAYOUT_VALIDATED);
			if (info.note[0])
				gp_strlcpy(p->info.note, info.note, sizeof(p->info.note));
			bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_EXIST);
			if (!(p->info.flags & GOPROF_PROCESS_RUNTIME_PROBES))
				attach_go_probes(s, exe, (int)p->info.pid, &t, &p->info);
		} else {
			/* The layout does not fit: off before it gives one more wrong ID. */
			bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_EXIST);
			p->info.flags &= ~(GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED |
					   GOPROF_PROCESS_RUNTIME_PROBES);
			gp_strlcpy(p->info.note, info.note, sizeof(p->info.note));
		}
	}
}

/* The attached Go processes, for goroutine snapshots; *n gets the count (NULL: no memory). */
/* Takes in what waits now, handing back once the slice is spent (see handle_record). */
static int consume_slice(struct goprof_session *s)
{
	int n;

	s->taken_in_call = 0;
	s->yielded = false;
	s->take_in_until_ns = gp_clock_ns(CLOCK_MONOTONIC) + (int64_t)POLL_SLICE_MS * 1000000;
	n = ring_buffer__consume(s->ringbuf);
	return s->yielded ? (int)s->taken_in_call : n;
}

/* Takes in records for up to timeout_ms (-1: until there is one). */
static int take_in_records(struct goprof_session *s, int timeout_ms)
{
	int64_t deadline_ns = gp_clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
	struct pollfd pfd = { .fd = ring_buffer__epoll_fd(s->ringbuf), .events = POLLIN };
	int n = consume_slice(s);

	while (n == 0 && timeout_ms != 0) {
		int64_t left_ms = timeout_ms < 0 ? POLL_SLICE_MS
						 : (deadline_ns - gp_clock_ns(CLOCK_MONOTONIC)) / 1000000;

		if (left_ms <= 0)
			break;
		if (poll(&pfd, 1, (int)GP_MIN(left_ms, POLL_SLICE_MS)) < 0)
			return -errno;
		n = consume_slice(s);
	}
	return n;
}

GOPROF_API int goprof_session_poll(struct goprof_session *s, int timeout_ms)
{
	uint64_t now_ns;
	int n;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_poll: session is NULL");
	note_ringbuf_fill(s);
	n = take_in_records(s, timeout_ms);
	if (n == -EINTR)
		return gp_err(n, "goprof_session_poll: interrupted by a signal");
	now_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
	if (n >= 0 && s->go_probes) {
		int ret = enforce_budget(s);

		if (ret < 0)
			return ret;
	}
	if (n >= 0)
		revalidate_tick(s);
	if (n >= 0) {
		int ret = gp_caps_tick(&s->caps, now_ns);

		if (ret < 0)
			return ret;
	}
	return n;
}

/*
 * Exit records can be lost when the ring buffer is full; the kernel removes an exiting
 * process from the target table all the same. A process we think attached that is no
 * longer there has exited.
 */
static void reconcile_exits(struct goprof_session *s)
{
	for (size_t i = 0; i < s->nr_procs; i++) {
		struct attached_process *p = &s->procs[i];
		struct gp_target t;
		__u32 key = p->info.pid;
		struct gp_exec_event ev = { .type = GP_REC_EXIT, .pid = p->info.pid };

		if (!p->attached ||
		    bpf_map__lookup_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), 0) == 0)
			continue;
		handle_exit(s, &ev); /* may prune the list: start over */
		i = (size_t)-1;
	}
}

GOPROF_API int goprof_session_stats(struct goprof_session *s, struct goprof_session_stats *out)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	uint64_t lost[GP_LOST_NR], cnt[GP_CNT_NR];
	struct gp_cpu_table_stats cs;

	gp_clear_error();
	if (!s || !out)
		return gp_err(-EINVAL, "goprof_session_stats: NULL argument");
	if (out->sz < sizeof(out->sz))
		return gp_err(-EINVAL, "goprof_session_stats: stats->sz must be set to "
				       "sizeof(struct goprof_session_stats)");
	reconcile_exits(s);
	gp_map_sum_percpu_all(s->skel->maps.lost, lost, GP_LOST_NR);
	gp_map_sum_percpu_all(s->skel->maps.counters, cnt, GP_CNT_NR);
	st.attached_pids = s->attached;
	st.cpu_samples = cnt[GP_CNT_SAMPLES];
	st.samples_delivered = s->delivered;
	st.lost_ringbuf_full = lost[GP_LOST_RINGBUF_FULL];
	st.lost_thread_table_full = lost[GP_LOST_THREAD_TABLE_FULL];
	st.lost_targets_full = lost[GP_LOST_TARGETS_FULL];
	st.lost_aggregation = s->lost_aggregation;
	st.lost_events = lost[GP_LOST_EVENTS];
	st.go_context_failed = cnt[GP_CNT_GO_CONTEXT_FAILED];
	gp_cpu_table_stats(s->cpu, &cs);
	st.frames_unsymbolized = cs.frames_unsymbolized;
	st.symbol_cache_hits = cs.location_cache_hits;
	st.symbol_cache_misses = cs.location_cache_misses;
	st.processes_exited = s->exited;
	st.events_delivered = s->events_delivered;
	st.ringbuf_bytes = s->ringbuf_bytes;
	st.ringbuf_high_water_bytes = s->ringbuf_high_water;
	st.cpu_profile_stacks = cs.stacks;
	st.symbol_cache_entries = cs.cache_entries;
	st.cpu_profile_resets = cs.resets;
	st.probe_sets_detached = s->budget.sets_detached; /* uprobe sets, off-CPU, HTTP wire */
	if (s->go_probes) {
		uint64_t hits[GP_PROBE_NR];

		gp_go_probes_hits(s->go_probes, hits);
		for (int i = 0; i < GP_PROBE_NR; i++)
			st.probe_hits += hits[i];
		st.uprobes_installed = gp_go_probes_count(s->go_probes);
		st.probe_cost_ns = s->budget.total_cost_ns;
		st.probe_hits += gp_go_probes_set_hits(s->go_probes, GP_SET_HTTP);
	}
	st.processes_unreadable = s->unreadable;
	st.processes_over_limit = s->over_limit;
	st.processes_filtered = s->filtered;
	gp_caps_fill_stats(&s->caps, &st, lost);
	st.sz = (uint32_t)GP_MIN((size_t)out->sz, sizeof(st));
	memcpy(out, &st, st.sz);
	return 0;
}

struct thread_walk {
	struct gp_thread_key key;
	struct gp_thread_count val;
	goprof_thread_fn fn;
	void *ctx;
};

static int visit_thread(void *walk)
{
	struct thread_walk *w = walk;
	struct goprof_thread_samples t = {
		.sz = sizeof(t),
		.pid = w->key.pid,
		.tid = w->key.tid,
		.samples = w->val.samples,
	};

	memcpy(t.comm, w->val.comm, sizeof(t.comm));
	t.comm[sizeof(t.comm) - 1] = '\0';
	return w->fn(&t, w->ctx);
}

GOPROF_API int goprof_session_foreach_thread(struct goprof_session *s, goprof_thread_fn fn,
					     void *ctx)
{
	struct thread_walk w = { .fn = fn, .ctx = ctx };

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_thread: NULL argument");
	return gp_map_walk(s->skel->maps.thread_counts, &w.key, sizeof(w.key), &w.val, visit_thread, &w);
}

GOPROF_API struct goprof_profile *goprof_session_snapshot_cpu(struct goprof_session *s, uint32_t flags)
{
	struct goprof_profile *p;

	gp_clear_error();
	if (!s)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_cpu: session is NULL");
	if (flags & ~GOPROF_SNAPSHOT_RESET)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_cpu: unknown flags 0x%x",
				   flags & ~GOPROF_SNAPSHOT_RESET);
	p = gp_cpu_table_snapshot(s->cpu, flags & GOPROF_SNAPSHOT_RESET);
	if (!p)
		return gp_fail_null(errno ? -errno : -ENOMEM);
	return p;
}

/* Calls fn for every frame of addrs (leaf first); return addresses looked up at ip - 1. */
static int symbolize_stack(struct goprof_session *s, int pid, bool kernel, const uint64_t *ips,
			   uint32_t n, goprof_frame_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lookup = i ? ips[i] - 1 : ips[i];
		int ret = kernel ? goprof_symbolizer_symbolize_kernel(s->sym, &lookup, 1, fn, ctx)
				 : goprof_symbolizer_symbolize_pid(s->sym, pid, &lookup, 1, fn, ctx);

		if (ret > 0 || (ret < 0 && ret != -ESRCH && ret != -EACCES))
			return ret;
	}
	return 0;
}

GOPROF_API int goprof_session_symbolize_sample(struct goprof_session *s,
					       const struct goprof_sample *sample,
					       goprof_frame_fn fn, void *ctx)
{
	int ret;

	gp_clear_error();
	if (!s || !sample || !fn)
		return gp_err(-EINVAL, "goprof_session_symbolize_sample: NULL argument");
	if (sample->sz < gp_offsetofend(struct goprof_sample, kernel_ips))
		return gp_err(-EINVAL, "goprof_session_symbolize_sample: the sample has no stacks");
	ret = symbolize_stack(s, (int)sample->pid, true, sample->kernel_ips, sample->nr_kernel_ips,
			      fn, ctx);
	if (ret)
		return ret;
	return symbolize_stack(s, (int)sample->pid, false, sample->user_ips, sample->nr_user_ips,
			       fn, ctx);
}

GOPROF_API int goprof_session_foreach_process(struct goprof_session *s, goprof_process_fn fn,
					      void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_process: NULL argument");
	reconcile_exits(s);
	for (size_t i = 0; i < s->nr_procs; i++) {
		int ret = fn(&s->procs[i].info, ctx);

		if (ret)
			return ret;
	}
	return 0;
}

