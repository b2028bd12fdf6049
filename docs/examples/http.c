// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The net/http requests of a Go process as they finish, then latency and CPU time per
 * endpoint.
 *
 * usage: http PID SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <goprof/goprof.h>

static int on_event(const struct goprof_event *ev, void *ctx)
{
	unsigned *printed = ctx;
	const struct goprof_http_request *r = ev->http;

	if (ev->type == GOPROF_EVENT_PROBE_DETACHED) /* the overhead budget stepped in */
		fprintf(stderr, "http: %s\n", ev->message);
	if (ev->type != GOPROF_EVENT_HTTP_REQUEST || ++*printed > 5)
		return 0; /* print the first server requests only */
	/* A path may hold any byte (it is decoded): %.*s with path_bytes, printed as is here. */
	printf("goroutine %llu: %s %.*s -> %u, %lld B in %.3f ms\n", (unsigned long long)ev->goid,
	       r->method, (int)r->path_bytes, r->path, r->status, (long long)r->response_bytes,
	       r->duration_ns / 1e6);
	return 0;
}

static int print_endpoint(const struct goprof_http_endpoint *e, void *ctx)
{
	unsigned long long *served = ctx;

	if (e->kind == GOPROF_HTTP_SERVER)
		*served += e->count;
	printf("%s %s %s%s: %llu requests, %llu errors, p50 %.3f ms, p99 %.3f ms, CPU %.1f ms\n",
	       e->kind == GOPROF_HTTP_SERVER ? "served" : "sent", e->method, e->host, e->path,
	       (unsigned long long)e->count, (unsigned long long)e->errors, e->p50_ns / 1e6,
	       e->p99_ns / 1e6, e->cpu_ns / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned printed = 0;
	unsigned long long served = 0;
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_HTTP,
		    .on_event = on_event, .ctx = &printed,
		    /* A test server on loopback: see every request. In production keep the
		     * default budget (1%), which detaches the probes from busy servers. */
		    .overhead_budget_bp = 10000);
	struct goprof_session *s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0 ||
	    goprof_session_start(s) < 0) { /* start: CPU samples, labelled http.method/http.path */
		fprintf(stderr, "http: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	for (time_t end = time(NULL) + atoi(argv[2]); time(NULL) < end;)
		goprof_session_poll(s, 100); /* on_event runs from here */
	goprof_session_foreach_http_endpoint(s, print_endpoint, &served);
	goprof_session_free(s);
	return served ? 0 : 1;
}
