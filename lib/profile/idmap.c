// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Open-addressing (linear probing) id index; see idmap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/idmap.h"

void gp_idmap_free(struct gp_idmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

void gp_idmap_clear(struct gp_idmap *m)
{
	if (m->slots)
		memset(m->slots, 0, ((size_t)m->mask + 1) * sizeof(*m->slots));
	m->count = 0;
}

uint32_t gp_idmap_find(const struct gp_idmap *m, uint32_t hash, gp_idmap_eq_fn eq,
		       const void *tables, const void *key)
{
	uint32_t i;

	if (!m->slots)
		return 0;
	for (i = hash & m->mask;; i = (i + 1) & m->mask) {
		const struct gp_idmap_slot *s = &m->slots[i];

		if (!s->id)
			return 0;
		if (s->hash == hash && eq(tables, s->id, key))
			return s->id;
	}
}

static void place(struct gp_idmap_slot *slots, uint32_t mask, uint32_t hash, uint32_t id)
{
	uint32_t i = hash & mask;

	while (slots[i].id)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].id = id;
}

static int grow(struct gp_idmap *m)
{
	size_t cap = m->slots ? ((size_t)m->mask + 1) * 2 : 64;
	struct gp_idmap_slot *slots;
	size_t i;

	if (cap > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	if (m->slots) {
		for (i = 0; i <= m->mask; i++)
			if (m->slots[i].id)
				place(slots, (uint32_t)(cap - 1), m->slots[i].hash, m->slots[i].id);
		free(m->slots);
	}
	m->slots = slots;
	m->mask = (uint32_t)(cap - 1);
	return 0;
}

int gp_idmap_insert(struct gp_idmap *m, uint32_t hash, uint32_t id)
{
	/* Keep the load factor under 1/2 so probe sequences stay short. */
	if (!m->slots || (size_t)(m->count + 1) * 2 > (size_t)m->mask + 1) {
		int err = grow(m);

		if (err)
			return err;
	}
	place(m->slots, m->mask, hash, id);
	m->count++;
	return 0;
}

uint64_t gp_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = gp_hash_mix(h, w);
		s += 8;
		n -= 8;
	}
	w = 0;
	if (n)
		memcpy(&w, s, n);
	return gp_hash_mix(h, w);
}
