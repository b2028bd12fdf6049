// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Folded stacks: golden output of the fixture profile and the format's rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static char *folded(const struct goprof_profile *p, uint32_t value_index)
{
	GOPROF_OPTS(goprof_profile_write_opts, opts, .value_index = value_index);
	struct fx_buf b = { 0 };
	int err = goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &opts, fx_buf_write, &b);

	cr_assert_eq(err, 0, "%d %s", err, goprof_last_error());
	return b.data ? b.data : strdup("");
}

Test(folded, golden_fixture)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *out = folded(p, 0);

	/* Sorted like flamegraph.pl's input; labels merged away; ';' in a name replaced;
	 * kernel frames suffixed; inline frames separate, caller first. */
	cr_assert_str_eq(out,
		"server;runtime.goexit;main.cgoWork;runtime.cgocall;operator<<(std::ostream&, Foo const&);memcpy 15\n"
		"server;runtime.goexit;main.cgoWork;weird:name 5\n"
		"server;runtime.goexit;main.readLoop;syscall.Syscall;entry_SYSCALL_64_[k];do_syscall_64_[k];copy_user_generic_string_[k] 20\n"
		"server;runtime.goexit;main.worker;main.compute;main.hash 45\n");
	free(out);
	goprof_profile_free(p);
}

Test(folded, other_value_index_counts_nanoseconds)
{
	struct goprof_profile *p = fx_cpu_profile();
	char *out = folded(p, 1);

	cr_assert(strstr(out, "main.compute;main.hash 454545450\n"), "%s", out);
	free(out);
	goprof_profile_free(p);
}

/* GOPROF_WRITE_FOLDED_UNIT: a first comment line names the counts (issue 19). */
Test(folded, unit_comment_line)
{
	struct goprof_profile *p = fx_cpu_profile();
	GOPROF_OPTS(goprof_profile_write_opts, opts, .value_index = 1, .flags = GOPROF_WRITE_FOLDED_UNIT);
	struct fx_buf b = { 0 };

	cr_assert_eq(goprof_profile_write(p, GOPROF_FORMAT_FOLDED, &opts, fx_buf_write, &b), 0);
	cr_assert_eq(strncmp(b.data, "# goprof folded stacks: cpu in nanoseconds "
				     "(flamegraph.pl --countname=nanoseconds)\nserver;", 90), 0, "%s", b.data);
	cr_assert(strstr(b.data, "main.compute;main.hash 454545450\n"), "%s", b.data);
	fx_buf_free(&b);
	goprof_profile_free(p);
}

/* Every line is "frames count" with one space before an integer, and the counts add up. */
Test(folded, format_rules_on_messy_names)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_mapping_in lib = { 0x7f0000000000, 0x7f0000100000, 0, "/usr/lib/libweird.so.1", NULL, NULL };
	struct gp_line_in nl = { "line\nbreak;and;semis", NULL, NULL, 0, 0 };
	struct gp_line_in sp = { "with space", NULL, NULL, 0, 0 };
	uint32_t ml, a, b, c, d, s1[3], s2[2];
	char *out, *line, *save = NULL;
	long long total = 0;
	int lines = 0;

	cr_assert_eq(gp_profile_add_mapping(&ml, p, &lib), 0);
	a = fx_location(p, ml, 0x7f0000000100, GOPROF_FRAME_KIND_NATIVE, &nl, 1);
	b = fx_location(p, ml, 0x7f0000000200, GOPROF_FRAME_KIND_NATIVE, NULL, 0); /* unsymbolized */
	c = fx_location(p, 0, 0x7f0000990000, GOPROF_FRAME_KIND_NATIVE, NULL, 0);  /* no mapping */
	d = fx_location(p, ml, 0x7f0000000300, GOPROF_FRAME_KIND_NATIVE, &sp, 1);
	s1[0] = a; s1[1] = b; s1[2] = d;
	s2[0] = c; s2[1] = d;
	fx_sample(p, "my;app", s1, 3, 7, NULL, 0);
	fx_sample(p, NULL, s2, 2, 2, NULL, 0);  /* no comm: no root frame */
	fx_sample(p, "my;app", s1, 3, 0, NULL, 0); /* zero counts add nothing */
	out = folded(p, 0);
	cr_assert_str_eq(out,
		"my:app;with space;[libweird.so.1];line?break:and:semis 7\n"
		"with space;[unknown] 2\n");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp_ = strrchr(line, ' ');
		char *end;

		cr_assert_not_null(sp_);
		total += strtoll(sp_ + 1, &end, 10);
		cr_assert_eq(*end, '\0', "count must be an integer: %s", line);
		lines++;
	}
	cr_assert_eq(lines, 2);
	cr_assert_eq(total, 9);
	free(out);
	goprof_profile_free(p);
}

/* Issue 15: names are untrusted bytes; each byte of invalid UTF-8 (stray, truncated,
 * overlong, surrogate) becomes U+FFFD, well-formed UTF-8 is kept as it is. */
Test(folded, invalid_utf8_becomes_replacement_character)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in bad = { "main.\xff\xc3|\xed\xa0\x80|\xe0\x80\xaf|\xc3\xa9", NULL, NULL, 0, 0 };
	uint32_t a;
	char *out;

	a = fx_location(p, 0, 0x1000, GOPROF_FRAME_KIND_GO, &bad, 1);
	fx_sample(p, "app\x80", &a, 1, 5, NULL, 0);
	out = folded(p, 0);
	cr_assert_str_eq(out, "app\xef\xbf\xbd;main.\xef\xbf\xbd\xef\xbf\xbd|"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
			 "\xc3\xa9 5\n");
	free(out);
	goprof_profile_free(p);
}

Test(folded, empty_profile_writes_nothing)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	char *out = folded(p, 0);

	cr_assert_str_eq(out, "");
	free(out);
	goprof_profile_free(p);
}

/* Deep recursion must not overflow anything (no recursion in the encoder). */
Test(folded, ten_thousand_frames_deep)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in rec = { "main.recurse", NULL, "/src/r.go", 3, 1 };
	uint32_t loc, *stack = calloc(10000, sizeof(*stack));
	char *out;
	int i;

	loc = fx_location(p, 0, 0x401000, GOPROF_FRAME_KIND_GO, &rec, 1);
	for (i = 0; i < 10000; i++)
		stack[i] = loc;
	fx_sample(p, "deep", stack, 10000, 3, NULL, 0);
	out = folded(p, 0);
	cr_assert_eq(strlen(out), strlen("deep") + 10000 * strlen(";main.recurse") + strlen(" 3\n"));
	cr_assert(strstr(out, "main.recurse 3\n"));
	free(out);
	free(stack);
	goprof_profile_free(p);
}

/* A sample without frames and without a process name still counts (as "[unknown]"). */
Test(folded, empty_stack_without_comm)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	char *out;

	fx_sample(p, NULL, NULL, 0, 4, NULL, 0);
	fx_sample(p, "app", NULL, 0, 2, NULL, 0);
	out = folded(p, 0);
	cr_assert_str_eq(out, "[unknown] 4\napp 2\n");
	free(out);
	goprof_profile_free(p);
}
