// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * TCP connection events against what the tcpconn fixture did itself: for every
 * connection it prints (IPv4 and IPv6 loopback, client and server in the same process)
 * there must be exactly one CONNECT and one CLOSE on the client side and one ACCEPT and
 * one CLOSE on the server side, with the fixture's ports and byte counts (what one side
 * sent is what the other received); the dial to a closed port is a failed CONNECT
 * (ECONNREFUSED) and the server's SO_LINGER 0 close a reset on both sides. The per-peer
 * summary must add up to the same numbers. With a tiny ring buffer, every event is
 * either delivered or counted as lost.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "test_common.h"

#define CONNS_PER_FAMILY 5
#define MAX_EVENTS 4096
#define MAX_CONNS 64

struct seen {
	struct goprof_event ev[MAX_EVENTS];
	size_t n;
};

static int on_event(const struct goprof_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (ev->type < GOPROF_EVENT_TCP_CONNECT || ev->type > GOPROF_EVENT_TCP_CLOSE)
		return 0;
	cr_assert_eq(ev->sz, sizeof(*ev));
	if (s->n < MAX_EVENTS)
		s->ev[s->n++] = *ev;
	return 0;
}

/* What the fixture says it did (client side view). */
struct conn_truth {
	int family;                  /* GOPROF_TCP_IPV4 / _IPV6 */
	unsigned client_port, server_port;
	uint64_t sent, received;     /* by the client */
	uint64_t dial_ns;            /* net.Dial's duration measured by the fixture; 0 if not */
	uint64_t dial_goid, accept_goid; /* the goroutines that dialed and accepted; 0 if not */
	bool reset;                  /* the server closed with SO_LINGER 0 */
	bool held;                   /* left open when the fixture exited */
};

struct truth {
	struct conn_truth conn[MAX_CONNS];
	size_t n;
	unsigned refused_port;
};

static bool parse_line(const char *line, struct truth *t)
{
	struct conn_truth *c = &t->conn[t->n];
	unsigned long long sent, received, dial_ns, dial_goid, accept_goid;
	int fam;

	if (sscanf(line, "conn %d %u %u %llu %llu %llu %llu %llu", &fam, &c->client_port,
		   &c->server_port, &sent, &received, &dial_ns, &dial_goid, &accept_goid) == 8) {
		c->family = fam == 6 ? GOPROF_TCP_IPV6 : GOPROF_TCP_IPV4;
		c->dial_ns = dial_ns;
		c->dial_goid = dial_goid;
		c->accept_goid = accept_goid;
		c->sent = sent;
		c->received = received;
		t->n++;
		return true;
	}
	if (sscanf(line, "held %d %u %u %llu %llu", &fam, &c->client_port, &c->server_port, &sent,
		   &received) == 5) {
		c->family = fam == 6 ? GOPROF_TCP_IPV6 : GOPROF_TCP_IPV4;
		c->sent = sent;
		c->received = received;
		c->held = true;
		t->n++;
		return true;
	}
	if (sscanf(line, "reset %d %u %u %llu", &fam, &c->client_port, &c->server_port, &sent) == 4) {
		c->family = fam == 6 ? GOPROF_TCP_IPV6 : GOPROF_TCP_IPV4;
		c->sent = sent;
		c->received = 0;
		c->reset = true;
		t->n++;
		return true;
	}
	return sscanf(line, "refused %d %u", &fam, &t->refused_port) == 2;
}

/* The one event of this type with these ports; fails the test if none or several. */
static const struct goprof_event *find_event(const struct seen *s, uint32_t type, int family,
					     unsigned local_port, unsigned remote_port)
{
	const struct goprof_event *found = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const struct goprof_event *e = &s->ev[i];

		if (e->type != type || e->tcp_family != family || e->tcp_local_port != local_port ||
		    e->tcp_remote_port != remote_port)
			continue;
		cr_assert_null(found, "two events of type %u for ports %u -> %u", type, local_port,
			       remote_port);
		found = e;
	}
	cr_assert_not_null(found, "no event of type %u for ports %u -> %u (family %d; %zu events)",
			   type, local_port, remote_port, family, s->n);
	return found;
}

static void expect_loopback(const struct goprof_event *e)
{
	static const uint8_t v6[16] = { [15] = 1 };
	uint8_t v4[16] = { 127, 0, 0, 1 };
	const uint8_t *want = e->tcp_family == GOPROF_TCP_IPV6 ? v6 : v4;

	cr_expect(!memcmp(e->tcp_local_addr, want, 16) && !memcmp(e->tcp_remote_addr, want, 16),
		  "event %u: addresses are not loopback (family %u)", e->type, e->tcp_family);
}

/* Connects and accepts come from threads of the fixture (checked while it runs). */
static void expect_own_threads(const struct seen *s, int pid)
{
	for (size_t i = 0; i < s->n; i++) {
		char path[64];

		if (s->ev[i].type == GOPROF_EVENT_TCP_CLOSE)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%u", pid, s->ev[i].tid);
		cr_expect(access(path, F_OK) == 0, "event %u: tid %u is not a thread of %d",
			  s->ev[i].type, s->ev[i].tid, pid);
	}
}

static void poll_until(struct goprof_session *s, const struct seen *seen, size_t n)
{
	double deadline = mono_seconds() + 10;

	while (seen->n < n && mono_seconds() < deadline)
		goprof_session_poll(s, 50);
}

/* The four events of one connection, checked against the fixture's account. */
static void check_connection(const struct seen *s, const struct conn_truth *c,
			     uint64_t *handshake_sum)
{
	const struct goprof_event *conn = find_event(s, GOPROF_EVENT_TCP_CONNECT, c->family,
						     c->client_port, c->server_port);
	const struct goprof_event *acc = find_event(s, GOPROF_EVENT_TCP_ACCEPT, c->family,
						    c->server_port, c->client_port);
	const struct goprof_event *cclose = find_event(s, GOPROF_EVENT_TCP_CLOSE, c->family,
						       c->client_port, c->server_port);
	const struct goprof_event *sclose = find_event(s, GOPROF_EVENT_TCP_CLOSE, c->family,
						       c->server_port, c->client_port);

	cr_expect_eq(conn->tcp_error, 0);
	cr_expect_gt(conn->tcp_handshake_ns, 0, "handshake latency 0");
	/* SYN_SENT and ESTABLISHED both happen inside the fixture's net.Dial. */
	if (c->dial_ns)
		cr_expect_leq(conn->tcp_handshake_ns, c->dial_ns, "handshake %llu ns, but net.Dial "
			      "took %llu ns", (unsigned long long)conn->tcp_handshake_ns,
			      (unsigned long long)c->dial_ns);
	cr_expect_eq(conn->tcp_flags, 0);
	cr_expect_eq(acc->tcp_flags, GOPROF_TCP_ACCEPTED);
	/* The goroutines the fixture says dialed and accepted (read in BPF from g.m.curg). */
	if (c->dial_goid)
		cr_expect(conn->goid == c->dial_goid && cclose->goid == c->dial_goid &&
			  acc->goid == c->accept_goid && sclose->goid == c->accept_goid,
			  "goroutines: connect %llu, accept %llu; the fixture says %llu and %llu",
			  (unsigned long long)conn->goid, (unsigned long long)acc->goid,
			  (unsigned long long)c->dial_goid, (unsigned long long)c->accept_goid);
	cr_expect_eq(cclose->tcp_conn_id, conn->tcp_conn_id, "client close and connect differ in conn_id");
	cr_expect_eq(sclose->tcp_conn_id, acc->tcp_conn_id, "server close and accept differ in conn_id");
	cr_expect_neq(conn->tcp_conn_id, acc->tcp_conn_id);
	cr_expect_geq(cclose->tcp_duration_ns, conn->tcp_handshake_ns);
	cr_expect_gt(sclose->tcp_duration_ns, 0);
	expect_loopback(conn);
	expect_loopback(sclose);
	*handshake_sum += conn->tcp_handshake_ns;

	/* What one side sent is what the other received, and what the fixture wrote. */
	cr_expect_eq(cclose->tcp_bytes_sent, c->sent, "client %u sent %llu, the fixture wrote %llu",
		     c->client_port, (unsigned long long)cclose->tcp_bytes_sent,
		     (unsigned long long)c->sent);
	cr_expect_eq(sclose->tcp_bytes_received, c->sent, "server received %llu, the client wrote %llu",
		     (unsigned long long)sclose->tcp_bytes_received, (unsigned long long)c->sent);
	cr_expect_eq(cclose->tcp_bytes_received, c->received, "client received %llu, expected %llu",
		     (unsigned long long)cclose->tcp_bytes_received, (unsigned long long)c->received);
	cr_expect_eq(sclose->tcp_bytes_sent, c->received, "server sent %llu, expected %llu",
		     (unsigned long long)sclose->tcp_bytes_sent, (unsigned long long)c->received);
	if (c->reset) {
		cr_expect_eq(sclose->tcp_flags, GOPROF_TCP_ACCEPTED | GOPROF_TCP_RESET_SENT,
			     "server close flags 0x%x", sclose->tcp_flags);
		cr_expect_eq(cclose->tcp_error, ECONNRESET, "client close error %d", cclose->tcp_error);
		cr_expect(cclose->tcp_flags & GOPROF_TCP_RESET_RECEIVED, "client flags 0x%x",
			  cclose->tcp_flags);
	} else {
		cr_expect_eq(cclose->tcp_error, 0, "client close error %d", cclose->tcp_error);
		cr_expect_eq(sclose->tcp_error, 0, "server close error %d", sclose->tcp_error);
		cr_expect_eq(cclose->tcp_flags, 0, "client close flags 0x%x", cclose->tcp_flags);
		cr_expect_eq(sclose->tcp_flags, GOPROF_TCP_ACCEPTED);
	}
}

/* Sums of the fixture's account per peer, to compare with goprof_session_foreach_tcp_peer. */
struct peer_check {
	int pid;
	const struct truth *t;
	uint64_t handshake_sum;
	size_t peers;
	bool ok;
};

static int check_peer(const struct goprof_tcp_peer *p, void *ctx)
{
	struct peer_check *pc = ctx;
	uint64_t conns = 0, resets = 0, sent = 0, received = 0, failed = 0;
	bool accepted = p->flags & GOPROF_TCP_ACCEPTED;

	if (p->pid != (uint32_t)pc->pid)
		return 0;
	pc->peers++;
	for (size_t i = 0; i < pc->t->n; i++) {
		const struct conn_truth *c = &pc->t->conn[i];

		if (c->family != p->family || c->server_port != p->port)
			continue;
		conns++;
		resets += c->reset;
		sent += accepted ? c->received : c->sent;
		received += accepted ? c->sent : c->received;
	}
	if (!accepted && p->port == pc->t->refused_port)
		failed = 1;
	cr_log_info("peer %s port %u %s: %llu connections, %llu failed, %llu closed, %llu resets, "
		    "%llu B sent, %llu B received, handshakes %llu ns", p->family == GOPROF_TCP_IPV6 ?
		    "[::1]" : "127.0.0.1", p->port, accepted ? "accepted" : "connected",
		    (unsigned long long)p->connections, (unsigned long long)p->failed,
		    (unsigned long long)p->closed, (unsigned long long)p->resets,
		    (unsigned long long)p->bytes_sent, (unsigned long long)p->bytes_received,
		    (unsigned long long)p->handshake_total_ns);
	if (p->connections != conns || p->closed != conns || p->failed != failed ||
	    p->resets != resets || p->bytes_sent != sent || p->bytes_received != received ||
	    p->errors != (accepted ? 0 : resets)) {
		cr_log_error("peer port %u: expected %llu connections, %llu failed, %llu resets, "
			     "%llu B sent, %llu B received", p->port, (unsigned long long)conns,
			     (unsigned long long)failed, (unsigned long long)resets,
			     (unsigned long long)sent, (unsigned long long)received);
		pc->ok = false;
	}
	if (!accepted)
		pc->handshake_sum += p->handshake_total_ns;
	return 0;
}

/* Fails under CI (and skips elsewhere) when this machine has no IPv6 loopback. */
static void require_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	const char *ci = getenv("CI");

	if (fd >= 0)
		close(fd);
	if (ok)
		return;
	if (ci && !strcmp(ci, "true"))
		cr_assert_fail("CI=true and this machine has no IPv6 loopback (binding [::1] failed: "
			       "%s): enable IPv6 on lo (sysctl net.ipv6.conf.lo.disable_ipv6=0)",
			       strerror(errno));
	cr_skip_test("no IPv6 loopback: binding [::1] failed: %s", strerror(errno));
}

/* A session with GOPROF_FEATURE_TCP delivering events into *seen (emptied first). */
static struct goprof_session *new_tcp_session(struct seen *seen, uint32_t ringbuf_kib)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_TCP, .on_event = on_event,
		    .ctx = seen, .ringbuf_kib = ringbuf_kib);
	struct goprof_session *s;

	require_bpf_privileges();
	require_ipv6_loopback();
	memset(seen, 0, sizeof(*seen));
	s = goprof_session_new(&opts);
	cr_assert_not_null(s, "%s", goprof_last_error());
	return s;
}

ParameterizedTestParameters(tcp, connections_match_fixture)
{
	static struct fixture_variant v[32];

	return cr_make_param_array(struct fixture_variant, v, fixture_variants(v, 32));
}

/*
 * Starts the fixture, attaches the session once it listens (and detaches it again if
 * asked: then nothing of it may be traced), and lets it start.
 */
static void start_attached(struct goprof_session *s, struct child *c, char *const argv[],
			   bool detach)
{
	char line[256];

	child_start(c, argv);
	cr_assert(child_read_line(c, line, sizeof(line)) && !strcmp(line, "ready"), "fixture: %s", line);
	cr_assert_eq(goprof_session_attach_pid(s, c->pid, NULL), 0, "%s", goprof_last_error());
	if (detach)
		cr_assert_eq(goprof_session_detach_pid(s, c->pid), 0, "%s", goprof_last_error());
	child_write_line(c, "go");
}

static size_t count_type(const struct seen *s, uint32_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->ev[i].type == type;
	return n;
}

ParameterizedTest(struct fixture_variant *v, tcp, connections_match_fixture, .timeout = 60)
{
	const char *ver = fixture_go_versions()[v->version_index];
	char *argv[] = { (char *)fixture_path(v->stripped ? "tcpconn-stripped" : "tcpconn", ver),
			 "5", NULL };
	static struct seen seen;
	static struct truth truth;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct peer_check pc = { .t = &truth, .ok = true };
	size_t expected, refused = 0;
	uint64_t handshake_sum = 0;
	struct goprof_session *s;
	char line[256];
	struct child c;
	int pid;

	s = new_tcp_session(&seen, 0);
	memset(&truth, 0, sizeof(truth));
	start_attached(s, &c, argv, false);
	while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done"))
		cr_assert(parse_line(line, &truth), "fixture: %s", line);
	cr_assert_eq(truth.n, 2 * CONNS_PER_FAMILY + 1, "fixture reported %zu connections", truth.n);
	cr_assert_neq(truth.refused_port, 0, "the fixture reported no refused dial");
	/* One more connection, left open when the fixture exits: the kernel closes it after
	 * the process is gone, and its end must still be reported. */
	child_write_line(&c, "hold");
	cr_assert(child_read_line_polling(&c, line, sizeof(line), s) && parse_line(line, &truth) &&
		  truth.conn[truth.n - 1].held, "fixture: %s", line);
	expected = 4 * truth.n + 1;
	poll_until(s, &seen, expected - 2); /* all but the held connection's closes */
	expect_own_threads(&seen, c.pid);
	pid = c.pid; /* child_wait() clears it */
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture failed");
	/* Server-side closes finish in the kernel right after the fixture's account. */
	poll_until(s, &seen, expected);
	cr_log_info("go%s%s: %zu TCP events (%zu connect, %zu accept, %zu close), expected %zu", ver,
		    v->stripped ? " stripped" : "", seen.n, count_type(&seen, GOPROF_EVENT_TCP_CONNECT),
		    count_type(&seen, GOPROF_EVENT_TCP_ACCEPT), count_type(&seen, GOPROF_EVENT_TCP_CLOSE),
		    expected);
	for (size_t i = 0; i < seen.n; i++) {
		cr_expect_eq(seen.ev[i].pid, (uint32_t)pid, "an event of pid %u", seen.ev[i].pid);
		if (seen.ev[i].type == GOPROF_EVENT_TCP_CONNECT && seen.ev[i].tcp_error) {
			cr_expect_eq(seen.ev[i].tcp_error, ECONNREFUSED, "failed connect error %d",
				     seen.ev[i].tcp_error);
			cr_expect_eq(seen.ev[i].tcp_remote_port, truth.refused_port);
			refused++;
		}
	}
	cr_expect_eq(refused, 1, "%zu failed connects, 1 refused dial", refused);
	for (size_t i = 0; i < truth.n; i++)
		check_connection(&seen, &truth.conn[i], &handshake_sum);
	cr_expect_eq(seen.n, expected, "%zu events, expected %zu", seen.n, expected);

	pc.pid = pid;
	cr_assert_eq(goprof_session_foreach_tcp_peer(s, check_peer, &pc), 0, "%s", goprof_last_error());
	/* Peers: 127.0.0.1 and [::1] listeners, connected and accepted, and the refused port. */
	cr_expect_eq(pc.peers, 5, "%zu peers", pc.peers);
	cr_expect(pc.ok, "a peer's sums differ from the fixture's account");
	cr_expect_eq(pc.handshake_sum, handshake_sum);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_eq(st.tcp_events, seen.n);
	cr_expect_eq(st.lost_tcp_events, 0);
	cr_expect_eq(st.lost_tcp_untracked, 0);
	cr_expect_eq(st.tcp_sockets_tracked, 2 * truth.n + 1);
	/* At least: the fixture's accepts and its sockets' state changes (2-5 each). */
	cr_expect_geq(st.tcp_hook_runs, truth.n + 4 * truth.n, "hook runs %llu",
		      (unsigned long long)st.tcp_hook_runs);
	cr_log_info("go%s: mean handshake %.1f us over %zu connects", ver,
		    handshake_sum / 1e3 / truth.n, truth.n);
	goprof_session_free(s);
}

/* A 4 KiB ring buffer that is not drained overflows: every event is delivered or lost. */
Test(tcp, full_ring_buffer_counts_losses, .timeout = 60)
{
	const char *ver = fixture_go_versions()[0];
	char *argv[] = { (char *)fixture_path("tcpconn", ver), "40", NULL };
	static struct seen seen;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	size_t conns = 0, expected;
	double deadline;
	char line[256];
	struct child c;

	s = new_tcp_session(&seen, 4);
	start_attached(s, &c, argv, false);
	/* Not polling meanwhile: the ring buffer fills. */
	while (child_read_line(&c, line, sizeof(line)) && strcmp(line, "done"))
		conns += !strncmp(line, "conn ", 5) || !strncmp(line, "reset ", 6);
	cr_assert_eq(conns, 81, "fixture: %zu connections", conns);
	/* The last server-side closes complete in the kernel just after the fixture's account. */
	expected = 4 * conns + 1;
	deadline = mono_seconds() + 10;
	do {
		while (goprof_session_poll(s, 50) > 0)
			;
		cr_assert_eq(goprof_session_stats(s, &st), 0);
	} while (st.tcp_events + st.lost_tcp_events < expected && mono_seconds() < deadline);
	cr_log_info("%llu TCP events delivered, %llu lost, %zu expected",
		    (unsigned long long)st.tcp_events, (unsigned long long)st.lost_tcp_events, expected);
	cr_expect_gt(st.lost_tcp_events, 0, "a 4 KiB ring buffer held %zu events", expected);
	cr_expect_eq(st.tcp_events, seen.n);
	cr_expect_eq(st.tcp_events + st.lost_tcp_events, expected,
		     "delivered %llu + lost %llu != %zu", (unsigned long long)st.tcp_events,
		     (unsigned long long)st.lost_tcp_events, expected);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture failed");
	goprof_session_free(s);
}

/* The closes of `goprof record --tcp` in events.jsonl, one per line of the fixture. */
static void check_cli_closes(const char *jsonl, const struct truth *t)
{
	FILE *f = fopen(jsonl, "r");
	static const char close_type[] = "{\"type\":\"tcp_close\"";
	char line[1024];
	size_t matched = 0, closes = 0;

	cr_assert(f, "no %s", jsonl);
	while (fgets(line, sizeof(line), f)) {
		unsigned lport, rport;
		unsigned long long sent, received;
		char *p = strstr(line, "\"local\":\"127.0.0.1:");

		if (strncmp(line, close_type, strlen(close_type)) || !p)
			continue;
		closes++;
		if (sscanf(p, "\"local\":\"127.0.0.1:%u\",\"remote\":\"127.0.0.1:%u\",\"accepted\":false", &lport,
			   &rport) != 2 || !(p = strstr(p, "\"bytes_sent\":")) ||
		    sscanf(p, "\"bytes_sent\":%llu,\"bytes_received\":%llu", &sent, &received) != 2)
			continue;
		for (size_t i = 0; i < t->n; i++)
			matched += t->conn[i].client_port == lport && t->conn[i].server_port == rport &&
				   t->conn[i].sent == sent && t->conn[i].received == received;
	}
	fclose(f);
	cr_log_info("goprof record --tcp: %zu IPv4 closes in events.jsonl, %zu client closes "
		    "match the fixture", closes, matched);
	cr_expect_eq(matched, t->n, "%zu of %zu IPv4 connections found with their byte counts",
		     matched, t->n);
	cr_expect_eq(closes, 2 * t->n, "%zu IPv4 closes, expected %zu", closes, 2 * t->n);
}

/* goprof record --tcp -- tcpconn: the CLI writes the events to events.jsonl. */
Test(tcp, cli_writes_events, .timeout = 60)
{
	const char *cli = getenv("GOPROF_CLI");
	char dir[] = "/tmp/goprof-tcp-cli-XXXXXX", cmd[8192], line[512], jsonl[4096];
	char last[512] = ""; /* the last line of output: the error, if it failed */
	static struct truth truth;
	bool table = false;
	FILE *out;

	require_bpf_privileges();
	require_ipv6_loopback();
	cr_assert(cli, "GOPROF_CLI is not set: run the tests through meson test");
	cr_assert_not_null(mkdtemp(dir));
	memset(&truth, 0, sizeof(truth));
	/* The fixture starts on the line "go" and exits at the end of its input. */
	snprintf(cmd, sizeof(cmd), "echo go | %s record -U --tcp -o %s -- %s 2 2>&1", cli, dir,
		 fixture_path("tcpconn", fixture_go_versions()[0]));
	out = popen(cmd, "r");
	cr_assert_not_null(out);
	while (fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "conn 4 ", 7) || !strncmp(line, "reset 4 ", 8))
			parse_line(line, &truth);
		table |= !strncmp(line, "TCP: ", 5);
		snprintf(last, sizeof(last), "%s", line);
	}
	cr_assert_eq(pclose(out), 0, "goprof record failed: %s", last);
	cr_expect(table, "no TCP summary printed");
	cr_assert_eq(truth.n, 3, "the fixture reported %zu IPv4 connections", truth.n);
	snprintf(jsonl, sizeof(jsonl), "%s/events.jsonl", dir);
	check_cli_closes(jsonl, &truth);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

/* Only attached processes are traced: a detached fixture's connections are not seen. */
Test(tcp, detached_process_not_traced, .timeout = 60)
{
	char *argv[] = { (char *)fixture_path("tcpconn", fixture_go_versions()[0]), "3", NULL };
	static struct seen seen;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	size_t conns = 0;
	char line[256];
	struct child c;

	s = new_tcp_session(&seen, 0);
	start_attached(s, &c, argv, true);
	while (child_read_line_polling(&c, line, sizeof(line), s) && strcmp(line, "done"))
		conns += !strncmp(line, "conn ", 5);
	cr_assert_eq(conns, 6, "fixture: %zu connections", conns);
	child_close_stdin(&c);
	cr_assert_eq(child_wait(&c), 0, "the fixture failed");
	while (goprof_session_poll(s, 100) > 0)
		;
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_expect_eq(seen.n, 0, "%zu TCP events of a detached process", seen.n);
	cr_expect_eq(st.tcp_sockets_tracked, 0);
	cr_expect_gt(st.tcp_hook_runs, 0, "the hooks did not run while the fixture connected");
	goprof_session_free(s);
}

Test(tcp, peers_need_the_feature)
{
	struct goprof_session *s;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_foreach_tcp_peer(s, check_peer, NULL), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "GOPROF_FEATURE_TCP"), "%s", goprof_last_error());
	goprof_session_free(s);
}
