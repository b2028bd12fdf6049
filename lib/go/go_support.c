// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof_binary_go_support(): which capabilities a Go binary's release supports. Reads
 * the runtime layout tables only through their lookup functions (go_offsets.c,
 * wait_reasons.c), so it says what a session attaching the binary would get.
 */
#include <stdio.h>

#include "go/go_version.h"
#include "go/go_offsets.h"
#include "goprof/error.h"
#include "goprof/session.h"
#include "sym/symbolizer_internal.h"
#include "go/wait_reasons.h"

/* Features that read no Go runtime structure. */
#define LAYOUT_FREE (GOPROF_FEATURE_OFFCPU | GOPROF_FEATURE_TCP | GOPROF_FEATURE_HTTP_WIRE)
/* Features whose probes need the release's g/m offsets (gp_go_offsets()). */
#define RUNTIME_FEATURES (GOPROF_FEATURE_GOROUTINES | GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP | \
			  GOPROF_FEATURE_ALLOCS | GOPROF_FEATURE_SCHED | GOPROF_FEATURE_BLOCK)

/* Appends "; what" to note (truncating: the note is for people). */
static void add_note(char *note, size_t len, const char *what)
{
	size_t n = strlen(note);

	if (n && n + 2 < len) {
		memcpy(note + n, "; ", 2);
		n += 2;
		note[n] = '\0';
	}
	if (n + 1 < len)
		gp_strlcpy(note + n, what, len - n);
}

GOPROF_API int goprof_binary_go_support(const struct goprof_binary *bin, struct goprof_go_support *out)
{
	struct goprof_go_support v;
	char saved[256], why[256];
	const char *version;
	struct gp_target t;
	struct gp_http_layout lay;
	int minor = 0;
	size_t n;

	if (!bin || !out)
		return gp_err(-EINVAL, "goprof_binary_go_support: NULL argument");
	if (out->sz < sizeof(uint32_t))
		return gp_err(-EINVAL, "goprof_binary_go_support: out->sz not set");
	if (!bin->is_go)
		return gp_err(-GOPROF_ERRNO_NOT_GO, "%s: not a Go binary (no pclntab)", bin->elf.path);
	memset(&v, 0, sizeof(v));
	v.sz = sizeof(v);
	v.flags = GOPROF_GO_SUPPORT_STACKS | (bin->gofunc || bin->tab.format < GP_PCLN_GO118 ?
					     GOPROF_GO_SUPPORT_INLINE : 0);
	v.features = LAYOUT_FREE;
	/* The layout lookups report through the thread's error: keep the caller's. */
	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	version = gp_go_release_check(bin, why, sizeof(why));
	if (!version) {
		add_note(v.note, sizeof(v.note), why);
	} else if (gp_go_offsets(version, &t) != 0) {
		add_note(v.note, sizeof(v.note), goprof_last_error());
	} else {
		gp_go_minor_version(version, &minor);
		v.go_minor = (uint32_t)minor;
		v.flags |= GOPROF_GO_SUPPORT_GOROUTINE_IDS;
		v.features |= RUNTIME_FEATURES;
		if (t.wait_chan_send && t.wait_chan_recv && t.hchan_lock)
			v.features |= GOPROF_FEATURE_CHANNELS;
		else
			add_note(v.note, sizeof(v.note), "channel wait reasons of this release unknown: no channel data");
		if (gp_go_http_layout(version, &lay) == 0)
			v.features |= GOPROF_FEATURE_HTTP;
		else
			add_note(v.note, sizeof(v.note), goprof_last_error());
	}
	if (!(v.flags & GOPROF_GO_SUPPORT_INLINE))
		add_note(v.note, sizeof(v.note), "inline trees not found: physical frames only");
	gp_err(0, "%s", saved);
	n = GP_MIN((size_t)out->sz, sizeof(v));
	memcpy(out, &v, n);
	out->sz = (uint32_t)n;
	return 0;
}
