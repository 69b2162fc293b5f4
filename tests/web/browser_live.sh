# A VM's whole life in Debian's chromium on a guest that really runs
# (tests/browser/live.mjs): create from a flavor and start, the list
# following a shutdown made elsewhere without a reload, Start and Force off
# from the list, delete with its disk. The portal's side
# (tests/browser/live-portal.sh) runs where KVM is: here when this
# machine's /dev/kvm runs guests, else in the outer VM, whose port the
# browser here reaches through a forwarded port. Screenshots stay in
# BUILDDIR/tests/screenshots-live.

# An outer VM's boot, the portal and a browser: minutes, not seconds.
TEST_SECONDS=900

# live_portal SHARE PORT: the portal's side, in the background; sets LIVE_PID.
live_portal() {
	local share=$1 port=$2
	OUTER_SRCDIR=$SRCDIR
	. "$SRCDIR/tests/outer/bed.sh"
	if outer_vm_needed; then
		# The outer VM's root has nginx but not Debian's front-end
		# libraries: a copy goes with the shared folder.
		mkdir -p "$share/js"
		cp -rL /usr/share/javascript/bootstrap5 /usr/share/javascript/chart.js "$share/js/" &&
			cp -rL /usr/share/novnc "$share/novnc" ||
			fail "cannot copy Debian's front-end libraries"
		(
			# once more when the outer VM's kernel stopped (it does now and
			# then under software-emulated SVM) before the portal was ready;
			# the test's set -e must not end this on the first status
			set +e
			for boot in 1 2; do
				OUTER_HOSTFWD=$port OUTER_SHARE_LIVE=$share BED_SILENCE=60 WEBKVM_TIME_SCALE=3 \
					outer_run "$BUILDDIR" \
					"PORTAL_ADDRESS=0.0.0.0 PORTAL_PORT=$port PORTAL_JS_ROOT='$share/js' PORTAL_NOVNC_ROOT='$share/novnc' BUILDDIR='$BUILDDIR' bash tests/browser/live-portal.sh '$share' '$PWD'" \
					"$PWD/outer.log" "$PWD/results"
				status=$?
				[ $status -eq 125 ] && [ ! -e "$share/ready" ] && continue
				exit $status
			done
			exit 125
		) &
	else
		(PORTAL_PORT=$port bash "$SRCDIR/tests/browser/live-portal.sh" "$share" "$PWD" >results 2>&1) &
	fi
	LIVE_PID=$!
}

test_browser_runs_a_vms_whole_life_with_the_list_following_its_state() {
	[ "${WEBKVM_LIVE_BROWSER:-1}" = 1 ] ||
		skip "run in the first build only (it drives the portal's code that the direct tier's portal tests drive in this one)"
	need_browser
	local share=$PWD/share port i password status shots=$BUILDDIR/tests/screenshots-live
	rm -rf "$shots" && mkdir -p "$share" "$shots"
	chmod 755 "$PWD" "$share"
	port=$((20000 + RANDOM % 40000))
	live_portal "$share" "$port"
	for i in $(seq 6000); do
		[ -e "$share/ready" ] && break
		kill -0 "$LIVE_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -e "$share/ready" ]; then
		touch "$share/finish"
		kill "$LIVE_PID" 2>/dev/null
		wait "$LIVE_PID" || true
		tail -n 30 results outer.log 2>/dev/null || true
		fail "the portal's side never got ready"
	fi
	password=$(sed -n 's/^ready //p' "$share/ready")
	status=0
	(cd "$BUILDDIR/tests/browser" && node live.mjs "https://localhost:$port" "$password" "$share" "$shots") \
		>live.out 2>&1 || status=$?
	touch "$share/finish"
	local side=0
	wait "$LIVE_PID" || side=$?
	[ $side -eq 0 ] || [ $status -ne 0 ] || { tail -n 30 results; fail "the portal's side failed ($side)"; }
	[ $status -eq 0 ] || { cat live.out; tail -n 30 results; fail "the browser run found problems"; }
}
