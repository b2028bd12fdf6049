// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What HTTP request tracing costs the traced server itself: its CPU time per request
 * (all its threads, user + system, which includes the kernel's handling of our hooks and
 * probes) untraced and traced, side by side from the same run, with its context switches
 * per request. The servers: our fixture (httpserv serve, /bench: a trivial handler) and,
 * when installed, a real Go server we did not write: Debian's caddy (`caddy file-server`
 * on a small file; `apt-get install caddy`, or unpack its .deb and name the binary in
 * GOPROF_BENCH_CADDY). The load: http_load (C threads, keep-alive or a connection per
 * request), on 127.0.0.1.
 *
 * One server process per server and load kind; the configurations take turns on it
 * (a session attached, measured, freed; then the next), round after round, so that the
 * drift of a shared machine hits each alike. Each measure: 0.3 s of warm-up load, then
 * SECONDS of load, the server's CPU from its process CPU clock. CPU sampling is at 1 Hz
 * in every traced configuration, so the difference is the tracing's.
 *
 * usage: http_cost HTTPSERV HTTP_LOAD [ROUNDS] [SECONDS] [CONCURRENCY]
 *        (defaults: 7 rounds of 2 s, concurrency 4)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

enum { BASE, WIRE, WIRE_SYSCALLS, UPROBES, NR_CONFIGS };
static const char *const names[] = { "untraced", "wire, sockets", "wire, syscalls",
				     "HTTP uprobes" };
static const uint32_t features[] = { 0, GOPROF_FEATURE_HTTP_WIRE, GOPROF_FEATURE_HTTP_WIRE,
				     GOPROF_FEATURE_HTTP };
static const char *const wire_hooks[] = { NULL, "sockets", "syscalls", NULL };
#define MAX_ROUNDS 64

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

static int spawn(struct child *c, char *const argv[], bool quiet)
{
	int to[2], from[2];

	if (pipe(to) || pipe(from))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (quiet)
			dup2(from[1], 2);
		close(to[1]);
		close(from[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = fdopen(from[0], "r");
	return c->out ? 0 : -1;
}

static void finish(struct child *c, bool kill_it)
{
	if (kill_it)
		kill(c->pid, SIGTERM);
	close(c->in);
	waitpid(c->pid, NULL, 0);
	fclose(c->out);
}

/* The CPU time of process pid so far (all its threads), in seconds. */
static double process_cpu(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;

	if (clock_getcpuclockid(pid, &clk) || clock_gettime(clk, &ts))
		return -1;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The context switches of process pid's threads so far. */
static long process_switches(pid_t pid)
{
	char path[300], line[128];
	struct dirent *d;
	long total = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			long n;

			if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1)
				total += n;
		}
		fclose(f);
	}
	closedir(dir);
	return total;
}

struct server {
	const char *name;
	struct child proc;
	char port[16];
	const char *path;
};

static int start_server(struct server *sv, const char *httpserv, const char *caddy,
			const char *root)
{
	if (!caddy) {
		char *argv[] = { (char *)httpserv, "serve", NULL };
		char line[128];

		if (spawn(&sv->proc, argv, false) || !fgets(line, sizeof(line), sv->proc.out) ||
		    sscanf(line, "listening %15s", sv->port) != 1 ||
		    write(sv->proc.in, "go\n", 3) != 3)
			return -1;
		sv->name = "httpserv /bench";
		sv->path = "/bench";
		return 0;
	}
	/* A free port of the kernel's choosing: caddy prints its address to its log only. */
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(fd, (struct sockaddr *)&a, &len))
			return -1;
		close(fd);
		snprintf(sv->port, sizeof(sv->port), "%d", ntohs(a.sin_port));
	}
	{
		char listen[64];
		char *argv[] = { (char *)caddy, "file-server", "--listen", listen, "--root",
				 (char *)root, NULL };

		snprintf(listen, sizeof(listen), "127.0.0.1:%s", sv->port);
		if (spawn(&sv->proc, argv, !getenv("GOPROF_BENCH_VERBOSE")))
			return -1;
	}
	sv->name = "caddy file-server";
	sv->path = "/index.html";
	/* Until it answers. */
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(sv->port)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		if (fd >= 0)
			close(fd);
		if (up)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* The load http_load puts on sv for secs: requests done, or -1. */
static long load(const struct server *sv, struct goprof_session *s, const char *http_load,
		 const char *secs, const char *conc, const char *mode, double *cpu, long *switches)
{
	char *argv[] = { (char *)http_load, (char *)sv->port, (char *)sv->path, (char *)secs,
			 (char *)conc, (char *)mode, NULL };
	struct child c;
	char line[128];
	long requests = -1, errs = 0;
	double rps, cpu0 = process_cpu(sv->proc.pid);
	long sw0 = process_switches(sv->proc.pid);

	if (spawn(&c, argv, false) || !fgets(line, sizeof(line), c.out))
		return -1;
	cpu0 = process_cpu(sv->proc.pid);
	sw0 = process_switches(sv->proc.pid);
	if (write(c.in, "go\n", 3) != 3)
		return -1;
	/* The session is polled as a host would: whenever its descriptor says records are
	 * waiting, and every 50 ms. */
	for (;;) {
		int cfd = fileno(c.out), sfd = s ? goprof_session_fd(s) : -1;
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
	if (fgets(line, sizeof(line), c.out))
		sscanf(line, "rps %lf errors %ld requests %ld", &rps, &errs, &requests);
	*cpu = process_cpu(sv->proc.pid) - cpu0;
	*switches = process_switches(sv->proc.pid) - sw0;
	finish(&c, false);
	return errs ? -1 : requests;
}

static int count_request(const struct goprof_event *e, void *ctx)
{
	*(uint64_t *)ctx += e->type == GOPROF_EVENT_HTTP_REQUEST;
	return 0;
}

struct result {
	double us[MAX_ROUNDS], sw[MAX_ROUNDS], rps[MAX_ROUNDS];
	uint64_t traced, lost, requests;
};

/* One measure of config on sv. */
static int measure(const struct server *sv, const char *http_load, const char *secs,
		   const char *conc, const char *mode, int config, int round, struct result *res)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 1, .features = features[config],
		    .overhead_budget_bp = 10000, .on_event = count_request, .ctx = &res->traced,
		    .ringbuf_kib = 4096);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	double cpu, warm_cpu;
	long n, sw, warm_sw;
	uint64_t traced0 = res->traced;

	if (config != BASE) {
		if (wire_hooks[config])
			setenv("GOPROF_HTTP_WIRE_HOOKS", wire_hooks[config], 1);
		else
			unsetenv("GOPROF_HTTP_WIRE_HOOKS");
		s = goprof_session_new(&opts);
		if (!s || goprof_session_attach_pid(s, sv->proc.pid, NULL) ||
		    goprof_session_start(s)) {
			fprintf(stderr, "http_cost: %s\n", goprof_last_error());
			goprof_session_free(s);
			return -1;
		}
	}
	if (load(sv, s, http_load, "0.3", conc, mode, &warm_cpu, &warm_sw) < 0)
		goto fail;
	if (s)
		while (goprof_session_poll(s, 50) > 0)
			;
	res->traced = traced0; /* the warm-up's requests are not counted */
	n = load(sv, s, http_load, secs, conc, mode, &cpu, &sw);
	if (n <= 0)
		goto fail;
	if (s) {
		while (goprof_session_poll(s, 50) > 0)
			;
		if (goprof_session_stats(s, &st) == 0)
			res->lost += st.lost_http + st.lost_http_unfinished;
		goprof_session_free(s);
	}
	res->us[round] = cpu * 1e6 / n;
	res->sw[round] = (double)sw / n;
	res->rps[round] = n / atof(secs);
	res->requests += n;
	return 0;
fail:
	goprof_session_free(s);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, and the range into lo/hi. */
static double stats(const double *v, int n, double *lo, double *hi)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(double), cmp_double);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static const char *find_caddy(void)
{
	static const char *const places[] = { "/usr/bin/caddy", "/opt/caddy/usr/bin/caddy" };
	const char *env = getenv("GOPROF_BENCH_CADDY");

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < sizeof(places) / sizeof(*places); i++)
		if (access(places[i], X_OK) == 0)
			return places[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const char *secs = argc > 4 ? argv[4] : "2", *conc = argc > 5 ? argv[5] : "4";
	const char *modes[] = { "keepalive", "close" };
	const char *caddy = find_caddy();
	int rounds = argc > 3 ? atoi(argv[3]) : 7;
	char root[] = "/tmp/http_cost.XXXXXX";

	if (argc < 3) {
		fprintf(stderr, "usage: http_cost HTTPSERV HTTP_LOAD [ROUNDS] [SECONDS] [CONCURRENCY]\n");
		return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 7;
	signal(SIGPIPE, SIG_IGN);
	if (caddy) {
		char file[64];
		FILE *f;

		if (!mkdtemp(root))
			return 1;
		snprintf(file, sizeof(file), "%s/index.html", root);
		f = fopen(file, "w");
		if (!f)
			return 1;
		fputs("<html><body>hello from caddy</body></html>\n", f);
		fclose(f);
	}
	printf("server CPU per request (all its threads, user + system), %d rounds of %s s, "
	       "concurrency %s, configurations interleaved; median [range]\n",
	       rounds, secs, conc);
	if (!caddy)
		printf("(caddy not found: install it (apt-get install caddy) or set "
		       "GOPROF_BENCH_CADDY to its binary for the caddy lines)\n");
	for (int srv = getenv("GOPROF_BENCH_CADDY_ONLY") && caddy ? 1 : 0; srv < (caddy ? 2 : 1); srv++)
		for (int m = 0; m < 2; m++) {
			static struct result res[NR_CONFIGS];
			struct server sv = { 0 };
			double med[NR_CONFIGS], lo, hi;

			memset(res, 0, sizeof(res));
			if (start_server(&sv, argv[1], srv ? caddy : NULL, root)) {
				fprintf(stderr, "http_cost: the server did not start\n");
				return 1;
			}
			for (int r = 0; r < rounds; r++)
				for (int c = 0; c < NR_CONFIGS; c++)
					if (measure(&sv, argv[2], secs, conc, modes[m], c, r,
						    &res[c])) {
						fprintf(stderr, "http_cost: %s, %s, %s failed\n",
							sv.name, modes[m], names[c]);
						finish(&sv.proc, true);
						return 1;
					}
			finish(&sv.proc, true);
			printf("%s, %s:\n", sv.name,
			       m ? "a connection per request" : "keep-alive");
			for (int c = 0; c < NR_CONFIGS; c++) {
				double slo, shi, rlo, rhi, sw, rps;

				med[c] = stats(res[c].us, rounds, &lo, &hi);
				sw = stats(res[c].sw, rounds, &slo, &shi);
				rps = stats(res[c].rps, rounds, &rlo, &rhi);
				printf("  %-15s %6.1f us [%5.1f-%5.1f]  %5.2f switches/req  %6.0f req/s",
				       names[c], med[c], lo, hi, sw, rps);
				if (c != BASE) {
					double d[MAX_ROUNDS], dlo, dhi, dmed;

					/* Growth per round against the untraced measure just before. */
					for (int r = 0; r < rounds; r++)
						d[r] = res[c].us[r] - res[BASE].us[r];
					dmed = stats(d, rounds, &dlo, &dhi);
					printf("  growth %+5.1f us [%+.1f..%+.1f]  traced %.4f lost %llu",
					       dmed, dlo, dhi,
					       (double)res[c].traced / (double)res[c].requests,
					       (unsigned long long)res[c].lost);
				}
				putchar('\n');
			}
			fflush(stdout);
		}
	if (caddy) {
		char file[64];

		snprintf(file, sizeof(file), "%s/index.html", root);
		unlink(file);
		rmdir(root);
	}
	return 0;
}
