# The portal with running guests: nginx, webkvm.fcgi and vmmd as in the
# web tier (tests/web/lib.sh), here where KVM is, so that every power
# action, the console's output, the statistics, a stopped vmm and a
# running VM's cable are driven through the pages as a browser would.

. "$SRCDIR/tests/web/lib.sh"

# state_json VM: the state that the page's poller gets.
state_json() {
	web "/instance/$1/state.json" >/dev/null
	sed -n 's/.*"state": *"\([^"]*\)".*/\1/p' body.html
}

# wait_portal_state VM STATE: what the portal says, within 20 s.
wait_portal_state() {
	local i
	for i in $(seq $(scaled 200)); do
		[ "$(state_json "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 is '$(state_json "$1")' on the portal, not '$2'"
}

# act VM ACTION: the button on the VM's page; the flash message must say it was done.
act() {
	local status
	web "/instance/$1" >/dev/null
	status=$(post "/instance/$1/$2")
	[ "$status" = 303 ] || fail "$2 answered $status"
	web "/instance/$1" >/dev/null
	grep -q "alert-danger" body.html && fail "$2 was refused: $(grep -o 'alert-danger[^<]*<[^<]*' body.html)"
	return 0
}

test_portal_drives_every_power_action_of_a_running_guest() {
	need_kvm
	start_portal
	define t1 tick
	login_admin
	make_user pat
	uuid=$(ctl --json dominfo t1 | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
	web /user/pat >/dev/null
	[ "$(post /user/pat/rights vm="$uuid" "view.$uuid=on" "power.$uuid=on" "console.$uuid=on")" = 303 ] ||
		fail "cannot give pat the power right"
	JAR=pat login pat pat-password-123
	export JAR=pat
	act t1 start
	[ "$(state_of t1)" = running ] || fail "vmmd says $(state_of t1) after the portal's start"
	wait_portal_state t1 running
	web /instances.json >/dev/null
	grep -q '"t1"' body.html && grep -q '"running"' body.html || fail "the list's JSON does not show t1 running"
	# the console's recent output, on the page of a user with the console right
	local i
	for i in $(seq $(scaled 100)); do
		web /instance/t1 >/dev/null
		grep -q 'tick 2' body.html && break
		sleep 0.2
	done
	grep -q 'tick 2' body.html || fail "the page does not show the console's output"
	# statistics for the graphs: vmmd samples every second
	for i in $(seq $(scaled 100)); do
		web /instance/t1/stats.json >/dev/null
		grep -q '"cpu"' body.html && break
		sleep 0.2
	done
	grep -q '"cpu"' body.html || fail "no CPU series in stats.json: $(head -c 300 body.html)"
	act t1 suspend
	[ "$(state_of t1)" = paused ] || fail "not paused"
	wait_portal_state t1 paused
	act t1 resume
	[ "$(state_of t1)" = running ] || fail "not running after resume"
	act t1 reboot
	for i in $(seq $(scaled 200)); do [ "$(field_of t1 id)" = 2 ] && break; sleep 0.1; done
	[ "$(field_of t1 id)" = 2 ] || fail "the reboot did not start the guest again"
	act t1 shutdown
	wait_portal_state t1 "shut off"
	[ "$(field_of t1 reason)" = shutdown ] || fail "reason $(field_of t1 reason), not shutdown"
	act t1 start
	wait_portal_state t1 running
	act t1 destroy
	[ "$(state_of t1)" = "shut off" ] || fail "not shut off after force off"
	[ "$(field_of t1 reason)" = destroyed ] || fail "reason $(field_of t1 reason), not destroyed"
	# and each step is in the audit log, under pat
	unset JAR
	web "/audit?user=pat" >/dev/null
	for a in start suspend resume reboot shutdown destroy; do
		grep -q "<td>$a</td>" body.html || fail "'$a' is not in the audit log"
	done
}

# A vmm that stops answering (SIGSTOP) never makes a page wait: once an
# action on it has timed out (a readable error), the list and the VMs'
# pages answer while it stays stopped and show it as not responding, and
# actions that need its answer are refused at once; it is shown as
# running again once it answers vmmd's next sample. (How fast vmmd answers is
# tests/direct/vmmd_responsive.sh's and the benchmarks' business.)
test_portal_answers_at_once_when_a_vmm_is_stopped() {
	need_kvm
	start_portal
	define t1 tick
	define t2 tick
	login_admin
	act t1 start
	act t2 start
	local pid
	pid=$(vmm_pid t1)
	kill -STOP "$pid"
	web /instance/t1 >/dev/null
	[ "$(post /instance/t1/suspend)" = 303 ] || { kill -CONT "$pid"; fail "suspend answered $(cat body.html)"; }
	web /instance/t1 >/dev/null
	grep -q 'did not answer within\|not answering\|takes no connections' body.html ||
		{ kill -CONT "$pid"; fail "no readable error: $(grep -o 'alert-danger[^<]*<[^<]*' body.html)"; }
	[ "$(web /instances)" = 200 ] || { kill -CONT "$pid"; fail "the list did not answer"; }
	grep -A12 'data-vm="t1"' body.html | grep -q '(not responding)' ||
		{ kill -CONT "$pid"; fail "the list does not show t1 as not responding"; }
	grep -A12 'data-vm="t2"' body.html | grep -q '(not responding)' &&
		{ kill -CONT "$pid"; fail "the list shows t2 as not responding"; }
	[ "$(web /instance/t1)" = 200 ] || { kill -CONT "$pid"; fail "t1's page did not answer"; }
	grep -q '(not responding)' body.html || { kill -CONT "$pid"; fail "t1's page does not say so"; }
	[ "$(web /instance/t2)" = 200 ] || { kill -CONT "$pid"; fail "t2's page did not answer"; }
	# known not to answer, it is not asked again: the portal refuses at once
	# (vmmd's own refusal, after its wait, says "did not answer within")
	local action
	for action in suspend shutdown reboot resume; do
		[ "$(post /instance/t1/$action)" = 303 ] || { kill -CONT "$pid"; fail "$action answered $(cat body.html)"; }
		web /instance/t1 >/dev/null
		grep -q 't1 is not responding (its vmm does not answer' body.html ||
			{ kill -CONT "$pid"; fail "$action: $(grep -o 'alert-danger[^<]*<[^<]*' body.html)"; }
	done
	kill -CONT "$pid"
	# continued, it answers vmmd's next sample and is shown as responding again
	local i
	for i in $(seq $(scaled 300)); do
		web /instance/t1/state.json >/dev/null
		grep -q '"not_responding":false' body.html && break
		sleep 0.1
	done
	grep -q '"not_responding":false' body.html || fail "t1 is not responding 30 s after it went on: $(cat body.html)"
	act t1 suspend
	web /instances >/dev/null
	grep -A12 'data-vm="t1"' body.html | grep -q '(not responding)' && fail "t1 is still shown as not responding"
	act t1 destroy
	act t2 destroy
}

# The cable of a running VM's interface, pulled and plugged from its page.
test_portal_pulls_the_cable_of_a_running_guest() {
	need_kvm
	in_netns
	start_portal
	echo "<network><name>host</name><forward mode='bridge'/><bridge name='br0'/></network>" >host.xml
	ctl net-define host.xml >/dev/null
	ctl net-start host >/dev/null
	define t1 tick "<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='host'/></interface>"
	login_admin
	act t1 start
	link() { ctl --json domstats t1 | tr -d ' \n' | grep -o '"mac":"52:54:00:aa:00:01","link":[a-z]*' | sed 's/.*://'; }
	[ "$(link)" = true ] || fail "the link is not up at the start"
	[ "$(post /instance/t1/interface/link mac=52:54:00:aa:00:01 state=down)" = 303 ] || fail "link down"
	[ "$(link)" = false ] || fail "the running NIC's link is still up"
	web /instance/t1 >/dev/null
	grep -A3 'data-mac="52:54:00:aa:00:01"' body.html | grep -q '>down<' || fail "the page does not show it down"
	[ "$(post /instance/t1/interface/link mac=52:54:00:aa:00:01 state=up)" = 303 ] || fail "link up"
	[ "$(link)" = true ] || fail "the running NIC's link is still down"
	act t1 destroy
}

# A running VM's address, from its network's DHCP lease, in the list: in
# its row, in what the list's poller gets, found by the search and sorted
# on, and a new address in place of the old one (one worker, so that the
# view after the change meets the rows kept from the view before). A peer
# namespace with the VM's MAC takes the lease: the test guest has no DHCP
# client.
test_portal_lists_a_running_guests_address() {
	need_kvm
	in_netns
	PORTAL_THREADS=1 start_portal
	nat_xml lab wklab 77 >lab.xml
	ctl net-define lab.xml >/dev/null
	ctl net-start lab >/dev/null
	define t1 tick "<interface type='network'><mac address='52:54:00:77:00:10'/><source network='lab'/></interface>"
	define t2 tick
	login_admin
	act t1 start
	web /instances >/dev/null
	grep -A8 'data-vm="t1"' body.html | grep -q 'vm-addresses"></div>' ||
		fail "t1 shows an address before any lease"
	peer a wklab 52:54:00:77:00:10
	dhcp a -r 10.77.0.150
	web /instances >/dev/null
	grep -A8 'data-vm="t1"' body.html | grep -q 'vm-addresses"><div>10.77.0.150</div></div>' ||
		fail "t1's row does not show 10.77.0.150"
	web /instances.json >/dev/null
	grep -q '"t1":{[^}]*}*[^}]*"addresses":\["10.77.0.150"\]' body.html ||
		fail "the poller does not get t1's address: $(cat body.html)"
	web '/instances?q=10.77.0' >/dev/null
	grep -q 'data-vm="t1"' body.html && ! grep -q 'data-vm="t2"' body.html ||
		fail "searching for 10.77.0 does not give t1 alone"
	# ascending, a VM with an address comes before one without; descending, after
	web '/instances?sort=address&order=asc' >/dev/null
	[ "$(grep -o 'data-vm="t[12]"' body.html | tr -d '\n')" = 'data-vm="t1"data-vm="t2"' ] ||
		fail "sorted by address, t1 is not first"
	web '/instances?sort=address&order=desc' >/dev/null
	[ "$(grep -o 'data-vm="t[12]"' body.html | tr -d '\n')" = 'data-vm="t2"data-vm="t1"' ] ||
		fail "sorted by address, descending, t2 is not first"
	# the guest's lease moves to another address (dnsmasq's file, as it
	# would write it): one address still, another one
	web /instances >/dev/null
	sed -i 's/ 10\.77\.0\.150 / 10.77.0.160 /' run/networks/lab/leases
	grep -q ' 10.77.0.160 ' run/networks/lab/leases || fail "no lease to move in run/networks/lab/leases"
	web /instances >/dev/null
	grep -A8 'data-vm="t1"' body.html | grep -q 'vm-addresses"><div>10.77.0.160</div></div>' ||
		fail "t1's row does not show its new address 10.77.0.160"
	# a lease past its expiry that dnsmasq has not pruned yet is not shown
	sed -i 's/^[0-9]* \(52:54:00:77:00:10 \)/1 \1/' run/networks/lab/leases
	web /instances >/dev/null
	grep -A8 'data-vm="t1"' body.html | grep -q 'vm-addresses"></div>' ||
		fail "t1 shows an expired lease: $(cat run/networks/lab/leases)"
	act t1 destroy
	web /instances >/dev/null
	grep -A8 'data-vm="t1"' body.html | grep -q 'vm-addresses"></div>' ||
		fail "t1 still shows an address once it is off"
}

# A network with a running VM on it: its page lists the VM as running,
# and neither the page nor vmmctl stops it under the VM; once the VM is
# off, it stops.
test_portal_keeps_a_network_up_under_a_running_guest() {
	need_kvm
	in_netns
	start_portal
	nat_xml lab wklab 77 >lab.xml
	ctl net-define lab.xml >/dev/null
	ctl net-start lab >/dev/null
	define t1 tick "<interface type='network'><mac address='52:54:00:77:00:10'/><source network='lab'/></interface>"
	define t2 tick
	login_admin
	act t1 start
	web /network/lab >/dev/null
	grep -A1 'data-vm="t1"' body.html | grep -q 'running' || fail "the page does not show t1 running"
	grep -q 'data-vm="t2"' body.html && fail "t2 is not on lab"
	web /networks >/dev/null
	grep -A9 'data-network="lab"' body.html | grep -q '1 (1 running)' || fail "the list does not count t1"
	web /network/lab >/dev/null
	[ "$(post /network/lab/stop)" = 303 ] || fail "stop answered $(cat body.html)"
	web /network/lab >/dev/null
	grep -q 'the running VM t1 is on the network lab' body.html || fail "no refusal: $(grep -o 'id="flash[^<]*' body.html)"
	ctl net-destroy lab >out.txt 2>&1 && fail "vmmctl stopped lab under t1"
	grep -q 'the running VM t1 is on the network lab' out.txt || fail "vmmctl says $(cat out.txt)"
	ctl net-info lab | grep -q 'Active: *yes' || fail "lab stopped"
	ip -n "$NS" -o link show master wklab | grep -q vnet || fail "t1's tap left the bridge"
	act t1 destroy
	web /network/lab >/dev/null
	[ "$(post /network/lab/stop)" = 303 ] || fail "stop answered $(cat body.html)"
	ctl net-info lab | grep -q 'Active: *no' || fail "lab did not stop once t1 was off"
}

# A pool with a running VM's disk in it: neither stopped nor the disk
# deleted or resized under the VM, from the pages or vmmctl; once the VM
# is off, each is done.
test_portal_keeps_a_pool_and_its_volumes_under_a_running_guest() {
	need_kvm
	start_portal
	mkdir -p pool
	qemu-img create -q -f raw pool/disk.raw 1M
	printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pool" >p.xml
	ctl pool-define p.xml >/dev/null
	ctl pool-start p >/dev/null
	define t1 tick "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$PWD/pool/disk.raw'/><target dev='vda' bus='virtio'/></disk>"
	login_admin
	act t1 start
	web /pool/p >/dev/null
	grep -A12 'data-volume="disk.raw"' body.html | grep -q 'href="/instance/t1".*running' ||
		fail "the pool's page does not show t1 running on disk.raw"
	refused() { # MESSAGE PATH FIELD...
		local msg=$1 path=$2
		shift 2
		web /pool/p >/dev/null
		[ "$(post "$path" "$@")" = 303 ] || fail "$path answered $(cat body.html)"
		web /pool/p >/dev/null
		grep -q "$msg" body.html || fail "$path: $(grep -o 'id="flash[^<]*' body.html)"
	}
	refused 'the running VM t1 has a disk in the pool p' /pool/p/stop
	refused 'the running VM t1 uses' /pool/p/volume/delete volume=disk.raw
	refused 'the running VM t1 uses' /pool/p/volume/resize volume=disk.raw size=2 unit=MiB
	ctl pool-destroy p >out.txt 2>&1 && fail "vmmctl stopped p under t1"
	grep -q 'the running VM t1 has a disk in the pool p' out.txt || fail "vmmctl says $(cat out.txt)"
	[ "$(stat -c %s pool/disk.raw)" = $((1 << 20)) ] || fail "disk.raw changed under t1"
	act t1 destroy
	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/resize volume=disk.raw size=2 unit=MiB)" = 303 ] || fail "resize"
	[ "$(stat -c %s pool/disk.raw)" = $((2 << 20)) ] || fail "disk.raw did not grow once t1 was off"
	[ "$(post /pool/p/stop)" = 303 ] || fail "stop"
	ctl pool-info p | grep -q 'State: *inactive' || fail "p did not stop once t1 was off"
}

# 50 VMs started from the list in one action, then forced off in one: each
# reaches vmmd, and the page names each one's result.
test_portal_starts_and_stops_50_vms_in_one_action() {
	need_kvm
	# 50 vmm processes under AddressSanitizer would take most of the outer
	# VM's time and memory; the web tier's bulk tests drive the same code there
	! grep -q __asan_init "$FCGI" ||
		skip "run in the first build only (the web tier's bulk tests drive this code under the sanitizers)"
	start_portal
	local i args=()
	for i in $(seq -w 1 50); do
		define "b$i" halt
		args+=(--data-urlencode "vm=b$i")
	done
	login_admin
	bulk() { # ACTION: on b01 to b50, as the list's form sends it
		web -H "Origin: $URL" --data-urlencode "csrf=$(csrf /instances)" \
			--data-urlencode "action=$1" "${args[@]}" /instances/bulk
	}
	[ "$(bulk start)" = 200 ] || fail "the bulk start answered $(cat body.html)"
	grep -q 'start: 50 of 50 done' body.html ||
		fail "$(grep -o 'id="bulk-summary">[^<]*' body.html): $(grep -B1 'not done' body.html | head -n 6)"
	[ "$(ctl list | awk 'NR > 2 && $3 == "running"' | wc -l)" = 50 ] || fail "not 50 running: $(ctl list)"
	[ "$(bulk destroy)" = 200 ] || fail "the bulk force off answered $(cat body.html)"
	grep -q 'destroy: 50 of 50 done' body.html || fail "$(grep -o 'id="bulk-summary">[^<]*' body.html)"
	[ -z "$(ctl list | awk 'NR > 2 && NF')" ] || fail "VMs still run: $(ctl list)"
}
