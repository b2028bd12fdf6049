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
#include <goprof/session.h>
#include <goprof/symbolizer.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"
#include "core/target.h"

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

/* Symbolizes every function entry of bin; returns how many have a named frame. */
static size_t entries_named(struct goprof_binary *bin, size_t *nfunc)
{
	struct goprof_frame fr[80];
	struct gp_func f;
	size_t ok = 0;

	*nfunc = bin->tab.nfunc;
	for (size_t i = 0; i < bin->tab.nfunc; i++) {
		if (gp_pclntab_func(&bin->tab, i, &f) != 0)
			continue;
		if (goprof_binary_symbolize_addr(bin, f.entry, fr, 80, sizeof(fr[0])) > 0 && fr[0].function[0])
			ok++;
	}
	return ok;
}

/*
 * No binary is refused for its version string: a release never seen ("go1.99") opens and
 * symbolizes like the original with or without the (ignored) allow_newer_go; an unknown
 * table magic is refused with an error that names the magic, with and without sections.
 */
Test(sym_robust, newer_go_release_and_unknown_format)
{
	char *src = newest_fixture("default", false), *p;
	size_t len, nfunc, named;
	uint8_t *data = slurp(src, &len);
	struct goprof_binary *bin = goprof_binary_open(src, NULL);
	char *ver;
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	GOPROF_OPTS(goprof_binary_opts, opts, .allow_newer_go = 1);

	cr_assert(bin);
	ver = strdup(goprof_binary_go_version(bin)); /* "go1.27.3" */
	goprof_binary_pclntab_info(bin, &info);
	goprof_binary_free(bin);
	/* Same length "go1.99.x": a release we have never seen (every copy of the string). */
	for (uint8_t *q = data; (q = memmem(q, len - (size_t)(q - data), ver, strlen(ver))); q++) {
		q[4] = '9';
		q[5] = '9';
	}
	p = write_tmp(data, len);
	for (int k = 0; k < 2; k++) {
		bin = goprof_binary_open(p, k ? &opts : NULL);
		cr_assert_not_null(bin, "go1.99 refused: %s", goprof_last_error());
		cr_expect(strncmp(goprof_binary_go_version(bin), "go1.99", 6) == 0, "%s", goprof_binary_go_version(bin));
		named = entries_named(bin, &nfunc);
		cr_expect_eq(named, nfunc, "go1.99: %zu of %zu function entries named", named, nfunc);
		goprof_binary_free(bin);
	}
	unlink(p);
	free(p);
	/* An unknown table magic (0xfffffff2): refused, the magic named. */
	data[info.file_offset] = 0xf2;
	p = write_tmp(data, len);
	cr_expect_null(goprof_binary_open(p, NULL));
	cr_expect_eq(errno, GOPROF_ERRNO_GO_VERSION, "errno %d: %s", errno, goprof_last_error());
	cr_expect(strstr(goprof_last_error(), "magic 0xfffffff2"), "%s", goprof_last_error());
	/* Without section headers the table is found by the scan: the same error. */
	{
		char noshdr[] = "/tmp/symt-magic-XXXXXX";
		int fd = mkstemp(noshdr);

		cr_assert(fd >= 0);
		close(fd);
		cr_assert(symt_copy_without_sections(p, noshdr));
		cr_expect_null(goprof_binary_open(noshdr, NULL));
		cr_expect_eq(errno, GOPROF_ERRNO_GO_VERSION, "errno %d: %s", errno, goprof_last_error());
		cr_expect(strstr(goprof_last_error(), "magic 0xfffffff2"), "no sections: %s", goprof_last_error());
		unlink(noshdr);
	}
	unlink(p);
	free(p);
	free(ver);
	free(data);
	free(src);
}

/* The inline tree record of the innermost frame at pc (file offset), and its index. */
static size_t inline_record(struct goprof_binary *bin, const struct gp_func *f, uint64_t pc, int32_t *ix)
{
	uint32_t tree_off = gp_le32(f->rec + f->funcdata_off + 3 * 4);

	cr_assert(gp_pclntab_pcvalue(&bin->tab, f, gp_pclntab_pcdata(&bin->tab, f, 2), pc, ix) && *ix >= 0);
	return (size_t)(bin->tab.gofunc.p - bin->elf.map) + tree_off + (size_t)*ix * 16;
}

/*
 * Inline-tree loops. A record whose parentPc leads back into itself is what the compiler
 * writes when it dropped a call marker (parentPc 0 at a function entry inside inlined
 * code, seen in Go 1.24 binaries): the chain ends with the physical function. A loop
 * through two records is corruption: an error, not a hang.
 */
Test(sym_robust, inline_tree_loops)
{
	char *src = newest_fixture("default", false), *p;
	struct goprof_binary *bin = goprof_binary_open(src, NULL);
	struct goprof_frame fr[80];
	size_t len, rec_a = 0, rec_b = 0;
	uint8_t *data = slurp(src, &len), *copy;
	uint64_t pa = 0, pb = 0, i;
	struct gp_func f;
	int32_t ia = -1, ib = -1;
	uint32_t v;
	int n;

	cr_assert(bin);
	/* A function with two PCs in different inlined bodies (main.middle inlines inner twice). */
	for (i = 0; i < bin->tab.nfunc && !pb; i++) {
		cr_assert_eq(gp_pclntab_func(&bin->tab, i, &f), 0);
		pa = 0;
		for (uint64_t a = f.entry; a < f.end && !pb; a++) {
			n = goprof_binary_symbolize_addr(bin, a, fr, 80, sizeof(fr[0]));
			if (n != 2)
				continue;
			if (!pa) {
				pa = a;
				rec_a = inline_record(bin, &f, a, &ia);
			} else {
				int32_t ix;
				size_t r = inline_record(bin, &f, a, &ix);

				if (ix != ia) {
					pb = a;
					ib = ix;
					rec_b = r;
				}
			}
		}
	}
	cr_assert(pb, "no function with two inlined bodies found");
	goprof_binary_free(bin);

	/* Self-loop: a's record points back at a. */
	copy = malloc(len);
	memcpy(copy, data, len);
	v = (uint32_t)(pa - f.entry);
	memcpy(copy + rec_a + 8, &v, 4);
	p = write_tmp(copy, len);
	bin = goprof_binary_open(p, NULL);
	cr_assert(bin, "%s", goprof_last_error());
	n = goprof_binary_symbolize_addr(bin, pa, fr, 80, sizeof(fr[0]));
	cr_expect_eq(n, 2, "self-loop: %d frames (%s)", n, goprof_last_error());
	if (n == 2) {
		cr_expect(fr[0].flags & GOPROF_FRAME_INLINED);
		cr_expect_eq(fr[1].flags & GOPROF_FRAME_INLINED, 0);
		cr_expect_eq(fr[1].line, 0, "the call site is unknown");
	}
	goprof_binary_free(bin);
	unlink(p);
	free(p);

	/* Two-record loop: a -> b -> a. */
	memcpy(copy, data, len);
	v = (uint32_t)(pb - f.entry);
	memcpy(copy + rec_a + 8, &v, 4);
	v = (uint32_t)(pa - f.entry);
	memcpy(copy + rec_b + 8, &v, 4);
	p = write_tmp(copy, len);
	bin = goprof_binary_open(p, NULL);
	cr_assert(bin, "%s", goprof_last_error());
	n = goprof_binary_symbolize_addr(bin, pa, fr, 80, sizeof(fr[0]));
	cr_expect_eq(n, -GOPROF_ERRNO_CORRUPT, "got %d (indices %d, %d)", n, ia, ib);
	cr_expect(strstr(goprof_last_error(), "corrupt"), "%s", goprof_last_error());
	goprof_binary_free(bin);
	unlink(p);
	free(p);
	free(copy);
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

/* Rewrites the inline version string of the .go.buildinfo at bi (modinfo emptied). */
static void set_version(uint8_t *bi, const char *ver)
{
	size_t n = strlen(ver);

	cr_assert(n < 128);
	bi[32] = (uint8_t)n;
	memcpy(bi + 33, ver, n);
	bi[33 + n] = 0; /* no modinfo */
}

struct version_case {
	const char *version;   /* written into the newest fixture's build info */
	const char *key;       /* the release runtime layouts are keyed by, or NULL */
	const char *note_part; /* in the note when key is NULL */
};

/*
 * Bad build info on the newest fixture: release candidates and devel builds are keyed
 * by their release; a release the pclntab and moduledata rule out, no release number,
 * or build info the section cannot hold is not trusted: the binary still symbolizes,
 * goroutine context is off with a note (a session never reads goroutines with another
 * release's offsets), and goprof_binary_go_support() says the same.
 */
Test(sym_robust, build_info_versions_and_truncation)
{
	char **vers;
	size_t nv = symt_go_versions(&vers);
	char *src = newest_fixture("default", false), newest_rel[16];
	size_t len, bi_off, nfunc, named;
	uint8_t *data = slurp(src, &len), *orig = malloc(len);
	int newest_minor = atoi(strchr(vers[nv - 1], '.') + 1);
	struct version_case cases[] = {
		{ "go1.27rc1", "go1.27rc1", NULL },
		{ "devel go1.28-abcdef0123 Mon Nov 30 12:00:00 2026 +0000", "go1.28-abcdef0123", NULL },
		{ "go1.23.5", NULL, "the build info says go1.23.5 but the pclntab and moduledata are Go 1.27 or later's" },
		{ "go1.26.1", NULL, "are Go 1.27 or later's" },
		{ "devel +abcdef0123 Mon Nov 30 12:00:00 2026", NULL, "names no Go release" },
	};

	if (newest_minor != 27)
		cr_skip_test("the cases are written for a Go 1.27 fixture, the newest here is %s", vers[nv - 1]);
	snprintf(newest_rel, sizeof(newest_rel), "go%s", vers[nv - 1]);
	memcpy(orig, data, len);
	bi_off = find_bytes(data, len, GP_BUILDINFO_MAGIC, GP_BUILDINFO_MAGIC_LEN);
	cr_assert(data[bi_off + 15] & 2, "inline build info strings expected");
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct goprof_binary *bin;
		struct goprof_go_support sup = { .sz = sizeof(sup) };
		struct goprof_process_info info = { .sz = sizeof(info) };
		struct gp_target t;
		char note[256], *p;
		const char *key;

		memcpy(data, orig, len);
		set_version(data + bi_off, cases[c].version);
		p = write_tmp(data, len);
		bin = goprof_binary_open(p, NULL);
		cr_assert_not_null(bin, "%s: %s", cases[c].version, goprof_last_error());
		cr_expect_str_eq(goprof_binary_go_version(bin), cases[c].version);
		named = entries_named(bin, &nfunc);
		cr_expect_eq(named, nfunc, "%s: %zu of %zu entries named", cases[c].version, named, nfunc);
		key = gp_go_release_check(bin, note, sizeof(note));
		if (cases[c].key) {
			cr_expect(key && strncmp(key, cases[c].key, strlen(cases[c].key)) == 0, "%s: keyed as %s (%s)",
				  cases[c].version, key ? key : "NULL", note);
		} else {
			cr_expect_null(key, "%s: keyed as %s", cases[c].version, key);
			cr_expect(strstr(note, cases[c].note_part), "%s: note '%s'", cases[c].version, note);
		}
		cr_expect_eq(goprof_binary_go_support(bin, &sup), 0);
		cr_expect(sup.flags & GOPROF_GO_SUPPORT_STACKS);
		cr_expect(sup.flags & GOPROF_GO_SUPPORT_INLINE, "%s: inline trees (1.27 moduledata)", cases[c].version);
		if (!cases[c].key) {
			cr_expect_eq(sup.flags & GOPROF_GO_SUPPORT_GOROUTINE_IDS, 0, "%s", cases[c].version);
			cr_expect_eq(sup.features & GOPROF_FEATURE_GOROUTINES, 0, "%s", cases[c].version);
			cr_expect(strstr(sup.note, cases[c].note_part), "%s: support note '%s'", cases[c].version, sup.note);
		}
		/* What a session attaching such a process decides. */
		gp_target_inspect(p, 0, &t, &info); /* by path: no process to validate against */
		cr_expect(info.flags & GOPROF_PROCESS_GO, "%s: %s", cases[c].version, info.note);
		cr_expect(strncmp(info.go_version, cases[c].version, sizeof(info.go_version) - 1) == 0, "%s: %s",
			  cases[c].version, info.go_version);
		if (!cases[c].key) {
			cr_expect_eq(info.flags & GOPROF_PROCESS_GOROUTINES, 0, "%s: goroutines read", cases[c].version);
			cr_expect_eq(t.is_go, 0, "%s: offsets handed to BPF", cases[c].version);
			cr_expect(strstr(info.note, "not trusted") || strstr(info.note, "no Go release"), "%s: note '%s'",
				  cases[c].version, info.note);
		}
		fprintf(stderr, "build info %-58s -> %s | support 0x%x features 0x%x | %s\n", cases[c].version,
			key ? key : "(not trusted)", sup.flags, sup.features, key ? sup.note : note);
		goprof_binary_free(bin);
		unlink(p);
		free(p);
	}
	/* A version longer than the section holds: truncated build info. */
	{
		struct goprof_binary *bin;
		struct goprof_go_support sup = { .sz = sizeof(sup) };
		char note[256], *p;

		memcpy(data, orig, len);
		data[bi_off + 32] = 0x80; /* 16 KiB of version: past the end of .go.buildinfo */
		data[bi_off + 33] = 0x80;
		data[bi_off + 34] = 0x01;
		p = write_tmp(data, len);
		bin = goprof_binary_open(p, NULL);
		cr_assert_not_null(bin, "truncated build info: %s", goprof_last_error());
		cr_expect(goprof_binary_is_go(bin));
		cr_expect_null(goprof_binary_go_version(bin));
		cr_expect_null(gp_go_release_check(bin, note, sizeof(note)));
		cr_expect(strstr(note, "truncated"), "note '%s'", note);
		named = entries_named(bin, &nfunc);
		cr_expect_eq(named, nfunc, "truncated build info: %zu of %zu entries named", named, nfunc);
		cr_expect_eq(goprof_binary_go_support(bin, &sup), 0);
		cr_expect_eq(sup.flags & GOPROF_GO_SUPPORT_GOROUTINE_IDS, 0);
		fprintf(stderr, "truncated build info: %s\n", note);
		goprof_binary_free(bin);
		unlink(p);
		free(p);
	}
	(void)newest_rel;
	free(orig);
	free(data);
	free(src);
}

/* The buildinfo parser on cut blobs: the version is kept when only the module info is cut. */
Test(sym_robust, build_info_parser_cuts)
{
	static const uint8_t head[] = "\xff Go buildinf:\x08\x02";
	uint8_t blob[128] = { 0 };
	struct gp_buildinfo bi;
	size_t n;

	memcpy(blob, head, 16);
	n = 32;
	blob[n++] = 9;
	memcpy(blob + n, "go1.27rc1", 9);
	n += 9;
	blob[n++] = 40; /* 40 bytes of modinfo promised, 5 given */
	memcpy(blob + n, "path\t", 5);
	n += 5;
	cr_assert_eq(gp_buildinfo_parse(&bi, blob, n, NULL), 0);
	cr_expect_str_eq(bi.version, "go1.27rc1");
	cr_expect(bi.modinfo_truncated);
	cr_expect_null(bi.modinfo);
	cr_expect_eq(bi.minor, 27);
	gp_buildinfo_free(&bi);
	cr_expect_eq(gp_buildinfo_parse(&bi, blob, 36, NULL), -ENODATA, "cut in the version");
	cr_expect_eq(gp_buildinfo_parse(&bi, blob, 20, NULL), -ENODATA, "cut in the header");
	cr_expect_eq(gp_buildinfo_parse(&bi, blob, 32, NULL), -ENODATA, "cut before the version");
	blob[32] = 0;
	cr_expect_eq(gp_buildinfo_parse(&bi, blob, n, NULL), -GOPROF_ERRNO_CORRUPT, "empty version");
}
