// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* On-CPU time (see cpu.h). */
#include <stdlib.h>

#include "caps/cpu/cpu.h"
#include "caps/cpu/cpu_table.h"
#include "caps/cpu/perf_sampler.h"
#include "core/bpf_maps.h"
#include "goprof/error.h"

#define KNOWN_CPU_PROFILE_FLAGS (GOPROF_CPU_PROFILE_TIMESTAMPS | GOPROF_CPU_PROFILE_THREADS)
#define DEFAULT_CPU_TIMESTAMPS_MAX 65536

struct cpu_cap {
	const struct gp_host *h;
	struct gp_cpu_table *table;
	struct gp_perf_sampler sampler;
	goprof_sample_fn on_sample;
	void *ctx;
	uint64_t delivered, lost_aggregation;
};

static int validate(const struct goprof_session_opts *opts, uint32_t features)
{
	uint32_t flags = OPTS_GET(opts, cpu_profile_flags, 0);

	(void)features;
	if (flags & ~KNOWN_CPU_PROFILE_FLAGS)
		return gp_err(-EINVAL, "goprof_session_opts.cpu_profile_flags: unknown flags 0x%x "
				       "(expected GOPROF_CPU_PROFILE_*)",
			      flags & ~KNOWN_CPU_PROFILE_FLAGS);
	return 0;
}

static bool wanted(uint32_t features)
{
	(void)features;
	return true;
}

static void *create(const struct gp_host *h)
{
	struct cpu_cap *c = calloc(1, sizeof(*c));
	const struct goprof_session_opts *opts = h->opts;

	if (!c)
		return NULL;
	c->h = h;
	c->on_sample = OPTS_GET(opts, on_sample, NULL);
	c->ctx = OPTS_GET(opts, ctx, NULL);
	c->table = gp_cpu_table_new(h->sym, h->freq_hz, OPTS_GET(opts, cpu_profile_flags, 0),
				    OPTS_GET(opts, cpu_timestamps_max, 0) ?: DEFAULT_CPU_TIMESTAMPS_MAX);
	if (!c->table) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	gp_cpu_table_set_fallback(c->table, h->exe_of_pid, h->session);
	return c;
}

static void destroy(void *cap)
{
	struct cpu_cap *c = cap;

	gp_perf_sampler_stop(&c->sampler);
	gp_cpu_table_free(c->table);
	free(c);
}

static int ignore_frame(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	return 0;
}

static int start(void *cap)
{
	struct cpu_cap *c = cap;
	int err;

	if (c->h->kernel_depth) {
		/* Load kernel symbols now, not inside the first poll that meets a kernel frame
		 * (0.3-0.6 s: short-lived processes would exit before their samples are read). */
		uint64_t probe = 0;

		goprof_symbolizer_symbolize_kernel(c->h->sym, &probe, 1, ignore_frame, NULL);
		gp_clear_error();
	}
	err = gp_perf_sampler_start(&c->sampler, c->h->sample_prog, c->h->freq_hz);
	if (!err)
		gp_cpu_table_mark_start(c->table);
	return err;
}

static void stop(void *cap)
{
	struct cpu_cap *c = cap;

	gp_perf_sampler_stop(&c->sampler);
}

static int deliver(struct cpu_cap *c, const struct gp_sample_event *ev)
{
	struct goprof_profile_label labels[GP_MAX_LABELS];
	const struct goprof_profile_label *label_ptrs[GP_MAX_LABELS];
	struct goprof_sample sample = { .sz = sizeof(sample) };
	uint32_t nr_labels = GP_MIN(ev->nr_labels, GP_MAX_LABELS);

	sample.pid = ev->pid;
	sample.tid = ev->tid;
	sample.cpu = ev->cpu;
	sample.time_ns = ev->time_ns;
	memcpy(sample.comm, ev->comm, sizeof(sample.comm));
	sample.comm[sizeof(sample.comm) - 1] = '\0';
	sample.goid = ev->goid;
	sample.flags = ev->flags; /* GP_SAMPLE_F_* equal GOPROF_SAMPLE_* */
	for (uint32_t i = 0; i < nr_labels; i++) {
		labels[i] = (struct goprof_profile_label){
			.sz = sizeof(labels[i]),
			.key = ev->labels[i].key,
			.str = ev->labels[i].value,
			.num_unit = "",
		};
		label_ptrs[i] = &labels[i];
	}
	sample.nr_labels = nr_labels;
	sample.labels = label_ptrs;
	sample.nr_user_ips = GP_MIN(ev->nr_user, GP_MAX_STACK_DEPTH);
	sample.nr_kernel_ips = GP_MIN(ev->nr_kernel, GP_MAX_STACK_DEPTH);
	sample.user_ips = (const uint64_t *)ev->stack;
	sample.kernel_ips = (const uint64_t *)ev->stack + sample.nr_user_ips;
	return c->on_sample(&sample, c->ctx);
}

static int sample(void *cap, const struct gp_sample_event *ev)
{
	struct cpu_cap *c = cap;

	if (gp_cpu_table_add(c->table, ev, c->h->process_name(c->h->session, ev->pid)))
		c->lost_aggregation++;
	c->delivered++;
	return c->on_sample ? deliver(c, ev) : 0;
}

static void process_gone(void *cap, uint32_t pid, enum gp_process_change why)
{
	struct cpu_cap *c = cap;

	if (why == GP_PROCESS_EXITED) /* its samples are all in */
		gp_cpu_table_forget_pid(c->table, pid);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct cpu_cap *c = cap;
	uint64_t cnt[GP_CNT_NR];
	struct gp_cpu_table_stats cs;

	gp_map_sum_percpu_all(c->h->counters, cnt, GP_CNT_NR);
	gp_cpu_table_stats(c->table, &cs);
	st->cpu_samples = cnt[GP_CNT_SAMPLES];
	st->go_context_failed = cnt[GP_CNT_GO_CONTEXT_FAILED];
	st->samples_delivered = c->delivered;
	st->lost_ringbuf_full = lost[GP_LOST_RINGBUF_FULL];
	st->lost_thread_table_full = lost[GP_LOST_THREAD_TABLE_FULL];
	st->lost_aggregation += c->lost_aggregation;
	st->frames_unsymbolized = cs.frames_unsymbolized;
	st->symbol_cache_hits = cs.location_cache_hits;
	st->symbol_cache_misses = cs.location_cache_misses;
	st->cpu_profile_stacks = cs.stacks;
	st->symbol_cache_entries = cs.cache_entries;
	st->cpu_profile_resets = cs.resets;
}

/* Last: the capabilities that look at samples (HTTP) see each before the callback. */
const struct gp_cap_ops gp_cap_cpu = {
	.name = "cpu",
	.wanted = wanted,
	.validate = validate,
	.create = create,
	.destroy = destroy,
	.start = start,
	.stop = stop,
	.sample = sample,
	.process_gone = process_gone,
	.fill_stats = fill_stats,
};

GOPROF_API struct goprof_profile *goprof_session_snapshot_cpu(struct goprof_session *s, uint32_t flags)
{
	struct cpu_cap *c;
	struct goprof_profile *p;

	gp_clear_error();
	if (!s)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_cpu: session is NULL");
	if (flags & ~GOPROF_SNAPSHOT_RESET)
		return gp_err_null(-EINVAL, "goprof_session_snapshot_cpu: unknown flags 0x%x",
				   flags & ~GOPROF_SNAPSHOT_RESET);
	c = gp_session_cap(s, &gp_cap_cpu);
	p = gp_cpu_table_snapshot(c->table, flags & GOPROF_SNAPSHOT_RESET);
	if (!p)
		return gp_fail_null(errno ? -errno : -ENOMEM);
	return p;
}

struct thread_walk {
	struct gp_thread_key key;
	struct gp_thread_count val;
	goprof_thread_fn fn;
	void *ctx;
};

static int visit_thread(void *walk)
{
	struct thread_walk *w = walk;
	struct goprof_thread_samples t = {
		.sz = sizeof(t),
		.pid = w->key.pid,
		.tid = w->key.tid,
		.samples = w->val.samples,
	};

	memcpy(t.comm, w->val.comm, sizeof(t.comm));
	t.comm[sizeof(t.comm) - 1] = '\0';
	return w->fn(&t, w->ctx);
}

GOPROF_API int goprof_session_foreach_thread(struct goprof_session *s, goprof_thread_fn fn,
					     void *ctx)
{
	struct thread_walk w = { .fn = fn, .ctx = ctx };

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_thread: NULL argument");
	return gp_map_walk(gp_session_host(s)->thread_counts, &w.key, sizeof(w.key), &w.val,
			   visit_thread, &w);
}

/* Calls fn for every frame of addrs (leaf first); return addresses looked up at ip - 1. */
static int symbolize_stack(struct goprof_symbolizer *sym, int pid, bool kernel,
			   const uint64_t *ips, uint32_t n, goprof_frame_fn fn, void *ctx)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lookup = i ? ips[i] - 1 : ips[i];
		int ret = kernel ? goprof_symbolizer_symbolize_kernel(sym, &lookup, 1, fn, ctx)
				 : goprof_symbolizer_symbolize_pid(sym, pid, &lookup, 1, fn, ctx);

		if (ret > 0 || (ret < 0 && ret != -ESRCH && ret != -EACCES))
			return ret;
	}
	return 0;
}

GOPROF_API int goprof_session_symbolize_sample(struct goprof_session *s,
					       const struct goprof_sample *sample,
					       goprof_frame_fn fn, void *ctx)
{
	struct goprof_symbolizer *sym;
	int ret;

	gp_clear_error();
	if (!s || !sample || !fn)
		return gp_err(-EINVAL, "goprof_session_symbolize_sample: NULL argument");
	if (sample->sz < gp_offsetofend(struct goprof_sample, kernel_ips))
		return gp_err(-EINVAL, "goprof_session_symbolize_sample: the sample has no stacks");
	sym = gp_session_host(s)->sym;
	ret = symbolize_stack(sym, (int)sample->pid, true, sample->kernel_ips,
			      sample->nr_kernel_ips, fn, ctx);
	if (ret)
		return ret;
	return symbolize_stack(sym, (int)sample->pid, false, sample->user_ips,
			       sample->nr_user_ips, fn, ctx);
}
