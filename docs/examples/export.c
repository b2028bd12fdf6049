// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * One profile, every output format: pprof, folded stacks, an SVG flame graph and an OTLP
 * request with resource attributes and custom trace-link label keys; then the samples
 * read back one by one, as a host with its own exporter would.
 *
 * usage: export PID SECONDS OUTPUT_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goprof/goprof.h>

static int print_sample(const struct goprof_profile_sample *s, void *ctx)
{
	(void)ctx;
	printf("%lld samples, %u frames, leaf %s, %u labels\n", (long long)s->values[0],
	       s->nr_frames, s->nr_frames ? s->frames[0]->function : "-", s->nr_labels);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const attrs[] = { "deployment.environment.name", "staging", NULL };
	static const char *const links[] = { "trace_id", "span_id", "dd.trace_id", "dd.span_id", NULL };
	static const struct { uint32_t format; const char *name; } out[] = {
		{ GOPROF_FORMAT_PPROF, "cpu.pb.gz" }, { GOPROF_FORMAT_FOLDED, "cpu.folded" },
		{ GOPROF_FORMAT_SVG, "cpu.svg" }, { GOPROF_FORMAT_OTLP, "cpu.otlp" },
	};
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_profile_flags = GOPROF_CPU_PROFILE_THREADS);
	GOPROF_OPTS(goprof_profile_write_opts, wopts, .service_name = "checkout",
		    .resource_attrs = attrs, .link_keys = links, .title = "checkout CPU");
	struct goprof_session *s;
	struct goprof_profile *p;
	char path[4096];

	if (argc != 4) {
		fprintf(stderr, "usage: %s PID SECONDS OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	s = goprof_session_new(&opts);
	if (!s || goprof_session_attach_pid(s, atoi(argv[1]), NULL) < 0 ||
	    goprof_session_start(s) < 0) {
		fprintf(stderr, "export: %s\n", goprof_last_error());
		goprof_session_free(s);
		return 1;
	}
	for (int i = 0; i < 10 * atoi(argv[2]); i++) {
		usleep(100 * 1000);
		goprof_session_poll(s, 0); /* take in what arrived */
	}
	p = goprof_session_snapshot_cpu(s, GOPROF_SNAPSHOT_RESET);
	goprof_session_free(s);
	if (!p)
		return 1;
	wopts.pid = atoi(argv[1]);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[3], out[i].name);
		if (goprof_profile_write_file(p, out[i].format, &wopts, path) < 0)
			fprintf(stderr, "export: %s\n", goprof_last_error());
	}
	goprof_profile_foreach_sample(p, print_sample, NULL);
	goprof_profile_free(p);
	return 0;
}
