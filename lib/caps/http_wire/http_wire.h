/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * HTTP/1 from the wire (GOPROF_FEATURE_HTTP_WIRE): loads lib/caps/http_wire/http_wire.bpf.c, sharing
 * the session's targets, ring buffer, loss counters and the http_active map the CPU
 * sampler labels samples from; and turns its records into the records of the uprobe
 * tracer, so that both feed one http_tracker.
 */
#ifndef GOPROF_CAPS_HTTP_WIRE_H
#define GOPROF_CAPS_HTTP_WIRE_H

#include "core/capability.h"
#include "caps/http_wire/http_wire_records.h"
#include "internal.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_http_wire;

struct bpf_map;
struct gp_http_wire;

/*
 * Loads and attaches the hooks: the socket tracepoints where the kernel has them (Linux
 * 6.3+), else the syscall tracepoints. only_hooks ("sockets" or "syscalls"; NULL: the
 * best there is) forces one flavour, for tests and troubleshooting.
 */
struct gp_shared_maps;
GOPROF_HIDDEN struct gp_http_wire *gp_http_wire_new(const struct gp_shared_maps *shared,
						    const char *only_hooks);
GOPROF_HIDDEN void gp_http_wire_free(struct gp_http_wire *w);

/* Runs of the hooks in attached processes (every read, write and close they make). */
GOPROF_HIDDEN uint64_t gp_http_wire_runs(struct gp_http_wire *w);

/*
 * The overhead budget, judged over windows of a second: the hooks' runs in the targets
 * times their estimated cost (GP_HTTP_WIRE_RUN_NS) against budget_bp of the targets'
 * CPU time in the window (target_cpu_ns: their total so far). Over it, the hooks are
 * detached, the requests in flight forgotten (no stale label stays on a goroutine), and
 * msg says why: returns true then, once.
 */
#define GP_HTTP_WIRE_RUN_NS 1000 /* 0.3-1.8 us per run measured on our 2-core VMs */
GOPROF_HIDDEN bool gp_http_wire_budget_check(struct gp_http_wire *w, uint64_t now_ns,
					     uint64_t target_cpu_ns, uint32_t budget_bp,
					     char *msg, size_t msg_len);

/* Whether the hooks are attached (the budget has not detached them). */
GOPROF_HIDDEN bool gp_http_wire_attached(const struct gp_http_wire *w);

/*
 * Decodes a GP_REC_HTTP_WIRE_SERVER/_CLIENT record of len bytes into *out, a
 * GP_REC_HTTP_SERVER/_CLIENT record: the content length and the client's host come from
 * the captured head. Returns 0, or -EINVAL for a record too short.
 */
GOPROF_HIDDEN int gp_http_wire_decode(const void *data, size_t len, struct gp_http_event *out);

#endif
