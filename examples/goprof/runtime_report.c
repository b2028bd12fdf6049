// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record's Go runtime output: events.jsonl (one JSON object per line: GC cycles
 * as they end, goroutine leak sites at the end), heap.pb.gz, goroutines.pb.gz and the
 * summary (GC pauses, live goroutines, top leak sites, heap sites).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

#define TOP_SITES 5

int runtime_events_open(struct runtime_events *ev, const struct safe_dir *dir)
{
	ev->out = safe_stream_create(dir, "events.jsonl");
	if (!ev->out)
		return -1;
	/* First line: which schema the lines follow (docs/events.schema.json) and who wrote it. */
	jsonl_begin(ev->out, "recording", 0, 0);
	fprintf(ev->out, ",\"schema_version\":%d,\"goprof_version\":", EVENTS_SCHEMA_VERSION);
	json_string(ev->out, goprof_version_string());
	fprintf(ev->out, "}\n");
	return 0;
}

void runtime_events_close(struct runtime_events *ev)
{
	if (ev->out)
		fclose(ev->out);
	ev->out = NULL;
}

static const char *trigger_name(uint32_t t)
{
	return t == GOPROF_GC_TRIGGER_HEAP ? "heap" : t == GOPROF_GC_TRIGGER_TIME ? "time" :
	       t == GOPROF_GC_TRIGGER_CYCLE ? "forced" : "unknown";
}

int runtime_event(const struct goprof_event *e, void *ctx)
{
	struct runtime_events *ev = ctx;

	if (e->type == GOPROF_EVENT_PROCESS_EXIT)
		return note_exited_process(e->process);

	if (e->type == GOPROF_EVENT_PROBE_DETACHED || e->type == GOPROF_EVENT_OFFCPU_THROTTLED) {
		fprintf(stderr, "goprof record: %s\n", e->message);
		if (ev->out) {
			jsonl_begin(ev->out, e->type == GOPROF_EVENT_PROBE_DETACHED ? "probe_detached"
									    : "offcpu_throttled", 0, e->time_ns);
			fprintf(ev->out, ",\"time_ns\":%llu,\"message\":", (unsigned long long)e->time_ns);
			json_string(ev->out, e->message);
			fprintf(ev->out, "}\n");
		}
		return 0;
	}
	if (e->type == GOPROF_EVENT_GOROUTINE_LEAK && e->leak) {
		/* each new or grown leak group, as it is found */
		if (ev->out) {
			const struct goprof_goroutine_leak *l = e->leak;

			jsonl_begin(ev->out, "goroutine_leak_found", l->pid, e->time_ns);
			fprintf(ev->out, ",\"time_ns\":%llu,"
				"\"count\":%llu,\"parked\":%llu,\"growth_per_min\":%lld,\"wait_reason\":",
				(unsigned long long)e->time_ns, (unsigned long long)l->count,
				(unsigned long long)l->parked, (long long)l->growth_per_min);
			json_string(ev->out, l->wait_reason);
			fprintf(ev->out, ",\"function\":");
			json_string(ev->out, l->top_function);
			fprintf(ev->out, ",\"created_by\":");
			json_string(ev->out, l->created_by);
			fprintf(ev->out, "}\n");
		}
		return 0;
	}
	if (is_tcp_event(e))
		return write_tcp_event(ev->out, e);
	if (e->type == GOPROF_EVENT_HTTP_REQUEST || e->type == GOPROF_EVENT_HTTP_CLIENT_REQUEST)
		return http_event_jsonl(e, ev->out);
	if (!ev->out || e->type != GOPROF_EVENT_GC_CYCLE)
		return 0; /* goroutine events are summarised, not listed */
	jsonl_begin(ev->out, "gc_cycle", e->pid, e->gc_end_ns ? e->gc_end_ns : e->time_ns);
	fprintf(ev->out,
		",\"cycle\":%llu,\"trigger\":\"%s\","
		"\"start_ns\":%llu,\"end_ns\":%llu,\"sweep_term_pause_ns\":%llu,\"mark_ns\":%llu,"
		"\"mark_term_pause_ns\":%llu,\"pause_ns\":%llu,\"source\":\"%s\"}\n",
		(unsigned long long)e->gc_cycle, trigger_name(e->gc_trigger),
		(unsigned long long)e->gc_start_ns, (unsigned long long)e->gc_end_ns,
		(unsigned long long)e->gc_sweep_term_pause_ns, (unsigned long long)e->gc_mark_ns,
		(unsigned long long)e->gc_mark_term_pause_ns,
		(unsigned long long)(e->sz >= offsetof(struct goprof_event, gc_flags) + 4 &&
				     e->gc_flags & GOPROF_GC_FROM_MEMORY ? e->gc_pause_ns :
				     e->gc_sweep_term_pause_ns + e->gc_mark_term_pause_ns),
		e->sz >= offsetof(struct goprof_event, gc_flags) + 4 && e->gc_flags & GOPROF_GC_FROM_MEMORY
			? "memory" : "probes");
	return 0;
}

static void print_gc(struct goprof_session *s, struct runtime_events *ev)
{
	struct goprof_gc_stats g = { .sz = sizeof(g) };

	if (goprof_session_gc_stats(s, 0, &g))
		return;
	printf("\nGC: %llu cycles", (unsigned long long)g.cycles);
	if (g.cycles > 1 && g.last_cycle_ns > g.first_cycle_ns)
		printf(" (%.1f per second)", (g.cycles - 1) * 1e9 / (g.last_cycle_ns - g.first_cycle_ns));
	if (g.source == GOPROF_STATS_FROM_MEMORY) {
		printf(" (%llu forced); %llu stop-the-world pauses p50 %.3f ms, p99 %.3f ms, max %.3f ms "
		       "(bucket bounds), total %.3f ms; other stop-the-world pauses %llu [read from the "
		       "runtime's memory]\n", (unsigned long long)g.forced_cycles,
		       (unsigned long long)g.pauses, g.pause_p50_ns / 1e6, g.pause_p99_ns / 1e6,
		       g.pause_max_ns / 1e6, g.pause_total_ns / 1e6, (unsigned long long)g.other_stw);
		if (g.heap_flags & GOPROF_GC_HEAP_VALID)
			printf("heap: %.1f MiB in use, %.1f MiB live at the last cycle, goal %.1f MiB%s\n",
			       g.heap_inuse_bytes / 1048576.0, g.heap_marked_bytes / 1048576.0,
			       g.heap_goal_bytes / 1048576.0,
			       g.heap_flags & GOPROF_GC_HEAP_LIMITED ? " (GOGC's; a memory limit is set)" : "");
	} else {
		printf("; stop-the-world pauses p50 %.3f ms, p99 %.3f ms, max %.3f ms, total %.3f ms; "
		       "median cycle %.3f ms\n", g.pause_p50_ns / 1e6, g.pause_p99_ns / 1e6,
		       g.pause_max_ns / 1e6, g.pause_total_ns / 1e6, g.cycle_p50_ns / 1e6);
	}
	if (ev->out)
		jsonl_begin(ev->out, "gc_summary", 0, 0);
	if (ev->out)
		fprintf(ev->out,
			",\"cycles\":%llu,\"pause_p50_ns\":%llu,\"pause_p99_ns\":%llu,"
			"\"pause_max_ns\":%llu,\"pause_total_ns\":%llu,\"other_stw\":%llu,"
			"\"source\":\"%s\",\"forced_cycles\":%llu,\"pauses\":%llu,"
			"\"heap_inuse_bytes\":%llu,\"heap_marked_bytes\":%llu,\"heap_goal_bytes\":%llu}\n",
			(unsigned long long)g.cycles, (unsigned long long)g.pause_p50_ns,
			(unsigned long long)g.pause_p99_ns, (unsigned long long)g.pause_max_ns,
			(unsigned long long)g.pause_total_ns, (unsigned long long)g.other_stw,
			g.source == GOPROF_STATS_FROM_MEMORY ? "memory" : "probes",
			(unsigned long long)g.forced_cycles, (unsigned long long)g.pauses,
			(unsigned long long)g.heap_inuse_bytes, (unsigned long long)g.heap_marked_bytes,
			(unsigned long long)g.heap_goal_bytes);
}

struct site {
	char name[160];
	int64_t value, value2;
};

struct site_list {
	struct site top[TOP_SITES];
	int n;
	int64_t total;
	int value_index, value2_index;
	FILE *jsonl;       /* leak sites: each also written here */
	uint64_t min_age_ns;
};

/* "main.f (file.go:12)": the innermost frame of a creation or allocation site. */
static void site_name(const struct goprof_profile_sample *s, char *buf, size_t len)
{
	const struct goprof_profile_frame *f = s->nr_frames ? s->frames[0] : NULL;

	if (!f)
		snprintf(buf, len, "(unknown)");
	else if (f->file[0])
		snprintf(buf, len, "%s (%s:%lld)", f->function, strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file,
			 (long long)f->line);
	else
		snprintf(buf, len, "%s", f->function);
}

/* The sample's "pid" label (the profiles of goroutines and scheduling carry it), or 0. */
static uint32_t sample_pid(const struct goprof_profile_sample *s)
{
	for (uint32_t k = 0; k < s->nr_labels; k++)
		if (!strcmp(s->labels[k]->key, "pid"))
			return (uint32_t)s->labels[k]->num;
	return 0;
}

static int collect_site(const struct goprof_profile_sample *s, void *ctx)
{
	struct site_list *l = ctx;
	int64_t v = s->values[l->value_index], v2 = s->values[l->value2_index];
	struct site cur = { .value = v, .value2 = v2 };
	int i;

	site_name(s, cur.name, sizeof(cur.name));
	l->total += v;
	if (l->jsonl) {
		int64_t oldest = 0;

		for (uint32_t k = 0; k < s->nr_labels; k++)
			if (!strcmp(s->labels[k]->key, "oldest_age"))
				oldest = s->labels[k]->num;
		jsonl_begin(l->jsonl, "goroutine_leak", sample_pid(s), 0);
		fprintf(l->jsonl, ",\"site\":");
		json_string(l->jsonl, cur.name);
		fprintf(l->jsonl, ",\"count\":%lld,\"mean_age_ns\":%lld,\"oldest_age_ns\":%lld,"
			"\"min_age_ns\":%llu}\n", (long long)v, (long long)(v ? v2 / v : 0), (long long)oldest,
			(unsigned long long)l->min_age_ns);
	}
	/* Keep the TOP_SITES largest, sorted by value, largest first. */
	if (l->n == TOP_SITES && l->top[TOP_SITES - 1].value >= v)
		return 0;
	i = l->n < TOP_SITES ? l->n++ : TOP_SITES - 1;
	for (; i > 0 && l->top[i - 1].value < v; i--)
		l->top[i] = l->top[i - 1];
	l->top[i] = cur;
	return 0;
}

static int write_profile(struct goprof_profile *p, const struct safe_dir *dir, const char *file)
{
	return safe_write_profile(dir, file, p, GOPROF_FORMAT_PPROF, NULL);
}

static int report_goroutines(struct goprof_session *s, const struct safe_dir *dir,
			     struct runtime_events *ev, uint64_t leak_age_ns)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_profile *all = goprof_session_snapshot_goroutines(s, 0, 0);
	struct goprof_profile *old = goprof_session_snapshot_goroutines(s, leak_age_ns, 0);
	struct site_list leaks = { .value_index = 0, .value2_index = 1, .jsonl = ev->out,
				   .min_age_ns = leak_age_ns };
	int rc = 0;

	if (!all || !old) {
		fprintf(stderr, "goprof record: goroutine profile: %s\n", goprof_last_error());
		goprof_profile_free(all);
		goprof_profile_free(old);
		return -1;
	}
	rc |= write_profile(all, dir, "goroutines.pb.gz");
	goprof_profile_foreach_sample(old, collect_site, &leaks);
	goprof_session_stats(s, &st);
	printf("\ngoroutines: %llu created, %llu exited, %llu live (created since attach); "
	       "%lld alive longer than %.0f s\n", (unsigned long long)st.goroutines_created,
	       (unsigned long long)st.goroutines_exited, (unsigned long long)st.goroutines_live,
	       (long long)leaks.total, leak_age_ns / 1e9);
	for (int i = 0; i < leaks.n; i++)
		printf("  %6lld goroutines, mean age %.1f s, created at %s\n", (long long)leaks.top[i].value,
		       leaks.top[i].value ? leaks.top[i].value2 / 1e9 / leaks.top[i].value : 0.0,
		       leaks.top[i].name);
	goprof_profile_free(all);
	goprof_profile_free(old);
	return rc;
}

struct leak_list {
	FILE *jsonl;
	uint64_t total;
	int n;
	uint64_t leak_age_ns;
};

static int print_leak(const struct goprof_goroutine_leak *l, void *ctx)
{
	struct leak_list *ll = ctx;

	ll->total += l->count;
	if (ll->jsonl) {
		jsonl_begin(ll->jsonl, "goroutine_leak", l->pid, l->last_seen_ns);
		fprintf(ll->jsonl, ",\"site\":");
		json_string(ll->jsonl, l->created_by);
		fprintf(ll->jsonl, ",\"function\":");
		json_string(ll->jsonl, l->top_function);
		fprintf(ll->jsonl, ",\"wait_reason\":");
		json_string(ll->jsonl, l->wait_reason);
		fprintf(ll->jsonl, ",\"stack\":");
		json_string(ll->jsonl, l->stack);
		fprintf(ll->jsonl, ",\"count\":%llu,\"parked\":%llu,\"growth_per_min\":%lld,"
			"\"oldest_wait_ns\":%llu,\"min_age_ns\":%llu}\n", (unsigned long long)l->count,
			(unsigned long long)l->parked, (long long)l->growth_per_min,
			(unsigned long long)l->oldest_wait_ns, (unsigned long long)ll->leak_age_ns);
	}
	if (ll->n++ < TOP_SITES) {
		/* names from the binary: term_guard() filters what reaches a terminal */
		const char *site = l->created_by[0] ? l->created_by : "?";
		const char *fn = l->top_function[0] ? l->top_function : "?", *reason = l->wait_reason;

		printf("  %6llu goroutines parked in %s [%s], longest %.1f s, created by %s; "
		       "%llu parked now, %+lld per minute\n", (unsigned long long)l->count, fn, reason,
		       l->oldest_wait_ns / 1e9, site, (unsigned long long)l->parked,
		       (long long)l->growth_per_min);
	}
	return 0;
}

/* --goroutines (snapshots): the profile of every goroutine and the leak groups. */
static int report_goroutine_snapshots(struct goprof_session *s, const struct safe_dir *dir,
				      struct runtime_events *ev, uint64_t leak_age_ns)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_profile *all = goprof_session_snapshot_goroutines(s, 0, 0);
	struct leak_list ll = { .jsonl = ev->out, .leak_age_ns = leak_age_ns };
	int rc = 0;

	if (!all) {
		fprintf(stderr, "goprof record: goroutine profile: %s\n", goprof_last_error());
		return -1;
	}
	rc |= write_profile(all, dir, "goroutines.pb.gz");
	{
		/* where goroutines spent their time parked, sampled by the snapshots */
		struct goprof_profile *waits = goprof_session_snapshot_goroutine_waits(s, 0);

		if (waits)
			rc |= write_profile(waits, dir, "goroutine_waits.pb.gz");
		goprof_profile_free(waits);
	}
	goprof_session_stats(s, &st);
	printf("\ngoroutines (snapshots, no probe): %llu snapshots, %llu goroutines read, reader "
	       "CPU %.1f ms (%llu retried, %llu left out while changing)\n",
	       (unsigned long long)st.goroutine_snapshots, (unsigned long long)st.snapshot_goroutines_read,
	       st.snapshot_cpu_ns / 1e6, (unsigned long long)st.snapshot_retries,
	       (unsigned long long)st.snapshot_changed);
	goprof_session_foreach_goroutine_leak(s, print_leak, &ll);
	printf("  %llu goroutines parked longer than %.0f s (possible leaks) in %d groups\n",
	       (unsigned long long)ll.total, leak_age_ns / 1e9, ll.n);
	goprof_profile_free(all);
	return rc;
}

static int report_heap(struct goprof_session *s, const struct safe_dir *dir)
{
	struct goprof_profile *p = goprof_session_snapshot_heap(s, 0);
	struct site_list sites = { .value_index = 1, .value2_index = 3 };
	int rc;

	if (!p) {
		fprintf(stderr, "goprof record: heap profile: %s\n", goprof_last_error());
		return -1;
	}
	rc = write_profile(p, dir, "heap.pb.gz");
	goprof_profile_foreach_sample(p, collect_site, &sites);
	printf("\nheap: %.1f MB allocated since attach (sampled by the runtime, scaled)\n",
	       sites.total / 1e6);
	for (int i = 0; i < sites.n; i++)
		printf("  %8.1f MB allocated, %8.1f MB in use  %s\n", sites.top[i].value / 1e6,
		       sites.top[i].value2 / 1e6, sites.top[i].name);
	goprof_profile_free(p);
	return rc;
}

static void write_hist_json(FILE *out, const uint64_t *hist)
{
	fprintf(out, "\"hist_log2_us\":[");
	for (int i = 0; i < GOPROF_SCHED_HIST_BUCKETS; i++)
		fprintf(out, "%s%llu", i ? "," : "", (unsigned long long)hist[i]);
	fprintf(out, "]");
}

/* The sites with the most waiting, and every site's histogram in events.jsonl. */
struct sched_sites {
	struct {
		char name[160];
		struct goprof_sched_stats st;
	} top[TOP_SITES];
	int n;
	FILE *jsonl;
};

static int collect_sched_site(const struct goprof_profile_sample *s, const struct goprof_sched_stats *st,
			      void *ctx)
{
	struct sched_sites *l = ctx;
	char name[160];
	int i;

	site_name(s, name, sizeof(name));
	if (l->jsonl) {
		jsonl_begin(l->jsonl, "sched_site", sample_pid(s), 0);
		fprintf(l->jsonl, ",\"site\":");
		json_string(l->jsonl, name);
		fprintf(l->jsonl, ",\"goroutines\":%u,\"waits\":%llu,\"total_ns\":%llu,"
			"\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,", st->goroutines,
			(unsigned long long)st->waits, (unsigned long long)st->total_ns,
			(unsigned long long)st->p50_ns, (unsigned long long)st->p90_ns,
			(unsigned long long)st->p99_ns, (unsigned long long)st->max_ns);
		write_hist_json(l->jsonl, st->hist);
		fprintf(l->jsonl, "}\n");
	}
	if (l->n == TOP_SITES && l->top[TOP_SITES - 1].st.total_ns >= st->total_ns)
		return 0;
	i = l->n < TOP_SITES ? l->n++ : TOP_SITES - 1;
	for (; i > 0 && l->top[i - 1].st.total_ns < st->total_ns; i--)
		l->top[i] = l->top[i - 1];
	snprintf(l->top[i].name, sizeof(l->top[i].name), "%s", name);
	l->top[i].st = *st;
	return 0;
}

static int report_sched(struct goprof_session *s, const struct safe_dir *dir,
			struct runtime_events *ev)
{
	struct goprof_sched_stats st = { .sz = sizeof(st) };
	struct goprof_profile *p = goprof_session_snapshot_sched(s, 0);
	struct sched_sites sites = { .jsonl = ev->out };
	int rc;

	if (!p || goprof_session_sched_stats(s, 0, &st) ||
	    goprof_session_foreach_sched_site(s, collect_sched_site, &sites)) {
		fprintf(stderr, "goprof record: scheduling latency: %s\n", goprof_last_error());
		goprof_profile_free(p);
		return -1;
	}
	if (st.source == GOPROF_STATS_FROM_MEMORY) {
		rc = 0; /* no creation sites in this mode: no sched.pb.gz */
		printf("\nscheduling latency (runnable -> running), the runtime's own histogram: %llu "
		       "waits timed (1 in %u per goroutine), p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max "
		       "%.3f ms (bucket bounds); by creation site: --sched=precise --goroutines\n",
		       (unsigned long long)st.waits, st.sample_every, st.p50_ns / 1e6, st.p90_ns / 1e6,
		       st.p99_ns / 1e6, st.max_ns / 1e6);
	} else {
		rc = write_profile(p, dir, "sched.pb.gz");
		printf("\nscheduling latency (runnable -> running): %llu waits of %u goroutines, p50 %.3f ms, "
		       "p90 %.3f ms, p99 %.3f ms, max %.3f ms\n", (unsigned long long)st.waits, st.goroutines,
		       st.p50_ns / 1e6, st.p90_ns / 1e6, st.p99_ns / 1e6, st.max_ns / 1e6);
	}
	if (sites.n)
		printf("  %10s %8s %9s %9s %9s  goroutines created at\n", "waited ms", "waits",
		       "p50 ms", "p99 ms", "max ms");
	for (int i = 0; i < sites.n; i++) {
		const struct goprof_sched_stats *t = &sites.top[i].st;

		printf("  %10.1f %8llu %9.3f %9.3f %9.3f  %s\n", t->total_ns / 1e6,
		       (unsigned long long)t->waits, t->p50_ns / 1e6, t->p99_ns / 1e6, t->max_ns / 1e6,
		       sites.top[i].name);
	}
	if (ev->out) {
		jsonl_begin(ev->out, "sched_latency", 0, 0);
		fprintf(ev->out, ",\"waits\":%llu,\"p50_ns\":%llu,"
			"\"p90_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,",
			(unsigned long long)st.waits, (unsigned long long)st.p50_ns,
			(unsigned long long)st.p90_ns, (unsigned long long)st.p99_ns,
			(unsigned long long)st.max_ns);
		write_hist_json(ev->out, st.hist);
		fprintf(ev->out, "}\n");
	}
	goprof_profile_free(p);
	return rc;
}

int write_runtime_report(struct goprof_session *s, const struct safe_dir *dir, uint32_t features,
			 struct runtime_events *ev, uint64_t leak_age_ns)
{
	int rc = 0;

	if (features & GOPROF_FEATURE_GC)
		print_gc(s, ev);
	if (features & GOPROF_FEATURE_GOROUTINES)
		rc |= report_goroutines(s, dir, ev, leak_age_ns);
	else if (features & GOPROF_FEATURE_GOROUTINE_SNAPSHOTS)
		rc |= report_goroutine_snapshots(s, dir, ev, leak_age_ns);
	if (features & GOPROF_FEATURE_HEAP)
		rc |= report_heap(s, dir);
	if (features & GOPROF_FEATURE_SCHED)
		rc |= report_sched(s, dir, ev);
	return rc;
}
