// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Architectures (issue 21). A binary of another architecture handed to a session (or to
 * goprof record) is refused with both architectures named. The runtime layouts of arm64
 * builds are the amd64 ones. And the arm64 instruction
 * decoder, on GOARCH=arm64 fixtures of every toolchain, whatever the host: every RET
 * instruction and the entry probe past the stack check, against `go tool objdump`.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <goprof/error.h>
#include <goprof/session.h>
#include <goprof/symbolizer.h>

#include "go/go_func_sites.h"
#include "go/go_validate.h"
#include "go/rt_locate.h"
#include "caps/gsnap/g_decode.h"
#include "sym/symbolizer_internal.h"
#include "test_common.h"

#if defined(__x86_64__)
#define OURS "x86-64 (amd64)"
#define FOREIGN "arm64"
#define FOREIGN_NAME "arm64 (aarch64)"
#else
#define OURS "arm64 (aarch64)"
#define FOREIGN "amd64"
#define FOREIGN_NAME "x86-64 (amd64)"
#endif

static const char *foreign_fixture(void)
{
	const char *const *v = fixture_all_go_versions();
	static char name[64];
	int n = 0;

	while (v[n + 1])
		n++;
	snprintf(name, sizeof(name), "allcaps-%s", FOREIGN);
	return fixture_path(name, v[n]);
}

Test(arch, session_refuses_a_foreign_executable, .timeout = 120)
{
	const char *exe = foreign_fixture();
	struct goprof_session *s;
	const char *msg;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_expect_eq(goprof_session_attach_exe(s, exe, NULL), -ENOEXEC);
	msg = goprof_last_error();
	cr_expect(strstr(msg, FOREIGN_NAME) && strstr(msg, OURS) && strstr(msg, exe),
		  "the message names both architectures and the file: %s", msg);
	goprof_session_free(s);
}

Test(arch, cli_refuses_a_foreign_command, .timeout = 60)
{
	const char *cli = getenv("GOPROF_CLI"), *exe = foreign_fixture();
	char cmd[4096], out[2048] = "";
	size_t n;
	FILE *p;
	int status;

	cr_assert(cli, "GOPROF_CLI not set");
	snprintf(cmd, sizeof(cmd), "%s record -d 1 -o /tmp/goprof-arch-test.out -- %s 1 2>&1", cli, exe);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 127, "exit status %d: %s", status, out);
	cr_expect(strstr(out, FOREIGN_NAME) && strstr(out, OURS), "names both architectures: %s", out);
}

/* The functions the runtime and HTTP probes are placed on (go_probes.c, http_probes.c). */
static const char *const probed[] = {
	"runtime.newproc", "runtime.newproc1", "runtime.goexit1", "runtime.gcStart",
	"runtime.gcMarkTermination", "runtime.stopTheWorldWithSema",
	"runtime.startTheWorldWithSema", "runtime.mallocgc", "runtime.casgstatus",
	"runtime.gopark", "runtime.chansend", "runtime.chanrecv", "runtime.mProf_Malloc",
	"runtime.mProf_Free", "net/http.serverHandler.ServeHTTP", "net/http.(*Client).do",
	"net/http.(*conn).serve.func1",
};

/* What go tool objdump says of fn: its RET addresses, and the address after the BLS of
 * its stack check (0 if none in the first 6 instructions). Returns the instructions. */
static int objdump(const char *go, const char *exe, const char *fn, uint64_t *rets, int *nrets,
		   uint64_t *after_bls)
{
	char re[256], cmd[4096], line[512];
	int n = 0, j = 0;
	FILE *p;

	for (const char *c = fn; *c && j < (int)sizeof(re) - 3; c++) {
		if (strchr(".()*[]+?{}|^$\\", *c))
			re[j++] = '\\';
		re[j++] = *c;
	}
	re[j] = '\0';
	snprintf(cmd, sizeof(cmd), "HOME=${HOME:-/tmp} GOTOOLCHAIN=local %s tool objdump -s '^%s$' %s",
		 go, re, exe);
	p = popen(cmd, "r");
	cr_assert(p);
	*nrets = 0;
	*after_bls = 0;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long addr;
		char file[256], hex[16], op[16];

		if (sscanf(line, " %255s %llx %15s %15s", file, &addr, hex, op) != 4)
			continue;
		n++;
		if (!strcmp(op, "RET") && *nrets < GP_MAX_RET_SITES + 1)
			rets[(*nrets)++] = addr;
		if (!strcmp(op, "BLS") && n <= 6 && !*after_bls)
			*after_bls = addr + 4;
	}
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	return n;
}

Test(arch, arm64_function_sites_match_objdump, .timeout = 600)
{
	const char *const *versions = fixture_all_go_versions();
	int checked = 0, with_check = 0;

	for (int i = 0; versions[i]; i++) {
		const char *exe = fixture_path("allcaps-arm64", versions[i]);
		struct goprof_binary *bin = goprof_binary_open(exe, NULL);
		char go[256];

		cr_assert_not_null(bin, "%s: %s", exe, goprof_last_error());
		cr_assert_eq(bin->elf.machine, 183 /* EM_AARCH64 */);
		snprintf(go, sizeof(go), "/opt/libgoprof/go-%s/bin/go", versions[i]);
		for (size_t f = 0; f < sizeof(probed) / sizeof(probed[0]); f++) {
			uint64_t rets[GP_MAX_RET_SITES + 1], after_bls, probe;
			struct gp_func_sites sites;
			int nrets, ninsn, err;

			ninsn = objdump(go, exe, probed[f], rets, &nrets, &after_bls);
			err = gp_go_func_sites(bin, probed[f], true, &sites);
			if (ninsn == 0) { /* not in this release's binary: neither may find it */
				cr_expect_eq(err, -ENOENT, "Go %s %s: found, objdump has none",
					     versions[i], probed[f]);
				continue;
			}
			cr_assert_eq(err, 0, "Go %s %s: %s", versions[i], probed[f], goprof_last_error());
			cr_expect_gt(nrets, 0, "Go %s %s: objdump shows no RET", versions[i], probed[f]);
			cr_expect_eq(sites.nr_rets, (uint32_t)nrets, "Go %s %s: %u RETs, objdump %d",
				     versions[i], probed[f], sites.nr_rets, nrets);
			for (int r = 0; r < nrets && r < (int)sites.nr_rets; r++)
				cr_expect_eq(sites.entry_vaddr + (sites.ret_offsets[r] - sites.entry_offset),
					     rets[r], "Go %s %s: RET %d at 0x%llx, objdump 0x%llx",
					     versions[i], probed[f], r,
					     (unsigned long long)(sites.entry_vaddr +
								  (sites.ret_offsets[r] - sites.entry_offset)),
					     (unsigned long long)rets[r]);
			probe = sites.entry_vaddr + (sites.probe_offset - sites.entry_offset);
			cr_expect_eq(probe, after_bls ? after_bls : sites.entry_vaddr,
				     "Go %s %s: entry probe at 0x%llx, after the stack check 0x%llx",
				     versions[i], probed[f], (unsigned long long)probe,
				     (unsigned long long)after_bls);
			with_check += after_bls != 0;
			checked++;
		}
		goprof_binary_free(bin);
	}
	/* Most of these functions have a stack check; a decoder that never finds it fails. */
	cr_expect_gt(with_check, checked / 2, "%d of %d functions with a stack check", with_check,
		     checked);
	cr_log_info("%d functions checked, %d with a stack check", checked, with_check);
}

/* Everything tests/tools/gooffsets reads from a binary's DWARF, as text. */
static void gooffsets(const char *exe, char *out, size_t len)
{
	const char *tools = getenv("GOPROF_TOOLS");
	char cmd[4096];
	size_t n;
	FILE *p;

	cr_assert(tools, "GOPROF_TOOLS not set");
	snprintf(cmd, sizeof(cmd), "%s/gooffsets %s", tools, exe);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert_gt(n, 100, "%s printed nothing", cmd);
}

/*
 * The runtime layouts (lib/go/go_offsets.c, rt_layout.c, the HTTP offsets) are measured
 * on amd64 builds; arm64 builds of every toolchain have the same offsets in their DWARF,
 * so the one table serves both. A release where they part fails here.
 */
Test(arch, arm64_runtime_layouts_are_the_amd64_ones, .timeout = 120)
{
	const char *const *versions = fixture_all_go_versions();
	static char amd64[1 << 16], arm64[1 << 16];

	for (int i = 0; versions[i]; i++) {
		/* On an arm64 host, allcaps is the arm64 build and allcaps-amd64 the other. */
		gooffsets(fixture_path(strcmp(FOREIGN, "arm64") ? "allcaps-amd64" : "allcaps",
				       versions[i]), amd64, sizeof(amd64));
		gooffsets(fixture_path("allcaps-arm64", versions[i]), arm64, sizeof(arm64));
		cr_expect_str_eq(arm64, amd64, "Go %s: arm64 and amd64 layouts differ", versions[i]);
	}
}

/*
 * Stripped arm64 binaries: the runtime's statistics and goroutine list are found from
 * the addresses the code forms (ADRP pairs, go_data_refs.c); on a build with symbols the
 * code must give the symbols' own addresses, for every toolchain.
 */
Test(arch, arm64_runtime_found_from_code_like_symbols, .timeout = 120)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		const struct gp_rt_layout *l = gp_rt_layout_measured(atoi(versions[i] + 2));
		struct goprof_binary *bin = goprof_binary_open(fixture_path("allcaps-arm64", versions[i]), NULL);
		struct gp_rt_addrs sym, code;
		struct gp_allg_addrs gs, gc;
		char why[160];

		cr_assert(l && bin, "Go %s: %s", versions[i], goprof_last_error());
		cr_assert_eq(gp_rt_locate(bin, l, &sym, why, sizeof(why)), 0, "Go %s: %s", versions[i], why);
		cr_assert(sym.from_symbols && sym.sched && sym.memstats && sym.gc_controller);
		cr_assert_eq(gp_rt_locate_from_code(bin, l, &code, why, sizeof(why)), 0, "Go %s: %s",
			     versions[i], why);
		cr_expect_eq(code.sched, sym.sched, "Go %s sched: 0x%lx from code, 0x%lx symbol",
			     versions[i], (unsigned long)code.sched, (unsigned long)sym.sched);
		cr_expect_eq(code.memstats, sym.memstats, "Go %s memstats: 0x%lx from code, 0x%lx symbol",
			     versions[i], (unsigned long)code.memstats, (unsigned long)sym.memstats);
		cr_expect_eq(code.gc_controller, sym.gc_controller, "Go %s gcController: 0x%lx / 0x%lx",
			     versions[i], (unsigned long)code.gc_controller, (unsigned long)sym.gc_controller);
		cr_assert_eq(gp_go_find_allgs(bin, &gs), 0, "Go %s", versions[i]);
		cr_assert_str_eq(gs.how, "symbols");
		cr_assert_eq(gp_go_find_allgs_from_code(bin, &gc), 0, "Go %s: allgs not found from code",
			     versions[i]);
		cr_expect_eq(gc.allgs, gs.allgs, "Go %s allgs: 0x%lx from code, 0x%lx symbol", versions[i],
			     (unsigned long)gc.allgs, (unsigned long)gs.allgs);
		/* from code, allglen and allgptr may come in either order */
		cr_expect((gc.allglen == gs.allglen && gc.allgptr == gs.allgptr) ||
			  (gc.allglen == gs.allgptr && gc.allgptr == gs.allglen),
			  "Go %s allglen/allgptr: 0x%lx 0x%lx from code, 0x%lx 0x%lx symbols", versions[i],
			  (unsigned long)gc.allglen, (unsigned long)gc.allgptr, (unsigned long)gs.allglen,
			  (unsigned long)gs.allgptr);
		goprof_binary_free(bin);
	}
}

/*
 * A parked goroutine's stack as arm64 leaves it (mcall saves the parking function's SP and
 * its frame pointer, which is SP - 8: the frame record sits just under SP), walked from
 * a copy that starts GP_G_FRAME_BELOW_SP under SP, as the snapshot reader reads it.
 */
Test(arch, arm64_parked_stack_walks_from_the_record_below_sp)
{
	const uint64_t lo = 0x10000, hi = 0x20000, sp = 0x1f000, base = sp - GP_G_FRAME_BELOW_SP;
	struct gp_g_rec r = { .goid = 7, .stack_lo = lo, .stack_hi = hi, .sp = sp, .pc = 0x401000,
			      .bp = sp - 8, .status = GP_GS_WAITING };
	uint64_t stack[64] = { 0 }, pcs[8];
	bool truncated;
	uint32_t n;

	/* innermost record at SP - 8: the caller's FP (its SP 0x1f100, minus 8), then the
	 * saved LR at SP */
	stack[(sp - 8 - base) / 8] = 0x1f0f8;
	stack[(sp - base) / 8] = 0x402000;
	/* the caller's record: outermost (FP 0), its return address */
	stack[(0x1f0f8 - base) / 8] = 0;
	stack[(0x1f100 - base) / 8] = 0x403000;
	n = gp_g_unwind(&r, (const uint8_t *)stack, base, sizeof(stack), pcs, 8, &truncated);
	cr_assert_eq(n, 3, "%u frames", n);
	cr_expect_eq(pcs[0], 0x401000);
	cr_expect_eq(pcs[1], 0x402000);
	cr_expect_eq(pcs[2], 0x403000);
	cr_expect(!truncated);
	/* a frame pointer further below SP is not a frame of this goroutine */
	r.bp = sp - 16;
	cr_expect_eq(gp_g_unwind(&r, (const uint8_t *)stack, base - 8, sizeof(stack), pcs, 8, &truncated), 1);
}
