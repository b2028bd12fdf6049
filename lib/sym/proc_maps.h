/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/* /proc/PID/maps: the file-backed executable mappings of a process. */
#ifndef GP_SYM_PROC_MAPS_H
#define GP_SYM_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gp_mapping {
	uint64_t start, end; /* run-time address range */
	uint64_t offset;     /* file offset of start */
	dev_t dev;
	ino_t ino;
	char *path;          /* as printed in maps; "[vdso]" etc. for special mappings */
	bool exec;
	/* Owned by the symbolizer: the binary resolved for this mapping, once looked up. */
	bool resolved;
	void *binary;
};

struct gp_maps {
	struct gp_mapping *m;
	size_t n;
};

/* Reads the executable mappings of pid. Returns 0, -ESRCH, -EACCES or -ENOMEM (error recorded). */
int gp_maps_read(struct gp_maps *maps, int pid);
/* Parses maps text (for tests and fuzzing). */
int gp_maps_parse(struct gp_maps *maps, const char *text);
void gp_maps_free(struct gp_maps *maps);
/* The mapping containing addr, or NULL. */
struct gp_mapping *gp_maps_find(const struct gp_maps *maps, uint64_t addr);

#endif
