// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof_session_attach_all(): every process of the machine, the running ones from a
 * scan of /proc and the new ones at their exec (the kernel puts them in the target
 * table; gp_attach_all_follows() decides), within the caller's filter and limit.
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/session.h"
#include "cpu_sample.skel.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

bool gp_attach_all_follows(struct goprof_session *s, uint32_t pid, const char *comm)
{
	char name[GOPROF_COMM_LEN];

	if (!s->all_max)
		return false; /* not from attach_all: an exec record of a process we let go */
	gp_strlcpy(name, comm, sizeof(name));
	if (s->attached >= s->all_max) {
		s->over_limit++;
	} else if (s->all_filter && s->all_filter((int)pid, name, s->all_ctx)) {
		s->filtered++;
	} else {
		return true;
	}
	gp_procs_untarget(s, pid);
	return false;
}

/* Is the executable of the process a Go program? (GOPROF_ATTACH_ALL_GO_ONLY, at the scan) */
static bool runs_go(int pid)
{
	char exe[64], saved[256];
	struct goprof_binary *bin;
	bool go;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	bin = goprof_binary_open(exe, NULL);
	go = bin && goprof_binary_is_go(bin);
	goprof_binary_free(bin);
	gp_err(0, "%s", saved);
	return go;
}

/* The processes running at the call. */
static void attach_running(struct goprof_session *s)
{
	DIR *proc = opendir("/proc");
	int self = getpid();
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		int pid = atoi(de->d_name);
		struct attached_process *p;
		char path[64], comm[GOPROF_COMM_LEN];

		if (pid <= 0 || pid == self || ((p = gp_procs_find(s, (uint32_t)pid)) && p->attached))
			continue;
		if (gp_proc_check_pid(pid))
			continue; /* a kernel thread, a zombie, or gone */
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		gp_procs_read_comm(path, comm);
		if (s->attached >= s->all_max) {
			s->over_limit++;
			continue;
		}
		if ((s->all_filter && s->all_filter(pid, comm, s->all_ctx)) ||
		    (s->all_flags & GOPROF_ATTACH_ALL_GO_ONLY && !runs_go(pid))) {
			s->filtered++;
			continue;
		}
		if (goprof_session_attach_pid(s, pid, NULL) == 0)
			gp_procs_find(s, (uint32_t)pid)->info.flags |= GOPROF_PROCESS_BY_ALL;
	}
	closedir(proc);
}

GOPROF_API int goprof_session_attach_all(struct goprof_session *s,
					 const struct goprof_attach_all_opts *opts)
{
	uint32_t flags, max;
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_attach_all: session is NULL");
	err = OPTS_VALID(opts, goprof_attach_all_opts, ctx);
	if (err)
		return err;
	flags = OPTS_GET(opts, flags, 0);
	if (flags & ~GOPROF_ATTACH_ALL_GO_ONLY)
		return gp_err(-EINVAL, "goprof_session_attach_all: unknown flags 0x%x", flags);
	if (s->all_max)
		return gp_err(-EALREADY, "goprof_session_attach_all: already called on this session");
	max = OPTS_GET(opts, max_processes, 0);
	s->all_max = !max || max > GP_MAX_TARGETS ? GP_MAX_TARGETS : max;
	s->all_flags = flags;
	s->all_filter = OPTS_GET(opts, filter, NULL);
	s->all_ctx = OPTS_GET(opts, ctx, NULL);
	/* Execs first, then the scan: a process that execs in between is seen by both and
	 * attached once (the scan skips what an exec record attached, and the other way). */
	s->skel->bss->attach_all = true;
	attach_running(s);
	gp_clear_error(); /* races with processes that exit during the scan are expected */
	return 0;
}
