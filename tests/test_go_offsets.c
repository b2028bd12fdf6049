// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The per-release offset table against the DWARF of binaries built by every installed
 * toolchain (read by Go's own debug/dwarf in tests/tools/gooffsets).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goprof/error.h>

#include "go_offsets.h"
#include "test_common.h"

Test(go_offsets, table_matches_dwarf_of_every_toolchain)
{
	const char *const *versions = fixture_go_versions();
	const char *tools = getenv("GOPROF_TOOLS");

	cr_assert(tools, "GOPROF_TOOLS not set");
	for (int i = 0; versions[i]; i++) {
		char cmd[4096], line[256], version[64] = "";
		int g_m = -1, g_goid = -1, g_labels = -1, m_curg = -1, hchan_lock = -1, v;
		struct gp_target t;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s/gooffsets %s", tools, fixture_path("busy", versions[i]));
		p = popen(cmd, "r");
		cr_assert(p);
		while (fgets(line, sizeof(line), p)) {
			if (sscanf(line, "g.m %d", &v) == 1) g_m = v;
			else if (sscanf(line, "g.goid %d", &v) == 1) g_goid = v;
			else if (sscanf(line, "g.labels %d", &v) == 1) g_labels = v;
			else if (sscanf(line, "m.curg %d", &v) == 1) m_curg = v;
			else if (sscanf(line, "hchan.lock %d", &v) == 1) hchan_lock = v;
			else sscanf(line, "version %63s", version);
		}
		cr_assert_eq(pclose(p), 0, "%s failed", cmd);
		cr_assert_eq(gp_go_offsets(version, &t), 0, "%s: %s", version, goprof_last_error());
		cr_expect_eq(t.g_m, g_m, "%s g.m", version);
		cr_expect_eq(t.g_goid, g_goid, "%s g.goid", version);
		cr_expect_eq(t.g_labels, g_labels, "%s g.labels", version);
		cr_expect_eq(t.m_curg, m_curg, "%s m.curg", version);
		cr_expect_eq(t.hchan_lock, hchan_lock, "%s hchan.lock", version);
		cr_expect_eq(t.labels_layout, GP_LABELS_HMAP, "%s keeps labels in a map", version);
	}
}

Test(go_offsets, unknown_release_is_a_clear_error)
{
	struct gp_target t;

	cr_assert_eq(gp_go_offsets("go1.20.3", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert(strstr(goprof_last_error(), "go1.20.3"), "%s", goprof_last_error());
	cr_assert_eq(gp_go_offsets("go1.99", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert_eq(gp_go_offsets("devel +abc", &t), -GOPROF_ERRNO_GO_VERSION);
	cr_assert_eq(gp_go_offsets(NULL, &t), -GOPROF_ERRNO_GO_VERSION);
}

Test(go_offsets, version_parsing)
{
	int minor;

	cr_assert_eq(gp_go_minor_version("go1.23.5", &minor), 0);
	cr_assert_eq(minor, 23);
	cr_assert_eq(gp_go_minor_version("go1.22rc1", &minor), 0);
	cr_assert_eq(minor, 22);
	cr_assert_eq(gp_go_minor_version("go2.0", &minor), -EINVAL);
	cr_assert_eq(gp_go_minor_version("go1.", &minor), -EINVAL);
}
