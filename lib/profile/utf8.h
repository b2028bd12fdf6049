/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Strict UTF-8 (RFC 3629) for the text encoders. Names come from binaries and files and
 * are untrusted bytes: every byte that does not start a well-formed sequence (stray
 * continuation bytes, overlong forms, surrogates, code points past U+10FFFF, truncated
 * sequences) is written as U+FFFD, one per byte, as Go's encoding/json does. docs/formats.md
 * states the rule for every output.
 */
#ifndef GP_PROFILE_UTF8_H
#define GP_PROFILE_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, encoded. */
#define GP_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Length of the well-formed UTF-8 sequence at s (1-4), or 0 if the byte at s does not
 * start one. s is NUL-terminated: a NUL ends a truncated sequence (it is no continuation).
 */
static inline size_t gp_utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

#endif
