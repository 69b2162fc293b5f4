#!/bin/bash
# The instances page under load: wrk, 64 connections, logged in, with 100
# and with 1,000 VMs defined, next to the same nginx serving a static file
# of the page's size over the same TLS in the same run; and the portal's
# peak RSS. Runs on any machine: the VMs are defined, not started.
#
#   tests/bench/portal.sh BUILDDIR
set -u
export SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
export BUILDDIR=$(cd "$1" && pwd)
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
SECONDS_EACH=${BENCH_PORTAL_SECONDS:-10}
work=$(mktemp -d)
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"
command -v wrk >/dev/null || { echo "bench: portal: wrk is not installed"; exit 1; }

mkdir -p anchor
chmod 755 anchor
ANCHOR_PORT=$((20000 + RANDOM % 40000))
NGINX_EXTRA="	server {
		listen 127.0.0.1:$ANCHOR_PORT ssl;
		ssl_certificate $work/tls.crt;
		ssl_certificate_key $work/tls.key;
		location / { root $work/anchor; }
	}"
# the benchmarks measure serving, not logging
NGINX_ACCESS_LOG=off start_portal >start.log 2>&1 || { cat start.log; exit 1; }
login_admin >>start.log 2>&1 || { cat start.log; exit 1; }
cookie=$(awk '$6 == "__Host-webkvm" { print $7 }' jar)

. "$SRCDIR/tests/bench/wrk.sh"

defined=0
for n in 100 1000; do
	while [ $defined -lt $n ]; do
		defined=$((defined + 1))
		domain_xml "vm$(printf %04d $defined)" echo >d.xml
		ctl define d.xml >/dev/null || { echo "bench: portal: define failed"; exit 1; }
	done
	web /instances >/dev/null
	size=$(stat -c %s body.html)
	[ "$(grep -c 'data-vm=' body.html)" = "$n" ] || { echo "bench: portal: the page does not list $n VMs"; exit 1; }
	cp body.html anchor/page.html
	chmod 644 anchor/page.html
	set -- $(wrk_run "https://127.0.0.1:$ANCHOR_PORT/page.html")
	s_rps=$1 s_p50=$2 s_p99=$3
	set -- $(wrk_run "$URL/instances" "Cookie: __Host-webkvm=$cookie")
	p_rps=$1 p_p50=$2 p_p99=$3 p_bad=$4
	[ "$p_bad" = 0 ] || echo "bench: portal: $p_bad answers were not 2xx"
	rss=$(awk '/VmHWM/ { print $2 }' /proc/"$PORTAL_PID"/status)
	case $n in 100) t_rate=0.30 t_p99=3 ;; *) t_rate=0.20 t_p99=5 ;; esac
	awk -v n="$n" -v size="$size" -v sr="$s_rps" -v s50="$s_p50" -v s99="$s_p99" \
		-v pr="$p_rps" -v p50="$p_p50" -v p99="$p_p99" -v rss="$rss" -v tr="$t_rate" -v tp="$t_p99" 'BEGIN {
		printf "portal instances page, %d VMs (%d bytes), 64 connections: webkvm.fcgi %d req/s p50 %.1f ms p99 %.1f ms; nginx static %d req/s p50 %.1f ms p99 %.1f ms\n",
			n, size, pr, p50, p99, sr, s50, s99
		printf "portal %d VMs: rate ratio %.2f (target >= %.2f), p99 ratio %.2f (target <= %d); peak RSS %.1f MiB\n",
			n, pr / sr, tr, p99 / s99, tp, rss / 1024 }'
done
cleanup_portal >/dev/null 2>&1
trap - EXIT
cd / && rm -rf "$work"
