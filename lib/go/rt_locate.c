// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Locating the runtime's statistics in a Go executable (see rt_locate.h). */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>

#include "go/go_data_refs.h"
#include "go/rt_locate.h"
#include "sym/proc_maps.h"
#include "sym/symbolizer_internal.h"

#define MAX_FUNC_BYTES (64u << 10) /* gcMarkTermination is a few KiB */
#define MAX_TARGETS 512
#define MIN_SCORE 3 /* distinct known fields that must land on operands */

struct targets {
	uint64_t v[MAX_TARGETS];
	size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the data addresses Go function fn forms to t. */
static void add_targets(struct goprof_binary *bin, const char *fn, struct targets *t)
{
	t->n += gp_go_data_refs(bin, fn, MAX_FUNC_BYTES, t->v + t->n, MAX_TARGETS - t->n);
}

static bool has(const struct targets *t, uint64_t v)
{
	return bsearch(&v, t->v, t->n, sizeof(v), cmp_u64) != NULL;
}

/*
 * The base that puts the most distinct field offsets on operands; 0 unless it has at
 * least MIN_SCORE and no other base has as many. anchored: the base itself must be an
 * operand (fields[0] is 0: the structure's address is taken, e.g. for a method call),
 * which keeps runs of 8-byte fields of other structures from matching.
 */
static uint64_t best_base(const struct targets *t, const uint16_t *fields, size_t nf, bool anchored)
{
	uint64_t best = 0;
	unsigned best_score = 0, second = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (i && t->v[i] == t->v[i - 1])
			continue;
		for (size_t f = 0; f < (anchored ? 1 : nf); f++) {
			uint64_t base = t->v[i] - fields[f];
			unsigned score = 0;

			if (t->v[i] < fields[f])
				continue;
			for (size_t g = 0; g < nf; g++)
				score += has(t, base + fields[g]);
			if (base == best)
				continue;
			if (score > best_score) {
				second = best_score;
				best_score = score;
				best = base;
			} else if (score > second) {
				second = score;
			}
		}
	}
	return best_score >= MIN_SCORE && best_score > second ? best : 0;
}

/* Distinct values of in[0..n) (a field listed twice must not count twice). */
static size_t distinct(uint16_t *f, size_t n, bool keep_zero_first)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;

		if (!f[i] && !(keep_zero_first && i == 0))
			continue;
		for (size_t j = 0; j < m; j++)
			seen |= f[j] == f[i];
		if (!seen)
			f[m++] = f[i];
	}
	return m;
}

/* Runtime variables are 8-byte aligned and writable: not in code or read-only data. */
static bool plausible_var(const struct goprof_binary *bin, uint64_t a)
{
	if (!a || a & 7)
		return false;
	for (size_t i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *sg = &bin->elf.segs[i];

		if (!(sg->flags & PF_W) && a >= sg->vaddr && a < sg->vaddr + sg->len)
			return false;
	}
	return true;
}

static uint64_t locate(struct goprof_binary *bin, const char *const *fns, size_t nfns,
		       uint16_t *fields, size_t nf, bool zero_is_field)
{
	struct targets *t = calloc(1, sizeof(*t));
	uint64_t base;

	if (!t)
		return 0;
	for (size_t i = 0; i < nfns; i++)
		add_targets(bin, fns[i], t);
	qsort(t->v, t->n, sizeof(t->v[0]), cmp_u64);
	base = best_base(t, fields, distinct(fields, nf, zero_is_field), zero_is_field);
	free(t);
	return plausible_var(bin, base) ? base : 0;
}

static int locate_all(struct goprof_binary *bin, const struct gp_rt_layout *l, struct gp_rt_addrs *a,
		      char *why, size_t why_len, bool from_code)
{
	static const char *const names[] = { "runtime.sched", "runtime.memstats", "runtime.gcController" };
	static const char *const sched_fns[] = { "runtime.casgstatus", "runtime.stopTheWorldWithSema",
						 "runtime.startTheWorldWithSema" };
	/* readmemstats_m is linked only into programs that call runtime.ReadMemStats; the
	 * allocator's (*mcache).refill takes &memstats.heapStats (offset 0) in every one,
	 * and gcControllerCommit gcController's address */
	static const char *const ms_fns[] = { "runtime.readmemstats_m", "runtime.gcMarkTermination",
					      "runtime.(*mcache).refill" };
	/* gcMarkTermination also reads runtime.work's many 8-byte fields: they would match
	 * gcController's runs of 8-byte fields as well as gcController does */
	static const char *const gc_fns[] = { "runtime.readmemstats_m", "runtime.gcControllerCommit" };
	uint16_t sched_f[] = { l->sched_lock, l->sched_gcwaiting, l->sched_stopwait, l->sched_stopnote,
			       l->sched_sysmonwait, l->sched_time_to_run, l->sched_stw_stopping_gc,
			       l->sched_stw_stopping_other, l->sched_stw_total_gc, l->sched_stw_total_other };
	uint16_t ms_f[] = { 0, l->ms_last_gc_unix, l->ms_pause_total_ns, l->ms_pause_ns, l->ms_pause_end,
			    l->ms_numgc, l->ms_numforcedgc, l->ms_gc_cpu_fraction, l->ms_last_gc_nanotime,
			    l->ms_last_heap_inuse, l->ms_gc_pause_dist };
	uint16_t gc_f[] = { 0, l->gc_memory_limit, l->gc_heap_minimum, l->gc_runway,
			    l->gc_percent_heap_goal, l->gc_sweep_dist_min_trigger, l->gc_triggered,
			    l->gc_last_heap_goal, l->gc_heap_live, l->gc_heap_scan, l->gc_heap_marked,
			    l->gc_heap_inuse, l->gc_heap_released, l->gc_heap_free, l->gc_total_alloc,
			    l->gc_total_free, l->gc_mapped_ready };
	uint64_t v[3] = { 0 };

	memset(a, 0, sizeof(*a));
	if (why_len)
		why[0] = '\0';
	if (!goprof_binary_is_go(bin)) {
		snprintf(why, why_len, "not a Go executable");
		return -ENOENT;
	}
	if (!from_code && gp_elf_symbols(&bin->elf, names, v, 3) && (v[0] || v[1])) {
		a->sched = v[0];
		a->memstats = v[1];
		a->gc_controller = v[2];
		a->from_symbols = true;
	} else {
		a->sched = locate(bin, sched_fns, ARRAY_SIZE(sched_fns), sched_f, ARRAY_SIZE(sched_f), false);
		a->memstats = locate(bin, ms_fns, ARRAY_SIZE(ms_fns), ms_f, ARRAY_SIZE(ms_f), true);
		a->gc_controller = locate(bin, gc_fns, ARRAY_SIZE(gc_fns), gc_f, ARRAY_SIZE(gc_f), true);
	}
	if (!a->sched && !a->memstats) {
		snprintf(why, why_len, "runtime.sched and runtime.memstats not found (no symbols; the "
			 "operands of runtime.casgstatus/stopTheWorldWithSema/readmemstats_m/"
			 "gcMarkTermination did not give them)");
		return -ENOENT;
	}
	if (!a->memstats)
		snprintf(why, why_len, "runtime.memstats not found: no GC cycles or pauses");
	else if (!a->sched)
		snprintf(why, why_len, "runtime.sched not found: no scheduling latency");
	else if (!a->gc_controller)
		snprintf(why, why_len, "runtime.gcController not found: no heap figures");
	return 0;
}

int gp_rt_locate(struct goprof_binary *bin, const struct gp_rt_layout *lay, struct gp_rt_addrs *a,
		 char *why, size_t why_len)
{
	return locate_all(bin, lay, a, why, why_len, false);
}

int gp_rt_locate_from_code(struct goprof_binary *bin, const struct gp_rt_layout *lay,
			   struct gp_rt_addrs *a, char *why, size_t why_len)
{
	return locate_all(bin, lay, a, why, why_len, true);
}

int gp_rt_load_bias_of(int pid, bool pie, dev_t dev, ino_t ino, uint64_t first_load_vaddr,
		       uint64_t *bias)
{
	struct gp_maps maps = { 0 };
	int err = -ENOENT;

	*bias = 0;
	if (!pie)
		return 0;
	if (gp_maps_read(&maps, pid))
		return -ESRCH;
	for (size_t i = 0; i < maps.n; i++) {
		const struct gp_mapping *m = &maps.m[i];

		if (m->ino != ino || m->dev != dev || m->start < m->offset)
			continue;
		*bias = m->start - m->offset - first_load_vaddr;
		err = 0;
		break;
	}
	gp_maps_free(&maps);
	return err;
}

int gp_rt_load_bias(int pid, struct goprof_binary *bin, uint64_t *bias)
{
	return gp_rt_load_bias_of(pid, bin->elf.type == ET_DYN, bin->elf.dev, bin->elf.ino,
				  bin->elf.first_load_vaddr, bias);
}
