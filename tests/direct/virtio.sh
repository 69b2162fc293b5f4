# virtio devices against a driver that breaks the rules, and --disk refusals.

hostile() {
	need_kvm
	"$BUILDDIR/tests/tools/virtio-hostile" "$1" >out 2>err || { cat out err; fail "virtio-hostile $1"; }
	grep -q "ok: after a reset the disk serves again" out || fail "incomplete run"
	grep -q "the device waits for a reset" err || fail "no warning logged"
}

test_virtio_blk_buffer_outside_ram_needs_reset_others_keep_running() { hostile outside-ram; }
test_virtio_blk_looping_chain_needs_reset_others_keep_running() { hostile loop; }
test_virtio_blk_overlong_indirect_chain_needs_reset_others_keep_running() { hostile long-chain; }
test_virtio_blk_avail_index_from_nowhere_needs_reset_others_keep_running() { hostile bad-avail; }

test_virtio_blk_serves_each_queue_of_a_multiqueue_disk() {
	need_kvm
	"$BUILDDIR/tests/tools/virtio-hostile" multiqueue >out 2>err || { cat out err; fail "virtio-hostile multiqueue"; }
	grep -q "ok: each of 2 queues serves its own requests" out || fail "incomplete run"
}

test_virtio_blk_takes_a_1_mib_read_of_scattered_pages_in_one_request() {
	need_kvm
	"$BUILDDIR/tests/tools/virtio-hostile" big-request >out 2>err || { cat out err; fail "virtio-hostile big-request"; }
	grep -q "ok: a 1 MiB read of 256 scattered pages is one request" out || fail "incomplete run"
}

test_device_io_threads_are_named_and_do_not_preempt_vcpus() {
	need_kvm
	truncate -s 1M d.img
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=halt --memory 32 --serial file:console.log \
		--disk d.img,format=raw --rng </dev/null >out 2>err &
	pid=$!
	trap 'kill -KILL $pid 2>/dev/null || true' EXIT
	wait_for console.log halting
	n=0
	for t in /proc/$pid/task/*; do
		case "$(cat $t/comm)" in
		virtio-blk | virtio-rng)
			n=$((n + 1))
			chrt -p "${t##*/}" | grep -q "policy: SCHED_BATCH" ||
				fail "$(cat $t/comm) runs as $(chrt -p "${t##*/}" | head -n 1)"
			;;
		esac
	done
	[ $n -eq 2 ] || fail "found $n named I/O threads, not 2: $(cat /proc/$pid/task/*/comm | tr '\n' ' ')"
	kill -KILL $pid
	wait $pid 2>/dev/null || true
}

test_disk_option_errors_are_one_clear_line() {
	need_kvm
	truncate -s 1M d.img
	qemu-img create -q -f qcow2 q.qcow2 1M
	expect_error "cannot open disk image missing.img: No such file" run --kernel "$TESTGUEST" --disk missing.img
	expect_error "unknown disk format 'vmdk'" run --kernel "$TESTGUEST" --disk d.img,format=vmdk
	expect_error "unknown --disk option 'cache=unsafe'" run --kernel "$TESTGUEST" --disk d.img,cache=unsafe
	expect_error "a disk serial must have 1 to 20" run --kernel "$TESTGUEST" \
		--disk d.img,serial=123456789012345678901
	expect_error "printable ASCII" run --kernel "$TESTGUEST" --disk "d.img,serial=a b"
	expect_error "looks like qcow2: say format=qcow2" run --kernel "$TESTGUEST" --disk q.qcow2
	expect_error "is not a qcow2 image" run --kernel "$TESTGUEST" --disk d.img,format=qcow2
}

test_guest_with_disks_and_rng_still_boots() {
	truncate -s 1M d.img
	run_guest hello --disk d.img,format=raw --disk d.img,format=raw,readonly --rng
	[ "$status" -eq 0 ] || { cat err; fail "vmm ended with $status"; }
	grep -q "hello from the test guest" out.txt || { cat out.txt err; fail "no greeting"; }
}
