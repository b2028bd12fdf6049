/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * OpenTelemetry's `process.executable.build_id.htlhash` ("head, tail, length" hash) of
 * a file, as the OTel profiles specification defines it (profiles/mappings.md):
 *
 *     Input   = File[:4096] || File[-4096:] || BigEndianUInt64(len(File))
 *     BuildID = SHA256(Input)[:16], in hex
 *
 * The head and tail may overlap (a file under 8 KiB contributes bytes twice) and are not
 * padded. Works on files without GNU or Go build IDs (stripped, Alpine) and joins our
 * profiles with those of other OTel profilers.
 */
#ifndef GOPROF_HTLHASH_H
#define GOPROF_HTLHASH_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define GP_HTLHASH_HEX_LEN 32 /* 16 bytes */

/* SHA-256 of data (FIPS 180-4), for the hash above. */
GOPROF_HIDDEN void gp_sha256(const void *data, size_t len, uint8_t out[32]);

/* The htlhash of the open file fd (read with pread, the offset is not moved), as
 * lowercase hex into hex[GP_HTLHASH_HEX_LEN + 1]. 0 or a negative errno. */
GOPROF_HIDDEN int gp_htlhash_fd(int fd, char hex[GP_HTLHASH_HEX_LEN + 1]);

/* Same for a path. 0 or a negative errno (from open/fstat/pread). */
GOPROF_HIDDEN int gp_htlhash_path(const char *path, char hex[GP_HTLHASH_HEX_LEN + 1]);

#endif /* GOPROF_HTLHASH_H */
