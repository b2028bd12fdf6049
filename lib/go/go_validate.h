/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Checks a candidate runtime layout (g.goid, g.m, m.curg, g.labels) against a live Go
 * process before the BPF programs trust it: the release in the build info may be newer
 * than any we know (we then try the newest known layout), or may simply be wrong (a
 * patched or mislabelled binary). Reads the goroutine list from outside
 * (process_vm_readv), never stops the process.
 */
#ifndef GOPROF_GO_VALIDATE_H
#define GOPROF_GO_VALIDATE_H

#include "goprof_bpf.h"
#include "internal.h"

struct goprof_binary;

struct gp_validate_stats {
	uint32_t allglen;      /* goroutines the runtime lists (dead ones included) */
	uint32_t checked;      /* live goroutines checked */
	uint32_t on_thread;    /* of those, on a thread (g.m set) with m.curg == g */
	uint32_t attempts;     /* reads of the goroutine list (2 when the first failed) */
	uint64_t elapsed_ns;   /* wall time of the whole validation */
};

/*
 * Validates layout t against process pid running executable bin (opened from
 * /proc/PID/exe). need_thread_evidence: also require at least one goroutine seen on a
 * thread with m.curg pointing back to it (for a layout taken from another release: the
 * m offsets are then unproven otherwise).
 * Returns 0 when the layout fits; -GOPROF_ERRNO_GO_VERSION when it does not (why says
 * what failed, with counts); -EAGAIN when the process shows too little to decide (a
 * runtime that has not started yet); another negative errno when the process cannot be
 * read (why says so). why gets a short sentence in every case but success.
 */
GOPROF_HIDDEN int gp_go_validate(int pid, struct goprof_binary *bin, const struct gp_target *t,
				 bool need_thread_evidence, struct gp_validate_stats *stats,
				 char *why, size_t why_len);

/* Where a Go binary keeps its goroutine list (link-time addresses; 0: not found). */
struct gp_allg_addrs {
	uint64_t allgs;   /* runtime.allgs: a []*g (ptr, len, cap) */
	uint64_t allglen; /* runtime.allglen and allgptr: what forEachGRace reads (in either
			     order when decoded from code: told apart by their values) */
	uint64_t allgptr;
	const char *how;  /* "symbols" or the functions disassembled */
};

/*
 * Finds runtime.allgs / allglen / allgptr: from .symtab, else from the addresses the code
 * of runtime.forEachG and runtime.forEachGRace forms (go_data_refs.h), located through
 * the pclntab (stripped binaries). Returns 0 or -ENOENT. The addresses are unchecked: read
 * them only as untrusted data and validate what they hold.
 */
GOPROF_HIDDEN int gp_go_find_allgs(struct goprof_binary *bin, struct gp_allg_addrs *a);
/* The same from the code only, symbols or not (tests compare both). */
GOPROF_HIDDEN int gp_go_find_allgs_from_code(struct goprof_binary *bin, struct gp_allg_addrs *a);

/* Load bias of executable bin in process pid (0 for ET_EXEC); 0, -ESRCH or -ENOENT. */
GOPROF_HIDDEN int gp_go_load_bias(int pid, struct goprof_binary *bin, uint64_t *bias);

#endif
