/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Helpers shared by the Criterion suites: privileges, Go fixtures, child processes. */
#ifndef GOPROF_TEST_COMMON_H
#define GOPROF_TEST_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * Skips the test when the process cannot use BPF and perf events - except in CI
 * (CI=true), where a privileged test must run, so it fails instead.
 */
void require_bpf_privileges(void);

/* Path of a built fixture: $GOPROF_FIXTURES/NAME-goVERSION. Fails the test if absent. */
const char *fixture_path(const char *name, const char *go_version);

/*
 * The Go versions the long suites run on ($GOPROF_GO_VERSIONS: the oldest and the newest
 * toolchain), NULL-terminated.
 */
const char *const *fixture_go_versions(void);
/* Every installed toolchain ($GOPROF_GO_VERSIONS_ALL), for the per-release checks. */
const char *const *fixture_all_go_versions(void);

/* A child process with its standard output readable line by line. */
struct child {
	pid_t pid;
	FILE *out;
	int gate; /* write end of the pipe a held child waits on, or -1 */
	int in;   /* write end of the child's standard input, -1 once closed */
};

/* Writes a line to the child's standard input (fails the test on error). */
void child_write_line(struct child *c, const char *line);
/* Closes the child's standard input (it sees EOF). */
void child_close_stdin(struct child *c);

/* Starts argv[0] with stdout piped back; fails the test on error. */
void child_start(struct child *c, char *const argv[]);
/*
 * Like child_start(), but the child waits before its exec until child_release(): lets a
 * test attach to the PID while it still runs the test's own (non-Go) image.
 */
void child_start_held(struct child *c, char *const argv[]);
void child_release(struct child *c);
/* Reads one line of the child's output into buf (newline removed); false at EOF. */
bool child_read_line(struct child *c, char *buf, size_t len);
struct goprof_session;
/*
 * Like child_read_line(), but keeps draining the session's ring buffer (every 50 ms)
 * while it waits, as a host's event loop would.
 */
bool child_read_line_polling(struct child *c, char *buf, size_t len, struct goprof_session *s);
/*
 * Starts a fixture that prints "waiting" and then waits for a line on stdin: attaches
 * session s to it and tells it to go. Fails the test on error.
 */
void child_start_attached(struct child *c, char *const argv[], struct goprof_session *s);
/* Waits for the child; returns its exit status, or -1 if killed by a signal. */
int child_wait(struct child *c);
/* Kills (SIGKILL) and reaps the child if it still runs. */
void child_kill(struct child *c);

/* True when the 1-minute load average is below the number of CPUs: timing comparisons
 * that oversubscription distorts are made only then. */
bool machine_is_quiet(void);

/* A fixture build for parameterized tests: index in fixture_go_versions(), stripped or not. */
struct fixture_variant {
	int version_index;
	int stripped;
};
/* Fills v with every Go version, plain and stripped (at most max); returns the count. */
size_t fixture_variants(struct fixture_variant *v, size_t max);

/* Seconds on CLOCK_MONOTONIC. */
double mono_seconds(void);

/*
 * Runs Go 1.23's `go tool pprof -top -nodecount=1000 OPTIONS PROFILE` and gives, for each
 * of names[0..n), its flat and cum percentages (-1 when the function is not listed).
 * Fails the test if pprof fails.
 */
void go_pprof_top(const char *profile, const char *options, const char *const *names, int n,
		  double *flat_pct, double *cum_pct);

/* The total of `go tool pprof -top OPTIONS PROFILE` ("... of TOTAL total"), as a number
 * in the unit OPTIONS ask for (e.g. -unit=ns). Fails the test if absent. */
double go_pprof_total(const char *profile, const char *options);

/* Drops every capability of this process (effective, permitted, inheritable, ambient). */
void drop_all_capabilities(void);

#endif
