// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine blocking and channels as capabilities (see block.h). */
#include <errno.h>
#include <stdlib.h>

#include "caps/block/block.h"
#include "caps/block/block_table.h"
#include "caps/block/chan_stats.h"
#include "go/go_probes.h"
#include "goprof/error.h"
#include "goprof_bpf.h"
#include "go/wait_reasons.h"

struct block_cap {
	const struct gp_host *host;
	struct gp_block_table *table;
	uint64_t lost_aggregation; /* records the table could not take (out of memory) */
};

static void *block_create(const struct gp_host *h)
{
	struct block_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->table = gp_block_table_new(h->sym);
	if (!c->table) {
		free(c);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return c;
}

static void block_destroy(void *cap)
{
	struct block_cap *c = cap;

	gp_block_table_free(c->table);
	free(c);
}

static int block_record(void *cap, const void *rec, size_t len)
{
	struct block_cap *c = cap;
	const struct gp_block_event *ev = rec;
	const struct gp_host *h = c->host;
	const char *reason;
	char buf[32];

	if (len < GP_BLOCK_EVENT_SIZE(0) ||
	    len < GP_BLOCK_EVENT_SIZE(GP_MIN(ev->nr_stack, GP_BLOCK_STACK_DEPTH)))
		return 0;
	reason = gp_wait_reason_name(h->wait_reasons(h->session, ev->pid), ev->reason, buf, sizeof(buf));
	if (gp_block_table_add(c->table, ev, reason, h->process_name(h->session, ev->pid)))
		c->lost_aggregation++;
	return 0;
}

static void block_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct block_cap *c = cap;

	if (why != GP_PROCESS_EXITED)
		return;
	gp_block_table_forget_pid(c->table, pid);
	gp_go_probes_forget_parked(c->host->probes, pid);
}

static void block_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct block_cap *c = cap;

	st->block_events = gp_block_table_events(c->table);
	st->lost_block_events = lost[GP_LOST_BLOCK_RECORDS];
	st->lost_aggregation += c->lost_aggregation;
}

const struct gp_cap_ops gp_cap_block = {
	.name = "block",
	.features = GOPROF_FEATURE_BLOCK,
	.create = block_create,
	.destroy = block_destroy,
	.rec_first = GP_REC_BLOCK,
	.rec_last = GP_REC_BLOCK,
	.take_record = block_record,
	.process_gone = block_gone,
	.fill_stats = block_stats,
};

GOPROF_API struct goprof_profile *goprof_session_snapshot_block(struct goprof_session *s, uint32_t flags)
{
	struct block_cap *c;

	gp_clear_error();
	if (!s || flags)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_block: invalid argument");
	c = gp_session_cap(s, &gp_cap_block);
	if (!c)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_block: the session was created "
					    "without GOPROF_FEATURE_BLOCK");
	return gp_block_table_snapshot(c->table);
}

/* ---- channels ---- */

static void *chan_create(const struct gp_host *h)
{
	struct gp_chan_table *t = gp_chan_table_new(h->sym, h->probes);

	return t ? t : gp_err_null(-ENOMEM, "out of memory");
}

static void chan_destroy(void *cap)
{
	gp_chan_table_free(cap);
}

/* Symbolized before the pid is forgotten. */
static void chan_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	if (why == GP_PROCESS_EXITED)
		gp_chan_table_harvest_pid(cap, pid);
}

static void chan_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	(void)cap;
	st->lost_channels = lost[GP_LOST_CHANNELS_FULL];
}

const struct gp_cap_ops gp_cap_channels = {
	.name = "channels",
	.features = GOPROF_FEATURE_CHANNELS,
	.needs = "block", /* it times what block's probes see */
	.create = chan_create,
	.destroy = chan_destroy,
	.process_gone = chan_gone,
	.fill_stats = chan_stats,
};

GOPROF_API int goprof_session_foreach_channel(struct goprof_session *s, goprof_channel_fn fn,
					      void *ctx)
{
	const struct gp_host *h;
	void *t;

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_channel: NULL argument");
	t = gp_session_cap(s, &gp_cap_channels);
	if (!t)
		return gp_err(-EINVAL, "goprof_session_foreach_channel: the session was created "
				       "without GOPROF_FEATURE_CHANNELS");
	h = gp_session_host(s);
	h->reconcile_exits(h->session); /* exited processes' channels are harvested first */
	return gp_chan_table_foreach(t, fn, ctx);
}
