/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Goroutine snapshots as a capability of the session (see cap.c). */
#ifndef GOPROF_GSNAP_CAP_H
#define GOPROF_GSNAP_CAP_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_gsnap;

/* The goroutine profile from a snapshot now, for goprof_session_snapshot_goroutines(). */
GOPROF_HIDDEN struct goprof_profile *gp_gsnap_session_profile(struct goprof_session *s,
							      uint64_t min_age_ns);

#endif
