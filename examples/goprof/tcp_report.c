// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record --tcp: TCP connect/accept/close events into events.jsonl as they arrive,
 * and at the end a table of the traffic per process and peer (also in events.jsonl).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/goprof.h>

#include "report.h"

#define MAX_PEER_ROWS 20

/* "127.0.0.1:80" or "[::1]:80". */
static void format_endpoint(char *buf, size_t len, uint16_t family, const uint8_t *addr,
			    uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == GOPROF_TCP_IPV6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	snprintf(buf, len, family == GOPROF_TCP_IPV6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static const char *tcp_event_name(uint32_t type)
{
	return type == GOPROF_EVENT_TCP_CONNECT ? "tcp_connect" :
	       type == GOPROF_EVENT_TCP_ACCEPT ? "tcp_accept" : "tcp_close";
}

bool is_tcp_event(const struct goprof_event *e)
{
	return e->type >= GOPROF_EVENT_TCP_CONNECT && e->type <= GOPROF_EVENT_TCP_CLOSE &&
	       e->sz >= offsetof(struct goprof_event, tcp_srtt_us) + sizeof(e->tcp_srtt_us);
}

int write_tcp_event(FILE *out, const struct goprof_event *e)
{
	char local[64], remote[64];
	const char *err = e->tcp_error ? strerrorname_np(e->tcp_error) : NULL;

	if (!out)
		return 0;
	format_endpoint(local, sizeof(local), e->tcp_family, e->tcp_local_addr, e->tcp_local_port);
	format_endpoint(remote, sizeof(remote), e->tcp_family, e->tcp_remote_addr, e->tcp_remote_port);
	jsonl_begin(out, tcp_event_name(e->type), e->pid, e->time_ns);
	fprintf(out, ",\"time_ns\":%llu,\"tid\":%u,\"goid\":%llu,"
		"\"conn_id\":%llu,\"local\":\"%s\",\"remote\":\"%s\",\"accepted\":%s",
		(unsigned long long)e->time_ns, e->tid, (unsigned long long)e->goid, (unsigned long long)e->tcp_conn_id, local, remote,
		e->tcp_flags & GOPROF_TCP_ACCEPTED ? "true" : "false");
	if (e->tcp_error)
		fprintf(out, ",\"error\":\"%s\"", err ? err : "unknown");
	if (e->type == GOPROF_EVENT_TCP_CONNECT && !e->tcp_error)
		fprintf(out, ",\"handshake_ns\":%llu", (unsigned long long)e->tcp_handshake_ns);
	if (e->type == GOPROF_EVENT_TCP_CLOSE)
		fprintf(out, ",\"duration_ns\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,"
			"\"reset_received\":%s,\"reset_sent\":%s",
			(unsigned long long)e->tcp_duration_ns, (unsigned long long)e->tcp_bytes_sent,
			(unsigned long long)e->tcp_bytes_received,
			e->tcp_flags & GOPROF_TCP_RESET_RECEIVED ? "true" : "false",
			e->tcp_flags & GOPROF_TCP_RESET_SENT ? "true" : "false");
	fprintf(out, ",\"retransmits\":%u,\"srtt_us\":%u}\n", e->tcp_retransmits, e->tcp_srtt_us);
	return 0;
}

struct peer_rows {
	struct goprof_tcp_peer *rows;
	size_t n, cap;
};

static int collect_peer(const struct goprof_tcp_peer *p, void *ctx)
{
	struct peer_rows *t = ctx;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct goprof_tcp_peer *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -1;
		t->rows = rows;
		t->cap = cap;
	}
	t->rows[t->n++] = *p;
	return 0;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct goprof_tcp_peer *x = a, *y = b;
	uint64_t bx = x->bytes_sent + x->bytes_received, by = y->bytes_sent + y->bytes_received;

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->connections < y->connections ? 1 : x->connections > y->connections ? -1 : 0;
}

int write_tcp_report(struct goprof_session *s, FILE *jsonl)
{
	struct peer_rows t = { 0 };
	struct goprof_session_stats st = { .sz = sizeof(st) };

	if (goprof_session_foreach_tcp_peer(s, collect_peer, &t) ||
	    goprof_session_stats(s, &st)) {
		fprintf(stderr, "goprof record: TCP peers: %s\n", goprof_last_error());
		free(t.rows);
		return -1;
	}
	if (t.n) /* qsort(NULL, 0, ...) is undefined */
		qsort(t.rows, t.n, sizeof(*t.rows), by_bytes_desc);
	printf("\nTCP: %llu events, %llu lost (ring buffer full), %llu sockets untracked (table "
	       "full); %zu peers; the kernel hooks ran %llu times (all processes)\n",
	       (unsigned long long)st.tcp_events, (unsigned long long)st.lost_tcp_events,
	       (unsigned long long)st.lost_tcp_untracked, t.n, (unsigned long long)st.tcp_hook_runs);
	if (t.n)
		printf("%8s %-8s %-44s %6s %6s %6s %12s %12s %7s %11s %11s\n", "PID", "DIR", "PEER",
		       "CONNS", "FAILED", "RESETS", "SENT", "RECEIVED", "RETRANS", "HANDSHAKE", "HS MAX");
	for (size_t i = 0; i < t.n; i++) {
		const struct goprof_tcp_peer *p = &t.rows[i];
		bool in = p->flags & GOPROF_TCP_ACCEPTED;
		char peer[64];
		uint64_t hs_avg = !in && p->connections ? p->handshake_total_ns / p->connections : 0;

		/* Accepted: the remote address and our listening port. */
		format_endpoint(peer, sizeof(peer), p->family, p->addr, p->port);
		if (i < MAX_PEER_ROWS && in)
			printf("%8u %-8s %-44s %6llu %6s %6llu %12llu %12llu %7llu %11s %11s\n",
			       p->pid, "accepted", peer, (unsigned long long)p->connections, "-",
			       (unsigned long long)p->resets, (unsigned long long)p->bytes_sent,
			       (unsigned long long)p->bytes_received, (unsigned long long)p->retransmits,
			       "-", "-");
		else if (i < MAX_PEER_ROWS)
			printf("%8u %-8s %-44s %6llu %6llu %6llu %12llu %12llu %7llu %8.1f us %8.1f us\n",
			       p->pid, "outgoing", peer, (unsigned long long)p->connections,
			       (unsigned long long)p->failed, (unsigned long long)p->resets,
			       (unsigned long long)p->bytes_sent, (unsigned long long)p->bytes_received,
			       (unsigned long long)p->retransmits, hs_avg / 1e3, p->handshake_max_ns / 1e3);
		if (jsonl)
			jsonl_begin(jsonl, "tcp_peer", p->pid, 0);
		if (jsonl)
			fprintf(jsonl, ",\"direction\":\"%s\","
				"\"peer\":\"%s\",\"connections\":%llu,\"failed\":%llu,\"closed\":%llu,"
				"\"resets\":%llu,\"errors\":%llu,\"bytes_sent\":%llu,"
				"\"bytes_received\":%llu,\"retransmits\":%llu,\"handshake_avg_ns\":%llu,"
				"\"handshake_max_ns\":%llu,\"duration_total_ns\":%llu}\n",
				in ? "accepted" : "outgoing", peer, (unsigned long long)p->connections,
				(unsigned long long)p->failed, (unsigned long long)p->closed,
				(unsigned long long)p->resets, (unsigned long long)p->errors,
				(unsigned long long)p->bytes_sent, (unsigned long long)p->bytes_received,
				(unsigned long long)p->retransmits, (unsigned long long)hs_avg,
				(unsigned long long)p->handshake_max_ns,
				(unsigned long long)p->duration_total_ns);
	}
	if (t.n)
		printf("(accepted: the remote address and the local port; bytes of closed connections; "
		       "handshake: average and longest of the outgoing ones)\n");
	if (t.n > MAX_PEER_ROWS)
		printf("... %zu more peers in events.jsonl\n", t.n - MAX_PEER_ROWS);
	free(t.rows);
	return 0;
}
