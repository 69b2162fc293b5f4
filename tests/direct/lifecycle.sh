# How a VM ends: power-off, reset, triple fault, SIGTERM.

test_poweroff_ends_vmm_with_status_0() {
	run_guest hello
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
}

test_i8042_reset_restarts_the_guest() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=reset </dev/null >out 2>err &
	local pid=$!
	local i
	for i in $(seq $(scaled 100)); do
		[ "$(grep -c 'resetting through the i8042' out)" -ge 3 ] && break
		sleep 0.1
	done
	kill -9 $pid
	[ "$(grep -c 'resetting through the i8042' out)" -ge 3 ] || fail "the guest did not boot again"
}

test_i8042_reset_with_no_reboot_ends_with_status_0() {
	run_guest reset --no-reboot
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	[ "$(grep -c 'resetting through the i8042' out.txt)" -eq 1 ] || fail "booted more than once"
}

test_triple_fault_with_no_reboot_ends_with_status_0() {
	run_guest triple --no-reboot
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -q 'triple fault' out.txt || fail "guest did not run"
}

test_sigterm_presses_the_acpi_power_button() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=button </dev/null >out 2>err &
	local pid=$! status=0
	wait_for out 'waiting for the power button'
	kill -TERM $pid
	wait $pid || status=$?
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -q 'power button pressed' out || fail "the guest did not see the button"
}

test_second_sigterm_ends_the_vm_at_once() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=spin </dev/null >out 2>err &
	local pid=$! status=0
	wait_for out spinning
	kill -TERM $pid
	sleep 0.2
	kill -0 $pid || fail "one SIGTERM ended a guest that ignores the power button"
	kill -TERM $pid
	wait $pid || status=$?
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
}

test_guest_with_several_cpus_boots() {
	run_guest hello --cpus 4 --memory 64
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
}
