/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Types shared by the goroutine snapshot modules: gsnap.c (processes, the
 * schedule, the profile), names.c (names of addresses and wait states), waits.c (wait
 * times, wait profile), leaks.c (leak groups) and
 * snapshot.c (the public snapshot objects).
 */
#ifndef GOPROF_GSNAP_GS_TYPES_H
#define GOPROF_GSNAP_GS_TYPES_H

#include "goprof/session.h"
#include "caps/gsnap/gsnap.h"
#include "caps/gsnap/reader.h"
#include "internal.h"
#include "profile/idmap.h"

#define MAX_GROUPS 4096         /* leak groups kept per process */

/* When a parked goroutine was first seen in its current wait. */
struct track {
	uint64_t goid, since_ns, depth, content;
	int64_t waitsince;
	uint8_t reason, at_least, used;
};

struct group {
	uint64_t gopc, stack_hash;
	uint8_t reason;
	uint64_t count, parked, first_count, first_seen_ns, last_seen_ns, oldest_ns, example;
	uint64_t reported; /* count last sent in an event */
	char *created_by, *top_function, *stack;
	bool seen;   /* in the latest snapshot */
	bool system; /* the runtime's own goroutines (GC workers, finalizers...): never leaks */
};

struct name {
	uint64_t pc;
	char *s;
};

/* Time goroutines spent parked at one stack and wait reason, sampled by snapshots. */
struct wagg {
	uint64_t hash, samples, delay_ns;
	uint32_t pcs_off, nr_pcs; /* into proc.wpcs */
	uint8_t reason;
};

struct proc {
	int pid;
	/* the wait profile (periodic snapshots): each parked goroutine's stack weighted by
	 * the time since the previous snapshot */
	struct wagg *wa;
	size_t nr_wa, wa_cap;
	uint32_t *wa_idx; /* open addressing: 1 + index into wa */
	size_t wa_idx_cap;
	uint64_t *wpcs;
	size_t nr_wpcs, wpcs_cap;
	uint64_t last_tick_ns;
	struct gp_gsnap_proc *rd;
	char note[200];
	uint64_t retry_ns;
	struct gp_gsnap_buf buf;
	struct track *tr;
	size_t tr_cap; /* power of two, 0: no snapshot yet */
	uint64_t snapshots;
	struct group *groups;
	size_t nr_groups;
	struct name *names; /* pc -> "function (file:line)" / "function" (open addressing) */
	size_t names_cap, nr_names;
	bool present;
};

struct gp_gsnap {
	struct goprof_symbolizer *sym;
	struct gp_gsnap_config cfg;
	struct proc *procs;
	size_t nr_procs, procs_cap;
	uint64_t next_ns, interval_ns;
	struct gp_gsnap_read_stats rs;
	uint64_t snapshots, failed, cpu_ns;
	uint64_t open_cpu_ns; /* of the readers opened in the current tick (once per process) */
};


static inline bool gs_waiting(const struct gp_gsnap_g *x)
{
	return x->status == GP_GS_WAITING || x->status == GP_GS_LEAKED;
}

static inline uint64_t gs_thread_cpu_ns(void)
{
	return (uint64_t)gp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* gsnap.c, names.c */
/* The process's state, its reader opened (or retried) when due; NULL: no memory. */
GOPROF_HIDDEN struct proc *gs_get(struct gp_gsnap *g, const struct gp_gsnap_target *t, uint64_t now);
/* Reads one process into p->buf; 0 or a negative errno (p->note says why). */
GOPROF_HIDDEN int gs_read_proc(struct gp_gsnap *g, struct proc *p, bool labels);
/* "function (file:line)" of a return address (with_line), or "function"; "" unknown. */
GOPROF_HIDDEN const char *gs_name_of(struct gp_gsnap *g, struct proc *p, uint64_t pc, bool with_line);
/* Go's string for a waiting goroutine's reason ("" when not waiting). */
GOPROF_HIDDEN const char *gs_reason_of(struct proc *p, const struct gp_gsnap_g *x, char *buf, size_t len);

/* waits.c */
GOPROF_HIDDEN struct track *gs_track_find(struct track *t, size_t cap, uint64_t goid);
GOPROF_HIDDEN int gs_update_waits(struct proc *p, uint64_t now, uint64_t *wait, uint8_t *at_least);
GOPROF_HIDDEN void gs_wait_reset(struct proc *p);
GOPROF_HIDDEN void gs_wait_sample(struct proc *p, uint64_t now);

/* leaks.c */
GOPROF_HIDDEN uint64_t gs_stack_hash(const struct gp_gsnap_buf *b, const struct gp_gsnap_g *x);
GOPROF_HIDDEN int gs_update_groups(struct gp_gsnap *g, struct proc *p, uint64_t now,
				   const uint64_t *wait, gp_gsnap_event_fn fn, void *ctx);
GOPROF_HIDDEN void gs_fill_leak(struct proc *p, const struct group *gr,
				struct goprof_goroutine_leak *l, char *reason_buf, size_t rlen);
GOPROF_HIDDEN void gs_free_groups(struct proc *p);

#endif
