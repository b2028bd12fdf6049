// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What goroutine snapshots cost, measured in one run, configurations interleaved round
 * by round, with 10,000 and 100,000 parked goroutines in the target
 * (bench/gsnap/gsnapwork: a fixed CPU work while P goroutines stay parked):
 *   - unprofiled: the baseline;
 *   - snapshots, default budget: GOPROF_FEATURE_GOROUTINE_SNAPSHOTS polled every 100 ms,
 *     the reader held to 1% of one core (the interval grows with the goroutine count);
 *   - snapshots every second: the budget at a whole core, so one snapshot per second
 *     whatever it costs (the cost of a snapshot, with nothing adapting);
 *   - anchor: the target writes its own goroutine profile every second (runtime/pprof
 *     "goroutine", what /debug/pprof/goroutine serves: the Go way to the same data, paid
 *     by the target, which stops the world for it).
 * Prints per configuration the median work time (wall, and the CPU time of the work's
 * thread: what the work itself needed, without the waits for a CPU that other processes
 * of a shared machine cause), the target's slowdown in both against the baseline, the profiler's CPU (this process, over the work) as a share of one core, and
 * the snapshots taken and goroutines read.
 *
 * usage: gsnap_overhead GSNAPWORK [ROUNDS] [WORK_ROUNDS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "../bench_stats.h"

enum { BASE, SNAP_DEFAULT, SNAP_1S, ANCHOR, NR_CONFIGS };
static const char *const names[] = { "unprofiled", "snapshots, default budget (1% of a core)",
				     "snapshots every 1 s (no budget)",
				     "anchor: Go's goroutine profile every 1 s, in the target" };

#define MAX_ROUNDS 16

struct run {
	double work_s, work_cpu_s, profiler_cpu_s, wall_s;
	uint64_t snapshots, goroutines, snapshot_cpu_ns;
	uint32_t interval_ms;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_once(const char *work, int parked, const char *n, int config, struct run *r)
{
	char p[16];
	char *argv[] = { (char *)work, "-p", p, "-n", (char *)n, config == ANCHOR ? "-selfprofile" : NULL,
			 NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINE_SNAPSHOTS,
		    .snapshot_cpu_budget_bp = config == SNAP_1S ? 10000 : 0);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	int in[2], out[2], status;
	char buf[128] = "";
	double c0, w0;
	FILE *f;
	pid_t pid;

	snprintf(p, sizeof(p), "%d", parked);
	if (config == SNAP_DEFAULT || config == SNAP_1S) {
		s = goprof_session_new(&opts);
		if (!s) {
			fprintf(stderr, "gsnap_overhead: %s\n", goprof_last_error());
			return -1;
		}
	}
	if (pipe(in) || pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(work, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* the goroutines park before the work starts: wait for them (and the runtime) */
	usleep(parked > 50000 ? 1500 * 1000 : 300 * 1000);
	if (s && goprof_session_attach_pid(s, pid, NULL)) {
		fprintf(stderr, "gsnap_overhead: %s\n", goprof_last_error());
		return -1;
	}
	c0 = cpu_s();
	w0 = wall_s();
	if (write(in[1], "go\n", 3) != 3)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (s)
			goprof_session_poll(s, 100);
		else
			usleep(100 * 1000);
	}
	r->profiler_cpu_s = cpu_s() - c0;
	r->wall_s = wall_s() - w0;
	f = fdopen(out[0], "r");
	if (!f || !fgets(buf, sizeof(buf), f) || sscanf(buf, "work %lf %lf", &r->work_s, &r->work_cpu_s) != 2) {
		fprintf(stderr, "gsnap_overhead: the target printed '%s'\n", buf);
		return -1;
	}
	fclose(f);
	close(in[1]);
	if (s) {
		goprof_session_stats(s, &st);
		r->snapshots = st.goroutine_snapshots;
		r->goroutines = st.snapshot_goroutines_read;
		r->snapshot_cpu_ns = st.snapshot_cpu_ns;
		r->interval_ms = st.snapshot_interval_ms;
		goprof_session_free(s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10000, 100000 };
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	const char *n = argc > 3 ? argv[3] : "2000000000";

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: gsnap_overhead GSNAPWORK [ROUNDS<=16] [WORK_ROUNDS]\n");
		return 2;
	}
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		static struct run runs[NR_CONFIGS][MAX_ROUNDS];
		double base = 1, base_cpu = 1;

		for (int i = 0; i < rounds; i++)
			for (int c = 0; c < NR_CONFIGS; c++)
				if (run_once(argv[1], sizes[z], n, c, &runs[c][i]))
					return 1;
		printf("\n%d parked goroutines, %d rounds (medians):\n", sizes[z], rounds);
		printf("  %-56s %8s %9s %8s %9s %12s %9s %10s %7s\n", "configuration", "wall s",
		       "slowdown", "CPU s", "slowdown", "profiler CPU", "snapshots", "goroutines", "ns/g");
		for (int c = 0; c < NR_CONFIGS; c++) {
			double w[MAX_ROUNDS], wc[MAX_ROUNDS], cpu[MAX_ROUNDS], snaps[MAX_ROUNDS], gs[MAX_ROUNDS], ns[MAX_ROUNDS];

			for (int i = 0; i < rounds; i++) {
				w[i] = runs[c][i].work_s;
				wc[i] = runs[c][i].work_cpu_s;
				cpu[i] = runs[c][i].profiler_cpu_s / runs[c][i].wall_s * 100;
				snaps[i] = (double)runs[c][i].snapshots;
				gs[i] = (double)runs[c][i].goroutines;
				ns[i] = runs[c][i].goroutines ? runs[c][i].snapshot_cpu_ns /
								(double)runs[c][i].goroutines : 0;
			}
			if (c == BASE) {
				base = bench_median(w, rounds);
				base_cpu = bench_median(wc, rounds);
			}
			{
				double med = bench_median(w, rounds), medc = bench_median(wc, rounds);

				printf("  %-56s %8.3f %+8.2f%% %8.3f %+8.2f%% %11.2f%% %9.0f %10.0f %7.0f\n",
				       names[c], med, (med / base - 1) * 100, medc, (medc / base_cpu - 1) * 100,
				       bench_median(cpu, rounds),
				       bench_median(snaps, rounds), bench_median(gs, rounds),
				       bench_median(ns, rounds));
			}
		}
	}
	printf("\nslowdown: the target's work time (wall; CPU time of its thread) against the "
	       "unprofiled runs of the same run; profiler CPU: this process's CPU over the work, %% "
	       "of one core; ns/g: the reader's CPU per goroutine read\n");
	return 0;
}
