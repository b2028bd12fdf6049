// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Profile model and encoder throughput: aggregation of raw samples, snapshot (clone),
 * and pprof (gzip) / folded / SVG encoding of a CPU profile with many distinct stacks.
 * Issue 4 target: pprof encoding at least 1 million samples per second.
 *
 * usage: bench-encode-profile [DISTINCT_STACKS [RAW_SAMPLES [random]]]
 *        (default 100000 1000000). Stacks are call-tree-like by default: 500 shared
 *        prefixes (request paths, 10-30 frames) each extended by 2-10 frames of a call
 *        graph. "random" picks every frame below depth 10 at random: a worst case for
 *        the folded and SVG call trees (few shared paths).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goprof/error.h"
#include "profile/profile_internal.h"

#define NFUNC 20000
#define MAX_DEPTH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static int count_sink(const void *data, size_t len, void *ctx)
{
	*(size_t *)ctx += len;
	return 0;
}

static uint64_t total_depth(const uint32_t *depth, uint32_t n)
{
	uint64_t sum = 0;

	while (n--)
		sum += depth[n];
	return sum;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-encode-profile: %s: %s\n", what, goprof_last_error());
	exit(1);
}

int main(int argc, char **argv)
{
	uint32_t nstacks = argc > 1 ? (uint32_t)atoi(argv[1]) : 100000;
	uint32_t nraw = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000000;
	int random_stacks = argc > 3 && !strcmp(argv[3], "random");
	static const struct gp_value_type types[] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	struct gp_profile_desc desc = {
		.sample_types = types, .nr_sample_types = 2,
		.period_type = { "cpu", "nanoseconds" }, .period = 10101010,
		.time_nanos = 1764108000000000000LL, .duration_nanos = 60000000000LL,
	};
	struct gp_mapping_in m = { 0x400000, 0x4400000, 0, "/usr/local/bin/big-server",
				   "0123456789abcdef0123456789abcdef01234567", NULL };
	uint32_t *locs = malloc(NFUNC * sizeof(*locs)), (*stacks)[MAX_DEPTH], *depth, map, i, j;
	const uint32_t formats[] = { GOPROF_FORMAT_PPROF, GOPROF_FORMAT_FOLDED, GOPROF_FORMAT_SVG };
	const char *names[] = { "pprof", "folded", "svg" };
	struct goprof_profile *p = gp_profile_new(&desc), *snap;
	char fname[64], file[64];
	double t0, t;

	stacks = malloc((size_t)nstacks * sizeof(*stacks));
	depth = malloc((size_t)nstacks * sizeof(*depth));
	if (!p || !locs || !stacks || !depth || gp_profile_add_mapping(&map, p, &m))
		die("setup");
	/* 20k functions; every third location has an inlined callee (two lines). */
	for (i = 0; i < NFUNC; i++) {
		struct gp_line_in lines[2];

		snprintf(fname, sizeof(fname), "github.com/acme/big/pkg%u.(*T).Method%u", i % 300, i);
		snprintf(file, sizeof(file), "/src/big/pkg%u/file%u.go", i % 300, i % 7);
		/* innermost first: the inlined callee, then the function it is inlined into */
		lines[0] = (struct gp_line_in){ "github.com/acme/big/util.inlined", NULL,
						"/src/big/util/u.go", 42, 40 };
		lines[1] = (struct gp_line_in){ fname, NULL, file, 10 + i % 500, 5 };
		if (gp_profile_add_location(&locs[i], p, map, 0x400000 + (uint64_t)i * 64,
					    GOPROF_FRAME_KIND_GO, i % 3 ? &lines[1] : lines,
					    i % 3 ? 1 : 2))
			die("add_location");
	}
	if (random_stacks) {
		for (i = 0; i < nstacks; i++) {
			depth[i] = 8 + rnd(40);
			for (j = 0; j < depth[i]; j++)
				stacks[i][depth[i] - 1 - j] = locs[j < 4 ? j * 17 : rnd(j < 10 ? 200 : NFUNC)];
		}
	} else {
		/* Call graph: function f calls (f * 7 + k * 131 + 1) % NFUNC, k < 4. */
		uint32_t prefix[500][MAX_DEPTH], plen[500], f, k;

		for (k = 0; k < 500; k++) {
			plen[k] = 10 + rnd(21);
			for (f = k % 4, j = 0; j < plen[k]; j++) {
				prefix[k][j] = f;
				f = (f * 7 + rnd(4) * 131 + 1) % NFUNC;
			}
		}
		for (i = 0; i < nstacks; i++) {
			uint32_t pk = rnd(500), n = plen[pk] + 2 + rnd(9), fn[MAX_DEPTH];

			memcpy(fn, prefix[pk], plen[pk] * sizeof(*fn));
			for (j = plen[pk]; j < n; j++)
				fn[j] = (fn[j - 1] * 7 + rnd(4) * 131 + 1) % NFUNC;
			depth[i] = n;
			for (j = 0; j < n; j++) /* leaf first */
				stacks[i][n - 1 - j] = locs[fn[j]];
		}
	}
	t0 = now();
	for (i = 0; i < nraw; i++) {
		uint32_t s = i < nstacks ? i : rnd(nstacks);
		int64_t v[2] = { 1, 10101010 };
		struct gp_label_in lab = { "goroutine", NULL, (int64_t)(s % 64), NULL };
		struct gp_sample_in in = { .locations = stacks[s], .nr_locations = depth[s],
					   .values = v, .labels = &lab, .nr_labels = 1, .comm = "big-server" };

		if (gp_profile_add_sample(p, &in))
			die("add_sample");
	}
	t = now() - t0;
	printf("stacks: %s, mean depth %.1f\n", random_stacks ? "random" : "call-tree-like",
	       (double)total_depth(depth, nstacks) / nstacks);
	printf("aggregate: %u raw samples into %u distinct in %.3f s: %.2f M samples/s\n",
	       nraw, p->nr_samples, t, nraw / t / 1e6);

	t0 = now();
	snap = gp_profile_clone(p);
	if (!snap)
		die("clone");
	t = now() - t0;
	printf("snapshot:  %u distinct samples in %.3f s\n", snap->nr_samples, t);

	for (i = 0; i < 3; i++) {
		size_t bytes = 0;

		t0 = now();
		if (goprof_profile_write(snap, formats[i], NULL, count_sink, &bytes))
			die(names[i]);
		t = now() - t0;
		printf("%-7s    %u distinct samples in %.3f s: %.2f M samples/s, %zu bytes\n", names[i],
		       snap->nr_samples, t, snap->nr_samples / t / 1e6, bytes);
	}
	{
		GOPROF_OPTS(goprof_profile_write_opts, raw, .flags = GOPROF_WRITE_PPROF_UNCOMPRESSED);
		size_t bytes = 0;

		t0 = now();
		if (goprof_profile_write(snap, GOPROF_FORMAT_PPROF, &raw, count_sink, &bytes))
			die("pprof uncompressed");
		t = now() - t0;
		printf("pprof without gzip: %.3f s: %.2f M samples/s, %zu bytes\n", t,
		       snap->nr_samples / t / 1e6, bytes);
	}
	if (getenv("GOPROF_BENCH_OUT")) { /* keep the outputs for inspection */
		GOPROF_OPTS(goprof_profile_write_opts, raw, .flags = GOPROF_WRITE_PPROF_UNCOMPRESSED);
		char path[512];
		const char *dir = getenv("GOPROF_BENCH_OUT");

		snprintf(path, sizeof(path), "%s/bench.pb", dir);
		goprof_profile_write_file(snap, GOPROF_FORMAT_PPROF, &raw, path);
		snprintf(path, sizeof(path), "%s/bench.pb.gz", dir);
		goprof_profile_write_file(snap, GOPROF_FORMAT_PPROF, NULL, path);
		snprintf(path, sizeof(path), "%s/bench.svg", dir);
		goprof_profile_write_file(snap, GOPROF_FORMAT_SVG, NULL, path);
	}
	goprof_profile_free(snap);
	goprof_profile_free(p);
	free(stacks);
	free(depth);
	free(locs);
	return 0;
}
