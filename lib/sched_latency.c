// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Scheduling latency summaries from the kernel's per-goroutine histograms. */
#include <stdlib.h>
#include <time.h>

#include "go_probes.h"
#include "goroutines.h"
#include "loc_resolver.h"
#include "profile/profile_internal.h"
#include "sched_latency.h"

struct summary_ctx {
	uint32_t pid;
	struct goprof_sched_stats *st;
};

static int add_to_summary(const struct gp_goroutine_key *key, const struct gp_sched_stats *s, void *ctx)
{
	struct summary_ctx *c = ctx;

	if ((c->pid && key->pid != c->pid) || !s->count)
		return 0;
	c->st->goroutines++;
	c->st->waits += s->count;
	c->st->total_ns += s->total_ns;
	c->st->max_ns = GP_MAX(c->st->max_ns, s->max_ns);
	for (int i = 0; i < GP_SCHED_BUCKETS && i < GOPROF_SCHED_HIST_BUCKETS; i++)
		c->st->hist[i] += s->hist[i];
	return 0;
}

/* Upper bound of the bucket holding the pct-th percentile, in ns. */
static uint64_t hist_percentile(const uint64_t *hist, uint64_t total, unsigned pct)
{
	uint64_t seen = 0, want = (total * pct + 99) / 100;

	for (int i = 0; i < GOPROF_SCHED_HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= want && seen)
			return (2ull << i) * 1000;
	}
	return 0;
}

void gp_sched_summary(struct gp_go_probes *gp, uint32_t pid, struct goprof_sched_stats *st)
{
	struct summary_ctx c = { pid, st };

	gp_go_probes_foreach_sched(gp, add_to_summary, &c);
	st->p50_ns = GP_MIN(hist_percentile(st->hist, st->waits, 50), st->max_ns);
	st->p90_ns = GP_MIN(hist_percentile(st->hist, st->waits, 90), st->max_ns);
	st->p99_ns = GP_MIN(hist_percentile(st->hist, st->waits, 99), st->max_ns);
}

struct site_sum {
	uint64_t waits, total_ns, max_ns;
};

struct by_site_ctx {
	struct gp_goroutines *goroutines;
	struct site_sum *sites;   /* [stack id], [0]: unknown stack */
	uint32_t nr_sites;
	struct site_sum *no_stack; /* per pid would need a table: one bucket for unknown */
	uint32_t no_stack_pid;
};

static int add_by_site(const struct gp_goroutine_key *key, const struct gp_sched_stats *s, void *ctx)
{
	struct by_site_ctx *c = ctx;
	uint32_t id = c->goroutines ? gp_goroutines_stack_of(c->goroutines, key->pid, key->goid) : 0;
	struct site_sum *sum = &c->sites[id < c->nr_sites ? id : 0];

	if (!s->count)
		return 0;
	sum->waits += s->count;
	sum->total_ns += s->total_ns;
	sum->max_ns = GP_MAX(sum->max_ns, s->max_ns);
	if (!id)
		c->no_stack_pid = key->pid;
	return 0;
}

struct goprof_profile *gp_sched_by_site(struct gp_go_probes *gp, struct gp_goroutines *goroutines,
					struct goprof_symbolizer *sym)
{
	static const struct gp_value_type types[] = {
		{ "waits", "count" },
		{ "delay", "nanoseconds" },
	};
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.default_sample_type = "delay" };
	struct by_site_ctx c = { .goroutines = goroutines };
	struct goprof_profile *p = gp_profile_new(&desc);
	struct gp_loc_resolver r;
	struct timespec now;
	int err = 0;

	c.nr_sites = (goroutines ? gp_goroutines_nr_stacks(goroutines) : 0) + 1;
	c.sites = calloc(c.nr_sites, sizeof(*c.sites));
	if (!p || !c.sites) {
		free(c.sites);
		goprof_profile_free(p);
		return gp_err_null(-ENOMEM, "out of memory building the scheduling profile");
	}
	gp_go_probes_foreach_sched(gp, add_by_site, &c);
	gp_loc_resolver_init(&r, sym, p);
	for (uint32_t id = 0; id < c.nr_sites && !err; id++) {
		struct site_sum *sum = &c.sites[id];
		uint32_t pid = id ? gp_goroutines_stack_pid(goroutines, id) : c.no_stack_pid;
		int64_t values[2] = { (int64_t)sum->waits, (int64_t)sum->total_ns };
		struct gp_label_in label = { .key = "max_delay", .num = (int64_t)sum->max_ns,
					     .num_unit = "nanoseconds" };

		if (!sum->waits)
			continue;
		if (goroutines)
			err = gp_goroutines_add_site_sample(goroutines, p, &r, id, pid, values, &label, 1);
		else
			err = gp_profile_add_sample(p, &(struct gp_sample_in){
				.values = values, .labels = &label, .nr_labels = 1 });
	}
	gp_loc_resolver_fini(&r);
	free(c.sites);
	if (err) {
		goprof_profile_free(p);
		return gp_err_null(err, "building the scheduling profile failed: %s", strerror(-err));
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gp_profile_set_time(p, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, 0);
	return p;
}
