# virtio-net against a driver played from the host and a real tap, each in a
# network namespace of its own; --net refusals; a guest with NICs.

net_driver() {
	need_kvm
	need_netns
	timeout -s KILL $(scaled 60) unshare -n "$BUILDDIR/tests/tools/virtio-net-test" "$1" >out 2>err ||
		{ cat out err; fail "virtio-net-test $1"; }
	cat out
}

test_virtio_net_frames_both_ways_with_mergeable_buffers_and_checksum_offload() {
	net_driver traffic
	grep -q "ok: a 5000-byte frame arrives merged over 3 buffers" out || fail "incomplete run"
	grep -q "ok: an 8000-byte frame from the guest arrives" out || fail "incomplete run"
}

test_virtio_net_link_down_stops_traffic_and_up_restores_it() {
	net_driver link
	grep -q "ok: with the link up again, traffic flows both ways" out || fail "incomplete run"
}

test_virtio_net_frames_wait_in_the_tap_until_the_guest_gives_buffers() {
	net_driver backpressure
	grep -q "none is lost" out || fail "incomplete run"
}

test_virtio_net_frame_too_large_for_the_buffer_is_dropped_not_cut() {
	net_driver small-buffers
	grep -q "the next one arrives whole" out || fail "incomplete run"
}

test_virtio_net_hostile_driver_needs_reset_and_bad_headers_are_dropped() {
	net_driver hostile
	grep -q "ok: after a reset the NIC works again" out || fail "incomplete run"
	grep -q "the device waits for a reset" err || fail "no warning logged"
}

test_net_option_errors_are_one_clear_line() {
	need_kvm
	expect_error "starts with tap=IFNAME or fd=N" run --kernel "$TESTGUEST" --net wk0
	expect_error "not a unicast MAC address" run --kernel "$TESTGUEST" --net tap=wk0,mac=01:00:5e:00:00:01
	expect_error "not a unicast MAC address" run --kernel "$TESTGUEST" --net tap=wk0,mac=52:54:00:zz:00:01
	expect_error "unknown --net option 'model=e1000'" run --kernel "$TESTGUEST" --net tap=wk0,model=e1000
	expect_error "unknown --net option 'link=sideways'" run --kernel "$TESTGUEST" --net tap=wk0,link=sideways
	expect_error "a tap name must have" run --kernel "$TESTGUEST" --net tap=abcdefghijklmnopq
	expect_error "wants an open file descriptor above 2" run --kernel "$TESTGUEST" --net fd=1
	expect_error "fd 7 is not a tap device" run --kernel "$TESTGUEST" --net fd=7 7</dev/null
	expect_error "at most 4 NICs" run --kernel "$TESTGUEST" --net tap=a --net tap=b --net tap=c \
		--net tap=d --net tap=e
}

test_guest_with_nics_boots_and_reports_them() {
	need_kvm
	need_netns
	cat >guest.sh <<-'EOS'
	set -e
	ip tuntap add dev wk0 mode tap vnet_hdr
	ip link set wk0 up
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=halt --control unix:ctl.sock \
		--net tap=wk0,mac=52:54:00:00:00:01 --net tap=wk1 </dev/null >out 2>err &
	pid=$!
	for i in $(seq "$WAITS"); do [ -S ctl.sock ] && break; sleep 0.1; done
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"vm.set_link","params":{"nic":1,"up":false}}' \
		'{"jsonrpc":"2.0","id":2,"method":"vm.stats"}' \
		'{"jsonrpc":"2.0","id":3,"method":"vm.set_link","params":{"nic":2,"up":false}}' |
		socat -t2 - UNIX-CONNECT:ctl.sock >replies
	ip -o link show wk1 >wk1.txt
	printf '%s\n' '{"jsonrpc":"2.0","id":4,"method":"vm.quit"}' | socat -t2 - UNIX-CONNECT:ctl.sock
	wait $pid
	EOS
	WAITS=$(scaled 100) VMM=$VMM TESTGUEST=$TESTGUEST timeout -s KILL $(scaled 30) unshare -n bash guest.sh || { cat err; fail "the guest with NICs did not run"; }
	grep -q '"mac":"52:54:00:00:00:01"' replies || { cat replies; fail "NIC 0 not in vm.stats"; }
	grep -q '"mac":"52:54:00:[0-9a-f:]*","link":false' replies || { cat replies; fail "NIC 1 not down in vm.stats"; }
	grep -q '"the VM has no NIC 2"' replies || { cat replies; fail "NIC 2 not refused"; }
	grep -q wk1 wk1.txt || fail "vmm did not make tap wk1"
}

nic_xml() { # BRIDGE [MAC]
	echo "<interface type='bridge'><source bridge='$1'/>${2:+<mac address='$2'/>}<model type='virtio'/></interface>"
}

test_vmmd_puts_a_vm_nic_on_its_bridge_and_the_tap_goes_with_the_vm() {
	need_kvm
	in_netns
	start_vmmd
	define nic halt "$(nic_xml br0 52:54:00:aa:bb:01)$(nic_xml br0)"
	ctl dumpxml nic >dump.xml
	[ "$(grep -c '<mac address="52:54:00:' dump.xml)" -eq 2 ] || { cat dump.xml; fail "no MAC made for the second NIC"; }
	ctl start nic >/dev/null
	ip -n "$NS" -o link show master br0 >ports
	[ "$(grep -c 'vnet[0-9]' ports)" -eq 2 ] || { cat ports; fail "two taps not on br0"; }
	grep -q 'fe:54:00:aa:bb:01' ports || { cat ports; fail "the tap's MAC is not the guest's with fe"; }
	ctl domstats nic >stats
	grep -q '^  net.count=2$' stats && grep -q '^  net.0.name=vnet[0-9]*$' stats &&
		grep -q '^  net.1.tx.bytes=[0-9]*$' stats || { cat stats; fail "domstats has no NICs"; }
	ctl destroy nic >/dev/null
	ip -n "$NS" -o link show >links
	! grep -q vnet links || { cat links; fail "a tap outlived its VM"; }
}

test_vmmd_refuses_to_start_a_vm_whose_bridge_is_missing_and_leaves_nothing() {
	need_kvm
	in_netns
	start_vmmd
	define nic halt "$(nic_xml br0)$(nic_xml br9)"
	! ctl start nic 2>err || fail "a VM started without its bridge"
	[ "$(cat err)" = "error: there is no bridge br9 on this host" ] || fail "$(cat err)"
	ip -n "$NS" -o link show >links
	! grep -q vnet links || { cat links; fail "a tap was left behind"; }
	[ -z "$(pgrep -f -- "--control=unix:$PWD/run/")" ] || fail "a vmm process was left"
	ip -n "$NS" tuntap add dev notbr0 mode tap
	define notbr halt "$(nic_xml notbr0)"
	! ctl start notbr 2>err || fail "a VM started on a device that is not a bridge"
	grep -q "cannot put vnet0 on bridge notbr0: it is not a bridge" err || fail "$(cat err)"
}
