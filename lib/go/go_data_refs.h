/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The data addresses a Go function's code forms, read from its instructions: how the
 * runtime's variables are found in stripped binaries (rt_locate.c, go_validate.c).
 * x86-64: RIP-relative memory operands. arm64: the addresses ADRP and ADD put in
 * registers (Go's MOVD $sym(SB), R) and the loads and stores through them (MOVD sym(SB), R
 * is an ADRP and a load), followed until the register is written again.
 */
#ifndef GOPROF_GO_DATA_REFS_H
#define GOPROF_GO_DATA_REFS_H

#include "internal.h"

struct goprof_binary;

/*
 * Fills out[0..max) with the addresses function fn (Go's full name) forms, in code
 * order, repeats kept. Returns how many; 0 when fn is not found, is longer than
 * max_bytes or lies outside the file, or the binary's architecture has no decoder.
 */
GOPROF_HIDDEN size_t gp_go_data_refs(struct goprof_binary *bin, const char *fn, size_t max_bytes,
				     uint64_t *out, size_t max);

#endif
