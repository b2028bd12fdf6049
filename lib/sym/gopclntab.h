/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Go's .gopclntab ("PC-line table") parser, written from the format facts in
 * docs GUIDE section 3. Pure: it reads only the byte ranges it is given and never the
 * ELF file, so it can be fuzzed alone. Every read is bounds-checked; every walk has a
 * limit. Names and file names point into the table (NUL-terminated there), never copied.
 */
#ifndef GP_SYM_GOPCLNTAB_H
#define GP_SYM_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/elf_file.h"

/* Table formats, by header magic. Values match GOPROF_PCLNTAB_* in the public header. */
#define GP_PCLN_GO12 1  /* 0xfffffffb: Go 1.2-1.15 */
#define GP_PCLN_GO116 2 /* 0xfffffffa: Go 1.16-1.17 */
#define GP_PCLN_GO118 3 /* 0xfffffff0: Go 1.18-1.19 */
#define GP_PCLN_GO120 4 /* 0xfffffff1: Go 1.20 and later */

#define GP_PCLN_MAGIC_GO12 0xfffffffbu
#define GP_PCLN_MAGIC_GO116 0xfffffffau
#define GP_PCLN_MAGIC_GO118 0xfffffff0u
#define GP_PCLN_MAGIC_GO120 0xfffffff1u

/* Deepest inline chain we report; Go's own inliner stays far below this. */
#define GP_MAX_INLINE_DEPTH 64

/* A byte range inside the table. */
struct gp_span {
	const uint8_t *p;
	size_t len;
};

struct gp_pclntab {
	const uint8_t *data; /* table start (the header) */
	size_t len;          /* bytes readable from data (section size or segment rest) */
	uint64_t vaddr;      /* link-time address of data */
	int format;          /* GP_PCLN_* */
	uint8_t quantum;
	uint8_t ptrsize;
	uint64_t nfunc;
	uint64_t nfiles;
	uint64_t text_start;     /* header textStart (1.18+); set by the caller if relocated */
	struct gp_span funcnames; /* 1.16+: funcnametab; 1.2: the whole table */
	struct gp_span cutab;     /* 1.16+ */
	struct gp_span filetab;   /* 1.16+: strings; 1.2: the u32 offset array */
	struct gp_span pctab;     /* 1.16+: pc-value tables; 1.2: the whole table */
	struct gp_span pcln;      /* function table followed by the _func records */
	struct gp_span gofunc;    /* 1.18+: moduledata.gofunc bytes (inline trees); may be empty */
	const struct gp_vmem *vmem; /* 1.2-1.17: funcdata are absolute addresses */
	/*
	 * FUNCDATA index of the inline tree, -1 if unknown. The parser sets 3 for 1.16+
	 * tables; a 1.2-format table covers Go 1.2-1.15, where only 1.12-1.15 have the
	 * 20-byte records with parentPc (index 4): the caller sets it from the build info.
	 */
	int inl_funcdata;
	/*
	 * Every GP_PCLN_INDEX_STRIDE-th entry PC, built by gp_pclntab_validate(). A lookup
	 * binary-searches this small, cache-resident array first and then only one stride of
	 * the function table, instead of missing the cache all through a large table.
	 */
	uint64_t *index;
	size_t nindex;
};

#define GP_PCLN_INDEX_STRIDE 32

/* A decoded _func record. */
struct gp_func {
	uint64_t entry;
	uint64_t end;        /* next function's entry (the table's end PC for the last) */
	const uint8_t *rec;  /* the _func record */
	size_t rec_len;      /* bytes of pcln available from rec */
	uint32_t nameoff;
	uint32_t pcfile;
	uint32_t pcln;
	uint32_t npcdata;
	uint32_t cu_offset;
	uint32_t start_line; /* 0 before Go 1.20 */
	uint8_t funcid;
	uint8_t nfuncdata;
	size_t pcdata_off;   /* offset of pcdata[0] in rec */
	size_t funcdata_off; /* offset of funcdata[0] in rec */
};

/* One frame of a PC: function name, file, line; inlined frames come first. */
struct gp_go_frame {
	const char *function;
	const char *file; /* NULL if unknown (padding, no table) */
	uint32_t line;
	uint32_t start_line;
	uint64_t entry; /* the physical function's entry */
	bool inlined;
};

/*
 * Parses the header at data (len readable bytes, at link-time address vaddr).
 * Returns 0, -GOPROF_ERRNO_NOT_GO (bad magic), -GOPROF_ERRNO_GO_VERSION (unknown format
 * magic) or -GOPROF_ERRNO_CORRUPT. Does not set the thread's error message.
 */
int gp_pclntab_parse(struct gp_pclntab *t, const uint8_t *data, size_t len, uint64_t vaddr);

/* Quick plausibility check used by the segment scan: magic, pad, quantum, pointer size. */
bool gp_pclntab_header_plausible(const uint8_t *p, size_t len);

/*
 * Checks the function table (entries increasing, records in bounds) after text_start is
 * set, and builds the lookup index. Returns 0, -GOPROF_ERRNO_CORRUPT or -ENOMEM.
 */
int gp_pclntab_validate(struct gp_pclntab *t);
/* Frees the index (the table itself belongs to the caller). */
void gp_pclntab_free(struct gp_pclntab *t);

/* Entry PC of function i (i <= nfunc: index nfunc gives the end PC). False if out of bounds. */
bool gp_pclntab_entry(const struct gp_pclntab *t, uint64_t i, uint64_t *pc);
/*
 * Where the last decode of one pc-value table stopped, so that a later, higher PC in the
 * same function continues from there instead of from the function entry.
 */
struct gp_pcv_cursor {
	uint64_t entry;   /* function entry the cursor belongs to */
	const uint8_t *p; /* next pair; NULL once the table ended at hi */
	uint64_t lo, hi;  /* the decoded range [lo, hi) has value val */
	uint32_t off;     /* table offset; 0: unused */
	int32_t val;
};

/*
 * State carried between lookups of ascending PCs (sorted batches, hot functions): the
 * last function and the decode positions of its inline-index, file and line tables.
 * Initialize with GP_LOOKUP_HINT_INIT; one per thread or batch.
 */
struct gp_lookup_hint {
	int64_t func;
	struct gp_pcv_cursor cur[3];
};
#define GP_LOOKUP_HINT_INIT { .func = -1 }

/* Index of the function containing pc, or -1. */
int64_t gp_pclntab_find(const struct gp_pclntab *t, uint64_t pc);
/* The same, trying function hint (and the few after it) first: for ascending PCs. */
int64_t gp_pclntab_find_hint(const struct gp_pclntab *t, uint64_t pc, int64_t hint);
/* Decodes function i. Returns 0 or -GOPROF_ERRNO_CORRUPT. */
int gp_pclntab_func(const struct gp_pclntab *t, uint64_t i, struct gp_func *f);
/* The function's name, or NULL if out of bounds / not NUL-terminated. */
const char *gp_pclntab_funcname(const struct gp_pclntab *t, uint32_t nameoff);
/* Source file of a function at pc's file index, or NULL. */
const char *gp_pclntab_file(const struct gp_pclntab *t, const struct gp_func *f, int32_t fileno);
/*
 * Value of the pc-value table at offset off for pc (-1 if none). Returns false on corrupt
 * tables.
 */
bool gp_pclntab_pcvalue(const struct gp_pclntab *t, const struct gp_func *f, uint32_t off,
			uint64_t pc, int32_t *val);
/* pcdata[i] table offset of f, or 0. */
uint32_t gp_pclntab_pcdata(const struct gp_pclntab *t, const struct gp_func *f, uint32_t i);

/*
 * Frames for pc: innermost inlined function first, physical function last. Returns the
 * number of frames written (0 if pc is in no function), or -GOPROF_ERRNO_CORRUPT.
 */
int gp_pclntab_lookup(const struct gp_pclntab *t, uint64_t pc, struct gp_go_frame *frames, int max);
/* The same with a lookup hint (see struct gp_lookup_hint), updated for pc. */
int gp_pclntab_lookup_hint(const struct gp_pclntab *t, uint64_t pc, struct gp_go_frame *frames, int max,
			   struct gp_lookup_hint *hint);

#endif
