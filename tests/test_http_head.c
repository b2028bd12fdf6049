// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The wire tracer's user-space half on records built by hand: the captured request head
 * (headers, cut-off heads, odd spellings) and the kernel's record decoded into the
 * uprobe tracer's (path lengths at the label's limit, methods longer than its field).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "caps/http_wire/http_head.h"
#include "caps/http_wire/http_wire.h"

static struct gp_http_head parse(const char *s)
{
	struct gp_http_head h;

	cr_assert_eq(gp_http_head_parse(s, strlen(s), &h), 0, "%s", s);
	return h;
}

Test(http_head, headers)
{
	struct gp_http_head h = parse("POST /up?x=1 HTTP/1.1\r\nHost: a.b:80 \r\n"
				      "content-length:  1234\r\n\r\nbody");

	cr_expect_eq(h.method_len, 4);
	cr_expect_eq(h.path_len, 3, "the query is not the path");
	cr_expect_eq(h.content_length, 1234);
	cr_expect_eq(h.host_len, 6, "trailing blanks trimmed");
	cr_expect(!memcmp(h.host, "a.b:80", 6));
	cr_expect(h.complete);
}

Test(http_head, body_length_known_or_not)
{
	cr_expect_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n").content_length, 0,
		     "no Content-Length in a complete head: no body");
	cr_expect_eq(parse("GET / HTTP/1.1\r\nHost: x\r\n").content_length, -1,
		     "cut off before the end: unknown");
	cr_expect_eq(parse("PUT / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n"
			   "Content-Length: 5\r\n\r\n").content_length, -1, "chunked wins");
	cr_expect_eq(parse("PUT / HTTP/1.1\nContent-Length: 12x\n\n").content_length, -1);
	cr_expect_eq(parse("PUT / HTTP/1.1\nContent-Length: 1234567890123456789\n\n").content_length,
		     -1, "too many digits");
	cr_expect_eq(parse("PUT / HTTP/1.1\nContent-Length: 7\n\n").content_length, 7, "bare LF");
}

Test(http_head, cut_off_and_garbage)
{
	struct gp_http_head h;

	cr_expect_eq(parse("GET /abc").path_len, 0, "the path may go on");
	cr_expect_eq(parse("GET /abc?").path_len, 4, "ended by the query");
	cr_expect_eq(gp_http_head_parse("get / HTTP/1.1", 14, &h), -EINVAL);
	cr_expect_eq(gp_http_head_parse("GET", 3, &h), -EINVAL);
	cr_expect_eq(gp_http_head_parse("", 0, &h), -EINVAL);
	cr_expect_eq(parse("M /x HTTP/1.1\r\nHost:\r\n\r\n").host_len, 0);
}

/* A record as lib/caps/http_wire/http_wire.bpf.c sends it, with the head and the kernel's path. */
static void record(struct gp_http_wire_event *w, const char *head, const char *kpath,
		   uint32_t kpath_len, uint32_t method_len, uint32_t type)
{
	memset(w, 0, sizeof(*w));
	w->ev.type = type;
	w->ev.a.method_len = method_len;
	w->ev.a.path_len = kpath_len;
	snprintf(w->ev.a.path, sizeof(w->ev.a.path), "%s", kpath);
	w->head_len = (uint32_t)strlen(head);
	memcpy(w->head, head, w->head_len);
}

Test(http_head, decode_path_at_the_label_limit)
{
	static struct gp_http_wire_event w;
	struct gp_http_event ev;
	char path[80], head[200];

	memset(path, 'p', sizeof(path));
	path[0] = '/';
	/* Exactly 63 bytes: the kernel cannot see the end within its 63-byte field. */
	path[63] = '\0';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", path);
	record(&w, head, path, GP_HTTP_PATH_LEN, 3, GP_REC_HTTP_WIRE_SERVER);
	cr_assert_eq(gp_http_wire_decode(&w, sizeof(w), &ev), 0);
	cr_expect_eq(ev.type, GP_REC_HTTP_SERVER);
	cr_expect_eq(ev.a.path_len, 63, "not truncated");
	cr_expect_eq(ev.a.content_length, 0);
	/* 70 bytes: truncated, with its full length. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[70] = '\0';
	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", path);
	record(&w, head, "", GP_HTTP_PATH_LEN, 3, GP_REC_HTTP_WIRE_SERVER);
	cr_assert_eq(gp_http_wire_decode(&w, sizeof(w), &ev), 0);
	cr_expect_eq(ev.a.path_len, 70);
}

Test(http_head, decode_long_method_and_client_host)
{
	static struct gp_http_wire_event w;
	struct gp_http_event ev;
	const char *head = "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM /method HTTP/1.1\r\n"
			   "Host: 127.0.0.1:8080\r\nContent-Length: 3\r\n\r\n";

	record(&w, head, "", 0, GP_HTTP_METHOD_LEN, GP_REC_HTTP_WIRE_CLIENT);
	cr_assert_eq(gp_http_wire_decode(&w, sizeof(w), &ev), 0);
	cr_expect_eq(ev.type, GP_REC_HTTP_CLIENT);
	cr_expect_eq(ev.a.method_len, 40);
	cr_expect_str_eq(ev.a.path, "/method");
	cr_expect_eq(ev.a.path_len, 7);
	cr_expect_str_eq(ev.a.host, "127.0.0.1:8080");
	cr_expect_eq(ev.a.host_len, 14);
	cr_expect_eq(ev.a.content_length, 3);
	/* A record cut short by the ring: the head is bounded by what arrived. */
	cr_expect_eq(gp_http_wire_decode(&w, offsetof(struct gp_http_wire_event, head) + 10, &ev), 0);
	cr_expect_eq(gp_http_wire_decode(&w, 8, &ev), -EINVAL);
}
