/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * On-CPU time: the perf-event sampler that runs the core program's on_cpu_sample, the
 * aggregated CPU profile (cpu_table.c), per-sample callbacks and per-thread counts.
 * Always on.
 */
#ifndef GOPROF_CAPS_CPU_H
#define GOPROF_CAPS_CPU_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_cpu;

#endif
