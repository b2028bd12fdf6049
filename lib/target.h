/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* What the BPF programs need to know about a process: is it Go, which offsets. */
#ifndef GOPROF_TARGET_H
#define GOPROF_TARGET_H

#include "goprof/session.h"
#include "goprof_bpf.h"
#include "internal.h"

/*
 * Inspects the executable at @p exe_path (e.g. /proc/PID/exe): fills t for the BPF
 * side and info (go_version, flags, note) for the host. A non-Go or unreadable binary is
 * not an error: it is profiled with native and kernel symbols (t->is_go = 0, note says
 * why). Never fails.
 */
GOPROF_HIDDEN void gp_target_inspect(const char *exe_path, struct gp_target *t,
				     struct goprof_process_info *info);

#endif
