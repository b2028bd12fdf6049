/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Goroutine snapshots, part 1 of 3: the pure decoder. Bytes of a runtime.g (read from a
 * running process: untrusted, possibly torn) -> a goroutine record, and a parked
 * goroutine's stack bytes -> return addresses by frame pointers. No I/O, no allocation:
 * the libFuzzer target tests/fuzz/fuzz_g_decode.c feeds it random bytes. A record that
 * fails any check is rejected, never repaired: a goroutine is reported only when every
 * field read is plausible (the reader counts the rejects).
 */
#ifndef GOPROF_GSNAP_G_DECODE_H
#define GOPROF_GSNAP_G_DECODE_H

#include "internal.h"

/* Offsets in runtime.g (amd64) of the fields a snapshot reads, per release. */
struct gp_g_layout {
	int minor;                         /* Go 1.MINOR */
	uint16_t status, goid, waitsince, waitreason, parent_goid; /* parent_goid 0: none (<1.21) */
	uint16_t gopc, startpc, waiting, labels, sched_bp;
	uint8_t labels_slice;              /* 1.24+: g.labels -> {[]label}; before: -> hmap */
	uint8_t max_status;                /* highest valid status (11 from 1.26, else 9) */
	uint16_t read_len;                 /* bytes of g to read (last field + 8) */
	uint16_t sudog_c;                  /* sudog.c: the channel of a send/receive wait */
};

/* Fixed in every release 1.19-1.27 (hchan: qcount, dataqsiz, closed). */
#define GP_HCHAN_QCOUNT 0
#define GP_HCHAN_DATAQSIZ 8
#define GP_HCHAN_CLOSED 28
#define GP_SUDOG_G 0
#define GP_G_STACK_LO 0
#define GP_G_STACK_HI 8
#define GP_G_M 48
#define GP_G_SCHED_SP 56
#define GP_G_SCHED_PC 64

/* Go's goroutine states (runtime2.go); GP_GS_SCAN is or'ed in while the GC scans. */
enum {
	GP_GS_IDLE = 0, GP_GS_RUNNABLE = 1, GP_GS_RUNNING = 2, GP_GS_SYSCALL = 3,
	GP_GS_WAITING = 4, GP_GS_MORIBUND = 5, GP_GS_DEAD = 6, GP_GS_ENQUEUE = 7,
	GP_GS_COPYSTACK = 8, GP_GS_PREEMPTED = 9, GP_GS_LEAKED = 10, GP_GS_DEADEXTRA = 11,
};
#define GP_GS_SCAN 0x1000u

/*
 * The layout of Go 1.minor (19..27); for a newer minor, the newest known with *newer set
 * (the caller uses it only for a process whose layout validated). Returns 0 or -ENOENT.
 */
GOPROF_HIDDEN int gp_g_layout_of(int minor, struct gp_g_layout *l, bool *newer);

/* A decoded goroutine. Times are the target's nanotime (CLOCK_MONOTONIC). */
struct gp_g_rec {
	uint64_t goid, parent_goid, gopc, startpc;
	uint64_t stack_lo, stack_hi, sp, pc, bp, m, labels, waiting;
	int64_t waitsince;   /* 0: not set (written by the GC's mark phase only) */
	uint32_t status;     /* without the scan bit */
	uint8_t waitreason;
	bool scan;           /* the GC was scanning it (GP_GS_SCAN) */
};

#define GP_G_MAX_GOID (1ull << 48)  /* goroutine IDs count up from 1 */
#define GP_G_MAX_STACK (1ull << 31) /* runtime.maxstacksize is 1 GB on 64-bit */

/*
 * Decodes len bytes of a g (at least l->read_len). Returns 1 for a live goroutine (rec
 * filled), 0 for a g on the free list (dead; rec->status says so, nothing else is
 * trusted), -EINVAL when the bytes are no goroutine of this layout (impossible status,
 * goroutine ID 0 or too large, stack bounds inverted or too large, saved SP outside the
 * stack of a parked goroutine or not 8-aligned, a user address that is not canonical).
 */
GOPROF_HIDDEN int gp_g_decode(const struct gp_g_layout *l, const uint8_t *g, size_t len,
			      struct gp_g_rec *rec);

/* A goroutine that is off CPU with its registers saved in g.sched (its stack can be walked). */
GOPROF_HIDDEN bool gp_g_is_parked(const struct gp_g_rec *rec);

/*
 * How far below a parked goroutine's saved SP its innermost frame record can be: arm64
 * keeps a frame's record (saved FP, then the saved LR at SP) at SP - 8 (Go's prologue:
 * MOVD.W R30, -size(RSP); MOVD R29, -8(RSP); SUB $8, RSP, R29), and mcall saves the
 * parking function's SP and FP as they are. amd64's records are above SP.
 */
#define GP_G_FRAME_BELOW_SP 8u

/*
 * Walks a parked goroutine's stack by frame pointers: pcs[0] = sched.pc, then the return
 * address above each saved frame pointer, from sched.bp, while each frame pointer lies
 * inside the bytes given ([base, base + len), a copy of the goroutine's stack from
 * GP_G_FRAME_BELOW_SP under its saved SP up), no lower than that, is 8-aligned and above
 * the previous one. Stops at a zero return address
 * or frame pointer (the outermost frame). Returns the number of pcs (at most max);
 * *truncated is set when the walk had more frames than max or ran past the copy.
 */
GOPROF_HIDDEN uint32_t gp_g_unwind(const struct gp_g_rec *rec, const uint8_t *stack, uint64_t base,
				   size_t len, uint64_t *pcs, uint32_t max, bool *truncated);

#endif
