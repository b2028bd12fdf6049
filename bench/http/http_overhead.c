// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What net/http request tracing costs a server: requests per second of the httpserv
 * fixture (server and client in one process on loopback, /bench at a fixed concurrency)
 * unprofiled, with CPU sampling only (99 Hz), and with GOPROF_FEATURE_HTTP on top (budget
 * off, so every request is traced). Rounds interleave the configurations so that drift
 * on a noisy machine hits each alike; the median of each is compared with the unprofiled
 * median of the same run. The fixture is its own client, so each request costs the
 * tracing four probe hits (server entry and RET, client entry and RET).
 *
 * Throughput suffers from every other process on a busy machine; the fixture's own CPU
 * time per request (user + system from wait4, which includes the kernel's uprobe
 * handling) is printed too, and with it the CPU cost of one probe hit.
 *
 * usage: http_overhead HTTPSERV_BINARY [ROUNDS] [SECONDS] [CONCURRENCY]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

enum { BASE, CPU_ONLY, HTTP, WIRE, NR_CONFIGS };
static const char *const names[] = { "unprofiled", "CPU sampling 99 Hz", "CPU + HTTP uprobes",
				     "CPU + HTTP wire" };
#define MAX_ROUNDS 32

struct traced {
	uint64_t server, client;
};

static int on_event(const struct goprof_event *e, void *ctx)
{
	struct traced *t = ctx;

	t->server += e->type == GOPROF_EVENT_HTTP_REQUEST;
	t->client += e->type == GOPROF_EVENT_HTTP_CLIENT_REQUEST;
	return 0;
}

/* Runs the fixture once; returns its requests per second, or -1, and its CPU time per
 * request in *cpu_us. */
static double run(const char *bin, const char *secs, const char *conc, int config,
		  struct traced *traced, double *cpu_us)
{
	struct rusage ru;
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 99,
		    .features = config == HTTP ? GOPROF_FEATURE_HTTP :
				config == WIRE ? GOPROF_FEATURE_HTTP_WIRE : 0,
		    .overhead_budget_bp = 10000, .on_event = on_event, .ctx = traced);
	struct goprof_session *s = NULL;
	int to_child[2], from_child[2];
	double rps = -1;
	char line[128];
	FILE *out;
	pid_t pid;

	if (pipe(to_child) || pipe(from_child))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[1]);
		close(from_child[0]);
		execl(bin, bin, "bench", secs, conc, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	out = fdopen(from_child[0], "r");
	if (!fgets(line, sizeof(line), out) || strncmp(line, "listening", 9))
		goto out;
	if (config != BASE) {
		s = goprof_session_new(&opts);
		if (!s || goprof_session_attach_pid(s, pid, NULL) || goprof_session_start(s)) {
			fprintf(stderr, "http_overhead: %s\n", goprof_last_error());
			goto out;
		}
	}
	if (write(to_child[1], "go\n", 3) != 3)
		goto out;
	/* The child writes one line when done; poll the session meanwhile. */
	for (;;) {
		fd_set fds;
		struct timeval tv = { 0, 50000 };

		if (s)
			goprof_session_poll(s, 0);
		FD_ZERO(&fds);
		FD_SET(from_child[0], &fds);
		if (select(from_child[0] + 1, &fds, NULL, NULL, &tv) > 0)
			break;
	}
	if (fgets(line, sizeof(line), out))
		sscanf(line, "rps %lf", &rps);
	while (s && goprof_session_poll(s, 50) > 0)
		;
out:
	close(to_child[1]);
	kill(pid, SIGTERM);
	wait4(pid, NULL, 0, &ru);
	*cpu_us = rps > 0 ? (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec +
			     ru.ru_stime.tv_usec) / 1e6) * 1e6 / (rps * atof(secs)) : 0;
	fclose(out);
	goprof_session_free(s);
	return rps;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *bin, *secs = argc > 3 ? argv[3] : "2", *conc = argc > 4 ? argv[4] : "8";
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	static double rps[NR_CONFIGS][MAX_ROUNDS], cpu[NR_CONFIGS][MAX_ROUNDS];
	struct traced traced = { 0 };
	double median[NR_CONFIGS], cpu_median[NR_CONFIGS];

	if (argc < 2) {
		fprintf(stderr, "usage: http_overhead HTTPSERV_BINARY [ROUNDS] [SECONDS] [CONCURRENCY]\n");
		return 2;
	}
	bin = argv[1];
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 5;
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < NR_CONFIGS; c++) {
			rps[c][r] = run(bin, secs, conc, c, &traced, &cpu[c][r]);
			if (rps[c][r] < 0) {
				fprintf(stderr, "http_overhead: run %d of %s failed\n", r, names[c]);
				return 1;
			}
		}
	printf("httpserv /bench, %s s per run, concurrency %s, %d rounds interleaved (median)\n",
	       secs, conc, rounds);
	for (int c = 0; c < NR_CONFIGS; c++) {
		qsort(rps[c], rounds, sizeof(double), cmp_double);
		qsort(cpu[c], rounds, sizeof(double), cmp_double);
		median[c] = rps[c][rounds / 2];
		cpu_median[c] = cpu[c][rounds / 2];
		printf("  %-22s %10.0f req/s  %6.1f%% of unprofiled  %7.1f us of CPU per request\n",
		       names[c], median[c], 100 * median[c] / median[BASE], cpu_median[c]);
	}
	printf("  HTTP tracing alone: %.1f%% fewer req/s than CPU sampling alone; %llu server and "
	       "%llu client requests traced in the HTTP runs\n",
	       100 * (1 - median[HTTP] / median[CPU_ONLY]), (unsigned long long)traced.server,
	       (unsigned long long)traced.client);
	/* Four hits per request: server entry and RET, client entry and RET. */
	printf("  CPU per probe hit: %.1f us (HTTP runs minus CPU-only runs, over 4 hits per "
	       "request)\n", (cpu_median[HTTP] - cpu_median[CPU_ONLY]) / 4);
	return 0;
}
