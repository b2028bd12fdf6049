/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine blocking profile: GP_REC_BLOCK records (a goroutine parked, then was made
 * runnable) summed by parking stack and wait reason, in the format of Go's block profile
 * (contentions/count, delay/nanoseconds). Records are symbolized as they arrive, so a
 * process that exits loses nothing already measured.
 */
#ifndef GOPROF_BLOCK_TABLE_H
#define GOPROF_BLOCK_TABLE_H

#include "goprof_bpf.h"
#include "internal.h"

struct goprof_symbolizer;
struct goprof_profile;
struct gp_block_table;

GOPROF_HIDDEN struct gp_block_table *gp_block_table_new(struct goprof_symbolizer *sym);
GOPROF_HIDDEN void gp_block_table_free(struct gp_block_table *t);

/* One record; reason is Go's string for ev->reason. Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_block_table_add(struct gp_block_table *t, const struct gp_block_event *ev,
				     const char *reason, const char *process_name);

/* Drops what is cached for an exited process (its samples stay). */
GOPROF_HIDDEN void gp_block_table_forget_pid(struct gp_block_table *t, uint32_t pid);

/* Records added so far. */
GOPROF_HIDDEN uint64_t gp_block_table_events(const struct gp_block_table *t);

/* A copy of the profile, stamped with the current time. */
GOPROF_HIDDEN struct goprof_profile *gp_block_table_snapshot(struct gp_block_table *t);

#endif
