#!/usr/bin/env bash
# Soak: profiles the demo service with `goprof record` at 999 Hz for a long time and
# samples the profiler's own RSS, open descriptors and CPU every 10 s. After a warm-up it
# prints the flatness of the RSS (max/min and last/first after warm-up; target <= 1.05)
# and of the descriptor count (no growth; at most 2 open in passing). Not part of CI
# (30 minutes by default).
#
# usage: bench/soak/soak.sh [SECONDS [HZ]]       default 1800 s at 999 Hz
# env:   GOPROF_BUILD_DIR (default build): where goprof and demo-app are built
#        SOAK_INTERVAL (10), SOAK_WARMUP (seconds, default 10% of the run, at least 60)
#        SOAK_OUT (directory for samples.tsv and the recording; default a temp dir)
#        SOAK_RECORD_ARGS (default: --runtime --interval 10: every runtime capability the
#        CLI offers, and a profile window written and reset every 10 s as a continuous
#        profiling agent does; without --interval the CPU profile grows for the whole run)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-1800}
hz=${2:-999}
build=${GOPROF_BUILD_DIR:-build}
interval=${SOAK_INTERVAL:-10}
warmup=${SOAK_WARMUP:-$(( duration / 10 > 60 ? duration / 10 : 60 ))}
goprof=$build/examples/goprof/goprof
demo=$build/examples/demo-app/demo-app
out=${SOAK_OUT:-$(mktemp -d /tmp/goprof-soak-XXXXXX)}
[ -x "$goprof" ] && [ -x "$demo" ] || { echo "soak: build first (meson compile -C $build): need $goprof and $demo" >&2; exit 1; }
[ "$warmup" -lt "$duration" ] || { echo "soak: warm-up ${warmup}s is not shorter than the run" >&2; exit 1; }
mkdir -p "$out"
# Every capability: CPU always; goroutines, GC and heap through --runtime when the CLI has it.
if [ -z "${SOAK_RECORD_ARGS+set}" ]; then
	SOAK_RECORD_ARGS=
	help=$("$goprof" record --help)
	case $help in *--runtime*) SOAK_RECORD_ARGS=--runtime ;; esac
	case $help in *--interval*) SOAK_RECORD_ARGS="$SOAK_RECORD_ARGS --interval 10" ;; esac
fi

demo_pid= prof_pid=
cleanup() {
	[ -n "$prof_pid" ] && kill "$prof_pid" 2>/dev/null || true
	[ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null || true
}
trap cleanup EXIT

# The demo service on loopback with its built-in load generator.
coproc DEMO { exec "$demo" -clients 4; }
demo_pid=$DEMO_PID
read -r line <&"${DEMO[0]}"
case $line in listening*) ;; *) echo "soak: demo-app said: $line" >&2; exit 1 ;; esac
echo "soak: demo-app pid $demo_pid ($line); profiling ${duration}s at ${hz} Hz" \
	"${SOAK_RECORD_ARGS:+with $SOAK_RECORD_ARGS }into $out"

# shellcheck disable=SC2086
"$goprof" record -p "$demo_pid" -F "$hz" -d "$duration" -o "$out/record" $SOAK_RECORD_ARGS \
	>"$out/record.log" 2>&1 &
prof_pid=$!
tick=$(getconf CLK_TCK)

# cpu ticks (utime + stime) of a process; fields after the ")" of the comm.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { ls "/proc/$1/fd" | wc -l; }

printf 'seconds\trss_kib\tfds\tcpu_percent\n' >"$out/samples.tsv"
start=$(date +%s.%N) last_ticks=$(cpu_ticks "$prof_pid") last_t=$start
while sleep "$interval"; do
	kill -0 "$prof_pid" 2>/dev/null || break
	now=$(date +%s.%N)
	# Past the recording's end goprof stops, detaches and writes its reports: not steady state.
	awk -v s="$start" -v n="$now" -v d="$duration" 'BEGIN { exit !(n - s >= d) }' && break
	ticks=$(cpu_ticks "$prof_pid" 2>/dev/null) || break
	rss=$(rss_kib "$prof_pid" 2>/dev/null) || break
	fds=$(fd_count "$prof_pid" 2>/dev/null) || break
	line=$(awk -v s="$start" -v n="$now" -v lt="$last_t" -v t="$ticks" -v l="$last_ticks" \
		-v hz="$tick" -v r="$rss" -v f="$fds" \
		'BEGIN { printf "%.0f\t%d\t%d\t%.2f", n - s, r, f, 100 * (t - l) / hz / (n - lt) }')
	printf '%s\n' "$line" >>"$out/samples.tsv"
	printf 'soak: t=%ss rss=%s KiB fds=%s cpu=%s%%\n' $(printf '%s' "$line" | tr '\t' ' ')
	last_ticks=$ticks last_t=$now
done
wait "$prof_pid" && rc=0 || rc=$?
prof_pid=
echo "soak: goprof record exited with $rc; its summary:"
sed -n '/^recorded/,$p' "$out/record.log"

# Flatness after the warm-up: the target is RSS max/min <= 1.05.
awk -F'\t' -v w="$warmup" 'NR > 1 && $1 >= w {
		n++; if (n == 1) { r0 = $2; f0 = $3 }
		if (!rmin || $2 < rmin) rmin = $2; if ($2 > rmax) rmax = $2
		if (!fmin || $3 < fmin) fmin = $3; if ($3 > fmax) fmax = $3
		cpu += $4; rl = $2; fl = $3
	}
	END {
		if (n < 2) { print "soak: too few samples after the warm-up"; exit 1 }
		printf "soak: after %ds warm-up, %d samples: RSS %d..%d KiB, max/min %.3f, last/first %.3f; " \
		       "fds %d..%d (first %d, last %d); mean CPU %.2f%%\n",
		       w, n, rmin, rmax, rmax / rmin, rl / r0, fmin, fmax, f0, fl, cpu / n
		# Descriptors: a leak grows without coming back; a file or /proc entry open at the
		# moment of a sample (a window being written) is not one.
		if (rmax / rmin > 1.05 || fl - f0 > 1 || fmax - fmin > 2) { print "soak: NOT FLAT"; exit 2 }
		print "soak: flat"
	}' "$out/samples.tsv"
[ "$rc" -eq 0 ]
