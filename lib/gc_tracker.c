// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* GC cycle reconstruction and its statistics. */
#include <stdlib.h>

#include "gc_tracker.h"

struct gc_proc {
	uint32_t pid;
	int in_gcstart;       /* runtime.gcStart frames open (several goroutines may call it) */
	bool in_markterm;
	bool cycle_open;
	uint64_t stw_begin;   /* last stopTheWorldWithSema entry */
	uint32_t trigger;     /* kind of the last gcStart */
	struct goprof_event cycle;
	uint64_t cycles, other_stw;
};

struct gc_done { /* a finished cycle, kept for percentiles and histograms */
	uint32_t pid;
	uint64_t start, end, pauses[2];
};

struct gp_gc_tracker {
	struct gc_proc *procs;
	size_t nr_procs, procs_cap;
	struct gc_done *done;
	size_t nr_done, done_cap;
};

struct gp_gc_tracker *gp_gc_tracker_new(void)
{
	struct gp_gc_tracker *t = calloc(1, sizeof(*t));

	return t ? t : gp_err_null(-ENOMEM, "out of memory");
}

void gp_gc_tracker_free(struct gp_gc_tracker *t)
{
	if (!t)
		return;
	free(t->procs);
	free(t->done);
	free(t);
}

static struct gc_proc *proc_of(struct gp_gc_tracker *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nr_procs; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i];
	if (t->nr_procs == t->procs_cap) {
		size_t cap = t->procs_cap ? 2 * t->procs_cap : 8;
		struct gc_proc *p = realloc(t->procs, cap * sizeof(*p));

		if (!p)
			return NULL;
		t->procs = p;
		t->procs_cap = cap;
	}
	memset(&t->procs[t->nr_procs], 0, sizeof(t->procs[0]));
	t->procs[t->nr_procs].pid = pid;
	return &t->procs[t->nr_procs++];
}

static int finish_cycle(struct gp_gc_tracker *t, struct gc_proc *p, uint64_t end,
			struct goprof_event *out)
{
	struct goprof_event *c = &p->cycle;

	c->gc_end_ns = end;
	c->time_ns = end;
	c->gc_cycle = ++p->cycles;
	p->cycle_open = false;
	if (t->nr_done == t->done_cap) {
		size_t cap = t->done_cap ? 2 * t->done_cap : 64;
		struct gc_done *d = realloc(t->done, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		t->done = d;
		t->done_cap = cap;
	}
	t->done[t->nr_done++] = (struct gc_done){ p->pid, c->gc_start_ns, end,
						  { c->gc_sweep_term_pause_ns, c->gc_mark_term_pause_ns } };
	*out = *c;
	return 1;
}

int gp_gc_tracker_record(struct gp_gc_tracker *t, const struct gp_runtime_event *ev,
			 struct goprof_event *out)
{
	struct gc_proc *p = proc_of(t, ev->pid);
	uint64_t pause;

	if (!p)
		return -ENOMEM;
	switch (ev->type) {
	case GP_REC_GC_START_ENTER:
		p->in_gcstart++;
		p->trigger = (uint32_t)ev->arg;
		break;
	case GP_REC_GC_START_RET:
		if (p->in_gcstart > 0)
			p->in_gcstart--;
		break;
	case GP_REC_STW_STOP:
		p->stw_begin = ev->time_ns;
		break;
	case GP_REC_STW_STARTED:
		pause = p->stw_begin && ev->time_ns > p->stw_begin ? ev->time_ns - p->stw_begin : 0;
		if (p->in_markterm && p->cycle_open) {
			p->cycle.gc_mark_term_pause_ns = pause;
			p->cycle.gc_mark_ns = p->stw_begin - (p->cycle.gc_start_ns +
							      p->cycle.gc_sweep_term_pause_ns);
		} else if (p->in_gcstart > 0) {
			p->cycle = (struct goprof_event){
				.sz = sizeof(p->cycle),
				.type = GOPROF_EVENT_GC_CYCLE,
				.pid = ev->pid,
				.tid = ev->tid,
				.gc_trigger = p->trigger,
				.gc_start_ns = p->stw_begin,
				.gc_sweep_term_pause_ns = pause,
			};
			p->cycle_open = true;
		} else {
			p->other_stw++;
		}
		p->stw_begin = 0;
		break;
	case GP_REC_GC_MARKTERM_ENTER:
		p->in_markterm = true;
		break;
	case GP_REC_GC_MARKTERM_RET:
		p->in_markterm = false;
		if (p->cycle_open)
			return finish_cycle(t, p, ev->time_ns, out);
		break;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
	return n ? sorted[(n - 1) * pct / 100] : 0;
}

static unsigned log2_bucket_us(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us > 1 && b + 1 < GOPROF_GC_HIST_BUCKETS) {
		us >>= 1;
		b++;
	}
	return b;
}

void gp_gc_tracker_stats(const struct gp_gc_tracker *t, uint32_t pid, struct goprof_gc_stats *st)
{
	uint64_t *pauses = malloc((2 * t->nr_done + 1) * sizeof(*pauses));
	uint64_t *cycles = malloc((t->nr_done + 1) * sizeof(*cycles));
	size_t np = 0, nc = 0;

	for (size_t i = 0; i < t->nr_procs; i++)
		if (!pid || t->procs[i].pid == pid)
			st->other_stw += t->procs[i].other_stw;
	for (size_t i = 0; i < t->nr_done; i++) {
		const struct gc_done *d = &t->done[i];

		if (pid && d->pid != pid)
			continue;
		st->cycles++;
		if (!st->first_cycle_ns || d->start < st->first_cycle_ns)
			st->first_cycle_ns = d->start;
		st->last_cycle_ns = GP_MAX(st->last_cycle_ns, d->end);
		if (cycles)
			cycles[nc++] = d->end - d->start;
		st->cycle_hist[log2_bucket_us(d->end - d->start)]++;
		for (int k = 0; k < 2; k++) {
			st->pauses++;
			st->pause_total_ns += d->pauses[k];
			st->pause_max_ns = GP_MAX(st->pause_max_ns, d->pauses[k]);
			st->pause_hist[log2_bucket_us(d->pauses[k])]++;
			if (pauses)
				pauses[np++] = d->pauses[k];
		}
	}
	qsort(pauses, np, sizeof(*pauses), cmp_u64);
	qsort(cycles, nc, sizeof(*cycles), cmp_u64);
	st->pause_p50_ns = percentile(pauses, np, 50);
	st->pause_p90_ns = percentile(pauses, np, 90);
	st->pause_p99_ns = percentile(pauses, np, 99);
	st->cycle_p50_ns = percentile(cycles, nc, 50);
	st->cycle_max_ns = nc ? cycles[nc - 1] : 0;
	free(pauses);
	free(cycles);
}
