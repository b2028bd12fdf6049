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
 * why). With pid > 0 (the process running it) the runtime layout is validated against
 * the live process (go_validate.h): one that does not fit leaves t->is_go = 0 and a note
 * saying what failed; a release newer than the table is used only when it validates.
 * Returns 0, or GP_TARGET_UNDECIDED when the process showed too little to judge its
 * layout (just exec'd: the runtime has not started): t is then the table's layout for a
 * known release, none for a newer one, and the caller may inspect again a little later.
 * Never fails.
 */
#define GP_TARGET_UNDECIDED 1
GOPROF_HIDDEN int gp_target_inspect(const char *exe_path, int pid, struct gp_target *t,
				    struct goprof_process_info *info);

#endif
