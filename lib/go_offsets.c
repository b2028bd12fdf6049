// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The per-release table of Go runtime offsets (amd64). */
#include <stdio.h>
#include <stdlib.h>

#include "go_offsets.h"
#include "wait_reasons.h"

struct go_release_offsets {
	int minor;
	__u16 g_m, m_curg, g_goid, g_labels;
	__u8 labels_layout;
	__u8 hchan_lock; /* hchan.lock (1.23 added hchan.timer before it) */
};

/*
 * From DWARF (runtime.g, runtime.m) of binaries built by each toolchain; 1.24 from a
 * binary on our machine. Releases not listed are refused rather than guessed: 1.20 was
 * never measured here, and 1.25 moved m.curg.
 */
static const struct go_release_offsets table[] = {
	{ 19, 48, 192, 152, 360, GP_LABELS_HMAP, 88 },
	{ 21, 48, 192, 152, 344, GP_LABELS_HMAP, 88 },
	{ 22, 48, 192, 152, 344, GP_LABELS_HMAP, 88 },
	{ 23, 48, 192, 160, 352, GP_LABELS_HMAP, 96 },
	{ 24, 48, 192, 160, 352, GP_LABELS_SLICE, 96 },
};

int gp_go_minor_version(const char *version, int *minor)
{
	char *end;
	long v;

	if (!version || strncmp(version, "go1.", 4))
		return -EINVAL;
	v = strtol(version + 4, &end, 10);
	if (end == version + 4 || v < 0 || v > 1000)
		return -EINVAL;
	*minor = (int)v;
	return 0;
}

int gp_go_offsets(const char *version, struct gp_target *t)
{
	const struct gp_wait_reasons *w;
	int minor;

	if (gp_go_minor_version(version, &minor))
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "unrecognised Go version string '%s'",
			      version ? version : "(none)");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].minor != minor)
			continue;
		memset(t, 0, sizeof(*t));
		t->is_go = 1;
		t->g_m = table[i].g_m;
		t->m_curg = table[i].m_curg;
		t->g_goid = table[i].g_goid;
		t->g_labels = table[i].g_labels;
		t->labels_layout = table[i].labels_layout;
		/* runtime.mProf_Malloc gained a leading mp argument in Go 1.23. */
		t->malloc_size_arg = minor >= 23 ? 2 : 1;
		t->go_minor = (__u8)minor;
		t->hchan_lock = table[i].hchan_lock;
		/* Channel wait reasons when the release's numbering is known (else 0: blocking
		 * is still recorded, without channels). */
		w = gp_wait_reasons_find(version);
		t->wait_chan_send = w ? w->chan_send : 0;
		t->wait_chan_recv = w ? w->chan_recv : 0;
		return 0;
	}
	return gp_err(-GOPROF_ERRNO_GO_VERSION,
		      "%s: goroutine offsets for this Go release are not known to this libgoprof "
		      "(known: 1.19, 1.21-1.24); samples get stacks but no goroutine IDs or labels",
		      version);
}

/*
 * net/http and net/url offsets per release, from DWARF (tests/tools/gooffsets) of the
 * httpserv fixture built by each toolchain. conn.hijackedv and the HTTP/2 writer state's
 * status and wroteBytes moved in this range.
 * Not measured for 1.20 or 1.24+: refused.
 */
struct go_http_offsets {
	int minor;
	__u16 conn_hijacked, h2_status, h2_written;
};

static const struct go_http_offsets http_table[] = {
	{ 19, 144, 80, 104 },
	{ 21, 136, 72, 96 },
	{ 22, 136, 72, 96 },
	{ 23, 136, 72, 96 },
};

int gp_go_http_layout(const char *version, struct gp_http_layout *lay)
{
	int minor;

	if (gp_go_minor_version(version, &minor))
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "unrecognised Go version string '%s'",
			      version ? version : "(none)");
	for (size_t i = 0; i < ARRAY_SIZE(http_table); i++) {
		if (http_table[i].minor != minor)
			continue;
		*lay = (struct gp_http_layout){
			.valid = 1,
			.req_method = 0, .req_url = 16, .req_proto_major = 40,
			.req_content_length = 88, .req_host = 128,
			.url_host = 40, .url_path = 56,
			.resp_conn = 0, .resp_req = 8, .resp_written = 104, .resp_status = 120,
			.conn_hijacked = http_table[i].conn_hijacked,
			.response_status = 16,
			.h2_rws = 0, .h2_req = 8,
			.h2_status = http_table[i].h2_status,
			.h2_written = http_table[i].h2_written,
		};
		return 0;
	}
	return gp_err(-GOPROF_ERRNO_GO_VERSION,
		      "%s: net/http structure offsets for this Go release are not known to this "
		      "libgoprof (known: 1.19, 1.21-1.23); no HTTP request tracing", version);
}
