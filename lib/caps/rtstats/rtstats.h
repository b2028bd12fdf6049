/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Runtime statistics read from the targets' memory, with no probe in them
 * (GOPROF_FEATURE_GC / GOPROF_FEATURE_SCHED without their precise modes): the reader is
 * lib/go/rt_reader.c; this is its capability and goprof_session_{gc,sched}_stats()'s source
 * of figures when it runs.
 */
#ifndef GOPROF_CAPS_RTSTATS_H
#define GOPROF_CAPS_RTSTATS_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_rtstats;

/* The session's reader, NULL when the session does not read the runtime's statistics. */
struct gp_rt_reader;
GOPROF_HIDDEN struct gp_rt_reader *gp_rtstats_reader(struct goprof_session *s);

#endif
