/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The capabilities a session runs (capability.h), and the session's life cycle handed to
 * each of them in registry order. A struct gp_cap_set is the first member of struct
 * goprof_session: gp_session_cap() finds it there.
 */
#ifndef GOPROF_CAP_SET_H
#define GOPROF_CAP_SET_H

#include "core/capability.h"

struct gp_cap_slot {
	const struct gp_cap_ops *ops;
	void *state;
};

/* Record types (GP_REC_*) are below this. */
#define GP_REC_TYPES 64

struct gp_cap_set {
	struct gp_cap_slot slot[GP_MAX_CAPS];
	size_t n;
	/* The record dispatch table: slot + 1 of each record type's taker, 0: the session's. */
	uint8_t taker[GP_REC_TYPES];
	const struct gp_host *host; /* set by gp_caps_create() */
};

/* Each capability's options, whether or not it runs; 0 or the first error. */
GOPROF_HIDDEN int gp_caps_validate(const struct goprof_session_opts *opts, uint32_t features);
/* Creates the capabilities the host's features turn on; 0 or the first error. */
GOPROF_HIDDEN int gp_caps_create(struct gp_cap_set *set, const struct gp_host *h);
GOPROF_HIDDEN void gp_caps_destroy(struct gp_cap_set *set);
/* Starts them in order; on an error, stops those started and returns it. */
GOPROF_HIDDEN int gp_caps_start(struct gp_cap_set *set);
GOPROF_HIDDEN void gp_caps_stop(struct gp_cap_set *set);
/* Their periodic work; 0 or the first negative return. */
GOPROF_HIDDEN int gp_caps_tick(struct gp_cap_set *set, uint64_t now_ns);
/* The capability that takes records of this type, NULL: the session's own. */
GOPROF_HIDDEN const struct gp_cap_slot *gp_caps_record_taker(const struct gp_cap_set *set,
							     uint32_t type);
/* Hands a CPU sample to each capability that looks at them; the first negative return. */
GOPROF_HIDDEN int gp_caps_sample(struct gp_cap_set *set, const struct gp_sample_event *ev);
GOPROF_HIDDEN void gp_caps_process_added(struct gp_cap_set *set, const struct gp_process_view *p);
GOPROF_HIDDEN void gp_caps_process_gone(struct gp_cap_set *set, uint32_t pid,
					enum gp_process_change why);
GOPROF_HIDDEN void gp_caps_fill_stats(struct gp_cap_set *set, struct goprof_session_stats *st,
				      const uint64_t *lost);

#endif /* GOPROF_CAP_SET_H */
