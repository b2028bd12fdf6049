// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* JSON string output for events.jsonl and `goprof symbolize --json`. */
#include "report.h"

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
