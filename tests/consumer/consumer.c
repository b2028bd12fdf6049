/* An outside program that finds libgoprof through pkg-config only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <goprof/goprof.h>

int main(void)
{
	GOPROF_OPTS(goprof_session_opts, opts, .cpu_freq_hz = 20000);
	struct goprof_session *s;

	if (goprof_version() != GOPROF_VERSION_NUMBER) {
		fprintf(stderr, "version mismatch: %u vs %u\n", goprof_version(), GOPROF_VERSION_NUMBER);
		return 1;
	}
	/* An invalid option must come back as EINVAL with a message, through the real library. */
	s = goprof_session_new(&opts);
	if (s || errno != EINVAL || !strstr(goprof_last_error(), "cpu_freq_hz")) {
		fprintf(stderr, "expected EINVAL naming cpu_freq_hz, got %s\n", goprof_last_error());
		return 1;
	}
	printf("consumer: libgoprof %s: ok\n", goprof_version_string());
	return 0;
}
