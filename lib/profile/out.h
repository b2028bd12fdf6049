/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The encoders' output: a buffer that feeds the host's write callback in chunks and
 * remembers the first failure.
 */
#ifndef GOPROF_PROFILE_OUT_H
#define GOPROF_PROFILE_OUT_H

#include <stddef.h>

#include "goprof/profile.h"
#include "internal.h"

#define GP_OUT_CHUNK (64 * 1024)

struct gp_out {
	goprof_profile_write_fn fn;
	void *ctx;
	char *buf;    /* GP_OUT_CHUNK bytes */
	size_t len;
	int err;      /* first error (negative errno), sticky: later writes are dropped */
};

GOPROF_HIDDEN int gp_out_init(struct gp_out *o, goprof_profile_write_fn fn, void *ctx);
GOPROF_HIDDEN void gp_out_fini(struct gp_out *o);
GOPROF_HIDDEN void gp_out_write(struct gp_out *o, const void *p, size_t n);
GOPROF_HIDDEN void gp_out_puts(struct gp_out *o, const char *s);
GOPROF_HIDDEN void gp_out_printf(struct gp_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands buffered bytes to the callback. Returns o->err. */
GOPROF_HIDDEN int gp_out_flush(struct gp_out *o);
/* Records an encoder failure (first one wins) and returns it. */
GOPROF_HIDDEN int gp_out_fail(struct gp_out *o, int err);

#endif /* GOPROF_PROFILE_OUT_H */
