/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The session's aggregated CPU stack table: each sample from the ring buffer is
 * symbolized (once per distinct address per process, cached) and added to a profile
 * model; a snapshot is a copy the host owns.
 */
#ifndef GOPROF_CPU_TABLE_H
#define GOPROF_CPU_TABLE_H

#include "goprof_bpf.h"
#include "internal.h"

struct goprof_symbolizer;
struct goprof_profile;
struct gp_cpu_table;

/* flags: GOPROF_CPU_PROFILE_* (session.h); max_timestamps: the bound per interval with
 * GOPROF_CPU_PROFILE_TIMESTAMPS. */
GOPROF_HIDDEN struct gp_cpu_table *gp_cpu_table_new(struct goprof_symbolizer *sym, unsigned freq_hz,
						    uint32_t flags, uint32_t max_timestamps);
GOPROF_HIDDEN void gp_cpu_table_free(struct gp_cpu_table *t);

/*
 * Adds one sample; process_name (the root frame of folded stacks and flame graphs) may
 * be NULL to use the thread's name. Returns 0 or a negative errno (ENOMEM).
 */
GOPROF_HIDDEN int gp_cpu_table_add(struct gp_cpu_table *t, const struct gp_sample_event *ev,
				   const char *process_name);

/*
 * Copies the samples added since the last reset (or creation) into a new profile the
 * caller owns, with time and duration set; with reset, starts a new interval.
 */
GOPROF_HIDDEN struct goprof_profile *gp_cpu_table_snapshot(struct gp_cpu_table *t, bool reset);

/* Drops what is cached for an exited process (see gp_loc_resolver_forget_pid). */
GOPROF_HIDDEN void gp_cpu_table_forget_pid(struct gp_cpu_table *t, uint32_t pid);
/* Where to symbolize processes gone before their maps were read. */
struct goprof_binary;
GOPROF_HIDDEN void gp_cpu_table_set_fallback(struct gp_cpu_table *t,
					     struct goprof_binary *(*fn)(void *ctx, uint32_t pid),
					     void *ctx);

/* Marks the start of the profiled interval (called when sampling starts). */
GOPROF_HIDDEN void gp_cpu_table_mark_start(struct gp_cpu_table *t);

/* Counters for the session's statistics. */
struct gp_cpu_table_stats {
	uint64_t samples;          /* samples added */
	uint64_t frames_unsymbolized; /* addresses no symbol was found for */
	uint64_t location_cache_hits, location_cache_misses;
	uint64_t stacks;         /* distinct samples in the current profile */
	uint64_t cache_entries;  /* addresses in the current location cache */
	uint64_t resets;         /* intervals started by a reset */
};
GOPROF_HIDDEN void gp_cpu_table_stats(const struct gp_cpu_table *t, struct gp_cpu_table_stats *st);

#endif
