# The portal keeps a connection to vmmd per worker: a vmmd that went away
# and came back is found again at the next request, on every worker.

test_the_portal_reaches_vmmd_again_after_vmmd_restarts() {
	start_portal
	define r1 echo
	login_admin
	local i
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(web /instances)" = 200 ] || fail "before the restart: $(web /instances)"
	done
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	[ "$(web /instances)" = 502 ] || fail "without vmmd the list answered $(web /instances)"
	grep -q 'The VM service did not answer' body.html || fail "no readable reason"
	start_vmmd --group "$PORTAL_GROUP" --vmm "$VMM" --kernel-dir "$(dirname "$TESTGUEST")"
	trap cleanup_portal EXIT
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(web /instances)" = 200 ] || fail "request $i after the restart answered $(web /instances)"
		grep -q 'data-vm="r1"' body.html || fail "request $i after the restart lacks r1"
	done
}
