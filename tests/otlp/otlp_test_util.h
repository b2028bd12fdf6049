/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * Helpers of the OTLP suites: write a profile's OTLP request and, through the public
 * read API, the JSON expectation that check_otlp.py compares it with.
 */
#ifndef GOPROF_TEST_OTLP_UTIL_H
#define GOPROF_TEST_OTLP_UTIL_H

#include <stdio.h>

#include "goprof/profile.h"

/* What the test expects beyond the profile's own data. */
struct otlp_expect {
	const char *resource_json;         /* JSON object of the expected resource attributes */
	const char *const *link_keys;      /* as passed in the write options; NULL: defaults */
};

/*
 * Writes the profile as OTLP (with opts) to a new temporary file and the expectation to
 * another; returns 0 and the two paths (free them), or the goprof_profile_write() error.
 */
int otlp_write_case(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
		    const struct otlp_expect *ex, char **body_path, char **expect_path);

/* Runs check_otlp.py on the two files; returns its exit status and its output in *out
 * (free it). */
int otlp_run_checker(const char *body_path, const char *expect_path, char **out);
/* Same, with more arguments for check_otlp.py (e.g. "--spans FILE --linked FN"). */
int otlp_run_checker_args(const char *body_path, const char *expect_path, const char *args,
			  char **out);

/* The expected resource as JSON (free it), from the resource the encoder wrote in
 * `text` (protoc's decoding) for its build ID - the one value the test cannot know -
 * and what the test knows: the executable's path, the pid and the service name. */
char *otlp_resource_json(const char *text, const char *exe, int pid, const char *service);

/* Decodes an OTLP body with protoc into text (free it); NULL on failure. */
char *otlp_decode_text(const char *body_path);

/* Path of a file in tests/otlp (GOPROF_OTLP_TEST_DIR); static buffer. */
const char *otlp_test_file(const char *name);

#endif
