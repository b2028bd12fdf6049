// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What HTTP request tracing costs the traced server itself: its CPU time per request
 * (all its threads, user + system, which includes the kernel's handling of our hooks and
 * probes), traced and untraced side by side, with its context switches per request. The
 * servers: our fixture (httpserv serve, /bench: a trivial handler) and, when installed,
 * a real Go server we did not write: Debian's caddy (`caddy file-server` on a small file;
 * `apt-get install caddy`, or unpack its .deb and name the binary in GOPROF_BENCH_CADDY;
 * GOPROF_BENCH_SERVER=httpserv or caddy runs one only). The load: http_load (C threads,
 * keep-alive or a connection per request), on 127.0.0.1.
 *
 * Twin servers run at once under the same load, one traced (a session with one HTTP
 * tracer attached to it, CPU sampling at 1 Hz), the other not, the roles swapped every
 * round: both see the same moment of a shared machine, and the growth is the difference
 * of the pair, round by round. (The wire tracer's syscall hooks slow every process's
 * syscalls, the untraced twin's too: for them the difference is a lower bound. The socket
 * hooks run for every socket I/O of the machine and leave at once for a process not
 * attached.) Each measure: 0.3 s of warm-up load, then SECONDS of load.
 *
 * The load is open by default: RATE requests per second per server (2,000), whatever the
 * server's speed, so that traced and untraced do the same work in the same pattern (a
 * closed loop lets the faster server batch more requests per wakeup, which moves the CPU
 * per request by more than the tracing does); RATE 0 for as fast as it answers. The BPF
 * column is the run time (bpf_stats) of the session's HTTP programs per request, every run
 * counted, other processes' included.
 *
 * usage: http_cost HTTPSERV HTTP_LOAD [ROUNDS] [SECONDS] [CONCURRENCY] [RATE]
 *        (defaults: 7 rounds of 2 s, concurrency 4, 2000 requests/s)
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

#include <bpf/bpf.h>
#include <goprof/goprof.h>

#include "../bench_child.h"

enum { BASE, WIRE, WIRE_SYSCALLS, UPROBES, NR_CONFIGS };
static const char *const names[] = { "untraced", "wire, sockets", "wire, syscalls",
				     "HTTP uprobes" };
static const uint32_t features[] = { 0, GOPROF_FEATURE_HTTP_WIRE, GOPROF_FEATURE_HTTP_WIRE,
				     GOPROF_FEATURE_HTTP };
static const char *const wire_hooks[] = { NULL, "sockets", "syscalls", NULL };
#define MAX_ROUNDS 64

static void finish(struct bench_child *c, bool kill_it)
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
	struct bench_child proc;
	char port[16];
	const char *path;
};

static int start_server(struct server *sv, const char *httpserv, const char *caddy,
			const char *root)
{
	if (!caddy) {
		char *argv[] = { (char *)httpserv, "serve", NULL };
		char line[128];

		if (bench_spawn(&sv->proc, argv, false) || !fgets(line, sizeof(line), sv->proc.out) ||
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
		if (bench_spawn(&sv->proc, argv, !getenv("GOPROF_BENCH_VERBOSE")))
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

static const char *rate = "2000";

/*
 * The load http_load puts on each of the twins for secs, both at once, polling s
 * meanwhile: the requests each served (or -1), their CPU seconds and context switches.
 */
static int load(struct server *sv, struct goprof_session *s, const char *http_load,
		const char *secs, const char *conc, const char *mode, long requests[2],
		double cpu[2], long switches[2])
{
	struct bench_child c[2];
	char line[2][128];
	double cpu0[2];
	long sw0[2], errs[2] = { 0, 0 };
	int done = 0, ret = 0;

	for (int i = 0; i < 2; i++) {
		char *argv[] = { (char *)http_load, sv[i].port, (char *)sv[i].path, (char *)secs,
				 (char *)conc, (char *)mode, (char *)rate, NULL };

		if (bench_spawn(&c[i], argv, false) || !fgets(line[i], sizeof(line[i]), c[i].out))
			return -1;
	}
	for (int i = 0; i < 2; i++) {
		cpu0[i] = process_cpu(sv[i].proc.pid);
		sw0[i] = process_switches(sv[i].proc.pid);
	}
	for (int i = 0; i < 2; i++)
		if (write(c[i].in, "go\n", 3) != 3)
			return -1;
	/* The session is polled as a host would: whenever its descriptor says records are
	 * waiting, and every 50 ms. */
	while (done != 3) {
		int sfd = s ? goprof_session_fd(s) : -1, nfds = sfd;
		struct timeval tv = { 0, 50000 };
		fd_set fds;

		if (s)
			goprof_session_poll(s, 0);
		FD_ZERO(&fds);
		for (int i = 0; i < 2; i++)
			if (!(done & 1 << i)) {
				FD_SET(fileno(c[i].out), &fds);
				if (fileno(c[i].out) > nfds)
					nfds = fileno(c[i].out);
			}
		if (sfd >= 0)
			FD_SET(sfd, &fds);
		if (select(nfds + 1, &fds, NULL, NULL, &tv) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (!(done & 1 << i) && FD_ISSET(fileno(c[i].out), &fds)) {
				double rps;

				done |= 1 << i;
				requests[i] = -1;
				if (fgets(line[i], sizeof(line[i]), c[i].out))
					sscanf(line[i], "rps %lf errors %ld requests %ld", &rps,
					       &errs[i], &requests[i]);
				cpu[i] = process_cpu(sv[i].proc.pid) - cpu0[i];
				switches[i] = process_switches(sv[i].proc.pid) - sw0[i];
			}
	}
	for (int i = 0; i < 2; i++) {
		finish(&c[i], false);
		if (errs[i] || requests[i] <= 0) {
			fprintf(stderr, "http_cost: http_load: %s", line[i]);
			ret = -1;
		}
	}
	return ret;
}

/*
 * BPF run time (kernel.bpf_stats_enabled) of the HTTP tracers' programs with IDs in
 * (after, last] (those loaded while the session was made; another profiler on the
 * machine has its own), every run counted: the other processes' socket I/O too, which
 * the hooks see and leave at once.
 */
static uint64_t tracer_run_ns(uint32_t after, uint32_t last)
{
	uint32_t id = after;
	uint64_t total = 0;

	while (!bpf_prog_get_next_id(id, &id) && id <= last) {
		struct bpf_prog_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (!strncmp(info.name, "http_wire_", 10) || !strncmp(info.name, "go_http_", 8)))
			total += info.run_time_ns;
		close(fd);
	}
	return total;
}

/* The highest BPF program ID so far. */
static uint32_t last_prog_id(void)
{
	uint32_t id = 0;

	while (!bpf_prog_get_next_id(id, &id))
		;
	return id;
}

static int count_request(const struct goprof_event *e, void *ctx)
{
	*(uint64_t *)ctx += e->type == GOPROF_EVENT_HTTP_REQUEST;
	return 0;
}

struct result {
	/* per round: the traced twin's and the untraced twin's CPU us per request, ... */
	double us[MAX_ROUNDS], base_us[MAX_ROUNDS], sw[MAX_ROUNDS], base_sw[MAX_ROUNDS];
	double bpf_ns[MAX_ROUNDS];
	uint64_t traced, lost, requests;
};

/* One measure of config, with twin t traced and the other not. */
static int measure(struct server *sv, int t, const char *http_load, const char *secs,
		   const char *conc, const char *mode, int config, int round, struct result *res)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 1, .features = features[config],
		    .overhead_budget_bp = 10000, .on_event = count_request, .ctx = &res->traced,
		    .ringbuf_kib = 4096);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	double cpu[2];
	long n[2], sw[2];
	uint64_t traced0 = res->traced, run0;
	uint32_t first_id = last_prog_id(), end_id;

	if (wire_hooks[config])
		setenv("GOPROF_HTTP_WIRE_HOOKS", wire_hooks[config], 1);
	else
		unsetenv("GOPROF_HTTP_WIRE_HOOKS");
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, sv[t].proc.pid, NULL) || goprof_session_start(s)) {
		fprintf(stderr, "http_cost: %s\n", goprof_last_error());
		goprof_session_free(s);
		return -1;
	}
	end_id = last_prog_id();
	if (load(sv, s, http_load, "0.3", conc, mode, n, cpu, sw) < 0)
		goto fail;
	while (goprof_session_poll(s, 50) > 0)
		;
	res->traced = traced0; /* the warm-up's requests are not counted */
	run0 = tracer_run_ns(first_id, end_id);
	if (load(sv, s, http_load, secs, conc, mode, n, cpu, sw) < 0)
		goto fail;
	res->bpf_ns[round] = (double)(tracer_run_ns(first_id, end_id) - run0) / n[t];
	while (goprof_session_poll(s, 50) > 0)
		;
	if (goprof_session_stats(s, &st) == 0)
		res->lost += st.lost_http + st.lost_http_unfinished;
	goprof_session_free(s);
	res->us[round] = cpu[t] * 1e6 / n[t];
	res->sw[round] = (double)sw[t] / n[t];
	res->base_us[round] = cpu[!t] * 1e6 / n[!t];
	res->base_sw[round] = (double)sw[!t] / n[!t];
	res->requests += n[t];
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
	const char *caddy = find_caddy(), *only = getenv("GOPROF_BENCH_SERVER");
	int rounds = argc > 3 ? atoi(argv[3]) : 7;
	char root[] = "/tmp/http_cost.XXXXXX";
	int stats_fd;

	if (argc < 3) {
		fprintf(stderr, "usage: http_cost HTTPSERV HTTP_LOAD [ROUNDS] [SECONDS] [CONCURRENCY] "
				"[RATE]\n");
		return 2;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 7;
	if (argc > 6)
		rate = argv[6];
	signal(SIGPIPE, SIG_IGN);
	/* The BPF run time column: run-time statistics on while this descriptor is open. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
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
	printf("server CPU per request (all its threads, user + system) of two twin servers under "
	       "the same load at once, one traced, the other not (alternately); %d rounds of %s s, "
	       "concurrency %s, %s requests/s each%s; median [range]\n",
	       rounds, secs, conc, atof(rate) > 0 ? rate : "as many",
	       atof(rate) > 0 ? " (open load)" : "");
	if (!caddy)
		printf("(caddy not found: install it (apt-get install caddy) or set "
		       "GOPROF_BENCH_CADDY to its binary for the caddy lines)\n");
	for (int srv = 0; srv < (caddy ? 2 : 1); srv++)
		for (int m = 0; m < 2; m++) {
			static struct result res[NR_CONFIGS];
			struct server sv[2];

			if (only && strcmp(only, srv ? "caddy" : "httpserv"))
				continue;
			memset(res, 0, sizeof(res));
			memset(sv, 0, sizeof(sv));
			for (int i = 0; i < 2; i++)
				if (start_server(&sv[i], argv[1], srv ? caddy : NULL, root)) {
					fprintf(stderr, "http_cost: the server did not start\n");
					return 1;
				}
			for (int r = 0; r < rounds; r++)
				for (int c = BASE + 1; c < NR_CONFIGS; c++)
					if (measure(sv, (r + c) % 2, argv[2], secs, conc, modes[m], c,
						    r, &res[c])) {
						fprintf(stderr, "http_cost: %s, %s, %s failed\n",
							sv[0].name, modes[m], names[c]);
						finish(&sv[0].proc, true);
						finish(&sv[1].proc, true);
						return 1;
					}
			finish(&sv[0].proc, true);
			finish(&sv[1].proc, true);
			printf("%s, %s:\n", sv[0].name,
			       m ? "a connection per request" : "keep-alive");
			for (int c = BASE + 1; c < NR_CONFIGS; c++) {
				double d[MAX_ROUNDS], lo, hi, blo, bhi, dlo, dhi, med, base, dmed;
				double sw, bsw, bpf;

				med = stats(res[c].us, rounds, &lo, &hi);
				base = stats(res[c].base_us, rounds, &blo, &bhi);
				sw = stats(res[c].sw, rounds, &dlo, &dhi);
				bsw = stats(res[c].base_sw, rounds, &dlo, &dhi);
				bpf = stats(res[c].bpf_ns, rounds, &dlo, &dhi);
				for (int r = 0; r < rounds; r++)
					d[r] = res[c].us[r] - res[c].base_us[r];
				dmed = stats(d, rounds, &dlo, &dhi);
				printf("  %-15s untraced %6.1f us [%5.1f-%5.1f], traced %6.1f us "
				       "[%5.1f-%5.1f]: growth %+5.1f us [%+.1f..%+.1f]; switches/req "
				       "%.2f -> %.2f; BPF %.2f us/req; traced %.4f, lost %llu\n",
				       names[c], base, blo, bhi, med, lo, hi, dmed, dlo, dhi, bsw, sw,
				       bpf / 1000, (double)res[c].traced / (double)res[c].requests,
				       (unsigned long long)res[c].lost);
			}
			fflush(stdout);
		}
	if (stats_fd >= 0)
		close(stats_fd);
	if (caddy) {
		char file[64];

		snprintf(file, sizeof(file), "%s/index.html", root);
		unlink(file);
		rmdir(root);
	}
	return 0;
}
