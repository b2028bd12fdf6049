// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * CPU profiles end to end against real Go processes: the split fixture spends ~70% of
 * its CPU in main.hot and ~30% in main.cold (each under the pprof label part=hot/cold,
 * with main.mix inlined into both). Our profile's shares must match the design and Go's
 * own runtime/pprof profile of the same run within 5 points; labels must sit on the right
 * samples; inline frames must be there; `go tool pprof` must accept what we write.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define SPLIT_SECONDS "4"

struct split_result {
	uint64_t hot, cold, total;     /* sample counts by function on the stack */
	uint64_t hot_mislabelled, cold_mislabelled, unlabelled_work;
	uint64_t mix_inlined_into_hot; /* samples where main.mix is an inline frame of main.hot */
	uint64_t with_kernel_frames;
};

static int classify(const struct goprof_profile_sample *s, void *ctx)
{
	struct split_result *r = ctx;
	bool hot = false, cold = false;
	const char *part = NULL;

	for (uint32_t i = 0; i < s->nr_frames; i++) {
		const struct goprof_profile_frame *f = s->frames[i];

		hot |= !strcmp(f->function, "main.hot");
		cold |= !strcmp(f->function, "main.cold");
		if (!strcmp(f->function, "main.mix") && f->inlined && i + 1 < s->nr_frames &&
		    !strcmp(s->frames[i + 1]->function, "main.hot"))
			r->mix_inlined_into_hot += s->values[0];
		if (f->kind == GOPROF_FRAME_KIND_KERNEL && i == 0)
			r->with_kernel_frames += s->values[0];
	}
	for (uint32_t i = 0; i < s->nr_labels; i++)
		if (!strcmp(s->labels[i]->key, "part"))
			part = s->labels[i]->str;
	r->total += s->values[0];
	if (hot) {
		r->hot += s->values[0];
		if (!part)
			r->unlabelled_work += s->values[0];
		else if (strcmp(part, "hot"))
			r->hot_mislabelled += s->values[0];
	}
	if (cold) {
		r->cold += s->values[0];
		if (!part)
			r->unlabelled_work += s->values[0];
		else if (strcmp(part, "cold"))
			r->cold_mislabelled += s->values[0];
	}
	return 0;
}

/*
 * Runs the fixture under a session and returns the CPU profile taken after it exited.
 * *cpu_share (may be NULL) gets the CPU the fixture got as a share of 2 workers' wall time.
 */
static struct goprof_profile *profile_split(const char *fixture, const char *go_cpuprofile,
					    unsigned hz, double *cpu_share)
{
	unsigned long long hot_iters, cold_iters, cpu_ns = 0, wall_ns = 1;
	char line[256];
	char *argv[] = { (char *)fixture, "-seconds", SPLIT_SECONDS, "-workers", "2",
			 go_cpuprofile ? "-cpuprofile" : NULL, (char *)go_cpuprofile, NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = hz);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;

	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start(&c, argv);
	/*
	 * Attach once the fixture runs Go code: attached before its exec, the samples up to
	 * the exec event's processing would have no goroutine labels (that path is tested
	 * in cpu_profile::attach_before_exec).
	 */
	cr_assert(child_read_line(&c, line, sizeof(line)) && !strcmp(line, "ready"), "fixture: %s", line);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	/* Drain while it runs, as a host would; the fixture exits on its own. */
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && !strncmp(line, "done", 4),
		  "fixture: %s", line);
	cr_assert_eq(sscanf(line, "done %llu %llu %llu %llu", &hot_iters, &cold_iters, &cpu_ns,
			    &wall_ns), 4, "fixture: %s", line);
	if (cpu_share)
		*cpu_share = (double)cpu_ns / (2.0 * wall_ns);
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(s, 100) > 0)
		;
	/* The process has exited: its samples must still be there, symbolized. */
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_eq(st.lost_ringbuf_full, 0);
	cr_expect_eq(st.lost_aggregation, 0);
	goprof_session_free(s);
	return p;
}

/* Share of main.hot in `go tool pprof -top -cum` of Go's own profile, in percent. */
static double go_pprof_hot_share(const char *profile)
{
	static const char *const names[] = { "main.hot", "main.cold" };
	double flat[2], cum[2];

	go_pprof_top(profile, "-cum", names, 2, flat, cum);
	cr_assert(cum[0] > 0 && cum[1] > 0, "Go's profile lacks main.hot/main.cold (%.1f/%.1f)",
		  cum[0], cum[1]);
	return 100.0 * cum[0] / (cum[0] + cum[1]);
}

ParameterizedTestParameters(cpu_profile, shares_labels_and_inline_frames)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

ParameterizedTest(struct fixture_variant *v, cpu_profile, shares_labels_and_inline_frames, .timeout = 120)
{
	const char *ver = fixture_go_versions()[v->version_index];
	char go_prof[] = "/tmp/goprof-test-XXXXXX";
	struct split_result r = { 0 };
	struct goprof_profile *p;
	double ours, go_share, cpu_share;
	int fd;

	require_bpf_privileges();
	fd = mkstemp(go_prof);
	cr_assert_geq(fd, 0);
	close(fd);
	/* 499 Hz: enough samples for +-5 points even when the machine is shared. */
	p = profile_split(fixture_path(v->stripped ? "split-stripped" : "split", ver), go_prof, 499,
			  &cpu_share);
	cr_assert_eq(goprof_profile_foreach_sample(p, classify, &r), 0, "%s", goprof_last_error());
	goprof_profile_free(p);

	cr_assert_gt(r.hot + r.cold, 200, "go%s%s: too few samples in main.hot/main.cold: %lu of %lu",
		     ver, v->stripped ? " stripped" : "", (unsigned long)(r.hot + r.cold),
		     (unsigned long)r.total);
	ours = 100.0 * r.hot / (r.hot + r.cold);
	go_share = go_pprof_hot_share(go_prof);
	unlink(go_prof);
	cr_log_info("go%s%s: main.hot share %.1f%% (ours, %lu samples), %.1f%% (runtime/pprof)",
		    ver, v->stripped ? " stripped" : "", ours, (unsigned long)(r.hot + r.cold), go_share);
	cr_expect(ours > 65 && ours < 75, "go%s: main.hot share %.1f%%, designed 70%% +-5", ver, ours);
	/*
	 * Go's SIGPROF profile drifts when the machine is oversubscribed (seen: 65% against a
	 * designed 70% with other builds running, while ours stayed at 70%); compare only
	 * when the fixture had its CPUs.
	 */
	/* The sanitizer pass (GOPROF_SANITIZED) checks memory, not accuracy: the plain pass
	 * makes this comparison. */
	if (cpu_share >= 0.9 && !getenv("GOPROF_SANITIZED"))
		cr_expect(ours > go_share - 5 && ours < go_share + 5,
			  "go%s: main.hot share %.1f%%, Go's own profile says %.1f%% (+-5 points)",
			  ver, ours, go_share);
	else
		cr_log_info("go%s: the fixture got %.0f%% of 2 CPUs: the machine is busy, Go's own "
			    "profile (%.1f%%) not compared", ver, 100 * cpu_share, go_share);
	/*
	 * Checked in both passes: the rare sample that failed here (scheduler frames on g0
	 * chained by runtime.mcall's BP into the goroutine that was preempted, under the
	 * labels of the goroutine picked next) is cut where it leaves g0 (cpu_sample.bpf.c).
	 */
	cr_expect_eq(r.hot_mislabelled + r.cold_mislabelled, 0,
		     "go%s: %lu samples carry the other part's label", ver,
		     (unsigned long)(r.hot_mislabelled + r.cold_mislabelled));
	cr_expect_leq(r.unlabelled_work, (r.hot + r.cold) / 50,
		      "go%s: %lu of %lu work samples have no part label", ver,
		      (unsigned long)r.unlabelled_work, (unsigned long)(r.hot + r.cold));
	cr_expect_gt(r.mix_inlined_into_hot, r.hot / 2,
		     "go%s: main.mix shown inlined into main.hot in %lu of %lu samples", ver,
		     (unsigned long)r.mix_inlined_into_hot, (unsigned long)r.hot);
}

static int write_to_file(struct goprof_profile *p, int format, const char *path)
{
	return goprof_profile_write_file(p, format, NULL, path);
}

/* `go tool pprof -raw` of Go 1.19 and 1.23 reads our file, with inline lines and labels. */
Test(cpu_profile, go_tool_pprof_accepts_it, .timeout = 120)
{
	const char *ver = fixture_go_versions()[0];
	const char *tools[] = { "/opt/libgoprof/go-1.19/bin/go", "/opt/libgoprof/go-1.27/bin/go" };
	char path[] = "/tmp/goprof-cpu-XXXXXX";
	struct goprof_profile *p;
	int fd;

	require_bpf_privileges();
	p = profile_split(fixture_path("split", ver), NULL, 199, NULL);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(write_to_file(p, GOPROF_FORMAT_PPROF, path), 0, "%s", goprof_last_error());
	goprof_profile_free(p);
	for (size_t i = 0; i < 2; i++) {
		char cmd[4096], line[1024];
		bool mix_then_hot = false, label = false, sample_type = false, prev_mix = false;
		FILE *out;

		snprintf(cmd, sizeof(cmd), "HOME=/tmp %s tool pprof -raw %s 2>&1", tools[i], path);
		out = popen(cmd, "r");
		cr_assert(out);
		while (fgets(line, sizeof(line), out)) {
			/* Locations list inline lines under one id: "main.mix ..." then "main.hot ...". */
			if (prev_mix && strstr(line, "main.hot "))
				mix_then_hot = true;
			prev_mix = strstr(line, "main.mix ") != NULL;
			label |= strstr(line, "part:[hot]") != NULL;
			sample_type |= strstr(line, "samples/count cpu/nanoseconds") != NULL;
		}
		cr_assert_eq(pclose(out), 0, "%s failed", cmd);
		cr_expect(sample_type, "%s: no samples/count cpu/nanoseconds", tools[i]);
		cr_expect(mix_then_hot, "%s: main.mix not listed as inlined into main.hot", tools[i]);
		cr_expect(label, "%s: label part:[hot] missing", tools[i]);
	}
	unlink(path);
}

struct process_seen {
	int pid;
	uint32_t flags;
	char go_version[32];
};

static int find_process(const struct goprof_process_info *info, void *ctx)
{
	struct process_seen *p = ctx;

	cr_log_info("process %u flags 0x%x %s %s", info->pid, info->flags, info->go_version, info->note);
	if ((int)info->pid != p->pid)
		return 0;
	p->flags = info->flags;
	memcpy(p->go_version, info->go_version, sizeof(p->go_version));
	return 1;
}

/*
 * Attached while still the test's own image: the exec event switches on Go context.
 * Samples taken before the poller reaches the exec record have none. A sample of the old
 * image in libc (its execve) first loads libc's DWARF lines on the poller: 120 ms here,
 * 270 ms under ASan (it was 317 and 1,000 ms before lib/sym/dwarf_lines.c ran the line
 * programs itself). The 4 s run keeps such a one-time delay under the 20% allowed.
 */
Test(cpu_profile, attach_before_exec, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("split", ver), "-seconds", "4", NULL };
	struct process_seen seen = { 0 };
	struct split_result r = { 0 };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[256];

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	child_start_held(&c, argv);
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	seen.pid = c.pid;
	cr_assert_eq(goprof_session_foreach_process(s, find_process, &seen), 1);
	cr_assert_eq(seen.flags & GOPROF_PROCESS_GO, 0, "before exec it is not a Go program");
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_release(&c);
	while (child_read_line_polling(&c, line, sizeof(line), s) && strncmp(line, "done", 4))
		;
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(s, 100) > 0)
		;
	cr_assert_eq(goprof_session_foreach_process(s, find_process, &seen), 1);
	cr_expect(seen.flags & GOPROF_PROCESS_GO, "exec event did not mark it Go");
	cr_expect(seen.flags & GOPROF_PROCESS_GOROUTINES, "no goroutine context after exec");
	cr_expect(seen.flags & GOPROF_PROCESS_EXITED, "exit not seen");
	cr_expect(!strncmp(seen.go_version, "go", 2), "go version '%s'", seen.go_version);
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, classify, &r);
	cr_expect_gt(r.hot, 10, "main.hot samples: %lu", (unsigned long)r.hot);
	cr_expect_lt(r.unlabelled_work, (r.hot + r.cold) / 5, "labels missing on %lu of %lu",
		     (unsigned long)r.unlabelled_work, (unsigned long)(r.hot + r.cold));
	goprof_profile_free(p);
	goprof_session_free(s);
}

/* Attach by executable path: a process started afterwards is found at exec. */
Test(cpu_profile, attach_by_executable, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("split-stripped", ver), "-seconds", "1", NULL };
	struct process_seen seen = { 0 };
	struct split_result r = { 0 };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[256];

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_exe(s, argv[0], NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_exe(s, argv[0], NULL), -EEXIST);
	cr_assert_eq(goprof_session_attach_exe(s, "/nonexistent/binary", NULL), -ENOENT);
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start(&c, argv);
	seen.pid = c.pid;
	while (child_read_line_polling(&c, line, sizeof(line), s) && strncmp(line, "done", 4))
		;
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(s, 100) > 0)
		;
	cr_assert_eq(goprof_session_foreach_process(s, find_process, &seen), 1,
		     "process started after attach_exe not found");
	cr_expect(seen.flags & GOPROF_PROCESS_BY_EXE);
	cr_expect(seen.flags & GOPROF_PROCESS_GOROUTINES, "stripped binary: no goroutine context");
	p = goprof_session_snapshot_cpu(s, GOPROF_SNAPSHOT_RESET);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_foreach_sample(p, classify, &r);
	cr_expect_gt(r.hot, 5, "main.hot samples of the stripped binary: %lu", (unsigned long)r.hot);
	cr_expect_eq(r.hot_mislabelled + r.cold_mislabelled, 0);
	goprof_profile_free(p);
	/* After a reset the next snapshot starts empty. */
	memset(&r, 0, sizeof(r));
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p);
	goprof_profile_foreach_sample(p, classify, &r);
	cr_expect_eq(r.total, 0, "reset kept %lu samples", (unsigned long)r.total);
	goprof_profile_free(p);
	goprof_session_free(s);
}

static int count_native(const struct goprof_profile_sample *s, void *ctx)
{
	uint64_t *counts = ctx; /* [0] samples, [1] with burn() on the stack, [2] Go frames */

	counts[0] += s->values[0];
	for (uint32_t i = 0; i < s->nr_frames; i++) {
		if (s->frames[i]->kind == GOPROF_FRAME_KIND_GO)
			counts[2] += s->values[0];
		if (s->frames[i]->kind == GOPROF_FRAME_KIND_NATIVE && !strcmp(s->frames[i]->function, "burn")) {
			counts[1] += s->values[0];
			break;
		}
	}
	return 0;
}

/* A non-Go process is profiled with native (and kernel) frames, and says why. */
Test(cpu_profile, non_go_process_gets_native_frames, .timeout = 60)
{
	char argv0[4096];
	char *argv[] = { argv0, "1.5", NULL };
	struct process_seen seen = { 0 };
	uint64_t counts[3] = { 0 };
	struct goprof_session *s;
	struct goprof_profile *p;
	struct child c;
	char line[64];

	require_bpf_privileges();
	snprintf(argv0, sizeof(argv0), "%s/cspin", getenv("GOPROF_FIXTURES"));
	cr_assert_eq(access(argv[0], X_OK), 0, "%s missing", argv[0]);
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start_held(&c, argv);
	seen.pid = c.pid;
	cr_assert_eq(goprof_session_attach_pid(s, c.pid, NULL), 0, "%s", goprof_last_error());
	child_release(&c);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s));
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(s, 100) > 0)
		;
	cr_assert_eq(goprof_session_foreach_process(s, find_process, &seen), 1);
	cr_expect_eq(seen.flags & GOPROF_PROCESS_GO, 0);
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p);
	goprof_profile_foreach_sample(p, count_native, counts);
	cr_expect_gt(counts[0], 10, "samples: %lu", (unsigned long)counts[0]);
	/*
	 * Logged only in the sanitizer pass: there the session's first poll can take seconds
	 * (the ASan library symbolizing the first frames on a busy machine), so the exec
	 * record is handled after cspin exited, its mappings are gone and no frame of it is
	 * symbolized (the process note then reads "cannot read the executable"). A known
	 * limitation of symbolizing while draining, not of the sampler; the plain pass checks.
	 */
	if (!getenv("GOPROF_SANITIZED"))
		cr_expect_gt(counts[1], counts[0] / 2, "burn() in %lu of %lu samples",
			     (unsigned long)counts[1], (unsigned long)counts[0]);
	else
		cr_log_info("burn() in %lu of %lu samples", (unsigned long)counts[1],
			    (unsigned long)counts[0]);
	cr_expect_eq(counts[2], 0, "Go frames in a C process");
	goprof_profile_free(p);
	goprof_session_free(s);
}
