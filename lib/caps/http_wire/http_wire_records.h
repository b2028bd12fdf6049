/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* The http_wire capability's maps and records, shared by its BPF program and its C
 * (bpf/goprof_bpf.h holds the core program's). */
#ifndef GOPROF_HTTP_WIRE_RECORDS_H
#define GOPROF_HTTP_WIRE_RECORDS_H

#include "goprof_bpf.h"

/*
 * HTTP/1 from the wire (GOPROF_FEATURE_HTTP_WIRE, lib/caps/http_wire/http_wire.bpf.c): the request
 * line and status line are parsed in the kernel, the first GP_HTTP_HEAD_LEN bytes of the
 * request go to user space, which finds Host and Content-Length there.
 */
#define GP_HTTP_HEAD_LEN 512
#define GP_HTTP_WIRE_MAX_CONNS 8192 /* connections followed at once (LRU) */

/* GP_REC_HTTP_WIRE_SERVER / _CLIENT: ev.type says which; ev.a.host is empty. */
struct gp_http_wire_event {
	struct gp_http_event ev;
	__u32 head_len;            /* bytes in head */
	__u32 pad;
	char head[GP_HTTP_HEAD_LEN]; /* the request as sent: request line, headers, ... */
};

/* The wire hooks, for run counters. */
enum gp_http_wire_hook {
	GP_HTTP_WIRE_READ = 0,     /* syscalls:sys_exit_read of an attached process */
	GP_HTTP_WIRE_WRITE,        /* syscalls:sys_exit_write */
	GP_HTTP_WIRE_CLOSE,        /* syscalls:sys_enter_close */
	GP_HTTP_WIRE_HOOK_NR,
};

#endif /* GOPROF_HTTP_WIRE_RECORDS_H */
