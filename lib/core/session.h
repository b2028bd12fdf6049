/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The session object, shared by the modules of lib/core/ that make it up:
 *   session.c        life cycle: new, start, poll, stop, stats, free
 *   options.c        the caller's options, checked
 *   records.c        the ring buffer: taking records in, dispatching them by type
 *   processes.c      the followed processes: the list, the kernel's target map
 *   inspect.c        what a process is: Go, its release, its runtime probes
 *   attach.c         attach and detach by PID
 *   process_events.c exec and exit records, exits the ring buffer lost
 *   revalidate.c     runtime layouts judged again once a process's runtime runs
 *   attach_exe.c     executables attached by path
 *   attach_all.c     every process of the machine
 *   runtime_probes.c the Go runtime uprobes: placed per executable or process, budgeted
 * Capabilities never see this: they get struct gp_host (capability.h).
 */
#ifndef GOPROF_CORE_SESSION_H
#define GOPROF_CORE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cap_set.h"
#include "core/probe_budget.h"
#include "core/target.h"
#include "goprof/session.h"
#include "goprof_bpf.h"
#include "internal.h"

struct cpu_sample_bpf;
struct ring_buffer;
struct gp_go_probes;
struct gp_wait_reasons;

/* A process attached directly or found through an attached executable. */
struct attached_process {
	struct goprof_process_info info;
	char comm[GOPROF_COMM_LEN]; /* process name: the root frame of folded stacks */
	int exe;       /* index in exes[] when found through an attached executable, else -1 */
	bool attached; /* still in the kernel's target map */
	bool detached; /* by goprof_session_detach_pid(): attach_all does not take it back */
	dev_t exe_dev; /* its executable (stat of /proc/PID/exe at attach or exec) */
	ino_t exe_ino;
	const struct gp_wait_reasons *wait; /* Go release's wait reasons, NULL if unknown */
	/* Runtime layout still undecided (process seen before its runtime started, or with
	 * no goroutine on a thread): looked at again (revalidate.c) at revalidate_next_ns
	 * until revalidate_until_ns (CLOCK_MONOTONIC); revalidate_until_ns 0 when decided. */
	uint64_t revalidate_until_ns, revalidate_next_ns;
	/* Re-judgements in a row that found the layout wrong: a goroutine moving between
	 * threads while we read can fail one pass, so context goes off after a few. */
	uint32_t revalidate_failures;
};

/* An executable attached by path. */
struct attached_exe {
	uint64_t dev, ino;         /* the kernel's dev_t and inode */
	struct goprof_binary *bin; /* for processes gone before their maps were read; ET_EXEC only */
	dev_t st_dev;              /* dev as stat() gives it */
	struct gp_target target;   /* inspected at attach: what its processes get */
	struct goprof_process_info info; /* ... and what they are listed as */
};

/* The options of goprof_session_new(), checked (options.c). */
struct session_config {
	const struct goprof_session_opts *opts; /* capabilities read their own */
	unsigned freq_hz, ringbuf_kib, user_depth, kernel_depth;
	uint32_t features;
	uint32_t budget_bp;  /* the overhead budget, default applied */
	bool request_labels; /* the CPU sampler labels samples with the HTTP request in flight */
};

struct goprof_session {
	struct gp_cap_set caps; /* first: gp_session_cap() finds it here */
	struct cpu_sample_bpf *skel; /* the core program: targets, exec/exit, CPU samples */
	struct ring_buffer *ringbuf;
	struct goprof_symbolizer *sym;
	struct gp_go_probes *go_probes; /* the Go runtime uprobes; NULL: none wanted */
	struct gp_probe_budget budget;
	struct gp_host host;            /* what the capabilities share */
	uint32_t features;
	goprof_event_fn on_event;
	void *ctx;
	bool started;

	/* the followed processes (processes.c) */
	struct attached_process *procs;
	size_t nr_procs, procs_cap;
	unsigned attached;
	uint64_t exited;
	uint64_t unreadable; /* processes inspected without access (GOPROF_PROCESS_NO_ACCESS) */
	struct attached_exe *exes;
	size_t nr_exes, nr_exes_cap;

	/* goprof_session_attach_all(): all_max is 0 until it is called */
	uint32_t all_flags, all_max;
	goprof_attach_filter_fn all_filter;
	void *all_ctx;
	uint64_t over_limit, filtered;

	/* records (records.c) */
	uint64_t events_delivered, ringbuf_high_water, ringbuf_bytes;
	unsigned taken_in_call;   /* taken in this call ... */
	int64_t take_in_until_ns; /* ... and when it must hand back */
	bool yielded;
};

/* options.c */
GOPROF_HIDDEN int gp_session_config_read(const struct goprof_session_opts *opts,
					 struct session_config *cfg);

/* records.c: the ring buffer's record callback, and taking records in for up to
 * timeout_ms (-1: until there is one); the number taken or a negative errno. */
GOPROF_HIDDEN int gp_records_handle(void *session, void *data, size_t len);
GOPROF_HIDDEN int gp_records_take_in(struct goprof_session *s, int timeout_ms);
GOPROF_HIDDEN void gp_records_note_fill(struct goprof_session *s);

/* processes.c */
GOPROF_HIDDEN struct attached_process *gp_procs_find(struct goprof_session *s, uint32_t pid);
GOPROF_HIDDEN struct attached_process *gp_procs_add(struct goprof_session *s, uint32_t pid);
GOPROF_HIDDEN void gp_procs_drop(struct goprof_session *s, struct attached_process *p);
GOPROF_HIDDEN void gp_procs_prune_exited(struct goprof_session *s);
GOPROF_HIDDEN void gp_procs_read_comm(const char *path, char comm[GOPROF_COMM_LEN]);
/* Fills the host's process services (struct gp_host). */
GOPROF_HIDDEN void gp_procs_host_services(struct gp_host *h);
/* CPU time (user + system) of the followed processes that still run, in ns. */
GOPROF_HIDDEN uint64_t gp_procs_cpu_ns(struct goprof_session *s);
/* Starts and ends the table of one process in the kernel's target map. */
GOPROF_HIDDEN void gp_procs_set_target(struct goprof_session *s, uint32_t pid,
				       const struct gp_target *t);
GOPROF_HIDDEN void gp_procs_untarget(struct goprof_session *s, uint32_t pid);
/* The kernel's encoding of a dev_t, as inode->i_sb->s_dev holds it. */
GOPROF_HIDDEN uint64_t gp_kernel_dev(dev_t dev);

/* inspect.c: reads the process's executable and fills t, the BPF side's view of it. */
GOPROF_HIDDEN void gp_procs_inspect(struct goprof_session *s, struct attached_process *p,
				    struct gp_target *t);

/* process_events.c */
GOPROF_HIDDEN int gp_procs_on_exec(struct goprof_session *s, const struct gp_exec_event *ev);
GOPROF_HIDDEN int gp_procs_on_exit(struct goprof_session *s, const struct gp_exec_event *ev);
GOPROF_HIDDEN void gp_procs_reconcile_exits(struct goprof_session *s);

/* revalidate.c */
#define GP_REVALIDATE_FOR_NS 5000000000ull
#define GP_REVALIDATE_EVERY_NS 50000000ull
GOPROF_HIDDEN void gp_procs_revalidate_tick(struct goprof_session *s);


/* attach_all.c: is the process that started running (under attach_all) to be followed?
 * If not, it leaves the kernel's target table. */
GOPROF_HIDDEN bool gp_attach_all_follows(struct goprof_session *s, uint32_t pid, const char *comm);

/* runtime_probes.c */
GOPROF_HIDDEN int gp_runtime_probes_new(struct goprof_session *s, const struct session_config *cfg);
GOPROF_HIDDEN void gp_runtime_probes_free(struct goprof_session *s);
/* Places the probes on a Go executable (pid 0: every process that runs it) and says in
 * info what the process gets. */
GOPROF_HIDDEN void gp_runtime_probes_attach(struct goprof_session *s, const char *exe, int pid,
					    const struct gp_target *t,
					    struct goprof_process_info *info);
/* The process's own (PID-filtered) probes, after an exec into an attached executable. */
GOPROF_HIDDEN void gp_runtime_probes_attach_pid(struct goprof_session *s, uint32_t pid);
GOPROF_HIDDEN void gp_runtime_probes_detach_pid(struct goprof_session *s, uint32_t pid);
/* The probes of the executable a process ran, if no followed process runs it any more. */
GOPROF_HIDDEN void gp_runtime_probes_release_exe(struct goprof_session *s,
						 const struct attached_process *gone);
/* Takes probes off when they cost over the budget; the callback's negative answer. */
GOPROF_HIDDEN int gp_runtime_probes_enforce_budget(struct goprof_session *s);
GOPROF_HIDDEN void gp_runtime_probes_stats(struct goprof_session *s, struct goprof_session_stats *st);

#endif /* GOPROF_CORE_SESSION_H */
