// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine snapshots for the session: the processes, the schedule, the goroutine
 * profile, counters (see gsnap.h; names.c, leaks.c, waits.c and snapshot.c do the rest). */
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "caps/gsnap/gs_types.h"
#include "profile/loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"
#include "go/wait_reasons.h"

#define REOPEN_NS 5000000000ull /* a process whose reader failed to open: tried again */
#define MAX_INTERVAL_NS (60ull * 1000000000ull)

struct gp_gsnap *gp_gsnap_new(struct goprof_symbolizer *sym, const struct gp_gsnap_config *cfg)
{
	struct gp_gsnap *g = calloc(1, sizeof(*g));

	if (!g)
		return gp_err_null(-ENOMEM, "out of memory");
	g->sym = sym;
	g->cfg = *cfg;
	g->interval_ns = cfg->interval_ns;
	return g;
}

static void proc_fini(struct proc *p)
{
	gp_gsnap_proc_close(p->rd);
	gp_gsnap_buf_free(&p->buf);
	free(p->tr);
	gs_free_groups(p);
	for (size_t i = 0; i < p->names_cap; i++)
		free(p->names[i].s);
	free(p->names);
	free(p->wa);
	free(p->wa_idx);
	free(p->wpcs);
}

void gp_gsnap_free(struct gp_gsnap *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nr_procs; i++)
		proc_fini(&g->procs[i]);
	free(g->procs);
	free(g);
}

static struct proc *find(struct gp_gsnap *g, int pid)
{
	for (size_t i = 0; i < g->nr_procs; i++)
		if (g->procs[i].pid == pid)
			return &g->procs[i];
	return NULL;
}

void gp_gsnap_forget_pid(struct gp_gsnap *g, int pid)
{
	struct proc *p = g ? find(g, pid) : NULL;

	if (!p)
		return;
	proc_fini(p);
	*p = g->procs[--g->nr_procs];
}

const char *gp_gsnap_note(struct gp_gsnap *g, int pid)
{
	struct proc *p = g ? find(g, pid) : NULL;

	return p ? p->note : "";
}

struct proc *gs_get(struct gp_gsnap *g, const struct gp_gsnap_target *t, uint64_t now)
{
	struct proc *p = find(g, t->pid);

	if (!p) {
		if (gp_grow((void **)&g->procs, &g->procs_cap, g->nr_procs + 1, sizeof(*g->procs)))
			return NULL;
		p = &g->procs[g->nr_procs++];
		memset(p, 0, sizeof(*p));
		p->pid = t->pid;
	}
	if (!p->rd && now >= p->retry_ns) {
		uint64_t c0 = (uint64_t)gp_clock_ns(CLOCK_THREAD_CPUTIME_ID);

		p->rd = gp_gsnap_proc_open(t->pid, t->validated, p->note, sizeof(p->note));
		g->open_cpu_ns += (uint64_t)gp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (!p->rd)
			p->retry_ns = now + REOPEN_NS;
		else
			p->note[0] = '\0';
	}
	return p;
}

/* ---- reading ---- */

static bool known_stack(void *ctx, uint64_t goid, uint64_t depth, uint64_t content)
{
	struct proc *p = ctx;
	struct track *t = gs_track_find(p->tr, p->tr_cap, goid);

	return t && t->depth == depth && t->content == content;
}

/* Reads one process into p->buf; 0 or a negative errno (p->note says why). */
int gs_read_proc(struct gp_gsnap *g, struct proc *p, bool labels)
{
	struct gp_gsnap_read_stats st = { 0 };
	int err;

	if (!p->rd)
		return -ENOENT;
	err = gp_gsnap_proc_read(p->rd, &p->buf, true, labels, known_stack, p, &st, p->note,
				 sizeof(p->note));
	g->rs.allglen += st.allglen;
	g->rs.read += st.read;
	g->rs.live += st.live;
	g->rs.retries += st.retries;
	g->rs.changed += st.changed;
	g->rs.rejected += st.rejected;
	g->rs.unreadable += st.unreadable;
	g->rs.bytes += st.bytes;
	g->rs.syscalls += st.syscalls;
	g->snapshots++;
	if (err) {
		g->failed++;
		if (err == -ESTALE || err == -EPROTO || err == -EFAULT) {
			/* another image, or a list that makes no sense: locate it again later */
			gp_gsnap_proc_close(p->rd);
			p->rd = NULL;
			p->retry_ns = 0;
			free(p->tr);
			p->tr = NULL;
			p->tr_cap = 0;
			p->snapshots = 0;
			gs_free_groups(p);
		}
		return err;
	}
	return 0;
}

int gp_gsnap_tick(struct gp_gsnap *g, const struct gp_gsnap_target *t, size_t n, uint64_t now,
		  gp_gsnap_event_fn fn, void *ctx)
{
	uint64_t cpu0, cost, *wait = NULL;
	uint8_t *least = NULL;
	int ret = 0;

	if (now < g->next_ns)
		return 0;
	cpu0 = gs_thread_cpu_ns();
	g->open_cpu_ns = 0;
	for (size_t i = 0; i < n && ret >= 0; i++) {
		struct proc *p = gs_get(g, &t[i], now);

		if (!p || gs_read_proc(g, p, false))
			continue;
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || gs_update_waits(p, now, wait, least))
			break;
		ret = gs_update_groups(g, p, now, wait, fn, ctx);
		gs_wait_sample(p, now);
	}
	free(wait);
	free(least);
	/* The next one: at least the interval, longer if this one cost more than the budget. */
	cost = gs_thread_cpu_ns() - cpu0;
	g->cpu_ns += cost;
	/* opening a reader (the binary, once per process) is not the steady rate's cost */
	cost -= GP_MIN(cost, g->open_cpu_ns);
	g->interval_ns = GP_MAX(g->cfg.interval_ns, cost * 10000 / GP_MAX(g->cfg.budget_bp, 1u));
	g->interval_ns = GP_MIN(g->interval_ns, MAX_INTERVAL_NS);
	g->next_ns = now + g->interval_ns;
	return ret < 0 ? ret : 0;
}

/* ---- profile ---- */

static int add_proc_samples(struct gp_gsnap *g, struct proc *p, struct goprof_profile *prof,
			    struct gp_loc_resolver *r, const uint64_t *wait, uint64_t min_age_ns)
{
	uint32_t ids[GP_GSNAP_MAX_FRAMES];
	struct gp_label_in lab[64 + 4];
	int err = 0;

	for (size_t i = 0; i < p->buf.nr && !err; i++) {
		const struct gp_gsnap_g *x = &p->buf.gs[i];
		int64_t one = 1;
		uint32_t n = 0, nl = 0;
		char rb[64];
		struct gp_sample_in s = { .values = &one, .labels = lab };

		if (min_age_ns && (!gs_waiting(x) || wait[i] < min_age_ns))
			continue;
		if (x->nr_stack) {
			err = gp_loc_resolve_user_stack(r, (uint32_t)p->pid, p->buf.pcs + x->stack_off,
							x->nr_stack, true, ids, &n);
			if (err)
				break;
		}
		for (uint32_t k = 0; k < x->nr_labels && nl < 64; k++)
			lab[nl++] = (struct gp_label_in){ .key = p->buf.labels[x->labels_off + 2 * k],
							  .str = p->buf.labels[x->labels_off + 2 * k + 1] };
		lab[nl++] = (struct gp_label_in){ .key = "pid", .num = p->pid };
		if (min_age_ns) {
			int64_t growth = 0;
			uint64_t h = x->nr_stack ? gs_stack_hash(&p->buf, x) : 0;

			for (size_t k = 0; k < p->nr_groups; k++)
				if (p->groups[k].gopc == x->gopc && p->groups[k].reason == x->waitreason &&
				    p->groups[k].stack_hash == h) {
					struct goprof_goroutine_leak l;
					char b2[64];

					gs_fill_leak(p, &p->groups[k], &l, b2, sizeof(b2));
					growth = l.growth_per_min;
				}
			lab[nl++] = (struct gp_label_in){ .key = "wait_reason",
							  .str = gs_reason_of(p, x, rb, sizeof(rb)) };
			lab[nl++] = (struct gp_label_in){ .key = "created_by",
							  .str = gs_name_of(g, p, x->gopc, true) };
			lab[nl++] = (struct gp_label_in){ .key = "growth_per_min", .num = growth };
		}
		s.locations = ids;
		s.nr_locations = n;
		s.nr_labels = nl;
		err = gp_profile_add_sample(prof, &s);
	}
	return err;
}

struct goprof_profile *gp_gsnap_profile(struct gp_gsnap *g, const struct gp_gsnap_target *t, size_t n,
					uint64_t min_age_ns)
{
	static const struct gp_value_type types[] = { { "goroutine", "count" } };
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 1,
					.period_type = { "goroutine", "count" }, .period = 1,
					.default_sample_type = "goroutine" };
	struct goprof_profile *prof = gp_profile_new(&desc);
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC), cpu0 = gs_thread_cpu_ns(), *wait = NULL;
	uint8_t *least = NULL;
	struct gp_loc_resolver r;
	int err = 0;

	if (!prof)
		return gp_err_null(-ENOMEM, "out of memory building the goroutine profile");
	gp_loc_resolver_init(&r, g->sym, prof);
	for (size_t i = 0; i < n && !err; i++) {
		struct proc *p = gs_get(g, &t[i], now);

		if (!p) {
			err = -ENOMEM;
			break;
		}
		if (gs_read_proc(g, p, true))
			continue; /* noted in the process's note */
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || gs_update_waits(p, now, wait, least)) {
			err = -ENOMEM;
			break;
		}
		gs_update_groups(g, p, now, wait, NULL, NULL);
		err = add_proc_samples(g, p, prof, &r, wait, min_age_ns);
	}
	free(wait);
	free(least);
	gp_loc_resolver_fini(&r);
	g->cpu_ns += gs_thread_cpu_ns() - cpu0;
	if (err) {
		goprof_profile_free(prof);
		return gp_err_null(err, "building the goroutine profile failed: %s", strerror(-err));
	}
	gp_profile_set_time(prof, gp_clock_ns(CLOCK_REALTIME), 0);
	return prof;
}

void gp_gsnap_stats(const struct gp_gsnap *g, struct goprof_session_stats *st)
{
	uint32_t groups = 0;

	for (size_t i = 0; i < g->nr_procs; i++)
		for (size_t j = 0; j < g->procs[i].nr_groups; j++)
			groups += g->procs[i].groups[j].count > 0 && !g->procs[i].groups[j].system;
	st->goroutine_snapshots = g->snapshots;
	st->goroutine_snapshots_failed = g->failed;
	st->snapshot_goroutines_read = g->rs.live;
	st->snapshot_retries = g->rs.retries;
	st->snapshot_changed = g->rs.changed;
	st->snapshot_rejected = g->rs.rejected;
	st->snapshot_cpu_ns = g->cpu_ns;
	st->snapshot_bytes_read = g->rs.bytes;
	st->snapshot_interval_ms = (uint32_t)(g->interval_ns / 1000000);
	st->goroutine_leak_groups = groups;
}
