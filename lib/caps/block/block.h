/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine blocking (GOPROF_FEATURE_BLOCK: time parked, by wait reason and stack) and
 * channels (GOPROF_FEATURE_CHANNELS, which needs it: per channel operations and waits).
 * Their uprobes (runtime.gopark, casgstatus, chansend, chanrecv) are placed by
 * lib/go/go_probes.c with the other runtime probes; these capabilities take their records,
 * read the channel table and make the profile.
 */
#ifndef GOPROF_CAPS_BLOCK_H
#define GOPROF_CAPS_BLOCK_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_block;
GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_channels;

#endif
