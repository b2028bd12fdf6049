// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Heap profile from the runtime's sampled allocations: the heap fixture allocates 75% of
 * its bytes in main.allocBig and 25% in main.allocSmall, then frees the small ones. Our
 * alloc_space shares must match the design and Go's own heap profile of the same run
 * within 10 points, and in-use bytes of the freed site must fall.
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

struct sites {
	int64_t alloc_big, alloc_small, inuse_big, inuse_small;
};

static int sum_sites(const struct goprof_profile_sample *s, void *ctx)
{
	struct sites *t = ctx;
	const char *leaf = s->nr_frames ? s->frames[0]->function : "";

	/* values: alloc_objects, alloc_space, inuse_objects, inuse_space */
	if (!strcmp(leaf, "main.allocBig")) {
		t->alloc_big += s->values[1];
		t->inuse_big += s->values[3];
	} else if (!strcmp(leaf, "main.allocSmall")) {
		t->alloc_small += s->values[1];
		t->inuse_small += s->values[3];
	}
	return 0;
}

static struct sites snapshot_sites(struct goprof_session *s)
{
	struct goprof_profile *p;
	struct sites t = { 0 };

	while (goprof_session_poll(s, 50) > 0)
		;
	p = goprof_session_snapshot_heap(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, sum_sites, &t);
	goprof_profile_free(p);
	return t;
}

/* main.allocBig's share of alloc_space in Go's own heap profile, percent. */
static double go_alloc_share(const char *path)
{
	static const char *const names[] = { "main.allocBig", "main.allocSmall" };
	double flat[2], cum[2];

	go_pprof_top(path, "-sample_index=alloc_space", names, 2, flat, cum);
	cr_assert(flat[0] > 0 && flat[1] > 0, "Go's heap profile lacks the sites (%.1f/%.1f)",
		  flat[0], flat[1]);
	return 100.0 * flat[0] / (flat[0] + flat[1]);
}

ParameterizedTestParameters(heap, sites_match_design_and_go)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, heap, sites_match_design_and_go, .timeout = 60)
{
	const char *ver = fixture_go_versions()[v->version_index];
	char prof[] = "/tmp/goprof-heap-XXXXXX", line[64];
	char *argv[] = { (char *)fixture_path(v->stripped ? "heap-stripped" : "heap", ver),
			 "-heapprofile", prof, NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_HEAP);
	struct sites before, after;
	struct goprof_session *s;
	double ours, go_share;
	struct child c;
	int fd;

	require_bpf_privileges();
	fd = mkstemp(prof);
	cr_assert_geq(fd, 0);
	close(fd);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "allocated"));
	before = snapshot_sites(s);
	child_write_line(&c, "free");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "freed"));
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "done"));
	after = snapshot_sites(s);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture was harmed by the probes");
	go_share = go_alloc_share(prof);
	unlink(prof);

	cr_assert_gt(before.alloc_big + before.alloc_small, 0, "go%s: no heap samples", ver);
	ours = 100.0 * before.alloc_big / (before.alloc_big + before.alloc_small);
	cr_log_info("go%s%s: alloc_space main.allocBig %.1f%% (ours: %.1f MB big, %.1f MB small), "
		    "%.1f%% (Go's heap profile); inuse small %.1f MB -> %.1f MB, big %.1f -> %.1f MB",
		    ver, v->stripped ? " stripped" : "", ours, before.alloc_big / 1e6,
		    before.alloc_small / 1e6, go_share, before.inuse_small / 1e6,
		    after.inuse_small / 1e6, before.inuse_big / 1e6, after.inuse_big / 1e6);
	cr_expect(ours > 65 && ours < 85, "go%s: main.allocBig has %.1f%% of alloc_space, designed 75%% +-10",
		  ver, ours);
	cr_expect(ours > go_share - 10 && ours < go_share + 10,
		  "go%s: main.allocBig %.1f%%, Go's heap profile %.1f%% (+-10 points)", ver, ours, go_share);
	/* 20000 x (12 + 4) KiB = 327.7 MB allocated: the scaled estimate must be near it. */
	cr_expect(before.alloc_big + before.alloc_small > 327.7e6 * 0.8 &&
		  before.alloc_big + before.alloc_small < 327.7e6 * 1.2,
		  "go%s: %.1f MB allocated, designed 327.7 MB (+-20%%)", ver,
		  (before.alloc_big + before.alloc_small) / 1e6);
	/* Measured: down to 1-2% of what it was; once to 30% on an oversubscribed machine. */
	cr_expect_lt(after.inuse_small, before.inuse_small / 2 + 1,
		     "go%s: in-use bytes of the freed site did not fall: %.1f -> %.1f MB", ver,
		     before.inuse_small / 1e6, after.inuse_small / 1e6);
	cr_expect_gt(after.inuse_big, before.inuse_big / 2, "go%s: kept objects lost", ver);
	goprof_session_free(s);
}

static int note_of(const struct goprof_process_info *info, void *ctx)
{
	struct goprof_process_info *out = ctx;

	*out = *info;
	return 0;
}

/* A binary that cannot read heap profiles has memory profiling off: we must say so. */
Test(heap, memory_profiling_off_is_reported, .timeout = 30)
{
	char *argv[] = { (char *)fixture_path("busy", fixture_go_versions()[0]), "1", "1", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_HEAP);
	struct goprof_process_info info = { 0 };
	struct goprof_session *s;
	struct child c;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	/* Attached right after fork: inspection may see the image before or after exec. */
	child_read_line_polling(&c, (char[64]){ 0 }, 64, s);
	goprof_session_foreach_process(s, note_of, &info);
	cr_expect(info.flags & GOPROF_PROCESS_HEAP_OFF, "flags 0x%x, note '%s'", info.flags, info.note);
	cr_expect(strstr(info.note, "MemProfileRate"), "note: %s", info.note);
	child_kill(&c);
	goprof_session_free(s);
}

/*
 * The opt-in per-allocation mode counts every allocation exactly (the mode exists for
 * binaries whose memory profiling is off; it does not depend on the runtime's sampling,
 * so the heap fixture's known sizes check it exactly).
 */
Test(heap, per_allocation_mode_sees_every_allocation, .timeout = 60)
{
	char line[64], count[16];
	char *argv[] = { (char *)fixture_path("heap", fixture_go_versions()[0]), "-n", count, NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_ALLOCS,
		    .overhead_budget_bp = 10000 /* measure every allocation, whatever it costs */);
	struct goprof_profile *p;
	struct goprof_session *s;
	struct sites t = { 0 };
	struct child c;

	require_bpf_privileges();
	snprintf(count, sizeof(count), "%d", 3000);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_attached(&c, argv, s);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strcmp(line, "allocated"));
	while (goprof_session_poll(s, 50) > 0)
		;
	p = goprof_session_snapshot_allocs(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, sum_sites, &t);
	goprof_profile_free(p);
	child_close_stdin(&c);
	child_kill(&c);
	cr_log_info("per-allocation mode: main.allocBig %.1f MB, main.allocSmall %.1f MB",
		    t.alloc_big / 1e6, t.alloc_small / 1e6);
	/* Exactly 3000 x 12 KiB and 3000 x 4 KiB, plus the slices' own growth. */
	cr_expect_geq(t.alloc_big, 3000 * 3 * 4096);
	cr_expect_lt(t.alloc_big, 3000 * 3 * 4096 + 1000000);
	cr_expect_geq(t.alloc_small, 3000 * 4096);
	cr_expect_lt(t.alloc_small, 3000 * 4096 + 1000000);
	cr_expect_eq(t.inuse_big, 0, "no in-use tracking in this mode");
	goprof_session_free(s);
}
