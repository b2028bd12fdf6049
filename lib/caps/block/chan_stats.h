/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Channel statistics: the kernel's per-channel records (lib/caps/block/go_block.bpf.h) turned into
 * struct goprof_channel_stats, with the first use's stack symbolized. A process's records
 * are taken out of the kernel map when it exits (symbolized while its mappings are still
 * known) and kept here, so the map's room goes to live processes and nothing measured is
 * lost.
 */
#ifndef GOPROF_CHAN_STATS_H
#define GOPROF_CHAN_STATS_H

#include "goprof/session.h"
#include "internal.h"

struct gp_go_probes;
struct gp_chan_table;

GOPROF_HIDDEN struct gp_chan_table *gp_chan_table_new(struct goprof_symbolizer *sym,
						      struct gp_go_probes *gp);
GOPROF_HIDDEN void gp_chan_table_free(struct gp_chan_table *t);

/* Process pid exited: moves its records out of the kernel. Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_chan_table_harvest_pid(struct gp_chan_table *t, uint32_t pid);

/* Calls fn for every channel: live processes' from the kernel, then exited ones. */
GOPROF_HIDDEN int gp_chan_table_foreach(struct gp_chan_table *t, goprof_channel_fn fn, void *ctx);

#endif
