// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine blocking profile: park records summed by stack and wait reason. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "caps/block/block_table.h"
#include "goprof/profile.h"
#include "profile/loc_resolver.h"
#include "profile/profile_internal.h"

struct gp_block_table {
	struct goprof_profile *prof;
	struct gp_loc_resolver locs;
	uint64_t events;
};

struct gp_block_table *gp_block_table_new(struct goprof_symbolizer *sym)
{
	struct gp_block_table *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->prof = gp_contention_profile_new();
	if (!t->prof) {
		free(t);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	gp_loc_resolver_init(&t->locs, sym, t->prof);
	return t;
}

void gp_block_table_free(struct gp_block_table *t)
{
	if (!t)
		return;
	gp_loc_resolver_fini(&t->locs);
	goprof_profile_free(t->prof);
	free(t);
}

/*
 * The runtime frames on top of a parked stack (gopark's callers: chansend, semacquire1,
 * netpollblock, ...) are trimmed to the outermost one, the entry point user code called
 * (runtime.chansend1, runtime.selectgo), as Go's block profile shows them. Stacks of the
 * runtime's own goroutines (all runtime frames) are kept whole.
 */
static uint32_t runtime_frames_to_trim(const struct goprof_profile *p, const uint32_t *ids,
				       uint32_t n)
{
	uint32_t first_user = 0;

	while (first_user < n && gp_loc_is_runtime(p, ids[first_user]))
		first_user++;
	return first_user == n ? 0 : first_user ? first_user - 1 : 0;
}

int gp_block_table_add(struct gp_block_table *t, const struct gp_block_event *ev,
		       const char *reason, const char *process_name)
{
	uint32_t ids[GP_BLOCK_STACK_DEPTH], n = 0, first;
	int64_t values[2] = { 1, (int64_t)(ev->wake_ns - ev->park_ns) };
	struct gp_label_in labels[3] = { { .key = "wait_reason", .str = reason } };
	struct gp_sample_in s = { .values = values, .labels = labels, .nr_labels = 1,
				  .comm = process_name };
	char chan[24];
	int err;

	if (ev->wake_ns < ev->park_ns)
		values[1] = 0;
	err = gp_loc_resolve_user_stack(&t->locs, ev->pid, (const uint64_t *)ev->stack,
					GP_MIN(ev->nr_stack, GP_BLOCK_STACK_DEPTH), true, ids, &n);
	if (err)
		return err;
	first = runtime_frames_to_trim(t->prof, ids, n);
	s.locations = ids + first;
	s.nr_locations = n - first;
	if (ev->chan) {
		snprintf(chan, sizeof(chan), "0x%" PRIx64, (uint64_t)ev->chan);
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "channel", .str = chan };
	}
	/* Marked, not invented: no frames rather than a guess. */
	if (ev->flags & GP_BLOCK_F_NO_STACK)
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "unwind", .str = "failed" };
	t->events++;
	return gp_profile_add_sample(t->prof, &s);
}

void gp_block_table_forget_pid(struct gp_block_table *t, uint32_t pid)
{
	if (t)
		gp_loc_resolver_forget_pid(&t->locs, pid);
}

uint64_t gp_block_table_events(const struct gp_block_table *t)
{
	return t ? t->events : 0;
}

struct goprof_profile *gp_block_table_snapshot(struct gp_block_table *t)
{
	struct goprof_profile *p = gp_profile_clone(t->prof);

	if (!p)
		return gp_err_null(-ENOMEM, "out of memory copying the blocking profile");
	gp_profile_set_time(p, gp_clock_ns(CLOCK_REALTIME), 0);
	return p;
}
