// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * Finds a Go binary's metadata in an opened ELF file: the pclntab (by section, by symbol,
 * by a validated scan), the text start, runtime.firstmoduledata (for gofunc, the base of
 * the inline trees), .go.buildinfo and the Go build ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/symbolizer_internal.h"

/*
 * Offsets in 64-bit moduledata (runtime/symtab.go of each release; the tests check them on
 * every installed toolchain). The head up to text is the same in 1.18-1.27; gofunc moves.
 */
#define MD_FUNCNAMETAB 8
#define MD_FTAB 128
#define MD_FTAB_LEN 136
#define MD_TEXT 176
#define MD_GOFUNC_GO118 304 /* 1.18-1.19 */
#define MD_GOFUNC_GO120 320 /* 1.20-1.26: covctrs/ecovctrs were added before it */
#define MD_GOFUNC_GO127 344 /* 1.27: typedesclen, itaboffset, itabsize were added before it */

static const char *format_name(int format)
{
	switch (format) {
	case GP_PCLN_GO12: return "Go 1.2-1.15";
	case GP_PCLN_GO116: return "Go 1.16-1.17";
	case GP_PCLN_GO118: return "Go 1.18-1.19";
	default: return "Go 1.20+";
	}
}

/*
 * Parses a candidate table; the header alone decides nothing until the text start is known.
 * An unknown 0xfffffffX magic is remembered for the error message.
 */
static int try_table(struct goprof_binary *bin, const uint8_t *p, size_t len, uint64_t vaddr)
{
	int err = gp_pclntab_parse(&bin->tab, p, len, vaddr);

	if (err == -GOPROF_ERRNO_GO_VERSION && !bin->unknown_magic)
		bin->unknown_magic = gp_le32(p);
	return err;
}

static int find_by_section(struct goprof_binary *bin)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	struct gp_elf_sec sec;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!gp_elf_section(&bin->elf, names[i], &sec) || !sec.data)
			continue;
		return try_table(bin, sec.data, sec.size, sec.addr);
	}
	return -GOPROF_ERRNO_NOT_GO;
}

static int find_by_symbol(struct goprof_binary *bin)
{
	static const char *const names[] = { "runtime.pclntab", "runtime.epclntab" };
	uint64_t v[2], start, end;
	const uint8_t *p;

	if (gp_elf_symbols(&bin->elf, names, v, 2) != 2 || v[1] <= v[0])
		return -GOPROF_ERRNO_NOT_GO;
	start = v[0];
	end = v[1];
	p = gp_vmem_ptr(&bin->elf.vmem, start, end - start);
	if (!p)
		return -GOPROF_ERRNO_CORRUPT;
	return try_table(bin, p, end - start, start);
}

/*
 * Scans segments at 8-byte alignment for a header that parses. Executable segments come
 * last: Go puts the table in read-only data, old toolchains in text.
 */
static int find_by_scan(struct goprof_binary *bin)
{
	int pass, last_err = -GOPROF_ERRNO_NOT_GO;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < bin->elf.nsegs; i++) {
			const struct gp_vseg *s = &bin->elf.segs[i];
			size_t off = (8 - (s->vaddr & 7)) & 7;

			if (!!(s->flags & PF_X) != (pass == 1))
				continue;
			for (; off + 16 <= s->len; off += 8) {
				const uint8_t *p = s->data + off;
				int err;

				if (p[4] != 0 || p[5] != 0 || p[7] != (bin->elf.is64 ? 8 : 4))
					continue;
				/* An unknown magic of the family: only for the error message. */
				if (!gp_pclntab_header_plausible(p, s->len - off)) {
					if ((gp_le32(p) & 0xfffffff0u) == 0xfffffff0u && !bin->unknown_magic &&
					    (p[6] == 1 || p[6] == 2 || p[6] == 4))
						bin->unknown_magic = gp_le32(p);
					continue;
				}
				err = try_table(bin, p, s->len - off, s->vaddr + off);
				if (!err && bin->tab.format < GP_PCLN_GO118 && gp_pclntab_validate(&bin->tab))
					err = -GOPROF_ERRNO_CORRUPT;
				if (!err)
					return 0;
				last_err = err;
			}
		}
	}
	return last_err == -GOPROF_ERRNO_GO_VERSION ? last_err : -GOPROF_ERRNO_NOT_GO;
}

/* Is md a moduledata whose slices point at our table? */
static bool moduledata_matches(struct goprof_binary *bin, uint64_t md)
{
	const struct gp_pclntab *t = &bin->tab;
	uint64_t v;

	if (!gp_elf_read_addr(&bin->elf, md, &v) || v != t->vaddr)
		return false;
	if (t->format < GP_PCLN_GO116)
		return true; /* pre-1.16 moduledata starts with the pclntable slice instead */
	if (!gp_elf_read_addr(&bin->elf, md + MD_FUNCNAMETAB, &v) ||
	    v != t->vaddr + (uint64_t)(t->funcnames.p - t->data))
		return false;
	if (!gp_elf_read_addr(&bin->elf, md + MD_FTAB, &v) || v != t->vaddr + (uint64_t)(t->pcln.p - t->data))
		return false;
	return gp_elf_read_addr(&bin->elf, md + MD_FTAB_LEN, &v) && v == t->nfunc + 1;
}

struct md_search {
	struct goprof_binary *bin;
	uint64_t found;
};

static bool md_candidate(uint64_t vaddr, void *ctx)
{
	struct md_search *m = ctx;

	if (!moduledata_matches(m->bin, vaddr))
		return false;
	m->found = vaddr;
	return true;
}

/*
 * Finds runtime.firstmoduledata, whose first word points at the pclntab: in PIE binaries
 * through the RELATIVE relocation that fills that word, otherwise by scanning writable
 * data; the symbol (a full symbol table walk, the slowest way) only as a last resort.
 */
static uint64_t find_moduledata(struct goprof_binary *bin)
{
	struct md_search m = { .bin = bin };
	uint64_t md;
	size_t i;

	if (!bin->elf.is64)
		return 0;
	if (bin->elf.type == ET_DYN && gp_elf_find_relocs_to(&bin->elf, bin->tab.vaddr, md_candidate, &m))
		return m.found;
	/* The Go linker puts it in .noptrdata: scan that section first if there are sections. */
	{
		struct gp_elf_sec sec;

		if (gp_elf_section(&bin->elf, ".noptrdata", &sec) && sec.data) {
			size_t off = (8 - (sec.addr & 7)) & 7;

			for (; off + 8 <= sec.size; off += 8)
				if (gp_le64(sec.data + off) == bin->tab.vaddr && moduledata_matches(bin, sec.addr + off))
					return sec.addr + off;
		}
	}
	for (i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *s = &bin->elf.segs[i];
		size_t off = (8 - (s->vaddr & 7)) & 7;

		if (!(s->flags & PF_W))
			continue;
		for (; off + 8 <= s->len; off += 8)
			if (gp_le64(s->data + off) == bin->tab.vaddr && moduledata_matches(bin, s->vaddr + off))
				return s->vaddr + off;
	}
	if (gp_elf_symbol(&bin->elf, "runtime.firstmoduledata", &md, NULL) && moduledata_matches(bin, md))
		return md;
	return 0;
}

/* Text start for 1.18+ tables: header (relocated in PIE), moduledata.text, runtime.text, .text. */
static uint64_t resolve_text_start(struct goprof_binary *bin)
{
	uint64_t v = 0;
	struct gp_elf_sec sec;

	if (gp_elf_read_addr(&bin->elf, bin->tab.vaddr + 8 + 2u * bin->tab.ptrsize, &v) && v)
		return v;
	if (bin->moduledata && gp_elf_read_addr(&bin->elf, bin->moduledata + MD_TEXT, &v) && v)
		return v;
	if (gp_elf_symbol(&bin->elf, "runtime.text", &v, NULL) && v)
		return v;
	if (gp_elf_section(&bin->elf, ".text", &sec))
		return sec.addr;
	return 0;
}

/*
 * gofunc of a 1.20+ table, chosen by the layout rather than the version string, and the
 * releases that layout allows (era). From 1.26 the funcdata lies in the pclntab and
 * moduledata.epclntab follows gofunc: a pair inside the table identifies the 1.27 (offset
 * 344) or 1.26 (320) layout. 1.20-1.25 have gofunc at 320 followed by the textsectmap
 * slice (len == cap, a handful of sections). Anything else: an unknown later layout.
 */
static uint64_t gofunc_go120(struct goprof_binary *bin)
{
	const struct gp_pclntab *t = &bin->tab;
	uint64_t v = 0, end, len, cap;

	if (gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO127, &v) &&
	    gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO127 + 8, &end) &&
	    v >= t->vaddr && v < end && end - t->vaddr <= t->len) {
		bin->era_min = 27;
		return v;
	}
	if (gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO120, &v) &&
	    gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO120 + 8, &end) &&
	    v >= t->vaddr && v < end && end - t->vaddr <= t->len) {
		bin->era_min = bin->era_max = 26;
		return v;
	}
	if (gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO120, &v) && v &&
	    gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO120 + 16, &len) &&
	    gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO120 + 24, &cap) &&
	    len >= 1 && len <= 256 && len == cap) {
		bin->era_max = 25;
		return v;
	}
	return 0; /* unknown layout: the go:func.* symbol, if any */
}

static void find_gofunc(struct goprof_binary *bin)
{
	uint64_t v = 0;
	const uint8_t *p;
	size_t avail;

	if (bin->tab.format < GP_PCLN_GO118)
		return;
	if (bin->moduledata && bin->tab.format == GP_PCLN_GO118)
		gp_elf_read_addr(&bin->elf, bin->moduledata + MD_GOFUNC_GO118, &v);
	else if (bin->moduledata)
		v = gofunc_go120(bin);
	if (!v && !gp_elf_symbol(&bin->elf, "go:func.*", &v, NULL))
		gp_elf_symbol(&bin->elf, "go.func.*", &v, NULL);
	avail = v ? gp_vmem_avail(&bin->elf.vmem, v, &p) : 0;
	if (!avail)
		return; /* no inline trees: physical frames only */
	bin->gofunc = v;
	bin->tab.gofunc.p = p;
	bin->tab.gofunc.len = avail;
}

/* The releases a table format was written by; find_gofunc() narrows 1.20+ by moduledata. */
static void set_format_era(struct goprof_binary *bin)
{
	static const int era[][2] = {
		[GP_PCLN_GO12] = { 2, 15 },
		[GP_PCLN_GO116] = { 16, 17 },
		[GP_PCLN_GO118] = { 18, 19 },
		[GP_PCLN_GO120] = { 20, GP_GO_MINOR_UNBOUNDED },
	};

	bin->era_min = era[bin->tab.format][0];
	bin->era_max = era[bin->tab.format][1];
}

static const char *era_text(const struct goprof_binary *bin, char *buf, size_t len)
{
	if (bin->era_max == GP_GO_MINOR_UNBOUNDED)
		snprintf(buf, len, "Go 1.%d or later", bin->era_min);
	else if (bin->era_min == bin->era_max)
		snprintf(buf, len, "Go 1.%d", bin->era_min);
	else
		snprintf(buf, len, "Go 1.%d-1.%d", bin->era_min, bin->era_max);
	return buf;
}

const char *gp_go_release_check(const struct goprof_binary *bin, char *note, size_t len)
{
	const char *v = bin->bi.version, *go1;
	char era[48];

	if (!bin->is_go) {
		snprintf(note, len, "not a Go program");
		return NULL;
	}
	if (!bin->has_bi) {
		if (bin->bi_err)
			snprintf(note, len, "the Go build info is unreadable (%s): the release is unknown",
				 bin->bi_err == -ENODATA ? "truncated: a string runs past its end" : "corrupt");
		else
			snprintf(note, len, "no Go build info (built before Go 1.13?): the release is unknown");
		return NULL;
	}
	go1 = strstr(v, "go1.");
	if (!bin->bi.minor || !go1) {
		snprintf(note, len, "the build info's version \"%s\" names no Go release", v);
		return NULL;
	}
	if (bin->bi.minor < bin->era_min || bin->bi.minor > bin->era_max) {
		snprintf(note, len, "the build info says %s but the pclntab and moduledata are %s's: "
			 "the version string is not trusted", v, era_text(bin, era, sizeof(era)));
		return NULL;
	}
	note[0] = '\0';
	return go1; /* "devel go1.28-abcdef ..." is keyed as "go1.28-abcdef ..." */
}

static void load_buildinfo(struct goprof_binary *bin)
{
	struct gp_elf_sec sec;
	size_t i;

	if (gp_elf_section(&bin->elf, ".go.buildinfo", &sec)) {
		/* A section the file does not hold in full is a truncated file. */
		bin->bi_err = sec.data ? gp_buildinfo_parse(&bin->bi, sec.data, sec.size, &bin->elf.vmem) : -ENODATA;
		bin->has_bi = bin->bi_err == 0;
		return;
	}
	/* Stripped section headers: the blob is 16-byte aligned in writable data. */
	if (elf_getshdrnum(bin->elf.elf, &i) == 0 && i > 1)
		return; /* with sections, .go.buildinfo is authoritative: no scan of a non-Go file */
	for (i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *s = &bin->elf.segs[i];
		size_t off;

		if (!(s->flags & PF_W))
			continue;
		for (off = (16 - (s->vaddr & 15)) & 15; off + 32 <= s->len; off += 16) {
			if (s->data[off] != 0xff || memcmp(s->data + off, GP_BUILDINFO_MAGIC, GP_BUILDINFO_MAGIC_LEN))
				continue;
			bin->bi_err = gp_buildinfo_parse(&bin->bi, s->data + off, s->len - off, &bin->elf.vmem);
			if (bin->bi_err == 0) {
				bin->has_bi = true;
				return;
			}
		}
	}
}

/* Go build ID: the "Go" note (type 4), else the marker at the start of text. */
static void load_go_build_id(struct goprof_binary *bin)
{
	static const char marker[] = "\xff Go build ID: \"";
	const uint8_t *desc, *p, *q;
	size_t n, i;

	n = gp_elf_find_note(&bin->elf, "Go", 4, &desc);
	if (n && n < 1024 && (bin->go_build_id = malloc(n + 1))) {
		memcpy(bin->go_build_id, desc, n);
		bin->go_build_id[n] = '\0';
		return;
	}
	for (i = 0; i < bin->elf.nsegs; i++) {
		const struct gp_vseg *s = &bin->elf.segs[i];
		size_t len = GP_MIN(s->len, 4096);

		if (!(s->flags & PF_X))
			continue;
		p = memmem(s->data, len, marker, sizeof(marker) - 1);
		if (!p)
			continue;
		p += sizeof(marker) - 1;
		q = memchr(p, '"', len - (size_t)(p - s->data));
		if (q && (bin->go_build_id = malloc((size_t)(q - p) + 1))) {
			memcpy(bin->go_build_id, p, (size_t)(q - p));
			bin->go_build_id[q - p] = '\0';
		}
		return;
	}
}

int gp_go_binary_load(struct goprof_binary *bin)
{
	const char *path = bin->elf.path;
	int err;

	load_buildinfo(bin);
	load_go_build_id(bin);
	if (!bin->elf.little_endian)
		return bin->has_bi ? gp_err(-GOPROF_ERRNO_GO_VERSION, "%s: big-endian Go binaries are not supported", path) : 0;

	bin->found_by = GOPROF_PCLNTAB_FOUND_SECTION;
	err = find_by_section(bin);
	if (err == -GOPROF_ERRNO_NOT_GO && (bin->has_bi || bin->go_build_id)) {
		bin->found_by = GOPROF_PCLNTAB_FOUND_SYMBOL;
		err = find_by_symbol(bin);
	}
	/* Scanning a large non-Go library costs ~100 ms: only when the file says it is Go. */
	if (err == -GOPROF_ERRNO_NOT_GO && (bin->has_bi || bin->go_build_id)) {
		bin->found_by = GOPROF_PCLNTAB_FOUND_SCAN;
		err = find_by_scan(bin);
	}
	if (err == -GOPROF_ERRNO_NOT_GO && bin->unknown_magic && (bin->has_bi || bin->go_build_id))
		err = -GOPROF_ERRNO_GO_VERSION;
	if (err == -GOPROF_ERRNO_NOT_GO) {
		bin->found_by = 0;
		if (bin->has_bi)
			return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: has Go build info (%s) but no readable pclntab",
				      path, bin->bi.version);
		return 0; /* a native binary */
	}
	if (err == -GOPROF_ERRNO_GO_VERSION)
		return gp_err(err, "%s: unknown pclntab magic 0x%08x (known: 0xfffffffb Go 1.2-1.15, "
			      "0xfffffffa 1.16-1.17, 0xfffffff0 1.18-1.19, 0xfffffff1 1.20+; build info: %s); "
			      "a newer libgoprof is needed", path, bin->unknown_magic,
			      bin->has_bi ? bin->bi.version : "none");
	if (err)
		return gp_err(err, "%s: corrupt pclntab header", path);

	bin->tab.vmem = &bin->elf.vmem;
	set_format_era(bin);
	/* Go 1.12-1.15 write the 1.2 table format with inline trees at FUNCDATA 4. */
	if (bin->tab.format == GP_PCLN_GO12 && bin->has_bi && bin->bi.major == 1 && bin->bi.minor >= 12 &&
	    bin->bi.minor <= 15)
		bin->tab.inl_funcdata = 4;
	bin->moduledata = find_moduledata(bin);
	if (bin->tab.format >= GP_PCLN_GO118) {
		bin->tab.text_start = resolve_text_start(bin);
		if (!bin->tab.text_start)
			return gp_err(-GOPROF_ERRNO_CORRUPT, "%s: cannot find the start of Go text", path);
	}
	err = gp_pclntab_validate(&bin->tab);
	if (err)
		return gp_err(err, "%s: corrupt pclntab function table (%s format, %llu functions)", path,
			      format_name(bin->tab.format), (unsigned long long)bin->tab.nfunc);
	find_gofunc(bin);
	bin->is_go = true;
	return 0;
}
