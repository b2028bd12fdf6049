// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The release x capability matrix: for every installed Go toolchain, one short session
 * with every runtime feature on the allcaps fixture (a little of everything) and one with
 * the HTTP wire tracer, and a check that each capability delivered real data: symbolized
 * stacks, goroutine IDs and labels, goroutine, GC, heap, scheduling, off-CPU, blocking,
 * channel, TCP and HTTP records, CPU time per HTTP endpoint. The long suites cover the
 * oldest and newest releases in depth; this one covers every release a little. It writes
 * the matrix to $GOPROF_BUILD_ROOT/release-matrix.md (docs/releases.md shows it).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "test_common.h"

enum cap {
	CAP_SYMBOLS, CAP_GOID_LABELS, CAP_GOROUTINES, CAP_GC, CAP_HEAP, CAP_SCHED, CAP_OFFCPU,
	CAP_BLOCK, CAP_CHANNELS, CAP_TCP, CAP_HTTP, CAP_HTTP_CPU, CAP_HTTP_WIRE, NR_CAPS
};

static const char *const cap_names[NR_CAPS] = {
	"stacks symbolized", "goroutine IDs + labels", "goroutines", "GC", "heap", "scheduling",
	"off-CPU", "blocking", "channels", "TCP", "HTTP (uprobes)", "HTTP CPU per endpoint",
	"HTTP (wire)",
};

struct run {
	uint64_t samples, go_samples, labelled, events[64];
	uint64_t http_hello, detached;
	char detached_msg[256];
};

static int on_sample(const struct goprof_sample *s, void *ctx)
{
	struct run *r = ctx;

	r->samples++;
	if (s->goid && s->flags & GOPROF_SAMPLE_GO)
		r->go_samples++;
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "work") && (!strcmp(s->labels[i]->str, "hot") ||
							   !strcmp(s->labels[i]->str, "cold")))
			r->labelled += s->goid != 0;
	return 0;
}

static int on_event(const struct goprof_event *ev, void *ctx)
{
	struct run *r = ctx;

	r->events[ev->type & 63]++;
	if (ev->type == GOPROF_EVENT_HTTP_REQUEST && ev->http && !strcmp(ev->http->path, "/hello"))
		r->http_hello++;
	if (ev->type == GOPROF_EVENT_PROBE_DETACHED) {
		r->detached++;
		snprintf(r->detached_msg, sizeof(r->detached_msg), "%s", ev->message ? ev->message : "");
	}
	return 0;
}

static int find_hot(const struct goprof_profile_sample *s, void *ctx)
{
	for (uint32_t i = 0; i < s->nr_frames; i++)
		if (!strcmp(s->frames[i]->function, "main.hot"))
			++*(uint64_t *)ctx;
	return 0;
}

static uint64_t samples_of(struct goprof_profile *p)
{
	struct goprof_profile_info info = { .sz = sizeof(info) };
	uint64_t n = 0;

	if (!p)
		return 0;
	if (goprof_profile_get_info(p, &info) == 0)
		n = info.nr_samples;
	goprof_profile_free(p);
	return n;
}

static int count_blocked_channel(const struct goprof_channel_stats *c, void *ctx)
{
	*(uint64_t *)ctx += c->blocked_sends + c->blocked_recvs;
	return 0;
}

static int hello_cpu(const struct goprof_http_endpoint *e, void *ctx)
{
	if (e->kind == GOPROF_HTTP_SERVER && !strcmp(e->path, "/hello"))
		*(uint64_t *)ctx += e->cpu_samples;
	return 0;
}

/* Runs allcaps (2 s and 20 HTTP answers at least) under @features, counting into r. */
static struct goprof_session *run_fixture(const char *ver, uint32_t features, struct run *r)
{
	char *argv[] = { (char *)fixture_path("allcaps", ver), "2", NULL };
	/* A budget no probe set reaches here: this suite asks whether each capability works
	 * on each release, not what it costs (the feature suites test the budget). */
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 499, .features = features,
		    .overhead_budget_bp = 10000, .on_sample = on_sample, .on_event = on_event, .ctx = r);
	struct goprof_session *s = goprof_session_new(&opts);
	char line[128];
	struct child c;

	cr_assert_not_null(s, "go%s: %s", ver, goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "go%s: %s", ver, goprof_last_error());
	child_start_attached(&c, argv, s);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strncmp(line, "done", 4),
		  "go%s: allcaps: %s", ver, line);
	for (int i = 0; i < 4; i++)
		goprof_session_poll(s, 50);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "go%s: the fixture was harmed by the probes", ver);
	while (goprof_session_poll(s, 50) > 0)
		;
	return s;
}

/* The whole of a small file, NUL-terminated (fails the test if unreadable). */
static char *slurp(const char *path)
{
	char *buf = calloc(1, 1 << 16);
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(buf && f, "%s", path);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * README.md and docs/releases.md show the matrix between release-matrix markers: it must
 * be the one this run measured, so the documentation never claims more than the tests show.
 */
static void check_doc_shows(const char *doc_name, const char *measured_path)
{
	const char *src = getenv("GOPROF_SOURCE_ROOT"), *begin = "produced by tests/test_releases.c -->\n";
	char path[4096], *doc, *measured, *start, *end;

	cr_assert(src, "GOPROF_SOURCE_ROOT not set");
	snprintf(path, sizeof(path), "%s/%s", src, doc_name);
	doc = slurp(path);
	measured = slurp(measured_path);
	start = strstr(doc, begin);
	end = start ? strstr(start, "<!-- end release-matrix -->") : NULL;
	cr_assert(start && end, "%s: no release-matrix markers", path);
	start += strlen(begin);
	*end = '\0';
	cr_expect_str_eq(start, measured, "%s shows a matrix other than the measured one (%s)", path,
			 measured_path);
	free(doc);
	free(measured);
}

static void check_release(const char *ver, const char *cells[NR_CAPS])
{
	const uint32_t runtime = GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP |
				 GOPROF_FEATURE_SCHED | GOPROF_FEATURE_OFFCPU | GOPROF_FEATURE_BLOCK |
				 GOPROF_FEATURE_CHANNELS | GOPROF_FEATURE_TCP | GOPROF_FEATURE_HTTP;
	struct goprof_sched_stats sched = { .sz = sizeof(sched) };
	uint64_t hot = 0, chan_blocked = 0, http_cpu = 0;
	struct run r = { 0 }, w = { 0 };
	struct goprof_session *s;
	uint64_t got[NR_CAPS];

	s = run_fixture(ver, runtime, &r);
	goprof_profile_foreach_sample(goprof_session_snapshot_cpu(s, 0), find_hot, &hot);
	got[CAP_SYMBOLS] = hot;
	got[CAP_GOID_LABELS] = r.labelled;
	got[CAP_GOROUTINES] = r.events[GOPROF_EVENT_GOROUTINE_CREATE];
	got[CAP_GC] = r.events[GOPROF_EVENT_GC_CYCLE];
	got[CAP_HEAP] = samples_of(goprof_session_snapshot_heap(s, 0));
	got[CAP_SCHED] = goprof_session_sched_stats(s, 0, &sched) == 0 ? sched.waits : 0;
	got[CAP_OFFCPU] = samples_of(goprof_session_snapshot_offcpu(s, 0));
	got[CAP_BLOCK] = samples_of(goprof_session_snapshot_block(s, 0));
	goprof_session_foreach_channel(s, count_blocked_channel, &chan_blocked);
	got[CAP_CHANNELS] = chan_blocked;
	got[CAP_TCP] = r.events[GOPROF_EVENT_TCP_CONNECT] + r.events[GOPROF_EVENT_TCP_ACCEPT];
	got[CAP_HTTP] = r.http_hello;
	goprof_session_foreach_http_endpoint(s, hello_cpu, &http_cpu);
	got[CAP_HTTP_CPU] = http_cpu;
	goprof_session_free(s);

	s = run_fixture(ver, GOPROF_FEATURE_HTTP_WIRE, &w);
	got[CAP_HTTP_WIRE] = w.http_hello;
	goprof_session_free(s);

	cr_expect_eq(r.detached, 0, "go%s: probes detached: %s", ver, r.detached_msg);
	cr_log_info("go%s: %lu CPU samples, %lu with a goroutine, %lu labelled", ver,
		    (unsigned long)r.samples, (unsigned long)r.go_samples, (unsigned long)r.labelled);
	for (int k = 0; k < NR_CAPS; k++) {
		cells[k] = got[k] ? "yes" : "**no**";
		cr_log_info("go%s: %s: %lu", ver, cap_names[k], (unsigned long)got[k]);
		cr_expect_gt(got[k], 0, "go%s: %s: nothing recorded", ver, cap_names[k]);
	}
}

Test(releases, every_capability_on_every_release, .timeout = 600)
{
	const char *const *versions = fixture_all_go_versions();
	const char *root = getenv("GOPROF_BUILD_ROOT");
	char path[4096];
	const char *cells[16][NR_CAPS];
	int n = 0;
	FILE *f;

	require_bpf_privileges();
	for (; versions[n] && n < 16; n++)
		check_release(versions[n], cells[n]);
	cr_assert(root, "GOPROF_BUILD_ROOT not set");
	snprintf(path, sizeof(path), "%s/release-matrix.md", root);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fprintf(f, "| capability |");
	for (int v = 0; v < n; v++)
		fprintf(f, " %s |", versions[v]);
	fprintf(f, "\n|---|");
	for (int v = 0; v < n; v++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (int k = 0; k < NR_CAPS; k++) {
		fprintf(f, "| %s |", cap_names[k]);
		for (int v = 0; v < n; v++)
			fprintf(f, " %s |", cells[v][k]);
		fprintf(f, "\n");
	}
	fclose(f);
	cr_log_info("release matrix written to %s", path);
	check_doc_shows("README.md", path);
	check_doc_shows("docs/releases.md", path);
}
