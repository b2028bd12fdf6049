// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Heap profile: allocation sites from sampled allocations and frees. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "goprof/profile.h"
#include "caps/heap/heap_table.h"
#include "profile/loc_resolver.h"
#include "profile/profile_internal.h"

/*
 * Sites are compared after the runtime frames at the top are trimmed (as Go's heap
 * profile shows them) and capped to this depth: alloc records carry our frame-pointer
 * stack, free records the runtime's bucket stack, and both must land on one site.
 */
#define SITE_DEPTH 24

struct gp_heap_table {
	struct goprof_profile *prof; /* raw sampled counts, summed per site */
	struct gp_loc_resolver locs;
};

static struct goprof_profile *new_heap_profile(void)
{
	static const struct gp_value_type types[] = {
		{ "alloc_objects", "count" },
		{ "alloc_space", "bytes" },
		{ "inuse_objects", "count" },
		{ "inuse_space", "bytes" },
	};
	struct gp_profile_desc desc = {
		.sample_types = types,
		.nr_sample_types = 4,
		.period_type = { "space", "bytes" },
		.default_sample_type = "inuse_space",
	};

	return gp_profile_new(&desc);
}

struct gp_heap_table *gp_heap_table_new(struct goprof_symbolizer *sym)
{
	struct gp_heap_table *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->prof = new_heap_profile();
	if (!t->prof) {
		free(t);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	gp_loc_resolver_init(&t->locs, sym, t->prof);
	return t;
}

void gp_heap_table_free(struct gp_heap_table *t)
{
	if (!t)
		return;
	gp_loc_resolver_fini(&t->locs);
	goprof_profile_free(t->prof);
	free(t);
}

/*
 * The runtime's bucket stacks list one PC per logical frame: an inlined call adds the PC
 * of its inline mark in the same physical function. A frame-pointer stack has one per
 * physical frame. Dropping a PC whose physical function equals the previous one's makes
 * both the same (direct recursion is collapsed in both alike). The runtime also elides
 * go-statement wrappers.
 */
static uint32_t collapse_inline_marks(const struct goprof_profile *p, uint32_t *ids, uint32_t n)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t fn = gp_loc_physical_function(p, ids[i]);

		if (out && fn && fn == gp_loc_physical_function(p, ids[out - 1]))
			continue;
		/* Go statement wrappers (pkg.f.gowrapN, Go 1.21+) are elided from the
		 * runtime's tracebacks: drop them from ours too. */
		if (fn && strstr(gp_str(p, gp_func(p, fn)->name), ".gowrap"))
			continue;
		ids[out++] = ids[i];
	}
	return out;
}

int gp_heap_table_add(struct gp_heap_table *t, const struct gp_heap_event *ev, const char *process_name)
{
	uint32_t ids[GP_HEAP_STACK_DEPTH], n = 0, first = 0;
	int64_t size = (int64_t)ev->size;
	int64_t alloc[4] = { 1, size, 1, size }, release[4] = { 0, 0, -1, -size },
		exact[4] = { 1, size, 0, 0 }; /* no frees are seen in the per-allocation mode */
	struct gp_sample_in s = {
		.values = ev->type == GP_REC_HEAP_ALLOC ? alloc : ev->type == GP_REC_ALLOC_EXACT ? exact
											      : release,
		.comm = process_name,
	};
	int err;

	err = gp_loc_resolve_user_stack(&t->locs, ev->pid, (const uint64_t *)ev->stack,
					GP_MIN(ev->nr_stack, GP_HEAP_STACK_DEPTH), true, ids, &n);
	if (err)
		return err;
	n = collapse_inline_marks(t->prof, ids, n);
	while (first < n && gp_loc_is_runtime(t->prof, ids[first]))
		first++;
	s.locations = ids + first;
	s.nr_locations = GP_MIN(n - first, SITE_DEPTH);
	return gp_profile_add_sample(t->prof, &s);
}

/*
 * Go's scaleHeapSample: a sample of average size s stands for 1 / (1 - e^(-s/rate))
 * allocations, since an allocation of s bytes is sampled with probability 1 - e^(-s/rate).
 */
static void scale_pair(int64_t *count, int64_t *bytes, uint64_t rate)
{
	double avg, scale;

	if (*count <= 0 || *bytes <= 0) {
		*count = GP_MAX(*count, 0);
		*bytes = GP_MAX(*bytes, 0);
		return;
	}
	if (rate <= 1)
		return;
	avg = (double)*bytes / (double)*count;
	scale = 1 / (1 - exp(-avg / (double)rate));
	*count = (int64_t)(*count * scale);
	*bytes = (int64_t)(*bytes * scale);
}

struct goprof_profile *gp_heap_table_snapshot(struct gp_heap_table *t, uint64_t rate_bytes)
{
	struct goprof_profile *p = gp_profile_clone(t->prof);

	if (!p)
		return NULL;
	for (uint32_t i = 0; i < p->nr_samples; i++) {
		int64_t *v = p->values + (size_t)i * p->nr_types;

		scale_pair(&v[0], &v[1], rate_bytes);
		scale_pair(&v[2], &v[3], rate_bytes);
	}
	p->period = (int64_t)rate_bytes;
	gp_profile_set_time(p, gp_clock_ns(CLOCK_REALTIME), 0);
	return p;
}

void gp_heap_table_forget_pid(struct gp_heap_table *t, uint32_t pid)
{
	if (t)
		gp_loc_resolver_forget_pid(&t->locs, pid);
}
