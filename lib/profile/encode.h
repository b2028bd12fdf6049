/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The encoder entry points that goprof_profile_write() dispatches to (they write
 * through profile/out.h).
 */
#ifndef GOPROF_PROFILE_ENCODE_H
#define GOPROF_PROFILE_ENCODE_H

#include <stdarg.h>

#include "profile/out.h"
#include "profile/profile_internal.h"

/* Resolved options of one goprof_profile_write() call. */
struct gp_write_cfg {
	uint32_t value_index;
	uint32_t flags;
	const char *title; /* NULL: encoder's default */
};

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
