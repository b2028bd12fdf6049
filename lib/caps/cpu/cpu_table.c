// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * CPU stack table: ring-buffer samples -> symbolized (loc_resolver.c), aggregated
 * profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "caps/cpu/cpu_table.h"
#include "profile/loc_resolver.h"
#include "goprof/profile.h"
#include "goprof/session.h"
#include "goprof/symbolizer.h"
#include "profile/profile_internal.h"

struct gp_cpu_table {
	struct goprof_profile *prof;
	struct gp_loc_resolver locs;
	unsigned freq_hz;
	uint32_t flags;             /* GOPROF_CPU_PROFILE_* */
	uint32_t max_timestamps;    /* with GOPROF_CPU_PROFILE_TIMESTAMPS */
	int64_t start_wall_ns, start_mono_ns;
	uint32_t *stack;            /* scratch: location ids of one sample */
	uint64_t samples;
	uint64_t hits, misses, unsymbolized; /* of earlier intervals' resolvers */
	uint64_t resets;
};

static struct goprof_profile *new_cpu_profile(const struct gp_cpu_table *t)
{
	static const struct gp_value_type types[] = {
		{ "samples", "count" },
		{ "cpu", "nanoseconds" },
	};
	struct gp_profile_desc desc = {
		.sample_types = types,
		.nr_sample_types = 2,
		.period_type = { "cpu", "nanoseconds" },
		.period = 1000000000 / t->freq_hz,
		.default_sample_type = "cpu",
		.max_timestamps = t->flags & GOPROF_CPU_PROFILE_TIMESTAMPS ? t->max_timestamps : 0,
	};

	return gp_profile_new(&desc);
}

struct gp_cpu_table *gp_cpu_table_new(struct goprof_symbolizer *sym, unsigned freq_hz,
				      uint32_t flags, uint32_t max_timestamps)
{
	struct gp_cpu_table *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->freq_hz = freq_hz;
	t->flags = flags;
	t->max_timestamps = max_timestamps;
	t->stack = calloc(2 * GP_MAX_STACK_DEPTH, sizeof(*t->stack));
	t->prof = new_cpu_profile(t);
	if (!t->stack || !t->prof) {
		gp_cpu_table_free(t);
		return gp_err_null(-ENOMEM, "out of memory creating the CPU stack table");
	}
	gp_loc_resolver_init(&t->locs, sym, t->prof);
	gp_cpu_table_mark_start(t);
	return t;
}

void gp_cpu_table_free(struct gp_cpu_table *t)
{
	if (!t)
		return;
	gp_loc_resolver_fini(&t->locs);
	goprof_profile_free(t->prof);
	free(t->stack);
	free(t);
}

void gp_cpu_table_mark_start(struct gp_cpu_table *t)
{
	t->start_wall_ns = gp_clock_ns(CLOCK_REALTIME);
	t->start_mono_ns = gp_clock_ns(CLOCK_MONOTONIC);
}

int gp_cpu_table_add(struct gp_cpu_table *t, const struct gp_sample_event *ev,
		     const char *process_name)
{
	struct gp_label_in labels[GP_MAX_LABELS + 2];
	int64_t values[2] = { 1, 1000000000 / t->freq_hz };
	uint32_t n = 0, nr_uloc = 0, nr_user = GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH),
		 nr_kernel = GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH);
	struct gp_sample_in s = { .values = values, .comm = ev->comm };
	char comm[GP_TASK_COMM_LEN + 1];
	int err;

	/* Leaf first: kernel frames (when the sample hit the kernel), then user frames. */
	for (uint32_t i = 0; i < nr_kernel; i++) {
		err = gp_loc_resolve(&t->locs, ev->pid, ev->stack[nr_user + i], i > 0, true, &t->stack[n]);
		if (err)
			return err;
		n++;
	}
	err = gp_loc_resolve_user_stack(&t->locs, ev->pid, (const uint64_t *)ev->stack, nr_user,
					false, t->stack + n, &nr_uloc);
	if (err)
		return err;
	n += nr_uloc;
	s.nr_labels = GP_MIN(ev->nr_labels, GP_MAX_LABELS);
	for (uint32_t i = 0; i < s.nr_labels; i++)
		labels[i] = (struct gp_label_in){ .key = ev->labels[i].key, .str = ev->labels[i].value };
	memcpy(comm, ev->comm, GP_TASK_COMM_LEN);
	comm[GP_TASK_COMM_LEN] = '\0';
	if (t->flags & GOPROF_CPU_PROFILE_THREADS) {
		/* One sample per thread: a deliberate choice of the host (more samples). */
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "thread_id", .num = ev->tid };
		labels[s.nr_labels++] = (struct gp_label_in){ .key = "thread_name", .str = comm };
	}
	if (ev->time_ns) /* CLOCK_MONOTONIC (bpf_ktime_get_ns) -> Unix time */
		s.time_unix_nano = (int64_t)ev->time_ns + (t->start_wall_ns - t->start_mono_ns);
	s.comm = process_name && process_name[0] ? process_name : comm;
	s.locations = t->stack;
	s.nr_locations = n;
	s.labels = labels;
	err = gp_profile_add_sample(t->prof, &s);
	if (!err)
		t->samples++;
	return err;
}

struct goprof_profile *gp_cpu_table_snapshot(struct gp_cpu_table *t, bool reset)
{
	struct goprof_profile *copy, *fresh;
	int64_t now = gp_clock_ns(CLOCK_MONOTONIC);

	gp_profile_set_time(t->prof, t->start_wall_ns, now - t->start_mono_ns);
	copy = gp_profile_clone(t->prof);
	if (!copy || !reset)
		return copy;
	/*
	 * A new interval starts from empty tables, symbolization cache included: processes
	 * come and go (each with its own vDSO address), and a long-running session must not
	 * keep what no profile refers to any more. The symbolizer keeps its binaries.
	 */
	fresh = new_cpu_profile(t);
	if (fresh) {
		t->hits += t->locs.hits;
		t->misses += t->locs.misses;
		t->unsymbolized += t->locs.unsymbolized;
		t->resets++;
		gp_loc_resolver_restart(&t->locs, fresh);
		goprof_profile_free(t->prof);
		t->prof = fresh;
	} else {
		gp_profile_reset(t->prof); /* out of memory: keep the old tables */
	}
	gp_cpu_table_mark_start(t);
	return copy;
}

void gp_cpu_table_stats(const struct gp_cpu_table *t, struct gp_cpu_table_stats *st)
{
	st->samples = t->samples;
	st->frames_unsymbolized = t->unsymbolized + t->locs.unsymbolized;
	st->location_cache_hits = t->hits + t->locs.hits;
	st->location_cache_misses = t->misses + t->locs.misses;
	st->stacks = t->prof->nr_samples;
	st->cache_entries = t->locs.nr;
	st->resets = t->resets;
}

void gp_cpu_table_forget_pid(struct gp_cpu_table *t, uint32_t pid)
{
	gp_loc_resolver_forget_pid(&t->locs, pid);
}

void gp_cpu_table_set_fallback(struct gp_cpu_table *t,
			       struct goprof_binary *(*fn)(void *ctx, uint32_t pid), void *ctx)
{
	t->locs.fallback = fn;
	t->locs.fallback_ctx = ctx;
}
