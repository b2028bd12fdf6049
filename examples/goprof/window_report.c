// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record --interval: periodic output for long runs. Every interval the CPU
 * profile of that window is taken with GOPROF_SNAPSHOT_RESET (the session starts the next
 * window from empty tables, so its memory does not grow with the run) and written, with
 * the runtime profiles as they stand at the window's end, to a numbered directory:
 *
 *   DIR/windows/000001/cpu.pb.gz, cpu.folded [, heap.pb.gz, goroutines.pb.gz, sched.pb.gz]
 *   DIR/windows.tsv      one line per window: number, start (Unix s), seconds, samples
 *   DIR/latest           symlink to the newest complete window (replaced atomically)
 *
 * Every file is written and every old window removed through directory descriptors
 * (safe_output.h): a link planted in DIR/windows is removed, never followed.
 *
 * A second run into the same DIR goes on numbering after the highest window there (and
 * appends to windows.tsv), so DIR/latest always names the newest window on disk.
 * Only the newest --keep windows stay on disk (the agent's collector picks them up), so a
 * week-long run uses bounded disk as well as bounded memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "report.h"

/* Samples (first value) of a profile. */
static int sum_samples(const struct goprof_profile_sample *s, void *ctx)
{
	*(uint64_t *)ctx += (uint64_t)s->values[0];
	return 0;
}

static int write_one(struct goprof_profile *p, const struct safe_dir *dir, const char *file,
		     int format)
{
	return safe_write_profile(dir, file, p, (uint32_t)format, NULL);
}

/* The runtime profiles as they stand now (they describe state, not a window). */
static int write_runtime_profiles(struct goprof_session *s, const struct safe_dir *dir,
				  uint32_t features)
{
	static const struct {
		uint32_t feature;
		const char *file;
	} kinds[] = {
		{ GOPROF_FEATURE_HEAP, "heap.pb.gz" },
		{ GOPROF_FEATURE_GOROUTINES, "goroutines.pb.gz" },
		{ GOPROF_FEATURE_SCHED, "sched.pb.gz" },
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct goprof_profile *p;

		if (!(features & kinds[i].feature))
			continue;
		/* creation sites of scheduling latency: only the precise (uprobe) mode has them */
		if (kinds[i].feature == GOPROF_FEATURE_SCHED && !(features & GOPROF_FEATURE_SCHED_PRECISE))
			continue;
		p = kinds[i].feature == GOPROF_FEATURE_HEAP ? goprof_session_snapshot_heap(s, 0) :
		    kinds[i].feature == GOPROF_FEATURE_GOROUTINES ? goprof_session_snapshot_goroutines(s, 0, 0) :
								    goprof_session_snapshot_sched(s, 0);
		if (!p) {
			fprintf(stderr, "goprof record: %s: %s\n", kinds[i].file, goprof_last_error());
			rc = -1;
			continue;
		}
		rc |= write_one(p, dir, kinds[i].file, GOPROF_FORMAT_PPROF);
		goprof_profile_free(p);
	}
	return rc;
}

/* The number of a window directory's name (six or more digits), or 0. */
static unsigned window_number(const char *name)
{
	size_t n = strspn(name, "0123456789");

	return n >= 6 && !name[n] && n < 10 ? (unsigned)strtoul(name, NULL, 10) : 0;
}

/* Calls fn on every window directory in DIR/windows, through its descriptor. */
static void foreach_window(struct window_writer *w, void (*fn)(struct window_writer *, const char *,
							       unsigned))
{
	struct dirent *de;
	DIR *d;
	int fd = dup(w->windows.fd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (window_number(de->d_name))
			fn(w, de->d_name, window_number(de->d_name));
	closedir(d);
}

/* Only real window directories count: a link or file under such a name does not. */
static void note_highest(struct window_writer *w, const char *name, unsigned seq)
{
	struct stat st;

	if (seq > w->seq && fstatat(w->windows.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		w->seq = seq;
}

/* Windows beyond --keep, this run's and those a previous run left, go. */
static void remove_if_old(struct window_writer *w, const char *name, unsigned seq)
{
	if (seq + w->keep <= w->seq)
		safe_remove_tree(&w->windows, name);
}

/* DIR/latest -> windows/NNNNNN, replaced with renameat() so a reader never sees it missing. */
static void point_latest(struct window_writer *w, unsigned seq)
{
	char target[64];

	snprintf(target, sizeof(target), "windows/%06u", seq);
	safe_symlink_replace(w->dir, target, "latest");
}

int window_writer_open(struct window_writer *w, const struct safe_dir *dir, double interval_s,
		       unsigned keep, uint32_t features)
{
	*w = (struct window_writer){ .dir = dir, .interval_s = interval_s, .keep = keep,
				     .features = features, .next_s = interval_s,
				     .start_unix = (double)time(NULL), .windows = { .fd = -1 } };
	int created;

	if (safe_dir_open_at(&w->windows, dir, "windows"))
		return -1;
	/* A previous run's windows stay and the numbering goes on after the highest of them,
	 * so DIR/latest always names the newest window on disk. */
	foreach_window(w, note_highest);
	w->first_seq = w->seq + 1;
	w->index = safe_stream_append(dir, "windows.tsv", &created);
	if (!w->index) {
		safe_dir_close(&w->windows);
		return -1;
	}
	if (created)
		fprintf(w->index, "window\tstart_unix_s\tseconds\tsamples\tpath\n");
	fflush(w->index);
	return 0;
}

void window_writer_close(struct window_writer *w)
{
	if (w->index)
		fclose(w->index);
	w->index = NULL;
	safe_dir_close(&w->windows);
	goprof_profile_free(w->last_cpu);
	w->last_cpu = NULL;
}

int window_write(struct window_writer *w, struct goprof_session *s, double elapsed_s,
		 window_cpu_fn on_cpu, void *ctx)
{
	struct goprof_profile *p;
	struct safe_dir wdir;
	char name[16];
	uint64_t samples = 0;
	int rc = 0;

	while (goprof_session_poll(s, 0) > 0)
		; /* the window's samples still in the ring buffer belong to it */
	p = goprof_session_snapshot_cpu(s, GOPROF_SNAPSHOT_RESET);
	if (!p) {
		fprintf(stderr, "goprof record: taking the window's CPU profile: %s\n", goprof_last_error());
		return -1;
	}
	w->seq++;
	snprintf(name, sizeof(name), "%06u", w->seq);
	if (safe_dir_open_at(&wdir, &w->windows, name)) {
		goprof_profile_free(p);
		return -1;
	}
	goprof_profile_foreach_sample(p, sum_samples, &samples);
	rc |= write_one(p, &wdir, "cpu.pb.gz", GOPROF_FORMAT_PPROF);
	rc |= write_one(p, &wdir, "cpu.folded", GOPROF_FORMAT_FOLDED);
	rc |= write_runtime_profiles(s, &wdir, w->features);
	safe_dir_close(&wdir);
	if (on_cpu)
		rc |= on_cpu(p, ctx);
	fprintf(w->index, "%u\t%.3f\t%.3f\t%llu\twindows/%06u\n", w->seq, w->start_unix + w->last_s,
		elapsed_s - w->last_s, (unsigned long long)samples, w->seq);
	fflush(w->index);
	point_latest(w, w->seq);
	if (w->keep && w->seq > w->keep)
		foreach_window(w, remove_if_old);
	w->samples += samples;
	w->last_s = elapsed_s;
	while (w->next_s <= elapsed_s)
		w->next_s += w->interval_s;
	goprof_profile_free(w->last_cpu);
	w->last_cpu = p; /* for the summary at the end */
	return rc;
}
