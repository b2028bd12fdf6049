/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * HTTP server requests in flight per goroutine, the table the CPU sampler labels samples
 * from. bpf/cpu_sample.bpf.c creates it (sized down by the loader when no HTTP feature is
 * on); the two HTTP tracers (go_http.bpf.c, http_wire.bpf.c) reuse its descriptor, so the
 * declaration lives here once.
 */
#ifndef GOPROF_HTTP_ACTIVE_BPF_H
#define GOPROF_HTTP_ACTIVE_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_HTTP_MAX_ACTIVE);
	__type(key, struct gp_goroutine_key);
	__type(value, struct gp_http_active);
} http_active SEC(".maps");

#endif
