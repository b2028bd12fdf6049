/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Reading and clearing BPF maps from user space, in as few bpf() calls as the kernel
 * allows: every module that reads a map goes through here.
 */
#ifndef GOPROF_BPF_MAPS_H
#define GOPROF_BPF_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct bpf_map;

/* Sum over CPUs of entry idx of a per-CPU array map (0 if unreadable). */
GOPROF_HIDDEN uint64_t gp_map_sum_percpu(struct bpf_map *map, uint32_t idx);

/*
 * Sums over CPUs of entries [0, n) of a per-CPU array map into out, in one bpf() call
 * where the kernel has batch lookups, else one per entry.
 */
GOPROF_HIDDEN void gp_map_sum_percpu_all(struct bpf_map *map, uint64_t *out, uint32_t n);

/*
 * Walks a hash map: for each entry still there, its key and value are copied into key
 * and val (key_sz bytes of key, at most 16; the map's value size of val) and visit(walk)
 * is called; a non-zero return stops the walk and is returned. Batched where the kernel
 * can, key by key elsewhere.
 */
GOPROF_HIDDEN int gp_map_walk(struct bpf_map *map, void *key, size_t key_sz, void *val,
			      int (*visit)(void *walk), void *walk);

/* Deletes every entry of a hash map (entries added meanwhile may stay). */
GOPROF_HIDDEN void gp_map_clear(struct bpf_map *map);

#endif /* GOPROF_BPF_MAPS_H */
