// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hard_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HARD_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARD_LSAN 1
#endif
#endif

#ifdef HARD_LSAN
#include <sanitizer/lsan_interface.h>
#endif

bool hard_have_lsan(void)
{
#ifdef HARD_LSAN
	return true;
#else
	return false;
#endif
}

void hard_assert_no_leaks(const char *when)
{
#ifdef HARD_LSAN
	const char *opts = getenv("ASAN_OPTIONS");

	/* With detect_leaks=0 the check below would pass without looking: refuse that. */
	cr_assert(opts && strstr(opts, "detect_leaks=1"),
		  "ASan build without ASAN_OPTIONS=detect_leaks=1: the leak check would not run");
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
		     "LeakSanitizer found leaks %s (report on stderr)", when);
#else
	(void)when;
#endif
}

size_t hard_heap_in_use(void)
{
	const char *tunables = getenv("GLIBC_TUNABLES");

	if (hard_have_lsan())
		return 0;
	cr_assert(tunables && strstr(tunables, "glibc.malloc.tcache_count=0"),
		  "set GLIBC_TUNABLES=glibc.malloc.tcache_count=0: glibc's tcache hides frees");
	return mallinfo2().uordblks;
}

long hard_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	cr_assert(f, "/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	cr_assert_gt(kib, 0, "no VmRSS in /proc/self/status");
	return kib;
}

int hard_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	cr_assert(d, "/proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

const char *hard_fixture(const char *name)
{
	static __thread char path[4096];
	const char *dir = getenv("GOPROF_HARD_FIXTURES");

	cr_assert(dir, "GOPROF_HARD_FIXTURES is not set: run the tests through meson test");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert(access(path, X_OK) == 0, "fixture %s missing: %s", path, strerror(errno));
	return path;
}
