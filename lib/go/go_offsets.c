// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The per-release table of Go runtime offsets (amd64). */
#include <stdio.h>
#include <stdlib.h>

#include "go/go_version.h"
#include "go/go_offsets.h"
#include "go/wait_reasons.h"

struct go_release_offsets {
	int minor;
	__u16 g_m, m_curg, g_goid, g_labels;
	__u8 labels_layout;
	__u8 hchan_lock; /* hchan.lock (1.23 added hchan.timer before it, 1.25 hchan.bubble) */
};

/*
 * Measured from the DWARF (runtime.g, runtime.m, runtime.hchan) of the fixtures built by
 * each toolchain here; tests/test_go_offsets.c re-checks every installed one. 1.20 and
 * 1.25 have no toolchain here: derived from their runtime2.go/chan.go with Go's alignment
 * rules (1.25 removed gobuf.ret, moving m.curg, and added hchan.bubble) and marked so.
 * Releases not listed are refused rather than guessed.
 */
static const struct go_release_offsets table[] = {
	{ 19, 48, 192, 152, 360, GP_LABELS_HMAP, 88 },
	{ 20, 48, 192, 152, 360, GP_LABELS_HMAP, 88 }, /* derived */
	{ 21, 48, 192, 152, 344, GP_LABELS_HMAP, 88 },
	{ 22, 48, 192, 152, 344, GP_LABELS_HMAP, 88 },
	{ 23, 48, 192, 160, 352, GP_LABELS_HMAP, 96 },
	{ 24, 48, 192, 160, 352, GP_LABELS_SLICE, 96 },
	{ 25, 48, 184, 152, 344, GP_LABELS_SLICE, 104 }, /* derived */
	{ 26, 48, 184, 152, 352, GP_LABELS_SLICE, 104 },
	{ 27, 48, 184, 152, 352, GP_LABELS_SLICE, 104 },
};

static void fill(struct gp_target *t, const struct go_release_offsets *r, const char *version)
{
	const struct gp_wait_reasons *w;
	int minor = r->minor;

	memset(t, 0, sizeof(*t));
	t->is_go = 1;
	t->g_m = r->g_m;
	t->m_curg = r->m_curg;
	t->g_goid = r->g_goid;
	t->g_labels = r->g_labels;
	t->labels_layout = r->labels_layout;
	/* runtime.mProf_Malloc gained a leading mp argument in Go 1.23. */
	t->malloc_size_arg = minor >= 23 ? 2 : 1;
	/* The release's own number, also for a newer one on the newest layout: the net/http
	 * layout is stored under it (lib/caps/http/http_probes.c). */
	if (gp_go_minor_version(version, &minor) == 0)
		t->go_minor = (__u8)minor;
	t->hchan_lock = r->hchan_lock;
	/* Channel wait reasons when the release's numbering is known (else 0: blocking
	 * is still recorded, without channels). */
	w = gp_wait_reasons_find(version);
	t->wait_chan_send = w ? w->chan_send : 0;
	t->wait_chan_recv = w ? w->chan_recv : 0;
}

int gp_go_offsets(const char *version, struct gp_target *t)
{
	int minor;

	if (gp_go_minor_version(version, &minor))
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "unrecognised Go version string '%s'",
			      version ? version : "(none)");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].minor != minor)
			continue;
		fill(t, &table[i], version);
		return 0;
	}
	return gp_err(-GOPROF_ERRNO_GO_VERSION,
		      "%s: goroutine offsets for this Go release are not known to this libgoprof "
		      "(known: 1.19-1.27); samples get stacks but no goroutine IDs or labels",
		      version);
}

int gp_go_newest_known_minor(void)
{
	return table[ARRAY_SIZE(table) - 1].minor;
}

int gp_go_offsets_candidate(const char *version, struct gp_target *t, bool *newer)
{
	int minor;

	*newer = false;
	if (gp_go_minor_version(version, &minor) == 0 && minor > gp_go_newest_known_minor()) {
		/* The newest layout, to be validated: the wait reasons stay unknown (0). */
		fill(t, &table[ARRAY_SIZE(table) - 1], version);
		*newer = true;
		return 0;
	}
	return gp_go_offsets(version, t);
}

/*
 * net/http and net/url offsets per release, from DWARF (tests/tools/gooffsets) of the
 * httpserv fixture built by each toolchain. conn.hijackedv and the HTTP/2 writer state's
 * status and wroteBytes moved in 1.20 (conn.curReq became an atomic.Pointer; the state
 * lost its body field), response.written/status in 1.27 (response.ecReader), and 1.27
 * moved the HTTP/2 server into net/http/internal/http2 (responseWriterState grew).
 * 1.20 and 1.25 are derived from their net/http sources (no toolchain here): 1.20 has
 * 1.21's layout, 1.25 has 1.24's and 1.26's (they agree on every field read here).
 */
struct go_http_offsets {
	int minor;
	__u16 conn_hijacked, h2_status, h2_written, resp_written, resp_status, h2_req_url;
};

static const struct go_http_offsets http_table[] = {
	{ 19, 144, 80, 104, 104, 120, 0 },
	{ 20, 136, 72, 96, 104, 120, 0 }, /* derived */
	{ 21, 136, 72, 96, 104, 120, 0 },
	{ 22, 136, 72, 96, 104, 120, 0 },
	{ 23, 136, 72, 96, 104, 120, 0 },
	{ 24, 136, 72, 96, 104, 120, 0 },
	{ 25, 136, 72, 96, 104, 120, 0 }, /* derived */
	{ 26, 136, 72, 96, 104, 120, 0 },
	/* h2_req_url: responseWriterState.req (8) + ServerRequest.URL (64) */
	{ 27, 136, 240, 264, 112, 128, 72 },
};

int gp_go_http_layout(const char *version, struct gp_http_layout *lay)
{
	int minor;

	if (gp_go_minor_version(version, &minor))
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "unrecognised Go version string '%s'",
			      version ? version : "(none)");
	/* A release newer than the table: the newest layout; only used once the runtime
	 * layout was validated against the process (target.c), and unchecked itself. */
	if (minor > http_table[ARRAY_SIZE(http_table) - 1].minor)
		minor = http_table[ARRAY_SIZE(http_table) - 1].minor;
	for (size_t i = 0; i < ARRAY_SIZE(http_table); i++) {
		if (http_table[i].minor != minor)
			continue;
		*lay = (struct gp_http_layout){
			.valid = 1,
			.req_method = 0, .req_url = 16, .req_proto_major = 40,
			.req_content_length = 88, .req_host = 128,
			.url_host = 40, .url_path = 56,
			.resp_conn = 0, .resp_req = 8,
			.resp_written = http_table[i].resp_written,
			.resp_status = http_table[i].resp_status,
			.conn_hijacked = http_table[i].conn_hijacked,
			.response_status = 16,
			.h2_rws = 0, .h2_req = 8,
			.h2_status = http_table[i].h2_status,
			.h2_written = http_table[i].h2_written,
			.h2_req_url = http_table[i].h2_req_url,
		};
		return 0;
	}
	return gp_err(-GOPROF_ERRNO_GO_VERSION,
		      "%s: net/http structure offsets for this Go release are not known to this "
		      "libgoprof (known: 1.19-1.27); no HTTP request tracing", version);
}
