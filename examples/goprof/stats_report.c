// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * goprof record's statistics block: every counter of goprof_session_stats(), one line
 * each ("name value  meaning"), printed at the end of a recording. The names are the
 * struct's field names, so a script can read them and the docs in session.h apply.
 */
#include <stddef.h>
#include <stdio.h>

#include <goprof/goprof.h>

#include "report.h"

#define FIELD(name, what) { #name, offsetof(struct goprof_session_stats, name), \
			    sizeof(((struct goprof_session_stats *)0)->name), what }

static const struct {
	const char *name;
	size_t offset, size;
	const char *what;
} fields[] = {
	FIELD(attached_pids, "processes attached at the end"),
	FIELD(cpu_samples, "samples of the targets taken in the kernel"),
	FIELD(samples_delivered, "samples taken in from the ring buffer"),
	FIELD(lost_ringbuf_full, "samples lost: ring buffer full"),
	FIELD(lost_thread_table_full, "samples not counted per thread: thread table full"),
	FIELD(lost_targets_full, "execs of an attached executable not followed: target table full"),
	FIELD(lost_aggregation, "samples not added to a profile: out of memory"),
	FIELD(lost_events, "exec/exit and runtime records lost: ring buffer full"),
	FIELD(events_delivered, "exec/exit and runtime records taken in"),
	FIELD(go_context_failed, "samples whose goroutine could not be read"),
	FIELD(ringbuf_bytes, "ring buffer size"),
	FIELD(ringbuf_high_water_bytes, "most data waiting in the ring buffer"),
	FIELD(cpu_profile_stacks, "distinct stacks in the current CPU profile"),
	FIELD(cpu_profile_resets, "CPU profile intervals started (--interval windows)"),
	FIELD(frames_unsymbolized, "addresses without a symbol"),
	FIELD(symbol_cache_hits, "frame lookups answered from the cache"),
	FIELD(symbol_cache_misses, "frame lookups that went to the symbolizer"),
	FIELD(symbol_cache_entries, "addresses in the current symbol cache"),
	FIELD(processes_exited, "attached processes that exited"),
	FIELD(goroutines_created, "goroutine creations seen"),
	FIELD(goroutines_exited, "goroutine exits seen"),
	FIELD(goroutines_live, "goroutines created since attach and alive"),
	FIELD(uprobes_installed, "uprobes in place (entries and RET sites)"),
	FIELD(probe_hits, "uprobe hits in the targets"),
	FIELD(probe_cost_ns, "estimated target time spent in the probes, ns"),
	FIELD(probe_sets_detached, "probe sets detached by the overhead budget"),
	FIELD(offcpu_switches, "context switches seen by the off-CPU hook, all processes"),
	FIELD(offcpu_switch_outs, "of those, switch-outs of attached threads"),
	FIELD(offcpu_intervals, "off-CPU intervals counted"),
	FIELD(offcpu_filtered, "off-CPU intervals outside the length filter"),
	FIELD(offcpu_stacks_lost, "off-CPU stacks not stored"),
	FIELD(lost_offcpu, "off-CPU intervals lost: kernel table full"),
	FIELD(offcpu_sample_every, "off-CPU 1-in-N sampling now (raised by the budget)"),
	FIELD(offcpu_attached, "1 while the off-CPU hook is attached"),
	FIELD(block_events, "goroutine blocking intervals measured"),
	FIELD(lost_block_events, "blocking records lost: ring buffer full"),
	FIELD(lost_channels, "channel operations not counted: channel table full"),
	FIELD(http_requests, "HTTP server requests traced"),
	FIELD(http_client_requests, "HTTP client requests traced"),
	FIELD(lost_http, "HTTP requests lost: ring buffer full"),
	FIELD(lost_http_unfinished, "HTTP server requests whose end was never seen"),
	FIELD(http_wire_hook_runs, "runs of the --http-wire read/write/close hooks in the targets"),
	FIELD(lost_http_wire_conns, "HTTP connections not followed: table full (--http-wire)"),
	FIELD(tcp_sockets_tracked, "TCP sockets of the targets tracked (--tcp)"),
	FIELD(tcp_events, "TCP connect/accept/close events taken in"),
	FIELD(lost_tcp_events, "TCP events lost: ring buffer full"),
	FIELD(lost_tcp_untracked, "TCP sockets not tracked: socket table full"),
	FIELD(tcp_hook_runs, "runs of the TCP kernel hooks, all processes"),
	FIELD(processes_unreadable, "targets not inspected: no access (see their notes)"),
	FIELD(processes_over_limit, "processes not followed by -a: the limit was reached"),
	FIELD(processes_filtered, "processes left out by -a's filter (--go-only)"),
	FIELD(rt_reads, "reads of the runtime's statistics (--gc/--sched, no probe)"),
	FIELD(rt_read_bytes, "bytes read from the targets' memory for them"),
	FIELD(rt_read_failures, "of those reads, failed or not decoded (not used)"),
	FIELD(rt_read_cpu_ns, "profiler CPU time spent reading them, ns (the targets': 0)"),
	FIELD(rt_processes, "processes whose runtime statistics are read now"),
	FIELD(rt_interval_ms, "time between two reads of a process, ms"),
	FIELD(goroutine_snapshots, "goroutine snapshots taken (--goroutines), per process"),
	FIELD(goroutine_snapshots_failed, "... that failed (exit, exec, list unreadable)"),
	FIELD(snapshot_goroutines_read, "goroutines read by the snapshots"),
	FIELD(snapshot_retries, "goroutines read again: they changed while read"),
	FIELD(snapshot_changed, "goroutines left out: still changing after the retries"),
	FIELD(snapshot_rejected, "g structs that decoded to no valid goroutine"),
	FIELD(snapshot_cpu_ns, "CPU time of the snapshot reader (goprof's), ns"),
	FIELD(snapshot_bytes_read, "bytes read from the targets' memory"),
	FIELD(snapshot_interval_ms, "interval between snapshots now, ms (budget-adapted)"),
	FIELD(goroutine_leak_groups, "goroutine leak groups now"),
};

void print_session_stats(FILE *out, const struct goprof_session_stats *st)
{
	fprintf(out, "\nsession statistics:\n");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const unsigned char *p = (const unsigned char *)st + fields[i].offset;
		unsigned long long v;

		if (fields[i].offset + fields[i].size > st->sz)
			continue; /* an older library did not fill it */
		if (fields[i].size == sizeof(uint32_t))
			v = *(const uint32_t *)(const void *)p;
		else
			v = *(const uint64_t *)(const void *)p;
		fprintf(out, "  %-26s %14llu  %s\n", fields[i].name, v, fields[i].what);
	}
}
