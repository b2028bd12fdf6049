/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Decoding of the Go runtime's statistics from the bytes read out of a target's memory
 * (runtime.sched, runtime.memstats, runtime.gcController; layouts in rt_layout.h). Pure:
 * no I/O, fuzzed by tests/fuzz/fuzz_rt_decode.c. The bytes are untrusted (the target
 * runs while we read, and a wrong layout reads other fields): every part is checked for
 * the invariants the runtime keeps, and a part that breaks one is not reported at all.
 */
#ifndef GOPROF_RT_DECODE_H
#define GOPROF_RT_DECODE_H

#include "go/rt_layout.h"

#define GP_RT_HIST_COUNTS 720 /* the most counts a timeHistogram has (Go 1.19) */
#define GP_RT_PAUSE_RING 256  /* memstats.pause_ns / pause_end */

/* A decoded runtime.timeHistogram (durations in nanoseconds). */
struct gp_rt_hist {
	uint8_t format;  /* GP_RT_HIST_* */
	uint16_t n;      /* counts used */
	uint64_t counts[GP_RT_HIST_COUNTS];
	uint64_t underflow; /* negative durations (clock steps) */
	uint64_t overflow;  /* beyond the last bucket (Go 1.20+; 1.19 clamps into it) */
	uint64_t total;     /* all of the above */
};

/* gp_rt_snapshot.have */
#define GP_RT_HAVE_GC 0x1u        /* numgc, numforcedgc, pause ring, pause_total_ns */
#define GP_RT_HAVE_PAUSE_HIST 0x2u /* gc_pause: every GC stop-the-world pause */
#define GP_RT_HAVE_STW_OTHER 0x4u /* stw_other: other stop-the-world pauses (Go 1.22+) */
#define GP_RT_HAVE_SCHED 0x8u     /* sched_latency */
#define GP_RT_HAVE_HEAP 0x10u     /* heap_* */
#define GP_RT_HEAP_LIMITED 0x20u  /* a GOMEMLIMIT is set: the goal may be lower */

struct gp_rt_snapshot {
	uint32_t have;
	uint32_t numgc, numforcedgc;
	uint64_t pause_total_ns, last_gc_unix, last_gc_nanotime;
	uint64_t pause_ns[GP_RT_PAUSE_RING], pause_end[GP_RT_PAUSE_RING];
	struct gp_rt_hist sched_latency, gc_pause, stw_other;
	int64_t gc_percent, memory_limit;
	uint64_t heap_inuse, heap_live, heap_marked, heap_goal;
	char why[128]; /* the first invariant a rejected part broke */
};

/* Bytes to read from the start of each structure for layout lay. */
GOPROF_HIDDEN void gp_rt_region_sizes(const struct gp_rt_layout *lay, size_t *sched, size_t *memstats,
				      size_t *gc_controller);

/*
 * Decodes what was read: sched, memstats and gc (gcController) from the start of each
 * structure, of the lengths gp_rt_region_sizes() gives (a shorter or NULL buffer leaves
 * its part out). now_unix_ns / now_mono_ns: the reader's clocks when it read (bounds for
 * the times found). Fills *out; returns out->have (0: nothing valid, why says why).
 */
GOPROF_HIDDEN uint32_t gp_rt_decode(const struct gp_rt_layout *lay, const uint8_t *sched, size_t sched_len,
				    const uint8_t *memstats, size_t ms_len, const uint8_t *gc, size_t gc_len,
				    uint64_t now_unix_ns, uint64_t now_mono_ns, struct gp_rt_snapshot *out);

/* Bounds [lo, hi) in ns of count k of a histogram of format (hi UINT64_MAX: open). */
GOPROF_HIDDEN void gp_rt_hist_bounds(uint8_t format, unsigned k, uint64_t *lo, uint64_t *hi);

/*
 * out = a - b, bucket by bucket (the runtime's counts only grow). Returns 0, or -EINVAL
 * if a count went down (another process, a torn read): out is then zero.
 */
GOPROF_HIDDEN int gp_rt_hist_sub(struct gp_rt_hist *out, const struct gp_rt_hist *a, const struct gp_rt_hist *b);

/* Upper bound (ns) of the bucket holding the pct-th percentile; 0 if empty. Underflows
 * count as 0 ns; an overflow as its lower bound. */
GOPROF_HIDDEN uint64_t gp_rt_hist_percentile(const struct gp_rt_hist *h, unsigned pct);

/* Upper bound (ns) of the highest non-empty bucket (overflow: its lower bound); 0 if empty. */
GOPROF_HIDDEN uint64_t gp_rt_hist_max(const struct gp_rt_hist *h);

/*
 * Adds h to a log2 histogram of microseconds: out[i] counts [2^i, 2^(i+1)) us, bucket 0
 * includes < 1 us (the library's public histograms), each runtime bucket by its lower bound.
 */
GOPROF_HIDDEN void gp_rt_hist_add_log2us(const struct gp_rt_hist *h, uint64_t *out, int nr_buckets);

#endif
