/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Reading another process's memory without stopping it (process_vm_readv). Needs
 * ptrace-read access to the target (same user, or CAP_SYS_PTRACE). The target keeps
 * running: what is read may be changing, so callers must treat it as untrusted input.
 */
#ifndef GOPROF_REMOTE_MEM_H
#define GOPROF_REMOTE_MEM_H

#include "internal.h"

/*
 * Reads len bytes at addr in process pid into buf. Returns 0 when every byte was read,
 * -EFAULT when part of the range is not mapped, or -ESRCH/-EPERM/... from the kernel.
 * Sets no last error (callers read many addresses and word their own message).
 */
GOPROF_HIDDEN int gp_remote_read(int pid, uint64_t addr, void *buf, size_t len);

/* Reads one 64-bit little-endian word at addr; 0 or a negative errno as above. */
GOPROF_HIDDEN int gp_remote_read_u64(int pid, uint64_t addr, uint64_t *out);

#endif
