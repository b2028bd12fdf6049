// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The Python binding (examples/python/goprof.py) describes the public structs without a
 * compiler. This test compares what it declares (`goprof.py --layout`) with the headers:
 * every declared field at the same offset with the same size, the fields a prefix of the
 * C struct in order, and the declared size that prefix's size (the sz the library gets).
 * Any FFI user can run the same comparison for their own declarations.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/goprof.h"

struct field {
	const char *strct, *name;
	size_t offset, size;
};

#define F(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) }

/* Every field of every struct the binding declares, in declaration order. */
static const struct field fields[] = {
	F(goprof_session_opts, sz), F(goprof_session_opts, cpu_freq_hz),
	F(goprof_session_opts, ringbuf_kib), F(goprof_session_opts, on_sample),
	F(goprof_session_opts, ctx), F(goprof_session_opts, user_stack_depth),
	F(goprof_session_opts, kernel_stack_depth), F(goprof_session_opts, features),

	F(goprof_profile_write_opts, sz), F(goprof_profile_write_opts, value_index),
	F(goprof_profile_write_opts, flags), F(goprof_profile_write_opts, title),
	F(goprof_profile_write_opts, service_name), F(goprof_profile_write_opts, pid),
	F(goprof_profile_write_opts, resource_attrs), F(goprof_profile_write_opts, link_keys),

	F(goprof_profile_info, sz), F(goprof_profile_info, nr_sample_types),
	F(goprof_profile_info, nr_samples), F(goprof_profile_info, time_nanos),
	F(goprof_profile_info, duration_nanos), F(goprof_profile_info, period),
	F(goprof_profile_info, period_type), F(goprof_profile_info, period_unit),
	F(goprof_profile_info, default_sample_type), F(goprof_profile_info, nr_timestamps),
	F(goprof_profile_info, timestamps_dropped),

	F(goprof_profile_frame, sz), F(goprof_profile_frame, kind),
	F(goprof_profile_frame, inlined), F(goprof_profile_frame, symbolized),
	F(goprof_profile_frame, address), F(goprof_profile_frame, function),
	F(goprof_profile_frame, system_name), F(goprof_profile_frame, file),
	F(goprof_profile_frame, line), F(goprof_profile_frame, start_line),
	F(goprof_profile_frame, mapping_file), F(goprof_profile_frame, build_id),
	F(goprof_profile_frame, mapping_start), F(goprof_profile_frame, mapping_limit),
	F(goprof_profile_frame, mapping_offset), F(goprof_profile_frame, htlhash),

	F(goprof_profile_label, sz), F(goprof_profile_label, is_num),
	F(goprof_profile_label, key), F(goprof_profile_label, str),
	F(goprof_profile_label, num), F(goprof_profile_label, num_unit),

	F(goprof_profile_sample, sz), F(goprof_profile_sample, nr_frames),
	F(goprof_profile_sample, frames), F(goprof_profile_sample, nr_values),
	F(goprof_profile_sample, nr_labels), F(goprof_profile_sample, values),
	F(goprof_profile_sample, labels), F(goprof_profile_sample, comm),
	F(goprof_profile_sample, nr_timestamps), F(goprof_profile_sample, reserved0),
	F(goprof_profile_sample, timestamps), F(goprof_profile_sample, timestamp_values),
};

static const struct {
	const char *name;
	size_t size;
} sizes[] = {
	{ "goprof_session_opts", sizeof(struct goprof_session_opts) },
	{ "goprof_profile_write_opts", sizeof(struct goprof_profile_write_opts) },
	{ "goprof_profile_info", sizeof(struct goprof_profile_info) },
	{ "goprof_profile_frame", sizeof(struct goprof_profile_frame) },
	{ "goprof_profile_label", sizeof(struct goprof_profile_label) },
	{ "goprof_profile_sample", sizeof(struct goprof_profile_sample) },
};

static size_t c_size(const char *strct)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!strcmp(sizes[i].name, strct))
			return sizes[i].size;
	cr_assert_fail("goprof.py declares struct %s, unknown to this test", strct);
	return 0;
}

Test(ffi_layout, python_binding_matches_headers)
{
	const char *src = getenv("GOPROF_SOURCE_ROOT");
	char cmd[4096], strct[128], name[128], prev[128] = "";
	size_t off, size, next = 0, end = 0, structs = 0, checked = 0;
	FILE *f;

	cr_assert_not_null(src, "GOPROF_SOURCE_ROOT is not set (run through meson test)");
	snprintf(cmd, sizeof(cmd), "python3 %s/examples/python/goprof.py --layout", src);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (fscanf(f, "%127s %127s %zu %zu", strct, name, &off, &size) == 4) {
		if (strcmp(strct, prev)) { /* a new struct: its fields start at table entry next */
			for (next = 0; next < sizeof(fields) / sizeof(fields[0]) &&
				       strcmp(fields[next].strct, strct); next++)
				;
			cr_assert_lt(next, sizeof(fields) / sizeof(fields[0]), "unknown struct %s", strct);
			snprintf(prev, sizeof(prev), "%s", strct);
			end = 0;
			structs++;
		}
		if (!strcmp(name, "(sizeof)")) {
			/* The sz the binding passes: its last field's end, rounded to the
			 * struct's 8-byte alignment; never more than the C struct. */
			size_t want = (end + 7) / 8 * 8;

			cr_assert_eq(off, want, "%s: Python size %zu, C size of that prefix %zu",
				     strct, off, want);
			cr_assert_leq(off, c_size(strct), "%s: Python declares more than C has", strct);
			continue;
		}
		cr_assert_lt(next, sizeof(fields) / sizeof(fields[0]));
		cr_assert_str_eq(fields[next].strct, strct, "%s.%s: more fields than C has", strct, name);
		cr_assert_str_eq(fields[next].name, name, "%s: field %s where C has %s", strct, name,
				 fields[next].name);
		cr_assert_eq(off, fields[next].offset, "%s.%s: offset %zu, C %zu", strct, name, off,
			     fields[next].offset);
		cr_assert_eq(size, fields[next].size, "%s.%s: size %zu, C %zu", strct, name, size,
			     fields[next].size);
		end = off + size;
		next++;
		checked++;
	}
	cr_assert_eq(pclose(f), 0, "%s failed", cmd);
	cr_assert_eq(structs, sizeof(sizes) / sizeof(sizes[0]), "goprof.py declared %zu structs", structs);
	cr_assert_gt(checked, 40);
}
