// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* GC cycle reconstruction and its statistics. */
#include <stdlib.h>

#include "core/hist.h"
#include "caps/gc/gc_tracker.h"

struct gc_proc {
	uint32_t pid;
	int in_gcstart;       /* runtime.gcStart frames open (several goroutines may call it) */
	bool in_markterm;
	bool cycle_open;
	uint64_t stw_begin;   /* last stopTheWorldWithSema entry */
	uint32_t trigger;     /* kind of the last gcStart */
	struct goprof_event cycle;
	uint64_t cycles, other_stw, forced;
	/* Every finished cycle, summed (the ring below keeps only the recent ones). */
	uint64_t pauses, pause_total_ns, pause_max_ns, cycle_max_ns, first_ns, last_ns;
	uint64_t pause_hist[GOPROF_GC_HIST_BUCKETS], cycle_hist[GOPROF_GC_HIST_BUCKETS];
};

/*
 * Finished cycles kept for the percentiles: the most recent GC_RECENT_CYCLES, in a ring,
 * so that a session of weeks does not grow with every cycle (a busy service runs
 * several per second). Counts, totals, maxima and histograms cover every cycle.
 */
#define GC_RECENT_CYCLES 4096

struct gc_done {
	uint32_t pid;
	uint64_t start, end, pauses[2];
};

struct gp_gc_tracker {
	struct gc_proc *procs;
	size_t nr_procs, procs_cap;
	struct gc_done *done; /* ring of GC_RECENT_CYCLES, allocated at the first cycle */
	size_t nr_done, next_done;
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
	if (gp_grow((void **)&t->procs, &t->procs_cap, t->nr_procs + 1, sizeof(*t->procs)))
		return NULL;
	memset(&t->procs[t->nr_procs], 0, sizeof(t->procs[0]));
	t->procs[t->nr_procs].pid = pid;
	return &t->procs[t->nr_procs++];
}

static int finish_cycle(struct gp_gc_tracker *t, struct gc_proc *p, uint64_t end,
			struct goprof_event *out)
{
	struct goprof_event *c = &p->cycle;
	uint64_t pauses[2] = { c->gc_sweep_term_pause_ns, c->gc_mark_term_pause_ns };

	c->gc_end_ns = end;
	c->time_ns = end;
	c->gc_cycle = ++p->cycles;
	p->forced += c->gc_trigger == GOPROF_GC_TRIGGER_CYCLE;
	p->cycle_open = false;
	if (!p->first_ns || c->gc_start_ns < p->first_ns)
		p->first_ns = c->gc_start_ns;
	p->last_ns = GP_MAX(p->last_ns, end);
	p->cycle_hist[gp_hist_bucket(end - c->gc_start_ns, GOPROF_GC_HIST_BUCKETS)]++;
	p->cycle_max_ns = GP_MAX(p->cycle_max_ns, end - c->gc_start_ns);
	for (int k = 0; k < 2; k++) {
		p->pauses++;
		p->pause_total_ns += pauses[k];
		p->pause_max_ns = GP_MAX(p->pause_max_ns, pauses[k]);
		p->pause_hist[gp_hist_bucket(pauses[k], GOPROF_GC_HIST_BUCKETS)]++;
	}
	if (!t->done) {
		t->done = malloc(GC_RECENT_CYCLES * sizeof(*t->done));
		if (!t->done)
			return -ENOMEM;
	}
	t->done[t->next_done] = (struct gc_done){ p->pid, c->gc_start_ns, end, { pauses[0], pauses[1] } };
	t->next_done = (t->next_done + 1) % GC_RECENT_CYCLES;
	t->nr_done = GP_MIN(t->nr_done + 1, (size_t)GC_RECENT_CYCLES);
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

void gp_gc_tracker_stats(const struct gp_gc_tracker *t, uint32_t pid, struct goprof_gc_stats *st)
{
	uint64_t *pauses = malloc((2 * t->nr_done + 1) * sizeof(*pauses));
	uint64_t *cycles = malloc((t->nr_done + 1) * sizeof(*cycles));
	size_t np = 0, nc = 0;

	for (size_t i = 0; i < t->nr_procs; i++) {
		const struct gc_proc *p = &t->procs[i];

		if (pid && p->pid != pid)
			continue;
		st->other_stw += p->other_stw;
		if (!p->cycles)
			continue;
		st->cycles += p->cycles;
		st->forced_cycles += p->forced;
		st->pauses += p->pauses;
		st->pause_total_ns += p->pause_total_ns;
		st->pause_max_ns = GP_MAX(st->pause_max_ns, p->pause_max_ns);
		st->cycle_max_ns = GP_MAX(st->cycle_max_ns, p->cycle_max_ns);
		if (!st->first_cycle_ns || p->first_ns < st->first_cycle_ns)
			st->first_cycle_ns = p->first_ns;
		st->last_cycle_ns = GP_MAX(st->last_cycle_ns, p->last_ns);
		for (int b = 0; b < GOPROF_GC_HIST_BUCKETS; b++) {
			st->pause_hist[b] += p->pause_hist[b];
			st->cycle_hist[b] += p->cycle_hist[b];
		}
	}
	/* Percentiles: over the recent cycles the ring holds. */
	for (size_t i = 0; i < t->nr_done; i++) {
		const struct gc_done *d = &t->done[i];

		if (pid && d->pid != pid)
			continue;
		if (cycles)
			cycles[nc++] = d->end - d->start;
		for (int k = 0; k < 2 && pauses; k++)
			pauses[np++] = d->pauses[k];
	}
	qsort(pauses, np, sizeof(*pauses), cmp_u64);
	qsort(cycles, nc, sizeof(*cycles), cmp_u64);
	st->pause_p50_ns = percentile(pauses, np, 50);
	st->pause_p90_ns = percentile(pauses, np, 90);
	st->pause_p99_ns = percentile(pauses, np, 99);
	st->cycle_p50_ns = percentile(cycles, nc, 50);
	free(pauses);
	free(cycles);
}
