// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * HTTP/1 requests read off the wire (GOPROF_FEATURE_HTTP_WIRE): the bytes an attached
 * process reads from and writes to its sockets. No uprobe, so no trap in the target. Two
 * flavours of hooks, one loaded (lib/http_wire.c):
 * - sockets (Linux 6.3+): tp_btf/sock_recv_length and sock_send_length, which fire for
 *   socket I/O only, and inet_sock_set_state for the close; connections keyed by their
 *   struct sock. The user buffer is the read(2)/write(2)/recvfrom(2)/sendto(2) argument
 *   still in the task's registers.
 * - syscalls (older kernels): the tracepoints sys_exit_read, sys_exit_write and
 *   sys_enter_close; connections keyed by (process, fd). These put every syscall of
 *   every process on the kernel's syscall-trace slow path.
 * A hook returns at once for a process that is not attached, and costs an attached one
 * a map lookup per read or write of an HTTP connection plus a short parse at the start
 * and end of each request.
 *
 * Per connection a small state machine:
 * - server side: a read that starts with a request line ("GET /x HTTP/1.1") opens a
 *   request; the first write of the answer gives the status; every write moves its end;
 *   the next read on the connection (the server waiting for its next request) or the
 *   close ends it. Go's server reads a request and runs its handler on one goroutine,
 *   which is put in http_active for the CPU sampler's labels meanwhile. That goroutine
 *   serves the connection's next requests too: its entry stays (start_ns 0 between
 *   requests) and is rewritten in place, which saves a map update and a delete per
 *   request; the close deletes it.
 * - client side: a write that starts with a request line opens a request; the read that
 *   starts with a status line ends it.
 * Reads and writes that start nothing are the bodies. What this cannot see: TLS (the
 * bytes are encrypted), HTTP/2, and a request pipelined behind another in one read.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "caps/http_wire/http_wire_records.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "http_active.bpf.h"

enum conn_role { ROLE_SERVER = 1, ROLE_CLIENT = 2 };
enum conn_phase {
	PHASE_IDLE = 0,     /* between requests */
	PHASE_REQUEST,      /* request seen, no answer yet */
	PHASE_RESPONSE,     /* server: the answer is being written */
};

struct conn {
	__u32 role, phase;
	/* Go's server, when its answer is out, may have a goroutine waiting to read one
	 * byte (to notice a client that hangs up): that byte starts the next request, and
	 * the server's next read brings the rest. */
	__u8 has_lead, lead;
	__u8 pad[6];
	struct gp_http_wire_event rec; /* the request in flight, as it will be sent */
};

/* Connections of attached processes that carried HTTP/1, by struct sock address
 * (socket hooks) or (pid << 32 | fd) (syscall hooks). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_HTTP_WIRE_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct conn);
} http_conns SEC(".maps");

/* Where a new connection's state is built (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} conn_scratch SEC(".maps");

/* Hook runs in attached processes, per hook (enum gp_http_wire_hook). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_HTTP_WIRE_HOOK_NR);
	__type(key, __u32);
	__type(value, __u64);
} wire_runs SEC(".maps");

/* Enough of a read or write to recognise a request line or a status line. */
#define PEEK_LEN 32 /* a power of two: indexes are masked */
/* Shorter than "GET / HTTP/1.1\r\n": no request line to recognise in it. */
#define MIN_REQUEST_LEN 16

#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Whether fd of the current process is a socket (a file could start with "GET /" too). */
static __always_inline bool is_socket(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task(); /* _btf: 5.11+ */
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds) || bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return false;
	return (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK;
}

/* A method too long for the method field: user space finds its end (and the path's). */
#define LONG_METHOD GP_HTTP_METHOD_LEN

/*
 * Whether b (n bytes valid) starts a request line: an upper-case token, a space, and a
 * target starting with '/', '*' or an absolute "http..." URL. Returns the method's
 * length, LONG_METHOD for a token that fills the method field, or 0.
 */
static __always_inline __u32 request_line(const char *b, long n)
{
	__u32 m = 0;

	for (__u32 i = 0; i < GP_HTTP_METHOD_LEN; i++) {
		char c = b[i];

		if (c == ' ') {
			m = i;
			break;
		}
		if (c < 'A' || c > 'Z')
			return 0;
	}
	if (!m)
		return n > GP_HTTP_METHOD_LEN ? LONG_METHOD : 0;
	if (m + 2 > n)
		return 0;
	return b[(m + 1) & (PEEK_LEN - 1)] == '/' || b[(m + 1) & (PEEK_LEN - 1)] == '*' ||
			       b[(m + 1) & (PEEK_LEN - 1)] == 'h' ? m : 0;
}

/* The status code if b (n bytes valid) starts a status line "HTTP/1.x NNN"; else 0. */
static __always_inline __u32 status_line(const char *b, long n)
{
	if (n < 12 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' ||
	    b[5] != '1' || b[6] != '.' || b[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (b[i] < '0' || b[i] > '9')
			return 0;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

/* The goroutine running on this thread of Go process t; 0 if none or not Go. */
static __always_inline __u64 current_goid(const struct gp_target *t)
{
	__u64 curg = 0, goid = 0;

	if (!t->is_go || current_curg(t, &curg) || !curg)
		return 0;
	bpf_probe_read_user(&goid, sizeof(goid), (void *)(curg + t->g_goid));
	return goid;
}

/*
 * request_line()'s result as a value the verifier does not know (copied by a helper): it
 * returns one of 17 constants, and with m known the verifier checked everything after it
 * (the path loop, the connection tables) once for each: 600k instructions processed,
 * near its 1M limit (older kernels prune less). Runs once per request, not per read.
 */
static __always_inline __u32 method_len_opaque(__u32 m)
{
	__u32 out = 0;

	bpf_probe_read_kernel(&out, sizeof(out), &m);
	return out <= LONG_METHOD ? out : 0;
}

/* Fills c with the request starting at buf (n bytes, method m bytes long). */
static __always_inline void start_request(struct conn *c, bool fresh, __u32 role,
					  const struct gp_target *t, __u64 id, const void *buf,
					  long n, __u32 m, bool lead)
{
	struct gp_http_event *ev = &c->rec.ev;
	struct gp_http_active *a = &ev->a;
	__u32 len = n < GP_HTTP_HEAD_LEN ? (__u32)n : GP_HTTP_HEAD_LEN, i;
	/* One goroutine serves a connection: its ID is read once. */
	bool known_goid = !fresh && c->role == ROLE_SERVER && role == ROLE_SERVER && ev->goid;

	c->role = role;
	c->phase = PHASE_REQUEST;
	ev->type = role == ROLE_SERVER ? GP_REC_HTTP_WIRE_SERVER : GP_REC_HTTP_WIRE_CLIENT;
	ev->pid = id >> 32;
	/* A client's request is written by the transport's goroutine, not the caller's. */
	if (!known_goid)
		ev->goid = role == ROLE_SERVER ? current_goid(t) : 0;
	ev->end_ns = 0;
	ev->response_bytes = role == ROLE_SERVER ? 0 : -1;
	ev->status = 0;
	ev->tid = (__u32)id;
	a->start_ns = bpf_ktime_get_ns();
	a->rw = 0;
	a->content_length = -1; /* user space reads it from the head */
	a->tid = (__u32)id;
	a->flags = GP_HTTP_F_WIRE;
	a->host_len = 0;
	a->host[0] = '\0';
	a->pad = 0;
	len &= 2 * GP_HTTP_HEAD_LEN - 1;
	if (len > GP_HTTP_HEAD_LEN)
		len = GP_HTTP_HEAD_LEN;
	if (lead) { /* n counts the lead byte, which is not in buf */
		c->rec.head[0] = c->lead;
		if (len > 1 && bpf_probe_read_user(c->rec.head + 1, (len - 1) & (GP_HTTP_HEAD_LEN - 1), buf))
			len = 1;
	} else if (bpf_probe_read_user(c->rec.head, len, buf)) {
		len = 0;
	}
	c->has_lead = 0;
	c->rec.head_len = len;
	c->rec.pad = 0;
	a->method_len = m;
	/* Copied whole and cut at m without a comparison per byte: each would split the
	 * verifier's knowledge of m, and the path loop below was checked once per piece. */
	__builtin_memcpy(a->method, c->rec.head, GP_HTTP_METHOD_LEN - 1);
	a->method[(m - (m >> 4)) & (GP_HTTP_METHOD_LEN - 1)] = '\0'; /* m <= 16: min(m, 15) */
	a->method[GP_HTTP_METHOD_LEN - 1] = '\0';
	a->path[0] = '\0';
	a->path_len = 0;
	if (m == LONG_METHOD)
		return; /* user space finds the method's end and the path */
	/*
	 * The path: the target up to the query or the space before the version. Longer than
	 * the label holds: path_len stays GP_HTTP_PATH_LEN, and user space finds the full
	 * length in the head. Its end is kept in the map value, not in i: the verifier would
	 * check everything after the loop once for each of the 63 places it can stop
	 * (150,000 instructions processed).
	 */
	a->path_len = GP_HTTP_PATH_LEN;
	for (i = 0; i < GP_HTTP_PATH_LEN - 1; i++) {
		__u32 at = m + 1 + i;
		char ch;

		if (at >= len) { /* what was read ends here: user space may know more */
			a->path_len = i;
			break;
		}
		ch = c->rec.head[at & (GP_HTTP_HEAD_LEN - 1)];
		if (ch == ' ' || ch == '?' || ch == '\r' || ch == '\n') {
			a->path_len = i;
			break;
		}
		a->path[i & (GP_HTTP_PATH_LEN - 1)] = ch;
	}
	i = *(volatile __u32 *)&a->path_len;
	a->path[(i < GP_HTTP_PATH_LEN ? i : GP_HTTP_PATH_LEN - 1) & (GP_HTTP_PATH_LEN - 1)] = '\0';
}

/* Sends c's request, ended at end_ns by thread tid, and makes the connection idle. */
static __always_inline void finish(struct conn *c, __u64 end_ns, __u32 tid)
{
	struct gp_http_event *ev = &c->rec.ev;
	__u32 size = c->rec.head_len;

	if (ev->type == GP_REC_HTTP_WIRE_SERVER && ev->goid) {
		struct gp_goroutine_key key = { .pid = ev->pid, .goid = ev->goid };
		struct gp_http_active *a = bpf_map_lookup_elem(&http_active, &key);

		if (a && a->start_ns == ev->a.start_ns)
			*(volatile __u64 *)&a->start_ns = 0; /* no request: no labels */
	}
	ev->end_ns = end_ns;
	ev->tid = tid;
	c->phase = PHASE_IDLE;
	size &= 2 * GP_HTTP_HEAD_LEN - 1;
	if (size > GP_HTTP_HEAD_LEN)
		size = GP_HTTP_HEAD_LEN;
	size += __builtin_offsetof(struct gp_http_wire_event, head);
	if (bpf_ringbuf_output(&samples, &c->rec, size, lazy_wakeup()))
		bump(&lost, GP_LOST_HTTP_RINGBUF);
}

/*
 * Whether a connection not seen before can carry HTTP: a TCP socket (socket hooks: sk),
 * or a socket at all (syscall hooks: fd; a file could start with "GET /" too).
 */
static __always_inline bool may_carry_http(const struct sock *sk, __u32 fd)
{
	return sk ? BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP : is_socket(fd);
}

/* A request starts on key's connection: in place, or in a new entry. */
static __always_inline void open_request(struct conn *c, __u64 key, const struct sock *sk,
					 __u32 fd, __u32 role,
					 const struct gp_target *t, __u64 id, const void *buf,
					 long n, __u32 m, bool lead)
{
	bool fresh = !c;
	__u32 zero = 0;

	if (fresh) {
		if (!may_carry_http(sk, fd))
			return;
		c = bpf_map_lookup_elem(&conn_scratch, &zero);
		if (!c)
			return;
	}
	start_request(c, fresh, role, t, id, buf, n, m, lead);
	if (fresh && bpf_map_update_elem(&http_conns, &key, c, BPF_ANY)) {
		bump(&lost, GP_LOST_HTTP_WIRE_CONNS);
		return;
	}
	if (role == ROLE_SERVER && c->rec.ev.goid) {
		struct gp_goroutine_key gk = { .pid = id >> 32, .goid = c->rec.ev.goid };
		struct gp_http_active *a = bpf_map_lookup_elem(&http_active, &gk);

		if (!a) {
			bpf_map_update_elem(&http_active, &gk, &c->rec.ev.a, BPF_ANY);
			return;
		}
		/* In place: start_ns is 0 while the rest changes (see cpu_sample.bpf.c). */
		*(volatile __u64 *)&a->start_ns = 0;
		__builtin_memcpy((char *)a + sizeof(a->start_ns),
				 (char *)&c->rec.ev.a + sizeof(a->start_ns),
				 sizeof(*a) - sizeof(a->start_ns));
		*(volatile __u64 *)&a->start_ns = c->rec.ev.a.start_ns;
	}
}

/* The attached process of the current thread, counting the hook's run; NULL if none. */
static __always_inline const struct gp_target *attached(__u64 id, __u32 hook)
{
	__u32 pid = id >> 32;
	const struct gp_target *t = bpf_map_lookup_elem(&targets, &pid);

	if (t)
		bump(&wire_runs, hook);
	return t;
}

/*
 * The connection a read or write of the current process is on (NULL if none is
 * followed), with the syscall's fd and buffer (its arguments, still in the user regs)
 * and the connection's key.
 */
static __always_inline struct conn *conn_of(__u64 id, __u32 *fd, const void **buf, __u64 *key)
{
	struct pt_regs *regs = current_user_regs();

	*fd = 0;
	*buf = NULL;
	*key = 0;
	if (!regs)
		return NULL;
	*fd = (__u32)GP_SYSCALL_ARG0(regs);
	*buf = (const void *)GP_SYSCALL_ARG1(regs);
	*key = (id & 0xffffffff00000000ull) | *fd;
	return bpf_map_lookup_elem(&http_conns, key);
}

/*
 * A read of n bytes into buf (n <= 0: nothing read) on the connection c, found under key
 * (NULL: not followed yet) by a hook that gives either its sock or its fd.
 */
static __always_inline void wire_read(const struct gp_target *t, __u64 id, struct conn *c,
				      __u64 key, const struct sock *sk, __u32 fd,
				      const void *buf, long n)
{
	char peek[PEEK_LEN] = {};
	__u32 m;

	/* The server reads again: its answer is out, ended by its last write. */
	if (c && c->role == ROLE_SERVER && c->phase == PHASE_RESPONSE)
		finish(c, c->rec.ev.end_ns, (__u32)id);
	if (n <= 0) {
		/* The server hung up before answering the client's request. */
		if (n == 0 && c && c->role == ROLE_CLIENT && c->phase == PHASE_REQUEST) {
			c->rec.ev.a.flags |= GP_HTTP_F_CLIENT_ERROR;
			finish(c, bpf_ktime_get_ns(), (__u32)id);
		}
		return;
	}
	if (!c && n < MIN_REQUEST_LEN)
		return; /* not a connection seen before, and too short to start a request */
	if (c && c->role == ROLE_SERVER && c->phase != PHASE_IDLE)
		return; /* a request body: nothing to look at */
	if (bpf_probe_read_user(peek, sizeof(peek), buf))
		return;
	if (c && c->role == ROLE_CLIENT && c->phase == PHASE_REQUEST) {
		__u32 status = status_line(peek, n);

		/* 1xx answers (100 Continue) are not the final one. */
		if (status >= 200 || status == 101) {
			c->rec.ev.status = status;
			finish(c, bpf_ktime_get_ns(), (__u32)id);
		}
		return;
	}
	if (c && c->phase != PHASE_IDLE)
		return; /* a request body */
	if (c && c->has_lead) {
		char joined[PEEK_LEN] = { c->lead };

		c->has_lead = 0;
		bpf_probe_read_user(joined + 1, sizeof(joined) - 1, buf);
		m = request_line(joined, n + 1);
		if (m && (m = method_len_opaque(m))) {
			open_request(c, key, sk, fd, ROLE_SERVER, t, id, buf, n + 1, m, true);
			return;
		}
	}
	m = request_line(peek, n);
	if (m && (m = method_len_opaque(m)))
		open_request(c, key, sk, fd, ROLE_SERVER, t, id, buf, n, m, false);
	else if (n == 1 && c && c->role == ROLE_SERVER) {
		c->lead = peek[0];
		c->has_lead = 1;
	}
}

/* A write of n bytes from buf on the connection c (as in wire_read()). */
static __always_inline void wire_write(const struct gp_target *t, __u64 id, struct conn *c,
				       __u64 key, const struct sock *sk, __u32 fd,
				       const void *buf, long n)
{
	char peek[PEEK_LEN] = {};
	__u32 m;

	if (n <= 0)
		return;
	if (c && c->role == ROLE_SERVER && c->phase != PHASE_IDLE) {
		if (c->phase == PHASE_REQUEST) {
			__u32 status = 0;

			if (!bpf_probe_read_user(peek, sizeof(peek), buf))
				status = status_line(peek, n);
			if (status >= 100 && status < 200 && status != 101)
				return; /* 100 Continue: the answer comes later */
			c->rec.ev.status = status;
			c->phase = PHASE_RESPONSE;
		}
		c->rec.ev.response_bytes += n;
		c->rec.ev.end_ns = bpf_ktime_get_ns();
		return;
	}
	if (c && c->phase != PHASE_IDLE)
		return; /* a client's request body */
	if (!c && n < MIN_REQUEST_LEN)
		return; /* e.g. the Go runtime's 8-byte eventfd writes that wake its poller */
	if (bpf_probe_read_user(peek, sizeof(peek), buf))
		return;
	m = request_line(peek, n);
	if (m && (m = method_len_opaque(m)))
		open_request(c, key, sk, fd, ROLE_CLIENT, t, id, buf, n, m, false);
}

/* The process closed connection c (key), its requests' last thread being tid. */
static __always_inline void wire_close(struct conn *c, __u64 key, __u32 tid)
{
	if (c->phase == PHASE_RESPONSE) {
		finish(c, c->rec.ev.end_ns, tid);
	} else if (c->phase == PHASE_REQUEST && c->role == ROLE_CLIENT) {
		c->rec.ev.a.flags |= GP_HTTP_F_CLIENT_ERROR; /* closed without an answer */
		finish(c, bpf_ktime_get_ns(), tid);
	} else if (c->phase == PHASE_REQUEST && c->role == ROLE_SERVER) {
		bump(&lost, GP_LOST_HTTP_UNFINISHED); /* read, never answered */
	}
	/* The connection's goroutine is done with it: its entry goes. */
	if (c->role == ROLE_SERVER && c->rec.ev.goid) {
		struct gp_goroutine_key gk = { .pid = c->rec.ev.pid, .goid = c->rec.ev.goid };

		bpf_map_delete_elem(&http_active, &gk);
	}
	bpf_map_delete_elem(&http_conns, &key);
}

/* Socket hooks (Linux 6.3+). */

#define MSG_PEEK 2

/*
 * The user buffer of the socket I/O under way: the buffer argument of read(2) or
 * recvfrom(2) (reading), write(2) or sendto(2), still in the task's registers. NULL for
 * other calls (readv, recvmsg, sendfile, the kernel's own socket I/O): those bytes are
 * not looked at, which costs nothing but a request opened by them.
 */
static __always_inline const void *syscall_buffer(bool reading)
{
	/* 6.3+ (these hooks): bpf_task_pt_regs() (5.15+) gives a trusted pointer, read
	 * with plain loads rather than a helper call per register. */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr;

	if (!regs)
		return NULL;
	nr = GP_SYSCALL_NR_DIRECT(regs);
	if (reading ? nr == GP_NR_read || nr == GP_NR_recvfrom : nr == GP_NR_write || nr == GP_NR_sendto)
		return (const void *)GP_SYSCALL_ARG1_DIRECT(regs);
	return NULL;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(http_wire_sock_read, struct sock *sk, int ret, int flags)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;
	const struct gp_target *t;

	if (flags & MSG_PEEK)
		return 0;
	t = attached(id, GP_HTTP_WIRE_READ);
	/* Most reads of an idle Go connection find nothing (EAGAIN, then the poller): the
	 * buffer is looked up only for bytes read. */
	if (t)
		wire_read(t, id, bpf_map_lookup_elem(&http_conns, &key), key, sk, 0,
			  ret > 0 ? syscall_buffer(true) : NULL, ret);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(http_wire_sock_write, struct sock *sk, int ret, int flags)
{
	__u64 id = bpf_get_current_pid_tgid(), key = (__u64)sk;
	const struct gp_target *t;
	struct conn *c;

	if (ret <= 0)
		return 0; /* nothing written: nothing to see */
	t = attached(id, GP_HTTP_WIRE_WRITE);
	if (!t)
		return 0;
	c = bpf_map_lookup_elem(&http_conns, &key);
	/* The answer's later writes only move its end: no need for the buffer. */
	wire_write(t, id, c, key, sk, 0,
		   c && c->role == ROLE_SERVER && c->phase == PHASE_RESPONSE ? NULL :
		   syscall_buffer(false), ret);
	return 0;
}

/*
 * This side closes the connection: ESTABLISHED -> FIN_WAIT1, or CLOSE_WAIT -> LAST_ACK
 * after the peer's FIN, or CLOSE on a reset. The peer's FIN alone (-> CLOSE_WAIT) ends
 * nothing: an answer may still wait in the socket for the client to read. May run in
 * softirq context, on any task: the connection is found by its sock alone.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(http_wire_sock_close, const struct sock *sk, const int oldstate, const int newstate)
{
	__u64 key = (__u64)sk;
	struct conn *c;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK && newstate != TCP_CLOSE)
		return 0;
	c = bpf_map_lookup_elem(&http_conns, &key);
	if (!c)
		return 0;
	bump(&wire_runs, GP_HTTP_WIRE_CLOSE);
	wire_close(c, key, c->rec.ev.tid);
	return 0;
}

/* Syscall hooks (older kernels). */

SEC("tracepoint/syscalls/sys_exit_read")
int http_wire_read(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), key;
	const struct gp_target *t = attached(id, GP_HTTP_WIRE_READ);
	const void *buf;
	struct conn *c;
	__u32 fd;

	if (!t)
		return 0;
	c = conn_of(id, &fd, &buf, &key);
	wire_read(t, id, c, key, NULL, fd, buf, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int http_wire_write(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), key;
	const struct gp_target *t = attached(id, GP_HTTP_WIRE_WRITE);
	const void *buf;
	struct conn *c;
	__u32 fd;

	if (!t || ctx->ret <= 0)
		return 0;
	c = conn_of(id, &fd, &buf, &key);
	wire_write(t, id, c, key, NULL, fd, buf, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int http_wire_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), key;
	struct conn *c;

	if (!attached(id, GP_HTTP_WIRE_CLOSE))
		return 0;
	key = (id & 0xffffffff00000000ull) | (__u32)ctx->args[0];
	c = bpf_map_lookup_elem(&http_conns, &key);
	if (c)
		wire_close(c, key, (__u32)id);
	return 0;
}
