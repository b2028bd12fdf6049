// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * A small HTTP/1.1 load generator for bench/http: C threads, one blocking connection
 * each, on 127.0.0.1 only. Cheaper per request than a Go client, so that on a 2-core
 * machine the server being measured keeps more of the CPU.
 *
 * usage: http_load PORT PATH SECONDS CONCURRENCY keepalive|close [RATE]
 *
 * keepalive: each thread sends its requests one after the other on one connection;
 * close: a new connection per request ("Connection: close"). With RATE (requests per
 * second, all threads together) each thread sends its next request at its own fixed
 * pace (or at once when it is late): an open load whose CPU cost per request does not
 * depend on how fast the server answers; without it, as fast as the server answers. Waits for a line on stdin
 * before it starts (so that the caller can take its measures first), then prints
 * "rps R errors E" and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path;
static int keepalive;
static double seconds, rate;
static atomic_ulong done_requests, errors;
static atomic_int stop;
static char request[512];
static size_t request_len;

static int connect_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one response (head and Content-Length body, or to EOF without one): 0 if whole. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end = NULL;
	long body = -1;

	for (;;) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);

		if (n <= 0)
			return end && body < 0 && n == 0 ? 0 : -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");

			end += 4;
			if (cl && cl < end)
				body = strtol(cl + 17, NULL, 10);
		}
		if (end && body >= 0 && have >= (size_t)(end - buf) + (size_t)body)
			return 0;
		if (have >= cap - 1)
			return -1;
	}
}

static int concurrency;

static void *worker(void *arg)
{
	char buf[64 << 10];
	int fd = -1;
	struct timespec next;
	long step_ns = rate > 0 ? (long)(1e9 * concurrency / rate) : 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	/* Threads spread over the step, not all at once. */
	next.tv_nsec += step_ns / concurrency * (long)(intptr_t)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (step_ns) {
			next.tv_nsec += step_ns;
			while (next.tv_nsec >= 1000000000) {
				next.tv_nsec -= 1000000000;
				next.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		if (fd < 0 && (fd = connect_server()) < 0) {
			atomic_fetch_add(&errors, 1);
			usleep(1000);
			continue;
		}
		if (write(fd, request, request_len) != (ssize_t)request_len ||
		    read_response(fd, buf, sizeof(buf))) {
			atomic_fetch_add(&errors, 1);
			close(fd);
			fd = -1;
			continue;
		}
		atomic_fetch_add_explicit(&done_requests, 1, memory_order_relaxed);
		if (!keepalive) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t threads[256];
	char line[16];
	int conc;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: http_load PORT PATH SECONDS CONCURRENCY keepalive|close [RATE]\n");
		return 2;
	}
	port = atoi(argv[1]);
	path = argv[2];
	seconds = atof(argv[3]);
	conc = concurrency = atoi(argv[4]);
	rate = argc > 6 ? atof(argv[6]) : 0;
	keepalive = strcmp(argv[5], "close") != 0;
	if (conc < 1 || conc > 256 || seconds <= 0)
		return 2;
	request_len = (size_t)snprintf(request, sizeof(request),
				       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: http_load\r\n%s\r\n",
				       path, port, keepalive ? "" : "Connection: close\r\n");
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < conc; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	for (int i = 0; i < conc; i++)
		pthread_join(threads[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rps %.0f errors %lu requests %lu\n",
	       atomic_load(&done_requests) /
		       ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9),
	       atomic_load(&errors), atomic_load(&done_requests));
	return 0;
}
