// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The options of goprof_session_new(), checked (each capability checks its own). */
#include <bpf/libbpf.h>

#include "core/session.h"
#include "goprof/error.h"

#define DEFAULT_FREQ_HZ 99
#define MAX_FREQ_HZ 10000
#define DEFAULT_RINGBUF_KIB 1024

#define KNOWN_FEATURES (GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP | \
			GOPROF_FEATURE_SCHED | GOPROF_FEATURE_ALLOCS | GOPROF_FEATURE_BLOCK | \
			GOPROF_FEATURE_CHANNELS | GOPROF_FEATURE_HTTP | GOPROF_FEATURE_OFFCPU | \
			GOPROF_FEATURE_TCP | GOPROF_FEATURE_HTTP_WIRE | GOPROF_FEATURE_GC_PRECISE | \
			GOPROF_FEATURE_SCHED_PRECISE | GOPROF_FEATURE_GOROUTINE_SNAPSHOTS)

static int validate_depth(uint32_t depth, const char *field, bool allow_none, unsigned *out)
{
	if (allow_none && depth == GOPROF_NO_KERNEL_STACKS) {
		*out = 0;
		return 0;
	}
	if (depth > GP_MAX_STACK_DEPTH)
		return gp_err(-EINVAL, "goprof_session_opts.%s: %u frames is above the maximum "
				       "of %d", field, depth, GP_MAX_STACK_DEPTH);
	*out = depth ? depth : GP_MAX_STACK_DEPTH;
	return 0;
}

/*
 * The ring buffer holds what arrives while the poller is busy elsewhere (a first sample
 * loading a binary's symbols, a burst of execs). A full-depth sample takes about 2 KiB:
 * one second of every CPU sampling at freq_hz, doubled when runtime events share the
 * ring, at least DEFAULT_RINGBUF_KIB. 2 CPUs at 99 Hz: 1 MiB; 64 CPUs: 32 MiB.
 */
static unsigned default_ringbuf_kib(unsigned freq_hz, uint32_t features)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t kib = (uint64_t)(ncpus > 0 ? ncpus : 1) * freq_hz * 2;
	unsigned pow2 = DEFAULT_RINGBUF_KIB;

	if (features & ~(uint32_t)(GOPROF_FEATURE_OFFCPU | GOPROF_FEATURE_TCP))
		kib *= 2; /* goroutine, GC, heap, blocking, HTTP records */
	while (pow2 < kib && pow2 < (256u << 10))
		pow2 <<= 1;
	return pow2;
}

/* The features asked for, with what they imply; 0 or an error. */
static int read_features(const struct goprof_session_opts *opts, uint32_t *features)
{
	const uint32_t http = GOPROF_FEATURE_HTTP | GOPROF_FEATURE_HTTP_WIRE;
	uint32_t f = OPTS_GET(opts, features, 0);

	if (f & GOPROF_FEATURE_GC_PRECISE)
		f |= GOPROF_FEATURE_GC;
	if (f & GOPROF_FEATURE_SCHED_PRECISE)
		f |= GOPROF_FEATURE_SCHED;
	*features = f;
	if (f & ~KNOWN_FEATURES)
		return gp_err(-EINVAL, "goprof_session_opts.features: unknown flags 0x%x",
			      f & ~KNOWN_FEATURES);
	if ((f & http) == http)
		return gp_err(-EINVAL, "goprof_session_opts.features: GOPROF_FEATURE_HTTP and "
				       "GOPROF_FEATURE_HTTP_WIRE trace the same requests; choose one");
	if (f & GOPROF_FEATURE_CHANNELS && !(f & GOPROF_FEATURE_BLOCK))
		return gp_err(-EINVAL, "goprof_session_opts.features: GOPROF_FEATURE_CHANNELS needs "
				       "GOPROF_FEATURE_BLOCK (blocked channel operations are timed by "
				       "the blocking probes)");
	return 0;
}

int gp_session_config_read(const struct goprof_session_opts *opts, struct session_config *cfg)
{
	int err = OPTS_VALID(opts, goprof_session_opts, goroutine_leak_age_ms);

	if (err)
		return err;
	cfg->opts = opts;
	cfg->freq_hz = OPTS_GET(opts, cpu_freq_hz, 0) ?: DEFAULT_FREQ_HZ;
	if (cfg->freq_hz > MAX_FREQ_HZ)
		return gp_err(-EINVAL, "goprof_session_opts.cpu_freq_hz: %u Hz is above the "
				       "maximum of %u Hz", cfg->freq_hz, MAX_FREQ_HZ);
	cfg->ringbuf_kib = OPTS_GET(opts, ringbuf_kib, 0) ?:
			   default_ringbuf_kib(cfg->freq_hz, OPTS_GET(opts, features, 0));
	if (cfg->ringbuf_kib < 4 || (cfg->ringbuf_kib & (cfg->ringbuf_kib - 1)) ||
	    cfg->ringbuf_kib > (1u << 20))
		return gp_err(-EINVAL, "goprof_session_opts.ringbuf_kib: %u is not a power of two "
				       "between 4 and 1048576", cfg->ringbuf_kib);
	err = validate_depth(OPTS_GET(opts, user_stack_depth, 0), "user_stack_depth", false,
			     &cfg->user_depth);
	if (!err)
		err = validate_depth(OPTS_GET(opts, kernel_stack_depth, 0), "kernel_stack_depth",
				     true, &cfg->kernel_depth);
	if (!err)
		err = read_features(opts, &cfg->features);
	cfg->request_labels = cfg->features & (GOPROF_FEATURE_HTTP | GOPROF_FEATURE_HTTP_WIRE);
	cfg->budget_bp = OPTS_GET(opts, overhead_budget_bp, 0) ?: GP_DEFAULT_BUDGET_BP;
	if (!err && cfg->budget_bp > 10000)
		err = gp_err(-EINVAL, "goprof_session_opts.overhead_budget_bp: %u is above 10000 "
				      "(100%% of the targets' CPU)", cfg->budget_bp);
	return err ? err : gp_caps_validate(opts, cfg->features);
}
