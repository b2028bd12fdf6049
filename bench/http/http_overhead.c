// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What HTTP request tracing costs a server: requests per second of the httpserv fixture
 * serving /bench (`httpserv serve`), driven by a separate, unprofiled client process
 * (`httpserv hammer`) at a fixed concurrency on loopback. Five configurations: unprofiled,
 * CPU sampling only (99 Hz), CPU sampling + GOPROF_FEATURE_HTTP (uprobes, budget off so
 * every request is traced), and CPU sampling + GOPROF_FEATURE_HTTP_WIRE on each of its
 * hook sets (GOPROF_HTTP_WIRE_HOOKS: socket tracepoints, syscall tracepoints; on a
 * kernel before 6.3 both are the syscall ones). Each is measured
 * with a trivial handler and with handlers that burn some CPU of their own (the /bench
 * handler's ?us=), because what tracing costs in proportion depends on what a request
 * costs. Rounds interleave the configurations so that drift on a noisy machine hits each
 * alike; medians are compared with the unprofiled median of the same run.
 *
 * Throughput on a 2-core machine also suffers from the client and the profiler's own
 * process competing for the CPUs; the server's CPU time per request (user + system from
 * wait4, which includes the kernel's probe and hook handling) is printed too, and the
 * tracers' cost per request as the difference with the CPU-only runs. The client's CPU
 * time per request is printed as well: the syscall tracepoints of the wire tracer put
 * every process's syscalls on the kernel's slow path, the unprofiled client's too; the
 * socket tracepoints fire on socket I/O only. And the profiler's own CPU time per request
 * (this process: it drains and decodes the records), which the server and the client
 * lose on a machine they saturate.
 *
 * usage: http_overhead HTTPSERV_BINARY [ROUNDS] [SECONDS] [CONCURRENCY] [WORK_US...]
 *        (defaults: 5 rounds of 2 s, concurrency 8, handler work 0 and 200 us)
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

#include "../bench_child.h"

enum { BASE, CPU_ONLY, HTTP, WIRE, WIRE_SYSCALLS, NR_CONFIGS };
static const char *const names[] = { "unprofiled", "CPU sampling 99 Hz", "CPU + HTTP uprobes",
				     "CPU + wire, sockets", "CPU + wire, syscalls" };
static const uint32_t features[] = { 0, 0, GOPROF_FEATURE_HTTP, GOPROF_FEATURE_HTTP_WIRE,
				     GOPROF_FEATURE_HTTP_WIRE };
/* GOPROF_HTTP_WIRE_HOOKS for each configuration (NULL: unset) */
static const char *const wire_hooks[] = { NULL, NULL, NULL, "sockets", "syscalls" };
#define MAX_ROUNDS 32
#define MAX_WORKS 8

static double seconds_of(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec + ru->ru_stime.tv_sec +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* Closes its stdin (the fixture then exits) and reaps it; returns its CPU seconds. */
static double finish(struct bench_child *c)
{
	struct rusage ru = { 0 };

	close(c->in);
	if (wait4(c->pid, NULL, 0, &ru) < 0)
		kill(c->pid, SIGKILL);
	fclose(c->out);
	return seconds_of(&ru);
}

/* This process's CPU seconds so far. */
static double own_cpu_seconds(void)
{
	struct rusage ru = { 0 };

	getrusage(RUSAGE_SELF, &ru);
	return seconds_of(&ru);
}

static int count_request(const struct goprof_event *e, void *ctx)
{
	*(uint64_t *)ctx += e->type == GOPROF_EVENT_HTTP_REQUEST;
	return 0;
}

struct tally {
	uint64_t traced, lost;
};

/* One run: returns requests per second (or -1) and the server's and the client's CPU us
 * per request. */
static double run(const char *bin, const char *secs, const char *conc, const char *work,
		  int config, struct tally *tally, double *cpu_us, double *client_cpu_us,
		  double *self_cpu_us)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 99, .features = features[config],
		    .overhead_budget_bp = 10000, .on_event = count_request, .ctx = &tally->traced,
		    .ringbuf_kib = 4096);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	char *serve_argv[] = { (char *)bin, "serve", NULL };
	struct goprof_session *s = NULL;
	struct bench_child server, client;
	char line[128], port[16];
	double rps = -1, cpu, client_cpu, self_cpu;

	if (bench_spawn(&server, serve_argv, false) || !fgets(line, sizeof(line), server.out) ||
	    sscanf(line, "listening %15s", port) != 1)
		return -1;
	if (write(server.in, "go\n", 3) != 3)
		return -1;
	if (config != BASE) {
		if (wire_hooks[config])
			setenv("GOPROF_HTTP_WIRE_HOOKS", wire_hooks[config], 1);
		else
			unsetenv("GOPROF_HTTP_WIRE_HOOKS");
		s = goprof_session_new(&opts);
		if (!s || goprof_session_attach_pid(s, server.pid, NULL) || goprof_session_start(s)) {
			fprintf(stderr, "http_overhead: %s\n", goprof_last_error());
			finish(&server);
			goprof_session_free(s);
			return -1;
		}
	}
	{
		char *hammer_argv[] = { (char *)bin, "hammer", port, (char *)secs, (char *)conc,
					(char *)work, NULL };

		self_cpu = own_cpu_seconds(); /* from here: loading and attaching are done */
		if (bench_spawn(&client, hammer_argv, false) || !fgets(line, sizeof(line), client.out) ||
		    write(client.in, "go\n", 3) != 3)
			return -1;
	}
	/* The client writes one line when done; poll the session meanwhile, at least every
	 * 50 ms and whenever its descriptor says records are waiting. */
	for (;;) {
		int cfd = fileno(client.out), sfd = s ? goprof_session_fd(s) : -1;
		struct timeval tv = { 0, 50000 };
		fd_set fds;

		if (s)
			goprof_session_poll(s, 0);
		FD_ZERO(&fds);
		FD_SET(cfd, &fds);
		if (sfd >= 0)
			FD_SET(sfd, &fds);
		if (select((cfd > sfd ? cfd : sfd) + 1, &fds, NULL, NULL, &tv) > 0 &&
		    FD_ISSET(cfd, &fds))
			break;
	}
	if (fgets(line, sizeof(line), client.out))
		sscanf(line, "rps %lf", &rps);
	client_cpu = finish(&client);
	while (s && goprof_session_poll(s, 50) > 0)
		;
	if (s && goprof_session_stats(s, &st) == 0)
		tally->lost += st.lost_http + st.lost_http_unfinished;
	self_cpu = own_cpu_seconds() - self_cpu;
	cpu = finish(&server);
	*cpu_us = rps > 0 ? cpu * 1e6 / (rps * atof(secs)) : 0;
	*self_cpu_us = rps > 0 ? self_cpu * 1e6 / (rps * atof(secs)) : 0;
	*client_cpu_us = rps > 0 ? client_cpu * 1e6 / (rps * atof(secs)) : 0;
	goprof_session_free(s);
	return rps;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	const char *bin, *secs = argc > 3 ? argv[3] : "2", *conc = argc > 4 ? argv[4] : "8";
	const char *default_works[] = { "0", "200" };
	const char *const *works = default_works;
	int rounds = argc > 2 ? atoi(argv[2]) : 5, nr_works = 2;
	static double rps[NR_CONFIGS][MAX_ROUNDS], cpu[NR_CONFIGS][MAX_ROUNDS];
	static double client_cpu[NR_CONFIGS][MAX_ROUNDS], self_cpu[NR_CONFIGS][MAX_ROUNDS];

	if (argc < 2) {
		fprintf(stderr, "usage: http_overhead HTTPSERV_BINARY [ROUNDS] [SECONDS] "
				"[CONCURRENCY] [WORK_US...]\n");
		return 2;
	}
	bin = argv[1];
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 5;
	if (argc > 5) {
		works = (const char *const *)argv + 5;
		nr_works = argc - 5 < MAX_WORKS ? argc - 5 : MAX_WORKS;
	}
	printf("httpserv serve /bench, separate client at concurrency %s, %s s per run, %d rounds "
	       "interleaved (medians)\n", conc, secs, rounds);
	for (int w = 0; w < nr_works; w++) {
		double med[NR_CONFIGS], cpu_med[NR_CONFIGS], client_med[NR_CONFIGS];
		double self_med[NR_CONFIGS];
		struct tally tally[NR_CONFIGS] = { 0 };
		double total[NR_CONFIGS] = { 0 };

		for (int r = 0; r < rounds; r++)
			for (int c = 0; c < NR_CONFIGS; c++) {
				rps[c][r] = run(bin, secs, conc, works[w], c, &tally[c], &cpu[c][r],
						&client_cpu[c][r], &self_cpu[c][r]);
				if (rps[c][r] < 0) {
					fprintf(stderr, "http_overhead: run %d of %s failed\n", r,
						names[c]);
					return 1;
				}
				total[c] += rps[c][r] * atof(secs);
			}
		printf("handler work %s us:\n", works[w]);
		for (int c = 0; c < NR_CONFIGS; c++) {
			med[c] = median(rps[c], rounds);
			cpu_med[c] = median(cpu[c], rounds);
			client_med[c] = median(client_cpu[c], rounds);
			self_med[c] = median(self_cpu[c], rounds);
			printf("  %-20s %8.0f req/s %6.1f%% of unprofiled; CPU/request: server %6.1f us, "
			       "client %5.1f us, profiler %4.1f us", names[c], med[c],
			       100 * med[c] / med[BASE], cpu_med[c], client_med[c], self_med[c]);
			if (c >= HTTP)
				printf("; tracing %+.1f us; traced %.4f, lost %.4f of requests",
				       cpu_med[c] - cpu_med[CPU_ONLY], tally[c].traced / total[c],
				       tally[c].lost / total[c]);
			putchar('\n');
		}
		printf("  throughput lost to tracing alone (against CPU sampling): uprobes %.1f%%, "
		       "wire on sockets %.1f%%, wire on syscalls %.1f%%\n",
		       100 * (1 - med[HTTP] / med[CPU_ONLY]), 100 * (1 - med[WIRE] / med[CPU_ONLY]),
		       100 * (1 - med[WIRE_SYSCALLS] / med[CPU_ONLY]));
	}
	return 0;
}
