/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * DWARF line tables (through libdwarf) for native code: C from cgo, libc with debug files
 * installed. Go code is skipped (the pclntab is better and always there). Rows of every
 * non-Go compilation unit are merged into one sorted array; file names are interned.
 */
#ifndef GP_SYM_DWARF_LINES_H
#define GP_SYM_DWARF_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gp_line_row {
	uint64_t addr;
	uint32_t file; /* index into files; UINT32_MAX marks the end of a sequence */
	uint32_t line;
};

struct gp_dwarf_lines {
	struct gp_line_row *rows;
	size_t n;
	char **files;
	size_t nfiles;
	char *debug_file; /* the file the DWARF came from (the binary or a separate debug file) */
};

/*
 * Loads the line tables of the ELF file at path, or of its separate debug file (found by
 * GNU build ID under /usr/lib/debug/.build-id, or by .gnu_debuglink next to shown_path)
 * when the binary has none. path may be "/proc/self/fd/N" of the opened binary; shown_path
 * is where the binary lives. build_id and debuglink may be NULL. Returns 0 (possibly with
 * no rows) or -ENOMEM.
 */
int gp_dwarf_lines_load(struct gp_dwarf_lines *dl, const char *path, const char *shown_path,
			const uint8_t *build_id, size_t build_id_len, const char *debuglink);
void gp_dwarf_lines_free(struct gp_dwarf_lines *dl);
/* file:line of addr, false if no row covers it. */
bool gp_dwarf_lines_find(const struct gp_dwarf_lines *dl, uint64_t addr, const char **file, uint32_t *line);

#endif
