/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Thread off-CPU profile of a session (GOPROF_FEATURE_OFFCPU): loads lib/caps/offcpu/offcpu.bpf.c on
 * the scheduler's sched_switch tracepoint (sharing the session's target map and loss
 * counters), reads the kernel's ever-growing table of (process, user stack, kernel
 * stack) -> (intervals, nanoseconds) and adds what grew since the last read to a
 * symbolized profile (contentions/count, delay/nanoseconds).
 */
#ifndef GOPROF_CAPS_OFFCPU_H
#define GOPROF_CAPS_OFFCPU_H

#include "core/capability.h"
#include "caps/offcpu/offcpu_records.h"
#include "internal.h"
#include "profile/loc_resolver.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_offcpu;

struct bpf_map;
struct goprof_profile;
struct goprof_symbolizer;
struct gp_offcpu;

struct gp_offcpu_config {
	uint64_t min_ns, max_ns;     /* thresholds; max_ns 0: none */
	uint32_t sample_every;       /* 1-in-N switch-outs; 0 or 1: all */
	uint32_t user_depth, kernel_depth; /* frames; kernel_depth 0: no kernel stacks */
	const char *only_flavour;    /* "tp_btf", "raw_tp", "tracepoint": no fallback; NULL: any */
};

/* Names a process for the root frame of folded stacks (NULL: none known). */
typedef const char *(*gp_offcpu_name_fn)(void *ctx, uint32_t pid);

/*
 * Loads and verifies the program, trying tp_btf, then raw_tp, then the classic
 * tracepoint. Returns NULL with errno and a message: GOPROF_ERRNO_KERNEL when no
 * flavour attaches, EPERM, GOPROF_ERRNO_VERIFIER.
 */
struct gp_shared_maps;
GOPROF_HIDDEN struct gp_offcpu *gp_offcpu_new(const struct gp_shared_maps *shared,
					      struct goprof_symbolizer *sym,
					      const struct gp_offcpu_config *cfg);
GOPROF_HIDDEN void gp_offcpu_free(struct gp_offcpu *o);
/* Which flavour loaded: "tp_btf", "raw_tp" or "tracepoint". */
GOPROF_HIDDEN const char *gp_offcpu_flavour(const struct gp_offcpu *o);

/* Attaches to sched_switch (session start); threads already off CPU are not counted. */
GOPROF_HIDDEN int gp_offcpu_attach(struct gp_offcpu *o);
/* Detaches (session stop, or the overhead budget); what was measured stays. */
GOPROF_HIDDEN void gp_offcpu_detach(struct gp_offcpu *o);
GOPROF_HIDDEN bool gp_offcpu_attached(const struct gp_offcpu *o);

/* Names processes and finds executables of processes gone before symbolization. */
GOPROF_HIDDEN void gp_offcpu_set_callbacks(struct gp_offcpu *o, gp_offcpu_name_fn name,
					   gp_fallback_binary_fn fallback, void *ctx);

/* Adds what the kernel's tables gained since they were last read to the profile (both:
 * snapshots, exits; tick() reads the one not in use). Returns 0 or a negative errno
 * (ENOMEM: counted in *lost_aggregation of gp_offcpu_stats). */
GOPROF_HIDDEN int gp_offcpu_drain(struct gp_offcpu *o);

/* After a final drain: drops the kernel rows and caches of an exited process, and the
 * stacks no other process's row refers to. */
GOPROF_HIDDEN void gp_offcpu_forget_pid(struct gp_offcpu *o, uint32_t pid);

/* Drains, then copies the profile (the caller owns it); reset starts a new interval. */
GOPROF_HIDDEN struct goprof_profile *gp_offcpu_snapshot(struct gp_offcpu *o, bool reset);

/* The sampling rate: keep 1 switch-out in n (n >= 1). */
GOPROF_HIDDEN void gp_offcpu_set_sample_every(struct gp_offcpu *o, uint32_t n);
GOPROF_HIDDEN uint32_t gp_offcpu_sample_every(const struct gp_offcpu *o);

/*
 * Overhead budget. Estimated cost to the targets: GP_OFFCPU_SAMPLED_NS per sampled
 * switch-out (two stack walks, the start record, the table update at switch-in) and
 * GP_OFFCPU_SKIPPED_NS per switch-out the sampling skips (the filter lookups). Measured
 * with kernel.bpf_stats_enabled by bench/offcpu on our 2-core VM under heavy load (load
 * average 20-46, inflated by steal): 3-4 us per hit sampling every switch-out, 0.7-0.8 us
 * sampling 1 in 16; the GUIDE measured a plain two-stack program at 1.25 us on a quieter
 * machine. Once a second the cost in the window is compared with the targets' CPU time;
 * over budget_bp (basis points), sampling goes to 1 in N (a power of two) with N large
 * enough, or, beyond 1 in GP_OFFCPU_MAX_SAMPLE_EVERY, the program is detached. A budget
 * of 10000 (100%) never acts.
 */
#define GP_OFFCPU_SAMPLED_NS 2000ull
#define GP_OFFCPU_SKIPPED_NS 300ull
#define GP_OFFCPU_MAX_SAMPLE_EVERY 1024u

enum gp_offcpu_verdict {
	GP_OFFCPU_WITHIN_BUDGET = 0,
	GP_OFFCPU_THROTTLED,  /* sampling turned down: GOPROF_EVENT_OFFCPU_THROTTLED */
	GP_OFFCPU_DETACHED,   /* program detached: GOPROF_EVENT_PROBE_DETACHED */
};

/* now_ns: CLOCK_MONOTONIC; target_cpu_ns: the attached processes' CPU time so far. The
 * message (for the event) is written when the verdict is not WITHIN_BUDGET. */
GOPROF_HIDDEN enum gp_offcpu_verdict gp_offcpu_budget_check(struct gp_offcpu *o, uint64_t now_ns,
							    uint64_t target_cpu_ns,
							    uint32_t budget_bp, char *msg,
							    size_t msg_len);
/* Estimated cost over the session, in nanoseconds. */
GOPROF_HIDDEN uint64_t gp_offcpu_cost_ns(const struct gp_offcpu *o);

struct gp_offcpu_stats {
	uint64_t counters[GP_OFFCPU_CNT_NR]; /* summed over CPUs */
	uint64_t lost_aggregation;           /* table rows not added to the profile (ENOMEM) */
	uint64_t stacks_missing;             /* stacks gone when their row was read */
};
GOPROF_HIDDEN void gp_offcpu_stats(struct gp_offcpu *o, struct gp_offcpu_stats *st);

#endif
