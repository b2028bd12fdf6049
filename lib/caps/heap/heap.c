// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The heap and allocation profiles as capabilities (see heap.h). */
#include <errno.h>
#include <stdlib.h>

#include "caps/heap/heap.h"
#include "caps/heap/heap_table.h"
#include "goprof/error.h"
#include "goprof_bpf.h"

/* Go's default runtime.MemProfileRate; the heap profile is scaled with it. */
#define GO_MEM_PROFILE_RATE (512 * 1024)

struct heap_cap {
	const struct gp_host *host;
	struct gp_heap_table *table;
	uint64_t lost_aggregation; /* records the table could not take (out of memory) */
};

static void *create(const struct gp_host *h)
{
	struct heap_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->table = gp_heap_table_new(h->sym);
	if (!c->table) {
		free(c);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return c;
}

static void destroy(void *cap)
{
	struct heap_cap *c = cap;

	gp_heap_table_free(c->table);
	free(c);
}

static int take_record(void *cap, const void *rec, size_t len)
{
	struct heap_cap *c = cap;
	const struct gp_heap_event *ev = rec;

	if (len < GP_HEAP_EVENT_SIZE(0))
		return 0;
	if (gp_heap_table_add(c->table, ev, c->host->process_name(c->host->session, ev->pid)))
		c->lost_aggregation++;
	return 0;
}

static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct heap_cap *c = cap;

	if (why == GP_PROCESS_EXITED)
		gp_heap_table_forget_pid(c->table, pid);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct heap_cap *c = cap;

	(void)lost;
	st->lost_aggregation += c->lost_aggregation;
}

const struct gp_cap_ops gp_cap_heap = {
	.name = "heap",
	.features = GOPROF_FEATURE_HEAP,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_HEAP_ALLOC,
	.rec_last = GP_REC_HEAP_FREE,
	.take_record = take_record,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

const struct gp_cap_ops gp_cap_allocs = {
	.name = "allocs",
	.features = GOPROF_FEATURE_ALLOCS,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_ALLOC_EXACT,
	.rec_last = GP_REC_ALLOC_EXACT,
	.take_record = take_record,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

GOPROF_API struct goprof_profile *goprof_session_snapshot_heap(struct goprof_session *s, uint32_t flags)
{
	struct heap_cap *c;

	gp_clear_error();
	if (!s)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_heap: session is NULL");
	if (flags)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_heap: unknown flags 0x%x", flags);
	c = gp_session_cap(s, &gp_cap_heap);
	if (!c)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_heap: the session was created "
					    "without GOPROF_FEATURE_HEAP");
	return gp_heap_table_snapshot(c->table, GO_MEM_PROFILE_RATE);
}

GOPROF_API struct goprof_profile *goprof_session_snapshot_allocs(struct goprof_session *s, uint32_t flags)
{
	struct heap_cap *c;

	gp_clear_error();
	if (!s || flags)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_allocs: invalid argument");
	c = gp_session_cap(s, &gp_cap_allocs);
	if (!c)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_allocs: the session was created "
					    "without GOPROF_FEATURE_ALLOCS");
	return gp_heap_table_snapshot(c->table, 1); /* every allocation: no scaling */
}
