// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Scheduling latency (runnable -> running) against fixtures of known behaviour: with
 * GOMAXPROCS=1 and 4 CPU-bound goroutines each waits for the others' 10 ms slices; with
 * sleeping goroutines on an idle program a woken goroutine runs almost at once.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include <goprof/goprof.h>

#include "test_common.h"

struct site_delay {
	uint64_t waits_at_spin_site, waits_total;
	struct goprof_sched_stats spin_site; /* the go statement's site, with its histogram */
	int64_t spin_site_p50_label;        /* p50_delay label of that site's profile sample */
};

static int64_t num_label(const struct goprof_profile_sample *s, const char *key)
{
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (s->labels[i]->is_num && !strcmp(s->labels[i]->key, key))
			return s->labels[i]->num;
	return -1;
}

static int by_site(const struct goprof_profile_sample *s, const struct goprof_sched_stats *st,
		   void *ctx)
{
	struct site_delay *d = ctx;
	uint64_t in_hist = 0;

	for (int i = 0; i < GOPROF_SCHED_HIST_BUCKETS; i++)
		in_hist += st->hist[i];
	cr_expect_eq(in_hist, st->waits, "a site's histogram holds %lu of its %lu waits",
		     (unsigned long)in_hist, (unsigned long)st->waits);
	cr_expect_eq((uint64_t)s->values[0], st->waits, "the site's sample and summary differ");
	d->waits_total += st->waits;
	/* The creation site is main.main (the go statement); its goroutines run main.spin. */
	if (s->nr_frames && !strcmp(s->frames[0]->function, "main.main")) {
		d->waits_at_spin_site += st->waits;
		d->spin_site = *st;
		d->spin_site_p50_label = num_label(s, "p50_delay");
	}
	return 0;
}

static void run_sched(const char *fixture, const char *mode, struct goprof_sched_stats *st,
		      struct site_delay *sites)
{
	char *argv[] = { (char *)fixture, (char *)mode, "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = GOPROF_FEATURE_SCHED_PRECISE | GOPROF_FEATURE_GOROUTINES,
		    .overhead_budget_bp = 10000 /* measure, do not let the budget step in */);
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[64];

	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "started"));
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "done"));
	while (goprof_session_poll(s, 20) > 0)
		;
	/* By creation site while the goroutines live (parked; an exited one's site is gone). */
	cr_assert_eq(goprof_session_foreach_sched_site(s, by_site, sites), 0, "%s", goprof_last_error());
	p = goprof_session_snapshot_sched(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_free(p);
	st->sz = sizeof(*st);
	cr_assert_eq(goprof_session_sched_stats(s, c.pid, st), 0, "%s", goprof_last_error());
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probe");
	goprof_session_free(s);
}

ParameterizedTestParameters(sched, contended_goroutines_wait_longer)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, sched, contended_goroutines_wait_longer, .timeout = 60)
{
	const char *ver = fixture_go_versions()[v->version_index];
	const char *fixture = fixture_path(v->stripped ? "sched-stripped" : "sched", ver);
	struct goprof_sched_stats busy, idle;
	struct site_delay busy_sites = { 0 }, idle_sites = { 0 };

	require_bpf_privileges();
	run_sched(fixture, "busy", &busy, &busy_sites);
	run_sched(fixture, "idle", &idle, &idle_sites);
	cr_log_info("go%s%s: busy: %lu waits, p50 %.3f ms, p99 %.3f ms, max %.3f ms; idle: %lu waits, "
		    "p50 %.3f ms, p99 %.3f ms; %lu of %lu busy waits at the creation site",
		    ver, v->stripped ? " stripped" : "", (unsigned long)busy.waits, busy.p50_ns / 1e6,
		    busy.p99_ns / 1e6, busy.max_ns / 1e6, (unsigned long)idle.waits, idle.p50_ns / 1e6,
		    idle.p99_ns / 1e6, (unsigned long)busy_sites.waits_at_spin_site,
		    (unsigned long)busy_sites.waits_total);
	/* Preemptions every 10 ms of 4 spinners for 2 s: ~200 on a quiet machine, far fewer
	 * when the machine is oversubscribed and the one P's thread waits for a CPU. */
	cr_expect_gt(busy.waits, 5, "go%s: too few measured waits: %lu", ver, (unsigned long)busy.waits);
	cr_expect_gt(idle.waits, 500, "go%s: too few measured waits: %lu", ver, (unsigned long)idle.waits);
	/* Three others' 10 ms slices: several milliseconds at the median. */
	cr_expect_geq(busy.p50_ns, 4 * 1000 * 1000, "go%s: busy p50 %.3f ms", ver, busy.p50_ns / 1e6);
	cr_expect_lt(idle.p50_ns * 10, busy.p50_ns, "go%s: idle p50 %.3f ms is not far below busy %.3f ms",
		     ver, idle.p50_ns / 1e6, busy.p50_ns / 1e6);
	cr_expect_gt(busy_sites.waits_at_spin_site, busy_sites.waits_total / 2,
		     "go%s: waits not attributed to the creation site main.main", ver);
	/* The site's own histogram: the spinners' site is as slow as the process, the
	 * nappers' site far faster. */
	cr_log_info("go%s: spin site p50 %.3f ms p99 %.3f ms; nap site p50 %.3f ms", ver,
		    busy_sites.spin_site.p50_ns / 1e6, busy_sites.spin_site.p99_ns / 1e6,
		    idle_sites.spin_site.p50_ns / 1e6);
	cr_expect_geq(busy_sites.spin_site.p50_ns, 4 * 1000 * 1000, "go%s: busy site p50 %.3f ms", ver,
		      busy_sites.spin_site.p50_ns / 1e6);
	cr_expect_eq(busy_sites.spin_site_p50_label, (int64_t)busy_sites.spin_site.p50_ns,
		     "go%s: the site's p50_delay label differs from its histogram", ver);
	cr_expect_gt(idle_sites.spin_site.waits, 100, "go%s: nap site has %lu waits", ver,
		     (unsigned long)idle_sites.spin_site.waits);
	cr_expect_lt(idle_sites.spin_site.p50_ns * 10, busy_sites.spin_site.p50_ns,
		     "go%s: nap site p50 %.3f ms is not far below the spin site's %.3f ms", ver,
		     idle_sites.spin_site.p50_ns / 1e6, busy_sites.spin_site.p50_ns / 1e6);
}
