// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof_session_attach_pid() and goprof_session_detach_pid(). */
#include <bpf/libbpf.h>

#include "core/proc.h"
#include "core/session.h"
#include "cpu_sample.skel.h"
#include "goprof/error.h"

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
