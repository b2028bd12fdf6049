// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The Go toolchains' own binaries (compile, link, vet and the go command of every
 * installed version: large, real programs we did not build) against debug/gosym:
 * thousands of random PCs each, outermost function 100%, innermost file:line >= 99.9%.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/error.h>
#include <goprof/symbolizer.h>

#include "sym_test_util.h"

#define RANDOM_PCS 5000

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
	cr_expect_eq(st.func_ok, st.n, "%s: outermost function must agree on every PC", path);
	cr_expect_geq((st.line_ok + st.line_gosym_bug) * 1000, st.n * 999, "%s: file:line agreement below 99.9%%", path);
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

		if (asprintf(&p, "/usr/lib/go-%s/%s", vers[idx], tools[t]) < 0)
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
