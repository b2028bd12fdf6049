// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Entry and RET sites of Go functions, from the pclntab and a real disassembler. */
#include <capstone/capstone.h>
#include <stdio.h>

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

/* Offset just past "CMP <sp or r12>, [R14 + 0x10]; JBE", within the first instructions. */
static uint64_t after_stack_check(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t offset)
{
	uint64_t result = offset;
	cs_insn *insn;
	size_t n;
	csh cs;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return offset;
	n = cs_disasm(cs, code, GP_MIN(len, (size_t)32), vaddr, 4, &insn);
	for (size_t i = 0; i + 1 < n; i++) {
		if (insn[i].id == X86_INS_CMP && strstr(insn[i].op_str, "[r14 + 0x10]") &&
		    insn[i + 1].id == X86_INS_JBE) {
			result = offset + (insn[i + 1].address + insn[i + 1].size - vaddr);
			break;
		}
	}
	if (n)
		cs_free(insn, n);
	cs_close(&cs);
	return result;
}

static int find_rets(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t offset,
		     struct gp_func_sites *out)
{
	csh cs;
	cs_insn *insn;
	size_t n;
	int err = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return gp_err(-EINVAL, "capstone: cannot open an x86-64 disassembler");
	n = cs_disasm(cs, code, len, vaddr, 0, &insn);
	if (!n) {
		cs_close(&cs);
		return gp_err(-EINVAL, "capstone: cannot disassemble the function at 0x%llx",
			      (unsigned long long)vaddr);
	}
	for (size_t i = 0; i < n && !err; i++) {
		if (insn[i].id != X86_INS_RET)
			continue;
		if (out->nr_rets == GP_MAX_RET_SITES)
			err = gp_err(-E2BIG, "function at 0x%llx has more than %d RET instructions",
				     (unsigned long long)vaddr, GP_MAX_RET_SITES);
		else
			out->ret_offsets[out->nr_rets++] = offset + (insn[i].address - vaddr);
	}
	cs_free(insn, n);
	cs_close(&cs);
	return err;
}

int gp_go_func_sites(struct goprof_binary *bin, const char *name, bool want_rets,
		     struct gp_func_sites *out)
{
	struct func_lookup l = { .name = name };
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
	out->probe_offset = after_stack_check(code, l.end - l.entry, l.entry, out->entry_offset);
	if (!want_rets)
		return 0;
	return find_rets(code, l.end - l.entry, l.entry, out->entry_offset, out);
}
