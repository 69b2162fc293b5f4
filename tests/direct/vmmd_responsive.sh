# vmmd answers at once whatever one VM does: a stopped vmm, a start under
# way, clients that do not read their replies. (vmmd once served one
# request at a time and waited up to 10 s for a vmm, 60 s for a start.)

# quick JSON-LINE: a request that must be answered within a bound far
# shorter than the 10 s vmmd once waited for a vmm; the reply on stdout.
# (A miss is also noted in the file slow, which a subshell cannot hide.)
quick() {
	local reply bound
	bound=$(scaled 2)
	reply=$(printf '%s\n' "$1" | timeout "$bound" socat -t"$bound" - "UNIX-CONNECT:$VMMD_SOCKET") || true
	if [ -z "$reply" ]; then
		echo "$1" >>slow
		fail "no answer within $bound s to $1"
	fi
	printf '%s\n' "$reply"
}

answered_at_once() { [ ! -e slow ] || fail "vmmd made a client wait: $(cat slow)"; }

list_now() { quick '{"jsonrpc":"2.0","id":1,"method":"domain.list"}'; }

# entry_of NAME: NAME's object in domain.list, answered at once.
entry_of() { list_now | grep -o "{\"name\":\"$1\"[^}]*}"; }

responding_of() { entry_of "$1" | sed -n 's/.*"responding":\(true\|false\).*/\1/p'; }

# wait_responding NAME true|false: within 20 s, each look answered at once.
wait_responding() {
	local i
	for i in $(seq $(scaled 200)); do
		[ "$(responding_of "$1")" = "$2" ] && return 0
		answered_at_once
		sleep 0.1
	done
	fail "$1 is not shown with responding $2: $(entry_of "$1")"
}

test_vmmd_answers_at_once_while_a_vmm_is_stopped() {
	need_kvm
	start_vmmd --sample-interval 1
	define s1 tick
	define s2 tick
	ctl start s1 >/dev/null
	ctl start s2 >/dev/null
	local p1 sd
	p1=$(vmm_pid s1)

	kill -STOP "$p1"
	wait_responding s1 false
	entry_of s1 | grep -q '"state":"running"' || fail "s1: $(entry_of s1)"
	[ "$(responding_of s2)" = true ] || fail "s2 is not responding too: $(entry_of s2)"
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.info","params":{"name":"s1"}}' |
		grep -q '"responding":false' || fail "domain.info does not show s1 not responding"
	kill -CONT "$p1"
	wait_responding s1 true

	# a shutdown of the stopped VM waits for its vmm; a second client is served meanwhile
	kill -STOP "$p1"
	ctl shutdown s1 >shutdown.out 2>&1 &
	sd=$!
	sleep 0.5
	entry_of s2 | grep -q '"state":"running"' || fail "s2: $(entry_of s2)"
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.stats","params":{"name":"s2"}}' |
		grep -q '"cpu_time_ns"' || fail "no statistics from s2 while s1's vmm is stopped"
	quick '{"jsonrpc":"2.0","id":1,"method":"host.info"}' | grep -q '"result"' || fail "host.info"
	kill -0 "$sd" 2>/dev/null || fail "the shutdown did not wait for the stopped vmm: $(cat shutdown.out)"
	kill -CONT "$p1"
	wait "$sd" || fail "the shutdown failed after SIGCONT: $(cat shutdown.out)"
	wait_state s1 "shut off"
	[ "$(field_of s1 reason)" = shutdown ] || fail "s1: reason $(field_of s1 reason)"
	[ "$(state_of s2)" = running ] || fail "s2 is $(state_of s2)"
	answered_at_once
}

# A stand-in vmm that listens on its control socket and never says that
# its guest runs: a start that stays under way.
test_vmmd_answers_at_once_while_a_start_is_under_way() {
	cat >slow-vmm <<'EOF'
#!/usr/bin/python3
import socket, sys, time
ctl = [a.split("=unix:", 1)[1] for a in sys.argv if a.startswith("--control=unix:")][0]
s = socket.socket(socket.AF_UNIX)
s.bind(ctl)
s.listen(1)
time.sleep(600)
EOF
	chmod 755 slow-vmm
	start_vmmd --vmm "$PWD/slow-vmm"
	define w hello
	define idle hello
	ctl start w >start.out 2>&1 &
	local st=$! i
	for i in $(seq $(scaled 100)); do
		entry_of w | grep -q '"reason":"starting"' && break
		answered_at_once
		sleep 0.1
	done
	entry_of w | grep -q '"state":"running","reason":"starting"' || fail "w: $(entry_of w)"
	[ "$(responding_of w)" = false ] || fail "w is shown responding: $(entry_of w)"
	entry_of idle | grep -q '"state":"shut off".*"responding":true' || fail "idle: $(entry_of idle)"
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.dumpxml","params":{"name":"w"}}' |
		grep -q 'name>w<' || fail "dumpxml of a starting VM"
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.stats","params":{"name":"w"}}' |
		grep -q '"history"' || fail "domain.stats of a starting VM"
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.start","params":{"name":"w"}}' |
		grep -q '"code":"invalid-state"' || fail "a second start was not refused"
	domain_xml late hello >late.xml
	timeout "$(scaled 2)" "$VMMCTL" define late.xml >/dev/null || fail "define waited for the start"
	kill -0 "$st" 2>/dev/null || fail "start returned before vmm said its guest runs: $(cat start.out)"
	# destroying it ends the start
	timeout "$(scaled 5)" "$VMMCTL" destroy w >/dev/null || fail "destroy of a starting VM"
	! wait "$st" || fail "the start succeeded: $(cat start.out)"
	grep -q "w did not start: it was destroyed before its guest ran" start.out || fail "$(cat start.out)"
	[ "$(state_of w)" = "shut off" ] || fail "w is $(state_of w)"
	[ -z "$(pgrep -f -- "--control=unix:$PWD/run/")" ] || fail "a vmm process was left"
	answered_at_once
}

test_vmmd_clients_that_do_not_read_hold_no_one_up() {
	start_vmmd
	# a definition of nearly 1 MiB: one reply fills a socket's buffer
	domain_xml big hello | python3 -c 'import sys; print(sys.stdin.read().replace("</name>", "</name><description>" + "x" * 900000 + "</description>"))' >big.xml
	ctl define big.xml >/dev/null
	python3 - "$VMMD_SOCKET" <<'EOF' &
import socket, sys, time
socks = []
for i in range(3):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"domain.dumpxml","params":{"name":"big"}}\n' * 20)
    socks.append(s)
open("sent", "w").close()
time.sleep(60)
EOF
	local hog=$! i
	for i in $(seq $(scaled 100)); do [ -e sent ] && break; sleep 0.1; done
	[ -e sent ] || fail "the clients could not send their requests"
	for i in 1 2 3; do
		entry_of big | grep -q '"state":"shut off"' || fail "list: $(entry_of big)"
	done
	quick '{"jsonrpc":"2.0","id":1,"method":"domain.dumpxml","params":{"name":"big"}}' >dump.json
	[ "$(wc -c <dump.json)" -gt 900000 ] || fail "a whole large reply did not come back"
	kill "$hog"
	kill -0 "$VMMD_PID" || fail "vmmd died"
	answered_at_once
}
