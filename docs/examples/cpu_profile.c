// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * CPU profile of a running Go process: sample it for a few seconds, then write the
 * profile as pprof (for `go tool pprof`) and as OTLP with per-sample timestamps.
 *
 * usage: cpu_profile PID SECONDS OUTPUT_PREFIX   (as root, or with CAP_BPF + CAP_PERFMON)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

int main(int argc, char **argv)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 99,
		    .cpu_profile_flags = GOPROF_CPU_PROFILE_TIMESTAMPS);
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct goprof_session *s;
	struct goprof_profile *p;
	char path[4096];

	if (argc != 4) {
		fprintf(stderr, "usage: %s PID SECONDS OUTPUT_PREFIX\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0 ||
	    goprof_session_start(s) < 0) {
		fprintf(stderr, "cpu_profile: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* takes in samples as they come */
	}
	p = goprof_session_snapshot_cpu(s, 0);
	goprof_session_free(s); /* the profile outlives the session */
	if (!p) {
		fprintf(stderr, "cpu_profile: %s\n", goprof_last_error());
		return 1;
	}
	goprof_profile_get_info(p, &info);
	printf("%llu distinct stacks, %llu sample timestamps\n",
	       (unsigned long long)info.nr_samples, (unsigned long long)info.nr_timestamps);
	snprintf(path, sizeof(path), "%s.pb.gz", argv[3]);
	if (goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, path) < 0)
		fprintf(stderr, "cpu_profile: %s\n", goprof_last_error());
	snprintf(path, sizeof(path), "%s.otlp", argv[3]);
	if (goprof_profile_write_file(p, GOPROF_FORMAT_OTLP, NULL, path) < 0)
		fprintf(stderr, "cpu_profile: %s\n", goprof_last_error());
	goprof_profile_free(p);
	return 0;
}
