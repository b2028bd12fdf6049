// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The processes a session follows: the list behind goprof_session_foreach_process(),
 * kept beside the kernel's target map (what the BPF side knows of each), attached and
 * detached by PID, inspected (is it Go, which release, how to read its goroutines), and
 * shown to the capabilities through the host.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/session.h"
#include "cpu_sample.skel.h"
#include "go/wait_reasons.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

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

static int ignore_frame(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	return 0;
}

/* Reads the process's mappings now: a short-lived process may be gone when its samples
 * arrive. */
static void read_mappings(struct goprof_session *s, uint32_t pid)
{
	uint64_t probe = 0;

	goprof_symbolizer_symbolize_pid(s->sym, (int)pid, &probe, 1, ignore_frame, NULL);
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

/*
 * The process's executable, maps and memory are closed to us: another user's process and
 * no CAP_SYS_PTRACE (or a stricter ptrace policy: Yama, an LSM). Say what is lost.
 */
static void no_access(struct goprof_session *s, struct attached_process *p, struct gp_target *t)
{
	char dir[32];
	struct stat st;

	memset(t, 0, sizeof(*t));
	p->info.flags &= ~(GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES);
	p->info.go_version[0] = '\0';
	snprintf(dir, sizeof(dir), "/proc/%u", p->info.pid);
	if (!(p->info.flags & GOPROF_PROCESS_NO_ACCESS))
		s->unreadable++;
	p->info.flags |= GOPROF_PROCESS_NO_ACCESS;
	if (stat(dir, &st) == 0 && st.st_uid != geteuid())
		snprintf(p->info.note, sizeof(p->info.note),
			 "uid %u's process, unreadable: needs CAP_SYS_PTRACE or uid %u; lost: Go "
			 "detection, goroutines, runtime/HTTP probes, user symbols",
			 (unsigned)st.st_uid, (unsigned)st.st_uid);
	else
		snprintf(p->info.note, sizeof(p->info.note),
			 "/proc/%u/exe unreadable (ptrace access denied: CAP_SYS_PTRACE, Yama or "
			 "an LSM); lost: Go detection, goroutines, probes, user symbols",
			 p->info.pid);
}

/* Tells the capabilities that p is followed (attached, or its new image inspected). */
static void capabilities_add(struct goprof_session *s, const struct attached_process *p)
{
	const struct gp_process_view view = { p->info.pid, p->info.flags,
					      p->info.go_version[0] ? p->info.go_version : NULL };

	gp_caps_process_added(&s->caps, &view);
}

/* The runtime layout is the process's to prove: judged once its runtime runs. */
static void revalidate_soon(struct attached_process *p)
{
	uint64_t now = (uint64_t)gp_clock_ns(CLOCK_MONOTONIC);

	p->revalidate_until_ns = now + GP_REVALIDATE_FOR_NS;
	p->revalidate_next_ns = now + GP_REVALIDATE_EVERY_NS;
}

/* Flags that inspecting an executable sets (the others describe the process). */
#define INSPECT_FLAGS (GOPROF_PROCESS_GO | GOPROF_PROCESS_GOROUTINES | GOPROF_PROCESS_RUNTIME_PROBES | \
		       GOPROF_PROCESS_HTTP | GOPROF_PROCESS_HEAP_OFF | GOPROF_PROCESS_NO_ACCESS)

/*
 * It exec'd an executable attached by path (the kernel matched its device and inode):
 * that file was inspected, and its probes placed, at attach. Reuse that rather than
 * /proc/PID/exe, which a short-lived process may have left already (it would then be
 * listed "not Go").
 */
static void inherit_exe(struct goprof_session *s, struct attached_process *p, struct gp_target *t)
{
	const struct attached_exe *e = &s->exes[p->exe];

	*t = e->target;
	p->info.flags = (p->info.flags & ~INSPECT_FLAGS) | (e->info.flags & INSPECT_FLAGS);
	gp_strlcpy(p->info.go_version, e->info.go_version, sizeof(p->info.go_version));
	gp_strlcpy(p->info.note, e->info.note, sizeof(p->info.note));
	p->exe_dev = e->st_dev;
	p->exe_ino = (ino_t)e->ino;
	p->wait = gp_wait_reasons_find(p->info.go_version);
	if (p->info.flags & GOPROF_PROCESS_GO)
		revalidate_soon(p);
	read_mappings(s, p->info.pid);
	capabilities_add(s, p);
	if (p->info.flags & GOPROF_PROCESS_RUNTIME_PROBES)
		gp_runtime_probes_attach_pid(s, p->info.pid);
}

void gp_procs_inspect(struct goprof_session *s, struct attached_process *p, struct gp_target *t)
{
	struct stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/comm", p->info.pid);
	gp_procs_read_comm(path, p->comm);
	if (p->exe >= 0 && (size_t)p->exe < s->nr_exes) {
		inherit_exe(s, p, t);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%u/exe", p->info.pid);
	if (stat(path, &st) == 0) {
		p->exe_dev = st.st_dev;
		p->exe_ino = st.st_ino;
	} else if (errno == EACCES || errno == EPERM) {
		no_access(s, p, t);
		return;
	}
	p->info.flags &= ~GOPROF_PROCESS_NO_ACCESS;
	p->revalidate_until_ns = 0;
	if (gp_target_inspect(path, (int)p->info.pid, t, &p->info) == GP_TARGET_UNDECIDED)
		revalidate_soon(p);
	p->wait = gp_wait_reasons_find(p->info.go_version); /* NULL: numeric reasons */
	gp_runtime_probes_attach(s, path, (int)p->info.pid, t, &p->info); /* this process only */
	read_mappings(s, p->info.pid);
	capabilities_add(s, p);
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
	h->reconcile_exits = gp_procs_reconcile_exits;
	h->process_name = host_process_name;
	h->exe_of_pid = host_exe_of_pid;
}

GOPROF_API int goprof_session_attach_pid(struct goprof_session *s, int pid,
					 const struct goprof_attach_opts *opts)
{
	struct attached_process *p;
	struct gp_target t;
	__u32 key = (__u32)pid;
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_attach_pid: session is NULL");
	err = OPTS_VALID(opts, goprof_attach_opts, sz);
	if (err)
		return err;
	err = gp_proc_check_pid(pid);
	if (err)
		return err;
	p = gp_procs_find(s, (uint32_t)pid);
	if (p && p->attached)
		return gp_err(-EEXIST, "attach: process %d is already attached", pid);
	/*
	 * Into the target table first, then inspect: an exec between the two is then seen
	 * by the kernel (an exec record follows and inspects again); the other way round the
	 * process could exec unseen and keep the settings of its old image.
	 */
	memset(&t, 0, sizeof(t));
	if (bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &t, sizeof(t), BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST) /* attached meanwhile at an exec (by executable or attach_all) */
			return gp_err(err, "attach: process %d is already attached", pid);
		if (err == -E2BIG || err == -ENOSPC)
			return gp_err(-ENOSPC, "attach: %d processes are attached, the maximum",
				      GP_MAX_TARGETS);
		return gp_err(err, "attach: updating the target map failed: %s", strerror(-err));
	}
	if (!p || p->info.flags & GOPROF_PROCESS_EXITED)
		p = gp_procs_add(s, (uint32_t)pid);
	if (!p) {
		gp_procs_untarget(s, (uint32_t)pid);
		return gp_err(-ENOMEM, "attach: out of memory");
	}
	p->detached = false;
	gp_procs_inspect(s, p, &t);
	gp_procs_set_target(s, (uint32_t)pid, &t);
	p->attached = true;
	p->info.flags &= ~GOPROF_PROCESS_BY_EXE;
	s->attached++;
	return 0;
}

GOPROF_API int goprof_session_detach_pid(struct goprof_session *s, int pid)
{
	struct attached_process *p;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_detach_pid: session is NULL");
	p = gp_procs_find(s, (uint32_t)pid);
	if (!p || !p->attached)
		return gp_err(-ENOENT, "detach: process %d is not attached", pid);
	gp_procs_untarget(s, (uint32_t)pid);
	p->attached = false;
	p->detached = true;
	s->attached--;
	gp_runtime_probes_release_exe(s, p);
	gp_runtime_probes_detach_pid(s, (uint32_t)pid);
	gp_caps_process_gone(&s->caps, (uint32_t)pid, GP_PROCESS_DETACHED);
	return 0;
}

GOPROF_API int goprof_session_foreach_process(struct goprof_session *s, goprof_process_fn fn,
					      void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_process: NULL argument");
	gp_procs_reconcile_exits(s);
	for (size_t i = 0; i < s->nr_procs; i++) {
		int ret = fn(&s->procs[i].info, ctx);

		if (ret)
			return ret;
	}
	return 0;
}
