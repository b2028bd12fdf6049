// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Per-endpoint HTTP latency (log-linear histograms) and CPU time. */
#include <stdlib.h>

#include "caps/http/http_tracker.h"

/* Log-linear buckets: values below 32 exactly, above with 5 bits of mantissa (1/32). */
#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define NR_BUCKETS ((64 - SUB_BITS + 1) * SUB)
#define MAX_ENDPOINTS 1024 /* per kind; beyond, paths count as "(other)" */
#define HASH_SIZE 4096

struct endpoint {
	struct endpoint *next; /* hash chain */
	uint32_t kind, flags;
	char method[GP_HTTP_METHOD_LEN];
	char path[GP_HTTP_PATH_LEN];
	char host[GP_HTTP_HOST_LEN];
	uint64_t count, errors, total_ns, max_ns, cpu_samples;
	uint32_t *hist; /* NR_BUCKETS, allocated with the first request */
};

struct gp_http_tracker {
	unsigned freq_hz;
	struct endpoint *hash[HASH_SIZE];
	uint32_t nr_endpoints[2];
	uint64_t requests[2];
	struct gp_http_event cur; /* the record being delivered: the ring buffer is read-only */
};

static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> (e - SUB_BITS)) - SUB);
}

/* Largest value of bucket b. */
static uint64_t bucket_upper(unsigned b)
{
	unsigned e, shift;

	if (b < SUB)
		return b;
	e = b / SUB + SUB_BITS - 1;
	shift = e - SUB_BITS;
	return (((uint64_t)(SUB + b % SUB) << shift) + ((uint64_t)1 << shift)) - 1;
}

struct gp_http_tracker *gp_http_tracker_new(unsigned freq_hz)
{
	struct gp_http_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->freq_hz = freq_hz ? freq_hz : 99;
	return t;
}

void gp_http_tracker_free(struct gp_http_tracker *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < HASH_SIZE; i++)
		for (struct endpoint *e = t->hash[i], *next; e; e = next) {
			next = e->next;
			free(e->hist);
			free(e);
		}
	free(t);
}

static uint32_t hash_str(uint32_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u; /* FNV-1a */
	return h;
}

/* The endpoint for (kind, method, path, host), created if there is room. */
static struct endpoint *endpoint_of(struct gp_http_tracker *t, uint32_t kind, const char *method,
				    const char *path, const char *host)
{
	uint32_t h = hash_str(hash_str(hash_str(2166136261u ^ kind, method), path), host) % HASH_SIZE;
	struct endpoint *e;

	for (e = t->hash[h]; e; e = e->next)
		if (e->kind == kind && !strcmp(e->method, method) && !strcmp(e->path, path) &&
		    !strcmp(e->host, host))
			return e;
	if (t->nr_endpoints[kind] >= MAX_ENDPOINTS) {
		if (!strcmp(path, "(other)") && !method[0] && !host[0])
			return NULL; /* no room left even for the overflow endpoint */
		return endpoint_of(t, kind, "", "(other)", "");
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->kind = kind;
	gp_strlcpy(e->method, method, sizeof(e->method));
	gp_strlcpy(e->path, path, sizeof(e->path));
	gp_strlcpy(e->host, host, sizeof(e->host));
	e->next = t->hash[h];
	t->hash[h] = e;
	t->nr_endpoints[kind]++;
	return e;
}

/* Copies a bounded, NUL-terminated string of the record; returns the bytes kept. */
static uint32_t record_string(char *buf, size_t cap, uint32_t full_len)
{
	size_t n;

	buf[cap - 1] = '\0';
	n = GP_MIN((size_t)full_len, cap - 1);
	buf[n] = '\0';
	return (uint32_t)n;
}

int gp_http_tracker_record(struct gp_http_tracker *t, const struct gp_http_event *ev,
			   struct goprof_http_request *req, struct goprof_event *event)
{
	struct gp_http_event *e = &t->cur;
	uint32_t kind = ev->type == GP_REC_HTTP_CLIENT ? GOPROF_HTTP_CLIENT : GOPROF_HTTP_SERVER;
	struct endpoint *ep;

	t->cur = *ev;
	ev = e;
	memset(req, 0, sizeof(*req));
	req->sz = sizeof(*req);
	req->flags = ev->a.flags & GP_HTTP_F_PUBLIC; /* equal to GOPROF_HTTP_* */
	req->start_ns = ev->a.start_ns;
	req->duration_ns = ev->end_ns > ev->a.start_ns ? ev->end_ns - ev->a.start_ns : 0;
	req->content_length = ev->a.content_length;
	req->response_bytes = ev->response_bytes;
	req->status = ev->status;
	req->method_bytes = record_string(e->a.method, sizeof(e->a.method), ev->a.method_len);
	req->path_bytes = record_string(e->a.path, sizeof(e->a.path), ev->a.path_len);
	req->host_bytes = record_string(e->a.host, sizeof(e->a.host), ev->a.host_len);
	req->method_len = ev->a.method_len;
	req->path_len = ev->a.path_len;
	req->host_len = ev->a.host_len;
	if (kind == GOPROF_HTTP_CLIENT && !ev->a.method_len) {
		strcpy(e->a.method, "GET"); /* net/http: "" means GET */
		req->method_bytes = req->method_len = 3;
	}
	if (req->method_len > req->method_bytes)
		req->flags |= GOPROF_HTTP_METHOD_TRUNCATED;
	if (req->path_len > req->path_bytes)
		req->flags |= GOPROF_HTTP_PATH_TRUNCATED;
	if (req->host_len > req->host_bytes)
		req->flags |= GOPROF_HTTP_HOST_TRUNCATED;
	req->method = ev->a.method;
	req->path = ev->a.path;
	req->host = ev->a.host;

	memset(event, 0, sizeof(*event));
	event->sz = sizeof(*event);
	event->type = kind == GOPROF_HTTP_CLIENT ? GOPROF_EVENT_HTTP_CLIENT_REQUEST
						 : GOPROF_EVENT_HTTP_REQUEST;
	event->pid = ev->pid;
	event->tid = ev->tid;
	event->time_ns = ev->end_ns;
	event->goid = ev->goid;
	event->http = req;

	t->requests[kind]++;
	ep = endpoint_of(t, kind, req->method, req->path, kind == GOPROF_HTTP_CLIENT ? req->host : "");
	if (ep && !ep->hist)
		ep->hist = calloc(NR_BUCKETS, sizeof(*ep->hist));
	if (!ep || !ep->hist)
		return -ENOMEM;
	ep->flags |= req->flags & (GOPROF_HTTP_METHOD_TRUNCATED | GOPROF_HTTP_PATH_TRUNCATED |
				   GOPROF_HTTP_HOST_TRUNCATED);
	ep->count++;
	if (req->status >= 500 || (req->flags & GOPROF_HTTP_CLIENT_ERROR))
		ep->errors++;
	ep->total_ns += req->duration_ns;
	if (req->duration_ns > ep->max_ns)
		ep->max_ns = req->duration_ns;
	ep->hist[bucket_of(req->duration_ns)]++;
	return 0;
}

void gp_http_tracker_add_sample(struct gp_http_tracker *t, const struct gp_sample_event *ev)
{
	const char *method = NULL, *path = NULL;
	char m[GP_HTTP_METHOD_LEN], p[GP_HTTP_PATH_LEN];
	struct endpoint *ep;

	for (uint32_t i = 0; i < ev->nr_labels && i < GP_MAX_LABELS; i++) {
		if (!strncmp(ev->labels[i].key, "http.method", GP_LABEL_KEY_LEN))
			method = ev->labels[i].value;
		else if (!strncmp(ev->labels[i].key, "http.path", GP_LABEL_KEY_LEN))
			path = ev->labels[i].value;
	}
	if (!method || !path)
		return;
	gp_strlcpy(m, method, sizeof(m));
	gp_strlcpy(p, path, sizeof(p));
	ep = endpoint_of(t, GOPROF_HTTP_SERVER, m, p, "");
	if (ep)
		ep->cpu_samples++;
}

uint64_t gp_http_tracker_requests(const struct gp_http_tracker *t, uint32_t kind)
{
	return kind < 2 ? t->requests[kind] : 0;
}

static uint64_t percentile(const struct endpoint *e, double p)
{
	uint64_t want = (uint64_t)(p * (double)e->count + 0.999999), seen = 0;

	if (!e->hist || !e->count)
		return 0;
	if (!want)
		want = 1;
	for (unsigned b = 0; b < NR_BUCKETS; b++) {
		seen += e->hist[b];
		if (seen >= want)
			return GP_MIN(bucket_upper(b), e->max_ns);
	}
	return e->max_ns;
}

static int by_kind_then_count(const void *a, const void *b)
{
	const struct endpoint *x = *(struct endpoint *const *)a, *y = *(struct endpoint *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->cpu_samples != y->cpu_samples)
		return x->cpu_samples > y->cpu_samples ? -1 : 1;
	return strcmp(x->path, y->path);
}

int gp_http_tracker_foreach(struct gp_http_tracker *t, goprof_http_endpoint_fn fn, void *ctx)
{
	size_t n = 0, total = t->nr_endpoints[0] + t->nr_endpoints[1];
	struct endpoint **all = calloc(total ? total : 1, sizeof(*all));
	int ret = 0;

	if (!all)
		return gp_err(-ENOMEM, "out of memory");
	for (size_t i = 0; i < HASH_SIZE; i++)
		for (struct endpoint *e = t->hash[i]; e && n < total; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof(*all), by_kind_then_count);
	for (size_t i = 0; i < n && !ret; i++) {
		const struct endpoint *e = all[i];
		struct goprof_http_endpoint out = {
			.sz = sizeof(out),
			.kind = e->kind,
			.method = e->method,
			.path = e->path,
			.host = e->host,
			.flags = e->flags,
			.count = e->count,
			.errors = e->errors,
			.total_ns = e->total_ns,
			.p50_ns = percentile(e, 0.50),
			.p90_ns = percentile(e, 0.90),
			.p99_ns = percentile(e, 0.99),
			.max_ns = e->max_ns,
			.cpu_samples = e->cpu_samples,
			.cpu_ns = e->cpu_samples * (1000000000ull / t->freq_hz),
		};

		ret = fn(&out, ctx);
	}
	free(all);
	return ret;
}
