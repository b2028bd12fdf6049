/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
#ifndef GOPROF_CLI_REPORT_H
#define GOPROF_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct goprof_session;
struct goprof_event;

/* Writes s as a JSON string (quoted, escaped; NULL as ""). */
void json_string(FILE *out, const char *s);

/* DIR/events.jsonl, written as runtime events arrive. */
struct runtime_events {
	FILE *out;
};

int runtime_events_open(struct runtime_events *ev, const char *dir);
void runtime_events_close(struct runtime_events *ev);
/* goprof_event_fn: appends GC cycles to events.jsonl; ctx is a struct runtime_events. */
int runtime_event(const struct goprof_event *e, void *ctx);
/*
 * Prints the GC, goroutine and heap summaries for the enabled features, writes
 * goroutines.pb.gz / heap.pb.gz and the leak sites (older than leak_age_ns) to
 * events.jsonl. 0 or -1.
 */
int write_runtime_report(struct goprof_session *s, const char *dir, uint32_t features,
			 struct runtime_events *ev, uint64_t leak_age_ns);

/* Writes DIR/cpu.pb.gz, cpu.folded, cpu.svg and prints the top functions; 0 or -1. */
int write_cpu_report(struct goprof_session *s, const char *dir, unsigned hz);
/* --offcpu: writes DIR/offcpu.pb.gz, offcpu.folded, offcpu.svg and prints the top
 * off-CPU stacks; 0 or -1. */
int write_offcpu_report(struct goprof_session *s, const char *dir);
struct goprof_session_stats;
/* One line of off-CPU counters (switches seen, intervals, losses, sampling). */
void print_offcpu_stats(const struct goprof_session_stats *st);
/* Prints each attached process: Go version, goroutine context, notes. */
void print_processes(struct goprof_session *s);

#endif
