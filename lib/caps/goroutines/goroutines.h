/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine lifecycle table: live goroutines of attached Go processes (created after
 * the probes were attached), with parent, creation time and creation stack; the
 * goroutine profile and leak report are snapshots of it.
 */
#ifndef GOPROF_GOROUTINES_H
#define GOPROF_GOROUTINES_H

#include "goprof_bpf.h"
#include "internal.h"

struct goprof_symbolizer;
struct goprof_profile;
struct gp_goroutines;

struct gp_goroutine_stats {
	uint64_t created, exited, live;
	uint64_t unpaired; /* a new g without its creation record (lost or reordered) */
};

GOPROF_HIDDEN struct gp_goroutines *gp_goroutines_new(struct goprof_symbolizer *sym);
GOPROF_HIDDEN void gp_goroutines_free(struct gp_goroutines *t);

/* Ring buffer records; each returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_goroutines_newproc(struct gp_goroutines *t, const struct gp_newproc_event *ev);
/* *parent_goid gets the creating goroutine (0 if its record was lost). */
GOPROF_HIDDEN int gp_goroutines_newg(struct gp_goroutines *t, const struct gp_goroutine_event *ev,
				     uint64_t *parent_goid);
GOPROF_HIDDEN void gp_goroutines_exit(struct gp_goroutines *t, const struct gp_goroutine_event *ev);
/* The process exited: its goroutines are gone. */
GOPROF_HIDDEN void gp_goroutines_forget_pid(struct gp_goroutines *t, uint32_t pid);

/*
 * Goroutines alive for at least min_age_ns (0: all), grouped by process and creation
 * stack: sample types goroutine/count and age/nanoseconds (summed), with numeric labels
 * oldest_age (nanoseconds) and pid. now_ns is CLOCK_MONOTONIC (bpf_ktime_get_ns's clock).
 */
GOPROF_HIDDEN struct goprof_profile *gp_goroutines_snapshot(struct gp_goroutines *t,
							    uint64_t now_ns, uint64_t min_age_ns);

/* Creation stack of a live goroutine (1-based id), 0 if unknown. */
GOPROF_HIDDEN uint32_t gp_goroutines_stack_of(const struct gp_goroutines *t, uint32_t pid, uint64_t goid);
/* Number of distinct creation stacks so far (ids are 1..n). */
GOPROF_HIDDEN uint32_t gp_goroutines_nr_stacks(const struct gp_goroutines *t);
/* Process of creation stack stack_id. */
GOPROF_HIDDEN uint32_t gp_goroutines_stack_pid(const struct gp_goroutines *t, uint32_t stack_id);

struct gp_loc_resolver;
struct gp_label_in;
/* Adds a sample at creation stack stack_id (0: no stack) of pid to p, resolving through r. */
GOPROF_HIDDEN int gp_goroutines_add_site_sample(struct gp_goroutines *t, struct goprof_profile *p,
						struct gp_loc_resolver *r, uint32_t stack_id,
						uint32_t pid, const int64_t *values,
						const struct gp_label_in *labels, uint32_t nr_labels);

GOPROF_HIDDEN void gp_goroutines_stats(const struct gp_goroutines *t, struct gp_goroutine_stats *st);

#endif
