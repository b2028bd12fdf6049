// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Decoding runtime.g bytes and walking parked stacks (see g_decode.h). */
#include "caps/gsnap/g_decode.h"

/*
 * From the DWARF of programs built by each toolchain (../shared/go-layouts/offsets.tsv,
 * the same measurements lib/go/go_offsets.c holds for g.goid/g.labels); 1.20 and 1.25
 * derived from their runtime2.go: 1.20 = 1.19 (parentGoid came in 1.21), 1.25 removed
 * gobuf.ret (sched.bp 104 -> 96). tests/test_gsnap.c checks every installed toolchain's
 * fixture against the program's own runtime.Stack dump.
 */
static const struct gp_g_layout table[] = {
	/* minor status goid waitsince waitreason parent gopc startpc waiting labels bp slice max
	 * (read_len and sudog_c are filled in below) */
	{ 19, 144, 152, 168, 176, 0, 296, 312, 328, 360, 104, 0, 9, 0, 0 },
	{ 20, 144, 152, 168, 176, 0, 296, 312, 328, 360, 104, 0, 9, 0, 0 },
	{ 21, 144, 152, 168, 176, 272, 280, 296, 312, 344, 104, 0, 9, 0, 0 },
	{ 22, 144, 152, 168, 176, 272, 280, 296, 312, 344, 104, 0, 9, 0, 0 },
	{ 23, 152, 160, 176, 184, 280, 288, 304, 320, 352, 104, 0, 9, 0, 0 },
	{ 24, 152, 160, 176, 184, 280, 288, 304, 320, 352, 104, 1, 9, 0, 0 },
	{ 25, 144, 152, 168, 176, 272, 280, 296, 312, 344, 96, 1, 9, 0, 0 },
	{ 26, 144, 152, 168, 176, 280, 288, 304, 320, 352, 96, 1, 11, 0, 0 },
	{ 27, 144, 152, 168, 176, 280, 288, 304, 320, 352, 96, 1, 11, 0, 0 },
};

int gp_g_layout_of(int minor, struct gp_g_layout *l, bool *newer)
{
	const struct gp_g_layout *last = &table[ARRAY_SIZE(table) - 1];

	*newer = false;
	if (minor > last->minor) {
		*l = *last;
		*newer = true;
	} else {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(table) && table[i].minor != minor; i++)
			;
		if (i == ARRAY_SIZE(table))
			return -ENOENT;
		*l = table[i];
	}
	l->read_len = (uint16_t)(GP_MAX(GP_MAX(l->labels, l->waiting), l->startpc) + 8);
	l->sudog_c = l->minor >= 26 ? 88 : 80; /* 1.26 made sudog.elem a 16-byte value */
	return 0;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A user-space address of x86-64 (canonical lower half), or 0. */
static bool user_addr(uint64_t a)
{
	return a < (1ull << 47);
}

bool gp_g_is_parked(const struct gp_g_rec *r)
{
	/* Waiting, runnable (preempted or not yet run) and preempted goroutines have their
	 * registers in g.sched; running and syscall ones do not (stale values). */
	return r->status == GP_GS_WAITING || r->status == GP_GS_RUNNABLE ||
	       r->status == GP_GS_PREEMPTED || r->status == GP_GS_LEAKED;
}

int gp_g_decode(const struct gp_g_layout *l, const uint8_t *g, size_t len, struct gp_g_rec *r)
{
	uint32_t status;

	memset(r, 0, sizeof(*r));
	if (!l->read_len || len < l->read_len)
		return -EINVAL;
	status = rd32(g + l->status);
	r->scan = status & GP_GS_SCAN;
	r->status = status & ~GP_GS_SCAN;
	if (r->status > l->max_status || r->status == GP_GS_ENQUEUE)
		return -EINVAL; /* _Genqueue_unused is never set */
	if (r->status == GP_GS_DEAD || r->status == GP_GS_DEADEXTRA || r->status == GP_GS_IDLE)
		return 0;       /* on the free list or just allocated: not a goroutine to show */
	r->goid = rd64(g + l->goid);
	r->stack_lo = rd64(g + GP_G_STACK_LO);
	r->stack_hi = rd64(g + GP_G_STACK_HI);
	r->sp = rd64(g + GP_G_SCHED_SP);
	r->pc = rd64(g + GP_G_SCHED_PC);
	r->bp = rd64(g + l->sched_bp);
	r->m = rd64(g + GP_G_M);
	r->waitsince = (int64_t)rd64(g + l->waitsince);
	r->waitreason = g[l->waitreason];
	r->parent_goid = l->parent_goid ? rd64(g + l->parent_goid) : 0;
	r->gopc = rd64(g + l->gopc);
	r->startpc = rd64(g + l->startpc);
	r->waiting = rd64(g + l->waiting);
	r->labels = rd64(g + l->labels);
	if (!r->goid || r->goid >= GP_G_MAX_GOID || r->parent_goid >= GP_G_MAX_GOID)
		return -EINVAL;
	if (r->stack_lo >= r->stack_hi || r->stack_hi - r->stack_lo > GP_G_MAX_STACK ||
	    !user_addr(r->stack_hi) || r->stack_lo & 7)
		return -EINVAL;
	if (!user_addr(r->gopc) || !user_addr(r->startpc) || !user_addr(r->labels) ||
	    !user_addr(r->waiting) || !user_addr(r->m) || r->labels & 7 || r->waitsince < 0)
		return -EINVAL;
	if (gp_g_is_parked(r) && (r->sp < r->stack_lo || r->sp >= r->stack_hi || r->sp & 7 ||
				  !r->pc || !user_addr(r->pc)))
		return -EINVAL;
	return 1;
}

uint32_t gp_g_unwind(const struct gp_g_rec *r, const uint8_t *stack, uint64_t base, size_t len,
		     uint64_t *pcs, uint32_t max, bool *truncated)
{
	uint64_t end = base + len, bp = r->bp, lowest = GP_MAX(r->sp - GP_G_FRAME_BELOW_SP, base);
	uint32_t n = 0;

	*truncated = false;
	if (!max || !gp_g_is_parked(r) || !r->pc || end < base)
		return 0;
	pcs[n++] = r->pc;
	while (bp) {
		uint64_t next, ret;

		if (bp < lowest || bp & 7 || bp >= r->stack_hi) /* not a frame of this stack */
			break;
		if (bp > end - 16 || end < 16) { /* a frame past the bytes we have */
			*truncated = true;
			break;
		}
		next = rd64(stack + (bp - base));
		ret = rd64(stack + (bp - base) + 8);
		if (!ret || !user_addr(ret))
			break;
		if (n == max) {
			*truncated = true;
			break;
		}
		pcs[n++] = ret;
		if (next && next <= bp) /* frames grow upwards: anything else is a loop */
			break;
		lowest = bp + 16;
		bp = next;
	}
	return n;
}
