// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Process, privilege and kernel-feature checks. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/proc.h"
#include "sym/proc_maps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* PF_KTHREAD in the flags field of /proc/PID/stat (include/linux/sched.h). */
#define GP_PF_KTHREAD 0x00200000u

int gp_proc_stat(int pid, char *state, unsigned *flags, char *comm, size_t comm_len)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	unsigned long long fl = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* "pid (comm) S ppid pgrp session tty_nr tpgid flags ...": comm may hold anything,
	 * ')' included, so the state follows the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren ||
	    sscanf(close_paren + 1, " %c %*d %*d %*d %*d %*d %llu", state, &fl) != 2)
		return -EIO;
	if (comm)
		snprintf(comm, comm_len, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	*flags = (unsigned)fl;
	return 0;
}

int gp_proc_check_pid(int pid)
{
	char state, comm[64];
	unsigned flags;

	if (pid <= 0)
		return gp_err(-EINVAL, "attach: invalid PID %d: must be a positive process ID", pid);
	if (kill(pid, 0) && errno != EPERM)
		return gp_err(-ESRCH, "attach: process %d does not exist (it may have exited)", pid);
	if (gp_proc_stat(pid, &state, &flags, comm, sizeof(comm)))
		return 0; /* /proc unreadable: let the attach say what fails */
	if (flags & GP_PF_KTHREAD)
		return gp_err(-EINVAL, "attach: PID %d (%s) is a kernel thread: it runs no user-space "
			      "code to profile", pid, comm);
	if (state == 'Z' || state == 'X')
		return gp_err(-ESRCH, "attach: process %d (%s) has exited (a zombie its parent has not "
			      "reaped)", pid, comm);
	return 0;
}

static bool cap_effective(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int gp_check_bpf_privileges(const char *what)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool bpf, perfmon, admin;

	if (syscall(SYS_capget, &hdr, data) != 0)
		return gp_err(-errno, "%s: cannot read the process capabilities: %s", what,
			      strerror(errno));
	admin = cap_effective(data, CAP_SYS_ADMIN);
	bpf = cap_effective(data, CAP_BPF) || admin;
	perfmon = cap_effective(data, CAP_PERFMON) || admin;
	if (bpf && perfmon)
		return 0;
	return gp_err(-EPERM,
		      "%s: permission denied: needs CAP_BPF and CAP_PERFMON (missing:%s%s), or "
		      "root; e.g. run as root or `setcap cap_bpf,cap_perfmon+ep` on the program",
		      what, bpf ? "" : " CAP_BPF", perfmon ? "" : " CAP_PERFMON");
}

int gp_check_kernel_btf(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	return gp_err(-GOPROF_ERRNO_KERNEL,
		      "kernel has no BTF (/sys/kernel/btf/vmlinux is missing): libgoprof's CO-RE "
		      "BPF programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y");
}

int gp_online_cpus(bool *online, int max_cpus)
{
	char buf[1024], *p = buf;
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int ncpus = 0;

	if (!f)
		return gp_err(-errno, "cannot open /sys/devices/system/cpu/online: %s", strerror(errno));
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return gp_err(-EIO, "cannot read /sys/devices/system/cpu/online");
	}
	fclose(f);
	memset(online, 0, sizeof(*online) * max_cpus);
	/* Format: "0-3,5,7-8\n". */
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			return gp_err(-EINVAL, "malformed /sys/devices/system/cpu/online: %s", buf);
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < max_cpus; c++)
			online[c] = true;
		if (b + 1 > ncpus)
			ncpus = (int)GP_MIN(b + 1, max_cpus);
		p = *end == ',' ? end + 1 : end;
	}
	return ncpus;
}

int gp_read_sysctl_long(const char *path, long *value)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%ld", value) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

int gp_proc_mapping_range(int pid, uint64_t addr, uint64_t *start, uint64_t *end, uint64_t *offset)
{
	const struct gp_mapping *m;
	struct gp_maps maps;
	int err = gp_maps_read(&maps, pid);

	if (err)
		return err;
	m = gp_maps_find(&maps, addr);
	if (m) {
		*start = m->start;
		*end = m->end;
		*offset = m->offset;
	}
	gp_maps_free(&maps);
	return m ? 0 : -ENOENT;
}
