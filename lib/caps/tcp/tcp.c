// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* TCP connection events and per-peer sums (see tcp.h). */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>

#include "core/bpf_load.h"
#include "core/bpf_maps.h"
#include "goprof/error.h"
#include "caps/tcp/tcp_records.h"
#include "tcp.skel.h"
#include "caps/tcp/tcp.h"

#define MAX_PEERS (1u << 20) /* the table does not grow past this: further peers are dropped */

struct peer_slot {
	bool used;
	struct goprof_tcp_peer p;
};

struct gp_tcp {
	const struct gp_host *host;
	struct tcp_bpf *skel;
	struct peer_slot *peers; /* open addressing, cap a power of two */
	size_t nr_peers, cap;
	uint64_t events, lost_peers;
};

/* The kernel hooks and fields the BPF object needs, checked before loading it so that a
 * kernel without them gets a sentence, not a verifier log. */
static int check_kernel(void)
{
	static const struct {
		const char *name;
		int kind;
		const char *what;
	} needed[] = {
		{ "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF,
		  "the sock:inet_sock_set_state tracepoint (Linux 4.16 or later)" },
		{ "btf_trace_tcp_receive_reset", BTF_KIND_TYPEDEF,
		  "the tcp:tcp_receive_reset tracepoint (Linux 4.15 or later)" },
		{ "tcp_sock", BTF_KIND_STRUCT, "struct tcp_sock" },
	};
	static const char *const fields[] = { "bytes_sent", "bytes_retrans", "bytes_received",
					      "total_retrans", "srtt_us" };
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *tcp_sock = NULL;
	int err = 0;

	if (!btf)
		return gp_err(-GOPROF_ERRNO_KERNEL, "GOPROF_FEATURE_TCP: cannot read the kernel's BTF: %s",
			      strerror(errno));
	for (size_t i = 0; i < ARRAY_SIZE(needed) && !err; i++) {
		int id = btf__find_by_name_kind(btf, needed[i].name, needed[i].kind);

		if (id < 0)
			err = gp_err(-GOPROF_ERRNO_KERNEL, "GOPROF_FEATURE_TCP: the kernel lacks %s "
				     "(not in its BTF)", needed[i].what);
		else if (needed[i].kind == BTF_KIND_STRUCT)
			tcp_sock = btf__type_by_id(btf, id);
	}
	for (size_t f = 0; !err && f < ARRAY_SIZE(fields); f++) {
		const struct btf_member *m = btf_members(tcp_sock);
		bool found = false;

		for (unsigned i = 0; i < btf_vlen(tcp_sock) && !found; i++)
			found = !strcmp(btf__name_by_offset(btf, m[i].name_off), fields[f]);
		if (!found)
			err = gp_err(-GOPROF_ERRNO_KERNEL, "GOPROF_FEATURE_TCP: the kernel's struct "
				     "tcp_sock has no %s (Linux 4.19 or later has it)", fields[f]);
	}
	btf__free(btf);
	return err;
}

static void destroy(void *cap);

/* Checks that the kernel has the hooks (a GOPROF_ERRNO_KERNEL error naming the missing
 * one otherwise), loads and attaches the programs. */
static void *create(const struct gp_host *h)
{
	const struct gp_shared_maps *shared = &h->shared;
	struct gp_tcp *t;
	int err = check_kernel();

	if (err)
		return gp_fail_null(err);
	t = calloc(1, sizeof(*t));
	if (!t)
		return gp_err_null(-ENOMEM, "out of memory");
	t->host = h;
	t->skel = tcp_bpf__open();
	if (!t->skel) {
		err = -errno;
		free(t);
		return gp_err_null(err, "opening the embedded TCP BPF object failed: %s", strerror(-err));
	}
	err = gp_bpf_share_maps(t->skel->obj, shared);
	if (!err)
		err = tcp_bpf__load(t->skel);
	if (err) {
		destroy(t);
		return gp_fail_null(gp_bpf_load_failed(err, "the TCP programs"));
	}
	err = tcp_bpf__attach(t->skel);
	if (err) {
		destroy(t);
		return gp_err_null(-GOPROF_ERRNO_KERNEL, "GOPROF_FEATURE_TCP: attaching the "
				   "tracepoints sock:inet_sock_set_state, tcp:tcp_receive_reset and "
				   "syscalls:sys_exit_accept/accept4 failed: %s (the syscall tracepoints "
				   "need CONFIG_FTRACE_SYSCALLS and a readable tracefs)", strerror(-err));
	}
	return t;
}

static void destroy(void *cap)
{
	struct gp_tcp *t = cap;

	if (!t)
		return;
	tcp_bpf__destroy(t->skel);
	free(t->peers);
	free(t);
}

static uint64_t peer_hash(const struct goprof_tcp_peer *p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over the key fields */
	const uint8_t *parts[] = { (const uint8_t *)&p->pid, (const uint8_t *)&p->flags,
				   (const uint8_t *)&p->family, (const uint8_t *)&p->port, p->addr };
	const size_t lens[] = { 4, 4, 2, 2, 16 };

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		for (size_t j = 0; j < lens[i]; j++)
			h = (h ^ parts[i][j]) * 1099511628211ull;
	return h;
}

static bool same_peer(const struct goprof_tcp_peer *a, const struct goprof_tcp_peer *b)
{
	return a->pid == b->pid && a->flags == b->flags && a->family == b->family &&
	       a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* The slot holding key, or the free slot where it belongs. */
static struct peer_slot *slot_for(struct peer_slot *slots, size_t cap,
				  const struct goprof_tcp_peer *key)
{
	size_t i = peer_hash(key) & (cap - 1);

	while (slots[i].used && !same_peer(&slots[i].p, key))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow_peers(struct gp_tcp *t)
{
	size_t cap = t->cap ? 2 * t->cap : 64;
	struct peer_slot *slots;

	if (cap > MAX_PEERS)
		return -ENOSPC;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->peers[i].used)
			*slot_for(slots, cap, &t->peers[i].p) = t->peers[i];
	free(t->peers);
	t->peers = slots;
	t->cap = cap;
	return 0;
}

/* The peer of a record: remote address, and the remote port of outgoing connections or
 * the local (listening) port of accepted ones. */
static struct goprof_tcp_peer *find_peer(struct gp_tcp *t, const struct gp_tcp_event *rec)
{
	struct goprof_tcp_peer key = { .sz = sizeof(key) };
	struct peer_slot *slot;

	key.pid = rec->pid;
	key.flags = rec->flags & GP_TCP_F_ACCEPTED ? GOPROF_TCP_ACCEPTED : 0;
	key.family = rec->family;
	key.port = key.flags ? rec->local_port : rec->remote_port;
	memcpy(key.addr, rec->remote_addr, sizeof(key.addr));
	if (t->cap) {
		slot = slot_for(t->peers, t->cap, &key);
		if (slot->used)
			return &slot->p;
	}
	/* A new peer. Keep the table at most half full. */
	if (2 * (t->nr_peers + 1) > t->cap && grow_peers(t))
		return NULL;
	slot = slot_for(t->peers, t->cap, &key);
	slot->used = true;
	slot->p = key;
	t->nr_peers++;
	return &slot->p;
}

static void add_to_peer(struct goprof_tcp_peer *p, const struct gp_tcp_event *rec)
{
	switch (rec->type) {
	case GP_REC_TCP_CONNECT:
		if (rec->error) {
			p->failed++;
			p->retransmits += rec->retransmits; /* SYNs sent again; no CLOSE follows */
			break;
		}
		p->connections++;
		p->handshake_total_ns += rec->handshake_ns;
		p->handshake_max_ns = GP_MAX(p->handshake_max_ns, rec->handshake_ns);
		break;
	case GP_REC_TCP_ACCEPT:
		p->connections++;
		break;
	case GP_REC_TCP_CLOSE:
		p->closed++;
		p->resets += !!(rec->flags & (GP_TCP_F_RESET_RECEIVED | GP_TCP_F_ABORTED));
		p->errors += rec->error != 0;
		p->bytes_sent += rec->bytes_sent;
		p->bytes_received += rec->bytes_received;
		p->duration_total_ns += rec->duration_ns;
		p->retransmits += rec->retransmits; /* the handshake's included */
		break;
	}
}

static uint32_t public_flags(uint16_t f)
{
	return (f & GP_TCP_F_ACCEPTED ? GOPROF_TCP_ACCEPTED : 0) |
	       (f & GP_TCP_F_RESET_RECEIVED ? GOPROF_TCP_RESET_RECEIVED : 0) |
	       (f & GP_TCP_F_ABORTED ? GOPROF_TCP_RESET_SENT : 0);
}

/* One GP_REC_TCP_* record: added to its peer, and handed to the host as an event. */
static int take_record(void *cap, const void *data, size_t len)
{
	const struct gp_tcp_event *rec = data;
	struct gp_tcp *t = cap;
	struct goprof_event ev = { .sz = sizeof(ev) };
	struct goprof_tcp_peer *p;

	if (len < sizeof(*rec))
		return 0;
	p = find_peer(t, rec);
	t->events++;
	if (p)
		add_to_peer(p, rec);
	else
		t->lost_peers++;
	ev.type = rec->type == GP_REC_TCP_CONNECT ? GOPROF_EVENT_TCP_CONNECT :
		  rec->type == GP_REC_TCP_ACCEPT ? GOPROF_EVENT_TCP_ACCEPT : GOPROF_EVENT_TCP_CLOSE;
	ev.pid = rec->pid;
	ev.tid = rec->tid;
	ev.time_ns = rec->time_ns;
	ev.goid = rec->goid;
	ev.tcp_conn_id = rec->conn_id;
	memcpy(ev.tcp_local_addr, rec->local_addr, sizeof(ev.tcp_local_addr));
	memcpy(ev.tcp_remote_addr, rec->remote_addr, sizeof(ev.tcp_remote_addr));
	ev.tcp_family = rec->family;
	ev.tcp_local_port = rec->local_port;
	ev.tcp_remote_port = rec->remote_port;
	ev.tcp_error = rec->error;
	ev.tcp_flags = public_flags(rec->flags);
	ev.tcp_handshake_ns = rec->handshake_ns;
	ev.tcp_duration_ns = rec->duration_ns;
	ev.tcp_bytes_sent = rec->bytes_sent;
	ev.tcp_bytes_received = rec->bytes_received;
	ev.tcp_retransmits = rec->retransmits;
	ev.tcp_srtt_us = rec->srtt_us;
	return t->host->emit(t->host->session, &ev);
}

static void fill_stats(void *cap, struct goprof_session_stats *st, const uint64_t *lost)
{
	struct gp_tcp *t = cap;

	st->tcp_sockets_tracked = gp_map_sum_percpu(t->skel->maps.tcp_counters, GP_TCP_CNT_TRACKED);
	st->lost_tcp_untracked = gp_map_sum_percpu(t->skel->maps.tcp_counters, GP_TCP_CNT_TABLE_FULL);
	st->tcp_events = t->events;
	st->tcp_hook_runs = gp_map_sum_percpu(t->skel->maps.tcp_counters, GP_TCP_CNT_HOOK_RUNS);
	st->lost_tcp_events = lost[GP_LOST_TCP];
	st->lost_aggregation += t->lost_peers; /* the peer table could not grow */
}

GOPROF_API int goprof_session_foreach_tcp_peer(struct goprof_session *s, goprof_tcp_peer_fn fn,
					       void *ctx)
{
	struct gp_tcp *t;

	gp_clear_error();
	if (!s || !fn)
		return gp_err(-EINVAL, "goprof_session_foreach_tcp_peer: NULL argument");
	t = gp_session_cap(s, &gp_cap_tcp);
	if (!t)
		return gp_err(-EINVAL, "goprof_session_foreach_tcp_peer: the session was created "
				       "without GOPROF_FEATURE_TCP");
	for (size_t i = 0; i < t->cap; i++) {
		int ret;

		if (!t->peers[i].used)
			continue;
		ret = fn(&t->peers[i].p, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

const struct gp_cap_ops gp_cap_tcp = {
	.name = "tcp",
	.features = GOPROF_FEATURE_TCP,
	.create = create,
	.destroy = destroy,
	.rec_first = GP_REC_TCP_CONNECT,
	.rec_last = GP_REC_TCP_CLOSE,
	.take_record = take_record,
	.counts_own_records = true, /* tcp_events, lost_tcp_events */
	.fill_stats = fill_stats,
};
