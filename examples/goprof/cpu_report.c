// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* goprof record's CPU output: the profile files and the top-functions table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

#define TOP_FUNCTIONS 15

struct func_row {
	const char *name; /* owned */
	int64_t flat, cum;
};

struct func_table {
	struct func_row *rows;
	size_t n, cap;
	int64_t total;
};

static struct func_row *func_row(struct func_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].name, name))
			return &t->rows[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct func_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	t->rows[t->n] = (struct func_row){ .name = strdup(name) };
	return t->rows[t->n].name ? &t->rows[t->n++] : NULL;
}

/* Flat: the leaf frame's function; cum: every distinct function on the stack. */
static int add_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct func_table *t = ctx;
	int64_t count = s->values[0];

	t->total += count;
	for (uint32_t i = 0; i < s->nr_frames; i++) {
		const char *name = s->frames[i]->function;
		struct func_row *r;
		bool seen = false;

		for (uint32_t j = 0; j < i && !seen; j++)
			seen = !strcmp(s->frames[j]->function, name);
		if (seen)
			continue; /* recursion: count once per sample */
		r = func_row(t, name);
		if (!r)
			return -ENOMEM;
		r->cum += count;
		if (i == 0)
			r->flat += count;
	}
	return 0;
}

static int by_flat_desc(const void *a, const void *b)
{
	const struct func_row *x = a, *y = b;

	return x->flat < y->flat ? 1 : x->flat > y->flat ? -1 : strcmp(x->name, y->name);
}

void print_top_functions(struct goprof_profile *p, unsigned hz)
{
	struct func_table t = { 0 };

	if (goprof_profile_foreach_sample(p, add_sample, &t) < 0 || !t.total) {
		printf("no CPU samples with stacks\n");
		goto out;
	}
	qsort(t.rows, t.n, sizeof(*t.rows), by_flat_desc);
	printf("\ntop functions (%lld samples, %.2f CPU-seconds):\n", (long long)t.total,
	       (double)t.total / hz);
	printf("%9s %6s %9s %6s  %s\n", "flat", "flat%", "cum", "cum%", "function");
	for (size_t i = 0; i < t.n && i < TOP_FUNCTIONS; i++)
		printf("%9lld %5.1f%% %9lld %5.1f%%  %s\n", (long long)t.rows[i].flat,
		       100.0 * t.rows[i].flat / t.total, (long long)t.rows[i].cum,
		       100.0 * t.rows[i].cum / t.total, t.rows[i].name);
out:
	for (size_t i = 0; i < t.n; i++)
		free((char *)t.rows[i].name);
	free(t.rows);
}

static char report_target[128];

void report_set_target(const char *target)
{
	snprintf(report_target, sizeof(report_target), "%s", target);
}

int write_profile_files(const struct goprof_profile *p, const struct safe_dir *dir, const char *name,
			uint32_t value_index, const char *title)
{
	char full_title[256];

	static const struct {
		const char *suffix;
		uint32_t format;
	} outputs[] = {
		{ "pb.gz", GOPROF_FORMAT_PPROF },
		{ "folded", GOPROF_FORMAT_FOLDED },
		{ "svg", GOPROF_FORMAT_SVG },
	};
	GOPROF_OPTS(goprof_profile_write_opts, opts, .value_index = value_index);
	int rc = 0;

	if (title && report_target[0]) {
		snprintf(full_title, sizeof(full_title), "%s of %s", title, report_target);
		title = full_title;
	}
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		char file[256];

		snprintf(file, sizeof(file), "%s.%s", name, outputs[i].suffix);
		opts.title = outputs[i].format == GOPROF_FORMAT_SVG ? title : NULL;
		/* A CPU profile counts samples; other folded files say what their numbers are. */
		opts.flags = outputs[i].format == GOPROF_FORMAT_FOLDED && strcmp(name, "cpu")
				     ? GOPROF_WRITE_FOLDED_UNIT : 0;
		if (safe_write_profile(dir, file, p, outputs[i].format, &opts))
			rc = -1;
	}
	return rc;
}

int write_cpu_report(struct goprof_session *s, const struct safe_dir *dir, unsigned hz)
{
	struct goprof_profile *p = goprof_session_snapshot_cpu(s, 0);
	int rc;

	if (!p) {
		fprintf(stderr, "goprof record: taking the CPU profile: %s\n", goprof_last_error());
		return -1;
	}
	rc = write_profile_files(p, dir, "cpu", 0, "CPU samples");
	print_top_functions(p, hz);
	printf("wrote %s/cpu.pb.gz (go tool pprof), %s/cpu.folded, %s/cpu.svg\n", dir->path, dir->path,
	       dir->path);
	goprof_profile_free(p);
	return rc;
}

static int print_process(const struct goprof_process_info *info, void *ctx)
{
	(void)ctx;
	printf("process %u: %s%s%s%s%s\n", info->pid,
	       info->go_version[0] ? info->go_version :
	       info->flags & GOPROF_PROCESS_NO_ACCESS ? "unreadable (Go or not unknown)" : "not Go",
	       info->flags & GOPROF_PROCESS_GOROUTINES ? (info->flags & GOPROF_PROCESS_LAYOUT_VALIDATED ?
			", goroutine IDs and labels (layout validated)" : ", goroutine IDs and labels") : "",
	       info->flags & GOPROF_PROCESS_HTTP ? ", net/http requests" : "",
	       info->flags & GOPROF_PROCESS_EXITED ? ", exited" : "",
	       info->note[0] ? "" : "");
	if (info->note[0])
		printf("  note: %s\n", info->note);
	return 0;
}

void print_processes(struct goprof_session *s)
{
	goprof_session_foreach_process(s, print_process, NULL);
}
