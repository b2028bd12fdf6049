// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Scheduling latency's public functions. By default (GOPROF_FEATURE_SCHED) the figures
 * are the runtime's own, read from memory by the rtstats capability; with
 * GOPROF_FEATURE_SCHED_PRECISE each wait is timed by the runtime probes
 * (runtime.casgstatus, placed per process by lib/go/go_probes.c) and summarised here by
 * goroutine creation site, which needs the goroutines capability's table.
 */
#include <errno.h>
#include <string.h>

#include "caps/goroutines/cap.h"
#include "caps/rtstats/rtstats.h"
#include "caps/sched/sched_latency.h"
#include "goprof/error.h"
#include "go/rt_reader.h"

GOPROF_API int goprof_session_sched_stats(struct goprof_session *s, int pid,
					  struct goprof_sched_stats *out)
{
	struct goprof_sched_stats st = { .sz = sizeof(st) };

	gp_clear_error();
	if (!s || !out || pid < 0)
		return gp_err(-EINVAL, "goprof_session_sched_stats: invalid argument");
	if (out->sz < sizeof(out->sz))
		return gp_err(-EINVAL, "goprof_session_sched_stats: stats->sz must be set to "
				       "sizeof(struct goprof_sched_stats)");
	if (!(gp_session_host(s)->features & GOPROF_FEATURE_SCHED))
		return gp_err(-EINVAL, "goprof_session_sched_stats: the session was created without "
				       "GOPROF_FEATURE_SCHED");
	if (gp_rtstats_reader(s) && !(gp_session_host(s)->features & GOPROF_FEATURE_SCHED_PRECISE)) {
		if (gp_rt_reader_sched_stats(gp_rtstats_reader(s), pid, &st) == -ENOMEM)
			return gp_err(-ENOMEM, "goprof_session_sched_stats: out of memory");
	} else {
		gp_sched_summary(gp_session_host(s)->probes, (uint32_t)pid, &st);
		st.source = GOPROF_STATS_FROM_PROBES;
		st.sample_every = 1;
	}
	st.sz = (uint32_t)GP_MIN((size_t)out->sz, sizeof(st));
	memcpy(out, &st, st.sz);
	return 0;
}

GOPROF_API struct goprof_profile *goprof_session_snapshot_sched(struct goprof_session *s, uint32_t flags)
{
	struct goprof_profile *p;
	int err;

	gp_clear_error();
	if (!s || flags)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_sched: invalid argument");
	if (!(gp_session_host(s)->features & GOPROF_FEATURE_SCHED))
		return gp_err_null(-EINVAL, "goprof_session_snapshot_sched: the session was created "
					    "without GOPROF_FEATURE_SCHED");
	p = NULL;
	err = gp_sched_foreach_site(gp_session_host(s)->probes, gp_goroutines_of(s), gp_session_host(s)->sym, &p, NULL, NULL);

	return err ? gp_fail_null(err) : p;
}

GOPROF_API int goprof_session_foreach_sched_site(struct goprof_session *s, goprof_sched_site_fn fn,
						 void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_sched_site: session and fn must not be NULL");
	if (!(gp_session_host(s)->features & GOPROF_FEATURE_SCHED))
		return gp_err(-EINVAL, "goprof_session_foreach_sched_site: the session was created "
				       "without GOPROF_FEATURE_SCHED");
	return gp_sched_foreach_site(gp_session_host(s)->probes, gp_goroutines_of(s), gp_session_host(s)->sym, NULL, fn, ctx);
}
