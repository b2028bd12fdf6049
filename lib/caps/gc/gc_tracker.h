/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * GC cycles from the runtime probes' records. Per process: a stop-the-world that ends
 * while runtime.gcStart runs is the sweep termination (a cycle begins); one that ends
 * while runtime.gcMarkTermination runs is the mark termination; the cycle ends when
 * gcMarkTermination returns. Other stop-the-worlds (ReadMemStats, ...) are counted apart.
 */
#ifndef GOPROF_GC_TRACKER_H
#define GOPROF_GC_TRACKER_H

#include "goprof/session.h"
#include "goprof_bpf.h"
#include "internal.h"

struct gp_gc_tracker;

GOPROF_HIDDEN struct gp_gc_tracker *gp_gc_tracker_new(void);
GOPROF_HIDDEN void gp_gc_tracker_free(struct gp_gc_tracker *t);

/*
 * Takes one record; when it completes a cycle, fills *cycle (a GOPROF_EVENT_GC_CYCLE
 * event) and returns 1; else 0; -ENOMEM on allocation failure.
 */
GOPROF_HIDDEN int gp_gc_tracker_record(struct gp_gc_tracker *t, const struct gp_runtime_event *ev,
				       struct goprof_event *cycle);

/* Summary for pid (0: all processes). */
GOPROF_HIDDEN void gp_gc_tracker_stats(const struct gp_gc_tracker *t, uint32_t pid,
				       struct goprof_gc_stats *out);

#endif
