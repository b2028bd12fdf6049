// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Public goroutine snapshot objects and their channels (see session.h). */
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "caps/gsnap/gs_types.h"
#include "profile/loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"
#include "go/wait_reasons.h"

/* ---- public snapshot objects ---- */

struct goprof_goroutine_snapshot {
	struct goprof_goroutine *gs;
	size_t nr;
	uint64_t *pcs;
	char **strs;
	size_t nr_strs, strs_cap;
	uint32_t *str_idx; /* open addressing: 1 + index into strs, 0 empty */
	size_t idx_cap;
	struct goprof_profile_label *labels;
	const struct goprof_profile_label **label_ptrs;
	struct goprof_snapshot_channel *chans;
	size_t nr_chans;
	struct goprof_goroutine_snapshot_info info;
};

/* The snapshot's own copy of str, one per distinct string. */
static const char *keep(struct goprof_goroutine_snapshot *s, const char *str)
{
	uint64_t h;
	size_t k;
	char *c;

	if (!str || !str[0])
		return "";
	if (2 * (s->nr_strs + 1) > s->idx_cap) {
		size_t cap = s->idx_cap ? 2 * s->idx_cap : 256;
		uint32_t *idx = calloc(cap, sizeof(*idx));

		if (!idx)
			return "";
		for (size_t i = 0; i < s->nr_strs; i++) {
			h = gp_hash_bytes(s->strs[i], strlen(s->strs[i]), 0);
			for (k = h & (cap - 1); idx[k]; k = (k + 1) & (cap - 1))
				;
			idx[k] = (uint32_t)i + 1;
		}
		free(s->str_idx);
		s->str_idx = idx;
		s->idx_cap = cap;
	}
	h = gp_hash_bytes(str, strlen(str), 0);
	for (k = h & (s->idx_cap - 1); s->str_idx[k]; k = (k + 1) & (s->idx_cap - 1))
		if (!strcmp(s->strs[s->str_idx[k] - 1], str))
			return s->strs[s->str_idx[k] - 1];
	if (s->nr_strs == s->strs_cap) {
		size_t cap = s->strs_cap ? 2 * s->strs_cap : 64;
		char **q = realloc(s->strs, cap * sizeof(*q));

		if (!q)
			return "";
		s->strs = q;
		s->strs_cap = cap;
	}
	c = strdup(str);
	if (!c)
		return "";
	s->strs[s->nr_strs++] = c;
	s->str_idx[k] = (uint32_t)s->nr_strs;
	return c;
}

static void snapshot_free(struct goprof_goroutine_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_strs; i++)
		free(s->strs[i]);
	free(s->strs);
	free(s->str_idx);
	free(s->gs);
	free(s->pcs);
	free(s->labels);
	free(s->label_ptrs);
	free(s->chans);
	free(s);
}

/* Appends p->buf to snapshot s. */
static int append(struct gp_gsnap *g, struct proc *p, struct goprof_goroutine_snapshot *s,
		  const uint64_t *wait, const uint8_t *least)
{
	const struct gp_gsnap_buf *b = &p->buf;
	size_t npcs = 0, nlab = 0, base_pcs, base_lab;
	struct goprof_goroutine *gs;
	uint64_t *pcs;

	for (size_t i = 0; i < b->nr; i++) {
		npcs += b->gs[i].nr_stack;
		nlab += b->gs[i].nr_labels;
	}
	/* pcs and labels are addressed by offset until the end (realloc moves them) */
	gs = realloc(s->gs, (s->nr + b->nr + 1) * sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	s->gs = gs;
	base_pcs = 0;
	for (size_t i = 0; i < s->nr; i++)
		base_pcs += s->gs[i].nr_stack;
	pcs = realloc(s->pcs, (base_pcs + npcs + 1) * sizeof(*pcs));
	if (!pcs)
		return -ENOMEM;
	s->pcs = pcs;
	base_lab = 0;
	for (size_t i = 0; i < s->nr; i++)
		base_lab += s->gs[i].nr_labels;
	{
		struct goprof_profile_label *l = realloc(s->labels, (base_lab + nlab + 1) * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->labels = l;
	}
	for (size_t i = 0; i < b->nr; i++) {
		const struct gp_gsnap_g *x = &b->gs[i];
		struct goprof_goroutine *o = &s->gs[s->nr++];
		char rb[64];

		if (x->nr_stack)
			memcpy(s->pcs + base_pcs, b->pcs + x->stack_off, x->nr_stack * sizeof(uint64_t));
		for (uint32_t k = 0; k < x->nr_labels; k++)
			s->labels[base_lab + k] = (struct goprof_profile_label){
				.sz = sizeof(struct goprof_profile_label),
				.key = keep(s, b->labels[x->labels_off + 2 * k]),
				.str = keep(s, b->labels[x->labels_off + 2 * k + 1]),
				.num_unit = "",
			};
		*o = (struct goprof_goroutine){
			.sz = sizeof(*o), .pid = (uint32_t)p->pid, .goid = x->goid,
			.parent_goid = x->parent_goid, .status = x->status,
			.wait_reason_code = x->waitreason,
			.wait_reason = keep(s, gs_reason_of(p, x, rb, sizeof(rb))),
			.wait_ns = wait ? wait[i] : 0, .creation_pc = x->gopc, .start_pc = x->startpc,
			.created_by = keep(s, gs_name_of(g, p, x->gopc, true)),
			.start_function = keep(s, gs_name_of(g, p, x->startpc, false)),
			.flags = (x->flags & GP_GSNAP_NO_STACK ? GOPROF_GOROUTINE_NO_STACK : 0) |
				 (x->flags & GP_GSNAP_STACK_TRUNCATED ? GOPROF_GOROUTINE_STACK_TRUNCATED : 0) |
				 (x->flags & GP_GSNAP_LABELS_TRUNCATED ? GOPROF_GOROUTINE_LABELS_TRUNCATED : 0) |
				 (least && least[i] && gs_waiting(x) ? GOPROF_GOROUTINE_WAIT_AT_LEAST : 0) |
				 (wait && gs_waiting(x) && wait[i] >= g->cfg.leak_age_ns ? GOPROF_GOROUTINE_LEAKED : 0),
			.nr_stack = x->nr_stack,
			.stack = (const uint64_t *)(uintptr_t)base_pcs, /* offset, fixed up at the end */
			.nr_labels = x->nr_labels,
			.labels = (const struct goprof_profile_label *const *)(uintptr_t)base_lab,
			.channel = x->chan,
		};
		base_pcs += x->nr_stack;
		base_lab += x->nr_labels;
	}
	return 0;
}

struct chan_ref {
	uint64_t chan;
	uint32_t idx;
};

static int cmp_chan(const void *a, const void *b)
{
	const struct chan_ref *x = a, *y = b;

	return x->chan < y->chan ? -1 : x->chan > y->chan ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The channels the goroutines of p->buf wait on, read from their hchan, into s. */
static int add_channels(struct gp_gsnap *g, struct proc *p, struct goprof_goroutine_snapshot *s,
			const uint64_t *wait)
{
	const struct gp_wait_reasons *wr = gp_gsnap_proc_wait_reasons(p->rd);
	struct chan_ref *refs;
	size_t n = 0;

	for (size_t i = 0; i < p->buf.nr; i++)
		n += p->buf.gs[i].chan != 0;
	if (!n || !wr)
		return 0;
	refs = malloc(n * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < p->buf.nr; i++)
		if (p->buf.gs[i].chan)
			refs[n++] = (struct chan_ref){ p->buf.gs[i].chan, (uint32_t)i };
	qsort(refs, n, sizeof(*refs), cmp_chan);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		struct goprof_snapshot_channel c = { .sz = sizeof(c), .pid = (uint32_t)p->pid,
						     .address = refs[i].chan, .site = "" };
		uint64_t h[4];
		struct goprof_snapshot_channel *q;

		for (; j < n && refs[j].chan == refs[i].chan; j++) {
			const struct gp_gsnap_g *x = &p->buf.gs[refs[j].idx];

			c.waiting_senders += x->waitreason == wr->chan_send;
			c.waiting_receivers += x->waitreason == wr->chan_recv;
			c.oldest_wait_ns = GP_MAX(c.oldest_wait_ns, wait[refs[j].idx]);
			for (uint32_t k = 0; k < x->nr_stack && !c.site[0]; k++) {
				const char *f = gs_name_of(g, p, p->buf.pcs[x->stack_off + k], false);

				if (f[0] && strncmp(f, "runtime.", 8))
					c.site = keep(s, f);
			}
		}
		i = j;
		/* a channel freed meanwhile reads as anything: only plausible ones */
		if (gp_gsnap_proc_read_mem(p->rd, c.address, h, sizeof(h)) || h[0] > h[1] ||
		    h[1] > (1ull << 40))
			continue;
		c.occupancy = h[0];
		c.capacity = h[1];
		c.closed = ((const uint32_t *)h)[GP_HCHAN_CLOSED / 4] != 0;
		q = realloc(s->chans, (s->nr_chans + 1) * sizeof(*q));
		if (!q) {
			free(refs);
			return -ENOMEM;
		}
		s->chans = q;
		s->chans[s->nr_chans++] = c;
	}
	free(refs);
	return 0;
}

GOPROF_API int goprof_goroutine_snapshot_foreach_channel(const struct goprof_goroutine_snapshot *s,
							 goprof_snapshot_channel_fn fn, void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_goroutine_snapshot_foreach_channel: NULL argument");
	for (size_t i = 0; i < s->nr_chans; i++) {
		int r = fn(&s->chans[i], ctx);

		if (r)
			return r;
	}
	return 0;
}

struct goprof_goroutine_snapshot *gp_gsnap_take(struct gp_gsnap *g, const struct gp_gsnap_target *t,
						size_t n)
{
	struct goprof_goroutine_snapshot *s = calloc(1, sizeof(*s));
	uint64_t t0 = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC), cpu0 = gs_thread_cpu_ns();
	uint64_t *wait = NULL, rs_retries = g->rs.retries, rs_changed = g->rs.changed;
	uint64_t rs_rejected = g->rs.rejected;
	uint8_t *least = NULL;
	size_t nlab = 0;
	int err = 0, last_err = 0;
	char why[200] = "";

	if (!s)
		return gp_err_null(-ENOMEM, "out of memory");
	s->info.time_ns = t0;
	for (size_t i = 0; i < n && !err; i++) {
		struct proc *p = gs_get(g, &t[i], t0);
		int e;

		if (!p) {
			err = -ENOMEM;
			break;
		}
		e = gs_read_proc(g, p, true);
		if (e) {
			last_err = e == -ENOENT && !p->rd ? -ENOENT : e;
			gp_strlcpy(why, p->note, sizeof(why));
			s->info.failed++;
			continue;
		}
		s->info.processes++;
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || gs_update_waits(p, t0, wait, least) || append(g, p, s, wait, least) ||
		    add_channels(g, p, s, wait))
			err = -ENOMEM;
	}
	free(wait);
	free(least);
	g->cpu_ns += gs_thread_cpu_ns() - cpu0;
	if (!err && !s->info.processes && last_err) {
		snapshot_free(s);
		return gp_err_null(last_err, "goroutine snapshot: %s", why);
	}
	if (err) {
		snapshot_free(s);
		return gp_err_null(err, "goroutine snapshot: out of memory");
	}
	for (size_t i = 0; i < s->nr; i++)
		nlab += s->gs[i].nr_labels;
	s->label_ptrs = calloc(nlab + 1, sizeof(*s->label_ptrs));
	if (!s->label_ptrs) {
		snapshot_free(s);
		return gp_err_null(-ENOMEM, "goroutine snapshot: out of memory");
	}
	for (size_t i = 0; i < nlab; i++)
		s->label_ptrs[i] = &s->labels[i];
	for (size_t i = 0; i < s->nr; i++) {
		s->gs[i].stack = s->pcs + (uintptr_t)s->gs[i].stack;
		s->gs[i].labels = s->label_ptrs + (uintptr_t)s->gs[i].labels;
	}
	s->info.goroutines = s->nr;
	s->info.duration_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC) - t0;
	s->info.retries = g->rs.retries - rs_retries;
	s->info.changed = g->rs.changed - rs_changed;
	s->info.rejected = g->rs.rejected - rs_rejected;
	return s;
}

GOPROF_API int goprof_goroutine_snapshot_foreach(const struct goprof_goroutine_snapshot *s,
						 goprof_goroutine_fn fn, void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_goroutine_snapshot_foreach: NULL argument");
	for (size_t i = 0; i < s->nr; i++) {
		int r = fn(&s->gs[i], ctx);

		if (r)
			return r;
	}
	return 0;
}

GOPROF_API int goprof_goroutine_snapshot_info(const struct goprof_goroutine_snapshot *s,
					      struct goprof_goroutine_snapshot_info *info)
{
	gp_clear_error();
	if (!s || !info || info->sz < sizeof(info->sz))
		return gp_err(-EINVAL, "goprof_goroutine_snapshot_info: NULL argument or info->sz not set");
	{
		uint32_t sz = (uint32_t)GP_MIN((size_t)info->sz, sizeof(s->info));

		memcpy(info, &s->info, sz);
		info->sz = sz;
	}
	return 0;
}

GOPROF_API void goprof_goroutine_snapshot_free(struct goprof_goroutine_snapshot *s)
{
	snapshot_free(s);
}

