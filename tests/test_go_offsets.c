// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The per-release offset table against the DWARF of binaries built by every installed
 * toolchain (read by Go's own debug/dwarf in tests/tools/gooffsets).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <goprof/error.h>

#include "go/go_version.h"
#include "go/go_offsets.h"
#include "test_common.h"

Test(go_offsets, table_matches_dwarf_of_every_toolchain)
{
	const char *const *versions = fixture_all_go_versions();
	const char *tools = getenv("GOPROF_TOOLS");

	cr_assert(tools, "GOPROF_TOOLS not set");
	for (int i = 0; versions[i]; i++) {
		char cmd[4096], line[256], version[64] = "";
		int g_m = -1, g_goid = -1, g_labels = -1, m_curg = -1, hchan_lock = -1, v;
		struct gp_target t;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s/gooffsets %s", tools, fixture_path("busy", versions[i]));
		p = popen(cmd, "r");
		cr_assert(p);
		while (fgets(line, sizeof(line), p)) {
			if (sscanf(line, "g.m %d", &v) == 1) g_m = v;
			else if (sscanf(line, "g.goid %d", &v) == 1) g_goid = v;
			else if (sscanf(line, "g.labels %d", &v) == 1) g_labels = v;
			else if (sscanf(line, "m.curg %d", &v) == 1) m_curg = v;
			else if (sscanf(line, "hchan.lock %d", &v) == 1) hchan_lock = v;
			else sscanf(line, "version %63s", version);
		}
		cr_assert_eq(pclose(p), 0, "%s failed", cmd);
		cr_assert_eq(gp_go_offsets(version, &t), 0, "%s: %s", version, goprof_last_error());
		cr_expect_eq(t.g_m, g_m, "%s g.m", version);
		cr_expect_eq(t.g_goid, g_goid, "%s g.goid", version);
		cr_expect_eq(t.g_labels, g_labels, "%s g.labels", version);
		cr_expect_eq(t.m_curg, m_curg, "%s m.curg", version);
		cr_expect_eq(t.hchan_lock, hchan_lock, "%s hchan.lock", version);
		/* Go 1.24 replaced the labels map with a sorted slice of {key, value}. */
		cr_expect_eq(t.labels_layout, atoi(versions[i] + 2) < 24 ? GP_LABELS_HMAP : GP_LABELS_SLICE,
			     "%s labels layout", version);
	}
}

Test(go_offsets, unknown_release_is_a_clear_error)
{
	struct gp_target t;

	cr_assert_eq(gp_go_offsets("go1.18.3", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert(strstr(goprof_last_error(), "go1.18.3"), "%s", goprof_last_error());
	cr_assert_eq(gp_go_offsets("go1.99", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert_eq(gp_go_offsets("devel +abc", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert_eq(gp_go_offsets(NULL, &t), -GOPROF_ERRNO_GO_VERSION);
}

Test(go_offsets, version_parsing)
{
	int minor;

	cr_assert_eq(gp_go_minor_version("go1.23.5", &minor), 0);
	cr_assert_eq(minor, 23);
	cr_assert_eq(gp_go_minor_version("go1.22rc1", &minor), 0);
	cr_assert_eq(minor, 22);
	cr_assert_eq(gp_go_minor_version("go2.0", &minor), -EINVAL);
	cr_assert_eq(gp_go_minor_version("go1.", &minor), -EINVAL);
}

/* The net/http layout (GOPROF_FEATURE_HTTP) against the DWARF of the httpserv fixture. */
Test(go_offsets, http_layout_matches_dwarf_of_every_toolchain)
{
	const char *const *versions = fixture_all_go_versions();
	const char *tools = getenv("GOPROF_TOOLS");

	cr_assert(tools, "GOPROF_TOOLS not set");
	for (int i = 0; versions[i]; i++) {
		struct {
			const char *name;
			int dwarf;
			size_t off; /* in struct gp_http_layout */
		} f[] = {
			{ "http.Request.Method", -1, offsetof(struct gp_http_layout, req_method) },
			{ "http.Request.URL", -1, offsetof(struct gp_http_layout, req_url) },
			{ "http.Request.ProtoMajor", -1, offsetof(struct gp_http_layout, req_proto_major) },
			{ "http.Request.ContentLength", -1, offsetof(struct gp_http_layout, req_content_length) },
			{ "http.Request.Host", -1, offsetof(struct gp_http_layout, req_host) },
			{ "url.URL.Host", -1, offsetof(struct gp_http_layout, url_host) },
			{ "url.URL.Path", -1, offsetof(struct gp_http_layout, url_path) },
			{ "http.response.conn", -1, offsetof(struct gp_http_layout, resp_conn) },
			{ "http.response.req", -1, offsetof(struct gp_http_layout, resp_req) },
			{ "http.response.written", -1, offsetof(struct gp_http_layout, resp_written) },
			{ "http.response.status", -1, offsetof(struct gp_http_layout, resp_status) },
			{ "http.conn.hijackedv", -1, offsetof(struct gp_http_layout, conn_hijacked) },
			{ "http.Response.StatusCode", -1, offsetof(struct gp_http_layout, response_status) },
			{ "http.http2responseWriter.rws", -1, offsetof(struct gp_http_layout, h2_rws) },
			{ "http.http2responseWriterState.req", -1, offsetof(struct gp_http_layout, h2_req) },
			{ "http.http2responseWriterState.status", -1, offsetof(struct gp_http_layout, h2_status) },
			{ "http.http2responseWriterState.wroteBytes", -1,
			  offsetof(struct gp_http_layout, h2_written) },
		};
		char cmd[4096], line[256], name[128], version[64] = "";
		struct gp_http_layout lay;
		int v, server_request_url = -1;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s/gooffsets %s", tools, fixture_path("httpserv", versions[i]));
		p = popen(cmd, "r");
		cr_assert(p);
		while (fgets(line, sizeof(line), p)) {
			if (sscanf(line, "version %63s", version) == 1 ||
			    sscanf(line, "%127s %d", name, &v) != 2)
				continue;
			for (size_t k = 0; k < ARRAY_SIZE(f); k++)
				if (!strcmp(f[k].name, name))
					f[k].dwarf = v;
			if (!strcmp(name, "http2.ServerRequest.URL"))
				server_request_url = v;
		}
		cr_assert_eq(pclose(p), 0, "%s failed", cmd);
		cr_assert_eq(gp_go_http_layout(version, &lay), 0, "%s: %s", version, goprof_last_error());
		cr_expect(lay.valid);
		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			cr_expect_eq(*(__u16 *)((char *)&lay + f[k].off), f[k].dwarf, "%s %s: table %u, DWARF %d",
				     version, f[k].name, *(__u16 *)((char *)&lay + f[k].off), f[k].dwarf);
		/* Go 1.27+: the writer state's request is a ServerRequest value; its URL pointer. */
		cr_expect_eq(lay.h2_req_url, server_request_url < 0 ? 0 : lay.h2_req + server_request_url,
			     "%s: h2_req_url %u, DWARF ServerRequest.URL %d", version, lay.h2_req_url,
			     server_request_url);
	}
}

Test(go_offsets, http_unknown_release_is_a_clear_error)
{
	struct gp_http_layout lay;

	cr_assert_eq(gp_go_http_layout("go1.18.3", &lay), -GOPROF_ERRNO_GO_VERSION);
	cr_assert(strstr(goprof_last_error(), "go1.18.3"), "%s", goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "no HTTP request tracing"), "%s", goprof_last_error());
	cr_assert_eq(gp_go_http_layout("go1.17.1", &lay), -GOPROF_ERRNO_GO_VERSION);
}

/* A newer release gets the newest layout: its probes go only on validated processes. */
Test(go_offsets, http_newer_release_gets_the_newest_layout)
{
	struct gp_http_layout lay, newest;

	cr_assert_eq(gp_go_http_layout("go1.27.3", &newest), 0);
	cr_assert_eq(gp_go_http_layout("go1.99.1", &lay), 0, "%s", goprof_last_error());
	cr_expect_eq(memcmp(&lay, &newest, sizeof(lay)), 0);
}
