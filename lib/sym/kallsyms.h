/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* Kernel symbols from /proc/kallsyms (core kernel and modules), sorted for lookups. */
#ifndef GP_SYM_KALLSYMS_H
#define GP_SYM_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>

struct gp_ksym {
	uint64_t addr;
	uint32_t name;   /* offset into strings */
	uint32_t module; /* offset into strings of "[mod]" or "[kernel]" */
};

struct gp_kallsyms {
	struct gp_ksym *syms;
	size_t n;
	char *strings;
	size_t strings_len;
};

/*
 * Loads text symbols from path (normally /proc/kallsyms). Returns 0, -EACCES if every
 * address reads as zero (kptr_restrict), -ENOENT, or -ENOMEM; the error is recorded.
 */
int gp_kallsyms_load(struct gp_kallsyms *ks, const char *path);
void gp_kallsyms_free(struct gp_kallsyms *ks);
/* The symbol containing addr (last symbol at or before it), or NULL. */
const struct gp_ksym *gp_kallsyms_find(const struct gp_kallsyms *ks, uint64_t addr);

static inline const char *gp_ksym_name(const struct gp_kallsyms *ks, const struct gp_ksym *s)
{
	return ks->strings + s->name;
}

static inline const char *gp_ksym_module(const struct gp_kallsyms *ks, const struct gp_ksym *s)
{
	return ks->strings + s->module;
}

#endif
