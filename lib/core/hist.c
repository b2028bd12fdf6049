// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Percentiles of log2 microsecond histograms. */
#include "core/hist.h"

uint64_t gp_hist_percentile(const uint64_t *hist, int nr_buckets, uint64_t total, unsigned pct)
{
	uint64_t seen = 0, want = (total * pct + 99) / 100;

	for (int i = 0; i < nr_buckets; i++) {
		seen += hist[i];
		if (seen >= want && seen)
			return (2ull << i) * 1000;
	}
	return 0;
}

int gp_hist_bucket(uint64_t ns, int nr_buckets)
{
	uint64_t us = ns / 1000;
	int b = 0;

	while (us > 1 && b + 1 < nr_buckets) {
		us >>= 1;
		b++;
	}
	return b;
}
