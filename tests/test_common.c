// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "core/proc.h"
#include "test_common.h"

void require_bpf_privileges(void)
{
	const char *ci = getenv("CI");

	if (gp_check_bpf_privileges("test") == 0 && gp_check_kernel_btf() == 0)
		return;
	if (ci && !strcmp(ci, "true"))
		cr_assert_fail("CI=true and this test needs BPF privileges it lacks: %s",
			 goprof_last_error());
	cr_skip_test("needs BPF privileges: %s", goprof_last_error());
}

const char *fixture_path(const char *name, const char *go_version)
{
	static __thread char path[4096];
	const char *dir = getenv("GOPROF_FIXTURES");

	cr_assert(dir, "GOPROF_FIXTURES is not set: run the tests through meson test");
	snprintf(path, sizeof(path), "%s/%s-go%s", dir, name, go_version);
	cr_assert(access(path, X_OK) == 0, "fixture %s missing: %s", path, strerror(errno));
	return path;
}

/* The versions listed in environment variable @name (space-separated), or "1.27". */
static const char *const *versions_from_env(const char *name, const char **v, char *buf, size_t len)
{
	const char *env = getenv(name);
	int n = 0;

	if (v[0])
		return v;
	snprintf(buf, len, "%s", env ? env : "1.27");
	for (char *save, *tok = strtok_r(buf, " ", &save); tok && n < 15;
	     tok = strtok_r(NULL, " ", &save))
		v[n++] = tok;
	v[n] = NULL;
	return v;
}

const char *const *fixture_go_versions(void)
{
	static const char *versions[16];
	static char buf[256];

	return versions_from_env("GOPROF_GO_VERSIONS", versions, buf, sizeof(buf));
}

const char *const *fixture_all_go_versions(void)
{
	static const char *versions[16];
	static char buf[256];

	return versions_from_env("GOPROF_GO_VERSIONS_ALL", versions, buf, sizeof(buf));
}

size_t fixture_variants(struct fixture_variant *v, size_t max)
{
	size_t n = 0;

	for (int i = 0; fixture_go_versions()[i] && n + 2 <= max; i++) {
		v[n++] = (struct fixture_variant){ i, 0 };
		v[n++] = (struct fixture_variant){ i, 1 };
	}
	return n;
}

static void start(struct child *c, char *const argv[], bool held)
{
	int fds[2], gate[2] = { -1, -1 }, in[2];

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	if (held)
		cr_assert_eq(pipe2(gate, O_CLOEXEC), 0);
	c->pid = fork();
	cr_assert_geq(c->pid, 0, "fork: %s", strerror(errno));
	if (c->pid == 0) {
		char byte;

		dup2(fds[1], STDOUT_FILENO);
		dup2(in[0], STDIN_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (held && read(gate[0], &byte, 1) != 1)
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	close(in[0]);
	c->in = in[1];
	if (held)
		close(gate[0]);
	c->gate = gate[1];
	c->out = fdopen(fds[0], "r");
	cr_assert(c->out);
}

void child_start(struct child *c, char *const argv[])
{
	start(c, argv, false);
}

void child_start_held(struct child *c, char *const argv[])
{
	start(c, argv, true);
}

void child_release(struct child *c)
{
	cr_assert_geq(c->gate, 0, "child was not started held");
	cr_assert_eq(write(c->gate, "g", 1), 1);
	close(c->gate);
	c->gate = -1;
}

void child_write_line(struct child *c, const char *line)
{
	size_t n = strlen(line);

	cr_assert_geq(c->in, 0, "the child's stdin is closed");
	cr_assert_eq(write(c->in, line, n), (ssize_t)n);
	cr_assert_eq(write(c->in, "\n", 1), 1);
}

void child_close_stdin(struct child *c)
{
	if (c->in >= 0)
		close(c->in);
	c->in = -1;
}

bool child_read_line(struct child *c, char *buf, size_t len)
{
	if (!fgets(buf, (int)len, c->out))
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

bool child_read_line_polling(struct child *c, char *buf, size_t len, struct goprof_session *s)
{
	struct pollfd pfd = { .fd = fileno(c->out), .events = POLLIN };

	/* Data may already sit in stdio's buffer: poll(2) would not see it. */
	while (c->out->_IO_read_ptr == c->out->_IO_read_end && poll(&pfd, 1, 0) == 0)
		goprof_session_poll(s, 50);
	return child_read_line(c, buf, len);
}

int child_wait(struct child *c)
{
	int status;

	if (c->pid <= 0)
		return -1;
	child_close_stdin(c);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	c->pid = 0;
	if (c->out) {
		fclose(c->out);
		c->out = NULL;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void child_kill(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		child_wait(c);
	}
}

bool machine_is_quiet(void)
{
	double load = 0;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = 0;
		fclose(f);
	}
	return load < sysconf(_SC_NPROCESSORS_ONLN);
}

double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void drop_all_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	cr_assert_eq(syscall(SYS_capset, &hdr, data), 0, "capset: %s", strerror(errno));
}

void go_pprof_top(const char *profile, const char *options, const char *const *names, int n,
		  double *flat_pct, double *cum_pct)
{
	char cmd[4096], line[1024];
	FILE *p;

	for (int i = 0; i < n; i++)
		flat_pct[i] = cum_pct[i] = -1;
	snprintf(cmd, sizeof(cmd), "HOME=/tmp /opt/libgoprof/go-1.23/bin/go tool pprof -top -nodecount=1000 "
		 "%s %s 2>/dev/null", options, profile);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p)) {
		double flatp, sum, cump;
		char flat[64], cum[64], name[512];

		/* flat flat% sum% cum cum% name; flat and cum may carry a unit (1.5s, 300ms) */
		if (sscanf(line, " %63s %lf%% %lf%% %63s %lf%% %511s", flat, &flatp, &sum, cum, &cump,
			   name) != 6)
			continue;
		for (int i = 0; i < n; i++)
			if (!strcmp(name, names[i])) {
				flat_pct[i] = flatp;
				cum_pct[i] = cump;
			}
	}
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
}

void child_start_attached(struct child *c, char *const argv[], struct goprof_session *s)
{
	char line[64];

	child_start(c, argv);
	cr_assert(child_read_line(c, line, sizeof(line)) && !strcmp(line, "waiting"),
		  "%s did not start", argv[0]);
	cr_assert_eq(goprof_session_attach_pid(s, c->pid, NULL), 0, "%s", goprof_last_error());
	child_write_line(c, "go");
}

double go_pprof_total(const char *profile, const char *options)
{
	char cmd[4096], line[1024];
	double total = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "HOME=/tmp /opt/libgoprof/go-1.23/bin/go tool pprof -top -nodecount=1 "
		 "%s %s 2>/dev/null", options, profile);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p)) {
		char *of = strstr(line, "% of ");

		if (strstr(line, "Showing nodes accounting for") && of)
			total = strtod(of + 5, NULL);
	}
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert_geq(total, 0, "no total in the output of %s", cmd);
	return total;
}
