// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* /proc/kallsyms: "ffffffff81000000 T _text" and "ffffffffc0a01000 t fn\t[mod]" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/kallsyms.h"

static int ksym_cmp(const void *a, const void *b)
{
	const struct gp_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Appends s to the string pool; returns its offset or UINT32_MAX on failure. */
static uint32_t pool_add(struct gp_kallsyms *ks, size_t *cap, const char *s, size_t len)
{
	uint32_t off;

	if (ks->strings_len + len + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 1 << 20;
		char *p;

		while (ncap < ks->strings_len + len + 1)
			ncap *= 2;
		if (ncap > UINT32_MAX || !(p = realloc(ks->strings, ncap)))
			return UINT32_MAX;
		ks->strings = p;
		*cap = ncap;
	}
	off = (uint32_t)ks->strings_len;
	memcpy(ks->strings + off, s, len);
	ks->strings[off + len] = '\0';
	ks->strings_len += len + 1;
	return off;
}

int gp_kallsyms_load(struct gp_kallsyms *ks, const char *path)
{
	FILE *f;
	char line[1024], last_mod[256] = "";
	size_t cap = 0, scap = 0;
	uint32_t kernel_mod, mod_off = 0;
	bool nonzero = false;

	memset(ks, 0, sizeof(*ks));
	f = fopen(path, "re");
	if (!f)
		return gp_err(-errno, "open %s: %s", path, strerror(errno));
	kernel_mod = pool_add(ks, &scap, "[kernel]", 8);
	if (kernel_mod == UINT32_MAX)
		goto nomem;
	while (fgets(line, sizeof(line), f)) {
		char *end, *name, *mod, type;
		uint64_t addr = strtoull(line, &end, 16);
		size_t nlen;

		if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		/* Text symbols only: those are what stacks point into. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		nlen = strcspn(name, "\t\n");
		mod = name[nlen] == '\t' ? name + nlen + 1 : NULL;
		if (addr)
			nonzero = true;
		if (ks->n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct gp_ksym *s = realloc(ks->syms, ncap * sizeof(*s));

			if (!s)
				goto nomem;
			ks->syms = s;
			cap = ncap;
		}
		ks->syms[ks->n].addr = addr;
		ks->syms[ks->n].name = pool_add(ks, &scap, name, nlen);
		if (ks->syms[ks->n].name == UINT32_MAX)
			goto nomem;
		if (mod) {
			size_t mlen = strcspn(mod, "\n");

			/* Lines of one module are consecutive: intern its name once. */
			if (mlen >= sizeof(last_mod) || strncmp(mod, last_mod, mlen) || last_mod[mlen]) {
				snprintf(last_mod, sizeof(last_mod), "%.*s", (int)GP_MIN(mlen, sizeof(last_mod) - 1), mod);
				mod_off = pool_add(ks, &scap, mod, mlen);
				if (mod_off == UINT32_MAX)
					goto nomem;
			}
			ks->syms[ks->n].module = mod_off;
		} else {
			ks->syms[ks->n].module = kernel_mod;
		}
		ks->n++;
	}
	fclose(f);
	if (!ks->n) {
		gp_kallsyms_free(ks);
		return gp_err(-ENOENT, "%s: no kernel text symbols", path);
	}
	if (!nonzero) {
		gp_kallsyms_free(ks);
		return gp_err(-EACCES, "%s: addresses are hidden (kernel.kptr_restrict); needs CAP_SYSLOG "
			      "or root with kptr_restrict <= 1", path);
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), ksym_cmp);
	return 0;
nomem:
	fclose(f);
	gp_kallsyms_free(ks);
	return gp_err(-ENOMEM, "%s: out of memory", path);
}

void gp_kallsyms_free(struct gp_kallsyms *ks)
{
	free(ks->syms);
	free(ks->strings);
	memset(ks, 0, sizeof(*ks));
}

const struct gp_ksym *gp_kallsyms_find(const struct gp_kallsyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->n;

	if (!ks->n || addr < ks->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Past the last symbol: only trust a small distance (its size is unknown). */
	if (lo == ks->n - 1 && addr - ks->syms[lo].addr > (1u << 20))
		return NULL;
	return &ks->syms[lo];
}
