// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * OTLP profiles encoder: ExportProfilesServiceRequest, opentelemetry-proto release
 * v1.11.0 (profiles/v1development; unchanged since v1.10.0). Field numbers below are
 * that release's; tests/otlp/otlp_profiles_v1_11.proto is the schema tests decode with.
 *
 * Two passes: the first walks the samples and builds the shared dictionary (only what
 * samples reference, element 0 the zero value everywhere) and each sample's stack,
 * attributes and link; the second writes the request. Each sample type becomes its own
 * Profile (one sample_type per Profile since 1.8), all sharing the dictionary.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goprof/error.h"
#include "goprof/version.h"
#include "profile/otlp.h"
#include "profile/otlp_dict.h"
#include "profile/pb_writer.h"

/* ExportProfilesServiceRequest */
#define F_REQ_RESOURCE_PROFILES 1
#define F_REQ_DICTIONARY 2
/* ResourceProfiles */
#define F_RP_RESOURCE 1
#define F_RP_SCOPE_PROFILES 2
/* Resource */
#define F_RES_ATTRIBUTES 1
/* KeyValue */
#define F_KV_KEY 1
#define F_KV_VALUE 2
/* AnyValue */
#define F_AV_STRING 1
#define F_AV_INT 3
#define F_AV_ARRAY 5
/* ArrayValue */
#define F_ARR_VALUES 1
/* ScopeProfiles */
#define F_SP_SCOPE 1
#define F_SP_PROFILES 2
/* InstrumentationScope */
#define F_SCOPE_NAME 1
#define F_SCOPE_VERSION 2
/* ProfilesDictionary */
#define F_D_MAPPING 1
#define F_D_LOCATION 2
#define F_D_FUNCTION 3
#define F_D_LINK 4
#define F_D_STRING 5
#define F_D_ATTRIBUTE 6
#define F_D_STACK 7
/* Profile */
#define F_P_SAMPLE_TYPE 1
#define F_P_SAMPLES 2
#define F_P_TIME_UNIX_NANO 3
#define F_P_DURATION_NANO 4
#define F_P_PERIOD_TYPE 5
#define F_P_PERIOD 6
/* ValueType */
#define F_VT_TYPE 1
#define F_VT_UNIT 2
/* Sample */
#define F_S_STACK 1
#define F_S_ATTRS 2
#define F_S_LINK 3
#define F_S_VALUES 4
#define F_S_TIMESTAMPS 5
/* Mapping */
#define F_M_START 1
#define F_M_LIMIT 2
#define F_M_OFFSET 3
#define F_M_FILENAME 4
#define F_M_ATTRS 5
/* Stack */
#define F_ST_LOCATIONS 1
/* Location */
#define F_LOC_MAPPING 1
#define F_LOC_ADDRESS 2
#define F_LOC_LINES 3
#define F_LOC_ATTRS 4
/* Line */
#define F_LN_FUNCTION 1
#define F_LN_LINE 2
/* Function */
#define F_FN_NAME 1
#define F_FN_SYSTEM_NAME 2
#define F_FN_FILENAME 3
#define F_FN_START_LINE 4
/* Link */
#define F_LK_TRACE_ID 1
#define F_LK_SPAN_ID 2
/* KeyValueAndUnit */
#define F_KVU_KEY 1
#define F_KVU_VALUE 2
#define F_KVU_UNIT 3

/* Semantic-convention keys and values. */
#define K_FRAME_TYPE "profile.frame.type"
#define K_THREAD_NAME "thread.name"
#define K_THREAD_ID "thread.id"
#define K_BUILD_ID_HTLHASH "process.executable.build_id.htlhash"
/* The model's labels of profiles that keep threads (GOPROF_CPU_PROFILE_THREADS). */
#define LABEL_THREAD_ID "thread_id"
#define LABEL_THREAD_NAME "thread_name"
#define K_EXE_NAME "process.executable.name"
#define K_EXE_PATH "process.executable.path"
#define K_BUILD_ID_GNU "process.executable.build_id.gnu"
#define K_BUILD_ID_GO "process.executable.build_id.go"
#define K_PID "process.pid"
#define K_SERVICE_NAME "service.name"

static const char *const default_link_keys[] = {
	"trace_id", "span_id", "otel.traceid", "otel.spanid", NULL,
};

/* Model id -> dense OTLP table index (1-based; 0 = not referenced), and back. */
struct dense {
	int32_t *idx;  /* by model id */
	uint32_t *old; /* by OTLP index */
	uint32_t n;    /* entries used, including the zero element 0 */
};

struct otlp_sample {
	int32_t stack, link;
	size_t attr_off; /* into enc.sample_attrs */
	uint32_t nr_attrs;
};

struct otlp_enc {
	const struct goprof_profile *p;
	const char *const *link_keys;
	struct otlp_dict d;
	struct dense loc, fn, map;
	int32_t *loc_attr;       /* by OTLP location index: frame-type attribute, 0 none */
	int32_t (*map_attr)[2];  /* by OTLP mapping index: build-id attributes, 0 none */
	int32_t frame_attr[GOPROF_FRAME_KIND_KERNEL + 1];
	struct otlp_sample *samples;
	int32_t *sample_attrs;
	size_t nr_sample_attrs, sample_attrs_cap;
	int32_t *stack_buf;      /* one sample's stack while interning it */
	uint32_t main_map;       /* model id of the main executable's mapping, 0 unknown */
	struct gp_ts_index ts;   /* timestamps by sample */
	bool timestamps;         /* write per-event timestamps and values */
};

static int dense_init(struct dense *r, uint32_t nr_model)
{
	r->idx = calloc((size_t)nr_model + 1, sizeof(*r->idx));
	r->old = calloc((size_t)nr_model + 1, sizeof(*r->old));
	r->n = 1;
	return r->idx && r->old ? 0 : -ENOMEM;
}

static void dense_free(struct dense *r)
{
	free(r->idx);
	free(r->old);
}

static int32_t dense_use(struct dense *r, uint32_t model_id)
{
	if (!model_id)
		return 0;
	if (!r->idx[model_id]) {
		r->old[r->n] = model_id;
		r->idx[model_id] = (int32_t)r->n++;
	}
	return r->idx[model_id];
}

/* A GNU build ID is hex (usually 40 digits); Go's are "actionID/contentID" in base64. */
static const char *build_id_key(const char *id)
{
	size_t i, n = strlen(id);

	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", id[i]))
			return K_BUILD_ID_GO;
	return n % 2 ? K_BUILD_ID_GO : K_BUILD_ID_GNU;
}

static bool hexval(char c, uint8_t *v)
{
	if (c >= '0' && c <= '9')
		*v = (uint8_t)(c - '0');
	else if (c >= 'a' && c <= 'f')
		*v = (uint8_t)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		*v = (uint8_t)(c - 'A' + 10);
	else
		return false;
	return true;
}

bool gp_otlp_parse_id(const char *s, uint8_t *out, size_t n)
{
	uint8_t any = 0;
	size_t i;

	if (!s || strlen(s) != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t hi, lo;

		if (!hexval(s[2 * i], &hi) || !hexval(s[2 * i + 1], &lo))
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		any |= out[i];
	}
	return any != 0;
}

static int32_t use_mapping(struct otlp_enc *e, uint32_t model_id)
{
	bool first = model_id && !e->map.idx[model_id];
	int32_t m = dense_use(&e->map, model_id);

	if (first) {
		const struct gp_mapping *mp = gp_map(e->p, model_id);
		const char *bid = gp_str(e->p, mp->build_id);

		const char *htl = gp_str(e->p, mp->htlhash);
		int n = 0;

		if (*bid)
			e->map_attr[m][n++] = (int32_t)otlp_dict_attr_str(&e->d, build_id_key(bid), bid);
		if (*htl)
			e->map_attr[m][n++] = (int32_t)otlp_dict_attr_str(&e->d, K_BUILD_ID_HTLHASH, htl);
	}
	return m;
}

/* The profile.frame.type attribute of a frame kind, interned on first use. */
static int32_t frame_attr(struct otlp_enc *e, uint32_t kind)
{
	static const char *const names[] = {
		[GOPROF_FRAME_KIND_GO] = "go",
		[GOPROF_FRAME_KIND_NATIVE] = "native",
		[GOPROF_FRAME_KIND_KERNEL] = "kernel",
	};

	if (kind == GOPROF_FRAME_KIND_UNKNOWN || kind > GOPROF_FRAME_KIND_KERNEL)
		return 0;
	if (!e->frame_attr[kind])
		e->frame_attr[kind] = (int32_t)otlp_dict_attr_str(&e->d, K_FRAME_TYPE, names[kind]);
	return e->frame_attr[kind];
}

static int32_t use_location(struct otlp_enc *e, uint32_t model_id)
{
	const struct gp_location *loc = gp_loc(e->p, model_id);
	bool first = !e->loc.idx[model_id];
	int32_t l = dense_use(&e->loc, model_id);
	uint32_t i;

	if (!first)
		return l;
	e->loc_attr[l] = frame_attr(e, loc->kind);
	use_mapping(e, loc->mapping);
	if (loc->kind == GOPROF_FRAME_KIND_GO && loc->mapping && !e->main_map)
		e->main_map = loc->mapping;
	for (i = 0; i < loc->nr_lines; i++)
		dense_use(&e->fn, e->p->lines[loc->line_off + i].function);
	return l;
}

/* The first string label with this key, or NULL. */
static const char *label_str(const struct goprof_profile *p, const struct gp_sample *s,
			     const char *key)
{
	uint32_t i;

	for (i = 0; i < s->nr_labels; i++) {
		const struct gp_label *l = &p->labels[s->label_off + i];

		if (!l->is_num && !strcmp(gp_str(p, l->key), key))
			return gp_str(p, l->str);
	}
	return NULL;
}

/* Finds the sample's trace context; on success tk and sk name the label keys that held it. */
static int32_t sample_link(struct otlp_enc *e, const struct gp_sample *s, const char **tk,
			   const char **sk)
{
	const char *const *k;

	for (k = e->link_keys; k[0] && k[1]; k += 2) {
		struct otlp_link l;

		if (gp_otlp_parse_id(label_str(e->p, s, k[0]), l.trace_id, sizeof(l.trace_id)) &&
		    gp_otlp_parse_id(label_str(e->p, s, k[1]), l.span_id, sizeof(l.span_id))) {
			*tk = k[0];
			*sk = k[1];
			return (int32_t)otlp_dict_link(&e->d, &l);
		}
	}
	*tk = *sk = NULL;
	return 0;
}

static bool push_attr(struct otlp_enc *e, int32_t a)
{
	if (e->nr_sample_attrs == e->sample_attrs_cap) {
		size_t cap = e->sample_attrs_cap ? 2 * e->sample_attrs_cap : 256;
		int32_t *p = realloc(e->sample_attrs, cap * sizeof(*p));

		if (!p)
			return false;
		e->sample_attrs = p;
		e->sample_attrs_cap = cap;
	}
	e->sample_attrs[e->nr_sample_attrs++] = a;
	return true;
}

/* The semantic-convention key of a label, when it has one. */
static const char *attr_key(const char *label_key)
{
	if (!strcmp(label_key, LABEL_THREAD_ID))
		return K_THREAD_ID;
	if (!strcmp(label_key, LABEL_THREAD_NAME))
		return K_THREAD_NAME;
	return label_key;
}

/* Labels -> attributes: labels with one key are adjacent (canonical order), and OTLP
 * wants each key once per sample, so a key with several values becomes an array. */
static int sample_attrs(struct otlp_enc *e, const struct gp_sample *s, struct otlp_sample *os,
			const char *tk, const char *sk)
{
	const struct goprof_profile *p = e->p;
	struct otlp_item items[64];
	bool has_thread_name = false;
	uint32_t i = 0, j, n;

	os->attr_off = e->nr_sample_attrs;
	while (i < s->nr_labels) {
		const struct gp_label *first = &p->labels[s->label_off + i];
		const char *key = attr_key(gp_str(p, first->key));
		/* The link carries these now; an ID per sample would bloat the table. */
		bool skip = (tk && !strcmp(key, tk)) || (sk && !strcmp(key, sk));

		for (j = i, n = 0; j < s->nr_labels && p->labels[s->label_off + j].key == first->key; j++) {
			const struct gp_label *l = &p->labels[s->label_off + j];

			if (!skip && n < sizeof(items) / sizeof(items[0]))
				items[n++] = l->is_num ? (struct otlp_item){ 1, l->num, NULL } :
					     (struct otlp_item){ 0, 0, gp_str(p, l->str) };
		}
		i = j;
		if (skip)
			continue;
		has_thread_name |= !strcmp(key, K_THREAD_NAME);
		if (!push_attr(e, (int32_t)otlp_dict_attr(&e->d, otlp_dict_str(&e->d, key),
				first->is_num ? otlp_dict_str(&e->d, gp_str(p, first->num_unit)) : 0,
				items, n)))
			return -ENOMEM;
	}
	if (s->comm && !has_thread_name &&
	    !push_attr(e, (int32_t)otlp_dict_attr_str(&e->d, K_THREAD_NAME, gp_str(p, s->comm))))
		return -ENOMEM;
	os->nr_attrs = (uint32_t)(e->nr_sample_attrs - os->attr_off);
	return 0;
}

/* Pass 1: dictionary and per-sample references. */
static int build(struct otlp_enc *e)
{
	const struct goprof_profile *p = e->p;
	uint32_t i, j, k;
	int err;

	for (i = 0; i < p->nr_samples; i++) {
		const struct gp_sample *s = &p->samples[i];
		struct otlp_sample *os = &e->samples[i];
		const char *tk, *sk;

		for (j = 0; j < s->nr_locs; j++)
			e->stack_buf[j] = use_location(e, p->loc_ids[s->loc_off + j]);
		os->stack = (int32_t)otlp_dict_stack(&e->d, e->stack_buf, s->nr_locs);
		os->link = sample_link(e, s, &tk, &sk);
		err = sample_attrs(e, s, os, tk, sk);
		if (err)
			return err;
	}
	/* Strings of the tables, interned now so the string table is complete. */
	for (i = 1; i < e->fn.n; i++) {
		const struct gp_function *f = gp_func(p, e->fn.old[i]);

		otlp_dict_str(&e->d, gp_str(p, f->name));
		otlp_dict_str(&e->d, gp_str(p, f->system_name));
		otlp_dict_str(&e->d, gp_str(p, f->filename));
	}
	for (i = 1; i < e->map.n; i++)
		otlp_dict_str(&e->d, gp_str(p, gp_map(p, e->map.old[i])->filename));
	for (k = 0; k < p->nr_types; k++) {
		otlp_dict_str(&e->d, gp_str(p, p->type_ids[k]));
		otlp_dict_str(&e->d, gp_str(p, p->unit_ids[k]));
	}
	otlp_dict_str(&e->d, gp_str(p, p->period_type));
	otlp_dict_str(&e->d, gp_str(p, p->period_unit));
	return e->d.failed ? -ENOMEM : 0;
}

/* ---- Pass 2: writing ---- */

static void packed_int32(struct pb_buf *b, uint32_t field, const int32_t *v, size_t n)
{
	size_t m, i;

	if (!n)
		return;
	m = pb_begin(b, field);
	for (i = 0; i < n; i++)
		pb_varint(b, (uint64_t)(int64_t)v[i]);
	pb_end(b, m);
}

static void write_any_item(struct otlp_enc *e, struct pb_buf *b, uint32_t field,
			   const struct otlp_item *it)
{
	size_t m = pb_begin(b, field);

	if (it->is_num)
		pb_uint64(b, F_AV_INT, (uint64_t)it->num); /* oneof: written even when 0 */
	else
		pb_string(b, F_AV_STRING, it->str);
	pb_end(b, m);
}

static void write_attribute_table(struct otlp_enc *e, struct pb_buf *b)
{
	uint32_t i, j;

	for (i = 0; i < e->d.nr_attrs; i++) {
		const struct otlp_attr *a = &e->d.attrs[i];
		size_t m = pb_begin(b, F_D_ATTRIBUTE);

		if (i) {
			pb_int64_nz(b, F_KVU_KEY, a->key);
			if (a->nr_items == 1) {
				write_any_item(e, b, F_KVU_VALUE, &e->d.items[a->item_off]);
			} else {
				size_t v = pb_begin(b, F_KVU_VALUE), arr = pb_begin(b, F_AV_ARRAY);

				for (j = 0; j < a->nr_items; j++)
					write_any_item(e, b, F_ARR_VALUES, &e->d.items[a->item_off + j]);
				pb_end(b, arr);
				pb_end(b, v);
			}
			pb_int64_nz(b, F_KVU_UNIT, a->unit);
		}
		pb_end(b, m);
	}
}

static void write_dictionary(struct otlp_enc *e, struct pb_buf *b)
{
	const struct goprof_profile *p = e->p;
	size_t dm = pb_begin(b, F_REQ_DICTIONARY), m;
	uint32_t i, j;

	for (i = 0; i < e->map.n; i++) { /* index 0: Mapping{} */
		m = pb_begin(b, F_D_MAPPING);
		if (i) {
			const struct gp_mapping *mp = gp_map(p, e->map.old[i]);

			pb_uint64_nz(b, F_M_START, mp->start);
			pb_uint64_nz(b, F_M_LIMIT, mp->limit);
			pb_uint64_nz(b, F_M_OFFSET, mp->offset);
			pb_int64_nz(b, F_M_FILENAME, otlp_dict_str(&e->d, gp_str(p, mp->filename)));
			packed_int32(b, F_M_ATTRS, e->map_attr[i],
				     (size_t)(e->map_attr[i][0] != 0) + (e->map_attr[i][1] != 0));
		}
		pb_end(b, m);
	}
	for (i = 0; i < e->loc.n; i++) {
		m = pb_begin(b, F_D_LOCATION);
		if (i) {
			const struct gp_location *loc = gp_loc(p, e->loc.old[i]);

			pb_int64_nz(b, F_LOC_MAPPING, loc->mapping ? e->map.idx[loc->mapping] : 0);
			pb_uint64_nz(b, F_LOC_ADDRESS, loc->address);
			for (j = 0; j < loc->nr_lines; j++) { /* innermost first, as OTLP wants */
				const struct gp_line *l = &p->lines[loc->line_off + j];
				size_t k = pb_begin(b, F_LOC_LINES);

				pb_int64_nz(b, F_LN_FUNCTION, e->fn.idx[l->function]);
				pb_int64_nz(b, F_LN_LINE, l->line);
				pb_end(b, k);
			}
			packed_int32(b, F_LOC_ATTRS, &e->loc_attr[i], e->loc_attr[i] ? 1 : 0);
		}
		pb_end(b, m);
	}
	for (i = 0; i < e->fn.n; i++) {
		m = pb_begin(b, F_D_FUNCTION);
		if (i) {
			const struct gp_function *f = gp_func(p, e->fn.old[i]);

			pb_int64_nz(b, F_FN_NAME, otlp_dict_str(&e->d, gp_str(p, f->name)));
			pb_int64_nz(b, F_FN_SYSTEM_NAME, otlp_dict_str(&e->d, gp_str(p, f->system_name)));
			pb_int64_nz(b, F_FN_FILENAME, otlp_dict_str(&e->d, gp_str(p, f->filename)));
			pb_int64_nz(b, F_FN_START_LINE, f->start_line);
		}
		pb_end(b, m);
	}
	for (i = 0; i < e->d.nr_links; i++) {
		/* Element 0 holds 16 and 8 zero bytes: the spec's advice for strict codecs. */
		m = pb_begin(b, F_D_LINK);
		pb_bytes(b, F_LK_TRACE_ID, e->d.links[i].trace_id, sizeof(e->d.links[i].trace_id));
		pb_bytes(b, F_LK_SPAN_ID, e->d.links[i].span_id, sizeof(e->d.links[i].span_id));
		pb_end(b, m);
	}
	for (i = 0; i < e->d.nr_strs; i++)
		pb_string(b, F_D_STRING, e->d.strs[i]);
	write_attribute_table(e, b);
	for (i = 0; i < e->d.nr_stacks; i++) {
		const struct otlp_stack *st = &e->d.stacks[i];

		m = pb_begin(b, F_D_STACK);
		packed_int32(b, F_ST_LOCATIONS, e->d.stack_locs + st->off, st->n);
		pb_end(b, m);
	}
	pb_end(b, dm);
}

static void write_value_type(struct otlp_enc *e, struct pb_buf *b, uint32_t field,
			     uint32_t type, uint32_t unit)
{
	size_t m = pb_begin(b, field);

	pb_int64_nz(b, F_VT_TYPE, otlp_dict_str(&e->d, gp_str(e->p, type)));
	pb_int64_nz(b, F_VT_UNIT, otlp_dict_str(&e->d, gp_str(e->p, unit)));
	pb_end(b, m);
}

static void write_profile(struct otlp_enc *e, struct pb_buf *b, uint32_t type)
{
	const struct goprof_profile *p = e->p;
	size_t pm = pb_begin(b, F_SP_PROFILES), m, k;
	uint32_t i, t;

	write_value_type(e, b, F_P_SAMPLE_TYPE, p->type_ids[type], p->unit_ids[type]);
	for (i = 0; i < p->nr_samples; i++) {
		const struct otlp_sample *os = &e->samples[i];

		m = pb_begin(b, F_P_SAMPLES);
		pb_int64_nz(b, F_S_STACK, os->stack);
		packed_int32(b, F_S_ATTRS, e->sample_attrs + os->attr_off, os->nr_attrs);
		pb_int64_nz(b, F_S_LINK, os->link);
		k = pb_begin(b, F_S_VALUES);
		if (e->timestamps) {
			/* OTLP: values and timestamps of equal length, one per event. */
			for (t = e->ts.off[i]; t < e->ts.off[i + 1]; t++)
				pb_varint(b, (uint64_t)p->ts_values[(size_t)e->ts.ev[t] * p->nr_types + type]);
		} else {
			pb_varint(b, (uint64_t)gp_sample_values(p, i)[type]);
		}
		pb_end(b, k);
		if (e->timestamps) {
			k = pb_begin(b, F_S_TIMESTAMPS); /* packed fixed64 */
			for (t = e->ts.off[i]; t < e->ts.off[i + 1]; t++)
				pb_raw_fixed64(b, (uint64_t)p->ts_time[e->ts.ev[t]]);
			pb_end(b, k);
		}
		pb_end(b, m);
	}
	if (p->time_nanos)
		pb_fixed64(b, F_P_TIME_UNIX_NANO, (uint64_t)p->time_nanos);
	pb_uint64_nz(b, F_P_DURATION_NANO, p->duration_nanos > 0 ? (uint64_t)p->duration_nanos : 0);
	if (p->period_type || p->period_unit)
		write_value_type(e, b, F_P_PERIOD_TYPE, p->period_type, p->period_unit);
	pb_int64_nz(b, F_P_PERIOD, p->period);
	pb_end(b, pm);
}

static void write_kv_str(struct pb_buf *b, const char *key, const char *value)
{
	size_t m = pb_begin(b, F_RES_ATTRIBUTES), v;

	pb_string(b, F_KV_KEY, key);
	v = pb_begin(b, F_KV_VALUE);
	pb_string(b, F_AV_STRING, value);
	pb_end(b, v);
	pb_end(b, m);
}

/* Resource: the main Go executable (from the mappings), then what the host gave. */
static void write_resource(struct otlp_enc *e, struct pb_buf *b,
			   const struct goprof_profile_write_opts *opts)
{
	const char *svc = OPTS_GET(opts, service_name, NULL);
	const char *const *extra = OPTS_GET(opts, resource_attrs, NULL);
	int64_t pid = OPTS_GET(opts, pid, 0);
	const char *written[8];
	size_t m = pb_begin(b, F_RP_RESOURCE), nw = 0, i;

	if (e->main_map) {
		const struct gp_mapping *mp = gp_map(e->p, e->main_map);
		const char *path = gp_str(e->p, mp->filename), *bid = gp_str(e->p, mp->build_id);
		const char *base = strrchr(path, '/');

		if (*path) {
			write_kv_str(b, K_EXE_NAME, base ? base + 1 : path);
			write_kv_str(b, K_EXE_PATH, path);
			written[nw++] = K_EXE_NAME;
			written[nw++] = K_EXE_PATH;
		}
		const char *htl = gp_str(e->p, mp->htlhash);

		if (*bid) {
			write_kv_str(b, build_id_key(bid), bid);
			written[nw++] = build_id_key(bid);
		}
		if (*htl) {
			write_kv_str(b, K_BUILD_ID_HTLHASH, htl);
			written[nw++] = K_BUILD_ID_HTLHASH;
		}
	}
	if (pid) {
		size_t a = pb_begin(b, F_RES_ATTRIBUTES), v;

		pb_string(b, F_KV_KEY, K_PID);
		v = pb_begin(b, F_KV_VALUE);
		pb_uint64(b, F_AV_INT, (uint64_t)pid);
		pb_end(b, v);
		pb_end(b, a);
		written[nw++] = K_PID;
	}
	if (svc) {
		write_kv_str(b, K_SERVICE_NAME, svc);
		written[nw++] = K_SERVICE_NAME;
	}
	for (; extra && extra[0] && extra[1]; extra += 2) {
		/* Keys must be unique in a Resource: the library's own win. */
		for (i = 0; i < nw && strcmp(written[i], extra[0]); i++)
			;
		if (i == nw)
			write_kv_str(b, extra[0], extra[1]);
	}
	pb_end(b, m);
}

static void write_request(struct otlp_enc *e, struct pb_buf *b,
			  const struct goprof_profile_write_opts *opts)
{
	const struct goprof_profile *p = e->p;
	size_t rp = pb_begin(b, F_REQ_RESOURCE_PROFILES), sp, sc;
	uint32_t t, first = 0;

	write_resource(e, b, opts);
	sp = pb_begin(b, F_RP_SCOPE_PROFILES);
	sc = pb_begin(b, F_SP_SCOPE);
	pb_string(b, F_SCOPE_NAME, "libgoprof");
	pb_string(b, F_SCOPE_VERSION, GOPROF_VERSION_STRING);
	pb_end(b, sc);
	/* Viewers show profiles[0] first: make it the default sample type. */
	for (t = 0; t < p->nr_types; t++)
		if (p->default_sample_type && p->type_ids[t] == p->default_sample_type)
			first = t;
	write_profile(e, b, first);
	for (t = 0; t < p->nr_types; t++)
		if (t != first)
			write_profile(e, b, t);
	pb_end(b, sp);
	pb_end(b, rp);
	write_dictionary(e, b);
}

static size_t list_len(const char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

int gp_otlp_serialize(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
		      struct pb_buf *b)
{
	struct otlp_enc e = { .p = p };
	uint32_t max_depth = 0, i;
	int err = -ENOMEM;

	e.link_keys = OPTS_GET(opts, link_keys, NULL);
	if (!e.link_keys)
		e.link_keys = default_link_keys;
	if (list_len(e.link_keys) % 2)
		return gp_err(-EINVAL, "otlp: link_keys must hold (trace key, span key) pairs");
	if (list_len(OPTS_GET(opts, resource_attrs, NULL)) % 2)
		return gp_err(-EINVAL, "otlp: resource_attrs must hold (key, value) pairs");
	for (i = 0; i < p->nr_samples; i++)
		max_depth = p->samples[i].nr_locs > max_depth ? p->samples[i].nr_locs : max_depth;
	if (otlp_dict_init(&e.d))
		goto out;
	if (dense_init(&e.loc, p->nr_locations) || dense_init(&e.fn, p->nr_functions) ||
	    dense_init(&e.map, p->nr_mappings))
		goto out;
	e.loc_attr = calloc((size_t)p->nr_locations + 1, sizeof(*e.loc_attr));
	e.map_attr = calloc((size_t)p->nr_mappings + 1, sizeof(*e.map_attr));
	e.samples = calloc((size_t)p->nr_samples + 1, sizeof(*e.samples));
	e.stack_buf = calloc((size_t)max_depth + 1, sizeof(*e.stack_buf));
	if (!e.loc_attr || !e.map_attr || !e.samples || !e.stack_buf)
		goto out;
	if (gp_ts_index_build(p, &e.ts))
		goto out;
	/* Timestamps only when they account for every value (OTLP: one value per timestamp;
	 * all samples of a profile in one shape); else summed values, as without them. */
	e.timestamps = gp_ts_complete(p, &e.ts);
	err = build(&e);
	if (err)
		goto out;
	write_request(&e, b, opts);
	err = b->failed || e.d.failed ? -ENOMEM : 0;
out:
	if (err == -ENOMEM)
		gp_err(err, "otlp: out of memory encoding %u samples", p->nr_samples);
	otlp_dict_free(&e.d);
	dense_free(&e.loc);
	dense_free(&e.fn);
	dense_free(&e.map);
	free(e.loc_attr);
	free(e.map_attr);
	free(e.samples);
	free(e.sample_attrs);
	free(e.stack_buf);
	gp_ts_index_free(&e.ts);
	return err;
}

int gp_encode_otlp(const struct goprof_profile *p, const struct goprof_profile_write_opts *opts,
		   struct gp_out *o)
{
	struct pb_buf b;
	int err;

	pb_init(&b);
	err = gp_otlp_serialize(p, opts, &b);
	if (err) {
		pb_free(&b);
		return gp_out_fail(o, err);
	}
	gp_out_write(o, b.data, b.len);
	pb_free(&b);
	return o->err;
}
