// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Native function symbols from .symtab/.dynsym: one sorted array, binary searched. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/native_syms.h"

static int sym_cmp(const void *a, const void *b)
{
	const struct gp_native_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Same address: the sized symbol first, so it wins over aliases of size 0. */
	return (x->size < y->size) - (x->size > y->size);
}

static int load_table(struct gp_native_syms *ns, size_t *cap, const struct gp_elf *ef, uint32_t shtype)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != shtype || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = data->d_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			name = elf_strptr(ef->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (ns->n == *cap) {
				size_t ncap = *cap ? *cap * 2 : 256;
				struct gp_native_sym *s = realloc(ns->syms, ncap * sizeof(*s));

				if (!s)
					return -ENOMEM;
				ns->syms = s;
				*cap = ncap;
			}
			ns->syms[ns->n].addr = sym.st_value;
			ns->syms[ns->n].size = sym.st_size;
			ns->syms[ns->n].limit = sym.st_value + sym.st_size;
			if (!sym.st_size) {
				Elf_Scn *in = sym.st_shndx < SHN_LORESERVE ?
					      elf_getscn(ef->elf, sym.st_shndx) : NULL;
				GElf_Shdr ish;

				/* Up to the end of its section (nothing for a marker at the end,
				 * like runtime.etext); UINT64_MAX if the section is unknown. */
				ns->syms[ns->n].limit = UINT64_MAX;
				if (in && gelf_getshdr(in, &ish))
					ns->syms[ns->n].limit = ish.sh_addr + ish.sh_size > sym.st_value ?
								ish.sh_addr + ish.sh_size : sym.st_value;
			}
			ns->syms[ns->n].name = name;
			ns->n++;
		}
	}
	return 0;
}

int gp_native_syms_load(struct gp_native_syms *ns, const struct gp_elf *ef)
{
	size_t cap = 0, i, j;
	int err;

	memset(ns, 0, sizeof(*ns));
	if (!ef->elf)
		return 0;
	err = load_table(ns, &cap, ef, SHT_SYMTAB);
	if (!err)
		err = load_table(ns, &cap, ef, SHT_DYNSYM);
	if (err) {
		gp_native_syms_free(ns);
		return err;
	}
	if (!ns->n)
		return 0;
	qsort(ns->syms, ns->n, sizeof(*ns->syms), sym_cmp);
	/* Keep one symbol per address (the first after sorting: the largest size). */
	for (i = 1, j = 0; i < ns->n; i++)
		if (ns->syms[i].addr != ns->syms[j].addr)
			ns->syms[++j] = ns->syms[i];
	ns->n = j + 1;
	return 0;
}

void gp_native_syms_free(struct gp_native_syms *ns)
{
	free(ns->syms);
	memset(ns, 0, sizeof(*ns));
}

const struct gp_native_sym *gp_native_syms_find(const struct gp_native_syms *ns, uint64_t addr)
{
	size_t lo = 0, hi = ns->n;
	const struct gp_native_sym *s;

	if (!ns->n || addr < ns->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ns->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	s = &ns->syms[lo];
	if (addr >= s->limit)
		return NULL;
	return s;
}
