/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * An outside program built by another build system (a meson superproject, a plain
 * Makefile with pkg-config). It checks that what it compiled against is what it runs
 * with, and that the calls reach the real library: errors come back with messages.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <goprof/goprof.h>

static int sink(const void *data, size_t len, void *ctx)
{
	(void)data;
	(void)len;
	(void)ctx;
	return 0;
}

int main(int argc, char **argv)
{
	const char *const attrs[] = { "host.name", "ci", NULL };
	GOPROF_OPTS(goprof_profile_write_opts, wo, .service_name = "consumer", .pid = 1,
		    .resource_attrs = attrs);
	GOPROF_OPTS(goprof_session_opts, bad, .cpu_freq_hz = 20000);
	const char *how = argc > 1 ? argv[1] : "?";

	if (goprof_version() != GOPROF_VERSION_NUMBER) {
		fprintf(stderr, "version mismatch: runs %u, built against %u\n", goprof_version(),
			GOPROF_VERSION_NUMBER);
		return 1;
	}
	if (goprof_session_new(&bad) || errno != EINVAL ||
	    !strstr(goprof_last_error(), "cpu_freq_hz")) {
		fprintf(stderr, "expected EINVAL naming cpu_freq_hz, got: %s\n", goprof_last_error());
		return 1;
	}
	if (goprof_profile_write(NULL, GOPROF_FORMAT_OTLP, &wo, sink, NULL) != -EINVAL ||
	    !strstr(goprof_last_error(), "goprof_profile_write")) {
		fprintf(stderr, "expected EINVAL from goprof_profile_write, got: %s\n",
			goprof_last_error());
		return 1;
	}
	printf("consumer (%s): libgoprof %s, OTLP schema %s: ok\n", how, goprof_version_string(),
	       GOPROF_OTLP_PROTO_RELEASE);
	return 0;
}
