/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
#ifndef GOPROF_CLI_REPORT_H
#define GOPROF_CLI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "safe_output.h"

struct goprof_session;
struct goprof_session_stats;
struct goprof_event;
struct goprof_profile;

/* Writes s as a JSON string (quoted, escaped; NULL as ""). */
void json_string(FILE *out, const char *s);
/* n bytes that need not be text (an HTTP path): NULs and bytes >= 0x80 escaped one by
 * one as \u00XX, so the output is valid JSON whatever they are. */
void json_bytes(FILE *out, const char *s, size_t n);

/*
 * events.jsonl (schema: docs/events.schema.json, version EVENTS_SCHEMA_VERSION): every
 * line starts with the same three members, written here: the event's type, when it
 * happened as Unix time in nanoseconds (mono_ns: CLOCK_MONOTONIC of the event, 0 for
 * now), and the process (0: the line is about every attached process). The caller
 * continues the object with ",\"name\":..." and ends it with "}\n".
 */
#define EVENTS_SCHEMA_VERSION 1
void jsonl_begin(FILE *out, const char *type, uint32_t pid, uint64_t mono_ns);

/* DIR/events.jsonl, written as runtime events arrive. */
struct runtime_events {
	FILE *out;
};

int runtime_events_open(struct runtime_events *ev, const struct safe_dir *dir);
void runtime_events_close(struct runtime_events *ev);
/* goprof_event_fn: appends GC cycles to events.jsonl; ctx is a struct runtime_events. */
int runtime_event(const struct goprof_event *e, void *ctx);
/*
 * Prints the GC, goroutine and heap summaries for the enabled features, writes
 * goroutines.pb.gz / heap.pb.gz and the leak sites (older than leak_age_ns) to
 * events.jsonl. 0 or -1.
 */
int write_runtime_report(struct goprof_session *s, const struct safe_dir *dir, uint32_t features,
			 struct runtime_events *ev, uint64_t leak_age_ns);

/* TCP (tcp_report.c): one events.jsonl line per connect/accept/close event. */
bool is_tcp_event(const struct goprof_event *e);
int write_tcp_event(FILE *out, const struct goprof_event *e);
/* Prints the per-peer table and writes it to jsonl (may be NULL); 0 or -1. */
int write_tcp_report(struct goprof_session *s, FILE *jsonl);

/*
 * GOPROF_FEATURE_BLOCK: writes DIR/block.pb.gz, block.folded, block.svg and prints the
 * blocked time by wait reason and site; GOPROF_FEATURE_CHANNELS: prints the channel table
 * and writes one "channel" object per channel to jsonl (if not NULL). 0 or -1.
 */
int write_block_report(struct goprof_session *s, const struct safe_dir *dir, uint32_t features, FILE *jsonl);

struct goprof_profile;
/* What the profiles are of ("pid 42 (server)", "make", "3 processes"), for SVG titles. */
void report_set_target(const char *target);

/* Writes DIR/NAME.pb.gz, NAME.folded and NAME.svg (those two counting sample value
 * value_index; title: what the SVG shows, followed by " of TARGET"; NULL: the library's
 * default). A folded file counting anything but CPU samples starts with a comment line
 * that names its unit. 0 or -1 (said on stderr). */
int write_profile_files(const struct goprof_profile *p, const struct safe_dir *dir, const char *name,
			uint32_t value_index, const char *title);

/* --http: appends an HTTP request event to events.jsonl (out may be NULL). */
int http_event_jsonl(const struct goprof_event *e, FILE *out);
/* --http: prints the endpoint tables (latency, CPU per endpoint); 0 or -1. */
int write_http_report(struct goprof_session *s);

/* Writes DIR/cpu.pb.gz, cpu.folded, cpu.svg and prints the top functions; 0 or -1. */
int write_cpu_report(struct goprof_session *s, const struct safe_dir *dir, unsigned hz);
/* Prints the top functions of a CPU profile (flat and cumulative samples). */
void print_top_functions(struct goprof_profile *p, unsigned hz);
/* --offcpu: writes DIR/offcpu.pb.gz, offcpu.folded, offcpu.svg and prints the top
 * off-CPU stacks; 0 or -1. */
int write_offcpu_report(struct goprof_session *s, const struct safe_dir *dir);
struct goprof_session_stats;
/* One line of off-CPU counters (switches seen, intervals, losses, sampling). */
void print_offcpu_stats(const struct goprof_session_stats *st);
/* Prints each attached process: Go version, goroutine context, notes. */
void print_processes(struct goprof_session *s);
/*
 * GOPROF_EVENT_PROCESS_EXIT: keeps the exited process for print_processes() (the library
 * lists only the most recent exits). 0, or -ENOMEM.
 */
struct goprof_process_info;
int note_exited_process(const struct goprof_process_info *info);

/* Prints every counter of goprof_session_stats(), one "name value" line each. */
void print_session_stats(FILE *out, const struct goprof_session_stats *st);

/* goprof record --interval (window_report.c). */
/* Called with each window's CPU profile (e.g. to send it); 0 or -1. */
typedef int (*window_cpu_fn)(struct goprof_profile *p, void *ctx);

struct window_writer {
	const struct safe_dir *dir;        /* the output directory */
	struct safe_dir windows;           /* DIR/windows */
	double interval_s, next_s, last_s; /* seconds since the recording started */
	double start_unix;
	unsigned keep, seq;                /* seq: the last window's number */
	unsigned first_seq;                /* this run's first window number */
	uint32_t features;
	uint64_t samples;                  /* in every window written */
	FILE *index;                       /* DIR/windows.tsv */
	struct goprof_profile *last_cpu;   /* the last window's CPU profile */
};

int window_writer_open(struct window_writer *w, const struct safe_dir *dir, double interval_s,
		       unsigned keep, uint32_t features);
void window_writer_close(struct window_writer *w);
/*
 * Ends the current window at elapsed_s: takes the CPU profile with a reset, writes the
 * window's directory, updates DIR/latest and DIR/windows.tsv, drops windows beyond keep.
 */
int window_write(struct window_writer *w, struct goprof_session *s, double elapsed_s,
		 window_cpu_fn on_cpu, void *ctx);

#endif
