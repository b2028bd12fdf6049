/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * ELF file access for the symbolizer: the file is mmap'ed read-only (never copied) and
 * parsed with libelf over that mapping. Everything handed out points into the mapping and
 * is bounds-checked against the file size, so a truncated or hostile file cannot make a
 * caller read past the end.
 */
#ifndef GP_SYM_ELF_FILE_H
#define GP_SYM_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <gelf.h>

/* A virtual address range backed by file bytes (a PT_LOAD segment's p_filesz part). */
struct gp_vseg {
	uint64_t vaddr;
	const uint8_t *data;
	size_t len;
	uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* Virtual memory view of a file: resolves link-time addresses to mapped bytes. */
struct gp_vmem {
	const struct gp_vseg *segs;
	size_t nsegs;
};

/* Returns a pointer to len bytes at vaddr, or NULL if they are not all backed by file data. */
const uint8_t *gp_vmem_ptr(const struct gp_vmem *m, uint64_t vaddr, size_t len);
/* Bytes available from vaddr to the end of its segment (0 if unmapped); *p gets the pointer. */
size_t gp_vmem_avail(const struct gp_vmem *m, uint64_t vaddr, const uint8_t **p);

/* A section found by name: its address, file bytes (NULL for SHT_NOBITS) and size. */
struct gp_elf_sec {
	const char *name;
	uint64_t addr;
	uint64_t offset;
	uint64_t size;
	uint32_t type;
	uint64_t flags;
	const uint8_t *data; /* inside the mapping, size bytes; NULL if not in the file */
};

/* One RELATIVE relocation: the word at vaddr becomes load base + addend. */
struct gp_reloc {
	uint64_t vaddr;
	uint64_t addend;
};

/* The raw Elf64_Rela arrays of the file (pointers into the mapping, never copied). */
struct gp_rela_table {
	const uint8_t *data;
	size_t count;
};

struct gp_elf {
	char *path;
	int fd;            /* -1 for in-memory images */
	const uint8_t *map; /* whole file */
	size_t size;
	bool owns_map;
	Elf *elf;
	bool is64;
	bool little_endian;
	uint16_t machine;
	uint16_t type; /* ET_EXEC, ET_DYN ... */
	dev_t dev;
	ino_t ino;
	uint64_t mtime_ns;
	struct gp_vseg *segs;
	size_t nsegs;
	struct gp_vmem vmem;
	uint64_t first_load_vaddr; /* p_vaddr - p_offset of the PT_LOAD at file offset 0: the link-time base */
	/* SHT_RELA sections found on demand (PIE binaries): read in place, no copies. */
	struct gp_rela_table rela[8];
	size_t nrela;
	bool rela_loaded;
	uint32_t relative_type; /* R_X86_64_RELATIVE or R_AARCH64_RELATIVE */
};

/* Opens and maps path. Returns 0 or a negative errno with the last error set. */
int gp_elf_open(struct gp_elf *ef, const char *path);
/* Parses an ELF image already in memory (fuzzing, tests); the bytes must outlive ef. */
int gp_elf_open_mem(struct gp_elf *ef, const void *data, size_t size);
void gp_elf_close(struct gp_elf *ef);

/* Finds a section by exact name. Returns true and fills out if present. */
bool gp_elf_section(const struct gp_elf *ef, const char *name, struct gp_elf_sec *out);
/* Visits every section; stops when cb returns non-zero and returns that value. */
int gp_elf_foreach_section(const struct gp_elf *ef,
			   int (*cb)(const struct gp_elf_sec *sec, void *ctx), void *ctx);

/* Looks a symbol up by name in .symtab, then .dynsym (size is not reported: 0). */
bool gp_elf_symbol(const struct gp_elf *ef, const char *name, uint64_t *value, uint64_t *size);
/* Looks up to 8 names up in one pass; values of missing ones are 0. Returns how many were found. */
size_t gp_elf_symbols(const struct gp_elf *ef, const char *const *names, uint64_t *values, size_t n);

/*
 * Reads a pointer-sized word at vaddr as the loader would see it before adding the load
 * base: a RELATIVE relocation's addend if one targets vaddr (PIE), else the file bytes.
 * Scans the relocation tables in place (a few hundred microseconds for 100k relocations):
 * meant for the handful of reads done while opening a binary.
 */
bool gp_elf_read_addr(struct gp_elf *ef, uint64_t vaddr, uint64_t *out);
/*
 * Calls cb for every RELATIVE relocation whose addend equals addend (PIE pointers to a
 * known address); stops when cb returns true and returns true then.
 */
bool gp_elf_find_relocs_to(struct gp_elf *ef, uint64_t addend,
			   bool (*cb)(uint64_t vaddr, void *ctx), void *ctx);

/* GNU build ID (NT_GNU_BUILD_ID) bytes: returns the length (0 if none); *out points into the map. */
size_t gp_elf_gnu_build_id(const struct gp_elf *ef, const uint8_t **out);
/* Finds a note by owner name and type in SHT_NOTE sections or PT_NOTE segments. */
size_t gp_elf_find_note(const struct gp_elf *ef, const char *owner, uint32_t type, const uint8_t **desc);

/* Little-endian readers over mapped bytes (callers check bounds first). */
static inline uint32_t gp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t gp_le64(const uint8_t *p)
{
	return (uint64_t)gp_le32(p) | (uint64_t)gp_le32(p + 4) << 32;
}

static inline uint16_t gp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
