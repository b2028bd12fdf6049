/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * GC cycles and stop-the-world pauses. By default (GOPROF_FEATURE_GC) the figures are
 * read from the runtime's memory by the rtstats capability; GOPROF_FEATURE_GC_PRECISE
 * times each cycle's phases from the runtime probes that lib/go/go_probes.c places, and
 * this capability takes their records. goprof_session_gc_stats() answers from either.
 */
#ifndef GOPROF_CAPS_GC_H
#define GOPROF_CAPS_GC_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_gc_precise;

#endif
