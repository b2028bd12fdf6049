/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * HTTP requests (GOPROF_FEATURE_HTTP) in user space: turns ring records into the public
 * goprof_http_request, and keeps per endpoint (kind, method, path, host) the request
 * count, a latency histogram and the CPU samples labelled with the endpoint.
 */
#ifndef GOPROF_HTTP_TRACKER_H
#define GOPROF_HTTP_TRACKER_H

#include "goprof/session.h"
#include "goprof_bpf.h"
#include "internal.h"

struct gp_http_tracker;

GOPROF_HIDDEN struct gp_http_tracker *gp_http_tracker_new(unsigned freq_hz);
GOPROF_HIDDEN void gp_http_tracker_free(struct gp_http_tracker *t);

/*
 * Counts a finished request and fills *req (its strings stay valid until the next call)
 * and *event
 * (GOPROF_EVENT_HTTP_REQUEST / _CLIENT_REQUEST pointing at req). Returns 0 or -ENOMEM
 * (the request is in the event but not in the endpoint table).
 */
GOPROF_HIDDEN int gp_http_tracker_record(struct gp_http_tracker *t, const struct gp_http_event *ev,
					 struct goprof_http_request *req, struct goprof_event *event);

/* Adds a CPU sample to the endpoint named by its http.method/http.path labels, if any. */
GOPROF_HIDDEN void gp_http_tracker_add_sample(struct gp_http_tracker *t,
					      const struct gp_sample_event *ev);

/* Requests counted so far per kind (GOPROF_HTTP_SERVER, GOPROF_HTTP_CLIENT). */
GOPROF_HIDDEN uint64_t gp_http_tracker_requests(const struct gp_http_tracker *t, uint32_t kind);

GOPROF_HIDDEN int gp_http_tracker_foreach(struct gp_http_tracker *t, goprof_http_endpoint_fn fn,
					  void *ctx);

#endif
