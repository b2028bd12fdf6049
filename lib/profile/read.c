// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Public read access to a profile: summary, sample types, samples with frames and labels. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_internal.h"

GOPROF_API int goprof_profile_get_info(const struct goprof_profile *p,
				       struct goprof_profile_info *info)
{
	struct goprof_profile_info full;

	if (!p || !info)
		return gp_err(-EINVAL, "goprof_profile_get_info: profile and info must not be NULL");
	if (info->sz < sizeof(info->sz))
		return gp_err(-EINVAL, "goprof_profile_get_info: info->sz is %u; set it to "
				       "sizeof(struct goprof_profile_info)", info->sz);
	memset(&full, 0, sizeof(full));
	full.nr_sample_types = p->nr_types;
	full.nr_samples = p->nr_samples;
	full.time_nanos = p->time_nanos;
	full.duration_nanos = p->duration_nanos;
	full.period = p->period;
	full.period_type = gp_str(p, p->period_type);
	full.period_unit = gp_str(p, p->period_unit);
	full.default_sample_type = gp_str(p, p->default_sample_type);
	full.nr_timestamps = p->nr_ts;
	full.timestamps_dropped = p->ts_dropped;
	/* Copy only what the caller's (possibly older, smaller) struct has room for. */
	full.sz = (uint32_t)GP_MIN((size_t)info->sz, sizeof(full));
	memcpy(info, &full, full.sz);
	gp_clear_error();
	return 0;
}

GOPROF_API int goprof_profile_sample_type(const struct goprof_profile *p, uint32_t index,
					  const char **type, const char **unit)
{
	if (!p)
		return gp_err(-EINVAL, "goprof_profile_sample_type: profile is NULL");
	if (index >= p->nr_types)
		return gp_err(-ERANGE, "goprof_profile_sample_type: index %u out of range (the "
				       "profile has %u sample types)", index, p->nr_types);
	if (type)
		*type = gp_str(p, p->type_ids[index]);
	if (unit)
		*unit = gp_str(p, p->unit_ids[index]);
	gp_clear_error();
	return 0;
}

/* Per-iteration scratch: frames and labels of the current sample. */
struct scratch {
	struct goprof_profile_frame *frames;
	const struct goprof_profile_frame **frame_ptrs;
	size_t frames_cap;
	struct goprof_profile_label *labels;
	const struct goprof_profile_label **label_ptrs;
	size_t labels_cap;
	struct gp_ts_index ts;  /* the profile's timestamps by sample */
	int64_t *times, *time_values; /* one sample's, in time order */
};

static int reserve_frames(struct scratch *s, size_t n)
{
	void *a, *b;

	if (n <= s->frames_cap)
		return 0;
	n = GP_MAX(n, s->frames_cap * 2);
	a = realloc(s->frames, n * sizeof(*s->frames));
	if (a)
		s->frames = a;
	b = realloc(s->frame_ptrs, n * sizeof(*s->frame_ptrs));
	if (b)
		s->frame_ptrs = b;
	if (!a || !b)
		return -ENOMEM;
	s->frames_cap = n;
	return 0;
}

static int reserve_labels(struct scratch *s, size_t n)
{
	void *a, *b;

	if (n <= s->labels_cap)
		return 0;
	n = GP_MAX(n, s->labels_cap * 2);
	a = realloc(s->labels, n * sizeof(*s->labels));
	if (a)
		s->labels = a;
	b = realloc(s->label_ptrs, n * sizeof(*s->label_ptrs));
	if (b)
		s->label_ptrs = b;
	if (!a || !b)
		return -ENOMEM;
	s->labels_cap = n;
	return 0;
}

static void fill_frame(struct goprof_profile_frame *f, const struct goprof_profile *p,
		       const struct gp_location *loc, uint32_t line_idx)
{
	memset(f, 0, sizeof(*f));
	f->sz = sizeof(*f);
	f->kind = loc->kind;
	f->address = loc->address;
	f->function = f->system_name = f->file = f->mapping_file = f->build_id = f->htlhash = "";
	if (loc->mapping) {
		const struct gp_mapping *m = gp_map(p, loc->mapping);

		f->mapping_file = gp_str(p, m->filename);
		f->build_id = gp_str(p, m->build_id);
		f->htlhash = gp_str(p, m->htlhash);
		f->mapping_start = m->start;
		f->mapping_limit = m->limit;
		f->mapping_offset = m->offset;
	}
	if (loc->nr_lines) {
		const struct gp_line *l = &p->lines[loc->line_off + line_idx];
		const struct gp_function *fn = gp_func(p, l->function);

		f->symbolized = 1;
		f->inlined = line_idx + 1 < loc->nr_lines;
		f->function = gp_str(p, fn->name);
		f->system_name = gp_str(p, fn->system_name);
		f->file = gp_str(p, fn->filename);
		f->line = l->line;
		f->start_line = fn->start_line;
	}
}

static int fill_sample(struct goprof_profile_sample *out, struct scratch *sc,
		       const struct goprof_profile *p, uint32_t idx)
{
	const struct gp_sample *s = &p->samples[idx];
	size_t n = 0, i;
	uint32_t j, k;

	for (j = 0; j < s->nr_locs; j++) {
		const struct gp_location *loc = gp_loc(p, p->loc_ids[s->loc_off + j]);

		n += loc->nr_lines ? loc->nr_lines : 1;
	}
	if (reserve_frames(sc, n) || reserve_labels(sc, s->nr_labels))
		return gp_err(-ENOMEM, "goprof_profile_foreach_sample: out of memory");
	n = 0;
	for (j = 0; j < s->nr_locs; j++) {
		const struct gp_location *loc = gp_loc(p, p->loc_ids[s->loc_off + j]);
		uint32_t nl = loc->nr_lines ? loc->nr_lines : 1;

		for (k = 0; k < nl; k++, n++) {
			fill_frame(&sc->frames[n], p, loc, k);
			sc->frame_ptrs[n] = &sc->frames[n];
		}
	}
	for (i = 0; i < s->nr_labels; i++) {
		const struct gp_label *l = &p->labels[s->label_off + i];
		struct goprof_profile_label *o = &sc->labels[i];

		memset(o, 0, sizeof(*o));
		o->sz = sizeof(*o);
		o->is_num = l->is_num;
		o->key = gp_str(p, l->key);
		o->str = gp_str(p, l->str);
		o->num = l->num;
		o->num_unit = gp_str(p, l->num_unit);
		sc->label_ptrs[i] = o;
	}
	memset(out, 0, sizeof(*out));
	out->sz = sizeof(*out);
	out->nr_frames = (uint32_t)n;
	out->frames = sc->frame_ptrs;
	out->nr_values = p->nr_types;
	out->values = gp_sample_values(p, idx);
	out->nr_labels = s->nr_labels;
	out->labels = sc->label_ptrs;
	out->comm = gp_str(p, s->comm);
	out->nr_timestamps = sc->ts.off[idx + 1] - sc->ts.off[idx];
	for (j = 0; j < out->nr_timestamps; j++) {
		uint32_t e = sc->ts.ev[sc->ts.off[idx] + j];

		sc->times[j] = p->ts_time[e];
		memcpy(sc->time_values + (size_t)j * p->nr_types, p->ts_values + (size_t)e * p->nr_types,
		       p->nr_types * sizeof(int64_t));
	}
	out->timestamps = sc->times;
	out->timestamp_values = sc->time_values;
	return 0;
}

int gp_profile_foreach_sample_idx(const struct goprof_profile *p, gp_indexed_sample_fn fn, void *ctx)
{
	struct scratch sc = { 0 };
	struct goprof_profile_sample sample;
	uint32_t i;
	int ret = 0;

	/* Room for the timestamps of any one sample: at most all of them. */
	sc.times = calloc(p->nr_ts + 1, sizeof(*sc.times));
	sc.time_values = calloc((p->nr_ts + 1) * p->nr_types, sizeof(*sc.time_values));
	if (!sc.times || !sc.time_values || gp_ts_index_build(p, &sc.ts))
		ret = gp_err(-ENOMEM, "goprof_profile_foreach_sample: out of memory");
	for (i = 0; i < p->nr_samples && !ret; i++) {
		ret = fill_sample(&sample, &sc, p, i);
		if (!ret)
			ret = fn(&sample, i, ctx);
	}
	free(sc.frames);
	free(sc.frame_ptrs);
	free(sc.labels);
	free(sc.label_ptrs);
	free(sc.times);
	free(sc.time_values);
	gp_ts_index_free(&sc.ts);
	return ret;
}

struct plain_ctx {
	goprof_profile_sample_fn fn;
	void *ctx;
};

static int call_plain(const struct goprof_profile_sample *s, uint32_t idx, void *ctx)
{
	struct plain_ctx *c = ctx;

	(void)idx;
	return c->fn(s, c->ctx);
}

GOPROF_API int goprof_profile_foreach_sample(const struct goprof_profile *p,
					     goprof_profile_sample_fn fn, void *ctx)
{
	struct plain_ctx c = { fn, ctx };

	if (!p || !fn)
		return gp_err(-EINVAL, "goprof_profile_foreach_sample: profile and fn must not be NULL");
	gp_clear_error();
	return gp_profile_foreach_sample_idx(p, call_plain, &c);
}
