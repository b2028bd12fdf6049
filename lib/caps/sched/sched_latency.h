/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Scheduling latency: the kernel's per-goroutine records, summarised and by creation site. */
#ifndef GOPROF_SCHED_LATENCY_H
#define GOPROF_SCHED_LATENCY_H

#include "goprof/session.h"
#include "internal.h"

struct gp_go_probes;
struct gp_goroutines;
struct goprof_symbolizer;

/* Summary over the goroutines of pid (0: all). */
GOPROF_HIDDEN void gp_sched_summary(struct gp_go_probes *gp, uint32_t pid, struct goprof_sched_stats *st);

/*
 * Scheduling latency by creation site: builds the profile of goprof_session_snapshot_sched()
 * (stored in *profile unless profile is NULL) and, if fn is given, calls it once per site
 * with the site's sample and summary. goroutines may be NULL (no stacks: one site per
 * process). Returns 0, a negative error with a message, or fn's non-zero value.
 */
GOPROF_HIDDEN int gp_sched_foreach_site(struct gp_go_probes *gp, struct gp_goroutines *goroutines,
					struct goprof_symbolizer *sym, struct goprof_profile **profile,
					goprof_sched_site_fn fn, void *ctx);

#endif
