# The serial console's bounded log (--serial-log).

test_serial_log_copies_the_console() {
	run_guest hello --serial-log "$PWD/serial.log"
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	tr -d '\r' <serial.log | grep -q 'hello from the test guest' || fail "the log lacks the greeting"
	cmp -s out serial.log || fail "the log differs from the console"
}

test_serial_log_is_bounded() {
	need_kvm
	mkfifo in
	exec 3<>in
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=echo --serial-log "$PWD/serial.log,size=4096" \
		<in >out 2>err &
	local pid=$! status=0
	wait_for out 'echo ready'
	# 9000 bytes come back upper-cased: more than twice the bound
	{ head -c 9000 /dev/zero | tr '\0' 'a'; printf q; } >&3
	wait $pid || status=$?
	[ "$status" -eq 0 ] || fail "exit status $status: $(cat err)"
	grep -q 'echo done' out || fail "the guest did not finish"
	[ "$(stat -c %s serial.log)" -le 4096 ] || fail "serial.log is $(stat -c %s serial.log) bytes"
	[ "$(stat -c %s serial.log.1)" -eq 4096 ] || fail "serial.log.1 is $(stat -c %s serial.log.1) bytes"
	tr -d '\r' <serial.log | grep -q 'echo done' || fail "the log does not end with the last output"
	[ "$(cat serial.log.1 serial.log | tr -cd A | wc -c)" -gt 4000 ] || fail "too little kept"
}

test_serial_log_bad_options_are_refused() {
	expect_error "'size=12' is not size=BYTES" run --kernel "$TESTGUEST" --serial-log "$PWD/l,size=12"
	expect_error "'bytes=9999' is not size=BYTES" run --kernel "$TESTGUEST" --serial-log "$PWD/l,bytes=9999"
	expect_error "cannot open serial log $PWD/no/such/dir/l" run --kernel "$TESTGUEST" --serial-log "$PWD/no/such/dir/l"
}

# The serial socket takes several viewers: each gets the output from when
# it attached, any of them types to the guest, one leaving leaves the
# others, and a ninth is turned away without disturbing the eight.
test_serial_socket_takes_several_viewers() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=echo --serial="unix:$PWD/serial.sock" \
		--serial-log "$PWD/serial.log" >out 2>err &
	local pid=$! status=0 i
	for i in $(seq $(scaled 100)); do [ -S serial.sock ] && break; sleep 0.1; done
	wait_for serial.log 'echo ready'
	python3 "$SRCDIR/tests/tools/serial_viewers.py" "$PWD/serial.sock" >viewers || status=$?
	[ "$status" -eq 0 ] || { kill "$pid" 2>/dev/null || true; fail "$(grep -v '^ok' viewers)"; }
	wait "$pid" || status=$?
	[ "$status" -eq 0 ] || fail "vmm's exit status $status: $(cat err)"
}
