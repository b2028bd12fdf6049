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

/*
 * libdwarf 20210528 starts each DWARF 5 sequence with the file register at 0, where the
 * standard says 1, so rows before the first DW_LNS_set_file name file entry 0 (for cgo,
 * the generated cgo.cgo2.c instead of the .go file its #line directives name; elfutils
 * and LLVM read 1). Re-runs the file register of the v5 line program at off and returns
 * one file number per row (end_sequence rows included, as libdwarf lists them), or NULL
 * if the table is not v5 or its row count differs from nrows.
 */
static uint64_t *v5_row_files(const uint8_t *sec, size_t len, uint64_t off, size_t nrows)
{
	const uint8_t *p, *end, *prog;
	uint64_t unit, hlen, file = 1, *out;
	uint8_t opbase, oplen[256] = { 0 };
	unsigned osz = 4;
	size_t n = 0;

	if (!sec || off >= len || len - off < 16)
		return NULL;
	p = sec + off;
	unit = gp_le32(p);
	p += 4;
	if (unit == 0xffffffffu) {
		if ((size_t)(sec + len - p) < 8)
			return NULL;
		unit = gp_le64(p);
		p += 8;
		osz = 8;
	}
	if (unit > (uint64_t)(sec + len - p) || unit < 2 + 2 + osz + 6)
		return NULL;
	end = p + unit;
	if (gp_le16(p) != 5)
		return NULL;
	p += 4; /* version, address_size, segment_selector_size */
	hlen = osz == 8 ? gp_le64(p) : gp_le32(p);
	p += osz;
	if (hlen > (uint64_t)(end - p) || hlen < 6)
		return NULL;
	prog = p + hlen;
	opbase = p[5];
	if (!opbase || (size_t)(prog - p) < 6u + opbase - 1)
		return NULL;
	memcpy(oplen + 1, p + 6, opbase - 1u);
	if (!(out = malloc((nrows ? nrows : 1) * sizeof(*out))))
		return NULL;
	for (p = prog; p < end;) {
		uint8_t op = *p++;
		uint64_t v, i;

		if (op >= opbase || op == 1 /* copy */) {
			if (n == nrows)
				goto bad;
			out[n++] = file;
		} else if (op == 0) { /* extended: length, sub-opcode, operands */
			if (!uleb(&p, end, &v) || !v || v > (uint64_t)(end - p))
				goto bad;
			if (*p == 1 /* end_sequence */) {
				if (n == nrows)
					goto bad;
				out[n++] = file;
				file = 1;
			}
			p += v;
		} else if (op == 4) { /* set_file */
			if (!uleb(&p, end, &file))
				goto bad;
		} else if (op == 9) { /* fixed_advance_pc: a uhalf */
			if (end - p < 2)
				goto bad;
			p += 2;
		} else {
			for (i = 0; i < oplen[op]; i++)
				if (!uleb(&p, end, &v))
					goto bad;
		}
	}
	if (n == nrows)
		return out;
bad:
	free(out);
	return NULL;
}

/* Appends the rows of one CU's line table. */
static void load_cu_lines(Dwarf_Debug dbg, Dwarf_Die cu, struct loader *ld)
{
	Dwarf_Error err = NULL;
	Dwarf_Unsigned version, lang = 0;
	Dwarf_Small count;
	Dwarf_Line_Context ctx;
	Dwarf_Line *lines;
	Dwarf_Signed n, i;

	if (dwarf_srclang(cu, &lang, &err) == DW_DLV_OK && lang == DW_LANG_Go)
		return; /* the pclntab covers Go code */
	if (err) {
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		err = NULL;
	}
	if (dwarf_srclines_b(cu, &version, &count, &ctx, &err) != DW_DLV_OK) {
		if (err)
			dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		return;
	}
	if (dwarf_srclines_from_linecontext(ctx, &lines, &n, &err) == DW_DLV_OK) {
		char **names = NULL;
		Dwarf_Signed nnames = 0;
		Dwarf_Unsigned off;
		uint64_t *v5 = NULL;

		if (version == 5 && n > 0 && dwarf_srclines_table_offset(ctx, &off, &err) == DW_DLV_OK &&
		    (v5 = v5_row_files(ld->debug_line, ld->debug_line_len, off, (size_t)n)) &&
		    dwarf_srcfiles(cu, &names, &nnames, &err) != DW_DLV_OK) {
			free(v5);
			v5 = NULL;
		}
		for (i = 0; i < n && !ld->oom; i++) {
			Dwarf_Addr addr;
			Dwarf_Unsigned lineno;
			Dwarf_Bool end = 0;
			char *src = NULL;
			uint32_t file = UINT32_MAX;

			if (dwarf_lineaddr(lines[i], &addr, &err) != DW_DLV_OK)
				break;
			dwarf_lineendsequence(lines[i], &end, &err);
			if (!end && v5 && v5[i] < (uint64_t)nnames &&
			    dwarf_lineno(lines[i], &lineno, &err) == DW_DLV_OK) {
				file = intern(ld, names[v5[i]]);
				if (file == UINT32_MAX) {
					ld->oom = true;
					break;
				}
			} else if (!end && dwarf_lineno(lines[i], &lineno, &err) == DW_DLV_OK &&
			    dwarf_linesrc(lines[i], &src, &err) == DW_DLV_OK) {
				file = intern(ld, src);
				dwarf_dealloc(dbg, src, DW_DLA_STRING);
				if (file == UINT32_MAX) {
					ld->oom = true;
					break;
				}
			} else {
				lineno = 0;
			}
			if (!add_row(ld, addr, file, (uint32_t)GP_MIN(lineno, UINT32_MAX)))
				ld->oom = true;
		}
		for (Dwarf_Signed k = 0; k < nnames; k++)
			dwarf_dealloc(dbg, names[k], DW_DLA_STRING);
		if (names)
			dwarf_dealloc(dbg, names, DW_DLA_LIST);
		free(v5);
	}
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	dwarf_srclines_dealloc_b(ctx);
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
	int res;

	if (gp_elf_open(&ef, path) != 0)
		return false;
	if (!has_debug_line(&ef) || elf_getshdrnum(ef.elf, &o.shnum) != 0 || o.shnum > 65535 ||
	    !(o.owned = calloc(o.shnum ? o.shnum : 1, sizeof(*o.owned)))) {
		gp_elf_close(&ef);
		return false;
	}
	/* The line section's bytes (decompressed), for the DWARF 5 file register fix. */
	for (size_t i = 1; i < o.shnum && !ld->debug_line; i++) {
		Dwarf_Obj_Access_Section s;
		Dwarf_Small *d;
		int e;

		if (obj_get_section_info(&o, (Dwarf_Half)i, &s, &e) == DW_DLV_OK && s.name &&
		    (!strcmp(s.name, ".debug_line") || !strcmp(s.name, ".zdebug_line")) &&
		    obj_load_section(&o, (Dwarf_Half)i, &d, &e) == DW_DLV_OK) {
			ld->debug_line = d;
			ld->debug_line_len = s.size;
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
