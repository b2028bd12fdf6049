// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Error codes, thread-local error messages and options-struct validation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/error.h"
#include "internal.h"

static __thread char last_error[1024];

static const char *const goprof_errno_text[] = {
	[GOPROF_ERRNO_NOT_GO - GOPROF_ERRNO_BASE] = "not a Go binary",
	[GOPROF_ERRNO_CORRUPT - GOPROF_ERRNO_BASE] = "corrupt or truncated Go metadata",
	[GOPROF_ERRNO_GO_VERSION - GOPROF_ERRNO_BASE] = "unsupported Go version or table format",
	[GOPROF_ERRNO_KERNEL - GOPROF_ERRNO_BASE] = "kernel feature missing",
	[GOPROF_ERRNO_VERIFIER - GOPROF_ERRNO_BASE] = "BPF program rejected by the kernel verifier",
};

GOPROF_API int goprof_strerror(int err, char *buf, size_t len)
{
	const char *text = NULL;
	char tmp[128];
	int n;

	if (!buf || !len)
		return -EINVAL;
	if (err < 0)
		err = -err;
	if (err > GOPROF_ERRNO_BASE && err < GOPROF_ERRNO_END)
		text = goprof_errno_text[err - GOPROF_ERRNO_BASE];
	if (!text) {
		/* GNU strerror_r (the project builds with _GNU_SOURCE): may return a static string. */
		const char *s = strerror_r(err, tmp, sizeof(tmp));
		text = s ? s : "unknown error";
	}
	n = snprintf(buf, len, "%s", text);
	return (size_t)n >= len ? -ERANGE : 0;
}

GOPROF_API const char *goprof_last_error(void)
{
	return last_error;
}

void gp_clear_error(void)
{
	last_error[0] = '\0';
}

static void set_error_v(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
}

int gp_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_v(fmt, ap);
	va_end(ap);
	return err;
}

void *gp_err_null(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_v(fmt, ap);
	va_end(ap);
	errno = err < 0 ? -err : err;
	return NULL;
}

void *gp_fail_null(int err)
{
	errno = err < 0 ? -err : err;
	return NULL;
}

int gp_err_errno(int err, const char *what)
{
	char msg[128];

	goprof_strerror(err, msg, sizeof(msg));
	return gp_err(err, "%s: %s", what, msg);
}

bool gp_opts_tail_is_zero(const void *opts, size_t known_sz, size_t user_sz)
{
	const unsigned char *p = opts;
	size_t i;

	for (i = known_sz; i < user_sz; i++)
		if (p[i])
			return false;
	return true;
}

int gp_opts_validate(const void *opts, size_t user_sz, size_t known_sz, const char *type_name)
{
	const unsigned char *p = opts;
	size_t i;

	if (!opts)
		return 0;
	if (user_sz < sizeof(size_t))
		return gp_err(-EINVAL, "struct %s: sz is %zu, smaller than the sz field itself; "
				       "initialize options with GOPROF_OPTS()", type_name, user_sz);
	for (i = known_sz; i < user_sz; i++)
		if (p[i])
			return gp_err(-EINVAL,
				      "struct %s: unknown non-zero byte at offset %zu (this library knows "
				      "%zu bytes of it; the caller was built against a newer libgoprof)",
				      type_name, i, known_sz);
	return 0;
}

void gp_strlcpy(char *dst, const char *src, size_t dst_len)
{
	size_t n = strnlen(src, dst_len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int gp_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}
