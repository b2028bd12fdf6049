/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The log2 microsecond histograms of the public statistics (scheduling latency, channel
 * waits, GC pauses): bucket i counts values below 2^(i+1) us.
 */
#ifndef GOPROF_HIST_H
#define GOPROF_HIST_H

#include <stdint.h>

#include "internal.h"

/* Upper bound of the bucket holding the pct-th percentile of total values, in ns (0 if
 * the histogram is empty). */
/* The bucket of a value of ns nanoseconds among nr_buckets (the last takes the rest). */
GOPROF_HIDDEN int gp_hist_bucket(uint64_t ns, int nr_buckets);

GOPROF_HIDDEN uint64_t gp_hist_percentile(const uint64_t *hist, int nr_buckets, uint64_t total,
					  unsigned pct);

#endif /* GOPROF_HIST_H */
