// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * OTLP encoder (GOPROF_FORMAT_OTLP, opentelemetry-proto v1.11.0): our bytes decoded with
 * protoc against tests/otlp/otlp_profiles_v1_11.proto and compared, by check_otlp.py,
 * with the same profile read through goprof_profile_foreach_sample().
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../profile/fixture.h"
#include "otlp_test_util.h"
#include "profile/otlp.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN "00f067aa0ba902b7"

static void require_protoc(void)
{
	if (system("protoc --version >/dev/null 2>&1") != 0)
		fx_require_tool("protoc is not installed");
}

/* Expects the checker to accept the case; prints its complaints otherwise. */
static void check_case(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
		       const struct otlp_expect *ex)
{
	char *body, *expect, *out;
	int status;

	require_protoc();
	cr_assert_eq(otlp_write_case(p, opts, ex, &body, &expect), 0, "%s", goprof_last_error());
	status = otlp_run_checker(body, expect, &out);
	cr_assert_eq(status, 0, "check_otlp.py (body %s, expectation %s):\n%s", body, expect, out);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	free(out);
}

/* The fixture's server profile plus samples that carry trace context in their labels:
 * both conventions, upper case, invalid IDs, a pair split across conventions, a second
 * value for one key and a Go build ID. */
static struct goprof_profile *traced_profile(void)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct gp_mapping_in gobin = { 0x10000, 0x90000, 0, "/opt/app/gobin",
				       "GxTpL9mN0qR1sT2uV3w_/abcDEF-ghiJKL01234mnop", NULL };
	const struct gp_line_in handler = { "main.handle", NULL, "/src/app/main.go", 20, 18 };
	uint32_t mg, lh, hot[3];
	const uint32_t *stack;

	cr_assert_eq(gp_profile_add_mapping(&mg, p, &gobin), 0);
	lh = fx_location(p, mg, 0x12345, GOPROF_FRAME_KIND_GO, &handler, 1);
	stack = &p->loc_ids[p->samples[0].loc_off];
	memcpy(hot, stack, sizeof(hot));
	{
		const struct gp_label_in w3c[] = {
			{ "trace_id", TRACE, 0, NULL }, { "span_id", SPAN, 0, NULL },
			{ "http.route", "/api/orders", 0, NULL },
		};
		const struct gp_label_in otel_upper[] = {
			{ "otel.traceid", "4BF92F3577B34DA6A3CE929D0E0E4736", 0, NULL },
			{ "otel.spanid", "B7AD6B7169203331", 0, NULL },
		};
		const struct gp_label_in bad[] = { /* not IDs: kept as attributes, no link */
			{ "trace_id", "00000000000000000000000000000000", 0, NULL },
			{ "span_id", SPAN, 0, NULL },
		};
		const struct gp_label_in short_id[] = {
			{ "trace_id", "4bf92f3577b34da6", 0, NULL }, { "span_id", "xyz", 0, NULL },
		};
		const struct gp_label_in mixed[] = { /* trace of one convention, span of the other */
			{ "trace_id", TRACE, 0, NULL }, { "otel.spanid", SPAN, 0, NULL },
		};
		const struct gp_label_in multi[] = {
			{ "tenant", "a", 0, NULL }, { "tenant", "b", 0, NULL },
			{ "bytes", NULL, 4096, "bytes" }, { "thread.name", "worker-3", 0, NULL },
		};
		const uint32_t one[] = { lh };

		fx_sample(p, "server", hot, 3, 4, w3c, 3);
		fx_sample(p, "server", hot, 3, 3, otel_upper, 2);
		fx_sample(p, "server", one, 1, 2, w3c, 3); /* same link, another stack */
		fx_sample(p, "server", hot, 3, 2, bad, 2);
		fx_sample(p, "server", hot, 3, 1, short_id, 2);
		fx_sample(p, "server", one, 1, 6, mixed, 2);
		fx_sample(p, "", one, 1, 7, multi, 4);
		fx_sample(p, NULL, NULL, 0, 1, NULL, 0); /* no stack, no comm */
	}
	return p;
}

#define SERVER_RESOURCE                                                           \
	"{\"process.executable.name\": \"server\", "                              \
	"\"process.executable.path\": \"/usr/local/bin/server\", "                \
	"\"process.executable.build_id.gnu\": \"4f1c2d3e5a6b7c8d9e0f11223344556677889900\", " \
	"\"process.executable.build_id.htlhash\": \"0a1b2c3d4e5f60718293a4b5c6d7e8f9\""

Test(otlp, fixture_profile_matches_public_api)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct otlp_expect ex = { .resource_json = SERVER_RESOURCE "}" };

	check_case(p, NULL, &ex);
	goprof_profile_free(p);
}

Test(otlp, trace_labels_become_links)
{
	struct goprof_profile *p = traced_profile();
	struct otlp_expect ex = { .resource_json = SERVER_RESOURCE "}" };
	char *body, *expect, *text;

	check_case(p, NULL, &ex);

	/* And directly: two distinct links besides element 0, with our bytes. */
	cr_assert_eq(otlp_write_case(p, NULL, &ex, &body, &expect), 0);
	text = otlp_decode_text(body);
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, "trace_id: \"K\\371/5w\\263M\\246\\243\\316\\222\\235\\016\\016G6\""),
			   "%s", text);
	cr_assert_not_null(strstr(text, "link_index: 2"), "%s", text);
	cr_assert_null(strstr(text, "link_index: 3"), "only two distinct links expected:\n%s", text);
	cr_assert_not_null(strstr(text, "string_value: \"" TRACE "\""),
			   "the all-zero trace ID stays an attribute only when invalid:\n%s", text);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	free(text);
	goprof_profile_free(p);
}

Test(otlp, custom_and_disabled_link_keys)
{
	struct goprof_profile *p = traced_profile();
	const char *const custom[] = { "otel.traceid", "otel.spanid", NULL };
	const char *const off[] = { NULL };
	struct otlp_expect ex = { .resource_json = SERVER_RESOURCE "}", .link_keys = custom };
	GOPROF_OPTS(goprof_profile_write_opts, opts, .link_keys = custom);

	check_case(p, &opts, &ex);
	opts.link_keys = off;
	ex.link_keys = off;
	check_case(p, &opts, &ex);
	goprof_profile_free(p);
}

Test(otlp, resource_from_options)
{
	struct goprof_profile *p = traced_profile();
	const char *const extra[] = { "host.name", "web-1", "service.name", "ignored: ours wins",
				      "deployment.environment.name", "prod", NULL };
	GOPROF_OPTS(goprof_profile_write_opts, opts, .service_name = "checkout", .pid = 4242,
		    .resource_attrs = extra);
	struct otlp_expect ex = {
		.resource_json = SERVER_RESOURCE ", \"process.pid\": 4242, \"service.name\": \"checkout\", "
			"\"host.name\": \"web-1\", \"deployment.environment.name\": \"prod\"}",
	};

	check_case(p, &opts, &ex);
	goprof_profile_free(p);
}

Test(otlp, empty_profile)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct otlp_expect ex = { .resource_json = "{}" };

	check_case(p, NULL, &ex);
	goprof_profile_free(p);
}

/*
 * A profile that keeps per-event timestamps (at most max_ts) and threads, built the way
 * the CPU table builds it: 12 events on two stacks and two threads, out of time order.
 */
static struct goprof_profile *timed_profile(uint32_t max_ts)
{
	static const struct gp_value_type types[] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	struct gp_profile_desc desc = {
		.sample_types = types, .nr_sample_types = 2, .period_type = { "cpu", "nanoseconds" },
		.period = FX_PERIOD, .time_nanos = FX_TIME_NANOS, .duration_nanos = FX_DURATION_NANOS,
		.default_sample_type = "cpu", .max_timestamps = max_ts,
	};
	struct goprof_profile *p = gp_profile_new(&desc);
	struct gp_mapping_in m = { 0x400000, 0x500000, 0, "/opt/app/svc", "abcd", "00112233445566778899aabbccddeeff" };
	const struct gp_line_in work = { "main.work", NULL, "/src/main.go", 10, 8 };
	const struct gp_line_in idle = { "main.idle", NULL, "/src/main.go", 20, 18 };
	int64_t values[2] = { 1, FX_PERIOD };
	uint32_t mid, locs[2];

	cr_assert_not_null(p);
	cr_assert_eq(gp_profile_add_mapping(&mid, p, &m), 0);
	locs[0] = fx_location(p, mid, 0x401000, GOPROF_FRAME_KIND_GO, &work, 1);
	locs[1] = fx_location(p, mid, 0x402000, GOPROF_FRAME_KIND_GO, &idle, 1);
	for (int i = 0; i < 12; i++) {
		int tid = 100 + i % 2;
		struct gp_label_in labels[] = {
			{ .key = "thread_id", .num = tid },
			{ .key = "thread_name", .str = tid == 100 ? "svc" : "worker" },
		};
		struct gp_sample_in s = {
			.locations = &locs[i % 3 == 0], .nr_locations = 1, .values = values,
			.labels = labels, .nr_labels = 2, .comm = "svc",
			/* 10 ms apart, every third one early: not in arrival order */
			.time_unix_nano = FX_TIME_NANOS + 1000000 + (i % 3 == 2 ? 0 : (int64_t)i * 10000000),
		};

		cr_assert_eq(gp_profile_add_sample(p, &s), 0, "%s", goprof_last_error());
	}
	return p;
}

#define TIMED_RESOURCE                                                                \
	"{\"process.executable.name\": \"svc\", \"process.executable.path\": \"/opt/app/svc\", " \
	"\"process.executable.build_id.gnu\": \"abcd\", "                                   \
	"\"process.executable.build_id.htlhash\": \"00112233445566778899aabbccddeeff\"}"

/* Checks the timed profile with check_otlp.py: it must pass as is, and pass or fail
 * (timestamps_required_passes) when complete timestamps are required. Returns protoc's
 * decoding of the body (free it). */
static char *check_timed(const struct goprof_profile *p, bool timestamps_required_passes)
{
	struct otlp_expect ex = { .resource_json = TIMED_RESOURCE };
	char *body, *expect, *out, *text;

	require_protoc();
	cr_assert_eq(otlp_write_case(p, NULL, &ex, &body, &expect), 0);
	cr_assert_eq(otlp_run_checker(body, expect, &out), 0, "%s", out);
	free(out);
	cr_assert_eq(otlp_run_checker_args(body, expect, "--timestamps", &out) == 0,
		     timestamps_required_passes, "%s", out);
	free(out);
	text = otlp_decode_text(body);
	cr_assert_not_null(text);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	return text;
}

Test(otlp, timestamps_one_value_each_and_threads)
{
	struct goprof_profile *p = timed_profile(100);
	struct goprof_profile_info info = { .sz = sizeof(info) };
	char *text;

	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_eq(info.nr_timestamps, 12);
	cr_assert_eq(info.timestamps_dropped, 0);
	text = check_timed(p, true);
	cr_assert_not_null(strstr(text, "timestamps_unix_nano: "), "%s", text);
	cr_assert_not_null(strstr(text, "string_table: \"thread.id\""), "%s", text);
	cr_assert_not_null(strstr(text, "int_value: 101"), "thread.id of the second thread:\n%s", text);
	free(text);
	goprof_profile_free(p);
}

Test(otlp, dropped_timestamps_fall_back_to_sums)
{
	struct goprof_profile *p = timed_profile(5);
	struct goprof_profile_info info = { .sz = sizeof(info) };
	char *text;

	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_eq(info.nr_timestamps, 5);
	cr_assert_eq(info.timestamps_dropped, 7);
	/* The checker refuses this profile where complete timestamps are required. */
	text = check_timed(p, false);
	cr_assert_null(strstr(text, "timestamps_unix_nano"), "incomplete timestamps written:\n%s", text);
	free(text);
	goprof_profile_free(p);
}

/* Runs the checker on a fresh case after `edit` (a shell command run with the body
 * path as $1 and the expectation path as $2); returns its status. */
static int check_after(const struct goprof_profile *p, const struct otlp_expect *ex,
		       const char *edit, char **out)
{
	char *body, *expect, *cmd;
	int status;

	cr_assert_eq(otlp_write_case(p, NULL, ex, &body, &expect), 0);
	if (edit) {
		cr_assert_neq(asprintf(&cmd, "sh -c '%s' sh %s %s", edit, body, expect), -1);
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		free(cmd);
	}
	status = otlp_run_checker(body, expect, out);
	unlink(body);
	unlink(expect);
	free(body);
	free(expect);
	return status;
}

/* The checker must catch a wrong resource, a missing link, a changed value and a
 * corrupted body, or the tests above prove nothing. */
Test(otlp, checker_rejects_wrong_expectations)
{
	struct goprof_profile *p = traced_profile();
	const char *const off[] = { NULL };
	struct otlp_expect ok = { .resource_json = SERVER_RESOURCE "}" };
	struct otlp_expect wrong_res = { .resource_json = "{\"process.executable.name\": \"x\"}" };
	struct otlp_expect no_links = { .resource_json = SERVER_RESOURCE "}", .link_keys = off };
	char *out;

	require_protoc();
	cr_assert_eq(check_after(p, &ok, NULL, &out), 0, "%s", out);
	free(out);
	cr_assert_neq(check_after(p, &wrong_res, NULL, &out), 0, "wrong resource accepted:\n%s", out);
	free(out);
	cr_assert_neq(check_after(p, &no_links, NULL, &out), 0, "missing links accepted:\n%s", out);
	free(out);
	cr_assert_neq(check_after(p, &ok, "grep -q \"values\\\": \\[35, \" $2 && "
				  "sed -i \"s/values\\\": \\[35, /values\\\": [36, /\" $2", &out), 0,
		      "a changed value was accepted:\n%s", out);
	cr_assert_not_null(strstr(out, "expected"), "%s", out);
	free(out);
	cr_assert_neq(check_after(p, &ok, "printf \"\\377\" | dd of=$1 bs=1 seek=40 conv=notrunc "
				  "status=none", &out), 0, "a corrupted body was accepted:\n%s", out);
	free(out);
	goprof_profile_free(p);
}

static int null_sink(const void *data, size_t len, void *ctx)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

Test(otlp, bad_options)
{
	struct goprof_profile *p = fx_cpu_profile();
	const char *const odd_links[] = { "trace_id", NULL };
	const char *const odd_attrs[] = { "host.name", "a", "dangling", NULL };
	GOPROF_OPTS(goprof_profile_write_opts, o1, .link_keys = odd_links);
	GOPROF_OPTS(goprof_profile_write_opts, o2, .resource_attrs = odd_attrs);
	size_t n = 0;

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_OTLP, &o1, null_sink, &n), -EINVAL);
	cr_assert_not_null(strstr(goprof_last_error(), "link_keys"), "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_OTLP, &o2, null_sink, &n), -EINVAL);
	cr_assert_not_null(strstr(goprof_last_error(), "resource_attrs"), "%s", goprof_last_error());
	cr_assert_eq(n, 0);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_OTLP, NULL, null_sink, &n), 0);
	cr_assert_gt(n, 100);
	goprof_profile_free(p);
}

Test(otlp, same_bytes_every_time)
{
	struct goprof_profile *p = traced_profile();
	struct fx_buf a = { 0 }, b = { 0 };

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_OTLP, NULL, fx_buf_write, &a), 0);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_OTLP, NULL, fx_buf_write, &b), 0);
	cr_assert_eq(a.len, b.len);
	cr_assert_eq(memcmp(a.data, b.data, a.len), 0);
	fx_buf_free(&a);
	fx_buf_free(&b);
	goprof_profile_free(p);
}

Test(otlp, parse_id)
{
	uint8_t t[16], s[8];

	cr_assert(gp_otlp_parse_id(TRACE, t, 16));
	cr_assert_eq(t[0], 0x4b);
	cr_assert_eq(t[15], 0x36);
	cr_assert(gp_otlp_parse_id("00F067AA0BA902B7", s, 8));
	cr_assert_eq(s[1], 0xf0);
	cr_assert_not(gp_otlp_parse_id("0000000000000000", s, 8), "all zero is invalid");
	cr_assert_not(gp_otlp_parse_id("00f067aa0ba902b", s, 8), "too short");
	cr_assert_not(gp_otlp_parse_id("00f067aa0ba902b77", s, 8), "too long");
	cr_assert_not(gp_otlp_parse_id("00f067aa0ba902bg", s, 8), "not hex");
	cr_assert_not(gp_otlp_parse_id("", s, 8));
	cr_assert_not(gp_otlp_parse_id(NULL, s, 8));
}
