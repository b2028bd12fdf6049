// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The data addresses a Go function's code forms (see go_data_refs.h). */
#include <capstone/capstone.h>
#include <elf.h>

#include "go/go_data_refs.h"
#include "go/go_func_sites.h"
#include "sym/symbolizer_internal.h"

static size_t x86_refs(const cs_insn *insn, size_t count, uint64_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < count && n < max; i++) {
		const cs_x86 *x = &insn[i].detail->x86;

		for (uint8_t k = 0; k < x->op_count && n < max; k++)
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP)
				out[n++] = insn[i].address + insn[i].size + (uint64_t)x->operands[k].mem.disp;
	}
	return n;
}

/* An arm64 X register's number 0-30, or -1 (SP, XZR, W registers, vector registers). */
static int xreg(arm64_reg r)
{
	if (r >= ARM64_REG_X0 && r <= ARM64_REG_X28)
		return (int)(r - ARM64_REG_X0);
	return r == ARM64_REG_X29 ? 29 : r == ARM64_REG_X30 ? 30 : -1;
}

/*
 * ADRP Xd, page puts a page address in Xd (Capstone gives it absolute); ADD Xn, Xd, #imm
 * forms page + imm in Xn, and a memory operand [Xd, #disp] accesses page + disp. Both
 * count, and an address stays known in its register until the register is written again
 * or a call clobbers it: Go keeps &runtime.sched in a register across several field
 * accesses (1.22-1.24). A pair load or store of X registers (LDP, STP) adds its second
 * word, + 8. The scan is linear: a register's value is not merged across branches.
 */
static size_t arm64_refs(const cs_insn *insn, size_t count, uint64_t *out, size_t max)
{
	uint64_t addr[31];
	uint32_t known = 0; /* bit r: addr[r] holds an address ADRP or ADD put in Xr */
	size_t n = 0;

	for (size_t i = 0; i < count && n < max; i++) {
		unsigned id = insn[i].id;
		const cs_arm64 *a;
		int d, add_dest = -1;
		bool pair = id == ARM64_INS_LDP || id == ARM64_INS_STP;
		uint64_t add_addr = 0;

		/* A call clobbers every register; so may an instruction Capstone 4 cannot decode
		 * (skipped, no detail: the LSE atomics Go 1.22+ emits, LDADDAL, SWPAL, CASAL). */
		if (id == ARM64_INS_BL || id == ARM64_INS_BLR || id == 0 || !insn[i].detail) {
			known = 0;
			continue;
		}
		a = &insn[i].detail->arm64;
		d = a->op_count ? xreg(a->operands[0].reg) : -1;
		if (id == ARM64_INS_ADRP && a->op_count == 2 && d >= 0 && a->operands[1].type == ARM64_OP_IMM) {
			addr[d] = (uint64_t)a->operands[1].imm;
			known |= 1u << d;
			continue;
		}
		if (id == ARM64_INS_ADD && a->op_count == 3 && a->operands[1].type == ARM64_OP_REG &&
		    a->operands[2].type == ARM64_OP_IMM && a->operands[2].shift.type == ARM64_SFT_INVALID) {
			int s = xreg(a->operands[1].reg);

			if (s >= 0 && known & 1u << s && n < max) {
				add_addr = out[n++] = addr[s] + (uint64_t)a->operands[2].imm;
				add_dest = d;
			}
		}
		for (uint8_t k = 0; k < a->op_count && n < max; k++) {
			const cs_arm64_op *op = &a->operands[k];
			int b = op->type == ARM64_OP_MEM ? xreg(op->mem.base) : -1;

			if (b < 0 || !(known & 1u << b) || op->mem.index != ARM64_REG_INVALID)
				continue;
			out[n++] = addr[b] + (uint64_t)(int64_t)op->mem.disp;
			if (pair && d >= 0 && n < max)
				out[n] = out[n - 1] + 8, n++;
		}
		/* A register written holds something else now (a post-indexed base too). */
		for (uint8_t k = 0; k < a->op_count; k++) {
			int r = a->operands[k].type == ARM64_OP_REG ? xreg(a->operands[k].reg) : -1;

			if (r >= 0 && a->operands[k].access & CS_AC_WRITE)
				known &= ~(1u << r);
			if (a->writeback && a->operands[k].type == ARM64_OP_MEM &&
			    (r = xreg(a->operands[k].mem.base)) >= 0)
				known &= ~(1u << r);
		}
		if (add_dest >= 0) {
			addr[add_dest] = add_addr;
			known |= 1u << add_dest;
		}
	}
	return n;
}

size_t gp_go_data_refs(struct goprof_binary *bin, const char *fn, size_t max_bytes, uint64_t *out,
		       size_t max)
{
	struct gp_func_sites sites;
	size_t count, n = 0;
	cs_insn *insn;
	csh cs;
	bool x86 = bin->elf.machine == EM_X86_64;

	if (gp_go_func_sites(bin, fn, false, &sites) || sites.end_vaddr <= sites.entry_vaddr ||
	    sites.end_vaddr - sites.entry_vaddr > max_bytes ||
	    sites.entry_offset + (sites.end_vaddr - sites.entry_vaddr) > bin->elf.size)
		return 0;
	if (!x86 && bin->elf.machine != EM_AARCH64)
		return 0;
	if (cs_open(x86 ? CS_ARCH_X86 : CS_ARCH_ARM64, x86 ? CS_MODE_64 : CS_MODE_ARM, &cs) != CS_ERR_OK)
		return 0;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	/* arm64: step over the instructions Capstone 4 cannot decode (4 bytes each) instead
	 * of stopping there; x86 keeps stopping, a skipped byte would desynchronize it. */
	if (!x86)
		cs_option(cs, CS_OPT_SKIPDATA, CS_OPT_ON);
	count = cs_disasm(cs, bin->elf.map + sites.entry_offset, sites.end_vaddr - sites.entry_vaddr,
			  sites.entry_vaddr, 0, &insn);
	if (count) {
		n = x86 ? x86_refs(insn, count, out, max) : arm64_refs(insn, count, out, max);
		cs_free(insn, count);
	}
	cs_close(&cs);
	return n;
}
