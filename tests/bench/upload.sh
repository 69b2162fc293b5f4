#!/bin/bash
# A 4 GiB file uploaded through nginx into a storage pool (the page's way:
# one POST of the file's bytes, over TLS, as an admin), against cp of the
# same file to the same disk, each until the copy is on the disk (fsync).
# The file is random bytes (runs of zeros would be holes and cost
# nothing); it is read from the page cache both times.
#
#   tests/bench/upload.sh BUILDDIR [SIZE-MIB]
set -u
export SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
export BUILDDIR=$(cd "$1" && pwd)
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
MIB=${2:-${BENCH_UPLOAD_MIB:-4096}}
work=$(mktemp -d)
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"

mkdir -p pools/images anchor put put-tmp
chmod 777 put put-tmp
ANCHOR_PORT=$((20000 + RANDOM % 40000))
# nginx alone taking the same upload to a file (WebDAV's PUT): the same
# client, TLS and nginx, without the portal and vmmd
NGINX_EXTRA="	server {
		listen 127.0.0.1:$ANCHOR_PORT ssl;
		ssl_certificate $work/tls.crt;
		ssl_certificate_key $work/tls.key;
		client_max_body_size 0;
		client_body_temp_path $work/put-tmp;
		location /put/ { root $work; dav_methods PUT; }
	}"
NGINX_ACCESS_LOG=off VMMD_ARGS="--pool-root $work/pools" start_portal >start.log 2>&1 ||
	{ cat start.log; exit 1; }
login_admin >>start.log 2>&1 || { cat start.log; exit 1; }
web /storage >/dev/null
[ "$(post /storage name=images "path=$work/pools/images" start=on)" = 303 ] ||
	{ echo "bench: upload: the pool was not made"; exit 1; }

head -c "${MIB}M" /dev/urandom >file.bin
now() { date +%s.%N; }

# Each three times, in turn, and the median of each: the anchor is cp,
# then the copy's blocks on the disk; ours is the upload until the portal
# answers (vmmd has fsynced the volume by then).
cp_times=() up_times=() put_times=()
for round in 1 2 3; do
	sync
	t0=$(now)
	cp file.bin anchor/file.bin && sync -d anchor/file.bin
	t1=$(now)
	rm -f anchor/file.bin
	sync
	token=$(csrf /pool/images)
	t2=$(now)
	status=$(web -H "Origin: $URL" -H "X-CSRF-Token: $token" -H 'Content-Type: application/octet-stream' \
		-X POST -T file.bin "/pool/images/upload?name=file$round.bin")
	t3=$(now)
	[ "$status" = 303 ] && [ -e "pools/images/file$round.bin" ] ||
		{ echo "bench: upload: the upload failed ($status): $(flash_of /pool/images)"; exit 1; }
	cmp -s file.bin "pools/images/file$round.bin" || { echo "bench: upload: the file changed on its way"; exit 1; }
	rm -f "pools/images/file$round.bin"
	t4=$(now)
	status=$(curl -sk -o /dev/null -w '%{http_code}' -T file.bin "https://127.0.0.1:$ANCHOR_PORT/put/file.bin") &&
		sync -d put/file.bin
	t5=$(now)
	[ "$status" = 201 ] || [ "$status" = 204 ] || { echo "bench: upload: nginx's PUT answered $status"; exit 1; }
	rm -f put/file.bin
	sync
	put_times+=("$(awk -v a="$t4" -v b="$t5" 'BEGIN { print b - a }')")
	cp_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
	up_times+=("$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
awk -v mib="$MIB" -v c="$(median "${cp_times[@]}")" -v u="$(median "${up_times[@]}")" \
	-v p="$(median "${put_times[@]}")" -v cpus="$(nproc)" 'BEGIN {
	printf "upload of %d MiB through nginx into a pool: %.1f s, %.0f MB/s; cp of the same file on the same disk: %.1f s, %.0f MB/s; nginx alone taking it by PUT: %.1f s, %.0f MB/s (medians of 3, client on the same %d-CPU machine)\n",
		mib, u, mib * 1.048576 / u, c, mib * 1.048576 / c, p, mib * 1.048576 / p, cpus
	printf "upload: ratio to cp %.2f (target >= 0.8); to nginx alone %.2f\n", c / u, p / u }'
cleanup_portal >/dev/null 2>&1
trap - EXIT
cd / && rm -rf "$work"
