// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * TCP connection lifecycle of attached processes, from stable kernel hooks:
 *
 *   sock:inet_sock_set_state  CLOSE -> SYN_SENT runs inside connect() (process context):
 *                             the socket is tracked for the calling thread if its process
 *                             is attached; SYN_SENT -> ESTABLISHED ends the handshake;
 *                             -> CLOSE ends the connection (often in softirq context,
 *                             where `current` is some other task: hence the table).
 *   syscalls:sys_exit_accept4 accept() returned a socket (process context): tracked for
 *   (and sys_exit_accept)     the accepting thread.
 *   tcp:tcp_receive_reset     the peer sent a RST: flagged on the tracked socket.
 *
 * Byte counts and retransmits are read from struct tcp_sock with CO-RE at the event.
 * The target map, ring buffer and loss counters are the CPU sampler's (reused fds).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "caps/tcp/tcp_records.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define ECONNABORTED 103

/*
 * Sockets of attached processes from connect()/accept() to TCP_CLOSE, keyed by the
 * struct sock address. Every full TCP socket passes TCP_CLOSE before it is freed, so the
 * entries are removed there; a full table is counted (GP_TCP_CNT_TABLE_FULL), not
 * evicted silently.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_TCP_SOCKS);
	__type(key, __u64);
	__type(value, struct gp_tcp_sock);
} tcp_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_TCP_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} tcp_counters SEC(".maps");

/*
 * Connection IDs, unique within the session: this CPU's own sequence, and the CPU in the
 * low bits. Not an atomic fetch-and-add on one counter: that instruction (BPF_FETCH) is
 * 5.12+, and 5.10's verifier refuses it even on a path it would never take. Only a
 * connect or accept preempted between the two lines below by another on the same CPU
 * could repeat an ID.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_seq SEC(".maps");

static __always_inline __u64 new_conn_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&conn_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return *seq << 12 | (bpf_get_smp_processor_id() & 0xfff);
}

static __always_inline bool is_tcp(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return (family == AF_INET || family == AF_INET6) &&
	       BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == IPPROTO_TCP;
}

static __always_inline void fill_addresses(struct gp_tcp_event *ev, const struct sock *sk)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;

	ev->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* inet_sport, not skc_num: the port is released (skc_num = 0) on the way to CLOSE. */
	ev->local_port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	ev->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (ev->family == AF_INET6) {
		BPF_CORE_READ_INTO(&ev->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&ev->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)ev->local_addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)ev->remote_addr, sk, __sk_common.skc_daddr);
	}
}

/* Payload byte counts, retransmits and RTT from struct tcp_sock. */
static __always_inline void fill_counters(struct gp_tcp_event *ev, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 sent = BPF_CORE_READ(tp, bytes_sent), retrans = BPF_CORE_READ(tp, bytes_retrans);
	__u64 received = BPF_CORE_READ(tp, bytes_received);
	__u64 done = 1ull << bpf_core_enum_value(enum sock_flags, SOCK_DONE);

	/* bytes_sent counts retransmitted payload again; bytes_received counts a FIN as one
	 * byte, and tcp_fin() is what sets SOCK_DONE. */
	ev->bytes_sent = sent > retrans ? sent - retrans : 0;
	if (received && (BPF_CORE_READ(sk, __sk_common.skc_flags) & done))
		received--;
	ev->bytes_received = received;
	ev->retransmits = BPF_CORE_READ(tp, total_retrans);
	ev->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
}

static __always_inline void emit(__u32 type, const struct sock *sk, const struct gp_tcp_sock *ts,
				 __u64 now, int error)
{
	struct gp_tcp_event *ev = bpf_ringbuf_reserve(&samples, sizeof(*ev), 0);

	if (!ev) {
		bump(&lost, GP_LOST_TCP);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->pid = ts->pid;
	ev->tid = ts->tid;
	ev->flags = (__u16)ts->flags;
	ev->time_ns = now;
	ev->conn_id = ts->conn_id;
	ev->goid = ts->goid;
	ev->error = error;
	if (type == GP_REC_TCP_CONNECT && ts->established_ns)
		ev->handshake_ns = ts->established_ns - ts->start_ns;
	if (type == GP_REC_TCP_CLOSE)
		ev->duration_ns = now - ts->start_ns;
	fill_addresses(ev, sk);
	fill_counters(ev, sk);
	bpf_ringbuf_submit(ev, 0);
}

/* Starts tracking sk for the current thread if its process is attached. */
static __always_inline struct gp_tcp_sock *track(const struct sock *sk, __u32 flags, __u64 now)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;
	__u32 pid = id >> 32;
	struct gp_tcp_sock ts = {
		.pid = pid,
		.tid = (__u32)id,
		.start_ns = now,
		.flags = flags,
	};
	struct gp_target *t = bpf_map_lookup_elem(&targets, &pid);
	__u64 curg = 0;

	if (!t)
		return NULL;
	/* connect() and accept() run on the calling goroutine: remember which one. */
	if (t->is_go && current_curg(t, &curg) == 0 && curg)
		bpf_probe_read_user(&ts.goid, sizeof(ts.goid), (void *)(curg + t->g_goid));
	ts.conn_id = new_conn_id();
	/* BPF_ANY: a socket address reused after a missed CLOSE starts afresh. */
	if (bpf_map_update_elem(&tcp_socks, &key, &ts, BPF_ANY)) {
		bump(&tcp_counters, GP_TCP_CNT_TABLE_FULL);
		return NULL;
	}
	bump(&tcp_counters, GP_TCP_CNT_TRACKED);
	return bpf_map_lookup_elem(&tcp_socks, &key);
}

/*
 * Removes sk from the table and reports its end. The delete decides who reports when
 * accept() and a concurrent CLOSE on another CPU race for the same socket.
 */
static __always_inline void untrack(const struct sock *sk, int oldstate, __u64 now)
{
	__u64 key = (__u64)sk;
	struct gp_tcp_sock *e = bpf_map_lookup_elem(&tcp_socks, &key), ts;
	int error;

	if (!e)
		return;
	ts = *e;
	if (bpf_map_delete_elem(&tcp_socks, &key))
		return;
	error = BPF_CORE_READ(sk, sk_err);
	if (oldstate == TCP_SYN_SENT) {
		/* The handshake never completed: a failed connect, no connection to close.
		 * No error means the application closed the socket first. */
		emit(GP_REC_TCP_CONNECT, sk, &ts, now, error ? error : ECONNABORTED);
		return;
	}
	if (!error && (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT))
		ts.flags |= GP_TCP_F_ABORTED; /* straight to CLOSE: tcp_close() sent a RST */
	emit(GP_REC_TCP_CLOSE, sk, &ts, now, error);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct gp_tcp_sock *e;

	bump(&tcp_counters, GP_TCP_CNT_HOOK_RUNS);
	/* Every TCP state change of the machine comes here: leave the others early. Only
	 * SYN_SENT needs is_tcp(); later transitions find tracked sockets in the table. */
	if (newstate == TCP_SYN_SENT) {
		if (is_tcp(sk)) /* inside connect(): current is the caller */
			track(sk, 0, bpf_ktime_get_ns());
		return 0;
	}
	if (newstate == TCP_CLOSE) {
		untrack(sk, oldstate, bpf_ktime_get_ns());
		return 0;
	}
	if (oldstate != TCP_SYN_SENT || newstate != TCP_ESTABLISHED)
		return 0;
	e = bpf_map_lookup_elem(&tcp_socks, &key);
	if (e) {
		e->established_ns = bpf_ktime_get_ns();
		emit(GP_REC_TCP_CONNECT, sk, e, e->established_ns, 0);
	}
	return 0;
}

/* The socket behind file descriptor fd of the current task, or NULL. */
static __always_inline const struct sock *sock_of_fd(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task(); /* _btf: 5.11+ */
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd), *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds) ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	/* A socket's file and struct socket point at each other. */
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/*
 * accept() and accept4() returned a descriptor (process context: current is the
 * accepting thread). The syscall tracepoints only run on accept calls, and need neither
 * kprobes nor BPF trampolines.
 */
static __always_inline int accepted(long fd)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 now = bpf_ktime_get_ns();
	const struct sock *sk;
	struct gp_tcp_sock *e;

	bump(&tcp_counters, GP_TCP_CNT_HOOK_RUNS);
	if (fd < 0 || !bpf_map_lookup_elem(&targets, &pid))
		return 0;
	sk = sock_of_fd(fd);
	if (!sk || !is_tcp(sk))
		return 0;
	e = track(sk, GP_TCP_F_ACCEPTED, now);
	if (!e)
		return 0;
	emit(GP_REC_TCP_ACCEPT, sk, e, now, 0);
	/* Reset while it waited in the accept queue (or right now on another CPU): its
	 * CLOSE transition went by before the entry existed. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		untrack(sk, TCP_ESTABLISHED, now);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tcp_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tcp_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_reset_received, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct gp_tcp_sock *e = bpf_map_lookup_elem(&tcp_socks, &key);

	if (e) /* the socket is locked here: no other writer of flags */
		e->flags |= GP_TCP_F_RESET_RECEIVED;
	return 0;
}
