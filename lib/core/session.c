// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The session's life cycle: loads the core BPF program (the target table, exec and exit
 * tracepoints, the CPU sampler and the ring buffer every program writes to), creates the
 * capabilities the caller asked for (the registry, lib/caps/meson.build) and runs them: start, poll,
 * stop, statistics, free. The other modules of lib/core/ are listed in session.h.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <time.h>

#include "core/bpf_load.h"
#include "core/bpf_maps.h"
#include "core/proc.h"
#include "core/session.h"
#include "cpu_sample.skel.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

static int host_emit(struct goprof_session *s, const struct goprof_event *ev)
{
	return s->on_event ? s->on_event(ev, s->ctx) : 0;
}

static void host_count_detached(struct goprof_session *s)
{
	s->budget.sets_detached++;
}

/* What the capabilities share: the core program's maps, the symbolizer, the process
 * table, event emission and the budget's counter. */
static void fill_host(struct goprof_session *s, const struct session_config *cfg)
{
	struct cpu_sample_bpf *skel = s->skel;

	s->host = (struct gp_host){
		.shared = {
			.targets = skel->maps.targets,
			.samples = skel->maps.samples,
			.lost = skel->maps.lost,
			.http_active = skel->maps.http_active,
		},
		.sample_prog = skel->progs.on_cpu_sample,
		.counters = skel->maps.counters,
		.thread_counts = skel->maps.thread_counts,
		.sym = s->sym,
		.opts = cfg->opts,
		.features = cfg->features,
		.budget_bp = cfg->budget_bp,
		.user_depth = cfg->user_depth,
		.kernel_depth = cfg->kernel_depth,
		.freq_hz = cfg->freq_hz,
		.session = s,
		.emit = host_emit,
		.count_detached = host_count_detached,
		.reconcile_exits = gp_procs_reconcile_exits,
	};
	gp_procs_host_services(&s->host);
}

/* Sizes, loads and attaches the core program; its ring buffer's reader. */
static int load_core(struct goprof_session *s, const struct session_config *cfg)
{
	int err;

	s->skel = cpu_sample_bpf__open();
	if (!s->skel)
		return gp_err(-errno, "opening the embedded BPF object failed: %s", strerror(errno));
	s->skel->rodata->user_stack_bytes = cfg->user_depth * 8;
	s->skel->rodata->kernel_stack_bytes = cfg->kernel_depth * 8;
	err = bpf_map__set_max_entries(s->skel->maps.samples, cfg->ringbuf_kib * 1024);
	if (err)
		return gp_err(err, "sizing the sample ring buffer failed: %s", strerror(-err));
	/* The in-flight request table only matters with request labels; tiny without. */
	s->skel->rodata->http_labels = cfg->request_labels;
	err = bpf_map__set_max_entries(s->skel->maps.http_active,
				       cfg->request_labels ? GP_HTTP_MAX_ACTIVE : 64);
	if (err)
		return gp_err(err, "sizing the HTTP request table failed: %s", strerror(-err));
	gp_bpf_clear_warning();
	err = cpu_sample_bpf__load(s->skel);
	if (err == -EPERM || err == -EACCES)
		return gp_err(-EPERM, "loading BPF programs: permission denied: needs CAP_BPF and "
				      "CAP_PERFMON, or root (%s)", gp_bpf_last_warning());
	if (err)
		return gp_err(-GOPROF_ERRNO_VERIFIER, "loading BPF programs failed (%s): %s; set "
			      "GOPROF_DEBUG=1 for the verifier log", strerror(-err),
			      gp_bpf_last_warning());
	err = cpu_sample_bpf__attach(s->skel); /* exec/exit tracepoints; perf events at start */
	if (err)
		return gp_err(err == -ENOENT ? -GOPROF_ERRNO_KERNEL : err,
			      "attaching the sched_process_exec/exit tracepoints failed: %s",
			      strerror(-err));
	s->ringbuf = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), gp_records_handle, s, NULL);
	s->ringbuf_bytes = (uint64_t)cfg->ringbuf_kib * 1024;
	if (!s->ringbuf)
		return gp_err(-errno, "creating the ring buffer reader failed: %s", strerror(errno));
	return 0;
}

static int load(struct goprof_session *s, const struct session_config *cfg)
{
	int err = load_core(s, cfg);

	if (err)
		return err;
	s->features = cfg->features;
	fill_host(s, cfg);
	err = gp_runtime_probes_new(s, cfg);
	if (err)
		return err;
	s->host.probes = s->go_probes;
	return gp_caps_create(&s->caps, &s->host);
}

GOPROF_API struct goprof_session *goprof_session_new(const struct goprof_session_opts *opts)
{
	struct goprof_session *s;
	struct session_config cfg = { 0 };
	int err;

	gp_clear_error();
	err = gp_session_config_read(opts, &cfg);
	if (!err)
		err = gp_check_bpf_privileges("goprof_session_new");
	if (!err)
		err = gp_check_kernel_btf();
	if (err)
		return gp_fail_null(err);
	gp_bpf_log_setup();

	s = calloc(1, sizeof(*s));
	if (!s)
		return gp_err_null(-ENOMEM, "goprof_session_new: out of memory");
	s->on_event = OPTS_GET(opts, on_event, NULL);
	s->ctx = OPTS_GET(opts, ctx, NULL);
	s->sym = goprof_symbolizer_new(NULL);
	err = s->sym ? load(s, &cfg) : -ENOMEM;
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
	gp_caps_destroy(&s->caps); /* in the reverse order of creation */
	gp_runtime_probes_free(s);
	ring_buffer__free(s->ringbuf);
	cpu_sample_bpf__destroy(s->skel);
	goprof_symbolizer_free(s->sym);
	for (size_t i = 0; i < s->nr_exes; i++)
		goprof_binary_free(s->exes[i].bin);
	free(s->exes);
	free(s->procs);
	free(s);
}

GOPROF_API int goprof_session_start(struct goprof_session *s)
{
	int err;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_start: session is NULL");
	if (s->started)
		return gp_err(-EALREADY, "goprof_session_start: the session is already sampling");
	err = gp_caps_start(&s->caps);
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
	gp_caps_stop(&s->caps);
	s->started = false;
	return 0;
}

GOPROF_API int goprof_session_fd(const struct goprof_session *s)
{
	if (!s)
		return gp_err(-EINVAL, "goprof_session_fd: session is NULL");
	return ring_buffer__epoll_fd(s->ringbuf);
}

GOPROF_API int goprof_session_poll(struct goprof_session *s, int timeout_ms)
{
	int n, ret;

	gp_clear_error();
	if (!s)
		return gp_err(-EINVAL, "goprof_session_poll: session is NULL");
	gp_records_note_fill(s);
	n = gp_records_take_in(s, timeout_ms);
	if (n == -EINTR)
		return gp_err(n, "goprof_session_poll: interrupted by a signal");
	if (n < 0)
		return n;
	ret = gp_runtime_probes_enforce_budget(s);
	if (ret < 0)
		return ret;
	gp_procs_revalidate_tick(s);
	ret = gp_caps_tick(&s->caps, (uint64_t)gp_clock_ns(CLOCK_MONOTONIC));
	return ret < 0 ? ret : n;
}

GOPROF_API int goprof_session_stats(struct goprof_session *s, struct goprof_session_stats *out)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	uint64_t lost[GP_LOST_NR];

	gp_clear_error();
	if (!s || !out)
		return gp_err(-EINVAL, "goprof_session_stats: NULL argument");
	if (out->sz < sizeof(out->sz))
		return gp_err(-EINVAL, "goprof_session_stats: stats->sz must be set to "
				       "sizeof(struct goprof_session_stats)");
	gp_procs_reconcile_exits(s);
	gp_map_sum_percpu_all(s->skel->maps.lost, lost, GP_LOST_NR);
	st.attached_pids = s->attached;
	st.lost_targets_full = lost[GP_LOST_TARGETS_FULL];
	st.lost_events = lost[GP_LOST_EVENTS];
	st.processes_exited = s->exited;
	st.processes_unreadable = s->unreadable;
	st.processes_over_limit = s->over_limit;
	st.processes_filtered = s->filtered;
	st.events_delivered = s->events_delivered;
	st.ringbuf_bytes = s->ringbuf_bytes;
	st.ringbuf_high_water_bytes = s->ringbuf_high_water;
	gp_runtime_probes_stats(s, &st);
	gp_caps_fill_stats(&s->caps, &st, lost);
	st.sz = (uint32_t)GP_MIN((size_t)out->sz, sizeof(st));
	memcpy(out, &st, st.sz);
	return 0;
}

GOPROF_API int goprof_session_foreach_process(struct goprof_session *s, goprof_process_fn fn,
					      void *ctx)
{
	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_process: NULL argument");
	gp_procs_reconcile_exits(s);
	for (size_t i = 0; i < s->nr_procs; i++) {
		int ret = fn(&s->procs[i].info, ctx);

		if (ret)
			return ret;
	}
	return 0;
}
