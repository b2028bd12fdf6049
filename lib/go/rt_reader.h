/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The runtime statistics reader: the default source of the GC and scheduling views.
 * Reads each attached Go process's runtime.sched, runtime.memstats and
 * runtime.gcController from outside (process_vm_readv: no probe, no stop, nothing runs
 * in the target) when goprof_session_poll() runs, decodes them (rt_decode.h), turns
 * increases of the GC cycle count into GOPROF_EVENT_GC_CYCLE events, and keeps what the
 * process had at attach so that every figure covers the session. Its CPU time is the
 * profiler's: it is measured, and the read interval grows when it goes above the
 * overhead budget.
 */
#ifndef GOPROF_RT_READER_H
#define GOPROF_RT_READER_H

#include "goprof/session.h"
#include "internal.h"

struct gp_rt_reader;

#define GP_RT_INTERVAL_NS 100000000ull      /* 100 ms between reads of a process */
#define GP_RT_MAX_INTERVAL_NS 10000000000ull /* the budget may stretch it to 10 s */

struct gp_rt_counters {
	uint64_t reads, read_bytes, read_failures, cpu_ns;
	uint32_t processes, interval_ms;
};

/* budget_bp: the reader's CPU time in basis points of one CPU (0: 100, 1%). */
GOPROF_HIDDEN struct gp_rt_reader *gp_rt_reader_new(uint32_t budget_bp);
GOPROF_HIDDEN void gp_rt_reader_free(struct gp_rt_reader *r);

/*
 * Starts reading process pid (its executable at exe, Go release go_version). Returns 1
 * when it is read from now on, 0 when its layout must still be proven on a later read
 * (a release without a toolchain here or newer than the table, and a process that has
 * not run a GC yet), or a negative errno; note gets a sentence unless 1.
 */
GOPROF_HIDDEN int gp_rt_reader_add(struct gp_rt_reader *r, int pid, const char *exe,
				   const char *go_version, char *note, size_t note_len);

/* The process exited: its figures stay, it is not read again. */
GOPROF_HIDDEN void gp_rt_reader_exited(struct gp_rt_reader *r, int pid);

typedef int (*gp_rt_event_fn)(const struct goprof_event *ev, void *ctx);

/*
 * Reads the processes whose turn it is; calls fn for every GC cycle found. Returns 0,
 * 1 when a process was decided (reading, or given up: see gp_rt_reader_state()), or
 * fn's negative value.
 */
GOPROF_HIDDEN int gp_rt_reader_tick(struct gp_rt_reader *r, gp_rt_event_fn fn, void *ctx);

/* 1 reading, 0 undecided, -1 given up or unknown; note (if not NULL) says why. */
GOPROF_HIDDEN int gp_rt_reader_state(struct gp_rt_reader *r, int pid, const char **note);

/* Summaries over pid (0: all processes) since they were attached; return 0, or -ENOENT
 * when no process was read. */
GOPROF_HIDDEN int gp_rt_reader_gc_stats(struct gp_rt_reader *r, int pid, struct goprof_gc_stats *st);
GOPROF_HIDDEN int gp_rt_reader_sched_stats(struct gp_rt_reader *r, int pid, struct goprof_sched_stats *st);

GOPROF_HIDDEN void gp_rt_reader_counters(const struct gp_rt_reader *r, struct gp_rt_counters *c);

#endif
