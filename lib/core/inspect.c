// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Inspecting a followed process: is it Go, which release, how the BPF side reads its
 * goroutines, which runtime probes it gets; its mappings read while it still runs.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/session.h"
#include "go/wait_reasons.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

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
