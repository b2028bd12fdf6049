/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Types shared between the BPF programs and the library (included by both sides).
 * Fixed-width types only; both sides must agree on the layout.
 */
#ifndef GOPROF_BPF_SHARED_H
#define GOPROF_BPF_SHARED_H

#define GP_TASK_COMM_LEN 16
#define GP_MAX_TARGETS 4096
#define GP_MAX_THREADS 65536

/* Why a sample was not recorded everywhere it should have been. */
enum gp_lost_cause {
	GP_LOST_RINGBUF_FULL = 0,   /* bpf_ringbuf_reserve failed */
	GP_LOST_THREAD_TABLE_FULL,  /* per-thread count map had no room */
	GP_LOST_NR,
};

/* Per-CPU counters of the sampling program. */
enum gp_counter {
	GP_CNT_SAMPLES = 0,   /* samples of attached processes */
	GP_CNT_DELIVERED,     /* samples written to the ring buffer */
	GP_CNT_NR,
};

struct gp_thread_key {
	__u32 pid;
	__u32 tid;
};

struct gp_thread_count {
	__u64 samples;
	char comm[GP_TASK_COMM_LEN];
};

/* Ring buffer record for one CPU sample. */
struct gp_sample_event {
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u32 pad;
	__u64 time_ns;
	char comm[GP_TASK_COMM_LEN];
};

#endif
