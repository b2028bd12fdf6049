// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The profile model: interning tables and sample aggregation (see profile_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_internal.h"

#define MAX_ID UINT32_MAX

/* Grows *ptr (an array of elem-sized items with capacity *cap) to hold need items. */
static int vec_reserve(void **ptr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		n *= 2;
	}
	q = realloc(*ptr, n * elem);
	if (!q)
		return -ENOMEM;
	*ptr = q;
	*cap = n;
	return 0;
}

#define VEC_RESERVE(arr, cap, need) vec_reserve((void **)&(arr), &(cap), (need), sizeof(*(arr)))

static int oom(const char *what)
{
	return gp_err(-ENOMEM, "profile: out of memory adding %s", what);
}

/* ---- strings ---- */

struct str_key {
	const char *s;
	size_t len;
};

static bool str_eq(const void *tables, uint32_t id, const void *key)
{
	const struct goprof_profile *p = tables;
	const struct str_key *k = key;
	const char *s = gp_str(p, id);

	return strncmp(s, k->s, k->len) == 0 && s[k->len] == '\0';
}

static int str_append(struct goprof_profile *p, const char *s, size_t len)
{
	if (p->nr_strs == MAX_ID)
		return -ENOMEM;
	if (VEC_RESERVE(p->chars, p->chars_cap, p->chars_len + len + 1) ||
	    VEC_RESERVE(p->str_off, p->strs_cap, (size_t)p->nr_strs + 1))
		return -ENOMEM;
	memcpy(p->chars + p->chars_len, s, len);
	p->chars[p->chars_len + len] = '\0';
	p->str_off[p->nr_strs++] = p->chars_len;
	p->chars_len += len + 1;
	return 0;
}

int gp_profile_intern(uint32_t *id, struct goprof_profile *p, const char *s)
{
	struct str_key k;
	uint32_t hash, found;

	if (!s || !*s) {
		*id = 0;
		return 0;
	}
	k.s = s;
	k.len = strlen(s);
	hash = gp_hash_fold(gp_hash_bytes(s, k.len, 0x5354));
	found = gp_idmap_find(&p->str_idx, hash, str_eq, p, &k);
	if (found) {
		*id = found;
		return 0;
	}
	if (str_append(p, s, k.len) || gp_idmap_insert(&p->str_idx, hash, p->nr_strs - 1)) {
		/* Keep the table consistent: an unindexed string is harmless but drop it. */
		return oom("a string");
	}
	*id = p->nr_strs - 1;
	return 0;
}

/* ---- profile lifetime ---- */

struct goprof_profile *gp_profile_new(const struct gp_profile_desc *desc)
{
	struct goprof_profile *p;
	uint32_t i;

	if (!desc || !desc->sample_types || !desc->nr_sample_types)
		return gp_err_null(-EINVAL, "profile: at least one sample type is needed");
	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->nr_types = desc->nr_sample_types;
	p->type_ids = calloc(p->nr_types, sizeof(*p->type_ids));
	p->unit_ids = calloc(p->nr_types, sizeof(*p->unit_ids));
	if (!p->type_ids || !p->unit_ids || str_append(p, "", 0))
		goto nomem;
	for (i = 0; i < p->nr_types; i++)
		if (gp_profile_intern(&p->type_ids[i], p, desc->sample_types[i].type) ||
		    gp_profile_intern(&p->unit_ids[i], p, desc->sample_types[i].unit))
			goto nomem;
	if (gp_profile_intern(&p->period_type, p, desc->period_type.type) ||
	    gp_profile_intern(&p->period_unit, p, desc->period_type.unit) ||
	    gp_profile_intern(&p->default_sample_type, p, desc->default_sample_type))
		goto nomem;
	p->period = desc->period;
	p->max_ts = desc->max_timestamps;
	p->time_nanos = desc->time_nanos;
	p->duration_nanos = desc->duration_nanos;
	return p;
nomem:
	goprof_profile_free(p);
	return gp_err_null(-ENOMEM, "profile: out of memory creating a profile");
}

struct goprof_profile *gp_contention_profile_new(void)
{
	static const struct gp_value_type types[] = {
		{ "contentions", "count" },
		{ "delay", "nanoseconds" },
	};
	struct gp_profile_desc desc = {
		.sample_types = types,
		.nr_sample_types = 2,
		.period_type = { "contentions", "count" },
		.period = 1,
		.default_sample_type = "delay",
	};

	return gp_profile_new(&desc);
}

GOPROF_API void goprof_profile_free(struct goprof_profile *p)
{
	if (!p)
		return;
	free(p->type_ids);
	free(p->unit_ids);
	free(p->chars);
	free(p->str_off);
	gp_idmap_free(&p->str_idx);
	free(p->mappings);
	gp_idmap_free(&p->mapping_idx);
	free(p->functions);
	gp_idmap_free(&p->function_idx);
	free(p->locations);
	gp_idmap_free(&p->location_idx);
	free(p->lines);
	free(p->samples);
	gp_idmap_free(&p->sample_idx);
	free(p->loc_ids);
	free(p->labels);
	free(p->values);
	free(p->ts_sample);
	free(p->ts_time);
	free(p->ts_values);
	free(p);
}

void gp_profile_set_time(struct goprof_profile *p, int64_t time_nanos, int64_t duration_nanos)
{
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

void gp_profile_reset(struct goprof_profile *p)
{
	p->nr_samples = 0;
	p->nr_loc_ids = 0;
	p->nr_labels = 0;
	p->nr_ts = 0;
	p->ts_dropped = 0;
	gp_idmap_clear(&p->sample_idx);
}

/* ---- mappings ---- */

static uint32_t mapping_hash(const struct gp_mapping *m)
{
	uint64_t h = gp_hash_mix(m->start, m->limit);

	h = gp_hash_mix(h, m->offset);
	h = gp_hash_mix(h, ((uint64_t)m->filename << 32) | m->build_id);
	return gp_hash_fold(gp_hash_mix(h, m->htlhash));
}

static bool mapping_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_mapping *a = gp_map(tables, id), *b = key;

	return a->start == b->start && a->limit == b->limit && a->offset == b->offset &&
	       a->filename == b->filename && a->build_id == b->build_id && a->htlhash == b->htlhash;
}

int gp_profile_add_mapping(uint32_t *id, struct goprof_profile *p, const struct gp_mapping_in *in)
{
	struct gp_mapping m = { .start = in->start, .limit = in->limit, .offset = in->offset };
	uint32_t hash, found;

	if (gp_profile_intern(&m.filename, p, in->filename) ||
	    gp_profile_intern(&m.build_id, p, in->build_id) ||
	    gp_profile_intern(&m.htlhash, p, in->htlhash))
		return -ENOMEM;
	hash = mapping_hash(&m);
	found = gp_idmap_find(&p->mapping_idx, hash, mapping_eq, p, &m);
	if (found) {
		*id = found;
		return 0;
	}
	if (p->nr_mappings == MAX_ID - 1 ||
	    VEC_RESERVE(p->mappings, p->mappings_cap, (size_t)p->nr_mappings + 1))
		return oom("a mapping");
	p->mappings[p->nr_mappings] = m;
	if (gp_idmap_insert(&p->mapping_idx, hash, p->nr_mappings + 1))
		return oom("a mapping");
	*id = ++p->nr_mappings;
	return 0;
}

/* ---- functions ---- */

static uint32_t function_hash(const struct gp_function *f)
{
	uint64_t h = gp_hash_mix(((uint64_t)f->name << 32) | f->system_name, f->filename);

	return gp_hash_fold(gp_hash_mix(h, (uint64_t)f->start_line));
}

static bool function_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_function *a = gp_func(tables, id), *b = key;

	return a->name == b->name && a->system_name == b->system_name &&
	       a->filename == b->filename && a->start_line == b->start_line;
}

static int add_function(uint32_t *id, struct goprof_profile *p, const struct gp_line_in *l)
{
	struct gp_function f = { .start_line = l->start_line };
	uint32_t hash, found;

	if (gp_profile_intern(&f.name, p, l->function) ||
	    gp_profile_intern(&f.system_name, p, l->system_name ? l->system_name : l->function) ||
	    gp_profile_intern(&f.filename, p, l->file))
		return -ENOMEM;
	hash = function_hash(&f);
	found = gp_idmap_find(&p->function_idx, hash, function_eq, p, &f);
	if (found) {
		*id = found;
		return 0;
	}
	if (p->nr_functions == MAX_ID - 1 ||
	    VEC_RESERVE(p->functions, p->functions_cap, (size_t)p->nr_functions + 1))
		return oom("a function");
	p->functions[p->nr_functions] = f;
	if (gp_idmap_insert(&p->function_idx, hash, p->nr_functions + 1))
		return oom("a function");
	*id = ++p->nr_functions;
	return 0;
}

/* ---- locations ---- */

struct location_key {
	uint32_t mapping;
	uint64_t address;
};

static uint32_t location_hash(uint32_t mapping, uint64_t address)
{
	return gp_hash_fold(gp_hash_mix(address, mapping));
}

static bool location_eq(const void *tables, uint32_t id, const void *key)
{
	const struct gp_location *a = gp_loc(tables, id);
	const struct location_key *k = key;

	return a->mapping == k->mapping && a->address == k->address;
}

uint32_t gp_profile_find_location(const struct goprof_profile *p, uint32_t mapping_id,
				  uint64_t address)
{
	struct location_key k = { mapping_id, address };

	return gp_idmap_find(&p->location_idx, location_hash(mapping_id, address), location_eq,
			     p, &k);
}

int gp_profile_add_location(uint32_t *id, struct goprof_profile *p, uint32_t mapping_id,
			    uint64_t address, uint32_t kind, const struct gp_line_in *lines,
			    uint32_t nr_lines)
{
	struct location_key k = { mapping_id, address };
	uint32_t hash = location_hash(mapping_id, address), found, i, fid = 0;
	struct gp_location *loc;
	int err;

	if (mapping_id > p->nr_mappings)
		return gp_err(-EINVAL, "profile: location at 0x%llx refers to unknown mapping %u",
			      (unsigned long long)address, mapping_id);
	if (kind > GOPROF_FRAME_KIND_KERNEL)
		return gp_err(-EINVAL, "profile: unknown frame kind %u (expected GOPROF_FRAME_KIND_*)",
			      kind);
	if (nr_lines && !lines)
		return gp_err(-EINVAL, "profile: location at 0x%llx: %u lines but no array",
			      (unsigned long long)address, nr_lines);
	found = gp_idmap_find(&p->location_idx, hash, location_eq, p, &k);
	if (found) {
		*id = found;
		return 0;
	}
	if (p->nr_locations == MAX_ID - 1 ||
	    VEC_RESERVE(p->locations, p->locations_cap, (size_t)p->nr_locations + 1) ||
	    VEC_RESERVE(p->lines, p->lines_cap, p->nr_lines + nr_lines))
		return oom("a location");
	for (i = 0; i < nr_lines; i++) {
		err = add_function(&fid, p, &lines[i]);
		if (err)
			return err;
		p->lines[p->nr_lines + i].function = fid;
		p->lines[p->nr_lines + i].line = lines[i].line;
	}
	loc = &p->locations[p->nr_locations];
	loc->address = address;
	loc->mapping = mapping_id;
	loc->kind = kind;
	loc->nr_lines = nr_lines;
	loc->line_off = p->nr_lines;
	if (gp_idmap_insert(&p->location_idx, hash, p->nr_locations + 1))
		return oom("a location");
	p->nr_lines += nr_lines;
	*id = ++p->nr_locations;
	return 0;
}

int gp_profile_placeholder(uint32_t *id, struct goprof_profile *p, const char *name)
{
	struct gp_line_in line = { .function = name };
	uint64_t h = 1469598103934665603ull;

	for (const char *c = name; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	return gp_profile_add_location(id, p, 0, 1ull << 63 | (h & 0xffffffffffffull),
				       GOPROF_FRAME_KIND_UNKNOWN, &line, 1);
}

/* ---- samples ---- */

struct sample_key {
	const uint32_t *locs;
	const struct gp_label *labels;
	uint32_t nr_locs, nr_labels, comm;
};

static int label_cmp(const struct gp_label *a, const struct gp_label *b)
{
	/* Canonical order so that {a=1,b=2} and {b=2,a=1} aggregate together. */
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->is_num != b->is_num)
		return a->is_num < b->is_num ? -1 : 1;
	if (a->str != b->str)
		return a->str < b->str ? -1 : 1;
	if (a->num != b->num)
		return a->num < b->num ? -1 : 1;
	if (a->num_unit != b->num_unit)
		return a->num_unit < b->num_unit ? -1 : 1;
	return 0;
}

static void sort_labels(struct gp_label *l, uint32_t n)
{
	uint32_t i, j;

	/* Insertion sort: label sets are small (a handful of pprof labels). */
	for (i = 1; i < n; i++) {
		struct gp_label x = l[i];

		for (j = i; j > 0 && label_cmp(&x, &l[j - 1]) < 0; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

static uint32_t sample_hash(const struct sample_key *k)
{
	uint64_t h = gp_hash_bytes(k->locs, (size_t)k->nr_locs * sizeof(*k->locs), k->comm);
	uint32_t i;

	for (i = 0; i < k->nr_labels; i++) {
		const struct gp_label *l = &k->labels[i];

		h = gp_hash_mix(h, ((uint64_t)l->key << 32) | l->str);
		h = gp_hash_mix(h, ((uint64_t)l->num_unit << 32) | l->is_num);
		h = gp_hash_mix(h, (uint64_t)l->num);
	}
	return gp_hash_fold(h);
}

static bool sample_eq(const void *tables, uint32_t id, const void *key)
{
	const struct goprof_profile *p = tables;
	const struct gp_sample *s = &p->samples[id - 1];
	const struct sample_key *k = key;
	uint32_t i;

	if (s->nr_locs != k->nr_locs || s->nr_labels != k->nr_labels || s->comm != k->comm)
		return false;
	if (k->nr_locs &&
	    memcmp(p->loc_ids + s->loc_off, k->locs, (size_t)k->nr_locs * sizeof(*k->locs)))
		return false;
	for (i = 0; i < k->nr_labels; i++)
		if (label_cmp(&p->labels[s->label_off + i], &k->labels[i]))
			return false;
	return true;
}

static int intern_labels(struct gp_label *out, struct goprof_profile *p,
			 const struct gp_label_in *in, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		if (!in[i].key || !*in[i].key)
			return gp_err(-EINVAL, "profile: sample label %u has no key", i);
		if (gp_profile_intern(&out[i].key, p, in[i].key))
			return -ENOMEM;
		if (in[i].str) {
			if (gp_profile_intern(&out[i].str, p, in[i].str))
				return -ENOMEM;
		} else {
			out[i].is_num = 1;
			out[i].num = in[i].num;
			if (gp_profile_intern(&out[i].num_unit, p, in[i].num_unit))
				return -ENOMEM;
		}
	}
	sort_labels(out, n);
	return 0;
}

static int append_sample(struct goprof_profile *p, const struct sample_key *k, uint32_t hash,
			 const int64_t *values)
{
	struct gp_sample *s;

	if (p->nr_samples == MAX_ID - 1 ||
	    VEC_RESERVE(p->samples, p->samples_cap, (size_t)p->nr_samples + 1) ||
	    VEC_RESERVE(p->loc_ids, p->loc_ids_cap, p->nr_loc_ids + k->nr_locs) ||
	    VEC_RESERVE(p->labels, p->labels_cap, p->nr_labels + k->nr_labels))
		return oom("a sample");
	if ((size_t)p->nr_samples + 1 > p->values_cap) {
		size_t cap = p->values_cap ? p->values_cap * 2 : 64;
		int64_t *v = realloc(p->values, cap * p->nr_types * sizeof(*v));

		if (!v)
			return oom("a sample");
		p->values = v;
		p->values_cap = cap;
	}
	s = &p->samples[p->nr_samples];
	s->loc_off = p->nr_loc_ids;
	s->nr_locs = k->nr_locs;
	s->label_off = p->nr_labels;
	s->nr_labels = k->nr_labels;
	s->comm = k->comm;
	if (gp_idmap_insert(&p->sample_idx, hash, p->nr_samples + 1))
		return oom("a sample");
	if (k->nr_locs)
		memcpy(p->loc_ids + p->nr_loc_ids, k->locs, (size_t)k->nr_locs * sizeof(*k->locs));
	if (k->nr_labels)
		memcpy(p->labels + p->nr_labels, k->labels, (size_t)k->nr_labels * sizeof(*k->labels));
	memcpy(p->values + (size_t)p->nr_samples * p->nr_types, values,
	       p->nr_types * sizeof(*values));
	p->nr_loc_ids += k->nr_locs;
	p->nr_labels += k->nr_labels;
	p->nr_samples++;
	return 0;
}

/* Keeps one event's time and values for sample idx, within the profile's bound. */
static int add_timestamp(struct goprof_profile *p, uint32_t idx, int64_t time,
			 const int64_t *values)
{
	if (p->nr_ts >= p->max_ts) {
		p->ts_dropped++;
		return 0;
	}
	if (p->nr_ts == p->ts_cap) {
		size_t cap = p->ts_cap ? 2 * p->ts_cap : 256;
		uint32_t *si;
		int64_t *t, *v;

		cap = GP_MIN(cap, (size_t)p->max_ts);
		si = realloc(p->ts_sample, cap * sizeof(*si));
		if (si)
			p->ts_sample = si;
		t = realloc(p->ts_time, cap * sizeof(*t));
		if (t)
			p->ts_time = t;
		v = realloc(p->ts_values, cap * p->nr_types * sizeof(*v));
		if (v)
			p->ts_values = v;
		if (!si || !t || !v)
			return oom("a timestamp");
		p->ts_cap = cap;
	}
	p->ts_sample[p->nr_ts] = idx;
	p->ts_time[p->nr_ts] = time;
	memcpy(p->ts_values + p->nr_ts * p->nr_types, values, p->nr_types * sizeof(*values));
	p->nr_ts++;
	return 0;
}

/* gp_profile_add_sample(), telling which sample (index) the values went to. */
static int add_sample(struct goprof_profile *p, const struct gp_sample_in *in, uint32_t *idx)
{
	struct gp_label small[16], *labels = small;
	struct sample_key k;
	uint32_t i, hash, found;
	int err;

	if (!in->values)
		return gp_err(-EINVAL, "profile: sample without values");
	if (in->nr_locations && !in->locations)
		return gp_err(-EINVAL, "profile: sample with %u locations but no array",
			      in->nr_locations);
	if (in->nr_labels && !in->labels)
		return gp_err(-EINVAL, "profile: sample with %u labels but no array", in->nr_labels);
	for (i = 0; i < in->nr_locations; i++)
		if (!in->locations[i] || in->locations[i] > p->nr_locations)
			return gp_err(-EINVAL, "profile: sample frame %u refers to unknown location %u",
				      i, in->locations[i]);
	if (in->nr_labels > ARRAY_SIZE(small)) {
		labels = calloc(in->nr_labels, sizeof(*labels));
		if (!labels)
			return oom("a sample");
	}
	err = intern_labels(labels, p, in->labels, in->nr_labels);
	if (!err)
		err = gp_profile_intern(&k.comm, p, in->comm);
	if (err)
		goto out;
	k.locs = in->locations;
	k.nr_locs = in->nr_locations;
	k.labels = labels;
	k.nr_labels = in->nr_labels;
	hash = sample_hash(&k);
	found = gp_idmap_find(&p->sample_idx, hash, sample_eq, p, &k);
	if (found) {
		int64_t *v = p->values + (size_t)(found - 1) * p->nr_types;

		for (i = 0; i < p->nr_types; i++)
			v[i] += in->values[i];
		*idx = found - 1;
	} else {
		err = append_sample(p, &k, hash, in->values);
		*idx = p->nr_samples - 1;
	}
	if (!err && in->time_unix_nano && p->max_ts)
		err = add_timestamp(p, *idx, in->time_unix_nano, in->values);
out:
	if (labels != small)
		free(labels);
	return err;
}

int gp_profile_add_sample(struct goprof_profile *p, const struct gp_sample_in *in)
{
	uint32_t idx;

	return add_sample(p, in, &idx);
}

/* ---- timestamps, for readers ---- */

int gp_ts_index_build(const struct goprof_profile *p, struct gp_ts_index *ix)
{
	size_t i;
	uint32_t s;

	ix->off = calloc((size_t)p->nr_samples + 1, sizeof(*ix->off));
	ix->ev = calloc(p->nr_ts + 1, sizeof(*ix->ev));
	if (!ix->off || !ix->ev) {
		gp_ts_index_free(ix);
		return -ENOMEM;
	}
	/* Counting sort by sample (stable: arrival order), then by time within a sample. */
	for (i = 0; i < p->nr_ts; i++)
		ix->off[p->ts_sample[i] + 1]++;
	for (s = 0; s < p->nr_samples; s++)
		ix->off[s + 1] += ix->off[s];
	{
		uint32_t *next = calloc((size_t)p->nr_samples + 1, sizeof(*next));

		if (!next) {
			gp_ts_index_free(ix);
			return -ENOMEM;
		}
		memcpy(next, ix->off, (size_t)p->nr_samples * sizeof(*next));
		for (i = 0; i < p->nr_ts; i++)
			ix->ev[next[p->ts_sample[i]]++] = (uint32_t)i;
		free(next);
	}
	/* Insertion sort: events arrive nearly in time order (one ring buffer). */
	for (s = 0; s < p->nr_samples; s++)
		for (uint32_t a = ix->off[s] + 1; a < ix->off[s + 1]; a++) {
			uint32_t x = ix->ev[a], b;

			for (b = a; b > ix->off[s] && p->ts_time[ix->ev[b - 1]] > p->ts_time[x]; b--)
				ix->ev[b] = ix->ev[b - 1];
			ix->ev[b] = x;
		}
	return 0;
}

void gp_ts_index_free(struct gp_ts_index *ix)
{
	free(ix->off);
	free(ix->ev);
	ix->off = ix->ev = NULL;
}

bool gp_ts_complete(const struct goprof_profile *p, const struct gp_ts_index *ix)
{
	uint32_t s, t, a;

	if (!p->nr_ts || p->ts_dropped)
		return false;
	for (s = 0; s < p->nr_samples; s++)
		for (t = 0; t < p->nr_types; t++) {
			int64_t sum = 0;

			for (a = ix->off[s]; a < ix->off[s + 1]; a++)
				sum += p->ts_values[(size_t)ix->ev[a] * p->nr_types + t];
			if (sum != gp_sample_values(p, s)[t])
				return false;
		}
	return true;
}

/* ---- snapshot ---- */

/* Copies the location src_id of src into dst (with its mapping and functions). */
static int clone_location(uint32_t *id, struct goprof_profile *dst,
			  const struct goprof_profile *src, uint32_t src_id, uint32_t *map_ids)
{
	const struct gp_location *loc = gp_loc(src, src_id);
	struct gp_line_in small[8], *lines = small;
	uint32_t mapping = 0, i;
	int err;

	if (loc->mapping) {
		if (!map_ids[loc->mapping]) {
			const struct gp_mapping *m = gp_map(src, loc->mapping);
			struct gp_mapping_in in = {
				.start = m->start, .limit = m->limit, .offset = m->offset,
				.filename = gp_str(src, m->filename),
				.build_id = gp_str(src, m->build_id),
				.htlhash = gp_str(src, m->htlhash),
			};

			err = gp_profile_add_mapping(&map_ids[loc->mapping], dst, &in);
			if (err)
				return err;
		}
		mapping = map_ids[loc->mapping];
	}
	if (loc->nr_lines > ARRAY_SIZE(small)) {
		lines = calloc(loc->nr_lines, sizeof(*lines));
		if (!lines)
			return oom("a location");
	}
	for (i = 0; i < loc->nr_lines; i++) {
		const struct gp_line *l = &src->lines[loc->line_off + i];
		const struct gp_function *f = gp_func(src, l->function);

		lines[i].function = gp_str(src, f->name);
		lines[i].system_name = gp_str(src, f->system_name);
		lines[i].file = gp_str(src, f->filename);
		lines[i].line = l->line;
		lines[i].start_line = f->start_line;
	}
	err = gp_profile_add_location(id, dst, mapping, loc->address, loc->kind, lines,
				      loc->nr_lines);
	if (lines != small)
		free(lines);
	return err;
}

struct goprof_profile *gp_profile_clone(const struct goprof_profile *src)
{
	struct gp_value_type *types = NULL;
	struct gp_profile_desc desc = {
		.period_type = { gp_str(src, src->period_type), gp_str(src, src->period_unit) },
		.period = src->period,
		.time_nanos = src->time_nanos,
		.duration_nanos = src->duration_nanos,
		.default_sample_type = gp_str(src, src->default_sample_type),
		.nr_sample_types = src->nr_types,
		.max_timestamps = src->max_ts,
	};
	uint32_t *loc_ids = NULL, *map_ids = NULL, *stack = NULL, max_stack = 0, max_labels = 0;
	uint32_t *sample_ids = NULL;
	struct gp_label_in *labels = NULL;
	struct goprof_profile *dst = NULL;
	uint32_t i, j;
	int err = -ENOMEM;

	types = calloc(src->nr_types, sizeof(*types));
	loc_ids = calloc((size_t)src->nr_locations + 1, sizeof(*loc_ids));
	map_ids = calloc((size_t)src->nr_mappings + 1, sizeof(*map_ids));
	for (i = 0; i < src->nr_samples; i++) {
		max_stack = GP_MAX(max_stack, src->samples[i].nr_locs);
		max_labels = GP_MAX(max_labels, src->samples[i].nr_labels);
	}
	stack = calloc((size_t)max_stack + 1, sizeof(*stack));
	labels = calloc((size_t)max_labels + 1, sizeof(*labels));
	sample_ids = calloc((size_t)src->nr_samples + 1, sizeof(*sample_ids));
	if (!types || !loc_ids || !map_ids || !stack || !labels || !sample_ids)
		goto fail;
	for (i = 0; i < src->nr_types; i++) {
		types[i].type = gp_str(src, src->type_ids[i]);
		types[i].unit = gp_str(src, src->unit_ids[i]);
	}
	desc.sample_types = types;
	dst = gp_profile_new(&desc);
	if (!dst) {
		err = -errno;
		goto fail;
	}
	for (i = 0; i < src->nr_samples; i++) {
		const struct gp_sample *s = &src->samples[i];
		struct gp_sample_in in = {
			.locations = stack, .nr_locations = s->nr_locs,
			.values = gp_sample_values(src, i),
			.labels = labels, .nr_labels = s->nr_labels,
			.comm = gp_str(src, s->comm),
		};

		for (j = 0; j < s->nr_locs; j++) {
			uint32_t sid = src->loc_ids[s->loc_off + j];

			if (!loc_ids[sid]) {
				err = clone_location(&loc_ids[sid], dst, src, sid, map_ids);
				if (err)
					goto fail;
			}
			stack[j] = loc_ids[sid];
		}
		for (j = 0; j < s->nr_labels; j++) {
			const struct gp_label *l = &src->labels[s->label_off + j];

			labels[j].key = gp_str(src, l->key);
			labels[j].str = l->is_num ? NULL : gp_str(src, l->str);
			labels[j].num = l->num;
			labels[j].num_unit = gp_str(src, l->num_unit);
		}
		err = add_sample(dst, &in, &sample_ids[i]);
		if (err)
			goto fail;
	}
	for (size_t e = 0; e < src->nr_ts; e++) {
		err = add_timestamp(dst, sample_ids[src->ts_sample[e]], src->ts_time[e],
				    src->ts_values + e * src->nr_types);
		if (err)
			goto fail;
	}
	dst->ts_dropped += src->ts_dropped;
	free(sample_ids);
	free(types);
	free(loc_ids);
	free(map_ids);
	free(stack);
	free(labels);
	return dst;
fail:
	goprof_profile_free(dst);
	free(sample_ids);
	free(types);
	free(loc_ids);
	free(map_ids);
	free(stack);
	free(labels);
	errno = -err;
	if (err == -ENOMEM)
		gp_err(err, "profile: out of memory taking a snapshot");
	return NULL;
}
