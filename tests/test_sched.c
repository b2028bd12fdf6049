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
};

static int by_site(const struct goprof_profile_sample *s, void *ctx)
{
	struct site_delay *d = ctx;

	d->waits_total += s->values[0];
	/* The creation site is main.main (the go statement); its goroutines run main.spin. */
	if (s->nr_frames && !strcmp(s->frames[0]->function, "main.main"))
		d->waits_at_spin_site += s->values[0];
	return 0;
}

static void run_sched(const char *fixture, const char *mode, struct goprof_sched_stats *st,
		      struct site_delay *sites)
{
	char *argv[] = { (char *)fixture, (char *)mode, "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = GOPROF_FEATURE_SCHED | GOPROF_FEATURE_GOROUTINES,
		    .overhead_budget_bp = 10000 /* measure, do not let the budget step in */);
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[64];

	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "started"));
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "done"));
	while (goprof_session_poll(s, 20) > 0)
		;
	/* By creation site while the goroutines live (parked; an exited one's site is gone). */
	p = goprof_session_snapshot_sched(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, by_site, sites);
	goprof_profile_free(p);
	st->sz = sizeof(*st);
	cr_assert_eq(goprof_session_sched_stats(s, c.pid, st), 0, "%s", goprof_last_error());
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probe");
	goprof_session_free(s);
}

ParameterizedTestParameters(sched, contended_goroutines_wait_longer)
{
	static int v[32];
	size_t n = 0;

	for (int i = 0; fixture_go_versions()[i] && n < 30; i++) {
		v[n++] = 2 * i;     /* plain */
		v[n++] = 2 * i + 1; /* stripped */
	}
	return cr_make_param_array(int, v, n);
}

ParameterizedTest(int *variant, sched, contended_goroutines_wait_longer, .timeout = 60)
{
	const char *ver = fixture_go_versions()[*variant / 2];
	const char *fixture = fixture_path(*variant % 2 ? "sched-stripped" : "sched", ver);
	struct goprof_sched_stats busy, idle;
	struct site_delay busy_sites = { 0 }, idle_sites = { 0 };

	require_bpf_privileges();
	run_sched(fixture, "busy", &busy, &busy_sites);
	run_sched(fixture, "idle", &idle, &idle_sites);
	cr_log_info("go%s%s: busy: %lu waits, p50 %.3f ms, p99 %.3f ms, max %.3f ms; idle: %lu waits, "
		    "p50 %.3f ms, p99 %.3f ms; %lu of %lu busy waits at the creation site",
		    ver, *variant % 2 ? " stripped" : "", (unsigned long)busy.waits, busy.p50_ns / 1e6,
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
}
