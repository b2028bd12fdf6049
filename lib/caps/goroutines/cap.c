// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Goroutine lifetimes as a capability, and goprof_session_snapshot_goroutines(). */
#include <errno.h>
#include <stdlib.h>

#include "caps/goroutines/cap.h"
#include "caps/goroutines/goroutines.h"
#include "goprof/error.h"
#include "goprof_bpf.h"
#include "caps/gsnap/cap.h"

struct goroutines_cap {
	const struct gp_host *host;
	struct gp_goroutines *table;
};

static void *create(const struct gp_host *h)
{
	struct goroutines_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->table = gp_goroutines_new(h->sym);
	if (!c->table) {
		free(c);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return c;
}

static void destroy(void *cap)
{
	struct goroutines_cap *c = cap;

	gp_goroutines_free(c->table);
	free(c);
}

/* A go statement's creation stack, then the new goroutine's ID; an exit. */
static int take_record(void *cap, const void *rec, size_t len)
{
	struct goroutines_cap *c = cap;
	const struct gp_goroutine_event *ev = rec;
	struct goprof_event out = { .sz = sizeof(out) };

	if (ev->type == GP_REC_GO_NEWPROC) {
		if (len >= GP_NEWPROC_EVENT_SIZE(0))
			gp_goroutines_newproc(c->table, rec);
		return 0;
	}
	if (len < sizeof(*ev))
		return 0;
	out.type = ev->type == GP_REC_GO_NEWG ? GOPROF_EVENT_GOROUTINE_CREATE
					      : GOPROF_EVENT_GOROUTINE_EXIT;
	out.pid = ev->pid;
	out.tid = ev->tid;
	out.time_ns = ev->time_ns;
	out.goid = ev->goid;
	if (ev->type == GP_REC_GO_NEWG)
		gp_goroutines_newg(c->table, ev, &out.parent_goid);
	else
		gp_goroutines_exit(c->table, ev);
	return c->host->emit(c->host->session, &out);
}

/* Its goroutines' IDs mean nothing once the PID is reused. */
static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct goroutines_cap *c = cap;

	if (why == GP_PROCESS_EXITED)
		gp_goroutines_forget_pid(c->table, pid);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct goroutines_cap *c = cap;
	struct gp_goroutine_stats gs;

	(void)lost;
	gp_goroutines_stats(c->table, &gs);
	st->goroutines_created = gs.created;
	st->goroutines_exited = gs.exited;
	st->goroutines_live = gs.live;
}

const struct gp_cap_ops gp_cap_goroutines = {
	.name = "goroutines",
	.features = GOPROF_FEATURE_GOROUTINES,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_GO_NEWPROC,
	.rec_last = GP_REC_GO_EXIT,
	.take_record = take_record,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

struct gp_goroutines *gp_goroutines_of(struct goprof_session *s)
{
	struct goroutines_cap *c = gp_session_cap(s, &gp_cap_goroutines);

	return c ? c->table : NULL;
}

GOPROF_API struct goprof_profile *goprof_session_snapshot_goroutines(struct goprof_session *s,
								     uint64_t min_age_ns, uint32_t flags)
{
	struct goroutines_cap *c;

	gp_clear_error();
	if (!s)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_goroutines: session is NULL");
	if (flags)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_goroutines: unknown flags 0x%x", flags);
	c = gp_session_cap(s, &gp_cap_goroutines);
	if (c)
		return gp_goroutines_snapshot(c->table, (uint64_t)gp_clock_ns(CLOCK_MONOTONIC),
					      min_age_ns);
	if (gp_session_host(s)->features & GOPROF_FEATURE_GOROUTINE_SNAPSHOTS)
		return gp_gsnap_session_profile(s, min_age_ns);
	return gp_err_null(-EINVAL, "goprof_session_snapshot_goroutines: the session was "
				    "created without GOPROF_FEATURE_GOROUTINES or "
				    "GOPROF_FEATURE_GOROUTINE_SNAPSHOTS");
}
