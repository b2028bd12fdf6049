// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * What goroutine blocking and channel tracking cost a channel-heavy target
 * (bench/block/chanwork: every operation of its ping-pong parks a goroutine), measured
 * in one run against the unprofiled baseline, configurations interleaved round by round:
 *   - GOPROF_FEATURE_BLOCK | CHANNELS never throttled: the host does not poll while the
 *     work runs (the budget is enforced in goprof_session_poll()), so every park, wake
 *     and channel operation stays probed - the full cost (block records beyond the ring
 *     buffer are counted lost, which costs less than delivering them);
 *   - the same with the budget at its maximum (100% of the target's CPU) and at its
 *     default (1%), polled every 100 ms: the sets are detached once their estimated cost
 *     (5 us per hit) goes over the budget, with an event, and the rest runs at full speed.
 * Prints the median work time of each and its ratio to the baseline, and what was
 * measured (blocks, probe sets detached).
 *
 * usage: block_overhead CHANWORK_BINARY [ROUNDS] [N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "../bench_stats.h"

enum { BASE, TRACKED_UNTHROTTLED, TRACKED_BUDGET_MAX, TRACKED_BUDGET_DEFAULT, NR_CONFIGS };
static const char *const names[] = { "unprofiled", "blocking+channels, never throttled",
				     "blocking+channels, budget 100%",
				     "blocking+channels, default budget (1%)" };

#define MAX_ROUNDS 32

struct run {
	double work_s;
	uint64_t blocks, detached;
};

static int run_once(const char *work, const char *n, int config, struct run *r)
{
	char *argv[] = { (char *)work, "-n", (char *)n, NULL };
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_BLOCK | GOPROF_FEATURE_CHANNELS,
		    .overhead_budget_bp = config == TRACKED_BUDGET_DEFAULT ? 0 : 10000);
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s = NULL;
	int in[2], out[2], status;
	char buf[64] = "";
	pid_t pid;

	if (config != BASE) {
		s = goprof_session_new(&opts);
		if (!s) {
			fprintf(stderr, "block_overhead: %s\n", goprof_last_error());
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
	usleep(100 * 1000); /* let the Go runtime start: the work itself waits for stdin */
	if (s && goprof_session_attach_pid(s, pid, NULL)) {
		fprintf(stderr, "block_overhead: %s\n", goprof_last_error());
		return -1;
	}
	if (write(in[1], "go\n", 3) != 3)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (s && config != TRACKED_UNTHROTTLED)
			goprof_session_poll(s, 100);
		else
			usleep(100 * 1000);
	}
	if (read(out[0], buf, sizeof(buf) - 1) <= 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "block_overhead: the work failed\n");
		return -1;
	}
	close(out[0]);
	close(in[1]);
	r->work_s = strtod(buf, NULL) / 1e9;
	if (s) {
		while (goprof_session_poll(s, 0) > 0)
			;
		goprof_session_stats(s, &st);
	}
	r->blocks = st.block_events + st.lost_block_events;
	r->detached = st.probe_sets_detached;
	goprof_session_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *n = argc > 3 ? argv[3] : "200000";
	double t[NR_CONFIGS][MAX_ROUNDS], base;
	uint64_t blocks[NR_CONFIGS] = { 0 }, detached[NR_CONFIGS] = { 0 };

	if (argc < 2 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: block_overhead CHANWORK_BINARY [ROUNDS<=%d] [N]\n", MAX_ROUNDS);
		return 2;
	}
	printf("block_overhead: %d rounds of %s ping-pongs + %s buffered sends, interleaved\n",
	       rounds, n, n);
	for (int i = 0; i < rounds; i++)
		for (int k = 0; k < NR_CONFIGS; k++) {
			int config = (k + i) % NR_CONFIGS;
			struct run r;

			if (run_once(argv[1], n, config, &r))
				return 1;
			t[config][i] = r.work_s;
			blocks[config] += r.blocks;
			detached[config] += r.detached;
		}
	base = bench_median(t[BASE], rounds);
	for (int k = 0; k < NR_CONFIGS; k++) {
		double m = bench_median(t[k], rounds);

		printf("  %-40s %8.3f s  x%.2f", names[k], m, m / base);
		if (k != BASE)
			printf("  (%llu blocks probed per run, %.1f probe sets detached per run)",
			       (unsigned long long)(blocks[k] / rounds), (double)detached[k] / rounds);
		printf("\n");
	}
	return 0;
}
