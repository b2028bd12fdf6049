// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Session lifecycle and error paths, checked for leaks: under ASan each test ends with a
 * LeakSanitizer check after goprof_session_free(); in every build, repeated cycles must
 * not grow the heap. BPF map, ring-buffer and perf fds are kernel objects, not heap; they
 * are checked by counting the process's descriptors instead.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "hard_util.h"
#include "test_common.h"

static struct goprof_session *new_session(uint32_t hz, goprof_sample_fn fn, void *ctx)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = hz, .on_sample = fn, .ctx = ctx);
	struct goprof_session *s = goprof_session_new(&opts);

	cr_assert_not_null(s, "goprof_session_new: %s", goprof_last_error());
	return s;
}

static int count_frame(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	++*(unsigned *)ctx;
	return 0;
}

struct cb_state {
	struct goprof_session *s;
	unsigned samples, frames;
};

/* Symbolizes every sample from inside the callback, as a host printing stacks would. */
static int on_sample(const struct goprof_sample *sample, void *ctx)
{
	struct cb_state *st = ctx;

	st->samples++;
	return goprof_session_symbolize_sample(st->s, sample, count_frame, &st->frames) < 0 ? -1 : 0;
}

static int count_thread(const struct goprof_thread_samples *t, void *ctx)
{
	(void)t;
	++*(unsigned *)ctx;
	return 0;
}

static int count_process(const struct goprof_process_info *p, void *ctx)
{
	(void)p;
	++*(unsigned *)ctx;
	return 0;
}

static int discard(const void *data, size_t len, void *ctx)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

/*
 * One whole session: attach a running Go program, sample, poll, snapshot and encode, walk
 * threads and processes, read stats, stop, free. Returns the snapshot (outlives the session).
 */
static struct goprof_profile *full_cycle(unsigned *samples_out)
{
	char *argv[] = { (char *)fixture_path("busy", fixture_go_versions()[0]), "2", "1", NULL };
	struct cb_state st = { 0 };
	struct goprof_session_stats stats = { .sz = sizeof(stats) };
	struct goprof_profile *p;
	struct child c;
	char line[512];
	unsigned threads = 0, procs = 0;
	size_t bytes = 0;

	st.s = new_session(999, on_sample, &st);
	/* Attached and sampling before busy runs: its 1 s of spinning must not be over
	 * before the session starts (kernel symbols load at start: slow on a loaded host). */
	child_start_held(&c, argv);
	cr_assert_eq(goprof_session_attach_pid(st.s, c.pid, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(st.s), 0, "%s", goprof_last_error());
	child_release(&c);
	cr_assert(child_read_line_polling(&c, line, sizeof(line), st.s), "busy printed nothing");
	while (child_read_line_polling(&c, line, sizeof(line), st.s) && strncmp(line, "done", 4))
		;
	cr_assert_eq(child_wait(&c), 0);
	while (goprof_session_poll(st.s, 0) > 0)
		;
	cr_assert_gt(st.samples, 0, "no samples from a busy child");
	cr_assert_gt(st.frames, 0, "samples had no symbolized frames");
	p = goprof_session_snapshot_cpu(st.s, GOPROF_SNAPSHOT_RESET);
	cr_assert_not_null(p, "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_PPROF, NULL, discard, &bytes), 0);
	cr_assert_gt(bytes, 0);
	cr_assert_eq(goprof_session_foreach_thread(st.s, count_thread, &threads), 0);
	cr_assert_eq(goprof_session_foreach_process(st.s, count_process, &procs), 0);
	cr_assert_geq(threads, 1);
	cr_assert_eq(procs, 1);
	cr_assert_eq(goprof_session_stats(st.s, &stats), 0);
	cr_assert_geq(stats.samples_delivered, st.samples);
	cr_assert_eq(goprof_session_stop(st.s), 0);
	goprof_session_free(st.s);
	if (samples_out)
		*samples_out = st.samples;
	return p;
}

Test(lifecycle, full_cycle_leaves_nothing, .timeout = 60)
{
	struct goprof_profile *p;
	struct goprof_profile_info info = { .sz = sizeof(info) };
	int fds = hard_fd_count();

	require_bpf_privileges();
	p = full_cycle(NULL);
	cr_assert_eq(hard_fd_count(), fds, "descriptors left open by a freed session");
	/* The snapshot outlives the session: reading it must not touch freed memory. */
	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_gt(info.nr_samples, 0);
	goprof_profile_free(p);
	hard_assert_no_leaks("after a full session cycle");
}

/* Heap growth over repeated cycles: the leak check of builds without ASan. */
Test(lifecycle, repeated_cycles_do_not_grow_heap, .timeout = 180)
{
	size_t warm, after;
	int fds;

	require_bpf_privileges();
	goprof_profile_free(full_cycle(NULL)); /* warm-up: libbpf and libc one-time state */
	goprof_profile_free(full_cycle(NULL));
	warm = hard_heap_in_use();
	fds = hard_fd_count();
	for (int i = 0; i < 8; i++)
		goprof_profile_free(full_cycle(NULL));
	after = hard_heap_in_use();
	printf("heap in use: %zu bytes after 2 cycles, %zu after 10\n", warm, after);
	cr_assert_eq(hard_fd_count(), fds);
	/* Flat to the byte when measured (tcache off); allow less than one block per cycle. */
	cr_assert_leq(after, warm + 8 * 32, "heap grew %zd bytes over 8 session cycles",
		      (ssize_t)(after - warm));
	hard_assert_no_leaks("after 10 session cycles");
}

/* The state letter and flags of /proc/PID/stat, or 0. */
static char proc_state(int pid, unsigned long *flags)
{
	char path[64], buf[512], state = 0, *paren;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')))
		sscanf(paren + 1, " %c %*d %*d %*d %*d %*d %lu", &state, flags);
	fclose(f);
	return state;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0755);
}

/*
 * Issue 15: targets that cannot be profiled are refused with a message: a kernel thread
 * (kthreadd, PID 2, when it is one), a zombie, a script or non-ELF file as an executable.
 */
static void strange_targets_refused(struct goprof_session *s, const char *dir)
{
	unsigned long flags = 0;
	char path[256];
	pid_t z;

	if (proc_state(2, &flags) && flags & 0x00200000 /* PF_KTHREAD */) {
		cr_assert_eq(goprof_session_attach_pid(s, 2, NULL), -EINVAL);
		cr_assert(strstr(goprof_last_error(), "kernel thread"), "%s", goprof_last_error());
	}
	z = fork();
	cr_assert_geq(z, 0);
	if (z == 0)
		_exit(0);
	for (int i = 0; i < 500 && proc_state(z, &flags) != 'Z'; i++)
		usleep(10 * 1000);
	cr_assert_eq(proc_state(z, &flags), 'Z');
	cr_assert_eq(goprof_session_attach_pid(s, z, NULL), -ESRCH);
	cr_assert(strstr(goprof_last_error(), "zombie"), "%s", goprof_last_error());
	waitpid(z, NULL, 0);
	snprintf(path, sizeof(path), "%s/run.sh", dir);
	write_file(path, "#!/bin/sh\nexit 0\n");
	cr_assert_eq(goprof_session_attach_exe(s, path, NULL), -ENOEXEC);
	cr_assert(strstr(goprof_last_error(), "script") && strstr(goprof_last_error(), path),
		  "%s", goprof_last_error());
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "not a program\n");
	cr_assert_eq(goprof_session_attach_exe(s, path, NULL), -ENOEXEC);
	cr_assert(strstr(goprof_last_error(), "not an ELF"), "%s", goprof_last_error());
	unlink(path);
}

Test(lifecycle, error_paths_leave_nothing, .timeout = 60)
{
	struct goprof_session *s;
	char dir[] = "/tmp/goprof-hard-XXXXXX";
	int fds = hard_fd_count();

	require_bpf_privileges();
	for (int i = 0; i < 3; i++) {
		GOPROF_OPTS(goprof_session_opts, bad, .cpu_freq_hz = 20000);
		GOPROF_OPTS(goprof_session_opts, bad_ring, .ringbuf_kib = 3);

		cr_assert_null(goprof_session_new(&bad));
		cr_assert_eq(errno, EINVAL);
		cr_assert_null(goprof_session_new(&bad_ring));
		cr_assert_eq(errno, EINVAL);
	}
	cr_assert(mkdtemp(dir));
	s = new_session(99, NULL, NULL);
	cr_assert_eq(goprof_session_attach_pid(s, -1, NULL), -EINVAL);
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), -EEXIST);
	cr_assert_eq(goprof_session_detach_pid(s, getpid()), 0);
	cr_assert_eq(goprof_session_detach_pid(s, getpid()), -ENOENT);
	cr_assert_eq(goprof_session_attach_exe(s, "/nonexistent/goprof", NULL), -ENOENT);
	cr_assert_eq(goprof_session_attach_exe(s, dir, NULL), -EINVAL);
	cr_assert_eq(goprof_session_attach_exe(s, "/proc/self/exe", NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_exe(s, "/proc/self/exe", NULL), -EEXIST);
	strange_targets_refused(s, dir);
	cr_assert_null(goprof_session_snapshot_cpu(s, 0x80));
	cr_assert_eq(goprof_session_stop(s), -EALREADY);
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), -EALREADY);
	goprof_profile_free(goprof_session_snapshot_cpu(s, 0));
	goprof_session_free(s); /* while sampling and attached */
	rmdir(dir);
	cr_assert_eq(hard_fd_count(), fds, "descriptors left open");
	hard_assert_no_leaks("after error paths");
}

/* A process started later through attach_exe: the exec and exit event paths. */
Test(lifecycle, exec_and_exit_events_leave_nothing, .timeout = 60)
{
	const char *busy = fixture_path("busy", fixture_go_versions()[0]);
	char *argv[] = { (char *)busy, "1", "1", NULL };
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct child c;
	char line[512];
	int fds = hard_fd_count();

	require_bpf_privileges();
	s = new_session(499, NULL, NULL);
	cr_assert_eq(goprof_session_attach_exe(s, busy, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	child_start(&c, argv);
	while (child_read_line_polling(&c, line, sizeof(line), s))
		;
	cr_assert_eq(child_wait(&c), 0);
	/* The exit record is in the ring buffer once wait returns; give a slow (sanitized,
	 * loaded) host up to 5 s to take it in. */
	for (int i = 0; i < 100 && goprof_session_poll(s, 50) >= 0; i++) {
		cr_assert_eq(goprof_session_stats(s, &st), 0);
		if (st.processes_exited)
			break;
	}
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_assert_eq(st.processes_exited, 1, "exit event not seen (lost events: %llu)",
		     (unsigned long long)st.lost_events);
	cr_assert_gt(st.samples_delivered, 0);
	goprof_profile_free(goprof_session_snapshot_cpu(s, 0));
	goprof_session_free(s);
	cr_assert_eq(hard_fd_count(), fds, "descriptors left open");
	hard_assert_no_leaks("after exec/exit events");
}

/* Samples left unread in the ring buffer at free time must not leak or be delivered. */
Test(lifecycle, free_with_unread_samples, .timeout = 60)
{
	char *argv[] = { (char *)fixture_path("busy", fixture_go_versions()[0]), "1", "1", NULL };
	struct cb_state st = { 0 };
	struct child c;
	char line[512];

	require_bpf_privileges();
	st.s = new_session(999, on_sample, &st);
	child_start(&c, argv);
	cr_assert(child_read_line(&c, line, sizeof(line)));
	cr_assert_eq(goprof_session_attach_pid(st.s, c.pid, NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(st.s), 0, "%s", goprof_last_error());
	while (child_read_line(&c, line, sizeof(line))) /* no polling: samples pile up */
		;
	cr_assert_eq(child_wait(&c), 0);
	goprof_session_free(st.s);
	cr_assert_eq(st.samples, 0, "a callback ran without poll");
	hard_assert_no_leaks("after freeing with unread samples");
}
