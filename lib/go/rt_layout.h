/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Where the Go runtime keeps its own statistics, per release (amd64): the fields of
 * runtime.sched (schedt), runtime.memstats (mstats) and runtime.gcController
 * (gcControllerState) that the memory reader (rt_reader.h) decodes, and the format of
 * the runtime's time histograms. Measured from the DWARF of binaries built by each
 * toolchain (tests/tools/gooffsets); tests/test_rtstats.c re-checks every installed one.
 */
#ifndef GOPROF_RT_LAYOUT_H
#define GOPROF_RT_LAYOUT_H

#include "internal.h"

/* Format of runtime.timeHistogram. */
#define GP_RT_HIST_GO119 1 /* 45 x 16 counts, then underflow; the last bucket takes overflow */
#define GP_RT_HIST_GO120 2 /* 40 x 4 counts (from 2^9 ns), then underflow, overflow */

/* Flags of gp_rt_layout.flags. */
#define GP_RT_LAYOUT_DERIVED 0x1u  /* not measured here (no toolchain): validate before use */
#define GP_RT_LAYOUT_NO_HEAP 0x2u  /* gcController unknown for this release: no heap figures */

/*
 * One release's layout. An offset of 0 is "absent" for fields that are never at 0
 * (sched.stwTotalTime* before 1.22, memstats.gcPauseDist from 1.22).
 */
struct gp_rt_layout {
	int minor;
	uint32_t flags;
	uint8_t hist_format; /* GP_RT_HIST_* */
	/* runtime.sched */
	uint16_t sched_lock, sched_gcwaiting, sched_stopwait, sched_stopnote, sched_sysmonwait;
	uint16_t sched_time_to_run, sched_stw_stopping_gc, sched_stw_stopping_other;
	uint16_t sched_stw_total_gc, sched_stw_total_other;
	/* runtime.memstats */
	uint16_t ms_last_gc_unix, ms_pause_total_ns, ms_pause_ns, ms_pause_end, ms_numgc;
	uint16_t ms_numforcedgc, ms_gc_cpu_fraction, ms_last_gc_nanotime, ms_last_heap_inuse;
	uint16_t ms_gc_pause_dist;
	/* runtime.gcController */
	uint16_t gc_percent, gc_memory_limit, gc_heap_minimum, gc_runway, gc_percent_heap_goal;
	uint16_t gc_sweep_dist_min_trigger, gc_triggered, gc_last_heap_goal, gc_heap_live;
	uint16_t gc_heap_scan, gc_heap_marked, gc_heap_inuse, gc_heap_released, gc_heap_free;
	uint16_t gc_total_alloc, gc_total_free, gc_mapped_ready;
};

/* Size in bytes of a runtime.timeHistogram of this format (0 for an unknown format). */
GOPROF_HIDDEN size_t gp_rt_hist_size(uint8_t format);

/*
 * The candidate layouts for Go release @version, most likely first, in out[0..max).
 * A measured release has one, used as is; a release without a toolchain here (1.20,
 * 1.25) has the layouts of its neighbours that its source allows, flagged
 * GP_RT_LAYOUT_DERIVED; a release newer than the table gets the newest layout, flagged
 * too (*newer set). Flagged layouts are used only once one validates against the
 * process (rt_reader.c). Returns the count, or -GOPROF_ERRNO_GO_VERSION with a message
 * for an unknown or older release.
 */
GOPROF_HIDDEN int gp_rt_layouts(const char *version, struct gp_rt_layout *out, size_t max, bool *newer);

/* The layout measured for minor release 1.@minor (NULL if none was measured). */
GOPROF_HIDDEN const struct gp_rt_layout *gp_rt_layout_measured(int minor);

#endif
