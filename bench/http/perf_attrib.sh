#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
#
# Where the traced server's extra CPU goes, by perf: the server (our fixture or caddy)
# under a closed keep-alive load from http_load, profiled with perf record (cpu-clock:
# our VMs have no hardware PMU, so no cycles, instructions or cache misses) untraced,
# then with the wire tracer (socket hooks) and with the HTTP uprobes attached by
# `goprof record` (overhead budget off, CPU sampling at 1 Hz). The kernel symbols are put
# in two groups and turned into microseconds per request with the server's CPU time per
# request: the hooks' BPF programs with their helpers, map code and dispatch
# (bpf_*, htab, ringbuf, *_nofault, trace_*), and the uprobe trap path (int3, uprobe
# lookup and handling, the return to user mode that takes its deferred samples). Each
# configuration twice, interleaved.
#
# usage: perf_attrib.sh BUILD_DIR [httpserv|caddy] [ROUNDS]
#        (caddy: GOPROF_BENCH_CADDY, /usr/bin/caddy or /opt/caddy/usr/bin/caddy)
set -euo pipefail
build=$(realpath "${1:?usage: perf_attrib.sh BUILD_DIR [httpserv|caddy] [ROUNDS]}")
server=${2:-httpserv}
rounds=${3:-2}
goprof=$build/examples/goprof/goprof
load=$build/bench/http/http_load
tmp=$(mktemp -d)
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v perf > /dev/null || { echo "perf_attrib: needs perf (apt-get install linux-perf)"; exit 1; }

if [ "$server" = caddy ]; then
	caddy=${GOPROF_BENCH_CADDY:-}
	for c in /usr/bin/caddy /opt/caddy/usr/bin/caddy; do
		[ -z "$caddy" ] && [ -x "$c" ] && caddy=$c
	done
	[ -n "$caddy" ] || { echo "perf_attrib: caddy not found: install caddy"; exit 1; }
	mkdir "$tmp/root"
	echo '<html><body>hello from caddy</body></html>' > "$tmp/root/index.html"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$caddy" file-server --listen 127.0.0.1:$port --root "$tmp/root" > "$tmp/caddy.log" 2>&1 &
	spid=$!
	path=/index.html
	sleep 2
else
	mkfifo "$tmp/in"
	"$build/bench/http/httpserv" serve < "$tmp/in" > "$tmp/out" 2>&1 &
	spid=$!
	exec 3> "$tmp/in"
	echo go >&3
	sleep 1
	port=$(awk '/listening/ {print $2}' "$tmp/out")
	path=/bench
fi

# One run: prints "rps CPU_US_PER_REQUEST BPF_US UPROBE_US".
run() {
	local flag=$1 hooks=$2 gp=
	if [ -n "$flag" ]; then
		GOPROF_HTTP_WIRE_HOOKS=$hooks "$goprof" record -p $spid $flag --overhead-budget 100 \
			-F 1 -d 12 -o "$tmp/gp" > "$tmp/gp.log" 2>&1 &
		gp=$!
		sleep 6 # loaded and attached (caddy's 36 MB take a few seconds on a busy VM)
	fi
	coproc L { "$load" $port $path 3 4 keepalive; }
	read -r -u ${L[0]} _
	perf record -q -e cpu-clock -F 9999 -p $spid -o "$tmp/perf.data" -- sleep 2.5 > /dev/null 2>&1 &
	local pp=$! c0 c1 res
	c0=$(awk '{print $14 + $15}' /proc/$spid/stat)
	echo go >&${L[1]}
	read -r -u ${L[0]} res
	c1=$(awk '{print $14 + $15}' /proc/$spid/stat)
	wait $pp || true
	[ -n "$gp" ] && wait $gp
	perf report -i "$tmp/perf.data" --no-children --sort sym -q --stdio -g none 2>/dev/null |
	python3 -c '
import re, sys
tck, c0, c1, res = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split()
n = int(res[5])
us = (c1 - c0) * 1e6 / tck / n
bpf = re.compile(r"bpf_|ringbuf|_nofault|htab|lookup_nulls|lru|trace_sock|__bpf|ktime_get|copy_from_kernel|task_pt_regs|get_current|__pi_memcpy|syscall_trace|__traceiter")
upr = re.compile(r"uprobe|irqentry_exit_to_user_mode|int3|xol|swbp|sstep|emulate_op|find_active|srcu")
b = u = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\[k\]\s+(\S+)", line)
    if not m: continue
    if upr.search(m.group(2)): u += float(m.group(1))
    elif bpf.search(m.group(2)): b += float(m.group(1))
print("%6s %6.1f %5.2f %5.2f" % (res[1], us, b * us / 100, u * us / 100))
' "$(getconf CLK_TCK)" "$c0" "$c1" "$res"
}

echo "$server keep-alive, closed load at concurrency 4: server CPU us per request, and of it"
echo "in the hooks' BPF code (programs, helpers, maps, dispatch) and in the uprobe trap path"
printf "%-16s %6s %6s %5s %5s\n" config req/s CPU BPF trap
for r in $(seq "$rounds"); do
	printf "%-16s %s\n" untraced "$(run "" "")"
	printf "%-16s %s\n" "wire, sockets" "$(run --http-wire sockets)"
	printf "%-16s %s\n" "HTTP uprobes" "$(run --http "")"
done
