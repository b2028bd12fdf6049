// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Thread off-CPU profile against a fixture that blocks threads in the kernel in two
 * known places and measures each wait itself: syscall.Nanosleep (main.sleeper, kernel
 * hrtimer/do_nanosleep) and syscall.Read on a blocking pipe (main.reader, kernel
 * pipe_read). Our delay per site must match what the fixture measured within 10%.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define RUN_SECONDS "1.5"
#define SLEEP_MS "20"
#define WRITE_MS "25"

/* What the fixture printed: its own measurement of the waits. */
struct truth {
	int64_t sleep_ns, sleeps, read_ns, reads;
	int64_t sleep_long_ns, read_long_ns; /* of calls longer than the fixture's LONG_MS */
};

/* What our profile says about the same two sites. */
struct site_sums {
	int64_t sleep_ns, sleeps, read_ns, reads, total_ns, idle_ns;
	int64_t no_user_ns, no_kernel_ns; /* diagnostics: time without one of the stacks */
	bool sleep_kernel_named, read_kernel_named;
	int idle_mislabelled; /* idle samples whose stack lacks their idle_in function */
	int sites_labelled_idle; /* nanosleep/pipe samples labelled idle */
};

static const char *string_label(const struct goprof_profile_sample *s, const char *key)
{
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!s->labels[i]->is_num && !strcmp(s->labels[i]->key, key))
			return s->labels[i]->str;
	return NULL;
}

static bool has_function(const struct goprof_profile_sample *s, const char *fn, uint32_t kind)
{
	for (uint32_t i = 0; i < s->nr_frames; i++)
		if (s->frames[i]->kind == kind && strstr(s->frames[i]->function, fn))
			return true;
	return false;
}

static void log_stack(const char *why, const struct goprof_profile_sample *s)
{
	char buf[2048];
	size_t n = 0;

	for (uint32_t i = 0; i < s->nr_frames && n < sizeof(buf) - 64; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s", s->frames[i]->function);
	cr_log_info("%s (%.1f ms):%s", why, s->values[1] / 1e6, buf);
}

/* True if the stack has callee called directly by caller (frames are leaf first). */
static bool has_call(const struct goprof_profile_sample *s, const char *callee, const char *caller)
{
	for (uint32_t i = 0; i + 1 < s->nr_frames; i++)
		if (!strcmp(s->frames[i]->function, callee) &&
		    !strcmp(s->frames[i + 1]->function, caller))
			return true;
	return false;
}

static void add_to_site(struct site_sums *sums, const struct goprof_profile_sample *s,
			const char *idle, const char *kernel_fn, int64_t *ns, int64_t *blocked,
			bool *kernel_named)
{
	*ns += s->values[1];
	/* Blocked intervals: one per call (preempted on the way out adds runnable ones). */
	if (!string_label(s, "state"))
		*blocked += s->values[0];
	*kernel_named |= has_function(s, kernel_fn, GOPROF_FRAME_KIND_KERNEL);
	sums->sites_labelled_idle += idle != NULL;
	if (idle)
		log_stack("the program's own wait labelled idle", s);
}

static int sum_sites(const struct goprof_profile_sample *s, void *ctx)
{
	struct site_sums *sums = ctx;

	const char *idle = string_label(s, "idle_in");

	sums->total_ns += s->values[1];
	if (!has_function(s, "", GOPROF_FRAME_KIND_GO))
		sums->no_user_ns += s->values[1];
	if (!has_function(s, "", GOPROF_FRAME_KIND_KERNEL))
		sums->no_kernel_ns += s->values[1];
	if (idle) {
		sums->idle_ns += s->values[1];
		sums->idle_mislabelled += !has_function(s, idle, GOPROF_FRAME_KIND_GO);
		sums->idle_mislabelled += strcmp(string_label(s, "thread") ?: "", "go-scheduler-idle") != 0;
	}
	/* Kernel frames of this kernel: do_nanosleep <- hrtimer_nanosleep <- ...nanosleep. */
	if (has_call(s, "syscall.Nanosleep", "main.sleeper") &&
	    has_function(s, "nanosleep", GOPROF_FRAME_KIND_KERNEL))
		add_to_site(sums, s, idle, "do_nanosleep", &sums->sleep_ns, &sums->sleeps,
			    &sums->sleep_kernel_named);
	if (has_call(s, "syscall.Read", "main.reader") &&
	    has_function(s, "pipe_read", GOPROF_FRAME_KIND_KERNEL))
		add_to_site(sums, s, idle, "schedule", &sums->read_ns, &sums->reads,
			    &sums->read_kernel_named);
	return 0;
}

static struct goprof_session *new_offcpu_session(void)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_OFFCPU,
		    .overhead_budget_bp = 10000 /* measure, do not let the budget step in */);
	struct goprof_session *s = goprof_session_new(&opts);

	cr_assert_not_null(s, "%s", goprof_last_error());
	return s;
}

/* Runs the fixture attached (argv: offcpu MODE SECONDS SLEEP_MS WRITE_MS) until it
 * prints its totals; leaves it waiting (mode wait) or exiting (mode exit). */
static void run_fixture_argv(struct goprof_session *s, struct child *c, char *const argv[],
			     struct truth *t)
{
	char line[160];

	child_start(c, argv);
	cr_assert(child_read_line(c, line, sizeof(line)) && !strcmp(line, "waiting"));
	cr_assert_eq(goprof_session_attach_pid(s, c->pid, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_write_line(c, "go");
	cr_assert(child_read_line_polling(c, line, sizeof(line), s) && !strcmp(line, "started"));
	cr_assert(child_read_line_polling(c, line, sizeof(line), s), "no totals from the fixture");
	cr_assert_eq(sscanf(line, "sleep_ns=%" SCNd64 " sleeps=%" SCNd64 " read_ns=%" SCNd64
			    " reads=%" SCNd64 " sleep_long_ns=%" SCNd64 " read_long_ns=%" SCNd64,
			    &t->sleep_ns, &t->sleeps, &t->read_ns, &t->reads, &t->sleep_long_ns,
			    &t->read_long_ns),
		     6, "unexpected fixture output: %s", line);
	cr_assert(child_read_line_polling(c, line, sizeof(line), s) && !strcmp(line, "done"));
	cr_assert(t->sleeps > 10 && t->reads > 10, "the fixture barely ran: %s", line);
}

static void run_fixture(struct goprof_session *s, struct child *c, const char *path,
			const char *mode, struct truth *t)
{
	char *argv[] = { (char *)path, (char *)mode, RUN_SECONDS, SLEEP_MS, WRITE_MS, NULL };

	run_fixture_argv(s, c, argv, t);
}

static void take_sums(struct goprof_session *s, struct site_sums *sums)
{
	struct goprof_profile *p;
	const char *type, *unit;

	while (goprof_session_poll(s, 20) > 0)
		;
	p = goprof_session_snapshot_offcpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_sample_type(p, 0, &type, &unit), 0);
	cr_assert(!strcmp(type, "contentions") && !strcmp(unit, "count"));
	cr_assert_eq(goprof_profile_sample_type(p, 1, &type, &unit), 0);
	cr_assert(!strcmp(type, "delay") && !strcmp(unit, "nanoseconds"));
	memset(sums, 0, sizeof(*sums));
	goprof_profile_foreach_sample(p, sum_sites, sums);
	goprof_profile_free(p);
}

static void assert_within(const char *what, int64_t ours, int64_t truth, double tolerance)
{
	double ratio = truth ? (double)ours / (double)truth : 0;

	cr_log_info("%s: ours %.1f ms, fixture %.1f ms (ratio %.3f)", what, ours / 1e6,
		    truth / 1e6, ratio);
	cr_expect(ratio > 1 - tolerance && ratio < 1 + tolerance,
		  "%s: off-CPU %.1f ms, the fixture measured %.1f ms (ratio %.3f)", what,
		  ours / 1e6, truth / 1e6, ratio);
}

static void assert_sites_match(const struct site_sums *ours, const struct truth *t)
{
	cr_log_info("off-CPU total %.1f ms, %.1f ms without Go frames, %.1f ms without kernel "
		    "frames", ours->total_ns / 1e6, ours->no_user_ns / 1e6, ours->no_kernel_ns / 1e6);
	assert_within("nanosleep site", ours->sleep_ns, t->sleep_ns, 0.10);
	assert_within("pipe read site", ours->read_ns, t->read_ns, 0.10);
	/* One blocked interval per blocking call (a wake-up without data could add one). */
	cr_expect(ours->sleeps >= t->sleeps * 9 / 10 && ours->sleeps <= t->sleeps * 11 / 10 + 1,
		  "nanosleep site: %" PRId64 " intervals for %" PRId64 " calls", ours->sleeps,
		  t->sleeps);
	cr_expect(ours->reads >= t->reads * 9 / 10 && ours->reads <= t->reads * 11 / 10 + 1,
		  "pipe read site: %" PRId64 " intervals for %" PRId64 " calls", ours->reads, t->reads);
	cr_expect(ours->sleep_kernel_named, "no do_nanosleep frame on the nanosleep site");
	cr_expect(ours->read_kernel_named, "no schedule frame on the pipe read site");
	/* sysmon sleeps all the time: idle scheduler threads are always there, apart. */
	cr_expect_gt(ours->idle_ns, 0, "no off-CPU time labelled as idle Go threads");
	cr_expect_eq(ours->idle_mislabelled, 0, "idle labels on stacks without their function");
	cr_expect_eq(ours->sites_labelled_idle, 0, "the program's own waits labelled idle");
}

ParameterizedTestParameters(offcpu, sites_match_fixture)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, offcpu, sites_match_fixture, .timeout = 60)
{
	const char *ver = fixture_go_versions()[v->version_index];
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct site_sums sums;
	struct truth t;
	struct child c;

	require_bpf_privileges();
	s = new_offcpu_session();
	run_fixture(s, &c, fixture_path(v->stripped ? "offcpu-stripped" : "offcpu", ver), "wait", &t);
	take_sums(s, &sums);
	cr_log_info("go%s%s: %" PRId64 " sleeps, %" PRId64 " reads", ver,
		    v->stripped ? " stripped" : "", t.sleeps, t.reads);
	assert_sites_match(&sums, &t);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect(st.offcpu_switches >= st.offcpu_switch_outs && st.offcpu_switch_outs > 0);
	cr_expect(st.offcpu_intervals >= (uint64_t)(t.sleeps + t.reads));
	cr_expect_eq(st.lost_offcpu, 0);
	cr_expect_eq(st.offcpu_stacks_lost, 0);
	cr_expect_eq(st.offcpu_attached, 1);
	cr_expect_eq(st.offcpu_sample_every, 1);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed");
	goprof_session_free(s);
}

/* Each attach flavour of sched_switch measures the same (GOPROF_OFFCPU_ATTACH forces one:
 * the session fails rather than fall back). */
ParameterizedTestParameters(offcpu, every_attach_flavour)
{
	static int flavour[] = { 0, 1, 2 };

	return cr_make_param_array(int, flavour, 3);
}

ParameterizedTest(int *flavour, offcpu, every_attach_flavour, .timeout = 60)
{
	static const char *const names[] = { "tp_btf", "raw_tp", "tracepoint" };
	struct goprof_session *s;
	struct site_sums sums;
	struct truth t;
	struct child c;

	require_bpf_privileges();
	setenv("GOPROF_OFFCPU_ATTACH", names[*flavour], 1); /* this test's own process */
	s = new_offcpu_session();
	cr_log_info("attached through %s", names[*flavour]);
	run_fixture(s, &c, fixture_path("offcpu", fixture_go_versions()[0]), "wait", &t);
	take_sums(s, &sums);
	assert_sites_match(&sums, &t);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

Test(offcpu, unknown_attach_flavour_fails_clearly)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_OFFCPU);

	require_bpf_privileges();
	setenv("GOPROF_OFFCPU_ATTACH", "kprobe", 1);
	cr_assert_null(goprof_session_new(&opts));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(goprof_last_error(), "GOPROF_OFFCPU_ATTACH"), "%s", goprof_last_error());
}

/* The target exits before the snapshot: what was measured stays, symbolized. */
Test(offcpu, exited_target_keeps_its_time, .timeout = 60)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct site_sums sums;
	struct truth t;
	struct child c;

	require_bpf_privileges();
	s = new_offcpu_session();
	run_fixture(s, &c, fixture_path("offcpu", fixture_go_versions()[0]), "exit", &t);
	cr_assert_eq(child_wait(&c), 0);
	/* Take in the exit record, as a host's loop would; the process is gone. */
	for (int i = 0; i < 50; i++) {
		goprof_session_poll(s, 20);
		cr_assert_eq(goprof_session_stats(s, &st), 0);
		if (st.processes_exited)
			break;
	}
	cr_assert_eq(st.processes_exited, 1, "the exit was not seen");
	take_sums(s, &sums);
	assert_sites_match(&sums, &t);
	goprof_session_free(s);
}

Test(offcpu, reset_starts_a_new_interval, .timeout = 60)
{
	struct goprof_session *s;
	struct goprof_profile *p;
	struct site_sums sums;
	struct truth t;
	struct child c;

	require_bpf_privileges();
	s = new_offcpu_session();
	run_fixture(s, &c, fixture_path("offcpu", fixture_go_versions()[0]), "wait", &t);
	while (goprof_session_poll(s, 20) > 0)
		;
	p = goprof_session_snapshot_offcpu(s, GOPROF_SNAPSHOT_RESET);
	cr_assert_not_null(p, "%s", goprof_last_error());
	memset(&sums, 0, sizeof(sums));
	goprof_profile_foreach_sample(p, sum_sites, &sums);
	goprof_profile_free(p);
	assert_sites_match(&sums, &t); /* the copy has it all */
	take_sums(s, &sums); /* the fixture's blocking threads are idle now */
	cr_expect_eq(sums.sleep_ns, 0, "the reset kept %" PRId64 " ns of nanosleep", sums.sleep_ns);
	cr_expect_eq(sums.read_ns, 0);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

/*
 * Thresholds against the fixture's own split of its calls at 30 ms: nanosleeps of 5 ms
 * and pipe reads waiting about 60 ms for the writer, so that a minimum of 30 ms keeps
 * the reads and a maximum keeps the sleeps - except calls a loaded machine made longer
 * (a thread woken late waits off CPU for its turn), which the fixture sees too.
 */
ParameterizedTestParameters(offcpu, thresholds_filter_by_length)
{
	static int use_max[] = { 0, 1 };

	return cr_make_param_array(int, use_max, 2);
}

ParameterizedTest(int *use_max, offcpu, thresholds_filter_by_length, .timeout = 60)
{
	char *argv[] = { (char *)fixture_path("offcpu", fixture_go_versions()[0]), "wait",
			 RUN_SECONDS, "5", "60", "30", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_OFFCPU,
		    .overhead_budget_bp = 10000, .offcpu_min_us = *use_max ? 0 : 30000,
		    .offcpu_max_us = *use_max ? 30000 : 0);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct site_sums sums;
	struct truth t;
	struct child c;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	run_fixture_argv(s, &c, argv, &t);
	take_sums(s, &sums);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_log_info("%s 30 ms: sleeps %.1f ms (fixture %.1f, %.1f in calls over 30 ms), reads "
		    "%.1f ms (fixture %.1f, %.1f over 30 ms), %llu filtered", *use_max ? "max" : "min",
		    sums.sleep_ns / 1e6, t.sleep_ns / 1e6, t.sleep_long_ns / 1e6, sums.read_ns / 1e6,
		    t.read_ns / 1e6, t.read_long_ns / 1e6, (unsigned long long)st.offcpu_filtered);
	if (*use_max) {
		assert_within("nanosleeps up to 30 ms", sums.sleep_ns, t.sleep_ns - t.sleep_long_ns,
			      0.10);
		/* What remains are short waits: the last byte, a preemption inside read(). */
		cr_expect_lt(sums.read_ns, (t.read_ns - t.read_long_ns) + t.read_ns / 20,
			     "pipe reads above the maximum counted: %.1f ms", sums.read_ns / 1e6);
	} else {
		assert_within("pipe reads over 30 ms", sums.read_ns, t.read_long_ns, 0.10);
		/* Padded by 5% of all sleeps: on a quiet machine no sleep is that long. */
		assert_within("nanosleeps over 30 ms", sums.sleep_ns + t.sleep_ns / 20,
			      t.sleep_long_ns + t.sleep_ns / 20, 0.10);
	}
	cr_expect_gt(st.offcpu_filtered, 0);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

struct budget_events {
	int detached, throttled;
	char message[256];
};

static int on_budget_event(const struct goprof_event *e, void *ctx)
{
	struct budget_events *ev = ctx;

	if (e->type == GOPROF_EVENT_PROBE_DETACHED)
		ev->detached++;
	else if (e->type == GOPROF_EVENT_OFFCPU_THROTTLED)
		ev->throttled++;
	else
		return 0;
	snprintf(ev->message, sizeof(ev->message), "%s", e->message);
	return 0;
}

/*
 * A program that switches thousands of times a second, under a budget of 0.01% of its
 * CPU: even 1 in 1024 costs too much (the skipped switch-outs still cost), so the
 * program is detached with an event naming it; what was measured before stays.
 */
Test(offcpu, budget_detaches_a_costly_profile, .timeout = 60)
{
	char *argv[] = { (char *)fixture_path("offcpu", fixture_go_versions()[0]), "wait", "4",
			 "1", "1", NULL };
	struct budget_events ev = { 0 };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_OFFCPU,
		    .overhead_budget_bp = 1, .on_event = on_budget_event, .ctx = &ev);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct truth t;
	struct child c;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	run_fixture_argv(s, &c, argv, &t);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_log_info("%d detached, %d throttled: %s", ev.detached, ev.throttled, ev.message);
	cr_expect_eq(ev.detached, 1, "no detach event (%d throttle events)", ev.throttled);
	cr_expect(strstr(ev.message, "sched_switch"), "%s", ev.message);
	cr_expect_eq(st.offcpu_attached, 0);
	cr_expect_geq(st.probe_sets_detached, 1);
	p = goprof_session_snapshot_offcpu(s, 0);
	cr_assert_not_null(p);
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_expect_gt(info.nr_samples, 0, "what was measured before the detach is gone");
	goprof_profile_free(p);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

Test(offcpu, bad_options_are_rejected)
{
	GOPROF_OPTS(goprof_session_opts, inverted, .features = GOPROF_FEATURE_OFFCPU,
		    .offcpu_min_us = 100, .offcpu_max_us = 10);
	GOPROF_OPTS(goprof_session_opts, no_feature, .offcpu_min_us = 100);
	GOPROF_OPTS(goprof_session_opts, sampling, .features = GOPROF_FEATURE_OFFCPU,
		    .offcpu_sample_every = (1u << 20) + 1);
	struct goprof_session *s;

	cr_assert_null(goprof_session_new(&inverted));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(goprof_last_error(), "offcpu_max_us"), "%s", goprof_last_error());
	cr_assert_null(goprof_session_new(&no_feature));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(goprof_last_error(), "GOPROF_FEATURE_OFFCPU"), "%s", goprof_last_error());
	cr_assert_null(goprof_session_new(&sampling));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(goprof_last_error(), "offcpu_sample_every"), "%s", goprof_last_error());

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_expect_null(goprof_session_snapshot_offcpu(s, 0));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(goprof_last_error(), "GOPROF_FEATURE_OFFCPU"), "%s", goprof_last_error());
	goprof_session_free(s);
	s = new_offcpu_session();
	cr_expect_null(goprof_session_snapshot_offcpu(s, 0x80));
	cr_expect_eq(errno, EINVAL);
	goprof_session_free(s);
}
