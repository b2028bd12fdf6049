// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What CPU profiling costs the target and the host, measured in one run against a
 * baseline of the same fixed work (bench/work), rounds interleaved so drift in a noisy
 * machine hits every configuration alike:
 *   - target slowdown with libgoprof at 99 Hz and 999 Hz, and with Go's own runtime/pprof
 *     (100 Hz), against the unprofiled run (median wall time of the fixed work);
 *   - the library's own CPU (user+sys of this process) while sampling, per sample and as
 *     a share of one core;
 *   - the BPF program's kernel time per sample (kernel.bpf_stats_enabled, via bpftool),
 *     and side by side with bpftrace's stack-counting program, both attached at once to
 *     the same work (so both see the same load and the same mix of processes), as the
 *     figures to beat state it, profile:hz:999 { @[ustack, kstack] = count(); }, and
 *     with a filter on the work's PID (/pid == WORK/), which makes its runs on other
 *     processes about as cheap as ours: the stricter anchor. bpftrace is installed with
 *     apt-get when missing; without it those configurations are skipped;
 *   - the slowdown of the Go runtime probes (goroutines, GC, heap; overhead budget left
 *     at its default) with CPU sampling at 99 Hz, on the same allocation-heavy work, and
 *     of the opt-in per-allocation mode (runtime.mallocgc, budget off).
 *
 * usage: cpu_overhead [-b] WORK_BINARY [ROUNDS] [ITERS]
 *   -b: only the BPF cost per sample: libgoprof alone and beside bpftrace, at 999 Hz.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "../bench_stats.h"

enum { BASE, GOPROF_99, GOPROF_999, GO_PPROF, GOPROF_RUNTIME, GOPROF_ALLOCS, SIDE_BY_SIDE,
       SIDE_BY_SIDE_PID, NR_CONFIGS };
static const char *const config_names[] = { "unprofiled", "libgoprof 99 Hz", "libgoprof 999 Hz",
					     "runtime/pprof 100 Hz", "runtime probes",
					     "per-allocation mode", "libgoprof+bpftrace 999",
					     "libgoprof+bpftrace/pid" };
#define SIDE(c) ((c) == SIDE_BY_SIDE || (c) == SIDE_BY_SIDE_PID)

/* bpftrace names a profile program after its frequency. */
#define BPFTRACE_PROG "999"

#define MAX_ROUNDS 64

struct run {
	uint64_t bpf_ns, bpf_runs; /* the session's BPF program while the work ran (bpf_stats) */
	uint64_t bt_ns, bt_runs;   /* bpftrace's, SIDE_BY_SIDE */
	double target_s;   /* the work's own wall time */
	double lib_cpu_s;  /* this process's CPU time while the target ran */
	double wall_s;     /* wall time of the whole run */
	uint64_t samples;
};

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Sum of run_time_ns and run_cnt of every loaded program of that name (bpf_stats). */
static void bpf_prog_stats(const char *name, uint64_t *ns, uint64_t *cnt)
{
	char cmd[128], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "bpftool prog show name %s 2>/dev/null", name);
	p = popen(cmd, "r");

	*ns = *cnt = 0;
	while (p && fgets(line, sizeof(line), p)) {
		char *a = strstr(line, "run_time_ns "), *b = strstr(line, "run_cnt ");

		if (a)
			*ns += strtoull(a + 12, NULL, 10);
		if (b)
			*cnt += strtoull(b + 8, NULL, 10);
	}
	if (p)
		pclose(p);
}

/* bpftrace on PATH, installed from the distribution's packages if missing. */
static bool have_bpftrace(void)
{
	if (system("command -v bpftrace >/dev/null 2>&1") == 0)
		return true;
	fprintf(stderr, "cpu_overhead: bpftrace missing: apt-get install -y bpftrace\n");
	if (system("apt-get install -y bpftrace >/dev/null 2>&1") == 0 &&
	    system("command -v bpftrace >/dev/null 2>&1") == 0)
		return true;
	fprintf(stderr, "cpu_overhead: no bpftrace: the side-by-side configuration is skipped\n");
	return false;
}

/* Starts bpftrace's stack-counting program (on every process, or only on target if > 0)
 * and waits until it samples. */
static pid_t start_bpftrace(pid_t target)
{
	char prog[160], filter[32] = "";
	uint64_t ns, cnt;
	pid_t pid;

	if (target > 0)
		snprintf(filter, sizeof(filter), "/pid == %d/ ", (int)target);
	snprintf(prog, sizeof(prog), "profile:hz:999 %s{ @[ustack, kstack] = count(); }", filter);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("bpftrace", "bpftrace", "-e", prog, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 300; i++) { /* 30 s at most */
		bpf_prog_stats(BPFTRACE_PROG, &ns, &cnt);
		if (cnt)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(100 * 1000);
	}
	fprintf(stderr, "cpu_overhead: bpftrace did not start\n");
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* SIGINT makes bpftrace print its map (to /dev/null) and exit; one sent while it still
 * attaches can go unseen: asked again, then killed. */
static void stop_bpftrace(pid_t pid)
{
	for (int i = 0; i < 200; i++) { /* 20 s */
		if (i % 20 == 0)
			kill(pid, SIGINT);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Runs the work once; with hz > 0 under a libgoprof session at that frequency. */
static int run_once(const char *work, const char *iters, int config, struct run *r)
{
	char *argv[] = { (char *)work, "-iters", (char *)iters, NULL, NULL, NULL };
	unsigned hz = config == GOPROF_99 || config == GOPROF_RUNTIME || config == GOPROF_ALLOCS ? 99 :
		      config == GOPROF_999 || SIDE(config) ? 999 : 0;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	uint64_t ns0 = 0, runs0 = 0, bt_ns0 = 0, bt_runs0 = 0;
	int out[2], gate[2], status;
	pid_t pid, bpftrace = -1;
	char buf[64] = "";
	double t0, c0;

	if (config == GO_PPROF) {
		argv[3] = "-cpuprofile";
		argv[4] = "-";
	}
	if (hz) {
		GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = hz,
			    .features = config == GOPROF_RUNTIME ? GOPROF_FEATURE_GOROUTINES |
				    GOPROF_FEATURE_GC | GOPROF_FEATURE_HEAP :
				    config == GOPROF_ALLOCS ? GOPROF_FEATURE_ALLOCS : 0,
			    /* the per-allocation mode measured as it is, not detached by the budget */
			    .overhead_budget_bp = config == GOPROF_ALLOCS ? 10000 : 0);
		s = goprof_session_new(&opts);
		if (!s) {
			fprintf(stderr, "cpu_overhead: %s\n", goprof_last_error());
			return -1;
		}
	}
	if (pipe(out) || pipe(gate))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		dup2(out[1], 1);
		close(out[0]);
		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(126);
		execv(work, argv);
		_exit(127);
	}
	close(out[1]);
	close(gate[0]);
	if (s && (goprof_session_attach_pid(s, pid, NULL) || goprof_session_start(s))) {
		fprintf(stderr, "cpu_overhead: %s\n", goprof_last_error());
		return -1;
	}
	if (SIDE(config) && (bpftrace = start_bpftrace(config == SIDE_BY_SIDE_PID ? pid : 0)) < 0)
		return -1;
	/* Both programs' counts start here, when the work does (only this session's
	 * program is loaded). */
	if (s)
		bpf_prog_stats("on_cpu_sample", &ns0, &runs0);
	if (bpftrace > 0)
		bpf_prog_stats(BPFTRACE_PROG, &bt_ns0, &bt_runs0);
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = self_cpu_s();
	if (write(gate[1], "g", 1) != 1)
		return -1;
	close(gate[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (s)
			goprof_session_poll(s, 100); /* a host's event loop */
		else
			usleep(100 * 1000);
	}
	if (s) {
		bpf_prog_stats("on_cpu_sample", &r->bpf_ns, &r->bpf_runs);
		r->bpf_ns -= ns0;
		r->bpf_runs -= runs0;
	}
	if (bpftrace > 0) {
		bpf_prog_stats(BPFTRACE_PROG, &r->bt_ns, &r->bt_runs);
		r->bt_ns -= bt_ns0;
		r->bt_runs -= bt_runs0;
		stop_bpftrace(bpftrace);
	}
	if (s) {
		while (goprof_session_poll(s, 0) > 0)
			;
		goprof_session_stats(s, &st);
	}
	r->lib_cpu_s = self_cpu_s() - c0;
	r->wall_s = now_s(CLOCK_MONOTONIC) - t0;
	r->samples = st.cpu_samples;
	if (read(out[0], buf, sizeof(buf) - 1) <= 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "cpu_overhead: the work failed\n");
		return -1;
	}
	close(out[0]);
	r->target_s = strtod(buf, NULL) / 1e9;
	goprof_session_free(s);
	return 0;
}

/* Kernel ns per run over all rounds: total time / total runs. */
static double ns_per_run(const uint64_t *ns, const uint64_t *runs, int rounds)
{
	uint64_t n = 0, r = 0;

	for (int i = 0; i < rounds; i++) {
		n += ns[i];
		r += runs[i];
	}
	return r ? (double)n / r : 0;
}

int main(int argc, char **argv)
{
	bool bpf_only = argc > 1 && !strcmp(argv[1], "-b");
	int rounds, nr_configs = 0, configs[NR_CONFIGS];
	const char *work, *iters;
	double target[NR_CONFIGS][MAX_ROUNDS], cpu_per_sample[NR_CONFIGS][MAX_ROUNDS],
		core_share[NR_CONFIGS][MAX_ROUNDS], ratio[NR_CONFIGS][MAX_ROUNDS], base = 0;
	uint64_t samples[NR_CONFIGS] = { 0 }, bpf_ns[NR_CONFIGS][MAX_ROUNDS] = { { 0 } },
		 bpf_runs[NR_CONFIGS][MAX_ROUNDS] = { { 0 } }, bt_ns[NR_CONFIGS][MAX_ROUNDS] = { { 0 } },
		 bt_runs[NR_CONFIGS][MAX_ROUNDS] = { { 0 } };
	bool ran[NR_CONFIGS] = { false };
	FILE *stats_knob;

	argv += bpf_only;
	argc -= bpf_only;
	work = argv[1];
	rounds = argc > 2 ? atoi(argv[2]) : 5;
	iters = argc > 3 ? argv[3] : "200000";
	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: cpu_overhead [-b] WORK_BINARY [ROUNDS<=%d] [ITERS]\n", MAX_ROUNDS);
		return 2;
	}
	for (int c = 0; c < NR_CONFIGS; c++)
		if ((!bpf_only || c == GOPROF_999 || SIDE(c)) && (!SIDE(c) || have_bpftrace()))
			configs[nr_configs++] = c;
	/* Per-program run time accounting, for the kernel-side cost per sample. */
	stats_knob = fopen("/proc/sys/kernel/bpf_stats_enabled", "w");
	if (stats_knob) {
		fputs("1", stats_knob);
		fflush(stats_knob);
	}
	printf("cpu_overhead: %d rounds of %s x 2 workers, configurations interleaved\n", rounds, iters);
	for (int i = 0; i < rounds; i++) {
		printf("  round %d:", i + 1);
		for (int k = 0; k < nr_configs; k++) {
			int config = configs[(k + i) % nr_configs]; /* rotate the order every round */
			struct run r = { 0 };

			if (run_once(work, iters, config, &r))
				return 1;
			ran[config] = true;
			target[config][i] = r.target_s;
			samples[config] += r.samples;
			cpu_per_sample[config][i] = r.samples ? r.lib_cpu_s / r.samples * 1e6 : 0;
			core_share[config][i] = 100.0 * r.lib_cpu_s / r.wall_s;
			bpf_ns[config][i] = r.bpf_ns;
			bpf_runs[config][i] = r.bpf_runs;
			printf("%s %s %.3f s", k ? "," : "", config_names[config], r.target_s);
			if (SIDE(config)) {
				bt_ns[config][i] = r.bt_ns;
				bt_runs[config][i] = r.bt_runs;
				ratio[config][i] = r.bpf_runs && r.bt_ns ? ((double)r.bpf_ns / r.bpf_runs) /
									 ((double)r.bt_ns / r.bt_runs) : 0;
				printf(" (BPF ns/sample %.0f ours, %.0f bpftrace)",
				       r.bpf_runs ? (double)r.bpf_ns / r.bpf_runs : 0,
				       r.bt_runs ? (double)r.bt_ns / r.bt_runs : 0);
			}
			fflush(stdout);
		}
		printf("\n");
	}
	if (stats_knob) {
		rewind(stats_knob);
		fputs("0", stats_knob);
		fclose(stats_knob);
	}

	if (ran[BASE])
		base = bench_median(target[BASE], rounds);
	printf("\n%-22s %10s %10s %16s %14s\n", "configuration", "median s", "slowdown",
	       "lib us/sample", "lib % of core");
	for (int c = 0; c < NR_CONFIGS; c++) {
		double m;

		if (!ran[c])
			continue;
		m = bench_median(target[c], rounds);
		printf("%-22s %10.3f ", config_names[c], m);
		if (base)
			printf("%9.2f%% ", 100.0 * (m / base - 1));
		else
			printf("%10s ", "-");
		if (c != BASE && c != GO_PPROF)
			printf("%16.1f %13.2f%%\n", bench_median(cpu_per_sample[c], rounds),
			       bench_median(core_share[c], rounds));
		else
			printf("%16s %14s\n", "-", "-");
	}
	if (ran[GOPROF_99] && ran[GO_PPROF]) {
		printf("\nratio libgoprof 99 Hz / runtime/pprof slowdown: %.3f (target run time %.4f / %.4f)\n",
		       bench_median(target[GOPROF_99], rounds) / bench_median(target[GO_PPROF], rounds),
		       bench_median(target[GOPROF_99], rounds), bench_median(target[GO_PPROF], rounds));
		printf("samples: %llu at 99 Hz, %llu at 999 Hz\n", (unsigned long long)samples[GOPROF_99],
		       (unsigned long long)samples[GOPROF_999]);
	}
	printf("\nBPF program, kernel ns per run (bpf_stats, 999 Hz, while the work ran; every run "
	       "counts, on the work's samples or another process's):\n");
	if (ran[GOPROF_999])
		printf("  libgoprof alone:       %6.0f ns per sample\n",
		       ns_per_run(bpf_ns[GOPROF_999], bpf_runs[GOPROF_999], rounds));
	for (int c = SIDE_BY_SIDE; c <= SIDE_BY_SIDE_PID; c++) {
		double ours = ns_per_run(bpf_ns[c], bpf_runs[c], rounds),
		       theirs = ns_per_run(bt_ns[c], bt_runs[c], rounds);
		uint64_t runs = 0;

		if (!ran[c])
			continue;
		for (int i = 0; i < rounds; i++)
			runs += bpf_runs[c][i];
		printf("  side by side, same run, bpftrace %s: libgoprof %.0f ns, bpftrace %.0f ns per "
		       "sample (%.1f%% of runs the work's)\n",
		       c == SIDE_BY_SIDE ? "on every process" : "filtered on the work's PID", ours,
		       theirs, runs ? 100.0 * samples[c] / runs : 0);
		printf("    libgoprof / bpftrace: %.2f overall, %.2f median of rounds: %s\n", ours / theirs,
		       bench_median(ratio[c], rounds), ours <= theirs ? "ours <= bpftrace's" : "ours > bpftrace's");
	}
	return 0;
}
