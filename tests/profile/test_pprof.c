// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * pprof output, validated by Go's own `go tool pprof` with every installed toolchain, and
 * decoded with protoc against tests/profile/profile.proto (independent of our writer).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

/* Runs `go tool pprof ARGS FILE` in /tmp (no go.mod around) and returns its output. */
static char *pprof(const char *go, const char *args, const char *file, int *status)
{
	char *cmd, *out;

	cr_assert_neq(asprintf(&cmd, "cd /tmp && HOME=/tmp GOTOOLCHAIN=local %s tool pprof %s %s",
			       go, args, file), -1);
	out = fx_run(cmd, status);
	free(cmd);
	return out;
}

static const char *go_latest(void)
{
	const char *const *tools = fx_go_tools();
	const char *last = NULL;

	while (*tools)
		last = *tools++;
	if (!last)
		fx_require_tool("no Go toolchain installed under /opt/libgoprof/go-*");
	return last;
}

static bool has_line_matching(const char *text, const char *a, const char *b)
{
	/* true if some line contains both a and b */
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, n);
		bool hit = strstr(copy, a) && (!b || strstr(copy, b));

		free(copy);
		if (hit)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

/* Sum of the first value of every sample row of `pprof -raw` ("   35  353535350: 1 2 3"). */
static int raw_samples(const char *raw, long long *count_sum, long long *ns_sum)
{
	const char *s = strstr(raw, "\nSamples:\n"), *end = strstr(raw, "\nLocations\n");
	int rows = 0;

	cr_assert_not_null(s, "no Samples section:\n%s", raw);
	cr_assert_not_null(end);
	*count_sum = *ns_sum = 0;
	for (s = strchr(s + 10, '\n'); s && s < end; s = strchr(s + 1, '\n')) {
		long long c, ns;
		int used = 0;

		if (sscanf(s + 1, " %lld %lld:%n", &c, &ns, &used) == 2 && used) {
			rows++;
			*count_sum += c;
			*ns_sum += ns;
		}
	}
	return rows;
}

Test(pprof, raw_output_of_every_go_toolchain, .timeout = 300)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *path = fx_write_tmp(p, GOPROF_FORMAT_PPROF, ".pb.gz");
	const char *const *go;
	int tools = 0;

	for (go = fx_go_tools(); *go; go++, tools++) {
		long long count, ns;
		int st;
		char *raw = pprof(*go, "-raw", path, &st);

		cr_assert_eq(st, 0, "%s rejected our profile:\n%s", *go, raw);
		cr_assert(strstr(raw, "PeriodType: cpu nanoseconds\n"), "%s:\n%s", *go, raw);
		cr_assert(strstr(raw, "Period: 10101010\n"), "%s", raw);
		cr_assert(strstr(raw, "Duration: 5s\n"), "%s", raw);
		cr_assert(strstr(raw, "Time: 2025-11-25 22:00:00 +0000 UTC"), "%s", raw);
		cr_assert(strstr(raw, "samples/count cpu/nanoseconds"), "%s", raw);
		/* 6 adds aggregated into 5 samples, 85 samples in all. */
		cr_assert_eq(raw_samples(raw, &count, &ns), 5, "%s", raw);
		cr_assert_eq(count, FX_TOTAL_SAMPLES);
		cr_assert_eq(ns, (long long)FX_TOTAL_SAMPLES * FX_PERIOD);
		cr_assert(strstr(raw, "35  353535350: 1 2 3 \n"
				      "                http.route:[/api/users]\n"
				      "                goroutine:[7]\n"), "labels:\n%s", raw);
		cr_assert(strstr(raw, "http.route:[/health]"), "%s", raw);
		/* Inline frames: two lines in one location, innermost first. */
		cr_assert(strstr(raw, "main.hash /home/dev/server/main.go:12"), "%s", raw);
		cr_assert(has_line_matching(strstr(raw, "main.hash /home"), "main.compute /home/dev/server/main.go:31", NULL),
			  "%s", raw);
		cr_assert(has_line_matching(raw, "0xffffffff81300030", "copy_user_generic_string"), "%s", raw);
		cr_assert(has_line_matching(raw, "memcpy", "(__memmove_avx_unaligned_erms)"), "%s", raw);
		/* Mappings: fully symbolized ones are flagged so pprof never re-symbolizes. */
		cr_assert(has_line_matching(raw, "/usr/local/bin/server 4f1c2d3e5a6b7c8d9e0f11223344556677889900",
					    "[FN][FL][LN][IN]"), "%s", raw);
		cr_assert(has_line_matching(raw, "0x7f1234560000/0x7f1234700000/0x28000 /usr/lib/x86_64-linux-gnu/libc.so.6",
					    "[FN]"), "%s", raw);
		cr_assert(has_line_matching(raw, "[kernel.kallsyms]", "[FN]"), "%s", raw);
		free(raw);
	}
	cr_log_info("validated with %d Go toolchains", tools);
	if (!tools)
		fx_require_tool("no Go toolchain installed under /opt/libgoprof/go-*");
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

Test(pprof, traces_and_top, .timeout = 120)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *path = fx_write_tmp(p, GOPROF_FORMAT_PPROF, ".pb.gz");
	const char *go = go_latest();
	char *traces, *top;
	int st;

	traces = pprof(go, "-traces", path, &st);
	cr_assert_eq(st, 0, "%s", traces);
	cr_assert(strstr(traces, "http.route:  /api/users\n goroutine:  7\n  353.54ms   main.hash (inline)\n"
				 "             main.compute\n             main.worker\n             runtime.goexit\n"),
		  "%s", traces);
	cr_assert(strstr(traces, "  202.02ms   copy_user_generic_string\n             do_syscall_64\n"
				 "             entry_SYSCALL_64\n             syscall.Syscall\n"), "%s", traces);
	cr_assert(strstr(traces, "operator<<(std::ostream&, Foo const&)"), "%s", traces);
	/* Nothing to re-symbolize: no warnings about missing binaries. */
	cr_assert_null(strstr(traces, "symbolization"), "%s", traces);
	cr_assert_null(strstr(traces, "failed"), "%s", traces);
	free(traces);

	top = pprof(go, "-top -sample_index=samples", path, &st);
	cr_assert_eq(st, 0, "%s", top);
	cr_assert(strstr(top, "Total samples = 85"), "%s", top);
	cr_assert(has_line_matching(top, "        45 52.94% 52.94%         45 52.94%  main.hash (inline)", NULL), "%s", top);
	cr_assert(has_line_matching(top, "20 23.53%", "copy_user_generic_string"), "%s", top);
	cr_assert(has_line_matching(top, "85   100%  runtime.goexit", NULL), "%s", top);
	cr_assert(has_line_matching(top, "45 52.94%  main.compute", NULL), "%s", top);
	free(top);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

Test(pprof, unsymbolized_frames_and_numeric_label_units, .timeout = 120)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_mapping_in app = { 0x400000, 0x500000, 0, "/nonexistent/app", "aa11", NULL };
	struct gp_mapping_in lib = { 0x7f0000000000, 0x7f0000100000, 0x1000, "/nonexistent/libx.so", NULL, NULL };
	struct gp_line_in main_ = { "main.main", NULL, "/src/main.go", 10, 9 };
	struct gp_label_in size = { "request_size", NULL, 2048, "bytes" };
	uint32_t ma, ml, locs[2];
	char *path, *raw;
	int st;

	cr_assert_eq(gp_profile_add_mapping(&ma, p, &app), 0);
	cr_assert_eq(gp_profile_add_mapping(&ml, p, &lib), 0);
	locs[0] = fx_location(p, ml, 0x7f0000000abc, GOPROF_FRAME_KIND_NATIVE, NULL, 0);
	locs[1] = fx_location(p, ma, 0x401000, GOPROF_FRAME_KIND_GO, &main_, 1);
	fx_sample(p, "app", locs, 2, 3, &size, 1);
	path = fx_write_tmp(p, GOPROF_FORMAT_PPROF, ".pb.gz");
	raw = pprof(go_latest(), "-raw", path, &st);
	cr_assert_eq(st, 0, "%s", raw);
	cr_assert(strstr(raw, "request_size:[2048 bytes]"), "numeric label with unit:\n%s", raw);
	/* The library mapping has no symbols: no [FN], so pprof may symbolize it itself. */
	cr_assert(has_line_matching(raw, "/nonexistent/libx.so", NULL), "%s", raw);
	cr_assert(!has_line_matching(raw, "/nonexistent/libx.so", "[FN]"), "%s", raw);
	cr_assert(has_line_matching(raw, "/nonexistent/app aa11", "[FN][FL][LN][IN]"), "%s", raw);
	cr_assert(has_line_matching(raw, "0x7f0000000abc M=1", NULL), "%s", raw);
	free(raw);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

Test(pprof, gzip_and_uncompressed_variants)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct fx_buf gz = { 0 }, plain = { 0 };
	GOPROF_OPTS(goprof_profile_write_opts, opts, .flags = GOPROF_WRITE_PPROF_UNCOMPRESSED);

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_PPROF, NULL, fx_buf_write, &gz), 0);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_PPROF, &opts, fx_buf_write, &plain), 0);
	cr_assert_geq(gz.len, 18);
	cr_assert_eq((unsigned char)gz.data[0], 0x1f, "not gzip");
	cr_assert_eq((unsigned char)gz.data[1], 0x8b, "not gzip");
	cr_assert_eq((unsigned char)plain.data[0], 0x0a, "expected field 1 (sample_type), LEN");
	cr_assert_lt(gz.len, plain.len);
	fx_buf_free(&gz);
	fx_buf_free(&plain);
	goprof_profile_free(p);
}

static char *protoc_decode(const struct goprof_profile *p)
{
	GOPROF_OPTS(goprof_profile_write_opts, opts, .flags = GOPROF_WRITE_PPROF_UNCOMPRESSED);
	const char *dir = getenv("GOPROF_PROFILE_TEST_DIR");
	char path[] = "/tmp/goprof-pb-XXXXXX", *cmd, *out;
	int fd, st;

	if (!dir)
		fx_require_tool("GOPROF_PROFILE_TEST_DIR not set (run through meson test)");
	if (access("/usr/bin/protoc", X_OK))
		fx_require_tool("protoc not installed (package protobuf-compiler)");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, &opts, path), 0);
	cr_assert_neq(asprintf(&cmd, "protoc -I%s --decode=perftools.profiles.Profile %s/profile.proto < %s",
			       dir, dir, path), -1);
	out = fx_run(cmd, &st);
	cr_assert_eq(st, 0, "protoc: %s", out);
	unlink(path);
	free(cmd);
	return out;
}

static int count_of(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

Test(pprof, protoc_decodes_the_structure)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *txt = protoc_decode(p);
	const char *first_str = strstr(txt, "string_table:");

	cr_assert_not_null(first_str, "%s", txt);
	cr_assert_eq(strncmp(first_str, "string_table: \"\"\n", 17), 0, "string_table[0] must be \"\":\n%s", txt);
	cr_assert_eq(count_of(txt, "\nsample {"), 5, "%s", txt);
	cr_assert_eq(count_of(txt, "\nmapping {"), 3, "%s", txt);
	cr_assert_eq(count_of(txt, "\nlocation {"), 13, "%s", txt);
	cr_assert_eq(count_of(txt, "\nfunction {"), 14, "%s", txt);
	cr_assert_eq(count_of(txt, "  has_functions: true"), 3, "%s", txt);
	cr_assert_eq(count_of(txt, "  has_line_numbers: true"), 1, "only the Go binary has line numbers:\n%s", txt);
	cr_assert(strstr(txt, "mapping {\n  id: 1\n"), "ids start at 1:\n%s", txt);
	cr_assert(strstr(txt, "\nperiod: 10101010\n"), "%s", txt);
	cr_assert(strstr(txt, "\ntime_nanos: 1764108000000000000\n"), "%s", txt);
	cr_assert(strstr(txt, "\nduration_nanos: 5000000000\n"), "%s", txt);
	cr_assert_null(strstr(txt, "default_sample_type"), "not set in this profile:\n%s", txt);
	free(txt);
	goprof_profile_free(p);
}

Test(pprof, only_referenced_tables_after_reset, .timeout = 120)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct gp_line_in l = { "main.idle", NULL, "/home/dev/server/main.go", 5, 4 };
	uint32_t loc;
	char *txt;

	gp_profile_reset(p);
	loc = fx_location(p, 1, 0x4a9000, GOPROF_FRAME_KIND_GO, &l, 1);
	fx_sample(p, "server", &loc, 1, 4, NULL, 0);
	txt = protoc_decode(p);
	cr_assert_eq(count_of(txt, "\nsample {"), 1, "%s", txt);
	cr_assert_eq(count_of(txt, "\nlocation {"), 1, "%s", txt);
	cr_assert_eq(count_of(txt, "\nmapping {"), 1, "%s", txt);
	cr_assert_eq(count_of(txt, "\nfunction {"), 1, "%s", txt);
	/* "", samples, count, cpu, nanoseconds, main.idle, its file, mapping file, build ID:
	 * nothing left over from the samples before the reset. */
	cr_assert_eq(count_of(txt, "\nstring_table:"), 9, "%s", txt);
	cr_assert_null(strstr(txt, "main.hash"), "%s", txt);
	free(txt);
	goprof_profile_free(p);
}

Test(pprof, empty_profile_and_default_sample_type, .timeout = 120)
{
	static const struct gp_value_type types[] = { { "alloc_objects", "count" }, { "alloc_space", "bytes" } };
	struct gp_profile_desc desc = {
		.sample_types = types, .nr_sample_types = 2,
		.period_type = { "space", "bytes" }, .period = 524288,
		.default_sample_type = "alloc_space",
	};
	struct goprof_profile *p = gp_profile_new(&desc);
	char *path, *out;
	int st;

	cr_assert_not_null(p);
	path = fx_write_tmp(p, GOPROF_FORMAT_PPROF, ".pb.gz");
	out = pprof(go_latest(), "-top", path, &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "Type: alloc_space"), "default_sample_type ignored:\n%s", out);
	free(out);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

/* xorshift: deterministic pseudo-random profiles. */
static uint64_t rnd_state;
static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

/*
 * Random profiles of many shapes (names and stacks long enough to cross the one-byte
 * length boundary of nested messages, 0-4 lines per location, string and numeric labels,
 * unsymbolized frames, big values) must come back from `go tool pprof -raw` with the
 * same number of samples and the same sums as the model holds.
 */
Test(pprof, random_profiles_round_trip, .timeout = 300)
{
	const char *go = go_latest();
	int iter;

	for (iter = 0; iter < 12; iter++) {
		struct goprof_profile *p = fx_empty_cpu_profile();
		uint32_t maps[4], locs[300], stack[200], nlocs = 20 + (uint32_t)iter * 20, i, j;
		long long want_count = 0, want_ns = 0, count, ns;
		char name[300], file[64], lv[32], *path, *raw;
		int st, rows;

		rnd_state = 0x1234567ULL + (uint64_t)iter * 7919;
		for (i = 0; i < 4; i++) {
			struct gp_mapping_in m = { 0x400000 + (uint64_t)i * 0x1000000,
						   0x400000 + (uint64_t)(i + 1) * 0x1000000, i * 0x1000,
						   NULL, i % 2 ? "deadbeef" : NULL, NULL };

			snprintf(file, sizeof(file), "/opt/app/lib%u.so", i);
			m.filename = file;
			cr_assert_eq(gp_profile_add_mapping(&maps[i], p, &m), 0);
		}
		for (i = 0; i < nlocs; i++) {
			struct gp_line_in lines[4];
			uint32_t nl = rnd(5), m = rnd(4), len = 1 + rnd(250);

			for (j = 0; j < nl; j++) {
				memset(name, 'a' + (int)rnd(26), len);
				snprintf(name + len, sizeof(name) - len, ".f%u_%u", i, j);
				lines[j] = (struct gp_line_in){ strdup(name), NULL, "/src/x.go",
								1 + rnd(100000), 1 + rnd(10) };
			}
			locs[i] = fx_location(p, maps[m], 0x400000 + (uint64_t)m * 0x1000000 + i * 8,
					      m == 3 ? GOPROF_FRAME_KIND_KERNEL : GOPROF_FRAME_KIND_GO,
					      lines, nl);
			for (j = 0; j < nl; j++)
				free((char *)lines[j].function);
		}
		for (i = 0; i < 50 + (uint32_t)iter * 30; i++) {
			uint32_t depth = 1 + rnd(iter % 3 ? 200 : 8);
			int64_t v[2];
			struct gp_label_in labels[2] = {
				{ "route", lv, 0, NULL },
				{ "bytes", NULL, 1 + rnd(1 << 30), "bytes" },
			};
			struct gp_sample_in s = { .locations = stack, .nr_locations = depth,
						  .values = v, .labels = labels, .nr_labels = rnd(3),
						  .comm = "rnd" };

			snprintf(lv, sizeof(lv), "/r%u", rnd(5));
			for (j = 0; j < depth; j++)
				stack[j] = locs[rnd(nlocs)];
			v[0] = 1 + rnd(1000);
			v[1] = v[0] * (int64_t)FX_PERIOD * (1 + rnd(3));
			cr_assert_eq(gp_profile_add_sample(p, &s), 0, "%s", goprof_last_error());
			want_count += v[0];
			want_ns += v[1];
		}
		path = fx_write_tmp(p, GOPROF_FORMAT_PPROF, ".pb.gz");
		raw = pprof(go, "-raw", path, &st);
		cr_assert_eq(st, 0, "iteration %d: pprof rejected the profile:\n%.2000s", iter, raw);
		rows = raw_samples(raw, &count, &ns);
		cr_assert_eq(rows, (int)p->nr_samples, "iteration %d", iter);
		cr_assert_eq(count, want_count, "iteration %d", iter);
		cr_assert_eq(ns, want_ns, "iteration %d", iter);
		free(raw);
		unlink(path);
		free(path);
		goprof_profile_free(p);
	}
}
