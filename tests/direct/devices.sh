# The UART (and its host backends) and the RTC, seen from the test guest.

test_serial_input_reaches_the_guest() {
	need_kvm
	mkfifo in
	exec 3<>in
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=echo <in >out 2>err &
	local pid=$! status=0
	wait_for out 'echo ready'
	# more than the UART's 16-byte FIFO at once, and no "q" before the end:
	# nothing may be lost
	printf 'hello, serial port of webkvm: 0123456789 abcdefghijklmnoprstuvwxyz!q' >&3
	wait $pid || status=$?
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -q 'HELLO, SERIAL PORT OF WEBKVM: 0123456789 ABCDEFGHIJKLMNOPRSTUVWXYZ!' out ||
		{ cat out; fail "echo lost or changed bytes"; }
}

# The echo guest halts while no byte waits (sti; hlt), so only the UART's
# receive interrupt, through the 8259 on IRQ4, brings it back: a guest
# that waits for input takes no host CPU, and what is typed still comes back.
test_serial_input_interrupt_wakes_a_halted_guest() {
	need_kvm
	mkfifo in
	exec 3<>in
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=echo <in >out 2>err &
	local pid=$! status=0 busy
	wait_for out 'echo ready'
	busy=$(busy_ms $pid)
	[ "$busy" -lt 1000 ] || fail "vmm ran (or waited to run) $busy ms of 3 s while its guest waited for input"
	printf 'wake' >&3
	wait_for out 'WAKE'
	printf 'up q' >&3
	wait $pid || status=$?
	[ "$status" -eq 0 ] || fail "exit status $status: $(cat err)"
	grep -q 'WAKEUP ' out || { cat out; fail "the echo after the halt lost bytes"; }
}

test_serial_to_file() {
	run_guest hello --serial file:console.log
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	[ ! -s out ] || fail "output went to stdout too"
	grep -q 'hello from the test guest' console.log || fail "no output in the file"
}

test_serial_on_unix_socket() {
	need_kvm
	command -v socat >/dev/null || skip "socat is not installed"
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=echo --serial unix:$PWD/console.sock \
		</dev/null >out 2>err &
	local pid=$! status=0 i
	for i in $(seq $(scaled 100)); do [ -S console.sock ] && break; sleep 0.05; done
	# The guest resets its FIFO at start; type after it is ready.
	(sleep 1; printf 'over the socket q') | timeout $(scaled 10) socat - UNIX-CONNECT:$PWD/console.sock >sock.out
	wait $pid || status=$?
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -q 'OVER THE SOCKET' sock.out || { cat sock.out; fail "no echo over the socket"; }
	[ ! -e console.sock ] || fail "socket left behind"
}

test_error_serial_spec() {
	need_kvm
	expect_error "serial bogus is not stdio, file:PATH or unix:PATH" \
		run --kernel "$TESTGUEST" --serial bogus
	expect_error "cannot open serial console file:/nonexistent/x" \
		run --kernel "$TESTGUEST" --serial file:/nonexistent/x
}

test_rtc_reads_the_host_date() {
	run_guest rtc
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	local line guest host
	line=$(sed -n 's/^rtc //p' out.txt)
	[ -n "$line" ] || fail "no rtc line"
	guest=$(date -u -d "$line" +%s) || fail "unreadable date '$line'"
	host=$(date -u +%s)
	[ $((host - guest)) -ge 0 ] && [ $((host - guest)) -le 5 ] ||
		fail "guest RTC says $line, host says $(date -u '+%F %T')"
}

test_closed_stdin_is_not_reused_for_kvm() {
	need_kvm
	# stdin closed: the next open() would get fd 0; it must not be /dev/kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=spin <&- >out 2>err &
	local pid=$! fd0
	wait_for out spinning
	fd0=$(readlink /proc/$pid/fd/0)
	kill -9 $pid
	[ "$fd0" = /dev/null ] || fail "vmm's fd 0 is $fd0"
}

# The PIT drops the ticks a guest missed with interrupts off instead of
# replaying them in a burst once it takes interrupts again (the guest keeps
# them off for 300 ms at 1 kHz, then counts what arrives in 100 ms).
test_pit_drops_lost_ticks_instead_of_replaying_them() {
	run_guest pit
	[ "$status" = 0 ] || { cat out.txt err; fail "vmm ended with $status"; }
	local n
	n=$(sed -n 's/^pit ticks //p' out.txt)
	[ -n "$n" ] || { cat out.txt; fail "the guest gave no count"; }
	echo "pit ticks in 100 ms after 300 ms with interrupts off: $n"
	[ "$n" -ge 1 ] || fail "no timer interrupt reached the guest"
	[ "$n" -le 200 ] || fail "$n ticks in 100 ms: the ticks missed with interrupts off were replayed"
}
