# vmm gives up root (--user) once its files are open.

test_vmm_runs_as_the_given_user_across_resets() {
	need_kvm
	[ "$(id -u)" -eq 0 ] || skip "needs root to change user"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# a disk only root may open
	truncate -s 1M disk.img
	chmod 600 disk.img
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=reset --disk "$PWD/disk.img,format=raw" \
		--user nobody </dev/null >out 2>err &
	local pid=$! i
	for i in $(seq $(scaled 100)); do
		[ "$(grep -c 'resetting through the i8042' out)" -ge 3 ] && break
		sleep 0.1
	done
	local uids nnp
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$pid/status)
	nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/$pid/status)
	kill -9 $pid
	[ "$(grep -c 'resetting through the i8042' out)" -ge 3 ] || { cat err; fail "the guest did not boot again as nobody"; }
	[ "$uids" = "$(id -u nobody) $(id -u nobody) $(id -u nobody) $(id -u nobody)" ] || fail "uids are $uids"
	[ "$nnp" = 1 ] || fail "NoNewPrivs is $nnp"
}

test_vmm_unknown_user_is_refused() {
	need_kvm
	expect_error "--user no-such-user-here: no such user" run --kernel "$TESTGUEST" --user no-such-user-here
}
