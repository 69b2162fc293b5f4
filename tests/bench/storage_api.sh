#!/bin/bash
# A pool's page with 1,000 volumes and the JSON API's list of 1,000 VMs
# under load: wrk, 64 connections, each next to the same nginx serving a
# static file of the same answer over the same TLS in the same run; and
# the portal's peak RSS. Runs on any machine: the VMs are defined, not
# started; the volumes are files in a started pool (900 raw, 100 qcow2).
#
#   tests/bench/storage_api.sh BUILDDIR
set -u
export SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
export BUILDDIR=$(cd "$1" && pwd)
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
SECONDS_EACH=${BENCH_PORTAL_SECONDS:-10}
work=$(mktemp -d)
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"
command -v wrk >/dev/null || { echo "bench: storage: wrk is not installed"; exit 1; }
# a failure inside start_portal (its output goes to start.log) says why here too
exec 3>&1
fail() {
	echo "FAILED: $*" >&2
	echo "bench: storage: $*" >&3
	[ -s vmmd.log ] && tail -n 5 vmmd.log | sed 's/^/bench: storage: vmmd: /' >&3
	exit 1
}

mkdir -p anchor pools/images
chmod 755 anchor
ANCHOR_PORT=$((20000 + RANDOM % 40000))
NGINX_EXTRA="	server {
		listen 127.0.0.1:$ANCHOR_PORT ssl;
		ssl_certificate $work/tls.crt;
		ssl_certificate_key $work/tls.key;
		location / { root $work/anchor; default_type application/json; }
	}"
# the benchmarks measure serving, not logging
NGINX_ACCESS_LOG=off VMMD_ARGS="--pool-root $work/pools" start_portal >start.log 2>&1 ||
	{ cat start.log; exit 1; }
login_admin >>start.log 2>&1 || { cat start.log; exit 1; }
cookie=$(awk '$6 == "__Host-webkvm" { print $7 }' jar)

. "$SRCDIR/tests/bench/wrk.sh"

# compare NAME URL HEADER ANCHOR-FILE: ours against nginx serving the same bytes
compare() {
	local name=$1 url=$2 header=$3 file=$4 size rss
	size=$(stat -c %s "$file")
	cp "$file" anchor/answer && chmod 644 anchor/answer
	set -- $(wrk_run "https://127.0.0.1:$ANCHOR_PORT/answer")
	local s_rps=$1 s_p50=$2 s_p99=$3
	set -- $(wrk_run "$url" "$header")
	local p_rps=$1 p_p50=$2 p_p99=$3 p_bad=$4
	[ "$p_bad" = 0 ] || echo "bench: storage: $p_bad answers of $name were not 2xx"
	rss=$(awk '/VmHWM/ { print $2 }' /proc/"$PORTAL_PID"/status)
	awk -v name="$name" -v size="$size" -v sr="$s_rps" -v s50="$s_p50" -v s99="$s_p99" \
		-v pr="$p_rps" -v p50="$p_p50" -v p99="$p_p99" -v rss="$rss" 'BEGIN {
		printf "%s (%d bytes), 64 connections: webkvm.fcgi %d req/s p50 %.1f ms p99 %.1f ms; nginx static %d req/s p50 %.1f ms p99 %.1f ms\n",
			name, size, pr, p50, p99, sr, s50, s99
		printf "%s: rate ratio %.2f (target >= 0.20), p99 ratio %.2f (target <= 5); peak RSS %.1f MiB\n",
			name, pr / sr, p99 / s99, rss / 1024 }'
}

# 1,000 volumes: files in the pool's folder, as vmmd lists them
for i in $(seq -w 1 900); do truncate -s 1G "pools/images/disk$i.raw"; done
for i in $(seq -w 1 100); do qemu-img create -q -f qcow2 "pools/images/disk$i.qcow2" 10G; done
web /storage >/dev/null
status=$(post /storage name=images "path=$work/pools/images" start=on)
[ "$status" = 303 ] || { echo "bench: storage: the pool was not made ($status)"; exit 1; }
web /pool/images >/dev/null
[ "$(grep -c 'data-volume=' body.html)" = 1000 ] || { echo "bench: storage: the pool's page does not list 1,000 volumes"; exit 1; }
cp body.html pool.html
compare "storage pool page, 1000 volumes" "$URL/pool/images" "Cookie: __Host-webkvm=$cookie" pool.html

# 1,000 VMs, listed by the API with an admin's token
for i in $(seq -w 1 1000); do
	domain_xml "vm$i" echo >d.xml
	ctl define d.xml >/dev/null || { echo "bench: storage: define failed"; exit 1; }
done
web /account/tokens >/dev/null
post /account/tokens name=bench >/dev/null
token=$(grep -o 'id="new-token-value">wkt_[0-9a-f]*' body.html | sed 's/.*>//')
[ -n "$token" ] || { echo "bench: storage: no API token"; exit 1; }
curl -sk -o api.json -H "Authorization: Bearer $token" --resolve "$HOSTPORT:127.0.0.1" "$URL/api/instances"
[ "$(grep -o '"name":"vm[0-9]*"' api.json | wc -l)" = 1000 ] || { echo "bench: storage: the API does not list 1,000 VMs"; exit 1; }
compare "API list of VMs, 1000 VMs" "$URL/api/instances" "Authorization: Bearer $token" api.json
cleanup_portal >/dev/null 2>&1
trap - EXIT
cd / && rm -rf "$work"
