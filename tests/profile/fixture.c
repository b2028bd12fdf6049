// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Test profiles and helpers for the profile suites (see fixture.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

uint32_t fx_location(struct goprof_profile *p, uint32_t mapping, uint64_t addr, uint32_t kind,
		     const struct gp_line_in *lines, uint32_t nr_lines)
{
	uint32_t id = 0;
	int err = gp_profile_add_location(&id, p, mapping, addr, kind, lines, nr_lines);

	cr_assert_eq(err, 0, "add_location 0x%llx: %d %s", (unsigned long long)addr, err,
		     goprof_last_error());
	cr_assert_neq(id, 0);
	return id;
}

void fx_sample(struct goprof_profile *p, const char *comm, const uint32_t *locs, uint32_t nr,
	       int64_t count, const struct gp_label_in *labels, uint32_t nr_labels)
{
	int64_t values[2] = { count, count * FX_PERIOD };
	struct gp_sample_in s = {
		.locations = locs, .nr_locations = nr, .values = values,
		.labels = labels, .nr_labels = nr_labels, .comm = comm,
	};
	int err = gp_profile_add_sample(p, &s);

	cr_assert_eq(err, 0, "add_sample: %d %s", err, goprof_last_error());
}

struct goprof_profile *fx_empty_cpu_profile(void)
{
	static const struct gp_value_type types[] = {
		{ "samples", "count" },
		{ "cpu", "nanoseconds" },
	};
	struct gp_profile_desc desc = {
		.sample_types = types, .nr_sample_types = 2,
		.period_type = { "cpu", "nanoseconds" }, .period = FX_PERIOD,
		.time_nanos = FX_TIME_NANOS, .duration_nanos = FX_DURATION_NANOS,
	};
	struct goprof_profile *p = gp_profile_new(&desc);

	cr_assert_not_null(p, "gp_profile_new: %s", goprof_last_error());
	return p;
}

#define SRC "/home/dev/server/"
#define GOROOT "/opt/libgoprof/go-1.23/src/"

struct goprof_profile *fx_cpu_profile(void)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_mapping_in server = {
		0x400000, 0x9a0000, 0, "/usr/local/bin/server",
		"4f1c2d3e5a6b7c8d9e0f11223344556677889900", "0a1b2c3d4e5f60718293a4b5c6d7e8f9" };
	struct gp_mapping_in libc = {
		0x7f1234560000, 0x7f1234700000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"e7b4c1a0d2f3e4b5c6d7e8f9a0b1c2d3e4f5a6b7", NULL };
	struct gp_mapping_in kernel = {
		0xffffffff81000000, 0xffffffff83000000, 0, "[kernel.kallsyms]", NULL, NULL };
	uint32_t ms, ml, mk;
	const struct gp_line_in hash_compute[] = {
		{ "main.hash", NULL, SRC "main.go", 12, 10 },   /* inlined into main.compute */
		{ "main.compute", NULL, SRC "main.go", 31, 25 },
	};
	const struct gp_line_in worker = { "main.worker", NULL, SRC "main.go", 50, 45 };
	const struct gp_line_in goexit = { "runtime.goexit", NULL, GOROOT "runtime/asm_amd64.s", 1700, 1695 };
	const struct gp_line_in readloop = { "main.readLoop", NULL, SRC "main.go", 70, 66 };
	const struct gp_line_in syscall = { "syscall.Syscall", NULL, GOROOT "syscall/syscall_linux.go", 69, 68 };
	const struct gp_line_in entry = { "entry_SYSCALL_64", NULL, NULL, 0, 0 };
	const struct gp_line_in dosys = { "do_syscall_64", NULL, NULL, 0, 0 };
	const struct gp_line_in copy = { "copy_user_generic_string", NULL, NULL, 0, 0 };
	const struct gp_line_in memcpy_ = { "memcpy", "__memmove_avx_unaligned_erms", NULL, 0, 0 };
	const struct gp_line_in op = { "operator<<(std::ostream&, Foo const&)",
				       "_ZlsRSoRK3Foo", SRC "foo.cc", 7, 5 };
	const struct gp_line_in weird = { "weird;name", NULL, SRC "weird.c", 3, 1 };
	const struct gp_line_in cgocall = { "runtime.cgocall", NULL, GOROOT "runtime/cgocall.go", 167, 123 };
	const struct gp_line_in cgowork = { "main.cgoWork", NULL, SRC "main.go", 90, 88 };
	uint32_t l_hash, l_worker, l_goexit, l_read, l_sys, l_entry, l_dosys, l_copy, l_memcpy,
		l_op, l_weird, l_cgocall, l_cgowork;

	cr_assert_eq(gp_profile_add_mapping(&ms, p, &server), 0);
	cr_assert_eq(gp_profile_add_mapping(&ml, p, &libc), 0);
	cr_assert_eq(gp_profile_add_mapping(&mk, p, &kernel), 0);

	l_hash = fx_location(p, ms, 0x4a1010, GOPROF_FRAME_KIND_GO, hash_compute, 2);
	l_worker = fx_location(p, ms, 0x4a2020, GOPROF_FRAME_KIND_GO, &worker, 1);
	l_goexit = fx_location(p, ms, 0x46e001, GOPROF_FRAME_KIND_GO, &goexit, 1);
	l_read = fx_location(p, ms, 0x4a3030, GOPROF_FRAME_KIND_GO, &readloop, 1);
	l_sys = fx_location(p, ms, 0x48f040, GOPROF_FRAME_KIND_GO, &syscall, 1);
	l_entry = fx_location(p, mk, 0xffffffff81a00010, GOPROF_FRAME_KIND_KERNEL, &entry, 1);
	l_dosys = fx_location(p, mk, 0xffffffff81200020, GOPROF_FRAME_KIND_KERNEL, &dosys, 1);
	l_copy = fx_location(p, mk, 0xffffffff81300030, GOPROF_FRAME_KIND_KERNEL, &copy, 1);
	l_memcpy = fx_location(p, ml, 0x7f1234589abc, GOPROF_FRAME_KIND_NATIVE, &memcpy_, 1);
	l_op = fx_location(p, ms, 0x5a0050, GOPROF_FRAME_KIND_NATIVE, &op, 1);
	l_weird = fx_location(p, ms, 0x5b0060, GOPROF_FRAME_KIND_NATIVE, &weird, 1);
	l_cgocall = fx_location(p, ms, 0x404070, GOPROF_FRAME_KIND_GO, &cgocall, 1);
	l_cgowork = fx_location(p, ms, 0x4a5080, GOPROF_FRAME_KIND_GO, &cgowork, 1);

	{
		const uint32_t hot[] = { l_hash, l_worker, l_goexit };
		const uint32_t kern[] = { l_copy, l_dosys, l_entry, l_sys, l_read, l_goexit };
		const uint32_t cgo[] = { l_memcpy, l_op, l_cgocall, l_cgowork, l_goexit };
		const uint32_t odd[] = { l_weird, l_cgowork, l_goexit };
		const struct gp_label_in api[] = {
			{ "http.route", "/api/users", 0, NULL },
			{ "goroutine", NULL, 7, NULL },
		};
		const struct gp_label_in api_reordered[] = {
			{ "goroutine", NULL, 7, NULL },
			{ "http.route", "/api/users", 0, NULL },
		};
		const struct gp_label_in health[] = {
			{ "http.route", "/health", 0, NULL },
			{ "goroutine", NULL, 9, NULL },
		};

		fx_sample(p, "server", hot, 3, 30, api, 2);
		fx_sample(p, "server", kern, 6, 20, NULL, 0);
		fx_sample(p, "server", hot, 3, 10, health, 2);
		fx_sample(p, "server", cgo, 5, 15, NULL, 0);
		fx_sample(p, "server", hot, 3, 5, api_reordered, 2);
		fx_sample(p, "server", odd, 3, 5, NULL, 0);
	}
	return p;
}

int fx_buf_write(const void *data, size_t len, void *ctx)
{
	struct fx_buf *b = ctx;

	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *d = realloc(b->data, cap);

		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	b->calls++;
	return 0;
}

void fx_buf_free(struct fx_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *fx_write_tmp(const struct goprof_profile *p, uint32_t format, const char *suffix)
{
	char *path = NULL;
	int fd, err;

	cr_assert_neq(asprintf(&path, "/tmp/goprof-test-XXXXXX%s", suffix), -1);
	fd = mkstemps(path, (int)strlen(suffix));
	cr_assert_geq(fd, 0);
	close(fd);
	err = goprof_profile_write_file(p, format, NULL, path);
	cr_assert_eq(err, 0, "write_file %s: %d %s", path, err, goprof_last_error());
	return path;
}

char *fx_run(const char *cmd, int *status)
{
	struct fx_buf b = { 0 };
	char *full = NULL, chunk[4096];
	FILE *f;
	size_t n;
	int st;

	cr_assert_neq(asprintf(&full, "%s 2>&1", cmd), -1);
	f = popen(full, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fx_buf_write(chunk, n, &b);
	st = pclose(f);
	free(full);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (!b.data)
		b.data = strdup("");
	return b.data;
}

const char *const *fx_go_tools(void)
{
	static const char *found[8];
	static const char *const candidates[] = {
		"/opt/libgoprof/go-1.19/bin/go", "/opt/libgoprof/go-1.21/bin/go",
		"/opt/libgoprof/go-1.22/bin/go", "/opt/libgoprof/go-1.23/bin/go",
		"/opt/libgoprof/go-1.24/bin/go", "/opt/libgoprof/go-1.26/bin/go",
		"/opt/libgoprof/go-1.27/bin/go",
	};
	size_t i, n = 0;

	if (!found[0])
		for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
			if (access(candidates[i], X_OK) == 0)
				found[n++] = candidates[i];
	return found;
}
