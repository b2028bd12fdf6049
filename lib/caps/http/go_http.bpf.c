// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * net/http request tracing (GOPROF_FEATURE_HTTP), with uprobes by address (never
 * uretprobes: the ends are uprobes on every RET):
 *
 * - server: net/http.serverHandler.ServeHTTP(sh, rw ResponseWriter, req *Request) is
 *   called once per request by the connection's goroutine. Go's register ABI: sh (a
 *   struct holding one pointer) in argument register 1, rw in 2 (itab) and 3 (data), req
 *   in 4 (RAX, RBX, RCX, RDI; R0-R3 on arm64: bpf/arch.bpf.h). The
 *   entry stores the request per (pid, goid) in http_active (the CPU sampler reads it
 *   to label samples), in place after the connection's first request; a RET reads the
 *   status the handler left in the *response, emits one record and zeroes the entry's
 *   start_ns.
 * - a connection's end: the deferred function of net/http.(*conn).serve runs once per
 *   connection on its goroutine; a request still in flight there never returned from
 *   its handler (it panicked) and is counted as lost.
 * - client: net/http.(*Client).do(c, req) (*Response, error): c in register 1, req in 2
 *   at the entry; at a RET the *Response is in register 1 and the error's itab in 2.
 *
 * The uprobe's cookie is the Go minor version: it selects the structure offsets in
 * layouts (filled by user space from lib/go/go_offsets.c before attaching).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "goprof_bpf.h"
#include "shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "http_active.bpf.h"

/* Client requests in flight (a handler calling out keeps its server entry). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_HTTP_MAX_ACTIVE);
	__type(key, struct gp_goroutine_key);
	__type(value, struct gp_http_active);
} http_client_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GP_HTTP_MAX_LAYOUTS);
	__type(key, __u32);
	__type(value, struct gp_http_layout);
} layouts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_HTTP_PROBE_NR);
	__type(key, __u32);
	__type(value, __u64);
} http_hits SEC(".maps");

/* Where a request or a record is assembled (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_http_event);
} http_scratch SEC(".maps");

/* Set by user space when the overhead budget detaches the probes: unhooking each uprobe
 * takes a while, and a request must not be half traced meanwhile. */
bool disabled = false;

struct go_string {
	__u64 ptr;
	__u64 len;
};

/* Copies a Go string at addr into dst[cap] (cap a power of two), NUL-terminated;
 * returns the string's full length. */
static __always_inline __u32 read_string_at(char *dst, __u32 cap, __u64 addr)
{
	struct go_string s = {};
	__u32 n;

	dst[0] = '\0';
	if (bpf_probe_read_user(&s, sizeof(s), (void *)addr) || !s.ptr)
		return 0;
	n = s.len < cap - 1 ? (__u32)s.len : cap - 1;
	n &= cap - 1;
	if (bpf_probe_read_user(dst, n, (void *)s.ptr))
		n = 0;
	dst[n & (cap - 1)] = '\0';
	return s.len > 0xffffffffull ? 0xffffffffu : (__u32)s.len;
}

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* Context of a probe hit: the attached Go process, its goroutine and the layout. */
struct hit {
	struct gp_goroutine_key key;
	const struct gp_http_layout *lay;
	__u32 tid;
};

static __always_inline bool begin(struct pt_regs *ctx, __u32 probe, struct hit *h)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gp_target *t;
	__u32 minor;

	if (disabled)
		return false;
	h->key.pid = id >> 32;
	h->key.pad = 0;
	h->tid = (__u32)id;
	t = bpf_map_lookup_elem(&targets, &h->key.pid);
	if (!t || !t->is_go)
		return false;
	bump(&http_hits, probe);
	/* The target's Go release, not an attach cookie: uprobe cookies need 5.15. */
	minor = t->go_minor;
	h->lay = bpf_map_lookup_elem(&layouts, &minor);
	if (!h->lay || !h->lay->valid)
		return false;
	h->key.goid = read_u64(GO_G(ctx) + t->g_goid); /* Go functions: g in R14 (R28) */
	return h->key.goid != 0;
}

/* Method, URL host and path, content length of a *Request. */
static __always_inline void read_request(const struct gp_http_layout *lay, __u64 req,
					 struct gp_http_active *a)
{
	__u64 url = read_u64(req + lay->req_url);

	a->method_len = read_string_at(a->method, GP_HTTP_METHOD_LEN, req + lay->req_method);
	a->content_length = (__s64)read_u64(req + lay->req_content_length);
	a->path[0] = '\0';
	a->host[0] = '\0';
	a->path_len = 0;
	a->host_len = 0;
	if (url) {
		a->path_len = read_string_at(a->path, GP_HTTP_PATH_LEN, url + lay->url_path);
		a->host_len = read_string_at(a->host, GP_HTTP_HOST_LEN, url + lay->url_host);
	}
}

SEC("uprobe")
int go_http_serve(struct pt_regs *ctx)
{
	__u64 rw = GO_ARG3(ctx), req = GO_ARG4(ctx);
	struct gp_http_active *a, *old;
	struct gp_http_event *ev;
	struct hit h;
	__u32 zero = 0;

	if (!begin(ctx, GP_HTTP_PROBE_SERVE, &h) || !req)
		return 0;
	ev = bpf_map_lookup_elem(&http_scratch, &zero);
	if (!ev)
		return 0;
	a = &ev->a;
	read_request(h.lay, req, a);
	a->start_ns = bpf_ktime_get_ns();
	a->tid = h.tid;
	a->flags = 0;
	a->pad = 0;
	if (read_u64(req + h.lay->req_proto_major) == 2)
		a->flags |= GP_HTTP_F_HTTP2;
	/*
	 * Which ResponseWriter: net/http's HTTP/1 *response points back at its request, and
	 * so does the state of the bundled HTTP/2 server's writer; anything else (a writer
	 * of another server) has no status we know how to read.
	 */
	a->rw = rw;
	if (!rw || read_u64(rw + h.lay->resp_req) != req) {
		a->rw = rw ? read_u64(rw + h.lay->h2_rws) : 0;
		if (a->rw && (h.lay->h2_req_url ?
			      read_u64(a->rw + h.lay->h2_req_url) == read_u64(req + h.lay->req_url) :
			      read_u64(a->rw + h.lay->h2_req) == req)) {
			a->flags |= GP_HTTP_F_H2_WRITER;
		} else {
			a->rw = 0;
			a->flags |= GP_HTTP_F_NOT_HTTP1;
		}
	}
	/*
	 * A connection's goroutine serves its requests one after the other: its entry stays
	 * (start_ns 0 between requests) and is rewritten in place, as the wire tracer does,
	 * which saves the LRU map an update and a delete per request. A request still in
	 * flight on this goroutine never ended (its handler panicked).
	 */
	old = bpf_map_lookup_elem(&http_active, &h.key);
	if (!old) {
		bpf_map_update_elem(&http_active, &h.key, a, BPF_ANY);
		return 0;
	}
	if (*(volatile __u64 *)&old->start_ns)
		bump(&lost, GP_LOST_HTTP_UNFINISHED);
	/* start_ns is 0 while the rest changes (see cpu_sample.bpf.c). */
	*(volatile __u64 *)&old->start_ns = 0;
	__builtin_memcpy((char *)old + sizeof(old->start_ns), (char *)a + sizeof(a->start_ns),
			 sizeof(*a) - sizeof(a->start_ns));
	*(volatile __u64 *)&old->start_ns = a->start_ns;
	return 0;
}

/* The record of the request in flight on this goroutine, taken out of the map (an HTTP/1
 * server's entry stays, with start_ns 0: no request); NULL if none (it began before the probes, or
 * the map evicted it). */
static __always_inline struct gp_http_event *end_request(void *active, const struct hit *h,
							 __u32 type)
{
	struct gp_http_active *a = bpf_map_lookup_elem(active, &h->key);
	struct gp_http_event *ev;
	__u32 zero = 0;

	if (!a || (type == GP_REC_HTTP_SERVER && !*(volatile __u64 *)&a->start_ns))
		return NULL;
	ev = bpf_map_lookup_elem(&http_scratch, &zero);
	if (!ev)
		return NULL;
	ev->a = *a;
	/* HTTP/1: the connection's goroutine serves its next request too (no request
	 * meanwhile: no labels); HTTP/2 runs each handler on a goroutine of its own. */
	if (type == GP_REC_HTTP_SERVER && !(ev->a.flags & (GP_HTTP_F_H2_WRITER | GP_HTTP_F_NOT_HTTP1)))
		*(volatile __u64 *)&a->start_ns = 0;
	else
		bpf_map_delete_elem(active, &h->key);
	ev->type = type;
	ev->pid = h->key.pid;
	ev->tid = h->tid;
	ev->goid = h->key.goid;
	ev->end_ns = bpf_ktime_get_ns();
	ev->status = 0;
	ev->response_bytes = -1;
	return ev;
}

SEC("uprobe")
int go_http_serve_ret(struct pt_regs *ctx)
{
	struct gp_http_event *ev;
	__u64 conn, status;
	__u8 hijacked = 0;
	struct hit h;

	if (!begin(ctx, GP_HTTP_PROBE_SERVE_RET, &h))
		return 0;
	ev = end_request(&http_active, &h, GP_REC_HTTP_SERVER);
	if (!ev)
		return 0;
	if (ev->a.rw && ev->a.flags & GP_HTTP_F_H2_WRITER) {
		status = read_u64(ev->a.rw + h.lay->h2_status);
		ev->response_bytes = (__s64)read_u64(ev->a.rw + h.lay->h2_written);
		/* Nothing written: the HTTP/2 server sends 200 when the handler is done. */
		ev->status = status ? (__u32)status : 200;
		if (!status)
			ev->a.flags |= GP_HTTP_F_IMPLICIT_200;
	} else if (ev->a.rw) {
		status = read_u64(ev->a.rw + h.lay->resp_status);
		ev->response_bytes = (__s64)read_u64(ev->a.rw + h.lay->resp_written);
		conn = read_u64(ev->a.rw + h.lay->resp_conn);
		if (conn)
			bpf_probe_read_user(&hijacked, 1, (void *)(conn + h.lay->conn_hijacked));
		if (hijacked) {
			ev->a.flags |= GP_HTTP_F_HIJACKED;
		} else if (status == 0) {
			/* Nothing written: net/http's finishRequest sends 200 after the handler. */
			ev->status = 200;
			ev->a.flags |= GP_HTTP_F_IMPLICIT_200;
		} else {
			ev->status = (__u32)status;
		}
	}
	if (bpf_ringbuf_output(&samples, ev, sizeof(*ev), lazy_wakeup()))
		bump(&lost, GP_LOST_HTTP_RINGBUF);
	return 0;
}

SEC("uprobe")
int go_http_client(struct pt_regs *ctx)
{
	__u64 req = GO_ARG2(ctx);
	struct gp_http_event *ev;
	struct hit h;
	__u32 zero = 0;

	if (!begin(ctx, GP_HTTP_PROBE_CLIENT, &h) || !req)
		return 0;
	ev = bpf_map_lookup_elem(&http_scratch, &zero);
	if (!ev)
		return 0;
	read_request(h.lay, req, &ev->a);
	ev->a.start_ns = bpf_ktime_get_ns();
	ev->a.tid = h.tid;
	ev->a.flags = 0;
	ev->a.rw = 0;
	ev->a.pad = 0;
	if (bpf_map_lookup_elem(&http_client_active, &h.key))
		bump(&lost, GP_LOST_HTTP_UNFINISHED);
	bpf_map_update_elem(&http_client_active, &h.key, &ev->a, BPF_ANY);
	return 0;
}

SEC("uprobe")
int go_http_client_ret(struct pt_regs *ctx)
{
	__u64 resp = GO_RET1(ctx), err_itab = GO_RET2(ctx);
	struct gp_http_event *ev;
	struct hit h;

	if (!begin(ctx, GP_HTTP_PROBE_CLIENT_RET, &h))
		return 0;
	ev = end_request(&http_client_active, &h, GP_REC_HTTP_CLIENT);
	if (!ev)
		return 0;
	if (err_itab)
		ev->a.flags |= GP_HTTP_F_CLIENT_ERROR;
	else if (resp)
		ev->status = (__u32)read_u64(resp + h.lay->response_status);
	if (bpf_ringbuf_output(&samples, ev, sizeof(*ev), lazy_wakeup()))
		bump(&lost, GP_LOST_HTTP_RINGBUF);
	return 0;
}

SEC("uprobe")
int go_http_conn_done(struct pt_regs *ctx)
{
	struct hit h;

	struct gp_http_active *a;

	if (!begin(ctx, GP_HTTP_PROBE_CONN_DONE, &h))
		return 0;
	/* The connection's goroutine is done with it: its entry goes. */
	a = bpf_map_lookup_elem(&http_active, &h.key);
	if (!a)
		return 0;
	if (*(volatile __u64 *)&a->start_ns)
		bump(&lost, GP_LOST_HTTP_UNFINISHED);
	bpf_map_delete_elem(&http_active, &h.key);
	return 0;
}
