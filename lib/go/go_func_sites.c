// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Entry and RET sites of Go functions, from the pclntab and a real disassembler (Capstone:
 * x86-64 and arm64, by the binary's ELF machine). */
#include <capstone/capstone.h>
#include <stdio.h>

#include "go/go_arch.h"
#include "go/go_func_sites.h"
#include "goprof/symbolizer.h"
#include "sym/symbolizer_internal.h"

struct func_lookup {
	const char *name;
	uint64_t entry, end;
	bool found;
};

static int match_function(const struct goprof_function *fn, void *ctx)
{
	struct func_lookup *l = ctx;

	if (fn->kind != GOPROF_FRAME_KIND_GO || strcmp(fn->name, l->name))
		return 0;
	l->entry = fn->entry;
	l->end = fn->end;
	l->found = true;
	return 1;
}

/* File offset of link-time address vaddr, from the PT_LOAD segment holding it. */
static int vaddr_to_offset(const struct goprof_binary *bin, uint64_t vaddr, size_t len,
			   uint64_t *offset, const uint8_t **bytes)
{
	for (size_t i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *s = &bin->elf.segs[i];

		if (vaddr < s->vaddr || vaddr + len > s->vaddr + s->len)
			continue;
		*bytes = s->data + (vaddr - s->vaddr);
		*offset = (uint64_t)(*bytes - bin->elf.map);
		return 0;
	}
	return -GOPROF_ERRNO_CORRUPT;
}

/*
 * The decoders, by the binary's ELF machine (not the host's: arm64 binaries are read on
 * x86-64 machines too). x86-64: variable-length instructions, decoded in one run.
 * arm64: fixed 4-byte words, decoded one by one so that a word Capstone does not know
 * (padding, an instruction newer than Capstone) is skipped instead of ending the scan.
 */
struct decoder {
	cs_arch arch;
	cs_mode mode;
	const char *name;
};

static int decoder_of(const struct goprof_binary *bin, struct decoder *d)
{
	switch (bin->elf.machine) {
	case EM_X86_64:
		*d = (struct decoder){ CS_ARCH_X86, CS_MODE_64, "x86-64" };
		return 0;
	case EM_AARCH64:
		*d = (struct decoder){ CS_ARCH_ARM64, CS_MODE_ARM, "arm64" };
		return 0;
	default:
		return gp_err(-ENOTSUP, "%s: no instruction decoder for %s",
			      goprof_binary_path(bin), gp_machine_name(bin->elf.machine));
	}
}

/*
 * Calls fn for each instruction of code[len] at vaddr until it returns non-zero; up to
 * max instructions (0: all). Returns fn's value, 0, or -EINVAL if Capstone cannot start.
 */
static int foreach_insn(const struct decoder *d, const uint8_t *code, size_t len, uint64_t vaddr,
			size_t max, int (*fn)(const cs_insn *insn, void *ctx), void *ctx)
{
	size_t count = 0;
	int ret = 0;
	cs_insn *insn;
	csh cs;

	if (cs_open(d->arch, d->mode, &cs) != CS_ERR_OK)
		return gp_err(-EINVAL, "capstone: cannot open an %s disassembler", d->name);
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return gp_err(-ENOMEM, "capstone: out of memory");
	}
	while (len && (!max || count < max) && !ret) {
		const uint8_t *p = code;
		size_t left = len;
		uint64_t at = vaddr;

		if (!cs_disasm_iter(cs, &p, &left, &at, insn)) {
			if (d->arch != CS_ARCH_ARM64 || len < 4)
				break; /* x86-64: the rest cannot be framed */
			code += 4, len -= 4, vaddr += 4;
			continue;
		}
		code = p, len = left, vaddr = at;
		count++;
		ret = fn(insn, ctx);
	}
	cs_free(insn, 1);
	cs_close(&cs);
	return ret;
}

/*
 * The stack check that opens a Go function: "CMP <sp or r12>, [R14 + 0x10]; JBE" on
 * x86-64, "MOVD 16(g), R16; [SUB $n, RSP, R17;] CMP; BLS" on arm64 (ldr x16, [x28, #0x10]
 * ... b.ls; 24(g), stackguard1, in runtime functions that may run on a system stack). Where the probe goes: past it, within the first instructions.
 */
struct stack_check {
	const struct decoder *d;
	uint64_t past;  /* vaddr after the conditional branch, 0 if none */
	bool seen_load; /* arm64: the load of g.stackguard0 */
	bool seen_cmp;  /* x86-64: the compare with g.stackguard0 */
};

static int stack_check_insn(const cs_insn *insn, void *ctx)
{
	struct stack_check *c = ctx;

	if (c->d->arch == CS_ARCH_X86) {
		if (c->seen_cmp && insn->id == X86_INS_JBE) {
			c->past = insn->address + insn->size;
			return 1;
		}
		c->seen_cmp = insn->id == X86_INS_CMP && strstr(insn->op_str, "[r14 + 0x10]");
		return 0;
	}
	/* g.stackguard0, or g.stackguard1 in functions that may run on a system stack. */
	if (insn->id == ARM64_INS_LDR && (!strcmp(insn->op_str, "x16, [x28, #0x10]") ||
					  !strcmp(insn->op_str, "x16, [x28, #0x18]")))
		c->seen_load = true;
	else if (c->seen_load && !strcmp(insn->mnemonic, "b.ls")) {
		c->past = insn->address + insn->size;
		return 1;
	}
	return 0;
}

static uint64_t after_stack_check(const struct decoder *d, const uint8_t *code, size_t len,
				  uint64_t vaddr, uint64_t offset)
{
	struct stack_check c = { .d = d };

	/* x86-64: the check is in the first 4 instructions; arm64: 3, 4 with a large frame,
	 * up to 6 with a huge one. */
	foreach_insn(d, code, GP_MIN(len, (size_t)32), vaddr, d->arch == CS_ARCH_X86 ? 4 : 8,
		     stack_check_insn, &c);
	return c.past ? offset + (c.past - vaddr) : offset;
}

struct ret_scan {
	const struct decoder *d;
	uint64_t vaddr, offset;
	struct gp_func_sites *out;
};

static int ret_insn(const cs_insn *insn, void *ctx)
{
	struct ret_scan *r = ctx;

	if (insn->id != (r->d->arch == CS_ARCH_X86 ? (unsigned)X86_INS_RET : (unsigned)ARM64_INS_RET))
		return 0;
	if (r->out->nr_rets == GP_MAX_RET_SITES)
		return gp_err(-E2BIG, "function at 0x%llx has more than %d RET instructions",
			      (unsigned long long)r->vaddr, GP_MAX_RET_SITES);
	r->out->ret_offsets[r->out->nr_rets++] = r->offset + (insn->address - r->vaddr);
	return 0;
}

static int find_rets(const struct decoder *d, const uint8_t *code, size_t len, uint64_t vaddr,
		     uint64_t offset, struct gp_func_sites *out)
{
	struct ret_scan r = { d, vaddr, offset, out };
	const uint8_t *p = code;
	size_t left = len;
	uint64_t at = vaddr;
	cs_insn *insn;
	csh cs;
	int err;

	/* Not one instruction decodes: the bytes are not code of this architecture. */
	if (cs_open(d->arch, d->mode, &cs) != CS_ERR_OK)
		return gp_err(-EINVAL, "capstone: cannot open an %s disassembler", d->name);
	insn = cs_malloc(cs);
	err = insn && cs_disasm_iter(cs, &p, &left, &at, insn) ? 0 : -EINVAL;
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	if (err)
		return gp_err(-EINVAL, "capstone: cannot disassemble the function at 0x%llx",
			      (unsigned long long)vaddr);
	return foreach_insn(d, code, len, vaddr, 0, ret_insn, &r);
}

int gp_go_func_sites(struct goprof_binary *bin, const char *name, bool want_rets,
		     struct gp_func_sites *out)
{
	struct func_lookup l = { .name = name };
	struct decoder d;
	const uint8_t *code;
	int err;

	memset(out, 0, sizeof(*out));
	if (!goprof_binary_is_go(bin))
		return gp_err(-GOPROF_ERRNO_NOT_GO, "%s: not a Go binary", goprof_binary_path(bin));
	goprof_binary_foreach_function(bin, match_function, &l);
	if (!l.found || l.end <= l.entry)
		return gp_err(-ENOENT, "%s: function %s not found (inlined away or renamed in this "
			      "Go release)", goprof_binary_path(bin), name);
	err = vaddr_to_offset(bin, l.entry, l.end - l.entry, &out->entry_offset, &code);
	if (err)
		return gp_err(err, "%s: %s at 0x%llx is not backed by the file",
			      goprof_binary_path(bin), name, (unsigned long long)l.entry);
	out->entry_vaddr = l.entry;
	out->end_vaddr = l.end;
	err = decoder_of(bin, &d);
	if (err)
		return err;
	out->probe_offset = after_stack_check(&d, code, l.end - l.entry, l.entry, out->entry_offset);
	if (!want_rets)
		return 0;
	return find_rets(&d, code, l.end - l.entry, l.entry, out->entry_offset, out);
}
