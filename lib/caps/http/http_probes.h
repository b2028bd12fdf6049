/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The net/http probes (GOPROF_FEATURE_HTTP): loads lib/caps/http/go_http.bpf.c sharing the
 * session's targets, ring buffer, loss counters and the http_active map the CPU sampler
 * reads, and installs its uprobes on each Go executable where go_probes says (the
 * place is tagged with probe set GP_SET_HTTP, so the overhead budget covers them).
 */
#ifndef GOPROF_HTTP_PROBES_H
#define GOPROF_HTTP_PROBES_H

#include "internal.h"

struct bpf_map;
struct goprof_binary;
struct gp_uprobe_place;
struct gp_http_probes;

/* multi: load the programs for uprobe_multi links, as go_probes does on this kernel. */
/* With the session's shared maps (targets, samples, lost, http_active). */
struct gp_shared_maps;
GOPROF_HIDDEN struct gp_http_probes *gp_http_probes_new(const struct gp_shared_maps *shared,
							bool multi);
GOPROF_HIDDEN void gp_http_probes_free(struct gp_http_probes *hp);

/*
 * Installs the server probes (net/http.serverHandler.ServeHTTP entry and RETs) and the
 * client probes ((*Client).do entry and RETs), whichever the binary has. Returns 0, or
 * a negative error with a message: -ENOENT (no net/http server or client in the
 * binary), -GOPROF_ERRNO_GO_VERSION (offsets of this release unknown), attach errors.
 */
GOPROF_HIDDEN int gp_http_probes_attach_exe(struct gp_http_probes *hp,
					    const struct gp_uprobe_place *at,
					    struct goprof_binary *bin, const char *path);

/* Makes every HTTP probe return at once and forgets the requests in flight (called
 * before the budget unhooks them, which takes a while). */
GOPROF_HIDDEN void gp_http_probes_disable(struct gp_http_probes *hp);

/* Hits of all HTTP probes summed over CPUs. */
GOPROF_HIDDEN uint64_t gp_http_probes_hits(struct gp_http_probes *hp);

#endif
