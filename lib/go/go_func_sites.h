/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Where to put uprobes on a Go function: its entry and every RET instruction, as file
 * offsets of the executable. Return probes on Go code are emulated with uprobes on the
 * RETs (a uretprobe rewrites the return address, which Go's stack copying and traceback
 * cannot survive); the RETs are found by disassembling the function (Capstone) within
 * the bounds the pclntab gives. The decoder is the binary's (x86-64 or arm64), whatever
 * the host.
 */
#ifndef GOPROF_GO_FUNC_SITES_H
#define GOPROF_GO_FUNC_SITES_H

#include "internal.h"

struct goprof_binary;

#define GP_MAX_RET_SITES 32

struct gp_func_sites {
	uint64_t entry_vaddr, end_vaddr;
	uint64_t entry_offset;                  /* file offset of the entry */
	/*
	 * Where an entry probe goes: right after the prologue's stack check
	 * (CMP SP, g.stackguard0; JBE morestack on x86-64; MOVD 16(g), R16; CMP; BLS on
	 * arm64) when there is one, else the entry. A probe on the entry itself fires twice
	 * when the stack must grow first (morestack runs, then the function starts over);
	 * after the check the frame is still not set up, so the caller's return address is
	 * still at the stack pointer (in the link register on arm64).
	 */
	uint64_t probe_offset;
	uint64_t ret_offsets[GP_MAX_RET_SITES]; /* file offsets of each RET */
	uint32_t nr_rets;
};

/*
 * Finds function @name (Go's full name, e.g. "runtime.newproc1") in a Go binary and,
 * with want_rets, its RET instructions. Returns 0, -ENOENT (not in the binary, e.g.
 * inlined away or renamed in this release: the message says which), -E2BIG (more RETs
 * than GP_MAX_RET_SITES), GOPROF_ERRNO_CORRUPT (bytes not in the file), -ENOTSUP (an
 * architecture without a decoder), or -EINVAL (the disassembler failed).
 */
GOPROF_HIDDEN int gp_go_func_sites(struct goprof_binary *bin, const char *name, bool want_rets,
				   struct gp_func_sites *out);

#endif
