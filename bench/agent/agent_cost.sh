#!/usr/bin/env bash
# The agent's own cost (issue 18, item 4): goprof record's CPU time, bpf() system calls
# and peak RSS, per 1,000 CPU samples and per 1,000 events, for 1, 10 and 100 attached
# processes, and for the demo service with every feature scripts/demo turns on. The
# steady state is measured: SECONDS from 6 s after the start (loading the BPF programs
# and the kernel's symbols comes first, and the first symbolization of the stacks: the
# DWARF lines of a native frame took 0.3-0.7 s of CPU on the loaded VM). The goal:
# under 1% of one core for the demo.
#
# usage: bench/agent/agent_cost.sh [SECONDS]        default 10
# env:   GOPROF_BUILD_DIR (default build): where goprof, demo-app and the fixtures are built
#        GOPROF_BASELINE_BUILD: another build (the previous code) whose goprof records the
#        same targets at the same time; its line follows ours. On a shared machine the
#        load moves more between runs than the code does: compare within a run.
# Needs root (BPF, perf stat on the bpf() tracepoint). Prints one line per configuration.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
build=${GOPROF_BUILD_DIR:-build}
goprof=$build/examples/goprof/goprof
baseline=${GOPROF_BASELINE_BUILD:+$GOPROF_BASELINE_BUILD/examples/goprof/goprof}
demo=$build/examples/demo-app/demo-app
sched=$(ls "$build"/tests/fixtures/sched-go1.* 2>/dev/null | grep -v stripped | tail -n 1)
[ -x "$goprof" ] && [ -x "$demo" ] && [ -n "$sched" ] ||
	{ echo "agent_cost: build first (meson compile -C $build)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/goprof-agent-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
# Our own children only (the sleeping feeders of the fixtures' standard input).
trap 'pkill -P $$ 2>/dev/null || true' TERM
trap cleanup EXIT

# A configuration: goprof record runs SECONDS + 8 s; its CPU time (task-clock) and bpf()
# calls (the tracepoint) are counted by perf stat for that process from 6 s in, after the
# start-up, for SECONDS. Samples and events per window are the run's totals scaled to the
# window. With a baseline, both record the same targets at once.
report() {
	local name=$1; shift
	local total=$((seconds + 8)) gp gp_base=
	"$goprof" record -d "$total" -o "$tmp/out" "$@" > "$tmp/log" 2>&1 &
	gp=$!
	if [ -n "$baseline" ]; then
		"$baseline" record -d "$total" -o "$tmp/out-base" "$@" > "$tmp/log-base" 2>&1 &
		gp_base=$!
	fi
	sleep 6
	local rss rss_base perf_base=
	if [ -n "$gp_base" ]; then
		perf stat -x, -e task-clock,syscalls:sys_enter_bpf -p "$gp_base" \
			-o "$tmp/perf-base" sleep "$seconds" 2>/dev/null &
		perf_base=$!
	fi
	perf stat -x, -e task-clock,syscalls:sys_enter_bpf -p "$gp" -o "$tmp/perf" sleep "$seconds" 2>/dev/null
	[ -z "$perf_base" ] || wait "$perf_base" || true
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$gp/status")
	[ -z "$gp_base" ] || rss_base=$(awk '/^VmHWM/ { print $2 }' "/proc/$gp_base/status")
	wait "$gp" || true
	print_line "$name" "$tmp/log" "$tmp/perf" "$rss"
	if [ -n "$gp_base" ]; then
		wait "$gp_base" || true
		print_line "  same run, baseline" "$tmp/log-base" "$tmp/perf-base" "$rss_base"
	fi
}

print_line() { # NAME LOG PERF_STAT_OUTPUT RSS_KIB
	local cpu bpf samples events
	cpu=$(awk -F, '$3 == "task-clock" { print $1 / 1000 }' "$3")
	bpf=$(awk -F, '/sys_enter_bpf/ { print $1 }' "$3")
	samples=$(awk '$1 == "cpu_samples" { print $2 }' "$2")
	events=$(awk '$1 == "events_delivered" { print $2 }' "$2")
	awk -v name="$1" -v secs="$seconds" -v total="$((seconds + 8))" -v cpu="${cpu:-0}" \
	    -v bpf="${bpf:-0}" -v rss="${4:-0}" -v samples="${samples:-0}" -v events="${events:-0}" 'BEGIN {
		s = samples * secs / total; e = events * secs / total
		printf "%-40s CPU %5.2f%% of a core, %6.0f bpf()/s, peak RSS %5.1f MiB", name,
		       100 * cpu / secs, bpf / secs, rss / 1024
		if (s > 0) printf ", %.1f ms CPU per 1,000 samples", (1000 * cpu * 1000 / s)
		if (e > 0) printf ", %.1f ms CPU per 1,000 events", (1000 * cpu * 1000 / e)
		printf " (%.0f samples/s, %.0f events/s)\n", s / secs, e / secs
	}'
}

start_sched() { # N mostly idle Go processes (4 goroutines napping 1 ms each)
	local n=$1 i
	pids=()
	for i in $(seq "$n"); do
		# "go" on stdin starts its goroutines; the open pipe keeps it running.
		(echo go; exec sleep 3600) | "$sched" idle 3600 > /dev/null &
		pids+=($!)
	done
	sleep 1
}

for n in 1 10 100; do
	start_sched "$n"
	args=()
	for p in "${pids[@]}"; do args+=(-p "$p"); done
	report "$n idle Go process(es), --runtime" -F 99 --runtime "${args[@]}"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	pkill -P $$ sleep 2>/dev/null || true
done

"$demo" -clients 4 > "$tmp/demo.log" 2>&1 &
pids=($!)
sleep 1
report "demo service, scripts/demo's features" -F 99 -p "${pids[0]}" --runtime --tcp --offcpu --block \
	--channels --http-wire
report "demo service, CPU only" -F 99 -p "${pids[0]}"
