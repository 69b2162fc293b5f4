# Helpers for direct-tier tests: the tiny test guest on this machine's /dev/kvm.
# Each test_* function runs in its own bash in a fresh temporary folder;
# it fails on the first failing command (set -e) or an explicit fail.

fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# scaled SECONDS (or a count of waits): longer by WEBKVM_TIME_SCALE, which
# tests/run sets where guests run slower, as in the outer VM.
scaled() { echo $(($1 * ${WEBKVM_TIME_SCALE:-1})); }

# The tier runs only where /dev/kvm works (tests/run moves it into the
# outer VM elsewhere), so a missing one here is a failure, not a skip.
need_kvm() {
	[ -c /dev/kvm ] || fail "no /dev/kvm here, yet the direct tier was run here"
	(exec 3<>/dev/kvm) 2>/dev/null || fail "cannot open /dev/kvm, yet the direct tier was run here"
}

# run_guest MODE [vmm options...]: boot the test guest with guest=MODE and
# wait (10 s at most) for vmm to end; output in out, stderr in err, the
# exit status in $status.
run_guest() {
	local mode=$1
	shift
	need_kvm
	status=0
	timeout -s KILL $(scaled 10) "$VMM" run --kernel "$TESTGUEST" --cmdline "guest=$mode" "$@" \
		</dev/null >out 2>err || status=$?
	tr -d '\r' <out >out.txt
}

# expect_error PATTERN vmm-args...: vmm must fail with one line matching PATTERN.
expect_error() {
	local pattern=$1 status=0
	shift
	"$VMM" "$@" </dev/null >out 2>err || status=$?
	[ "$status" -ne 0 ] || fail "vmm $* succeeded"
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "expected one line on stderr"; }
	grep -q -- "$pattern" err || { cat err; fail "stderr does not match '$pattern'"; }
}

# wait_for FILE PATTERN: wait up to 10 s until FILE shows PATTERN.
wait_for() {
	local i
	for i in $(seq $(scaled 100)); do
		tr -d '\r' <"$1" 2>/dev/null | grep -q -- "$2" && return 0
		sleep 0.1
	done
	fail "'$2' never appeared in $1"
}

# busy_ms PID: how long the threads of process PID ran or were ready to
# run (waiting for a CPU) in 3 s, in ms, from their schedstat: a thread
# that busy-waits comes to about 3000 however loaded the machine is, one
# that halts to about 0.
busy_ms() {
	local before after
	before=$(cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{ t += $1 + $2 } END { print int(t / 1e6) }')
	sleep 3
	after=$(cat /proc/$1/task/*/schedstat 2>/dev/null | awk '{ t += $1 + $2 } END { print int(t / 1e6) }')
	echo $((after - before))
}

# running PID: the process PID exists and has not ended (a child that
# ended and was not yet waited for is a zombie, which kill -0 still finds).
running() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# vmmd and vmmctl
VMMD=$BUILDDIR/vmm/vmmd
VMMCTL=$BUILDDIR/vmm/vmmctl

# start_vmmd [OPTIONS]: a vmmd with its folders under the test's folder (run
# through $VMMD_WRAP when set, such as ip netns exec NS).
start_vmmd() {
	export VMMD_SOCKET=$PWD/run/vmmd.sock
	trap cleanup_test EXIT
	rm -f "$VMMD_SOCKET" # a killed vmmd leaves it
	${VMMD_WRAP:-} "$VMMD" --state-dir "$PWD/state" --run-dir "$PWD/run" "$@" >>vmmd.log 2>&1 &
	VMMD_PID=$!
	local i
	for i in $(seq $(scaled 300)); do
		[ -S "$VMMD_SOCKET" ] && return 0
		sleep 0.1
	done
	cat vmmd.log
	fail "vmmd did not come up"
}

# cleanup_test: vmmd and what it started, and the test's namespaces ($NS, $PEERS).
cleanup_test() {
	cleanup_vmmd
	local ns
	for ns in ${PEERS:-} ${NS:-}; do
		ip netns del "$ns" 2>/dev/null || true
	done
	# what a test mounted (a small file system to fill)
	for m in ${TEST_MOUNTS:-}; do
		umount -l "$m" 2>/dev/null || true
	done
}

cleanup_vmmd() {
	kill -9 "$VMMD_PID" 2>/dev/null || true
	pkill -f -- "--conf-file=$PWD/run/networks/" 2>/dev/null || true
	pkill -9 -f -- "--control=unix:$PWD/run/" 2>/dev/null || true
	pkill -f -- "UNIX-CONNECT:$PWD/run/" 2>/dev/null || true
}

need_netns() {
	[ "$(id -u)" -eq 0 ] || skip "network namespaces and taps need root"
	unshare -n true 2>/dev/null || skip "cannot make a network namespace"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# in_netns: a network namespace of the test's own for vmmd and its bridges,
# removed at the end; $NS names it, and vmmd runs in it.
in_netns() {
	need_netns
	NS=wk$$ PEERS=
	ip netns add "$NS"
	trap cleanup_test EXIT
	ip -n "$NS" link add br0 type bridge
	ip -n "$NS" link set br0 up
	VMMD_WRAP="ip netns exec $NS"
}

ctl() { "$VMMCTL" "$@"; }

# vmm_pid VM: the pid of a VM's vmm, from vmmd's run folder.
vmm_pid() { cut -d' ' -f1 "run/vms/$1/pid"; }

# call JSON-LINE: one raw request to vmmd, the reply on stdout.
call() { printf '%s\n' "$1" | socat -t5 - "UNIX-CONNECT:$VMMD_SOCKET"; }

# domain_xml NAME MODE [EXTRA-DEVICES]: a definition of the test guest.
domain_xml() {
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$TESTGUEST</kernel>
    <cmdline>guest=$2</cmdline>
  </os>
  <devices>
    <console type='pty'/>${3:-}
  </devices>
</domain>
EOF
}

define() { # define NAME MODE [EXTRA-DEVICES]
	domain_xml "$@" >"$1.xml"
	ctl define "$1.xml" >/dev/null
}

state_of() { ctl --json dominfo "$1" | sed -n 's/.*"state": *"\([^"]*\)".*/\1/p'; }
field_of() { ctl --json dominfo "$1" | sed -n "s/.*\"$2\": *\"\\{0,1\\}\\([^\",]*\\).*/\\1/p"; }

# wait_state NAME STATE: within 20 s.
wait_state() {
	local i
	for i in $(seq $(scaled 200)); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	ctl dominfo "$1"
	fail "$1 did not become $2"
}

# nat_xml NAME BRIDGE THIRD-OCTET [DHCP-HOSTS]: a NAT network on 10.THIRD.0.0/24.
nat_xml() {
	cat <<EOF
<network>
  <name>$1</name>
  <forward mode='nat'/>
  <bridge name='$2' stp='off'/>
  <ip address='10.$3.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.$3.0.100' end='10.$3.0.199'/>${4:-}
    </dhcp>
  </ip>
</network>
EOF
}

# peer NAME BRIDGE MAC: namespace $NS-NAME with eth0 (MAC) joined to BRIDGE.
peer() {
	ip netns add "$NS-$1"
	PEERS="$PEERS $NS-$1"
	ip -n "$NS" link add "p-$1" type veth peer name eth0 netns "$NS-$1"
	ip -n "$NS" link set "p-$1" master "$2" up
	ip -n "$NS-$1" link set eth0 address "$3" up
	ip -n "$NS-$1" link set lo up
}

# dhcp NAME [UDHCPC-ARGS...]: peer NAME leases an address with busybox's
# udhcpc and uses it.
dhcp() {
	local name=$1
	shift
	cat >udhcpc.sh <<-'EOF'
	#!/bin/sh
	[ "$1" = bound ] || exit 0
	ip addr add "$ip/$mask" dev "$interface"
	[ -z "$router" ] || ip route add default via "${router%% *}"
	exit 0
	EOF
	chmod +x udhcpc.sh
	timeout $(scaled 60) ip netns exec "$NS-$name" busybox udhcpc -i eth0 -n -q -t 30 -T 1 \
		-s "$PWD/udhcpc.sh" "$@" >"dhcp-$name.log" 2>&1 ||
		{ cat "dhcp-$name.log"; fail "peer $name got no lease"; }
}

addr_of() { ip -n "$NS-$1" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1; }
