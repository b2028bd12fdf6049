// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* GC cycles from the runtime probes, and goprof_session_gc_stats() (see gc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps/gc/gc.h"
#include "caps/gc/gc_tracker.h"
#include "caps/rtstats/rtstats.h"
#include "goprof/error.h"
#include "goprof_bpf.h"
#include "go/rt_reader.h"

struct gc_cap {
	const struct gp_host *host;
	struct gp_gc_tracker *tracker;
};

static void *create(const struct gp_host *h)
{
	struct gc_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->tracker = gp_gc_tracker_new();
	if (!c->tracker) {
		free(c);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return c;
}

static void destroy(void *cap)
{
	struct gc_cap *c = cap;

	gp_gc_tracker_free(c->tracker);
	free(c);
}

/* A phase of a cycle; a finished cycle is an event. */
static int take_record(void *cap, const void *rec, size_t len)
{
	struct gc_cap *c = cap;
	struct goprof_event cycle;

	if (len < sizeof(struct gp_runtime_event))
		return 0;
	if (gp_gc_tracker_record(c->tracker, rec, &cycle) == 1)
		return c->host->emit(c->host->session, &cycle);
	return 0;
}

const struct gp_cap_ops gp_cap_gc_precise = {
	.name = "gc",
	.features = GOPROF_FEATURE_GC_PRECISE,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_GC_START_ENTER,
	.rec_last = GP_REC_STW_STARTED,
	.take_record = take_record,
};

GOPROF_API int goprof_session_gc_stats(struct goprof_session *s, int pid, struct goprof_gc_stats *out)
{
	struct goprof_gc_stats st = { .sz = sizeof(st) };
	struct gp_rt_reader *reader;
	struct gc_cap *c;

	gp_clear_error();
	if (!s || !out || pid < 0)
		return gp_err(-EINVAL, "goprof_session_gc_stats: invalid argument");
	if (out->sz < sizeof(out->sz))
		return gp_err(-EINVAL, "goprof_session_gc_stats: stats->sz must be set to "
				       "sizeof(struct goprof_gc_stats)");
	c = gp_session_cap(s, &gp_cap_gc_precise);
	reader = gp_rtstats_reader(s);
	if (c) {
		gp_gc_tracker_stats(c->tracker, (uint32_t)pid, &st);
		st.source = GOPROF_STATS_FROM_PROBES;
	} else if (reader && gp_session_host(s)->features & GOPROF_FEATURE_GC) {
		if (gp_rt_reader_gc_stats(reader, pid, &st) == -ENOMEM)
			return gp_err(-ENOMEM, "goprof_session_gc_stats: out of memory");
	} else {
		return gp_err(-EINVAL, "goprof_session_gc_stats: the session was created without "
				       "GOPROF_FEATURE_GC");
	}
	st.sz = (uint32_t)GP_MIN((size_t)out->sz, sizeof(st));
	memcpy(out, &st, st.sz);
	return 0;
}
