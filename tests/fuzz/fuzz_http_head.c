// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* libFuzzer target: HTTP/1 request heads as the wire tracer captures them (any bytes, cut
 * off anywhere); every pointer handed back must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps/http_wire/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan catches any read past the captured head. */
	char *buf = malloc(size ? size : 1);
	struct gp_http_head h;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (gp_http_head_parse(buf, size, &h) == 0) {
		if (h.method_len == 0 || h.method_len >= size || !h.path ||
		    h.path != buf + h.method_len + 1 || h.path_len > size - h.method_len - 1)
			abort();
		if (h.host && (h.host < buf || h.host + h.host_len > buf + size))
			abort();
		if (h.content_length < -1)
			abort();
	}
	free(buf);
	return 0;
}
