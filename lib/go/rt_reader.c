// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The runtime statistics reader (see rt_reader.h). */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/hist.h"
#include "goprof/error.h"
#include "goprof/symbolizer.h"
#include "core/remote_mem.h"
#include "go/rt_decode.h"
#include "go/rt_locate.h"
#include "go/rt_reader.h"
#include "sym/symbolizer_internal.h"

#define MAX_CANDIDATES 3
#define UNDECIDED_RETRY_NS 1000000000ull /* a layout still to prove: looked at once a second */
#define FAILURES_BEFORE_OFF 50           /* reads in a row that do not decode: off, with a note */
#define BUDGET_WINDOW_NS 1000000000ull

enum proc_state { RT_UNDECIDED = 0, RT_READING = 1, RT_OFF = -1 };

struct rt_proc {
	int pid;
	enum proc_state state;
	bool exited;
	bool decided; /* was read at least once: its figures count */
	bool heap_off; /* a derived layout proven for the GC figures but not the heap's */
	int ncand, chosen;
	struct gp_rt_layout cand[MAX_CANDIDATES];
	struct gp_rt_addrs addrs[MAX_CANDIDATES]; /* load bias applied */
	uint32_t have;                 /* parts valid at the base read */
	struct gp_rt_snapshot *base;   /* at attach (or when decided) */
	struct gp_rt_snapshot *last;   /* the latest valid read */
	uint64_t next_ns;
	uint64_t cycles, forced, first_cycle_ns;
	uint32_t failures;
	char note[160];
};

/*
 * What locating gave for one executable (device, inode, release): the processes of an
 * executable attached by path come and go, and disassembling a stripped runtime for each
 * would cost milliseconds per process.
 */
struct rt_exe {
	dev_t dev;
	ino_t ino;
	char version[32];
	bool pie;
	uint64_t first_load_vaddr;
	int ncand;
	struct gp_rt_layout cand[MAX_CANDIDATES];
	struct gp_rt_addrs addrs[MAX_CANDIDATES]; /* link-time addresses */
	char why[160]; /* a part not found, or why nothing was */
};

#define MAX_EXES_CACHED 64

/* Sum of h into *acc (same format), or into the log2 histogram when formats differ. */
struct hist_acc {
	struct gp_rt_hist fine;
	bool mixed, any;
	uint64_t total;
	uint64_t log2[GOPROF_SCHED_HIST_BUCKETS];
};

static void acc_add(struct hist_acc *a, const struct gp_rt_hist *h, int nr_buckets)
{
	gp_rt_hist_add_log2us(h, a->log2, nr_buckets);
	a->total += h->total;
	if (!a->any) {
		a->fine = *h;
		a->any = true;
		return;
	}
	if (a->fine.format != h->format) {
		a->mixed = true;
		return;
	}
	for (unsigned k = 0; k < h->n; k++)
		a->fine.counts[k] += h->counts[k];
	a->fine.underflow += h->underflow;
	a->fine.overflow += h->overflow;
	a->fine.total += h->total;
}

/* dst += src */
static void acc_merge(struct hist_acc *dst, const struct hist_acc *src)
{
	if (!src->any)
		return;
	if (!dst->any) {
		*dst = *src;
		return;
	}
	for (int b = 0; b < GOPROF_SCHED_HIST_BUCKETS; b++)
		dst->log2[b] += src->log2[b];
	dst->total += src->total;
	if (src->mixed || dst->fine.format != src->fine.format) {
		dst->mixed = true;
		return;
	}
	for (unsigned k = 0; k < src->fine.n; k++)
		dst->fine.counts[k] += src->fine.counts[k];
	dst->fine.underflow += src->fine.underflow;
	dst->fine.overflow += src->fine.overflow;
	dst->fine.total += src->fine.total;
}

/*
 * Processes that exited, beyond the MAX_EXITED_KEPT most recent: their figures summed
 * (what goprof_session_gc_stats(0) and _sched_stats(0) report over all processes), their
 * snapshots freed, so that a session following short-lived processes stays bounded.
 */
#define MAX_EXITED_KEPT 128

struct rt_folded {
	uint64_t cycles, forced, pause_total_ns, other_stw, first_cycle_ns, last_cycle_ns;
	bool any_gc;
	struct hist_acc pauses, sched;
};


struct gp_rt_reader {
	struct rt_proc *procs;
	size_t n, cap;
	struct rt_exe exes[MAX_EXES_CACHED];
	size_t nr_exes, next_exe;
	struct rt_folded folded; /* exited processes no longer kept one by one */
	uint32_t budget_bp;
	uint64_t interval_ns;
	uint64_t window_start_ns, window_cpu_ns;
	struct gp_rt_counters c;
	uint8_t *buf;  /* one read's bytes: sched, memstats, gcController */
	size_t buf_len;
	struct gp_rt_snapshot *scratch;
};

static uint64_t now_ns(clockid_t c)
{
	return (uint64_t)gp_clock_ns(c);
}

struct gp_rt_reader *gp_rt_reader_new(uint32_t budget_bp)
{
	struct gp_rt_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return gp_err_null(-ENOMEM, "out of memory");
	r->budget_bp = budget_bp ? budget_bp : 100;
	r->interval_ns = GP_RT_INTERVAL_NS;
	r->scratch = malloc(sizeof(*r->scratch));
	if (!r->scratch) {
		free(r);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return r;
}

void gp_rt_reader_free(struct gp_rt_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->procs[i].base);
		free(r->procs[i].last);
	}
	free(r->procs);
	free(r->buf);
	free(r->scratch);
	free(r);
}

static struct rt_proc *find(struct gp_rt_reader *r, int pid)
{
	for (size_t i = r->n; i-- > 0;) /* newest first: a reused PID is the latest process */
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

/*
 * One read of process p with candidate layout k into *s. Returns the parts that decoded,
 * or a negative errno when the memory could not be read.
 */
static int read_once(struct gp_rt_reader *r, struct rt_proc *p, int k, struct gp_rt_snapshot *s)
{
	const struct gp_rt_layout *lay = &p->cand[k];
	const struct gp_rt_addrs *a = &p->addrs[k];
	size_t ls, lm, lg, need;
	uint8_t *bs, *bm, *bg;
	int err = 0, read = 0;

	gp_rt_region_sizes(lay, &ls, &lm, &lg);
	need = ls + lm + lg;
	if (r->buf_len < need) {
		uint8_t *b = realloc(r->buf, need);

		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->buf_len = need;
	}
	bs = r->buf;
	bm = bs + ls;
	bg = bm + lm;
	if (a->memstats) {
		err = gp_remote_read(p->pid, a->memstats, bm, lm);
		read += err ? 0 : (int)lm;
	}
	if (!err && a->sched) {
		err = gp_remote_read(p->pid, a->sched, bs, ls);
		read += err ? 0 : (int)ls;
	}
	if (!err && a->gc_controller) {
		err = gp_remote_read(p->pid, a->gc_controller, bg, lg);
		read += err ? 0 : (int)lg;
	}
	r->c.reads++;
	r->c.read_bytes += (uint64_t)read;
	if (err)
		return err;
	return (int)gp_rt_decode(lay, a->sched ? bs : NULL, ls, a->memstats ? bm : NULL, lm,
				 a->gc_controller ? bg : NULL, lg, now_ns(CLOCK_REALTIME),
				 now_ns(CLOCK_MONOTONIC), s);
}

/* The parts candidate k should give: those located. */
static uint32_t expected(const struct rt_proc *p, int k)
{
	const struct gp_rt_addrs *a = &p->addrs[k];

	return (a->memstats ? GP_RT_HAVE_GC : 0) | (a->sched ? GP_RT_HAVE_SCHED : 0);
}

static void set_reading(struct rt_proc *p, int k, const struct gp_rt_snapshot *s)
{
	p->chosen = k;
	p->state = RT_READING;
	p->decided = true;
	p->have = (uint32_t)s->have;
	*p->base = *s;
	*p->last = *s;
	p->failures = 0;
	p->note[0] = '\0';
}

/*
 * Tries to decide p: a measured layout that decodes is taken; a derived one (or one of a
 * newer release) must show a GC cycle whose pause ring, total and clocks agree before it
 * is trusted. Returns the new state.
 */
static enum proc_state decide(struct gp_rt_reader *r, struct rt_proc *p)
{
	int last_err = 0, fallback = -1;

	for (int k = 0; k < p->ncand; k++) {
		int have = read_once(r, p, k, r->scratch);
		uint32_t want = expected(p, k);

		if (have < 0) {
			last_err = have;
			r->c.read_failures++;
			if (have == -ESRCH) {
				p->exited = true;
				snprintf(p->note, sizeof(p->note), "runtime statistics: the process exited");
				return RT_OFF;
			}
			if (have == -EPERM) {
				snprintf(p->note, sizeof(p->note), "runtime statistics unreadable: needs "
					 "ptrace access (same user or CAP_SYS_PTRACE)");
				return RT_OFF;
			}
			continue;
		}
		if (((uint32_t)have & want) != want) {
			r->c.read_failures++;
			snprintf(p->note, sizeof(p->note), "runtime statistics do not decode (%.100s)",
				 r->scratch->why);
			continue;
		}
		if (!(p->cand[k].flags & GP_RT_LAYOUT_DERIVED)) {
			set_reading(p, k, r->scratch);
			return RT_READING;
		}
		/* A GC cycle to check the layout against: the ring and totals must agree. */
		if (!(want & GP_RT_HAVE_GC) || r->scratch->numgc == 0) {
			snprintf(p->note, sizeof(p->note), "runtime statistics: the go1.%d layout is "
				 "not proven yet (waiting for a first GC cycle)", p->cand[k].minor);
			continue;
		}
		/* two (or, when mark termination restarts, a few more) GC pauses per cycle: the
		 * pause histogram's offset holds, and with it sched's (a fixed distance) */
		if (!(r->scratch->have & GP_RT_HAVE_PAUSE_HIST) ||
		    r->scratch->gc_pause.total + 1 < 2ull * r->scratch->numgc ||
		    r->scratch->gc_pause.total > 4ull * r->scratch->numgc + 8) {
			snprintf(p->note, sizeof(p->note), "runtime statistics: the go1.%d layout does "
				 "not fit (GC pauses do not match the cycles)", p->cand[k].minor);
			continue;
		}
		/* its gcController must decode too, or the heap figures stay off */
		if (p->addrs[k].gc_controller && !(r->scratch->have & GP_RT_HAVE_HEAP)) {
			if (fallback < 0)
				fallback = k;
			continue;
		}
		set_reading(p, k, r->scratch);
		snprintf(p->note, sizeof(p->note), "runtime statistics: layout derived for this "
			 "release, validated against the process");
		return RT_READING;
	}
	if (fallback >= 0 && read_once(r, p, fallback, r->scratch) >= 0 &&
	    (r->scratch->have & GP_RT_HAVE_GC) && r->scratch->numgc) {
		set_reading(p, fallback, r->scratch);
		p->heap_off = true;
		snprintf(p->note, sizeof(p->note), "runtime statistics: layout derived for this "
			 "release, validated against the process; no heap figures (gcController "
			 "did not fit)");
		return RT_READING;
	}
	if (p->failures++ >= FAILURES_BEFORE_OFF / 10 && last_err) {
		snprintf(p->note, sizeof(p->note), "runtime statistics unreadable: %s", strerror(-last_err));
		return RT_OFF;
	}
	return RT_UNDECIDED;
}

/* Adds exited process p's figures to r->folded. */
static void fold(struct gp_rt_reader *r, const struct rt_proc *p)
{
	struct rt_folded *f = &r->folded;
	const struct gp_rt_snapshot *b = p->base, *l = p->last;
	struct gp_rt_hist d;

	if (!p->decided)
		return;
	if (p->have & GP_RT_HAVE_GC) {
		f->any_gc = true;
		f->cycles += l->numgc - b->numgc;
		f->forced += l->numforcedgc - b->numforcedgc;
		f->pause_total_ns += l->pause_total_ns - b->pause_total_ns;
		if (p->first_cycle_ns && (!f->first_cycle_ns || p->first_cycle_ns < f->first_cycle_ns))
			f->first_cycle_ns = p->first_cycle_ns;
		if (l->numgc > b->numgc)
			f->last_cycle_ns = GP_MAX(f->last_cycle_ns, l->last_gc_nanotime);
		if (p->have & GP_RT_HAVE_PAUSE_HIST && gp_rt_hist_sub(&d, &l->gc_pause, &b->gc_pause) == 0)
			acc_add(&f->pauses, &d, GOPROF_GC_HIST_BUCKETS);
		if (p->have & GP_RT_HAVE_STW_OTHER && gp_rt_hist_sub(&d, &l->stw_other, &b->stw_other) == 0)
			f->other_stw += d.total;
	}
	if (p->have & GP_RT_HAVE_SCHED && gp_rt_hist_sub(&d, &l->sched_latency, &b->sched_latency) == 0)
		acc_add(&f->sched, &d, GOPROF_SCHED_HIST_BUCKETS);
}

/* Keeps at most MAX_EXITED_KEPT exited processes one by one; older ones are folded. */
static void prune(struct gp_rt_reader *r)
{
	size_t exited = 0, kept = 0;

	for (size_t i = 0; i < r->n; i++)
		exited += r->procs[i].exited;
	for (size_t i = 0; i < r->n; i++) {
		struct rt_proc *p = &r->procs[i];

		if (p->exited && (exited > MAX_EXITED_KEPT || !p->decided)) {
			fold(r, p);
			free(p->base);
			free(p->last);
			exited--;
			continue;
		}
		r->procs[kept++] = *p;
	}
	r->n = kept;
}

/* The executable at path, located for these candidate layouts (cached); NULL if unreadable. */
static const struct rt_exe *exe_of(struct gp_rt_reader *r, const char *path, const char *version,
				   const struct gp_rt_layout *cand, int n)
{
	struct goprof_binary *bin;
	struct rt_exe *e;
	struct stat st;
	char why[160];

	if (stat(path, &st))
		return gp_err_null(-errno, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < r->nr_exes; i++)
		if (r->exes[i].dev == st.st_dev && r->exes[i].ino == st.st_ino &&
		    !strcmp(r->exes[i].version, version))
			return &r->exes[i];
	bin = goprof_binary_open(path, NULL);
	if (!bin)
		return NULL;
	/* the oldest entry makes room: an executable no process runs any more */
	e = &r->exes[r->nr_exes < MAX_EXES_CACHED ? r->nr_exes++ : r->next_exe++ % MAX_EXES_CACHED];
	memset(e, 0, sizeof(*e));
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	gp_strlcpy(e->version, version, sizeof(e->version));
	e->pie = bin->elf.type == ET_DYN;
	e->first_load_vaddr = bin->elf.first_load_vaddr;
	for (int k = 0; k < n; k++) {
		why[0] = '\0';
		e->cand[e->ncand] = cand[k];
		if (gp_rt_locate(bin, &cand[k], &e->addrs[e->ncand], why, sizeof(why))) {
			if (!e->ncand)
				gp_strlcpy(e->why, why, sizeof(e->why));
			continue;
		}
		if (!e->ncand)
			gp_strlcpy(e->why, why, sizeof(e->why));
		e->ncand++;
	}
	goprof_binary_free(bin);
	return e;
}

int gp_rt_reader_add(struct gp_rt_reader *r, int pid, const char *exe, const char *go_version,
		     char *note, size_t note_len)
{
	struct gp_rt_layout cand[MAX_CANDIDATES];
	const struct rt_exe *e;
	struct rt_proc *p;
	uint64_t bias;
	bool newer;
	char why[160] = "";
	int n;

	if (note_len)
		note[0] = '\0';
	prune(r);
	n = gp_rt_layouts(go_version, cand, MAX_CANDIDATES, &newer);
	if (n <= 0) {
		snprintf(note, note_len, "no runtime statistics: %.120s", goprof_last_error());
		return n ? n : -GOPROF_ERRNO_GO_VERSION;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct rt_proc *np = realloc(r->procs, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		r->procs = np;
		r->cap = cap;
	}
	p = &r->procs[r->n];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->base = malloc(sizeof(*p->base));
	p->last = malloc(sizeof(*p->last));
	if (!p->base || !p->last) {
		free(p->base);
		free(p->last);
		return -ENOMEM;
	}
	r->n++;
	p->state = RT_OFF;
	e = exe_of(r, exe, go_version, cand, n);
	if (!e) {
		snprintf(p->note, sizeof(p->note), "no runtime statistics: %.120s", goprof_last_error());
		goto out;
	}
	if (!e->ncand) {
		snprintf(p->note, sizeof(p->note), "no runtime statistics: %.130s", e->why);
		goto out;
	}
	if (gp_rt_load_bias_of(pid, e->pie, e->dev, e->ino, e->first_load_vaddr, &bias)) {
		snprintf(p->note, sizeof(p->note), "no runtime statistics: the executable's mapping "
			 "in process %d was not found", pid);
		goto out;
	}
	for (int k = 0; k < e->ncand; k++) {
		p->cand[k] = e->cand[k];
		p->addrs[k] = e->addrs[k];
		p->addrs[k].sched += p->addrs[k].sched ? bias : 0;
		p->addrs[k].memstats += p->addrs[k].memstats ? bias : 0;
		p->addrs[k].gc_controller += p->addrs[k].gc_controller ? bias : 0;
	}
	p->ncand = e->ncand;
	gp_strlcpy(why, e->why, sizeof(why));
	p->state = decide(r, p);
	if (p->state == RT_READING && why[0] && !p->note[0])
		snprintf(p->note, sizeof(p->note), "runtime statistics: %s", why);
	p->next_ns = now_ns(CLOCK_MONOTONIC) + (p->state == RT_READING ? r->interval_ns : UNDECIDED_RETRY_NS);
out:
	gp_strlcpy(note, p->note, note_len);
	return p->state == RT_READING ? 1 : p->state == RT_UNDECIDED ? 0 : -ENOENT;
}

void gp_rt_reader_exited(struct gp_rt_reader *r, int pid)
{
	struct rt_proc *p = find(r, pid);

	if (p)
		p->exited = true;
	prune(r);
}

/* New GC cycles between p->last and s: one event each. */
static int emit_cycles(struct rt_proc *p, const struct gp_rt_snapshot *s, gp_rt_event_fn fn, void *ctx)
{
	uint32_t from = p->last->numgc, to = s->numgc;
	uint32_t forced = s->numforcedgc - p->last->numforcedgc, n = to - from;
	int64_t unix_to_mono = (int64_t)now_ns(CLOCK_MONOTONIC) - (int64_t)now_ns(CLOCK_REALTIME);

	for (uint32_t c = from + 1; c <= to && c > from; c++) {
		struct goprof_event ev = {
			.sz = sizeof(ev),
			.type = GOPROF_EVENT_GC_CYCLE,
			.pid = (uint32_t)p->pid,
			.gc_cycle = ++p->cycles,
			.gc_trigger = forced == n ? GOPROF_GC_TRIGGER_CYCLE : GOPROF_GC_TRIGGER_UNKNOWN,
			.gc_flags = GOPROF_GC_FROM_MEMORY,
		};

		if (to - c < GP_RT_PAUSE_RING) {
			uint32_t i = (c - 1) % GP_RT_PAUSE_RING;

			ev.gc_pause_ns = s->pause_ns[i];
			ev.time_ns = (uint64_t)((int64_t)s->pause_end[i] + unix_to_mono);
			ev.gc_end_ns = ev.time_ns;
		} else {
			ev.gc_flags |= GOPROF_GC_PAUSE_UNKNOWN;
		}
		if (!p->first_cycle_ns && ev.time_ns)
			p->first_cycle_ns = ev.time_ns;
		if (fn) {
			int ret = fn(&ev, ctx);

			if (ret < 0)
				return ret;
		}
	}
	p->forced += forced;
	return 0;
}

/* The counters only grow: a read that shows less is torn or not this runtime's. */
static bool consistent(const struct gp_rt_snapshot *last, const struct gp_rt_snapshot *s, uint32_t have)
{
	if ((have & GP_RT_HAVE_GC) && (s->numgc < last->numgc || s->numforcedgc < last->numforcedgc ||
				       s->pause_total_ns < last->pause_total_ns))
		return false;
	if ((have & GP_RT_HAVE_SCHED) && s->sched_latency.total < last->sched_latency.total)
		return false;
	return true;
}

static int read_proc(struct gp_rt_reader *r, struct rt_proc *p, gp_rt_event_fn fn, void *ctx)
{
	struct gp_rt_snapshot *s = r->scratch;
	uint32_t want = p->have & (GP_RT_HAVE_GC | GP_RT_HAVE_SCHED | GP_RT_HAVE_PAUSE_HIST |
				   GP_RT_HAVE_STW_OTHER);
	int have = 0, ret = 0;

	/* The runtime may be writing while we read: a torn read is read again once. */
	for (int attempt = 0; attempt < 2; attempt++) {
		have = read_once(r, p, p->chosen, s);
		if (have < 0 || (((uint32_t)have & want) == want && consistent(p->last, s, (uint32_t)have)))
			break;
	}
	if (have == -ESRCH) {
		p->exited = true; /* pruned at the next add or exit */
		return 0;
	}
	if (have < 0 || ((uint32_t)have & want) != want || !consistent(p->last, s, (uint32_t)have)) {
		r->c.read_failures++;
		if (++p->failures >= FAILURES_BEFORE_OFF) {
			p->state = RT_OFF;
			snprintf(p->note, sizeof(p->note), "runtime statistics stopped decoding (%.100s)",
				 have < 0 ? strerror(-have) : s->why);
			return 1;
		}
		return 0;
	}
	p->failures = 0;
	if ((uint32_t)have & GP_RT_HAVE_GC && s->numgc > p->last->numgc)
		ret = emit_cycles(p, s, fn, ctx);
	/* parts that stopped decoding keep their last figures */
	if (!((uint32_t)have & GP_RT_HAVE_HEAP) && p->last->have & GP_RT_HAVE_HEAP) {
		s->heap_inuse = p->last->heap_inuse;
		s->heap_live = p->last->heap_live;
		s->heap_marked = p->last->heap_marked;
		s->heap_goal = p->last->heap_goal;
		s->have |= p->last->have & (GP_RT_HAVE_HEAP | GP_RT_HEAP_LIMITED);
	}
	*p->last = *s;
	return ret;
}

/* Keeps the reader's CPU time within the budget by stretching the interval. */
static void govern(struct gp_rt_reader *r, uint64_t now, uint64_t cpu)
{
	uint64_t elapsed, allowed;

	r->window_cpu_ns += cpu;
	if (!r->window_start_ns)
		r->window_start_ns = now;
	elapsed = now - r->window_start_ns;
	if (elapsed < BUDGET_WINDOW_NS)
		return;
	allowed = elapsed / 10000 * r->budget_bp;
	if (r->window_cpu_ns > allowed && r->interval_ns < GP_RT_MAX_INTERVAL_NS)
		r->interval_ns = GP_MIN(2 * r->interval_ns, GP_RT_MAX_INTERVAL_NS);
	else if (r->window_cpu_ns < allowed / 4 && r->interval_ns > GP_RT_INTERVAL_NS)
		r->interval_ns = GP_MAX(r->interval_ns / 2, GP_RT_INTERVAL_NS);
	r->window_start_ns = now;
	r->window_cpu_ns = 0;
}

int gp_rt_reader_tick(struct gp_rt_reader *r, gp_rt_event_fn fn, void *ctx)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC), cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID), cpu;
	int changed = 0, ret = 0;

	for (size_t i = 0; i < r->n && ret >= 0; i++) {
		struct rt_proc *p = &r->procs[i];

		if (p->exited || p->state == RT_OFF || now < p->next_ns)
			continue;
		if (p->state == RT_UNDECIDED) {
			p->state = decide(r, p);
			changed |= p->state != RT_UNDECIDED;
			p->next_ns = now + (p->state == RT_READING ? r->interval_ns : UNDECIDED_RETRY_NS);
			continue;
		}
		ret = read_proc(r, p, fn, ctx);
		changed |= ret == 1;
		p->next_ns = now + r->interval_ns;
	}
	cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	r->c.cpu_ns += cpu;
	govern(r, now, cpu);
	return ret < 0 ? ret : changed;
}

int gp_rt_reader_state(struct gp_rt_reader *r, int pid, const char **note)
{
	struct rt_proc *p = find(r, pid);

	if (note)
		*note = p ? p->note : "";
	return p ? (int)p->state : -1;
}

static uint64_t acc_percentile(const struct hist_acc *a, int nb, unsigned pct)
{
	return a->mixed ? gp_hist_percentile(a->log2, nb, a->total, pct) : gp_rt_hist_percentile(&a->fine, pct);
}

int gp_rt_reader_gc_stats(struct gp_rt_reader *r, int pid, struct goprof_gc_stats *st)
{
	struct hist_acc *pauses = calloc(1, sizeof(*pauses));
	struct gp_rt_hist d;
	uint64_t total = 0;
	bool heap_all = true, heap_seen = false, any = false;

	if (!pauses)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct rt_proc *p = &r->procs[i];
		const struct gp_rt_snapshot *b = p->base, *l = p->last;

		if ((pid && p->pid != pid) || !p->decided || !(p->have & GP_RT_HAVE_GC))
			continue;
		any = true;
		st->cycles += l->numgc - b->numgc;
		st->forced_cycles += l->numforcedgc - b->numforcedgc;
		st->pause_total_ns += l->pause_total_ns - b->pause_total_ns;
		if (l->numgc > b->numgc) {
			if (p->first_cycle_ns && (!st->first_cycle_ns || p->first_cycle_ns < st->first_cycle_ns))
				st->first_cycle_ns = p->first_cycle_ns;
			st->last_cycle_ns = GP_MAX(st->last_cycle_ns, l->last_gc_nanotime);
		}
		if (p->have & GP_RT_HAVE_PAUSE_HIST && gp_rt_hist_sub(&d, &l->gc_pause, &b->gc_pause) == 0)
			acc_add(pauses, &d, GOPROF_GC_HIST_BUCKETS);
		if (p->have & GP_RT_HAVE_STW_OTHER && gp_rt_hist_sub(&d, &l->stw_other, &b->stw_other) == 0)
			st->other_stw += d.total;
		if (p->exited)
			continue; /* the heap is the live processes' */
		if (l->have & GP_RT_HAVE_HEAP && !p->heap_off) {
			st->heap_inuse_bytes += l->heap_inuse;
			st->heap_live_bytes += l->heap_live;
			st->heap_marked_bytes += l->heap_marked;
			st->heap_goal_bytes += l->heap_goal;
			if (l->have & GP_RT_HEAP_LIMITED)
				st->heap_flags |= GOPROF_GC_HEAP_LIMITED;
			heap_seen = true;
		} else {
			heap_all = false;
		}
	}
	if (!pid && r->folded.any_gc) {
		const struct rt_folded *f = &r->folded;

		any = true;
		st->cycles += f->cycles;
		st->forced_cycles += f->forced;
		st->pause_total_ns += f->pause_total_ns;
		st->other_stw += f->other_stw;
		if (f->first_cycle_ns && (!st->first_cycle_ns || f->first_cycle_ns < st->first_cycle_ns))
			st->first_cycle_ns = f->first_cycle_ns;
		st->last_cycle_ns = GP_MAX(st->last_cycle_ns, f->last_cycle_ns);
		acc_merge(pauses, &f->pauses);
	}
	if (any) {
		st->source = GOPROF_STATS_FROM_MEMORY;
		if (heap_all && heap_seen)
			st->heap_flags |= GOPROF_GC_HEAP_VALID;
		st->pauses = pauses->total;
		for (int b = 0; b < GOPROF_GC_HIST_BUCKETS; b++) {
			st->pause_hist[b] = pauses->log2[b];
			total += pauses->log2[b];
		}
		st->pause_p50_ns = acc_percentile(pauses, GOPROF_GC_HIST_BUCKETS, 50);
		st->pause_p90_ns = acc_percentile(pauses, GOPROF_GC_HIST_BUCKETS, 90);
		st->pause_p99_ns = acc_percentile(pauses, GOPROF_GC_HIST_BUCKETS, 99);
		st->pause_max_ns = pauses->mixed ? gp_hist_percentile(pauses->log2, GOPROF_GC_HIST_BUCKETS, total, 100)
						 : gp_rt_hist_max(&pauses->fine);
	} else {
		st->heap_flags = 0;
	}
	free(pauses);
	return any ? 0 : -ENOENT;
}

int gp_rt_reader_sched_stats(struct gp_rt_reader *r, int pid, struct goprof_sched_stats *st)
{
	struct hist_acc *lat = calloc(1, sizeof(*lat));
	struct gp_rt_hist d;
	bool any = false;

	if (!lat)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct rt_proc *p = &r->procs[i];

		if ((pid && p->pid != pid) || !p->decided || !(p->have & GP_RT_HAVE_SCHED))
			continue;
		if (gp_rt_hist_sub(&d, &p->last->sched_latency, &p->base->sched_latency))
			continue;
		any = true;
		acc_add(lat, &d, GOPROF_SCHED_HIST_BUCKETS);
	}
	if (!pid && r->folded.sched.any) {
		any = true;
		acc_merge(lat, &r->folded.sched);
	}
	if (any) {
		st->source = GOPROF_STATS_FROM_MEMORY;
		st->sample_every = 8;
		st->waits = lat->total;
		for (int b = 0; b < GOPROF_SCHED_HIST_BUCKETS; b++)
			st->hist[b] = lat->log2[b];
		st->max_ns = lat->mixed ? gp_hist_percentile(lat->log2, GOPROF_SCHED_HIST_BUCKETS, st->waits, 100)
					: gp_rt_hist_max(&lat->fine);
		st->p50_ns = acc_percentile(lat, GOPROF_SCHED_HIST_BUCKETS, 50);
		st->p90_ns = acc_percentile(lat, GOPROF_SCHED_HIST_BUCKETS, 90);
		st->p99_ns = acc_percentile(lat, GOPROF_SCHED_HIST_BUCKETS, 99);
	}
	free(lat);
	return any ? 0 : -ENOENT;
}

void gp_rt_reader_counters(const struct gp_rt_reader *r, struct gp_rt_counters *c)
{
	*c = r->c;
	c->processes = 0;
	for (size_t i = 0; i < r->n; i++)
		c->processes += r->procs[i].state == RT_READING && !r->procs[i].exited;
	c->interval_ms = (uint32_t)(r->interval_ns / 1000000);
}
