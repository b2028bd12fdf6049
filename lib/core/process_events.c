// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The kernel's exec and exit records of followed processes (bpf/cpu_sample.bpf.c keeps
 * the target map right at once; this keeps the session's list and the capabilities in
 * step), and the exits whose records the full ring buffer lost.
 */
#include <bpf/libbpf.h>
#include <time.h>

#include "core/session.h"
#include "cpu_sample.skel.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

/* GOPROF_EVENT_PROCESS_EXEC or _EXIT about p: the callback's answer. */
static int process_event(struct goprof_session *s, uint32_t type, const struct attached_process *p)
{
	struct goprof_event ev = { .sz = sizeof(ev), .type = type, .pid = p->info.pid,
				   .time_ns = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC),
				   .process = &p->info };

	return s->on_event ? s->on_event(&ev, s->ctx) : 0;
}

/* The process the exec record is about, added to the list if it is new and followed;
 * NULL: not followed. */
static struct attached_process *exec_process(struct goprof_session *s, const struct gp_exec_event *ev)
{
	struct attached_process *p = gp_procs_find(s, ev->pid);

	if (p && p->info.flags & GOPROF_PROCESS_EXITED)
		p = NULL; /* a new process with a reused PID */
	if (p && p->detached && !ev->exe.ino) {
		/* Detached by the caller: attach_all's exec hook does not take it back. */
		gp_procs_untarget(s, ev->pid);
		return NULL;
	}
	if (p && !p->attached) { /* detached, now running an executable attached by path */
		p->attached = true;
		p->detached = false;
		s->attached++;
	}
	if (!p && !ev->exe.ino && !gp_attach_all_follows(s, ev->pid, ev->comm))
		return NULL; /* started under goprof_session_attach_all(), and not wanted */
	if (!p) {
		p = gp_procs_add(s, ev->pid);
		if (!p)
			return NULL;
		p->info.flags |= ev->exe.ino ? GOPROF_PROCESS_BY_EXE : GOPROF_PROCESS_BY_ALL;
		p->attached = true;
		s->attached++;
	}
	return p;
}

int gp_procs_on_exec(struct goprof_session *s, const struct gp_exec_event *ev)
{
	struct attached_process *p = exec_process(s, ev), before;
	struct gp_target t;

	if (!p)
		return 0;
	before = *p;
	p->exe = -1; /* the new image is an attached executable, or not */
	for (size_t i = 0; ev->exe.ino && i < s->nr_exes; i++)
		if (s->exes[i].dev == ev->exe.dev && s->exes[i].ino == ev->exe.ino)
			p->exe = (int)i;
	/* The old image's mappings and Go settings are gone with the exec. */
	goprof_symbolizer_forget_pid(s->sym, (int)ev->pid);
	gp_runtime_probes_detach_pid(s, ev->pid);
	gp_caps_process_gone(&s->caps, ev->pid, GP_PROCESS_EXECED);
	gp_procs_inspect(s, p, &t);
	if (before.exe_ino && (before.exe_ino != p->exe_ino || before.exe_dev != p->exe_dev))
		gp_runtime_probes_release_exe(s, &before); /* if no one else runs the old image */
	gp_procs_set_target(s, ev->pid, &t);
	if (p->info.flags & GOPROF_PROCESS_BY_ALL && s->all_flags & GOPROF_ATTACH_ALL_GO_ONLY &&
	    !(p->info.flags & GOPROF_PROCESS_GO)) {
		goprof_session_detach_pid(s, (int)ev->pid);
		gp_procs_drop(s, gp_procs_find(s, ev->pid));
		s->filtered++;
		gp_clear_error();
		return 0;
	}
	return process_event(s, GOPROF_EVENT_PROCESS_EXEC, p);
}

int gp_procs_on_exit(struct goprof_session *s, const struct gp_exec_event *ev)
{
	struct attached_process *p = gp_procs_find(s, ev->pid);
	int ret;

	if (!p || !p->attached)
		return 0;
	s->exited++;
	/* The kernel already dropped it from the target map; symbols stay for its samples. */
	p->attached = false;
	p->info.flags |= GOPROF_PROCESS_EXITED;
	s->attached--;
	gp_runtime_probes_release_exe(s, p);
	/* Its samples are in (the ring buffer keeps order): drop what the PID's reuse would
	 * get wrong, and what would grow with every process that comes and goes. */
	gp_runtime_probes_detach_pid(s, ev->pid); /* its own precise GC/sched probes */
	gp_caps_process_gone(&s->caps, ev->pid, GP_PROCESS_EXITED);
	goprof_symbolizer_forget_pid(s->sym, (int)ev->pid);
	ret = process_event(s, GOPROF_EVENT_PROCESS_EXIT, p);
	gp_procs_prune_exited(s);
	return ret;
}

/*
 * Exit records can be lost when the ring buffer is full; the kernel removes an exiting
 * process from the target table all the same. A process we think attached that is no
 * longer there has exited.
 */
void gp_procs_reconcile_exits(struct goprof_session *s)
{
	for (size_t i = 0; i < s->nr_procs; i++) {
		struct attached_process *p = &s->procs[i];
		struct gp_target t;
		__u32 key = p->info.pid;
		struct gp_exec_event ev = { .type = GP_REC_EXIT, .pid = p->info.pid };

		if (!p->attached ||
		    bpf_map__lookup_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), 0) == 0)
			continue;
		gp_procs_on_exit(s, &ev); /* may prune the list: start over */
		i = (size_t)-1;
	}
}
