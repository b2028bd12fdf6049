/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* A child process with pipes to its stdin and from its stdout, for the benchmarks. */
#ifndef GOPROF_BENCH_CHILD_H
#define GOPROF_BENCH_CHILD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

struct bench_child {
	pid_t pid;
	FILE *out; /* its stdout */
	int in;    /* its stdin */
};

/* Starts argv (searched in PATH when it has no '/'); quiet: its stderr goes to the pipe
 * of its stdout too. 0, or -1. */
static inline int bench_spawn(struct bench_child *c, char *const argv[], bool quiet)
{
	int to[2], from[2];

	if (pipe(to) || pipe(from))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (quiet)
			dup2(from[1], 2);
		close(to[1]);
		close(from[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = fdopen(from[0], "r");
	return c->out ? 0 : -1;
}

#endif
