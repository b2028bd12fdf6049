// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libFuzzer target: builds a profile from the input bytes through the internal model API
 * (names with any bytes, empty and deep stacks, inline lines, labels, odd values) and
 * runs every encoder on it. Checks that folded output counts add up to the sum of the
 * positive sample values. Built with -Dfuzzing=true (clang).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_internal.h"

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, uint32_t bound)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 3 && in->n; i++, in->p++, in->n--)
		v = v << 8 | *in->p;
	return bound ? v % bound : v;
}

/* A NUL-terminated name of up to 40 input bytes (any byte values). */
static const char *take_name(struct input *in, char *buf)
{
	uint32_t len = take(in, 41), i;

	for (i = 0; i < len && in->n; i++, in->p++, in->n--)
		buf[i] = *in->p ? (char)*in->p : '?';
	buf[i] = '\0';
	return buf;
}

struct text {
	char *d;
	size_t len;
};

static int collect(const void *data, size_t len, void *ctx)
{
	struct text *t = ctx;
	char *d = realloc(t->d, t->len + len + 1);

	if (!d)
		return -12;
	memcpy(d + t->len, data, len);
	t->d = d;
	t->len += len;
	t->d[t->len] = '\0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gp_value_type types[] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.period_type = { "cpu", "nanoseconds" }, .period = 1,
					.max_timestamps = 8 }; /* a few kept, the rest dropped */
	struct input in = { data, size };
	struct goprof_profile *p = gp_profile_new(&desc);
	uint32_t locs[64], nlocs = 0, stack[300], maps[4] = { 0 }, i, j;
	char names[4][48], keybuf[48], valbuf[48];
	long long want = 0, got = 0;
	struct text folded = { 0 };
	const uint32_t formats[] = { GOPROF_FORMAT_PPROF, GOPROF_FORMAT_FOLDED, GOPROF_FORMAT_SVG,
				     GOPROF_FORMAT_OTLP };

	if (!p)
		return 0;
	for (i = 0; i < 4; i++) {
		struct gp_mapping_in m = { take(&in, 0), take(&in, 0), take(&in, 0),
					   take_name(&in, names[0]), NULL, NULL };

		if (gp_profile_add_mapping(&maps[i], p, &m))
			goto out;
	}
	nlocs = 1 + take(&in, 64);
	for (i = 0; i < nlocs; i++) {
		struct gp_line_in lines[4];
		uint32_t nl = take(&in, 5);

		for (j = 0; j < nl; j++)
			lines[j] = (struct gp_line_in){ take_name(&in, names[j]), NULL, NULL,
							(int64_t)take(&in, 0), 0 };
		if (gp_profile_add_location(&locs[i], p, take(&in, 2) ? maps[take(&in, 4)] : 0,
					    take(&in, 0), take(&in, 4), lines, nl))
			goto out;
	}
	while (in.n) {
		uint32_t depth = take(&in, 300);
		int64_t v[2] = { (int64_t)take(&in, 0) - 1000, (int64_t)take(&in, 0) };
		struct gp_label_in label = { take_name(&in, keybuf), take(&in, 2) ? take_name(&in, valbuf) : NULL,
					     (int64_t)take(&in, 0), NULL };
		struct gp_sample_in s = { .locations = stack, .nr_locations = depth, .values = v,
					  .labels = &label, .nr_labels = label.key[0] ? 1 : 0,
					  .comm = take(&in, 2) ? "comm" : NULL,
					  .time_unix_nano = (int64_t)take(&in, 0) };

		for (j = 0; j < depth; j++)
			stack[j] = locs[take(&in, nlocs)];
		if (gp_profile_add_sample(p, &s))
			goto out;
	}
	for (i = 0; i < p->nr_samples; i++)
		if (gp_sample_values(p, i)[0] > 0)
			want += gp_sample_values(p, i)[0];
	for (i = 0; i < 4; i++) {
		struct text t = { 0 };

		/* Keep the folded text (chunks may split lines) to check its counts below. */
		if (goprof_profile_write(p, formats[i], NULL, collect, i == 1 ? &folded : &t))
			abort();
		free(t.d);
	}
	/* Every folded line ends in " <count>"; the counts add up to the positive values. */
	for (char *line = folded.d, *nl; line && *line; line = nl + 1) {
		char *sp;

		nl = strchr(line, '\n');
		if (!nl)
			abort();
		*nl = '\0';
		sp = strrchr(line, ' ');
		if (!sp)
			abort();
		got += strtoll(sp + 1, NULL, 10);
	}
	if (got != want) {
		fprintf(stderr, "folded counts %lld, samples %lld\n", got, want);
		abort();
	}
out:
	free(folded.d);
	goprof_profile_free(p);
	return 0;
}
