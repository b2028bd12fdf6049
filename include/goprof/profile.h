/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/**
 * @file profile.h
 * @brief Profiles: aggregated, symbolized samples a host takes from a session, read
 *        back sample by sample, or encoded as pprof, folded stacks or an SVG flame graph.
 *
 * A profile is a snapshot: once the library hands it to the host it never changes, and
 * it stays valid after the session that produced it is freed. Typical use:
 *
 *     struct goprof_profile *p = ...;   // from the session (see session.h)
 *     if (goprof_profile_write_file(p, GOPROF_FORMAT_PPROF, NULL, "cpu.pb.gz") < 0)
 *         fprintf(stderr, "%s\n", goprof_last_error());
 *     goprof_profile_free(p);
 *
 * Thread-safety: every function here only reads the profile, so several threads may
 * read or encode the same profile at once; goprof_profile_free() must not race with them.
 */
#ifndef GOPROF_PROFILE_H
#define GOPROF_PROFILE_H

#include <goprof/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque profile snapshot. */
struct goprof_profile;

/** @name Output formats (the @c format argument of goprof_profile_write())
 * @{ */
/** pprof `perftools.profiles.Profile` protobuf, gzip-compressed (Go's `go tool pprof`). */
#define GOPROF_FORMAT_PPROF 1
/** Folded stacks, one `comm;root;...;leaf count` line per distinct stack
 *  (flamegraph.pl, inferno, speedscope). Kernel frames end in `_[k]`. */
#define GOPROF_FORMAT_FOLDED 2
/** Self-contained interactive SVG flame graph (click to zoom, search, tooltips). */
#define GOPROF_FORMAT_SVG 3
/** OpenTelemetry profiles: an uncompressed OTLP `ExportProfilesServiceRequest` protobuf
 *  of `opentelemetry.proto.profiles.v1development` as of opentelemetry-proto release
 *  v1.11.0 (GOPROF_OTLP_PROTO_RELEASE): the body of an OTLP/HTTP POST to
 *  `/v1development/profiles` (since 1.1). The schema is alpha; a later libgoprof may
 *  move to a newer release. */
#define GOPROF_FORMAT_OTLP 4
/** The opentelemetry-proto release whose field numbers GOPROF_FORMAT_OTLP uses. */
#define GOPROF_OTLP_PROTO_RELEASE "v1.11.0"
/** @} */

/** @name Flags of goprof_profile_write_opts.flags
 * @{ */
/** GOPROF_FORMAT_PPROF: write the protobuf without gzip compression. */
#define GOPROF_WRITE_PPROF_UNCOMPRESSED 0x1u
/**
 * GOPROF_FORMAT_FOLDED: start with a comment line that says what the counts are, e.g.
 * "# goprof folded stacks: delay in nanoseconds (flamegraph.pl --countname=nanoseconds)".
 * flamegraph.pl, inferno and speedscope skip a line without a count. (since 1.1)
 */
#define GOPROF_WRITE_FOLDED_UNIT 0x2u
/** @} */

/**
 * Summary of a profile, filled by goprof_profile_get_info(). The caller sets @c sz to
 * sizeof(struct goprof_profile_info); the library fills the fields that lie within it.
 * Strings are owned by the profile and valid until goprof_profile_free().
 */
struct goprof_profile_info {
	uint32_t sz;               /**< set by the caller */
	uint32_t nr_sample_types;  /**< values per sample (see goprof_profile_sample_type()) */
	uint64_t nr_samples;       /**< distinct samples (stack + labels) */
	int64_t time_nanos;        /**< start of the profile, nanoseconds since the Unix epoch */
	int64_t duration_nanos;    /**< length of the profiled interval, nanoseconds */
	int64_t period;            /**< events between samples, in period_type units */
	const char *period_type;   /**< e.g. "cpu"; "" if none */
	const char *period_unit;   /**< e.g. "nanoseconds"; "" if none */
	const char *default_sample_type; /**< "" if not set */
	/** Per-event timestamps kept in the profile (see goprof_profile_sample.timestamps);
	 *  0 when the profile keeps none (since 1.1) */
	uint64_t nr_timestamps;
	/** Events whose values were added but whose timestamp was not kept: the profile's
	 *  bound on timestamps was reached (e.g. goprof_session_opts.cpu_timestamps_max)
	 *  (since 1.1) */
	uint64_t timestamps_dropped;
};

/**
 * One frame of a sample, handed out through goprof_profile_sample.frames. Inline frames
 * are separate frames that share one address. Valid only during the callback. Read a
 * field only if it lies within @c sz. Strings are never NULL ("" when unknown).
 */
struct goprof_profile_frame {
	uint32_t sz;            /**< bytes of this struct filled in by the library */
	uint32_t kind;          /**< GOPROF_FRAME_KIND_* */
	uint32_t inlined;       /**< 1 if this frame was inlined into the next (caller) frame */
	uint32_t symbolized;    /**< 1 if function/file/line are known, 0 if only the address */
	uint64_t address;       /**< instruction address in the process (kernel address for kernel frames) */
	const char *function;   /**< function name, e.g. "main.work" */
	const char *system_name; /**< linker (mangled) name, often equal to function */
	const char *file;       /**< source file */
	int64_t line;           /**< source line, 0 if unknown */
	int64_t start_line;     /**< first line of the function, 0 if unknown */
	const char *mapping_file; /**< object file of the mapping, e.g. "/usr/bin/app" */
	const char *build_id;   /**< the mapping's build ID (hex GNU or Go build ID) */
	uint64_t mapping_start; /**< mapping's start address */
	uint64_t mapping_limit; /**< mapping's end address (exclusive) */
	uint64_t mapping_offset; /**< file offset the mapping starts at */
	/** the mapping file's OpenTelemetry `process.executable.build_id.htlhash`: SHA-256 of
	 *  its first and last 4096 bytes and its length (big-endian u64), first 16 bytes in
	 *  lowercase hex; "" if the file could not be read (since 1.1) */
	const char *htlhash;
};

/**
 * One label of a sample: a string label (@c is_num 0: key and str) or a numeric label
 * (@c is_num 1: key, num and an optional num_unit), as in pprof. Valid only during the
 * callback.
 */
struct goprof_profile_label {
	uint32_t sz;          /**< bytes of this struct filled in by the library */
	uint32_t is_num;      /**< 1: numeric label (num, num_unit); 0: string label (str) */
	const char *key;      /**< e.g. "goroutine" or a pprof label key */
	const char *str;      /**< value of a string label, "" for numeric labels */
	int64_t num;          /**< value of a numeric label */
	const char *num_unit; /**< unit of a numeric label, "" if none */
};

/**
 * One aggregated sample: a stack with a set of labels and the summed values of every
 * sample that had both. Valid only during the callback.
 */
struct goprof_profile_sample {
	uint32_t sz;        /**< bytes of this struct filled in by the library */
	uint32_t nr_frames; /**< entries in @c frames */
	const struct goprof_profile_frame *const *frames; /**< leaf first, inline frames expanded */
	uint32_t nr_values; /**< entries in @c values (the profile's sample types) */
	uint32_t nr_labels; /**< entries in @c labels */
	const int64_t *values; /**< one value per sample type, e.g. {count, nanoseconds} */
	const struct goprof_profile_label *const *labels; /**< in a canonical order: labels
				with the same key are adjacent; a sample's order is stable */
	const char *comm;   /**< process name the stack belongs to, "" if unknown */
	/** Entries in @c timestamps: the events of this sample whose time the profile kept
	 *  (0 if it keeps none; fewer than the events counted when the bound was reached,
	 *  see goprof_profile_info.timestamps_dropped) (since 1.1) */
	uint32_t nr_timestamps;
	uint32_t reserved0; /**< zero (since 1.1) */
	/** When each event happened, nanoseconds since the Unix epoch, ascending (since 1.1) */
	const int64_t *timestamps;
	/** The values of each event: nr_timestamps rows of nr_values, row i belonging to
	 *  timestamps[i] (for CPU samples {1, period}) (since 1.1) */
	const int64_t *timestamp_values;
};

/**
 * Receives one sample of goprof_profile_foreach_sample().
 * @return 0 to go on; any other value stops the iteration, and
 *         goprof_profile_foreach_sample() returns it.
 */
typedef int (*goprof_profile_sample_fn)(const struct goprof_profile_sample *sample, void *ctx);

/**
 * Receives encoded bytes from goprof_profile_write(), in order, in chunks of any size.
 * @return 0 to go on; a negative errno stops the encoder, which returns it; a positive
 *         value stops it too (goprof_profile_write() then returns -ECANCELED).
 */
typedef int (*goprof_profile_write_fn)(const void *data, size_t len, void *ctx);

/** Options of goprof_profile_write(). Initialize with GOPROF_OPTS(goprof_profile_write_opts, ...). */
struct goprof_profile_write_opts {
	size_t sz;            /**< sizeof(struct goprof_profile_write_opts), set by GOPROF_OPTS */
	uint32_t value_index; /**< FOLDED and SVG: which sample value to count (index into the
				   sample types); default 0 (for CPU profiles: samples/count) (since 1.1) */
	uint32_t flags;       /**< GOPROF_WRITE_* flags (since 1.1) */
	const char *title;    /**< SVG: title shown above the graph; NULL for a default (since 1.1) */
	/** OTLP: value of the `service.name` resource attribute; NULL: not written (since 1.1) */
	const char *service_name;
	/** OTLP: value of the `process.pid` resource attribute, for a profile of one process;
	 *  0: not written (since 1.1) */
	int64_t pid;
	/** OTLP: more string resource attributes as a NULL-terminated list of key, value
	 *  pairs, e.g. {"host.name", "web-1", "deployment.environment.name", "prod", NULL};
	 *  NULL: none. They are written after, and do not replace, the library's own (since 1.1) */
	const char *const *resource_attrs;
	/** OTLP: pprof label keys that carry trace context, as a NULL-terminated list of
	 *  (trace-id key, span-id key) pairs tried in order. A sample whose labels hold a valid
	 *  pair (32 and 16 hex digits, not all zero) gets an OTLP Link to that span. NULL: the
	 *  defaults {"trace_id", "span_id", "otel.traceid", "otel.spanid", NULL}; a list that is
	 *  just {NULL} turns links off (since 1.1) */
	const char *const *link_keys;
};

/**
 * Frees a profile. NULL is ignored.
 * @param profile the profile, or NULL.
 * @note Must not be called while another thread still reads the profile.
 */
GOPROF_API void goprof_profile_free(struct goprof_profile *profile);

/**
 * Describes a profile: its time, period and number of samples.
 *
 * @param profile the profile.
 * @param info    filled in up to info->sz bytes; the caller sets info->sz first.
 * @return 0, or -EINVAL (NULL argument, or info->sz smaller than the sz field).
 * @note Thread-safe (reads only).
 */
GOPROF_API int goprof_profile_get_info(const struct goprof_profile *profile,
				       struct goprof_profile_info *info);

/**
 * Names one of the profile's sample types (the meaning of each sample value), as in
 * pprof: e.g. index 0 "samples"/"count" and index 1 "cpu"/"nanoseconds".
 *
 * @param profile the profile.
 * @param index   0 to goprof_profile_info.nr_sample_types - 1.
 * @param type    receives the type name (owned by the profile); may be NULL.
 * @param unit    receives the unit (owned by the profile); may be NULL.
 * @return 0, or -EINVAL (NULL profile), -ERANGE (index out of range).
 * @note Thread-safe (reads only).
 */
GOPROF_API int goprof_profile_sample_type(const struct goprof_profile *profile, uint32_t index,
					  const char **type, const char **unit);

/**
 * Calls @p fn for every aggregated sample, with its frames (leaf first), values and
 * labels, for hosts that do their own export. Order: the order in which each distinct
 * stack was first recorded.
 *
 * @param profile the profile.
 * @param fn      callback; returning non-zero stops the iteration.
 * @param ctx     passed to @p fn.
 * @return 0 after the last sample, the callback's non-zero return value, or a negative
 *         errno: -EINVAL (NULL profile or fn), -ENOMEM.
 * @note Thread-safe (reads only); @p fn must not free the profile.
 */
GOPROF_API int goprof_profile_foreach_sample(const struct goprof_profile *profile,
					     goprof_profile_sample_fn fn, void *ctx);

/**
 * Encodes a profile and hands the bytes to @p write.
 *
 * - GOPROF_FORMAT_PPROF: gzip-compressed pprof protobuf with Go's conventions (string
 *   table entry 0 "", ids from 1, mappings flagged as symbolized when every location in
 *   them is, inline frames as several lines of one location, labels, period, time).
 *   Only what the samples reference is written. The format cannot carry a string label
 *   whose value is "" nor a numeric label of 0 without a unit (pprof readers drop them),
 *   nor the process name (folded and SVG use it as the root frame).
 * - GOPROF_FORMAT_FOLDED: `comm;root;...;leaf count` lines, sorted, duplicates merged;
 *   `;` in names becomes `:`, kernel frames end in `_[k]`, inline frames are separate
 *   frames (caller first); unsymbolized frames appear as `[file]` or `[unknown]`.
 * - GOPROF_FORMAT_SVG: an interactive flame graph, self-contained (no network access).
 * - GOPROF_FORMAT_OTLP: one `ExportProfilesServiceRequest` (release
 *   GOPROF_OTLP_PROTO_RELEASE): one ResourceProfiles whose resource carries
 *   `process.executable.name`/`.path` and `process.executable.build_id.gnu`/`.go` of the
 *   main Go executable (from the profile's mappings), `process.pid` and `service.name`
 *   when given in @p opts, then opts->resource_attrs; one scope "libgoprof"; one Profile
 *   per sample type (OTLP has one type per Profile), the default sample type first.
 *   The resource also carries `process.executable.build_id.htlhash` of that executable.
 *   Shared dictionary tables whose element 0 is the zero value. Samples carry their pprof
 *   labels as attributes (numeric ones with their unit; several values of one key as an
 *   array), `thread.name` (the "thread_name" label if the profile keeps threads, else the
 *   sample's comm), `thread.id` (from the numeric "thread_id" label of profiles that keep
 *   threads, see GOPROF_CPU_PROFILE_THREADS) and, when their labels hold a trace and span
 *   ID (opts->link_keys), a Link; the ID labels that made the link are not repeated as
 *   attributes. When the profile kept the timestamp of every event (none dropped), each
 *   sample has `timestamps_unix_nano` and one value per timestamp, as OTLP requires;
 *   otherwise one summed value. Locations carry `profile.frame.type` ("go", "native",
 *   "kernel"); mappings their build ID as `process.executable.build_id.gnu` or `.go`,
 *   and `process.executable.build_id.htlhash`.
 *   Not compressed: an OTLP/HTTP client gzips it with `Content-Encoding: gzip`.
 *
 * @param profile the profile.
 * @param format  GOPROF_FORMAT_*.
 * @param opts    options, or NULL for the defaults.
 * @param write   receives the output; may be called many times.
 * @param ctx     passed to @p write.
 * @return 0, or a negative errno: -EINVAL (NULL argument, unknown format, bad options,
 *         value_index out of range), -ENOMEM, the negative value @p write returned, or
 *         -ECANCELED if it returned a positive value. goprof_last_error() says what
 *         failed. On error the bytes written so far are not a valid file.
 * @note Thread-safe (reads only).
 */
GOPROF_API int goprof_profile_write(const struct goprof_profile *profile, uint32_t format,
				    const struct goprof_profile_write_opts *opts,
				    goprof_profile_write_fn write, void *ctx);

/**
 * Encodes a profile into a file, like goprof_profile_write().
 *
 * A regular file (or a new one) is written under a temporary name in the same directory
 * (created with O_EXCL and O_NOFOLLOW, mode 0666 minus the umask) and renamed over
 * @p path when complete: readers see the old file or the new one whole, and a symbolic or
 * hard link found under @p path is replaced, never written through. A symbolic link is
 * followed only when it belongs to the caller's effective user or to root; one owned by
 * another user is refused with -ELOOP. An
 * existing FIFO or device (a pipe, /dev/null) is written in place. The directories on the
 * way to @p path are trusted as named: a program running as root should write only into
 * a directory no other user can write to. When the directory cannot be written but the
 * file can, the file is truncated and written in place (a link there is not followed).
 * On error nothing is left under a temporary name, and a file written in place is
 * removed if it is a regular file.
 *
 * @param profile the profile.
 * @param format  GOPROF_FORMAT_*.
 * @param opts    options, or NULL.
 * @param path    file to write, e.g. "cpu.pb.gz".
 * @return 0, or a negative errno: those of goprof_profile_write(), or the errno of
 *         open/write/close/rename (e.g. -EACCES, -ENOENT, -ENOSPC, -EISDIR), -ELOOP
 *         for another user's symbolic link.
 * @note Thread-safe (reads only the profile).
 */
GOPROF_API int goprof_profile_write_file(const struct goprof_profile *profile, uint32_t format,
					 const struct goprof_profile_write_opts *opts,
					 const char *path);

#ifdef __cplusplus
}
#endif

#endif /* GOPROF_PROFILE_H */
