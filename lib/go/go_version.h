/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Go release version strings, as a binary's build info spells them. */
#ifndef GOPROF_GO_VERSION_H
#define GOPROF_GO_VERSION_H

#include "internal.h"

/* Parses "go1.MINOR..." (or "devel go1.MINOR-...") into minor; returns 0 or -EINVAL. */
GOPROF_HIDDEN int gp_go_minor_version(const char *version, int *minor);

#endif
