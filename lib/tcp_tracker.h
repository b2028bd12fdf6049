/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * TCP connection lifecycle (GOPROF_FEATURE_TCP): loads bpf/tcp.bpf.c, sharing the CPU
 * sampler's target map, ring buffer and loss counters, turns its records into
 * GOPROF_EVENT_TCP_* events and sums them per (process, peer).
 */
#ifndef GOPROF_TCP_TRACKER_H
#define GOPROF_TCP_TRACKER_H

#include "goprof/session.h"
#include "goprof_bpf.h"
#include "internal.h"

struct bpf_map;
struct gp_tcp_tracker;

/*
 * Checks that the kernel has the hooks (a GOPROF_ERRNO_KERNEL error naming the missing
 * one otherwise), loads and attaches the programs. NULL with errno and a message on error.
 */
struct gp_shared_maps;
GOPROF_HIDDEN struct gp_tcp_tracker *gp_tcp_tracker_new(const struct gp_shared_maps *shared);
GOPROF_HIDDEN void gp_tcp_tracker_free(struct gp_tcp_tracker *t);

/*
 * Takes one GP_REC_TCP_* record: adds it to its peer and hands the event to fn (if not
 * NULL). Returns fn's result, or 0.
 */
GOPROF_HIDDEN int gp_tcp_tracker_record(struct gp_tcp_tracker *t, const struct gp_tcp_event *rec,
					goprof_event_fn fn, void *ctx);

/* Fills the TCP counters of *st except lost_tcp_events (the session's loss map has it). */
GOPROF_HIDDEN void gp_tcp_tracker_stats(struct gp_tcp_tracker *t, struct goprof_session_stats *st);

/* Peers dropped because the peer table could not grow (out of memory). */
GOPROF_HIDDEN uint64_t gp_tcp_tracker_lost_peers(const struct gp_tcp_tracker *t);

GOPROF_HIDDEN int gp_tcp_tracker_foreach_peer(struct gp_tcp_tracker *t, goprof_tcp_peer_fn fn,
					      void *ctx);

#endif
