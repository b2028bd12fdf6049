// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Architectures (issue 21). A binary of another architecture handed to a session (or to
 * goprof record) is refused with both architectures named.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <goprof/error.h>
#include <goprof/session.h>

#include "test_common.h"

#if defined(__x86_64__)
#define OURS "x86-64 (amd64)"
#define FOREIGN "arm64"
#define FOREIGN_NAME "arm64 (aarch64)"
#else
#define OURS "arm64 (aarch64)"
#define FOREIGN "amd64"
#define FOREIGN_NAME "x86-64 (amd64)"
#endif

static const char *foreign_fixture(void)
{
	const char *const *v = fixture_all_go_versions();
	static char name[64];
	int n = 0;

	while (v[n + 1])
		n++;
	snprintf(name, sizeof(name), "allcaps-%s", FOREIGN);
	return fixture_path(name, v[n]);
}

Test(arch, session_refuses_a_foreign_executable, .timeout = 120)
{
	const char *exe = foreign_fixture();
	struct goprof_session *s;
	const char *msg;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_expect_eq(goprof_session_attach_exe(s, exe, NULL), -ENOEXEC);
	msg = goprof_last_error();
	cr_expect(strstr(msg, FOREIGN_NAME) && strstr(msg, OURS) && strstr(msg, exe),
		  "the message names both architectures and the file: %s", msg);
	goprof_session_free(s);
}

Test(arch, cli_refuses_a_foreign_command, .timeout = 60)
{
	const char *cli = getenv("GOPROF_CLI"), *exe = foreign_fixture();
	char cmd[4096], out[2048] = "";
	size_t n;
	FILE *p;
	int status;

	cr_assert(cli, "GOPROF_CLI not set");
	snprintf(cmd, sizeof(cmd), "%s record -d 1 -o /tmp/goprof-arch-test.out -- %s 1 2>&1", cli, exe);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 127, "exit status %d: %s", status, out);
	cr_expect(strstr(out, FOREIGN_NAME) && strstr(out, OURS), "names both architectures: %s", out);
}
