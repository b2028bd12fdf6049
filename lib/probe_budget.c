// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Overhead budget of the Go runtime probes: estimate, compare, detach, explain. */
#include <stdio.h>

#include "probe_budget.h"

#define WINDOW_NS 1000000000ull
/* Below this estimated cost per window a set is never judged: a few hits while the
 * target idles are not worth a verdict. */
#define MIN_JUDGED_COST_NS 2000000ull

void gp_probe_budget_init(struct gp_probe_budget *b, uint32_t budget_bp)
{
	memset(b, 0, sizeof(*b));
	b->budget_bp = budget_bp ? budget_bp : GP_DEFAULT_BUDGET_BP;
}

bool gp_probe_budget_due(const struct gp_probe_budget *b, uint64_t now_ns)
{
	return !b->window_start_ns || now_ns - b->window_start_ns >= WINDOW_NS;
}

int gp_probe_budget_check(struct gp_probe_budget *b, struct gp_go_probes *gp, uint64_t now_ns,
			  uint64_t target_cpu_ns, struct gp_budget_verdict *verdicts)
{
	uint64_t cpu, elapsed;
	int n = 0;

	if (!b->window_start_ns) {
		b->window_start_ns = now_ns;
		b->window_target_cpu_ns = target_cpu_ns;
		for (int s = 0; s < GP_SET_NR; s++)
			b->window_hits[s] = gp_go_probes_set_hits(gp, s);
		return 0;
	}
	elapsed = now_ns - b->window_start_ns;
	if (elapsed < WINDOW_NS)
		return 0;
	cpu = target_cpu_ns > b->window_target_cpu_ns ? target_cpu_ns - b->window_target_cpu_ns : 0;
	for (int s = 0; s < GP_SET_NR; s++) {
		uint64_t hits = gp_go_probes_set_hits(gp, s), delta = hits - b->window_hits[s];
		uint64_t cost = delta * GP_UPROBE_HIT_NS;
		struct gp_budget_verdict *v = &verdicts[n];

		b->window_hits[s] = hits;
		b->total_cost_ns += cost;
		/* No target CPU in the window: they exited (or were detached) meanwhile, and
		 * there is no one left to protect; the hits are from before. A budget of 100%
		 * is no limit: the estimate per hit can exceed what the targets were charged. */
		if (!gp_go_probes_set_active(gp, s) || b->budget_bp >= 10000 ||
		    cost < MIN_JUDGED_COST_NS || !cpu ||
		    cost * 10000 <= (uint64_t)b->budget_bp * cpu)
			continue;
		v->set = s;
		v->hits_per_s = delta * 1e9 / elapsed;
		v->cost_share = (double)cost / cpu;
		snprintf(v->message, sizeof(v->message),
			 "%s detached: %.0f hits/s cost about %.1f%% of the profiled processes' CPU "
			 "(%llu us per hit estimated), above the budget of %.2f%%",
			 gp_probe_set_name(s), v->hits_per_s, 100 * v->cost_share,
			 GP_UPROBE_HIT_NS / 1000, b->budget_bp / 100.0);
		gp_go_probes_detach_set(gp, s);
		b->sets_detached++;
		n++;
	}
	b->window_start_ns = now_ns;
	b->window_target_cpu_ns = target_cpu_ns;
	return n;
}
