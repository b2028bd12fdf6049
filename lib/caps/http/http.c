// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The HTTP endpoint table as a capability, and its public function (see http.h). */
#include <errno.h>
#include <stdlib.h>

#include "caps/http/http.h"
#include "caps/http/http_tracker.h"
#include "goprof/error.h"
#include "goprof_bpf.h"

struct http_cap {
	const struct gp_host *host;
	struct gp_http_tracker *table;
	uint64_t lost_aggregation; /* requests the table could not take (out of memory) */
};

static void *create(const struct gp_host *h)
{
	struct http_cap *c = calloc(1, sizeof(*c));

	if (!c)
		return gp_err_null(-ENOMEM, "out of memory");
	c->host = h;
	c->table = gp_http_tracker_new(h->freq_hz);
	if (!c->table) {
		free(c);
		return gp_err_null(-ENOMEM, "out of memory");
	}
	return c;
}

static void destroy(void *cap)
{
	struct http_cap *c = cap;

	gp_http_tracker_free(c->table);
	free(c);
}

static int request(struct http_cap *c, const struct gp_http_event *ev)
{
	struct goprof_http_request req;
	struct goprof_event out;

	if (gp_http_tracker_record(c->table, ev, &req, &out))
		c->lost_aggregation++;
	return c->host->emit(c->host->session, &out);
}

/* A request the uprobes saw finish. */
static int take_record(void *cap, const void *rec, size_t len)
{
	return len >= sizeof(struct gp_http_event) ? request(cap, rec) : 0;
}

/* CPU per endpoint: a sample of a goroutine serving a request counts for its endpoint. */
static int sample(void *cap, const struct gp_sample_event *ev)
{
	struct http_cap *c = cap;

	gp_http_tracker_add_sample(c->table, ev);
	return 0;
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct http_cap *c = cap;

	st->http_requests = gp_http_tracker_requests(c->table, GOPROF_HTTP_SERVER);
	st->http_client_requests = gp_http_tracker_requests(c->table, GOPROF_HTTP_CLIENT);
	st->lost_http = lost[GP_LOST_HTTP_RINGBUF];
	st->lost_http_unfinished = lost[GP_LOST_HTTP_UNFINISHED];
	st->lost_aggregation += c->lost_aggregation;
}

const struct gp_cap_ops gp_cap_http = {
	.name = "http",
	.features = GOPROF_FEATURE_HTTP | GOPROF_FEATURE_HTTP_WIRE,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_HTTP_SERVER,
	.rec_last = GP_REC_HTTP_CLIENT,
	.take_record = take_record,
	.sample = sample,
	.fill_stats = fill_stats,
};

int gp_http_request(struct goprof_session *s, const struct gp_http_event *ev)
{
	struct http_cap *c = gp_session_cap(s, &gp_cap_http);

	return c ? request(c, ev) : 0;
}

GOPROF_API int goprof_session_foreach_http_endpoint(struct goprof_session *s,
						    goprof_http_endpoint_fn fn, void *ctx)
{
	struct http_cap *c;

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_http_endpoint: NULL argument");
	c = gp_session_cap(s, &gp_cap_http);
	if (!c)
		return gp_err(-EINVAL, "goprof_session_foreach_http_endpoint: the session was "
				       "created without GOPROF_FEATURE_HTTP or "
				       "GOPROF_FEATURE_HTTP_WIRE");
	return gp_http_tracker_foreach(c->table, fn, ctx);
}
