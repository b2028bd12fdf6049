// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * OTLP from a real process: the split fixture (70/30 CPU in main.hot/main.cold under
 * pprof labels part=hot/cold) profiled for about 2 s by a session, written as OTLP and
 * checked by check_otlp.py against the same snapshot read through foreach_sample, plus
 * what only a real profile shows: the resource names the fixture's executable, frames
 * are typed go/kernel, and main.hot outweighs main.cold under its label. The session
 * keeps timestamps and threads (GOPROF_CPU_PROFILE_*): every sample's time is written,
 * one value each, and the threads are those the kernel counted samples for.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "goprof/goprof.h"
#include "goprof/version.h"
#include "otlp_test_util.h"
#include "../test_common.h"

/* Samples per thread, as the kernel counted them and as the profile's labels say. */
#define MAX_TIDS 256
struct tid_counts {
	uint32_t n, tid[MAX_TIDS];
	uint64_t kernel[MAX_TIDS], profile[MAX_TIDS];
	uint64_t timestamps, samples, unlabelled;
	int64_t first_ts, last_ts;
	int64_t run_start, run_end; /* CLOCK_REALTIME around the fixture's run */
};

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t tid_slot(struct tid_counts *t, uint32_t tid)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->tid[i] == tid)
			return i;
	cr_assert_lt(t->n, MAX_TIDS);
	t->tid[t->n] = tid;
	return t->n++;
}

static int on_thread(const struct goprof_thread_samples *th, void *ctx)
{
	((struct tid_counts *)ctx)->kernel[tid_slot(ctx, th->tid)] += th->samples;
	return 0;
}

static int on_profile_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct tid_counts *t = ctx;
	bool found = false;

	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "thread_id") && s->labels[i]->is_num) {
			t->profile[tid_slot(t, (uint32_t)s->labels[i]->num)] += (uint64_t)s->values[0];
			found = true;
		}
	t->unlabelled += !found;
	t->samples += (uint64_t)s->values[0];
	t->timestamps += s->nr_timestamps;
	for (uint32_t i = 0; i < s->nr_timestamps; i++) {
		if (!t->first_ts || s->timestamps[i] < t->first_ts)
			t->first_ts = s->timestamps[i];
		if (s->timestamps[i] > t->last_ts)
			t->last_ts = s->timestamps[i];
	}
	return 0;
}

static struct goprof_profile *profile_split(const char *fixture, int *pid,
					    struct tid_counts *threads, int64_t *wall_ns)
{
	char line[256];
	char *argv[] = { (char *)fixture, "-seconds", "2", "-workers", "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 199,
		    .cpu_profile_flags = GOPROF_CPU_PROFILE_TIMESTAMPS | GOPROF_CPU_PROFILE_THREADS);
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;

	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	threads->run_start = realtime_ns();
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "ready"), "fixture: %s", line);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strncmp(line, "done", 4),
		  "fixture: %s", line);
	threads->run_end = realtime_ns();
	*pid = c.pid;
	/* "done ITERS0 ITERS1 CPU_NS WALL_NS": the fixture's own measure of its run. */
	cr_assert_eq(sscanf(line, "done %*u %*u %*d %" SCNd64, wall_ns), 1, "%s", line);
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(s, 100) > 0)
		;
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_foreach_thread(s, on_thread, threads), 0);
	goprof_session_free(s);
	return p;
}

/* Sum of the default Profile's (cpu/nanoseconds) values of the samples whose part attribute is `part`,
 * read from protoc's text: attribute index of part=VALUE, then the samples using it. */
static long long part_total(const char *text, const char *part)
{
	char want[64];
	const char *a = strstr(text, "attribute_table {"), *p;
	long long idx = 0, sum = 0;
	bool found = false;

	snprintf(want, sizeof(want), "string_value: \"%s\"", part);
	/* Walk the attribute table entries in order; index 0 is the zero entry. */
	for (p = a; p && (p = strstr(p, "attribute_table {")); p++, idx++) {
		const char *end = strstr(p + 1, "attribute_table {");
		const char *hit = strstr(p, want);

		if (hit && (!end || hit < end)) {
			found = true;
			break;
		}
	}
	cr_assert(found, "no attribute with value %s", part);
	/* The first Profile is the default sample type; sum its samples that carry idx. */
	{
		/* " profiles {": not resource_profiles or scope_profiles. */
		const char *prof = strstr(text, " profiles {"), *next = strstr(prof + 1, " profiles {");
		const char *smp = prof;
		char ref[64];

		snprintf(ref, sizeof(ref), "attribute_indices: %lld\n", idx);
		while ((smp = strstr(smp + 1, "samples {")) && (!next || smp < next)) {
			const char *send = strstr(smp + 1, "samples {"), *v = strstr(smp, "values: ");
			const char *r = strstr(smp, ref);

			if (!r || r > v)
				continue;
			/* one value per timestamp: all of this sample's values */
			for (; v && (!send || v < send) && (!next || v < next); v = strstr(v + 1, "values: "))
				sum += atoll(v + 8);
		}
	}
	return sum;
}

/*
 * Writes the profile as OTLP twice: first to read the build ID the encoder found (the one
 * resource value the test cannot know), then for check_otlp.py with the whole expected
 * resource (executable path, pid, service). Asserts the checker passed; returns its
 * output (free it) and, if text is not NULL, protoc's decoding of the body (free it).
 */
static char *check_live(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
			const char *fx, const char *service, const char *args, char **text)
{
	struct otlp_expect ex = { .resource_json = "{}" };
	char *resource, *body, *expect, *out, *decoded;

	cr_assert_eq(otlp_write_case(p, opts, &ex, &body, &expect), 0, "%s", goprof_last_error());
	decoded = otlp_decode_text(body);
	cr_assert_not_null(decoded);
	resource = otlp_resource_json(decoded, fx, (int)opts->pid, service);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	ex.resource_json = resource;
	cr_assert_eq(otlp_write_case(p, opts, &ex, &body, &expect), 0);
	cr_assert_eq(otlp_run_checker_args(body, expect, args, &out), 0,
		     "%s: check_otlp.py (%s, %s %s):\n%s", fx, body, expect, args, out);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	free(resource);
	if (text)
		*text = decoded;
	else
		free(decoded);
	return out;
}

Test(otlp_live, split_fixture, .timeout = 120)
{
	const char *const *vers = fixture_go_versions();
	const char *ver = vers[0], *fx;
	char *out, *text, exe_line[512];
	GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "split-test");
	struct goprof_profile *p;
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct tid_counts threads = { 0 };
	long long hot, cold;
	int64_t wall_ns;
	int pid;

	require_bpf_privileges();
	cr_assert_not_null(ver, "no Go versions");
	fx = fixture_path("split", ver);
	p = profile_split(fx, &pid, &threads, &wall_ns);
	opts.pid = pid;

	/* Threads and timestamps in the model, against the kernel's per-thread counts and
	 * the fixture's own run time. */
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_eq(goprof_profile_foreach_sample(p, on_profile_sample, &threads), 0);
	cr_assert_eq(threads.unlabelled, 0, "samples without a thread_id label");
	cr_assert_eq(info.timestamps_dropped, 0);
	cr_assert_eq(threads.timestamps, threads.samples, "one timestamp per sample");
	cr_assert_eq(info.nr_timestamps, threads.samples);
	for (uint32_t i = 0; i < threads.n; i++) {
		cr_assert_gt(threads.kernel[i], 0, "thread %u in the profile but not counted by the "
			     "kernel", threads.tid[i]);
		cr_assert_leq(threads.profile[i], threads.kernel[i], "thread %u: %llu samples in the "
			      "profile, %llu counted by the kernel", threads.tid[i],
			      (unsigned long long)threads.profile[i],
			      (unsigned long long)threads.kernel[i]);
	}
	fprintf(stderr, "OTLP live: %llu samples on %u threads, timestamps over %.2f s of a %.2f s run\n",
		    (unsigned long long)threads.samples, threads.n,
		    (double)(threads.last_ts - threads.first_ts) / 1e9, (double)wall_ns / 1e9);
	/* Kernel monotonic time converted to Unix time: every sample falls in the wall-clock
	 * window of the fixture's life, and they spread over at most its own run. */
	cr_assert_geq(threads.first_ts, threads.run_start, "a sample %.3f s before the fixture started",
		      (double)(threads.run_start - threads.first_ts) / 1e9);
	cr_assert_leq(threads.last_ts, threads.run_end, "a sample %.3f s after the fixture ended",
		      (double)(threads.last_ts - threads.run_end) / 1e9);
	cr_assert_leq(threads.last_ts - threads.first_ts, wall_ns + 200000000,
		      "samples spread over more than the fixture ran");
	/* The whole comparison; the resource names what the test knows: the path it started. */
	out = check_live(p, &opts, fx, "split-test", "--timestamps --htlhash-files 1", &text);
	fprintf(stderr, "%s", out);
	free(out);
	snprintf(exe_line, sizeof(exe_line), "string_value: \"%s\"", strrchr(fx, '/') + 1);
	cr_assert_not_null(strstr(text, exe_line), "resource lacks %s", exe_line);
	cr_assert_not_null(strstr(text, "string_value: \"go\""));
	cr_assert_not_null(strstr(text, "string_table: \"main.hot\""));
	cr_assert_not_null(strstr(text, "key: \"process.pid\""));
	cr_assert_not_null(strstr(text, "timestamps_unix_nano: "));
	hot = part_total(text, "hot");
	cold = part_total(text, "cold");
	cr_log_info("OTLP: %lld ns labelled hot, %lld cold", hot, cold);
	cr_assert_gt(hot, cold, "hot %lld <= cold %lld", hot, cold);
	/* profiles[0] is cpu/nanoseconds; runtime work (GC, samples on g0) has no part label */
	cr_assert_leq(hot + cold, (long long)threads.samples * info.period, "hot %lld + cold %lld "
		     "ns, the profile has %llu samples of %lld ns", hot, cold,
		     (unsigned long long)threads.samples, (long long)info.period);
	free(text);
	goprof_profile_free(p);
}

/*
 * Trace correlation from a real process: the traced fixture handles requests under
 * pprof labels holding trace and span IDs (both conventions) and prints each span. Every
 * link must be a printed span, and every sample in main.handleRequest must carry one;
 * with every toolchain, since Go keeps labels in a map up to 1.23 and a slice from 1.24.
 */
Test(otlp_live, traced_fixture_links, .timeout = 240)
{
	const char *const *vers = fixture_go_versions();
	const char *dir = getenv("GOPROF_OTLP_FIXTURES");

	require_bpf_privileges();
	cr_assert_not_null(dir);
	for (; *vers; vers++) {
		char fx[4096], line[256], *spans_path, *out, *args;
		char *argv[] = { fx, "-seconds", "2", NULL };
		GOPROF_OPTS(goprof_session_opts, so, .cpu_freq_hz = 199);
		GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "traced");
		struct goprof_session *s;
		struct goprof_profile *p;
		struct child c;
		unsigned nspans = 0;
		FILE *spans;
		int fd, pid;

		snprintf(fx, sizeof(fx), "%s/traced-go%s", dir, *vers);
		cr_assert(access(fx, X_OK) == 0, "no fixture %s", fx);
		spans_path = strdup("/tmp/goprof-otlp-spans-XXXXXX");
		fd = mkstemp(spans_path);
		cr_assert_geq(fd, 0);
		spans = fdopen(fd, "w");
		s = goprof_session_new(&so);
		cr_assert_not_null(s, "%s", goprof_last_error());
		cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
		child_start(&c, argv);
		cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "ready"), "%s", line);
		cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
		pid = c.pid;
		while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done")) {
			fprintf(spans, "%s\n", line);
			nspans++;
		}
		fclose(spans);
		cr_assert_eq(child_wait(&c), 0);
		while (goprof_session_poll(s, 100) > 0)
			;
		p = goprof_session_snapshot_cpu(s, 0);
		cr_assert_not_null(p, "%s", goprof_last_error());
		goprof_session_free(s);
		cr_assert_gt(nspans, 4, "Go %s: only %u requests", *vers, nspans);
		opts.pid = pid;

		cr_assert_neq(asprintf(&args, "--spans %s --linked main.handleRequest", spans_path), -1);
		out = check_live(p, &opts, fx, "traced", args, NULL);
		fprintf(stderr, "Go %s: %s", *vers, out); /* link figures in the test log */
		unlink(spans_path);
		free(args);
		free(out);
		free(spans_path);
		goprof_profile_free(p);
	}
}

/*
 * A profile kind other than CPU: the heap profile of the heap fixture (several sample
 * types: alloc and in-use objects and bytes) becomes one OTLP Profile per type, each
 * compared sample by sample with foreach_sample.
 */
Test(otlp_live, heap_profile, .timeout = 120)
{
	const char *ver = fixture_go_versions()[0], *fx = fixture_path("heap", ver);
	char goprof[] = "/tmp/goprof-otlp-heap-XXXXXX", line[64];
	char *argv[] = { (char *)fx, "-heapprofile", goprof, NULL };
	GOPROF_OPTS(goprof_session_opts, so, .features = GOPROF_FEATURE_HEAP);
	GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "heap-test");
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	int fd, pid;

	require_bpf_privileges();
	fd = mkstemp(goprof);
	cr_assert_geq(fd, 0);
	close(fd);
	s = goprof_session_new(&so);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	pid = c.pid;
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "allocated"));
	p = goprof_session_snapshot_heap(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	child_close_stdin(&c);
	child_kill(&c);
	goprof_session_free(s);
	unlink(goprof);
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_gt(info.nr_sample_types, 1, "a heap profile has several sample types");
	cr_assert_gt(info.nr_samples, 0, "no heap samples");
	opts.pid = pid;
	free(check_live(p, &opts, fx, "heap-test", "--htlhash-files 1", NULL));
	goprof_profile_free(p);
}

/*
 * A third kind: the goroutine profile of the leak fixture (goroutine/count and
 * age/nanoseconds by creation stack, numeric labels with units) compared with
 * foreach_sample like the others.
 */
Test(otlp_live, goroutine_profile, .timeout = 120)
{
	const char *ver = fixture_go_versions()[0], *fx = fixture_path("leak", ver);
	char *argv[] = { (char *)fx, "5", "3", NULL }, line[64];
	GOPROF_OPTS(goprof_session_opts, so, .features = GOPROF_FEATURE_GOROUTINES);
	GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "leak-test");
	struct goprof_profile_info info = { .sz = sizeof(info) };
	char *text;
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	int pid;

	require_bpf_privileges();
	s = goprof_session_new(&so);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "waiting"));
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	pid = c.pid;
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "started"));
	for (int i = 0; i < 4; i++)
		goprof_session_poll(s, 50);
	p = goprof_session_snapshot_goroutines(s, 0, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_gt(info.nr_samples, 0, "no goroutines");
	opts.pid = pid;
	free(check_live(p, &opts, fx, "leak-test", "--htlhash-files 1", &text));
	cr_assert_not_null(strstr(text, "string_table: \"goroutine\""), "%s", text);
	free(text);
	goprof_profile_free(p);
}

/* Delay (nanoseconds) of the off-CPU samples whose stack goes through main.sleeper. */
static int add_sleeper_delay(const struct goprof_profile_sample *s, void *ctx)
{
	for (uint32_t i = 0; i < s->nr_frames; i++)
		if (!strcmp(s->frames[i]->function, "main.sleeper")) {
			*(int64_t *)ctx += s->values[1];
			break;
		}
	return 0;
}

/*
 * A fourth kind, with kernel frames: the off-CPU profile of the offcpu fixture
 * (contentions/count and delay/nanoseconds by kernel and user stack) compared with
 * foreach_sample like the others; its main.sleeper time against the fixture's own
 * measure of its nanosleep calls.
 */
Test(otlp_live, offcpu_profile, .timeout = 120)
{
	const char *ver = fixture_go_versions()[0], *fx = fixture_path("offcpu", ver);
	char *argv[] = { (char *)fx, "wait", "1.5", "5", "10", NULL }, line[256], *text;
	GOPROF_OPTS(goprof_session_opts, so, .features = GOPROF_FEATURE_OFFCPU,
		    .overhead_budget_bp = 10000 /* every interval: compared with the fixture */);
	GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "offcpu-test");
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct goprof_session *s;
	struct goprof_profile *p;
	long long sleep_ns = -1;
	int64_t sleeper_ns = 0;
	struct child c;
	int pid;

	require_bpf_privileges();
	s = goprof_session_new(&so);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	pid = c.pid;
	while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done"))
		sscanf(line, "sleep_ns=%lld", &sleep_ns);
	cr_assert_str_eq(line, "done");
	cr_assert_gt(sleep_ns, 0, "the fixture measured no sleep");
	for (int i = 0; i < 4; i++) /* the last intervals: read from the kernel table */
		goprof_session_poll(s, 50);
	p = goprof_session_snapshot_offcpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_eq(info.nr_sample_types, 2, "contentions and delay");
	cr_assert_gt(info.nr_samples, 0, "no off-CPU samples");
	goprof_profile_foreach_sample(p, add_sleeper_delay, &sleeper_ns);
	cr_log_info("off-CPU: main.sleeper %.1f ms, the fixture slept %.1f ms", sleeper_ns / 1e6,
		    sleep_ns / 1e6);
	cr_assert(sleeper_ns >= sleep_ns / 2 && sleeper_ns <= sleep_ns * 3 / 2,
		  "main.sleeper %lld ns off CPU, the fixture slept %lld ns", (long long)sleeper_ns,
		  sleep_ns);
	opts.pid = pid;
	free(check_live(p, &opts, fx, "offcpu-test", "--htlhash-files 1", &text));
	cr_assert_not_null(strstr(text, "string_table: \"delay\""), "no delay sample type");
	cr_assert_not_null(strstr(text, "string_table: \"main.sleeper\""), "no main.sleeper");
	cr_assert_not_null(strstr(text, "string_value: \"kernel\""), "no kernel frame type");
	free(text);
	goprof_profile_free(p);
}
