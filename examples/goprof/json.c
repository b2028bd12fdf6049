// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * JSON string output for events.jsonl and `goprof symbolize --json`. Names come from
 * binaries and are untrusted bytes; the output is valid UTF-8 JSON whatever they are
 * (docs/formats.md): '"', '\' and control characters are escaped, well-formed UTF-8 is
 * copied, and every byte that does not start a well-formed sequence is written as
 * \ufffd (U+FFFD), one per byte, as Go's encoding/json does.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "report.h"

/* Length of the well-formed UTF-8 sequence (RFC 3629) at s[0..n), or 0. Kept in step with
 * lib/profile/utf8.h (the CLI is built on the public API only). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
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
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* n bytes of s; with ascii_only, bytes >= 0x80 are escaped one by one as \u00XX. */
static void write_escaped(FILE *out, const char *str, size_t n, bool ascii_only)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	for (size_t i = 0; s && i < n;) {
		unsigned char c = s[i];
		size_t len, run;

		/* Plain ASCII goes out in runs, not one fwrite() a byte (events.jsonl of the
		 * demo has 900 lines a second, most with a path or a stack). */
		for (run = 0; i + run < n && s[i + run] >= 0x20 && s[i + run] < 0x7f &&
			      s[i + run] != '"' && s[i + run] != '\\'; run++)
			;
		if (run) {
			fwrite(s + i, 1, run, out);
			i += run;
			continue;
		}
		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
			i++;
		} else if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80)) {
			fprintf(out, "\\u%04x", c);
			i++;
		} else if ((len = utf8_len(s + i, n - i)) == 0) {
			fputs("\\ufffd", out);
			i++;
		} else {
			fwrite(s + i, 1, len, out);
			i += len;
		}
	}
	fputc('"', out);
}

void json_string(FILE *out, const char *s)
{
	write_escaped(out, s, s ? strlen(s) : 0, false);
}

void json_bytes(FILE *out, const char *s, size_t n)
{
	write_escaped(out, s, n, true);
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, taken once: the events' clock is the latter. */
static int64_t mono_to_unix_ns(void)
{
	static int64_t offset;
	struct timespec rt, mono;

	if (!offset) {
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		offset = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000 + (rt.tv_nsec - mono.tv_nsec);
	}
	return offset;
}

void jsonl_begin(FILE *out, const char *type, uint32_t pid, uint64_t mono_ns)
{
	struct timespec now;

	if (!mono_ns) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		mono_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	}
	fprintf(out, "{\"type\":\"%s\",\"time_unix_ns\":%" PRId64 ",\"pid\":%" PRIu32, type,
		(int64_t)mono_ns + mono_to_unix_ns(), pid);
}
