# Virtual networks in vmmd: NAT and isolated networks with their bridge,
# nftables table and dnsmasq, leases and domifaddr, refusals, and a vmmd
# restart. vmmd runs in a network namespace of the test's own; "peers" are
# namespaces joined to a network's bridge by a veth, standing for guests,
# and "outside" is a namespace beyond the host. Nothing leaves the machine.

# net_setup: vmmd in its namespace, with cleanup of the peers' namespaces.
net_setup() {
	need_kvm
	in_netns
	start_vmmd
}

# isolated_xml NAME BRIDGE THIRD-OCTET
isolated_xml() {
	nat_xml "$@" | sed "/<forward/d"
}

net_define() { # XML-FUNCTION ARGS...: define it from a file
	"$@" >"$2.xml"
	ctl net-define "$2.xml" >/dev/null
}

# outside: namespace $NS-out (10.99.0.2) beyond the host (10.99.0.1), with a
# route back to 10.78.0.0/24 so that only the host's rules can stop that subnet.
outside() {
	ip netns add "$NS-out"
	PEERS="$PEERS $NS-out"
	ip -n "$NS" link add out0 type veth peer name eth0 netns "$NS-out"
	ip -n "$NS" addr add 10.99.0.1/24 dev out0
	ip -n "$NS" link set out0 up
	ip -n "$NS-out" addr add 10.99.0.2/24 dev eth0
	ip -n "$NS-out" link set eth0 up
	ip -n "$NS-out" route add 10.78.0.0/24 via 10.99.0.1
}

pings() { ip netns exec "$NS-$1" busybox ping -c 1 -W 3 "$2" >/dev/null 2>&1; }

# What a started network leaves: its bridge, table, dnsmasq and run folder.
network_traces() { # NAME BRIDGE
	ip -n "$NS" -o link show "$2" 2>/dev/null | sed 's/^/link: /'
	ip netns exec "$NS" nft list tables | grep "webkvm-$1\$" | sed 's/^/nft: /'
	pgrep -af -- "--conf-file=$PWD/run/networks/$1/" | sed 's/^/process: /'
	[ ! -e "run/networks/$1" ] || echo "folder: run/networks/$1"
}

test_nat_network_gives_leases_routes_out_and_leaves_nothing_when_stopped() {
	net_setup
	net_define nat_xml lab wklab 77 "
      <host mac='52:54:00:77:00:10' name='web' ip='10.77.0.10'/>"
	ctl net-start lab >/dev/null
	ip -n "$NS" -4 -o addr show wklab | grep -q 'inet 10.77.0.1/24' || fail "wklab has no 10.77.0.1/24"
	ip netns exec "$NS" nft list table ip webkvm-lab | grep -q masquerade || fail "no masquerade rule"
	[ "$(ip netns exec "$NS" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "IPv4 forwarding is off"
	pgrep -f -- "--conf-file=$PWD/run/networks/lab/dnsmasq.conf" >/dev/null || fail "no dnsmasq"

	# a VM on the network: its tap is on the network's bridge
	define web halt "<interface type='network'><source network='lab'/><mac address='52:54:00:77:00:10'/></interface>"
	ctl start web >/dev/null
	ip -n "$NS" -o link show master wklab | grep -q 'vnet0' || fail "the VM's tap is not on wklab"

	# no lease yet: the list has no address for it
	call '{"jsonrpc":"2.0","id":1,"method":"domain.list"}' >list
	grep -q '"name":"web"[^}]*"addresses":\[\]' list || { cat list; fail "web has addresses before any lease"; }
	etag=$(sed -n 's/.*"etag":"\([0-9a-f]*\)".*/\1/p' list)

	# two guests: the static host and one from the range; each other, the gateway, outside
	outside
	peer a wklab 52:54:00:77:00:10
	peer b wklab 52:54:00:77:00:20
	dhcp a
	dhcp b
	[ "$(addr_of a)" = 10.77.0.10 ] || fail "the static host got $(addr_of a)"
	case $(addr_of b) in 10.77.0.1[0-9][0-9]) ;; *) fail "b got $(addr_of b), not from the range" ;; esac
	pings a "$(addr_of b)" || fail "a cannot reach b"
	pings a 10.77.0.1 || fail "a cannot reach the gateway"
	pings b 10.99.0.2 || fail "b cannot reach outside through NAT"

	ctl net-dhcp-leases lab >leases
	grep -q '52:54:00:77:00:10 *ipv4 *10.77.0.10/24 ' leases || { cat leases; fail "no lease for a"; }
	grep -q "52:54:00:77:00:20 *ipv4 *$(addr_of b)/24 " leases || { cat leases; fail "no lease for b"; }
	ctl net-dhcp-leases lab --mac 52:54:00:77:00:20 >one
	[ "$(grep -c ipv4 one)" -eq 1 ] || { cat one; fail "--mac does not filter"; }
	ctl domifaddr web >ifaddr
	grep -q '^ vnet0 *52:54:00:77:00:10 *ipv4 *10.77.0.10/24$' ifaddr || { cat ifaddr; fail "domifaddr"; }
	# the list carries the lease, and its etag changed with it
	call '{"jsonrpc":"2.0","id":2,"method":"domain.list","params":{"unless":"'"$etag"'"}}' >list
	grep -q '"name":"web"[^}]*"addresses":\["10.77.0.10"\]' list || { cat list; fail "domain.list has not web's lease"; }

	ctl destroy web >/dev/null
	! ip -n "$NS" -o link show | grep -q vnet || fail "the tap outlived its VM"
	ctl net-destroy lab >/dev/null
	network_traces lab wklab >traces
	[ ! -s traces ] || { cat traces; fail "the stopped network left these"; }
	ctl net-list --all | grep -q '^ lab *inactive *no *yes$' || fail "lab not listed as inactive"
	ctl net-undefine lab >/dev/null
	[ ! -e state/networks/lab.xml ] || fail "the definition stayed"
}

test_isolated_network_reaches_its_peers_and_nothing_beyond() {
	net_setup
	net_define isolated_xml iso wkiso 78
	ctl net-start iso >/dev/null
	ip netns exec "$NS" nft list table ip webkvm-iso >rules
	! grep -q masquerade rules || fail "an isolated network masquerades"
	grep -q 'oifname "wkiso" reject' rules || { cat rules; fail "no reject rule"; }
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 # only the rules may stop it
	outside
	peer c wkiso 52:54:00:78:00:01
	peer d wkiso 52:54:00:78:00:02
	dhcp c
	dhcp d
	! ip -n "$NS-c" route | grep -q default || fail "an isolated network gave a default route"
	pings c "$(addr_of d)" || fail "c cannot reach d"
	pings c 10.78.0.1 || fail "c cannot reach the host"
	ip -n "$NS-c" route add default via 10.78.0.1
	! pings c 10.99.0.2 || fail "an isolated guest reached outside"
	ctl net-destroy iso >/dev/null
	network_traces iso wkiso >traces
	[ ! -s traces ] || { cat traces; fail "the stopped network left these"; }
}

test_network_refusals_are_clear_and_leave_nothing_set_up() {
	net_setup
	net_define nat_xml lab wklab 77
	echo "<network><name>over</name><ip address='10.77.0.129' prefix='25'/></network>" >over.xml
	! ctl net-define over.xml 2>err || fail "an overlapping subnet was defined"
	[ "$(cat err)" = "error: its subnet overlaps 10.77.0.0/24 of the network lab" ] || fail "$(cat err)"
	nat_xml twin wklab 79 >twin.xml
	! ctl net-define twin.xml 2>err || fail "a second network got bridge wklab"
	[ "$(cat err)" = "error: the network lab already has bridge wklab" ] || fail "$(cat err)"
	[ "$(ls state/networks)" = lab.xml ] || fail "a refused definition was stored"

	# a bridge name the host uses already: br0 is left as it is
	net_define nat_xml taken br0 80
	! ctl net-start taken 2>err || fail "a network took br0"
	grep -q "the bridge name br0 is in use by a device on this host" err || fail "$(cat err)"
	ip -n "$NS" -o link show br0 | grep -q ',UP' || fail "br0 was touched"
	network_traces taken none >traces
	[ ! -s traces ] || { cat traces; fail "the refused start left these"; }

	# a subnet that a host interface has
	ip -n "$NS" addr add 10.81.0.5/24 dev br0
	net_define nat_xml busy wkbusy 81
	! ctl net-start busy 2>err || fail "a network started on a subnet in use"
	grep -q "its subnet is in use on this host (br0 has 10.81.0.5)" err || fail "$(cat err)"
	network_traces busy wkbusy >traces
	[ ! -s traces ] || { cat traces; fail "the refused start left these"; }

	# dnsmasq failing (here a stand-in that refuses) undoes the bridge and rules
	mkdir fakebin
	printf '#!/bin/sh\necho "dnsmasq: failed to create listening socket: Address in use" >&2\nexit 2\n' >fakebin/dnsmasq
	chmod +x fakebin/dnsmasq
	cleanup_vmmd
	VMMD_WRAP="ip netns exec $NS env PATH=$PWD/fakebin:$PATH" start_vmmd
	! ctl net-start lab 2>err || fail "lab started without dnsmasq"
	grep -q "cannot start the network lab: dnsmasq: dnsmasq: failed to create listening socket" err || fail "$(cat err)"
	network_traces lab wklab >traces
	[ ! -s traces ] || { cat traces; fail "the failed start left these"; }
	cleanup_vmmd
	VMMD_WRAP="ip netns exec $NS" start_vmmd

	# state changes that do not fit
	ctl net-start lab >/dev/null
	! ctl net-start lab 2>err && grep -q "the network lab is already started" err || fail "$(cat err)"
	! ctl net-undefine lab 2>err && grep -q "is started; stop it first" err || fail "$(cat err)"
	! ctl net-define lab.xml 2>err && grep -q "is started; stop it to change it" err || fail "$(cat err)"
	! ctl net-destroy busy 2>err && grep -q "the network busy is not started" err || fail "$(cat err)"
	! ctl net-info nosuch 2>err && grep -q "no network named 'nosuch'" err || fail "$(cat err)"

	# VMs on networks that are not there or not started
	define v1 halt "<interface type='network'><source network='nosuch'/></interface>"
	! ctl start v1 2>err && grep -q "v1: network 'nosuch' is not defined" err || fail "$(cat err)"
	define v2 halt "<interface type='network'><source network='busy'/></interface>"
	! ctl start v2 2>err && grep -q "v2: network 'busy' is not started" err || fail "$(cat err)"
	! ip -n "$NS" -o link show | grep -q vnet || fail "a refused VM left a tap"
}

test_started_networks_survive_a_vmmd_restart() {
	net_setup
	net_define nat_xml lab wklab 77
	net_define isolated_xml iso wkiso 78
	ctl net-start lab >/dev/null
	ctl net-start iso >/dev/null
	pid=$(pgrep -f -- "--conf-file=$PWD/run/networks/lab/dnsmasq.conf")
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	pkill -f -- "--conf-file=$PWD/run/networks/iso/dnsmasq.conf" # iso loses its dnsmasq meanwhile
	start_vmmd
	ctl net-list --all >list
	grep -q '^ lab *active ' list || { cat list; fail "lab did not stay started"; }
	grep -q '^ iso *inactive ' list || { cat list; fail "iso without its dnsmasq is shown started"; }
	[ "$(pgrep -f -- "--conf-file=$PWD/run/networks/lab/dnsmasq.conf")" = "$pid" ] || fail "lab's dnsmasq changed"
	network_traces iso wkiso >traces
	[ ! -s traces ] || { cat traces; fail "the broken network left these"; }
	ctl net-destroy lab >/dev/null
	network_traces lab wklab >traces
	[ ! -s traces ] || { cat traces; fail "the stopped network left these"; }
}

test_default_network_is_made_on_a_free_subnet_once() {
	need_kvm
	in_netns
	ip -n "$NS" addr add 192.168.122.7/24 dev br0 # libvirt's range is taken here
	start_vmmd --default-network
	ctl net-info default >info
	grep -q '^Active: *yes$' info && grep -q '^Autostart: *yes$' info &&
		grep -q '^Address: *192.168.123.1/24$' info && grep -q '^Bridge: *virbr0$' info ||
		{ cat info vmmd.log; fail "the default network"; }
	ip -n "$NS" -4 -o addr show virbr0 | grep -q 'inet 192.168.123.1/24' || fail "virbr0 has no address"
	ctl net-destroy default >/dev/null
	ctl net-undefine default >/dev/null
	cleanup_vmmd
	start_vmmd --default-network
	! ctl net-info default 2>/dev/null || fail "an undefined default network came back"
}

test_bridge_network_puts_vms_on_the_host_bridge_and_leaves_it_alone() {
	net_setup
	echo "<network><name>host</name><forward mode='bridge'/><bridge name='br0'/></network>" >host.xml
	echo "<network><name>gone</name><forward mode='bridge'/><bridge name='br7'/></network>" >gone.xml
	ctl net-define host.xml >/dev/null
	ctl net-define gone.xml >/dev/null
	! ctl net-start gone 2>err && grep -q "gone: there is no bridge br7 on this host" err || fail "$(cat err)"
	ctl net-start host >/dev/null
	define vm halt "<interface type='network'><source network='host'/></interface>"
	ctl start vm >/dev/null
	ip -n "$NS" -o link show master br0 | grep -q vnet0 || fail "the VM's tap is not on br0"
	ctl destroy vm >/dev/null
	ctl net-destroy host >/dev/null
	ip -n "$NS" -o link show br0 | grep -q ',UP' || fail "stopping the network touched br0"
	[ ! -e run/networks/host ] || fail "the run folder stayed"
}

# link_of VM MAC: "true" or "false", what the running vmm says of that NIC.
link_of() {
	ctl --json domstats "$1" | tr -d ' \n' | grep -o "\"mac\":\"$2\",\"link\":[a-z]*" | sed 's/.*://'
}

test_interfaces_attach_detach_and_link_state_live_and_kept() {
	net_setup
	echo "<network><name>host</name><forward mode='bridge'/><bridge name='br0'/></network>" >host.xml
	ctl net-define host.xml >/dev/null
	ctl net-start host >/dev/null
	define vm halt "<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='host'/></interface>"
	# attach: on a network, on a bridge of the host, never on what does not exist
	ctl attach-interface vm network host --mac 52:54:00:aa:00:02 >/dev/null || fail "attach on a network"
	ctl attach-interface vm bridge br0 >/dev/null || fail "attach on a bridge"
	! ctl attach-interface vm network nowhere 2>err && grep -q "no network named 'nowhere'" err || fail "$(cat err)"
	! ctl attach-interface vm bridge lo 2>err && grep -q "no bridge named 'lo'" err || fail "$(cat err)"
	! ctl attach-interface vm bridge ../br0 2>err || fail "a bridge name with a path was taken"
	! ctl attach-interface vm network host --mac 52:54:00:aa:00:02 2>err && grep -q "already" err || fail "$(cat err)"
	! ctl attach-interface vm network host --mac 01:00:5e:00:00:01 2>err || fail "a multicast MAC was taken"
	[ "$(ctl dumpxml vm | grep -c '<interface')" = 3 ] || fail "not three interfaces: $(ctl dumpxml vm)"
	# link down in the definition before the start: the VM starts with its cable pulled
	ctl domif-setlink vm 52:54:00:aa:00:02 down >/dev/null || fail "set the link down"
	ctl dumpxml vm | tr -d '\n' | grep -q 'aa:00:02"/>.*<link state="down"/>' || fail "the definition does not keep the link state"
	ctl start vm >/dev/null
	[ "$(link_of vm 52:54:00:aa:00:02)" = false ] || fail "NIC 2 started with its link up: $(ctl --json domstats vm)"
	[ "$(link_of vm 52:54:00:aa:00:01)" = true ] || fail "NIC 1 is not up"
	# and changes at once while it runs, in both directions
	ctl domif-setlink vm 52:54:00:aa:00:02 up >/dev/null || fail "set the link up"
	[ "$(link_of vm 52:54:00:aa:00:02)" = true ] || fail "the running NIC 2 is still down"
	ctl domif-setlink vm 52:54:00:aa:00:01 down >/dev/null || fail "set NIC 1's link down"
	[ "$(link_of vm 52:54:00:aa:00:01)" = false ] || fail "the running NIC 1 is still up"
	! ctl domif-setlink vm 52:54:00:aa:00:09 down 2>err && grep -q "vm has no interface with MAC 52:54:00:aa:00:09" err || fail "$(cat err)"
	# detach: the running VM keeps its NIC until its next start; a missing MAC is refused
	ctl detach-interface vm network --mac 52:54:00:aa:00:02 >/dev/null || fail "detach"
	[ "$(ctl dumpxml vm | grep -c '<interface')" = 2 ] || fail "the interface stayed in the definition"
	[ "$(link_of vm 52:54:00:aa:00:02)" = true ] || fail "the running VM lost its NIC at once"
	! ctl detach-interface vm network --mac 52:54:00:aa:00:02 2>err && grep -q "no interface with MAC" err || fail "$(cat err)"
	ctl destroy vm >/dev/null
	ctl start vm >/dev/null
	[ "$(link_of vm 52:54:00:aa:00:01)" = false ] || fail "NIC 1's link state was not kept across a start"
	[ -z "$(link_of vm 52:54:00:aa:00:02)" ] || fail "the detached NIC came back"
	ctl destroy vm >/dev/null
}
