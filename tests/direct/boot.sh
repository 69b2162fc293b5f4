# The boot path: bzImage loading, command line, ACPI tables, errors.

test_boot_prints_greeting_and_cmdline() {
	run_guest hello --cmdline "guest=hello one=1 two=\"2 2\""
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -qx 'hello from the test guest' out.txt || fail "no greeting"
	grep -qx 'cmdline: guest=hello one=1 two="2 2"' out.txt || fail "command line changed"
}

test_acpi_tables_describe_cpus_pm_and_s5() {
	run_guest acpi --cpus 3
	[ "$status" -eq 0 ] || { cat out.txt err; fail "exit status $status"; }
	grep -qx 'acpi ok cpus=3 pm1a_cnt=0x604 sci=9 s5=5' out.txt || { cat out.txt; fail "tables"; }
}

test_help_lists_every_flag() {
	"$VMM" --help >help
	for flag in --kernel --initrd --cmdline --memory --cpus --serial --no-reboot --help; do
		grep -q -- "$flag" help || fail "--help does not mention $flag"
	done
}

test_error_kernel_missing() {
	need_kvm
	expect_error "cannot read kernel /nonexistent: No such file or directory" \
		run --kernel /nonexistent
	mkdir dir
	expect_error "cannot read kernel dir: Is a directory" run --kernel dir
}

test_error_kernel_not_bzimage() {
	head -c 100000 /dev/urandom >junk
	expect_error "kernel junk is not a bzImage" run --kernel junk
	: >empty
	expect_error "kernel empty is not a bzImage" run --kernel empty
}

test_error_kernel_truncated() {
	head -c 1024 "$TESTGUEST" >short
	expect_error "kernel short is truncated" run --kernel short
}

test_error_kernel_old_protocol() {
	cp "$TESTGUEST" old
	printf '\x01\x02' | dd of=old bs=1 seek=$((0x206)) conv=notrunc status=none
	expect_error "boot protocol 2.01 without a 64-bit entry" run --kernel old
}

test_error_initrd_does_not_fit() {
	need_kvm
	truncate -s 40M big.img
	expect_error "initrd big.img (40 MiB) does not fit" \
		run --kernel "$TESTGUEST" --initrd big.img --memory 32
}

test_error_cmdline_too_long() {
	need_kvm
	expect_error "kernel command line is 3000 bytes; this kernel takes at most 2047" \
		run --kernel "$TESTGUEST" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
}

test_error_cpus_out_of_range() {
	need_kvm
	expect_error "cpus 0 is out of range" run --kernel "$TESTGUEST" --cpus 0
	expect_error "cpus 100000 is out of range" run --kernel "$TESTGUEST" --cpus 100000
	expect_error "cpus two is not a number" run --kernel "$TESTGUEST" --cpus two
}

test_error_memory_host_cannot_give() {
	expect_error "is more than this host's" run --kernel "$TESTGUEST" --memory 1000000000
	expect_error "memory 1x is not a size in MiB" run --kernel "$TESTGUEST" --memory 1x
	expect_error "memory 4 is not a size in MiB of at least 16" run --kernel "$TESTGUEST" --memory 4
}

test_error_no_kvm_device() {
	command -v unshare >/dev/null || skip "unshare is not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private /dev"
	local status=0
	unshare -m sh -c "mount -t tmpfs none /dev && exec '$VMM' run --kernel '$TESTGUEST'" \
		>out 2>err </dev/null || status=$?
	[ "$status" -ne 0 ] || fail "vmm succeeded without /dev/kvm"
	grep -q "cannot open /dev/kvm: no such device" err || { cat err; fail "message"; }
}

# Without /dev/kvm (a private, empty /dev) every bad argument still gets
# its own message: vmm checks them all, and the files, before it opens KVM.
test_bad_arguments_are_named_on_a_machine_without_kvm() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private /dev"
	head -c 100000 /dev/urandom >junk
	head -c 1024 "$TESTGUEST" >short
	truncate -s 1M disk.img
	nokvm() { # PATTERN vmm-args...: the one line vmm says with no /dev at all
		local pattern=$1 status=0
		shift
		unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$VMM" "$@" \
			</dev/null >out 2>err || status=$?
		[ "$status" -ne 0 ] || fail "vmm $* succeeded"
		[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "expected one line on stderr for $*"; }
		grep -q -- "$pattern" err || { cat err; fail "vmm $*: stderr does not match '$pattern'"; }
	}
	nokvm "kernel junk is not a bzImage" run --kernel junk
	nokvm "kernel short is truncated" run --kernel short
	nokvm "cannot read initrd missing" run --kernel "$TESTGUEST" --initrd missing
	nokvm "disk-missing" run --kernel "$TESTGUEST" --disk "$PWD/disk-missing"
	nokvm "cannot open serial log $PWD/no/such/dir/l" run --kernel "$TESTGUEST" \
		--serial-log "$PWD/no/such/dir/l"
	nokvm "cpus 0 is out of range" run --kernel "$TESTGUEST" --cpus 0
	nokvm "command line is 5000 bytes" run --kernel "$TESTGUEST" --cmdline "$(head -c 5000 /dev/zero | tr '\0' x)"
	# and a good command line reaches KVM, which is missing
	nokvm "cannot open /dev/kvm: no such device" run --kernel "$TESTGUEST" --disk "$PWD/disk.img,format=raw"
}

test_error_no_kvm_permission() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to switch to an unprivileged user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	need_kvm
	[ "$(stat -c %a /dev/kvm)" = 600 ] || skip "/dev/kvm is open to other users here"
	cp "$VMM" ./vmm-copy
	chmod 755 . ./vmm-copy
	cp "$TESTGUEST" guest && chmod 644 guest
	local status=0
	setpriv --reuid=65534 --regid=65534 --clear-groups ./vmm-copy run --kernel guest \
		>out 2>err </dev/null || status=$?
	[ "$status" -ne 0 ] || fail "vmm succeeded without permission"
	grep -q "cannot open /dev/kvm: permission denied" err || { cat err; fail "message"; }
}

# Early boot code's PCI probe: every slot of every bus through 0xcf8/0xcfc.
# The address port's writes may be queued by KVM; each data access must
# still see the address written just before it, and so must a read of the
# address port. Byte and word writes there leave it alone.
test_pci_config_mechanism_1_scan_sees_each_address_written() {
	truncate -s 1M d.img
	run_guest pci --rng --disk d.img
	[ "$status" = 0 ] || { cat out.txt err; fail "vmm ended with $status"; }
	grep -qx 'pci 0:0 0x1b36:0x8 class 0x60000' out.txt || { cat out.txt; fail "no host bridge at 0:0"; }
	grep -qx 'pci 0:1 0x1af4:0x1042 class 0x10000' out.txt || { cat out.txt; fail "no virtio-blk at 0:1"; }
	grep -qx 'pci 0:2 0x1af4:0x1044 class 0xff00' out.txt || { cat out.txt; fail "no virtio-rng at 0:2"; }
	grep -qx 'pci found=3 address=0x80001234' out.txt || { cat out.txt; fail "scan or address read-back wrong"; }
}

