// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: raw bytes as a .gopclntab (any of the four formats). The same bytes
 * serve as gofunc (inline trees) and as the address space of absolute funcdata pointers,
 * so hostile offsets, counts, varints and inline-tree loops are all reachable.
 */
#include <stdint.h>
#include <string.h>

#include "sym/gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x400000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_pclntab t;
	struct gp_go_frame frames[GP_MAX_INLINE_DEPTH + 1];
	struct gp_vseg seg = { .vaddr = BASE, .data = data, .len = size, .flags = 4 };
	struct gp_vmem vmem = { .segs = &seg, .nsegs = 1 };
	uint64_t i, pc, end;

	if (gp_pclntab_parse(&t, data, size, BASE) != 0)
		return 0;
	if (!t.text_start)
		t.text_start = BASE;
	if (t.format == GP_PCLN_GO12 && (data[size - 1] & 1))
		t.inl_funcdata = 4; /* the Go 1.12-1.15 inline trees */
	t.gofunc.p = data;
	t.gofunc.len = size;
	t.vmem = &vmem;
	/* Lookups work on unvalidated tables too (no index): exercise both paths. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && gp_pclntab_validate(&t) != 0)
			break;
		if (!gp_pclntab_entry(&t, 0, &pc) || !gp_pclntab_entry(&t, t.nfunc, &end))
			break;
		for (i = 0; i < 256 && i < t.nfunc; i++) {
			struct gp_func f;
			uint64_t e;

			if (!gp_pclntab_entry(&t, (i * 40503) % t.nfunc, &e))
				continue;
			gp_pclntab_lookup(&t, e, frames, GP_MAX_INLINE_DEPTH + 1);
			gp_pclntab_lookup(&t, e + i % 97, frames, GP_MAX_INLINE_DEPTH + 1);
			if (gp_pclntab_func(&t, i, &f) == 0) {
				int32_t v;

				gp_pclntab_funcname(&t, f.nameoff);
				gp_pclntab_pcvalue(&t, &f, f.pcfile, f.entry, &v);
				gp_pclntab_file(&t, &f, v);
			}
		}
		gp_pclntab_lookup(&t, end - 1, frames, 1);
		/* Ascending PCs with a hint: the resumable pc-value cursors. */
		{
			struct gp_lookup_hint hint = GP_LOOKUP_HINT_INIT;
			uint64_t step = (end - pc) / 512 + 1;

			uint64_t a = pc;

			for (int k = 0; k < 600 && a < end; k++) {
				gp_pclntab_lookup_hint(&t, a, frames, GP_MAX_INLINE_DEPTH + 1, &hint);
				if (a + step + (a & 3) < a)
					break; /* wrapped around */
				a += step + (a & 3);
			}
		}
	}
	gp_pclntab_free(&t);
	return 0;
}
