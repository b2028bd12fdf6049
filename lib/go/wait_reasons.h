/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Go's waitReason (why a goroutine parked, runtime/runtime2.go): a uint8 whose numbering
 * changes between releases. Per-release tables of Go's own strings ("chan send",
 * "sync.Mutex.Lock", ...), from the installed toolchains' sources; tests/test_block.c
 * re-checks them against those sources.
 */
#ifndef GOPROF_WAIT_REASONS_H
#define GOPROF_WAIT_REASONS_H

#include "internal.h"

struct gp_wait_reasons {
	int minor;                /* Go 1.MINOR */
	const char *const *names; /* [waitReason] -> Go's string */
	uint32_t nr;
	uint8_t chan_send, chan_recv; /* waitReasonChanSend, waitReasonChanReceive */
};

/*
 * The table of Go release @version ("go1.22.5"), or NULL with a message naming the
 * version when it is not known (never a guess).
 */
GOPROF_HIDDEN const struct gp_wait_reasons *gp_wait_reasons_of(const char *version);

/* The same without an error message (NULL if unknown). */
GOPROF_HIDDEN const struct gp_wait_reasons *gp_wait_reasons_find(const char *version);

/* Go's string for reason in table w (NULL: unknown release): "unknown wait reason N" if
 * out of range, written to buf. */
GOPROF_HIDDEN const char *gp_wait_reason_name(const struct gp_wait_reasons *w, uint8_t reason,
					      char *buf, size_t len);

/* The reasons Go's own block profile records (channels, select, sync primitives). */
GOPROF_HIDDEN bool gp_wait_reason_in_go_block_profile(const char *name);

#endif
