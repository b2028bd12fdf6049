// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record --block [--channels]: the goroutine blocking profile (block.pb.gz,
 * block.folded, block.svg; time by wait reason and parking site) and the channel table
 * (summary and events.jsonl).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

#define TOP 10

/* Blocked time per wait reason, and per (reason, site). */
struct reason_row {
	char reason[48];
	char site[160];
	int64_t count, ns;
};

struct block_summary {
	struct reason_row reasons[64], sites[256];
	int nr_reasons, nr_sites;
	int64_t total_ns;
};

static const char *wait_reason(const struct goprof_profile_sample *s)
{
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "wait_reason") && s->labels[i]->str)
			return s->labels[i]->str;
	return "?";
}

/* Go's runtime, or one of its entry points linked into another package (sync.runtime_Semacquire). */
static bool runtime_frame(const char *function)
{
	return !strncmp(function, "runtime.", 8) || strstr(function, ".runtime_");
}

/*
 * Where user code blocked: the first frame outside the runtime, and its caller; for the
 * runtime's own goroutines (all frames in the runtime) the goroutine's function, the frame
 * below runtime.goexit.
 */
static void block_site(const struct goprof_profile_sample *s, char *buf, size_t len)
{
	uint32_t n = s->nr_frames, own = n;
	const struct goprof_profile_frame *f;
	const char *file, *caller;

	for (uint32_t i = 0; i < n && own == n; i++)
		if (!runtime_frame(s->frames[i]->function))
			own = i;
	if (own == n && n)
		own = n >= 2 && !strcmp(s->frames[n - 1]->function, "runtime.goexit") ? n - 2 : n - 1;
	if (own == n) {
		snprintf(buf, len, "(stack not unwound)");
		return;
	}
	f = s->frames[own];
	file = strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file;
	caller = own + 1 < n ? s->frames[own + 1]->function : NULL;
	snprintf(buf, len, "%s (%s:%lld)%s%s", f->function, f->file[0] ? file : "?",
		 (long long)f->line, caller ? " <- " : "", caller ? caller : "");
}

static void add_row(struct reason_row *rows, int *n, int cap, const char *reason, const char *site,
		    const struct goprof_profile_sample *s)
{
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp(rows[i].reason, reason) && !strcmp(rows[i].site, site))
			break;
	if (i == *n) {
		if (*n == cap)
			return;
		snprintf(rows[i].reason, sizeof(rows[i].reason), "%s", reason);
		snprintf(rows[i].site, sizeof(rows[i].site), "%s", site);
		(*n)++;
	}
	rows[i].count += s->values[0];
	rows[i].ns += s->values[1];
}

static int summarize(const struct goprof_profile_sample *s, void *ctx)
{
	struct block_summary *b = ctx;
	char site[160];

	block_site(s, site, sizeof(site));
	add_row(b->reasons, &b->nr_reasons, 64, wait_reason(s), "", s);
	add_row(b->sites, &b->nr_sites, 256, wait_reason(s), site, s);
	b->total_ns += s->values[1];
	return 0;
}

static int by_ns_desc(const void *a, const void *b)
{
	int64_t x = ((const struct reason_row *)a)->ns, y = ((const struct reason_row *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int report_blocking(struct goprof_session *s, const struct safe_dir *dir)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_profile *p = goprof_session_snapshot_block(s, 0);
	struct block_summary *b = calloc(1, sizeof(*b));
	int rc;

	if (!p || !b) {
		fprintf(stderr, "goprof record: blocking profile: %s\n", goprof_last_error());
		goprof_profile_free(p);
		free(b);
		return -1;
	}
	rc = write_profile_files(p, dir, "block", 1 /* delay/nanoseconds */, "Goroutine blocking time");
	goprof_profile_foreach_sample(p, summarize, b);
	goprof_session_stats(s, &st);
	qsort(b->reasons, b->nr_reasons, sizeof(*b->reasons), by_ns_desc);
	qsort(b->sites, b->nr_sites, sizeof(*b->sites), by_ns_desc);
	printf("\ngoroutine blocking: %.3f s parked in %llu blocks (%llu lost)\n", b->total_ns / 1e9,
	       (unsigned long long)st.block_events, (unsigned long long)st.lost_block_events);
	for (int i = 0; i < b->nr_reasons && i < TOP; i++)
		printf("  %10.1f ms %5.1f%% %8lld x  %s\n", b->reasons[i].ns / 1e6,
		       b->total_ns ? 100.0 * b->reasons[i].ns / b->total_ns : 0.0,
		       (long long)b->reasons[i].count, b->reasons[i].reason);
	printf("  top blocking sites:\n");
	for (int i = 0; i < b->nr_sites && i < TOP; i++)
		printf("  %10.1f ms %8lld x  %-16s %s\n", b->sites[i].ns / 1e6,
		       (long long)b->sites[i].count, b->sites[i].reason, b->sites[i].site);
	printf("wrote %s/block.pb.gz (go tool pprof; label wait_reason), %s/block.folded, "
	       "%s/block.svg\n", dir->path, dir->path, dir->path);
	goprof_profile_free(p);
	free(b);
	return rc;
}

/* A channel with its strings copied out of the callback. */
struct chan_row {
	struct goprof_channel_stats st;
	char site[160];
};

struct chan_list {
	struct chan_row *rows;
	size_t n, cap;
	FILE *jsonl;
};

/*
 * The lower bound of the log2 bucket holding the (100 - pct)th percentile of all of a
 * direction's operations (those that did not block count as 0): "pct% of the operations
 * blocked at least this long". 0 when fewer than pct% blocked.
 */
static uint64_t blocked_at_least(const uint64_t *hist, uint64_t ops, unsigned pct)
{
	uint64_t need = (ops * pct + 99) / 100, above = 0;

	for (int i = GOPROF_CHANNEL_HIST_BUCKETS - 1; i >= 0; i--) {
		above += hist[i];
		if (above >= need && need)
			return i ? (1ull << i) * 1000 : 1; /* bucket 0: "> 0" */
	}
	return 0;
}

static int collect_channel(const struct goprof_channel_stats *c, void *ctx)
{
	struct chan_list *l = ctx;
	struct chan_row *r;

	if (l->jsonl) {
		jsonl_begin(l->jsonl, "channel", c->pid, 0);
		fprintf(l->jsonl, ",\"address\":\"0x%" PRIx64 "\","
			"\"capacity\":%u,\"sends\":%" PRIu64 ",\"recvs\":%" PRIu64 ",\"blocked_sends\":%"
			PRIu64 ",\"blocked_recvs\":%" PRIu64 ",\"blocked_ns\":%" PRIu64 ",\"send_blocked_ns\":%"
			PRIu64 ",\"send_p50_ns\":%"
			PRIu64 ",\"send_p90_ns\":%" PRIu64 ",\"send_p99_ns\":%" PRIu64 ",\"recv_p50_ns\":%"
			PRIu64 ",\"recv_p90_ns\":%" PRIu64 ",\"recv_p99_ns\":%" PRIu64 ",\"max_blocked_ns\":%"
			PRIu64 ",\"max_occupancy\":%" PRIu64 ",\"ops_counted\":%s,\"exited\":%s,\"site\":",
			c->address, c->capacity, c->sends, c->recvs, c->blocked_sends,
			c->blocked_recvs, c->blocked_ns, c->send_blocked_ns, c->send_p50_ns, c->send_p90_ns, c->send_p99_ns,
			c->recv_p50_ns, c->recv_p90_ns, c->recv_p99_ns, c->max_blocked_ns, c->max_occupancy,
			c->flags & GOPROF_CHANNEL_OPS_COUNTED ? "true" : "false",
			c->flags & GOPROF_CHANNEL_EXITED ? "true" : "false");
		json_string(l->jsonl, c->site);
		fprintf(l->jsonl, ",\"stack\":");
		json_string(l->jsonl, c->stack);
		fprintf(l->jsonl, "}\n");
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->rows, cap * sizeof(*l->rows));

		if (!p)
			return -1;
		l->rows = p;
		l->cap = cap;
	}
	r = &l->rows[l->n++];
	r->st = *c;
	r->st.site = r->st.stack = NULL;
	snprintf(r->site, sizeof(r->site), "%s", c->site[0] ? c->site : "?");
	return 0;
}

/* Senders waiting first (a contended channel), then receivers waiting (idle consumers). */
static int by_blocked_desc(const void *a, const void *b)
{
	const struct goprof_channel_stats *x = &((const struct chan_row *)a)->st;
	const struct goprof_channel_stats *y = &((const struct chan_row *)b)->st;

	if (x->send_blocked_ns != y->send_blocked_ns)
		return x->send_blocked_ns < y->send_blocked_ns ? 1 : -1;
	return x->blocked_ns < y->blocked_ns ? 1 : x->blocked_ns > y->blocked_ns ? -1 : 0;
}

static void fmt_ms(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, ns ? "%.2f" : "-", ns / 1e6);
}

/* "90% of sends blocked >= 2.05 ms", for the largest share that blocked measurably. */
static void headline(const char *dir, uint64_t ops, const uint64_t *hist, char *buf, size_t len)
{
	static const unsigned shares[] = { 90, 50, 10 };

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		uint64_t at_least = blocked_at_least(hist, ops, shares[i]);

		if (at_least >= 1000) {
			snprintf(buf, len, "%u%% of %s blocked >= %.3f ms", shares[i], dir, at_least / 1e6);
			return;
		}
	}
}

static void print_channels(struct chan_list *l)
{
	printf("\nchannels: %zu seen; top %d by time senders waited, then receivers (blk: blocked "
	       "operations; p50/p90/p99 of the direction that waited longer, ms)\n", l->n, TOP);
	printf("  %-14s %5s %6s %8s %5s %8s %5s %9s %7s %7s %7s  %s\n", "channel", "cap", "maxocc",
	       "sends", "blk%", "recvs", "blk%", "blocked", "p50", "p90", "p99", "first used at");
	for (size_t i = 0; i < l->n && i < TOP; i++) {
		const struct goprof_channel_stats *c = &l->rows[i].st;
		/* Percentiles of the direction that waited longer in total. */
		bool sends_dominate = c->send_blocked_ns * 2 >= c->blocked_ns;
		uint64_t p50 = sends_dominate ? c->send_p50_ns : c->recv_p50_ns;
		uint64_t p90 = sends_dominate ? c->send_p90_ns : c->recv_p90_ns;
		uint64_t p99 = sends_dominate ? c->send_p99_ns : c->recv_p99_ns;
		char a[16], b[16], d[16], h1[96], h2[96];

		fmt_ms(a, sizeof(a), p50);
		fmt_ms(b, sizeof(b), p90);
		fmt_ms(d, sizeof(d), p99);
		printf("  0x%-12" PRIx64 " %5u %6" PRIu64 " %8" PRIu64 " %4.0f%% %8" PRIu64 " %4.0f%% %8.3fs "
		       "%7s %7s %7s  %s%s\n", c->address, c->capacity, c->max_occupancy, c->sends,
		       c->sends ? 100.0 * c->blocked_sends / c->sends : 0.0, c->recvs,
		       c->recvs ? 100.0 * c->blocked_recvs / c->recvs : 0.0, c->blocked_ns / 1e9, a, b, d,
		       l->rows[i].site, c->flags & GOPROF_CHANNEL_EXITED ? " [exited]" : "");
		headline("sends", c->sends, c->send_hist, h1, sizeof(h1));
		headline("receives", c->recvs, c->recv_hist, h2, sizeof(h2));
		if (h1[0] || h2[0])
			printf("  %14s -> %s%s%s\n", "", h1, h1[0] && h2[0] ? "; " : "", h2);
	}
	if (l->n && !(l->rows[0].st.flags & GOPROF_CHANNEL_OPS_COUNTED))
		printf("  (operations were not counted: the channel probes were detached or off; "
		       "sends/recvs are the blocked ones)\n");
}

int write_block_report(struct goprof_session *s, const struct safe_dir *dir, uint32_t features, FILE *jsonl)
{
	struct chan_list l = { .jsonl = jsonl };
	int rc = 0;

	if (features & GOPROF_FEATURE_BLOCK)
		rc |= report_blocking(s, dir);
	if (!(features & GOPROF_FEATURE_CHANNELS))
		return rc;
	if (goprof_session_foreach_channel(s, collect_channel, &l)) {
		fprintf(stderr, "goprof record: channel statistics: %s\n", goprof_last_error());
		free(l.rows);
		return -1;
	}
	qsort(l.rows, l.n, sizeof(*l.rows), by_blocked_desc);
	print_channels(&l);
	free(l.rows);
	return rc;
}
