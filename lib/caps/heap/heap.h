/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The heap profiles: GOPROF_FEATURE_HEAP (the runtime's own sampled allocations, from
 * runtime.mProf_Malloc/mProf_Free) and GOPROF_FEATURE_ALLOCS (every allocation, from
 * runtime.mallocgc). Their uprobes are placed by lib/go/go_probes.c with the other runtime
 * probes; these capabilities take their records and make the profiles.
 */
#ifndef GOPROF_CAPS_HEAP_H
#define GOPROF_CAPS_HEAP_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_heap;
GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_allocs;

#endif
