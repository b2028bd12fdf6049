// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading the net/http probes and installing them per executable. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>

#include "go/go_version.h"
#include "core/bpf_load.h"
#include "core/bpf_maps.h"
#include "go/go_func_sites.h"
#include "go_http.skel.h"
#include "go/go_offsets.h"
#include "core/uprobe_links.h"
#include "goprof/error.h"
#include "goprof/symbolizer.h"
#include "caps/http/http_probes.h"

struct gp_http_probes {
	struct go_http_bpf *skel;
};

#define SERVE_FN "net/http.serverHandler.ServeHTTP"
#define CLIENT_FN "net/http.(*Client).do"
/* The deferred function of (*conn).serve (the one that recovers a handler's panic). */
#define CONN_DONE_FN "net/http.(*conn).serve.func1"

struct gp_http_probes *gp_http_probes_new(const struct gp_shared_maps *shared, bool multi)
{
	struct gp_http_probes *hp = calloc(1, sizeof(*hp));
	int err;

	if (!hp)
		return gp_err_null(-ENOMEM, "out of memory");
	hp->skel = go_http_bpf__open();
	if (!hp->skel) {
		err = -errno;
		free(hp);
		return gp_err_null(err, "opening the embedded net/http BPF object failed");
	}
	err = gp_bpf_share_maps(hp->skel->obj, shared);
	if (!err && multi)
		err = gp_uprobe_programs_multi(hp->skel->obj);
	if (!err)
		err = go_http_bpf__load(hp->skel);
	if (err) {
		gp_http_probes_free(hp);
		return gp_fail_null(gp_bpf_load_failed(err, "the net/http probes"));
	}
	return hp;
}

void gp_http_probes_free(struct gp_http_probes *hp)
{
	if (!hp)
		return;
	go_http_bpf__destroy(hp->skel);
	free(hp);
}

/* Whether the binary has function fn (the last error is kept). */
static bool has_function(struct goprof_binary *bin, const char *fn)
{
	struct gp_func_sites sites;
	char saved[256];
	bool found;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	found = gp_go_func_sites(bin, fn, false, &sites) == 0;
	gp_err(0, "%s", saved);
	return found;
}

/* fn's entry and its RETs. */
static int attach_pair(const struct gp_uprobe_place *at, struct goprof_binary *bin, const char *path,
		       const char *fn, struct bpf_program *entry, struct bpf_program *ret)
{
	int err = gp_uprobe_attach_function(at, bin, path, fn, false, entry, 0);

	return err ? err : gp_uprobe_attach_function(at, bin, path, fn, true, ret, 0);
}

int gp_http_probes_attach_exe(struct gp_http_probes *hp, const struct gp_uprobe_place *at,
			      struct goprof_binary *bin, const char *path)
{
	const char *version = goprof_binary_go_version(bin);
	bool server = has_function(bin, SERVE_FN), client = has_function(bin, CLIENT_FN);
	struct gp_http_layout lay;
	__u32 minor;
	int err = 0, m;

	if (!server && !client)
		return gp_err(-ENOENT, "%s: no net/http server or client in this binary (%s and "
			      "%s are missing)", path, SERVE_FN, CLIENT_FN);
	err = gp_go_http_layout(version, &lay);
	if (err)
		return err;
	gp_go_minor_version(version, &m);
	minor = (__u32)m;
	if (minor >= GP_HTTP_MAX_LAYOUTS)
		return gp_err(-GOPROF_ERRNO_GO_VERSION, "%s: Go release %s out of range", path, version);
	err = bpf_map__update_elem(hp->skel->maps.layouts, &minor, sizeof(minor), &lay, sizeof(lay), 0);
	if (err)
		return gp_err(err, "storing the net/http layout failed: %s", strerror(-err));
	/* The layout is found by the target's go_minor: no attach cookie (those need 5.15). */
	if (server)
		err = attach_pair(at, bin, path, SERVE_FN, hp->skel->progs.go_http_serve,
				  hp->skel->progs.go_http_serve_ret);
	if (!err && server)
		err = gp_uprobe_attach_function(at, bin, path, CONN_DONE_FN, false,
						hp->skel->progs.go_http_conn_done, 0);
	if (!err && client)
		err = attach_pair(at, bin, path, CLIENT_FN, hp->skel->progs.go_http_client,
				  hp->skel->progs.go_http_client_ret);
	return err;
}

uint64_t gp_http_probes_hits(struct gp_http_probes *hp)
{
	uint64_t total = 0;

	for (__u32 p = 0; p < GP_HTTP_PROBE_NR; p++)
		total += gp_map_sum_percpu(hp->skel->maps.http_hits, p);
	return total;
}

void gp_http_probes_disable(struct gp_http_probes *hp)
{
	hp->skel->bss->disabled = true;
	/* Requests in flight will never end: without this their goroutines' CPU samples
	 * would keep their labels. */
	gp_map_clear(hp->skel->maps.http_active);
}
