// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Processes whose runtime layout could not be judged when they were attached (exec'd a
 * moment before: no goroutines yet; or idle, with none on a thread) are judged again
 * until their runtime shows enough: often for a while, then once a second. A layout
 * that validates gets goroutine context (and the runtime probes, for a newer release);
 * one that does not loses it.
 */
#include <stdio.h>
#include <time.h>

#include "core/session.h"

#define REVALIDATE_LATER_NS 1000000000ull
#define REVALIDATE_FAILURES 3

/* The new judgement of a process's layout: goroutine context on, or off. */
static void judged(struct goprof_session *s, struct attached_process *p, const char *exe,
		   const struct gp_target *t, const struct goprof_process_info *info)
{
	gp_procs_set_target(s, p->info.pid, t);
	if (t->is_go) {
		p->info.flags |= info->flags & (GOPROF_PROCESS_GOROUTINES |
						GOPROF_PROCESS_LAYOUT_VALIDATED);
		if (info->note[0])
			gp_strlcpy(p->info.note, info->note, sizeof(p->info.note));
		if (!(p->info.flags & GOPROF_PROCESS_RUNTIME_PROBES))
			gp_runtime_probes_attach(s, exe, (int)p->info.pid, t, &p->info);
	} else {
		/* The layout does not fit: off before it gives one more wrong ID. */
		p->info.flags &= ~(GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_LAYOUT_VALIDATED |
				   GOPROF_PROCESS_RUNTIME_PROBES);
		gp_strlcpy(p->info.note, info->note, sizeof(p->info.note));
	}
}

void gp_procs_revalidate_tick(struct goprof_session *s)
{
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);

	for (size_t i = 0; i < s->nr_procs; i++) {
		struct attached_process *p = &s->procs[i];
		struct goprof_process_info info = p->info;
		struct gp_target t;
		char exe[64];

		if (!p->revalidate_until_ns || !p->attached || p->info.flags & GOPROF_PROCESS_EXITED ||
		    now < p->revalidate_next_ns)
			continue;
		p->revalidate_next_ns = now + (now < p->revalidate_until_ns ? GP_REVALIDATE_EVERY_NS
									  : REVALIDATE_LATER_NS);
		snprintf(exe, sizeof(exe), "/proc/%u/exe", p->info.pid);
		if (gp_target_inspect(exe, (int)p->info.pid, &t, &info) == GP_TARGET_UNDECIDED) {
			if (!t.is_go) /* a newer release: the latest reason it is still off */
				gp_strlcpy(p->info.note, info.note, sizeof(p->info.note));
			continue;
		}
		if (!t.is_go && ++p->revalidate_failures < REVALIDATE_FAILURES) {
			p->revalidate_next_ns = now + GP_REVALIDATE_EVERY_NS; /* confirm it soon */
			continue;
		}
		p->revalidate_failures = 0;
		p->revalidate_until_ns = 0;
		judged(s, p, exe, &t, &info);
	}
}
