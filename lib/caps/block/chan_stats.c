// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Channel statistics: kernel records -> goprof_channel_stats, kept past process exit. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/hist.h"
#include "caps/block/chan_stats.h"
#include "go/go_probes.h"
#include "goprof/symbolizer.h"

#define SITE_LEN 512
#define STACK_LEN 4096

/* A channel of an exited process, its strings owned. */
struct kept_channel {
	struct goprof_channel_stats st;
	char *site, *stack;
};

struct gp_chan_table {
	struct goprof_symbolizer *sym;
	struct gp_go_probes *gp;
	struct kept_channel *kept;
	size_t nr_kept, kept_cap;
};

struct gp_chan_table *gp_chan_table_new(struct goprof_symbolizer *sym, struct gp_go_probes *gp)
{
	struct gp_chan_table *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->sym = sym;
	t->gp = gp;
	return t;
}

void gp_chan_table_free(struct gp_chan_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nr_kept; i++) {
		free(t->kept[i].site);
		free(t->kept[i].stack);
	}
	free(t->kept);
	free(t);
}

/* Frames of one stack, innermost first, as "function" and "function (file:line)". */
struct frames {
	char names[GP_CHAN_STACK_DEPTH * 4][128];
	char site[SITE_LEN];
	uint32_t n;
};

static int collect_frame(const struct goprof_frame *f, void *ctx)
{
	struct frames *fr = ctx;

	if (fr->n < ARRAY_SIZE(fr->names))
		gp_strlcpy(fr->names[fr->n++], f->function, sizeof(fr->names[0]));
	if (!fr->site[0] && strncmp(f->function, "runtime.", 8))
		snprintf(fr->site, sizeof(fr->site), "%s (%s:%u)", f->function,
			 f->file ? f->file : "?", f->line);
	return 0;
}

/* site: first frame outside the runtime; stack: folded, root first. */
static void symbolize_first_use(struct gp_chan_table *t, uint32_t pid, const struct gp_chan_stats *k,
				char *site, char *stack)
{
	struct frames *fr = calloc(1, sizeof(*fr));
	size_t len = 0;

	site[0] = stack[0] = '\0';
	if (!fr)
		return;
	for (uint32_t i = 0; i < GP_MIN(k->nr_stack, GP_CHAN_STACK_DEPTH); i++) {
		uint64_t lookup = k->stack[i] - 1; /* return addresses */
		uint32_t before = fr->n;

		goprof_symbolizer_symbolize_pid(t->sym, (int)pid, &lookup, 1, collect_frame, fr);
		if (fr->n == before && fr->n < ARRAY_SIZE(fr->names))
			snprintf(fr->names[fr->n++], sizeof(fr->names[0]), "0x%" PRIx64, (uint64_t)k->stack[i]);
	}
	gp_clear_error();
	gp_strlcpy(site, fr->site, SITE_LEN);
	for (uint32_t i = fr->n; i-- > 0 && len + 1 < STACK_LEN;)
		len += (size_t)snprintf(stack + len, STACK_LEN - len, "%s%s", fr->names[i], i ? ";" : "");
	free(fr);
}

static void fill_stats(const struct gp_chan_table *t, const struct gp_chan_key *key,
		       const struct gp_chan_stats *k, struct goprof_channel_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	st->pid = key->pid;
	st->address = key->addr;
	st->flags = gp_go_probes_set_active(t->gp, GP_SET_CHANNELS) ? GOPROF_CHANNEL_OPS_COUNTED : 0;
	st->capacity = k->capacity;
	/* A channel first seen blocking after the operation probes were detached. */
	st->sends = GP_MAX(k->sends, k->blocked_sends);
	st->recvs = GP_MAX(k->recvs, k->blocked_recvs);
	st->blocked_sends = k->blocked_sends;
	st->blocked_recvs = k->blocked_recvs;
	st->blocked_ns = k->blocked_ns;
	st->send_blocked_ns = k->send_blocked_ns;
	st->max_blocked_ns = k->max_blocked_ns;
	st->send_p50_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->send_hist, GP_CHAN_BUCKETS, k->blocked_sends, 50),
				 k->max_blocked_ns);
	st->send_p90_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->send_hist, GP_CHAN_BUCKETS, k->blocked_sends, 90),
				 k->max_blocked_ns);
	st->send_p99_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->send_hist, GP_CHAN_BUCKETS, k->blocked_sends, 99),
				 k->max_blocked_ns);
	st->recv_p50_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->recv_hist, GP_CHAN_BUCKETS, k->blocked_recvs, 50),
				 k->max_blocked_ns);
	st->recv_p90_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->recv_hist, GP_CHAN_BUCKETS, k->blocked_recvs, 90),
				 k->max_blocked_ns);
	st->recv_p99_ns = GP_MIN(gp_hist_percentile((const uint64_t *)k->recv_hist, GP_CHAN_BUCKETS, k->blocked_recvs, 99),
				 k->max_blocked_ns);
	st->max_occupancy = k->max_qcount;
	st->occupancy_sum = k->sum_qcount;
	st->first_seen_ns = k->first_ns;
	memcpy(st->send_hist, k->send_hist, sizeof(st->send_hist));
	memcpy(st->recv_hist, k->recv_hist, sizeof(st->recv_hist));
}

struct harvest_ctx {
	struct gp_chan_table *t;
	uint32_t pid;
	struct gp_chan_key *keys;
	size_t nr, cap;
	int err;
};

static int harvest_one(const struct gp_chan_key *key, const struct gp_chan_stats *k, void *ctx)
{
	struct harvest_ctx *h = ctx;
	struct gp_chan_table *t = h->t;
	struct kept_channel *kc;
	char site[SITE_LEN], *stack = malloc(STACK_LEN);

	if (key->pid != h->pid) {
		free(stack);
		return 0;
	}
	if (t->nr_kept == t->kept_cap) {
		size_t cap = t->kept_cap ? 2 * t->kept_cap : 64;
		void *p = realloc(t->kept, cap * sizeof(*t->kept));

		if (!p)
			goto nomem;
		t->kept = p;
		t->kept_cap = cap;
	}
	if (h->nr == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		void *p = realloc(h->keys, cap * sizeof(*h->keys));

		if (!p)
			goto nomem;
		h->keys = p;
		h->cap = cap;
	}
	if (!stack)
		goto nomem;
	kc = &t->kept[t->nr_kept];
	fill_stats(t, key, k, &kc->st);
	kc->st.flags |= GOPROF_CHANNEL_EXITED;
	symbolize_first_use(t, key->pid, k, site, stack);
	kc->site = strdup(site);
	kc->stack = strdup(stack);
	free(stack);
	if (!kc->site || !kc->stack) {
		free(kc->site);
		free(kc->stack);
		return h->err = -ENOMEM;
	}
	t->nr_kept++;
	h->keys[h->nr++] = *key;
	return 0;
nomem:
	free(stack);
	return h->err = -ENOMEM;
}

int gp_chan_table_harvest_pid(struct gp_chan_table *t, uint32_t pid)
{
	struct harvest_ctx h = { .t = t, .pid = pid };

	if (!t)
		return 0;
	gp_go_probes_foreach_channel(t->gp, harvest_one, &h);
	/* Deleted after the walk: deleting the current key would restart it. */
	for (size_t i = 0; i < h.nr; i++)
		gp_go_probes_delete_channel(t->gp, &h.keys[i]);
	free(h.keys);
	return h.err;
}

struct live_ctx {
	struct gp_chan_table *t;
	goprof_channel_fn fn;
	void *ctx;
	char site[SITE_LEN], stack[STACK_LEN];
};

static int live_one(const struct gp_chan_key *key, const struct gp_chan_stats *k, void *ctx)
{
	struct live_ctx *l = ctx;
	struct goprof_channel_stats st;

	fill_stats(l->t, key, k, &st);
	symbolize_first_use(l->t, key->pid, k, l->site, l->stack);
	st.site = l->site;
	st.stack = l->stack;
	return l->fn(&st, l->ctx);
}

int gp_chan_table_foreach(struct gp_chan_table *t, goprof_channel_fn fn, void *ctx)
{
	struct live_ctx *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return gp_err(-ENOMEM, "out of memory");
	*l = (struct live_ctx){ .t = t, .fn = fn, .ctx = ctx };
	ret = gp_go_probes_foreach_channel(t->gp, live_one, l);
	free(l);
	for (size_t i = 0; !ret && i < t->nr_kept; i++) {
		struct goprof_channel_stats st = t->kept[i].st;

		st.site = t->kept[i].site;
		st.stack = t->kept[i].stack;
		ret = fn(&st, ctx);
	}
	return ret;
}
