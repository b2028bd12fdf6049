// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Error model, version and options validation: no privileges needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <goprof/goprof.h>

Test(version, runtime_matches_headers)
{
	cr_assert_eq(goprof_version(), GOPROF_VERSION_NUMBER);
	cr_assert_str_eq(goprof_version_string(), GOPROF_VERSION_STRING);
	cr_assert_eq(GOPROF_VERSION_MAJOR, 1, "the major is the soname's (libgoprof.so.1)");
}

Test(strerror, errno_and_own_codes)
{
	char buf[128];

	cr_assert_eq(goprof_strerror(-ESRCH, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, strerror(ESRCH));
	cr_assert_eq(goprof_strerror(ESRCH, buf, sizeof(buf)), 0, "positive codes work too");
	cr_assert_eq(goprof_strerror(-GOPROF_ERRNO_NOT_GO, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "not a Go binary");
	cr_assert_eq(goprof_strerror(-GOPROF_ERRNO_KERNEL, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "kernel"));
}

Test(strerror, truncation_and_bad_buffer)
{
	char small[4];

	cr_assert_eq(goprof_strerror(-GOPROF_ERRNO_NOT_GO, small, sizeof(small)), -ERANGE);
	cr_assert_str_eq(small, "not");
	cr_assert_eq(goprof_strerror(-EINVAL, NULL, 10), -EINVAL);
	cr_assert_eq(goprof_strerror(-EINVAL, small, 0), -EINVAL);
}

static void *other_thread_error(void *arg)
{
	(void)arg;
	/* A fresh thread has no error, whatever the main thread did. */
	return (void *)(uintptr_t)(goprof_last_error()[0] == '\0');
}

Test(last_error, is_thread_local)
{
	pthread_t t;
	void *clean;

	cr_assert_eq(goprof_session_attach_pid(NULL, 1, NULL), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "NULL"), "message: %s", goprof_last_error());
	pthread_create(&t, NULL, other_thread_error, NULL);
	pthread_join(t, &clean);
	cr_assert(clean, "another thread saw this thread's error");
}

/* An options struct from a "newer" caller: our struct plus a field we do not know. */
struct newer_session_opts {
	struct goprof_session_opts known;
	uint64_t future_field;
};

Test(opts, unknown_nonzero_tail_is_rejected)
{
	struct newer_session_opts o;
	struct goprof_session *s;
	char where[32];

	memset(&o, 0, sizeof(o));
	o.known.sz = sizeof(o);
	o.future_field = 7;
	s = goprof_session_new(&o.known);
	cr_assert_null(s);
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "goprof_session_opts"), "%s", goprof_last_error());
	/* The first unknown byte: right after the fields this library knows (appended
	 * fields move it; the struct ends 8-byte aligned, where future_field starts). */
	snprintf(where, sizeof(where), "offset %zu", offsetof(struct newer_session_opts, future_field));
	cr_assert(strstr(goprof_last_error(), where), "%s", goprof_last_error());
}

Test(opts, sz_smaller_than_sz_field_is_rejected)
{
	struct goprof_session_opts o;

	memset(&o, 0, sizeof(o));
	o.sz = 2;
	cr_assert_null(goprof_session_new(&o));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "GOPROF_OPTS"), "%s", goprof_last_error());
}

Test(opts, bad_values_name_the_field)
{
	GOPROF_OPTS(goprof_session_opts, fast, .cpu_freq_hz = 20000);
	GOPROF_OPTS(goprof_session_opts, odd_ring, .ringbuf_kib = 100);

	cr_assert_null(goprof_session_new(&fast));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "cpu_freq_hz"), "%s", goprof_last_error());
	cr_assert_null(goprof_session_new(&odd_ring));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "ringbuf_kib"), "%s", goprof_last_error());
}

Test(opts, macro_sets_size_and_zeroes)
{
	GOPROF_OPTS(goprof_session_opts, o, .cpu_freq_hz = 49);

	cr_assert_eq(o.sz, sizeof(o));
	cr_assert_eq(o.cpu_freq_hz, 49);
	cr_assert_eq(o.ringbuf_kib, 0);
	cr_assert_null(o.on_sample);
}

Test(null_session, every_entry_point_rejects_null)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };

	goprof_session_free(NULL);
	cr_assert_eq(goprof_session_attach_pid(NULL, 1, NULL), -EINVAL);
	cr_assert_eq(goprof_session_detach_pid(NULL, 1), -EINVAL);
	cr_assert_eq(goprof_session_start(NULL), -EINVAL);
	cr_assert_eq(goprof_session_stop(NULL), -EINVAL);
	cr_assert_eq(goprof_session_fd(NULL), -EINVAL);
	cr_assert_eq(goprof_session_poll(NULL, 0), -EINVAL);
	cr_assert_eq(goprof_session_stats(NULL, &st), -EINVAL);
	cr_assert_eq(goprof_session_foreach_thread(NULL, NULL, NULL), -EINVAL);
}

Test(opts, unknown_cpu_profile_flags_are_rejected)
{
	GOPROF_OPTS(goprof_session_opts, o, .cpu_profile_flags = 0x80);

	cr_assert_null(goprof_session_new(&o));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "cpu_profile_flags"), "%s", goprof_last_error());
}
