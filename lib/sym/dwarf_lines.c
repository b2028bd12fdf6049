// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * DWARF line rows of native code via libdwarf, fed from our own ELF mapping (object
 * access interface) so compressed debug sections work with zlib and zstd alike.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if __has_include(<libdwarf/libdwarf.h>)
#include <libdwarf/libdwarf.h>
#include <libdwarf/dwarf.h>
#else
#include <libdwarf.h>
#include <dwarf.h>
#endif

#include <zlib.h>
#include <zstd.h>

#include "internal.h"
#include "sym/dwarf_lines.h"
#include "sym/elf_file.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

#define MAX_ROWS (64u << 20) /* a hostile file cannot make us allocate without bound */

struct loader {
	struct gp_dwarf_lines *dl;
	size_t cap, files_cap;
	/* Interning: open-addressed hash of file name -> index. */
	uint32_t *hash;
	size_t hash_cap;
	bool oom;
	const uint8_t *debug_line; /* .debug_line of the file being loaded (for v5 tables) */
	size_t debug_line_len;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool hash_grow(struct loader *ld)
{
	size_t ncap = ld->hash_cap ? ld->hash_cap * 2 : 1024, i;
	uint32_t *nh = malloc(ncap * sizeof(*nh));

	if (!nh)
		return false;
	memset(nh, 0xff, ncap * sizeof(*nh));
	for (i = 0; i < ld->dl->nfiles; i++) {
		size_t j = str_hash(ld->dl->files[i]) & (ncap - 1);

		while (nh[j] != UINT32_MAX)
			j = (j + 1) & (ncap - 1);
		nh[j] = (uint32_t)i;
	}
	free(ld->hash);
	ld->hash = nh;
	ld->hash_cap = ncap;
	return true;
}

static uint32_t intern(struct loader *ld, const char *s)
{
	size_t j;

	if (ld->dl->nfiles * 2 >= ld->hash_cap && !hash_grow(ld))
		return UINT32_MAX;
	for (j = str_hash(s) & (ld->hash_cap - 1); ld->hash[j] != UINT32_MAX; j = (j + 1) & (ld->hash_cap - 1))
		if (strcmp(ld->dl->files[ld->hash[j]], s) == 0)
			return ld->hash[j];
	if (ld->dl->nfiles == ld->files_cap) {
		size_t ncap = ld->files_cap ? ld->files_cap * 2 : 256;
		char **nf = realloc(ld->dl->files, ncap * sizeof(*nf));

		if (!nf)
			return UINT32_MAX;
		ld->dl->files = nf;
		ld->files_cap = ncap;
	}
	ld->dl->files[ld->dl->nfiles] = strdup(s);
	if (!ld->dl->files[ld->dl->nfiles])
		return UINT32_MAX;
	ld->hash[j] = (uint32_t)ld->dl->nfiles;
	return (uint32_t)ld->dl->nfiles++;
}

static bool add_row(struct loader *ld, uint64_t addr, uint32_t file, uint32_t line)
{
	struct gp_dwarf_lines *dl = ld->dl;

	if (dl->n == ld->cap) {
		size_t ncap = ld->cap ? ld->cap * 2 : 4096;
		struct gp_line_row *nr;

		if (ncap > MAX_ROWS || !(nr = realloc(dl->rows, ncap * sizeof(*nr))))
			return false;
		dl->rows = nr;
		ld->cap = ncap;
	}
	dl->rows[dl->n].addr = addr;
	dl->rows[dl->n].file = file;
	dl->rows[dl->n].line = line;
	dl->n++;
	return true;
}

static bool uleb(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*pp < end && shift < 64) {
		uint8_t b = *(*pp)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

static bool sleb(const uint8_t **pp, const uint8_t *end, int64_t *v)
{
	unsigned shift = 0;
	uint64_t r = 0;

	while (*pp < end && shift < 64) {
		uint8_t b = *(*pp)++;

		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				r |= ~0ull << shift;
			*v = (int64_t)r;
			return true;
		}
	}
	return false;
}

/* A row's file when the program names a file the CU's table does not have. */
#define NO_FILE (UINT32_MAX - 1)

/*
 * Runs the line program (DWARF 2-5) at off in .debug_line and appends its rows. files
 * maps the program's file numbers to interned names (files[0] is file 0: DWARF 5 numbers
 * from 0, earlier versions from 1 and leave files[0] unused). The rows are the ones
 * libdwarf lists (every copy, special opcode and end of sequence); decoding here instead
 * of through dwarf_srclines_b() makes no allocation per row: libc's 290,000 rows took
 * 317 ms that way, long enough to hold up the poller at a process's first native sample.
 * It also starts each sequence at file 1, as the standard says (libdwarf 20210528 starts
 * DWARF 5 sequences at 0: cgo rows named the generated file instead of the .go file).
 */
static void run_line_program(struct loader *ld, uint64_t off, const uint32_t *files, size_t nfiles)
{
	const uint8_t *sec = ld->debug_line, *p, *end, *prog;
	uint64_t unit, hlen, addr = 0, file = 1;
	int64_t line = 1;
	uint8_t version, min_len, line_range, opbase, oplen[256] = { 0 };
	int8_t line_base;
	unsigned osz = 4;

	if (!sec || off >= ld->debug_line_len || ld->debug_line_len - off < 16)
		return;
	p = sec + off;
	end = sec + ld->debug_line_len;
	unit = gp_le32(p);
	p += 4;
	if (unit == 0xffffffffu) {
		unit = gp_le64(p);
		p += 8;
		osz = 8;
	}
	if (unit > (uint64_t)(end - p) || unit < 2 + osz + 6)
		return;
	end = p + unit;
	version = (uint8_t)gp_le16(p);
	if (gp_le16(p) < 2 || gp_le16(p) > 5)
		return;
	p += 2 + (version == 5 ? 2 : 0); /* version; v5: address_size, segment_selector_size */
	hlen = osz == 8 ? gp_le64(p) : gp_le32(p);
	p += osz;
	if (hlen > (uint64_t)(end - p) || hlen < (version >= 4 ? 6u : 5u))
		return;
	prog = p + hlen;
	min_len = *p++;
	if (version >= 4)
		p++; /* maximum_operations_per_instruction: VLIW only */
	p++;	 /* default_is_stmt: every row is listed either way */
	line_base = (int8_t)*p++;
	line_range = *p++;
	opbase = *p++;
	if (!line_range || !opbase || (size_t)(prog - p) < opbase - 1u)
		return;
	memcpy(oplen + 1, p, opbase - 1u);
	for (p = prog; p < end && !ld->oom;) {
		uint8_t op = *p++;
		uint64_t v;
		int64_t sv;
		bool emit = false, end_seq = false;

		if (op >= opbase) {
			unsigned adj = op - opbase;

			addr += (uint64_t)min_len * (adj / line_range);
			line += line_base + (int)(adj % line_range);
			emit = true;
		} else if (op == 0) { /* extended: length, sub-opcode, operands */
			const uint8_t *next;

			if (!uleb(&p, end, &v) || !v || v > (uint64_t)(end - p))
				return;
			next = p + v;
			if (*p == 1) { /* end_sequence */
				emit = end_seq = true;
			} else if (*p == 2 && (v == 9 || v == 5)) { /* set_address */
				addr = v == 9 ? gp_le64(p + 1) : gp_le32(p + 1);
			}
			p = next;
		} else if (op == 1) { /* copy */
			emit = true;
		} else if (op == 2) { /* advance_pc */
			if (!uleb(&p, end, &v))
				return;
			addr += v * min_len;
		} else if (op == 3) { /* advance_line */
			if (!sleb(&p, end, &sv))
				return;
			line += sv;
		} else if (op == 4) { /* set_file */
			if (!uleb(&p, end, &file))
				return;
		} else if (op == 8) { /* const_add_pc */
			addr += (uint64_t)min_len * ((255u - opbase) / line_range);
		} else if (op == 9) { /* fixed_advance_pc: a uhalf */
			if (end - p < 2)
				return;
			addr += gp_le16(p);
			p += 2;
		} else { /* others, known or not: their operands are ULEBs */
			for (unsigned i = 0; i < oplen[op]; i++)
				if (!uleb(&p, end, &v))
					return;
		}
		if (!emit)
			continue;
		if (end_seq) {
			if (!add_row(ld, addr, UINT32_MAX, 0))
				ld->oom = true;
			addr = 0;
			file = 1;
			line = 1;
		} else if (!add_row(ld, addr, file < nfiles ? files[file] : NO_FILE,
				    line > 0 && line <= UINT32_MAX ? (uint32_t)line : 0)) {
			ld->oom = true;
		}
	}
}

/* The CU's line program offset in .debug_line (DW_AT_stmt_list). */
static bool stmt_list(Dwarf_Debug dbg, Dwarf_Die cu, uint64_t *off)
{
	Dwarf_Attribute attr = NULL;
	Dwarf_Error err = NULL;
	Dwarf_Off o = 0;
	Dwarf_Unsigned u = 0;
	bool ok = false;

	if (dwarf_attr(cu, DW_AT_stmt_list, &attr, &err) == DW_DLV_OK) {
		if (dwarf_global_formref(attr, &o, &err) == DW_DLV_OK) {
			*off = o;
			ok = true;
		} else {
			if (err) {
				dwarf_dealloc(dbg, err, DW_DLA_ERROR);
				err = NULL;
			}
			if (dwarf_formudata(attr, &u, &err) == DW_DLV_OK) {
				*off = u;
				ok = true;
			}
		}
		dwarf_dealloc(dbg, attr, DW_DLA_ATTR);
	}
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	return ok;
}

/* Skips one attribute of form `form` in a DWARF 5 line header (offsets are osz bytes);
 * false for a form a line header has no business holding, or past end. */
static bool skip_form(const uint8_t **pp, const uint8_t *end, uint64_t form, unsigned osz)
{
	uint64_t v;
	size_t n;

	switch (form) {
	case 0x08: /* DW_FORM_string */
		n = strnlen((const char *)*pp, (size_t)(end - *pp));
		if (n == (size_t)(end - *pp))
			return false;
		*pp += n + 1;
		return true;
	case 0x0f: /* udata */
	case 0x1a: /* strx */
		return uleb(pp, end, &v);
	case 0x09: /* block */
		if (!uleb(pp, end, &v) || v > (uint64_t)(end - *pp))
			return false;
		*pp += v;
		return true;
	case 0x0b: case 0x25: n = 1; break;           /* data1, strx1 */
	case 0x05: case 0x26: n = 2; break;           /* data2, strx2 */
	case 0x27: n = 3; break;                      /* strx3 */
	case 0x06: case 0x28: n = 4; break;           /* data4, strx4 */
	case 0x07: n = 8; break;                      /* data8 */
	case 0x1e: n = 16; break;                     /* data16 */
	case 0x0e: case 0x1f: n = osz; break;         /* strp, line_strp */
	default:
		return false;
	}
	if (n > (size_t)(end - *pp))
		return false;
	*pp += n;
	return true;
}

/* Skips a DWARF 5 entry-format list and its entries; false when the count cannot be
 * true: every entry takes at least one byte of the header. */
static bool skip_v5_entries(const uint8_t **pp, const uint8_t *end, unsigned osz)
{
	uint64_t forms[2 * 16], count;
	uint8_t nformats;

	if (*pp >= end)
		return false;
	nformats = *(*pp)++;
	if (nformats > 16)
		return false;
	for (unsigned i = 0; i < 2u * nformats; i++)
		if (!uleb(pp, end, &forms[i]))
			return false;
	if (!uleb(pp, end, &count) || count > (uint64_t)(end - *pp) || (count && !nformats))
		return false;
	for (uint64_t e = 0; e < count; e++)
		for (unsigned i = 0; i < nformats; i++)
			if (!skip_form(pp, end, forms[2 * i + 1], osz))
				return false;
	return true;
}

/*
 * libdwarf 20210528 allocates what a DWARF 5 line header's directory and file counts
 * claim before it reads the entries (4 GB for one the fuzzer made): such a header is
 * checked here first, and a CU whose header does not hold its entries gets no file names.
 */
static bool v5_header_plausible(const struct loader *ld, uint64_t off)
{
	const uint8_t *p = ld->debug_line + off, *end = ld->debug_line + ld->debug_line_len;
	uint64_t unit, hlen;
	unsigned osz = 4;
	uint8_t opbase;

	unit = gp_le32(p);
	p += 4;
	if (unit == 0xffffffffu) {
		if (end - p < 8)
			return false;
		unit = gp_le64(p);
		p += 8;
		osz = 8;
	}
	if (unit > (uint64_t)(end - p) || unit < 4u + osz + 7u)
		return false;
	end = p + unit;
	p += 4; /* version, address_size, segment_selector_size */
	hlen = osz == 8 ? gp_le64(p) : gp_le32(p);
	p += osz;
	if (hlen > (uint64_t)(end - p) || hlen < 7)
		return false;
	end = p + hlen;
	p += 5; /* minimum_instruction_length .. line_range */
	opbase = *p++;
	if (!opbase || (size_t)(end - p) < opbase - 1u)
		return false;
	p += opbase - 1u;
	return skip_v5_entries(&p, end, osz) && skip_v5_entries(&p, end, osz);
}

/* Appends the rows of one CU's line table. */
static void load_cu_lines(Dwarf_Debug dbg, Dwarf_Die cu, struct loader *ld)
{
	Dwarf_Error err = NULL;
	Dwarf_Unsigned lang = 0;
	Dwarf_Signed nnames = 0;
	Dwarf_Half version;
	char **names = NULL;
	uint32_t *files = NULL;
	size_t nfiles = 0, first;
	uint64_t off;

	if (dwarf_srclang(cu, &lang, &err) == DW_DLV_OK && lang == DW_LANG_Go)
		return; /* the pclntab covers Go code */
	if (err) {
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		err = NULL;
	}
	if (!stmt_list(dbg, cu, &off) || off >= ld->debug_line_len || ld->debug_line_len - off < 6)
		return;
	/* dwarf_srcfiles() lists file 1 first before DWARF 5, file 0 first in it. */
	version = gp_le16(ld->debug_line + off + (gp_le32(ld->debug_line + off) == 0xffffffffu ? 12 : 4));
	first = version >= 5 ? 0 : 1;
	if ((version < 5 || v5_header_plausible(ld, off)) &&
	    dwarf_srcfiles(cu, &names, &nnames, &err) == DW_DLV_OK && nnames > 0 &&
	    (files = malloc(((size_t)nnames + first) * sizeof(*files)))) {
		files[0] = NO_FILE;
		for (Dwarf_Signed k = 0; k < nnames && !ld->oom; k++) {
			files[first + (size_t)k] = intern(ld, names[k]);
			if (files[first + (size_t)k] == UINT32_MAX)
				ld->oom = true;
		}
		nfiles = (size_t)nnames + first;
	}
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	for (Dwarf_Signed k = 0; k < nnames; k++)
		dwarf_dealloc(dbg, names[k], DW_DLA_STRING);
	if (names)
		dwarf_dealloc(dbg, names, DW_DLA_LIST);
	if (!ld->oom)
		run_line_program(ld, off, files, nfiles);
	free(files);
}

struct seq {
	uint64_t first_addr;
	size_t start, len;
};

static int seq_cmp(const void *a, const void *b)
{
	const struct seq *x = a, *y = b;

	if (x->first_addr != y->first_addr)
		return x->first_addr < y->first_addr ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/*
 * Orders rows by address while keeping each sequence's rows in their original order
 * (rows sharing an address must stay in table order: the last one describes the code).
 * Sequences end with an end-of-sequence row; we sort whole sequences.
 */
static bool sort_sequences(struct gp_dwarf_lines *dl)
{
	struct seq *seqs = NULL;
	struct gp_line_row *out;
	size_t nseq = 0, cap = 0, i, start = 0, k = 0;

	for (i = 0; i < dl->n; i++) {
		if (dl->rows[i].file != UINT32_MAX && i + 1 < dl->n)
			continue;
		if (nseq == cap) {
			struct seq *ns = realloc(seqs, (cap = cap ? cap * 2 : 64) * sizeof(*ns));

			if (!ns) {
				free(seqs);
				return false;
			}
			seqs = ns;
		}
		seqs[nseq].first_addr = dl->rows[start].addr;
		seqs[nseq].start = start;
		seqs[nseq].len = i + 1 - start;
		nseq++;
		start = i + 1;
	}
	out = malloc(dl->n * sizeof(*out));
	if (!out) {
		free(seqs);
		return false;
	}
	qsort(seqs, nseq, sizeof(*seqs), seq_cmp);
	for (i = 0; i < nseq; i++) {
		memcpy(out + k, dl->rows + seqs[i].start, seqs[i].len * sizeof(*out));
		k += seqs[i].len;
	}
	free(dl->rows);
	dl->rows = out;
	free(seqs);
	return true;
}

/*
 * libdwarf object access over our own ELF mapping, so that compressed debug sections are
 * decompressed here: zlib and zstd (SHF_COMPRESSED), which this libdwarf cannot do alone.
 */
#define MAX_DECOMPRESSED (1ull << 30)

struct dw_obj {
	struct gp_elf *ef;
	size_t shnum;
	uint8_t **owned; /* decompressed sections, freed with the object */
};

static int obj_section_hdr(struct dw_obj *o, Dwarf_Half idx, GElf_Shdr *sh, const char **name)
{
	Elf_Scn *scn = elf_getscn(o->ef->elf, idx);
	size_t shstrndx;

	if (!scn || !gelf_getshdr(scn, sh) || elf_getshdrstrndx(o->ef->elf, &shstrndx) != 0)
		return DW_DLV_NO_ENTRY;
	*name = elf_strptr(o->ef->elf, shstrndx, sh->sh_name);
	if (!*name)
		*name = "";
	return DW_DLV_OK;
}

/* Uncompressed size of a SHF_COMPRESSED section (Elf64_Chdr), or 0. */
static uint64_t chdr_size(const struct gp_elf *ef, const GElf_Shdr *sh, uint32_t *type, size_t *hdr_len)
{
	const uint8_t *p;

	if (!(sh->sh_flags & SHF_COMPRESSED) || sh->sh_type == SHT_NOBITS || sh->sh_offset > ef->size ||
	    sh->sh_size > ef->size - sh->sh_offset || sh->sh_size < 24 || !ef->is64)
		return 0;
	p = ef->map + sh->sh_offset;
	*type = gp_le32(p);
	*hdr_len = 24;
	return gp_le64(p + 8);
}

/*
 * Sections the line tables do not need and libdwarf (20210528, Debian 12) reads when it
 * loads a CU: range and location lists. Fuzzing found a double free in its
 * dwarf_load_rnglists() on a malformed .debug_rnglists (an all-zero unit); a profiled
 * process's binary is untrusted input, so libdwarf does not get to see them.
 */
static bool unneeded_section(const char *name)
{
	static const char *const skip[] = { "rnglists", "loclists", "ranges", "loc" };

	if (!strncmp(name, ".debug_", 7))
		name += 7;
	else if (!strncmp(name, ".zdebug_", 8))
		name += 8;
	else
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(name, skip[i]) || (!strncmp(name, skip[i], strlen(skip[i])) &&
					       !strcmp(name + strlen(skip[i]), ".dwo")))
			return true;
	return false;
}

static int obj_get_section_info(void *obj, Dwarf_Half idx, Dwarf_Obj_Access_Section *ret, int *error)
{
	struct dw_obj *o = obj;
	GElf_Shdr sh;
	const char *name;
	uint32_t ctype;
	size_t hl;
	uint64_t usize;

	if (obj_section_hdr(o, idx, &sh, &name) != DW_DLV_OK)
		return DW_DLV_NO_ENTRY;
	memset(ret, 0, sizeof(*ret));
	ret->addr = sh.sh_addr;
	ret->type = sh.sh_type;
	ret->size = sh.sh_size;
	ret->name = unneeded_section(name) ? ".goprof.hidden" : name;
	ret->link = sh.sh_link;
	ret->info = sh.sh_info;
	ret->entrysize = sh.sh_entsize;
	usize = chdr_size(o->ef, &sh, &ctype, &hl);
	if (usize && usize <= MAX_DECOMPRESSED)
		ret->size = usize;
	return DW_DLV_OK;
}

static Dwarf_Endianness obj_get_byte_order(void *obj)
{
	return ((struct dw_obj *)obj)->ef->little_endian ? DW_OBJECT_LSB : DW_OBJECT_MSB;
}

static Dwarf_Small obj_get_length_size(void *obj)
{
	return 4;
}

static Dwarf_Small obj_get_pointer_size(void *obj)
{
	return ((struct dw_obj *)obj)->ef->is64 ? 8 : 4;
}

static Dwarf_Unsigned obj_get_section_count(void *obj)
{
	return ((struct dw_obj *)obj)->shnum;
}

static int obj_load_section(void *obj, Dwarf_Half idx, Dwarf_Small **data, int *error)
{
	struct dw_obj *o = obj;
	GElf_Shdr sh;
	const char *name;
	uint32_t ctype = 0;
	size_t hl = 0;
	uint64_t usize;
	uint8_t *out;

	if (obj_section_hdr(o, idx, &sh, &name) != DW_DLV_OK || sh.sh_type == SHT_NOBITS)
		return DW_DLV_NO_ENTRY;
	if (sh.sh_offset > o->ef->size || sh.sh_size > o->ef->size - sh.sh_offset)
		return DW_DLV_NO_ENTRY;
	usize = chdr_size(o->ef, &sh, &ctype, &hl);
	if (!usize) {
		*data = (Dwarf_Small *)(o->ef->map + sh.sh_offset);
		return DW_DLV_OK;
	}
	if (o->owned[idx]) {
		*data = o->owned[idx];
		return DW_DLV_OK;
	}
	if (usize > MAX_DECOMPRESSED || !(out = malloc(usize)))
		return DW_DLV_NO_ENTRY;
	if (ctype == ELFCOMPRESS_ZLIB) {
		uLongf dlen = usize;

		if (uncompress(out, &dlen, o->ef->map + sh.sh_offset + hl, sh.sh_size - hl) != Z_OK || dlen != usize) {
			free(out);
			return DW_DLV_NO_ENTRY;
		}
	} else if (ctype == ELFCOMPRESS_ZSTD) {
		size_t r = ZSTD_decompress(out, usize, o->ef->map + sh.sh_offset + hl, sh.sh_size - hl);

		if (ZSTD_isError(r) || r != usize) {
			free(out);
			return DW_DLV_NO_ENTRY;
		}
	} else {
		free(out);
		return DW_DLV_NO_ENTRY;
	}
	o->owned[idx] = out;
	*data = out;
	return DW_DLV_OK;
}

static int obj_relocate(void *obj, Dwarf_Half idx, Dwarf_Debug dbg, int *error)
{
	return DW_DLV_NO_ENTRY; /* executables and shared objects need no relocation */
}

static const Dwarf_Obj_Access_Methods obj_methods = {
	.get_section_info = obj_get_section_info,
	.get_byte_order = obj_get_byte_order,
	.get_length_size = obj_get_length_size,
	.get_pointer_size = obj_get_pointer_size,
	.get_section_count = obj_get_section_count,
	.load_section = obj_load_section,
	.relocate_a_section = obj_relocate,
};

/*
 * GNU's older compressed sections (.zdebug_*): "ZLIB", the size (big-endian), a zlib
 * stream. libdwarf inflates them itself; the line programs run here need the bytes too.
 * Points ld at the inflated copy (*owned, freed by the caller), or at nothing.
 */
static void gnu_zdebug(struct loader *ld, uint8_t **owned)
{
	const uint8_t *p = ld->debug_line;
	uint64_t usize = 0;
	uLongf dlen;

	ld->debug_line = NULL;
	if (ld->debug_line_len < 12 || memcmp(p, "ZLIB", 4))
		return;
	for (int i = 4; i < 12; i++)
		usize = usize << 8 | p[i];
	if (!usize || usize > MAX_DECOMPRESSED || !(*owned = malloc(usize)))
		return;
	dlen = usize;
	if (uncompress(*owned, &dlen, p + 12, ld->debug_line_len - 12) != Z_OK || dlen != usize) {
		free(*owned);
		*owned = NULL;
		return;
	}
	ld->debug_line = *owned;
	ld->debug_line_len = usize;
}

/* Does the file have a line table section at all (plain or compressed)? */
static bool has_debug_line(const struct gp_elf *ef)
{
	struct gp_elf_sec sec;

	return gp_elf_section(ef, ".debug_line", &sec) || gp_elf_section(ef, ".zdebug_line", &sec);
}

/* Loads rows from one file; returns false if it has no DWARF at all. */
static bool load_file(struct loader *ld, const char *path)
{
	Dwarf_Debug dbg = NULL;
	Dwarf_Error err = NULL;
	struct gp_elf ef;
	struct dw_obj o = { .ef = &ef };
	Dwarf_Obj_Access_Interface iface = { .object = &o, .methods = &obj_methods };
	Dwarf_Unsigned next;
	Dwarf_Half cu_type;
	uint8_t *zline = NULL;
	int res;

	if (gp_elf_open(&ef, path) != 0)
		return false;
	if (!has_debug_line(&ef) || elf_getshdrnum(ef.elf, &o.shnum) != 0 || o.shnum > 65535 ||
	    !(o.owned = calloc(o.shnum ? o.shnum : 1, sizeof(*o.owned)))) {
		gp_elf_close(&ef);
		return false;
	}
	/* The line section's bytes (decompressed): run_line_program() reads them. */
	for (size_t i = 1; i < o.shnum && !ld->debug_line; i++) {
		Dwarf_Obj_Access_Section s;
		Dwarf_Small *d;
		int e;

		if (obj_get_section_info(&o, (Dwarf_Half)i, &s, &e) == DW_DLV_OK && s.name &&
		    (!strcmp(s.name, ".debug_line") || !strcmp(s.name, ".zdebug_line")) &&
		    obj_load_section(&o, (Dwarf_Half)i, &d, &e) == DW_DLV_OK) {
			ld->debug_line = d;
			ld->debug_line_len = s.size;
			if (!strcmp(s.name, ".zdebug_line"))
				gnu_zdebug(ld, &zline);
		}
	}
	res = dwarf_object_init_b(&iface, NULL, NULL, DW_GROUPNUMBER_ANY, &dbg, &err);
	if (res == DW_DLV_OK) {
		for (;;) {
			Dwarf_Die cu = NULL;

			res = dwarf_next_cu_header_d(dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &next,
						     &cu_type, &err);
			if (res != DW_DLV_OK)
				break;
			if (dwarf_siblingof_b(dbg, NULL, 1, &cu, &err) == DW_DLV_OK) {
				load_cu_lines(dbg, cu, ld);
				dwarf_dealloc(dbg, cu, DW_DLA_DIE);
			}
			if (ld->oom)
				break;
		}
		if (res == DW_DLV_ERROR && err)
			dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		dwarf_object_finish(dbg, &err);
	} else if (res == DW_DLV_ERROR && err) {
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	}
	ld->debug_line = NULL;
	ld->debug_line_len = 0;
	for (size_t i = 0; i < o.shnum; i++)
		free(o.owned[i]);
	free(o.owned);
	free(zline);
	gp_elf_close(&ef);
	return true;
}

int gp_dwarf_lines_load(struct gp_dwarf_lines *dl, const char *path, const char *shown_path,
			const uint8_t *build_id, size_t build_id_len, const char *debuglink)
{
	struct loader ld = { .dl = dl };
	char buf[4096];
	bool found = false;

	memset(dl, 0, sizeof(*dl));
	snprintf(buf, sizeof(buf), "%s", shown_path);
	found = load_file(&ld, path) && dl->n > 0;
	if (!found && build_id && build_id_len >= 2 && build_id_len <= 64) {
		/* /usr/lib/debug/.build-id/ab/cdef....debug, as gdb and debuginfod clients look. */
		int off = snprintf(buf, sizeof(buf), "/usr/lib/debug/.build-id/%02x/", build_id[0]);

		for (size_t i = 1; i < build_id_len; i++)
			off += snprintf(buf + off, sizeof(buf) - (size_t)off, "%02x", build_id[i]);
		snprintf(buf + off, sizeof(buf) - (size_t)off, ".debug");
		found = load_file(&ld, buf) && dl->n > 0;
	}
	if (!found && debuglink && *debuglink && !strchr(debuglink, '/')) {
		char dir[4096];
		const char *fmts[] = { "%s/%s", "%s/.debug/%s", "/usr/lib/debug%s/%s" };

		snprintf(dir, sizeof(dir), "%s", shown_path);
		dirname(dir);
		for (size_t i = 0; i < 3 && !found; i++) {
			snprintf(buf, sizeof(buf), fmts[i], dir, debuglink);
			if (strcmp(buf, shown_path) != 0)
				found = load_file(&ld, buf) && dl->n > 0;
		}
	}
	free(ld.hash);
	if (ld.oom) {
		gp_dwarf_lines_free(dl);
		return -ENOMEM;
	}
	if (dl->n && (!sort_sequences(dl) || !(dl->debug_file = strdup(buf)))) {
		gp_dwarf_lines_free(dl);
		return -ENOMEM;
	}
	return 0;
}

void gp_dwarf_lines_free(struct gp_dwarf_lines *dl)
{
	for (size_t i = 0; i < dl->nfiles; i++)
		free(dl->files[i]);
	free(dl->files);
	free(dl->rows);
	free(dl->debug_file);
	memset(dl, 0, sizeof(*dl));
}

bool gp_dwarf_lines_find(const struct gp_dwarf_lines *dl, uint64_t addr, const char **file, uint32_t *line)
{
	size_t lo = 0, hi = dl->n;
	const struct gp_line_row *r;

	if (!dl->n || addr < dl->rows[0].addr)
		return false;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (dl->rows[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	r = &dl->rows[lo];
	/* The last row at or before addr: an end-of-sequence row means a gap. */
	if (r->file == UINT32_MAX || r->file >= dl->nfiles || !r->line || lo + 1 >= dl->n)
		return false;
	*file = dl->files[r->file];
	*line = r->line;
	return true;
}
