// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* libFuzzer target: /proc/PID/maps text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/proc_maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_maps maps;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gp_maps_parse(&maps, s) == 0) {
		for (size_t i = 0; i < maps.n; i++)
			gp_maps_find(&maps, maps.m[i].start + (maps.m[i].end - maps.m[i].start) / 2);
		gp_maps_find(&maps, 0);
		gp_maps_free(&maps);
	}
	free(s);
	return 0;
}
