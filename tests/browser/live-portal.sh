#!/bin/bash
# The portal with a guest that really runs, for a browser elsewhere: vmmd,
# webkvm.fcgi and nginx on PORTAL_ADDRESS:PORTAL_PORT (in the outer VM:
# its NIC, which the machine outside reaches through the same port
# forwarded), a started
# pool p with the test guest as a kernel volume, and the admin's password
# changed. Then it writes "ready PASSWORD" to SHARE/ready and does what
# the browser's side asks: for each SHARE/ask.N it runs the vmmctl
# command written there and writes its status to SHARE/done.N, until
# SHARE/finish appears (or 10 minutes have gone, scaled). Its own folder
# is made in PARENT (the test's, so that what it starts goes with it).
#
#   tests/browser/live-portal.sh SHARE PARENT
set -u
SHARE=$1 PARENT=$2
export SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${BUILDDIR:?}"
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
work=$(mktemp -d "$PARENT/portal.XXXXXX")
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"
say() { echo "live-portal: $*"; }
start_portal
# start_portal's own trap, and this folder after it
trap 'cleanup_portal; cd /; rm -rf "$work"' EXIT
mkdir -p pool
cp "$TESTGUEST" pool/guest.bzImage
printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pool" >p.xml
ctl pool-define p.xml >/dev/null && ctl pool-start p >/dev/null || fail "cannot make the pool"
login_admin
# every file goes across whole: written aside, then renamed
echo "ready $ADMIN_PASSWORD" >"$SHARE/ready.tmp" && mv "$SHARE/ready.tmp" "$SHARE/ready"
say "ready on $URL"
n=1
for i in $(seq $(scaled 6000)); do
	[ -e "$SHARE/finish" ] && break
	if [ -e "$SHARE/ask.$n" ]; then
		status=0
		# shellcheck disable=SC2046
		ctl $(cat "$SHARE/ask.$n") >"ask.$n.out" 2>&1 || status=$?
		say "vmmctl $(cat "$SHARE/ask.$n"): $status $(head -c 300 "ask.$n.out")"
		{ echo "$status"; head -c 300 "ask.$n.out"; } >"$SHARE/done.$n.tmp" && mv "$SHARE/done.$n.tmp" "$SHARE/done.$n"
		n=$((n + 1))
		continue
	fi
	sleep 0.1
done
[ -e "$SHARE/finish" ] || fail "the browser's side never finished"
say "portal.log:"
tail -n 20 portal.log
