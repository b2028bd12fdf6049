/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Heap profile from the runtime's own sampled allocations (runtime.mProf_Malloc) and
 * their frees (runtime.mProf_Free): per allocation site, allocated and in-use objects
 * and bytes, scaled like Go's heap profile (each sample stands for about MemProfileRate
 * bytes of allocations).
 */
#ifndef GOPROF_HEAP_TABLE_H
#define GOPROF_HEAP_TABLE_H

#include "goprof_bpf.h"
#include "internal.h"

struct goprof_symbolizer;
struct goprof_profile;
struct gp_heap_table;

GOPROF_HIDDEN struct gp_heap_table *gp_heap_table_new(struct goprof_symbolizer *sym);
GOPROF_HIDDEN void gp_heap_table_free(struct gp_heap_table *t);

/* One GP_REC_HEAP_ALLOC, GP_REC_ALLOC_EXACT or GP_REC_HEAP_FREE record; 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_heap_table_add(struct gp_heap_table *t, const struct gp_heap_event *ev,
				    const char *process_name);

/* Drops what is cached for an exited process. */
GOPROF_HIDDEN void gp_heap_table_forget_pid(struct gp_heap_table *t, uint32_t pid);

/*
 * The heap profile: alloc_objects/count, alloc_space/bytes, inuse_objects/count,
 * inuse_space/bytes (default inuse_space), scaled with MemProfileRate = rate_bytes.
 */
GOPROF_HIDDEN struct goprof_profile *gp_heap_table_snapshot(struct gp_heap_table *t,
							    uint64_t rate_bytes);

#endif
