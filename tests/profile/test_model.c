// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The profile model: interning, aggregation, labels, reset, snapshots, public reads. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"

/* Collects what goprof_profile_foreach_sample hands out, as text. */
struct dump {
	char text[8192];
	size_t len;
	unsigned samples;
	int64_t count_sum;
};

static int dump_sample(const struct goprof_profile_sample *s, void *ctx)
{
	struct dump *d = ctx;
	uint32_t i;

	cr_assert_eq(s->sz, sizeof(*s));
	cr_assert_eq(s->nr_values, 2);
	d->samples++;
	d->count_sum += s->values[0];
	d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len, "%s %lld %lld:", s->comm,
			   (long long)s->values[0], (long long)s->values[1]);
	for (i = 0; i < s->nr_frames; i++) {
		const struct goprof_profile_frame *f = s->frames[i];

		cr_assert_eq(f->sz, sizeof(*f));
		d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len, " %s%s%s",
				   f->function, f->inlined ? "(i)" : "",
				   f->kind == GOPROF_FRAME_KIND_KERNEL ? "(k)" : "");
	}
	for (i = 0; i < s->nr_labels; i++) {
		const struct goprof_profile_label *l = s->labels[i];

		if (l->is_num)
			d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len, " [%s=%lld]",
					   l->key, (long long)l->num);
		else
			d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len, " [%s=%s]",
					   l->key, l->str);
	}
	d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len, "\n");
	return 0;
}

Test(model, aggregates_identical_stacks_and_label_sets)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct dump d = { 0 };

	cr_assert_eq(goprof_profile_foreach_sample(p, dump_sample, &d), 0);
	/* 6 adds, the first and fifth share stack and labels (given in another order). */
	cr_assert_eq(d.samples, 5, "%s", d.text);
	cr_assert_eq(d.count_sum, FX_TOTAL_SAMPLES);
	cr_assert_str_eq(d.text,
		"server 35 353535350: main.hash(i) main.compute main.worker runtime.goexit [http.route=/api/users] [goroutine=7]\n"
		"server 20 202020200: copy_user_generic_string(k) do_syscall_64(k) entry_SYSCALL_64(k) syscall.Syscall main.readLoop runtime.goexit\n"
		"server 10 101010100: main.hash(i) main.compute main.worker runtime.goexit [http.route=/health] [goroutine=9]\n"
		"server 15 151515150: memcpy operator<<(std::ostream&, Foo const&) runtime.cgocall main.cgoWork runtime.goexit\n"
		"server 5 50505050: weird;name main.cgoWork runtime.goexit\n");
	goprof_profile_free(p);
}

static int frame_details(const struct goprof_profile_sample *s, void *ctx)
{
	const struct goprof_profile_frame *f = s->frames[0];

	if (strcmp(f->function, "memcpy"))
		return 0;
	cr_assert_str_eq(f->system_name, "__memmove_avx_unaligned_erms");
	cr_assert_str_eq(f->mapping_file, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	cr_assert_str_eq(f->build_id, "e7b4c1a0d2f3e4b5c6d7e8f9a0b1c2d3e4f5a6b7");
	cr_assert_eq(f->mapping_start, 0x7f1234560000);
	cr_assert_eq(f->mapping_offset, 0x28000);
	cr_assert_eq(f->address, 0x7f1234589abc);
	cr_assert_eq(f->kind, GOPROF_FRAME_KIND_NATIVE);
	cr_assert_eq(f->symbolized, 1);
	cr_assert_str_eq(f->file, "");
	*(int *)ctx += 1;
	return 7; /* stops the iteration; returned as is */
}

Test(model, frames_carry_mapping_and_symbol_details)
{
	struct goprof_profile *p = fx_cpu_profile();
	int seen = 0;

	cr_assert_eq(goprof_profile_foreach_sample(p, frame_details, &seen), 7);
	cr_assert_eq(seen, 1);
	goprof_profile_free(p);
}

Test(model, info_and_sample_types)
{
	struct goprof_profile *p = fx_cpu_profile();
	struct goprof_profile_info info = { .sz = sizeof(info) };
	const char *type, *unit;

	cr_assert_eq(goprof_profile_get_info(p, &info), 0);
	cr_assert_eq(info.nr_sample_types, 2);
	cr_assert_eq(info.nr_samples, 5);
	cr_assert_eq(info.period, FX_PERIOD);
	cr_assert_eq(info.time_nanos, FX_TIME_NANOS);
	cr_assert_eq(info.duration_nanos, FX_DURATION_NANOS);
	cr_assert_str_eq(info.period_type, "cpu");
	cr_assert_str_eq(info.period_unit, "nanoseconds");
	cr_assert_str_eq(info.default_sample_type, "");
	cr_assert_eq(goprof_profile_sample_type(p, 1, &type, &unit), 0);
	cr_assert_str_eq(type, "cpu");
	cr_assert_str_eq(unit, "nanoseconds");
	cr_assert_eq(goprof_profile_sample_type(p, 2, &type, &unit), -ERANGE);
	cr_assert(strstr(goprof_last_error(), "out of range"), "%s", goprof_last_error());

	/* An older caller's smaller struct: only its fields are written. */
	{
		unsigned char raw[sizeof(struct goprof_profile_info) + 16];
		struct goprof_profile_info *old = (void *)raw;

		memset(raw, 0xaa, sizeof(raw));
		old->sz = 16; /* sz, nr_sample_types, nr_samples */
		cr_assert_eq(goprof_profile_get_info(p, old), 0);
		cr_assert_eq(old->nr_samples, 5);
		cr_assert_eq(raw[16], 0xaa, "wrote past the caller's sz");
		old->sz = 2;
		cr_assert_eq(goprof_profile_get_info(p, old), -EINVAL);
	}
	goprof_profile_free(p);
}

Test(model, interning_and_dedup)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_mapping_in m = { 0x1000, 0x2000, 0, "/bin/x", "abc", NULL };
	struct gp_line_in l = { "f", NULL, "x.c", 3, 1 };
	uint32_t a, b, m1, m2, l1, l2, l3;

	cr_assert_eq(gp_profile_intern(&a, p, "hello"), 0);
	cr_assert_eq(gp_profile_intern(&b, p, "hello"), 0);
	cr_assert_eq(a, b);
	cr_assert_str_eq(gp_str(p, a), "hello");
	cr_assert_eq(gp_profile_intern(&a, p, ""), 0);
	cr_assert_eq(a, 0);
	cr_assert_eq(gp_profile_intern(&a, p, NULL), 0);
	cr_assert_eq(a, 0);
	cr_assert_eq(gp_profile_add_mapping(&m1, p, &m), 0);
	cr_assert_eq(gp_profile_add_mapping(&m2, p, &m), 0);
	cr_assert_eq(m1, m2);
	m.offset = 0x10;
	cr_assert_eq(gp_profile_add_mapping(&m2, p, &m), 0);
	cr_assert_neq(m1, m2);
	cr_assert_eq(gp_profile_find_location(p, m1, 0x1234), 0);
	cr_assert_eq(gp_profile_add_location(&l1, p, m1, 0x1234, GOPROF_FRAME_KIND_GO, &l, 1), 0);
	cr_assert_eq(gp_profile_find_location(p, m1, 0x1234), l1);
	/* Same key: same id, the new lines are ignored. */
	cr_assert_eq(gp_profile_add_location(&l2, p, m1, 0x1234, GOPROF_FRAME_KIND_GO, NULL, 0), 0);
	cr_assert_eq(l1, l2);
	/* Same address in another mapping is another location, with a shared function. */
	cr_assert_eq(gp_profile_add_location(&l3, p, m2, 0x1234, GOPROF_FRAME_KIND_GO, &l, 1), 0);
	cr_assert_neq(l1, l3);
	cr_assert_eq(p->nr_functions, 1);
	goprof_profile_free(p);
}

Test(model, rejects_bad_input_with_messages)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_line_in l = { "f", NULL, NULL, 0, 0 };
	uint32_t id, bogus[] = { 42 };
	int64_t v[2] = { 1, 1 };
	struct gp_label_in nokey = { NULL, "x", 0, NULL };
	struct gp_sample_in s = { .locations = bogus, .nr_locations = 1, .values = v };
	struct gp_profile_desc empty = { 0 };

	cr_assert_null(gp_profile_new(&empty));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(goprof_last_error(), "sample type"), "%s", goprof_last_error());
	cr_assert_eq(gp_profile_add_location(&id, p, 3, 0x10, GOPROF_FRAME_KIND_GO, &l, 1), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "unknown mapping 3"), "%s", goprof_last_error());
	cr_assert_eq(gp_profile_add_location(&id, p, 0, 0x10, 9, &l, 1), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "frame kind 9"), "%s", goprof_last_error());
	cr_assert_eq(gp_profile_add_sample(p, &s), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "unknown location 42"), "%s", goprof_last_error());
	s.nr_locations = 0;
	s.labels = &nokey;
	s.nr_labels = 1;
	cr_assert_eq(gp_profile_add_sample(p, &s), -EINVAL);
	cr_assert(strstr(goprof_last_error(), "no key"), "%s", goprof_last_error());
	s.nr_labels = 0;
	s.values = NULL;
	cr_assert_eq(gp_profile_add_sample(p, &s), -EINVAL);
	cr_assert_eq(p->nr_samples, 0);
	cr_assert_eq(goprof_profile_foreach_sample(NULL, dump_sample, NULL), -EINVAL);
	cr_assert_eq(goprof_profile_foreach_sample(p, NULL, NULL), -EINVAL);
	cr_assert_eq(goprof_profile_get_info(NULL, NULL), -EINVAL);
	goprof_profile_free(p);
	goprof_profile_free(NULL); /* NULL-safe */
}

Test(model, many_labels_beyond_the_inline_buffer)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_label_in labels[40];
	char keys[40][16];
	struct dump d = { 0 };
	int i;

	for (i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02d", 39 - i);
		labels[i] = (struct gp_label_in){ keys[i], NULL, i, "bytes" };
	}
	fx_sample(p, NULL, NULL, 0, 1, labels, 40);
	fx_sample(p, NULL, NULL, 0, 2, labels, 40);
	cr_assert_eq(goprof_profile_foreach_sample(p, dump_sample, &d), 0);
	cr_assert_eq(d.samples, 1);
	cr_assert_eq(d.count_sum, 3);
	/* Canonical order is the order keys were first seen (interning order), whatever
	 * order each sample lists them in. */
	cr_assert(strstr(d.text, " [k39=0] [k38=1] "), "%s", d.text);
	cr_assert(strstr(d.text, " [k01=38] [k00=39]\n"), "%s", d.text);
	goprof_profile_free(p);
}

Test(model, reset_keeps_tables_and_clone_compacts)
{
	struct goprof_profile *p = fx_cpu_profile(), *snap, *snap2;
	uint32_t locs_before = p->nr_locations, loc;
	struct dump d1 = { 0 }, d2 = { 0 };
	struct gp_line_in l = { "main.idle", NULL, "/x/main.go", 5, 4 };

	snap = gp_profile_clone(p);
	cr_assert_not_null(snap, "%s", goprof_last_error());
	cr_assert_eq(goprof_profile_foreach_sample(p, dump_sample, &d1), 0);
	cr_assert_eq(goprof_profile_foreach_sample(snap, dump_sample, &d2), 0);
	cr_assert_str_eq(d1.text, d2.text);

	gp_profile_reset(p);
	cr_assert_eq(p->nr_samples, 0);
	cr_assert_eq(p->nr_locations, locs_before, "reset must keep the symbolization cache");
	loc = fx_location(p, 1, 0x4a9000, GOPROF_FRAME_KIND_GO, &l, 1);
	fx_sample(p, "server", &loc, 1, 4, NULL, 0);
	snap2 = gp_profile_clone(p);
	cr_assert_not_null(snap2);
	cr_assert_eq(snap2->nr_samples, 1);
	cr_assert_eq(snap2->nr_locations, 1, "a snapshot holds only referenced locations");
	cr_assert_eq(snap2->nr_mappings, 1);
	cr_assert_eq(snap2->nr_functions, 1);
	/* The first snapshot is independent of later changes. */
	cr_assert_eq(snap->nr_samples, 5);
	goprof_profile_free(p);
	goprof_profile_free(snap);
	goprof_profile_free(snap2);
}

/* 100k distinct stacks of depth 32 over 20k locations: must stay linear. */
Test(model, hundred_thousand_distinct_stacks, .timeout = 60)
{
	struct goprof_profile *p = fx_empty_cpu_profile();
	struct gp_mapping_in m = { 0x400000, 0x4000000, 0, "/bin/big", "ff", NULL };
	enum { NLOC = 20000, NSTACK = 100000, DEPTH = 32 };
	uint32_t map, *locs = calloc(NLOC, sizeof(*locs)), stack[DEPTH];
	struct timespec t0, t1;
	uint64_t seed = 42;
	char name[64];
	int i, j;
	double secs;

	cr_assert_eq(gp_profile_add_mapping(&map, p, &m), 0);
	for (i = 0; i < NLOC; i++) {
		struct gp_line_in l = { name, NULL, "/src/big.go", i + 1, 1 };

		snprintf(name, sizeof(name), "main.func%d", i);
		locs[i] = fx_location(p, map, 0x400000 + (uint64_t)i * 16, GOPROF_FRAME_KIND_GO, &l, 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NSTACK; i++) {
		for (j = 0; j < DEPTH; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			stack[j] = locs[(seed >> 33) % NLOC];
		}
		stack[0] = locs[i % NLOC]; /* keep every stack distinct */
		stack[1] = locs[i / NLOC];
		fx_sample(p, "big", stack, DEPTH, 1, NULL, 0);
	}
	/* Second pass: every stack again, must aggregate. */
	seed = 42;
	for (i = 0; i < NSTACK; i++) {
		for (j = 0; j < DEPTH; j++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			stack[j] = locs[(seed >> 33) % NLOC];
		}
		stack[0] = locs[i % NLOC];
		stack[1] = locs[i / NLOC];
		fx_sample(p, "big", stack, DEPTH, 1, NULL, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_log_info("200k sample adds (100k distinct, depth 32): %.3f s, %.0f adds/s", secs,
		    2 * NSTACK / secs);
	printf("model: 200k sample adds (100k distinct stacks, depth 32): %.3f s (%.2f M adds/s)\n",
	       secs, 2 * NSTACK / secs / 1e6);
	cr_assert_eq(p->nr_samples, NSTACK);
	for (i = 0; i < (int)p->nr_samples; i++)
		cr_assert_eq(gp_sample_values(p, (uint32_t)i)[0], 2);
	cr_assert_lt(secs, 5.0, "aggregation too slow: %.2f s", secs);
	free(locs);
	goprof_profile_free(p);
}

/* A profile keeping timestamps: each event's time and values, in time order per sample,
 * through clone (the snapshot) and foreach; bounded, with the rest counted; reset empties. */
struct ts_seen {
	uint64_t samples, stamps, sorted;
	int64_t sum_values;
};

static int collect_ts(const struct goprof_profile_sample *s, void *ctx)
{
	struct ts_seen *t = ctx;
	int64_t sum = 0;

	t->samples++;
	t->stamps += s->nr_timestamps;
	for (uint32_t i = 0; i < s->nr_timestamps; i++) {
		sum += s->timestamp_values[(size_t)i * s->nr_values];
		t->sorted += i == 0 || s->timestamps[i - 1] <= s->timestamps[i];
	}
	cr_assert_eq(sum, s->values[0], "a sample's events sum to its value");
	t->sum_values += sum;
	return 0;
}

static struct goprof_profile *ts_profile(uint32_t max_ts)
{
	static const struct gp_value_type types[] = { { "samples", "count" }, { "cpu", "nanoseconds" } };
	struct gp_profile_desc desc = { .sample_types = types, .nr_sample_types = 2,
					.max_timestamps = max_ts };
	struct goprof_profile *p = gp_profile_new(&desc);

	cr_assert_not_null(p);
	return p;
}

static void add_timed(struct goprof_profile *p, uint32_t loc, int64_t t)
{
	int64_t v[2] = { 1, FX_PERIOD };
	struct gp_sample_in s = { .locations = &loc, .nr_locations = 1, .values = v,
				  .time_unix_nano = t };

	cr_assert_eq(gp_profile_add_sample(p, &s), 0);
}

Test(model, timestamps_kept_sorted_bounded_and_cloned)
{
	struct goprof_profile *p = ts_profile(1000), *c;
	const struct gp_line_in f = { "main.f", NULL, "/f.go", 1, 1 };
	struct goprof_profile_info info = { .sz = sizeof(info) };
	struct ts_seen seen = { 0 };
	uint32_t loc[3];

	for (int i = 0; i < 3; i++)
		loc[i] = fx_location(p, 0, 0xffffffff81000000ull + (uint64_t)i, GOPROF_FRAME_KIND_KERNEL, &f, 1);
	for (int i = 0; i < 1200; i++) /* decreasing times: the reader must sort */
		add_timed(p, loc[i % 3], 2000000000000LL - i);
	c = gp_profile_clone(p);
	cr_assert_not_null(c);
	cr_assert_eq(goprof_profile_get_info(c, &info), 0);
	cr_assert_eq(info.nr_timestamps, 1000);
	cr_assert_eq(info.timestamps_dropped, 200);
	/* Sums no longer match with 200 dropped: check a complete profile instead. */
	goprof_profile_free(c);
	gp_profile_reset(p);
	cr_assert_eq(p->nr_ts, 0);
	cr_assert_eq(p->ts_dropped, 0);
	for (int i = 0; i < 900; i++)
		add_timed(p, loc[i % 3], 2000000000000LL - i);
	c = gp_profile_clone(p);
	cr_assert_eq(goprof_profile_foreach_sample(c, collect_ts, &seen), 0);
	cr_assert_eq(seen.samples, 3);
	cr_assert_eq(seen.stamps, 900);
	cr_assert_eq(seen.sorted, 900, "timestamps out of order");
	cr_assert_eq(seen.sum_values, 900);
	goprof_profile_free(c);
	goprof_profile_free(p);
}

static size_t heap_bytes(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd; /* large arrays are mmapped */
}

/* What a kept timestamp costs, measured on the heap: the documented 28 bytes for a CPU
 * profile (12 + 8 per sample type), plus array growth slack. */
Test(model, timestamp_memory_per_sample)
{
	const struct gp_line_in f = { "main.f", NULL, "/f.go", 1, 1 };
	struct goprof_profile *p = ts_profile(1u << 20), *q = ts_profile(0);
	uint32_t lp, lq;
	size_t before, after, without;
	double per;

	lp = fx_location(p, 0, 0xffffffff81000000ull, GOPROF_FRAME_KIND_KERNEL, &f, 1);
	lq = fx_location(q, 0, 0xffffffff81000000ull, GOPROF_FRAME_KIND_KERNEL, &f, 1);
	before = heap_bytes();
	for (int i = 0; i < 1000000; i++)
		add_timed(q, lq, 1 + i);
	without = heap_bytes() - before;
	before = heap_bytes();
	for (int i = 0; i < 1000000; i++)
		add_timed(p, lp, 1 + i);
	after = heap_bytes();
	per = (double)(after - before) / 1e6;
	printf("model: 1M samples of one stack: %zu bytes without timestamps, %.1f bytes per "
	       "kept timestamp\n", without, per);
	cr_assert_lt(without, 4096, "aggregated samples grew the heap");
	cr_assert_leq(per, 28 * 1.25, "%.1f bytes per timestamp", per);
	goprof_profile_free(p);
	goprof_profile_free(q);
}

/* FFI users describe these structs by hand (issue 8): the LP64 layout is part of the ABI. */
Test(model, public_struct_layout_lp64)
{
	if (sizeof(void *) != 8)
		cr_skip_test("layout figures are for LP64");
	cr_assert_eq(sizeof(struct goprof_profile_info), 80);
	cr_assert_eq(offsetof(struct goprof_profile_info, nr_samples), 8);
	cr_assert_eq(offsetof(struct goprof_profile_info, period_type), 40);
	cr_assert_eq(offsetof(struct goprof_profile_info, default_sample_type), 56);
	cr_assert_eq(offsetof(struct goprof_profile_info, nr_timestamps), 64);
	cr_assert_eq(offsetof(struct goprof_profile_info, timestamps_dropped), 72);
	cr_assert_eq(sizeof(struct goprof_profile_frame), 112);
	cr_assert_eq(offsetof(struct goprof_profile_frame, htlhash), 104);
	cr_assert_eq(offsetof(struct goprof_profile_frame, address), 16);
	cr_assert_eq(offsetof(struct goprof_profile_frame, function), 24);
	cr_assert_eq(offsetof(struct goprof_profile_frame, line), 48);
	cr_assert_eq(offsetof(struct goprof_profile_frame, mapping_file), 64);
	cr_assert_eq(offsetof(struct goprof_profile_frame, mapping_offset), 96);
	cr_assert_eq(sizeof(struct goprof_profile_label), 40);
	cr_assert_eq(offsetof(struct goprof_profile_label, key), 8);
	cr_assert_eq(offsetof(struct goprof_profile_label, num), 24);
	cr_assert_eq(sizeof(struct goprof_profile_sample), 72);
	cr_assert_eq(offsetof(struct goprof_profile_sample, nr_timestamps), 48);
	cr_assert_eq(offsetof(struct goprof_profile_sample, timestamps), 56);
	cr_assert_eq(offsetof(struct goprof_profile_sample, timestamp_values), 64);
	cr_assert_eq(offsetof(struct goprof_profile_sample, frames), 8);
	cr_assert_eq(offsetof(struct goprof_profile_sample, nr_values), 16);
	cr_assert_eq(offsetof(struct goprof_profile_sample, values), 24);
	cr_assert_eq(offsetof(struct goprof_profile_sample, comm), 40);
	/* Options structs grow at their end (sizeof not fixed); shipped fields stay put. */
	cr_assert_eq(offsetof(struct goprof_profile_write_opts, value_index), 8);
	cr_assert_eq(offsetof(struct goprof_profile_write_opts, flags), 12);
	cr_assert_eq(offsetof(struct goprof_profile_write_opts, title), 16);
}
