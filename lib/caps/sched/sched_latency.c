// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Scheduling latency summaries from the kernel's per-goroutine histograms: per process,
 * and per creation site (the go statement that created the goroutines).
 */
#include <stdlib.h>
#include <time.h>

#include "core/hist.h"
#include "go/go_probes.h"
#include "caps/goroutines/goroutines.h"
#include "profile/loc_resolver.h"
#include "profile/profile_internal.h"
#include "caps/sched/sched_latency.h"

/* Adds one goroutine's record to a summary (histogram merged bucket by bucket). */
static void merge_record(struct goprof_sched_stats *st, const struct gp_sched_stats *s)
{
	st->goroutines++;
	st->waits += s->count;
	st->total_ns += s->total_ns;
	st->max_ns = GP_MAX(st->max_ns, s->max_ns);
	for (int i = 0; i < GP_SCHED_BUCKETS && i < GOPROF_SCHED_HIST_BUCKETS; i++)
		st->hist[i] += s->hist[i];
}

static void finish_percentiles(struct goprof_sched_stats *st)
{
	st->sz = sizeof(*st);
	st->p50_ns = GP_MIN(gp_hist_percentile(st->hist, GOPROF_SCHED_HIST_BUCKETS, st->waits, 50), st->max_ns);
	st->p90_ns = GP_MIN(gp_hist_percentile(st->hist, GOPROF_SCHED_HIST_BUCKETS, st->waits, 90), st->max_ns);
	st->p99_ns = GP_MIN(gp_hist_percentile(st->hist, GOPROF_SCHED_HIST_BUCKETS, st->waits, 99), st->max_ns);
}

struct summary_ctx {
	uint32_t pid;
	struct goprof_sched_stats *st;
};

static int add_to_summary(const struct gp_goroutine_key *key, const struct gp_sched_stats *s, void *ctx)
{
	struct summary_ctx *c = ctx;

	if ((c->pid && key->pid != c->pid) || !s->count)
		return 0;
	merge_record(c->st, s);
	return 0;
}

void gp_sched_summary(struct gp_go_probes *gp, uint32_t pid, struct goprof_sched_stats *st)
{
	struct summary_ctx c = { pid, st };

	gp_go_probes_foreach_sched(gp, add_to_summary, &c);
	finish_percentiles(st);
}

/*
 * One creation site: a creation stack (id >= 1), or, per process, the goroutines whose
 * creation was not seen (created before the probes; stack id 0).
 */
struct site {
	uint32_t stack_id, pid;
	struct goprof_sched_stats st;
};

struct by_site_ctx {
	struct gp_goroutines *goroutines;
	struct site *sites; /* [stack id - 1] for known stacks, then unknown ones by pid */
	uint32_t nr_known, nr, cap;
	int err;
};

static struct site *unknown_site(struct by_site_ctx *c, uint32_t pid)
{
	struct site *s;

	for (uint32_t i = c->nr_known; i < c->nr; i++)
		if (c->sites[i].pid == pid)
			return &c->sites[i];
	if (c->nr == c->cap) {
		uint32_t cap = c->cap * 2;

		s = realloc(c->sites, cap * sizeof(*s));
		if (!s)
			return NULL;
		c->sites = s;
		c->cap = cap;
	}
	s = &c->sites[c->nr++];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	return s;
}

static int add_by_site(const struct gp_goroutine_key *key, const struct gp_sched_stats *s, void *ctx)
{
	struct by_site_ctx *c = ctx;
	uint32_t id = c->goroutines ? gp_goroutines_stack_of(c->goroutines, key->pid, key->goid) : 0;
	struct site *site = id && id <= c->nr_known ? &c->sites[id - 1] : unknown_site(c, key->pid);

	if (!site) {
		c->err = -ENOMEM;
		return -ENOMEM;
	}
	if (s->count)
		merge_record(&site->st, s);
	return 0;
}

static int add_site_sample(struct by_site_ctx *c, struct goprof_profile *p, struct gp_loc_resolver *r,
			   const struct site *site)
{
	int64_t values[2] = { (int64_t)site->st.waits, (int64_t)site->st.total_ns };
	struct gp_label_in labels[] = {
		{ .key = "pid", .num = site->pid },
		{ .key = "p50_delay", .num = (int64_t)site->st.p50_ns, .num_unit = "nanoseconds" },
		{ .key = "p90_delay", .num = (int64_t)site->st.p90_ns, .num_unit = "nanoseconds" },
		{ .key = "p99_delay", .num = (int64_t)site->st.p99_ns, .num_unit = "nanoseconds" },
		{ .key = "max_delay", .num = (int64_t)site->st.max_ns, .num_unit = "nanoseconds" },
	};

	uint32_t all;
	int err;

	if (c->goroutines)
		return gp_goroutines_add_site_sample(c->goroutines, p, r, site->stack_id, site->pid,
						     values, labels, ARRAY_SIZE(labels));
	/* Without goroutine tracking there are no creation sites: one sample per process. */
	err = gp_profile_placeholder(&all, p, "[all goroutines: creation sites need goroutine tracking]");
	if (err)
		return err;
	return gp_profile_add_sample(p, &(struct gp_sample_in){
		.locations = &all, .nr_locations = 1,
		.values = values, .labels = labels, .nr_labels = ARRAY_SIZE(labels) });
}

struct site_call {
	goprof_sched_site_fn fn;
	const struct goprof_sched_stats **of_sample;
	void *ctx;
};

static int call_site_fn(const struct goprof_profile_sample *s, uint32_t idx, void *ctx)
{
	struct site_call *c = ctx;

	return c->of_sample[idx] ? c->fn(s, c->of_sample[idx], c->ctx) : 0;
}

int gp_sched_foreach_site(struct gp_go_probes *gp, struct gp_goroutines *goroutines,
			  struct goprof_symbolizer *sym, struct goprof_profile **profile,
			  goprof_sched_site_fn fn, void *ctx)
{
	static const struct gp_value_type types[] = {
		{ "waits", "count" },
		{ "delay", "nanoseconds" },
	};
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.default_sample_type = "delay" };
	struct by_site_ctx c = { .goroutines = goroutines };
	struct goprof_profile *p = gp_profile_new(&desc);
	const struct goprof_sched_stats **of_sample = NULL;
	struct gp_loc_resolver r;
	int err = 0;

	c.nr_known = c.nr = goroutines ? gp_goroutines_nr_stacks(goroutines) : 0;
	c.cap = c.nr_known + 4;
	c.sites = calloc(c.cap, sizeof(*c.sites));
	if (!p || !c.sites)
		goto oom;
	for (uint32_t id = 1; id <= c.nr_known; id++) {
		c.sites[id - 1].stack_id = id;
		c.sites[id - 1].pid = gp_goroutines_stack_pid(goroutines, id);
	}
	gp_go_probes_foreach_sched(gp, add_by_site, &c);
	if (c.err)
		goto oom;
	of_sample = calloc(c.nr + 1, sizeof(*of_sample));
	if (!of_sample)
		goto oom;
	gp_loc_resolver_init(&r, sym, p);
	for (uint32_t i = 0; i < c.nr && !err; i++) {
		struct site *site = &c.sites[i];
		size_t before = p->nr_samples;

		if (!site->st.waits)
			continue;
		finish_percentiles(&site->st);
		err = add_site_sample(&c, p, &r, site);
		/* Distinct sites have distinct stacks, so each adds a sample of its own. */
		if (!err && p->nr_samples == before + 1)
			of_sample[before] = &site->st;
	}
	gp_loc_resolver_fini(&r);
	if (!err && fn) {
		struct site_call call = { fn, of_sample, ctx };

		err = gp_profile_foreach_sample_idx(p, call_site_fn, &call);
	}
	free(of_sample);
	free(c.sites);
	if (err) {
		goprof_profile_free(p);
		return err < 0 ? gp_err(err, "building the scheduling profile failed: %s", strerror(-err))
			       : err;
	}
	gp_profile_set_time(p, gp_clock_ns(CLOCK_REALTIME), 0);
	if (profile)
		*profile = p;
	else
		goprof_profile_free(p);
	return 0;
oom:
	free(c.sites);
	goprof_profile_free(p);
	return gp_err(-ENOMEM, "out of memory building the scheduling profile");
}
