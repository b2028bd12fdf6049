// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The encoders' buffered output (see out.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/error.h"
#include "profile/out.h"

int gp_out_init(struct gp_out *o, goprof_profile_write_fn fn, void *ctx)
{
	memset(o, 0, sizeof(*o));
	o->fn = fn;
	o->ctx = ctx;
	o->buf = malloc(GP_OUT_CHUNK);
	return o->buf ? 0 : -ENOMEM;
}

void gp_out_fini(struct gp_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

int gp_out_fail(struct gp_out *o, int err)
{
	if (!o->err)
		o->err = err;
	return o->err;
}

int gp_out_flush(struct gp_out *o)
{
	int ret;

	if (o->err || !o->len)
		return o->err;
	ret = o->fn(o->buf, o->len, o->ctx);
	o->len = 0;
	if (ret < 0)
		return gp_out_fail(o, gp_err(ret, "profile write callback failed: %s (%d)",
					     strerror(-ret), ret));
	if (ret > 0)
		return gp_out_fail(o, gp_err(-ECANCELED, "profile write callback stopped the "
							 "output (returned %d)", ret));
	return 0;
}

void gp_out_write(struct gp_out *o, const void *p, size_t n)
{
	const char *s = p;

	while (n && !o->err) {
		size_t room = GP_OUT_CHUNK - o->len, k = GP_MIN(room, n);

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == GP_OUT_CHUNK)
			gp_out_flush(o);
	}
}

void gp_out_puts(struct gp_out *o, const char *s)
{
	gp_out_write(o, s, strlen(s));
}

void gp_out_printf(struct gp_out *o, const char *fmt, ...)
{
	char small[256], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		gp_out_write(o, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (!big) {
		gp_out_fail(o, gp_err(-ENOMEM, "profile: out of memory formatting output"));
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	gp_out_write(o, big, (size_t)n);
	free(big);
}
