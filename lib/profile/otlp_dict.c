// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Deduplicated OTLP dictionary tables (see otlp_dict.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/otlp_dict.h"

/* Grows *arr so that index `need` fits; sets d->failed on allocation failure. */
static bool grow(struct otlp_dict *d, void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need < *cap)
		return true;
	if (d->failed)
		return false;
	n = *cap ? *cap * 2 : 64;
	while (n <= need)
		n *= 2;
	p = realloc(*arr, n * elem);
	if (!p) {
		d->failed = true;
		return false;
	}
	*arr = p;
	*cap = n;
	return true;
}

#define GROW(d, arr, cap, need) grow((d), (void **)&(arr), &(cap), (need), sizeof(*(arr)))

int otlp_dict_init(struct otlp_dict *d)
{
	memset(d, 0, sizeof(*d));
	/* Element 0 of each table is its zero value. */
	if (!GROW(d, d->strs, d->strs_cap, 0) || !GROW(d, d->attrs, d->attrs_cap, 0) ||
	    !GROW(d, d->stacks, d->stacks_cap, 0) || !GROW(d, d->links, d->links_cap, 0)) {
		otlp_dict_free(d);
		return -ENOMEM;
	}
	d->strs[0] = "";
	d->nr_strs = 1;
	memset(&d->attrs[0], 0, sizeof(d->attrs[0]));
	d->nr_attrs = 1;
	memset(&d->stacks[0], 0, sizeof(d->stacks[0]));
	d->nr_stacks = 1;
	memset(&d->links[0], 0, sizeof(d->links[0]));
	d->nr_links = 1;
	return 0;
}

void otlp_dict_free(struct otlp_dict *d)
{
	free(d->strs);
	gp_idmap_free(&d->str_idx);
	free(d->attrs);
	free(d->items);
	gp_idmap_free(&d->attr_idx);
	free(d->stacks);
	free(d->stack_locs);
	gp_idmap_free(&d->stack_idx);
	free(d->links);
	gp_idmap_free(&d->link_idx);
	memset(d, 0, sizeof(*d));
}

/* Adds index `id` (== table size before the append) to the hash index. */
static uint32_t index_new(struct otlp_dict *d, struct gp_idmap *m, uint32_t hash, uint32_t id)
{
	if (gp_idmap_insert(m, hash, id)) {
		d->failed = true;
		return 0;
	}
	return id;
}

static bool str_eq(const void *tables, uint32_t id, const void *key)
{
	const struct otlp_dict *d = tables;

	return !strcmp(d->strs[id], key);
}

uint32_t otlp_dict_str(struct otlp_dict *d, const char *s)
{
	uint32_t h, id;

	if (!s || !*s)
		return 0;
	h = gp_hash_fold(gp_hash_bytes(s, strlen(s), 1));
	id = gp_idmap_find(&d->str_idx, h, str_eq, d, s);
	if (id)
		return id;
	if (!GROW(d, d->strs, d->strs_cap, d->nr_strs))
		return 0;
	d->strs[d->nr_strs] = s;
	return index_new(d, &d->str_idx, h, d->nr_strs++);
}

/* Key of an attribute lookup: the candidate's items are already appended (pending). */
struct attr_key {
	uint32_t key, unit, nr_items;
	const struct otlp_item *items;
};

static bool attr_eq(const void *tables, uint32_t id, const void *key)
{
	const struct otlp_dict *d = tables;
	const struct otlp_attr *a = &d->attrs[id];
	const struct attr_key *k = key;
	uint32_t i;

	if (a->key != k->key || a->unit != k->unit || a->nr_items != k->nr_items)
		return false;
	for (i = 0; i < a->nr_items; i++) {
		const struct otlp_item *x = &d->items[a->item_off + i], *y = &k->items[i];

		if (x->is_num != y->is_num || (x->is_num ? x->num != y->num : strcmp(x->str, y->str)))
			return false;
	}
	return true;
}

uint32_t otlp_dict_attr(struct otlp_dict *d, uint32_t key, uint32_t unit,
			const struct otlp_item *items, uint32_t nr_items)
{
	struct attr_key k = { key, unit, nr_items, items };
	uint64_t h = gp_hash_mix(gp_hash_mix(key, unit), nr_items);
	uint32_t i, id;

	for (i = 0; i < nr_items; i++)
		h = gp_hash_mix(h, items[i].is_num ? (uint64_t)items[i].num :
				   gp_hash_bytes(items[i].str, strlen(items[i].str), 4));
	id = gp_idmap_find(&d->attr_idx, gp_hash_fold(h), attr_eq, d, &k);
	if (id)
		return id;
	if (!GROW(d, d->attrs, d->attrs_cap, d->nr_attrs) ||
	    !GROW(d, d->items, d->items_cap, d->nr_items + nr_items))
		return 0;
	memcpy(d->items + d->nr_items, items, nr_items * sizeof(*items));
	d->attrs[d->nr_attrs] = (struct otlp_attr){ key, unit, d->nr_items, nr_items };
	d->nr_items += nr_items;
	return index_new(d, &d->attr_idx, gp_hash_fold(h), d->nr_attrs++);
}

uint32_t otlp_dict_attr_str(struct otlp_dict *d, const char *key, const char *value)
{
	struct otlp_item it = { 0, 0, value ? value : "" };

	return otlp_dict_attr(d, otlp_dict_str(d, key), 0, &it, 1);
}

struct stack_key {
	const int32_t *locs;
	uint32_t n;
};

static bool stack_eq(const void *tables, uint32_t id, const void *key)
{
	const struct otlp_dict *d = tables;
	const struct stack_key *k = key;

	return d->stacks[id].n == k->n &&
	       !memcmp(d->stack_locs + d->stacks[id].off, k->locs, k->n * sizeof(*k->locs));
}

uint32_t otlp_dict_stack(struct otlp_dict *d, const int32_t *locs, uint32_t n)
{
	struct stack_key k = { locs, n };
	uint32_t h, id;

	if (!n)
		return 0;
	h = gp_hash_fold(gp_hash_bytes(locs, n * sizeof(*locs), 2));
	id = gp_idmap_find(&d->stack_idx, h, stack_eq, d, &k);
	if (id)
		return id;
	if (!GROW(d, d->stacks, d->stacks_cap, d->nr_stacks) ||
	    !GROW(d, d->stack_locs, d->stack_locs_cap, d->nr_stack_locs + n))
		return 0;
	memcpy(d->stack_locs + d->nr_stack_locs, locs, n * sizeof(*locs));
	d->stacks[d->nr_stacks] = (struct otlp_stack){ d->nr_stack_locs, n };
	d->nr_stack_locs += n;
	return index_new(d, &d->stack_idx, h, d->nr_stacks++);
}

static bool link_eq(const void *tables, uint32_t id, const void *key)
{
	const struct otlp_dict *d = tables;

	return !memcmp(&d->links[id], key, sizeof(struct otlp_link));
}

uint32_t otlp_dict_link(struct otlp_dict *d, const struct otlp_link *l)
{
	uint32_t h = gp_hash_fold(gp_hash_bytes(l, sizeof(*l), 3)), id;

	id = gp_idmap_find(&d->link_idx, h, link_eq, d, l);
	if (id)
		return id;
	if (!GROW(d, d->links, d->links_cap, d->nr_links))
		return 0;
	d->links[d->nr_links] = *l;
	return index_new(d, &d->link_idx, h, d->nr_links++);
}
