// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* OTLP/HTTP profiles exporter: bounded queue, sender thread, gzip, retries (see otlp_http.h). */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "otlp_http.h"

struct request {
	uint8_t *data;
	size_t len;
};

struct otlp_exporter {
	char host[256], port[16], path[1024];
	struct otlp_exporter_opts o;

	pthread_mutex_t lock;
	pthread_cond_t wake;    /* sender: work or stop; flushers: progress */
	struct request *queue;  /* ring of o.queue_len */
	unsigned head, count;
	bool busy;              /* a request is being sent */
	bool stop;
	struct otlp_exporter_stats st;
	pthread_t thread;
};

int otlp_buf_write(const void *data, size_t len, void *ctx)
{
	struct otlp_buf *b = ctx;

	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *p = realloc(b->data, cap);

		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void otlp_buf_free(struct otlp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int parse_url(struct otlp_exporter *x, const char *url)
{
	const char *h, *slash, *colon;

	if (strncmp(url, "http://", 7)) {
		fprintf(stderr, "otlp: only http:// URLs are supported: %s\n", url);
		return -EINVAL;
	}
	h = url + 7;
	slash = strchr(h, '/');
	if (!slash)
		slash = h + strlen(h);
	colon = memchr(h, ':', (size_t)(slash - h));
	snprintf(x->host, sizeof(x->host), "%.*s", (int)((colon ? colon : slash) - h), h);
	snprintf(x->port, sizeof(x->port), "%.*s", colon ? (int)(slash - colon - 1) : 2,
		 colon ? colon + 1 : "80");
	snprintf(x->path, sizeof(x->path), "%s", *slash ? slash : "/v1development/profiles");
	return x->host[0] ? 0 : -EINVAL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int gzip_body(const uint8_t *in, size_t len, struct otlp_buf *out)
{
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	out->len = 0;
	out->cap = deflateBound(&zs, len) + 64;
	out->data = malloc(out->cap);
	if (!out->data) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out->data;
	zs.avail_out = (uInt)out->cap;
	zr = deflate(&zs, Z_FINISH);
	out->len = out->cap - zs.avail_out;
	deflateEnd(&zs);
	return zr == Z_STREAM_END ? 0 : -EIO;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One POST. Returns the HTTP status, or a negative errno for a transport failure. */
static int post_once(struct otlp_exporter *x, const uint8_t *body, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *a;
	struct timeval tv = { x->o.timeout_ms / 1000, (x->o.timeout_ms % 1000) * 1000 };
	char head[1536], resp[512];
	int fd = -1, err, status = -EIO, n;
	size_t got = 0;
	ssize_t k;

	err = getaddrinfo(x->host, x->port, &hints, &ai);
	if (err)
		return -EHOSTUNREACH;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return err ? err : -ECONNREFUSED;
	n = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: libgoprof-otlp-export\r\n"
		     "Content-Type: application/x-protobuf\r\n%sContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     x->path, x->host, x->port, x->o.gzip ? "Content-Encoding: gzip\r\n" : "", len);
	err = send_all(fd, head, (size_t)n);
	if (!err)
		err = send_all(fd, body, len);
	if (err) {
		close(fd);
		return err;
	}
	/* The status line is all we need; the body (ExportProfilesServiceResponse) is read
	 * and dropped so the server sees an orderly close. */
	while ((k = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) > 0) {
		got += (size_t)k;
		if (got == sizeof(resp) - 1)
			break;
	}
	if (k < 0 && !got)
		status = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	resp[got] = '\0';
	if (got && sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -EPROTO;
	close(fd);
	return status;
}

static bool retryable(int status)
{
	return status < 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sleeps up to ms unless stopped; returns false when stopping. Called with the lock. */
static bool backoff_wait(struct otlp_exporter *x, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!x->stop && pthread_cond_timedwait(&x->wake, &x->lock, &ts) != ETIMEDOUT)
		;
	return !x->stop;
}

static void send_request(struct otlp_exporter *x, struct request *r)
{
	struct otlp_buf gz = { 0 };
	const uint8_t *body = r->data;
	size_t len = r->len;
	unsigned attempt, delay = x->o.backoff_ms;
	int status = -EIO;

	if (x->o.gzip) {
		if (gzip_body(r->data, r->len, &gz)) {
			pthread_mutex_lock(&x->lock);
			x->st.failed++;
			pthread_mutex_unlock(&x->lock);
			otlp_buf_free(&gz);
			return;
		}
		body = gz.data;
		len = gz.len;
	}
	for (attempt = 0; attempt <= x->o.max_retries; attempt++) {
		status = post_once(x, body, len);
		pthread_mutex_lock(&x->lock);
		x->st.last_status = status;
		if (status >= 200 && status < 300) {
			x->st.sent++;
			x->st.bytes_sent += len;
			pthread_mutex_unlock(&x->lock);
			break;
		}
		if (!retryable(status) || attempt == x->o.max_retries) {
			x->st.failed++;
			pthread_mutex_unlock(&x->lock);
			break;
		}
		x->st.retries++;
		/* Jitter (up to a quarter) keeps a fleet of agents from retrying in lockstep. */
		if (!backoff_wait(x, delay + (unsigned)(rand() % (int)(delay / 4 + 1)))) {
			x->st.failed++;
			pthread_mutex_unlock(&x->lock);
			break;
		}
		pthread_mutex_unlock(&x->lock);
		delay = delay * 2 > x->o.max_backoff_ms ? x->o.max_backoff_ms : delay * 2;
	}
	otlp_buf_free(&gz);
}

static void *sender(void *arg)
{
	struct otlp_exporter *x = arg;

	pthread_mutex_lock(&x->lock);
	for (;;) {
		struct request r;

		while (!x->stop && !x->count)
			pthread_cond_wait(&x->wake, &x->lock);
		if (x->stop)
			break;
		r = x->queue[x->head];
		x->head = (x->head + 1) % x->o.queue_len;
		x->count--;
		x->busy = true;
		pthread_mutex_unlock(&x->lock);
		send_request(x, &r);
		free(r.data);
		pthread_mutex_lock(&x->lock);
		x->busy = false;
		pthread_cond_broadcast(&x->wake);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

struct otlp_exporter *otlp_exporter_new(const char *url, const struct otlp_exporter_opts *opts)
{
	struct otlp_exporter *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return NULL;
	if (opts)
		x->o = *opts;
	else
		x->o.gzip = 1;
	x->o.queue_len = x->o.queue_len ? x->o.queue_len : 16;
	x->o.max_retries = x->o.max_retries ? x->o.max_retries : 5;
	x->o.backoff_ms = x->o.backoff_ms ? x->o.backoff_ms : 200;
	x->o.max_backoff_ms = x->o.max_backoff_ms ? x->o.max_backoff_ms : 5000;
	x->o.timeout_ms = x->o.timeout_ms ? x->o.timeout_ms : 10000;
	err = parse_url(x, url);
	x->queue = calloc(x->o.queue_len, sizeof(*x->queue));
	if (err || !x->queue) {
		free(x->queue);
		free(x);
		errno = err ? -err : ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->wake, NULL);
	err = pthread_create(&x->thread, NULL, sender, x);
	if (err) {
		free(x->queue);
		free(x);
		errno = err;
		return NULL;
	}
	return x;
}

int otlp_exporter_enqueue(struct otlp_exporter *x, const void *body, size_t len)
{
	struct request r = { malloc(len ? len : 1), len };
	int err = 0;

	if (!r.data)
		return -ENOMEM;
	memcpy(r.data, body, len);
	pthread_mutex_lock(&x->lock);
	if (x->count == x->o.queue_len) {
		/* Never block the profiler: the newest request is the one dropped. */
		x->st.dropped++;
		err = -ENOBUFS;
	} else {
		x->queue[(x->head + x->count) % x->o.queue_len] = r;
		x->count++;
		x->st.enqueued++;
		pthread_cond_broadcast(&x->wake);
	}
	pthread_mutex_unlock(&x->lock);
	if (err)
		free(r.data);
	return err;
}

int otlp_exporter_flush(struct otlp_exporter *x, unsigned timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int err = 0;

	pthread_mutex_lock(&x->lock);
	while (x->count || x->busy) {
		uint64_t left, t = now_ms();

		if (t >= end) {
			err = -ETIMEDOUT;
			break;
		}
		left = end - t;
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(left / 1000);
			ts.tv_nsec += (long)(left % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&x->wake, &x->lock, &ts);
		}
	}
	pthread_mutex_unlock(&x->lock);
	return err;
}

void otlp_exporter_get_stats(struct otlp_exporter *x, struct otlp_exporter_stats *st)
{
	pthread_mutex_lock(&x->lock);
	*st = x->st;
	pthread_mutex_unlock(&x->lock);
}

void otlp_exporter_free(struct otlp_exporter *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	x->stop = true;
	pthread_cond_broadcast(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	while (x->count) {
		free(x->queue[x->head].data);
		x->head = (x->head + 1) % x->o.queue_len;
		x->count--;
		x->st.dropped++;
	}
	pthread_cond_destroy(&x->wake);
	pthread_mutex_destroy(&x->lock);
	free(x->queue);
	free(x);
}
