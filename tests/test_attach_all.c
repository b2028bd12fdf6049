// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Whole-machine mode (goprof_session_attach_all, issue 19): Go and non-Go processes
 * started before the call and after it are followed and sampled; GOPROF_ATTACH_ALL_GO_ONLY
 * and the filter leave processes out (counted), max_processes bounds how many are
 * followed (counted), and the calling process is never followed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define MAX_WATCHED 4

struct watched {
	int pids[MAX_WATCHED];
	uint32_t flags[MAX_WATCHED];
	bool listed[MAX_WATCHED];
	uint64_t samples[MAX_WATCHED];
	bool self_listed;
	unsigned attached; /* processes listed as followed (not exited) */
};

static int on_process(const struct goprof_process_info *info, void *ctx)
{
	struct watched *w = ctx;

	w->self_listed |= (int)info->pid == getpid();
	w->attached += !(info->flags & GOPROF_PROCESS_EXITED);
	for (int i = 0; i < MAX_WATCHED; i++)
		if ((int)info->pid == w->pids[i]) {
			w->listed[i] = true;
			w->flags[i] = info->flags;
		}
	return 0;
}

static int on_thread(const struct goprof_thread_samples *t, void *ctx)
{
	struct watched *w = ctx;

	for (int i = 0; i < MAX_WATCHED; i++)
		if ((int)t->pid == w->pids[i])
			w->samples[i] += t->samples;
	return 0;
}

/* busy (Go) for 3 s, or cspin (C) for 3 s; returns once it runs. */
static void start_go(struct child *c, const char *ver)
{
	char *argv[] = { (char *)fixture_path("busy", ver), "1", "3", NULL };
	char line[256];

	child_start(c, argv);
	cr_assert(child_read_line(c, line, sizeof(line)) && !strncmp(line, "ready", 5), "busy: %s", line);
}

static void start_c(struct child *c)
{
	static char path[4096];
	char *argv[] = { path, "3", NULL };

	snprintf(path, sizeof(path), "%s/cspin", getenv("GOPROF_FIXTURES"));
	child_start(c, argv);
}

/*
 * Polls the session until the children have exited, then takes everything in. cpu_ns[i]
 * (may be NULL) gets the CPU time busy reports for its thread ("cpu TID NS"), 0 for cspin.
 */
static void run_until_done(struct goprof_session *s, struct child *cs, int n, uint64_t *cpu_ns)
{
	char line[256];

	for (int i = 0; i < n; i++) {
		unsigned long long tid, ns;

		while (child_read_line_polling(&cs[i], line, sizeof(line), s))
			if (cpu_ns && sscanf(line, "cpu %llu %llu", &tid, &ns) == 2)
				cpu_ns[i] += ns;
		child_wait(&cs[i]);
	}
	while (goprof_session_poll(s, 100) > 0)
		;
}

Test(attach_all, follows_processes_before_and_after, .timeout = 90)
{
	const char *ver = fixture_go_versions()[0];
	uint64_t cpu_ns[4] = { 0 };
	struct watched w = { 0 };
	struct goprof_session *s;
	struct child cs[4];

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	start_go(&cs[0], ver);
	start_c(&cs[1]);
	cr_assert_eq(goprof_session_attach_all(s, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	start_go(&cs[2], ver);
	start_c(&cs[3]);
	for (int i = 0; i < 4; i++)
		w.pids[i] = cs[i].pid;
	/*
	 * Listed while they run: once exited, a process's entry may be dropped for newer ones
	 * (the list keeps the 256 most recent exits, and a busy machine starts many).
	 */
	for (int i = 0; i < 10; i++)
		goprof_session_poll(s, 100);
	goprof_session_foreach_process(s, on_process, &w);
	run_until_done(s, cs, 4, cpu_ns);
	goprof_session_foreach_thread(s, on_thread, &w);
	for (int i = 0; i < 4; i++) {
		bool go = i % 2 == 0;

		cr_expect(w.listed[i], "process %d (%s, started %s the call) not followed", w.pids[i],
			  go ? "Go" : "C", i < 2 ? "before" : "after");
		cr_expect(w.flags[i] & GOPROF_PROCESS_BY_ALL, "process %d: flags 0x%x", w.pids[i], w.flags[i]);
		cr_expect_eq(!!(w.flags[i] & GOPROF_PROCESS_GO), go, "process %d: flags 0x%x", w.pids[i],
			     w.flags[i]);
		/* At 99 Hz: a quarter of what the thread's own CPU time says, at least (busy
		 * reports it; a loaded machine gives it less than 3 s, and the first ones ran
		 * before the session started). cspin: sampled at all. */
		cr_expect_gt(w.samples[i], go ? cpu_ns[i] * 99 / 4000000000 : 0,
			     "process %d: %lu CPU samples for %.2f s of CPU", w.pids[i],
			     (unsigned long)w.samples[i], cpu_ns[i] / 1e9);
	}
	cr_expect(!w.self_listed, "the calling process is followed");
	cr_expect_eq(goprof_session_attach_all(s, NULL), -EALREADY);
	{
		struct goprof_session_stats st = { .sz = sizeof(st) };

		goprof_session_stats(s, &st);
		cr_log_info("followed at the end %lu, lost events %lu, lost targets_full %lu, exited %lu",
			    (unsigned long)st.attached_pids, (unsigned long)st.lost_events,
			    (unsigned long)st.lost_targets_full, (unsigned long)st.processes_exited);
	}
	goprof_session_free(s);
}

struct reject {
	int pid;
	unsigned asked;
};

static int reject_one(int pid, const char *comm, void *ctx)
{
	struct reject *r = ctx;

	r->asked++;
	cr_assert_not_null(comm);
	return pid == r->pid;
}

Test(attach_all, go_only_and_filter_leave_processes_out, .timeout = 90)
{
	const char *ver = fixture_go_versions()[0];
	struct goprof_session_stats st = { .sz = sizeof(st) };
	uint64_t cpu_ns[4] = { 0 };
	struct reject r = { 0 };
	struct watched w = { 0 };
	struct goprof_session *s;
	struct child cs[4];

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	start_go(&cs[0], ver); /* the filter rejects it */
	start_go(&cs[1], ver);
	r.pid = cs[0].pid;
	{
		GOPROF_OPTS(goprof_attach_all_opts, o, .flags = GOPROF_ATTACH_ALL_GO_ONLY, .filter = reject_one,
			    .ctx = &r);

		cr_assert_eq(goprof_session_attach_all(s, &o), 0, "%s", goprof_last_error());
	}
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	start_c(&cs[2]); /* not Go: left out at its exec */
	start_go(&cs[3], ver);
	for (int i = 0; i < 4; i++)
		w.pids[i] = cs[i].pid;
	for (int i = 0; i < 10; i++) /* listed while they run, as above */
		goprof_session_poll(s, 100);
	goprof_session_foreach_process(s, on_process, &w);
	run_until_done(s, cs, 4, cpu_ns);
	goprof_session_foreach_thread(s, on_thread, &w);
	cr_expect(!w.listed[0], "the process the filter rejected is followed");
	cr_expect(w.listed[1] && w.flags[1] & GOPROF_PROCESS_GO, "a Go process started before is not followed");
	cr_expect(!w.listed[2], "a C process is followed with GOPROF_ATTACH_ALL_GO_ONLY");
	cr_expect(w.listed[3] && w.flags[3] & GOPROF_PROCESS_GO, "a Go process started after is not followed");
	cr_expect_eq(w.samples[0], 0, "samples of the process the filter rejected: %lu",
		     (unsigned long)w.samples[0]);
	/* Followed from its exec until the poller read its executable (documented). */
	cr_expect_lt(w.samples[2], 30, "samples of the C process before it was left out: %lu of ~300",
		     (unsigned long)w.samples[2]);
	cr_expect_gt(w.samples[3], cpu_ns[3] * 99 / 2000000000, "samples of the Go process started after: %lu for %.2f s of CPU",
		     (unsigned long)w.samples[3], cpu_ns[3] / 1e9);
	cr_expect_geq(r.asked, 3, "the filter was asked %u times", r.asked);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_geq(st.processes_filtered, 2, "processes_filtered %lu", (unsigned long)st.processes_filtered);
	goprof_session_free(s);
}

Test(attach_all, max_processes_bounds_and_counts, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	struct goprof_session_stats st = { .sz = sizeof(st) };
	GOPROF_OPTS(goprof_attach_all_opts, o, .max_processes = 1);
	struct watched w = { 0 };
	struct goprof_session *s;
	struct child c;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_all(s, &o), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	start_go(&c, ver); /* a second process: over the limit */
	w.pids[0] = c.pid;
	for (int i = 0; i < 10; i++)
		goprof_session_poll(s, 100);
	goprof_session_foreach_process(s, on_process, &w);
	run_until_done(s, &c, 1, NULL);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_leq(w.attached, 1, "%u processes followed with max_processes 1", w.attached);
	cr_expect(!w.listed[0], "a process over the limit is followed");
	/* This machine runs more than one process: the others were counted. */
	cr_expect_geq(st.processes_over_limit, 2, "processes_over_limit %lu",
		      (unsigned long)st.processes_over_limit);
	goprof_session_free(s);
}

Test(attach_all, bad_options)
{
	struct goprof_session *s;
	GOPROF_OPTS(goprof_attach_all_opts, o, .flags = 0x80);

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_expect_eq(goprof_session_attach_all(s, &o), -EINVAL);
	cr_expect(strstr(goprof_last_error(), "unknown flags"), "%s", goprof_last_error());
	cr_expect_eq(goprof_session_attach_all(NULL, NULL), -EINVAL);
	goprof_session_free(s);
}
