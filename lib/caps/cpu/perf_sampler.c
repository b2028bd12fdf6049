// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Per-CPU sampling events. One event per CPU (pid = -1) instead of one per target
 * thread: threads created later are covered without tracking them, and the BPF program
 * filters by process in the kernel.
 *
 * The CPUs' timers are started a fraction of a period apart, not together: in phase,
 * whatever one CPU's sample sets off at once (the poller woken, a thread preempted)
 * is on another CPU exactly when that CPU's sample is taken, and the profile counts it
 * in place of the thread it displaced.
 */
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "caps/cpu/perf_sampler.h"
#include "core/proc.h"

static int perf_event_open(struct perf_event_attr *attr, int pid, int cpu)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int open_error(int err, int cpu, unsigned freq_hz)
{
	long max_rate;

	switch (err) {
	case -EACCES:
	case -EPERM:
		return gp_err(-EPERM, "perf_event_open: permission denied: needs CAP_PERFMON "
				      "and CAP_BPF, or root");
	case -EINVAL:
		if (gp_read_sysctl_long("/proc/sys/kernel/perf_event_max_sample_rate", &max_rate) == 0 &&
		    freq_hz > max_rate)
			return gp_err(-EINVAL, "cpu_freq_hz %u is above the kernel's limit "
					       "(kernel.perf_event_max_sample_rate = %ld)", freq_hz, max_rate);
		break;
	}
	return gp_err(err, "perf_event_open (CPU clock, %u Hz) on CPU %d failed: %s",
		      freq_hz, cpu, strerror(-err));
}

int gp_perf_sampler_start(struct gp_perf_sampler *ps, struct bpf_program *prog, unsigned freq_hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = freq_hz,
		.freq = 1,
		.disabled = 1, /* attaching the program enables it */
	};
	struct timespec stagger = { 0, 0 };
	int ncpus = libbpf_num_possible_cpus(), err, n;
	bool *online;

	if (ncpus <= 0)
		return gp_err(ncpus ? ncpus : -EIO, "cannot count the possible CPUs");
	online = calloc(ncpus, sizeof(*online));
	ps->fds = malloc(ncpus * sizeof(*ps->fds));
	ps->links = calloc(ncpus, sizeof(*ps->links));
	ps->ncpus = ncpus;
	if (!online || !ps->fds || !ps->links) {
		err = gp_err(-ENOMEM, "out of memory");
		goto fail;
	}
	for (int cpu = 0; cpu < ncpus; cpu++)
		ps->fds[cpu] = -1;
	n = gp_online_cpus(online, ncpus);
	if (n < 0) {
		err = n;
		goto fail;
	}
	stagger.tv_nsec = 1000000000L / (long)freq_hz / (n > 0 ? n : 1);
	for (int cpu = 0, started = 0; cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		if (started++)
			nanosleep(&stagger, NULL);
		ps->fds[cpu] = perf_event_open(&attr, -1, cpu);
		if (ps->fds[cpu] < 0) {
			err = open_error(-errno, cpu, freq_hz);
			goto fail;
		}
		ps->links[cpu] = bpf_program__attach_perf_event(prog, ps->fds[cpu]);
		if (!ps->links[cpu]) {
			err = -errno;
			gp_err(err, "attaching the sampling program to CPU %d's perf event failed: %s",
			       cpu, strerror(-err));
			goto fail;
		}
	}
	free(online);
	return 0;
fail:
	free(online);
	gp_perf_sampler_stop(ps);
	return err;
}

void gp_perf_sampler_stop(struct gp_perf_sampler *ps)
{
	for (int cpu = 0; cpu < ps->ncpus; cpu++) {
		/* A perf-event link owns its event: destroying it closes the fd. */
		if (ps->links && ps->links[cpu])
			bpf_link__destroy(ps->links[cpu]);
		else if (ps->fds && ps->fds[cpu] >= 0)
			close(ps->fds[cpu]);
	}
	free(ps->links);
	free(ps->fds);
	ps->links = NULL;
	ps->fds = NULL;
	ps->ncpus = 0;
}
