// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Entry points run with privileges taken away. Each test changes only its own process
 * (Criterion runs every test in a child). Session creation and start without
 * capabilities are covered in tests/test_session.c; here: the exact minimum the header
 * documents, the entry points that need more than BPF (other users' processes, kernel
 * symbols, unreadable files), an agent that drops privileges after setup, and a kernel
 * without BTF.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <goprof/goprof.h>

#include "hard_util.h"
#include "test_common.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define NOBODY 65534

/* Keeps exactly the capabilities in the list (effective and permitted), drops the rest. */
static void keep_only_capabilities(const int *caps, int n)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	for (int i = 0; i < n; i++) {
		data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	cr_assert_eq(syscall(SYS_capset, &hdr, data), 0, "capset: %s", strerror(errno));
}

/* Becomes user nobody: no capabilities, and no access to root's processes and files. */
static void become_nobody(void)
{
	cr_assert_eq(setgroups(0, NULL), 0);
	cr_assert_eq(setresgid(NOBODY, NOBODY, NOBODY), 0, "%s", strerror(errno));
	cr_assert_eq(setresuid(NOBODY, NOBODY, NOBODY), 0, "%s", strerror(errno));
}

/*
 * Runs fn(arg) as user nobody in a child process, so that this test process keeps root to
 * clean up; fn returns an error code. Returns that code; msg gets goprof_last_error().
 */
static int as_nobody(int (*fn)(void *), void *arg, char *msg, size_t len)
{
	int pipefd[2], status, code = 0;
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(pipefd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		become_nobody();
		code = fn(arg);
		dprintf(pipefd[1], "%d %s", code, goprof_last_error());
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, len - 1);
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(n > 0 && WIFEXITED(status), "the child reported nothing (status 0x%x)", status);
	msg[n] = '\0';
	sscanf(msg, "%d", &code);
	memmove(msg, strchr(msg, ' ') + 1, strlen(strchr(msg, ' ')));
	return code;
}

static int count_frames(const struct goprof_frame *f, void *ctx)
{
	(void)f;
	++*(int *)ctx;
	return 0;
}

/* A root-owned process that outlives the privilege drop (killed at the test's end). */
static pid_t root_sleeper(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	return pid;
}

Test(privileges, documented_minimum_caps_suffice, .timeout = 60)
{
	static const int caps[] = { CAP_BPF, CAP_PERFMON };
	struct goprof_session *s;

	require_bpf_privileges();
	keep_only_capabilities(caps, 2);
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "CAP_BPF + CAP_PERFMON (as documented) are not enough: %s",
			   goprof_last_error());
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	cr_assert_geq(goprof_session_poll(s, 10), 0, "%s", goprof_last_error());
	goprof_session_free(s);
}

Test(privileges, missing_one_cap_names_it, .timeout = 30)
{
	static const int only_bpf[] = { CAP_BPF }, only_perfmon[] = { CAP_PERFMON };
	pid_t pid;
	int status;

	require_bpf_privileges();
	/* Two independent drops: do the second in a child of this test process. */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		keep_only_capabilities(only_perfmon, 1);
		_exit(goprof_session_new(NULL) == NULL && errno == EPERM &&
		      strstr(goprof_last_error(), "missing: CAP_BPF)") ? 0 : 1);
	}
	keep_only_capabilities(only_bpf, 1);
	cr_assert_null(goprof_session_new(NULL));
	cr_assert_eq(errno, EPERM);
	cr_assert(strstr(goprof_last_error(), "missing: CAP_PERFMON)"), "%s", goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "setcap"), "no remedy given: %s", goprof_last_error());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "with CAP_PERFMON only, the error did not name CAP_BPF");
}

/* An agent that sets up as root and then drops every privilege keeps working. */
Test(privileges, session_keeps_working_after_setup_and_drop, .timeout = 60)
{
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_session *s;
	struct goprof_profile *p;

	require_bpf_privileges();
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_start(s), 0, "%s", goprof_last_error());
	drop_all_capabilities();
	/* The maps are reached through descriptors opened before the drop. */
	cr_assert_eq(goprof_session_attach_pid(s, getpid(), NULL), 0, "%s", goprof_last_error());
	cr_assert_geq(goprof_session_poll(s, 50), 0, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_stats(s, &st), 0, "%s", goprof_last_error());
	cr_assert_eq(st.attached_pids, 1);
	p = goprof_session_snapshot_cpu(s, 0);
	cr_assert_not_null(p, "%s", goprof_last_error());
	goprof_profile_free(p);
	cr_assert_eq(goprof_session_detach_pid(s, getpid()), 0, "%s", goprof_last_error());
	/* Restarting needs perf events again: refused with the privilege named. */
	cr_assert_eq(goprof_session_stop(s), 0);
	cr_assert_eq(goprof_session_start(s), -EPERM, "%s", goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "CAP_PERFMON"), "%s", goprof_last_error());
	goprof_session_free(s);
}

static int symbolize_victim(void *arg)
{
	struct goprof_symbolizer *sym = goprof_symbolizer_new(NULL);
	uint64_t addr = 0x401000;
	int frames = 0, err;

	if (!sym)
		return -errno;
	err = goprof_symbolizer_symbolize_pid(sym, *(pid_t *)arg, &addr, 1, count_frames, &frames);
	goprof_symbolizer_free(sym);
	return err;
}

/* Reading another user's process: the maps are unreadable, reported as -EACCES. */
Test(privileges, symbolize_other_users_process_is_eacces, .timeout = 30)
{
	pid_t victim = root_sleeper();
	char msg[512];
	int err = as_nobody(symbolize_victim, &victim, msg, sizeof(msg));

	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	cr_assert_eq(err, -EACCES, "got %d: %s", err, msg);
	cr_assert(strstr(msg, "maps"), "message does not say what: %s", msg);
}

static int find_process_info(const struct goprof_process_info *info, void *ctx)
{
	struct goprof_process_info *want = ctx;

	if (info->pid == want->pid)
		*want = *info;
	return 0;
}

/*
 * Issue 15: with only CAP_BPF + CAP_PERFMON, another user's process cannot be inspected
 * (its /proc/PID/exe, maps and memory need CAP_SYS_PTRACE or the same user). The session
 * must say so for that process (GOPROF_PROCESS_NO_ACCESS, a note naming what is missing
 * and what is lost) and count it, not report it as "not Go".
 */
Test(privileges, other_users_process_says_what_is_lost, .timeout = 60)
{
	static const int caps[] = { CAP_BPF, CAP_PERFMON };
	struct goprof_session_stats st = { .sz = sizeof(st) };
	struct goprof_process_info info = { 0 };
	struct goprof_session *s;
	int gate[2];
	char c;
	pid_t other;

	require_bpf_privileges();
	/* Without CAP_KILL we cannot signal nobody's process: it exits when the pipe closes. */
	cr_assert_eq(pipe(gate), 0);
	other = fork();
	cr_assert_geq(other, 0);
	if (other == 0) {
		close(gate[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(1);
		_exit(read(gate[0], &c, 1) == 0 ? 0 : 2);
	}
	close(gate[0]);
	usleep(100 * 1000); /* let it drop to nobody */
	keep_only_capabilities(caps, 2);
	s = goprof_session_new(NULL);
	cr_assert_not_null(s, "%s", goprof_last_error());
	cr_assert_eq(goprof_session_attach_pid(s, other, NULL), 0, "%s", goprof_last_error());
	info.pid = (uint32_t)other;
	cr_assert_eq(goprof_session_foreach_process(s, find_process_info, &info), 0);
	close(gate[1]);
	waitpid(other, NULL, 0);
	cr_assert(info.flags & GOPROF_PROCESS_NO_ACCESS, "flags 0x%x, note '%s'", info.flags,
		  info.note);
	cr_assert(strstr(info.note, "uid 65534") && strstr(info.note, "CAP_SYS_PTRACE") &&
		  strstr(info.note, "goroutines"), "the note does not say what: '%s'", info.note);
	cr_assert_eq(goprof_session_stats(s, &st), 0);
	cr_assert_eq(st.processes_unreadable, 1);
	goprof_session_free(s);
}

/* Whether the kernel shows kallsyms addresses to a process without CAP_SYSLOG. */
static bool kallsyms_visible_without_caps(void)
{
	FILE *f;
	long kptr = 2, paranoid = 2;

	if ((f = fopen("/proc/sys/kernel/kptr_restrict", "r"))) {
		cr_assert_eq(fscanf(f, "%ld", &kptr), 1);
		fclose(f);
	}
	if ((f = fopen("/proc/sys/kernel/perf_event_paranoid", "r"))) {
		cr_assert_eq(fscanf(f, "%ld", &paranoid), 1);
		fclose(f);
	}
	/* kernel/kallsyms.c kallsyms_show_value(): kptr_restrict 0 and paranoid <= 1. */
	return kptr == 0 && paranoid <= 1;
}

/*
 * Kernel symbols without CAP_SYSLOG: /proc/kallsyms then shows zero addresses (unless
 * the kernel's settings expose them to everyone, in which case lookups must work).
 */
Test(privileges, kernel_symbols_without_syslog_cap, .timeout = 30)
{
	struct goprof_symbolizer *sym;
	uint64_t addr;
	int frames = 0, err;
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];

	/* A kernel text address, read while we still may. */
	cr_assert(f);
	addr = 0;
	while (!addr && fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type;

		if (sscanf(line, "%llx %c", &a, &type) == 2 && (type == 'T' || type == 't'))
			addr = a;
	}
	fclose(f);
	require_bpf_privileges(); /* root: the address above is real */
	cr_assert_neq(addr, 0, "no kernel text address in /proc/kallsyms as root");
	drop_all_capabilities();
	sym = goprof_symbolizer_new(NULL);
	cr_assert_not_null(sym);
	err = goprof_symbolizer_symbolize_kernel(sym, &addr, 1, count_frames, &frames);
	if (kallsyms_visible_without_caps()) {
		cr_assert_eq(err, 0, "%s", goprof_last_error());
		cr_assert_eq(frames, 1);
	} else {
		cr_assert_eq(err, -EACCES, "got %d: %s", err, goprof_last_error());
		cr_assert(strstr(goprof_last_error(), "CAP_SYSLOG"), "%s", goprof_last_error());
		cr_assert_eq(frames, 0);
	}
	goprof_symbolizer_free(sym);
}

static int open_binary(void *path)
{
	struct goprof_binary *bin = goprof_binary_open(path, NULL);

	goprof_binary_free(bin);
	return bin ? 0 : -errno;
}

/* Files the caller may not read: goprof_binary_open says so, naming the file. */
Test(privileges, unreadable_executable_is_eacces, .timeout = 30)
{
	char dir[] = "/tmp/goprof-priv-XXXXXX", path[64], msg[512];
	int fd, err;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/prog", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0700);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\x7f" "ELF", 4), 4);
	close(fd);
	err = as_nobody(open_binary, path, msg, sizeof(msg));
	unlink(path);
	rmdir(dir);
	cr_assert_eq(err, -EACCES, "got %d: %s", err, msg);
	cr_assert(strstr(msg, path), "message lacks the path: %s", msg);
}

/*
 * A kernel without BTF (CONFIG_DEBUG_INFO_BTF off) has no /sys/kernel/btf/vmlinux. We hide
 * the file in a private mount namespace of this test process - that is exactly what such
 * a kernel looks like to the library - and expect a clear error at creation, not a
 * verifier dump.
 */
Test(kernel_features, no_btf_is_a_clear_error, .timeout = 30)
{
	struct goprof_session *s;

	require_bpf_privileges();
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	cr_assert_eq(mount("tmpfs", "/sys/kernel/btf", "tmpfs", MS_RDONLY, NULL), 0,
		     "mount: %s", strerror(errno));
	s = goprof_session_new(NULL);
	cr_assert_null(s, "a session was created without kernel BTF");
	cr_assert_eq(errno, GOPROF_ERRNO_KERNEL, "errno %d: %s", errno, goprof_last_error());
	cr_assert(strstr(goprof_last_error(), "CONFIG_DEBUG_INFO_BTF"), "%s", goprof_last_error());
}
