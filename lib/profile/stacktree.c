// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Call tree for the folded and flame graph encoders (see stacktree.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/stacktree.h"

static const char unknown_name[] = "[unknown]";

/*
 * Frames are matched by an integer name key, never by comparing strings: interned
 * strings are equal exactly when their ids are. The high half says what the id is.
 */
#define KEY_FUNC(sid) ((uint64_t)(sid))                /* function name string id */
#define KEY_COMM(sid) ((1ULL << 32) | (sid))           /* process name string id */
#define KEY_OBJECT(sid) ((2ULL << 32) | (sid))         /* unsymbolized: mapping file */
#define KEY_UNKNOWN (3ULL << 32)

struct node_key {
	uint32_t parent, kind;
	uint64_t name_key;
};

static uint32_t node_hash(const struct node_key *k)
{
	return gp_hash_fold(gp_hash_mix(gp_hash_mix(k->name_key, k->kind), k->parent));
}

static bool node_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_tnode *n = &((const struct gp_tnode *)tables)[id - 1];
	const struct node_key *k = key;

	return n->parent == k->parent && n->name_key == k->name_key && n->kind == k->kind;
}

static int add_node(struct gp_stacktree *t, uint32_t parent, uint32_t kind, uint64_t name_key,
		    const char *name)
{
	struct gp_tnode *n;
	size_t cap;

	if (t->nr_nodes == UINT32_MAX - 1)
		return -ENOMEM;
	if (t->nr_nodes == t->nodes_cap) {
		cap = t->nodes_cap ? t->nodes_cap * 2 : 256;
		n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->nodes = n;
		t->nodes_cap = cap;
	}
	n = &t->nodes[t->nr_nodes];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->name_key = name_key;
	n->kind = kind;
	n->parent = parent;
	if (t->nr_nodes) {
		struct gp_tnode *par = &t->nodes[parent];

		n->depth = par->depth + 1;
		n->next_sibling = par->first_child;
		par->first_child = t->nr_nodes;
		t->max_depth = GP_MAX(t->max_depth, n->depth);
	}
	return (int)t->nr_nodes++;
}

/* Returns the child of parent with this kind and name, adding it if needed; or -ENOMEM.
 * name is only read when the node is new. */
static int64_t child(struct gp_stacktree *t, uint32_t parent, uint32_t kind, uint64_t name_key,
		     const char *name)
{
	struct node_key k = { parent, kind, name_key };
	uint32_t hash = node_hash(&k), found;
	int id;

	found = gp_idmap_find(&t->idx, hash, node_eq, t->nodes, &k);
	if (found)
		return found - 1;
	id = add_node(t, parent, kind, name_key, name);
	if (id < 0 || gp_idmap_insert(&t->idx, hash, (uint32_t)id + 1))
		return -ENOMEM;
	return id;
}

/* Name of an unsymbolized frame: "[basename of its mapping]" or "[unknown]". */
static const char *mapping_name(struct gp_stacktree *t, const struct goprof_profile *p,
				uint32_t mapping)
{
	const char *file, *base;
	size_t n;

	if (!mapping || !gp_map(p, mapping)->filename)
		return unknown_name;
	if (t->map_names[mapping])
		return t->map_names[mapping];
	file = gp_str(p, gp_map(p, mapping)->filename);
	base = strrchr(file, '/');
	base = base && base[1] ? base + 1 : file;
	n = strlen(base);
	if (base[0] == '[' && base[n - 1] == ']') { /* already "[vdso]" style */
		t->map_names[mapping] = strdup(base);
	} else {
		t->map_names[mapping] = malloc(n + 3);
		if (t->map_names[mapping])
			snprintf(t->map_names[mapping], n + 3, "[%s]", base);
	}
	return t->map_names[mapping] ? t->map_names[mapping] : unknown_name;
}

static int add_sample(struct gp_stacktree *t, const struct goprof_profile *p,
		      const struct gp_sample *s, int64_t v)
{
	int64_t node = 0;
	uint32_t i, j;

	t->nodes[0].total += v;
	if (s->comm) {
		node = child(t, 0, GP_NODE_COMM, KEY_COMM(s->comm), gp_str(p, s->comm));
		if (node < 0)
			return (int)node;
		t->nodes[node].total += v;
	}
	/* Root first: the stack is stored leaf first, lines innermost first. */
	for (i = s->nr_locs; i-- > 0;) {
		const struct gp_location *loc = gp_loc(p, p->loc_ids[s->loc_off + i]);

		if (!loc->nr_lines) {
			uint32_t file = loc->mapping ? gp_map(p, loc->mapping)->filename : 0;

			node = child(t, (uint32_t)node, loc->kind, file ? KEY_OBJECT(file) : KEY_UNKNOWN,
				     mapping_name(t, p, loc->mapping));
			if (node < 0)
				return (int)node;
			t->nodes[node].total += v;
			continue;
		}
		for (j = loc->nr_lines; j-- > 0;) {
			const struct gp_line *l = &p->lines[loc->line_off + j];
			uint32_t name = gp_func(p, l->function)->name;

			node = child(t, (uint32_t)node, loc->kind, name ? KEY_FUNC(name) : KEY_UNKNOWN,
				     name ? gp_str(p, name) : unknown_name);
			if (node < 0)
				return (int)node;
			t->nodes[node].total += v;
		}
	}
	t->nodes[node].self += v;
	return 0;
}

static int build_unsorted(struct gp_stacktree *t, const struct goprof_profile *p,
		       uint32_t value_index)
{
	uint32_t i;
	int err;

	memset(t, 0, sizeof(*t));
	t->nr_maps = p->nr_mappings;
	t->map_names = calloc((size_t)p->nr_mappings + 1, sizeof(*t->map_names));
	if (!t->map_names || add_node(t, 0, GP_NODE_ROOT, KEY_UNKNOWN, "all") < 0)
		goto nomem;
	for (i = 0; i < p->nr_samples; i++) {
		int64_t v = gp_sample_values(p, i)[value_index];

		if (v <= 0)
			continue;
		err = add_sample(t, p, &p->samples[i], v);
		if (err)
			goto nomem;
	}
	return 0;
nomem:
	gp_stacktree_free(t);
	return gp_err(-ENOMEM, "profile: out of memory building the call tree");
}

void gp_stacktree_free(struct gp_stacktree *t)
{
	uint32_t i;

	if (t->map_names)
		for (i = 0; i <= t->nr_maps; i++)
			free(t->map_names[i]);
	free(t->map_names);
	free(t->nodes);
	gp_idmap_free(&t->idx);
	memset(t, 0, sizeof(*t));
}

static int cmp_child(const void *a, const void *b, void *nodes)
{
	const struct gp_tnode *x = &((const struct gp_tnode *)nodes)[*(const uint32_t *)a];
	const struct gp_tnode *y = &((const struct gp_tnode *)nodes)[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

static int sort_children(struct gp_stacktree *t)
{
	uint32_t *ids, i, n, c;

	ids = malloc((size_t)GP_MAX(t->nr_nodes, 1u) * sizeof(*ids));
	if (!ids)
		return gp_err(-ENOMEM, "profile: out of memory sorting the call tree");
	/* qsort_r (GNU): no global state, so encoders stay safe to run concurrently. */
	for (i = 0; i < t->nr_nodes; i++) {
		n = 0;
		for (c = t->nodes[i].first_child; c; c = t->nodes[c].next_sibling)
			ids[n++] = c;
		if (n < 2)
			continue;
		qsort_r(ids, n, sizeof(*ids), cmp_child, t->nodes);
		t->nodes[i].first_child = ids[0];
		for (c = 0; c + 1 < n; c++)
			t->nodes[ids[c]].next_sibling = ids[c + 1];
		t->nodes[ids[n - 1]].next_sibling = 0;
	}
	free(ids);
	return 0;
}

int gp_stacktree_build(struct gp_stacktree *t, const struct goprof_profile *p, uint32_t value_index)
{
	int err = build_unsorted(t, p, value_index);

	if (!err)
		err = sort_children(t);
	if (err)
		gp_stacktree_free(t);
	return err;
}
