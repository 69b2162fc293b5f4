#!/bin/bash
# The console proxy against Debian's websockify (0.10), side by side on
# 127.0.0.1, each in front of the same TCP echo and source servers, with
# one client (tests/bench/wsbench.c): 64-byte echo round trips (p50, p99),
# one connection's throughput with 64 KiB messages both ways (echo) and
# from the target (download), and idle connections held at once with the
# proxy's total RSS (its processes', for websockify's one per connection).
# Ours runs in its benchmark mode: a fixed target, no tickets, loopback.
#
# Ours holding 10,000 needs 20,032 descriptors in its one process (two a
# connection, and its own). Where this machine's hard limit is below that
# and cannot be raised (no CAP_SYS_RESOURCE), that part runs in the outer
# VM (tests/outer), where it can, and says so: the same binary, the same
# client and echo server.
#
#   tests/bench/websockify.sh BUILDDIR
#   tests/bench/websockify.sh BUILDDIR hold-ours    (that part alone: wsbench's figures)
set -u
BUILDDIR=$1
MODE=${2:-all}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
PROXY=$BUILDDIR/websockify/webkvm-websockify
WSB=$BUILDDIR/tests/bench/wsbench
HOLD_SECONDS=${BENCH_HOLD_SECONDS:-5}
[ "$MODE" = hold-ours ] || command -v websockify >/dev/null ||
	{ echo "bench: Debian's websockify is not installed (package websockify)"; exit 1; }
[ -x "$PROXY" ] || { echo "bench: no $PROXY"; exit 1; }
mkdir -p "$BUILDDIR/tests/bench"
# (built here; the outer VM has no compiler and takes the one built outside)
[ "$MODE" = hold-ours ] || gcc -O2 -Wall -Wextra -o "$WSB" "$SRCDIR/tests/bench/wsbench.c" ||
	{ echo "bench: cannot build wsbench"; exit 1; }
# 10,000 connections: the client's 10,000, the proxy's 20,000, the echo server's 10,000
ulimit -Hn 65536 2>/dev/null && ulimit -n 65536
work=$(mktemp -d)
chmod 755 "$work"
leaders=()
# Each server and proxy leads a process group of its own (websockify's
# children are in its group): the end of the run, or a TERM from the
# benchmark driver's time limit, takes every one down, and nothing here
# waits on a process that does not go (websockify's exit joins its
# children: once it never ended, and the whole run with it).
cleanup() {
	local g
	for g in "${leaders[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
	sleep 2
	for g in "${leaders[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# spawn LOG CMD...: CMD in a new session, its output in LOG; $! is its PID
spawn() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 &
	leaders+=($!)
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# setsid and setpriv exec: the PID is the program itself (its memory, and its children's, are measured)
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
wait_port() {
	local i
	for i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on port $1"
	exit 1
}

ECHO=$(port) SOURCE=$(port)
spawn "$work/echo.out" "$WSB" echo-server "$ECHO"
if [ "$MODE" = hold-ours ]; then
	wait_port "$ECHO"
	pe=$(port)
	spawn "$work/ours-echo.log" "${AS_NOBODY[@]}" "$PROXY" --listen "127.0.0.1:$pe" --target "127.0.0.1:$ECHO" --max-connections 20000
	pid=$!
	wait_port "$pe"
	"$WSB" hold "$pe" 10000 "$HOLD_SECONDS" "$pid"
	status=$?
	grep -h "connections at most" "$work"/ours-*.log
	exit $status
fi
spawn "$work/source.out" "$WSB" source-server "$SOURCE"
# the proxies' warnings (ours names the descriptor limit) go with the figures
report_logs() { grep -h "connections at most" "$work"/ours-*.log 2>/dev/null | sed 's/^/bench: /'; }
wait_port "$ECHO"
wait_port "$SOURCE"

declare -A P PID_OF
start_pair() { # NAME: a proxy in front of each server
	local name=$1 pe ps
	pe=$(port)
	ps=$(port)
	if [ "$name" = ours ]; then
		spawn "$work/ours-echo.log" "${AS_NOBODY[@]}" "$PROXY" --listen "127.0.0.1:$pe" --target "127.0.0.1:$ECHO" --max-connections 20000
		PID_OF[$name]=$!
		spawn "$work/ours-source.log" "${AS_NOBODY[@]}" "$PROXY" --listen "127.0.0.1:$ps" --target "127.0.0.1:$SOURCE"
	else
		spawn "$work/theirs-echo.log" "${AS_NOBODY[@]}" websockify "127.0.0.1:$pe" "127.0.0.1:$ECHO"
		PID_OF[$name]=$!
		spawn "$work/theirs-source.log" "${AS_NOBODY[@]}" websockify "127.0.0.1:$ps" "127.0.0.1:$SOURCE"
	fi
	wait_port "$pe"
	wait_port "$ps"
	P[$name-echo]=$pe
	P[$name-source]=$ps
}
start_pair ours
start_pair theirs

val() { sed -n "s/^$2 //p" <<<"$1"; }
declare -A R
for name in ours theirs; do
	out=$("$WSB" latency "${P[$name-echo]}" 5000) || { echo "bench: latency through $name failed: $out"; exit 1; }
	R[$name-p50]=$(val "$out" p50_us) R[$name-p99]=$(val "$out" p99_us)
	out=$("$WSB" echo-throughput "${P[$name-echo]}" 5) || { echo "bench: echo through $name failed: $out"; exit 1; }
	R[$name-echo]=$(val "$out" mb_per_s)
	out=$("$WSB" download "${P[$name-source]}" 5) || { echo "bench: download through $name failed: $out"; exit 1; }
	R[$name-down]=$(val "$out" mb_per_s)
done
# idle connections: 10,000 for ours; websockify is asked for 1,000 (it holds about 500)
where=
hold_ours_outer() {
	local log=$BUILDDIR/tests/logs/bench-console-hold.log results=$BUILDDIR/tests/logs/bench-console-hold.results
	OUTER_SRCDIR=$SRCDIR
	. "$SRCDIR/tests/outer/bed.sh"
	mkdir -p "$(dirname "$log")"
	outer_run "$BUILDDIR" "BENCH_HOLD_SECONDS=$HOLD_SECONDS bash tests/bench/websockify.sh '$BUILDDIR' hold-ours" "$log" "$results" >&2 ||
		{ echo "the outer VM's run failed (log in $log)"; tr -d '\r' <"$results" | tail -n 5; return 1; }
	tr -d '\r' <"$results"
}
hard=$(ulimit -Hn)
for name in ours theirs; do
	want=10000
	[ "$name" = theirs ] && want=1000
	out=
	if [ "$name" = ours ] && [ "$hard" != unlimited ] && [ "$hard" -lt 20032 ]; then
		echo "bench: console: ours holds its 10,000 connections in the outer VM (this machine allows a process $hard descriptors; 10,000 connections need 20,032)..."
		if out=$(hold_ours_outer); then
			where=" in the outer VM under software emulation (its time is not comparable; this machine allows a process $hard descriptors, 10,000 connections need 20,032)"
			grep "connections at most" <<<"$out" | sed 's/^/bench: outer VM: /'
		else
			echo "bench: console: $out; holding what this machine allows instead"
			out=
		fi
	fi
	[ -n "$out" ] || out=$("$WSB" hold "${P[$name-echo]}" "$want" "$HOLD_SECONDS" "${PID_OF[$name]}") ||
		{ echo "bench: holding connections through $name failed: $out"; exit 1; }
	R[$name-held]=$(val "$out" held) R[$name-rss]=$(val "$out" rss_kib) R[$name-alive]=$(val "$out" alive)
	R[$name-pss]=$(val "$out" pss_kib) R[$name-procs]=$(val "$out" procs) R[$name-open]=$(val "$out" open_s)
	R[$name-want]=$want
done
report_logs
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "console proxy, 64-byte echo round trip: ours p50 ${R[ours-p50]} µs p99 ${R[ours-p99]} µs; websockify p50 ${R[theirs-p50]} µs p99 ${R[theirs-p99]} µs; p99 ratio ours/websockify $(ratio "${R[ours-p99]}" "${R[theirs-p99]}") (target <= 1)"
echo "console proxy, one connection, 64 KiB messages echoed: ours ${R[ours-echo]} MB/s, websockify ${R[theirs-echo]} MB/s, ratio $(ratio "${R[ours-echo]}" "${R[theirs-echo]}") (target >= 2)"
echo "console proxy, one connection, download from the target: ours ${R[ours-down]} MB/s, websockify ${R[theirs-down]} MB/s, ratio $(ratio "${R[ours-down]}" "${R[theirs-down]}")"
for name in ours theirs; do
	label=$([ "$name" = ours ] && echo "ours" || echo "websockify")
	echo "console proxy, idle connections: $label held ${R[$name-held]} of ${R[$name-want]} in ${R[$name-open]} s (${R[$name-alive]} of up to 100 checked still echo), ${R[$name-procs]} processes, total RSS $(awk -v k="${R[$name-rss]}" 'BEGIN { printf "%.1f", k / 1024 }') MiB, PSS $(awk -v k="${R[$name-pss]}" 'BEGIN { printf "%.1f", k / 1024 }') MiB$([ "$name" = ours ] && echo "$where (target: 10,000 in under 100 MiB)")"
done
