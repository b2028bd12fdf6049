/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * OTLP profiles encoder (GOPROF_FORMAT_OTLP): ExportProfilesServiceRequest of
 * opentelemetry.proto.profiles.v1development, pinned to opentelemetry-proto v1.11.0.
 * Field numbers changed between releases (dictionary 1.7, stack table and one sample
 * type per Profile 1.8, Sample renumbered 1.10): every number used is in otlp.c, and
 * tests/otlp/otlp_profiles_v1_11.proto is the schema the tests decode against.
 */
#ifndef GOPROF_PROFILE_OTLP_H
#define GOPROF_PROFILE_OTLP_H

#include "profile/encode.h"

struct pb_buf;

/* Serializes the profile as an ExportProfilesServiceRequest into b. opts may be NULL
 * (its OTLP fields are read with OPTS_GET; the caller validated it). Returns 0, -EINVAL
 * (odd-length resource_attrs or link_keys list) or -ENOMEM, with the last error set. */
GOPROF_HIDDEN int gp_otlp_serialize(const struct goprof_profile *p,
				    const struct goprof_profile_write_opts *opts,
				    struct pb_buf *b);

/* The encoder goprof_profile_write() dispatches GOPROF_FORMAT_OTLP to. */
GOPROF_HIDDEN int gp_encode_otlp(const struct goprof_profile *p,
				 const struct goprof_profile_write_opts *opts, struct gp_out *o);

/* Parses a trace ID (32 hex digits) or span ID (16) into out (n = 16 or 8 bytes).
 * Upper- and lower-case digits; all-zero IDs are invalid (W3C trace context).
 * Returns true if s is a valid ID. */
GOPROF_HIDDEN bool gp_otlp_parse_id(const char *s, uint8_t *out, size_t n);

#endif /* GOPROF_PROFILE_OTLP_H */
