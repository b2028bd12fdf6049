/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Internal helpers shared by every module of libgoprof. Nothing here is exported.
 */
#ifndef GOPROF_INTERNAL_H
#define GOPROF_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "goprof/common.h"

#define GOPROF_HIDDEN __attribute__((visibility("hidden")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define GP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GP_MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * Error reporting. Every failing public entry point records a message that says what
 * failed and what to do, then returns a negative errno (or NULL with errno set).
 *
 *   return gp_err(-ESRCH, "attach: process %d does not exist", pid);
 *
 * gp_err() stores the formatted message in the calling thread's last-error buffer and
 * returns err unchanged, so it can be used in a return statement.
 */
GOPROF_HIDDEN int gp_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like gp_err() for constructors: sets errno to -err and returns NULL. */
GOPROF_HIDDEN void *gp_err_null(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets errno to -err and returns NULL, keeping the message already recorded. */
GOPROF_HIDDEN void *gp_fail_null(int err);
/* Clears the thread's last error; called on entry of public functions that succeed. */
GOPROF_HIDDEN void gp_clear_error(void);
/* Appends ": <strerror(-err)>" style context; returns err. */
GOPROF_HIDDEN int gp_err_errno(int err, const char *what);

/*
 * Options structs (libbpf convention). The caller's struct starts with size_t sz; the
 * library reads only fields that lie inside sz and rejects non-zero bytes past the last
 * field it knows (a newer caller asking for a feature this library does not have).
 */
#define gp_offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

#define OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= gp_offsetofend(__typeof__(*(opts)), field))
#define OPTS_GET(opts, field, fallback) \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))

GOPROF_HIDDEN bool gp_opts_tail_is_zero(const void *opts, size_t known_sz, size_t user_sz);

/*
 * OPTS_VALID(opts, type, last_field): returns 0 or records an error naming the struct and
 * the first unknown non-zero byte and returns -EINVAL. NULL opts are valid (defaults).
 */
#define OPTS_VALID(opts, type, last_field) \
	gp_opts_validate((opts), (opts) ? (opts)->sz : 0, gp_offsetofend(struct type, last_field), #type)
GOPROF_HIDDEN int gp_opts_validate(const void *opts, size_t user_sz, size_t known_sz,
				   const char *type_name);

/* Nanoseconds on clock c (CLOCK_MONOTONIC is bpf_ktime_get_ns's clock). */
static inline int64_t gp_clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Bounded string copy that always terminates dst (dst_len > 0). */
GOPROF_HIDDEN void gp_strlcpy(char *dst, const char *src, size_t dst_len);

/* Grows array *p of elem-sized entries (capacity *cap) to hold need, doubling from 16;
 * returns 0 or -ENOMEM (the array is left as it was). */
GOPROF_HIDDEN int gp_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif /* GOPROF_INTERNAL_H */
