// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Decoding and checking of the Go runtime's statistics (see rt_decode.h). */
#include <stddef.h>
#include <stdio.h>

#include "core/hist.h"
#include "go/rt_decode.h"

#define MAX_COUNT (1ull << 48)   /* more events than this in one bucket: not a count */
#define MAX_BYTES (1ull << 48)   /* 256 TiB: no heap is larger */
#define MAX_NUMGC (1u << 31)
#define MIN_UNIX_NS 1000000000000000000ull /* September 2001 */
#define MAX_UNIX_SKEW_NS 10000000000ull     /* 10 s: the target's clock read after ours */
#define PAGE_SIZE_GO 8192u

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static unsigned hist_counts(uint8_t format)
{
	return format == GP_RT_HIST_GO119 ? 45 * 16 : format == GP_RT_HIST_GO120 ? 40 * 4 : 0;
}

void gp_rt_region_sizes(const struct gp_rt_layout *lay, size_t *sched, size_t *ms, size_t *gc)
{
	size_t h = gp_rt_hist_size(lay->hist_format);
	uint16_t s_end = GP_MAX(lay->sched_time_to_run, GP_MAX(lay->sched_stw_total_gc, lay->sched_stw_total_other));
	uint16_t m_end = GP_MAX(lay->ms_last_heap_inuse, lay->ms_last_gc_nanotime);

	*sched = s_end + h;
	*ms = lay->ms_gc_pause_dist ? (size_t)lay->ms_gc_pause_dist + h : (size_t)m_end + 8;
	*gc = (size_t)GP_MAX(lay->gc_mapped_ready, GP_MAX(lay->gc_heap_inuse, lay->gc_heap_marked)) + 8;
}

void gp_rt_hist_bounds(uint8_t format, unsigned k, uint64_t *lo, uint64_t *hi)
{
	if (format == GP_RT_HIST_GO119) {
		unsigned s = k / 16, j = k % 16;

		if (s == 0) {
			*lo = j;
			*hi = j + 1;
			return;
		}
		*lo = (uint64_t)(16 + j) << (s - 1);
		*hi = k + 1 >= 45 * 16 ? UINT64_MAX : *lo + (1ull << (s - 1));
		return;
	}
	{
		unsigned b = k / 4, j = k % 4, l = b + 8;

		if (b == 0) {
			*lo = (uint64_t)j * 64;
			*hi = *lo + 64;
			return;
		}
		*lo = (1ull << (l - 1)) | ((uint64_t)j << (l - 3));
		*hi = *lo + (1ull << (l - 3));
	}
}

/* Decodes one histogram at buf; false if a count is impossible. */
static bool hist_decode(uint8_t format, const uint8_t *buf, struct gp_rt_hist *h)
{
	unsigned n = hist_counts(format);
	uint64_t total = 0;

	memset(h, 0, sizeof(*h));
	h->format = format;
	h->n = (uint16_t)n;
	for (unsigned k = 0; k < n; k++) {
		h->counts[k] = rd64(buf, 8 * k);
		if (h->counts[k] > MAX_COUNT)
			return false;
		total += h->counts[k];
	}
	h->underflow = rd64(buf, 8 * n);
	if (format == GP_RT_HIST_GO120)
		h->overflow = rd64(buf, 8 * n + 8);
	if (h->underflow > MAX_COUNT || h->overflow > MAX_COUNT)
		return false;
	h->total = total + h->underflow + h->overflow;
	return h->total <= MAX_COUNT;
}

int gp_rt_hist_sub(struct gp_rt_hist *out, const struct gp_rt_hist *a, const struct gp_rt_hist *b)
{
	struct gp_rt_hist r = { .format = a->format, .n = a->n };

	if (a->format != b->format || a->n != b->n || a->underflow < b->underflow ||
	    a->overflow < b->overflow)
		goto bad;
	for (unsigned k = 0; k < a->n; k++) {
		if (a->counts[k] < b->counts[k])
			goto bad;
		r.counts[k] = a->counts[k] - b->counts[k];
		r.total += r.counts[k];
	}
	r.underflow = a->underflow - b->underflow;
	r.overflow = a->overflow - b->overflow;
	r.total += r.underflow + r.overflow;
	*out = r;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	out->format = a->format;
	return -EINVAL;
}

uint64_t gp_rt_hist_percentile(const struct gp_rt_hist *h, unsigned pct)
{
	uint64_t want = (h->total * pct + 99) / 100, seen = h->underflow, lo, hi;

	if (!h->total)
		return 0;
	if (want == 0)
		want = 1;
	if (seen >= want)
		return 0;
	for (unsigned k = 0; k < h->n; k++) {
		seen += h->counts[k];
		if (seen >= want) {
			gp_rt_hist_bounds(h->format, k, &lo, &hi);
			return hi == UINT64_MAX ? lo : hi;
		}
	}
	return 1ull << 47; /* in the overflow: at least this */
}

uint64_t gp_rt_hist_max(const struct gp_rt_hist *h)
{
	uint64_t lo, hi;

	if (h->overflow)
		return 1ull << 47;
	for (unsigned k = h->n; k-- > 0;)
		if (h->counts[k]) {
			gp_rt_hist_bounds(h->format, k, &lo, &hi);
			return hi == UINT64_MAX ? lo : hi;
		}
	return 0;
}

void gp_rt_hist_add_log2us(const struct gp_rt_hist *h, uint64_t *out, int nr_buckets)
{
	uint64_t lo, hi;

	if (nr_buckets <= 0)
		return;
	out[0] += h->underflow;
	for (unsigned k = 0; k < h->n; k++) {
		if (!h->counts[k])
			continue;
		gp_rt_hist_bounds(h->format, k, &lo, &hi);
		out[gp_hist_bucket(lo, nr_buckets)] += h->counts[k];
	}
	out[gp_hist_bucket(1ull << 47, nr_buckets)] += h->overflow;
}

static void why(struct gp_rt_snapshot *s, const char *part, const char *what)
{
	if (!s->why[0])
		snprintf(s->why, sizeof(s->why), "%s: %s", part, what);
}

/* memstats: the GC counters and the ring of recent pauses, checked against each other. */
static bool decode_memstats(const struct gp_rt_layout *lay, const uint8_t *m, uint64_t now_unix,
			    uint64_t now_mono, struct gp_rt_snapshot *s)
{
	uint64_t sum = 0, frac;
	double cpu_fraction;
	uint32_t last;

	s->numgc = rd32(m, lay->ms_numgc);
	s->numforcedgc = rd32(m, lay->ms_numforcedgc);
	s->pause_total_ns = rd64(m, lay->ms_pause_total_ns);
	s->last_gc_unix = rd64(m, lay->ms_last_gc_unix);
	s->last_gc_nanotime = rd64(m, lay->ms_last_gc_nanotime);
	frac = rd64(m, lay->ms_gc_cpu_fraction);
	memcpy(&cpu_fraction, &frac, sizeof(cpu_fraction));
	for (unsigned i = 0; i < GP_RT_PAUSE_RING; i++) {
		s->pause_ns[i] = rd64(m, lay->ms_pause_ns + 8u * i);
		s->pause_end[i] = rd64(m, lay->ms_pause_end + 8u * i);
	}
	if (s->numgc > MAX_NUMGC || s->numforcedgc > s->numgc)
		return why(s, "memstats", "numforcedgc above numgc"), false;
	if (!(cpu_fraction >= 0.0 && cpu_fraction <= 1.0))
		return why(s, "memstats", "gc_cpu_fraction outside [0, 1]"), false;
	if (!s->numgc) {
		if (s->pause_total_ns || s->last_gc_unix || s->last_gc_nanotime || s->pause_end[0])
			return why(s, "memstats", "GC times without a GC"), false;
		return true;
	}
	last = (s->numgc - 1) % GP_RT_PAUSE_RING;
	if (s->last_gc_unix < MIN_UNIX_NS || s->last_gc_unix > now_unix + MAX_UNIX_SKEW_NS)
		return why(s, "memstats", "last_gc_unix is not a time"), false;
	if (s->pause_end[last] != s->last_gc_unix)
		return why(s, "memstats", "pause_end of the last cycle differs from last_gc_unix"), false;
	if (!s->last_gc_nanotime || s->last_gc_nanotime > now_mono + MAX_UNIX_SKEW_NS)
		return why(s, "memstats", "last_gc_nanotime is not a time"), false;
	if (s->pause_ns[last] > s->pause_total_ns)
		return why(s, "memstats", "a pause above the pause total"), false;
	if (s->numgc <= GP_RT_PAUSE_RING) {
		for (unsigned i = 0; i < GP_RT_PAUSE_RING; i++) {
			if (i >= s->numgc && (s->pause_ns[i] || s->pause_end[i]))
				return why(s, "memstats", "pause ring entries past numgc"), false;
			if (i < s->numgc && (s->pause_end[i] < MIN_UNIX_NS ||
					     (i && s->pause_end[i] < s->pause_end[i - 1])))
				return why(s, "memstats", "pause_end is not a rising time"), false;
			sum += s->pause_ns[i];
		}
		if (sum != s->pause_total_ns)
			return why(s, "memstats", "pause ring does not add up to pause_total_ns"), false;
	}
	return true;
}

/* gcController: heap figures and the goal the runtime aims at (without a memory limit). */
static bool decode_heap(const struct gp_rt_layout *lay, const uint8_t *g, struct gp_rt_snapshot *s)
{
	uint64_t goal, sweep_min, triggered, heap_minimum;

	s->gc_percent = (int32_t)rd32(g, lay->gc_percent);
	s->memory_limit = (int64_t)rd64(g, lay->gc_memory_limit);
	s->heap_inuse = rd64(g, lay->gc_heap_inuse);
	s->heap_live = rd64(g, lay->gc_heap_live);
	s->heap_marked = rd64(g, lay->gc_heap_marked);
	goal = rd64(g, lay->gc_percent_heap_goal);
	sweep_min = rd64(g, lay->gc_sweep_dist_min_trigger);
	triggered = rd64(g, lay->gc_triggered);
	heap_minimum = rd64(g, lay->gc_heap_minimum);
	if (s->gc_percent < -1 || s->gc_percent > (1 << 24))
		return why(s, "gcController", "gcPercent out of range"), false;
	if (s->memory_limit <= 0)
		return why(s, "gcController", "memoryLimit not positive"), false;
	if (s->heap_inuse % PAGE_SIZE_GO || s->heap_inuse > MAX_BYTES || s->heap_live > MAX_BYTES ||
	    s->heap_marked > MAX_BYTES)
		return why(s, "gcController", "heap sizes out of range"), false;
	if (triggered != UINT64_MAX && triggered > MAX_BYTES)
		return why(s, "gcController", "trigger out of range"), false;
	if (s->gc_percent < 0) {
		s->heap_goal = 0; /* GOGC=off: no goal (unless a memory limit) */
	} else {
		if (goal > MAX_BYTES || sweep_min > MAX_BYTES || heap_minimum > MAX_BYTES)
			return why(s, "gcController", "heap goal out of range"), false;
		/* gcPercentHeapGoal is max(heapMinimum, heapMarked + (heapMarked + stacks +
		 * globals) * GOGC / 100): never below either */
		if (goal < heap_minimum || goal < s->heap_marked)
			return why(s, "gcController", "heap goal below the live heap or the minimum"), false;
		/* gcControllerState.heapGoalInternal() without the memory-limit branch */
		if (sweep_min > goal)
			goal = sweep_min;
		if (triggered != UINT64_MAX && goal < triggered + (64 << 10))
			goal = triggered + (64 << 10);
		s->heap_goal = goal;
	}
	if (s->memory_limit != INT64_MAX)
		s->have |= GP_RT_HEAP_LIMITED;
	return true;
}

uint32_t gp_rt_decode(const struct gp_rt_layout *lay, const uint8_t *sched, size_t sched_len,
		      const uint8_t *ms, size_t ms_len, const uint8_t *gc, size_t gc_len,
		      uint64_t now_unix_ns, uint64_t now_mono_ns, struct gp_rt_snapshot *s)
{
	size_t want_sched, want_ms, want_gc;

	memset(s, 0, sizeof(*s));
	if (!lay || !gp_rt_hist_size(lay->hist_format)) {
		why(s, "layout", "unknown histogram format");
		return 0;
	}
	gp_rt_region_sizes(lay, &want_sched, &want_ms, &want_gc);
	if (ms && ms_len >= want_ms) {
		if (decode_memstats(lay, ms, now_unix_ns, now_mono_ns, s))
			s->have |= GP_RT_HAVE_GC;
		if (lay->ms_gc_pause_dist) {
			if (hist_decode(lay->hist_format, ms + lay->ms_gc_pause_dist, &s->gc_pause))
				s->have |= GP_RT_HAVE_PAUSE_HIST;
			else
				why(s, "memstats.gcPauseDist", "impossible counts");
		}
	}
	if (sched && sched_len >= want_sched) {
		if (hist_decode(lay->hist_format, sched + lay->sched_time_to_run, &s->sched_latency))
			s->have |= GP_RT_HAVE_SCHED;
		else
			why(s, "sched.timeToRun", "impossible counts");
		if (lay->sched_stw_total_gc) {
			if (hist_decode(lay->hist_format, sched + lay->sched_stw_total_gc, &s->gc_pause))
				s->have |= GP_RT_HAVE_PAUSE_HIST;
			else
				why(s, "sched.stwTotalTimeGC", "impossible counts");
		}
		if (lay->sched_stw_total_other) {
			if (hist_decode(lay->hist_format, sched + lay->sched_stw_total_other, &s->stw_other))
				s->have |= GP_RT_HAVE_STW_OTHER;
			else
				why(s, "sched.stwTotalTimeOther", "impossible counts");
		}
	}
	/* Every GC has two stop-the-world pauses: fewer pauses than cycles is not this runtime. */
	if ((s->have & (GP_RT_HAVE_GC | GP_RT_HAVE_PAUSE_HIST)) == (GP_RT_HAVE_GC | GP_RT_HAVE_PAUSE_HIST) &&
	    s->gc_pause.total < s->numgc) {
		why(s, "GC pauses", "fewer pauses than GC cycles");
		s->have &= ~GP_RT_HAVE_PAUSE_HIST;
	}
	if (gc && gc_len >= want_gc && decode_heap(lay, gc, s))
		s->have |= GP_RT_HAVE_HEAP;
	return s->have;
}
