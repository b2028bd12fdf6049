// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * SVG flame graph: parsed with python3's xml.etree, layout and tooltips checked, and the
 * embedded zoom/search script run under node against the file's own frames
 * (check_svg.py).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static char *check_svg(const char *path, const char *args, int *status)
{
	const char *dir = getenv("GOPROF_PROFILE_TEST_DIR");
	char *cmd, *out;

	if (!dir)
		fx_require_tool("GOPROF_PROFILE_TEST_DIR not set (run through meson test)");
	cr_assert_neq(asprintf(&cmd, "python3 %s/check_svg.py %s %s", dir, path, args), -1);
	out = fx_run(cmd, status);
	free(cmd);
	return out;
}

Test(svg, fixture_layout_and_script, .timeout = 60)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *path = fx_write_tmp(p, GOPROF_FORMAT_SVG, ".svg");
	char *out;
	int st;

	/* main.* frames: worker 45 + readLoop 20 + cgoWork 20 = 85 (nested ones count once). */
	out = check_svg(path, "85 all:root:85 server:comm:85 runtime.goexit:go:85 "
			      "main.hash:go:45 main.compute:go:45 "
			      "'copy_user_generic_string:kernel:20' 'memcpy:native:15' "
			      "'operator<<(std::ostream&, Foo const&):native:15' 'weird;name:native:5' "
			      "--script main.worker 'main\\.' 100.0", &st);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "script OK"), "script not exercised:\n%s", out);
	free(out);
	out = check_svg(path, "85 --script main.readLoop '^main\\.hash$' 52.9", &st);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

Test(svg, escapes_and_title)
{
	struct goprof_profile *p = fx_cpu_profile();
	GOPROF_OPTS(goprof_profile_write_opts, opts, .title = "CPU <server> & \"friends\"");
	struct fx_buf b = { 0 };

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_SVG, &opts, fx_buf_write, &b), 0);
	cr_assert(strstr(b.data, "CPU &lt;server&gt; &amp; &quot;friends&quot;</text>"), "title not escaped");
	cr_assert(strstr(b.data, "operator&lt;&lt;(std::ostream&amp;, Foo const&amp;)"), "name not escaped");
	cr_assert_null(strstr(b.data, "operator<<"), "raw '<' in the SVG");
	cr_assert(strstr(b.data, "(35 samples,") == NULL, "labels must not split frames");
	cr_assert(strstr(b.data, "main.hash (45 samples, 52.94%)"), "tooltip");
	fx_buf_free(&b);
	goprof_profile_free(p);
}

/* Time in units people read (issue 19): "455 ms", not "454545450 nanoseconds". */
Test(svg, time_in_human_units)
{
	struct goprof_profile *p = fx_cpu_profile();
	GOPROF_OPTS(goprof_profile_write_opts, opts, .value_index = 1);
	struct fx_buf b = { 0 };

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_SVG, &opts, fx_buf_write, &b), 0);
	cr_assert(strstr(b.data, "main.hash (455 ms, 52.94%)"), "tooltip of 45 samples of 10.1 ms");
	cr_assert(strstr(b.data, "Flame graph: cpu (859 ms in all)</text>"), "default title");
	cr_assert_null(strstr(b.data, "nanoseconds,"), "a raw nanosecond count in a tooltip");
	cr_assert(strstr(b.data, "width=\"100%\""), "the image is as wide as the window");
	fx_buf_free(&b);
	goprof_profile_free(p);
}

/* Invalid UTF-8 and control characters must not make the file unparsable. */
Test(svg, hostile_names_stay_well_formed, .timeout = 60)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in bad = { "bad\xff\xfe name\x01\x7f ]]> <![CDATA[", NULL, NULL, 0, 0 };
	struct gp_line_in utf = { "main.\xc3\xa9t\xc3\xa9_\xe2\x82\xac", NULL, NULL, 0, 0 };
	uint32_t locs[2];
	char *path, *out;
	int st;

	locs[0] = fx_location(p, 0, 0x1000, GOPROF_FRAME_KIND_NATIVE, &bad, 1);
	locs[1] = fx_location(p, 0, 0x2000, GOPROF_FRAME_KIND_GO, &utf, 1);
	fx_sample(p, "x", locs, 2, 9, NULL, 0);
	path = fx_write_tmp(p, GOPROF_FORMAT_SVG, ".svg");
	out = check_svg(path, "9 'main.\xc3\xa9t\xc3\xa9_\xe2\x82\xac:go:9'", &st);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

Test(svg, empty_profile_is_valid, .timeout = 60)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	char *path = fx_write_tmp(p, GOPROF_FORMAT_SVG, ".svg");
	char *out;
	int st;

	out = check_svg(path, "0", &st);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	unlink(path);
	free(path);
	goprof_profile_free(p);
}

/* Frames below 0.1 px are dropped (flamegraph.pl's rule) to bound the file size. */
Test(svg, narrow_frames_pruned, .timeout = 60)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in big = { "main.big", NULL, NULL, 0, 0 };
	struct gp_line_in tiny = { "main.tiny", NULL, NULL, 0, 0 };
	uint32_t lb, lt;
	struct fx_buf b = { 0 };

	lb = fx_location(p, 0, 0x1000, GOPROF_FRAME_KIND_GO, &big, 1);
	lt = fx_location(p, 0, 0x2000, GOPROF_FRAME_KIND_GO, &tiny, 1);
	fx_sample(p, "x", &lb, 1, 1000000, NULL, 0);
	fx_sample(p, "x", &lt, 1, 1, NULL, 0);
	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_SVG, NULL, fx_buf_write, &b), 0);
	cr_assert(strstr(b.data, ">main.big ("));
	cr_assert_null(strstr(b.data, "main.tiny"));
	fx_buf_free(&b);
	goprof_profile_free(p);
}
