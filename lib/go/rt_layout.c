// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The per-release table of the Go runtime's statistics layout (see rt_layout.h). */
#include <stdlib.h>

#include "go/go_version.h"
#include "go/rt_layout.h"

/*
 * sched: lock gcwaiting stopwait stopnote sysmonwait timeToRun stwStoppingTimeGC/Other
 * stwTotalTimeGC/Other. memstats: last_gc_unix pause_total_ns pause_ns pause_end numgc
 * numforcedgc gc_cpu_fraction last_gc_nanotime lastHeapInUse gcPauseDist.
 * gcController: gcPercent memoryLimit heapMinimum runway gcPercentHeapGoal
 * sweepDistMinTrigger triggered lastHeapGoal heapLive heapScan heapMarked heapInUse
 * heapReleased heapFree totalAlloc totalFree mappedReady.
 */
#define SCHED_119 24, 224, 228, 232, 240, 312, 0, 0, 0, 0
#define SCHED_121 24, 232, 236, 240, 248, 320, 0, 0, 0, 0
#define SCHED_122 24, 232, 236, 240, 248, 320, 1632, 2928, 4224, 5520
#define SCHED_126 32, 264, 268, 272, 280, 360, 1672, 2968, 4264, 5560
#define MS_119 3592, 3600, 3608, 5656, 7704, 7708, 7712, 7720, 7728, 7744
#define MS_122 3592, 3600, 3608, 5656, 7704, 7708, 7712, 7720, 7728, 0
#define MS_126 3568, 3576, 3584, 5632, 7680, 7684, 7688, 7696, 7704, 0
#define GC_119 0, 8, 16, 24, 104, 112, 120, 128, 136, 144, 184, 304, 312, 320, 328, 336, 344
#define GC_121 0, 8, 16, 24, 72, 80, 88, 96, 104, 112, 152, 272, 280, 288, 296, 304, 312

/*
 * Measured from DWARF (tests/tools/gooffsets) of the fixtures each toolchain here built;
 * tests/test_rtstats.c checks every installed one. 1.20 and 1.25 have no toolchain here:
 * 1.20's sched.timeToRun (320), memstats.numgc (7704) and gcPauseDist (7744, 1296 bytes:
 * the 1.20 histogram) are from the DWARF of a go1.20.6 build (../shared/go-layouts);
 * its gcController is 1.19's or 1.21's (the pacer's PI controller went away in between):
 * both are tried. 1.25: sched.stwTotalTimeGC 4248 (derived from its runtime2.go, which
 * puts timeToRun 3904 bytes before it: 344); memstats is 1.24's or 1.26's. Derived rows
 * are validated against the process before use (rt_reader.c).
 */
static const struct gp_rt_layout table[] = {
	{ 19, 0, GP_RT_HIST_GO119, SCHED_119, MS_119, GC_119 },
	{ 20, GP_RT_LAYOUT_DERIVED, GP_RT_HIST_GO120, SCHED_121, MS_119, GC_121 },
	{ 20, GP_RT_LAYOUT_DERIVED, GP_RT_HIST_GO120, SCHED_121, MS_119, GC_119 },
	{ 21, 0, GP_RT_HIST_GO120, SCHED_121, MS_119, GC_121 },
	{ 22, 0, GP_RT_HIST_GO120, SCHED_122, MS_122, GC_121 },
	{ 23, 0, GP_RT_HIST_GO120, SCHED_122, MS_122, GC_121 },
	{ 24, 0, GP_RT_HIST_GO120, SCHED_122, MS_122, GC_121 },
	{ 25, GP_RT_LAYOUT_DERIVED, GP_RT_HIST_GO120, 32, 240, 244, 248, 256, 344, 1656, 2952, 4248, 5544,
	  MS_126, GC_121 },
	{ 25, GP_RT_LAYOUT_DERIVED, GP_RT_HIST_GO120, 32, 240, 244, 248, 256, 344, 1656, 2952, 4248, 5544,
	  MS_122, GC_121 },
	{ 26, 0, GP_RT_HIST_GO120, SCHED_126, MS_126, GC_121 },
	{ 27, 0, GP_RT_HIST_GO120, SCHED_126, MS_126, GC_121 },
};

size_t gp_rt_hist_size(uint8_t format)
{
	switch (format) {
	case GP_RT_HIST_GO119:
		return (45 * 16 + 1) * 8;
	case GP_RT_HIST_GO120:
		return (40 * 4 + 2) * 8;
	}
	return 0;
}

const struct gp_rt_layout *gp_rt_layout_measured(int minor)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].minor == minor && !(table[i].flags & GP_RT_LAYOUT_DERIVED))
			return &table[i];
	return NULL;
}

int gp_rt_layouts(const char *version, struct gp_rt_layout *out, size_t max, bool *newer)
{
	int minor, newest = table[ARRAY_SIZE(table) - 1].minor, n = 0;

	*newer = false;
	if (gp_go_minor_version(version, &minor))
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "unrecognised Go version string '%s'",
			      version ? version : "(none)");
	if (minor > newest) {
		if (max) {
			out[0] = table[ARRAY_SIZE(table) - 1];
			out[0].flags |= GP_RT_LAYOUT_DERIVED;
			out[0].minor = minor;
			n = 1;
		}
		*newer = true;
		return n;
	}
	for (size_t i = 0; i < ARRAY_SIZE(table) && (size_t)n < max; i++)
		if (table[i].minor == minor)
			out[n++] = table[i];
	if (!n)
		return gp_err(-GOPROF_ERRNO_GO_VERSION,
			      "%s: where this Go release keeps its runtime statistics is not known to "
			      "this libgoprof (known: 1.19-1.%d)", version, newest);
	return n;
}
