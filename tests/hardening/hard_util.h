/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Helpers of the hardening suites: leak checks, resource figures, their fixtures. */
#ifndef GOPROF_HARD_UTIL_H
#define GOPROF_HARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* True when built with AddressSanitizer (and so LeakSanitizer). */
bool hard_have_lsan(void);
/*
 * Under ASan: fails the test if LeakSanitizer finds unreachable heap blocks now (the
 * report goes to stderr). Without ASan it does nothing: callers add a heap-growth check.
 */
void hard_assert_no_leaks(const char *when);
/* Bytes of heap in use (glibc mallinfo2); 0 under ASan, whose allocator it cannot see. */
size_t hard_heap_in_use(void);
/* Resident set size of this process in KiB (VmRSS). */
long hard_rss_kib(void);
/* Open file descriptors of this process. */
int hard_fd_count(void);
/* Path of a hardening fixture: $GOPROF_HARD_FIXTURES/NAME; fails the test if absent. */
const char *hard_fixture(const char *name);

#endif
