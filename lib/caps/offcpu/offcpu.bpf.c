// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * Off-CPU time of attached processes' threads, from the scheduler's sched_switch
 * tracepoint. When a target thread is switched out its time and stacks (user and
 * kernel, as stack hashes) are kept per thread; when it is switched in again the
 * interval is added to an in-kernel table keyed by (process, user stack, kernel stack).
 * Stacks are stored once each under a 64-bit hash of their addresses (a hash table, not
 * a BPF stack map, whose buckets collide long before it is full).
 * The table is two: intervals are added to the one user space says is in use, and it
 * flips them once a second. The other, which no program has added to for a second, it
 * reads and empties: each read sees only the rows that grew (a single table read whole
 * every second cost more and more as rows accumulated). It never deletes an entry a CPU
 * may be adding to; the table in use is read without deleting (values only grow).
 *
 * sched_switch fires for every context switch of the machine, so the common path is two
 * hash lookups that find nothing. Three attach flavours share one body: tp_btf (BTF
 * tracepoint), raw_tp and the classic tracepoint, for kernels that refuse the first.
 * In each, the tracepoint runs on the CPU that switches, while current is still the
 * task being switched out.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "caps/offcpu/offcpu_records.h"
#include "shared.bpf.h" /* targets, samples (unused here) and lost: the session's */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load. */
const volatile __u64 min_ns = 1000;  /* shorter intervals are dropped */
const volatile __u64 max_ns = 0;     /* longer intervals are dropped; 0: no limit */
const volatile __u32 user_stack_bytes = GP_MAX_STACK_DEPTH * 8;
const volatile __u32 kernel_stack_bytes = GP_MAX_STACK_DEPTH * 8; /* 0: none */

/* Changed by user space while running. */
__u32 sample_every = 1;  /* keep 1 switch-out in N (the overhead budget may raise it) */
__u32 generation = 1;    /* bumped at every attach: older start records are stale */
__u32 table_in_use = 0;  /* the table intervals are added to: 0 offcpu_table0, 1 offcpu_table1 */

/* Threads off CPU: tid -> when and where they left. LRU: a thread that dies while the
 * program is detached must not hold its slot for ever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_OFFCPU_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct gp_offcpu_start);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_OFFCPU_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct gp_offcpu_stack);
} offcpu_stacks SEC(".maps");

/* Where a stack is taken before it is hashed and stored. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_offcpu_stack);
} stack_scratch SEC(".maps");

struct offcpu_table {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_OFFCPU_MAX_ENTRIES);
	__type(key, struct gp_offcpu_key);
	__type(value, struct gp_offcpu_value);
};
struct offcpu_table offcpu_table0 SEC(".maps");
struct offcpu_table offcpu_table1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_OFFCPU_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_counters SEC(".maps");

/*
 * Takes the current task's user (BPF_F_USER_STACK) or kernel stack, stores it under the
 * FNV-1a hash of its addresses if it is new, and returns the hash (0: no stack).
 */
static __always_inline __u64 store_stack(void *ctx, __u32 bytes, __u64 flags)
{
	__u64 h = 0xcbf29ce484222325ull ^ flags;
	struct gp_offcpu_stack *st;
	__u32 zero = 0;
	long n;

	st = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!st || !bytes)
		return 0;
	n = bpf_get_stack(ctx, st->ips, bytes, flags);
	if (n <= 0)
		return 0;
	st->nr = (__u32)n / 8;
	for (__u32 i = 0; i < GP_MAX_STACK_DEPTH; i++) {
		if (i >= st->nr)
			break;
		h = (h ^ st->ips[i]) * 0x100000001b3ull;
	}
	h = h ?: 1;
	if (bpf_map_lookup_elem(&offcpu_stacks, &h))
		return h;
	if (bpf_map_update_elem(&offcpu_stacks, &h, st, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&offcpu_stacks, &h)) {
		bump(&offcpu_counters, GP_OFFCPU_CNT_STACK_LOST);
		return 0;
	}
	return h;
}

/* Kernels before 5.14 call task_struct.__state "state". */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline bool still_runnable(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state) == 0; /* TASK_RUNNING */
	return BPF_CORE_READ((struct task_struct___pre514 *)task, state) == 0;
}

/* The thread being switched out (current) belongs to a target: note when and where. */
static __always_inline void switch_out(void *ctx, __u32 pid, __u32 tid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct gp_offcpu_start st = {};
	__u32 every = sample_every;

	/* A dying thread's last switch: it never comes back. */
	if (BPF_CORE_READ(task, exit_state))
		return;
	bump(&offcpu_counters, GP_OFFCPU_CNT_TARGET_OUT);
	if (every > 1 && bpf_get_prandom_u32() % every)
		return;
	bump(&offcpu_counters, GP_OFFCPU_CNT_SAMPLED);
	st.time_ns = bpf_ktime_get_ns();
	st.pid = pid;
	st.generation = generation;
	st.weight = every ? every : 1;
	st.flags = still_runnable(task) ? GP_OFFCPU_F_RUNNABLE : 0;
	st.user_stack = store_stack(ctx, user_stack_bytes, BPF_F_USER_STACK);
	st.kernel_stack = store_stack(ctx, kernel_stack_bytes, 0);
	/* LRU: never fails for want of room (65536 threads off CPU at once would evict). */
	bpf_map_update_elem(&offcpu_start, &tid, &st, BPF_ANY);
}

/* Adds an interval (init) to row key of table. */
static __always_inline void add_interval(void *table, const struct gp_offcpu_key *key,
					 const struct gp_offcpu_value *init)
{
	struct gp_offcpu_value *v = bpf_map_lookup_elem(table, key);

	if (!v) {
		if (bpf_map_update_elem(table, key, init, BPF_NOEXIST) == 0) {
			bump(&offcpu_counters, GP_OFFCPU_CNT_RECORDED);
			return;
		}
		v = bpf_map_lookup_elem(table, key); /* another CPU inserted it first */
		if (!v) {
			bump(&lost, GP_LOST_OFFCPU);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, init->count);
	__sync_fetch_and_add(&v->total_ns, init->total_ns);
	bump(&offcpu_counters, GP_OFFCPU_CNT_RECORDED);
}

/* Thread tid runs again: if it was seen leaving, add the interval to the table in use. */
static __always_inline void switch_in(__u32 tid)
{
	struct gp_offcpu_start *st = bpf_map_lookup_elem(&offcpu_start, &tid);
	struct gp_offcpu_key key = {};
	struct gp_offcpu_value init;
	__u64 delta;

	if (!st)
		return;
	delta = bpf_ktime_get_ns() - st->time_ns;
	key.pid = st->pid;
	key.user_stack = st->user_stack;
	key.kernel_stack = st->kernel_stack;
	key.flags = st->flags;
	init.count = st->weight;
	init.total_ns = delta * st->weight;
	if (st->generation != generation) { /* recorded before a detach: it ran unseen */
		bpf_map_delete_elem(&offcpu_start, &tid);
		return;
	}
	bpf_map_delete_elem(&offcpu_start, &tid);
	/* Detached, or exiting: the process left the target table when its main thread
	 * exited, and the session has read its rows; a thread woken to die adds none. */
	if (!bpf_map_lookup_elem(&targets, &key.pid))
		return;
	if (delta < min_ns || (max_ns && delta > max_ns)) {
		bump(&offcpu_counters, GP_OFFCPU_CNT_FILTERED);
		return;
	}
	if (table_in_use)
		add_interval(&offcpu_table1, &key, &init);
	else
		add_interval(&offcpu_table0, &key, &init);
}

static __always_inline void on_switch(void *ctx, __u32 next_tid)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;

	bump(&offcpu_counters, GP_OFFCPU_CNT_SWITCHES);
	if (pid && bpf_map_lookup_elem(&targets, &pid))
		switch_out(ctx, pid, tid);
	if (next_tid)
		switch_in(next_tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(offcpu_tp_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(ctx, next->pid);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(offcpu_raw_tp, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(ctx, BPF_CORE_READ(next, pid));
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int offcpu_tracepoint(struct trace_event_raw_sched_switch *ctx)
{
	on_switch(ctx, (__u32)ctx->next_pid);
	return 0;
}
