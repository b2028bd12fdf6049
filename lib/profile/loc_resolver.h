/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Addresses of a process (or the kernel) -> locations of one profile model, symbolized
 * once each and cached: (pid, address) -> location id. User frames get one pprof mapping
 * per (process, object file) with its build ID. Shared by every profile a session builds
 * (CPU, goroutines).
 */
#ifndef GOPROF_LOC_RESOLVER_H
#define GOPROF_LOC_RESOLVER_H

#include "internal.h"
#include "profile/idmap.h"

struct goprof_symbolizer;
struct goprof_profile;

struct gp_loc_key {
	uint32_t pid;       /* 0 for kernel addresses */
	uint32_t is_return; /* caller frames are looked up at address - 1 */
	uint64_t addr;
};

struct goprof_binary;
/*
 * The executable of pid when its mappings cannot be read any more (a short-lived process
 * gone before its first sample was symbolized), if its addresses are link-time
 * addresses (ET_EXEC); else NULL.
 */
typedef struct goprof_binary *(*gp_fallback_binary_fn)(void *ctx, uint32_t pid);

struct gp_loc_resolver {
	struct goprof_symbolizer *sym;
	struct goprof_profile *prof;
	gp_fallback_binary_fn fallback;
	void *fallback_ctx;

	struct gp_loc_key *keys;  /* [i] for cache entry i + 1 */
	uint32_t *loc_ids;        /* profile location id, 0: not code */
	size_t nr, cap;
	struct gp_idmap idx;

	struct gp_resolver_mapping *maps;
	size_t nr_maps, maps_cap;

	uint64_t hits, misses, unsymbolized;
};

GOPROF_HIDDEN void gp_loc_resolver_init(struct gp_loc_resolver *r, struct goprof_symbolizer *sym,
					struct goprof_profile *prof);
GOPROF_HIDDEN void gp_loc_resolver_fini(struct gp_loc_resolver *r);
/* Empties the cache and points it at a new profile; keeps the symbolizer and fallback. */
GOPROF_HIDDEN void gp_loc_resolver_restart(struct gp_loc_resolver *r, struct goprof_profile *prof);

/*
 * The location of addr: kernel (pid ignored) or user address of pid; is_return for
 * caller frames (return addresses). *id is 0 when a user return address lies in no
 * executable mapping of the process (not code: a frame-pointer walk that ran past the
 * outermost frame). Returns 0 or -ENOMEM.
 */
GOPROF_HIDDEN int gp_loc_resolve(struct gp_loc_resolver *r, uint32_t pid, uint64_t addr,
				 bool is_return, bool kernel, uint32_t *id);

/* Drops everything cached for pid (its process exited; the PID may be reused). */
GOPROF_HIDDEN int gp_loc_resolver_forget_pid(struct gp_loc_resolver *r, uint32_t pid);

/*
 * Resolves a user stack (leaf first) into ids[], dropping a not-code outermost frame and
 * keeping unresolved inner ones as bare addresses; *n gets the count. all_returns: every
 * entry is a return address (creation stacks), else only entries after the first.
 */
GOPROF_HIDDEN int gp_loc_resolve_user_stack(struct gp_loc_resolver *r, uint32_t pid,
					    const uint64_t *stack, uint32_t nr, bool all_returns,
					    uint32_t *ids, uint32_t *n);

/* Function id of the physical (outermost) frame of location loc_id, 0 if unsymbolized. */
GOPROF_HIDDEN uint32_t gp_loc_physical_function(const struct goprof_profile *p, uint32_t loc_id);
/* The physical function of a location is Go's runtime ("runtime."). */
GOPROF_HIDDEN bool gp_loc_is_runtime(const struct goprof_profile *p, uint32_t loc_id);

#endif
