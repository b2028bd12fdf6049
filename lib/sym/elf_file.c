// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* ELF file access over a read-only mapping: sections, symbols, segments, notes, relocations. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sym/elf_file.h"

#ifndef R_AARCH64_RELATIVE
#define R_AARCH64_RELATIVE 1027
#endif

const uint8_t *gp_vmem_ptr(const struct gp_vmem *m, uint64_t vaddr, size_t len)
{
	size_t i;

	for (i = 0; i < m->nsegs; i++) {
		const struct gp_vseg *s = &m->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->len && s->len - (vaddr - s->vaddr) >= len)
			return s->data + (vaddr - s->vaddr);
	}
	return NULL;
}

size_t gp_vmem_avail(const struct gp_vmem *m, uint64_t vaddr, const uint8_t **p)
{
	size_t i;

	for (i = 0; i < m->nsegs; i++) {
		const struct gp_vseg *s = &m->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->len) {
			*p = s->data + (vaddr - s->vaddr);
			return s->len - (vaddr - s->vaddr);
		}
	}
	*p = NULL;
	return 0;
}

static int load_segments(struct gp_elf *ef)
{
	size_t phnum, i;
	bool base_set = false;

	if (elf_getphdrnum(ef->elf, &phnum) != 0)
		return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: cannot read ELF program headers: %s",
			      ef->path, elf_errmsg(-1));
	if (phnum > 65535)
		return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: implausible program header count %zu",
			      ef->path, phnum);
	ef->segs = calloc(phnum ? phnum : 1, sizeof(*ef->segs));
	if (!ef->segs)
		return gp_err(-ENOMEM, "%s: out of memory", ef->path);
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		struct gp_vseg *s;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* Only the part of the segment that is in the file has bytes we can read. */
		if (ph.p_offset > ef->size)
			continue;
		s = &ef->segs[ef->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->data = ef->map + ph.p_offset;
		s->len = GP_MIN(ph.p_filesz, ef->size - ph.p_offset);
		s->flags = ph.p_flags;
		if (!base_set) {
			ef->first_load_vaddr = ph.p_vaddr - ph.p_offset;
			base_set = true;
		}
	}
	ef->vmem.segs = ef->segs;
	ef->vmem.nsegs = ef->nsegs;
	return 0;
}

static int open_common(struct gp_elf *ef)
{
	GElf_Ehdr eh;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return gp_err(-ENOSYS, "libelf: version mismatch");
	ef->elf = elf_memory((char *)ef->map, ef->size);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF)
		return gp_err(-GOPROF_ERRNO_NOT_GO, "%s: not an ELF file", ef->path);
	if (!gelf_getehdr(ef->elf, &eh))
		return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: bad ELF header: %s", ef->path, elf_errmsg(-1));
	ef->is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
	ef->little_endian = eh.e_ident[EI_DATA] == ELFDATA2LSB;
	ef->machine = eh.e_machine;
	ef->type = eh.e_type;
	return load_segments(ef);
}

int gp_elf_open(struct gp_elf *ef, const char *path)
{
	struct stat st;
	void *map;
	int err;

	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
	ef->path = strdup(path);
	if (!ef->path)
		return gp_err(-ENOMEM, "out of memory");
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0) {
		err = -errno;
		gp_err(err, "open %s: %s", path, strerror(-err));
		goto fail;
	}
	if (fstat(ef->fd, &st) < 0) {
		err = -errno;
		gp_err(err, "stat %s: %s", path, strerror(-err));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = gp_err(-EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size < 64) {
		err = gp_err(-GOPROF_ERRNO_NOT_GO, "%s: too small to be an ELF file (%lld bytes)", path,
			     (long long)st.st_size);
		goto fail;
	}
	/*
	 * MAP_PRIVATE: pages are shared with the page cache and nothing is copied. PROT_WRITE
	 * only because libelf may convert data in place; we never write.
	 */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, ef->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		gp_err(err, "mmap %s: %s", path, strerror(-err));
		goto fail;
	}
	ef->map = map;
	ef->size = (size_t)st.st_size;
	ef->owns_map = true;
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	ef->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	err = open_common(ef);
	if (err)
		goto fail;
	return 0;
fail:
	gp_elf_close(ef);
	return err;
}

int gp_elf_open_mem(struct gp_elf *ef, const void *data, size_t size)
{
	int err;

	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
	ef->path = strdup("<memory>");
	if (!ef->path)
		return gp_err(-ENOMEM, "out of memory");
	ef->map = data;
	ef->size = size;
	if (size < 64) {
		gp_elf_close(ef);
		return gp_err(-GOPROF_ERRNO_NOT_GO, "image too small to be an ELF file");
	}
	err = open_common(ef);
	if (err)
		gp_elf_close(ef);
	return err;
}

void gp_elf_close(struct gp_elf *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->owns_map && ef->map)
		munmap((void *)ef->map, ef->size);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->segs);
	free(ef->path);
	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
}

/* Fills out from a section header; data only if the bytes lie inside the file. */
static bool fill_section(const struct gp_elf *ef, Elf_Scn *scn, size_t shstrndx, struct gp_elf_sec *out)
{
	GElf_Shdr sh;
	const char *name;

	if (!gelf_getshdr(scn, &sh))
		return false;
	name = elf_strptr(ef->elf, shstrndx, sh.sh_name);
	out->name = name ? name : "";
	out->addr = sh.sh_addr;
	out->offset = sh.sh_offset;
	out->size = sh.sh_size;
	out->type = sh.sh_type;
	out->flags = sh.sh_flags;
	out->data = NULL;
	if (sh.sh_type != SHT_NOBITS && sh.sh_offset <= ef->size && sh.sh_size <= ef->size - sh.sh_offset)
		out->data = ef->map + sh.sh_offset;
	return true;
}

int gp_elf_foreach_section(const struct gp_elf *ef,
			   int (*cb)(const struct gp_elf_sec *sec, void *ctx), void *ctx)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	struct gp_elf_sec sec;
	int ret;

	if (!ef->elf || elf_getshdrstrndx(ef->elf, &shstrndx) != 0)
		return 0;
	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		if (!fill_section(ef, scn, shstrndx, &sec))
			continue;
		ret = cb(&sec, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

struct find_sec_ctx {
	const char *name;
	struct gp_elf_sec *out;
};

static int find_sec_cb(const struct gp_elf_sec *sec, void *ctx)
{
	struct find_sec_ctx *c = ctx;

	if (strcmp(sec->name, c->name) != 0)
		return 0;
	*c->out = *sec;
	return 1;
}

bool gp_elf_section(const struct gp_elf *ef, const char *name, struct gp_elf_sec *out)
{
	struct find_sec_ctx c = { .name = name, .out = out };

	return gp_elf_foreach_section(ef, find_sec_cb, &c) == 1;
}

/* One pass over a symbol table looking for several names; returns how many were found. */
static size_t symbols_in(const struct gp_elf *ef, uint32_t shtype, const char *const *names, uint64_t *values,
			 bool *found, size_t n)
{
	Elf_Scn *scn = NULL;
	size_t nfound = 0, k;

	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		GElf_Shdr sh, strsh;
		Elf_Scn *strscn;
		const uint8_t *syms, *strs;
		size_t i, count;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != shtype || !sh.sh_entsize)
			continue;
		strscn = elf_getscn(ef->elf, sh.sh_link);
		if (!strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB)
			continue;
		/* Walk the mapped tables directly: a Go binary has ~100k symbols. */
		if (!ef->is64 || !ef->little_endian || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_offset > ef->size ||
		    sh.sh_size > ef->size - sh.sh_offset || strsh.sh_offset > ef->size ||
		    strsh.sh_size > ef->size - strsh.sh_offset)
			continue;
		syms = ef->map + sh.sh_offset;
		strs = ef->map + strsh.sh_offset;
		count = sh.sh_size / sizeof(Elf64_Sym);
		for (i = 0; i < count && nfound < n; i++) {
			const uint8_t *sym = syms + i * sizeof(Elf64_Sym);
			uint32_t st_name = gp_le32(sym);
			const char *sname;

			if (st_name >= strsh.sh_size)
				continue;
			sname = (const char *)strs + st_name;
			for (k = 0; k < n; k++) {
				size_t nlen = strlen(names[k]) + 1;

				if (!found[k] && strsh.sh_size - st_name >= nlen && sname[0] == names[k][0] &&
				    memcmp(sname, names[k], nlen) == 0) {
					values[k] = gp_le64(sym + 8);
					found[k] = true;
					nfound++;
				}
			}
		}
	}
	return nfound;
}

size_t gp_elf_symbols(const struct gp_elf *ef, const char *const *names, uint64_t *values, size_t n)
{
	bool found[8] = { false };
	size_t got;

	if (!ef->elf || n > ARRAY_SIZE(found))
		return 0;
	got = symbols_in(ef, SHT_SYMTAB, names, values, found, n);
	if (got < n)
		got += symbols_in(ef, SHT_DYNSYM, names, values, found, n);
	for (size_t k = 0; k < n; k++)
		if (!found[k])
			values[k] = 0;
	return got;
}

bool gp_elf_symbol(const struct gp_elf *ef, const char *name, uint64_t *value, uint64_t *size)
{
	const char *names[1] = { name };

	if (size)
		*size = 0;
	return gp_elf_symbols(ef, names, value, 1) == 1;
}

/* Finds the SHT_RELA sections once (64-bit little-endian files only: Elf64_Rela in place). */
static void find_rela(struct gp_elf *ef)
{
	Elf_Scn *scn = NULL;

	if (ef->rela_loaded)
		return;
	ef->rela_loaded = true;
	ef->relative_type = ef->machine == EM_AARCH64 ? R_AARCH64_RELATIVE : R_X86_64_RELATIVE;
	if (!ef->elf || !ef->is64 || !ef->little_endian)
		return;
	while ((scn = elf_nextscn(ef->elf, scn)) != NULL && ef->nrela < ARRAY_SIZE(ef->rela)) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_entsize != sizeof(Elf64_Rela) ||
		    sh.sh_offset > ef->size || sh.sh_size > ef->size - sh.sh_offset)
			continue;
		ef->rela[ef->nrela].data = ef->map + sh.sh_offset;
		ef->rela[ef->nrela].count = sh.sh_size / sizeof(Elf64_Rela);
		ef->nrela++;
	}
	if (ef->nrela)
		return;
	/* No section headers (sstrip): the dynamic segment's DT_RELA/DT_RELASZ still say where. */
	{
		size_t phnum, i;
		uint64_t rela = 0, relasz = 0;

		if (elf_getphdrnum(ef->elf, &phnum) != 0)
			return;
		for (i = 0; i < phnum && i < 65536; i++) {
			GElf_Phdr ph;
			const uint8_t *d;
			size_t k;

			if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_DYNAMIC ||
			    ph.p_offset > ef->size || ph.p_filesz > ef->size - ph.p_offset)
				continue;
			d = ef->map + ph.p_offset;
			for (k = 0; k + 16 <= ph.p_filesz; k += 16) {
				uint64_t tag = gp_le64(d + k), val = gp_le64(d + k + 8);

				if (tag == DT_NULL)
					break;
				if (tag == DT_RELA)
					rela = val;
				else if (tag == DT_RELASZ)
					relasz = val;
			}
		}
		if (rela && relasz && relasz < ef->size) {
			const uint8_t *p = gp_vmem_ptr(&ef->vmem, rela, relasz);

			if (p) {
				ef->rela[0].data = p;
				ef->rela[0].count = relasz / sizeof(Elf64_Rela);
				ef->nrela = 1;
			}
		}
	}
}

/* Visits RELATIVE relocations; cb returns true to stop. */
static bool foreach_relative(struct gp_elf *ef, bool (*cb)(uint64_t off, uint64_t addend, void *ctx), void *ctx)
{
	size_t t, i;

	find_rela(ef);
	for (t = 0; t < ef->nrela; t++) {
		const uint8_t *p = ef->rela[t].data;

		for (i = 0; i < ef->rela[t].count; i++, p += sizeof(Elf64_Rela))
			if ((uint32_t)gp_le64(p + 8) == ef->relative_type && cb(gp_le64(p), gp_le64(p + 16), ctx))
				return true;
	}
	return false;
}

struct reloc_at_ctx {
	uint64_t vaddr, addend;
};

static bool reloc_at_cb(uint64_t off, uint64_t addend, void *ctx)
{
	struct reloc_at_ctx *c = ctx;

	if (off != c->vaddr)
		return false;
	c->addend = addend;
	return true;
}

bool gp_elf_read_addr(struct gp_elf *ef, uint64_t vaddr, uint64_t *out)
{
	const uint8_t *p;

	if (ef->type == ET_DYN) {
		struct reloc_at_ctx c = { .vaddr = vaddr };

		if (foreach_relative(ef, reloc_at_cb, &c)) {
			*out = c.addend;
			return true;
		}
	}
	p = gp_vmem_ptr(&ef->vmem, vaddr, ef->is64 ? 8 : 4);
	if (!p)
		return false;
	*out = ef->is64 ? gp_le64(p) : gp_le32(p);
	return true;
}

struct relocs_to_ctx {
	uint64_t addend;
	bool (*cb)(uint64_t vaddr, void *ctx);
	void *ctx;
};

static bool relocs_to_cb(uint64_t off, uint64_t addend, void *ctx)
{
	struct relocs_to_ctx *c = ctx;

	return addend == c->addend && c->cb(off, c->ctx);
}

bool gp_elf_find_relocs_to(struct gp_elf *ef, uint64_t addend,
			   bool (*cb)(uint64_t vaddr, void *ctx), void *ctx)
{
	struct relocs_to_ctx c = { .addend = addend, .cb = cb, .ctx = ctx };

	return foreach_relative(ef, relocs_to_cb, &c);
}

/* Walks the notes in [p, p+len); returns the desc length of the first match. */
static size_t scan_notes(const uint8_t *p, size_t len, const char *owner, uint32_t type,
			 const uint8_t **desc)
{
	size_t off = 0, olen = strlen(owner) + 1;

	while (len - off >= 12) {
		uint32_t namesz = gp_le32(p + off), descsz = gp_le32(p + off + 4), t = gp_le32(p + off + 8);
		size_t nameoff = off + 12;
		size_t name_pad = ((size_t)namesz + 3) & ~(size_t)3;
		size_t descoff, desc_pad;

		if (name_pad > len - nameoff)
			break;
		descoff = nameoff + name_pad;
		desc_pad = ((size_t)descsz + 3) & ~(size_t)3;
		if (desc_pad > len - descoff)
			break;
		/* Go pads its owner "Go" to namesz 4 with NULs. */
		if (t == type && namesz >= olen && memcmp(p + nameoff, owner, olen) == 0) {
			*desc = p + descoff;
			return descsz;
		}
		off = descoff + desc_pad;
	}
	return 0;
}

struct note_ctx {
	const char *owner;
	uint32_t type;
	const uint8_t **desc;
	size_t len;
};

static int note_sec_cb(const struct gp_elf_sec *sec, void *ctx)
{
	struct note_ctx *c = ctx;

	if (sec->type != SHT_NOTE || !sec->data)
		return 0;
	c->len = scan_notes(sec->data, sec->size, c->owner, c->type, c->desc);
	return c->len != 0;
}

size_t gp_elf_find_note(const struct gp_elf *ef, const char *owner, uint32_t type, const uint8_t **desc)
{
	struct note_ctx c = { .owner = owner, .type = type, .desc = desc };
	size_t phnum, i;

	if (!ef->elf)
		return 0;
	if (gp_elf_foreach_section(ef, note_sec_cb, &c))
		return c.len;
	/* Sections can be stripped; the PT_NOTE segments stay. */
	if (elf_getphdrnum(ef->elf, &phnum) != 0)
		return 0;
	for (i = 0; i < phnum && i < 65536; i++) {
		GElf_Phdr ph;
		size_t n;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > ef->size || ph.p_filesz > ef->size - ph.p_offset)
			continue;
		n = scan_notes(ef->map + ph.p_offset, ph.p_filesz, owner, type, desc);
		if (n)
			return n;
	}
	return 0;
}

size_t gp_elf_gnu_build_id(const struct gp_elf *ef, const uint8_t **out)
{
	return gp_elf_find_note(ef, "GNU", NT_GNU_BUILD_ID, out);
}
