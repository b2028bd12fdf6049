/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The overhead budget's window, one for every hook that costs the targets (runtime
 * probes, off-CPU, HTTP wire): once a second, what a hook cost the targets is compared
 * with their CPU time in that second.
 */
#ifndef GOPROF_BUDGET_WINDOW_H
#define GOPROF_BUDGET_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#define GP_BUDGET_WINDOW_NS 1000000000ull

struct gp_budget_window {
	uint64_t start_ns;     /* CLOCK_MONOTONIC; 0: no window yet */
	uint64_t start_cpu_ns; /* the targets' CPU time at the start */
};

enum gp_window_step {
	GP_WINDOW_STARTED, /* the first window began: take the counters' baselines */
	GP_WINDOW_OPEN,    /* less than a window has passed: nothing to do */
	GP_WINDOW_ENDED,   /* judge the window that ended; a new one began */
};

/* Is a window to start or to end at now_ns? The caller reads the targets' CPU time (one
 * /proc read per process) only then, not at every poll. */
GOPROF_HIDDEN bool gp_budget_window_due(const struct gp_budget_window *w, uint64_t now_ns);

/*
 * Moves the window on at now_ns, target_cpu_ns being the targets' CPU time so far. When
 * a window ended, *elapsed_ns is its length and *cpu_ns the targets' CPU time in it.
 */
GOPROF_HIDDEN enum gp_window_step gp_budget_window_step(struct gp_budget_window *w, uint64_t now_ns,
							uint64_t target_cpu_ns, uint64_t *elapsed_ns,
							uint64_t *cpu_ns);

/*
 * Did cost_ns (estimated) go above budget_bp basis points of cpu_ns? Never for a budget
 * of 100% (no limit), a cost below 2 ms a window (a few hits while the targets idle are
 * not worth a verdict), or a window without target CPU (they exited meanwhile: there is
 * no one left to protect).
 */
GOPROF_HIDDEN bool gp_budget_exceeded(uint64_t cost_ns, uint64_t cpu_ns, uint32_t budget_bp);

#endif /* GOPROF_BUDGET_WINDOW_H */
