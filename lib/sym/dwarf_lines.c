// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * DWARF line rows of native code via libdwarf. libdwarf reads the file itself (its own
 * ELF reader) and decompresses zlib-compressed debug sections (SHF_COMPRESSED, .zdebug).
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

#include "internal.h"
#include "sym/dwarf_lines.h"

#define MAX_ROWS (64u << 20) /* a hostile file cannot make us allocate without bound */

struct loader {
	struct gp_dwarf_lines *dl;
	size_t cap, files_cap;
	/* Interning: open-addressed hash of file name -> index. */
	uint32_t *hash;
	size_t hash_cap;
	bool oom;
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
		for (i = 0; i < n && !ld->oom; i++) {
			Dwarf_Addr addr;
			Dwarf_Unsigned lineno;
			Dwarf_Bool end = 0;
			char *src = NULL;
			uint32_t file = UINT32_MAX;

			if (dwarf_lineaddr(lines[i], &addr, &err) != DW_DLV_OK)
				break;
			dwarf_lineendsequence(lines[i], &end, &err);
			if (!end && dwarf_lineno(lines[i], &lineno, &err) == DW_DLV_OK &&
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

/* Loads rows from one file; returns false if it has no DWARF at all. */
static bool load_file(struct loader *ld, const char *path)
{
	Dwarf_Debug dbg = NULL;
	Dwarf_Error err = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), res;
	Dwarf_Unsigned next;
	Dwarf_Half cu_type;

	if (fd < 0)
		return false;
	res = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &dbg, &err);
	if (res != DW_DLV_OK) {
		if (res == DW_DLV_ERROR && err)
			dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		close(fd);
		return false;
	}
	for (;;) {
		Dwarf_Die cu = NULL;

		res = dwarf_next_cu_header_d(dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &next, &cu_type, &err);
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
	dwarf_finish(dbg, &err);
	close(fd);
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
