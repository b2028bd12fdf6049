// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Loading a capability's BPF object into the session (see bpf_load.h). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "core/bpf_load.h"
#include "goprof/error.h"

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
