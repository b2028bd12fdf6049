// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Protobuf wire-format writer (see pb_writer.h). */
#include <stdlib.h>
#include <string.h>

#include "profile/pb_writer.h"

void pb_init(struct pb_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pb_free(struct pb_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void pb_clear(struct pb_buf *b)
{
	b->len = 0;
	b->failed = false;
}

bool pb_reserve(struct pb_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->failed)
		return false;
	if (b->cap - b->len >= n)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void pb_raw(struct pb_buf *b, const void *p, size_t n)
{
	if (!n || !pb_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pb_varint(struct pb_buf *b, uint64_t v)
{
	uint8_t *p;

	if (!pb_reserve(b, 10))
		return;
	p = b->data + b->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	b->len = (size_t)(p - b->data);
}

void pb_tag(struct pb_buf *b, uint32_t field, uint32_t wire_type)
{
	pb_varint(b, ((uint64_t)field << 3) | wire_type);
}

void pb_uint64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_WT_VARINT);
	pb_varint(b, v);
}

void pb_uint64_nz(struct pb_buf *b, uint32_t field, uint64_t v)
{
	if (v)
		pb_uint64(b, field, v);
}

void pb_int64_nz(struct pb_buf *b, uint32_t field, int64_t v)
{
	/* int64 is a plain two's-complement varint (negative values take 10 bytes). */
	if (v)
		pb_uint64(b, field, (uint64_t)v);
}

void pb_sint64_nz(struct pb_buf *b, uint32_t field, int64_t v)
{
	if (v)
		pb_uint64(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void pb_bool_nz(struct pb_buf *b, uint32_t field, bool v)
{
	if (v)
		pb_uint64(b, field, 1);
}

void pb_raw_fixed64(struct pb_buf *b, uint64_t v)
{
	uint8_t le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	pb_raw(b, le, sizeof(le));
}

void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_WT_I64);
	pb_raw_fixed64(b, v);
}

void pb_bytes(struct pb_buf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, PB_WT_LEN);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

void pb_string(struct pb_buf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s ? s : "", s ? strlen(s) : 0);
}

size_t pb_begin(struct pb_buf *b, uint32_t field)
{
	pb_tag(b, field, PB_WT_LEN);
	if (pb_reserve(b, 1))
		b->data[b->len++] = 0;
	return b->len; /* body starts here; the length byte is just before */
}

void pb_end(struct pb_buf *b, size_t mark)
{
	size_t body, extra;
	uint8_t *p;
	uint64_t v;

	if (b->failed)
		return;
	body = b->len - mark;
	extra = pb_varint_size(body) - 1;
	if (extra) {
		if (!pb_reserve(b, extra))
			return;
		memmove(b->data + mark + extra, b->data + mark, body);
		b->len += extra;
	}
	p = b->data + mark - 1;
	v = body;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)v;
}
