// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * TCP connections of a process as they open and close, then the traffic per peer.
 *
 * usage: tcp PID SECONDS
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

static const char *endpoint(uint16_t family, const uint8_t *addr, uint16_t port)
{
	static char buf[2][64];
	static int i;
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == GOPROF_TCP_IPV6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s:%u", ip, port);
	return buf[i];
}

static int on_event(const struct goprof_event *ev, void *ctx)
{
	const char *local = endpoint(ev->tcp_family, ev->tcp_local_addr, ev->tcp_local_port);
	const char *remote = endpoint(ev->tcp_family, ev->tcp_remote_addr, ev->tcp_remote_port);

	(void)ctx;
	if (ev->type == GOPROF_EVENT_TCP_CONNECT && ev->tcp_error)
		printf("pid %u goroutine %llu: connect %s failed: %s\n", ev->pid,
		       (unsigned long long)ev->goid, remote, strerror(ev->tcp_error));
	else if (ev->type == GOPROF_EVENT_TCP_CONNECT)
		printf("pid %u goroutine %llu: %s -> %s in %.1f us\n", ev->pid,
		       (unsigned long long)ev->goid, local, remote, ev->tcp_handshake_ns / 1e3);
	else if (ev->type == GOPROF_EVENT_TCP_ACCEPT)
		printf("pid %u goroutine %llu: accepted %s on %s\n", ev->pid,
		       (unsigned long long)ev->goid, remote, local);
	else if (ev->type == GOPROF_EVENT_TCP_CLOSE)
		printf("pid %u: %s - %s closed after %.3f ms: %llu B sent, %llu B received%s\n",
		       ev->pid, local, remote, ev->tcp_duration_ns / 1e6,
		       (unsigned long long)ev->tcp_bytes_sent,
		       (unsigned long long)ev->tcp_bytes_received,
		       ev->tcp_flags & (GOPROF_TCP_RESET_RECEIVED | GOPROF_TCP_RESET_SENT) ? ", reset" : "");
	return 0;
}

static int print_peer(const struct goprof_tcp_peer *p, void *ctx)
{
	(void)ctx;
	printf("%s %s: %llu connections, %llu failed, %llu B sent, %llu B received\n",
	       p->flags & GOPROF_TCP_ACCEPTED ? "from" : "to", endpoint(p->family, p->addr, p->port),
	       (unsigned long long)p->connections, (unsigned long long)p->failed,
	       (unsigned long long)p->bytes_sent, (unsigned long long)p->bytes_received);
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_TCP, .on_event = on_event);
	struct goprof_session *s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "tcp: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	for (int i = 0; i < 10 * atoi(argv[2]); i++)
		goprof_session_poll(s, 100); /* on_event runs from here */
	goprof_session_foreach_tcp_peer(s, print_peer, NULL);
	goprof_session_free(s);
	return 0;
}
