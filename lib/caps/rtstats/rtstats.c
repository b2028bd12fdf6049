// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The runtime statistics reader as a capability of the session (see rtstats.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "caps/rtstats/rtstats.h"
#include "go/rt_reader.h"

struct rtstats {
	const struct gp_host *host;
	struct gp_rt_reader *reader;
	uint32_t *pids; /* processes handed to the reader and not gone */
	size_t nr_pids, pids_cap;
};

/* The precise modes (GOPROF_FEATURE_*_PRECISE) use runtime probes instead. */
static bool wanted(uint32_t f)
{
	return ((f & GOPROF_FEATURE_GC) && !(f & GOPROF_FEATURE_GC_PRECISE)) ||
	       ((f & GOPROF_FEATURE_SCHED) && !(f & GOPROF_FEATURE_SCHED_PRECISE));
}

static void *create(const struct gp_host *h)
{
	struct rtstats *r = calloc(1, sizeof(*r));

	if (!r)
		return gp_err_null(-ENOMEM, "out of memory");
	r->host = h;
	r->reader = gp_rt_reader_new(h->budget_bp);
	if (!r->reader) {
		free(r);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return r;
}

static void destroy(void *cap)
{
	struct rtstats *r = cap;

	gp_rt_reader_free(r->reader);
	free(r->pids);
	free(r);
}

static void forget(struct rtstats *r, uint32_t pid)
{
	for (size_t i = 0; i < r->nr_pids; i++)
		if (r->pids[i] == pid) {
			r->pids[i] = r->pids[--r->nr_pids];
			return;
		}
}

/* Reads the runtime's statistics from a Go process's memory from now on. */
static void process_added(void *cap, const struct gp_process_view *p)
{
	struct rtstats *r = cap;
	char exe[64], note[160] = "";
	int ret;

	if (!(p->flags & GOPROF_PROCESS_GO)) {
		r->host->process_flags(r->host->session, p->pid, 0, GOPROF_PROCESS_RUNTIME_STATS,
				       NULL, false);
		return;
	}
	snprintf(exe, sizeof(exe), "/proc/%u/exe", p->pid);
	ret = gp_rt_reader_add(r->reader, (int)p->pid, exe, p->go_version, note, sizeof(note));
	if (ret >= 0 && !gp_grow((void **)&r->pids, &r->pids_cap, r->nr_pids + 1, sizeof(*r->pids)))
		r->pids[r->nr_pids++] = p->pid;
	r->host->process_flags(r->host->session, p->pid, ret == 1 ? GOPROF_PROCESS_RUNTIME_STATS : 0,
			       GOPROF_PROCESS_RUNTIME_STATS, note[0] ? note : NULL, ret < 0);
}

/* Not read any more; its figures stay. */
static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct rtstats *r = cap;

	(void)why;
	gp_rt_reader_exited(r->reader, (int)pid);
	forget(r, pid);
}

static int emit(const struct goprof_event *ev, void *ctx)
{
	const struct gp_host *h = ctx;

	return h->emit(h->session, ev);
}

/* Reads the processes whose turn it is; a process decided on gets its flag and note. */
static int tick(void *cap, uint64_t now_ns)
{
	struct rtstats *r = cap;
	int ret = gp_rt_reader_tick(r->reader, emit, (void *)r->host);

	(void)now_ns;
	for (size_t i = 0; ret == 1 && i < r->nr_pids; i++) {
		const char *note;

		switch (gp_rt_reader_state(r->reader, (int)r->pids[i], &note)) {
		case 1:
			r->host->process_flags(r->host->session, r->pids[i],
					       GOPROF_PROCESS_RUNTIME_STATS, 0, NULL, false);
			break;
		case -1:
			r->host->process_flags(r->host->session, r->pids[i], 0,
					       GOPROF_PROCESS_RUNTIME_STATS, note[0] ? note : NULL, true);
			break;
		}
	}
	return ret < 0 ? ret : 0;
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct rtstats *r = cap;
	struct gp_rt_counters rc;

	(void)lost;
	gp_rt_reader_counters(r->reader, &rc);
	st->rt_reads = rc.reads;
	st->rt_read_bytes = rc.read_bytes;
	st->rt_read_failures = rc.read_failures;
	st->rt_read_cpu_ns = rc.cpu_ns;
	st->rt_processes = rc.processes;
	st->rt_interval_ms = rc.interval_ms;
}

const struct gp_cap_ops gp_cap_rtstats = {
	.name = "rtstats",
	.features = GOPROF_FEATURE_GC | GOPROF_FEATURE_SCHED,
	.wanted = wanted,
	.create = create,
	.destroy = destroy,
	.tick = tick,
	.process_added = process_added,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

struct gp_rt_reader *gp_rtstats_reader(struct goprof_session *s)
{
	struct rtstats *r = gp_session_cap(s, &gp_cap_rtstats);

	return r ? r->reader : NULL;
}
