/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file session.h
 * @brief A profiling session: the BPF programs loaded for one host, the processes
 *        attached to it, and the samples it delivers.
 *
 * Typical use:
 *
 *     GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 99,
 *                 .on_sample = print_sample, .ctx = state);
 *     struct goprof_session *s = goprof_session_new(&opts);
 *     if (!s) { fprintf(stderr, "%s\n", goprof_last_error()); ... }
 *     goprof_session_attach_pid(s, pid, NULL);
 *     goprof_session_start(s);
 *     while (running) goprof_session_poll(s, 100);   // or poll goprof_session_fd(s)
 *     goprof_session_foreach_thread(s, print_thread, state);
 *     goprof_session_free(s);
 *
 * A session object is not safe for concurrent use: call its functions from one thread at
 * a time (different sessions are independent). Callbacks run on the thread that called
 * goprof_session_poll() and are never called after goprof_session_free() returns.
 */
#ifndef GOPROF_SESSION_H
#define GOPROF_SESSION_H

#include <goprof/common.h>
#include <goprof/profile.h>
#include <goprof/symbolizer.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque profiling session. */
struct goprof_session;

/** Length of a thread name, including the terminating NUL (the kernel's TASK_COMM_LEN). */
#define GOPROF_COMM_LEN 16

/**
 * One CPU sample of an attached process, handed to goprof_session_opts.on_sample.
 * Valid only during the callback. Read a field only if it lies within @c sz.
 */
struct goprof_sample {
	uint32_t sz;      /**< bytes of this struct filled in by the library */
	uint32_t pid;     /**< process (thread group) ID */
	uint32_t tid;     /**< thread ID */
	uint32_t cpu;     /**< CPU the sample was taken on */
	uint64_t time_ns; /**< CLOCK_MONOTONIC time of the sample, in nanoseconds */
	char comm[GOPROF_COMM_LEN]; /**< thread name, NUL-terminated */
	/* since 1.1: stacks and goroutine context */
	uint64_t goid;    /**< ID of the goroutine running on the thread; 0 if none or unknown */
	uint32_t flags;   /**< GOPROF_SAMPLE_* */
	uint32_t nr_labels; /**< entries in @c labels */
	const struct goprof_profile_label *const *labels; /**< the goroutine's pprof labels */
	uint32_t nr_user_ips;   /**< entries in @c user_ips */
	uint32_t nr_kernel_ips; /**< entries in @c kernel_ips */
	const uint64_t *user_ips;   /**< user-space instruction addresses, leaf first */
	const uint64_t *kernel_ips; /**< kernel addresses, leaf first; empty in user mode */
};

/** @name Flags of goprof_sample.flags
 * @{ */
#define GOPROF_SAMPLE_GO 0x1u           /**< goid and labels were read from the goroutine */
#define GOPROF_SAMPLE_LABELS_TRUNCATED 0x2u /**< the goroutine had more labels than delivered */
#define GOPROF_SAMPLE_USER_TRUNCATED 0x4u   /**< the user stack reached the depth limit */
#define GOPROF_SAMPLE_KERNEL_TRUNCATED 0x8u /**< the kernel stack reached the depth limit */
/** @} */

/** @name Event types (goprof_event.type)
 * @{ */
#define GOPROF_EVENT_GOROUTINE_CREATE 1 /**< goid, parent_goid (GOPROF_FEATURE_GOROUTINES) */
#define GOPROF_EVENT_GOROUTINE_EXIT 2   /**< goid */
#define GOPROF_EVENT_GC_CYCLE 3         /**< a GC cycle ended: the gc_* fields (GOPROF_FEATURE_GC) */
/** A set of runtime probes went over the overhead budget and was detached: message. */
#define GOPROF_EVENT_PROBE_DETACHED 4
/**
 * The off-CPU profile went over the overhead budget and now keeps only 1 switch-out in N
 * (values are scaled by N, so totals stay estimates of the whole): message says N, the
 * rate and the budget. If even 1 in 1024 is over budget the program is detached with a
 * GOPROF_EVENT_PROBE_DETACHED event instead. (since 1.1)
 */
#define GOPROF_EVENT_OFFCPU_THROTTLED 40
/** A net/http server request finished: goid, http (GOPROF_FEATURE_HTTP; since 1.1) */
#define GOPROF_EVENT_HTTP_REQUEST 30
/** A net/http client request ((*http.Client).Do) returned: goid, http (since 1.1) */
#define GOPROF_EVENT_HTTP_CLIENT_REQUEST 31
/**
 * An outgoing TCP connection was established (tcp_handshake_ns), or failed (tcp_error:
 * ECONNREFUSED, ETIMEDOUT, ...; ECONNABORTED when the application closed the socket
 * before the handshake completed); the tcp_* fields (GOPROF_FEATURE_TCP). (since 1.1)
 */
#define GOPROF_EVENT_TCP_CONNECT 20
/** accept() returned a TCP connection: the tcp_* fields, tid is the accepting thread. (since 1.1) */
#define GOPROF_EVENT_TCP_ACCEPT 21
/**
 * A connection seen by GOPROF_EVENT_TCP_CONNECT or _ACCEPT reached TCP_CLOSE: duration,
 * bytes, retransmits, tcp_error (ECONNRESET, EPIPE, ETIMEDOUT) and the reset flags.
 * Close often completes in the kernel after the application's close() (or its exit);
 * pid and tid are those of the connect or accept. (since 1.1)
 */
#define GOPROF_EVENT_TCP_CLOSE 22
/**
 * Goroutine snapshots found goroutines parked longer than the leak age at one creation
 * site, wait reason and stack, for the first time or in larger numbers than last
 * reported: goid (one of them), leak, message (GOPROF_FEATURE_GOROUTINE_SNAPSHOTS;
 * since 1.1)
 */
#define GOPROF_EVENT_GOROUTINE_LEAK 50
/**
 * A process started being followed at its exec (an executable attached by path, or
 * goprof_session_attach_all()), or a followed process exec'd a new image: @c process
 * describes it, its executable inspected. (since 1.1)
 */
#define GOPROF_EVENT_PROCESS_EXEC 60
/**
 * A followed process exited: @c process is its last description (GOPROF_PROCESS_EXITED
 * set). goprof_session_foreach_process() keeps only the most recent exits (256); a host
 * that lists every process, under churn or in whole-machine mode, keeps its own list from
 * these events. (since 1.1)
 */
#define GOPROF_EVENT_PROCESS_EXIT 61
/** @} */

/** @name TCP address families (goprof_event.tcp_family, goprof_tcp_peer.family): AF_INET, AF_INET6
 * @{ */
#define GOPROF_TCP_IPV4 2  /**< IPv4: addresses in the first 4 bytes */
#define GOPROF_TCP_IPV6 10 /**< IPv6: 16-byte addresses */
/** @} */

/** @name Flags of goprof_event.tcp_flags and goprof_tcp_peer.flags
 * @{ */
#define GOPROF_TCP_ACCEPTED 0x1u       /**< passive open: the connection came through accept() */
#define GOPROF_TCP_RESET_RECEIVED 0x2u /**< the peer sent a RST */
#define GOPROF_TCP_RESET_SENT 0x4u     /**< closed straight from ESTABLISHED/CLOSE_WAIT: this side
					    sent a RST (close() with unread data, SO_LINGER 0) */
/** @} */

/** @name Flags of goprof_http_request.flags (since 1.1)
 * @{ */
/** The ResponseWriter is neither net/http's HTTP/1 response nor its bundled HTTP/2
 * server's writer (a wrapper from another server): status is 0, unknown. */
#define GOPROF_HTTP_NOT_HTTP1 0x1u
#define GOPROF_HTTP_HTTP2 0x2u     /**< the request came over HTTP/2 (net/http's bundled server) */
/** The handler hijacked the connection (http.Hijacker): status is 0, unknown. */
#define GOPROF_HTTP_HIJACKED 0x4u
#define GOPROF_HTTP_CLIENT_ERROR 0x8u /**< client: Do returned an error (status 0) */
/** The handler wrote nothing: net/http sent the implicit 200 after it returned. */
#define GOPROF_HTTP_IMPLICIT_200 0x10u
/** Read off the wire (GOPROF_FEATURE_HTTP_WIRE; since 1.1): see that feature for what
 * the fields mean then. */
#define GOPROF_HTTP_WIRE 0x20u
#define GOPROF_HTTP_METHOD_TRUNCATED 0x100u /**< method_len > bytes in method */
#define GOPROF_HTTP_PATH_TRUNCATED 0x200u   /**< path_len > bytes in path */
#define GOPROF_HTTP_HOST_TRUNCATED 0x400u   /**< host_len > bytes in host */
/** @} */

/**
 * One net/http request (GOPROF_EVENT_HTTP_REQUEST, GOPROF_EVENT_HTTP_CLIENT_REQUEST),
 * pointed to by goprof_event.http. Strings are the target's bytes, bounded (a method
 * keeps at most 15 bytes, a path 63, a host 63) and NUL-terminated; a path can hold any
 * byte (URL.Path is decoded), so use the *_bytes counts, and escape before printing.
 * Read a field only if it lies within @c sz. (since 1.1)
 */
struct goprof_http_request {
	uint32_t sz;           /**< bytes of this struct filled in by the library */
	uint32_t flags;        /**< GOPROF_HTTP_* */
	uint64_t start_ns;     /**< CLOCK_MONOTONIC: the handler was called / Do was called */
	uint64_t duration_ns;  /**< until the handler returned / Do returned */
	int64_t content_length; /**< request body length as declared (Request.ContentLength); -1 unknown */
	int64_t response_bytes; /**< server: body bytes the handler wrote; -1 unknown */
	uint32_t status;       /**< status code the handler wrote (200 when it wrote nothing) or
				    the client received; 0 unknown (see flags) */
	uint32_t reserved0;    /**< zero */
	const char *method;    /**< "GET", ...; the client's empty method is reported as "GET" */
	const char *path;      /**< URL path (decoded, without the query) */
	const char *host;      /**< client: URL host ("127.0.0.1:8080"); server: URL host, usually "" */
	uint32_t method_bytes; /**< bytes in @c method (without the terminating NUL) */
	uint32_t path_bytes;   /**< bytes in @c path (it may hold NULs) */
	uint32_t host_bytes;   /**< bytes in @c host */
	uint32_t method_len;   /**< full length of the method in the target */
	uint32_t path_len;     /**< full length of the path in the target */
	uint32_t host_len;     /**< full length of the host in the target */
};


/** @name GC triggers (goprof_event.gc_trigger), Go's gcTriggerKind
 * @{ */
#define GOPROF_GC_TRIGGER_HEAP 0  /**< the heap reached its goal */
#define GOPROF_GC_TRIGGER_TIME 1  /**< forced: 2 minutes without a GC */
#define GOPROF_GC_TRIGGER_CYCLE 2 /**< requested: runtime.GC() */
#define GOPROF_GC_TRIGGER_UNKNOWN 255 /**< not known (memory mode: not runtime.GC()) (since 1.1) */
/** @} */

struct goprof_goroutine_leak;

/**
 * A runtime event of an attached Go process, handed to goprof_session_opts.on_event.
 * Times are CLOCK_MONOTONIC nanoseconds. Valid only during the callback; read a field
 * only if it lies within @c sz.
 */
struct goprof_event {
	uint32_t sz;       /**< bytes of this struct filled in by the library */
	uint32_t type;     /**< GOPROF_EVENT_* */
	uint32_t pid;      /**< process */
	uint32_t tid;      /**< thread the event happened on */
	uint64_t time_ns;  /**< when */
	uint64_t goid;     /**< goroutine events: the goroutine; TCP events (since 1.1): the
			        goroutine that connected or accepted, 0 if not Go or unreadable */
	uint64_t parent_goid; /**< GOROUTINE_CREATE: the goroutine that ran the go statement */
	uint64_t gc_cycle; /**< GC_CYCLE: 1, 2, ... per process within the session */
	uint32_t gc_trigger; /**< GC_CYCLE: GOPROF_GC_TRIGGER_* */
	uint32_t reserved0;  /**< zero */
	uint64_t gc_start_ns;  /**< GC_CYCLE: the sweep-termination stop-the-world began */
	uint64_t gc_end_ns;    /**< GC_CYCLE: mark termination finished */
	uint64_t gc_sweep_term_pause_ns; /**< GC_CYCLE: first stop-the-world pause */
	uint64_t gc_mark_ns;   /**< GC_CYCLE: concurrent mark, between the pauses */
	uint64_t gc_mark_term_pause_ns;  /**< GC_CYCLE: second stop-the-world pause */
	const char *message; /**< PROBE_DETACHED: which probes, their rate and cost, the budget */
	/* since 1.1: TCP events (GOPROF_EVENT_TCP_*) */
	uint64_t tcp_conn_id;        /**< the same on every event of one connection, unique in the session */
	uint8_t tcp_local_addr[16];  /**< network byte order; IPv4 in the first 4 bytes, rest zero */
	uint8_t tcp_remote_addr[16]; /**< network byte order; IPv4 in the first 4 bytes, rest zero */
	uint16_t tcp_family;         /**< GOPROF_TCP_IPV4 or GOPROF_TCP_IPV6 (an IPv6 socket may
					  carry IPv4-mapped addresses) */
	uint16_t tcp_local_port;     /**< host byte order */
	uint16_t tcp_remote_port;    /**< host byte order */
	uint16_t tcp_reserved;       /**< zero */
	int32_t tcp_error;           /**< 0, or a positive errno (see the event types) */
	uint32_t tcp_flags;          /**< GOPROF_TCP_* */
	uint64_t tcp_handshake_ns;   /**< CONNECT: SYN sent to ESTABLISHED; 0 otherwise */
	uint64_t tcp_duration_ns;    /**< CLOSE: from the connect (SYN sent) or the accept */
	uint64_t tcp_bytes_sent;     /**< payload bytes sent so far (retransmissions counted once) */
	uint64_t tcp_bytes_received; /**< payload bytes received so far */
	uint32_t tcp_retransmits;    /**< segments retransmitted so far (SYNs included) */
	uint32_t tcp_srtt_us;        /**< the kernel's smoothed round-trip time estimate */
	/** HTTP_REQUEST, HTTP_CLIENT_REQUEST: the request, valid during the callback (since 1.1) */
	const struct goprof_http_request *http;
	/** PROCESS_EXEC, PROCESS_EXIT: the process, valid during the callback (since 1.1) */
	const struct goprof_process_info *process;
	/* since 1.1: GC_CYCLE */
	uint64_t gc_pause_ns;  /**< GC_CYCLE: the cycle's stop-the-world time, both pauses together
				    (0 with GOPROF_GC_PAUSE_UNKNOWN) */
	uint32_t gc_flags;     /**< GC_CYCLE: GOPROF_GC_* */
	uint32_t gc_reserved;  /**< zero */
	/** GOROUTINE_LEAK: the group, valid during the callback (since 1.1) */
	const struct goprof_goroutine_leak *leak;
};

/** @name Flags of goprof_event.gc_flags (since 1.1)
 * @{ */
/**
 * The cycle was found in the runtime's own memory (GOPROF_FEATURE_GC without
 * GOPROF_FEATURE_GC_PRECISE): time_ns and gc_end_ns are when it ended (the runtime's
 * clock), gc_pause_ns its stop-the-world time; gc_start_ns, gc_mark_ns and the two pauses
 * apart are not kept by the runtime and are 0. gc_trigger is GOPROF_GC_TRIGGER_CYCLE when
 * runtime.GC() asked for it, else GOPROF_GC_TRIGGER_UNKNOWN (heap or time).
 */
#define GOPROF_GC_FROM_MEMORY 0x1u
/** More than 256 cycles ended between two reads: the runtime no longer holds this one's
 *  pause (gc_pause_ns and the end time are 0) */
#define GOPROF_GC_PAUSE_UNKNOWN 0x2u
/** @} */

/**
 * Receives one event (called from goprof_session_poll()).
 * @return 0 to go on; a negative value stops the current poll, which returns it.
 */
typedef int (*goprof_event_fn)(const struct goprof_event *event, void *ctx);

/**
 * Receives one sample.
 * @return 0 to go on; a negative value stops the current goprof_session_poll(), which
 *         then returns that value.
 */
typedef int (*goprof_sample_fn)(const struct goprof_sample *sample, void *ctx);

/** Options of goprof_session_new(). Initialize with GOPROF_OPTS(goprof_session_opts, ...). */
struct goprof_session_opts {
	size_t sz;            /**< sizeof(struct goprof_session_opts), set by GOPROF_OPTS */
	uint32_t cpu_freq_hz; /**< CPU sampling frequency per CPU, Hz; 0 means 99. Max 10000
				   and at most the kernel's perf_event_max_sample_rate. */
	uint32_t ringbuf_kib; /**< sample ring buffer size in KiB: a power of two >= 4;
				   0: from the CPUs and features, one second of samples of
				   every CPU (2 KiB each), doubled with runtime events, at
				   least 1024 (2 CPUs at 99 Hz: 1024; 64 CPUs: 32768) */
	goprof_sample_fn on_sample; /**< optional: called for each sample by goprof_session_poll() */
	void *ctx;            /**< passed to every callback as its last argument */
	uint32_t user_stack_depth;   /**< user frames per sample, 1-127; 0 means 127 (since 1.1) */
	uint32_t kernel_stack_depth; /**< kernel frames per sample, 0-127; 0 means 127 (since 1.1);
					  GOPROF_NO_KERNEL_STACKS to take none */
	uint32_t features;    /**< GOPROF_FEATURE_* beyond CPU sampling (since 1.1) */
	/**
	 * Overhead budget of the runtime probes, in basis points of the profiled processes'
	 * CPU time; 0 means 100 (1%). A probe set whose estimated cost goes above it over a
	 * one-second window is detached and a GOPROF_EVENT_PROBE_DETACHED event says why.
	 * The off-CPU profile (GOPROF_FEATURE_OFFCPU) is first sampled down
	 * (GOPROF_EVENT_OFFCPU_THROTTLED). 10000 (100%) is no limit: nothing is detached or
	 * sampled down. (since 1.1)
	 * The reader of the runtime's statistics (GOPROF_FEATURE_GC / _SCHED without their
	 * precise modes) costs the profiler, not the targets: it is held to this many basis
	 * points of one CPU by reading less often. (since 1.1)
	 */
	uint32_t overhead_budget_bp;
	goprof_event_fn on_event; /**< optional: runtime events (since 1.1) */
	/** What the CPU profile keeps beyond stacks and labels: GOPROF_CPU_PROFILE_* flags;
	 *  0: neither (since 1.1) */
	uint32_t cpu_profile_flags;
	/**
	 * With GOPROF_CPU_PROFILE_TIMESTAMPS: the most sample timestamps kept per CPU profile
	 * interval (since the start or the last GOPROF_SNAPSHOT_RESET); 0 means 65536. Each
	 * costs 28 bytes in the session and again in each snapshot. Samples past the bound
	 * still count in the profile; their timestamps are counted in
	 * goprof_profile_info.timestamps_dropped. Size it as rate x CPUs x interval, e.g.
	 * 99 Hz x 8 CPUs x 60 s = 47520. (since 1.1)
	 */
	uint32_t cpu_timestamps_max;
	/**
	 * GOPROF_FEATURE_OFFCPU: off-CPU intervals shorter than this many microseconds are
	 * not counted; 0 means 1. (since 1.1)
	 */
	uint32_t offcpu_min_us;
	/**
	 * GOPROF_FEATURE_OFFCPU: intervals longer than this many microseconds are not counted
	 * (to leave out threads parked for good); 0 means no limit; if set, at least
	 * offcpu_min_us. (since 1.1)
	 */
	uint32_t offcpu_max_us;
	/**
	 * GOPROF_FEATURE_OFFCPU: keep 1 switch-out in N (chosen at random) to bound the cost
	 * on programs that switch very often; counts and times are multiplied by N. 0 or 1:
	 * every switch-out; at most 1048576. The overhead budget may raise it. (since 1.1)
	 */
	uint32_t offcpu_sample_every;
	/**
	 * GOPROF_FEATURE_GOROUTINE_SNAPSHOTS: CPU budget of the snapshot reader, in basis
	 * points of one CPU core (the profiler's own CPU time); 0 means 100 (1%). The
	 * interval between snapshots grows with their cost to stay within it. (since 1.1)
	 */
	uint32_t snapshot_cpu_budget_bp;
	/** GOPROF_FEATURE_GOROUTINE_SNAPSHOTS: shortest interval between two periodic
	 *  snapshots, milliseconds; 0 means 1000. (since 1.1) */
	uint32_t snapshot_interval_ms;
	/** GOPROF_FEATURE_GOROUTINE_SNAPSHOTS: goroutines parked at least this long are leak
	 *  candidates, milliseconds; 0 means 10000. (since 1.1) */
	uint32_t goroutine_leak_age_ms;
};

/** @name Flags of goprof_session_opts.cpu_profile_flags
 * @{ */
/**
 * Keep the time of every CPU sample (Unix nanoseconds, converted from the kernel's
 * CLOCK_MONOTONIC), up to goprof_session_opts.cpu_timestamps_max per interval:
 * goprof_profile_sample.timestamps, and OTLP `Sample.timestamps_unix_nano` with one value
 * per timestamp. Off by default: it costs memory per sample, not per stack.
 */
#define GOPROF_CPU_PROFILE_TIMESTAMPS 0x1u
/**
 * Keep the samples of each thread apart: every sample carries a numeric label
 * "thread_id" (the TID) and a string label "thread_name" (the thread's comm), written as
 * pprof labels and as OTLP `thread.id` / `thread.name`. Off by default, as in Go's own
 * profiles: a stack run by N threads becomes N samples, and a profile of a long-running
 * program grows with its thread churn.
 */
#define GOPROF_CPU_PROFILE_THREADS 0x2u
/** @} */

/** @name Flags of goprof_session_opts.features
 * @{ */
/**
 * Goroutine creation and exit, through uprobes on runtime.newproc, the RET instructions
 * of runtime.newproc1 and runtime.goexit1 of each attached Go executable (never
 * uretprobes). Enables goprof_session_snapshot_goroutines(). Goroutines that existed
 * before the probes were attached are not known.
 */
#define GOPROF_FEATURE_GOROUTINES 0x1u
/**
 * GC cycles, stop-the-world pauses and heap figures: GOPROF_EVENT_GC_CYCLE events and
 * goprof_session_gc_stats(). By default (since 1.1) read from the Go runtime's own memory
 * (runtime.memstats, runtime.sched, runtime.gcController) with process_vm_readv when
 * goprof_session_poll() runs: no probe in the target, nothing traps, the cost is the
 * profiler's own CPU (goprof_session_stats().rt_*). Needs ptrace-read access to the
 * process (same user or CAP_SYS_PTRACE). Cycles come from the runtime's cycle count,
 * pauses from its pause histograms and its ring of the last 256 cycles' pauses; what the
 * memory does not hold (a cycle's start, mark phase and its two pauses apart, the trigger
 * of a cycle not asked for by runtime.GC()) is 0 in the events (GOPROF_GC_FROM_MEMORY).
 * With GOPROF_FEATURE_GC_PRECISE: uprobes instead (see there).
 */
#define GOPROF_FEATURE_GC 0x2u
/**
 * Heap allocation profile from the allocations Go's runtime samples itself (one per
 * MemProfileRate bytes): uprobes on runtime.mProf_Malloc and runtime.mProf_Free, near
 * free. When the Go linker turned memory profiling off in a binary (nothing in it reads a
 * heap profile, so MemProfileRate is 0), the process gets GOPROF_PROCESS_HEAP_OFF and a
 * note saying so. Enables goprof_session_snapshot_heap().
 */
#define GOPROF_FEATURE_HEAP 0x4u
/**
 * Scheduling latency (time from runnable to running): goprof_session_sched_stats(). By
 * default (since 1.1) read from the Go runtime's own histogram (runtime.sched.timeToRun,
 * what runtime/metrics reports as /sched/latencies:seconds) in its memory, like
 * GOPROF_FEATURE_GC: no probe, no cost in the target. The runtime times one transition in
 * 8 per goroutine (goprof_sched_stats.sample_every); percentiles come from its buckets
 * (a quarter of a power of two wide from Go 1.20, a sixteenth in 1.19). No creation
 * sites in this mode: goprof_session_snapshot_sched() is empty.
 * With GOPROF_FEATURE_SCHED_PRECISE: a uprobe instead (see there).
 */
#define GOPROF_FEATURE_SCHED 0x8u
/**
 * Opt-in per-allocation mode: a uprobe on runtime.mallocgc sees every allocation, also in
 * binaries whose memory profiling is off (GOPROF_PROCESS_HEAP_OFF). Expensive - about 5
 * us per allocation; an allocation loop ran 80x slower on our machines - so it runs
 * under the overhead budget, which detaches it from busy allocators with an event.
 * Enables goprof_session_snapshot_allocs().
 */
#define GOPROF_FEATURE_ALLOCS 0x10u
/**
 * Thread off-CPU profile: time the attached processes' threads spend switched out, by
 * user and kernel stack, from the scheduler's sched_switch tracepoint (BTF tracepoint,
 * else raw or classic tracepoint; goprof_session_new() fails with GOPROF_ERRNO_KERNEL if
 * none attaches). Thresholds and sampling: offcpu_min_us, offcpu_max_us,
 * offcpu_sample_every. Enables goprof_session_snapshot_offcpu().
 *
 * In Go most waiting parks a goroutine without blocking its thread, so this view shows
 * threads blocked in the kernel (system calls, page faults, cgo) and the runtime's own
 * idle threads - an idle M sleeping in futex (runtime.stopm/mPark/notesleep), sysmon,
 * the scheduler's netpoll wait - whose time is not the program waiting. Those samples
 * carry the string labels thread=go-scheduler-idle and idle_in=<the runtime function,
 * e.g. runtime.stopm> and the root frame "<process> [idle Go threads]". Threads switched
 * out while still runnable (preempted, sched_yield: waiting for a CPU, not for an event)
 * carry state=runnable. Goroutine-level blocking is a separate view. (since 1.1)
 */
#define GOPROF_FEATURE_OFFCPU 0x20u
/**
 * TCP connection lifecycle of the attached processes (IPv4 and IPv6), from the kernel's
 * tracepoints sock:inet_sock_set_state, tcp:tcp_receive_reset and
 * syscalls:sys_exit_accept/accept4 (no kprobes or BPF trampolines needed):
 * GOPROF_EVENT_TCP_* events and goprof_session_foreach_tcp_peer(). Connections opened
 * before the process was attached are not seen. (since 1.1)
 */
#define GOPROF_FEATURE_TCP 0x100u
/**
 * Goroutine blocking profile (since 1.1): the time goroutines spend parked, by the stack
 * where they parked and by Go's wait reason ("chan send", "chan receive", "select",
 * "sync.Mutex.Lock", "semacquire", "sleep", "IO wait", ...), until they are made runnable
 * again. Uprobes on runtime.gopark and runtime.casgstatus; runs under the overhead
 * budget. Enables goprof_session_snapshot_block(). Wait reasons are known for Go 1.19
 * and 1.21-1.23; other releases are recorded as "unknown wait reason N".
 */
#define GOPROF_FEATURE_BLOCK 0x40u
/**
 * Channel statistics (since 1.1): per channel, operations, capacity and occupancy
 * through uprobes on runtime.chansend and runtime.chanrecv - every channel operation, so
 * the overhead budget detaches them from channel-heavy programs. Blocked operations and
 * their times come from the blocking probes: needs GOPROF_FEATURE_BLOCK. Enables
 * goprof_session_foreach_channel().
 */
#define GOPROF_FEATURE_CHANNELS 0x80u
/**
 * net/http requests of Go 1.19-1.23 programs (stripped or not), through uprobes on
 * net/http.serverHandler.ServeHTTP (entry and RETs: every server request) and
 * net/http.(*Client).do (client requests made through an http.Client; a Transport's
 * RoundTrip called directly is not seen): GOPROF_EVENT_HTTP_REQUEST /
 * _CLIENT_REQUEST events, goprof_session_foreach_http_endpoint() (latency per method and
 * path), and CPU samples of goroutines serving a request carry the pprof labels
 * "http.method" and "http.path" (so `go tool pprof -tagfocus` selects an endpoint; only
 * the goroutine running the handler: goroutines it starts are not labelled).
 * Two uprobe hits per request and side (a trap and a short BPF program each; the
 * budget estimates 5 us per hit, and on a loaded 2-core VM a loopback server with a
 * trivial handler lost about half its throughput): under the overhead budget, which
 * detaches them from busy servers with an event. HTTP/2 requests of net/http's bundled
 * server are traced like HTTP/1 ones (GOPROF_HTTP_HTTP2); hijacked connections and
 * foreign ResponseWriters are reported with status 0 and a flag saying so. A binary
 * without net/http, or of an unsupported Go release, gets a note in goprof_process_info.
 * (since 1.1)
 */
#define GOPROF_FEATURE_HTTP 0x200u
/**
 * HTTP/1 requests read off the wire (since 1.1): the same events, endpoint table and
 * "http.method"/"http.path" CPU labels as GOPROF_FEATURE_HTTP, from the bytes attached
 * processes read from and write to their sockets (the syscall tracepoints read, write
 * and close) instead of uprobes. No trap in the target: a fraction of the cost, for
 * any program that serves or sends plaintext HTTP/1.x over read()/write() (Go's net/http
 * does), whatever its Go release. What it cannot see: TLS, HTTP/2, requests pipelined
 * behind another in one read; a handler that writes and then reads more of the request
 * body ends its request at that read. Requests carry GOPROF_HTTP_WIRE: the path is as
 * sent (not decoded, query removed), the start is when the request was read (server) or
 * written (client), response_bytes counts the status line and headers too, the client
 * side has no goroutine ID and no connection setup in its duration, and a server's
 * status is what went on the wire. Cannot be combined with GOPROF_FEATURE_HTTP.
 */
#define GOPROF_FEATURE_HTTP_WIRE 0x400u
/**
 * Precise GC mode (opt-in, since 1.1; implies GOPROF_FEATURE_GC): uprobes on
 * runtime.gcStart, runtime.gcMarkTermination (entries and RETs),
 * runtime.stopTheWorldWithSema and the RETs of runtime.startTheWorldWithSema give each
 * cycle's start, mark phase, both pauses and trigger. A few hits per GC cycle, but each
 * traps into the kernel (3-5 us).
 */
#define GOPROF_FEATURE_GC_PRECISE 0x800u
/**
 * Precise scheduling mode (opt-in, since 1.1; implies GOPROF_FEATURE_SCHED): a uprobe on
 * runtime.casgstatus times every runnable -> running transition of every goroutine,
 * aggregated in the kernel, and with GOPROF_FEATURE_GOROUTINES by creation site
 * (goprof_session_snapshot_sched()). casgstatus runs on every scheduling event, so this is
 * the probe the overhead budget removes first on busy programs.
 */
#define GOPROF_FEATURE_SCHED_PRECISE 0x1000u
/**
 * Goroutine snapshots (since 1.1): every goroutine of the attached Go processes, read
 * from the Go runtime's own memory (runtime.allgs) from outside with process_vm_readv -
 * no uprobe, no trap, no stop: the target pays nothing; the reading costs the profiler's
 * CPU, held to goprof_session_opts.snapshot_cpu_budget_bp. Each snapshot has every
 * goroutine's ID, status, wait reason, how long it has waited, creation site, parent
 * (Go 1.21+), start function, pprof labels and stack (walked by frame pointers from its
 * saved registers). Needs ptrace-read access to the processes (same user or
 * CAP_SYS_PTRACE). Go 1.19-1.27, stripped binaries included (the goroutine list is then
 * located from the code of runtime.forEachG); a binary where it cannot be located gets a
 * note in goprof_process_info and the rest of the session goes on.
 * goprof_session_poll() takes snapshots periodically (the interval adapts to the number
 * of goroutines so that the reader stays within its budget) and reports goroutines parked
 * longer than goroutine_leak_age_ms, grouped by creation site, wait reason and stack,
 * with their growth, as GOPROF_EVENT_GOROUTINE_LEAK events and through
 * goprof_session_foreach_goroutine_leak(). Without GOPROF_FEATURE_GOROUTINES,
 * goprof_session_snapshot_goroutines() is built from a snapshot. With both, the uprobe
 * tracker (the precise mode: every creation and exit, creation stacks) serves
 * goprof_session_snapshot_goroutines() and snapshots run beside it.
 */
#define GOPROF_FEATURE_GOROUTINE_SNAPSHOTS 0x2000u
/** @} */

/** goprof_session_opts.kernel_stack_depth: do not capture kernel stacks. */
#define GOPROF_NO_KERNEL_STACKS UINT32_MAX

/**
 * Creates a session: checks privileges and kernel features, loads and verifies the BPF
 * programs. Sampling starts with goprof_session_start().
 *
 * @param opts options, or NULL for the defaults.
 * @return a session, or NULL with errno set:
 *   EINVAL (bad option: the message names the field),
 *   EPERM (missing CAP_BPF / CAP_PERFMON: run as root or grant them),
 *   GOPROF_ERRNO_KERNEL (the kernel lacks BTF or a needed feature),
 *   GOPROF_ERRNO_VERIFIER, ENOMEM. goprof_last_error() says more.
 * @note Thread-safe.
 */
GOPROF_API struct goprof_session *goprof_session_new(const struct goprof_session_opts *opts);

/**
 * Stops sampling, detaches every process, releases all resources. NULL is a no-op.
 * No callback runs after this returns.
 * @param session the session, or NULL.
 */
GOPROF_API void goprof_session_free(struct goprof_session *session);

/** Options of goprof_session_attach_pid(); none yet, pass NULL. (since 1.1) */
struct goprof_attach_opts {
	size_t sz; /**< sizeof(struct goprof_attach_opts) */
};

/**
 * Profiles process @p pid (all its threads, including ones created later).
 *
 * @param session the session.
 * @param pid     process ID.
 * @param opts    NULL (no options yet).
 * @return 0, or -EINVAL (pid <= 0, bad opts, or @p pid is a kernel thread, which runs no
 *         user-space code), -ESRCH (no such process, or a zombie: it has exited and waits
 *         for its parent to reap it), -EEXIST (already attached), -ENOSPC (too many
 *         processes attached).
 */
GOPROF_API int goprof_session_attach_pid(struct goprof_session *session, int pid,
					 const struct goprof_attach_opts *opts);

/**
 * Profiles every process that runs the executable at @p path: those running it now and
 * those that exec it later (seen in the kernel at exec time). Identity is the file's
 * device and inode, so a rebuilt binary (a new inode) is a different executable.
 *
 * @param session the session.
 * @param path    the executable file.
 * @param opts    NULL (no options yet).
 * @return 0, or -EINVAL (NULL path, bad opts, not a regular file), -ENOENT (no such
 *         file), -ENOEXEC (not an ELF file: a script runs as its interpreter, so attach
 *         the interpreter's executable or the processes by PID), -EEXIST, -ENOSPC (too
 *         many executables attached).
 */
GOPROF_API int goprof_session_attach_exe(struct goprof_session *session, const char *path,
					 const struct goprof_attach_opts *opts);

/** Receives a process that goprof_session_attach_all() is about to follow. */
typedef int (*goprof_attach_filter_fn)(int pid, const char *comm, void *ctx);

/** Options of goprof_session_attach_all(). (since 1.1) */
struct goprof_attach_all_opts {
	size_t sz;      /**< sizeof(struct goprof_attach_all_opts), set by GOPROF_OPTS */
	uint32_t flags; /**< GOPROF_ATTACH_ALL_* (since 1.1) */
	/**
	 * Processes followed at most at the same time (0 or more than 4096: 4096, the
	 * session's maximum); a process beyond it is not followed and is counted in
	 * goprof_session_stats.processes_over_limit (since 1.1)
	 */
	uint32_t max_processes;
	/**
	 * Asked before each process is followed, at the scan and at each exec, with its PID
	 * and command name (untrusted bytes: the program sets it): return non-zero to leave
	 * the process out (it is asked again if the process execs again). Runs inside
	 * goprof_session_attach_all() and goprof_session_poll(). NULL: every process
	 * (since 1.1)
	 */
	goprof_attach_filter_fn filter;
	void *ctx; /**< passed to filter (since 1.1) */
};

/** @name Flags of goprof_attach_all_opts.flags
 * @{ */
/**
 * Follow Go programs only; without it, other processes get native and kernel stacks. A
 * process started later is followed from its exec until the next goprof_session_poll()
 * has read its executable: the CPU samples of that moment (a poll interval) stay.
 */
#define GOPROF_ATTACH_ALL_GO_ONLY 0x1u
/** @} */

/**
 * Whole-machine mode, for agents: profiles every process running now and every process
 * that starts later (seen at its exec, in the kernel, so its first instructions are
 * sampled too). Kernel threads, zombies and the calling process are left out, and so are
 * what @c opts asks to leave out. A process can still be detached, and processes can
 * still be attached by PID or executable. Samples and profiles are the same as for
 * processes attached one by one; those followed this way carry GOPROF_PROCESS_BY_ALL.
 *
 * @param session the session.
 * @param opts    options, or NULL (every process, Go or not, up to the maximum).
 * @return 0, or -EINVAL (bad opts or flags), -EALREADY (already called on this session).
 * @note Processes that exit are listed as exited until the session's bound on exited
 *       processes drops the oldest ones (goprof_session_foreach_process()).
 */
GOPROF_API int goprof_session_attach_all(struct goprof_session *session,
					 const struct goprof_attach_all_opts *opts);

/**
 * Stops profiling @p pid. Samples already counted stay in the session.
 * @param session the session.
 * @param pid     an attached process.
 * @return 0, or -ENOENT if the process was not attached.
 */
GOPROF_API int goprof_session_detach_pid(struct goprof_session *session, int pid);

/**
 * Starts sampling: opens a perf event on every online CPU and attaches the sampling
 * program. Processes may be attached before or after.
 * @param session the session.
 * @return 0, -EALREADY if started, -EPERM, -EINVAL (frequency above the kernel's
 *         perf_event_max_sample_rate), or another negative errno.
 */
GOPROF_API int goprof_session_start(struct goprof_session *session);

/**
 * Stops sampling (closes the perf events). Counts are kept; start may be called again.
 * @param session the session.
 * @return 0, or -EALREADY if not started.
 */
GOPROF_API int goprof_session_stop(struct goprof_session *session);

/**
 * Returns a file descriptor that becomes readable (EPOLLIN) when samples or process
 * events are waiting,
 * so a host can add the session to its own poll/epoll loop and then call
 * goprof_session_poll(session, 0). Owned by the session: do not close it. Process
 * events make it readable at once. CPU samples and HTTP request records do not make it
 * readable one by one (a wakeup per sample costs the target more than the sample, and a
 * poller woken by every sample skews the CPU profile): they do once 64 KiB are waiting
 * or 100 ms after the previous such wakeup, and any poll takes them in. So the last
 * records before a pause wait for the next poll: a host that waits on the descriptor
 * should also poll at least every few hundred milliseconds.
 * @param session the session.
 * @return the descriptor, or -EINVAL for a NULL session.
 */
GOPROF_API int goprof_session_fd(const struct goprof_session *session);

/**
 * Takes in waiting samples: adds each to the session's CPU profile and hands it to the
 * on_sample callback if there is one; handles process exec and exit events. Waits up to
 * @p timeout_ms milliseconds for the first record (0: do not wait; -1: indefinitely),
 * and meanwhile takes in, at least every 100 ms, records that did not make
 * goprof_session_fd() readable.
 * Call it regularly (or when goprof_session_fd() is readable): samples that find the
 * ring buffer full are lost (counted in goprof_session_stats()).
 * @param session    the session.
 * @param timeout_ms how long to wait for the first record, in milliseconds.
 * @return the number of samples consumed, a negative value returned by the callback,
 *         or a negative errno (-EINTR when interrupted by a signal).
 */
GOPROF_API int goprof_session_poll(struct goprof_session *session, int timeout_ms);

/** @name Flags of goprof_session_snapshot_cpu()
 * @{ */
#define GOPROF_SNAPSHOT_RESET 0x1u /**< start a new profile interval after the copy */
/** @} */

/**
 * Takes the CPU profile aggregated since the session started sampling (or since the last
 * reset): every sample delivered so far, symbolized (Go inline frames, native and kernel
 * frames), with the goroutines' pprof labels as sample labels. Call goprof_session_poll()
 * first to take in what is waiting in the ring buffer.
 *
 * @param flags 0 or GOPROF_SNAPSHOT_RESET.
 * @param session the session.
 * @return a profile the caller owns (free with goprof_profile_free(); it outlives the
 *         session), or NULL with errno set (EINVAL, ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_cpu(struct goprof_session *session,
							      uint32_t flags);

/**
 * Takes the thread off-CPU profile (GOPROF_FEATURE_OFFCPU) since the session started
 * (or the last reset): sample types contentions/count (off-CPU intervals) and
 * delay/nanoseconds (their time), by kernel stack (leaf first, where the thread left the
 * CPU) and user stack (Go inline frames expanded), like Go's block profile. Intervals
 * are counted when the thread runs again, so a thread still off CPU at the snapshot
 * counts later. Data of processes that exited stays.
 *
 * @param session the session.
 * @param flags 0 or GOPROF_SNAPSHOT_RESET.
 * @return a profile the caller owns, or NULL with errno set (EINVAL: feature not enabled
 *         or unknown flags; ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_offcpu(struct goprof_session *session,
								 uint32_t flags);

/**
 * Symbolizes the stacks of a sample handed to on_sample (call it from the callback):
 * @p fn gets the frames leaf first, kernel frames first, inline frames expanded, using the
 * session's symbol caches.
 * @param session the session.
 * @param sample  the sample handed to on_sample.
 * @param fn      receives each frame.
 * @param ctx     passed to @p fn.
 * @return 0, the callback's non-zero return, or a negative errno.
 */
GOPROF_API int goprof_session_symbolize_sample(struct goprof_session *session,
					       const struct goprof_sample *sample,
					       goprof_frame_fn fn, void *ctx);

/**
 * Takes the goroutine profile: live goroutines of attached Go processes (created since
 * the probes were attached) that are at least @p min_age_ns old, grouped by creation
 * stack (the go statement first, then its callers). Sample types goroutine/count and
 * age/nanoseconds (the sum of the group's ages); numeric labels "pid" and "oldest_age"
 * (nanoseconds). With a threshold this is the leak report: goroutines alive longer than
 * it, by the place that created them. Needs GOPROF_FEATURE_GOROUTINES.
 *
 * With GOPROF_FEATURE_GOROUTINE_SNAPSHOTS and without GOPROF_FEATURE_GOROUTINES (since
 * 0.1), it takes a goroutine snapshot of every attached Go process instead (no probe)
 * and builds Go's goroutine profile from it (/debug/pprof/goroutine): sample type
 * goroutine/count by stack (leaf first, as the goroutine parked; running goroutines
 * have no stack) with the goroutines' pprof labels as string labels, and the numeric
 * label "pid". Every goroutine is in it, also those created before the session. With
 * @p min_age_ns > 0 only goroutines parked at least that long are counted (the leak
 * report) and samples also carry the string labels "wait_reason" and "created_by"
 * (function and file:line of the go statement), and the numeric label
 * "growth_per_min" of their leak group.
 *
 * @param flags 0.
 * @param session    the session.
 * @param min_age_ns only goroutines at least this old (nanoseconds); 0 for all.
 * @return a profile the caller owns, or NULL with errno set (EINVAL: feature not enabled
 *         or unknown flags; ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_goroutines(struct goprof_session *session,
								     uint64_t min_age_ns, uint32_t flags);

/** Buckets of the log2 histograms of goprof_gc_stats. */
#define GOPROF_GC_HIST_BUCKETS 24

/**
 * GC summary of the attached processes (GOPROF_FEATURE_GC). The caller sets @c sz to
 * sizeof(struct goprof_gc_stats); the library fills the fields within it. Pauses are the
 * stop-the-world pauses of GC cycles (two per cycle). Counts, totals, maxima and
 * histograms cover every cycle; the percentiles cover the most recent 4096 cycles (memory
 * stays bounded in long sessions).
 */
struct goprof_gc_stats {
	uint32_t sz;             /**< set by the caller */
	uint32_t reserved0;      /**< zero */
	uint64_t cycles;         /**< GC cycles completed */
	uint64_t pauses;         /**< stop-the-world pauses of those cycles */
	uint64_t pause_total_ns; /**< their sum */
	uint64_t pause_p50_ns;   /**< median pause */
	uint64_t pause_p90_ns;   /**< 90th percentile */
	uint64_t pause_p99_ns;   /**< 99th percentile */
	uint64_t pause_max_ns;   /**< longest pause */
	uint64_t cycle_p50_ns;   /**< median cycle duration (start of the first pause to the end of the second) */
	uint64_t cycle_max_ns;   /**< longest cycle */
	uint64_t other_stw;      /**< stop-the-world pauses outside GC (ReadMemStats, ...) */
	uint64_t first_cycle_ns; /**< start of the first cycle (CLOCK_MONOTONIC), 0 if none */
	uint64_t last_cycle_ns;  /**< end of the last cycle: cycles / (last - first) is the GC rate */
	/** pause_hist[i]: pauses of [2^i, 2^(i+1)) microseconds (bucket 0 includes < 1 us) */
	uint64_t pause_hist[GOPROF_GC_HIST_BUCKETS];
	/** cycle_hist[i]: cycles lasting [2^i, 2^(i+1)) microseconds */
	uint64_t cycle_hist[GOPROF_GC_HIST_BUCKETS];
	/* since 1.1 */
	uint32_t source;         /**< GOPROF_STATS_FROM_*: where the figures come from (0: no data) */
	uint32_t heap_flags;     /**< GOPROF_GC_HEAP_* */
	uint64_t forced_cycles;  /**< of cycles, those runtime.GC() asked for */
	/* Heap figures (memory mode, GOPROF_GC_HEAP_VALID), now; summed over processes for pid 0 */
	uint64_t heap_inuse_bytes;  /**< bytes in in-use spans (MemStats.HeapInuse) */
	uint64_t heap_live_bytes;   /**< bytes the GC counts as live: marked by the last cycle
				         plus allocated since (gcController.heapLive) */
	uint64_t heap_marked_bytes; /**< bytes the last cycle marked live (/gc/heap/live:bytes) */
	uint64_t heap_goal_bytes;   /**< the heap size the next cycle aims at (MemStats.NextGC;
				         with GOPROF_GC_HEAP_LIMITED, GOGC's goal: a memory limit
				         may make the runtime's lower); 0 with GOGC=off */
};

/** @name goprof_gc_stats.source, goprof_sched_stats.source (since 1.1)
 * @{ */
#define GOPROF_STATS_FROM_PROBES 1 /**< the precise (uprobe) mode */
/**
 * The runtime's own memory. GC: pauses, pause_total_ns, the pause percentiles and
 * pause_hist come from the runtime's histogram of every GC stop-the-world pause
 * (/gc/pauses:seconds up to Go 1.21, /sched/pauses/total/gc:seconds from 1.22): p50/p90/
 * p99 and pause_max_ns are the upper bounds of its buckets; pause_total_ns is exact
 * (memstats.pause_total_ns); other_stw counts the other stop-the-world pauses (Go 1.22+,
 * else 0); cycle durations (cycle_*) are not kept by the runtime and are 0.
 * Scheduling: waits are the runtime's sampled transitions, total_ns is 0 (the histogram
 * has no sum), goroutines is 0.
 */
#define GOPROF_STATS_FROM_MEMORY 2
/** @} */

/** @name goprof_gc_stats.heap_flags (since 1.1)
 * @{ */
#define GOPROF_GC_HEAP_VALID 0x1u   /**< heap_* were read (every process asked for) */
#define GOPROF_GC_HEAP_LIMITED 0x2u /**< a memory limit (GOMEMLIMIT) is set */
/** @} */

/**
 * Reads the GC summary of process @p pid, or of every attached process for pid 0. In the
 * default (memory) mode the figures are those of the last read, made by
 * goprof_session_poll(): poll first.
 * @param session the session.
 * @param pid     a process, or 0 for all attached processes.
 * @param stats   filled in; set stats->sz first.
 * @return 0, or -EINVAL (NULL arguments, sz too small, GOPROF_FEATURE_GC not enabled).
 */
GOPROF_API int goprof_session_gc_stats(struct goprof_session *session, int pid,
				       struct goprof_gc_stats *stats);

/**
 * Takes the heap profile of the attached Go processes (GOPROF_FEATURE_HEAP):
 * alloc_objects/count, alloc_space/bytes (since the probes were attached),
 * inuse_objects/count and inuse_space/bytes (allocated since then and not yet freed), by
 * allocation site with the runtime's own frames trimmed, scaled like Go's heap profile
 * for the default MemProfileRate of 512 KiB.
 *
 * @param flags 0.
 * @param session the session.
 * @return a profile the caller owns, or NULL with errno set (EINVAL: feature not enabled
 *         or unknown flags; ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_heap(struct goprof_session *session,
							       uint32_t flags);

/**
 * Takes the profile of every allocation seen by the per-allocation mode
 * (GOPROF_FEATURE_ALLOCS): alloc_objects/count and alloc_space/bytes, exact (not
 * scaled), by allocation site with the runtime's frames trimmed. In-use values are not
 * tracked in this mode and stay 0.
 * @param session the session.
 * @param flags   0.
 * @return a profile the caller owns, or NULL with errno set (EINVAL, ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_allocs(struct goprof_session *session,
								 uint32_t flags);

/** Buckets of goprof_sched_stats.hist. */
#define GOPROF_SCHED_HIST_BUCKETS 32

/**
 * Scheduling latency summary (GOPROF_FEATURE_SCHED). The caller sets @c sz; the library
 * fills the fields within it. Percentiles are the upper bounds of log2 buckets.
 */
struct goprof_sched_stats {
	uint32_t sz;           /**< set by the caller */
	uint32_t goroutines;   /**< goroutines with at least one measured wait */
	uint64_t waits;        /**< runnable -> running transitions measured */
	uint64_t total_ns;     /**< their summed latency */
	uint64_t p50_ns;       /**< median latency (bucket upper bound) */
	uint64_t p90_ns;       /**< 90th percentile */
	uint64_t p99_ns;       /**< 99th percentile */
	uint64_t max_ns;       /**< longest wait */
	/** hist[i]: waits of [2^i, 2^(i+1)) microseconds (bucket 0 includes < 1 us) */
	uint64_t hist[GOPROF_SCHED_HIST_BUCKETS];
	/* since 1.1 */
	uint32_t source;       /**< GOPROF_STATS_FROM_* (0: no data) */
	uint32_t sample_every; /**< 1: every transition timed (precise mode); 8: the runtime
				    times one in 8 per goroutine (memory mode) */
};

/**
 * Reads the scheduling latency of process @p pid (0: all attached processes).
 * @param session the session.
 * @param pid     a process, or 0 for all attached processes.
 * @param stats   filled in; set stats->sz first.
 * @return 0, or -EINVAL (NULL arguments, sz too small, GOPROF_FEATURE_SCHED not enabled).
 */
GOPROF_API int goprof_session_sched_stats(struct goprof_session *session, int pid,
					  struct goprof_sched_stats *stats);

/**
 * Scheduling latency by the goroutines' creation site (needs GOPROF_FEATURE_SCHED_PRECISE
 * and GOPROF_FEATURE_GOROUTINES - with GOPROF_FEATURE_SCHED alone, read from the runtime's
 * memory, there are no sites and the profile is empty; goroutines created before the
 * probes count, per process, with an empty stack): sample types waits/count and delay/nanoseconds, numeric labels
 * pid, p50_delay, p90_delay, p99_delay and max_delay (nanoseconds). A goroutine that exited
 * is no longer attributed to its site: read sites while the goroutines live.
 * @param session the session.
 * @param flags   0.
 * @return a profile the caller owns, or NULL with errno set (EINVAL, ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_sched(struct goprof_session *session,
								uint32_t flags);

/**
 * Receives one creation site of goprof_session_foreach_sched_site(): @p site is the site's
 * sample of goprof_session_snapshot_sched() (creation stack, leaf first = the function
 * that ran the go statement; values and labels), @p stats its full summary and log2
 * histogram. Both are valid during the call only.
 * @return 0 to go on; any other value stops the iteration and is returned.
 */
typedef int (*goprof_sched_site_fn)(const struct goprof_profile_sample *site,
				    const struct goprof_sched_stats *stats, void *ctx);

/**
 * Calls @p fn for every creation site with measured waits: the per-site histograms of
 * scheduling latency (needs GOPROF_FEATURE_SCHED; sites need GOPROF_FEATURE_GOROUTINES and
 * the precise mode, GOPROF_FEATURE_SCHED_PRECISE: without it fn is never called).
 * (since 1.1)
 * @param session the session.
 * @param fn      receives each site.
 * @param ctx     passed to @p fn.
 * @return 0, fn's non-zero value, or -EINVAL (NULL arguments, GOPROF_FEATURE_SCHED not
 *         enabled), -ENOMEM.
 */
GOPROF_API int goprof_session_foreach_sched_site(struct goprof_session *session,
						 goprof_sched_site_fn fn, void *ctx);

/** What the session knows about an attached process, handed to goprof_process_fn. */
struct goprof_process_info {
	uint32_t sz;        /**< bytes filled in by the library */
	uint32_t pid;       /**< process ID */
	uint32_t flags;     /**< GOPROF_PROCESS_* */
	uint32_t reserved;  /**< zero */
	char go_version[32]; /**< e.g. "go1.23.5"; "" if not a Go program */
	char note[160];     /**< why goroutine context is off, if it is (or that a newer release's layout was validated); else "" */
};

/** @name Flags of goprof_process_info.flags
 * @{ */
#define GOPROF_PROCESS_GO 0x1u        /**< the executable is a Go program */
#define GOPROF_PROCESS_GOROUTINES 0x2u /**< goroutine IDs and labels are read on samples */
#define GOPROF_PROCESS_EXITED 0x4u    /**< the process has exited */
#define GOPROF_PROCESS_BY_EXE 0x8u    /**< attached through goprof_session_attach_exe() */
#define GOPROF_PROCESS_HEAP_OFF 0x20u /**< memory profiling is off in the binary: no heap samples */
#define GOPROF_PROCESS_RUNTIME_PROBES 0x10u /**< Go runtime probes (goroutines, GC) installed */
/** GOPROF_FEATURE_HTTP: net/http probes installed (else the note says why) (since 1.1) */
#define GOPROF_PROCESS_HTTP 0x200u
/**
 * The process could not be inspected for lack of privileges: it belongs to another user
 * and the caller has no CAP_SYS_PTRACE, so its executable (/proc/PID/exe), memory map and
 * memory are unreadable. Its CPU samples are counted, with kernel frames, but it is not
 * known to be Go: no Go symbols, goroutine context or runtime/HTTP probes, and user frames
 * stay unsymbolized. The note says what is missing. (since 1.1)
 */
#define GOPROF_PROCESS_NO_ACCESS 0x400u
/**
 * The runtime layout (goroutine IDs, labels, m.curg) was checked against the running
 * process's goroutines before use: set for every attached process whose layout passed;
 * a release newer than the library's newest known one gets goroutine context only with
 * it (see docs/newer-releases.md) (since 1.1)
 */
#define GOPROF_PROCESS_LAYOUT_VALIDATED 0x800u
/** Followed through goprof_session_attach_all() (since 1.1) */
#define GOPROF_PROCESS_BY_ALL 0x8000u
/**
 * The runtime's statistics (GC, scheduling latency, heap) are read from the process's
 * memory: GOPROF_FEATURE_GC / GOPROF_FEATURE_SCHED without their precise modes. Without
 * it (with one of those features) the note says why: runtime.memstats / runtime.sched
 * could not be located, or the release's layout could not be proven (since 1.1)
 */
#define GOPROF_PROCESS_RUNTIME_STATS 0x1000u
/** @} */

/** Receives one process. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_process_fn)(const struct goprof_process_info *process, void *ctx);

/**
 * Calls @p fn for every process attached now or earlier in the session.
 * @param session the session.
 * @param fn      receives each process.
 * @param ctx     passed to @p fn.
 * @return 0, the callback's non-zero return, or a negative errno.
 */
GOPROF_API int goprof_session_foreach_process(struct goprof_session *session,
					      goprof_process_fn fn, void *ctx);

/** Samples counted for one thread, handed to goprof_thread_fn. */
struct goprof_thread_samples {
	uint32_t sz;      /**< bytes filled in by the library */
	uint32_t pid;     /**< process ID */
	uint32_t tid;     /**< thread ID */
	uint32_t reserved; /**< zero */
	uint64_t samples; /**< CPU samples counted in the kernel for this thread */
	char comm[GOPROF_COMM_LEN]; /**< thread name at its first sample */
};

/** Receives one thread's count. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_thread_fn)(const struct goprof_thread_samples *thread, void *ctx);

/**
 * Calls @p fn for every thread of an attached (or formerly attached) process that has
 * samples, in no particular order. Counts are exact: they are kept in the kernel and do
 * not depend on the ring buffer.
 * @param session the session.
 * @param fn      receives each thread.
 * @param ctx     passed to @p fn.
 * @return 0, the callback's non-zero return, or a negative errno.
 */
GOPROF_API int goprof_session_foreach_thread(struct goprof_session *session,
					     goprof_thread_fn fn, void *ctx);

/**
 * Session counters. The caller sets @c sz to sizeof(struct goprof_session_stats); the
 * library fills the fields that lie within it.
 */
struct goprof_session_stats {
	uint32_t sz;               /**< set by the caller */
	uint32_t attached_pids;    /**< processes currently attached */
	uint64_t cpu_samples;      /**< samples of attached processes taken in the kernel */
	uint64_t samples_delivered; /**< samples taken in from the ring buffer (into the profile,
					 and to on_sample if set) */
	uint64_t lost_ringbuf_full; /**< samples not delivered: the ring buffer was full
				       (cpu_samples = samples_delivered + this, once drained) */
	uint64_t lost_thread_table_full; /**< samples not counted per thread: the table was full */
	/* since 1.1 */
	uint64_t lost_targets_full;  /**< processes that exec'd an attached executable but
					  found the target table full */
	uint64_t lost_aggregation;   /**< samples not added to the profile (out of memory) */
	uint64_t go_context_failed;  /**< samples of Go processes whose goroutine was unreadable */
	uint64_t frames_unsymbolized; /**< distinct addresses no symbol was found for */
	uint64_t symbol_cache_hits;   /**< frame lookups answered from the session's cache */
	uint64_t symbol_cache_misses; /**< frame lookups that went to the symbolizer */
	uint64_t processes_exited;    /**< attached processes seen exiting */
	uint64_t goroutines_created;  /**< goroutine creations seen (GOPROF_FEATURE_GOROUTINES) */
	uint64_t goroutines_exited;   /**< goroutine exits seen */
	uint64_t goroutines_live;     /**< goroutines created since attach and not exited */
	uint64_t probe_hits;          /**< uprobe hits in attached processes, all probes */
	uint32_t uprobes_installed;   /**< uprobes (entries and RET sites) in place */
	uint32_t probe_sets_detached; /**< probe sets removed by the overhead budget (runtime
					   uprobe sets, the off-CPU program, the HTTP wire hooks) */
	uint64_t probe_cost_ns;       /**< estimated time the targets spent in runtime probes */
	uint64_t lost_events;         /**< exec/exit and Go runtime records lost: the ring
					   buffer was full (lost exits are recovered from the
					   kernel's target table) */
	uint64_t events_delivered;    /**< exec/exit and Go runtime records taken in from the
					   ring buffer (events seen = this + lost_events) (since 1.1) */
	uint64_t ringbuf_bytes;       /**< size of the ring buffer (since 1.1) */
	uint64_t ringbuf_high_water_bytes; /**< the most data found waiting in the ring buffer
					        while goprof_session_poll() took records in: near
					        ringbuf_bytes, samples are about to be lost (poll
					        more often or enlarge it) (since 1.1) */
	uint64_t cpu_profile_stacks;  /**< distinct stacks in the CPU profile now (memory of the
					   aggregation; a GOPROF_SNAPSHOT_RESET empties it) (since 1.1) */
	uint64_t symbol_cache_entries; /**< addresses in the CPU profile's symbol cache now
					    (emptied with the profile) (since 1.1) */
	uint64_t cpu_profile_resets;  /**< CPU profile intervals started by GOPROF_SNAPSHOT_RESET
					   (since 1.1) */
	/* since 1.1: off-CPU profile (GOPROF_FEATURE_OFFCPU) */
	uint64_t offcpu_switches;     /**< sched_switch hits: every context switch of the machine
					   while the program was attached */
	uint64_t offcpu_switch_outs;  /**< of those, switch-outs of attached processes' threads */
	uint64_t offcpu_intervals;    /**< off-CPU intervals counted (sampled ones) */
	uint64_t offcpu_filtered;     /**< intervals outside [offcpu_min_us, offcpu_max_us] */
	uint64_t offcpu_stacks_lost;  /**< stacks not stored (the stack table was full) or gone
					   when read (a process sharing it had just exited): the
					   time counts without that stack */
	uint64_t lost_offcpu;         /**< intervals not counted: the kernel table was full */
	uint32_t offcpu_sample_every; /**< current 1-in-N sampling (raised by the budget) */
	uint32_t offcpu_attached;     /**< 1 while the sched_switch program is attached */

	/* since 1.1: GOPROF_FEATURE_TCP */
	uint64_t tcp_sockets_tracked; /**< TCP sockets of attached processes tracked (connects
					   and accepts) */
	uint64_t tcp_events;          /**< GOPROF_EVENT_TCP_* events taken in */
	uint64_t lost_tcp_events;     /**< TCP events lost: the ring buffer was full */
	uint64_t lost_tcp_untracked;  /**< sockets not tracked: the kernel's socket table
					   (65536 open connections) was full */
	uint64_t tcp_hook_runs;       /**< runs of the TCP state-change and accept hooks, for
					   every process of the machine (the cost of
					   GOPROF_FEATURE_TCP: about 0.3-0.8 us each measured on
					   our loaded 2-core VMs) */

	uint64_t block_events;        /**< parked-then-woken goroutines measured (since 1.1) */
	uint64_t lost_block_events;   /**< ... lost: the ring buffer was full (since 1.1) */
	uint64_t lost_channels;       /**< channel operations not counted: the channel table
					   was full (GOPROF_MAX_CHANNELS per session) (since 1.1) */

	/* since 1.1: GOPROF_FEATURE_HTTP */
	uint64_t http_requests;        /**< server requests traced (delivered) */
	uint64_t http_client_requests; /**< client requests traced */
	uint64_t lost_http;            /**< finished requests lost: the ring buffer was full */
	uint64_t lost_http_unfinished; /**< server requests whose end was never seen (the
					    handler panicked), counted when the connection ended */

	/* since 1.1: GOPROF_FEATURE_HTTP_WIRE */
	uint64_t http_wire_hook_runs;  /**< runs of the read/write/close hooks in attached
					    processes (each of their reads, writes and closes) */
	uint64_t lost_http_wire_conns; /**< HTTP connections not followed: the connection
					    table was full */

	/* since 1.1 */
	uint64_t processes_unreadable; /**< attached processes that could not be inspected for
					    lack of privileges (GOPROF_PROCESS_NO_ACCESS; each
					    process's note says what is missing) */

	/* since 1.1: goprof_session_attach_all() */
	uint64_t processes_over_limit; /**< processes not followed: max_processes were
					    followed already */
	uint64_t processes_filtered;   /**< processes left out by the filter or by
					    GOPROF_ATTACH_ALL_GO_ONLY */
	/* since 1.1: the runtime statistics reader (GOPROF_FEATURE_GC / _SCHED, memory mode) */
	uint64_t rt_reads;          /**< reads of a process's runtime statistics */
	uint64_t rt_read_bytes;     /**< bytes read from the targets' memory */
	uint64_t rt_read_failures;  /**< reads that failed or did not decode (torn by the
				         runtime writing meanwhile, process gone) */
	uint64_t rt_read_cpu_ns;    /**< the profiler's CPU time spent reading and decoding
				         (the targets spend none) */
	uint32_t rt_processes;      /**< processes being read now */
	uint32_t rt_interval_ms;    /**< time between reads of a process (the overhead budget
				         stretches it if reading costs more than the budget) */
	/* since 1.1: goroutine snapshots (GOPROF_FEATURE_GOROUTINE_SNAPSHOTS, or
	 * goprof_session_take_goroutine_snapshot()) */
	uint64_t goroutine_snapshots;      /**< process snapshots taken */
	uint64_t goroutine_snapshots_failed; /**< ... that failed (the process exited or exec'd
					        during it, its goroutine list is unreadable) */
	uint64_t snapshot_goroutines_read; /**< goroutines read (all snapshots) */
	uint64_t snapshot_retries;         /**< goroutines read again because they changed while
					        being read (they ran, their stack moved) */
	uint64_t snapshot_changed;         /**< goroutines left out of a snapshot: still changing
					        after the retries (never reported half-read) */
	uint64_t snapshot_rejected;        /**< g structs that decoded to no valid goroutine */
	uint64_t snapshot_cpu_ns;          /**< CPU time of the snapshot reader (the profiler's
					        thread, not the targets') */
	uint64_t snapshot_bytes_read;      /**< bytes read from the targets' memory */
	uint32_t snapshot_interval_ms;     /**< current interval between periodic snapshots */
	uint32_t goroutine_leak_groups;    /**< leak groups now (goprof_session_foreach_goroutine_leak) */
};

/**
 * Reads the session's counters.
 * @param session the session.
 * @param stats   filled in; set stats->sz first.
 * @return 0, or -EINVAL (NULL arguments or @c sz too small to hold @c sz itself).
 */
GOPROF_API int goprof_session_stats(struct goprof_session *session,
				    struct goprof_session_stats *stats);

/** @name Flags of goprof_goroutine.flags (since 1.1)
 * @{ */
#define GOPROF_GOROUTINE_NO_STACK 0x1u        /**< running or in a system call: no saved registers, no stack */
#define GOPROF_GOROUTINE_STACK_TRUNCATED 0x2u /**< the stack is deeper than the frames kept */
#define GOPROF_GOROUTINE_LABELS_TRUNCATED 0x4u /**< more labels than kept (64) */
/** wait_ns is a lower bound: the goroutine was already parked at the first snapshot that
 *  saw it (and the runtime's waitsince, set only by the GC, did not say more) */
#define GOPROF_GOROUTINE_WAIT_AT_LEAST 0x8u
#define GOPROF_GOROUTINE_LEAKED 0x10u /**< parked at least goroutine_leak_age_ms */
/** @} */

/** @name goprof_goroutine.status: Go's goroutine states (since 1.1)
 * @{ */
#define GOPROF_GSTATUS_RUNNABLE 1  /**< ready to run, waiting for a thread */
#define GOPROF_GSTATUS_RUNNING 2   /**< on a thread (no stack in a snapshot) */
#define GOPROF_GSTATUS_SYSCALL 3   /**< in a system call (no stack in a snapshot) */
#define GOPROF_GSTATUS_WAITING 4   /**< parked: wait_reason says why */
#define GOPROF_GSTATUS_PREEMPTED 9 /**< stopped by a preemption request */
#define GOPROF_GSTATUS_LEAKED 10 /**< Go 1.26+: found leaked by Go's own leak detector */
/** @} */

/**
 * One goroutine of a snapshot (goprof_goroutine_snapshot_foreach()). Valid during the
 * callback. Strings are never NULL; function names come from the binary (untrusted
 * bytes: escape them before printing). Read a field only if it lies within @c sz.
 * (since 1.1)
 */
struct goprof_goroutine {
	uint32_t sz;            /**< bytes filled in by the library */
	uint32_t pid;           /**< process */
	uint64_t goid;          /**< goroutine ID */
	uint64_t parent_goid;   /**< the goroutine that created it (Go 1.21+); 0 unknown */
	uint32_t status;        /**< GOPROF_GSTATUS_* (Go's numbering) */
	uint32_t wait_reason_code; /**< Go's waitReason number (release-specific) */
	const char *wait_reason;   /**< Go's string ("chan receive", "select", ...); "" if none */
	uint64_t wait_ns;       /**< how long it has been parked (see GOPROF_GOROUTINE_WAIT_AT_LEAST); 0 if running */
	uint64_t creation_pc;   /**< the go statement that created it (g.gopc) */
	uint64_t start_pc;      /**< its function's entry (g.startpc) */
	const char *created_by; /**< function of creation_pc, "file:line" appended; "" unknown */
	const char *start_function; /**< function at start_pc; "" unknown */
	uint32_t flags;         /**< GOPROF_GOROUTINE_* */
	uint32_t nr_stack;      /**< entries in @c stack */
	/** instruction addresses leaf first: [0] where it parked, then return addresses */
	const uint64_t *stack;
	uint32_t nr_labels;     /**< entries in @c labels */
	uint32_t reserved0;     /**< zero */
	const struct goprof_profile_label *const *labels; /**< its pprof labels (string labels) */
	/** the channel (runtime hchan address) it waits on in a plain send or receive; 0 for
	 *  other waits (select cases are not attributed) */
	uint64_t channel;
};

/** Opaque goroutine snapshot: every goroutine of one or more processes at one moment. */
struct goprof_goroutine_snapshot;

/** Summary of a snapshot (goprof_goroutine_snapshot_info(); since 1.1). */
struct goprof_goroutine_snapshot_info {
	uint32_t sz;          /**< set by the caller */
	uint32_t processes;   /**< processes read */
	uint64_t goroutines;  /**< goroutines in the snapshot */
	uint64_t time_ns;     /**< CLOCK_MONOTONIC when it was taken */
	uint64_t duration_ns; /**< wall time the reading took */
	uint64_t retries;     /**< goroutines read again (they changed while read) */
	uint64_t changed;     /**< goroutines left out: still changing after the retries */
	uint64_t rejected;    /**< g structs that were no valid goroutine */
	uint32_t failed;      /**< processes that could not be read (exited, exec'd, no list) */
	uint32_t reserved0;   /**< zero */
};

/**
 * Takes a goroutine snapshot of process @p pid (an attached Go process), or of every
 * attached Go process for 0, now, from outside (no probe). Needs no feature flag; with
 * GOPROF_FEATURE_GOROUTINE_SNAPSHOTS the periodic snapshots make wait times and leak
 * flags more precise. Counted in goprof_session_stats(). (since 1.1)
 * @param session the session.
 * @param pid     an attached process, or 0.
 * @param flags   0.
 * @return a snapshot the caller owns (free with goprof_goroutine_snapshot_free(); it
 *         outlives the session), or NULL with errno set: EINVAL, ESRCH (pid not attached
 *         or exited), ENOENT (its goroutine list cannot be located: the message says why),
 *         EPERM, ENOMEM.
 */
GOPROF_API struct goprof_goroutine_snapshot *
goprof_session_take_goroutine_snapshot(struct goprof_session *session, int pid, uint32_t flags);

/** Receives one goroutine. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_goroutine_fn)(const struct goprof_goroutine *goroutine, void *ctx);

/**
 * Calls @p fn for every goroutine of the snapshot (by process, in the runtime's order).
 * @param snap the snapshot.
 * @param fn   receives each goroutine.
 * @param ctx  passed to @p fn.
 * @return 0, fn's non-zero value, or -EINVAL. (since 1.1)
 */
GOPROF_API int goprof_goroutine_snapshot_foreach(const struct goprof_goroutine_snapshot *snap,
						 goprof_goroutine_fn fn, void *ctx);

/**
 * Summarises a snapshot. (since 1.1)
 * @param snap the snapshot.
 * @param info filled in; set info->sz first.
 * @return 0 or -EINVAL.
 */
GOPROF_API int goprof_goroutine_snapshot_info(const struct goprof_goroutine_snapshot *snap,
					      struct goprof_goroutine_snapshot_info *info);

/**
 * A channel that goroutines of a snapshot wait on (plain sends and receives), read from
 * the runtime's hchan through the waiting goroutines' sudogs. Valid during the callback.
 * (since 1.1)
 */
struct goprof_snapshot_channel {
	uint32_t sz;            /**< bytes filled in by the library */
	uint32_t pid;           /**< process */
	uint64_t address;       /**< the channel (runtime hchan) */
	uint64_t capacity;      /**< buffer size (hchan.dataqsiz): 0 unbuffered */
	uint64_t occupancy;     /**< elements buffered now (hchan.qcount) */
	uint32_t waiting_senders;   /**< goroutines of the snapshot parked sending on it */
	uint32_t waiting_receivers; /**< goroutines of the snapshot parked receiving from it */
	uint32_t closed;        /**< 1 if the channel is closed */
	uint32_t reserved0;     /**< zero */
	uint64_t oldest_wait_ns; /**< the longest wait among them */
	/** the innermost function outside Go's runtime of one of the waiting goroutines
	 *  (untrusted bytes from the binary); "" unknown */
	const char *site;
};

/** Receives one channel. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_snapshot_channel_fn)(const struct goprof_snapshot_channel *channel, void *ctx);

/**
 * Calls @p fn for every channel goroutines of the snapshot wait on (sends and receives;
 * select is not attributed), by process and address. (since 1.1)
 * @param snap the snapshot.
 * @param fn   receives each channel.
 * @param ctx  passed to @p fn.
 * @return 0, fn's non-zero value, or -EINVAL.
 */
GOPROF_API int goprof_goroutine_snapshot_foreach_channel(const struct goprof_goroutine_snapshot *snap,
							 goprof_snapshot_channel_fn fn, void *ctx);

/**
 * Frees a snapshot. (since 1.1)
 * @param snap the snapshot, or NULL (a no-op).
 */
GOPROF_API void goprof_goroutine_snapshot_free(struct goprof_goroutine_snapshot *snap);

/**
 * Takes the goroutine wait profile sampled by the periodic snapshots
 * (GOPROF_FEATURE_GOROUTINE_SNAPSHOTS; since 1.1): at each snapshot every parked goroutine's
 * stack counts once and for the time since the previous snapshot, so the profile
 * estimates where goroutines spend their time parked, and why, without a probe: sample
 * types waits/count (snapshots that saw a goroutine there) and delay/nanoseconds, by
 * stack (leaf first, as parked), with the string label "wait_reason" (Go's string) and
 * the numeric label "pid". Unlike GOPROF_FEATURE_BLOCK (which times every park exactly,
 * with probes) it is a sample: waits shorter than the interval are seen in proportion to
 * how often they are under way, and goroutines still parked count as well.
 * @param session the session.
 * @param flags   0 or GOPROF_SNAPSHOT_RESET (start a new interval after the copy).
 * @return a profile the caller owns, or NULL with errno set (EINVAL: feature not enabled
 *         or unknown flags; ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_goroutine_waits(struct goprof_session *session,
									   uint32_t flags);

/**
 * One leak group of goroutine snapshots: goroutines of one process parked at least the
 * leak age, with one creation site, wait reason and stack. Valid during the callback.
 * Strings are never NULL (untrusted bytes from the binary: escape them). (since 1.1)
 */
struct goprof_goroutine_leak {
	uint32_t sz;            /**< bytes filled in by the library */
	uint32_t pid;           /**< process */
	uint64_t count;         /**< goroutines of the group parked at least the leak age */
	uint64_t parked;        /**< goroutines of the group parked now, younger ones included */
	uint64_t first_count;   /**< parked goroutines of the group at the first snapshot that saw it */
	uint64_t first_seen_ns; /**< CLOCK_MONOTONIC of that snapshot */
	uint64_t last_seen_ns;  /**< CLOCK_MONOTONIC of the latest snapshot */
	int64_t growth_per_min; /**< (parked - first_count) per minute between the two: the
				     rate at which the site creates goroutines that never end */
	uint64_t oldest_wait_ns; /**< the longest wait in the group */
	uint64_t creation_pc;   /**< the go statement */
	uint64_t example_goid;  /**< one goroutine of the group */
	const char *created_by; /**< "function (file:line)" of the go statement; "" unknown */
	const char *wait_reason; /**< Go's string */
	const char *top_function; /**< the innermost frame outside Go's runtime; "" unknown */
	const char *stack;      /**< the wait stack, root first, ';'-separated (folded) */
};

/** Receives one leak group. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_goroutine_leak_fn)(const struct goprof_goroutine_leak *leak, void *ctx);

/**
 * Calls @p fn for every leak group of the latest periodic snapshot of each process
 * (GOPROF_FEATURE_GOROUTINE_SNAPSHOTS), largest first. (since 1.1)
 * @param session the session.
 * @param fn      receives each group.
 * @param ctx     passed to @p fn.
 * @return 0, fn's non-zero value, or -EINVAL (NULL arguments, feature not enabled).
 */
GOPROF_API int goprof_session_foreach_goroutine_leak(struct goprof_session *session,
						     goprof_goroutine_leak_fn fn, void *ctx);

/**
 * TCP traffic of one process with one peer (GOPROF_FEATURE_TCP), handed to
 * goprof_tcp_peer_fn. A peer is the remote address and port of outgoing connections, or
 * the remote address and the local (listening) port of accepted ones
 * (GOPROF_TCP_ACCEPTED). Byte counts and durations are of the connections closed so far.
 * (since 1.1)
 */
struct goprof_tcp_peer {
	uint32_t sz;          /**< bytes filled in by the library */
	uint32_t pid;         /**< process */
	uint32_t flags;       /**< GOPROF_TCP_ACCEPTED or 0 */
	uint16_t family;      /**< GOPROF_TCP_IPV4 or GOPROF_TCP_IPV6 */
	uint16_t port;        /**< remote port (outgoing) or local port (accepted), host order */
	uint8_t addr[16];     /**< remote address, network byte order (IPv4: first 4 bytes) */
	uint64_t connections; /**< connections established (connected or accepted) */
	uint64_t failed;      /**< outgoing connections that failed (refused, timed out, ...) */
	uint64_t closed;      /**< connections closed */
	uint64_t resets;      /**< closed connections that ended with a RST, sent or received */
	uint64_t errors;      /**< closed connections that ended with an error (tcp_error) */
	uint64_t bytes_sent;     /**< payload bytes sent over the closed connections */
	uint64_t bytes_received; /**< payload bytes received over the closed connections */
	uint64_t retransmits;    /**< segments retransmitted (closed and failed connections) */
	uint64_t handshake_total_ns; /**< sum of the handshake times of established outgoing connections */
	uint64_t handshake_max_ns;   /**< the longest of them */
	uint64_t duration_total_ns;  /**< sum of the durations of the closed connections */
};

/** Receives one peer. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_tcp_peer_fn)(const struct goprof_tcp_peer *peer, void *ctx);

/**
 * Calls @p fn for every (process, peer) pair with TCP traffic seen in the session, in no
 * particular order (processes that have exited included). Call goprof_session_poll()
 * first to take in waiting events. (since 1.1)
 * @param session the session.
 * @param fn called once per (process, peer).
 * @param ctx passed to @p fn.
 * @return 0, the callback's non-zero return, or -EINVAL (NULL arguments,
 *         GOPROF_FEATURE_TCP not enabled).
 */
GOPROF_API int goprof_session_foreach_tcp_peer(struct goprof_session *session,
					       goprof_tcp_peer_fn fn, void *ctx);

/**
 * Takes the goroutine blocking profile (GOPROF_FEATURE_BLOCK) in the format of Go's own
 * block profile: sample types contentions/count and delay/nanoseconds, by the stack where
 * the goroutines parked (the runtime's own frames trimmed to the outermost one, as Go
 * shows "runtime.chansend1" or "runtime.selectgo"), with the string label "wait_reason"
 * (Go's string), "channel" (hexadecimal address) for channel operations, and
 * "unwind" = "failed" on samples whose stack could not be read (kept, without frames).
 * Unlike Go's profile every reason is here, sleep and network waits too. A block counts
 * when the goroutine is made runnable again; goroutines still parked are not in it.
 *
 * @param session the session.
 * @param flags 0.
 * @return a profile the caller owns, or NULL with errno set (EINVAL: feature not enabled
 *         or unknown flags; ENOMEM).
 */
GOPROF_API struct goprof_profile *goprof_session_snapshot_block(struct goprof_session *session,
								uint32_t flags);

/** Channels tracked per session; operations on more are counted in lost_channels. */
#define GOPROF_MAX_CHANNELS 8192
/** Buckets of the histograms of goprof_channel_stats. */
#define GOPROF_CHANNEL_HIST_BUCKETS 32

/** @name Flags of goprof_channel_stats.flags
 * @{ */
/** sends/recvs are counted: the channel probes were still attached when the statistics
 *  were read (or the process exited); without it, the overhead budget detached them and
 *  the counts stopped then (sends/recvs are then at least the blocked ones) */
#define GOPROF_CHANNEL_OPS_COUNTED 0x1u
#define GOPROF_CHANNEL_EXITED 0x2u      /**< the process has exited */
/** @} */

/**
 * Statistics of one channel, handed to goprof_channel_fn; valid during the callback.
 * A channel is identified by its process, its address and the stack that first used it
 * (an address reused by a later channel adds to the same record). Times are nanoseconds;
 * percentiles are the upper bounds of log2 buckets, capped at the maximum. Read a field
 * only if it lies within @c sz. (since 1.1)
 */
struct goprof_channel_stats {
	uint32_t sz;            /**< bytes filled in by the library */
	uint32_t pid;           /**< process */
	uint64_t address;       /**< the channel (runtime hchan) address */
	uint32_t flags;         /**< GOPROF_CHANNEL_* */
	uint32_t capacity;      /**< buffer size: 0 for an unbuffered channel */
	uint64_t sends;         /**< send operations (runtime.chansend; select cases are not
				     counted unless they block on their own) */
	uint64_t recvs;         /**< receive operations (runtime.chanrecv) */
	uint64_t blocked_sends; /**< sends that parked the goroutine */
	uint64_t blocked_recvs; /**< receives that parked the goroutine */
	uint64_t blocked_ns;    /**< summed parked time of both */
	uint64_t send_blocked_ns; /**< the part of blocked_ns spent in sends (producers
				       waiting: the sign of a contended channel) */
	uint64_t max_blocked_ns; /**< longest park */
	uint64_t send_p50_ns;   /**< median blocked time of the blocked sends */
	uint64_t send_p90_ns;   /**< 90th percentile */
	uint64_t send_p99_ns;   /**< 99th percentile */
	uint64_t recv_p50_ns;   /**< the same for blocked receives */
	uint64_t recv_p90_ns;   /**< 90th percentile of the blocked receives */
	uint64_t recv_p99_ns;   /**< 99th percentile of the blocked receives */
	uint64_t max_occupancy; /**< most buffered elements seen at an operation */
	uint64_t occupancy_sum; /**< buffered elements summed over operations: / (sends + recvs)
				     is the mean occupancy */
	uint64_t first_seen_ns; /**< CLOCK_MONOTONIC time of the first operation seen */
	/** send_hist[i]: blocked sends of [2^i, 2^(i+1)) microseconds (bucket 0 includes < 1 us) */
	uint64_t send_hist[GOPROF_CHANNEL_HIST_BUCKETS];
	uint64_t recv_hist[GOPROF_CHANNEL_HIST_BUCKETS]; /**< the same for receives */
	/** first use: the first frame outside Go's runtime, "function (file:line)"; "" if unknown */
	const char *site;
	/** first use: the stack, root first, frames separated by ';' (folded format) */
	const char *stack;
};

/** Receives one channel. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_channel_fn)(const struct goprof_channel_stats *channel, void *ctx);

/**
 * Calls @p fn for every channel seen in attached processes (GOPROF_FEATURE_CHANNELS), in
 * no particular order; channels of processes that exited stay, with
 * GOPROF_CHANNEL_EXITED. (since 1.1)
 * @param session the session.
 * @param fn called once per channel.
 * @param ctx passed to fn.
 * @return 0, the callback's non-zero return, or a negative errno (-EINVAL: NULL
 *         arguments or feature not enabled).
 */
GOPROF_API int goprof_session_foreach_channel(struct goprof_session *session,
					      goprof_channel_fn fn, void *ctx);

/**
 * Latency and CPU time of one HTTP endpoint (method and path), handed to
 * goprof_http_endpoint_fn. Percentiles come from a log-linear histogram (within 1/32 of
 * the value); max is exact. (since 1.1)
 */
struct goprof_http_endpoint {
	uint32_t sz;        /**< bytes of this struct filled in by the library */
	uint32_t kind;      /**< GOPROF_HTTP_SERVER or GOPROF_HTTP_CLIENT */
	const char *method; /**< NUL-terminated, bounded like goprof_http_request */
	const char *path;   /**< the path up to its first NUL byte, bounded to 63 bytes (longer
			       paths sharing those bytes are one endpoint: flags has
			       GOPROF_HTTP_PATH_TRUNCATED) */
	const char *host;   /**< client endpoints: the host; "" for server endpoints */
	uint32_t flags;     /**< GOPROF_HTTP_*_TRUNCATED of any request counted here */
	uint32_t reserved0; /**< zero */
	uint64_t count;     /**< requests */
	uint64_t errors;    /**< server: status >= 500; client: status >= 500 or an error */
	uint64_t total_ns;  /**< summed duration */
	uint64_t p50_ns;    /**< median duration */
	uint64_t p90_ns;    /**< 90th percentile */
	uint64_t p99_ns;    /**< 99th percentile */
	uint64_t max_ns;    /**< longest request */
	uint64_t cpu_samples; /**< server: CPU samples taken while a goroutine served it */
	uint64_t cpu_ns;      /**< those samples times the sampling period */
};

/** @name goprof_http_endpoint.kind
 * @{ */
#define GOPROF_HTTP_SERVER 0 /**< requests this process served */
#define GOPROF_HTTP_CLIENT 1 /**< requests this process sent through an http.Client */
/** @} */

/** Receives one endpoint. Return 0 to go on, non-zero to stop the iteration. */
typedef int (*goprof_http_endpoint_fn)(const struct goprof_http_endpoint *endpoint, void *ctx);

/**
 * Calls @p fn for every HTTP endpoint seen since the session started (server endpoints
 * first, then client; by request count, highest first), all attached processes
 * together. CPU samples are added when taken in by goprof_session_poll(). At most 1024
 * distinct endpoints per kind are kept; further paths count under the path "(other)".
 * (since 1.1)
 * @param session the session.
 * @param fn      called once per endpoint.
 * @param ctx     passed to @p fn.
 * @return 0, the callback's non-zero return, or -EINVAL (NULL arguments, neither
 *         GOPROF_FEATURE_HTTP nor GOPROF_FEATURE_HTTP_WIRE enabled).
 */
GOPROF_API int goprof_session_foreach_http_endpoint(struct goprof_session *session,
						    goprof_http_endpoint_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_SESSION_H */
