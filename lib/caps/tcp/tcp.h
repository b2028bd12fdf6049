/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * TCP connection lifecycle (GOPROF_FEATURE_TCP): loads lib/caps/tcp/tcp.bpf.c with the session's
 * shared maps, turns its records into GOPROF_EVENT_TCP_* events and sums them per
 * (process, peer) for goprof_session_foreach_tcp_peer().
 */
#ifndef GOPROF_CAPS_TCP_H
#define GOPROF_CAPS_TCP_H

#include "core/capability.h"

GOPROF_HIDDEN extern const struct gp_cap_ops gp_cap_tcp;

#endif
