// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What the off-CPU profile costs a program that switches threads as fast as it can
 * (bench/offcpu/pingpong: two threads passing a byte over blocking pipes), measured in
 * one run against baselines of the same work, rounds interleaved so that drift on a
 * noisy machine hits every configuration alike:
 *   - unprofiled; a session with CPU sampling only (99 Hz: what every session does);
 *   - the off-CPU profile on every switch-out; and sampling 1 in 16;
 * as the median wall time of the fixed work and its ratio to the unprofiled run and to
 * CPU sampling alone; with kernel.bpf_stats_enabled (root), the sched_switch program's
 * own time per hit.
 *
 * usage: offcpu_overhead PINGPONG_BINARY [ROUNDS] [ROUND_TRIPS]
 */
#include <signal.h>
#include <sys/select.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

enum { BASE, CPU_ONLY, OFFCPU_ALL, OFFCPU_16, NR_CONFIGS };
static const char *const config_names[] = { "unprofiled", "CPU sampling 99 Hz",
					     "off-CPU, every switch", "off-CPU, 1 in 16" };

#define MAX_ROUNDS 32

struct run {
	double work_s;
	uint64_t switches, switch_outs, prog_ns, prog_runs;
};

/* run_time_ns and run_cnt of the loaded sched_switch programs (bpf_stats; tp_btf, the
 * flavour this kernel takes). */
static void prog_stats(uint64_t *ns, uint64_t *cnt)
{
	FILE *p = popen("bpftool prog show name offcpu_tp_btf 2>/dev/null", "r");
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

static int run_once(const char *bin, const char *trips, int config, struct run *r)
{
	char *argv[] = { (char *)bin, (char *)trips, NULL };
	GOPROF_OPTS(goprof_session_opts, opts,
		    .features = config >= OFFCPU_ALL ? GOPROF_FEATURE_OFFCPU : 0,
		    .offcpu_sample_every = config == OFFCPU_16 ? 16 : 0,
		    .overhead_budget_bp = 10000 /* measure the cost, do not let the budget act */);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	uint64_t ns0 = 0, cnt0 = 0, ns1, cnt1;
	int in[2], out[2], status;
	char line[64] = "";
	FILE *f;
	pid_t pid;

	if (config != BASE && !(s = goprof_session_new(&opts))) {
		fprintf(stderr, "offcpu_overhead: %s\n", goprof_last_error());
		return -1;
	}
	if (pipe(in) || pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execv(bin, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strcmp(line, "ready\n")) {
		fprintf(stderr, "offcpu_overhead: %s did not start\n", bin);
		return -1;
	}
	if (s && (goprof_session_attach_pid(s, pid, NULL) || goprof_session_start(s))) {
		fprintf(stderr, "offcpu_overhead: %s\n", goprof_last_error());
		kill(pid, SIGKILL);
		return -1;
	}
	prog_stats(&ns0, &cnt0);
	if (write(in[1], "go\n", 3) != 3)
		return -1;
	/* The host's loop runs while the work does, as an agent's would. */
	while (s && goprof_session_poll(s, 50) >= 0) {
		struct timeval tv = { 0, 0 };
		fd_set fds;

		FD_ZERO(&fds);
		FD_SET(out[0], &fds);
		if (select(out[0] + 1, &fds, NULL, NULL, &tv) > 0)
			break;
	}
	if (!fgets(line, sizeof(line), f))
		return -1;
	prog_stats(&ns1, &cnt1);
	r->work_s = strtod(line, NULL) / 1e9;
	r->prog_ns = ns1 - ns0;
	r->prog_runs = cnt1 - cnt0;
	if (s && goprof_session_stats(s, &st) == 0) {
		r->switches = st.offcpu_switches;
		r->switch_outs = st.offcpu_switch_outs;
	}
	close(in[1]);
	fclose(f);
	waitpid(pid, &status, 0);
	goprof_session_free(s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct run runs[NR_CONFIGS][MAX_ROUNDS] = { 0 };
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *trips = argc > 3 ? argv[3] : "30000";
	double median[NR_CONFIGS];
	FILE *knob;
	char was = '0';

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: offcpu_overhead PINGPONG_BINARY [ROUNDS<=%d] [ROUND_TRIPS]\n",
			MAX_ROUNDS);
		return 2;
	}
	knob = fopen("/proc/sys/kernel/bpf_stats_enabled", "r+");
	if (knob) {
		was = (char)fgetc(knob);
		rewind(knob);
		fputs("1", knob);
		fflush(knob);
	}
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < NR_CONFIGS; c++)
			if (run_once(argv[1], trips, c, &runs[c][r]))
				return 1;
	if (knob) {
		rewind(knob);
		fputc(was, knob);
		fclose(knob);
	}
	printf("off-CPU profile overhead: %s round trips of pingpong, %d rounds, median "
	       "wall time of the work\n", trips, rounds);
	printf("%-24s %10s %10s %12s %14s %12s\n", "configuration", "work s", "vs base",
	       "vs CPU only", "switch-outs/s", "prog ns/hit");
	for (int c = 0; c < NR_CONFIGS; c++) {
		double t[MAX_ROUNDS], outs = 0, work = 0, ns = 0, hits = 0;
		char per_hit[32] = "-";

		for (int r = 0; r < rounds; r++) {
			t[r] = runs[c][r].work_s;
			outs += runs[c][r].switch_outs;
			work += runs[c][r].work_s;
			ns += runs[c][r].prog_ns;
			hits += runs[c][r].prog_runs;
		}
		qsort(t, rounds, sizeof(t[0]), cmp_double);
		median[c] = t[rounds / 2];
		if (c >= OFFCPU_ALL && hits > 0)
			snprintf(per_hit, sizeof(per_hit), "%.0f", ns / hits);
		printf("%-24s %10.3f %9.3fx %11.3fx %14.0f %12s\n", config_names[c], median[c],
		       median[c] / median[BASE], c >= CPU_ONLY ? median[c] / median[CPU_ONLY] : 1.0,
		       work > 0 ? outs / work : 0, per_hit);
	}
	return 0;
}
