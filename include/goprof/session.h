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
};

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
				   0 means 1024. */
	goprof_sample_fn on_sample; /**< optional: called for each sample by goprof_session_poll() */
	void *ctx;            /**< passed to every callback as its last argument */
};

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
 */
GOPROF_API void goprof_session_free(struct goprof_session *session);

/** Options of goprof_session_attach_pid(); none yet, pass NULL. (since 0.1) */
struct goprof_attach_opts {
	size_t sz; /**< sizeof(struct goprof_attach_opts) */
};

/**
 * Profiles process @p pid (all its threads, including ones created later).
 *
 * @return 0, or -EINVAL (pid <= 0 or bad opts), -ESRCH (no such process),
 *         -EEXIST (already attached), -ENOSPC (too many processes attached).
 */
GOPROF_API int goprof_session_attach_pid(struct goprof_session *session, int pid,
					 const struct goprof_attach_opts *opts);

/**
 * Stops profiling @p pid. Samples already counted stay in the session.
 * @return 0, or -ENOENT if the process was not attached.
 */
GOPROF_API int goprof_session_detach_pid(struct goprof_session *session, int pid);

/**
 * Starts sampling: opens a perf event on every online CPU and attaches the sampling
 * program. Processes may be attached before or after.
 * @return 0, -EALREADY if started, -EPERM, -EINVAL (frequency above the kernel's
 *         perf_event_max_sample_rate), or another negative errno.
 */
GOPROF_API int goprof_session_start(struct goprof_session *session);

/**
 * Stops sampling (closes the perf events). Counts are kept; start may be called again.
 * @return 0, or -EALREADY if not started.
 */
GOPROF_API int goprof_session_stop(struct goprof_session *session);

/**
 * Returns a file descriptor that becomes readable (EPOLLIN) when samples are waiting,
 * so a host can add the session to its own poll/epoll loop and then call
 * goprof_session_poll(session, 0). Owned by the session: do not close it.
 * @return the descriptor, or -EINVAL for a NULL session.
 */
GOPROF_API int goprof_session_fd(const struct goprof_session *session);

/**
 * Delivers waiting samples to the on_sample callback, waiting up to @p timeout_ms
 * milliseconds for the first one (0: do not wait; -1: wait indefinitely).
 * @return the number of samples consumed, a negative value returned by the callback,
 *         or a negative errno (-EINTR when interrupted by a signal).
 */
GOPROF_API int goprof_session_poll(struct goprof_session *session, int timeout_ms);

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
	uint64_t samples_delivered; /**< samples handed to on_sample */
	uint64_t lost_ringbuf_full; /**< samples not delivered: the ring buffer was full */
	uint64_t lost_thread_table_full; /**< samples not counted per thread: the table was full */
};

/**
 * Reads the session's counters.
 * @return 0, or -EINVAL (NULL arguments or @c sz too small to hold @c sz itself).
 */
GOPROF_API int goprof_session_stats(struct goprof_session *session,
				    struct goprof_session_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_SESSION_H */
