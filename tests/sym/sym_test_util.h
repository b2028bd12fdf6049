/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Helpers of the symbolizer tests: fixture paths, running Go's own tools (debug/gosym via
 * gosym_oracle, go tool addr2line, the fixture's runtime.CallersFrames output) and
 * comparing their answers with libgoprof's.
 */
#ifndef SYM_TEST_UTIL_H
#define SYM_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <goprof/symbolizer.h>

/* Build modes of tests/sym/build_fixtures.sh. */
extern const char *const symt_modes[];
extern const size_t symt_nmodes;

/* Directory of built fixtures (env GOPROF_SYM_FIXTURES) and the oracle (GOPROF_SYM_ORACLE). */
const char *symt_fixture_dir(void);
const char *symt_oracle(void);
/* Installed toolchains from GOPROF_GO_VERSIONS ("1.19 1.21 ..."); returns the count. */
size_t symt_go_versions(char ***out);
/* "<dir>/symfix-<ver>-<mode>[.stripped]"; malloc'ed. */
char *symt_fixture(const char *ver, const char *mode, bool stripped);

/* Runs a shell command, returns its stdout (malloc'ed, NUL-terminated) or NULL. */
char *symt_capture(const char *cmd, int *status);

/* One function as debug/gosym lists it. */
struct symt_func {
	uint64_t entry, end;
	char *name;
};
size_t symt_oracle_funcs(const char *bin, struct symt_func **out);
void symt_free_funcs(struct symt_func *f, size_t n);

/* debug/gosym's answer for a PC: outermost function ("?" if none), innermost file:line. */
struct symt_answer {
	uint64_t pc;
	char *func;
	char *file;
	long line;
};
/* Runs the oracle on bin for pcs; returns the number of answers (n on success). */
size_t symt_oracle_answers(const char *bin, const uint64_t *pcs, size_t n, struct symt_answer *out);
void symt_free_answers(struct symt_answer *a, size_t n);

/* PCs for a binary: every function entry plus per_func random PCs inside each function. */
size_t symt_pick_pcs(const struct symt_func *f, size_t nf, size_t per_func, uint64_t seed, uint64_t **out);
/* n PCs in random functions (uniform over functions, then over bytes). */
size_t symt_random_pcs(const struct symt_func *f, size_t nf, size_t n, uint64_t seed, uint64_t **out);

struct symt_stats {
	size_t n;
	size_t func_ok;  /* outermost function equal */
	size_t line_ok;  /* innermost file:line equal */
	/*
	 * Line disagreements explained by a debug/gosym bug: for a function without pc-file
	 * and pc-line tables (offset 0: C functions of internally linked cgo binaries) gosym
	 * decodes whatever table starts the pctab, where the runtime (and we) say "?:0".
	 */
	size_t line_gosym_bug;
};
/*
 * Compares libgoprof on bin_path with the oracle's answers (computed on oracle_bin, the
 * same link without stripping). Prints up to max_report disagreements on stderr.
 */
void symt_compare(const char *bin_path, const struct symt_answer *ans, size_t n, struct symt_stats *st,
		  int max_report);

/* Go's funcNameForPrint: "pkg.f[go.shape.int]" -> "pkg.f[...]". */
void symt_print_name(const char *in, char *out, size_t len);

/* Copies src to dst with the ELF section header table removed (what sstrip does). */
bool symt_copy_without_sections(const char *src, const char *dst);

#endif
