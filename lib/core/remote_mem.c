// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Reads of a running process's memory (process_vm_readv: read-only, no ptrace stop). */
#include <errno.h>
#include <sys/uio.h>

#include "core/remote_mem.h"

int gp_remote_read(int pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr || addr + len < addr)
		return -EFAULT;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT; /* a short read: the range ends in a hole */
}

int gp_remote_read_u64(int pid, uint64_t addr, uint64_t *out)
{
	return gp_remote_read(pid, addr, out, sizeof(*out));
}
