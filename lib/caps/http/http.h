/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Go net/http requests (GOPROF_FEATURE_HTTP from uprobes, GOPROF_FEATURE_HTTP_WIRE from
 * the wire): the endpoint table both tracers feed, request events, latency and CPU per
 * endpoint. The uprobes are placed by lib/go/go_probes.c (lib/caps/http/http_probes.c); the wire
 * tracer is the http_wire capability, which hands its decoded requests here.
 */
#ifndef GOPROF_CAPS_HTTP_H
#define GOPROF_CAPS_HTTP_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_http;

/* One finished request of session s, in the records' form: into the endpoint table and
 * out as an event. Returns the event callback's result. */
GOPROF_HIDDEN int gp_http_request(struct goprof_session *s, const struct gp_http_event *ev);

#endif
