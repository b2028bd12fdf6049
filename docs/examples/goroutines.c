// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Goroutine leak report: goroutines of a Go process that stay alive longer than a
 * threshold, grouped by the go statement that created them.
 *
 * usage: goroutines PID WATCH_SECONDS MIN_AGE_MS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

static int print_site(const struct goprof_profile_sample *sample, void *ctx)
{
	/* frames[0] is the go statement; values: goroutine/count, age/nanoseconds */
	const char *where = sample->nr_frames ? sample->frames[0]->function : "(unknown)";

	(void)ctx;
	printf("%6lld goroutines created at %s\n", (long long)sample->values[0], where);
	return 0;
}

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .features = GOPROF_FEATURE_GOROUTINES);
	struct goprof_session *s;
	struct goprof_profile *p;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PID WATCH_SECONDS MIN_AGE_MS\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0) {
		fprintf(stderr, "goroutines: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	/* Goroutines are seen from their creation on: watch for a while. */
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* take in what arrived */
	}
	p = goprof_session_snapshot_goroutines(s, (uint64_t)atoll(argv[3]) * 1000000, 0);
	if (!p) {
		fprintf(stderr, "goroutines: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	goprof_profile_foreach_sample(p, print_site, NULL);
	goprof_profile_free(p);
	goprof_session_free(s);
	return 0;
}
