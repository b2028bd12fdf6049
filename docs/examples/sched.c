// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Scheduling latency of a Go process: how long its goroutines wait between becoming
 * runnable and running.
 *
 * usage: sched PID SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_SCHED);
	struct goprof_sched_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "sched: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* take in what arrived */
	}
	if (goprof_session_sched_stats(s, 0, &st) == 0)
		printf("%llu waits: p50 <= %.1f us, p99 <= %.1f us, max %.1f us\n",
		       (unsigned long long)st.waits, st.p50_ns / 1e3, st.p99_ns / 1e3,
		       st.max_ns / 1e3);
	else
		fprintf(stderr, "sched: %s\n", goprof_last_error());
	goprof_session_free(s);
	return 0;
}
