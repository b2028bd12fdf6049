/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The overhead budget of the Go runtime probes. Every probe counts its hits in the
 * kernel; each hit costs the target about GP_UPROBE_HIT_NS (a uprobe trap and the BPF
 * program, measured on our VMs). Once a second the session compares what each probe set
 * cost in the last window with the attached processes' CPU time in that window; a set
 * above the budget (default 1% of the targets' CPU) is detached, with an event naming it,
 * its rate and the reason.
 */
#ifndef GOPROF_PROBE_BUDGET_H
#define GOPROF_PROBE_BUDGET_H

#include "core/budget_window.h"
#include "go/go_probes.h"
#include "internal.h"

/* Cost of one uprobe hit on the target: trap, BPF program, return (GUIDE: ~5 us). */
#define GP_UPROBE_HIT_NS 5000ull
/* Default budget: 1% of the targets' CPU, in basis points. */
#define GP_DEFAULT_BUDGET_BP 100

struct gp_probe_budget {
	uint32_t budget_bp;
	struct gp_budget_window window;
	uint64_t window_hits[GP_SET_NR];    /* at the window's start */
	uint64_t total_cost_ns;             /* estimated, over the session */
	uint32_t sets_detached;
};

/* A probe set the budget removed: for the host's event. */
struct gp_budget_verdict {
	enum gp_probe_set set;
	double hits_per_s;
	double cost_share; /* estimated cost / targets' CPU, in the window */
	char message[256];
};

GOPROF_HIDDEN void gp_probe_budget_init(struct gp_probe_budget *b, uint32_t budget_bp);

/* Is a window to start or to end at now_ns? The caller reads the targets' CPU time (one
 * /proc read per process) only then, not at every poll. */
GOPROF_HIDDEN bool gp_probe_budget_due(const struct gp_probe_budget *b, uint64_t now_ns);

/*
 * Ends the window if a second has passed: target_cpu_ns is the attached processes' CPU
 * time so far. Detaches sets over budget and fills verdicts[] (GP_SET_NR entries);
 * returns how many, 0 if none or the window is still open.
 */
GOPROF_HIDDEN int gp_probe_budget_check(struct gp_probe_budget *b, struct gp_go_probes *gp,
					uint64_t now_ns, uint64_t target_cpu_ns,
					struct gp_budget_verdict *verdicts);

#endif
