// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * CPU sampling: runs on a perf event (CPU clock, frequency mode) on every CPU, keeps
 * only samples of attached processes, counts them per thread and optionally hands them
 * to user space through a ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "goprof_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load: whether the host wants each sample delivered. */
const volatile bool deliver_samples = false;

/* Attached processes (tgid -> 1). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_THREADS);
	__type(key, struct gp_thread_key);
	__type(value, struct gp_thread_count);
} thread_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by the loader */
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_LOST_NR);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		(*v)++; /* per-CPU slot: no atomics needed */
}

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

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32, tid = (__u32)id;
	struct gp_sample_event *ev;

	if (!bpf_map_lookup_elem(&targets, &pid))
		return 0;
	bump(&counters, GP_CNT_SAMPLES);
	count_thread(pid, tid);

	if (!deliver_samples)
		return 0;
	ev = bpf_ringbuf_reserve(&samples, sizeof(*ev), 0);
	if (!ev) {
		bump(&lost, GP_LOST_RINGBUF_FULL);
		return 0;
	}
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pad = 0;
	ev->time_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	bump(&counters, GP_CNT_DELIVERED);
	return 0;
}
