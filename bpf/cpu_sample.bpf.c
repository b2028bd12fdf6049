// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * CPU sampling: runs on a perf event (CPU clock, frequency mode) on every CPU, keeps
 * only samples of attached processes, counts them per thread, and hands each to user
 * space through a ring buffer with its user and kernel stacks and, for Go processes,
 * the running goroutine's ID and pprof labels.
 *
 * Also tracks exec and exit of attached processes, and adds processes that exec an
 * executable attached by path.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load: stack bytes to capture (multiples of 8, at most the buffers). */
const volatile __u32 user_stack_bytes = GP_MAX_STACK_DEPTH * 8;
const volatile __u32 kernel_stack_bytes = GP_MAX_STACK_DEPTH * 8;
/* GOPROF_FEATURE_HTTP: label samples of goroutines serving a request (else dead code). */
const volatile bool http_labels = false;

/*
 * goprof_session_attach_all(): every process that execs is followed from its exec (user
 * space then inspects it, and drops it if it is not wanted). Set at any time.
 */
volatile bool attach_all = false;

/* Executables attached by path: (dev, inode) -> target settings for its processes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_EXE_TARGETS);
	__type(key, struct gp_exe_key);
	__type(value, struct gp_target);
} exe_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_THREADS);
	__type(key, struct gp_thread_key);
	__type(value, struct gp_thread_count);
} thread_counts SEC(".maps");

/*
 * The start of a runtime.g, read at once: stack{lo, hi} at 0, m at 48, goid and labels
 * (the highest at 360 in Go 1.19-1.27); a field past it is read on its own.
 */
#define G_PREFIX_BYTES 368
/* Room for any offset masked with G_OFF_MASK, for the verifier of 5.10, which does not
 * carry the bound of a compare over to the register that indexes. */
#define G_OFF_MASK 511
#define G_BUF_BYTES (G_OFF_MASK + 1 + 8)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#include "http_active.bpf.h"

static __always_inline void count_thread(__u32 pid, __u32 tid)
{
	struct gp_thread_key key = { .pid = pid, .tid = tid };
	struct gp_thread_count *tc, init = { .samples = 1 };

	tc = bpf_map_lookup_elem(&thread_counts, &key);
	if (tc) {
		__sync_fetch_and_add(&tc->samples, 1);
		return;
	}
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (bpf_map_update_elem(&thread_counts, &key, &init, BPF_NOEXIST) == 0)
		return;
	/* Another CPU inserted the same thread first: count into its entry. */
	tc = bpf_map_lookup_elem(&thread_counts, &key);
	if (tc)
		__sync_fetch_and_add(&tc->samples, 1);
	else
		bump(&lost, GP_LOST_THREAD_TABLE_FULL);
}

/* Copies a Go string (not NUL-terminated) into dst[cap], cap a power of two. */
static __always_inline void read_go_string(char *dst, __u32 cap, __u64 ptr, __u64 len)
{
	__u32 n = len < cap - 1 ? (__u32)len : cap - 1;

	/* The mask in the register the call takes: without the barrier clang finds it
	 * redundant and may hand the helper a copy spilled before the comparison, unbounded
	 * for the verifier (seen in the arm64 build on 6.1: "R2 min value is negative"). */
	barrier_var(n);
	n &= cap - 1;
	if (bpf_probe_read_user(dst, n, (void *)ptr))
		n = 0;
	dst[n & (cap - 1)] = '\0';
}

struct go_string {
	__u64 ptr;
	__u64 len;
};

/* Labels of Go <= 1.23: g.labels -> *labelMap -> hmap; small maps have one bucket. */
static __always_inline void read_labels_hmap(__u64 labels, struct gp_sample_event *ev)
{
	struct {
		__u64 count;
		__u8 flags, B;
		__u16 noverflow;
		__u32 hash0;
		__u64 buckets;
	} h;
	__u8 tophash[8];
	__u64 hmap;
	__u32 n;

	if (bpf_probe_read_user(&hmap, sizeof(hmap), (void *)labels) || !hmap ||
	    bpf_probe_read_user(&h, sizeof(h), (void *)hmap) || !h.buckets)
		return;
	if (h.B)
		ev->flags |= GP_SAMPLE_F_LABELS_TRUNC; /* more than one bucket: read the first */
	if (bpf_probe_read_user(tophash, sizeof(tophash), (void *)h.buckets))
		return;
	/*
	 * The count lives in the map value, not in a register: a register count is known to
	 * the verifier, which then checked the rest of the loop once per (cell, count) pair
	 * (53k of the program's 83k instructions processed; 25 s to load in a QEMU guest).
	 */
#pragma unroll
	for (int i = 0; i < 8; i++) {
		struct go_string k, v;

		if (tophash[i] < 5) /* empty or evacuated cell (minTopHash is 5) */
			continue;
		n = *(volatile __u32 *)&ev->nr_labels;
		if (n >= GP_MAX_LABELS) {
			ev->flags |= GP_SAMPLE_F_LABELS_TRUNC;
			break;
		}
		/* Keeps the masks below: without them clang indexes with a copy of n spilled
		 * before the test, whose bound the 5.10 verifier does not know. */
		barrier_var(n);
		/* bucket: tophash[8], keys [8]string, values [8]string, overflow */
		if (bpf_probe_read_user(&k, sizeof(k), (void *)(h.buckets + 8 + i * 16)) ||
		    bpf_probe_read_user(&v, sizeof(v), (void *)(h.buckets + 8 + 128 + i * 16)))
			continue;
		read_go_string(ev->labels[n & (GP_MAX_LABELS - 1)].key, GP_LABEL_KEY_LEN, k.ptr, k.len);
		read_go_string(ev->labels[n & (GP_MAX_LABELS - 1)].value, GP_LABEL_VALUE_LEN, v.ptr, v.len);
		*(volatile __u32 *)&ev->nr_labels = n + 1;
	}
}

/* Labels of Go 1.24+: g.labels -> *labelMap{ list []label{key, value string} }. */
static __always_inline void read_labels_slice(__u64 labels, struct gp_sample_event *ev)
{
	struct {
		__u64 ptr, len, cap;
	} list;
	__u32 n = 0;

	if (bpf_probe_read_user(&list, sizeof(list), (void *)labels) || !list.ptr)
		return;
	if (list.len > GP_MAX_LABELS)
		ev->flags |= GP_SAMPLE_F_LABELS_TRUNC;
#pragma unroll
	for (int i = 0; i < GP_MAX_LABELS; i++) {
		struct go_string kv[2];

		if (i >= list.len)
			break;
		if (bpf_probe_read_user(kv, sizeof(kv), (void *)(list.ptr + i * 32)))
			break;
		read_go_string(ev->labels[i].key, GP_LABEL_KEY_LEN, kv[0].ptr, kv[0].len);
		read_go_string(ev->labels[i].value, GP_LABEL_VALUE_LEN, kv[1].ptr, kv[1].len);
		n++;
	}
	ev->nr_labels = n;
}

/* Frames checked on system stacks; a deeper walk is kept whole. */
#define SYSTEM_STACK_MAX_FRAMES 64
/* runtime.g starts with stack{lo, hi}; runtime.m starts with g0 (Go 1.19-1.24 at least). */
#define G_STACK_OFFSET 0

struct go_stack {
	__u64 lo, hi;
};

static __always_inline bool on_stack(const struct go_stack *s, __u64 fp)
{
	return fp >= s->lo && fp < s->hi;
}

/* What a sample needs of the Go runtime, read once for the frame check and the context. */
struct go_sample {
	struct go_thread th;
	struct go_stack cur; /* m.curg's stack (0, 0 if unread) */
	struct go_stack sys; /* g's stack when g is not m.curg (g0, gsignal), else 0, 0 */
	__u64 goid, labels;  /* m.curg's */
};

/* Where a sample is assembled before its used part is copied to the ring buffer; the
 * global functions below find the sample and its Go context here (see them). */
struct sample_scratch {
	struct gp_sample_event ev;
	struct go_sample gs;
	__u8 g[G_BUF_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sample_scratch);
} scratch SEC(".maps");

/* Word off of a g whose first G_PREFIX_BYTES are in buf (0 if unreadable). */
static __always_inline __u64 g_word(const __u8 *buf, __u64 g, __u32 off)
{
	__u64 v = 0;

	if (off <= G_PREFIX_BYTES - 8)
		return *(const __u64 *)(buf + (off & G_OFF_MASK));
	bpf_probe_read_user(&v, sizeof(v), (void *)(g + off));
	return v;
}

/*
 * The current thread of Go process t (as current_go_thread() in shared.bpf.h), with
 * m.curg's stack, goid and labels, in as few reads as the runtime allows: g
 * (gp_current_g()), then the start of g in one read. A g with a goroutine ID is a user goroutine, which runs only
 * as its m's curg (g0 and gsignal have ID 0; execute() sets m.curg before gogo() switches
 * g, mcall() and systemstack() switch g to g0): then m.curg is g, read already. Only on
 * a system goroutine are m.curg and its start read. Returns 0, or -1 if the runtime was
 * unreadable.
 */
static __always_inline int read_go_sample(const struct gp_target *t, __u8 *buf, struct go_sample *gs)
{
	struct go_thread *th = &gs->th;
	__u64 goid;

	__builtin_memset(gs, 0, sizeof(*gs));
	th->g = gp_current_g();
	if (!th->g || bpf_probe_read_user(buf, G_PREFIX_BYTES, (void *)th->g))
		return -1;
	th->m = g_word(buf, th->g, t->g_m);
	if (!th->m)
		return -1;
	goid = g_word(buf, th->g, t->g_goid);
	if (goid && !GP_G_NEEDS_CHECK) {
		th->curg = th->g;
	} else {
		if (bpf_probe_read_user(&th->curg, sizeof(th->curg), (void *)(th->m + t->m_curg)))
			return -1;
		/* g from a register C code may reuse (arm64): m.curg, m.g0 or m.gsignal of its
		 * own m */
		if (GP_G_NEEDS_CHECK && th->g != th->curg && !own_system_g(t, th->m, th->g))
			return -1;
		if (th->g != th->curg) {
			gs->sys.lo = g_word(buf, th->g, G_STACK_OFFSET);
			gs->sys.hi = g_word(buf, th->g, G_STACK_OFFSET + 8);
			if (!th->curg || bpf_probe_read_user(buf, G_PREFIX_BYTES, (void *)th->curg))
				return 0; /* no user goroutine, or an unreadable one: no ID, no labels */
			goid = g_word(buf, th->curg, t->g_goid);
		}
	}
	gs->cur.lo = g_word(buf, th->curg, G_STACK_OFFSET);
	gs->cur.hi = g_word(buf, th->curg, G_STACK_OFFSET + 8);
	gs->goid = goid;
	gs->labels = g_word(buf, th->curg, t->g_labels);
	return 0;
}

/*
 * Global (not static, not inlined) functions are verified once, on their own, with
 * unknown arguments and an unknown result; an inlined one is verified again on every
 * path that reaches it. The label readers and the system-stack walk are the two loops
 * of the sampler: inlined, they took 57,000 of the 57,300 instructions the verifier
 * processed (190-380 ms of every session's start on our VMs); as global functions 14,600
 * (15-25 ms). Their arguments are scalars (5.10 takes no other pointers than the
 * context), so they find the sample in the per-CPU scratch map.
 */
__noinline int gp_sample_read_labels(__u64 labels, __u32 layout)
{
	struct sample_scratch *sc;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	if (layout == GP_LABELS_HMAP)
		read_labels_hmap(labels, &sc->ev);
	else if (layout == GP_LABELS_SLICE)
		read_labels_slice(labels, &sc->ev);
	return 0;
}

/* The goroutine running on this thread (m.curg): its ID and pprof labels. */
static __always_inline void read_go_context(const struct gp_target *t, const struct go_sample *gs,
					    struct gp_sample_event *ev)
{
	ev->flags |= GP_SAMPLE_F_GO;
	if (!gs->th.curg)
		return;
	ev->goid = gs->goid;
	if (gs->labels)
		gp_sample_read_labels(gs->labels, t->labels_layout);
}

/*
 * How many of the nr user stack entries belong to this sample. runtime.mcall switches to
 * g0 without clearing BP (asm_amd64.s of Go 1.19-1.23), so the scheduler's frames chain
 * into the stack of the goroutine that called mcall, and stay chained after m.curg became
 * another goroutine (execute() sets it before gogo switches stacks; gogo sets g before SP
 * and BP): such a sample showed that goroutine's frames under the labels of m.curg. Go's
 * own unwinder leaves a system stack only for m.curg's (at systemstack and morestack,
 * which keep BP pointing there on purpose, like the vDSO calls made on g0) and its
 * profiler takes the labels from m.curg: same rule here. Entry i (i >= 1) is the return
 * address saved in frame i - 1, so the walk is cut at the first frame on none of g's,
 * g0's and m.curg's stacks.
 */
/* The walk of own_user_frames() from fp, off m.curg's stack (global: see
 * gp_sample_read_labels()); the Go context is the scratch map's. */
__noinline int gp_sample_walk_system_stack(__u64 fp, __u32 nr)
{
	const struct go_stack *sys, *cur;
	struct sample_scratch *sc;
	struct go_stack g0 = {};
	__u64 g0_ptr = 0;
	__u32 zero = 0;

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return nr;
	sys = &sc->gs.sys;
	cur = &sc->gs.cur;
	if (bpf_probe_read_user(&g0_ptr, sizeof(g0_ptr), (void *)(sc->gs.th.m + GP_M_G0_OFFSET)) || !g0_ptr ||
	    bpf_probe_read_user(&g0, sizeof(g0), (void *)(g0_ptr + G_STACK_OFFSET)))
		return nr;
	for (__u32 i = 1; i < SYSTEM_STACK_MAX_FRAMES && i < nr; i++) {
		if (on_stack(cur, fp))
			return nr; /* m.curg's frames from here on */
		if (!on_stack(sys, fp) && !on_stack(&g0, fp))
			return i; /* frames of a goroutine other than m.curg: stale */
		if (bpf_probe_read_user(&fp, sizeof(fp), (void *)fp))
			return nr;
	}
	return nr;
}

static __always_inline __u32 own_user_frames(struct bpf_perf_event_data *ctx, const struct go_sample *gs,
					     __u32 nr)
{
	const struct go_stack *cur = &gs->cur;
	__u64 fp;

	/* Whatever cannot be read leaves the walk as it is. */
	if (nr < 2 || (gs->th.curg && !cur->hi))
		return nr;
	/* The user registers, as bpf_get_stack() walked them (the task's if the kernel was
	 * interrupted; arch.bpf.h tells user mode). */
	if (GP_SAMPLE_USER_MODE(ctx))
		fp = GP_SAMPLE_FP(ctx);
	else if (!task_user_fp(&fp))
		return nr; /* the kernel cannot give the task's user registers: keep the walk */
	if (on_stack(cur, fp))
		return nr; /* the common case: a goroutine's own frames */
	return gp_sample_walk_system_stack(fp, nr);
}

/* Appends one label; false when the sample's labels are full. */
static __always_inline bool add_label(struct gp_sample_event *ev, const char *key, __u32 key_len,
				      const char *value, __u32 value_len)
{
	__u32 n = ev->nr_labels;

	if (n >= GP_MAX_LABELS) {
		ev->flags |= GP_SAMPLE_F_LABELS_TRUNC;
		return false;
	}
	barrier_var(n); /* keeps the mask (read_labels_hmap()) */
	n &= GP_MAX_LABELS - 1;
	__builtin_memset(ev->labels[n].key, 0, GP_LABEL_KEY_LEN);
	__builtin_memcpy(ev->labels[n].key, key, key_len);
	bpf_probe_read_kernel_str(ev->labels[n].value, value_len, value);
	ev->nr_labels++;
	return true;
}

/*
 * The method and path of the request the sampled goroutine serves, as pprof labels. The
 * wire tracer keeps one entry per goroutine and rewrites it in place (start_ns 0 while
 * no request runs, or while it is rewritten): labels copied while start_ns changed are
 * dropped again.
 */
static __always_inline void add_http_labels(__u32 pid, struct gp_sample_event *ev)
{
	struct gp_goroutine_key key = { .pid = pid, .goid = ev->goid };
	struct gp_http_active *a = bpf_map_lookup_elem(&http_active, &key);
	__u32 before = ev->nr_labels;
	__u64 started;

	if (!a)
		return;
	started = *(volatile __u64 *)&a->start_ns;
	if (!started)
		return;
	if (add_label(ev, "http.method", sizeof("http.method"), a->method, GP_HTTP_METHOD_LEN))
		add_label(ev, "http.path", sizeof("http.path"), a->path, GP_HTTP_PATH_LEN);
	if (*(volatile __u64 *)&a->start_ns != started)
		ev->nr_labels = before;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id, zero = 0, nr_user, nr_kernel;
	struct sample_scratch *sc;
	struct gp_sample_event *ev;
	struct go_sample *gs;
	struct gp_target *t;
	bool go_ok = false;
	__u64 size;
	long n;

	t = bpf_map_lookup_elem(&targets, &pid);
	if (!t)
		return 0;
	bump(&counters, GP_CNT_SAMPLES);
	count_thread(pid, tid);

	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	ev = &sc->ev;
	gs = &sc->gs;
	ev->type = GP_REC_SAMPLE;
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->time_ns = bpf_ktime_get_ns();
	ev->goid = 0;
	ev->flags = 0;
	ev->nr_labels = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));

	n = bpf_get_stack(ctx, ev->stack, user_stack_bytes, BPF_F_USER_STACK);
	nr_user = n > 0 ? (__u32)n >> 3 : 0;
	if (nr_user > GP_MAX_STACK_DEPTH)
		nr_user = GP_MAX_STACK_DEPTH;
	if (n > 0 && n >= user_stack_bytes)
		ev->flags |= GP_SAMPLE_F_USER_TRUNC;
	if (t->is_go) {
		go_ok = read_go_sample(t, sc->g, gs) == 0;
		if (!go_ok)
			bump(&counters, GP_CNT_GO_CONTEXT_FAILED);
	}
	if (go_ok) {
		/*
		 * Through the map value, not a register: the walk returns one of 64 constants,
		 * and the verifier would check the rest of the program once for each (near its
		 * 1M-instruction limit; 30 s of verification). A value loaded from a map is
		 * unknown to it, so those paths merge.
		 */
		ev->nr_user = own_user_frames(ctx, gs, nr_user);
		n = *(volatile __u32 *)&ev->nr_user;
		if (n != nr_user) {
			nr_user = n < GP_MAX_STACK_DEPTH ? (__u32)n : GP_MAX_STACK_DEPTH;
			ev->flags &= ~GP_SAMPLE_F_USER_TRUNC;
		}
	}
	/*
	 * The kernel's walk only for a sample taken in the kernel: in user mode it finds
	 * nothing, yet cost as much as the user walk (clearing the buffer behind it).
	 */
	n = kernel_stack_bytes && !GP_SAMPLE_USER_MODE(ctx) ?
		    bpf_get_stack(ctx, &ev->stack[nr_user], kernel_stack_bytes, 0) : 0;
	nr_kernel = n > 0 ? (__u32)n >> 3 : 0;
	if (nr_kernel > GP_MAX_STACK_DEPTH)
		nr_kernel = GP_MAX_STACK_DEPTH;
	if (n > 0 && n >= kernel_stack_bytes)
		ev->flags |= GP_SAMPLE_F_KERNEL_TRUNC;
	ev->nr_user = nr_user;
	ev->nr_kernel = nr_kernel;

	if (go_ok) {
		read_go_context(t, gs, ev);
		if (http_labels && ev->goid)
			add_http_labels(pid, ev);
	}
	size = GP_SAMPLE_EVENT_SIZE(nr_user, nr_kernel);
	if (size > sizeof(*ev))
		size = sizeof(*ev);
	if (bpf_ringbuf_output(&samples, ev, size, lazy_wakeup_at(ev->time_ns))) {
		bump(&lost, GP_LOST_RINGBUF_FULL);
		return 0;
	}
	bump(&counters, GP_CNT_DELIVERED);
	return 0;
}

static __always_inline void emit_process_event(__u32 type, __u32 pid, const struct gp_exe_key *exe)
{
	struct gp_exec_event *ev = bpf_ringbuf_reserve(&samples, sizeof(*ev), 0);

	if (!ev) {
		bump(&lost, GP_LOST_EVENTS);
		return;
	}
	ev->type = type;
	ev->pid = pid;
	ev->exe.dev = exe ? exe->dev : 0;
	ev->exe.ino = exe ? exe->ino : 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	struct gp_exe_key key = {};
	struct gp_target *t;
	struct inode *inode;

	if (bpf_map_lookup_elem(&targets, &pid)) {
		emit_process_event(GP_REC_EXEC, pid, NULL); /* user space re-reads its Go version */
		return 0;
	}
	/* The new image's file, as /proc/PID/exe shows it (set by begin_new_exec). */
	inode = BPF_CORE_READ(p, mm, exe_file, f_inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	t = bpf_map_lookup_elem(&exe_targets, &key);
	if (!t && !attach_all)
		return 0;
	if (!t) {
		/* Followed as a plain process until user space has read its executable. */
		struct gp_target plain = {};

		if (bpf_map_update_elem(&targets, &pid, &plain, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&targets, &pid)) {
			bump(&lost, GP_LOST_TARGETS_FULL);
			return 0;
		}
		emit_process_event(GP_REC_EXEC, pid, NULL);
		return 0;
	}
	if (bpf_map_update_elem(&targets, &pid, t, BPF_NOEXIST) && !bpf_map_lookup_elem(&targets, &pid)) {
		bump(&lost, GP_LOST_TARGETS_FULL);
		return 0;
	}
	emit_process_event(GP_REC_EXEC, pid, &key);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);

	if (pid != tid) /* a thread, not the process */
		return 0;
	if (bpf_map_delete_elem(&targets, &pid) == 0)
		emit_process_event(GP_REC_EXIT, pid, NULL);
	return 0;
}
