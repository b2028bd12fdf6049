// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Bad input: missing, non-ELF, non-Go, truncated and corrupted binaries, an unknown
 * table format, a Go release newer than we know, and a loop in an inline tree. Each must
 * give an error code and message or a working handle, never a crash or a hang.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/error.h>
#include <goprof/symbolizer.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;

	cr_assert(f, "%s", path);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(*len);
	cr_assert(fread(buf, 1, *len, f) == *len);
	fclose(f);
	return buf;
}

static char *write_tmp(const uint8_t *data, size_t len)
{
	char *p = strdup("/tmp/symt-robust-XXXXXX");
	int fd = mkstemp(p);

	cr_assert(fd >= 0);
	cr_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
	return p;
}

static char *newest_fixture(const char *mode, bool stripped)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);

	return symt_fixture(vers[nv - 1], mode, stripped);
}

static int count_frames(const struct goprof_frame *f, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

/* Opens path; if that works, looks up PCs all over the address space: must not crash. */
static int open_and_probe(const char *path, uint64_t seed)
{
	struct goprof_binary *bin = goprof_binary_open(path, NULL);
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	uint64_t pcs[512];
	size_t frames = 0;

	if (!bin) {
		cr_expect(errno > 0, "NULL without errno");
		cr_expect(goprof_last_error()[0], "NULL without a message");
		return -errno;
	}
	goprof_binary_pclntab_info(bin, &info);
	for (size_t i = 0; i < 512; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		pcs[i] = info.text_start + (seed >> 33) % (4u << 20);
	}
	for (size_t i = 0; i < 512; i++)
		goprof_binary_symbolize(bin, &pcs[i], 1, count_frames, &frames);
	goprof_binary_foreach_function(bin, (goprof_function_fn)count_frames, &frames);
	goprof_binary_free(bin);
	return 0;
}

Test(sym_robust, missing_not_elf_not_go)
{
	struct goprof_binary *bin = goprof_binary_open("/nonexistent/binary", NULL);
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	uint8_t text[100] = "#!/bin/sh\necho this is not an ELF file, but it is longer than sixty-four bytes\n";
	char *p = write_tmp(text, sizeof(text));

	cr_expect_null(bin);
	cr_expect_eq(errno, ENOENT);
	cr_expect(strstr(goprof_last_error(), "/nonexistent/binary"), "%s", goprof_last_error());
	bin = goprof_binary_open(p, NULL);
	cr_expect_null(bin);
	cr_expect_eq(errno, GOPROF_ERRNO_NOT_GO);
	unlink(p);
	free(p);
	/* A C program opens with native symbols only. */
	bin = goprof_binary_open("/proc/self/exe", NULL);
	cr_assert(bin, "%s", goprof_last_error());
	cr_expect_eq(goprof_binary_is_go(bin), 0);
	cr_expect_null(goprof_binary_go_version(bin));
	cr_expect_eq(goprof_binary_pclntab_info(bin, &info), -GOPROF_ERRNO_NOT_GO);
	goprof_binary_free(bin);
	goprof_binary_free(NULL);
}

Test(sym_robust, options_struct_checked)
{
	struct { struct goprof_binary_opts o; uint64_t extra; } big;
	char *p = newest_fixture("default", false);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.extra = 1; /* a field from a newer libgoprof */
	cr_expect_null(goprof_binary_open(p, (struct goprof_binary_opts *)&big));
	cr_expect_eq(errno, EINVAL);
	big.extra = 0;
	goprof_binary_free(goprof_binary_open(p, (struct goprof_binary_opts *)&big));
	free(p);
}

Test(sym_robust, truncated_files, .timeout = 120)
{
	char *src = newest_fixture("cgopie", true);
	size_t len, opened = 0;
	uint8_t *data = slurp(src, &len);

	for (int i = 1; i <= 40; i++) {
		size_t cut = len * (size_t)i / 41;
		char *p = write_tmp(data, cut);

		opened += open_and_probe(p, (uint64_t)i) == 0;
		unlink(p);
		free(p);
	}
	fprintf(stderr, "truncated: %zu of 40 prefixes opened, the rest failed cleanly\n", opened);
	free(data);
	free(src);
}

/* Flips random bytes inside the pclntab and the inline trees. */
Test(sym_robust, corrupted_tables, .timeout = 240)
{
	char *src = newest_fixture("default", false);
	struct goprof_binary *bin = goprof_binary_open(src, NULL);
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	size_t len, gofunc_off, failed = 0;
	uint8_t *data = slurp(src, &len);
	uint64_t seed = 12345;

	cr_assert(bin && goprof_binary_pclntab_info(bin, &info) == 0);
	gofunc_off = (size_t)(bin->tab.gofunc.p - bin->elf.map);
	goprof_binary_free(bin);
	for (int round = 0; round < 60; round++) {
		uint8_t *copy = malloc(len);
		char *p;

		memcpy(copy, data, len);
		for (int k = 0; k < 64; k++) {
			size_t off;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			if (round % 3 == 2)
				off = gofunc_off + (seed >> 33) % 65536;
			else if (round % 3 == 1)
				off = info.file_offset + (seed >> 33) % 4096; /* header, early tables */
			else
				off = info.file_offset + (seed >> 33) % info.size;
			if (off < len)
				copy[off] = (uint8_t)(seed >> 17);
		}
		p = write_tmp(copy, len);
		failed += open_and_probe(p, seed) != 0;
		unlink(p);
		free(p);
		free(copy);
	}
	fprintf(stderr, "corrupted: %zu of 60 corrupted copies refused at open, the rest probed\n", failed);
	free(data);
	free(src);
}

static size_t find_bytes(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	const uint8_t *p = memmem(hay, len, needle, n);

	cr_assert(p, "pattern not found");
	return (size_t)(p - hay);
}

Test(sym_robust, newer_go_release_and_unknown_format)
{
	char *src = newest_fixture("default", false), *p;
	size_t len, off;
	uint8_t *data = slurp(src, &len);
	struct goprof_binary *bin = goprof_binary_open(src, NULL);
	const char *ver;
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	GOPROF_OPTS(goprof_binary_opts, opts, .allow_newer_go = 1);

	cr_assert(bin);
	ver = goprof_binary_go_version(bin); /* "go1.23.5" */
	goprof_binary_pclntab_info(bin, &info);
	/* Same length "go1.99.x": a release we have never seen (every copy of the string). */
	off = find_bytes(data, len, ver, strlen(ver));
	for (uint8_t *q = data; (q = memmem(q, len - (size_t)(q - data), ver, strlen(ver))); q++) {
		q[4] = '9';
		q[5] = '9';
	}
	p = write_tmp(data, len);
	cr_expect_null(goprof_binary_open(p, NULL));
	cr_expect_eq(errno, GOPROF_ERRNO_GO_VERSION, "errno %d: %s", errno, goprof_last_error());
	cr_expect(strstr(goprof_last_error(), "go1.99"), "%s", goprof_last_error());
	bin = goprof_binary_open(p, &opts);
	cr_expect_not_null(bin, "allow_newer_go: %s", goprof_last_error());
	goprof_binary_free(bin);
	unlink(p);
	free(p);
	/* An unknown table magic (0xfffffff2); the version string is irrelevant here. */
	(void)off;
	data[info.file_offset] = 0xf2;
	p = write_tmp(data, len);
	cr_expect_null(goprof_binary_open(p, NULL));
	cr_expect_eq(errno, GOPROF_ERRNO_GO_VERSION, "errno %d: %s", errno, goprof_last_error());
	unlink(p);
	free(p);
	goprof_binary_free(goprof_binary_open(src, NULL));
	free(data);
	free(src);
}

struct first_inlined {
	uint64_t pc;
	bool found;
};

Test(sym_robust, inline_tree_loop_is_an_error)
{
	char *src = newest_fixture("default", false), *p;
	struct goprof_binary *bin = goprof_binary_open(src, NULL);
	struct goprof_frame fr[80];
	size_t len;
	uint8_t *data = slurp(src, &len);
	uint64_t pc = 0, i;
	struct gp_func f;
	int32_t ix = -1;
	size_t rec_off;
	int n;

	cr_assert(bin);
	/* Find a PC with an inline chain, and the inline tree record it uses. */
	for (i = 0; i < bin->tab.nfunc && !pc; i++) {
		uint64_t a;

		cr_assert_eq(gp_pclntab_func(&bin->tab, i, &f), 0);
		for (a = f.entry; a < f.end; a++) {
			n = goprof_binary_symbolize_addr(bin, a, fr, 80, sizeof(fr[0]));
			if (n > 1) {
				pc = a;
				break;
			}
		}
	}
	cr_assert(pc, "no inlined code found");
	cr_assert(gp_pclntab_pcvalue(&bin->tab, &f, gp_pclntab_pcdata(&bin->tab, &f, 2), pc, &ix) && ix >= 0);
	{
		uint32_t tree_off = *(const uint32_t *)(f.rec + f.funcdata_off + 3 * 4);

		rec_off = (size_t)(bin->tab.gofunc.p - bin->elf.map) + tree_off + (size_t)ix * 16;
	}
	/* parentPc := this very PC: the walk would never reach the physical function. */
	{
		uint32_t self = (uint32_t)(pc - f.entry);

		memcpy(data + rec_off + 8, &self, 4);
	}
	goprof_binary_free(bin);
	p = write_tmp(data, len);
	bin = goprof_binary_open(p, NULL);
	cr_assert(bin, "%s", goprof_last_error());
	n = goprof_binary_symbolize_addr(bin, pc, fr, 80, sizeof(fr[0]));
	cr_expect_eq(n, -GOPROF_ERRNO_CORRUPT, "got %d", n);
	cr_expect(strstr(goprof_last_error(), "corrupt"), "%s", goprof_last_error());
	goprof_binary_free(bin);
	unlink(p);
	free(p);
	free(data);
	free(src);
}

/*
 * The Go 1.2 and 1.16 table formats, which no installed toolchain writes: minimal tables
 * hand-made from the format description (tests/fuzz/gen_seeds.py) guard the parsers
 * against regressions. (They check consistency with our reading of the format, not Go's
 * own output; the fuzzers cover robustness.)
 */
Test(sym_robust, old_table_formats)
{
	static const char *const names[] = { "go1.2-minimal", "go1.16-minimal" };
	static const int formats[] = { GP_PCLN_GO12, GP_PCLN_GO116 };

	for (size_t i = 0; i < 2; i++) {
		char *path;
		size_t len;
		uint8_t *data;
		struct gp_pclntab t;
		struct gp_go_frame fr[4];

		if (asprintf(&path, "%s/../fuzz/corpus/pclntab/%s", getenv("GOPROF_SYM_SOURCE"), names[i]) < 0)
			abort();
		data = slurp(path, &len);
		cr_assert_eq(gp_pclntab_parse(&t, data, len, 0x1000), 0, "%s", path);
		cr_expect_eq(t.format, formats[i]);
		cr_assert_eq(gp_pclntab_validate(&t), 0);
		cr_expect_eq(gp_pclntab_lookup(&t, 0x400fff, fr, 4), 0);
		cr_expect_eq(gp_pclntab_lookup(&t, 0x401010, fr, 4), 0);
		cr_assert_eq(gp_pclntab_lookup(&t, 0x401004, fr, 4), 1);
		cr_expect_str_eq(fr[0].function, "main.f");
		cr_expect_str_eq(fr[0].file, "f.go");
		cr_expect_eq(fr[0].line, 10);
		cr_assert_eq(gp_pclntab_lookup(&t, 0x40100f, fr, 4), 1);
		cr_expect_eq(fr[0].line, 11);
		gp_pclntab_free(&t);
		free(data);
		free(path);
	}
}
