/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The symbolizer's internal interface, for the rest of the library (the CPU profiler of
 * issue 4 calls gp_symbolize_pid() and gp_symbolize_kernel()) and for the tests.
 */
#ifndef GP_SYM_SYMBOLIZER_INTERNAL_H
#define GP_SYM_SYMBOLIZER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "goprof/symbolizer.h"
#include "sym/dwarf_lines.h"
#include "sym/elf_file.h"
#include "sym/gobuildinfo.h"
#include "sym/gopclntab.h"
#include "sym/native_syms.h"

struct goprof_binary {
	struct gp_elf elf;
	/* Go metadata (is_go false: only native symbols). */
	bool is_go;
	struct gp_pclntab tab;
	uint32_t found_by; /* GOPROF_PCLNTAB_FOUND_* */
	uint32_t unknown_magic; /* a 0xfffffffX magic seen that no format has (error message) */
	/* Go minor releases the pclntab format and moduledata layout allow (1.20+: to 1.x) */
	int era_min, era_max;
	int bi_err; /* .go.buildinfo present but unreadable: -ENODATA truncated, else corrupt */
	uint64_t moduledata;
	uint64_t gofunc;
	struct gp_buildinfo bi;
	bool has_bi;
	char *go_build_id;
	/* Native symbols and DWARF lines, loaded on first need (Go binaries rarely need them). */
	pthread_mutex_t native_lock;
	bool native_loaded;
	struct gp_native_syms native;
	struct gp_dwarf_lines lines;
	void *vdso_copy; /* the [vdso] binary's private image, freed with it */
	char build_id_hex[132]; /* GNU build ID in hex (or the Go build ID), computed at open */
};

/* era_max of a layout no later release is known to have changed */
#define GP_GO_MINOR_UNBOUNDED (1 << 20)

/* Opens path (or an in-memory image when data != NULL) into bin; 0 or negative errno. */
int gp_binary_init(struct goprof_binary *bin, const char *path, const void *data, size_t size);
void gp_binary_fini(struct goprof_binary *bin);

/* Finds and parses the Go metadata of an opened ELF file (called by gp_binary_init). */
int gp_go_binary_load(struct goprof_binary *bin);

/*
 * The version string to key runtime layouts by ("go1.27.3"; "go1.28-abcdef ..." from a
 * "devel go1.28-abcdef ..." build), or NULL with a note of len bytes saying why the
 * release cannot be trusted: no or unreadable build info, no release number, or a
 * release the pclntab format and moduledata layout rule out. Never fails otherwise.
 */
const char *gp_go_release_check(const struct goprof_binary *bin, char *note, size_t len);

/*
 * Frames of one link-time address, innermost first, in the public struct (sz, kind,
 * flags, lines, names, func_addr, vaddr = addr). Returns the frame count (0: no function)
 * or a negative error. Thread-safe.
 */
int gp_binary_lookup(struct goprof_binary *bin, uint64_t vaddr, struct goprof_frame *frames, int max);
/* The same with a lookup hint for ascending addresses (see struct gp_lookup_hint). */
int gp_binary_lookup_hint(struct goprof_binary *bin, uint64_t vaddr, struct goprof_frame *frames, int max,
			  struct gp_lookup_hint *hint);

/* Maximum frames one address can produce. */
#define GP_MAX_FRAMES (GP_MAX_INLINE_DEPTH + 1)

/* ---- process and kernel symbolization (symbolizer.c, kallsyms.c, proc_maps.c) ---- */

struct goprof_symbolizer;

/*
 * Frames of one run-time address ip of process pid. Strings stay valid until the
 * symbolizer is freed. Returns the frame count, 0 if unknown, or a negative error.
 * Thread-safe.
 */
int gp_symbolize_pid(struct goprof_symbolizer *sym, int pid, uint64_t ip,
		     struct goprof_frame *frames, int max);
/* The mapping of a process address, for pprof's Mapping table (see gp_symbolize_pid_mapping). */
struct gp_mapping_info {
	uint64_t start, end;   /* run-time range of the mapping */
	uint64_t file_offset;  /* file offset of start */
	const char *path;      /* the file as the process sees it; valid until the symbolizer is freed */
	const char *build_id;  /* GNU build ID in hex, else the Go build ID, else "" */
	struct goprof_binary *bin; /* NULL if the file could not be opened */
};

/*
 * Describes the mapping of pid that contains ip. Returns 1, 0 if ip is in no file
 * mapping, or a negative error (as gp_symbolize_pid). Thread-safe.
 */
int gp_symbolize_pid_mapping(struct goprof_symbolizer *sym, int pid, uint64_t ip, struct gp_mapping_info *out);

/* Number of distinct binaries the symbolizer has opened (tests check cache sharing). */
size_t gp_symbolizer_nbinaries(struct goprof_symbolizer *sym);
/* Frame of one kernel address; returns 1, 0 if unknown, or a negative error. */
int gp_symbolize_kernel(struct goprof_symbolizer *sym, uint64_t ip, struct goprof_frame *frame);

#endif
