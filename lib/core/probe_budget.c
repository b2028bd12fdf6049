// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Overhead budget of the Go runtime probes: estimate, compare, detach, explain. */
#include <stdio.h>

#include "core/budget_window.h"
#include "core/probe_budget.h"

void gp_probe_budget_init(struct gp_probe_budget *b, uint32_t budget_bp)
{
	memset(b, 0, sizeof(*b));
	b->budget_bp = budget_bp ? budget_bp : GP_DEFAULT_BUDGET_BP;
}

bool gp_probe_budget_due(const struct gp_probe_budget *b, uint64_t now_ns)
{
	return gp_budget_window_due(&b->window, now_ns);
}

int gp_probe_budget_check(struct gp_probe_budget *b, struct gp_go_probes *gp, uint64_t now_ns,
			  uint64_t target_cpu_ns, struct gp_budget_verdict *verdicts)
{
	enum gp_window_step step;
	uint64_t cpu = 0, elapsed = 0;
	int n = 0;

	step = gp_budget_window_step(&b->window, now_ns, target_cpu_ns, &elapsed, &cpu);
	if (step == GP_WINDOW_OPEN)
		return 0;
	for (int s = 0; s < GP_SET_NR; s++) {
		uint64_t hits = gp_go_probes_set_hits(gp, s), delta = hits - b->window_hits[s];
		uint64_t cost = delta * GP_UPROBE_HIT_NS;
		struct gp_budget_verdict *v = &verdicts[n];

		b->window_hits[s] = hits;
		if (step == GP_WINDOW_STARTED)
			continue;
		b->total_cost_ns += cost;
		if (!gp_go_probes_set_active(gp, s) || !gp_budget_exceeded(cost, cpu, b->budget_bp))
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
	return n;
}
