// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record --http: one JSON line per request in events.jsonl, and the endpoint
 * table (latency percentiles and CPU time per method and path) in the summary.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

/*
 * For the terminal: printable ASCII, the rest as \xNN, in exactly width columns ("~" at
 * the end when cut, or when the library had already cut it).
 */
static void print_bytes(const char *s, int width, bool truncated)
{
	char cell[8];
	int n = 0, len;

	for (; *s; s++, n += len) {
		unsigned char c = (unsigned char)*s;

		len = snprintf(cell, sizeof(cell), c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
		if (n + len > width - 1 && (s[1] || n + len > width)) {
			truncated = true;
			break;
		}
		fputs(cell, stdout);
	}
	if (truncated && n < width) {
		putchar('~');
		n++;
	}
	for (; n < width; n++)
		putchar(' ');
}

int http_event_jsonl(const struct goprof_event *e, FILE *out)
{
	const struct goprof_http_request *r = e->http;

	if (!out || !r)
		return 0;
	jsonl_begin(out, e->type == GOPROF_EVENT_HTTP_REQUEST ? "http_request" : "http_client_request",
		    e->pid, e->time_ns);
	fprintf(out, ",\"goid\":%llu,\"start_ns\":%llu,\"duration_ns\":%llu,\"method\":",
		(unsigned long long)e->goid, (unsigned long long)r->start_ns,
		(unsigned long long)r->duration_ns);
	json_bytes(out, r->method, r->method_bytes);
	fprintf(out, ",\"path\":");
	json_bytes(out, r->path, r->path_bytes);
	if (r->host_bytes) {
		fprintf(out, ",\"host\":");
		json_bytes(out, r->host, r->host_bytes);
	}
	fprintf(out, ",\"status\":%u,\"content_length\":%lld", r->status,
		(long long)r->content_length);
	if (r->response_bytes >= 0)
		fprintf(out, ",\"response_bytes\":%lld", (long long)r->response_bytes);
	if (r->flags & (GOPROF_HTTP_METHOD_TRUNCATED | GOPROF_HTTP_PATH_TRUNCATED |
			GOPROF_HTTP_HOST_TRUNCATED))
		fprintf(out, ",\"truncated\":true,\"method_len\":%u,\"path_len\":%u,\"host_len\":%u",
			r->method_len, r->path_len, r->host_len);
	if (r->flags & GOPROF_HTTP_IMPLICIT_200)
		fprintf(out, ",\"implicit_status\":true");
	if (r->flags & GOPROF_HTTP_HIJACKED)
		fprintf(out, ",\"unsupported\":\"hijacked connection: status unknown\"");
	else if (r->flags & GOPROF_HTTP_NOT_HTTP1)
		fprintf(out, ",\"unsupported\":\"not a net/http response writer: status unknown\"");
	if (r->flags & GOPROF_HTTP_HTTP2)
		fprintf(out, ",\"proto\":\"HTTP/2\"");
	if (r->flags & GOPROF_HTTP_CLIENT_ERROR)
		fprintf(out, ",\"error\":true");
	fprintf(out, "}\n");
	return 0;
}

#define HOST_PATH_LEN 160

struct endpoint_print {
	uint32_t kind;
	unsigned rows;
	uint64_t cpu_ns;
};

static int print_endpoint(const struct goprof_http_endpoint *e, void *ctx)
{
	struct endpoint_print *p = ctx;

	if (e->kind != p->kind)
		return 0;
	if (p->rows++ == 30) {
		printf("  ... more endpoints in the API (goprof_session_foreach_http_endpoint)\n");
		return 0;
	}
	if (p->rows > 30)
		return 0;
	printf("  %-8.8s ", e->method);
	if (e->kind == GOPROF_HTTP_CLIENT) {
		char where[HOST_PATH_LEN];

		snprintf(where, sizeof(where), "%s %s", e->host, e->path);
		print_bytes(where, 33, e->flags & GOPROF_HTTP_PATH_TRUNCATED);
	} else {
		print_bytes(e->path, 33, e->flags & GOPROF_HTTP_PATH_TRUNCATED);
	}
	printf(" %8llu %6llu %9.2f %9.2f %9.2f %9.2f",
	       (unsigned long long)e->count, (unsigned long long)e->errors, e->p50_ns / 1e6,
	       e->p90_ns / 1e6, e->p99_ns / 1e6, e->max_ns / 1e6);
	if (e->kind == GOPROF_HTTP_SERVER)
		printf(" %10.3f", e->cpu_ns / 1e9);
	putchar('\n');
	p->cpu_ns += e->cpu_ns;
	return 0;
}

int write_http_report(struct goprof_session *s)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct endpoint_print p = { .kind = GOPROF_HTTP_SERVER };

	if (goprof_session_stats(s, &st))
		return -1;
	printf("\nHTTP server requests: %llu traced, %llu lost (ring buffer full), %llu unfinished "
	       "(never answered)\n", (unsigned long long)st.http_requests,
	       (unsigned long long)st.lost_http, (unsigned long long)st.lost_http_unfinished);
	printf("  %-8s %-33s %8s %6s %9s %9s %9s %9s %10s\n", "METHOD", "PATH", "COUNT", "5XX",
	       "P50 ms", "P90 ms", "P99 ms", "MAX ms", "CPU s");
	if (goprof_session_foreach_http_endpoint(s, print_endpoint, &p) < 0) {
		fprintf(stderr, "goprof record: %s\n", goprof_last_error());
		return -1;
	}
	if (p.cpu_ns)
		printf("  (CPU s: samples taken while a goroutine served the endpoint; cpu.pb.gz "
		       "carries them as labels: go tool pprof -tagfocus http.path=/PATH cpu.pb.gz)\n");
	if (st.http_client_requests) {
		p = (struct endpoint_print){ .kind = GOPROF_HTTP_CLIENT };
		printf("HTTP client requests: %llu traced\n", (unsigned long long)st.http_client_requests);
		printf("  %-8s %-33s %8s %6s %9s %9s %9s %9s\n", "METHOD", "HOST PATH", "COUNT", "ERR",
		       "P50 ms", "P90 ms", "P99 ms", "MAX ms");
		goprof_session_foreach_http_endpoint(s, print_endpoint, &p);
	}
	return 0;
}
