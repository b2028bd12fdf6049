// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine snapshots for the session: schedule, wait times, leak groups (see gsnap.h). */
#include <stdio.h>
#include <stdlib.h>

#include "goprof/profile.h"
#include "goprof/symbolizer.h"
#include "gsnap/gsnap.h"
#include "gsnap/reader.h"
#include "loc_resolver.h"
#include "profile/idmap.h"
#include "profile/profile_internal.h"
#include "wait_reasons.h"

#define REOPEN_NS 5000000000ull /* a process whose reader failed to open: tried again */
#define MAX_GROUPS 4096         /* leak groups kept per process */
#define MAX_INTERVAL_NS (60ull * 1000000000ull)
#define NAME_LEN 256

/* When a parked goroutine was first seen in its current wait. */
struct track {
	uint64_t goid, since_ns, depth, content;
	int64_t waitsince;
	uint8_t reason, at_least, used;
};

struct group {
	uint64_t gopc, stack_hash;
	uint8_t reason;
	uint64_t count, parked, first_count, first_seen_ns, last_seen_ns, oldest_ns, example;
	uint64_t reported; /* count last sent in an event */
	char *created_by, *top_function, *stack;
	bool seen;   /* in the latest snapshot */
	bool system; /* the runtime's own goroutines (GC workers, finalizers...): never leaks */
};

struct name {
	uint64_t pc;
	char *s;
};

/* Time goroutines spent parked at one stack and wait reason, sampled by snapshots. */
struct wagg {
	uint64_t hash, samples, delay_ns;
	uint32_t pcs_off, nr_pcs; /* into proc.wpcs */
	uint8_t reason;
};

struct proc {
	int pid;
	/* the wait profile (periodic snapshots): each parked goroutine's stack weighted by
	 * the time since the previous snapshot */
	struct wagg *wa;
	size_t nr_wa, wa_cap;
	uint32_t *wa_idx; /* open addressing: 1 + index into wa */
	size_t wa_idx_cap;
	uint64_t *wpcs;
	size_t nr_wpcs, wpcs_cap;
	uint64_t last_tick_ns;
	struct gp_gsnap_proc *rd;
	char note[200];
	uint64_t retry_ns;
	struct gp_gsnap_buf buf;
	struct track *tr;
	size_t tr_cap; /* power of two, 0: no snapshot yet */
	uint64_t snapshots;
	struct group *groups;
	size_t nr_groups;
	struct name *names; /* pc -> "function (file:line)" / "function" (open addressing) */
	size_t names_cap, nr_names;
	bool present;
};

struct gp_gsnap {
	struct goprof_symbolizer *sym;
	struct gp_gsnap_config cfg;
	struct proc *procs;
	size_t nr_procs, procs_cap;
	uint64_t next_ns, interval_ns;
	struct gp_gsnap_read_stats rs;
	uint64_t snapshots, failed, cpu_ns;
	uint64_t open_cpu_ns; /* of the readers opened in the current tick (once per process) */
};

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

static void free_groups(struct proc *p)
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

static void proc_fini(struct proc *p)
{
	gp_gsnap_proc_close(p->rd);
	gp_gsnap_buf_free(&p->buf);
	free(p->tr);
	free_groups(p);
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

static int grow_arr(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
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

static struct proc *get(struct gp_gsnap *g, const struct gp_gsnap_target *t, uint64_t now)
{
	struct proc *p = find(g, t->pid);

	if (!p) {
		if (g->nr_procs == g->procs_cap) {
			size_t cap = g->procs_cap ? 2 * g->procs_cap : 8;
			struct proc *q = realloc(g->procs, cap * sizeof(*q));

			if (!q)
				return NULL;
			g->procs = q;
			g->procs_cap = cap;
		}
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

/* ---- names ---- */

struct sym_ctx {
	char *out;
	size_t len;
	bool with_line;
};

static int take_frame(const struct goprof_frame *f, void *ctx)
{
	struct sym_ctx *c = ctx;

	/* the physical (outermost) frame of the address names the function; the innermost
	 * gives the line of the call */
	if (f->frame_index + 1 != f->nframes)
		return 0;
	if (c->with_line && f->file && f->line)
		snprintf(c->out, c->len, "%s (%s:%u)", f->function, f->file, f->line);
	else
		snprintf(c->out, c->len, "%s", f->function);
	return 0;
}

/* "function (file:line)" of a return address (with_line), or "function" of an entry. */
static const char *name_of(struct gp_gsnap *g, struct proc *p, uint64_t pc, bool with_line)
{
	uint64_t key = pc << 1 | with_line, addr = with_line && pc ? pc - 1 : pc;
	char buf[NAME_LEN] = "";
	struct sym_ctx c = { buf, sizeof(buf), with_line };
	size_t i;

	if (!pc)
		return "";
	if (p->nr_names * 2 >= p->names_cap) {
		size_t cap = p->names_cap ? p->names_cap * 2 : 256;
		struct name *n = calloc(cap, sizeof(*n));

		if (!n)
			return "";
		for (size_t j = 0; j < p->names_cap; j++) {
			if (!p->names[j].s)
				continue;
			for (i = gp_hash_mix(0, p->names[j].pc) & (cap - 1); n[i].s; i = (i + 1) & (cap - 1))
				;
			n[i] = p->names[j];
		}
		free(p->names);
		p->names = n;
		p->names_cap = cap;
	}
	for (i = gp_hash_mix(0, key) & (p->names_cap - 1); p->names[i].s; i = (i + 1) & (p->names_cap - 1))
		if (p->names[i].pc == key)
			return p->names[i].s;
	goprof_symbolizer_symbolize_pid(g->sym, p->pid, &addr, 1, take_frame, &c);
	p->names[i].pc = key;
	p->names[i].s = strdup(buf);
	if (!p->names[i].s)
		return "";
	p->nr_names++;
	return p->names[i].s;
}

static const char *reason_of(struct proc *p, const struct gp_gsnap_g *x, char *buf, size_t len)
{
	if (x->status != 4 && x->status != 10)
		return "";
	return gp_wait_reason_name(p->rd ? gp_gsnap_proc_wait_reasons(p->rd) : NULL, x->waitreason,
				   buf, len);
}

/* ---- wait times ---- */

static struct track *track_find(struct track *t, size_t cap, uint64_t goid)
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

static bool waiting(const struct gp_gsnap_g *x)
{
	return x->status == 4 || x->status == 10;
}

/*
 * Wait times of the goroutines in p->buf from the previous snapshot's table; the table
 * is rebuilt with the parked goroutines of this one. wait[i] and at_least[i] per goroutine.
 */
static int update_waits(struct proc *p, uint64_t now, uint64_t *wait, uint8_t *at_least)
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
		if (!waiting(x))
			continue;
		old = track_find(p->tr, p->tr_cap, x->goid);
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

/* ---- leak groups ---- */

static uint64_t stack_hash(const struct gp_gsnap_buf *b, const struct gp_gsnap_g *x)
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
		const char *f = name_of(g, p, p->buf.pcs[x->stack_off + i], false);

		/* names of return addresses: looked up without line */
		len += (size_t)snprintf(s + len, len < cap ? cap - len : 0, "%s%s", len ? ";" : "",
					f[0] ? f : "?");
		if (len >= cap)
			len = cap - 1;
	}
	for (uint32_t i = 0; i < x->nr_stack; i++) {
		const char *f = name_of(g, p, p->buf.pcs[x->stack_off + i], false);

		if (f[0] && strncmp(f, "runtime.", 8)) {
			t = f;
			break;
		}
	}
	*top = strdup(t);
}

static void fill_leak(struct proc *p, const struct group *gr, struct goprof_goroutine_leak *l,
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

static int update_groups(struct gp_gsnap *g, struct proc *p, uint64_t now, const uint64_t *wait,
			 gp_gsnap_event_fn fn, void *ctx)
{
	size_t n = 0, kept = 0;
	struct ord *o = malloc((p->buf.nr + 1) * sizeof(*o));
	int ret = 0;

	if (!o)
		return 0;
	for (size_t i = 0; i < p->buf.nr; i++) {
		const struct gp_gsnap_g *x = &p->buf.gs[i];

		if (waiting(x) && x->nr_stack)
			o[n++] = (struct ord){ x->gopc, stack_hash(&p->buf, x), (uint32_t)i, x->waitreason };
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
				const char *start = name_of(g, p, p->buf.gs[o[i].idx].startpc, false);

				gr->created_by = strdup(name_of(g, p, gr->gopc, true));
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
		fill_leak(p, gr, &l, rb, sizeof(rb));
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

/* ---- the wait profile ---- */

static void wait_reset(struct proc *p)
{
	p->nr_wa = p->nr_wpcs = 0;
	if (p->wa_idx)
		memset(p->wa_idx, 0, p->wa_idx_cap * sizeof(*p->wa_idx));
}

static int wagg_add(struct proc *p, const struct gp_gsnap_g *x, uint64_t dt)
{
	uint64_t h = gp_hash_mix(stack_hash(&p->buf, x), x->waitreason);
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
	if (grow_arr((void **)&p->wa, &p->wa_cap, p->nr_wa + 1, sizeof(*p->wa)) ||
	    grow_arr((void **)&p->wpcs, &p->wpcs_cap, p->nr_wpcs + x->nr_stack, sizeof(*p->wpcs)))
		return -ENOMEM;
	w = &p->wa[p->nr_wa++];
	*w = (struct wagg){ h, 1, dt, (uint32_t)p->nr_wpcs, x->nr_stack, x->waitreason };
	memcpy(p->wpcs + p->nr_wpcs, p->buf.pcs + x->stack_off, x->nr_stack * 8);
	p->nr_wpcs += x->nr_stack;
	p->wa_idx[k] = (uint32_t)p->nr_wa;
	return 0;
}

/* Adds the parked goroutines of the snapshot in p->buf, each for the time since the last. */
static void wait_sample(struct proc *p, uint64_t now)
{
	uint64_t dt = p->last_tick_ns ? now - p->last_tick_ns : 0;

	p->last_tick_ns = now;
	for (size_t i = 0; dt && i < p->buf.nr; i++)
		if (waiting(&p->buf.gs[i]) && p->buf.gs[i].nr_stack &&
		    wagg_add(p, &p->buf.gs[i], dt))
			break;
}

/* ---- reading ---- */

static uint64_t thread_cpu_ns(void)
{
	return (uint64_t)gp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static bool known_stack(void *ctx, uint64_t goid, uint64_t depth, uint64_t content)
{
	struct proc *p = ctx;
	struct track *t = track_find(p->tr, p->tr_cap, goid);

	return t && t->depth == depth && t->content == content;
}

/* Reads one process into p->buf; 0 or a negative errno (p->note says why). */
static int read_proc(struct gp_gsnap *g, struct proc *p, bool labels)
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
			free_groups(p);
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
	cpu0 = thread_cpu_ns();
	g->open_cpu_ns = 0;
	for (size_t i = 0; i < n && ret >= 0; i++) {
		struct proc *p = get(g, &t[i], now);

		if (!p || read_proc(g, p, false))
			continue;
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || update_waits(p, now, wait, least))
			break;
		ret = update_groups(g, p, now, wait, fn, ctx);
		wait_sample(p, now);
	}
	free(wait);
	free(least);
	/* The next one: at least the interval, longer if this one cost more than the budget. */
	cost = thread_cpu_ns() - cpu0;
	g->cpu_ns += cost;
	/* opening a reader (the binary, once per process) is not the steady rate's cost */
	cost -= GP_MIN(cost, g->open_cpu_ns);
	g->interval_ns = GP_MAX(g->cfg.interval_ns, cost * 10000 / GP_MAX(g->cfg.budget_bp, 1u));
	g->interval_ns = GP_MIN(g->interval_ns, MAX_INTERVAL_NS);
	g->next_ns = now + g->interval_ns;
	return ret < 0 ? ret : 0;
}

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

void goprof_goroutine_snapshot_free_internal(struct goprof_goroutine_snapshot *s);
void goprof_goroutine_snapshot_free_internal(struct goprof_goroutine_snapshot *s)
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
			.wait_reason = keep(s, reason_of(p, x, rb, sizeof(rb))),
			.wait_ns = wait ? wait[i] : 0, .creation_pc = x->gopc, .start_pc = x->startpc,
			.created_by = keep(s, name_of(g, p, x->gopc, true)),
			.start_function = keep(s, name_of(g, p, x->startpc, false)),
			.flags = (x->flags & GP_GSNAP_NO_STACK ? GOPROF_GOROUTINE_NO_STACK : 0) |
				 (x->flags & GP_GSNAP_STACK_TRUNCATED ? GOPROF_GOROUTINE_STACK_TRUNCATED : 0) |
				 (x->flags & GP_GSNAP_LABELS_TRUNCATED ? GOPROF_GOROUTINE_LABELS_TRUNCATED : 0) |
				 (least && least[i] && waiting(x) ? GOPROF_GOROUTINE_WAIT_AT_LEAST : 0) |
				 (wait && waiting(x) && wait[i] >= g->cfg.leak_age_ns ? GOPROF_GOROUTINE_LEAKED : 0),
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
				const char *f = name_of(g, p, p->buf.pcs[x->stack_off + k], false);

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
	uint64_t t0 = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC), cpu0 = thread_cpu_ns();
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
		struct proc *p = get(g, &t[i], t0);
		int e;

		if (!p) {
			err = -ENOMEM;
			break;
		}
		e = read_proc(g, p, true);
		if (e) {
			last_err = e == -ENOENT && !p->rd ? -ENOENT : e;
			gp_strlcpy(why, p->note, sizeof(why));
			s->info.failed++;
			continue;
		}
		s->info.processes++;
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || update_waits(p, t0, wait, least) || append(g, p, s, wait, least) ||
		    add_channels(g, p, s, wait))
			err = -ENOMEM;
	}
	free(wait);
	free(least);
	g->cpu_ns += thread_cpu_ns() - cpu0;
	if (!err && !s->info.processes && last_err) {
		goprof_goroutine_snapshot_free_internal(s);
		return gp_err_null(last_err, "goroutine snapshot: %s", why);
	}
	if (err) {
		goprof_goroutine_snapshot_free_internal(s);
		return gp_err_null(err, "goroutine snapshot: out of memory");
	}
	for (size_t i = 0; i < s->nr; i++)
		nlab += s->gs[i].nr_labels;
	s->label_ptrs = calloc(nlab + 1, sizeof(*s->label_ptrs));
	if (!s->label_ptrs) {
		goprof_goroutine_snapshot_free_internal(s);
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
	goprof_goroutine_snapshot_free_internal(s);
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

		if (min_age_ns && (!waiting(x) || wait[i] < min_age_ns))
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
			uint64_t h = x->nr_stack ? stack_hash(&p->buf, x) : 0;

			for (size_t k = 0; k < p->nr_groups; k++)
				if (p->groups[k].gopc == x->gopc && p->groups[k].reason == x->waitreason &&
				    p->groups[k].stack_hash == h) {
					struct goprof_goroutine_leak l;
					char b2[64];

					fill_leak(p, &p->groups[k], &l, b2, sizeof(b2));
					growth = l.growth_per_min;
				}
			lab[nl++] = (struct gp_label_in){ .key = "wait_reason",
							  .str = reason_of(p, x, rb, sizeof(rb)) };
			lab[nl++] = (struct gp_label_in){ .key = "created_by",
							  .str = name_of(g, p, x->gopc, true) };
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
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC), cpu0 = thread_cpu_ns(), *wait = NULL;
	uint8_t *least = NULL;
	struct gp_loc_resolver r;
	int err = 0;

	if (!prof)
		return gp_err_null(-ENOMEM, "out of memory building the goroutine profile");
	gp_loc_resolver_init(&r, g->sym, prof);
	for (size_t i = 0; i < n && !err; i++) {
		struct proc *p = get(g, &t[i], now);

		if (!p) {
			err = -ENOMEM;
			break;
		}
		if (read_proc(g, p, true))
			continue; /* noted in the process's note */
		wait = realloc(wait, (p->buf.nr + 1) * sizeof(*wait));
		least = realloc(least, p->buf.nr + 1);
		if (!wait || !least || update_waits(p, now, wait, least)) {
			err = -ENOMEM;
			break;
		}
		update_groups(g, p, now, wait, NULL, NULL);
		err = add_proc_samples(g, p, prof, &r, wait, min_age_ns);
	}
	free(wait);
	free(least);
	gp_loc_resolver_fini(&r);
	g->cpu_ns += thread_cpu_ns() - cpu0;
	if (err) {
		goprof_profile_free(prof);
		return gp_err_null(err, "building the goroutine profile failed: %s", strerror(-err));
	}
	gp_profile_set_time(prof, gp_clock_ns(CLOCK_REALTIME), 0);
	return prof;
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
			wait_reset(p);
	}
	gp_loc_resolver_fini(&r);
	if (err) {
		goprof_profile_free(prof);
		return gp_err_null(err, "building the goroutine wait profile failed: %s", strerror(-err));
	}
	gp_profile_set_time(prof, gp_clock_ns(CLOCK_REALTIME), 0);
	return prof;
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

		fill_leak(refs[i].p, refs[i].gr, &l, rb, sizeof(rb));
		ret = fn(&l, ctx);
	}
	free(refs);
	return ret;
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
