// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Session start-up: how long goprof_session_new(), goprof_session_attach_pid() and
 * goprof_session_start() take for a CPU-only session on a running Go program, median of
 * ROUNDS rounds. The anchor, from the same run: reading /proc/kallsyms whole (the kernel
 * symbols every session with kernel stacks needs before sampling), the floor of what a
 * session start can cost here. Each phase also in CPU time (this process's, which is where
 * the kernel verifies and formats /proc/kallsyms for us): on a shared machine the wall
 * time moves with the load, the CPU time much less.
 *
 * usage: startup GO_PROGRAM [ROUNDS]   (bench/work, run with enough work to outlast us)
 */
#include <fcntl.h>
#include <goprof/goprof.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench_stats.h"

#define MAX_ROUNDS 64

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double read_kallsyms(void)
{
	char buf[1 << 16];
	double t = now();
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return now() - t;
}

int main(int argc, char **argv)
{
	double t_new[MAX_ROUNDS], t_attach[MAX_ROUNDS], t_start[MAX_ROUNDS], t_total[MAX_ROUNDS];
	double t_ksyms[MAX_ROUNDS], c_new[MAX_ROUNDS], c_attach[MAX_ROUNDS], c_start[MAX_ROUNDS];
	double c_total[MAX_ROUNDS], c_ksyms[MAX_ROUNDS];
	int rounds = argc > 2 ? atoi(argv[2]) : 10;
	pid_t target;

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: startup GO_PROGRAM [ROUNDS 1-%d]\n", MAX_ROUNDS);
		return 2;
	}
	target = fork();
	if (target == 0) {
		execl(argv[1], argv[1], "-iters", "2000000000", "-workers", "1", (char *)NULL);
		_exit(127);
	}
	usleep(300000); /* its runtime is up */
	for (int r = 0; r < rounds; r++) {
		GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 99);
		struct goprof_session *s;
		double c0 = cpu_now(), t0 = now(), t1, t2, t3, c1, c2, c3;

		s = goprof_session_new(&opts);
		t1 = now();
		c1 = cpu_now();
		if (!s || goprof_session_attach_pid(s, target, NULL)) {
			fprintf(stderr, "startup: %s\n", goprof_last_error());
			kill(target, SIGKILL);
			return 1;
		}
		t2 = now();
		c2 = cpu_now();
		if (goprof_session_start(s)) {
			fprintf(stderr, "startup: %s\n", goprof_last_error());
			kill(target, SIGKILL);
			return 1;
		}
		t3 = now();
		c3 = cpu_now();
		goprof_session_free(s);
		t_new[r] = t1 - t0;
		t_attach[r] = t2 - t1;
		t_start[r] = t3 - t2;
		t_total[r] = t3 - t0;
		c_new[r] = c1 - c0;
		c_attach[r] = c2 - c1;
		c_start[r] = c3 - c2;
		c_total[r] = c3 - c0;
		c0 = cpu_now();
		t_ksyms[r] = read_kallsyms();
		c_ksyms[r] = cpu_now() - c0;
	}
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	printf("session start-up, CPU only, median of %d rounds (wall, CPU):\n", rounds);
	printf("  goprof_session_new        %7.1f ms %7.1f ms\n", 1e3 * bench_median(t_new, rounds),
	       1e3 * bench_median(c_new, rounds));
	printf("  goprof_session_attach_pid %7.1f ms %7.1f ms\n", 1e3 * bench_median(t_attach, rounds),
	       1e3 * bench_median(c_attach, rounds));
	printf("  goprof_session_start      %7.1f ms %7.1f ms\n", 1e3 * bench_median(t_start, rounds),
	       1e3 * bench_median(c_start, rounds));
	printf("  total                     %7.1f ms %7.1f ms   (target: under 200 ms)\n",
	       1e3 * bench_median(t_total, rounds), 1e3 * bench_median(c_total, rounds));
	printf("anchor: reading /proc/kallsyms %7.1f ms %7.1f ms\n", 1e3 * bench_median(t_ksyms, rounds),
	       1e3 * bench_median(c_ksyms, rounds));
	return 0;
}
