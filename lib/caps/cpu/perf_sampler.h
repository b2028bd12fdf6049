/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* One CPU-clock perf event per online CPU, each running a BPF program. */
#ifndef GOPROF_PERF_SAMPLER_H
#define GOPROF_PERF_SAMPLER_H

#include "internal.h"

struct bpf_program;
struct bpf_link;

struct gp_perf_sampler {
	int ncpus;               /* entries in fds/links */
	int *fds;                /* perf event fds, -1 for offline CPUs */
	struct bpf_link **links; /* BPF program attachments, NULL for offline CPUs */
};

/*
 * Opens the events in frequency mode at freq_hz and attaches prog to each. On failure
 * nothing stays open and the error says why (privileges, frequency limit, ...).
 */
GOPROF_HIDDEN int gp_perf_sampler_start(struct gp_perf_sampler *ps, struct bpf_program *prog,
					unsigned freq_hz);
/* Detaches and closes everything; safe on a zeroed or already stopped sampler. */
GOPROF_HIDDEN void gp_perf_sampler_stop(struct gp_perf_sampler *ps);

#endif
