// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof record --offcpu: the off-CPU profile files and the top blocking stacks. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

#define TOP_STACKS 10

struct stack_row {
	int64_t count, delay_ns;
	char where[256]; /* "comm: user site <- kernel reason" */
};

struct stack_table {
	struct stack_row *rows;
	size_t n, cap;
	int64_t total_ns;
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The program's own frame that blocked: the innermost user frame outside the runtime
 * and the system call wrappers. */
static const char *user_site(const struct goprof_profile_sample *s)
{
	const char *fallback = NULL;

	for (uint32_t i = 0; i < s->nr_frames; i++) {
		const char *fn = s->frames[i]->function;

		if (s->frames[i]->kind == GOPROF_FRAME_KIND_KERNEL || !fn[0])
			continue;
		if (!fallback)
			fallback = fn;
		if (!starts_with(fn, "runtime.") && !starts_with(fn, "syscall.") &&
		    !starts_with(fn, "internal/") && !starts_with(fn, "runtime/internal/"))
			return fn;
	}
	return fallback ? fallback : "[no user stack]";
}

/* Why the kernel switched the thread out: the innermost kernel frame below the
 * scheduler's own. */
static const char *kernel_reason(const struct goprof_profile_sample *s)
{
	for (uint32_t i = 0; i < s->nr_frames; i++) {
		const char *fn = s->frames[i]->function;

		if (s->frames[i]->kind != GOPROF_FRAME_KIND_KERNEL)
			break;
		if (!strstr(fn, "schedule") && !starts_with(fn, "bpf_") && !starts_with(fn, "__traceiter"))
			return fn;
	}
	return NULL;
}

/* A string label's value, or NULL. */
static const char *label(const struct goprof_profile_sample *s, const char *key)
{
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!s->labels[i]->is_num && !strcmp(s->labels[i]->key, key))
			return s->labels[i]->str;
	return NULL;
}

static int add_stack(const struct goprof_profile_sample *s, void *ctx)
{
	struct stack_table *t = ctx;
	const char *reason = kernel_reason(s), *idle = label(s, "idle_in");
	struct stack_row *r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct stack_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->n++];
	r->count = s->values[0];
	r->delay_ns = s->values[1];
	/* An idle scheduler thread is named by where it idles, not by the goroutine it ran. */
	snprintf(r->where, sizeof(r->where), "%s: %s%s%s%s%s", s->comm[0] ? s->comm : "?",
		 idle ? idle : user_site(s), reason ? " <- " : "", reason ? reason : "",
		 reason ? " [k]" : "", label(s, "state") ? " (runnable: waiting for a CPU)" : "");
	t->total_ns += r->delay_ns;
	return 0;
}

static int by_delay_desc(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	return x->delay_ns < y->delay_ns ? 1 : x->delay_ns > y->delay_ns ? -1 : 0;
}

static void print_top_stacks(struct goprof_profile *p)
{
	struct stack_table t = { 0 };

	if (goprof_profile_foreach_sample(p, add_stack, &t) < 0 || !t.n) {
		printf("\nno off-CPU time recorded\n");
		goto out;
	}
	qsort(t.rows, t.n, sizeof(*t.rows), by_delay_desc);
	printf("\ntop off-CPU stacks (%.3f thread-seconds off CPU in %zu stacks; idle Go "
	       "scheduler threads are under \"[idle Go threads]\"):\n", t.total_ns / 1e9, t.n);
	printf("%12s %6s %9s  %s\n", "off-CPU ms", "share", "intervals", "where");
	for (size_t i = 0; i < t.n && i < TOP_STACKS; i++)
		printf("%12.1f %5.1f%% %9lld  %s\n", t.rows[i].delay_ns / 1e6,
		       100.0 * t.rows[i].delay_ns / t.total_ns, (long long)t.rows[i].count,
		       t.rows[i].where);
out:
	free(t.rows);
}

int write_offcpu_report(struct goprof_session *s, const struct safe_dir *dir)
{
	struct goprof_profile *p = goprof_session_snapshot_offcpu(s, 0);
	int rc;

	if (!p) {
		fprintf(stderr, "goprof record: taking the off-CPU profile: %s\n", goprof_last_error());
		return -1;
	}
	/* Folded and SVG weigh stacks by time (nanoseconds), not by intervals. */
	rc = write_profile_files(p, dir, "offcpu", 1, "Off-CPU time");
	print_top_stacks(p);
	printf("wrote %s/offcpu.pb.gz (go tool pprof), %s/offcpu.folded, %s/offcpu.svg "
	       "(weighted by nanoseconds off CPU)\n", dir->path, dir->path, dir->path);
	goprof_profile_free(p);
	return rc;
}

void print_offcpu_stats(const struct goprof_session_stats *st)
{
	printf("off-CPU: %llu context switches seen, %llu of the targets' threads, %llu "
	       "intervals counted, %llu outside the thresholds, %llu stacks lost, %llu "
	       "intervals lost; sampling 1 in %u\n",
	       (unsigned long long)st->offcpu_switches, (unsigned long long)st->offcpu_switch_outs,
	       (unsigned long long)st->offcpu_intervals, (unsigned long long)st->offcpu_filtered,
	       (unsigned long long)st->offcpu_stacks_lost, (unsigned long long)st->lost_offcpu,
	       st->offcpu_sample_every);
}
