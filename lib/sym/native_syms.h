/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Native ELF function symbols (.symtab and .dynsym) sorted for address lookups. */
#ifndef GP_SYM_NATIVE_SYMS_H
#define GP_SYM_NATIVE_SYMS_H

#include <stddef.h>
#include <stdint.h>

#include "sym/elf_file.h"

struct gp_native_sym {
	uint64_t addr;
	uint64_t size;
	uint64_t limit;   /* first address past it: addr + size, or for size 0 the end of its
			     section (never past the text it is in) */
	const char *name; /* points into the ELF string table (mapped) */
};

struct gp_native_syms {
	struct gp_native_sym *syms;
	size_t n;
};

/* Loads function symbols of ef. Returns 0 (possibly with n == 0) or -ENOMEM. */
int gp_native_syms_load(struct gp_native_syms *ns, const struct gp_elf *ef);
void gp_native_syms_free(struct gp_native_syms *ns);
/*
 * The symbol containing addr: the last symbol starting at or before addr whose size covers
 * it (a symbol of size 0 covers up to the next symbol, within its section: an address
 * past the end of text, after runtime.etext, has no symbol). NULL if none.
 */
const struct gp_native_sym *gp_native_syms_find(const struct gp_native_syms *ns, uint64_t addr);

#endif
