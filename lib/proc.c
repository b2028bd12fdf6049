// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Process, privilege and kernel-feature checks. */
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc.h"
#include "sym/proc_maps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int gp_proc_check_pid(int pid)
{
	if (pid <= 0)
		return gp_err(-EINVAL, "attach: invalid PID %d: must be a positive process ID", pid);
	if (kill(pid, 0) == 0 || errno == EPERM)
		return 0;
	return gp_err(-ESRCH, "attach: process %d does not exist (it may have exited)", pid);
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
