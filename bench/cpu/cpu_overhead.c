// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What CPU profiling costs the target and the host, measured in one run against a
 * baseline of the same fixed work (bench/work), rounds interleaved so drift in a noisy
 * machine hits every configuration alike:
 *   - target slowdown with libgoprof at 99 Hz and 999 Hz, and with Go's own runtime/pprof
 *     (100 Hz), against the unprofiled run (median wall time of the fixed work);
 *   - the library's own CPU (user+sys of this process) while sampling, per sample and as
 *     a share of one core;
 *   - the BPF program's kernel time per sample (kernel.bpf_stats_enabled, via bpftool);
 *   - the slowdown of the Go runtime probes (goroutines, GC, heap; overhead budget left
 *     at its default) with CPU sampling at 99 Hz, on the same allocation-heavy work, and
 *     of the opt-in per-allocation mode (runtime.mallocgc, budget off).
 *
 * usage: cpu_overhead WORK_BINARY [ROUNDS] [ITERS]
 */
#include <errno.h>
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

enum { BASE, GOPROF_99, GOPROF_999, GO_PPROF, GOPROF_RUNTIME, GOPROF_ALLOCS, NR_CONFIGS };
static const char *const config_names[] = { "unprofiled", "libgoprof 99 Hz", "libgoprof 999 Hz",
					     "runtime/pprof 100 Hz", "runtime probes",
					     "per-allocation mode" };

#define MAX_ROUNDS 64

struct run {
	uint64_t bpf_ns, bpf_runs; /* the session's BPF program, from bpf_stats */
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

/* Sum of run_time_ns and run_cnt of every loaded on_cpu_sample program (bpf_stats). */
static void bpf_prog_stats(uint64_t *ns, uint64_t *cnt)
{
	FILE *p = popen("bpftool prog show name on_cpu_sample 2>/dev/null", "r");
	char line[512];

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

/* Runs the work once; with hz > 0 under a libgoprof session at that frequency. */
static int run_once(const char *work, const char *iters, int config, struct run *r)
{
	char *argv[] = { (char *)work, "-iters", (char *)iters, NULL, NULL, NULL };
	unsigned hz = config == GOPROF_99 || config == GOPROF_RUNTIME || config == GOPROF_ALLOCS ? 99 :
		      config == GOPROF_999 ? 999 : 0;
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	int out[2], gate[2], status;
	char buf[64] = "";
	double t0, c0;
	pid_t pid;

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
	bpf_prog_stats(&r->bpf_ns, &r->bpf_runs); /* only this session's program is loaded */
	goprof_session_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *iters = argc > 3 ? argv[3] : "200000";
	double target[NR_CONFIGS][MAX_ROUNDS], cpu_per_sample[NR_CONFIGS][MAX_ROUNDS],
		core_share[NR_CONFIGS][MAX_ROUNDS], base;
	uint64_t samples[NR_CONFIGS] = { 0 }, bpf_ns = 0, bpf_runs = 0;
	FILE *stats_knob;

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: cpu_overhead WORK_BINARY [ROUNDS<=%d] [ITERS]\n", MAX_ROUNDS);
		return 2;
	}
	/* Per-program run time accounting, for the kernel-side cost per sample. */
	stats_knob = fopen("/proc/sys/kernel/bpf_stats_enabled", "w");
	if (stats_knob) {
		fputs("1", stats_knob);
		fflush(stats_knob);
	}
	printf("cpu_overhead: %d rounds of %s x 2 workers, configurations interleaved\n", rounds, iters);
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < NR_CONFIGS; k++) {
			int config = (k + i) % NR_CONFIGS; /* rotate the order every round */
			struct run r;

			if (run_once(argv[1], iters, config, &r))
				return 1;
			target[config][i] = r.target_s;
			samples[config] += r.samples;
			cpu_per_sample[config][i] = r.samples ? r.lib_cpu_s / r.samples * 1e6 : 0;
			core_share[config][i] = 100.0 * r.lib_cpu_s / r.wall_s;
			if (config == GOPROF_999) {
				bpf_ns += r.bpf_ns;
				bpf_runs += r.bpf_runs;
			}
		}
		printf("  round %d: %.3f s unprofiled, %.3f s at 99 Hz, %.3f s at 999 Hz, %.3f s runtime/pprof, "
		       "%.3f s runtime probes, %.3f s per-allocation mode\n", i + 1, target[BASE][i],
		       target[GOPROF_99][i], target[GOPROF_999][i], target[GO_PPROF][i],
		       target[GOPROF_RUNTIME][i], target[GOPROF_ALLOCS][i]);
	}
	if (stats_knob) {
		rewind(stats_knob);
		fputs("0", stats_knob);
		fclose(stats_knob);
	}

	base = bench_median(target[BASE], rounds);
	printf("\n%-22s %10s %10s %16s %14s\n", "configuration", "median s", "slowdown",
	       "lib us/sample", "lib % of core");
	for (int c = 0; c < NR_CONFIGS; c++) {
		double m = bench_median(target[c], rounds);

		printf("%-22s %10.3f %9.2f%% ", config_names[c], m, 100.0 * (m / base - 1));
		if (c == GOPROF_99 || c == GOPROF_999 || c == GOPROF_RUNTIME || c == GOPROF_ALLOCS)
			printf("%16.1f %13.2f%%\n", bench_median(cpu_per_sample[c], rounds),
			       bench_median(core_share[c], rounds));
		else
			printf("%16s %14s\n", "-", "-");
	}
	printf("\nratio libgoprof 99 Hz / runtime/pprof slowdown: %.3f (target run time %.4f / %.4f)\n",
	       bench_median(target[GOPROF_99], rounds) / bench_median(target[GO_PPROF], rounds),
	       bench_median(target[GOPROF_99], rounds), bench_median(target[GO_PPROF], rounds));
	printf("samples: %llu at 99 Hz, %llu at 999 Hz\n", (unsigned long long)samples[GOPROF_99],
	       (unsigned long long)samples[GOPROF_999]);
	if (bpf_runs)
		printf("BPF program (kernel, 999 Hz runs): %.2f us per run (%llu runs, %llu ns; every "
		       "CPU's samples, attached process or not)\n", (double)bpf_ns / bpf_runs / 1e3,
		       (unsigned long long)bpf_runs, (unsigned long long)bpf_ns);
	return 0;
}
