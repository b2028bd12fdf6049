/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Minimal protobuf wire-format writer into a growable buffer. Hand-written so the
 * library has no protobuf runtime dependency (stable ABI); shared by the pprof and OTLP
 * encoders. Allocation failures are sticky: check pb_buf.failed once at the end.
 */
#ifndef GOPROF_PB_WRITER_H
#define GOPROF_PB_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define PB_WT_VARINT 0
#define PB_WT_I64 1
#define PB_WT_LEN 2
#define PB_WT_I32 5

struct pb_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; the contents are incomplete */
};

GOPROF_HIDDEN void pb_init(struct pb_buf *b);
GOPROF_HIDDEN void pb_free(struct pb_buf *b);
/* Empties the buffer but keeps its memory. */
GOPROF_HIDDEN void pb_clear(struct pb_buf *b);
/* Makes room for n more bytes; false (and failed set) on allocation failure. */
GOPROF_HIDDEN bool pb_reserve(struct pb_buf *b, size_t n);
GOPROF_HIDDEN void pb_raw(struct pb_buf *b, const void *p, size_t n);

GOPROF_HIDDEN void pb_varint(struct pb_buf *b, uint64_t v);
GOPROF_HIDDEN void pb_tag(struct pb_buf *b, uint32_t field, uint32_t wire_type);

/* Scalar fields. The _nz variants omit zero values (proto3 defaults). */
GOPROF_HIDDEN void pb_uint64(struct pb_buf *b, uint32_t field, uint64_t v);
GOPROF_HIDDEN void pb_uint64_nz(struct pb_buf *b, uint32_t field, uint64_t v);
GOPROF_HIDDEN void pb_int64_nz(struct pb_buf *b, uint32_t field, int64_t v);
GOPROF_HIDDEN void pb_sint64_nz(struct pb_buf *b, uint32_t field, int64_t v);
GOPROF_HIDDEN void pb_bool_nz(struct pb_buf *b, uint32_t field, bool v);
GOPROF_HIDDEN void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t v);
/* A fixed64 without a tag: an element of a packed repeated fixed64 field. */
GOPROF_HIDDEN void pb_raw_fixed64(struct pb_buf *b, uint64_t v);
GOPROF_HIDDEN void pb_bytes(struct pb_buf *b, uint32_t field, const void *p, size_t n);
/* A string field; NULL is written as "" (repeated string entries must not be skipped). */
GOPROF_HIDDEN void pb_string(struct pb_buf *b, uint32_t field, const char *s);

/*
 * Length-delimited submessage or packed repeated field:
 *     size_t m = pb_begin(b, 2); ...fields...; pb_end(b, m);
 * pb_begin reserves one length byte; pb_end widens it if the body is 128 bytes or more
 * (one memmove of the body, so nesting costs O(size x depth), never quadratic).
 */
GOPROF_HIDDEN size_t pb_begin(struct pb_buf *b, uint32_t field);
GOPROF_HIDDEN void pb_end(struct pb_buf *b, size_t mark);

/* Bytes needed to encode v as a varint. */
static inline size_t pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

#endif /* GOPROF_PB_WRITER_H */
