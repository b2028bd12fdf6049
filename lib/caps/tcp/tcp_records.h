/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* The tcp capability's maps and records, shared by its BPF program and its C
 * (bpf/goprof_bpf.h holds the core program's). */
#ifndef GOPROF_TCP_RECORDS_H
#define GOPROF_TCP_RECORDS_H

#include "goprof_bpf.h"

/* TCP: sockets of attached processes, tracked from connect() or accept() to TCP_CLOSE. */
#define GP_MAX_TCP_SOCKS 65536

#define GP_TCP_F_ACCEPTED 1u   /* passive open: the entry was made by accept() */
#define GP_TCP_F_RESET_RECEIVED 2u /* the peer sent a RST (tcp:tcp_receive_reset) */
#define GP_TCP_F_ABORTED 4u    /* closed from ESTABLISHED/CLOSE_WAIT straight to CLOSE
				  without an error: the local side sent a RST */

/* A tracked socket (map value, keyed by the kernel's struct sock address). */
struct gp_tcp_sock {
	__u32 pid;             /* the process that connected or accepted */
	__u32 tid;             /* and its thread */
	__u64 start_ns;        /* SYN_SENT (connect) or accept() returning */
	__u64 established_ns;  /* SYN_SENT -> ESTABLISHED; 0 before (and for accepted sockets) */
	__u32 flags;           /* GP_TCP_F_* */
	__u32 pad;
	__u64 conn_id;         /* 1, 2, ... in the order sockets were tracked */
	__u64 goid;            /* Go: the goroutine that connected or accepted; else 0 */
};

/* Counters of lib/caps/tcp/tcp.bpf.c (per-CPU array tcp_counters). */
enum gp_tcp_counter {
	GP_TCP_CNT_TRACKED = 0,  /* sockets of attached processes entered in the table */
	GP_TCP_CNT_TABLE_FULL,   /* sockets not tracked: the table was full */
	GP_TCP_CNT_HOOK_RUNS,    /* runs of the state-change and accept hooks, every process */
	GP_TCP_CNT_NR,
};

/* GP_REC_TCP_CONNECT / ACCEPT / CLOSE. */
struct gp_tcp_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u16 family;          /* AF_INET or AF_INET6 */
	__u16 flags;           /* GP_TCP_F_* */
	__u64 time_ns;
	__u64 conn_id;         /* gp_tcp_sock.conn_id: the same for every event of a socket */
	__u64 goid;            /* gp_tcp_sock.goid */
	__u8 local_addr[16];   /* IPv4: the first 4 bytes; network byte order */
	__u8 remote_addr[16];
	__u16 local_port;      /* host byte order */
	__u16 remote_port;
	__s32 error;           /* 0, or the socket's error at TCP_CLOSE (ECONNREFUSED, ...) */
	__u64 handshake_ns;    /* CONNECT: SYN_SENT -> ESTABLISHED */
	__u64 duration_ns;     /* CLOSE: from connect or accept to TCP_CLOSE */
	__u64 bytes_sent;      /* payload bytes sent, retransmissions not counted twice */
	__u64 bytes_received;  /* payload bytes received (the FIN not counted) */
	__u32 retransmits;     /* segments retransmitted (tcp_sock.total_retrans) */
	__u32 srtt_us;         /* the kernel's smoothed RTT estimate */
};

#endif /* GOPROF_TCP_RECORDS_H */
