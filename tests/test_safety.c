// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Target safety: with every probe kind attached (CPU sampling at 999 Hz, goroutine, GC
 * and heap uprobes), a fixture that grows and shrinks thousands of goroutine stacks and
 * churns goroutines and heap runs for 30 s while sessions are created and freed over and
 * over (uprobes installed and removed under it). It must exit normally with the checksum
 * an unprofiled run of the same rounds prints.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define STRESS_SECONDS "30"

static struct goprof_session *attach_everything(int pid)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 999,
		    .features = GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC_PRECISE | GOPROF_FEATURE_HEAP,
		    .overhead_budget_bp = 10000 /* keep every probe in, however hot */);
	struct goprof_session *s = goprof_session_new(&opts);

	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_pid(s, pid, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	return s;
}

static void run_unprofiled(const char *fixture, const char *rounds, char *line, size_t len)
{
	char *argv[] = { (char *)fixture, "0", (char *)rounds, NULL };
	struct child c;

	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, len));
	cr_assert(child_read_line(&c, line, len) && !strncmp(line, "checksum ", 9), "%s", line);
	cr_assert_eq(child_wait(&c), 0);
}

ParameterizedTestParameters(safety, stacks_survive_probe_cycles)
{
	static int stripped[] = { 0, 1 };

	return cr_make_param_array(int, stripped, 2);
}

ParameterizedTest(int *stripped, safety, stacks_survive_probe_cycles, .timeout = 180)
{
	const char *ver = fixture_go_versions()[0];
	const char *fixture = fixture_path(*stripped ? "stacks-stripped" : "stacks", ver);
	char *argv[] = { (char *)fixture, STRESS_SECONDS, NULL };
	char line[128], expected[128], rounds[32];
	unsigned long long sum = 0, n = 0;
	double t0;
	int cycles = 0;
	struct child c;

	require_bpf_privileges();
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "ready"));
	t0 = mono_seconds();
	/* 1 s with everything attached, then the session (and its uprobes) is gone. */
	while (mono_seconds() - t0 < 28) {
		struct goprof_session *s = attach_everything(c.pid);
		double t1 = mono_seconds();

		while (mono_seconds() - t1 < 1.0)
			goprof_session_poll(s, 50);
		goprof_session_free(s);
		cycles++;
		usleep(200 * 1000);
	}
	cr_assert(child_read_line(&c, line, sizeof(line)) &&
		  sscanf(line, "checksum %llu %llu", &sum, &n) == 2, "fixture said '%s'", line);
	cr_assert_eq(child_wait(&c), 0, "the fixture crashed under the probes");
	snprintf(rounds, sizeof(rounds), "%llu", n);
	run_unprofiled(fixture, rounds, expected, sizeof(expected));
	cr_log_info("go%s%s: %d attach/free cycles, %llu rounds, %s (unprofiled: %s)", ver,
		    *stripped ? " stripped" : "", cycles, n, line, expected);
	cr_assert_str_eq(line, expected, "the fixture computed something else under the probes");
	cr_assert_geq(cycles, 4, "only %d attach/free cycles in 28 s", cycles);
}

/*
 * 200 attach/detach cycles (GOPROF_SAFETY_CYCLES overrides) with every probe kind: a
 * session with every feature (goroutines, GC, heap, scheduling, every allocation,
 * off-CPU, blocking and channels, TCP, net/http)
 * under an unlimited budget attaches the fixture (its uprobes are installed), samples at
 * 999 Hz for 50 ms and detaches it (the uprobes are removed: the last attached process
 * of the executable is gone); a new session every CYCLES_PER_SESSION cycles, so the
 * sessions' own load and teardown run under the fixture too. The fixture keeps growing,
 * copying and shrinking goroutine stacks and spawning goroutines, and must finish with
 * the checksum of an unprofiled run.
 */
#define ALL_PROBE_FEATURES (GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC_PRECISE | GOPROF_FEATURE_HEAP | \
			    GOPROF_FEATURE_SCHED_PRECISE | GOPROF_FEATURE_ALLOCS | GOPROF_FEATURE_OFFCPU | \
			    GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS | GOPROF_FEATURE_TCP | \
			    GOPROF_FEATURE_HTTP)
#define CYCLES_PER_SESSION 20

static unsigned uprobes_installed(struct goprof_session *s)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };

	cr_assert_eq(goprof_session_stats(s, &st), 0);
	return st.uprobes_installed;
}

Test(safety, attach_detach_cycles, .timeout = 900)
{
	const char *const *vers = fixture_go_versions();
	const char *ver, *fixture, *env;
	int want, nv = 0, sessions = 0;
	char *argv[3];
	char line[128], expected[128], rounds[32];
	unsigned long long sum = 0, n = 0;
	double t_session = 0, t_attach = 0, t_detach = 0, t0;
	unsigned uprobes = 0;
	struct goprof_session *s = NULL;
	struct child c;

	require_bpf_privileges();
	while (vers[nv + 1])
		nv++;
	ver = vers[nv]; /* the newest toolchain */
	fixture = fixture_path("stacks", ver);
	env = getenv("GOPROF_SAFETY_CYCLES");
	want = env ? atoi(env) : 200;
	argv[0] = (char *)fixture;
	argv[1] = "stdin";
	argv[2] = NULL;
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "ready"));
	t0 = mono_seconds();
	for (int i = 0; i < want; i++) {
		double a = mono_seconds(), b;

		if (i % CYCLES_PER_SESSION == 0) {
			GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 999,
				    .features = ALL_PROBE_FEATURES, .overhead_budget_bp = 10000);

			goprof_session_free(s);
			s = goprof_session_new(&opts);
			cr_assert_not_null(s, "cycle %d: %s", i, goprof_last_error());
			cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
			sessions++;
			t_session += mono_seconds() - a;
			a = mono_seconds();
		}
		cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "cycle %d: %s", i,
			     goprof_last_error());
		uprobes = uprobes_installed(s);
		cr_assert_gt(uprobes, 0, "cycle %d: no uprobes installed", i);
		t_attach += mono_seconds() - a;
		b = mono_seconds();
		while (mono_seconds() - b < 0.05)
			goprof_session_poll(s, 10);
		b = mono_seconds();
		cr_assert_eq(goprof_session_detach_pid(s, c.pid), 0, "%s", goprof_last_error());
		cr_assert_eq(uprobes_installed(s), 0, "cycle %d: detached, but uprobes stay", i);
		t_detach += mono_seconds() - b;
	}
	{
		double a = mono_seconds();

		goprof_session_free(s);
		t_session += mono_seconds() - a;
	}
	child_close_stdin(&c);
	cr_assert(child_read_line(&c, line, sizeof(line)) &&
		  sscanf(line, "checksum %llu %llu", &sum, &n) == 2, "fixture said '%s'", line);
	cr_assert_eq(child_wait(&c), 0, "the fixture crashed under the probes");
	snprintf(rounds, sizeof(rounds), "%llu", n);
	run_unprofiled(fixture, rounds, expected, sizeof(expected));
	printf("go%s: %d attach/detach cycles with %u uprobes each, %d sessions, in %.1f s: "
	       "per cycle attach %.3f s, detach %.3f s; per session new+start+free %.3f s; "
	       "%llu rounds\n", ver, want, uprobes, sessions, mono_seconds() - t0, t_attach / want,
	       t_detach / want, t_session / sessions, n);
	cr_assert_str_eq(line, expected, "the fixture computed something else under the probes");
}
