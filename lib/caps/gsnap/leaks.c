// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Leak groups of goroutine snapshots: creation site + wait reason + stack, growth (see gsnap.h). */
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "caps/gsnap/gs_types.h"
#include "profile/loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"
#include "go/wait_reasons.h"

void gs_free_groups(struct proc *p)
{
	for (size_t i = 0; i < p->nr_groups; i++) {
		free(p->groups[i].created_by);
		free(p->groups[i].top_function);
		free(p->groups[i].stack);
	}
	free(p->groups);
	p->groups = NULL;
	p->nr_groups = 0;
}

/* ---- leak groups ---- */

uint64_t gs_stack_hash(const struct gp_gsnap_buf *b, const struct gp_gsnap_g *x)
{
	return gp_hash_bytes(b->pcs + x->stack_off, x->nr_stack * sizeof(uint64_t), x->nr_stack);
}

struct ord {
	uint64_t gopc, hash;
	uint32_t idx;
	uint8_t reason;
};

static int cmp_ord(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;

	if (x->gopc != y->gopc)
		return x->gopc < y->gopc ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The folded wait stack (root first) and its innermost frame outside the runtime. */
static void describe(struct gp_gsnap *g, struct proc *p, const struct gp_gsnap_g *x,
		     char **stack, char **top)
{
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	const char *t = "";

	*stack = s;
	*top = NULL;
	if (!s)
		return;
	s[0] = '\0';
	for (uint32_t i = x->nr_stack; i-- > 0;) {
		const char *f = gs_name_of(g, p, p->buf.pcs[x->stack_off + i], false);

		/* names of return addresses: looked up without line */
		len += (size_t)snprintf(s + len, len < cap ? cap - len : 0, "%s%s", len ? ";" : "",
					f[0] ? f : "?");
		if (len >= cap)
			len = cap - 1;
	}
	for (uint32_t i = 0; i < x->nr_stack; i++) {
		const char *f = gs_name_of(g, p, p->buf.pcs[x->stack_off + i], false);

		if (f[0] && strncmp(f, "runtime.", 8)) {
			t = f;
			break;
		}
	}
	*top = strdup(t);
}

void gs_fill_leak(struct proc *p, const struct group *gr, struct goprof_goroutine_leak *l,
		      char *reason_buf, size_t rlen)
{
	uint64_t dt = gr->last_seen_ns - gr->first_seen_ns;

	*l = (struct goprof_goroutine_leak){
		.sz = sizeof(*l), .pid = (uint32_t)p->pid, .count = gr->count, .parked = gr->parked,
		.first_count = gr->first_count, .first_seen_ns = gr->first_seen_ns,
		.last_seen_ns = gr->last_seen_ns,
		.growth_per_min = dt ? (int64_t)(((double)gr->parked - (double)gr->first_count) *
						 60e9 / (double)dt) : 0,
		.oldest_wait_ns = gr->oldest_ns, .creation_pc = gr->gopc,
		.example_goid = gr->example,
		.created_by = gr->created_by ? gr->created_by : "",
		.wait_reason = gp_wait_reason_name(p->rd ? gp_gsnap_proc_wait_reasons(p->rd) : NULL,
						   gr->reason, reason_buf, rlen),
		.top_function = gr->top_function ? gr->top_function : "",
		.stack = gr->stack ? gr->stack : "",
	};
}

int gs_update_groups(struct gp_gsnap *g, struct proc *p, uint64_t now, const uint64_t *wait,
			 gp_gsnap_event_fn fn, void *ctx)
{
	size_t n = 0, kept = 0;
	struct ord *o = malloc((p->buf.nr + 1) * sizeof(*o));
	int ret = 0;

	if (!o)
		return 0;
	for (size_t i = 0; i < p->buf.nr; i++) {
		const struct gp_gsnap_g *x = &p->buf.gs[i];

		if (gs_waiting(x) && x->nr_stack)
			o[n++] = (struct ord){ x->gopc, gs_stack_hash(&p->buf, x), (uint32_t)i, x->waitreason };
	}
	qsort(o, n, sizeof(*o), cmp_ord);
	for (size_t i = 0; i < p->nr_groups; i++)
		p->groups[i].seen = false;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t count = 0, oldest = 0, example = 0;
		struct group *gr = NULL;

		for (; j < n && o[j].gopc == o[i].gopc && o[j].reason == o[i].reason &&
		       o[j].hash == o[i].hash; j++) {
			uint64_t w = wait[o[j].idx];

			if (w >= g->cfg.leak_age_ns) {
				count++;
				if (w >= oldest) {
					oldest = w;
					example = p->buf.gs[o[j].idx].goid;
				}
			}
		}
		for (size_t k = 0; k < p->nr_groups && !gr; k++)
			if (p->groups[k].gopc == o[i].gopc && p->groups[k].reason == o[i].reason &&
			    p->groups[k].stack_hash == o[i].hash)
				gr = &p->groups[k];
		if (!gr && p->nr_groups < MAX_GROUPS) {
			struct group *q = realloc(p->groups, (p->nr_groups + 1) * sizeof(*q));

			if (q) {
				p->groups = q;
				gr = &q[p->nr_groups++];
				*gr = (struct group){ .gopc = o[i].gopc, .stack_hash = o[i].hash,
						      .reason = o[i].reason, .first_count = j - i,
						      .first_seen_ns = now };
			}
		}
		if (gr) {
			gr->seen = true;
			gr->parked = j - i;
			gr->count = count;
			gr->oldest_ns = oldest;
			gr->example = example;
			gr->last_seen_ns = now;
			if (count && !gr->stack) {
				const char *start = gs_name_of(g, p, p->buf.gs[o[i].idx].startpc, false);

				gr->created_by = strdup(gs_name_of(g, p, gr->gopc, true));
				describe(g, p, &p->buf.gs[o[i].idx], &gr->stack, &gr->top_function);
				/* as Go's isSystemGoroutine: started in the runtime, not runtime.main */
				gr->system = !strncmp(start, "runtime.", 8) && strcmp(start, "runtime.main");
			}
		}
		i = j;
	}
	free(o);
	/* groups no longer parked are gone (the goroutines ended or moved on) */
	for (size_t i = 0; i < p->nr_groups; i++) {
		if (!p->groups[i].seen) {
			free(p->groups[i].created_by);
			free(p->groups[i].top_function);
			free(p->groups[i].stack);
			continue;
		}
		p->groups[kept++] = p->groups[i];
	}
	p->nr_groups = kept;
	/* events: a new leak group, or one grown by 10% (and at least 1) since reported */
	for (size_t i = 0; fn && i < p->nr_groups && ret >= 0; i++) {
		struct group *gr = &p->groups[i];
		struct goprof_goroutine_leak l;
		char rb[64], msg[512];

		if (!gr->count || gr->system || gr->count <= gr->reported + gr->reported / 10)
			continue;
		gs_fill_leak(p, gr, &l, rb, sizeof(rb));
		snprintf(msg, sizeof(msg), "%llu goroutines parked over %.0f s in %s [%s], created "
			 "by %s; %llu parked now (%+lld per minute)", (unsigned long long)l.count,
			 (double)g->cfg.leak_age_ns / 1e9, l.top_function[0] ? l.top_function : "?",
			 l.wait_reason, l.created_by[0] ? l.created_by : "?",
			 (unsigned long long)l.parked, (long long)l.growth_per_min);
		gr->reported = gr->count;
		{
			struct goprof_event ev = {
				.sz = sizeof(ev), .type = GOPROF_EVENT_GOROUTINE_LEAK,
				.pid = (uint32_t)p->pid, .time_ns = now, .goid = l.example_goid,
				.message = msg, .leak = &l,
			};

			ret = fn(&ev, ctx);
		}
	}
	return ret < 0 ? ret : 0;
}

struct leak_ref {
	struct proc *p;
	struct group *gr;
};

static int cmp_leak(const void *a, const void *b)
{
	const struct leak_ref *x = a, *y = b;

	return x->gr->count < y->gr->count ? 1 : x->gr->count > y->gr->count ? -1 : 0;
}

int gp_gsnap_foreach_leak(struct gp_gsnap *g, goprof_goroutine_leak_fn fn, void *ctx)
{
	size_t n = 0, k = 0;
	struct leak_ref *refs;
	int ret = 0;

	for (size_t i = 0; i < g->nr_procs; i++)
		n += g->procs[i].nr_groups;
	refs = calloc(n + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < g->nr_procs; i++)
		for (size_t j = 0; j < g->procs[i].nr_groups; j++)
			if (g->procs[i].groups[j].count && !g->procs[i].groups[j].system)
				refs[k++] = (struct leak_ref){ &g->procs[i], &g->procs[i].groups[j] };
	qsort(refs, k, sizeof(*refs), cmp_leak);
	for (size_t i = 0; i < k && !ret; i++) {
		struct goprof_goroutine_leak l;
		char rb[64];

		gs_fill_leak(refs[i].p, refs[i].gr, &l, rb, sizeof(rb));
		ret = fn(&l, ctx);
	}
	free(refs);
	return ret;
}

