// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * pprof encoder: perftools.profiles.Profile (field numbers in GUIDE section 4), gzip via
 * zlib. Only what the samples reference is written, renumbered densely from 1, so a
 * profile whose tables outlived a reset (the session's symbolization cache) stays small.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile/encode.h"
#include "profile/pb_writer.h"

/* Profile */
#define F_SAMPLE_TYPE 1
#define F_SAMPLE 2
#define F_MAPPING 3
#define F_LOCATION 4
#define F_FUNCTION 5
#define F_STRING_TABLE 6
#define F_TIME_NANOS 9
#define F_DURATION_NANOS 10
#define F_PERIOD_TYPE 11
#define F_PERIOD 12
#define F_DEFAULT_SAMPLE_TYPE 14
/* ValueType */
#define F_VT_TYPE 1
#define F_VT_UNIT 2
/* Sample */
#define F_S_LOCATION_ID 1
#define F_S_VALUE 2
#define F_S_LABEL 3
/* Label */
#define F_L_KEY 1
#define F_L_STR 2
#define F_L_NUM 3
#define F_L_NUM_UNIT 4
/* Mapping */
#define F_M_ID 1
#define F_M_START 2
#define F_M_LIMIT 3
#define F_M_OFFSET 4
#define F_M_FILENAME 5
#define F_M_BUILD_ID 6
#define F_M_HAS_FUNCTIONS 7
#define F_M_HAS_FILENAMES 8
#define F_M_HAS_LINE_NUMBERS 9
#define F_M_HAS_INLINE_FRAMES 10
/* Location */
#define F_LOC_ID 1
#define F_LOC_MAPPING_ID 2
#define F_LOC_ADDRESS 3
#define F_LOC_LINE 4
/* Line */
#define F_LN_FUNCTION_ID 1
#define F_LN_LINE 2
/* Function */
#define F_FN_ID 1
#define F_FN_NAME 2
#define F_FN_SYSTEM_NAME 3
#define F_FN_FILENAME 4
#define F_FN_START_LINE 5

#define MAP_HAS_FUNCTIONS 0x1
#define MAP_HAS_FILENAMES 0x2
#define MAP_HAS_LINES 0x4

/* Old id -> new dense id (0: not referenced), plus new id -> old id for writing. */
struct remap {
	uint32_t *new_id; /* indexed by old id */
	uint32_t *old_id; /* indexed by new id - 1 (strings: by new index) */
	uint32_t n;
};

struct pprof_ctx {
	const struct goprof_profile *p;
	struct remap str, fn, loc, map;
	uint8_t *map_flags; /* by new mapping id - 1 */
};

static int remap_init(struct remap *r, uint32_t nr_old)
{
	r->n = 0;
	r->new_id = calloc((size_t)nr_old + 1, sizeof(*r->new_id));
	r->old_id = calloc((size_t)nr_old + 1, sizeof(*r->old_id));
	return r->new_id && r->old_id ? 0 : -ENOMEM;
}

static void remap_free(struct remap *r)
{
	free(r->new_id);
	free(r->old_id);
}

/* Strings are 0-based with "" fixed at 0; the other tables are 1-based. */
static uint32_t use_str(struct pprof_ctx *c, uint32_t old)
{
	if (!old)
		return 0;
	if (!c->str.new_id[old]) {
		c->str.old_id[c->str.n] = old;
		c->str.new_id[old] = c->str.n++;
	}
	return c->str.new_id[old];
}

static uint32_t use_id(struct remap *r, uint32_t old)
{
	if (!r->new_id[old]) {
		r->old_id[r->n] = old;
		r->new_id[old] = ++r->n;
	}
	return r->new_id[old];
}

static void mark_location(struct pprof_ctx *c, uint32_t old)
{
	const struct goprof_profile *p = c->p;
	const struct gp_location *loc = gp_loc(p, old);
	uint8_t flags = MAP_HAS_FUNCTIONS | MAP_HAS_FILENAMES | MAP_HAS_LINES;
	uint32_t i;

	if (c->loc.new_id[old])
		return;
	use_id(&c->loc, old);
	if (!loc->nr_lines)
		flags = 0;
	for (i = 0; i < loc->nr_lines; i++) {
		const struct gp_line *l = &p->lines[loc->line_off + i];
		const struct gp_function *f = gp_func(p, l->function);

		if (!l->line)
			flags &= ~MAP_HAS_LINES;
		if (!f->filename)
			flags &= ~MAP_HAS_FILENAMES;
		if (!f->name)
			flags &= ~MAP_HAS_FUNCTIONS;
		if (!c->fn.new_id[l->function]) {
			use_id(&c->fn, l->function);
			use_str(c, f->name);
			use_str(c, f->system_name);
			use_str(c, f->filename);
		}
	}
	if (loc->mapping) {
		bool first = !c->map.new_id[loc->mapping];
		uint32_t m = use_id(&c->map, loc->mapping);

		if (first) {
			use_str(c, gp_map(p, loc->mapping)->filename);
			use_str(c, gp_map(p, loc->mapping)->build_id);
			c->map_flags[m - 1] = flags;
		} else {
			c->map_flags[m - 1] &= flags;
		}
	}
}

/* Assigns new ids to everything the samples reference, in order of first use. */
static void mark(struct pprof_ctx *c)
{
	const struct goprof_profile *p = c->p;
	uint32_t i, j;

	use_str(c, 0);
	c->str.old_id[0] = 0;
	c->str.n = 1;
	for (i = 0; i < p->nr_types; i++) {
		use_str(c, p->type_ids[i]);
		use_str(c, p->unit_ids[i]);
	}
	use_str(c, p->period_type);
	use_str(c, p->period_unit);
	use_str(c, p->default_sample_type);
	for (i = 0; i < p->nr_samples; i++) {
		const struct gp_sample *s = &p->samples[i];

		for (j = 0; j < s->nr_locs; j++)
			mark_location(c, p->loc_ids[s->loc_off + j]);
		for (j = 0; j < s->nr_labels; j++) {
			const struct gp_label *l = &p->labels[s->label_off + j];

			use_str(c, l->key);
			use_str(c, l->str);
			use_str(c, l->num_unit);
		}
	}
}

static void write_value_type(struct pb_buf *b, uint32_t field, uint32_t type, uint32_t unit)
{
	size_t m = pb_begin(b, field);

	pb_int64_nz(b, F_VT_TYPE, type);
	pb_int64_nz(b, F_VT_UNIT, unit);
	pb_end(b, m);
}

static void write_samples(struct pprof_ctx *c, struct pb_buf *b)
{
	const struct goprof_profile *p = c->p;
	uint32_t i, j;

	for (i = 0; i < p->nr_samples; i++) {
		const struct gp_sample *s = &p->samples[i];
		const int64_t *v = gp_sample_values(p, i);
		size_t m = pb_begin(b, F_SAMPLE), k;

		if (s->nr_locs) {
			k = pb_begin(b, F_S_LOCATION_ID); /* packed */
			for (j = 0; j < s->nr_locs; j++)
				pb_varint(b, c->loc.new_id[p->loc_ids[s->loc_off + j]]);
			pb_end(b, k);
		}
		k = pb_begin(b, F_S_VALUE);
		for (j = 0; j < p->nr_types; j++)
			pb_varint(b, (uint64_t)v[j]);
		pb_end(b, k);
		for (j = 0; j < s->nr_labels; j++) {
			const struct gp_label *l = &p->labels[s->label_off + j];

			k = pb_begin(b, F_S_LABEL);
			pb_int64_nz(b, F_L_KEY, c->str.new_id[l->key]);
			if (l->is_num) {
				pb_int64_nz(b, F_L_NUM, l->num);
				pb_int64_nz(b, F_L_NUM_UNIT, l->num_unit ? c->str.new_id[l->num_unit] : 0);
			} else {
				pb_int64_nz(b, F_L_STR, l->str ? c->str.new_id[l->str] : 0);
			}
			pb_end(b, k);
		}
		pb_end(b, m);
	}
}

static void write_mappings(struct pprof_ctx *c, struct pb_buf *b)
{
	uint32_t i;

	for (i = 0; i < c->map.n; i++) {
		const struct gp_mapping *mp = gp_map(c->p, c->map.old_id[i]);
		uint8_t fl = c->map_flags[i];
		size_t m = pb_begin(b, F_MAPPING);
		bool has_fn = fl & MAP_HAS_FUNCTIONS;

		pb_uint64(b, F_M_ID, i + 1);
		pb_uint64_nz(b, F_M_START, mp->start);
		pb_uint64_nz(b, F_M_LIMIT, mp->limit);
		pb_uint64_nz(b, F_M_OFFSET, mp->offset);
		pb_int64_nz(b, F_M_FILENAME, mp->filename ? c->str.new_id[mp->filename] : 0);
		pb_int64_nz(b, F_M_BUILD_ID, mp->build_id ? c->str.new_id[mp->build_id] : 0);
		/* Fully symbolized by us: pprof must not try to re-symbolize (GUIDE 4). Our
		 * symbolizers expand inline frames wherever the binary records them. */
		pb_bool_nz(b, F_M_HAS_FUNCTIONS, has_fn);
		pb_bool_nz(b, F_M_HAS_FILENAMES, has_fn && (fl & MAP_HAS_FILENAMES));
		pb_bool_nz(b, F_M_HAS_LINE_NUMBERS, has_fn && (fl & MAP_HAS_LINES));
		pb_bool_nz(b, F_M_HAS_INLINE_FRAMES, has_fn);
		pb_end(b, m);
	}
}

static void write_locations(struct pprof_ctx *c, struct pb_buf *b)
{
	const struct goprof_profile *p = c->p;
	uint32_t i, j;

	for (i = 0; i < c->loc.n; i++) {
		const struct gp_location *loc = gp_loc(p, c->loc.old_id[i]);
		size_t m = pb_begin(b, F_LOCATION);

		pb_uint64(b, F_LOC_ID, i + 1);
		pb_uint64_nz(b, F_LOC_MAPPING_ID, loc->mapping ? c->map.new_id[loc->mapping] : 0);
		pb_uint64_nz(b, F_LOC_ADDRESS, loc->address);
		for (j = 0; j < loc->nr_lines; j++) { /* innermost first, like Go */
			const struct gp_line *l = &p->lines[loc->line_off + j];
			size_t k = pb_begin(b, F_LOC_LINE);

			pb_uint64(b, F_LN_FUNCTION_ID, c->fn.new_id[l->function]);
			pb_int64_nz(b, F_LN_LINE, l->line);
			pb_end(b, k);
		}
		pb_end(b, m);
	}
}

static void write_functions(struct pprof_ctx *c, struct pb_buf *b)
{
	uint32_t i;

	for (i = 0; i < c->fn.n; i++) {
		const struct gp_function *f = gp_func(c->p, c->fn.old_id[i]);
		size_t m = pb_begin(b, F_FUNCTION);

		pb_uint64(b, F_FN_ID, i + 1);
		pb_int64_nz(b, F_FN_NAME, f->name ? c->str.new_id[f->name] : 0);
		pb_int64_nz(b, F_FN_SYSTEM_NAME, f->system_name ? c->str.new_id[f->system_name] : 0);
		pb_int64_nz(b, F_FN_FILENAME, f->filename ? c->str.new_id[f->filename] : 0);
		pb_int64_nz(b, F_FN_START_LINE, f->start_line);
		pb_end(b, m);
	}
}

int gp_pprof_serialize(const struct goprof_profile *p, struct pb_buf *b)
{
	struct pprof_ctx c = { .p = p };
	uint32_t i;
	int err = -ENOMEM;

	if (remap_init(&c.str, p->nr_strs) || remap_init(&c.fn, p->nr_functions) ||
	    remap_init(&c.loc, p->nr_locations) || remap_init(&c.map, p->nr_mappings))
		goto out;
	c.map_flags = calloc((size_t)p->nr_mappings + 1, 1);
	if (!c.map_flags)
		goto out;
	mark(&c);

	for (i = 0; i < p->nr_types; i++)
		write_value_type(b, F_SAMPLE_TYPE, c.str.new_id[p->type_ids[i]],
				 c.str.new_id[p->unit_ids[i]]);
	write_samples(&c, b);
	write_mappings(&c, b);
	write_locations(&c, b);
	write_functions(&c, b);
	for (i = 0; i < c.str.n; i++)
		pb_string(b, F_STRING_TABLE, gp_str(p, c.str.old_id[i]));
	pb_int64_nz(b, F_TIME_NANOS, p->time_nanos);
	pb_int64_nz(b, F_DURATION_NANOS, p->duration_nanos);
	if (p->period_type || p->period_unit)
		write_value_type(b, F_PERIOD_TYPE, c.str.new_id[p->period_type],
				 c.str.new_id[p->period_unit]);
	pb_int64_nz(b, F_PERIOD, p->period);
	pb_int64_nz(b, F_DEFAULT_SAMPLE_TYPE, c.str.new_id[p->default_sample_type]);
	err = b->failed ? -ENOMEM : 0;
out:
	remap_free(&c.str);
	remap_free(&c.fn);
	remap_free(&c.loc);
	remap_free(&c.map);
	free(c.map_flags);
	return err;
}

/* gzip-compresses buf into o (gzip header via windowBits 15 + 16). */
static int gzip_out(const uint8_t *data, size_t len, struct gp_out *o)
{
	unsigned char chunk[GP_OUT_CHUNK];
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	/* Best speed, like Go's runtime/pprof: profiles compress well anyway. */
	zr = deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK)
		return gp_out_fail(o, gp_err(-ENOMEM, "pprof: zlib deflateInit2 failed (%d)", zr));
	zs.next_in = (Bytef *)data;
	do {
		/* avail_in is 32-bit: feed huge buffers in slices. */
		size_t left = len - (size_t)(zs.next_in - data);
		uInt in = (uInt)GP_MIN(left, (size_t)1 << 30);
		int flush = left == in ? Z_FINISH : Z_NO_FLUSH;

		zs.avail_in = in;
		do {
			zs.next_out = chunk;
			zs.avail_out = sizeof(chunk);
			zr = deflate(&zs, flush);
			if (zr == Z_STREAM_ERROR) {
				deflateEnd(&zs);
				return gp_out_fail(o, gp_err(-EIO, "pprof: zlib deflate failed"));
			}
			gp_out_write(o, chunk, sizeof(chunk) - zs.avail_out);
		} while (zs.avail_out == 0 && !o->err);
		if (flush == Z_FINISH)
			break;
	} while (!o->err);
	deflateEnd(&zs);
	return o->err;
}

int gp_encode_pprof(const struct goprof_profile *p, const struct gp_write_cfg *cfg,
		    struct gp_out *o)
{
	struct pb_buf b;
	int err;

	pb_init(&b);
	err = gp_pprof_serialize(p, &b);
	if (err) {
		pb_free(&b);
		return gp_out_fail(o, gp_err(err, "pprof: out of memory encoding %u samples",
					     p->nr_samples));
	}
	if (cfg->flags & GOPROF_WRITE_PPROF_UNCOMPRESSED)
		gp_out_write(o, b.data, b.len);
	else
		gzip_out(b.data, b.len, o);
	pb_free(&b);
	return o->err;
}
