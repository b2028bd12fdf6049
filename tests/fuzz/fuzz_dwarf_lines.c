// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: an ELF file through the DWARF line-table loader the symbolizer uses
 * for native code (libdwarf underneath), then lookups at the rows' addresses.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "sym/dwarf_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_dwarf_lines dl;
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	/* No build ID or debuglink: only the input itself is read, no file of this host. */
	if (gp_dwarf_lines_load(&dl, path, "fuzz-input", NULL, 0, NULL) == 0) {
		for (size_t i = 0; i < dl.n; i += 1 + dl.n / 64) {
			const char *file;
			uint32_t line;

			if (gp_dwarf_lines_find(&dl, dl.rows[i].addr, &file, &line) && file)
				(void)strlen(file);
		}
		gp_dwarf_lines_free(&dl);
	}
	close(fd);
	return 0;
}
