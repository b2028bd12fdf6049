// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The processes a session follows: the list behind goprof_session_foreach_process(),
 * kept beside the kernel's target map (what the BPF side knows of each), and shown to
 * the capabilities through the host.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/session.h"
#include "cpu_sample.skel.h"
#include "goprof/error.h"

/* Exited processes kept for goprof_session_foreach_process(); older ones are dropped. */
#define MAX_EXITED_PROCESSES 256

struct attached_process *gp_procs_find(struct goprof_session *s, uint32_t pid)
{
	/* Newest first: a reused PID refers to the latest process. */
	for (size_t i = s->nr_procs; i-- > 0;)
		if (s->procs[i].info.pid == pid)
			return &s->procs[i];
	return NULL;
}

struct attached_process *gp_procs_add(struct goprof_session *s, uint32_t pid)
{
	struct attached_process *p;

	if (gp_grow((void **)&s->procs, &s->procs_cap, s->nr_procs + 1, sizeof(*p)))
		return NULL;
	p = &s->procs[s->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->info.sz = sizeof(p->info);
	p->info.pid = pid;
	p->exe = -1;
	return p;
}

void gp_procs_drop(struct goprof_session *s, struct attached_process *p)
{
	size_t i = (size_t)(p - s->procs);

	memmove(p, p + 1, (s->nr_procs - i - 1) * sizeof(*p));
	s->nr_procs--;
}

void gp_procs_prune_exited(struct goprof_session *s)
{
	size_t exited = 0, kept = 0;

	for (size_t i = 0; i < s->nr_procs; i++)
		exited += !s->procs[i].attached;
	for (size_t i = 0; i < s->nr_procs; i++) {
		if (!s->procs[i].attached && exited > MAX_EXITED_PROCESSES) {
			exited--;
			continue;
		}
		s->procs[kept++] = s->procs[i];
	}
	s->nr_procs = kept;
}

void gp_procs_set_target(struct goprof_session *s, uint32_t pid, const struct gp_target *t)
{
	__u32 key = pid;

	bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), t, sizeof(*t), BPF_EXIST);
}

void gp_procs_untarget(struct goprof_session *s, uint32_t pid)
{
	__u32 key = pid;

	bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0); /* may have exited */
}

void gp_procs_read_comm(const char *path, char comm[GOPROF_COMM_LEN])
{
	FILE *f = fopen(path, "re");

	comm[0] = '\0';
	if (f) {
		if (fgets(comm, GOPROF_COMM_LEN, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

uint64_t gp_kernel_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev); /* MKDEV */
}

uint64_t gp_procs_cpu_ns(struct goprof_session *s)
{
	long ticks = sysconf(_SC_CLK_TCK);
	uint64_t total = 0;

	for (size_t i = 0; i < s->nr_procs; i++) {
		unsigned long long utime, stime;
		char path[64], buf[1024], *p;
		FILE *f;

		if (!s->procs[i].attached)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/stat", s->procs[i].info.pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* After "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
		 * cmajflt utime stime: fields 3..15 of the line. */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&utime, &stime) == 2)
			total += (utime + stime) * (1000000000ull / (uint64_t)ticks);
	}
	return total;
}

/* The host's view of the process table (struct gp_host). */

static const char *host_process_name(void *session, uint32_t pid)
{
	struct attached_process *p = gp_procs_find(session, pid);

	return p && p->comm[0] ? p->comm : NULL;
}

static struct goprof_binary *host_exe_of_pid(void *session, uint32_t pid)
{
	struct goprof_session *s = session;
	struct attached_process *p = gp_procs_find(s, pid);

	return p && p->exe >= 0 ? s->exes[p->exe].bin : NULL;
}

static void host_process_flags(struct goprof_session *s, uint32_t pid, uint32_t set,
			       uint32_t clear, const char *note, bool note_over)
{
	struct attached_process *p = gp_procs_find(s, pid);

	if (!p)
		return;
	p->info.flags = (p->info.flags & ~clear) | set;
	if (note && (note_over || !p->info.note[0]))
		gp_strlcpy(p->info.note, note, sizeof(p->info.note));
}

static struct gp_process_view *host_processes(struct goprof_session *s, uint32_t pid, size_t *n)
{
	struct gp_process_view *v = calloc(s->nr_procs + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < s->nr_procs; i++) {
		const struct attached_process *p = &s->procs[i];

		if (!p->attached || p->info.flags & GOPROF_PROCESS_EXITED || (pid && p->info.pid != pid))
			continue;
		v[(*n)++] = (struct gp_process_view){ p->info.pid, p->info.flags,
						      p->info.go_version[0] ? p->info.go_version : NULL };
	}
	return v;
}

static const struct gp_wait_reasons *host_wait_reasons(struct goprof_session *s, uint32_t pid)
{
	const struct attached_process *p = gp_procs_find(s, pid);

	return p ? p->wait : NULL;
}

void gp_procs_host_services(struct gp_host *h)
{
	h->targets_cpu_ns = gp_procs_cpu_ns;
	h->process_flags = host_process_flags;
	h->processes = host_processes;
	h->wait_reasons = host_wait_reasons;
	h->process_name = host_process_name;
	h->exe_of_pid = host_exe_of_pid;
}
