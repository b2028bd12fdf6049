// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * GC cycles and stop-the-world pauses against the runtime's own account: the gc fixture
 * runs heap-triggered and forced cycles under GODEBUG=gctrace=1; the number of cycles we
 * report must equal the gctrace lines (and MemStats.NumGC), and the pause sums agree.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define FORCED_GCS 5

struct gc_seen {
	uint64_t cycles, forced, pause_ns;
	bool ordered; /* every cycle: start < end, pauses inside it */
};

static int on_event(const struct goprof_event *ev, void *ctx)
{
	struct gc_seen *g = ctx;

	if (ev->type != GOPROF_EVENT_GC_CYCLE)
		return 0;
	g->cycles++;
	g->forced += ev->gc_trigger == GOPROF_GC_TRIGGER_CYCLE;
	g->pause_ns += ev->gc_sweep_term_pause_ns + ev->gc_mark_term_pause_ns;
	if (!(ev->gc_start_ns < ev->gc_end_ns &&
	      ev->gc_sweep_term_pause_ns + ev->gc_mark_ns + ev->gc_mark_term_pause_ns <=
		      ev->gc_end_ns - ev->gc_start_ns))
		g->ordered = false;
	return 0;
}

/* gctrace: "gc N @Ts P%: A+B+C ms clock, ..." - A and C are the two pauses. */
static void read_gctrace(const char *path, uint64_t *cycles, double *pause_ms)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	cr_assert(f, "no gctrace output at %s", path);
	*cycles = 0;
	*pause_ms = 0;
	while (fgets(line, sizeof(line), f)) {
		double a, b, c;
		char *clock = strstr(line, "%: ");

		if (strncmp(line, "gc ", 3) || !clock || sscanf(clock + 3, "%lf+%lf+%lf", &a, &b, &c) != 3)
			continue;
		(*cycles)++;
		*pause_ms += a + c;
	}
	fclose(f);
}

ParameterizedTestParameters(gc, cycles_match_gctrace)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, gc, cycles_match_gctrace, .timeout = 60)
{
	const char *ver = fixture_go_versions()[v->version_index];
	char forced[8], line[64], trace[] = "/tmp/goprof-gctrace-XXXXXX";
	char *argv[] = { (char *)fixture_path(v->stripped ? "gc-stripped" : "gc", ver), "4", forced, NULL };
	struct gc_seen seen = { .ordered = true };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC_PRECISE, .on_event = on_event,
		    .ctx = &seen);
	struct goprof_gc_stats st = { .sz = sizeof(st) };
	unsigned before = 0, after = 0;
	struct goprof_session *s;
	uint64_t trace_cycles;
	double trace_pause_ms;
	int fd, saved_stderr;
	struct child c;

	require_bpf_privileges();
	snprintf(forced, sizeof(forced), "%d", FORCED_GCS);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	/* The fixture's stderr (gctrace) goes to a file: redirect ours around the fork. */
	fd = mkstemp(trace);
	cr_assert_geq(fd, 0);
	setenv("GODEBUG", "gctrace=1", 1);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	child_start(&c, argv);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(fd);
	unsetenv("GODEBUG");
	cr_assert(child_read_line(&c, line, sizeof(line)) && sscanf(line, "waiting %u", &before) == 1,
		  "fixture: %s", line);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && sscanf(line, "done %u", &after) == 1,
		  "fixture: %s", line);
	for (int i = 0; i < 4; i++)
		goprof_session_poll(s, 50);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probes");
	while (goprof_session_poll(s, 50) > 0)
		;
	read_gctrace(trace, &trace_cycles, &trace_pause_ms);
	unlink(trace);
	cr_assert_eq(goprof_session_gc_stats(s, 0, &st), 0, "%s", goprof_last_error());
	cr_log_info("go%s%s: %lu cycles (%lu forced), gctrace %lu, NumGC %u -> %u; pauses %.3f ms "
		    "(ours) vs %.3f ms (gctrace); p50 %lu us, max %lu us", ver,
		    v->stripped ? " stripped" : "", (unsigned long)seen.cycles,
		    (unsigned long)seen.forced, (unsigned long)trace_cycles, before, after,
		    seen.pause_ns / 1e6, trace_pause_ms, (unsigned long)(st.pause_p50_ns / 1000),
		    (unsigned long)(st.pause_max_ns / 1000));
	cr_expect_eq(before, 0, "a GC ran before the test attached");
	cr_expect_eq(seen.cycles, trace_cycles, "go%s: %lu cycles, gctrace printed %lu", ver,
		     (unsigned long)seen.cycles, (unsigned long)trace_cycles);
	cr_expect_eq(seen.cycles, after - before, "go%s: %lu cycles, MemStats.NumGC says %u", ver,
		     (unsigned long)seen.cycles, after - before);
	cr_expect_eq(seen.forced, FORCED_GCS, "runtime.GC() cycles: %lu", (unsigned long)seen.forced);
	cr_expect(seen.ordered, "a cycle's phases do not fit in it");
	cr_expect_eq(st.cycles, seen.cycles);
	cr_expect_eq(st.pauses, 2 * seen.cycles);
	/*
	 * Our pause runs from stopTheWorldWithSema's entry to startTheWorldWithSema's return
	 * (the pause goroutines see, like runtime/metrics' /sched/pauses/total/gc); gctrace
	 * ends the mark-termination pause before the world is restarted, and each uprobe hit
	 * adds microseconds. So ours is at least gctrace's and at most 0.3 ms more per pause -
	 * on a machine that is not oversubscribed, where descheduled threads stretch pauses.
	 */
	if (machine_is_quiet())
		cr_expect(seen.pause_ns / 1e6 >= trace_pause_ms * 0.8 - 0.05 * 2 * seen.cycles &&
			  seen.pause_ns / 1e6 <= trace_pause_ms + 0.3 * 2 * seen.cycles,
			  "go%s: pauses %.3f ms, gctrace %.3f ms", ver, seen.pause_ns / 1e6,
			  trace_pause_ms);
	else
		cr_log_info("go%s: load average above the CPU count: pause sums not compared", ver);
	goprof_session_free(s);
}

Test(gc, stats_need_the_feature)
{
	struct goprof_gc_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_gc_stats(s, 0, &st), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "GOPROF_FEATURE_GC"), "%s", goprof_last_error());
	goprof_session_free(s);
}
