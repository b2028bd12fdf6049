// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Reading and clearing BPF maps in few bpf() calls. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpf_maps.h"

/* Entries per bpf_map_lookup_batch() of a walk: the scheduling table of the demo, 1,440
 * entries, took 2,880 calls a walk key by key. */
#define WALK_BATCH 64

uint64_t gp_map_sum_percpu(struct bpf_map *map, uint32_t idx)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0;
	__u64 *vals;

	if (ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (vals && bpf_map__lookup_elem(map, &idx, sizeof(idx), vals, ncpus * sizeof(*vals), 0) == 0)
		for (int i = 0; i < ncpus; i++)
			total += vals[i];
	free(vals);
	return total;
}

void gp_map_sum_percpu_all(struct bpf_map *map, uint64_t *out, uint32_t n)
{
	int ncpus = libbpf_num_possible_cpus();
	__u32 *keys = calloc(n, sizeof(*keys)), count = n, next = 0;
	__u64 *vals = ncpus > 0 ? calloc((size_t)n * (size_t)ncpus, sizeof(*vals)) : NULL;

	memset(out, 0, n * sizeof(*out));
	if (keys && vals && (bpf_map_lookup_batch(bpf_map__fd(map), NULL, &next, keys, vals, &count,
						  NULL) == 0 || errno == ENOENT)) {
		for (__u32 i = 0; i < count; i++)
			for (int c = 0; c < ncpus && keys[i] < n; c++)
				out[keys[i]] += vals[(size_t)i * (size_t)ncpus + (size_t)c];
	} else {
		for (uint32_t i = 0; i < n; i++)
			out[i] = gp_map_sum_percpu(map, i);
	}
	free(keys);
	free(vals);
}

/*
 * gp_map_walk() in batches. *unsupported is set when the kernel has no batch lookup for
 * the map: the caller walks key by key.
 */
static int walk_batched(struct bpf_map *map, void *key, size_t key_sz, void *val,
			int (*visit)(void *walk), void *walk, bool *unsupported)
{
	size_t val_sz = bpf_map__value_size(map);
	char *keys = malloc(WALK_BATCH * key_sz), *vals = malloc(WALK_BATCH * val_sz);
	__u64 in = 0, out = 0;
	bool first = true;
	int ret = 0;

	while (keys && vals && !ret) {
		__u32 count = WALK_BATCH;
		int err = bpf_map_lookup_batch(bpf_map__fd(map), first ? NULL : &in, &out, keys, vals,
					       &count, NULL);
		int e = errno;

		if (err && e != ENOENT) {
			*unsupported = first; /* else the table changed under us: done */
			break;
		}
		for (__u32 i = 0; i < count && !ret; i++) {
			memcpy(key, keys + i * key_sz, key_sz);
			memcpy(val, vals + i * val_sz, val_sz);
			ret = visit(walk);
		}
		if (err)
			break; /* ENOENT: the end */
		in = out;
		first = false;
	}
	if (!keys || !vals)
		*unsupported = true;
	free(keys);
	free(vals);
	return ret;
}

int gp_map_walk(struct bpf_map *map, void *key, size_t key_sz, void *val,
		int (*visit)(void *walk), void *walk)
{
	char cur[16], next[16];
	int fd = bpf_map__fd(map), ret;
	bool first = true, unsupported = false;

	if (key_sz > sizeof(cur))
		return -EINVAL;
	ret = walk_batched(map, key, key_sz, val, visit, walk, &unsupported);
	if (!unsupported)
		return ret;
	while (bpf_map_get_next_key(fd, first ? NULL : cur, next) == 0) {
		memcpy(cur, next, key_sz);
		first = false;
		memcpy(key, cur, key_sz);
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		ret = visit(walk);
		if (ret)
			return ret;
	}
	return 0;
}

void gp_map_clear(struct bpf_map *map)
{
	char key[64];
	int fd = bpf_map__fd(map);

	if (bpf_map__key_size(map) > sizeof(key))
		return;
	/* The first key each time: deleting the current one would restart a walk anyway. */
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		if (bpf_map_delete_elem(fd, key))
			break;
}
