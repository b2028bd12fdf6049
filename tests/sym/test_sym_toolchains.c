// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The Go toolchains' own binaries (compile, link, vet and the go command of every
 * installed version: large, real programs we did not build) against debug/gosym:
 * thousands of random PCs each, outermost function 100%, innermost file:line >= 99.9%;
 * the same for a `strip --strip-all` copy of each (pclntab found without symbols).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/error.h>
#include <goprof/symbolizer.h>

#include "sym/symbolizer_internal.h"
#include "sym_test_util.h"

#define RANDOM_PCS 5000

static int count_frames(const struct goprof_frame *f, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void check_tool(const char *ver, const char *path, uint64_t seed)
{
	struct symt_func *funcs;
	struct symt_answer *ans;
	struct symt_stats st;
	uint64_t *pcs;
	size_t nf, np, na;

	if (access(path, R_OK) != 0) {
		cr_log_warn("%s missing, skipped", path);
		return;
	}
	nf = symt_oracle_funcs(path, &funcs);
	cr_assert(nf > 1000, "gosym_oracle listed %zu functions of %s", nf, path);
	np = symt_random_pcs(funcs, nf, RANDOM_PCS, seed, &pcs);
	ans = calloc(np, sizeof(*ans));
	na = symt_oracle_answers(path, pcs, np, ans);
	cr_assert_eq(na, np);
	symt_compare(path, ans, na, &st, 5);
	fprintf(stderr, "agreement go%s %-60s: %zu functions; outermost function %zu/%zu (%.3f%%), "
		"innermost file:line %zu/%zu (%.3f%%), %zu gosym-bug seed %llu\n", ver, path, nf, st.func_ok, st.n,
		100.0 * st.func_ok / (st.n ? st.n : 1), st.line_ok, st.n, 100.0 * st.line_ok / (st.n ? st.n : 1), st.line_gosym_bug,
		(unsigned long long)seed);
	cr_expect_eq(st.n, na, "%s could not be opened", path);
	/* Every function entry must symbolize without an error (entries hit compiler quirks). */
	{
		struct goprof_binary *bin = goprof_binary_open(path, NULL);
		uint64_t *entries = malloc(nf * sizeof(*entries));
		size_t frames = 0;
		int err;

		for (size_t i = 0; i < nf; i++)
			entries[i] = funcs[i].entry;
		err = goprof_binary_symbolize(bin, entries, nf, count_frames, &frames);
		cr_expect_eq(err, 0, "%s: %s", path, goprof_last_error());
		/* The build info's release fits the tables' era, and the inline trees are found. */
		{
			struct goprof_go_support sup = { .sz = sizeof(sup) };
			char note[256];

			cr_expect_not_null(gp_go_release_check(bin, note, sizeof(note)), "%s: %s", path, note);
			cr_expect_eq(goprof_binary_go_support(bin, &sup), 0);
			cr_expect(sup.flags & GOPROF_GO_SUPPORT_INLINE, "%s: no inline trees: %s", path, sup.note);
			fprintf(stderr, "%s: %s, tables of Go 1.%d-1.%d\n", path, goprof_binary_go_version(bin),
				bin->era_min, bin->era_max);
		}
		cr_expect_geq(frames, nf, "%s: every entry has a frame", path);
		free(entries);
		goprof_binary_free(bin);
	}
	cr_expect_eq(st.func_ok, st.n, "%s: outermost function must agree on every PC", path);
	cr_expect_geq((st.line_ok + st.line_gosym_bug) * 1000, st.n * 999, "%s: file:line agreement below 99.9%%", path);
	/* A stripped copy: same addresses, so the same answers. */
	{
		char tmp[] = "/tmp/symt-tool-stripped-XXXXXX", *cmd;
		int fd = mkstemp(tmp), rc;

		cr_assert(fd >= 0);
		close(fd);
		if (asprintf(&cmd, "strip --strip-all -o '%s' '%s'", tmp, path) < 0)
			abort();
		rc = system(cmd);
		cr_assert_eq(rc, 0, "%s failed", cmd);
		symt_compare(tmp, ans, na, &st, 5);
		fprintf(stderr, "agreement go%s %-60s: stripped copy: outermost function %zu/%zu, innermost "
			"file:line %zu/%zu, %zu gosym-bug\n", ver, path, st.func_ok, st.n, st.line_ok, st.n,
			st.line_gosym_bug);
		cr_expect_eq(st.n, na, "%s (stripped) could not be opened", path);
		cr_expect_eq(st.func_ok, st.n, "%s (stripped): outermost function must agree on every PC", path);
		cr_expect_geq((st.line_ok + st.line_gosym_bug) * 1000, st.n * 999,
			      "%s (stripped): file:line agreement below 99.9%%", path);
		unlink(tmp);
		free(cmd);
	}
	symt_free_answers(ans, na);
	free(ans);
	free(pcs);
	symt_free_funcs(funcs, nf);
}

static void check_version_tools(size_t idx)
{
	static const char *const tools[] = { "pkg/tool/linux_amd64/compile", "pkg/tool/linux_amd64/link",
					     "pkg/tool/linux_amd64/vet", "bin/go" };
	char **vers;
	size_t nv = symt_go_versions(&vers);

	if (idx >= nv)
		return;
	for (size_t t = 0; t < sizeof(tools) / sizeof(tools[0]); t++) {
		char *p;

		if (asprintf(&p, "/opt/libgoprof/go-%s/%s", vers[idx], tools[t]) < 0)
			abort();
		check_tool(vers[idx], p, 1000 * (idx + 1) + t);
		free(p);
	}
}

Test(sym_toolchain, version_0, .timeout = 300) { check_version_tools(0); }
Test(sym_toolchain, version_1, .timeout = 300) { check_version_tools(1); }
Test(sym_toolchain, version_2, .timeout = 300) { check_version_tools(2); }
Test(sym_toolchain, version_3, .timeout = 300) { check_version_tools(3); }
Test(sym_toolchain, version_4, .timeout = 300) { check_version_tools(4); }
Test(sym_toolchain, version_5, .timeout = 300) { check_version_tools(5); }
Test(sym_toolchain, version_6, .timeout = 300) { check_version_tools(6); }

struct batch_check {
	struct goprof_binary *bin;
	const uint64_t *addrs;
	size_t next_index; /* expected addr_index order: non-decreasing */
	size_t frames, mismatches;
};

static int batch_cb(const struct goprof_frame *f, void *ctx)
{
	struct batch_check *c = ctx;
	struct goprof_frame single[80];
	int n;

	if (f->addr_index < c->next_index)
		c->mismatches++; /* delivered out of the caller's order */
	c->next_index = f->addr_index;
	n = goprof_binary_symbolize_addr(c->bin, c->addrs[f->addr_index], single, 80, sizeof(single[0]));
	if (n <= 0 || (int)f->frame_index >= n || f->nframes != (uint32_t)n || f->addr != c->addrs[f->addr_index] ||
	    strcmp(single[f->frame_index].function, f->function) != 0 || single[f->frame_index].line != f->line ||
	    single[f->frame_index].flags != f->flags || single[f->frame_index].start_line != f->start_line ||
	    (single[f->frame_index].file != f->file &&
	     (!f->file || !single[f->frame_index].file || strcmp(single[f->frame_index].file, f->file) != 0)))
		c->mismatches++;
	c->frames++;
	return 0;
}

/* The batch API (sorted, chunked, deduplicated internally) must equal per-address lookups. */
Test(sym_toolchain, batch_equals_single_lookups, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers), nf, np;
	char *p;
	struct symt_func *funcs;
	uint64_t *pcs;
	struct batch_check c = { 0 };

	if (asprintf(&p, "/opt/libgoprof/go-%s/pkg/tool/linux_amd64/compile", vers[nv - 1]) < 0)
		abort();
	nf = symt_oracle_funcs(p, &funcs);
	np = symt_random_pcs(funcs, nf, 150000, 4242, &pcs);
	/* Duplicates and addresses in no function, too. */
	for (size_t i = 0; i < np; i += 97)
		pcs[i] = pcs[i / 2];
	for (size_t i = 5; i < np; i += 1001)
		pcs[i] = 0x10 + i;
	c.bin = goprof_binary_open(p, NULL);
	c.addrs = pcs;
	cr_assert(c.bin);
	cr_assert_eq(goprof_binary_symbolize(c.bin, pcs, np, batch_cb, &c), 0, "%s", goprof_last_error());
	fprintf(stderr, "batch: %zu PCs, %zu frames, %zu mismatches\n", np, c.frames, c.mismatches);
	cr_expect_gt(c.frames, np / 2);
	cr_expect_eq(c.mismatches, 0);
	goprof_binary_free(c.bin);
	free(pcs);
	symt_free_funcs(funcs, nf);
	free(p);
}

/*
 * A batch whose addresses all have deep inline stacks (3 frames or more): the batch's
 * frame pool is sized for 2 frames per address and has to grow during the chunk; the
 * frames must still equal per-address lookups.
 */
Test(sym_toolchain, batch_of_deep_inline_stacks, .timeout = 120)
{
	char **vers;
	size_t nv = symt_go_versions(&vers), nf, np, nd = 0;
	char *p;
	struct symt_func *funcs;
	uint64_t *pcs;
	struct goprof_frame single[80];
	struct batch_check c = { 0 };

	if (asprintf(&p, "/opt/libgoprof/go-%s/pkg/tool/linux_amd64/compile", vers[nv - 1]) < 0)
		abort();
	nf = symt_oracle_funcs(p, &funcs);
	np = symt_random_pcs(funcs, nf, 200000, 777, &pcs);
	c.bin = goprof_binary_open(p, NULL);
	cr_assert(c.bin);
	for (size_t i = 0; i < np; i++)
		if (goprof_binary_symbolize_addr(c.bin, pcs[i], single, 80, sizeof(single[0])) >= 3)
			pcs[nd++] = pcs[i];
	fprintf(stderr, "deep batch: %zu of %zu PCs have 3 or more frames\n", nd, np);
	cr_assert_gt(nd, 1000, "too few deep inline stacks to overrun the pool");
	c.addrs = pcs;
	cr_assert_eq(goprof_binary_symbolize(c.bin, pcs, nd, batch_cb, &c), 0, "%s", goprof_last_error());
	cr_expect_geq(c.frames, 3 * nd);
	cr_expect_eq(c.mismatches, 0);
	goprof_binary_free(c.bin);
	free(pcs);
	symt_free_funcs(funcs, nf);
	free(p);
}

/*
 * Go programs installed on the machine by others (built with Go 1.23-1.25, some linked
 * externally with the pclntab found only through symbols): same agreement rules. Each is
 * optional; missing ones are skipped.
 */
Test(sym_toolchain, installed_go_programs, .timeout = 300)
{
	static const char *const cands[] = { "/usr/local/bin/docker", "/usr/local/bin/terraform",
					     "/usr/bin/kubectl", "/usr/bin/anthoscli", "/usr/bin/local-extract",
					     "/usr/bin/gke-gcloud-auth-plugin" };
	size_t checked = 0;

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		char real[4096];
		struct goprof_binary *bin;

		if (!realpath(cands[i], real))
			continue;
		bin = goprof_binary_open(real, NULL);
		if (!bin || !goprof_binary_is_go(bin)) {
			goprof_binary_free(bin);
			continue;
		}
		fprintf(stderr, "%s: %s\n", real, goprof_binary_go_version(bin));
		goprof_binary_free(bin);
		check_tool("-sys", real, 9000 + i);
		checked++;
	}
	if (!checked)
		cr_skip_test("no installed Go programs found");
}
