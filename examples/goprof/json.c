// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* JSON string output for events.jsonl and `goprof symbolize --json`. */
#include <stdbool.h>
#include <string.h>

#include "report.h"

/* n bytes of s; with ascii_only, bytes >= 0x80 are escaped one by one too. */
static void write_escaped(FILE *out, const char *s, size_t n, bool ascii_only)
{
	fputc('"', out);
	for (size_t i = 0; s && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80))
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
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
