// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Session lifecycle and its error paths, against the real kernel. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

static struct goprof_session *new_session(const struct goprof_session_opts *opts)
{
	struct goprof_session *s = goprof_session_new(opts);

	cr_assert_not_null(s, "goprof_session_new: %s", goprof_last_error());
	return s;
}

/* A PID that no process has: a child we started and reaped. */
static int vanished_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

Test(session, new_and_free)
{
	require_bpf_privileges();
	goprof_session_free(new_session(NULL));
}

Test(session, attach_vanished_pid_is_esrch)
{
	struct goprof_session *s;
	int pid;

	require_bpf_privileges();
	s = new_session(NULL);
	pid = vanished_pid();
	cr_assert_eq(goprof_session_attach_pid(s, pid, NULL), -ESRCH);
	cr_assert(strstr(goprof_last_error(), "does not exist"), "%s", goprof_last_error());
	goprof_session_free(s);
}

Test(session, attach_invalid_pid_is_einval)
{
	struct goprof_session *s;

	require_bpf_privileges();
	s = new_session(NULL);
	cr_assert_eq(goprof_session_attach_pid(s, 0, NULL), -EINVAL);
	cr_assert_eq(goprof_session_attach_pid(s, -5, NULL), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "-5"), "%s", goprof_last_error());
	goprof_session_free(s);
}

Test(session, attach_twice_and_detach_errors)
{
	struct goprof_session *s;
	struct goprof_session_stats st = { .sz = sizeof(st) };

	require_bpf_privileges();
	s = new_session(NULL);
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), -EEXIST);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_assert_eq(st.attached_pids, 1);
	cr_assert_eq(goprof_session_detach_pid(s, getpid()), 0);
	cr_assert_eq(goprof_session_detach_pid(s, getpid()), -ENOENT);
	cr_assert(strstr(goprof_last_error(), "not attached"), "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_assert_eq(st.attached_pids, 0);
	goprof_session_free(s);
}

Test(session, attach_opts_unknown_tail_is_einval)
{
	struct {
		struct goprof_attach_opts known;
		uint32_t future;
	} o = { .known = { .sz = sizeof(o) }, .future = 1 };
	struct goprof_session *s;

	require_bpf_privileges();
	s = new_session(NULL);
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), &o.known), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "goprof_attach_opts"), "%s", goprof_last_error());
	goprof_session_free(s);
}

Test(session, start_stop_state_errors)
{
	struct goprof_session *s;

	require_bpf_privileges();
	s = new_session(NULL);
	cr_assert_eq(goprof_session_stop(s), -EALREADY);
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), -EALREADY);
	cr_assert_eq(goprof_session_stop(s), 0);
	cr_assert_eq(goprof_session_start(s), 0, "restart: %s", goprof_last_error());
	goprof_session_free(s); /* frees while sampling */
}

Test(session, fd_is_pollable_without_samples)
{
	struct goprof_session *s;
	struct pollfd pfd;

	require_bpf_privileges();
	s = new_session(NULL);
	pfd = (struct pollfd){ .fd = goprof_session_fd(s), .events = POLLIN };
	cr_assert_geq(pfd.fd, 0, "%s", goprof_last_error());
	cr_assert_eq(poll(&pfd, 1, 0), 0, "readable with nothing attached");
	cr_assert_eq(goprof_session_poll(s, 0), 0);
	goprof_session_free(s);
}

/* Possible CPUs, as /sys/devices/system/cpu/possible lists them ("0-1", "0,2-5"). */
static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned n = 0, a, b;
	char sep;

	cr_assert_not_null(f);
	while (fscanf(f, "%u", &a) == 1) {
		b = a;
		if (fscanf(f, "%c", &sep) == 1 && sep == '-' && fscanf(f, "%u%c", &b, &sep) < 1)
			break;
		n += b - a + 1;
		if (sep != ',')
			break;
	}
	fclose(f);
	return n;
}

/* The default ring buffer holds a second of samples of every CPU (issue 15). */
Test(session, ring_buffer_default_scales_with_cpus_rate_and_features)
{
	static const struct {
		unsigned hz;
		uint32_t features;
		unsigned per_cpu_kib; /* 2 KiB per sample, doubled with runtime events */
	} cases[] = { { 99, 0, 198 }, { 1000, 0, 2000 }, { 1000, GOPROF_FEATURE_GC, 4000 } };

	require_bpf_privileges();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GOPROF_OPTS(goprof_session_opts, o, .cpu_freq_hz = cases[i].hz, .features = cases[i].features);
		struct goprof_session_stats st = { .sz = sizeof(st) };
		struct goprof_session *s = goprof_session_new(&o);
		uint64_t want = 1024, need = (uint64_t)possible_cpus() * cases[i].per_cpu_kib;

		cr_assert_not_null(s, "%s", goprof_last_error());
		while (want < need)
			want <<= 1;
		cr_assert_eq(goprof_session_stats(s, &st), 0);
		cr_expect_eq(st.ringbuf_bytes, want * 1024, "%u Hz, features 0x%x: %llu bytes, want %llu",
			     cases[i].hz, cases[i].features, (unsigned long long)st.ringbuf_bytes,
			     (unsigned long long)want * 1024);
		goprof_session_free(s);
	}
}

Test(session, stats_checks_sz)
{
	struct goprof_session *s;
	struct goprof_session_stats st = { .sz = 0 };

	require_bpf_privileges();
	s = new_session(NULL);
	cr_assert_eq(goprof_session_stats(s, &st), -EINVAL);
	/* An older caller's smaller struct is filled only up to its size. */
	struct {
		struct goprof_session_stats head;
		uint64_t canary;
	} old = { .head = { .sz = offsetof(struct goprof_session_stats, cpu_samples) },
		  .canary = 0x5a5a };
	old.head.cpu_samples = 0xdead;
	cr_assert_eq(goprof_session_stats(s, &old.head), 0);
	cr_assert_eq(old.head.cpu_samples, 0xdead, "wrote past the caller's sz");
	cr_assert_eq(old.head.sz, offsetof(struct goprof_session_stats, cpu_samples));
	goprof_session_free(s);
}

/* Runs in Criterion's own child process, so dropping capabilities stays local. */
Test(privileges, without_capabilities_new_is_eperm)
{
	require_bpf_privileges(); /* the check must be real: we drop what we had */
	drop_all_capabilities();
	cr_assert_null(goprof_session_new(NULL));
	cr_assert_eq(errno, EPERM);
	cr_assert(strstr(goprof_last_error(), "CAP_BPF"), "%s", goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "CAP_PERFMON"), "%s", goprof_last_error());
}

Test(privileges, start_after_dropping_capabilities_is_eperm)
{
	struct goprof_session *s;

	require_bpf_privileges();
	s = new_session(NULL);
	drop_all_capabilities();
	cr_assert_eq(goprof_session_start(s), -EPERM, "%s", goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "CAP_PERFMON"), "%s", goprof_last_error());
	goprof_session_free(s);
}
