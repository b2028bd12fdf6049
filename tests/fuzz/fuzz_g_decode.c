// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: the goroutine snapshot decoder (lib/caps/gsnap/g_decode.c) on random bytes
 * in place of runtime.g structs and goroutine stacks, as a corrupted or changing target
 * would hand them over. Byte 0 picks the Go release (1.19 to 1.28, the last standing for
 * a newer one), then come g structs of that layout and finally stack bytes. No crash, no
 * hang, and no goroutine invented: every record accepted satisfies every check the
 * decoder promises, and every frame of a walk comes from inside the stack bytes given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps/gsnap/g_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct gp_g_layout *l, const struct gp_g_rec *r)
{
	if (!r->goid || r->goid >= GP_G_MAX_GOID || r->status > l->max_status ||
	    r->status == GP_GS_DEAD || r->status == GP_GS_IDLE)
		abort();
	if (r->stack_lo >= r->stack_hi || r->stack_hi - r->stack_lo > GP_G_MAX_STACK)
		abort();
	if (gp_g_is_parked(r) && (r->sp < r->stack_lo || r->sp >= r->stack_hi || r->sp & 7 || !r->pc))
		abort();
}

static void walk(const struct gp_g_rec *r, const uint8_t *stack, size_t len)
{
	/* a copy of exactly len bytes: ASan catches a read past the stack given */
	uint8_t *copy = malloc(len ? len : 1);
	uint64_t pcs[64];
	bool trunc;
	uint32_t n;

	if (!copy)
		return;
	memcpy(copy, stack, len);
	n = gp_g_unwind(r, copy, r->sp, len, pcs, 64, &trunc);
	if (n > 64 || (n && pcs[0] != r->pc) || (n && !gp_g_is_parked(r)))
		abort();
	for (uint32_t i = 1; i < n; i++) {
		bool found = false;

		/* every return address is a word of the stack bytes given */
		for (size_t k = 0; k + 8 <= len && !found; k += 8)
			found = !memcmp(copy + k, &pcs[i], 8);
		if (!found || !pcs[i])
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_g_layout l;
	struct gp_g_rec r;
	size_t off = 1;
	bool newer;

	if (size < 1 || gp_g_layout_of(19 + data[0] % 10, &l, &newer))
		return 0;
	while (off + l.read_len <= size) {
		/* a copy of exactly read_len bytes, as the reader hands it over */
		uint8_t *g = malloc(l.read_len);
		int ret;

		if (!g)
			return 0;
		memcpy(g, data + off, l.read_len);
		ret = gp_g_decode(&l, g, l.read_len, &r);
		free(g);
		off += l.read_len;
		if (ret < -1 && ret != -EINVAL)
			abort();
		if (ret == 1) {
			check(&l, &r);
			walk(&r, data + off, size - off);
		}
		/* fewer bytes than a g: refused */
		if (gp_g_decode(&l, data, l.read_len - 1, &r) != -EINVAL)
			abort();
	}
	return 0;
}
