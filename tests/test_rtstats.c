// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Runtime statistics read from the target's memory (the default source of
 * GOPROF_FEATURE_GC and GOPROF_FEATURE_SCHED): the layout table against every
 * toolchain's DWARF, the stripped-binary locator against the symbols, and the figures
 * against the program's own runtime.ReadMemStats and runtime/metrics readings on every
 * release, plain and stripped; bad input (garbage bytes, a process that exits, a runtime
 * that cannot be located).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "go/rt_decode.h"
#include "go/rt_layout.h"
#include "go/rt_locate.h"
#include "go/rt_reader.h"
#include "go/go_func_sites.h"
#include "core/remote_mem.h"
#include "sym/symbolizer_internal.h"
#include "test_common.h"

#define FORCED_GCS 6

/* ---- the layout table and the locator, on every installed toolchain ---- */

Test(rtstats, layout_matches_dwarf_of_every_toolchain)
{
	const char *const *versions = fixture_all_go_versions();
	const char *tools = getenv("GOPROF_TOOLS");

	cr_assert(tools, "GOPROF_TOOLS not set");
	for (int i = 0; versions[i]; i++) {
		const struct gp_rt_layout *l = gp_rt_layout_measured(atoi(versions[i] + 2));
		char cmd[4096], line[256], name[128];
		int v, checked = 0;
		FILE *p;

		cr_assert_not_null(l, "go%s: no measured runtime statistics layout", versions[i]);
		struct {
			const char *name;
			uint16_t ours;
		} f[] = {
			{ "schedt.lock", l->sched_lock }, { "schedt.gcwaiting", l->sched_gcwaiting },
			{ "schedt.stopwait", l->sched_stopwait }, { "schedt.stopnote", l->sched_stopnote },
			{ "schedt.sysmonwait", l->sched_sysmonwait }, { "schedt.timeToRun", l->sched_time_to_run },
			{ "schedt.stwStoppingTimeGC", l->sched_stw_stopping_gc },
			{ "schedt.stwStoppingTimeOther", l->sched_stw_stopping_other },
			{ "schedt.stwTotalTimeGC", l->sched_stw_total_gc },
			{ "schedt.stwTotalTimeOther", l->sched_stw_total_other },
			{ "mstats.last_gc_unix", l->ms_last_gc_unix }, { "mstats.pause_total_ns", l->ms_pause_total_ns },
			{ "mstats.pause_ns", l->ms_pause_ns }, { "mstats.pause_end", l->ms_pause_end },
			{ "mstats.numgc", l->ms_numgc }, { "mstats.numforcedgc", l->ms_numforcedgc },
			{ "mstats.gc_cpu_fraction", l->ms_gc_cpu_fraction },
			{ "mstats.last_gc_nanotime", l->ms_last_gc_nanotime },
			{ "mstats.lastHeapInUse", l->ms_last_heap_inuse }, { "mstats.gcPauseDist", l->ms_gc_pause_dist },
			{ "gcControllerState.gcPercent", l->gc_percent },
			{ "gcControllerState.memoryLimit", l->gc_memory_limit },
			{ "gcControllerState.heapMinimum", l->gc_heap_minimum },
			{ "gcControllerState.runway", l->gc_runway },
			{ "gcControllerState.gcPercentHeapGoal", l->gc_percent_heap_goal },
			{ "gcControllerState.sweepDistMinTrigger", l->gc_sweep_dist_min_trigger },
			{ "gcControllerState.triggered", l->gc_triggered },
			{ "gcControllerState.lastHeapGoal", l->gc_last_heap_goal },
			{ "gcControllerState.heapLive", l->gc_heap_live },
			{ "gcControllerState.heapScan", l->gc_heap_scan },
			{ "gcControllerState.heapMarked", l->gc_heap_marked },
			{ "gcControllerState.heapInUse", l->gc_heap_inuse },
			{ "gcControllerState.heapReleased", l->gc_heap_released },
			{ "gcControllerState.heapFree", l->gc_heap_free },
			{ "gcControllerState.totalAlloc", l->gc_total_alloc },
			{ "gcControllerState.totalFree", l->gc_total_free },
			{ "gcControllerState.mappedReady", l->gc_mapped_ready },
		};
		int dwarf[ARRAY_SIZE(f)];

		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			dwarf[k] = 0; /* absent from this release's DWARF: the table says 0 */
		snprintf(cmd, sizeof(cmd), "%s/gooffsets %s", tools, fixture_path("rtstats", versions[i]));
		p = popen(cmd, "r");
		cr_assert(p);
		while (fgets(line, sizeof(line), p))
			if (sscanf(line, "%127s %d", name, &v) == 2)
				for (size_t k = 0; k < ARRAY_SIZE(f); k++)
					if (!strcmp(name, f[k].name)) {
						dwarf[k] = v;
						checked++;
					}
		cr_assert_eq(pclose(p), 0, "%s failed", cmd);
		cr_assert_geq(checked, 30, "go%s: only %d fields in DWARF", versions[i], checked);
		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			cr_expect_eq(f[k].ours, dwarf[k], "go%s %s: table %u, DWARF %d", versions[i],
				     f[k].name, f[k].ours, dwarf[k]);
		/* The histogram format changed in 1.20 (GUIDE: sched.timeToRun bucket layout). */
		cr_expect_eq(l->hist_format, atoi(versions[i] + 2) < 20 ? GP_RT_HIST_GO119 : GP_RT_HIST_GO120);
	}
}

/*
 * Stripped builds: the addresses found from instruction operands are the symbols' own
 * (both ways on the plain build; a stripped build's data moves a little: its build info
 * names the -ldflags), and the stripped build is located entirely.
 */
Test(rtstats, stripped_locator_agrees_with_symbols)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		const struct gp_rt_layout *l = gp_rt_layout_measured(atoi(versions[i] + 2));
		struct goprof_binary *plain = goprof_binary_open(fixture_path("rtstats", versions[i]), NULL);
		struct goprof_binary *stripped =
			goprof_binary_open(fixture_path("rtstats-stripped", versions[i]), NULL);
		struct gp_rt_addrs a, b;
		char why[160];

		cr_assert(l && plain && stripped, "go%s: %s", versions[i], goprof_last_error());
		cr_assert_eq(gp_rt_locate(plain, l, &a, why, sizeof(why)), 0, "go%s: %s", versions[i], why);
		cr_assert(a.from_symbols && a.sched && a.memstats && a.gc_controller);
		cr_assert_eq(gp_rt_locate_from_code(plain, l, &b, why, sizeof(why)), 0, "go%s: %s",
			     versions[i], why);
		cr_expect(!b.from_symbols);
		cr_expect_eq(b.sched, a.sched, "go%s sched: 0x%lx from operands, 0x%lx symbol", versions[i],
			     (unsigned long)b.sched, (unsigned long)a.sched);
		cr_expect_eq(b.memstats, a.memstats, "go%s memstats: 0x%lx from operands, 0x%lx symbol",
			     versions[i], (unsigned long)b.memstats, (unsigned long)a.memstats);
		cr_expect_eq(b.gc_controller, a.gc_controller, "go%s gcController: 0x%lx / 0x%lx",
			     versions[i], (unsigned long)b.gc_controller, (unsigned long)a.gc_controller);
		cr_assert_eq(gp_rt_locate(stripped, l, &b, why, sizeof(why)), 0, "go%s: %s", versions[i], why);
		cr_expect(!b.from_symbols && b.sched && b.memstats && b.gc_controller && !why[0],
			  "go%s stripped: %s", versions[i], why);
		cr_log_info("go%s: sched 0x%lx memstats 0x%lx gcController 0x%lx, found from operands "
			    "too", versions[i], (unsigned long)a.sched, (unsigned long)a.memstats,
			    (unsigned long)a.gc_controller);
		goprof_binary_free(plain);
		goprof_binary_free(stripped);
	}
}

/*
 * Most programs never call runtime.ReadMemStats, so their binaries have no
 * readmemstats_m: memstats and gcController are then found from the allocator's
 * (*mcache).refill and gcControllerCommit (37 of 56 of Debian's stripped Go binaries
 * had no memstats found before). httpserv is such a program.
 */
Test(rtstats, located_from_code_without_readmemstats)
{
	const char *const *versions = fixture_all_go_versions();

	for (int i = 0; versions[i]; i++) {
		const struct gp_rt_layout *l = gp_rt_layout_measured(atoi(versions[i] + 2));
		struct goprof_binary *bin = goprof_binary_open(fixture_path("httpserv", versions[i]), NULL);
		struct gp_func_sites sites;
		struct gp_rt_addrs sym, code;
		char why[160];

		cr_assert(l && bin, "go%s: %s", versions[i], goprof_last_error());
		cr_assert_eq(gp_go_func_sites(bin, "runtime.readmemstats_m", false, &sites), -ENOENT,
			     "go%s: httpserv has runtime.readmemstats_m: the test needs one without",
			     versions[i]);
		cr_assert_eq(gp_rt_locate(bin, l, &sym, why, sizeof(why)), 0, "go%s: %s", versions[i], why);
		cr_assert(sym.from_symbols);
		cr_assert_eq(gp_rt_locate_from_code(bin, l, &code, why, sizeof(why)), 0, "go%s: %s",
			     versions[i], why);
		cr_expect(!why[0], "go%s: %s", versions[i], why);
		cr_expect_eq(code.sched, sym.sched, "go%s sched", versions[i]);
		cr_expect_eq(code.memstats, sym.memstats, "go%s memstats: 0x%lx from code, 0x%lx symbol",
			     versions[i], (unsigned long)code.memstats, (unsigned long)sym.memstats);
		cr_expect_eq(code.gc_controller, sym.gc_controller, "go%s gcController: 0x%lx / 0x%lx",
			     versions[i], (unsigned long)code.gc_controller, (unsigned long)sym.gc_controller);
		goprof_binary_free(bin);
	}
}

/* A layout whose fields match nothing: not located, and the sentence says what is missing. */
Test(rtstats, unlocatable_runtime_is_a_clear_note)
{
	const char *ver = fixture_all_go_versions()[0];
	struct gp_rt_layout wrong = *gp_rt_layout_measured(atoi(ver + 2));
	struct goprof_binary *stripped = goprof_binary_open(fixture_path("rtstats-stripped", ver), NULL);
	struct gp_rt_reader *r = gp_rt_reader_new(0);
	struct gp_rt_addrs a;
	char why[160], note[160];
	uint16_t *f = &wrong.sched_lock;

	cr_assert(stripped && r);
	/* every offset moved by an odd amount: no base puts them on the operands */
	for (uint16_t *end = &wrong.gc_mapped_ready; f <= end; f++)
		*f = (uint16_t)(*f + 3 + (f - &wrong.sched_lock) * 5);
	cr_assert_eq(gp_rt_locate(stripped, &wrong, &a, why, sizeof(why)), -ENOENT, "found 0x%lx 0x%lx 0x%lx", (unsigned long)a.sched, (unsigned long)a.memstats, (unsigned long)a.gc_controller);
	cr_expect(strstr(why, "runtime.sched and runtime.memstats not found"), "%s", why);
	/* a release the table does not know */
	cr_assert_lt(gp_rt_reader_add(r, getpid(), "/proc/self/exe", "go1.18.10", note, sizeof(note)), 0);
	cr_expect(strstr(note, "go1.18.10") && strstr(note, "not known"), "%s", note);
	/* not a Go program at all */
	cr_assert_lt(gp_rt_reader_add(r, getpid(), "/proc/self/exe", "go1.27.1", note, sizeof(note)), 0);
	cr_expect(strstr(note, "no runtime statistics"), "%s", note);
	gp_rt_reader_free(r);
	goprof_binary_free(stripped);
}

/* ---- the decoder on bytes that are not a runtime ---- */

Test(rtstats, decoder_rejects_garbage_and_accepts_a_fresh_runtime)
{
	const struct gp_rt_layout *l = gp_rt_layout_measured(27);
	size_t ls, lm, lg;
	uint8_t *s, *m, *g;
	struct gp_rt_snapshot *snap = malloc(sizeof(*snap));
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_REALTIME), mono = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
	unsigned accepted_gc = 0;

	gp_rt_region_sizes(l, &ls, &lm, &lg);
	s = malloc(ls);
	m = malloc(lm);
	g = malloc(lg);
	srand(17);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < ls; i++) s[i] = (uint8_t)rand();
		for (size_t i = 0; i < lm; i++) m[i] = (uint8_t)rand();
		for (size_t i = 0; i < lg; i++) g[i] = (uint8_t)rand();
		uint32_t have = gp_rt_decode(l, s, ls, m, lm, g, lg, now, mono, snap);
		accepted_gc += !!(have & GP_RT_HAVE_GC);
		cr_expect_eq(have & (GP_RT_HAVE_SCHED | GP_RT_HAVE_PAUSE_HIST | GP_RT_HAVE_HEAP), 0,
			     "random bytes taken for statistics (0x%x)", have);
	}
	cr_expect_eq(accepted_gc, 0, "random memstats accepted %u times", accepted_gc);
	/* A runtime before its first GC: zeros, and GOGC=100's goal from gcController. */
	memset(s, 0, ls);
	memset(m, 0, lm);
	memset(g, 0, lg);
	*(int32_t *)(g + l->gc_percent) = 100;
	*(int64_t *)(g + l->gc_memory_limit) = INT64_MAX;
	*(uint64_t *)(g + l->gc_heap_inuse) = 8192 * 40;
	*(uint64_t *)(g + l->gc_percent_heap_goal) = 4 << 20;
	*(uint64_t *)(g + l->gc_triggered) = UINT64_MAX;
	cr_assert_eq(gp_rt_decode(l, s, ls, m, lm, g, lg, now, mono, snap),
		     GP_RT_HAVE_GC | GP_RT_HAVE_SCHED | GP_RT_HAVE_PAUSE_HIST | GP_RT_HAVE_STW_OTHER |
			     GP_RT_HAVE_HEAP, "%s", snap->why);
	cr_expect_eq(snap->heap_goal, 4 << 20);
	/* One GC whose pause ring does not add up to the total: refused. */
	*(uint32_t *)(m + l->ms_numgc) = 1;
	*(uint64_t *)(m + l->ms_last_gc_unix) = now - 1000;
	*(uint64_t *)(m + l->ms_pause_end) = now - 1000;
	*(uint64_t *)(m + l->ms_last_gc_nanotime) = mono - 1000;
	*(uint64_t *)(m + l->ms_pause_ns) = 50000;
	*(uint64_t *)(m + l->ms_pause_total_ns) = 50001;
	cr_expect_eq(gp_rt_decode(l, s, ls, m, lm, g, lg, now, mono, snap) & GP_RT_HAVE_GC, 0);
	cr_expect(strstr(snap->why, "pause ring"), "%s", snap->why);
	*(uint64_t *)(m + l->ms_pause_total_ns) = 50000;
	/* ... and fewer GC pauses in the histogram than cycles: the histogram is refused */
	cr_expect_eq(gp_rt_decode(l, s, ls, m, lm, g, lg, now, mono, snap) & (GP_RT_HAVE_GC | GP_RT_HAVE_PAUSE_HIST),
		     GP_RT_HAVE_GC, "%s", snap->why);
	*(uint64_t *)(s + l->sched_stw_total_gc + 8 * 50) = 2;
	cr_expect_eq(gp_rt_decode(l, s, ls, m, lm, g, lg, now, mono, snap) & (GP_RT_HAVE_GC | GP_RT_HAVE_PAUSE_HIST),
		     GP_RT_HAVE_GC | GP_RT_HAVE_PAUSE_HIST, "%s", snap->why);
	/* Short buffers: those parts are left out, nothing is read past them. */
	cr_expect_eq(gp_rt_decode(l, s, ls - 1, m, lm - 1, g, lg - 1, now, mono, snap), 0);
	free(s);
	free(m);
	free(g);
	free(snap);
}

Test(rtstats, histogram_buckets_follow_the_runtime)
{
	uint64_t lo, hi;

	/* Go 1.20+: bucket 0 is [0, 512) in 4 sub-buckets of 64; then 4 per power of two */
	gp_rt_hist_bounds(GP_RT_HIST_GO120, 0, &lo, &hi);
	cr_expect(lo == 0 && hi == 64);
	gp_rt_hist_bounds(GP_RT_HIST_GO120, 4, &lo, &hi);
	cr_expect(lo == 256 && hi == 320, "%lu %lu", (unsigned long)lo, (unsigned long)hi);
	gp_rt_hist_bounds(GP_RT_HIST_GO120, 159, &lo, &hi);
	cr_expect(lo == (1ull << 46) + 3 * (1ull << 44) && hi == 1ull << 47);
	/* Go 1.19: 16 sub-buckets; super-bucket 0 counts 0-15 ns one by one */
	gp_rt_hist_bounds(GP_RT_HIST_GO119, 5, &lo, &hi);
	cr_expect(lo == 5 && hi == 6);
	gp_rt_hist_bounds(GP_RT_HIST_GO119, 16, &lo, &hi);
	cr_expect(lo == 16 && hi == 17);
	gp_rt_hist_bounds(GP_RT_HIST_GO119, 33, &lo, &hi);
	cr_expect(lo == 34 && hi == 36, "%lu %lu", (unsigned long)lo, (unsigned long)hi);
	gp_rt_hist_bounds(GP_RT_HIST_GO119, 719, &lo, &hi);
	cr_expect(hi == UINT64_MAX);
}

/* ---- against the program's own readings, every release, plain and stripped ---- */

struct fixture_stats {
	unsigned long numgc, forced, pausetotal, heapinuse, nextgc, gcpauses, otherstw, schedwaits;
	unsigned long p50, p90, p99, pause_p50, pause_p99;
};

static void parse_stats(const char *line, const char *word, struct fixture_stats *f)
{
	char fmt[512];

	snprintf(fmt, sizeof(fmt), "%s numgc=%%lu forced=%%lu pausetotal=%%lu heapinuse=%%lu "
		 "nextgc=%%lu gcpauses=%%lu otherstw=%%lu schedwaits=%%lu schedp50=%%lu "
		 "schedp90=%%lu schedp99=%%lu pausep50=%%lu pausep99=%%lu", word);
	cr_assert_eq(sscanf(line, fmt, &f->numgc, &f->forced, &f->pausetotal, &f->heapinuse, &f->nextgc,
			    &f->gcpauses, &f->otherstw, &f->schedwaits, &f->p50, &f->p90, &f->p99,
			    &f->pause_p50, &f->pause_p99), 13,
		     "fixture said: %s", line);
}

struct events {
	uint64_t cycles, forced, pause_ns, unknown_pause, bad_time;
};

static int on_event(const struct goprof_event *ev, void *ctx)
{
	struct events *e = ctx;
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);

	if (ev->type != GOPROF_EVENT_GC_CYCLE)
		return 0;
	cr_expect(ev->sz >= sizeof(*ev) && ev->gc_flags & GOPROF_GC_FROM_MEMORY);
	e->cycles++;
	e->forced += ev->gc_trigger == GOPROF_GC_TRIGGER_CYCLE;
	e->pause_ns += ev->gc_pause_ns;
	e->unknown_pause += !!(ev->gc_flags & GOPROF_GC_PAUSE_UNKNOWN);
	/* the end of the cycle, on our clock: within the last minute */
	e->bad_time += !(ev->time_ns <= now && ev->time_ns + 60000000000ull > now);
	return 0;
}

static int flags_of(const struct goprof_process_info *p, void *ctx)
{
	*(uint32_t *)ctx = p->flags;
	return 0;
}

/* Within tol of want, or within abs of it. */
static bool near(double got, double want, double tol, double abs)
{
	return got >= want * (1 - tol) - abs && got <= want * (1 + tol) + abs;
}

ParameterizedTestParameters(rtstats, figures_match_the_programs_own)
{
	static struct fixture_variant v[32];
	size_t n = 0;

	for (int i = 0; fixture_all_go_versions()[i] && n + 2 <= 32; i++) {
		v[n++] = (struct fixture_variant){ i, 0 };
		v[n++] = (struct fixture_variant){ i, 1 };
	}
	return cr_make_param_array(struct fixture_variant, v, n);
}

ParameterizedTest(struct fixture_variant *v, rtstats, figures_match_the_programs_own, .timeout = 60)
{
	const char *ver = fixture_all_go_versions()[v->version_index];
	char forced[8], line[512];
	char *argv[] = { (char *)fixture_path(v->stripped ? "rtstats-stripped" : "rtstats", ver), forced, NULL };
	struct events ev = { 0 };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED,
		    .on_event = on_event, .ctx = &ev);
	struct goprof_gc_stats gc = { .sz = sizeof(gc) };
	struct goprof_sched_stats sc = { .sz = sizeof(sc) };
	struct goprof_session_stats ss = { .sz = sizeof(ss) };
	struct fixture_stats before, after;
	struct goprof_session *s;
	uint32_t flags = 0;
	struct child c;

	require_bpf_privileges();
	snprintf(forced, sizeof(forced), "%d", FORCED_GCS);
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	parse_stats(line, "waiting", &before);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	goprof_session_foreach_process(s, flags_of, &flags);
	cr_assert(flags & GOPROF_PROCESS_RUNTIME_STATS, "go%s: runtime statistics not read (flags 0x%x)",
		  ver, flags);
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s));
	parse_stats(line, "done", &after);
	for (int i = 0; i < 6; i++) /* a read after the program's own */
		goprof_session_poll(s, 50);
	cr_assert_eq(goprof_session_gc_stats(s, 0, &gc), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_sched_stats(s, 0, &sc), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &ss), 0);
	goprof_session_foreach_process(s, flags_of, &flags);
	cr_log_info("go%s%s: cycles %lu (forced %lu) vs NumGC %lu -> %lu (forced +%lu); pauses %lu vs "
		    "%lu, total %.3f ms vs %.3f ms, p50/p99 %lu/%lu us (metrics %lu/%lu); other STW %lu vs %lu; sched waits %lu "
		    "vs %lu, p50 %lu/%lu p90 %lu/%lu p99 %lu/%lu ns; heap inuse %lu vs %lu, goal %lu vs %lu; "
		    "%lu reads, %.1f us CPU and %lu bytes per read", ver, v->stripped ? " stripped" : "",
		    (unsigned long)gc.cycles, (unsigned long)gc.forced_cycles, before.numgc, after.numgc,
		    after.forced - before.forced, (unsigned long)gc.pauses, after.gcpauses - before.gcpauses,
		    gc.pause_total_ns / 1e6, (after.pausetotal - before.pausetotal) / 1e6,
		    (unsigned long)gc.pause_p50_ns / 1000, (unsigned long)gc.pause_p99_ns / 1000,
		    after.pause_p50 / 1000, after.pause_p99 / 1000, (unsigned long)gc.other_stw, after.otherstw - before.otherstw,
		    (unsigned long)sc.waits, after.schedwaits - before.schedwaits,
		    (unsigned long)sc.p50_ns, after.p50, (unsigned long)sc.p90_ns, after.p90,
		    (unsigned long)sc.p99_ns, after.p99, (unsigned long)gc.heap_inuse_bytes, after.heapinuse,
		    (unsigned long)gc.heap_goal_bytes, after.nextgc, (unsigned long)ss.rt_reads,
		    ss.rt_reads ? ss.rt_read_cpu_ns / 1e3 / ss.rt_reads : 0.0,
		    (unsigned long)(ss.rt_reads ? ss.rt_read_bytes / ss.rt_reads : 0));
	/* default mode: nothing installed in the target */
	cr_expect_eq(ss.uprobes_installed, 0, "go%s: %u uprobes in the default mode", ver, ss.uprobes_installed);
	cr_expect(!(flags & GOPROF_PROCESS_RUNTIME_PROBES), "go%s: runtime probes flagged", ver);
	cr_expect_eq(gc.source, GOPROF_STATS_FROM_MEMORY);
	cr_expect_eq(sc.source, GOPROF_STATS_FROM_MEMORY);
	/* GC cycles: exactly the program's own count, the forced ones exactly FORCED_GCS */
	cr_expect_eq(gc.cycles, after.numgc - before.numgc, "go%s: %lu cycles, NumGC says %lu", ver,
		     (unsigned long)gc.cycles, after.numgc - before.numgc);
	cr_expect_eq(gc.forced_cycles, FORCED_GCS, "go%s: %lu forced", ver, (unsigned long)gc.forced_cycles);
	cr_expect_eq(after.forced - before.forced, FORCED_GCS);
	cr_expect_eq(ev.cycles, gc.cycles, "go%s: %lu GC_CYCLE events for %lu cycles", ver,
		     (unsigned long)ev.cycles, (unsigned long)gc.cycles);
	cr_expect_leq(ev.forced, FORCED_GCS);
	cr_expect_eq(ev.unknown_pause, 0);
	cr_expect_eq(ev.bad_time, 0, "go%s: %lu events with an end time outside the last minute", ver,
		     (unsigned long)ev.bad_time);
	/* pauses: the exact total (the runtime's own counter) and the histogram's count */
	cr_expect_eq(gc.pause_total_ns, after.pausetotal - before.pausetotal);
	cr_expect_eq(ev.pause_ns, gc.pause_total_ns, "go%s: events' pauses add up to %lu, not %lu", ver,
		     (unsigned long)ev.pause_ns, (unsigned long)gc.pause_total_ns);
	cr_expect_eq(gc.pauses, after.gcpauses - before.gcpauses, "go%s: %lu pauses, metrics %lu", ver,
		     (unsigned long)gc.pauses, after.gcpauses - before.gcpauses);
	cr_expect_geq(gc.pauses, 2 * gc.cycles);
	cr_expect(gc.pause_p50_ns > 0 && gc.pause_p50_ns <= gc.pause_p99_ns && gc.pause_p99_ns <= gc.pause_max_ns);
	/* pause percentiles from the same histogram (no pause before we attached): the same
	 * bucket, or a neighbour if a pause landed between the two readings */
	if (!before.gcpauses) {
		cr_expect(near((double)gc.pause_p50_ns, (double)after.pause_p50, 0.35, 0),
			  "go%s pause p50 %lu vs %lu", ver, (unsigned long)gc.pause_p50_ns, after.pause_p50);
		cr_expect(near((double)gc.pause_p99_ns, (double)after.pause_p99, 0.35, 0),
			  "go%s pause p99 %lu vs %lu", ver, (unsigned long)gc.pause_p99_ns, after.pause_p99);
	}
	if (atoi(ver + 2) >= 22) /* the other stop-the-world pauses: ReadMemStats, ... */
		cr_expect(near((double)gc.other_stw, (double)(after.otherstw - before.otherstw), 0, 1),
			  "go%s: other STW %lu, metrics %lu", ver, (unsigned long)gc.other_stw,
			  after.otherstw - before.otherstw);
	/* heap: the runtime's HeapInuse and NextGC (tolerance: the program allocated printing) */
	cr_expect(gc.heap_flags & GOPROF_GC_HEAP_VALID);
	cr_expect(near((double)gc.heap_inuse_bytes, (double)after.heapinuse, 0.05, 65536),
		  "go%s: heap in use %lu, HeapInuse %lu", ver, (unsigned long)gc.heap_inuse_bytes, after.heapinuse);
	cr_expect(near((double)gc.heap_goal_bytes, (double)after.nextgc, 0.01, 0),
		  "go%s: heap goal %lu, NextGC %lu", ver, (unsigned long)gc.heap_goal_bytes, after.nextgc);
	/*
	 * Scheduling latency, the runtime's own histogram: counts within 5% + 16 (the runtime
	 * may schedule a background goroutine between its reading and ours), percentiles the
	 * same bucket or a neighbour (a quarter of a power of two: 1.35x either way).
	 */
	cr_expect_eq(sc.sample_every, 8);
	cr_expect(near((double)sc.waits, (double)(after.schedwaits - before.schedwaits), 0.05, 16),
		  "go%s: %lu waits, metrics %lu", ver, (unsigned long)sc.waits, after.schedwaits - before.schedwaits);
	if (before.schedwaits * 10 < after.schedwaits) { /* percentiles of the run, not of start-up */
		cr_expect(near((double)sc.p50_ns, (double)after.p50, 0.35, 0), "go%s p50 %lu vs %lu", ver,
			  (unsigned long)sc.p50_ns, after.p50);
		cr_expect(near((double)sc.p90_ns, (double)after.p90, 0.35, 0), "go%s p90 %lu vs %lu", ver,
			  (unsigned long)sc.p90_ns, after.p90);
	}
	/* the reader's own cost is counted */
	cr_expect(ss.rt_reads > 0 && ss.rt_read_cpu_ns > 0 && ss.rt_read_bytes > 0 && ss.rt_processes == 1);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

/* The process exits (killed) between reads and while being read: no crash, figures kept. */
Test(rtstats, process_exits_mid_read, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("rtstats", ver), "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED);
	struct goprof_gc_stats gc = { .sz = sizeof(gc) };
	struct goprof_session_stats ss = { .sz = sizeof(ss) };
	struct goprof_session *s;
	char line[512];

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	for (int round = 0; round < 4; round++) {
		struct child c;

		child_start(&c, argv);
		cr_assert(child_read_line(&c, line, sizeof(line)));
		cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
		child_write_line(&c, "go");
		/* killed at a different moment of its run each round */
		for (int i = 0; i < round * 2; i++)
			goprof_session_poll(s, 30);
		kill(c.pid, SIGKILL);
		for (int i = 0; i < 4; i++)
			goprof_session_poll(s, 30);
		child_kill(&c);
	}
	cr_assert_eq(goprof_session_gc_stats(s, 0, &gc), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &ss), 0);
	cr_expect_eq(ss.rt_processes, 0, "exited processes still read");
	cr_expect(gc.source == GOPROF_STATS_FROM_MEMORY && gc.forced_cycles <= 8);
	goprof_session_free(s);
}

/* The byte at the probe site of runtime function fn in process pid, and in the file. */
static void probe_site_bytes(int pid, const char *exe, const char *fn, uint8_t *in_process, uint8_t *in_file)
{
	struct goprof_binary *bin = goprof_binary_open(exe, NULL);
	struct gp_func_sites sites;

	cr_assert_not_null(bin, "%s", goprof_last_error());
	cr_assert_eq(gp_go_func_sites(bin, fn, false, &sites), 0, "%s", goprof_last_error());
	*in_file = bin->elf.map[sites.probe_offset];
	cr_assert_eq(gp_remote_read(pid, sites.entry_vaddr + (sites.probe_offset - sites.entry_offset),
				    in_process, 1), 0);
	goprof_binary_free(bin);
}

/*
 * The precise mode is still there, as an opt-in: uprobes, each cycle's phases - and
 * attached per process: a second process of the same executable has no breakpoint.
 */
Test(rtstats, precise_mode_is_opt_in_and_per_process, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	const char *exe = fixture_path("rtstats", ver);
	char *argv[] = { (char *)exe, "2", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC_PRECISE |
							  GOPROF_FEATURE_SCHED_PRECISE,
		    .overhead_budget_bp = 10000);
	struct goprof_gc_stats gc = { .sz = sizeof(gc) };
	struct goprof_sched_stats sc = { .sz = sizeof(sc) };
	struct goprof_session_stats ss = { .sz = sizeof(ss) };
	static const char *const fns[] = { "runtime.casgstatus", "runtime.gcStart" };
	struct goprof_session *s;
	uint32_t flags = 0;
	char line[512];
	struct child c, other;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	child_start(&other, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	cr_assert(child_read_line(&other, line, sizeof(line)));
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	for (size_t i = 0; i < ARRAY_SIZE(fns); i++) {
		uint8_t attached, unattached, file;

		probe_site_bytes(c.pid, exe, fns[i], &attached, &file);
		probe_site_bytes(other.pid, exe, fns[i], &unattached, &file);
		cr_expect_eq(attached, 0xcc, "%s: no breakpoint in the attached process (0x%02x)", fns[i],
			     attached);
		cr_expect_eq(unattached, file, "%s: the other process of the executable has 0x%02x "
			     "where the file has 0x%02x", fns[i], unattached, file);
	}
	child_write_line(&c, "go");
	child_write_line(&other, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s));
	cr_assert(child_read_line(&other, line, sizeof(line)));
	for (int i = 0; i < 3; i++)
		goprof_session_poll(s, 50);
	goprof_session_foreach_process(s, flags_of, &flags);
	cr_assert_eq(goprof_session_gc_stats(s, 0, &gc), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_sched_stats(s, 0, &sc), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &ss), 0);
	cr_expect_gt(ss.uprobes_installed, 0);
	cr_expect(flags & GOPROF_PROCESS_RUNTIME_PROBES && !(flags & GOPROF_PROCESS_RUNTIME_STATS));
	cr_expect_eq(gc.source, GOPROF_STATS_FROM_PROBES);
	cr_expect_geq(gc.forced_cycles, 2);
	cr_expect(sc.source == GOPROF_STATS_FROM_PROBES && sc.sample_every == 1 && sc.waits > 0);
	cr_expect_eq(ss.rt_reads, 0);
	child_close_stdin(&c);
	child_close_stdin(&other);
	cr_assert_eq(child_wait(&c), 0);
	cr_assert_eq(child_wait(&other), 0);
	/* the exited process's own probes are removed with it */
	for (int i = 0; i < 3; i++)
		goprof_session_poll(s, 50);
	cr_assert_eq(goprof_session_stats(s, &ss), 0);
	cr_expect_eq(ss.uprobes_installed, 0, "%u uprobes left after the process exited",
		     ss.uprobes_installed);
	goprof_session_free(s);
}

/*
 * Process churn: a reader that followed many processes keeps the most recent exited ones
 * and folds the older ones into totals (bounded memory); the totals stay what they were.
 */
Test(rtstats, exited_processes_are_folded, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("rtstats", ver), "3", NULL };
	struct gp_rt_reader *r = gp_rt_reader_new(0);
	struct goprof_gc_stats first = { .sz = sizeof(first) }, after = { .sz = sizeof(after) };
	struct goprof_sched_stats sched = { .sz = sizeof(sched) };
	char exe[64], note[160], line[512], gover[32];
	struct child c;

	cr_assert_not_null(r);
	snprintf(gover, sizeof(gover), "go%s", ver);
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", c.pid);
	cr_assert_eq(gp_rt_reader_add(r, c.pid, exe, gover, note, sizeof(note)), 1, "%s", note);
	child_write_line(&c, "go");
	cr_assert(child_read_line(&c, line, sizeof(line)));
	usleep(150 * 1000);
	cr_assert_geq(gp_rt_reader_tick(r, NULL, NULL), 0);
	gp_rt_reader_exited(r, c.pid);
	cr_assert_eq(gp_rt_reader_gc_stats(r, 0, &first), 0);
	cr_assert_geq(first.forced_cycles, 3);
	/* 300 more (of the same live process, each added, read and left): the first is folded */
	for (int i = 0; i < 300; i++) {
		cr_assert_eq(gp_rt_reader_add(r, c.pid, exe, gover, note, sizeof(note)), 1, "%s", note);
		gp_rt_reader_exited(r, c.pid);
	}
	cr_assert_eq(gp_rt_reader_gc_stats(r, 0, &after), 0);
	cr_expect_eq(after.cycles, first.cycles, "folded totals changed: %lu -> %lu cycles",
		     (unsigned long)first.cycles, (unsigned long)after.cycles);
	cr_expect_eq(after.forced_cycles, first.forced_cycles);
	cr_expect_eq(after.pauses, first.pauses);
	cr_expect_eq(after.pause_total_ns, first.pause_total_ns);
	cr_expect_eq(after.pause_p99_ns, first.pause_p99_ns);
	cr_assert_eq(gp_rt_reader_sched_stats(r, 0, &sched), 0);
	cr_expect_gt(sched.waits, 0);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	gp_rt_reader_free(r);
}

/*
 * The reader's CPU is the profiler's, held to the overhead budget: with a budget of one
 * basis point of a CPU (100 us a second) reading every 100 ms costs too much, and the
 * interval grows until it does not.
 */
Test(rtstats, reading_is_held_to_the_budget, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("rtstats", ver), "1", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED,
		    .overhead_budget_bp = 1);
	struct goprof_session_stats ss = { .sz = sizeof(ss) };
	struct goprof_session *s;
	char line[512];
	struct child c;
	double t0;

	require_bpf_privileges();
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	t0 = mono_seconds();
	while (mono_seconds() - t0 < 4.5)
		goprof_session_poll(s, 20);
	cr_assert_eq(goprof_session_stats(s, &ss), 0);
	cr_log_info("budget 1 bp: %lu reads in 4.5 s, %.1f us CPU each, interval now %u ms",
		    (unsigned long)ss.rt_reads, ss.rt_reads ? ss.rt_read_cpu_ns / 1e3 / ss.rt_reads : 0.0,
		    ss.rt_interval_ms);
	cr_expect_geq(ss.rt_interval_ms, 400, "interval %u ms: not stretched", ss.rt_interval_ms);
	cr_expect_lt(ss.rt_reads, 30, "%lu reads in 4.5 s", (unsigned long)ss.rt_reads);
	child_close_stdin(&c);
	child_kill(&c);
	goprof_session_free(s);
}

/* ---- a release newer than the table: the newest layout, only once proven ---- */

/* A copy of src whose build info claims go1.<claim> (same length: nothing else moves). */
static const char *claiming(const char *src, const char *claim, char *out, size_t out_len)
{
	static const char magic[] = "\xff Go buildinf:";
	FILE *f = fopen(src, "rb");
	uint8_t *b, *p = NULL;
	long len;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	b = malloc((size_t)len);
	cr_assert(b && fread(b, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	for (long i = 0; i + 64 < len && !p; i += 16)
		if (!memcmp(b + i, magic, 14))
			p = b + i;
	cr_assert(p && p[15] & 2 && !memcmp(p + 33, "go1.", 4), "%s: no inline build info version", src);
	memcpy(p + 33 + 4, claim, 2);
	snprintf(out, out_len, "/tmp/goprof-rtstats-%d-go1.%s", getpid(), claim);
	f = fopen(out, "wb");
	cr_assert(f && fwrite(b, 1, (size_t)len, f) == (size_t)len && fclose(f) == 0);
	cr_assert_eq(chmod(out, 0755), 0);
	free(b);
	return out;
}

static void run_claiming(const char *path, struct goprof_gc_stats *gc, uint32_t *flags_before,
			 uint32_t *flags_after, struct fixture_stats *before, struct fixture_stats *after)
{
	char *argv[] = { (char *)path, "4", NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED);
	struct goprof_session *s = goprof_session_new(&opts);
	char line[512];
	struct child c;

	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	parse_stats(line, "waiting", before);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	goprof_session_foreach_process(s, flags_of, flags_before);
	child_write_line(&c, "go");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s));
	parse_stats(line, "done", after);
	for (int i = 0; i < 25; i++) /* an undecided layout is looked at once a second */
		goprof_session_poll(s, 50);
	goprof_session_foreach_process(s, flags_of, flags_after);
	gc->sz = sizeof(*gc);
	cr_assert_eq(goprof_session_gc_stats(s, 0, gc), 0, "%s", goprof_last_error());
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(s);
}

Test(rtstats, newer_release_is_read_only_once_proven, .timeout = 60)
{
	const char *const *v = fixture_go_versions();
	const char *newest = v[1] ? v[1] : v[0], *oldest = v[0];
	struct fixture_stats before, after;
	struct goprof_gc_stats gc;
	uint32_t f0 = 0, f1 = 0;
	char path[256];

	require_bpf_privileges();
	cr_assert_eq(atoi(newest + 2), 27, "the newest toolchain is expected to be 1.27");
	/* The newest release claiming 1.28: its layout, proven by the first GC cycle. */
	run_claiming(claiming(fixture_path("rtstats", newest), "28", path, sizeof(path)), &gc, &f0, &f1,
		     &before, &after);
	unlink(path);
	cr_expect(!(f0 & GOPROF_PROCESS_RUNTIME_STATS), "read before any GC proved the layout");
	cr_expect(f1 & GOPROF_PROCESS_RUNTIME_STATS, "not read after its GC cycles (flags 0x%x)", f1);
	cr_expect_eq(gc.source, GOPROF_STATS_FROM_MEMORY);
	cr_expect(gc.cycles <= after.numgc - before.numgc, "%lu cycles, NumGC %lu",
		  (unsigned long)gc.cycles, after.numgc - before.numgc);
	/* Go 1.19 (another layout) claiming 1.28: the newest layout never fits: nothing read. */
	run_claiming(claiming(fixture_path("rtstats", oldest), "28", path, sizeof(path)), &gc, &f0, &f1,
		     &before, &after);
	unlink(path);
	cr_expect(f1 & GOPROF_PROCESS_GO, "not seen as Go: the check below would prove nothing");
	cr_expect(!(f1 & GOPROF_PROCESS_RUNTIME_STATS), "a wrong layout was taken (flags 0x%x)", f1);
	cr_expect(gc.source == 0 && gc.cycles == 0 && gc.pauses == 0,
		  "figures from a wrong layout: %lu cycles", (unsigned long)gc.cycles);
}

/*
 * Go 1.20 has no toolchain here: its layout is derived (two gcController candidates). A
 * Go 1.21 binary claiming go1.20 has one of them: proven by its GC cycles, then read.
 */
Test(rtstats, derived_release_layout_is_proven_then_read, .timeout = 60)
{
	const char *const *all = fixture_all_go_versions();
	struct fixture_stats before, after;
	struct goprof_gc_stats gc;
	uint32_t f0 = 0, f1 = 0;
	char path[256];
	bool have_121 = false;

	require_bpf_privileges();
	for (int i = 0; all[i]; i++)
		have_121 |= !strcmp(all[i], "1.21");
	if (!have_121) {
		const char *ci = getenv("CI");

		cr_assert(!ci || strcmp(ci, "true"), "CI: Go 1.21 must be among the toolchains");
		cr_log_warn("Go 1.21 not among the toolchains of this build: not run");
		return;
	}
	run_claiming(claiming(fixture_path("rtstats", "1.21"), "20", path, sizeof(path)), &gc, &f0, &f1,
		     &before, &after);
	unlink(path);
	cr_expect(!(f0 & GOPROF_PROCESS_RUNTIME_STATS), "read before a GC proved the derived layout");
	cr_expect(f1 & GOPROF_PROCESS_RUNTIME_STATS, "derived layout not taken (flags 0x%x)", f1);
	cr_expect(gc.source == GOPROF_STATS_FROM_MEMORY && gc.cycles <= after.numgc - before.numgc); /* from the proof on */
	cr_expect(gc.heap_flags & GOPROF_GC_HEAP_VALID && gc.heap_goal_bytes == after.nextgc,
		  "heap goal %lu, NextGC %lu", (unsigned long)gc.heap_goal_bytes, after.nextgc);
}

