// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: a whole ELF file through the Go binary reader (ELF parsing, pclntab
 * location by section/symbol/scan, moduledata, buildinfo, build IDs), then lookups,
 * function iteration and the metadata getters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sym/symbolizer_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_frames(const struct goprof_frame *f, void *ctx)
{
	(*(size_t *)ctx)++;
	return 0;
}

static int count_funcs(const struct goprof_function *f, void *ctx)
{
	/* Stop after a bounded number so one input cannot take minutes. */
	return ++*(size_t *)ctx > 5000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goprof_binary bin;
	struct goprof_pclntab_info info = { .sz = sizeof(info) };
	uint64_t pcs[64];
	uint8_t id[64];
	char buf[64];
	size_t n = 0, i;
	/* libelf may write to the image: give it a private copy. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (gp_binary_init(&bin, NULL, copy, size) == 0) {
		goprof_binary_pclntab_info(&bin, &info);
		goprof_binary_go_build_info(&bin, "path", buf, sizeof(buf));
		goprof_binary_go_build_info(&bin, "GOOS", buf, sizeof(buf));
		goprof_binary_gnu_build_id(&bin, id, sizeof(id));
		goprof_binary_foreach_function(&bin, count_funcs, &n);
		for (i = 0; i < 64; i++) {
			uint64_t e = 0;

			if (bin.is_go && i < 32)
				gp_pclntab_entry(&bin.tab, (i * 7919) % (bin.tab.nfunc + 1), &e);
			else if (size >= 8)
				memcpy(&e, data + (i * 131) % (size - 7), 8);
			pcs[i] = e + i % 5;
		}
		goprof_binary_symbolize(&bin, pcs, 64, count_frames, &n);
		gp_go_release_check(&bin, buf, sizeof(buf));
		gp_binary_fini(&bin);
	}
	free(copy);
	return 0;
}
