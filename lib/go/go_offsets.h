/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Offsets of the Go runtime structures the BPF programs read (g, m), per Go release.
 * Read from the DWARF of binaries built with each toolchain (amd64); the test
 * tests/test_go_offsets.c re-checks them against DWARF for every installed toolchain.
 */
#ifndef GOPROF_GO_OFFSETS_H
#define GOPROF_GO_OFFSETS_H

#include "goprof_bpf.h"
#include "internal.h"

/*
 * Fills t with the offsets for Go release @version ("go1.22.5", "go1.23rc1", ...).
 * Returns 0, or -GOPROF_ERRNO_GO_VERSION with a message naming the version when the
 * release is not in the table (never a guess).
 */
GOPROF_HIDDEN int gp_go_offsets(const char *version, struct gp_target *t);

/*
 * The layout to try for @version: the table's for a known release; for a release newer
 * than the newest known (go1.28.1, go1.28rc1, "devel go1.28-..."), the newest known
 * layout with *newer set: it must be validated against the process (go_validate.h)
 * before use. Returns 0 or -GOPROF_ERRNO_GO_VERSION like gp_go_offsets().
 */
GOPROF_HIDDEN int gp_go_offsets_candidate(const char *version, struct gp_target *t, bool *newer);

/* The newest Go minor release in the table (27 for Go 1.27). */
GOPROF_HIDDEN int gp_go_newest_known_minor(void);

/*
 * Fills lay with the net/http offsets (GOPROF_FEATURE_HTTP) of Go release @version (the
 * newest known for a newer release: callers attach HTTP probes only to processes whose
 * runtime layout was validated). Returns 0, or -GOPROF_ERRNO_GO_VERSION with a message naming the version.
 */
GOPROF_HIDDEN int gp_go_http_layout(const char *version, struct gp_http_layout *lay);

#endif
