#!/bin/bash
# The portal with a guest that really runs, for a browser elsewhere: vmmd,
# webkvm.fcgi and nginx on PORTAL_ADDRESS:PORTAL_PORT (in the outer VM:
# its NIC, which the machine outside reaches through the same port
# forwarded), a started
# pool p with the test guest as a kernel volume, and the admin's password
# changed. Then it writes "ready PASSWORD" to SHARE/ready and does what
# the browser's side asks: for each SHARE/ask.N it runs the vmmctl
# command written there and writes its status to SHARE/done.N, until
# SHARE/finish appears (or 10 minutes have gone).
#
#   tests/browser/live-portal.sh SHARE
set -u
SHARE=$1
export SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILDDIR:?}"
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
work=$(mktemp -d)
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"
say() { echo "live-portal: $*"; }
trap 'cleanup_portal; cd /; rm -rf "$work"' EXIT
start_portal
mkdir -p pool
cp "$TESTGUEST" pool/guest.bzImage
printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pool" >p.xml
ctl pool-define p.xml >/dev/null && ctl pool-start p >/dev/null || fail "cannot make the pool"
login_admin
echo "ready $ADMIN_PASSWORD" >"$SHARE/ready.tmp" && mv "$SHARE/ready.tmp" "$SHARE/ready"
say "ready on $URL"
n=1
for i in $(seq 6000); do
	[ -e "$SHARE/finish" ] && break
	if [ -e "$SHARE/ask.$n" ]; then
		status=0
		# shellcheck disable=SC2046
		ctl $(cat "$SHARE/ask.$n") >"ask.$n.out" 2>&1 || status=$?
		say "vmmctl $(cat "$SHARE/ask.$n"): $status $(head -c 300 "ask.$n.out")"
		echo "$status" >"$SHARE/done.$n"
		n=$((n + 1))
		continue
	fi
	sleep 0.1
done
[ -e "$SHARE/finish" ] || fail "the browser's side never finished"
say "portal.log:"
tail -n 20 portal.log
