/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * The profile model (internal). The session fills a profile from its stack table after
 * symbolization; the encoders (pprof.c, folded.c, flamegraph.c) and the public read API
 * read it. struct goprof_profile (public, opaque) is this model.
 *
 * Tables, all 1-based ids (0 means "none"):
 *   strings   interned; id 0 is always "" (pprof's string_table[0])
 *   mappings  (start, limit, offset, filename, build_id), deduplicated
 *   functions (name, system_name, filename, start_line), deduplicated, built from lines
 *   locations keyed by (mapping, address); each has 0..n lines, innermost first, and a
 *             frame kind (GOPROF_FRAME_KIND_*)
 *   samples   keyed by (stack of location ids leaf first, canonical label set, comm);
 *             adding an existing key sums the values.
 *   timestamps (opt-in, desc.max_timestamps > 0) one entry per event added with a time:
 *             (sample index, Unix ns, the event's values), in arrival order, at most
 *             max_timestamps; later events still add their values but their timestamps
 *             are counted in ts_dropped. 12 + 8 * nr_types bytes each (28 for CPU).
 * Every insert is amortized O(1) (hash indexes, see idmap.h).
 *
 * Not thread-safe: one writer at a time; readers only after the last write.
 */
#ifndef GOPROF_PROFILE_INTERNAL_H
#define GOPROF_PROFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goprof/profile.h"
#include "internal.h"
#include "profile/idmap.h"

/* ---- Input records of the internal API (strings are copied; NULL means "") ---- */

struct gp_value_type {
	const char *type; /* e.g. "samples", "cpu" */
	const char *unit; /* e.g. "count", "nanoseconds" */
};

struct gp_profile_desc {
	const struct gp_value_type *sample_types; /* at least one */
	uint32_t nr_sample_types;
	struct gp_value_type period_type;         /* {NULL, NULL}: none */
	int64_t period;                           /* e.g. 1e9 / Hz for CPU */
	int64_t time_nanos;                       /* wall-clock start, ns since the epoch */
	int64_t duration_nanos;
	const char *default_sample_type;          /* NULL: not set */
	uint32_t max_timestamps;                  /* per-event timestamps kept; 0: none */
};

struct gp_mapping_in {
	uint64_t start;        /* first address of the mapping in the process */
	uint64_t limit;        /* one past the last address */
	uint64_t offset;       /* file offset of start */
	const char *filename;  /* e.g. "/usr/bin/app", "[vdso]", "[kernel.kallsyms]" */
	const char *build_id;  /* hex GNU build ID or Go build ID; NULL if none */
	const char *htlhash;   /* OTel htlhash of the file in hex (htlhash.h); NULL if none */
};

struct gp_line_in {
	const char *function;    /* demangled/display name, e.g. "main.work" */
	const char *system_name; /* linker name; NULL: same as function */
	const char *file;        /* source file; NULL if unknown */
	int64_t line;            /* 0 if unknown */
	int64_t start_line;      /* first line of the function; 0 if unknown */
};

struct gp_label_in {
	const char *key;
	const char *str;      /* non-NULL: string label */
	int64_t num;          /* numeric label when str is NULL */
	const char *num_unit; /* numeric labels: optional unit, e.g. "bytes" */
};

struct gp_sample_in {
	const uint32_t *locations;      /* location ids, leaf first */
	uint32_t nr_locations;
	const int64_t *values;          /* nr_sample_types values */
	const struct gp_label_in *labels;
	uint32_t nr_labels;
	const char *comm;               /* process name: root frame of folded/SVG; NULL: none */
	int64_t time_unix_nano;         /* when the event happened; 0: unknown. Kept with the
					   values if the profile keeps timestamps */
};

/* ---- Stored records ---- */

struct gp_mapping {
	uint64_t start, limit, offset;
	uint32_t filename, build_id, htlhash; /* string ids */
};

struct gp_function {
	uint32_t name, system_name, filename; /* string ids */
	int64_t start_line;
};

struct gp_line {
	uint32_t function; /* function id */
	int64_t line;
};

struct gp_location {
	uint64_t address;
	uint32_t mapping;   /* mapping id, 0: none */
	uint32_t kind;      /* GOPROF_FRAME_KIND_* */
	uint32_t nr_lines;  /* 0: unsymbolized */
	size_t line_off;    /* index of the first (innermost) line in lines[] */
};

struct gp_label {
	uint32_t key, str, num_unit; /* string ids; str 0 and is_num: numeric label */
	uint32_t is_num;
	int64_t num;
};

struct gp_sample {
	size_t loc_off;     /* into loc_ids[] */
	size_t label_off;   /* into labels[] */
	uint32_t nr_locs, nr_labels;
	uint32_t comm;      /* string id */
};

struct goprof_profile {
	/* Header */
	uint32_t nr_types;
	uint32_t *type_ids, *unit_ids;          /* string ids, nr_types each */
	uint32_t period_type, period_unit, default_sample_type;
	int64_t period, time_nanos, duration_nanos;

	/* Strings: NUL-terminated in chars[], str_off[id] is where string id starts. */
	char *chars;
	size_t chars_len, chars_cap;
	size_t *str_off;
	uint32_t nr_strs;
	size_t strs_cap;
	struct gp_idmap str_idx;

	struct gp_mapping *mappings; /* [id - 1] */
	uint32_t nr_mappings;
	size_t mappings_cap;
	struct gp_idmap mapping_idx;

	struct gp_function *functions;
	uint32_t nr_functions;
	size_t functions_cap;
	struct gp_idmap function_idx;

	struct gp_location *locations;
	uint32_t nr_locations;
	size_t locations_cap;
	struct gp_idmap location_idx;
	struct gp_line *lines;
	size_t nr_lines, lines_cap;

	struct gp_sample *samples;
	uint32_t nr_samples;
	size_t samples_cap;
	struct gp_idmap sample_idx;
	uint32_t *loc_ids;      /* stacks of all samples */
	size_t nr_loc_ids, loc_ids_cap;
	struct gp_label *labels; /* label sets of all samples, canonical order */
	size_t nr_labels, labels_cap;
	int64_t *values;         /* nr_types per sample */
	size_t values_cap;       /* in samples */

	/* Per-event timestamps, in arrival order (see the table list above). */
	uint32_t max_ts;
	uint32_t *ts_sample;     /* sample index of each event */
	int64_t *ts_time;        /* Unix ns */
	int64_t *ts_values;      /* nr_types per event */
	size_t nr_ts, ts_cap;
	uint64_t ts_dropped;     /* events past max_ts: values summed, time not kept */
};

/* ---- Internal API used by the session ---- */

/* Creates an empty profile. Returns NULL with errno and the last error set (EINVAL: no
 * sample types; ENOMEM). */
GOPROF_HIDDEN struct goprof_profile *gp_profile_new(const struct gp_profile_desc *desc);
/* goprof_profile_free() releases it. */

/* An empty profile in Go's block-profile conventions (contentions/count and
 * delay/nanoseconds, one contention per period unit), as the blocking and off-CPU
 * profiles are. */
GOPROF_HIDDEN struct goprof_profile *gp_contention_profile_new(void);

/* Sets the wall-clock start and the length of the profiled interval. */
GOPROF_HIDDEN void gp_profile_set_time(struct goprof_profile *p, int64_t time_nanos,
				       int64_t duration_nanos);

/* Interns a string (NULL and "" are id 0). Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_profile_intern(uint32_t *id, struct goprof_profile *p, const char *s);

/* Adds a mapping, or finds an identical one. Returns 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_profile_add_mapping(uint32_t *id, struct goprof_profile *p,
					 const struct gp_mapping_in *m);

/* Id of the location at (mapping_id, address), or 0. Lets the session symbolize each
 * address once: find first, symbolize and add on a miss. */
GOPROF_HIDDEN uint32_t gp_profile_find_location(const struct goprof_profile *p,
						uint32_t mapping_id, uint64_t address);

/* Adds the location at (mapping_id, address) with its lines (innermost first, several
 * for inlined calls, none if unsymbolized) and frame kind. If that key exists already its
 * id is returned and the lines given are ignored. Kernel frames: mapping_id may be 0
 * (kernel addresses are unique); user frames should have a mapping, since equal addresses
 * in two processes are different code. Returns 0, -EINVAL (unknown mapping id, bad kind),
 * -ENOMEM. */
GOPROF_HIDDEN int gp_profile_add_location(uint32_t *id, struct goprof_profile *p,
					  uint32_t mapping_id, uint64_t address, uint32_t kind,
					  const struct gp_line_in *lines, uint32_t nr_lines);

/*
 * A location standing for a stack that is not known, named like "[created before
 * attach]": a pprof sample without locations is left out of every view (top, graphs,
 * flame graphs), so its values would be missing from their totals. Its address is
 * outside any real one (bit 63 set, from the name), in no mapping, of unknown kind.
 */
GOPROF_HIDDEN int gp_profile_placeholder(uint32_t *id, struct goprof_profile *p, const char *name);

/* Adds a sample: sums its values into the sample with the same stack, label set (any
 * order) and comm, or appends a new one. Returns 0, -EINVAL (no values, unknown location
 * id, label without key), -ENOMEM. */
GOPROF_HIDDEN int gp_profile_add_sample(struct goprof_profile *p, const struct gp_sample_in *s);

/* goprof_profile_foreach_sample() with each sample's index (0-based, insertion order:
 * a sample's index is nr_samples at the moment gp_profile_add_sample() created it). */
typedef int (*gp_indexed_sample_fn)(const struct goprof_profile_sample *s, uint32_t idx, void *ctx);
GOPROF_HIDDEN int gp_profile_foreach_sample_idx(const struct goprof_profile *p, gp_indexed_sample_fn fn,
						void *ctx);

/* The timestamps of each sample, for readers: ev[off[i] .. off[i + 1]) are the event
 * indexes of sample i in time order. */
struct gp_ts_index {
	uint32_t *off; /* nr_samples + 1 */
	uint32_t *ev;  /* nr_ts */
};

/* Builds the index (empty arrays when the profile has no timestamps). 0 or -ENOMEM. */
GOPROF_HIDDEN int gp_ts_index_build(const struct goprof_profile *p, struct gp_ts_index *ix);
GOPROF_HIDDEN void gp_ts_index_free(struct gp_ts_index *ix);
/* True when every sample's values are exactly the sums of its events' values: each
 * event of the profile has its timestamp (none dropped, none added without a time). */
GOPROF_HIDDEN bool gp_ts_complete(const struct goprof_profile *p, const struct gp_ts_index *ix);

/* Drops every sample; keeps strings, mappings, functions and locations (a symbolization
 * cache: encoders write only what samples reference). */
GOPROF_HIDDEN void gp_profile_reset(struct goprof_profile *p);

/* Deep copy holding only the samples and what they reference: the snapshot handed to a
 * host. Returns NULL with errno and the last error set. */
GOPROF_HIDDEN struct goprof_profile *gp_profile_clone(const struct goprof_profile *p);

/* ---- Read helpers for the encoders ---- */

static inline const char *gp_str(const struct goprof_profile *p, uint32_t id)
{
	return p->chars + p->str_off[id];
}
static inline const struct gp_location *gp_loc(const struct goprof_profile *p, uint32_t id)
{
	return &p->locations[id - 1];
}
static inline const struct gp_function *gp_func(const struct goprof_profile *p, uint32_t id)
{
	return &p->functions[id - 1];
}
static inline const struct gp_mapping *gp_map(const struct goprof_profile *p, uint32_t id)
{
	return &p->mappings[id - 1];
}
static inline const int64_t *gp_sample_values(const struct goprof_profile *p, uint32_t sample_idx)
{
	return p->values + (size_t)sample_idx * p->nr_types;
}

#endif /* GOPROF_PROFILE_INTERNAL_H */
