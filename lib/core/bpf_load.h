/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Loading a capability's BPF object into the session: the maps every object shares with
 * the CPU sampler's (by name), and one way to say that loading failed.
 */
#ifndef GOPROF_BPF_LOAD_H
#define GOPROF_BPF_LOAD_H

#include "internal.h"

struct bpf_map;
struct bpf_object;

/* The session's maps that other BPF objects reuse; NULL: not shared with that object. */
struct gp_shared_maps {
	struct bpf_map *targets;     /* processes followed, with their Go layout */
	struct bpf_map *samples;     /* the ring buffer of records */
	struct bpf_map *lost;        /* loss counters */
	struct bpf_map *http_active; /* requests in flight, read by the CPU sampler */
};

/*
 * Makes obj (opened, not loaded) use the shared maps it declares under the same names.
 * Returns 0 or a negative errno.
 */
GOPROF_HIDDEN int gp_bpf_share_maps(struct bpf_object *obj, const struct gp_shared_maps *shared);

/*
 * The error of a failed load of `what` ("the TCP programs"): -EPERM stays, anything else
 * is the verifier's (-GOPROF_ERRNO_VERIFIER). Records the message and returns the error.
 */
GOPROF_HIDDEN int gp_bpf_load_failed(int err, const char *what);

/* Routes libbpf's messages (once per process): to stderr with GOPROF_DEBUG set, else
 * the last warning of each thread is kept for error messages. */
GOPROF_HIDDEN void gp_bpf_log_setup(void);
GOPROF_HIDDEN const char *gp_bpf_last_warning(void);
GOPROF_HIDDEN void gp_bpf_clear_warning(void);

#endif /* GOPROF_BPF_LOAD_H */
