/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine lifetimes from the runtime probes (GOPROF_FEATURE_GOROUTINES): creation and
 * exit events, creation stacks, the goroutine profile. The uprobes (runtime.newproc,
 * newproc1, goexit1) are placed by lib/go/go_probes.c; this capability takes their records.
 * Scheduling latency by creation site needs it.
 */
#ifndef GOPROF_CAPS_GOROUTINES_CAP_H
#define GOPROF_CAPS_GOROUTINES_CAP_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_goroutines;

/* The session's goroutine table, NULL without GOPROF_FEATURE_GOROUTINES. */
struct gp_goroutines;
GOPROF_HIDDEN struct gp_goroutines *gp_goroutines_of(struct goprof_session *s);

#endif
