// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The session's use of the Go runtime uprobes (lib/go/go_probes.c): one set per Go
 * executable (every process that runs it traps on it) or per process (the precise GC and
 * scheduling probes, PID-filtered), taken off when their executable is no longer run or
 * when they cost the targets more than the overhead budget.
 */
#include <stdio.h>
#include <time.h>

#include "core/session.h"
#include "cpu_sample.skel.h"
#include "go/go_probes.h"
#include "goprof/error.h"

/* Features served by the runtime uprobes. */
#define PROBE_FEATURES (GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP | \
			GOPROF_FEATURE_SCHED | GOPROF_FEATURE_ALLOCS | GOPROF_FEATURE_BLOCK | \
			GOPROF_FEATURE_CHANNELS | GOPROF_FEATURE_HTTP)

int gp_runtime_probes_new(struct goprof_session *s, const struct session_config *cfg)
{
	uint32_t f = cfg->features;

	/* GC and scheduling latency come from the runtime's memory unless their precise
	 * modes are asked for. */
	if (!(f & GOPROF_FEATURE_GC_PRECISE))
		f &= ~GOPROF_FEATURE_GC;
	if (!(f & GOPROF_FEATURE_SCHED_PRECISE))
		f &= ~GOPROF_FEATURE_SCHED;
	gp_probe_budget_init(&s->budget, cfg->budget_bp);
	if (!(f & PROBE_FEATURES))
		return 0;
	s->go_probes = gp_go_probes_new(&s->host.shared, f);
	if (!s->go_probes)
		return errno ? -errno : -ENOMEM;
	if (f & GOPROF_FEATURE_HTTP)
		return gp_go_probes_enable_http(s->go_probes, s->host.shared.http_active);
	return 0;
}

void gp_runtime_probes_free(struct goprof_session *s)
{
	gp_go_probes_free(s->go_probes);
	s->go_probes = NULL;
}

void gp_runtime_probes_attach(struct goprof_session *s, const char *exe, int pid,
			      const struct gp_target *t, struct goprof_process_info *info)
{
	char saved[sizeof(info->note)];
	uint32_t notes = 0;

	if (!s->go_probes || !t->is_go)
		return;
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	if (gp_go_probes_attach_exe(s->go_probes, exe, pid, &notes) == 0 &&
	    gp_go_probes_attach_pid(s->go_probes, exe, (int)info->pid) == 0) /* GC/sched: precise */
		info->flags |= GOPROF_PROCESS_RUNTIME_PROBES;
	else
		snprintf(info->note, sizeof(info->note), "no Go runtime probes: %s", goprof_last_error());
	if (s->features & GOPROF_FEATURE_HTTP && info->flags & GOPROF_PROCESS_RUNTIME_PROBES) {
		if (notes & GP_NOTE_HTTP_OFF)
			snprintf(info->note, sizeof(info->note), "no HTTP tracing: %s",
				 gp_go_probes_http_note(s->go_probes));
		else
			info->flags |= GOPROF_PROCESS_HTTP;
	}
	if (notes & GP_NOTE_HEAP_OFF) {
		info->flags |= GOPROF_PROCESS_HEAP_OFF;
		snprintf(info->note, sizeof(info->note), "heap profile empty: the Go linker turned "
			 "memory profiling off in this binary (nothing in it reads a heap profile, "
			 "so MemProfileRate is 0)");
	}
	gp_err(0, "%s", saved);
}

void gp_runtime_probes_attach_pid(struct goprof_session *s, uint32_t pid)
{
	char exe[64];

	if (!s->go_probes)
		return;
	snprintf(exe, sizeof(exe), "/proc/%u/exe", pid);
	gp_go_probes_attach_pid(s->go_probes, exe, (int)pid);
}

void gp_runtime_probes_detach_pid(struct goprof_session *s, uint32_t pid)
{
	gp_go_probes_detach_pid(s->go_probes, (int)pid);
}

/*
 * A process attached by PID has probes of its own (placed in it alone): they go with it.
 * An executable attached by path has probes every process running it traps on: they go
 * when no attached process runs it and it is no longer attached by path.
 */
void gp_runtime_probes_release_exe(struct goprof_session *s, const struct attached_process *gone)
{
	if (!s->go_probes || !gone->exe_ino)
		return;
	gp_go_probes_detach_exe(s->go_probes, gone->exe_dev, gone->exe_ino, (int)gone->info.pid);
	for (size_t i = 0; i < s->nr_procs; i++)
		if (s->procs[i].attached && s->procs[i].exe_dev == gone->exe_dev &&
		    s->procs[i].exe_ino == gone->exe_ino)
			return;
	for (size_t i = 0; i < s->nr_exes; i++)
		if (s->exes[i].dev == gp_kernel_dev(gone->exe_dev) && s->exes[i].ino == gone->exe_ino)
			return;
	gp_go_probes_detach_exe(s->go_probes, gone->exe_dev, gone->exe_ino, 0);
}

int gp_runtime_probes_enforce_budget(struct goprof_session *s)
{
	struct gp_budget_verdict verdicts[GP_SET_NR];
	uint64_t now_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);
	int n;

	if (!s->go_probes || !gp_probe_budget_due(&s->budget, now_ns))
		return 0;
	n = gp_probe_budget_check(&s->budget, s->go_probes, now_ns, gp_procs_cpu_ns(s), verdicts);
	for (int i = 0; i < n && s->on_event; i++) {
		struct goprof_event ev = {
			.sz = sizeof(ev),
			.type = GOPROF_EVENT_PROBE_DETACHED,
			.time_ns = now_ns,
			.message = verdicts[i].message,
		};
		int ret = s->on_event(&ev, s->ctx);

		if (ret < 0)
			return ret;
	}
	return 0;
}

void gp_runtime_probes_stats(struct goprof_session *s, struct goprof_session_stats *st)
{
	uint64_t hits[GP_PROBE_NR];

	st->probe_sets_detached = s->budget.sets_detached; /* uprobe sets, off-CPU, HTTP wire */
	if (!s->go_probes)
		return;
	gp_go_probes_hits(s->go_probes, hits);
	for (int i = 0; i < GP_PROBE_NR; i++)
		st->probe_hits += hits[i];
	st->uprobes_installed = gp_go_probes_count(s->go_probes);
	st->probe_cost_ns = s->budget.total_cost_ns;
	st->probe_hits += gp_go_probes_set_hits(s->go_probes, GP_SET_HTTP);
}
