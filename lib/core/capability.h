/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The interface every capability of a session implements (docs/architecture.md), and
 * the host: what the session gives its capabilities to share.
 *
 * A capability is one table of operations (struct gp_cap_ops) and one line in
 * lib/caps/meson.build (the registry). The session creates the capabilities whose features were asked
 * for, in registry order, and calls their operations from its life cycle: start, stop,
 * every poll (tick), each ring-buffer record of theirs, each process that exits, and the
 * statistics. Every operation but create and destroy is optional.
 */
#ifndef GOPROF_CAPABILITY_H
#define GOPROF_CAPABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/bpf_load.h"
#include "goprof/session.h"
#include "goprof/symbolizer.h"
#include "internal.h"

struct bpf_map;
struct bpf_program;
struct goprof_session;
struct gp_go_probes;
struct gp_http_event;
struct gp_sample_event;
struct gp_wait_reasons;

/* A process the session follows, as a capability sees it. */
struct gp_process_view {
	uint32_t pid;
	uint32_t flags;         /* GOPROF_PROCESS_* */
	const char *go_version; /* NULL: not Go */
};

/* Why a process is no longer followed as it was. */
enum gp_process_change {
	GP_PROCESS_EXITED,
	GP_PROCESS_EXECED,   /* process_added() follows for its new image */
	GP_PROCESS_DETACHED, /* by the caller */
};

/* What the session shares with its capabilities. */
struct gp_host {
	struct gp_shared_maps shared;   /* the core program's maps other BPF objects reuse */
	/* The core program's CPU sampler and its own maps (the CPU capability's). */
	struct bpf_program *sample_prog;
	struct bpf_map *counters, *thread_counts;
	struct goprof_symbolizer *sym;  /* the session's symbolizer */
	const struct goprof_session_opts *opts; /* the caller's options (checked; in create only) */
	uint32_t features;              /* GOPROF_FEATURE_* of the session */
	uint32_t budget_bp;             /* overhead budget, basis points of the targets' CPU */
	unsigned user_depth, kernel_depth; /* stack frames per sample */
	unsigned freq_hz;               /* CPU samples per second and CPU */
	struct gp_go_probes *probes;    /* the runtime uprobes (lib/go/go_probes.c); NULL: none */
	struct goprof_session *session;
	/* Hands an event to the host's callback; returns the callback's result. */
	int (*emit)(struct goprof_session *s, const struct goprof_event *ev);
	/* CPU time of the followed processes that still run, in ns (reads /proc). */
	uint64_t (*targets_cpu_ns)(struct goprof_session *s);
	/* A probe set or program the budget took off (goprof_session_stats). */
	void (*count_detached)(struct goprof_session *s);
	/* Clears, then sets GOPROF_PROCESS_* flags of a followed process; a note (not NULL)
	 * becomes its note if it has none, or always with note_over. */
	void (*process_flags)(struct goprof_session *s, uint32_t pid, uint32_t set,
			      uint32_t clear, const char *note, bool note_over);
	/* The followed processes that still run (pid 0: all, else that one), in a malloc'd
	 * array of *n (go_version points into the session: use it before returning); NULL
	 * when out of memory. */
	struct gp_process_view *(*processes)(struct goprof_session *s, uint32_t pid, size_t *n);
	/* The wait reasons of the process's Go release, NULL if unknown. */
	const struct gp_wait_reasons *(*wait_reasons)(struct goprof_session *s, uint32_t pid);
	/* Takes the exits the ring buffer lost from the kernel's target table. */
	void (*reconcile_exits)(struct goprof_session *s);
	/* The process's name, NULL if unknown; its executable, NULL if unknown. */
	const char *(*process_name)(void *session, uint32_t pid);
	struct goprof_binary *(*exe_of_pid)(void *session, uint32_t pid);
};

struct gp_cap_ops {
	const char *name;   /* one name: option flag, folder, test suite, doc page */
	uint32_t features;  /* GOPROF_FEATURE_* that turn it on */
	/* The name of a capability it uses, which the session must have created before it
	 * (earlier in the registry, with the features that turn it on); NULL: none. */
	const char *needs;
	/* When set, decides from the session's features instead of `features`. */
	bool (*wanted)(uint32_t features);
	/* Checks its own options (also when it is off: options without the feature are
	 * refused); 0 or a negative errno with a message. */
	int (*validate)(const struct goprof_session_opts *opts, uint32_t features);
	/* Loads what it needs; NULL with errno and a message. */
	void *(*create)(const struct gp_host *h);
	void (*destroy)(void *cap);
	int (*start)(void *cap);
	void (*stop)(void *cap);
	/* Called in every goprof_session_poll(); a negative return ends the poll with it. */
	int (*tick)(void *cap, uint64_t now_ns);
	/* Its ring-buffer record types, [rec_first, rec_last], and the handler. */
	uint32_t rec_first, rec_last;
	int (*take_record)(void *cap, const void *rec, size_t len);
	/* Sees each CPU sample, in registry order; a negative return ends the poll with it. */
	int (*sample)(void *cap, const struct gp_sample_event *ev);
	/* Its records are counted by its own statistics, not in events_delivered. */
	bool counts_own_records;
	/* A process is followed: attached, or inspected again after an exec. */
	void (*process_added)(void *cap, const struct gp_process_view *p);
	/* A process is no longer followed as it was; for an exit, its records are all in. */
	void (*process_gone)(void *cap, uint32_t pid, enum gp_process_change why);
	/* Fills its fields of *st; lost[] is the session's loss counters (GP_LOST_*). */
	void (*fill_stats)(void *cap, struct goprof_session_stats *st, const uint64_t *lost);
};

/* The most capabilities a session runs (the registry's length, with room to spare). */
#define GP_MAX_CAPS 16

/* The registry: every capability, NULL-terminated (lib/caps/registry.c, generated
 * from lib/caps/meson.build). */
GOPROF_HIDDEN extern const struct gp_cap_ops *const gp_capabilities[];

/* The host of session s (its features, services). */
GOPROF_HIDDEN const struct gp_host *gp_session_host(struct goprof_session *s);

/* The state of capability ops in session s, NULL when the session does not run it. */
GOPROF_HIDDEN void *gp_session_cap(struct goprof_session *s, const struct gp_cap_ops *ops);

#endif /* GOPROF_CAPABILITY_H */
