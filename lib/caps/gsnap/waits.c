// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Wait times across snapshots and the wait profile they sample (see gsnap.h). */
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "caps/gsnap/gs_types.h"
#include "profile/loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"
#include "go/wait_reasons.h"

/* ---- wait times ---- */

struct track *gs_track_find(struct track *t, size_t cap, uint64_t goid)
{
	if (!cap)
		return NULL;
	for (size_t i = gp_hash_mix(0, goid) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (!t[i].used)
			return NULL;
		if (t[i].goid == goid)
			return &t[i];
	}
}

/*
 * Wait times of the goroutines in p->buf from the previous snapshot's table; the table
 * is rebuilt with the parked goroutines of this one. wait[i] and at_least[i] per goroutine.
 */
int gs_update_waits(struct proc *p, uint64_t now, uint64_t *wait, uint8_t *at_least)
{
	size_t cap = 16, n = p->buf.nr;
	struct track *nt;

	while (cap < 2 * n + 2)
		cap *= 2;
	nt = calloc(cap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct gp_gsnap_g *x = &p->buf.gs[i];
		struct track *old, *slot;
		uint64_t since = now;
		uint8_t least = p->snapshots == 0;
		size_t k;

		wait[i] = 0;
		at_least[i] = 0;
		if (!gs_waiting(x))
			continue;
		old = gs_track_find(p->tr, p->tr_cap, x->goid);
		/* the same wait: same reason, same depth, and the same stack contents (a
		 * goroutine that ran and parked again at the same place has other locals) or
		 * the same GC timestamp of the wait (the runtime clears it when the goroutine
		 * runs; it covers a stack the GC shrank meanwhile) */
		if (old && old->reason == x->waitreason && old->depth == x->depth &&
		    (old->content == x->content || (x->waitsince && x->waitsince == old->waitsince))) {
			since = old->since_ns;
			least = old->at_least;
		} else if (old || p->snapshots) {
			least = 1; /* parked some time since the previous snapshot */
		}
		/* the GC's timestamp of the wait (nanotime: CLOCK_MONOTONIC), when it is older */
		if (x->waitsince > 0 && (uint64_t)x->waitsince < since)
			since = (uint64_t)x->waitsince;
		for (k = gp_hash_mix(0, x->goid) & (cap - 1); nt[k].used; k = (k + 1) & (cap - 1))
			;
		slot = &nt[k];
		*slot = (struct track){ x->goid, since, x->depth, x->content, x->waitsince,
					x->waitreason, least, 1 };
		wait[i] = now - since;
		at_least[i] = least;
	}
	free(p->tr);
	p->tr = nt;
	p->tr_cap = cap;
	p->snapshots++;
	return 0;
}

/* ---- the wait profile ---- */

void gs_wait_reset(struct proc *p)
{
	p->nr_wa = p->nr_wpcs = 0;
	if (p->wa_idx)
		memset(p->wa_idx, 0, p->wa_idx_cap * sizeof(*p->wa_idx));
}

static int wagg_add(struct proc *p, const struct gp_gsnap_g *x, uint64_t dt)
{
	uint64_t h = gp_hash_mix(gs_stack_hash(&p->buf, x), x->waitreason);
	struct wagg *w;
	size_t k;

	if (2 * (p->nr_wa + 1) > p->wa_idx_cap) {
		size_t cap = p->wa_idx_cap ? 2 * p->wa_idx_cap : 256;
		uint32_t *idx = calloc(cap, sizeof(*idx));

		if (!idx)
			return -ENOMEM;
		for (size_t i = 0; i < p->nr_wa; i++) {
			for (k = p->wa[i].hash & (cap - 1); idx[k]; k = (k + 1) & (cap - 1))
				;
			idx[k] = (uint32_t)i + 1;
		}
		free(p->wa_idx);
		p->wa_idx = idx;
		p->wa_idx_cap = cap;
	}
	for (k = h & (p->wa_idx_cap - 1); p->wa_idx[k]; k = (k + 1) & (p->wa_idx_cap - 1)) {
		w = &p->wa[p->wa_idx[k] - 1];
		if (w->hash == h && w->reason == x->waitreason && w->nr_pcs == x->nr_stack &&
		    !memcmp(p->wpcs + w->pcs_off, p->buf.pcs + x->stack_off, x->nr_stack * 8)) {
			w->samples++;
			w->delay_ns += dt;
			return 0;
		}
	}
	if (gp_grow((void **)&p->wa, &p->wa_cap, p->nr_wa + 1, sizeof(*p->wa)) ||
	    gp_grow((void **)&p->wpcs, &p->wpcs_cap, p->nr_wpcs + x->nr_stack, sizeof(*p->wpcs)))
		return -ENOMEM;
	w = &p->wa[p->nr_wa++];
	*w = (struct wagg){ h, 1, dt, (uint32_t)p->nr_wpcs, x->nr_stack, x->waitreason };
	memcpy(p->wpcs + p->nr_wpcs, p->buf.pcs + x->stack_off, x->nr_stack * 8);
	p->nr_wpcs += x->nr_stack;
	p->wa_idx[k] = (uint32_t)p->nr_wa;
	return 0;
}

/* Adds the parked goroutines of the snapshot in p->buf, each for the time since the last. */
void gs_wait_sample(struct proc *p, uint64_t now)
{
	uint64_t dt = p->last_tick_ns ? now - p->last_tick_ns : 0;

	p->last_tick_ns = now;
	for (size_t i = 0; dt && i < p->buf.nr; i++)
		if (gs_waiting(&p->buf.gs[i]) && p->buf.gs[i].nr_stack &&
		    wagg_add(p, &p->buf.gs[i], dt))
			break;
}

struct goprof_profile *gp_gsnap_wait_profile(struct gp_gsnap *g, bool reset)
{
	static const struct gp_value_type types[] = { { "waits", "count" }, { "delay", "nanoseconds" } };
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.default_sample_type = "delay" };
	struct goprof_profile *prof = gp_profile_new(&desc);
	struct gp_loc_resolver r;
	int err = 0;

	if (!prof)
		return gp_err_null(-ENOMEM, "out of memory building the goroutine wait profile");
	gp_loc_resolver_init(&r, g->sym, prof);
	for (size_t i = 0; i < g->nr_procs && !err; i++) {
		struct proc *p = &g->procs[i];

		for (size_t j = 0; j < p->nr_wa && !err; j++) {
			const struct wagg *w = &p->wa[j];
			uint32_t ids[GP_GSNAP_MAX_FRAMES], n = 0;
			int64_t v[2] = { (int64_t)w->samples, (int64_t)w->delay_ns };
			char rb[64];
			struct gp_label_in lab[2] = {
				{ .key = "wait_reason", .str = gp_wait_reason_name(
					p->rd ? gp_gsnap_proc_wait_reasons(p->rd) : NULL, w->reason, rb,
					sizeof(rb)) },
				{ .key = "pid", .num = p->pid },
			};
			struct gp_sample_in s = { .values = v, .labels = lab, .nr_labels = 2 };

			err = gp_loc_resolve_user_stack(&r, (uint32_t)p->pid, p->wpcs + w->pcs_off,
							w->nr_pcs, true, ids, &n);
			s.locations = ids;
			s.nr_locations = n;
			if (!err)
				err = gp_profile_add_sample(prof, &s);
		}
		if (reset)
			gs_wait_reset(p);
	}
	gp_loc_resolver_fini(&r);
	if (err) {
		goprof_profile_free(prof);
		return gp_err_null(err, "building the goroutine wait profile failed: %s", strerror(-err));
	}
	gp_profile_set_time(prof, gp_clock_ns(CLOCK_REALTIME), 0);
	return prof;
}

