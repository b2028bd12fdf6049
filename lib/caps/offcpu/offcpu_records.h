/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* The offcpu capability's maps and records, shared by its BPF program and its C
 * (bpf/goprof_bpf.h holds the core program's). */
#ifndef GOPROF_OFFCPU_RECORDS_H
#define GOPROF_OFFCPU_RECORDS_H

#include "goprof_bpf.h"

/*
 * Off-CPU profile (GOPROF_FEATURE_OFFCPU, lib/caps/offcpu/offcpu.bpf.c): time threads of attached
 * processes spend switched out, aggregated in the kernel by (process, user stack, kernel
 * stack), in two tables (offcpu.bpf.c says why). A row's values only grow until user
 * space deletes it.
 */
#define GP_OFFCPU_MAX_THREADS 65536 /* threads off CPU at the same time */
#define GP_OFFCPU_MAX_ENTRIES 16384 /* distinct (process, user stack, kernel stack) a table holds */
#define GP_OFFCPU_MAX_STACKS 8192   /* distinct stacks (a full table is counted) */

/* A stack, stored once under a 64-bit hash of its addresses (0: no stack). */
struct gp_offcpu_stack {
	__u32 nr;   /* addresses in ips[], leaf first */
	__u32 pad;
	__u64 ips[GP_MAX_STACK_DEPTH];
};

/* A thread switched out: kept until it runs again. */
struct gp_offcpu_start {
	__u64 time_ns;      /* bpf_ktime_get_ns at the switch-out */
	__u64 user_stack;   /* stack hashes; 0: not captured */
	__u64 kernel_stack;
	__u32 pid;
	__u32 generation;   /* of the attach that recorded it: older ones are stale */
	__u32 flags;        /* GP_OFFCPU_F_* */
	__u32 weight;       /* 1-in-N sampling: N */
};

#define GP_OFFCPU_F_RUNNABLE 1u /* switched out still runnable (preempted, yield): waiting
				  * for a CPU, not blocked */

struct gp_offcpu_key {
	__u32 pid;
	__u32 flags;        /* GP_OFFCPU_F_* */
	__u64 user_stack;   /* 0: not captured (GP_OFFCPU_CNT_STACK_LOST) */
	__u64 kernel_stack;
};

struct gp_offcpu_value {
	__u64 count;        /* off-CPU intervals, each counted N times under 1-in-N sampling */
	__u64 total_ns;     /* their time, likewise scaled */
};

enum gp_offcpu_counter {
	GP_OFFCPU_CNT_SWITCHES = 0, /* sched_switch hits: every context switch of the machine */
	GP_OFFCPU_CNT_TARGET_OUT,   /* switch-outs of attached processes' threads */
	GP_OFFCPU_CNT_SAMPLED,      /* of those, kept by the 1-in-N sampling */
	GP_OFFCPU_CNT_RECORDED,     /* intervals added to the table */
	GP_OFFCPU_CNT_FILTERED,     /* intervals outside [min, max] */
	GP_OFFCPU_CNT_STACK_LOST,   /* stacks not stored: the stack table was full */
	GP_OFFCPU_CNT_NR,
};

#endif /* GOPROF_OFFCPU_RECORDS_H */
