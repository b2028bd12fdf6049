// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * CPU sampling against real Go processes: a fixture keeps N threads busy for S seconds;
 * each busy thread must get Hz x (its CPU time) samples within +-10% (+-25% when it had
 * to share its CPU), for every Go toolchain. When the machine let the threads run the whole time (CPU time >= 90% of S),
 * that is also Hz x S x N; on a loaded machine the CPU time the kernel gave each thread
 * (schedstat, reported by the fixture) is the honest reference.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define BUSY_THREADS 2
#define BUSY_SECONDS 3
#define MAX_TIDS 8

struct busy_run {
	int tids[MAX_TIDS];
	int ntids;
	uint64_t tid_samples[MAX_TIDS];  /* from goprof_session_foreach_thread */
	uint64_t tid_cpu_ns[MAX_TIDS];    /* the thread's own CPU time, from the fixture */
	/* Every thread seen by on_sample, before the fixture named its busy threads too. */
	uint32_t seen_tids[64];
	uint64_t seen_delivered[64];
	int nseen;
	uint64_t bad_fields;
	int pid;
	double started, ended;
};

static int find_tid(const struct busy_run *r, uint32_t tid)
{
	for (int i = 0; i < r->ntids; i++)
		if ((uint32_t)r->tids[i] == tid)
			return i;
	return -1;
}

static int on_sample(const struct goprof_sample *s, void *ctx)
{
	struct busy_run *r = ctx;
	int i = find_tid(r, s->tid);

	if (s->sz < sizeof(*s) || s->pid != (uint32_t)r->pid || s->comm[0] == '\0' ||
	    s->cpu >= 4096 || s->time_ns == 0)
		r->bad_fields++;
	for (i = 0; i < r->nseen && r->seen_tids[i] != s->tid; i++)
		;
	if (i == r->nseen && r->nseen < 64)
		r->seen_tids[r->nseen++] = s->tid;
	if (i < 64)
		r->seen_delivered[i]++;
	return 0;
}

static uint64_t delivered_for(const struct busy_run *r, int tid)
{
	for (int i = 0; i < r->nseen; i++)
		if (r->seen_tids[i] == (uint32_t)tid)
			return r->seen_delivered[i];
	return 0;
}

static int on_thread(const struct goprof_thread_samples *t, void *ctx)
{
	struct busy_run *r = ctx;
	int i = find_tid(r, t->tid);

	cr_expect_eq(t->pid, (uint32_t)r->pid, "thread of another process counted");
	if (i >= 0)
		r->tid_samples[i] = t->samples;
	return 0;
}

/* Parses "ready TID TID ..." */
static void parse_ready(struct busy_run *r, char *line)
{
	char *save, *tok = strtok_r(line, " ", &save);

	cr_assert(tok && !strcmp(tok, "ready"), "unexpected fixture output '%s'", line);
	while ((tok = strtok_r(NULL, " ", &save)) && r->ntids < MAX_TIDS)
		r->tids[r->ntids++] = atoi(tok);
	cr_assert_eq(r->ntids, BUSY_THREADS);
}

/*
 * Starts sampling before the fixture runs, attaches it before its first instruction
 * (threads appear after the attach), drains samples until it exits.
 */
static void run_busy(const char *go_version, unsigned hz, bool deliver, struct busy_run *r)
{
	char threads[8], secs[8], line[256];
	char *argv[] = { (char *)fixture_path("busy", go_version), threads, secs, NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = hz,
		    .on_sample = deliver ? on_sample : NULL, .ctx = r);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;

	memset(r, 0, sizeof(*r));
	snprintf(threads, sizeof(threads), "%d", BUSY_THREADS);
	snprintf(secs, sizeof(secs), "%d", BUSY_SECONDS);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start(&c, argv);
	r->pid = c.pid;
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s), "fixture printed nothing");
	r->started = mono_seconds();
	parse_ready(r, line);
	if (deliver) {
		struct pollfd pfd = { .fd = goprof_session_fd(s), .events = POLLIN };

		cr_assert_geq(pfd.fd, 0, "%s", goprof_last_error());
		/* Host-style event loop on the session's descriptor. */
		while (mono_seconds() - r->started < BUSY_SECONDS + 0.5)
			if (poll(&pfd, 1, 100) > 0)
				cr_assert_geq(goprof_session_poll(s, 0), 0, "%s", goprof_last_error());
	}
	while (child_read_line_polling(&c, line, sizeof(line), s) && !strncmp(line, "cpu ", 4)) {
		int tid = 0, i;
		unsigned long long ns = 0;

		cr_assert_eq(sscanf(line, "cpu %d %llu", &tid, &ns), 2, "bad line '%s'", line);
		i = find_tid(r, (uint32_t)tid);
		cr_assert_geq(i, 0, "cpu line for unknown thread %d", tid);
		r->tid_cpu_ns[i] = ns;
	}
	r->ended = mono_seconds();
	cr_assert(!strncmp(line, "done ", 5), "fixture said '%s'", line);
	cr_assert_eq(child_wait(&c), 0);
	/* The target has exited: the session keeps its counts and stays usable. */
	goprof_session_stop(s);
	while (deliver && goprof_session_poll(s, 0) > 0)
		;
	cr_assert_eq(goprof_session_foreach_thread(s, on_thread, r), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_eq(st.lost_ringbuf_full, 0);
	cr_expect_eq(st.lost_thread_table_full, 0);
	if (deliver)
		cr_expect_eq(st.samples_delivered, st.cpu_samples,
			     "every counted sample delivered: %lu of %lu",
			     (unsigned long)st.samples_delivered, (unsigned long)st.cpu_samples);
	goprof_session_free(s);
}

static void check_counts(const struct busy_run *r, unsigned hz, const char *go_version)
{
	double wall_expected = (double)hz * BUSY_SECONDS;
	bool had_cpus = true;
	uint64_t total = 0;

	for (int i = 0; i < r->ntids; i++) {
		double cpu_s = r->tid_cpu_ns[i] / 1e9, expected = hz * cpu_s;

		cr_assert_gt(r->tid_cpu_ns[i], 0, "no CPU time reported for thread %d", r->tids[i]);
		/*
		 * A thread that had its CPU the whole time is hit by nearly every tick of the
		 * timer: +-10%. (In-phase timers and a poller woken by every sample once cost
		 * such a thread a quarter of its samples.) A thread sharing its CPU is hit
		 * binomially: +-25% is 4 standard deviations at 300 samples, under 2 at 40.
		 */
		double tolerance = cpu_s >= 0.9 * BUSY_SECONDS ? 0.10 : 0.25;

		if (expected < 100) {
			cr_log_info("go%s: thread %d got %.2f CPU-seconds only: too few samples (%lu) "
				    "to judge", go_version, r->tids[i], cpu_s,
				    (unsigned long)r->tid_samples[i]);
			had_cpus = false;
			continue;
		}
		cr_expect(r->tid_samples[i] >= expected * (1 - tolerance) &&
			  r->tid_samples[i] <= expected * (1 + tolerance),
			  "go%s: thread %d has %lu samples for %.2f CPU-seconds at %u Hz: expected "
			  "%.0f +-%.0f%%", go_version, r->tids[i], (unsigned long)r->tid_samples[i], cpu_s,
			  hz, expected, tolerance * 100);
		cr_log_info("go%s: thread %d: %lu samples, %.3f CPU-s, %.1f samples/CPU-s (Hz %u)",
			    go_version, r->tids[i], (unsigned long)r->tid_samples[i], cpu_s,
			    r->tid_samples[i] / cpu_s, hz);
		total += r->tid_samples[i];
		had_cpus &= cpu_s >= 0.9 * BUSY_SECONDS;
	}
	if (!had_cpus) {
		cr_log_info("go%s: machine busy, threads got less than 90%% of %d s; compared with "
			    "their CPU time only", go_version, BUSY_SECONDS);
		return;
	}
	cr_assert(total >= wall_expected * BUSY_THREADS * 0.75 &&
		  total <= wall_expected * BUSY_THREADS * 1.25,
		  "go%s: busy threads have %lu samples, expected %.0f +-25%% (Hz %u x %d s x %d threads)",
		  go_version, (unsigned long)total, wall_expected * BUSY_THREADS, hz, BUSY_SECONDS,
		  BUSY_THREADS);
}

/* Parameters are indexes into the build's toolchain list (values copy safely into the
 * test's process; pointers would not). */
ParameterizedTestParameters(cpu, counts_per_thread_match_frequency)
{
	static int indexes[16];
	size_t n = 0;

	while (fixture_go_versions()[n] && n < 16) {
		indexes[n] = (int)n;
		n++;
	}
	return cr_make_param_array(int, indexes, n);
}

ParameterizedTest(int *version_index, cpu, counts_per_thread_match_frequency, .timeout = 60)
{
	const char *go_version = fixture_go_versions()[*version_index];
	struct busy_run r;

	require_bpf_privileges();
	run_busy(go_version, 99, false, &r);
	check_counts(&r, 99, go_version);
}

Test(cpu, higher_frequency_and_delivery_through_the_fd, .timeout = 60)
{
	const char *go_version = fixture_go_versions()[0];
	struct busy_run r;

	require_bpf_privileges();
	run_busy(go_version, 499, true, &r);
	check_counts(&r, 499, go_version);
	cr_expect_eq(r.bad_fields, 0, "%lu samples with bad fields", (unsigned long)r.bad_fields);
	for (int i = 0; i < r.ntids; i++)
		cr_expect_eq(delivered_for(&r, r.tids[i]), r.tid_samples[i],
			     "thread %d: %lu delivered, %lu counted", r.tids[i],
			     (unsigned long)delivered_for(&r, r.tids[i]), (unsigned long)r.tid_samples[i]);
}

Test(cpu, detached_process_is_no_longer_counted, .timeout = 60)
{
	const char *go_version = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("busy", go_version), "1", "2", NULL };
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;
	char line[256];
	uint64_t at_detach;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0);
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	cr_assert(child_read_line(&c, line, sizeof(line)));
	usleep(500 * 1000);
	cr_assert_eq(goprof_session_detach_pid(s, c.pid), 0);
	goprof_session_stats(s, &st);
	at_detach = st.cpu_samples;
	cr_assert_gt(at_detach, 0, "busy thread sampled before detach: %lu", (unsigned long)at_detach);
	usleep(500 * 1000);
	goprof_session_stats(s, &st);
	cr_assert_leq(st.cpu_samples, at_detach + 2, "still counting after detach: %lu -> %lu",
		      (unsigned long)at_detach, (unsigned long)st.cpu_samples);
	child_kill(&c);
	goprof_session_free(s);
}

/*
 * A 4 KiB ring buffer that nobody drains under 10 kHz sampling: samples are lost, and
 * every one is accounted for - taken in the kernel = delivered + lost, exactly.
 */
Test(cpu, full_ring_buffer_losses_are_counted_exactly, .timeout = 60)
{
	const char *go_version = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("busy", go_version), "1", "1", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 10000, .ringbuf_kib = 4);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;
	char line[256];

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	while (child_read_line(&c, line, sizeof(line)) && strncmp(line, "done", 4))
		; /* no polling: the ring buffer fills */
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_stop(s);
	while (goprof_session_poll(s, 0) > 0)
		;
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_log_info("10 kHz, 4 KiB ring: %lu taken, %lu delivered, %lu lost",
		    (unsigned long)st.cpu_samples, (unsigned long)st.samples_delivered,
		    (unsigned long)st.lost_ringbuf_full);
	cr_expect_gt(st.lost_ringbuf_full, 0, "nothing lost: the test did not fill the buffer");
	cr_assert_eq(st.cpu_samples, st.samples_delivered + st.lost_ringbuf_full,
		     "taken %lu != delivered %lu + lost %lu", (unsigned long)st.cpu_samples,
		     (unsigned long)st.samples_delivered, (unsigned long)st.lost_ringbuf_full);
	goprof_session_free(s);
}
