/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * .go.buildinfo parser: the exact Go version ("go1.21.5") and the module info text that
 * `go version -m` prints (path, mod, dep and build lines). Pure and bounds-checked.
 */
#ifndef GP_SYM_GOBUILDINFO_H
#define GP_SYM_GOBUILDINFO_H

#include <stddef.h>
#include <stdint.h>

#include "sym/elf_file.h"

#define GP_BUILDINFO_MAGIC "\xff Go buildinf:"
#define GP_BUILDINFO_MAGIC_LEN 14

struct gp_buildinfo {
	char *version; /* malloc'ed, NULL if absent */
	char *modinfo; /* malloc'ed, NULL if absent (sentinels removed) */
	int major, minor, patch; /* parsed from version; 0 if not a release string */
	bool modinfo_truncated; /* the blob ends inside the module info: version only */
};

/*
 * Parses the buildinfo blob at p (len bytes). vmem resolves the pointers of the pre-1.18
 * layout and may be NULL. Returns 0 (modinfo_truncated set if the blob ends inside the
 * module info), -GOPROF_ERRNO_NOT_GO if there is no magic, -ENODATA if it ends before the
 * version does, or -GOPROF_ERRNO_CORRUPT / -ENOMEM.
 */
int gp_buildinfo_parse(struct gp_buildinfo *bi, const uint8_t *p, size_t len, const struct gp_vmem *vmem);
void gp_buildinfo_free(struct gp_buildinfo *bi);

/* Parses "go1.21.5", "go1.22rc1", "devel go1.23-..." into major/minor/patch; false if not. */
bool gp_go_version_parse(const char *s, int *major, int *minor, int *patch);

/*
 * Copies the value of a modinfo line "<key>\t<value>..." (key "path", "mod") or of a
 * build setting "build\t<key>=<value>" (build_setting true) into buf. Returns the value's
 * length, or -ENOENT.
 */
int gp_modinfo_get(const char *modinfo, const char *key, bool build_setting, char *buf, size_t len);

#endif
