/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Types shared between the BPF programs and the library (included by both sides).
 * Fixed-width types only; both sides must agree on the layout.
 */
#ifndef GOPROF_BPF_SHARED_H
#define GOPROF_BPF_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* user space: __u8 ... __u64 (BPF side has them from vmlinux.h) */
#endif

#define GP_TASK_COMM_LEN 16
#define GP_MAX_TARGETS 4096
#define GP_MAX_EXE_TARGETS 64
#define GP_MAX_THREADS 65536
#define GP_MAX_STACK_DEPTH 127 /* the kernel's default perf_event_max_stack */
#define GP_MAX_LABELS 4        /* pprof labels copied per sample */
#define GP_LABEL_KEY_LEN 32
#define GP_LABEL_VALUE_LEN 64

/* Why a sample was not recorded everywhere it should have been. */
enum gp_lost_cause {
	GP_LOST_RINGBUF_FULL = 0,   /* bpf_ringbuf_reserve failed */
	GP_LOST_THREAD_TABLE_FULL,  /* per-thread count map had no room */
	GP_LOST_TARGETS_FULL,       /* an exec of an --exe target found the target map full */
	GP_LOST_EVENTS,             /* exec/exit and Go runtime records: the ring buffer was full */
	GP_LOST_OFFCPU = 4,         /* off-CPU intervals not aggregated: a table was full */
	GP_LOST_TCP = 7,            /* TCP records: the ring buffer was full (lib/caps/tcp/tcp.bpf.c) */
	GP_LOST_BLOCK_RECORDS = 5,  /* goroutine block records: the ring buffer was full */
	GP_LOST_CHANNELS_FULL = 6,  /* channel operations not counted: the channel map was full */
	GP_LOST_HTTP_RINGBUF = 8,   /* a finished HTTP request: the ring buffer was full */
	GP_LOST_HTTP_UNFINISHED = 9, /* a request whose end was never seen (the handler
				      * panicked): found when its connection ended */
	GP_LOST_HTTP_WIRE_CONNS = 10, /* wire HTTP: a connection not tracked, the table was full */
	GP_LOST_NR = 11,
};

/* Per-CPU counters of the sampling program. */
enum gp_counter {
	GP_CNT_SAMPLES = 0,   /* samples of attached processes */
	GP_CNT_DELIVERED,     /* samples written to the ring buffer */
	GP_CNT_GO_CONTEXT_FAILED, /* Go process, but the goroutine could not be read */
	GP_CNT_NR,
};

/* How g.labels leads to the pprof labels (per Go version). */
enum gp_labels_layout {
	GP_LABELS_NONE = 0,
	GP_LABELS_HMAP = 1,  /* Go <= 1.23: *map[string]string -> hmap, one bucket read */
	GP_LABELS_SLICE = 2, /* Go 1.24+: *struct{ list []struct{key, value string} } */
};

/*
 * What the BPF side needs to know about an attached process. is_go == 0: native only.
 * Offsets are of the runtime's g and m structs for the process's Go version.
 */
struct gp_target {
	__u8 is_go;
	__u8 labels_layout;    /* enum gp_labels_layout */
	__u16 g_m;             /* g.m */
	__u16 m_curg;          /* m.curg */
	__u16 g_goid;          /* g.goid */
	__u16 g_labels;        /* g.labels */
	__u8 malloc_size_arg;  /* runtime.mProf_Malloc's size argument: 1 = RBX (<= 1.22), 2 = RCX */
	__u8 hchan_lock;       /* hchan.lock: gopark's lock argument - this = the channel */
	__u8 wait_chan_send;   /* waitReasonChanSend of this Go release */
	__u8 wait_chan_recv;   /* waitReasonChanReceive */
	__u8 go_minor;         /* the Go release, 1.N: selects the net/http layout */
	__u8 pad;
};

/* Key of an executable attached by path: the kernel's dev_t (MKDEV) and inode. */
struct gp_exe_key {
	__u64 dev;
	__u64 ino;
};

struct gp_thread_key {
	__u32 pid;
	__u32 tid;
};

struct gp_thread_count {
	__u64 samples;
	char comm[GP_TASK_COMM_LEN];
};

struct gp_label_pair {
	char key[GP_LABEL_KEY_LEN];
	char value[GP_LABEL_VALUE_LEN];
};

/* Record types in the ring buffer (first word of every record). */
enum gp_record_type {
	GP_REC_SAMPLE = 1,
	GP_REC_EXEC = 2,
	GP_REC_EXIT = 3,
	GP_REC_GO_NEWPROC = 4, /* a goroutine runs a go statement (parent, creation stack) */
	GP_REC_GO_NEWG = 5,    /* the new goroutine's ID (same thread, right after NEWPROC) */
	GP_REC_GO_EXIT = 6,    /* a goroutine exits */
	/* GC and stop-the-world (struct gp_runtime_event, arg as noted) */
	GP_REC_GC_START_ENTER = 7,    /* runtime.gcStart entry; arg: gcTriggerKind */
	GP_REC_GC_START_RET = 8,      /* runtime.gcStart returns */
	GP_REC_GC_MARKTERM_ENTER = 9, /* runtime.gcMarkTermination entry */
	GP_REC_GC_MARKTERM_RET = 10,  /* runtime.gcMarkTermination returns: cycle end */
	GP_REC_STW_STOP = 11,         /* runtime.stopTheWorldWithSema entry */
	GP_REC_STW_STARTED = 12,      /* runtime.startTheWorldWithSema returns */
	GP_REC_HEAP_ALLOC = 13,       /* runtime.mProf_Malloc: a sampled allocation (our stack) */
	GP_REC_HEAP_FREE = 14,        /* runtime.mProf_Free: a sampled object freed (the bucket's stack) */
	GP_REC_ALLOC_EXACT = 15,      /* runtime.mallocgc: every allocation (opt-in, expensive) */
	/* TCP connections (struct gp_tcp_event, lib/caps/tcp/tcp.bpf.c) */
	GP_REC_TCP_CONNECT = 35,      /* an outgoing connection was established, or failed */
	GP_REC_TCP_ACCEPT = 36,       /* accept() returned a connection */
	GP_REC_TCP_CLOSE = 37,        /* a tracked connection reached TCP_CLOSE */
	GP_REC_BLOCK = 25,            /* a parked goroutine was made runnable (struct gp_block_event) */
	GP_REC_HTTP_SERVER = 40,      /* a net/http server request finished (struct gp_http_event) */
	GP_REC_HTTP_CLIENT = 41,      /* a net/http client request finished */
	GP_REC_HTTP_WIRE_SERVER = 42, /* an HTTP/1 request read off a socket was answered
				       * (struct gp_http_wire_event) */
	GP_REC_HTTP_WIRE_CLIENT = 43, /* an HTTP/1 request written to a socket got its answer */
};

/* The Go runtime probes, for hit counters and the overhead budget. */
enum gp_go_probe {
	GP_PROBE_NEWPROC = 0,   /* runtime.newproc entry */
	GP_PROBE_NEWPROC1_RET,  /* runtime.newproc1 RETs */
	GP_PROBE_GOEXIT1,       /* runtime.goexit1 entry */
	GP_PROBE_GC,            /* the GC and stop-the-world probes together */
	GP_PROBE_HEAP,          /* runtime.mProf_Malloc and runtime.mProf_Free */
	GP_PROBE_SCHED,         /* runtime.casgstatus */
	GP_PROBE_MALLOCGC,      /* runtime.mallocgc (opt-in per-allocation mode) */
	GP_PROBE_GOPARK,        /* runtime.gopark (goroutine blocking) */
	GP_PROBE_BLOCK_WAKE,    /* runtime.casgstatus for goroutine blocking */
	GP_PROBE_CHANOPS,       /* runtime.chansend and runtime.chanrecv */
	GP_PROBE_NR,
};

#define GP_CREATION_STACK_DEPTH 32

/* GP_REC_GO_NEWPROC; variable length: stack[] ends at nr_stack (return addresses). */
struct gp_newproc_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 nr_stack;
	__u64 time_ns;
	__u64 parent_goid;
	__u64 stack[GP_CREATION_STACK_DEPTH];
};
#define GP_NEWPROC_EVENT_SIZE(n) ((unsigned long)&((struct gp_newproc_event *)0)->stack[n])

/* Scheduling latency per goroutine: runnable -> running, log2 microsecond buckets. */
#define GP_SCHED_BUCKETS 32 /* a power of two: indexes are masked */
#define GP_MAX_SCHED_GOROUTINES 65536

struct gp_goroutine_key {
	__u32 pid;
	__u32 pad;
	__u64 goid;
};

struct gp_sched_stats {
	__u64 runnable_since; /* CLOCK_MONOTONIC ns when it became runnable, 0 if not runnable */
	__u64 count;          /* runnable -> running transitions */
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[GP_SCHED_BUCKETS];
};

#define GP_HEAP_STACK_DEPTH 32

/* GP_REC_HEAP_ALLOC / GP_REC_HEAP_FREE; variable length up to stack[nr_stack]. */
struct gp_heap_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 nr_stack;
	__u64 time_ns;
	__u64 size;   /* bytes of the sampled object */
	__u64 stack[GP_HEAP_STACK_DEPTH]; /* return addresses, leaf first */
};
#define GP_HEAP_EVENT_SIZE(n) ((unsigned long)&((struct gp_heap_event *)0)->stack[n])

/* GC and stop-the-world records. */
struct gp_runtime_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 pad;
	__u64 time_ns;
	__u64 arg;
};

/* GP_REC_GO_NEWG and GP_REC_GO_EXIT. */
struct gp_goroutine_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 pad;
	__u64 time_ns;
	__u64 goid;
};

/*
 * Goroutine blocking: a goroutine parks (runtime.gopark) and is made runnable again
 * (runtime.casgstatus from _Gwaiting). The park record is kept per goroutine in an LRU
 * map and sent to the ring buffer as it is at the wake, with the wake time filled in.
 */
#define GP_BLOCK_STACK_DEPTH 32
#define GP_MAX_PARKED 32768 /* goroutines parked at once (LRU: leaked ones are evicted) */
#define GP_BLOCK_F_NO_STACK 1u /* the parked stack could not be unwound */
#define GP_BLOCK_F_TRUNCATED 2u /* the stack filled GP_BLOCK_STACK_DEPTH */

struct gp_block_event {
	__u32 type;     /* GP_REC_BLOCK */
	__u32 pid;
	__u32 tid;      /* thread that parked */
	__u32 nr_stack;
	__u64 park_ns;  /* CLOCK_MONOTONIC */
	__u64 wake_ns;
	__u64 goid;
	__u64 chan;     /* chan send/receive: the channel (hchan address), else 0 */
	__u8 reason;    /* Go's waitReason (numbering per release) */
	__u8 pad[3];
	__u32 flags;    /* GP_BLOCK_F_* */
	__u64 stack[GP_BLOCK_STACK_DEPTH]; /* return addresses, leaf first (gopark's caller) */
};
#define GP_BLOCK_EVENT_SIZE(n) ((unsigned long)&((struct gp_block_event *)0)->stack[n])

/* Per-channel statistics, aggregated in the kernel (key: process and hchan address). */
#define GP_MAX_CHANNELS 8192
#define GP_CHAN_BUCKETS 32 /* log2 microsecond buckets of blocked time; a power of two */
#define GP_CHAN_STACK_DEPTH 16

struct gp_chan_key {
	__u32 pid;
	__u32 pad;
	__u64 addr;
};

struct gp_chan_stats {
	__u64 first_ns;       /* first seen */
	__u64 sends, recvs;   /* runtime.chansend / chanrecv calls (GOPROF_FEATURE_CHANNELS) */
	__u64 blocked_sends, blocked_recvs; /* ... that parked (GOPROF_FEATURE_BLOCK) */
	__u64 blocked_ns;     /* summed parked time of both */
	__u64 send_blocked_ns; /* ... of the sends */
	__u64 max_blocked_ns;
	__u64 sum_qcount;     /* buffered elements seen at each operation: mean occupancy */
	__u32 capacity;       /* hchan.dataqsiz */
	__u32 max_qcount;     /* highest hchan.qcount seen */
	__u32 nr_stack;       /* first use: stack[] entries, return addresses, leaf first */
	__u32 pad;
	__u64 send_hist[GP_CHAN_BUCKETS]; /* blocked sends: [2^i, 2^(i+1)) microseconds */
	__u64 recv_hist[GP_CHAN_BUCKETS];
	__u64 stack[GP_CHAN_STACK_DEPTH];
};

#define GP_SAMPLE_F_GO 1u             /* goid and labels were read */
#define GP_SAMPLE_F_LABELS_TRUNC 2u   /* more labels than GP_MAX_LABELS (or a grown map) */
#define GP_SAMPLE_F_USER_TRUNC 4u     /* user stack filled the buffer: may be truncated */
#define GP_SAMPLE_F_KERNEL_TRUNC 8u

/*
 * Ring buffer record for one CPU sample. Variable length: stack[] holds nr_user user
 * addresses then nr_kernel kernel addresses, and the record ends there
 * (GP_SAMPLE_EVENT_SIZE), so a shallow stack costs a few hundred bytes of ring buffer.
 */
struct gp_sample_event {
	__u32 type;   /* GP_REC_SAMPLE */
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u64 time_ns;
	__u64 goid;
	char comm[GP_TASK_COMM_LEN];
	__u32 flags;  /* GP_SAMPLE_F_* */
	__u32 nr_labels;
	__u32 nr_user;
	__u32 nr_kernel;
	struct gp_label_pair labels[GP_MAX_LABELS];
	__u64 stack[2 * GP_MAX_STACK_DEPTH];
};

#define GP_SAMPLE_EVENT_HEADER_SIZE ((unsigned long)&((struct gp_sample_event *)0)->stack)
#define GP_SAMPLE_EVENT_SIZE(nr_user, nr_kernel) \
	(GP_SAMPLE_EVENT_HEADER_SIZE + 8 * ((nr_user) + (nr_kernel)))

/*
 * GP_REC_EXEC: an attached process called exec, or a process started running an
 * executable attached by path, or (goprof_session_attach_all) any process called exec;
 * it is then already in targets.
 * GP_REC_EXIT: an attached process exited; it was removed from targets so that a new
 * process reusing the PID is not sampled.
 */
struct gp_exec_event {
	__u32 type;  /* GP_REC_EXEC or GP_REC_EXIT */
	__u32 pid;
	char comm[GP_TASK_COMM_LEN];
	struct gp_exe_key exe; /* GP_REC_EXEC of an executable attached by path, else zero */
};

/*
 * net/http request tracing (GOPROF_FEATURE_HTTP). Strings are copied bounded (sizes are
 * powers of two: indexes are masked) with the full length kept, so user space can say
 * "truncated". Paths are bounded to what fits a pprof label value, the key the CPU
 * samples and the endpoint table share.
 */
#define GP_HTTP_METHOD_LEN 16
#define GP_HTTP_PATH_LEN GP_LABEL_VALUE_LEN
#define GP_HTTP_HOST_LEN 64
#define GP_HTTP_MAX_ACTIVE 16384    /* requests in flight tracked at once (LRU) */
#define GP_HTTP_MAX_LAYOUTS 64      /* layouts indexed by Go minor version */

/* Flags of gp_http_active.flags (equal to GOPROF_HTTP_* of the public header). */
#define GP_HTTP_F_NOT_HTTP1 0x1u    /* the ResponseWriter is neither net/http's HTTP/1
				     * *response nor its bundled HTTP/2 writer: no status */
#define GP_HTTP_F_HTTP2 0x2u        /* the request's ProtoMajor is 2 */
#define GP_HTTP_F_HIJACKED 0x4u     /* the handler hijacked the connection: no status */
#define GP_HTTP_F_CLIENT_ERROR 0x8u /* client: the request returned an error */
#define GP_HTTP_F_IMPLICIT_200 0x10u /* server: the handler wrote nothing; net/http sends 200 */
#define GP_HTTP_F_WIRE 0x20u        /* read off the socket (GOPROF_FEATURE_HTTP_WIRE) */
#define GP_HTTP_F_PUBLIC 0x3fu      /* the flags above, equal to the public ones */
#define GP_HTTP_F_H2_WRITER 0x100u  /* internal: rw is the HTTP/2 writer's state */

/* Offsets of net/http structures for one Go release (DWARF; lib/go/go_offsets.c). */
struct gp_http_layout {
	__u16 valid;
	__u16 req_method, req_url, req_proto_major, req_content_length, req_host;
	__u16 url_host, url_path;
	__u16 resp_conn, resp_req, resp_written, resp_status;
	__u16 conn_hijacked;       /* net/http.conn.hijackedv */
	__u16 response_status;     /* net/http.Response.StatusCode (client) */
	/* HTTP/2: *http2responseWriter{rws *http2responseWriterState} */
	__u16 h2_rws, h2_req, h2_status, h2_written;
	/*
	 * Go 1.27+: the writer state holds the request by value (an internal ServerRequest)
	 * and the handler gets a copy, so the state is recognised by the request's *url.URL,
	 * which both share: the offset of that pointer in the state; 0 before 1.27, where
	 * h2_req is a *Request compared with the handler's.
	 */
	__u16 h2_req_url;
	__u16 pad;
};

/* A request in flight, per (pid, goid); also read by the CPU sampler for its labels. */
struct gp_http_active {
	__u64 start_ns;
	__u64 rw;                  /* server: the *response, or the HTTP/2 writer's state
				    * (GP_HTTP_F_H2_WRITER); 0 if neither */
	__s64 content_length;      /* request body length as declared; -1 unknown */
	__u32 tid;
	__u32 flags;               /* GP_HTTP_F_* */
	__u32 method_len, path_len, host_len; /* full lengths in the target */
	__u32 pad;
	char method[GP_HTTP_METHOD_LEN];
	char path[GP_HTTP_PATH_LEN];
	char host[GP_HTTP_HOST_LEN];
};

/* GP_REC_HTTP_SERVER / GP_REC_HTTP_CLIENT */
struct gp_http_event {
	__u32 type;
	__u32 pid;
	__u64 goid;
	__u64 end_ns;
	__s64 response_bytes;      /* server: body bytes the handler wrote; -1 unknown */
	__u32 status;              /* 0: unknown (see flags) */
	__u32 tid;                 /* thread at the end */
	struct gp_http_active a;
};

/* The HTTP probes, for hit counters and the overhead budget. */
enum gp_http_probe {
	GP_HTTP_PROBE_SERVE = 0,   /* net/http.serverHandler.ServeHTTP entry */
	GP_HTTP_PROBE_SERVE_RET,   /* its RETs */
	GP_HTTP_PROBE_CLIENT,      /* net/http.(*Client).do entry */
	GP_HTTP_PROBE_CLIENT_RET,  /* its RETs */
	GP_HTTP_PROBE_CONN_DONE,   /* net/http.(*conn).serve.func1: a connection's deferred end */
	GP_HTTP_PROBE_NR,
};

#endif
