// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading a capability's BPF object into the session (see bpf_load.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpf_load.h"
#include "goprof/error.h"

/*
 * libbpf's messages: the last warning is kept per thread so that a load failure can be
 * summarised in goprof_last_error() instead of a verifier dump on stderr. Everything is
 * printed when GOPROF_DEBUG is set in the environment.
 */
static __thread char libbpf_last_warning[256];
static bool libbpf_debug;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_debug)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_last_warning, sizeof(libbpf_last_warning), fmt, ap);
		libbpf_last_warning[strcspn(libbpf_last_warning, "\n")] = '\0';
	}
	return 0;
}

static void libbpf_setup_once(void)
{
	libbpf_debug = getenv("GOPROF_DEBUG") != NULL;
	libbpf_set_print(libbpf_print);
}

void gp_bpf_log_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, libbpf_setup_once);
}

const char *gp_bpf_last_warning(void)
{
	return libbpf_last_warning;
}

void gp_bpf_clear_warning(void)
{
	libbpf_last_warning[0] = '\0';
}

int gp_bpf_share_maps(struct bpf_object *obj, const struct gp_shared_maps *shared)
{
	const struct {
		const char *name;
		struct bpf_map *map;
	} maps[] = {
		{ "targets", shared->targets },
		{ "samples", shared->samples },
		{ "lost", shared->lost },
		{ "http_active", shared->http_active },
	};
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
			int err;

			if (!maps[i].map || strcmp(bpf_map__name(m), maps[i].name))
				continue;
			err = bpf_map__reuse_fd(m, bpf_map__fd(maps[i].map));
			if (err)
				return err;
		}
	return 0;
}

int gp_bpf_load_failed(int err, const char *what)
{
	return gp_err(err == -EPERM ? -EPERM : -GOPROF_ERRNO_VERIFIER,
		      "loading %s failed: %s; set GOPROF_DEBUG=1 for the verifier log", what,
		      strerror(-err));
}
