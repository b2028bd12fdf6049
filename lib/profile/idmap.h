/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Open-addressing hash index from a key to a 1-based uint32 id. The keys themselves live
 * in the caller's tables; the index stores only (hash, id) and asks the caller to compare,
 * so every interning table of the profile model (strings, functions, locations,
 * samples...) shares one implementation with amortized O(1) lookups and inserts.
 */
#ifndef GOPROF_PROFILE_IDMAP_H
#define GOPROF_PROFILE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct gp_idmap_slot {
	uint32_t hash;
	uint32_t id; /* 0: empty */
};

struct gp_idmap {
	struct gp_idmap_slot *slots;
	uint32_t mask;  /* capacity - 1 (capacity is a power of two) */
	uint32_t count;
};

/* Returns true if the entry with this id equals the key being looked up. */
typedef bool (*gp_idmap_eq_fn)(const void *tables, uint32_t id, const void *key);

GOPROF_HIDDEN void gp_idmap_free(struct gp_idmap *m);
GOPROF_HIDDEN void gp_idmap_clear(struct gp_idmap *m);
/* Returns the id of the entry equal to key, or 0. */
GOPROF_HIDDEN uint32_t gp_idmap_find(const struct gp_idmap *m, uint32_t hash, gp_idmap_eq_fn eq,
				     const void *tables, const void *key);
/* Adds an id known to be absent. Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_idmap_insert(struct gp_idmap *m, uint32_t hash, uint32_t id);

/* Hashing helpers (64-bit multiply-mix; not cryptographic). */
GOPROF_HIDDEN uint64_t gp_hash_bytes(const void *p, size_t n, uint64_t seed);
static inline uint64_t gp_hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}
static inline uint32_t gp_hash_fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

#endif /* GOPROF_PROFILE_IDMAP_H */
