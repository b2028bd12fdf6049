/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Call tree of a profile for the folded and flame graph encoders: one node per distinct
 * path of display frames from the root (comm, then outermost caller) to a frame, with
 * inline frames expanded. Samples that differ only in labels or addresses merge here.
 */
#ifndef GOPROF_PROFILE_STACKTREE_H
#define GOPROF_PROFILE_STACKTREE_H

#include "profile/profile_internal.h"

/* Node kinds: GOPROF_FRAME_KIND_* plus the synthetic ones below. */
#define GP_NODE_ROOT 100 /* the "all" node, id 0 */
#define GP_NODE_COMM 101 /* process name */

struct gp_tnode {
	const char *name;       /* display name, not escaped; owned by the profile or tree */
	uint64_t name_key;      /* identity of the name (see stacktree.c) */
	uint32_t parent;
	uint32_t kind;
	uint32_t first_child;   /* 0: none (node 0 is the root, never a child) */
	uint32_t next_sibling;
	uint32_t depth;
	int64_t total;          /* value of this node and everything under it */
	int64_t self;           /* value of samples ending here */
};

struct gp_stacktree {
	struct gp_tnode *nodes;
	uint32_t nr_nodes;
	size_t nodes_cap;
	uint32_t max_depth;
	struct gp_idmap idx;    /* (parent, kind, name_key) -> node id + 1 */
	char **map_names;       /* "[basename]" per mapping id, built on demand */
	uint32_t nr_maps;
};

/* Builds the tree of p, counting sample value value_index (samples with a value <= 0 are
 * left out), every node's children sorted by name, then kind (flamegraph.pl order).
 * Returns 0, or -ENOMEM (last error set) with nothing to free. */
GOPROF_HIDDEN int gp_stacktree_build(struct gp_stacktree *t, const struct goprof_profile *p,
				     uint32_t value_index);
GOPROF_HIDDEN void gp_stacktree_free(struct gp_stacktree *t);

#endif /* GOPROF_PROFILE_STACKTREE_H */
