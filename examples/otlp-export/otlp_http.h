/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * A small OTLP/HTTP exporter for profiles, built only on libc and zlib: requests go into
 * a bounded queue that never blocks the profiler (a full queue drops the new request and
 * counts it), and one sender thread POSTs them (protobuf body, gzip) with retries and
 * exponential backoff on the errors OTLP calls retryable (connection failures, 429, 502,
 * 503, 504). Plain http:// only: put a collector or a TLS proxy on the same host for
 * anything else.
 *
 * Usable from any host of libgoprof, e.g. `goprof record --otlp URL`:
 *     struct otlp_exporter *x = otlp_exporter_new("http://127.0.0.1:4318/v1development/profiles", NULL);
 *     ... goprof_profile_write(p, GOPROF_FORMAT_OTLP, &opts, otlp_buf_write, &buf);
 *     otlp_exporter_enqueue(x, buf.data, buf.len);   // takes a copy, never blocks
 *     ... otlp_exporter_flush(x, 5000); otlp_exporter_free(x);
 */
#ifndef GOPROF_EXAMPLE_OTLP_HTTP_H
#define GOPROF_EXAMPLE_OTLP_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct otlp_exporter;

struct otlp_exporter_opts {
	unsigned queue_len;       /* requests waiting at most; 0: 16 */
	unsigned max_retries;     /* after the first attempt; 0: 5 */
	unsigned backoff_ms;      /* first backoff; doubles up to max_backoff_ms; 0: 200 */
	unsigned max_backoff_ms;  /* 0: 5000 */
	unsigned timeout_ms;      /* connect/send/receive timeout per attempt; 0: 10000 */
	int gzip;                 /* 1: Content-Encoding: gzip (default when opts is NULL) */
};

struct otlp_exporter_stats {
	uint64_t enqueued;   /* requests accepted into the queue */
	uint64_t dropped;    /* requests refused because the queue was full */
	uint64_t sent;       /* requests the receiver accepted (2xx) */
	uint64_t failed;     /* given up: non-retryable answer or retries exhausted */
	uint64_t retries;    /* attempts after a retryable failure */
	uint64_t bytes_sent; /* request bodies on the wire (after gzip) */
	int last_status;     /* HTTP status of the last answer, -errno for a transport error */
};

/* Starts the sender thread. url: http://host[:port]/path. NULL on error (errno set,
 * message on stderr). */
struct otlp_exporter *otlp_exporter_new(const char *url, const struct otlp_exporter_opts *opts);

/* Queues a copy of one request body (an ExportProfilesServiceRequest). Never blocks:
 * returns 0, or -ENOBUFS when the queue is full (counted as dropped), -ENOMEM. */
int otlp_exporter_enqueue(struct otlp_exporter *x, const void *body, size_t len);

/* Waits until the queue is empty and nothing is in flight, at most timeout_ms.
 * Returns 0, or -ETIMEDOUT. */
int otlp_exporter_flush(struct otlp_exporter *x, unsigned timeout_ms);

void otlp_exporter_get_stats(struct otlp_exporter *x, struct otlp_exporter_stats *st);

/* Stops the sender (an attempt in flight ends at its timeout; waiting requests are
 * counted as dropped) and frees everything. NULL is ignored. */
void otlp_exporter_free(struct otlp_exporter *x);

struct goprof_profile;
struct goprof_profile_write_opts;

/*
 * One-shot export for command-line tools (e.g. `goprof record --otlp URL`): encodes the
 * profile as OTLP with wo (NULL: defaults), POSTs it with the default retry policy and
 * waits up to timeout_ms. st (may be NULL) gets the counts. Returns 0 if the receiver
 * accepted it; -EIO (failed, see st->last_status), -ETIMEDOUT, -ENOMEM, or the encoder's
 * error (goprof_last_error() says more).
 */
int otlp_export_once(const char *url, const struct goprof_profile *p,
		     const struct goprof_profile_write_opts *wo, unsigned timeout_ms,
		     struct otlp_exporter_stats *st);

/* A growable buffer and a goprof_profile_write() callback that appends to it. */
struct otlp_buf {
	uint8_t *data;
	size_t len, cap;
};
int otlp_buf_write(const void *data, size_t len, void *ctx);
void otlp_buf_free(struct otlp_buf *b);

#endif
