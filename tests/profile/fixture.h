/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Profiles built through the internal model API the way the session builds them, with
 * realistic content: a Go server binary, libc and the kernel as mappings, inline frames,
 * kernel stacks, cgo, pprof and goroutine labels. Shared by the profile suites.
 */
#ifndef GOPROF_TEST_PROFILE_FIXTURE_H
#define GOPROF_TEST_PROFILE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/error.h"
#include "profile/profile_internal.h"

#define FX_PERIOD 10101010 /* 1e9 / 99 Hz */
#define FX_TIME_NANOS 1764108000000000000LL
#define FX_DURATION_NANOS 5000000000LL
#define FX_TOTAL_SAMPLES 85 /* sum of the sample counts below */

/*
 * The CPU profile of fixture.c: samples/count + cpu/nanoseconds, period 1e9/99, comm
 * "server". Stacks (root first) and counts:
 *   goexit > main.worker > main.compute > main.hash (inlined)   35 {route=/api/users, goroutine=7}
 *                                                              10 {route=/health, goroutine=9}
 *   goexit > main.readLoop > syscall.Syscall > entry_SYSCALL_64 > do_syscall_64
 *          > copy_user_generic_string (kernel)                   20
 *   goexit > main.cgoWork > runtime.cgocall > operator<<(...) > memcpy (native)   15
 *   goexit > main.cgoWork > weird;name (native)                   5
 * The first stack is added twice (30 + 5) with its labels in different orders.
 */
struct goprof_profile *fx_cpu_profile(void);

/* Adds a location; aborts the test on error. Lines are innermost first. */
uint32_t fx_location(struct goprof_profile *p, uint32_t mapping, uint64_t addr, uint32_t kind,
		     const struct gp_line_in *lines, uint32_t nr_lines);

/* Adds a CPU sample of count samples; aborts the test on error. */
void fx_sample(struct goprof_profile *p, const char *comm, const uint32_t *locs, uint32_t nr,
	       int64_t count, const struct gp_label_in *labels, uint32_t nr_labels);

/* A fresh CPU profile with no samples. */
struct goprof_profile *fx_empty_cpu_profile(void);

/* Output collected from goprof_profile_write(). */
struct fx_buf {
	char *data;
	size_t len, cap;
	unsigned calls;
};
int fx_buf_write(const void *data, size_t len, void *ctx);
void fx_buf_free(struct fx_buf *b);

/* Writes the profile in the format to a new temporary file; returns its path (free it). */
char *fx_write_tmp(const struct goprof_profile *p, uint32_t format, const char *suffix);

/* Runs a shell command; returns its combined stdout+stderr (free it) and exit status. */
char *fx_run(const char *cmd, int *status);

/* Skips the test because a tool is missing - except in CI (CI=true), where every check
 * must run, so it fails instead. */
#define fx_require_tool(...)                                                   \
	do {                                                                   \
		const char *ci_ = getenv("CI");                                \
		if (ci_ && !strcmp(ci_, "true"))                               \
			cr_assert_fail(__VA_ARGS__);                           \
		else                                                           \
			cr_skip_test(__VA_ARGS__);                             \
	} while (0)

/* Go toolchains installed here, as "/opt/libgoprof/go-X/bin/go", NULL-terminated. */
const char *const *fx_go_tools(void);

#endif
