// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* libFuzzer target: .go.buildinfo blobs (inline and pointer layouts) and modinfo lookups. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/gobuildinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_vseg seg = { .vaddr = 0x1000, .data = data, .len = size, .flags = 6 };
	struct gp_vmem vmem = { .segs = &seg, .nsegs = 1 };
	struct gp_buildinfo bi;
	char buf[32];
	int a, b, c;

	if (gp_buildinfo_parse(&bi, data, size, &vmem) == 0) {
		gp_modinfo_get(bi.modinfo, "path", false, buf, sizeof(buf));
		gp_modinfo_get(bi.modinfo, "mod", false, buf, sizeof(buf));
		gp_modinfo_get(bi.modinfo, "GOOS", true, buf, sizeof(buf));
		gp_modinfo_get(bi.modinfo, "x", true, buf, 0);
		gp_buildinfo_free(&bi);
	}
	{
		char *s = malloc(size + 1);

		if (s) {
			memcpy(s, data, size);
			s[size] = '\0';
			gp_go_version_parse(s, &a, &b, &c);
			gp_modinfo_get(s, "build", true, buf, sizeof(buf));
			free(s);
		}
	}
	return 0;
}
