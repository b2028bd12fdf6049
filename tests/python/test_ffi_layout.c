// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The Python binding (examples/python/goprof.py) describes the public structs without a
 * compiler. This test compares what it declares (`goprof.py --layout`) with the headers:
 * every struct of the headers declared, every field at the same offset with the same
 * size, in the same order, none missing, and the same struct size. The C side is a table
 * generated from the headers (gen_ffi_layout.py: offsetof and sizeof of every field of
 * every public struct), so a struct or field added to the headers is compared without
 * editing this file. Any FFI user can run the same comparison for their own declarations.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/goprof.h"

struct field {
	const char *strct, *name;
	size_t offset, size, align;
};

struct strct {
	const char *name;
	size_t size, align, nr_fields;
};

#include "ffi_layout_table.h"

#define NR_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define NR_STRUCTS (sizeof(structs) / sizeof(structs[0]))

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

static const struct strct *find_struct(const char *name)
{
	for (size_t i = 0; i < NR_STRUCTS; i++)
		if (!strcmp(structs[i].name, name))
			return &structs[i];
	return NULL;
}

/* The generated table itself: fields that follow each other with only alignment padding
 * between them and cover the struct, so a field the header parser missed shows here. */
Test(ffi_layout, table_covers_every_struct)
{
	size_t f = 0;

	cr_assert_gt(NR_STRUCTS, 20, "only %zu structs parsed from the headers", NR_STRUCTS);
	for (size_t s = 0; s < NR_STRUCTS; s++) {
		size_t end = 0;

		for (size_t i = 0; i < structs[s].nr_fields; i++, f++) {
			cr_assert_str_eq(fields[f].strct, structs[s].name);
			cr_assert_eq(fields[f].offset, align_up(end, fields[f].align),
				     "%s.%s at %zu, the previous field ends at %zu: a field between them "
				     "was not parsed", structs[s].name, fields[f].name, fields[f].offset, end);
			end = fields[f].offset + fields[f].size;
		}
		cr_assert_eq(structs[s].size, align_up(end, structs[s].align),
			     "%s is %zu bytes, its parsed fields end at %zu", structs[s].name,
			     structs[s].size, end);
	}
	cr_assert_eq(f, NR_FIELDS);
}

Test(ffi_layout, python_binding_matches_headers)
{
	const char *src = getenv("GOPROF_SOURCE_ROOT");
	char cmd[4096], strct[128], name[128], prev[128] = "";
	size_t off, size, next = 0, nth = 0, checked = 0;
	const struct strct *cur = NULL;
	int declared[NR_STRUCTS] = { 0 };
	FILE *f;

	cr_assert_not_null(src, "GOPROF_SOURCE_ROOT is not set (run through meson test)");
	snprintf(cmd, sizeof(cmd), "python3 %s/examples/python/goprof.py --layout", src);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fscanf(f, "%127s %127s %zu %zu", strct, name, &off, &size) == 4) {
		if (strcmp(strct, prev)) { /* a new struct: its fields start at table entry next */
			cr_assert_null(cur && nth < cur->nr_fields ? cur : NULL,
				       "%s: goprof.py declares %zu fields, C has %zu (first missing: %s)",
				       prev, nth, cur ? cur->nr_fields : 0, fields[next].name);
			cur = find_struct(strct);
			cr_assert_not_null(cur, "goprof.py declares struct %s, which no public header has",
					   strct);
			declared[cur - structs]++;
			for (next = 0; strcmp(fields[next].strct, strct); next++)
				;
			snprintf(prev, sizeof(prev), "%s", strct);
			nth = 0;
		}
		if (!strcmp(name, "(sizeof)")) {
			cr_assert_eq(nth, cur->nr_fields, "%s: goprof.py declares %zu fields, C has %zu "
				     "(first missing: %s)", strct, nth, cur->nr_fields,
				     nth < cur->nr_fields ? fields[next].name : "none");
			cr_assert_eq(off, cur->size, "%s: Python size %zu, C size %zu", strct, off,
				     cur->size);
			continue;
		}
		cr_assert_lt(nth, cur->nr_fields, "%s.%s: more fields than C has", strct, name);
		cr_assert_str_eq(fields[next].name, name, "%s: field %s where C has %s", strct, name,
				 fields[next].name);
		cr_assert_eq(off, fields[next].offset, "%s.%s: offset %zu, C %zu", strct, name, off,
			     fields[next].offset);
		cr_assert_eq(size, fields[next].size, "%s.%s: size %zu, C %zu", strct, name, size,
			     fields[next].size);
		next++;
		nth++;
		checked++;
	}
	cr_assert_eq(pclose(f), 0, "%s failed", cmd);
	cr_assert_null(cur && nth < cur->nr_fields ? cur : NULL,
		       "%s: goprof.py declares %zu fields, C has %zu", prev, nth,
		       cur ? cur->nr_fields : 0);
	for (size_t s = 0; s < NR_STRUCTS; s++)
		cr_expect_eq(declared[s], 1, "struct %s: declared %d times by goprof.py (STRUCTS)",
			     structs[s].name, declared[s]);
	cr_assert_eq(checked, NR_FIELDS, "compared %zu fields of %zu", checked, NR_FIELDS);
	cr_log_info("%zu structs, %zu fields: the Python layout equals C's", NR_STRUCTS, checked);
}
