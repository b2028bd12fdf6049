/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine snapshots, part 3 of 3: what the session uses. Per attached Go process a
 * reader (reader.h), the wait time of each parked goroutine across snapshots, leak groups
 * (creation site + wait reason + wait stack) and their growth, the periodic schedule held
 * to a CPU budget, the public snapshot objects and the goroutine profile.
 */
#ifndef GOPROF_GSNAP_H
#define GOPROF_GSNAP_H

#include "goprof/session.h"
#include "internal.h"

struct goprof_symbolizer;
struct gp_gsnap;

struct gp_gsnap_config {
	uint32_t budget_bp;    /* of one core */
	uint64_t interval_ns;  /* shortest interval */
	uint64_t leak_age_ns;
};

/* An attached process as the session knows it. */
struct gp_gsnap_target {
	int pid;
	bool validated; /* its runtime layout was checked against it */
};

GOPROF_HIDDEN struct gp_gsnap *gp_gsnap_new(struct goprof_symbolizer *sym, const struct gp_gsnap_config *cfg);
GOPROF_HIDDEN void gp_gsnap_free(struct gp_gsnap *g);

typedef int (*gp_gsnap_event_fn)(const struct goprof_event *ev, void *ctx);

/*
 * Periodic snapshots: when due (now_ns, CLOCK_MONOTONIC), reads every target and updates
 * wait times and leak groups; new or grown leak groups go to fn (may be NULL). Returns
 * fn's negative value or 0.
 */
GOPROF_HIDDEN int gp_gsnap_tick(struct gp_gsnap *g, const struct gp_gsnap_target *t, size_t n,
				uint64_t now_ns, gp_gsnap_event_fn fn, void *ctx);

/* A snapshot now (of targets t[0..n)), for the public API. NULL with the error recorded. */
GOPROF_HIDDEN struct goprof_goroutine_snapshot *gp_gsnap_take(struct gp_gsnap *g,
							      const struct gp_gsnap_target *t, size_t n);

/* The goroutine profile from a snapshot now (see goprof_session_snapshot_goroutines). */
GOPROF_HIDDEN struct goprof_profile *gp_gsnap_profile(struct gp_gsnap *g, const struct gp_gsnap_target *t,
						      size_t n, uint64_t min_age_ns);

/* The wait profile sampled by the periodic snapshots; reset: start a new interval. */
GOPROF_HIDDEN struct goprof_profile *gp_gsnap_wait_profile(struct gp_gsnap *g, bool reset);

GOPROF_HIDDEN int gp_gsnap_foreach_leak(struct gp_gsnap *g, goprof_goroutine_leak_fn fn, void *ctx);

/* The process exited or exec'd: its reader and history go. */
GOPROF_HIDDEN void gp_gsnap_forget_pid(struct gp_gsnap *g, int pid);

/* Why snapshots of pid fail ("" if they do not). */
GOPROF_HIDDEN const char *gp_gsnap_note(struct gp_gsnap *g, int pid);

/* Adds the snapshot counters to st. */
GOPROF_HIDDEN void gp_gsnap_stats(const struct gp_gsnap *g, struct goprof_session_stats *st);

#endif
