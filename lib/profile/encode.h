/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Shared plumbing of the encoders: a buffered output that feeds the host's write
 * callback and remembers the first failure, and the encoder entry points that
 * goprof_profile_write() dispatches to.
 */
#ifndef GOPROF_PROFILE_ENCODE_H
#define GOPROF_PROFILE_ENCODE_H

#include <stdarg.h>

#include "profile/profile_internal.h"

#define GP_OUT_CHUNK (64 * 1024)

struct gp_out {
	goprof_profile_write_fn fn;
	void *ctx;
	char *buf;    /* GP_OUT_CHUNK bytes */
	size_t len;
	int err;      /* first error (negative errno), sticky: later writes are dropped */
};

/* Resolved options of one goprof_profile_write() call. */
struct gp_write_cfg {
	uint32_t value_index;
	uint32_t flags;
	const char *title; /* NULL: encoder's default */
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

/* Encoders: write the whole profile to o, return 0 or a negative errno with the last
 * error set. They only read the profile. */
GOPROF_HIDDEN int gp_encode_pprof(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
				  struct gp_out *o);
GOPROF_HIDDEN int gp_encode_folded(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
				   struct gp_out *o);
GOPROF_HIDDEN int gp_encode_svg(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
				struct gp_out *o);

/* Serializes the profile as an uncompressed pprof protobuf into b (also used by tests
 * and, later, to share tables with the OTLP encoder). Returns 0 or -ENOMEM. */
struct pb_buf;
GOPROF_HIDDEN int gp_pprof_serialize(const struct goprof_profile *p, struct pb_buf *b);

#endif /* GOPROF_PROFILE_ENCODE_H */
