// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The session object: loads the BPF programs, keeps the set of attached processes in
 * the kernel's target map, runs the CPU sampler and delivers ring-buffer samples.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "goprof/error.h"
#include "goprof/session.h"
#include "goprof_bpf.h"
#include "cpu_sample.skel.h"
#include "internal.h"
#include "perf_sampler.h"
#include "proc.h"

#define DEFAULT_FREQ_HZ 99
#define MAX_FREQ_HZ 10000
#define DEFAULT_RINGBUF_KIB 1024

struct goprof_session {
	struct cpu_sample_bpf *skel;
	struct ring_buffer *ringbuf;
	struct gp_perf_sampler sampler;
	bool started;
	unsigned freq_hz;
	unsigned attached;
	uint64_t delivered;
	goprof_sample_fn on_sample;
	void *ctx;
};

/*
 * libbpf's messages: the last warning is kept per thread so that a load failure can be
 * summarised in goprof_last_error() instead of a verifier dump on stderr. Everything is
 * printed when GOPROF_DEBUG is set in the environment.
 */
static __thread char libbpf_last_warning[256];
static bool libbpf_debug;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_debug)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last_warning, sizeof(libbpf_last_warning), fmt, ap);
		libbpf_last_warning[strcspn(libbpf_last_warning, "\n")] = '\0';
	}
	return 0;
}

static void libbpf_setup_once(void)
{
	libbpf_debug = getenv("GOPROF_DEBUG") != NULL;
	libbpf_set_print(libbpf_print);
}

static int validate_opts(const struct goprof_session_opts *opts, unsigned *freq_hz,
			 unsigned *ringbuf_kib)
{
	int err = OPTS_VALID(opts, goprof_session_opts, ctx);

	if (err)
		return err;
	*freq_hz = OPTS_GET(opts, cpu_freq_hz, 0) ?: DEFAULT_FREQ_HZ;
	if (*freq_hz > MAX_FREQ_HZ)
		return gp_err(-EINVAL, "goprof_session_opts.cpu_freq_hz: %u Hz is above the "
				       "maximum of %u Hz", *freq_hz, MAX_FREQ_HZ);
	*ringbuf_kib = OPTS_GET(opts, ringbuf_kib, 0) ?: DEFAULT_RINGBUF_KIB;
	if (*ringbuf_kib < 4 || (*ringbuf_kib & (*ringbuf_kib - 1)) || *ringbuf_kib > (1u << 20))
		return gp_err(-EINVAL, "goprof_session_opts.ringbuf_kib: %u is not a power of two "
				       "between 4 and 1048576", *ringbuf_kib);
	return 0;
}

static int handle_sample(void *ctx, void *data, size_t len)
{
	struct goprof_session *s = ctx;
	const struct gp_sample_event *ev = data;
	struct goprof_sample sample = { .sz = sizeof(sample) };

	if (len < sizeof(*ev))
		return 0;
	sample.pid = ev->pid;
	sample.tid = ev->tid;
	sample.cpu = ev->cpu;
	sample.time_ns = ev->time_ns;
	memcpy(sample.comm, ev->comm, sizeof(sample.comm));
	sample.comm[sizeof(sample.comm) - 1] = '\0';
	s->delivered++;
	return s->on_sample(&sample, s->ctx);
}

static int load_programs(struct goprof_session *s, unsigned ringbuf_kib)
{
	int err;

	s->skel = cpu_sample_bpf__open();
	if (!s->skel)
		return gp_err(-errno, "opening the embedded BPF object failed: %s", strerror(errno));
	s->skel->rodata->deliver_samples = s->on_sample != NULL;
	err = bpf_map__set_max_entries(s->skel->maps.samples, ringbuf_kib * 1024);
	if (err)
		return gp_err(err, "sizing the sample ring buffer failed: %s", strerror(-err));
	libbpf_last_warning[0] = '\0';
	err = cpu_sample_bpf__load(s->skel);
	if (err == -EPERM || err == -EACCES)
		return gp_err(-EPERM, "loading BPF programs: permission denied: needs CAP_BPF and "
				      "CAP_PERFMON, or root (%s)", libbpf_last_warning);
	if (err)
		return gp_err(-GOPROF_ERRNO_VERIFIER, "loading BPF programs failed (%s): %s; set "
			      "GOPROF_DEBUG=1 for the verifier log", strerror(-err), libbpf_last_warning);
	if (s->on_sample) {
		s->ringbuf = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), handle_sample, s, NULL);
		if (!s->ringbuf)
			return gp_err(-errno, "creating the ring buffer reader failed: %s", strerror(errno));
	}
	return 0;
}

GOPROF_API struct goprof_session *goprof_session_new(const struct goprof_session_opts *opts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct goprof_session *s;
	unsigned freq_hz = 0, ringbuf_kib = 0;
	int err;

	gp_clear_error();
	err = validate_opts(opts, &freq_hz, &ringbuf_kib);
	if (!err)
		err = gp_check_bpf_privileges("goprof_session_new");
	if (!err)
		err = gp_check_kernel_btf();
	if (err)
		return gp_fail_null(err);
	pthread_once(&once, libbpf_setup_once);

	s = calloc(1, sizeof(*s));
	if (!s)
		return gp_err_null(-ENOMEM, "goprof_session_new: out of memory");
	s->freq_hz = freq_hz;
	s->on_sample = OPTS_GET(opts, on_sample, NULL);
	s->ctx = OPTS_GET(opts, ctx, NULL);
	err = load_programs(s, ringbuf_kib);
	if (err) {
		goprof_session_free(s); /* records no error */
		return gp_fail_null(err);
	}
	return s;
}

GOPROF_API void goprof_session_free(struct goprof_session *s)
{
	if (!s)
		return;
	gp_perf_sampler_stop(&s->sampler);
	ring_buffer__free(s->ringbuf);
	cpu_sample_bpf__destroy(s->skel);
	free(s);
}

GOPROF_API int goprof_session_attach_pid(struct goprof_session *s, int pid,
					 const struct goprof_attach_opts *opts)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_attach_pid: session is NULL");
	err = OPTS_VALID(opts, goprof_attach_opts, sz);
	if (err)
		return err;
	err = gp_proc_check_pid(pid);
	if (err)
		return err;
	if (bpf_map__update_elem(s->skel->maps.targets, &key, sizeof(key), &one, sizeof(one),
				 BPF_NOEXIST)) {
		err = -errno;
		if (err == -EEXIST)
			return gp_err(err, "attach: process %d is already attached", pid);
		if (err == -E2BIG || err == -ENOSPC)
			return gp_err(-ENOSPC, "attach: %d processes are attached, the maximum",
				      GP_MAX_TARGETS);
		return gp_err(err, "attach: updating the target map failed: %s", strerror(-err));
	}
	s->attached++;
	return 0;
}

GOPROF_API int goprof_session_detach_pid(struct goprof_session *s, int pid)
{
	__u32 key = (__u32)pid;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_detach_pid: session is NULL");
	if (bpf_map__delete_elem(s->skel->maps.targets, &key, sizeof(key), 0))
		return gp_err(-ENOENT, "detach: process %d is not attached", pid);
	s->attached--;
	return 0;
}

GOPROF_API int goprof_session_start(struct goprof_session *s)
{
	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_start: session is NULL");
	if (s->started)
		return gp_err(-EALREADY, "goprof_session_start: the session is already sampling");
	int err = gp_perf_sampler_start(&s->sampler, s->skel->progs.on_cpu_sample, s->freq_hz);
	if (err)
		return err;
	s->started = true;
	return 0;
}

GOPROF_API int goprof_session_stop(struct goprof_session *s)
{
	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_stop: session is NULL");
	if (!s->started)
		return gp_err(-EALREADY, "goprof_session_stop: the session is not sampling");
	gp_perf_sampler_stop(&s->sampler);
	s->started = false;
	return 0;
}

GOPROF_API int goprof_session_fd(const struct goprof_session *s)
{
	if (!s)
		return gp_err(-EINVAL, "goprof_session_fd: session is NULL");
	if (!s->ringbuf)
		return gp_err(-ENOENT, "goprof_session_fd: the session delivers no samples "
				       "(no on_sample callback was given)");
	return ring_buffer__epoll_fd(s->ringbuf);
}

GOPROF_API int goprof_session_poll(struct goprof_session *s, int timeout_ms)
{
	int n;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_poll: session is NULL");
	if (!s->ringbuf) {
		/* Nothing to deliver; still honour the timeout so callers can loop on poll. */
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	n = ring_buffer__poll(s->ringbuf, timeout_ms);
	if (n == -EINTR)
		return gp_err(n, "goprof_session_poll: interrupted by a signal");
	return n;
}

static uint64_t sum_percpu(struct bpf_map *map, __u32 idx)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0;
	__u64 *vals;

	if (ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (vals && bpf_map__lookup_elem(map, &idx, sizeof(idx), vals, ncpus * sizeof(*vals), 0) == 0)
		for (int i = 0; i < ncpus; i++)
			total += vals[i];
	free(vals);
	return total;
}

GOPROF_API int goprof_session_stats(struct goprof_session *s, struct goprof_session_stats *out)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };

	gp_clear_error();
	if (!s || !out)
		return gp_err(-EINVAL, "goprof_session_stats: NULL argument");
	if (out->sz < sizeof(out->sz))
		return gp_err(-EINVAL, "goprof_session_stats: stats->sz must be set to "
				       "sizeof(struct goprof_session_stats)");
	st.attached_pids = s->attached;
	st.cpu_samples = sum_percpu(s->skel->maps.counters, GP_CNT_SAMPLES);
	st.samples_delivered = s->delivered;
	st.lost_ringbuf_full = sum_percpu(s->skel->maps.lost, GP_LOST_RINGBUF_FULL);
	st.lost_thread_table_full = sum_percpu(s->skel->maps.lost, GP_LOST_THREAD_TABLE_FULL);
	st.sz = (uint32_t)GP_MIN((size_t)out->sz, sizeof(st));
	memcpy(out, &st, st.sz);
	return 0;
}

GOPROF_API int goprof_session_foreach_thread(struct goprof_session *s, goprof_thread_fn fn,
					     void *ctx)
{
	struct gp_thread_key key, next, *prev = NULL;
	struct gp_thread_count val;
	int fd, ret;

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_thread: NULL argument");
	fd = bpf_map__fd(s->skel->maps.thread_counts);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct goprof_thread_samples t = { .sz = sizeof(t) };

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue; /* deleted meanwhile */
		t.pid = key.pid;
		t.tid = key.tid;
		t.samples = val.samples;
		memcpy(t.comm, val.comm, sizeof(t.comm));
		t.comm[sizeof(t.comm) - 1] = '\0';
		ret = fn(&t, ctx);
		if (ret)
			return ret;
	}
	return 0;
}
