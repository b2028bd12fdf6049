// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof_session_attach_exe(): an executable attached by path. The kernel matches every
 * exec against its device and inode (bpf/cpu_sample.bpf.c), so its processes are
 * followed from their first instruction; the ones already running are attached by PID.
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/session.h"
#include "cpu_sample.skel.h"
#include "go/go_arch.h"
#include "goprof/error.h"
#include "sym/symbolizer_internal.h"

/* The executable opened for symbolization without its process, if its addresses are
 * link-time addresses (ET_EXEC, Go's default on amd64), else NULL. */
static struct goprof_binary *link_time_binary(const char *path)
{
	char saved[256];
	struct goprof_binary *bin;

	gp_strlcpy(saved, goprof_last_error(), sizeof(saved));
	bin = goprof_binary_open(path, NULL);
	if (bin && bin->elf.type != ET_EXEC) {
		goprof_binary_free(bin);
		bin = NULL;
	}
	gp_err(0, "%s", saved);
	return bin;
}

/* Attaches the processes already running the executable (dev, ino). */
static void attach_running(struct goprof_session *s, dev_t dev, ino_t ino)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char exe[64];
		struct stat st;
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
		if (stat(exe, &st) || st.st_dev != dev || st.st_ino != ino)
			continue;
		if (goprof_session_attach_pid(s, pid, NULL) == 0)
			gp_procs_find(s, (uint32_t)pid)->info.flags |= GOPROF_PROCESS_BY_EXE;
	}
	closedir(proc);
	gp_clear_error(); /* races with exiting processes are expected */
}

/*
 * The kernel runs an executable's processes under its own inode only for ELF files: a
 * script's processes run its interpreter, so attaching the script would profile nothing.
 * And only for the architecture this library profiles (an arm64 binary handed to an x86-64
 * session runs at most under an emulator, whose process is the emulator's).
 */
static int check_elf(const char *path)
{
	unsigned char magic[20] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0) {
		err = -errno;
		return gp_err(err, "attach: cannot open executable %s: %s", path, strerror(-err));
	}
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n >= 2 && magic[0] == '#' && magic[1] == '!')
		return gp_err(-ENOEXEC, "attach: %s is a script (#!): its processes run its "
			      "interpreter; attach the interpreter's executable or the processes "
			      "by PID", path);
	if (n < 4 || memcmp(magic, "\x7f" "ELF", 4))
		return gp_err(-ENOEXEC, "attach: %s is not an ELF executable", path);
	return gp_check_machine("attach", path, magic, n < 0 ? 0 : (size_t)n);
}

/* Into the kernel's executable table; 0 or an error. */
static int add_exe_target(struct goprof_session *s, const char *path,
			  const struct gp_exe_key *key, const struct gp_target *t)
{
	int err;

	if (!bpf_map__update_elem(s->skel->maps.exe_targets, key, sizeof(*key), t, sizeof(*t),
				  BPF_NOEXIST))
		return 0;
	err = -errno;
	if (err == -EEXIST)
		return gp_err(err, "attach: executable %s is already attached", path);
	if (err == -E2BIG || err == -ENOSPC)
		return gp_err(-ENOSPC, "attach: %d executables are attached, the maximum",
			      GP_MAX_EXE_TARGETS);
	return gp_err(err, "attach: updating the executable map failed: %s", strerror(-err));
}

GOPROF_API int goprof_session_attach_exe(struct goprof_session *s, const char *path,
					 const struct goprof_attach_opts *opts)
{
	struct goprof_process_info info = { .sz = sizeof(info) };
	struct gp_exe_key key = { 0 };
	struct gp_target t;
	struct stat st;
	int err;

	gp_clear_error();
	if (!s || !path)
		return gp_err(-EINVAL, "goprof_session_attach_exe: NULL argument");
	err = OPTS_VALID(opts, goprof_attach_opts, sz);
	if (err)
		return err;
	if (stat(path, &st))
		return gp_err(-errno, "attach: cannot stat executable %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gp_err(-EINVAL, "attach: %s is not a regular file", path);
	err = check_elf(path);
	if (err)
		return err;
	key.dev = gp_kernel_dev(st.st_dev);
	key.ino = st.st_ino;
	gp_target_inspect(path, 0, &t, &info);
	gp_runtime_probes_attach(s, path, 0, &t, &info); /* every process that runs it */
	err = add_exe_target(s, path, &key, &t);
	if (err)
		return err;
	if (gp_grow((void **)&s->exes, &s->nr_exes_cap, s->nr_exes + 1, sizeof(*s->exes))) {
		bpf_map__delete_elem(s->skel->maps.exe_targets, &key, sizeof(key), 0);
		return gp_err(-ENOMEM, "attach: out of memory");
	}
	s->exes[s->nr_exes++] = (struct attached_exe){ key.dev, key.ino, link_time_binary(path),
						       st.st_dev, t, info };
	attach_running(s, st.st_dev, st.st_ino);
	return 0;
}
