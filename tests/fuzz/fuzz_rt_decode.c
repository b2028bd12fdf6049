// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the decoder of the Go runtime's statistics (lib/go/rt_decode.c) on any
 * bytes in place of runtime.sched, runtime.memstats and runtime.gcController, cut off
 * anywhere. Input: one byte choosing the release's layout (1.19-1.27), then the bytes of
 * the three structures in that order (a short input leaves the later ones short). What
 * is reported must keep the runtime's invariants (nothing invented from garbage), and
 * the histogram arithmetic the reader does on two reads must stay consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "go/rt_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hist(const struct gp_rt_hist *h)
{
	uint64_t log2[32] = { 0 }, sum = 0, p50, p99, max;

	gp_rt_hist_add_log2us(h, log2, 32);
	for (int i = 0; i < 32; i++)
		sum += log2[i];
	if (sum != h->total)
		abort();
	p50 = gp_rt_hist_percentile(h, 50);
	p99 = gp_rt_hist_percentile(h, 99);
	max = gp_rt_hist_max(h);
	if (p50 > p99 || (h->total > h->underflow && p99 > max && !h->overflow))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int minors[] = { 19, 21, 22, 23, 24, 26, 27 };
	const struct gp_rt_layout *l;
	struct gp_rt_snapshot *a, *b;
	size_t ls, lm, lg, off = 1;
	uint8_t *s, *m, *g;
	size_t ns, nm, ng;
	struct gp_rt_hist d;
	uint32_t have;

	if (size < 1)
		return 0;
	l = gp_rt_layout_measured(minors[data[0] % (sizeof(minors) / sizeof(minors[0]))]);
	if (!l)
		abort();
	gp_rt_region_sizes(l, &ls, &lm, &lg);
	/* exact-size copies: ASan sees any read past what was "read from the target" */
	ns = GP_MIN(size - off, ls);
	s = malloc(ns ? ns : 1);
	memcpy(s, data + off, ns);
	off += ns;
	nm = GP_MIN(size - off, lm);
	m = malloc(nm ? nm : 1);
	memcpy(m, data + off, nm);
	off += nm;
	ng = GP_MIN(size - off, lg);
	g = malloc(ng ? ng : 1);
	memcpy(g, data + off, ng);
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	have = gp_rt_decode(l, s, ns, m, nm, g, ng, 1800000000000000000ull, 1000000000000ull, a);
	if (have & GP_RT_HAVE_GC) {
		if (a->numforcedgc > a->numgc || (a->numgc && a->pause_ns[(a->numgc - 1) % 256] > a->pause_total_ns) ||
		    (!a->numgc && a->pause_total_ns))
			abort();
	}
	if (have & GP_RT_HAVE_HEAP && (a->heap_inuse % 8192 || a->heap_inuse > (1ull << 48)))
		abort();
	if (have & GP_RT_HAVE_SCHED)
		check_hist(&a->sched_latency);
	if (have & GP_RT_HAVE_PAUSE_HIST) {
		check_hist(&a->gc_pause);
		if ((have & GP_RT_HAVE_GC) && a->gc_pause.total < a->numgc)
			abort();
	}
	/* a second read: the same bytes reversed in the memstats part; the difference of two
	 * histograms is either consistent or refused */
	for (size_t i = 0; i < nm / 2; i++) {
		uint8_t t = m[i];

		m[i] = m[nm - 1 - i];
		m[nm - 1 - i] = t;
	}
	gp_rt_decode(l, s, ns, m, nm, g, ng, 1800000000000000000ull, 1000000000000ull, b);
	if ((have & GP_RT_HAVE_SCHED) && (b->have & GP_RT_HAVE_SCHED) &&
	    gp_rt_hist_sub(&d, &b->sched_latency, &a->sched_latency) == 0)
		check_hist(&d);
	free(s);
	free(m);
	free(g);
	free(a);
	free(b);
	return 0;
}
