// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The overhead budget's window (see budget_window.h). */
#include "core/budget_window.h"

#define MIN_JUDGED_COST_NS 2000000ull

bool gp_budget_window_due(const struct gp_budget_window *w, uint64_t now_ns)
{
	return !w->start_ns || now_ns < w->start_ns || now_ns - w->start_ns >= GP_BUDGET_WINDOW_NS;
}

enum gp_window_step gp_budget_window_step(struct gp_budget_window *w, uint64_t now_ns,
					  uint64_t target_cpu_ns, uint64_t *elapsed_ns,
					  uint64_t *cpu_ns)
{
	enum gp_window_step step = GP_WINDOW_ENDED;

	if (!w->start_ns || now_ns < w->start_ns) {
		step = GP_WINDOW_STARTED;
	} else if (now_ns - w->start_ns < GP_BUDGET_WINDOW_NS) {
		return GP_WINDOW_OPEN;
	} else {
		*elapsed_ns = now_ns - w->start_ns;
		*cpu_ns = target_cpu_ns > w->start_cpu_ns ? target_cpu_ns - w->start_cpu_ns : 0;
	}
	w->start_ns = now_ns;
	w->start_cpu_ns = target_cpu_ns;
	return step;
}

bool gp_budget_exceeded(uint64_t cost_ns, uint64_t cpu_ns, uint32_t budget_bp)
{
	return budget_bp < 10000 && cost_ns >= MIN_JUDGED_COST_NS && cpu_ns &&
	       cost_ns * 10000 > (uint64_t)budget_bp * cpu_ns;
}
