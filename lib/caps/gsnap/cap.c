// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Goroutine snapshots as a capability of the session (capability.h), and their public
 * functions. Snapshots on demand work in every session; the periodic ones (leaks, the
 * wait profile) run with GOPROF_FEATURE_GOROUTINE_SNAPSHOTS.
 */
#include <errno.h>
#include <stdlib.h>

#include "goprof/error.h"
#include "caps/gsnap/cap.h"
#include "caps/gsnap/gsnap.h"

struct gsnap_cap {
	const struct gp_host *host;
	struct gp_gsnap *g;
};

static bool wanted(uint32_t features)
{
	(void)features;
	return true; /* goprof_session_take_goroutine_snapshot() needs no feature */
}

static int validate(const struct goprof_session_opts *opts, uint32_t features)
{
	uint32_t budget_bp = OPTS_GET(opts, snapshot_cpu_budget_bp, 0);

	(void)features;
	if (budget_bp > 10000)
		return gp_err(-EINVAL, "goprof_session_opts.snapshot_cpu_budget_bp: %u is above 10000 "
				       "(a whole core)", budget_bp);
	return 0;
}

static void *create(const struct gp_host *h)
{
	/* the reader's budget (of one core), the shortest interval, the leak age */
	const struct gp_gsnap_config cfg = {
		.budget_bp = OPTS_GET(h->opts, snapshot_cpu_budget_bp, 0) ?: 100,
		.interval_ns = (uint64_t)(OPTS_GET(h->opts, snapshot_interval_ms, 0) ?: 1000) * 1000000,
		.leak_age_ns = (uint64_t)(OPTS_GET(h->opts, goroutine_leak_age_ms, 0) ?: 10000) * 1000000,
	};
	struct gsnap_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->g = gp_gsnap_new(h->sym, &cfg);
	if (!c->g) {
		free(c);
		return gp_fail_null(-ENOMEM);
	}
	return c;
}

static void destroy(void *cap)
{
	struct gsnap_cap *c = cap;

	gp_gsnap_free(c->g);
	free(c);
}

/* The followed Go processes (pid 0: all) as targets; NULL when out of memory. */
static struct gp_gsnap_target *targets(const struct gp_host *h, uint32_t pid, size_t *n)
{
	size_t nv;
	struct gp_process_view *v = h->processes(h->session, pid, &nv);
	struct gp_gsnap_target *t = v ? calloc(nv + 1, sizeof(*t)) : NULL;

	*n = 0;
	for (size_t i = 0; t && i < nv; i++)
		if (v[i].flags & GOPROF_PROCESS_GO)
			t[(*n)++] = (struct gp_gsnap_target){
				(int)v[i].pid, v[i].flags & GOPROF_PROCESS_LAYOUT_VALIDATED };
	free(v);
	return t;
}

static int emit(const struct goprof_event *ev, void *ctx)
{
	const struct gp_host *h = ctx;

	return h->emit(h->session, ev);
}

/* Periodic snapshots (their own schedule); a process they fail for says why. */
static int tick(void *cap, uint64_t now_ns)
{
	struct gsnap_cap *c = cap;
	const struct gp_host *h = c->host;
	struct gp_gsnap_target *t;
	size_t n;
	int ret;

	if (!(h->features & GOPROF_FEATURE_GOROUTINE_SNAPSHOTS))
		return 0;
	t = targets(h, 0, &n);
	if (!t)
		return 0;
	ret = gp_gsnap_tick(c->g, t, n, now_ns, emit, (void *)h);
	for (size_t i = 0; i < n; i++) {
		const char *note = gp_gsnap_note(c->g, t[i].pid);

		if (note[0])
			h->process_flags(h->session, (uint32_t)t[i].pid, 0, 0, note, false);
	}
	free(t);
	return ret;
}

/* Exited or exec'd: its reader and history go. A detached process is not read again
 * (it is no longer among the targets) and keeps its history. */
static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct gsnap_cap *c = cap;

	if (why != GP_PROCESS_DETACHED)
		gp_gsnap_forget_pid(c->g, (int)pid);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct gsnap_cap *c = cap;

	(void)lost;
	gp_gsnap_stats(c->g, st);
}

const struct gp_cap_ops gp_cap_gsnap = {
	.name = "gsnap",
	.features = GOPROF_FEATURE_GOROUTINE_SNAPSHOTS,
	.wanted = wanted,
	.validate = validate,
	.create = create,
	.destroy = destroy,
	.tick = tick,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

struct goprof_profile *gp_gsnap_session_profile(struct goprof_session *s, uint64_t min_age_ns)
{
	struct gsnap_cap *c = gp_session_cap(s, &gp_cap_gsnap);
	struct goprof_profile *p;
	struct gp_gsnap_target *t;
	size_t n;

	if (!c)
		return gp_err_null(-EINVAL, "no goroutine snapshots in this session");
	t = targets(c->host, 0, &n);
	if (!t)
		return gp_err_null(-ENOMEM, "goprof_session_snapshot_goroutines: out of memory");
	p = gp_gsnap_profile(c->g, t, n, min_age_ns);
	free(t);
	return p;
}

GOPROF_API struct goprof_goroutine_snapshot *
goprof_session_take_goroutine_snapshot(struct goprof_session *s, int pid, uint32_t flags)
{
	struct goprof_goroutine_snapshot *snap;
	struct gp_gsnap_target *t;
	struct gsnap_cap *c;
	size_t n;

	gp_clear_error();
	if (!s || pid < 0 || flags)
		return gp_err_null(-EINVAL, "goprof_session_take_goroutine_snapshot: %s",
				   !s ? "session is NULL" : pid < 0 ? "negative pid" : "unknown flags");
	c = gp_session_cap(s, &gp_cap_gsnap);
	if (!c)
		return gp_err_null(-ENOMEM, "goprof_session_take_goroutine_snapshot: out of memory");
	t = targets(c->host, (uint32_t)pid, &n);
	if (!t)
		return gp_err_null(-ENOMEM, "goprof_session_take_goroutine_snapshot: out of memory");
	if (!n) {
		free(t);
		return gp_err_null(-ESRCH, "goprof_session_take_goroutine_snapshot: %s", pid ?
				   "the process is not an attached Go process (or has exited)" :
				   "no attached Go process");
	}
	snap = gp_gsnap_take(c->g, t, n);
	free(t);
	return snap;
}

/* The capability of a session created with GOPROF_FEATURE_GOROUTINE_SNAPSHOTS, or NULL
 * with the error recorded for fn. */
static struct gsnap_cap *periodic(struct goprof_session *s, const char *fn)
{
	struct gsnap_cap *c = gp_session_cap(s, &gp_cap_gsnap);

	if (!c || !(c->host->features & GOPROF_FEATURE_GOROUTINE_SNAPSHOTS))
		return gp_err_null(-EINVAL, "%s: the session was created without "
				   "GOPROF_FEATURE_GOROUTINE_SNAPSHOTS", fn);
	return c;
}

GOPROF_API struct goprof_profile *goprof_session_snapshot_goroutine_waits(struct goprof_session *s,
									   uint32_t flags)
{
	struct gsnap_cap *c;

	gp_clear_error();
	if (!s || flags & ~GOPROF_SNAPSHOT_RESET)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_goroutine_waits: %s",
				   s ? "unknown flags" : "session is NULL");
	c = periodic(s, "goprof_session_snapshot_goroutine_waits");
	return c ? gp_gsnap_wait_profile(c->g, flags & GOPROF_SNAPSHOT_RESET) : NULL;
}

GOPROF_API int goprof_session_foreach_goroutine_leak(struct goprof_session *s,
						     goprof_goroutine_leak_fn fn, void *ctx)
{
	struct gsnap_cap *c;

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_goroutine_leak: NULL argument");
	c = periodic(s, "goprof_session_foreach_goroutine_leak");
	return c ? gp_gsnap_foreach_leak(c->g, fn, ctx) : -EINVAL;
}
