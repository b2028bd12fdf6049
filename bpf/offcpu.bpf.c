// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * Off-CPU time of attached processes' threads, from the scheduler's sched_switch
 * tracepoint. When a target thread is switched out its time and stacks (user and
 * kernel, as stack map ids) are kept per thread; when it is switched in again the
 * interval is added to an in-kernel table keyed by (process, user stack, kernel stack).
 * The table's values only grow: user space reads differences and never deletes an entry
 * a CPU may be adding to.
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EFAULT 14 /* bpf_get_stackid: no stack to walk (not an error worth counting) */

/* Set before load. */
const volatile __u64 min_ns = 1000;  /* shorter intervals are dropped */
const volatile __u64 max_ns = 0;     /* longer intervals are dropped; 0: no limit */
const volatile __u32 user_stacks = 1;
const volatile __u32 kernel_stacks = 1;

/* Changed by user space while running. */
__u32 sample_every = 1;  /* keep 1 switch-out in N (the overhead budget may raise it) */
__u32 generation = 1;    /* bumped at every attach: older start records are stale */

/* Shared with the session (bpf_map__reuse_fd). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct gp_target);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Threads off CPU: tid -> when and where they left. LRU: a thread that dies while the
 * program is detached must not hold its slot for ever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_OFFCPU_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct gp_offcpu_start);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, GP_OFFCPU_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GP_MAX_STACK_DEPTH * sizeof(__u64)); /* resized by the loader */
} offcpu_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_OFFCPU_MAX_ENTRIES);
	__type(key, struct gp_offcpu_key);
	__type(value, struct gp_offcpu_value);
} offcpu_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_OFFCPU_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_counters SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		(*v)++; /* per-CPU slot: no atomics needed */
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
	st.user_stack = user_stacks ? bpf_get_stackid(ctx, &offcpu_stacks, BPF_F_USER_STACK) : -1;
	st.kernel_stack = kernel_stacks ? bpf_get_stackid(ctx, &offcpu_stacks, 0) : -1;
	if ((user_stacks && st.user_stack < 0 && st.user_stack != -EFAULT) ||
	    (kernel_stacks && st.kernel_stack < 0 && st.kernel_stack != -EFAULT))
		bump(&offcpu_counters, GP_OFFCPU_CNT_STACK_LOST);
	/* LRU: never fails for want of room (65536 threads off CPU at once would evict). */
	bpf_map_update_elem(&offcpu_start, &tid, &st, BPF_ANY);
}

/* Thread tid runs again: if it was seen leaving, add the interval to the table. */
static __always_inline void switch_in(__u32 tid)
{
	struct gp_offcpu_start *st = bpf_map_lookup_elem(&offcpu_start, &tid);
	struct gp_offcpu_key key = {};
	struct gp_offcpu_value *v, init;
	__u64 delta;

	if (!st)
		return;
	delta = bpf_ktime_get_ns() - st->time_ns;
	key.pid = st->pid;
	key.user_stack = st->user_stack;
	key.kernel_stack = st->kernel_stack;
	init.count = st->weight;
	init.total_ns = delta * st->weight;
	if (st->generation != generation) {
		bpf_map_delete_elem(&offcpu_start, &tid);
		return;
	}
	bpf_map_delete_elem(&offcpu_start, &tid);
	if (delta < min_ns || (max_ns && delta > max_ns)) {
		bump(&offcpu_counters, GP_OFFCPU_CNT_FILTERED);
		return;
	}
	v = bpf_map_lookup_elem(&offcpu_table, &key);
	if (!v) {
		if (bpf_map_update_elem(&offcpu_table, &key, &init, BPF_NOEXIST) == 0) {
			bump(&offcpu_counters, GP_OFFCPU_CNT_RECORDED);
			return;
		}
		v = bpf_map_lookup_elem(&offcpu_table, &key); /* another CPU inserted it first */
		if (!v) {
			bump(&lost, GP_LOST_OFFCPU);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, init.count);
	__sync_fetch_and_add(&v->total_ns, init.total_ns);
	bump(&offcpu_counters, GP_OFFCPU_CNT_RECORDED);
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
