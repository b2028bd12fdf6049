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

/* waits/count + delay/nanoseconds by creation site (goroutines may be NULL: no stacks). */
GOPROF_HIDDEN struct goprof_profile *gp_sched_by_site(struct gp_go_probes *gp,
						      struct gp_goroutines *goroutines,
						      struct goprof_symbolizer *sym);

#endif
