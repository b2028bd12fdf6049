// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * Go runtime probes (uprobes attached by address, never uretprobes): goroutine creation
 * (runtime.newproc entry: parent and creation stack; runtime.newproc1 RETs: the new g)
 * and exit (runtime.goexit1 entry). Go's register ABI (bpf/arch.bpf.h): the current g is
 * in R14 (R28 on arm64) in Go (ABIInternal) functions; results are in RAX (R0) at a RET.
 *
 * The targets, ring buffer and loss counters are the CPU sampler's maps, shared by fd.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Hits per probe (GP_PROBE_*), for the overhead budget. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_PROBE_NR);
	__type(key, __u32);
	__type(value, __u64);
} probe_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_newproc_event);
} newproc_scratch SEC(".maps");

/* The attached Go process this probe hit belongs to, or NULL. */
static __always_inline struct gp_target *go_target(__u32 pid, __u32 probe)
{
	struct gp_target *t = bpf_map_lookup_elem(&targets, &pid);

	if (!t || !t->is_go)
		return NULL;
	bump(&probe_hits, probe);
	return t;
}

static __always_inline __u64 goid_of(const struct gp_target *t, __u64 g)
{
	__u64 goid = 0;

	if (g)
		bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + t->g_goid));
	return goid;
}

static __always_inline void emit_goroutine(__u32 type, __u64 id, __u64 goid)
{
	struct gp_goroutine_event ev = {
		.type = type,
		.pid = id >> 32,
		.tid = (__u32)id,
		.time_ns = bpf_ktime_get_ns(),
		.goid = goid,
	};

	if (bpf_ringbuf_output(&samples, &ev, sizeof(ev), 0))
		bump(&lost, GP_LOST_EVENTS);
}

SEC("uprobe")
int go_newproc(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), size;
	__u32 zero = 0, n;
	struct gp_newproc_event *ev;
	struct gp_target *t;
	bool unwound;

	t = go_target(id >> 32, GP_PROBE_NEWPROC);
	if (!t)
		return 0;
	ev = bpf_map_lookup_elem(&newproc_scratch, &zero);
	if (!ev)
		return 0;
	ev->type = GP_REC_GO_NEWPROC;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->time_ns = bpf_ktime_get_ns();
	ev->parent_goid = goid_of(t, GO_G(ctx));
	/* Leaf first: the function with the go statement (see entry_stack()). */
	n = entry_stack(ctx, ev->stack, sizeof(ev->stack), &unwound);
	if (n > GP_CREATION_STACK_DEPTH)
		n = GP_CREATION_STACK_DEPTH;
	ev->nr_stack = n;
	size = GP_NEWPROC_EVENT_SIZE(n);
	if (size > sizeof(*ev))
		size = sizeof(*ev);
	if (bpf_ringbuf_output(&samples, ev, size, 0))
		bump(&lost, GP_LOST_EVENTS);
	return 0;
}

SEC("uprobe")
int go_newproc1_ret(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gp_target *t = go_target(id >> 32, GP_PROBE_NEWPROC1_RET);

	if (t)
		emit_goroutine(GP_REC_GO_NEWG, id, goid_of(t, GO_RET1(ctx))); /* result: the new *g */
	return 0;
}

SEC("uprobe")
int go_goexit1(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gp_target *t = go_target(id >> 32, GP_PROBE_GOEXIT1);

	if (t)
		emit_goroutine(GP_REC_GO_EXIT, id, goid_of(t, GO_G(ctx))); /* runs on the exiting g */
	return 0;
}

/* GC and stop-the-world: rare events (a few per GC cycle); user space pairs them. */
static __always_inline int emit_runtime(__u32 type, __u64 arg)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gp_runtime_event ev = {
		.type = type,
		.pid = id >> 32,
		.tid = (__u32)id,
		.time_ns = bpf_ktime_get_ns(),
		.arg = arg,
	};

	if (!go_target(ev.pid, GP_PROBE_GC))
		return 0;
	if (bpf_ringbuf_output(&samples, &ev, sizeof(ev), 0))
		bump(&lost, GP_LOST_EVENTS);
	return 0;
}

SEC("uprobe")
int go_gc_start(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_GC_START_ENTER, GO_ARG1(ctx)); /* gcTrigger.kind */
}

SEC("uprobe")
int go_gc_start_ret(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_GC_START_RET, 0);
}

SEC("uprobe")
int go_gc_markterm(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_GC_MARKTERM_ENTER, 0);
}

SEC("uprobe")
int go_gc_markterm_ret(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_GC_MARKTERM_RET, 0);
}

SEC("uprobe")
int go_stw_stop(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_STW_STOP, 0);
}

SEC("uprobe")
int go_stw_started(struct pt_regs *ctx)
{
	return emit_runtime(GP_REC_STW_STARTED, 0);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_heap_event);
} heap_scratch SEC(".maps");

static __always_inline int emit_heap(struct gp_heap_event *ev, __u32 n)
{
	__u64 size;

	if (n > GP_HEAP_STACK_DEPTH)
		n = GP_HEAP_STACK_DEPTH;
	ev->nr_stack = n;
	size = GP_HEAP_EVENT_SIZE(n);
	if (size > sizeof(*ev))
		size = sizeof(*ev);
	if (bpf_ringbuf_output(&samples, ev, size, 0))
		bump(&lost, GP_LOST_EVENTS);
	return 0;
}

/*
 * runtime.mProf_Malloc(p, size) (Go <= 1.22) or (mp, p, size) (1.23+): called only for
 * the allocations the runtime samples itself (one per MemProfileRate bytes), so cheap.
 */
/* An allocation record with the allocating stack, taken at a function's entry. */
static __always_inline int emit_alloc(struct pt_regs *ctx, struct gp_heap_event *ev, __u32 type,
				      __u64 id, __u64 size)
{
	bool unwound;

	ev->type = type;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->time_ns = bpf_ktime_get_ns();
	ev->size = size;
	return emit_heap(ev, entry_stack(ctx, ev->stack, sizeof(ev->stack), &unwound));
}

SEC("uprobe")
int go_mprof_malloc(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), arg2, arg3;
	struct gp_heap_event *ev;
	struct gp_target *t;
	__u32 zero = 0;

	t = go_target(id >> 32, GP_PROBE_HEAP);
	ev = t ? bpf_map_lookup_elem(&heap_scratch, &zero) : NULL;
	if (!ev)
		return 0;
	/* Read both registers first: a computed offset into ctx is refused by the verifier. */
	arg2 = GO_ARG2(ctx);
	arg3 = GO_ARG3(ctx);
	barrier_var(arg2);
	barrier_var(arg3);
	return emit_alloc(ctx, ev, GP_REC_HEAP_ALLOC, id, t->malloc_size_arg == 2 ? arg3 : arg2);
}

/* runtime.mProf_Free(b *bucket, size): the stack is the bucket's, after its 48-byte header. */
SEC("uprobe")
int go_mprof_free(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), b = GO_ARG1(ctx), nstk = 0;
	struct gp_heap_event *ev;
	__u32 zero = 0, len;

	ev = go_target(id >> 32, GP_PROBE_HEAP) ? bpf_map_lookup_elem(&heap_scratch, &zero) : NULL;
	if (!ev || !b)
		return 0;
	ev->type = GP_REC_HEAP_FREE;
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->time_ns = bpf_ktime_get_ns();
	ev->size = GO_ARG2(ctx);
	bpf_probe_read_user(&nstk, sizeof(nstk), (void *)(b + 40));
	if (nstk > GP_HEAP_STACK_DEPTH)
		nstk = GP_HEAP_STACK_DEPTH;
	len = (__u32)nstk * 8;
	if (len > sizeof(ev->stack))
		len = sizeof(ev->stack);
	if (bpf_probe_read_user(ev->stack, len, (void *)(b + 48)))
		nstk = 0;
	return emit_heap(ev, (__u32)nstk);
}

/* Scheduling latency, aggregated in the kernel per goroutine (the events are too many). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_MAX_SCHED_GOROUTINES);
	__type(key, struct gp_goroutine_key);
	__type(value, struct gp_sched_stats);
} sched SEC(".maps");

#define G_RUNNABLE 1
#define G_RUNNING 2
#define G_SCAN 0x1000

static __always_inline __u32 log2_bucket_us(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 b = 0;

	for (int i = 0; i < GP_SCHED_BUCKETS - 1 && us > 1; i++) {
		us >>= 1;
		b++;
	}
	return b;
}

/* runtime.casgstatus(gp, oldval, newval). */
SEC("uprobe")
int go_casgstatus(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), gp = GO_ARG1(ctx), now;
	__u32 oldval = (__u32)GO_ARG2(ctx) & ~G_SCAN, newval = (__u32)GO_ARG3(ctx) & ~G_SCAN;
	struct gp_goroutine_key key = { .pid = id >> 32 };
	struct gp_sched_stats *st, init = {};
	struct gp_target *t;

	if (newval != G_RUNNABLE && !(oldval == G_RUNNABLE && newval == G_RUNNING))
		return 0; /* only these two transitions matter; decide before the map lookups */
	t = go_target(key.pid, GP_PROBE_SCHED);
	if (!t)
		return 0;
	key.goid = goid_of(t, gp);
	now = bpf_ktime_get_ns();
	st = bpf_map_lookup_elem(&sched, &key);
	if (newval == G_RUNNABLE) {
		if (st) {
			st->runnable_since = now;
		} else {
			init.runnable_since = now;
			bpf_map_update_elem(&sched, &key, &init, BPF_ANY);
		}
		return 0;
	}
	if (!st || !st->runnable_since)
		return 0;
	now -= st->runnable_since;
	st->runnable_since = 0;
	st->count++;
	st->total_ns += now;
	if (now > st->max_ns)
		st->max_ns = now;
	st->hist[log2_bucket_us(now) & (GP_SCHED_BUCKETS - 1)]++;
	return 0;
}

/*
 * Opt-in per-allocation mode: runtime.mallocgc(size, typ, needzero) on every allocation,
 * for binaries whose memory profiling the linker turned off. Measured here: 80x slower
 * allocation loops; the overhead budget removes it from busy allocators.
 */
SEC("uprobe")
int go_mallocgc(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gp_heap_event *ev;
	__u32 zero = 0;

	ev = go_target(id >> 32, GP_PROBE_MALLOCGC) ? bpf_map_lookup_elem(&heap_scratch, &zero) : NULL;
	if (!ev)
		return 0;
	return emit_alloc(ctx, ev, GP_REC_ALLOC_EXACT, id, GO_ARG1(ctx));
}

#include "caps/block/go_block.bpf.h"
