// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The protobuf writer: byte-exact encodings, and nested messages decoded by protoc. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "profile/pb_writer.h"

static void expect_bytes(const struct pb_buf *b, const uint8_t *want, size_t n)
{
	size_t i;

	cr_assert_not(b->failed);
	cr_assert_eq(b->len, n, "length %zu, want %zu", b->len, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(b->data[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i, b->data[i], want[i]);
}

Test(pb_writer, scalars)
{
	struct pb_buf b;
	static const uint8_t want[] = {
		0x08, 0xac, 0x02,                      /* 1: 300 */
		0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* 2: int64 -1 */
		0x18, 0x01,                            /* 3: sint64 -1 (zigzag) */
		0x20, 0x01,                            /* 4: true */
		0x29, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* 5: fixed64 */
		0x32, 0x02, 'h', 'i',                  /* 6: "hi" */
		0x3a, 0x00,                            /* 7: NULL string -> "" */
		0x80, 0x01, 0x05,                      /* 16: 5 (two-byte tag) */
	};

	pb_init(&b);
	pb_uint64(&b, 1, 300);
	pb_int64_nz(&b, 2, -1);
	pb_sint64_nz(&b, 3, -1);
	pb_bool_nz(&b, 4, true);
	pb_fixed64(&b, 5, 0x0102030405060708ULL);
	pb_string(&b, 6, "hi");
	pb_string(&b, 7, NULL);
	pb_uint64_nz(&b, 8, 0);   /* omitted */
	pb_int64_nz(&b, 9, 0);    /* omitted */
	pb_bool_nz(&b, 10, false); /* omitted */
	pb_uint64(&b, 16, 5);
	expect_bytes(&b, want, sizeof(want));
	pb_free(&b);
}

Test(pb_writer, nested_lengths_widen)
{
	struct pb_buf b;
	size_t outer, inner, i;

	pb_init(&b);
	outer = pb_begin(&b, 1);
	inner = pb_begin(&b, 2);
	for (i = 0; i < 200; i++)
		pb_raw(&b, "x", 1);
	pb_end(&b, inner);         /* 200 bytes: length c8 01 */
	pb_uint64(&b, 3, 1);
	pb_end(&b, outer);         /* 1 + 2 + 200 + 2 = 205: cd 01 */
	cr_assert_not(b.failed);
	cr_assert_eq(b.len, 1 + 2 + 1 + 2 + 200 + 2); /* tags, lengths, body, field 3 */
	cr_assert_eq(b.data[0], 0x0a);
	cr_assert_eq(b.data[1], 0xcd);
	cr_assert_eq(b.data[2], 0x01);
	cr_assert_eq(b.data[3], 0x12);
	cr_assert_eq(b.data[4], 0xc8);
	cr_assert_eq(b.data[5], 0x01);
	cr_assert_eq(b.data[6], 'x');
	cr_assert_eq(b.data[205], 'x');
	cr_assert_eq(b.data[206], 0x18);
	cr_assert_eq(b.data[207], 0x01);
	pb_free(&b);
}

Test(pb_writer, protoc_decodes_deep_and_large_messages)
{
	char path[] = "/tmp/goprof-pbw-XXXXXX", *cmd, *out;
	struct pb_buf b;
	size_t m[4], i;
	FILE *f;
	int fd, st;

	if (access("/usr/bin/protoc", X_OK))
		fx_require_tool("protoc not installed (package protobuf-compiler)");
	pb_init(&b);
	m[0] = pb_begin(&b, 1);
	m[1] = pb_begin(&b, 2);
	m[2] = pb_begin(&b, 3);
	for (i = 0; i < 5000; i++)
		pb_uint64(&b, 4, i);          /* 5000 fields: a 3-byte length */
	pb_end(&b, m[2]);
	m[3] = pb_begin(&b, 5);            /* packed */
	for (i = 0; i < 3; i++)
		pb_varint(&b, 1000 + i);
	pb_end(&b, m[3]);
	pb_end(&b, m[1]);
	pb_string(&b, 6, "tail");
	pb_end(&b, m[0]);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "wb");
	cr_assert_eq(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	cr_assert_neq(asprintf(&cmd, "protoc --decode_raw < %s", path), -1);
	out = fx_run(cmd, &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "1 {\n  2 {\n    3 {\n      4: 0\n      4: 1\n"), "%.400s", out);
	cr_assert(strstr(out, "      4: 4999\n    }\n"), "%s", out);
	cr_assert(strstr(out, "    5: \"\\350\\007\\351\\007\\352\\007\"\n"), "packed varints:\n%s",
		  strstr(out, "    5:") ? strstr(out, "    5:") : out);
	cr_assert(strstr(out, "  6: \"tail\"\n}\n"), "%s", out + (strlen(out) > 200 ? strlen(out) - 200 : 0));
	unlink(path);
	free(cmd);
	free(out);
	pb_free(&b);
}
