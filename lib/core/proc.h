/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Facts about processes and this host read from /proc and the kernel. */
#ifndef GOPROF_PROC_H
#define GOPROF_PROC_H

#include <stdbool.h>

#include "internal.h"

/* 0 if the process exists, -ESRCH if not, -EINVAL for pid <= 0 (with a message). */
GOPROF_HIDDEN int gp_proc_check_pid(int pid);
/* From /proc/PID/stat: the state letter, the kernel's task flags (PF_*) and the name (comm,
 * may be NULL). 0 or a negative errno. */
GOPROF_HIDDEN int gp_proc_stat(int pid, char *state, unsigned *flags, char *comm, size_t comm_len);

/*
 * 0 if the caller can load tracing BPF programs and open perf events: root, or
 * CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the effective set; else -EPERM with a
 * message naming the missing capabilities. @what names the operation for the message.
 */
GOPROF_HIDDEN int gp_check_bpf_privileges(const char *what);

/* 0 if the kernel exposes BTF (needed by CO-RE), else GOPROF_ERRNO_KERNEL with a message. */
GOPROF_HIDDEN int gp_check_kernel_btf(void);

/*
 * Fills online[] (size max_cpus) with true for CPUs listed in
 * /sys/devices/system/cpu/online. Returns the number of possible CPUs or a negative errno.
 */
GOPROF_HIDDEN int gp_online_cpus(bool *online, int max_cpus);

/*
 * The executable mapping of pid holding addr: run-time start, end and file offset.
 * Returns 0, or -ENOENT / -ESRCH (no such mapping or process; outputs untouched).
 */
GOPROF_HIDDEN int gp_proc_mapping_range(int pid, uint64_t addr, uint64_t *start, uint64_t *end,
					uint64_t *offset);

/* Reads an integer from a /proc/sys file; returns 0 or a negative errno. */
GOPROF_HIDDEN int gp_read_sysctl_long(const char *path, long *value);

#endif
