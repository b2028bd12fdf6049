/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The deduplicated tables of an OTLP ProfilesDictionary that the encoder builds on the
 * fly: strings, attributes (KeyValueAndUnit), stacks and links. OTLP requires element 0
 * of every table to be the zero value, so index 0 is reserved in each and never hashed;
 * every other entry's index equals its gp_idmap id. Interning is amortized O(1).
 *
 * Strings are stored as pointers: they must outlive the dictionary (the profile's
 * strings, the caller's options, literals). Allocation failures are sticky (failed).
 */
#ifndef GOPROF_PROFILE_OTLP_DICT_H
#define GOPROF_PROFILE_OTLP_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile/idmap.h"

/* One scalar of an attribute value: a string or an int64. Values are written inline
 * (AnyValue.string_value), so they stay out of the string table, whose entries must all
 * be referenced by index. */
struct otlp_item {
	uint32_t is_num;
	int64_t num;
	const char *str; /* is_num 0; never NULL */
};

/* An attribute: key and unit are string indexes; one item is a scalar value, several
 * an ArrayValue (pprof allows several values per label key, OTLP one attribute per key). */
struct otlp_attr {
	uint32_t key, unit;
	size_t item_off;
	uint32_t nr_items;
};

struct otlp_stack {
	size_t off; /* into stack_locs */
	uint32_t n;
};

struct otlp_link {
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

struct otlp_dict {
	const char **strs;
	uint32_t nr_strs;
	size_t strs_cap;
	struct gp_idmap str_idx;

	struct otlp_attr *attrs;
	uint32_t nr_attrs;
	size_t attrs_cap;
	struct gp_idmap attr_idx;
	struct otlp_item *items;
	size_t nr_items, items_cap;

	struct otlp_stack *stacks;
	uint32_t nr_stacks;
	size_t stacks_cap;
	struct gp_idmap stack_idx;
	int32_t *stack_locs;
	size_t nr_stack_locs, stack_locs_cap;

	struct otlp_link *links;
	uint32_t nr_links;
	size_t links_cap;
	struct gp_idmap link_idx;

	bool failed; /* an allocation failed: results are incomplete */
};

/* Empty tables holding only their zero elements. Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int otlp_dict_init(struct otlp_dict *d);
GOPROF_HIDDEN void otlp_dict_free(struct otlp_dict *d);

/* Index of s in the string table (NULL and "" are 0). */
GOPROF_HIDDEN uint32_t otlp_dict_str(struct otlp_dict *d, const char *s);
/* Index of the attribute (key, unit, items); key and unit are string indexes. */
GOPROF_HIDDEN uint32_t otlp_dict_attr(struct otlp_dict *d, uint32_t key, uint32_t unit,
				      const struct otlp_item *items, uint32_t nr_items);
/* Shorthand for a one-string attribute. */
GOPROF_HIDDEN uint32_t otlp_dict_attr_str(struct otlp_dict *d, const char *key, const char *value);
/* Index of the stack of these location indexes, leaf first (an empty stack is 0). */
GOPROF_HIDDEN uint32_t otlp_dict_stack(struct otlp_dict *d, const int32_t *locs, uint32_t n);
/* Index of the link (never 0: the caller passes valid, non-zero IDs). */
GOPROF_HIDDEN uint32_t otlp_dict_link(struct otlp_dict *d, const struct otlp_link *l);

#endif /* GOPROF_PROFILE_OTLP_DICT_H */
