/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Where runtime.sched, runtime.memstats and runtime.gcController are in a Go executable:
 * from .symtab when it has one; in a stripped binary, from the RIP-relative operands of
 * runtime functions found through the pclntab (casgstatus and the stop/start-the-world
 * pair touch sched, readmemstats_m and gcMarkTermination touch memstats, readmemstats_m
 * takes gcController's address): the base address is the one that puts the most of the release's known
 * field offsets (rt_layout.h) on those operands.
 */
#ifndef GOPROF_RT_LOCATE_H
#define GOPROF_RT_LOCATE_H

#include <sys/types.h>

#include "go/rt_layout.h"

struct goprof_binary;

/* Link-time addresses (add the load bias of a PIE process); 0 when not found. */
struct gp_rt_addrs {
	uint64_t sched, memstats, gc_controller;
	bool from_symbols; /* else decoded from instruction operands */
};

/*
 * Fills a for executable bin and layout lay. Returns 0 when at least memstats or sched
 * was found; -ENOENT when neither (why says what is missing); why also names a part not
 * found on success.
 */
GOPROF_HIDDEN int gp_rt_locate(struct goprof_binary *bin, const struct gp_rt_layout *lay,
			       struct gp_rt_addrs *a, char *why, size_t why_len);

/* The same from the instruction operands only, symbols or not (tests compare both). */
GOPROF_HIDDEN int gp_rt_locate_from_code(struct goprof_binary *bin, const struct gp_rt_layout *lay,
					 struct gp_rt_addrs *a, char *why, size_t why_len);

/* The load bias of process pid's executable bin (0 for ET_EXEC); 0 or -ESRCH/-ENOENT. */
GOPROF_HIDDEN int gp_rt_load_bias(int pid, struct goprof_binary *bin, uint64_t *bias);
/* The same from what the executable's inspection kept (pie: ET_DYN). */
GOPROF_HIDDEN int gp_rt_load_bias_of(int pid, bool pie, dev_t dev, ino_t ino,
				     uint64_t first_load_vaddr, uint64_t *bias);

#endif
