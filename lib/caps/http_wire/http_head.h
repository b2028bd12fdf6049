/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The head of an HTTP/1 request as the wire tracer captured it: untrusted bytes, cut off
 * at any point, parsed without copying for what the request record needs.
 */
#ifndef GOPROF_HTTP_HEAD_H
#define GOPROF_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

struct gp_http_head {
	/* Content-Length; 0 when the headers ended without one (no body); -1 unknown: cut
	 * off before it, chunked, or malformed. */
	int64_t content_length;
	const char *host; /* the Host value inside the buffer (not NUL-terminated), or NULL */
	size_t host_len;
	size_t method_len;
	const char *path; /* the request target inside the buffer */
	size_t path_len;  /* the path's length (up to '?' or the space); 0 if cut off */
	bool complete;    /* the blank line ending the headers is in the buffer */
};

/* Parses buf[len]; returns 0, or -EINVAL if it does not start with a request line. */
GOPROF_HIDDEN int gp_http_head_parse(const char *buf, size_t len, struct gp_http_head *out);

#endif
