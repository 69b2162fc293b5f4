# vmmd and vmmctl with the tiny test guest: definitions, lifecycle,
# supervision, adoption after a restart, and bad requests.

# watch_serial NAME FILE: copy the VM's serial console into FILE.
watch_serial() {
	socat -u "UNIX-CONNECT:$PWD/run/vms/$1/serial.sock" "OPEN:$2,creat,append" &
}

ticks() { tr -d '\r' <"$1" | grep -c '^tick '; }

# alive PID: runs (a zombie that nobody has reaped yet does not count).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

test_vmmd_define_dumpxml_and_undefine() {
	need_kvm
	start_vmmd
	define web hello
	ctl list --all >list
	grep -q ' -  *web  *shut off' list || { cat list; fail "list --all does not show web shut off"; }
	ctl list >list
	! grep -q web list || fail "list without --all shows a VM that does not run"
	ctl dumpxml web >dump.xml
	grep -q '<name>web</name>' dump.xml || fail "dumpxml lost the name"
	grep -q "<kernel>$TESTGUEST</kernel>" dump.xml || fail "dumpxml lost the kernel"
	local uuid
	uuid=$(sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' dump.xml)
	[ ${#uuid} -eq 36 ] || fail "no uuid was given: '$uuid'"
	# a redefinition without a uuid keeps it; the file is replaced whole
	define web echo
	[ "$(ctl dumpxml web | sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p')" = "$uuid" ] || fail "redefinition changed the uuid"
	ctl dumpxml web | grep -q 'guest=echo' || fail "redefinition not kept"
	[ -z "$(ls state/domains | grep -v '^web.xml$')" ] || fail "stray files: $(ls state/domains)"
	ctl undefine web >/dev/null
	[ ! -e state/domains/web.xml ] || fail "undefine left the definition"
	! ctl dominfo web 2>err || fail "dominfo of an undefined VM succeeded"
	grep -q "error: no VM named 'web'" err || fail "wrong error: $(cat err)"
}

test_vmmd_refuses_what_it_cannot_run() {
	need_kvm
	start_vmmd
	domain_xml bad hello "<hostdev mode='subsystem' type='pci'/>" >bad.xml
	! ctl define bad.xml 2>err || fail "a hostdev was accepted"
	[ "$(cat err)" = "error: unsupported element <hostdev> in <devices>" ] || fail "wrong error: $(cat err)"
	domain_xml ok hello >ok.xml
	sed -i "s/<name>ok</<name>ok</; s/<uuid>.*//" ok.xml
	ctl define ok.xml >/dev/null
	# another VM may not take its name with another uuid, nor its uuid
	sed "s|<name>ok</name>|<name>ok</name><uuid>11111111-2222-4333-8444-555555555555</uuid>|" ok.xml >other.xml
	! ctl define other.xml 2>err || fail "a second uuid for ok was accepted"
	grep -q "a VM named ok exists with another uuid" err || fail "wrong error: $(cat err)"
	ctl dumpxml ok >ok2.xml
	sed -i 's|<name>ok</name>|<name>copy</name>|' ok2.xml
	! ctl define ok2.xml 2>err || fail "a second VM with ok's uuid was accepted"
	grep -q "belongs to the VM ok" err || fail "wrong error: $(cat err)"
	[ "$(ls state/domains)" = "ok.xml" ] || fail "refused definitions left files: $(ls state/domains)"
}

test_vmmd_lifecycle_start_suspend_resume_shutdown_destroy() {
	need_kvm
	start_vmmd
	define t1 tick
	ctl start t1 | grep -q "Domain 't1' started" || fail "start did not say so"
	[ "$(state_of t1)" = running ] || fail "not running after start"
	ctl list | grep -q ' 1  *t1  *running' || { ctl list; fail "list does not show t1 running with id 1"; }
	watch_serial t1 serial.out
	wait_for serial.out 'tick 2'

	ctl suspend t1 >/dev/null
	[ "$(state_of t1)" = paused ] || fail "not paused after suspend"
	sleep 0.5
	local n
	n=$(ticks serial.out)
	sleep 1.5
	[ "$(ticks serial.out)" -eq "$n" ] || fail "the guest ran while paused ($n, then $(ticks serial.out) ticks)"
	ctl resume t1 >/dev/null
	[ "$(state_of t1)" = running ] || fail "not running after resume"
	wait_for serial.out "tick $((n + 2))"

	# reset: the guest boots again in the same process
	# (the first boot's greeting may have come before the console was watched)
	local pid boots
	pid=$(vmm_pid t1)
	boots=$(grep -c ticking serial.out || true)
	ctl reset t1 >/dev/null
	for i in $(seq $(scaled 200)); do [ "$(grep -c ticking serial.out)" -gt "$boots" ] && break; sleep 0.1; done
	[ "$(grep -c ticking serial.out)" -gt "$boots" ] || fail "the guest did not boot again after reset"
	[ "$(vmm_pid t1)" = "$pid" ] || fail "reset started another process"

	ctl shutdown t1 >/dev/null
	wait_state t1 "shut off"
	[ "$(field_of t1 reason)" = shutdown ] || fail "reason $(field_of t1 reason), not shutdown"
	grep -q 'power button pressed' serial.out || fail "the guest did not see the power button"
	! alive "$pid" || fail "vmm still runs after the guest powered off"
	[ ! -e run/vms/t1/pid ] || fail "the run folder still names a process"

	ctl start t1 >/dev/null
	[ "$(field_of t1 id)" = 2 ] || fail "the second start did not get id 2"
	pid=$(vmm_pid t1)
	ctl destroy t1 >/dev/null
	[ "$(state_of t1)" = "shut off" ] || fail "not shut off after destroy"
	[ "$(field_of t1 reason)" = destroyed ] || fail "reason $(field_of t1 reason), not destroyed"
	! alive "$pid" || fail "vmm still runs after destroy"
	! ctl destroy t1 2>err || fail "destroying a shut-off VM succeeded"
	grep -q "t1 is not running" err || fail "wrong error: $(cat err)"
}

test_vmmd_reboot_starts_the_guest_again() {
	need_kvm
	start_vmmd
	define rb tick
	ctl start rb >/dev/null
	watch_serial rb serial.out
	wait_for serial.out 'tick 1'
	ctl reboot rb >/dev/null
	local i
	for i in $(seq $(scaled 200)); do [ "$(field_of rb id)" = 2 ] && break; sleep 0.1; done
	[ "$(field_of rb id)" = 2 ] || fail "the VM did not start again (id $(field_of rb id))"
	[ "$(state_of rb)" = running ] || fail "not running after reboot"
}

test_vmmd_killed_vmm_is_crashed() {
	need_kvm
	start_vmmd
	define c1 tick
	ctl start c1 >/dev/null
	kill -9 "$(vmm_pid c1)"
	wait_state c1 crashed
	field_of c1 reason | grep -q 'killed by signal 9' || fail "reason: $(field_of c1 reason)"
	grep -q 'c1 crashed' vmmd.log || fail "the crash is not in vmmd's log"
	# a crashed VM starts again
	ctl start c1 >/dev/null
	[ "$(state_of c1)" = running ] || fail "a crashed VM did not start again"
}

test_vmmd_restart_after_sigkill_adopts_running_vms() {
	need_kvm
	start_vmmd
	define a1 tick
	define a2 tick
	ctl start a1 >/dev/null
	ctl start a2 >/dev/null
	ctl suspend a2 >/dev/null
	local p1 p2
	p1=$(vmm_pid a1)
	p2=$(vmm_pid a2)
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	alive "$p1" && alive "$p2" || fail "a VM died with vmmd"
	need_kvm
	start_vmmd
	grep -q 'a1 adopted' vmmd.log || { cat vmmd.log; fail "a1 was not adopted"; }
	[ "$(state_of a1)" = running ] || fail "a1 is $(state_of a1)"
	[ "$(state_of a2)" = paused ] || fail "a2 is $(state_of a2)"
	[ "$(field_of a1 id)" = 1 ] && [ "$(field_of a2 id)" = 2 ] || fail "ids changed"
	ctl domstats a1 | grep -q 'vcpu.0.time=[1-9]' || fail "no statistics from the adopted VM"
	# a new VM gets a new id
	define a3 tick
	ctl start a3 >/dev/null
	[ "$(field_of a3 id)" = 3 ] || fail "a3 got id $(field_of a3 id)"
	# the adopted VMs are supervised: a crash and a destroy are seen
	kill -9 "$p1"
	wait_state a1 crashed
	ctl resume a2 >/dev/null
	ctl destroy a2 >/dev/null
	! alive "$p2" || fail "destroy of an adopted VM left it running"
	[ "$(state_of a2)" = "shut off" ] || fail "a2 is $(state_of a2)"
}

test_vmmd_twenty_vms_at_once() {
	need_kvm
	start_vmmd
	local i pids=()
	for i in $(seq 20); do define "m$i" tick; done
	for i in $(seq 20); do ctl start "m$i" >"start$i.out" 2>&1 & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || true; done
	[ "$(ctl list | grep -c ' running$')" -eq 20 ] || { ctl list; cat start*.out; fail "not 20 running"; }
	[ "$(pgrep -f -- "--control=unix:$PWD/run/" | wc -l)" -eq 20 ] || fail "not 20 vmm processes"
	for i in $(seq 20); do ctl destroy "m$i" >/dev/null; done
	[ "$(ctl list | grep -c ' running$')" -eq 0 ] || fail "VMs left running"
	[ -z "$(pgrep -f -- "--control=unix:$PWD/run/")" ] || fail "vmm processes left"
}

test_vmmd_start_failure_is_one_clear_error() {
	need_kvm
	start_vmmd
	domain_xml nok hello | sed "s|<kernel>.*</kernel>|<kernel>$PWD/missing</kernel>|" >nok.xml
	ctl define nok.xml >/dev/null
	! ctl start nok 2>err || fail "start with a missing kernel succeeded"
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "not one line"; }
	grep -q "nok did not start: .*missing" err || fail "the error does not give vmm's reason: $(cat err)"
	[ "$(state_of nok)" = "shut off" ] || fail "state $(state_of nok)"
	[ -z "$(pgrep -f -- "--control=unix:$PWD/run/")" ] || fail "a vmm process was left"
}

test_vmmd_bad_requests_get_errors_and_service_continues() {
	need_kvm
	start_vmmd
	call 'not json' | grep -q '"code":"parse-error"' || fail "no parse-error"
	call '[1,2]' | grep -q '"code":"invalid-request"' || fail "an array was not refused"
	call '{"jsonrpc":"2.0","id":1}' | grep -q '"code":"invalid-request"' || fail "no method was not refused"
	call '{"jsonrpc":"2.0","id":1,"method":"domain.nope"}' | grep -q '"code":"method-not-found"' || fail "an unknown method was not refused"
	call '{"jsonrpc":"2.0","id":1,"method":"domain.start","params":[1]}' | grep -q '"code":"invalid-params"' || fail "array params were not refused"
	call '{"jsonrpc":"2.0","id":1,"method":"domain.start","params":{}}' | grep -q '"code":"invalid-params"' || fail "a missing name was not refused"
	call '{"jsonrpc":"2.0","id":1,"method":"domain.define","params":{"xml":"<domain"}}' | grep -q '"code":"invalid-xml"' || fail "malformed XML was not refused"
	# several requests on one connection, one bad among them
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"domain.list"}' '{oops' '{"jsonrpc":"2.0","id":3,"method":"host.info"}' |
		socat -t5 - "UNIX-CONNECT:$VMMD_SOCKET" >replies
	[ "$(wc -l <replies)" -eq 3 ] && grep -q '"id":3,"result"' replies || { cat replies; fail "a bad line broke the connection"; }
	# a line longer than the limit: an error, then the connection closes
	python3 - "$VMMD_SOCKET" >big <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b"x" * (5 << 20))
except OSError:
    pass  # vmmd closed the connection after its error
print(s.recv(65536).decode())
EOF
	grep -q '"code":"request-too-large"' big || fail "an oversize request was not refused"
	# a client that connects and says nothing does not hold others up
	socat -u "UNIX-CONNECT:$VMMD_SOCKET" /dev/null &
	local idle=$!
	ctl list --all >/dev/null || fail "the service stopped answering"
	kill $idle 2>/dev/null || true
	kill -0 "$VMMD_PID" || fail "vmmd died"
}

test_vmmd_autostart_starts_marked_vms() {
	need_kvm
	start_vmmd
	define on tick
	define off tick
	ctl autostart on | grep -q "marked as autostarted" || fail "autostart did not say so"
	[ -e state/autostart/on ] || fail "no autostart mark"
	kill -TERM "$VMMD_PID"
	wait "$VMMD_PID" || fail "vmmd did not end cleanly on SIGTERM"
	need_kvm
	start_vmmd
	[ "$(state_of on)" = running ] || fail "the marked VM did not start"
	[ "$(state_of off)" = "shut off" ] || fail "the unmarked VM started"
	ctl autostart --disable on >/dev/null
	[ ! -e state/autostart/on ] || fail "the mark stayed"
}

test_vmmd_one_service_per_run_folder() {
	need_kvm
	start_vmmd
	! "$VMMD" --state-dir "$PWD/state" --run-dir "$PWD/run" 2>err || fail "a second vmmd started"
	grep -q "another vmmd is running" err || fail "wrong error: $(cat err)"
}

test_vmmd_virt_install_kernel_boot_xml_defines_and_starts() {
	command -v virt-install >/dev/null || skip "virt-install (Debian's virtinst) is not installed"
	need_kvm
	start_vmmd
	qemu-img create -f qcow2 disk.qcow2 64M >/dev/null
	virt-install --connect test:///default --print-xml --name vi --memory 64 --vcpus 1 \
		--osinfo detect=off,require=off \
		--boot "kernel=$TESTGUEST,kernel_args=guest=tick" \
		--disk "path=$PWD/disk.qcow2,format=qcow2,bus=virtio" --network none \
		--graphics vnc >vi.xml 2>vi.err || { cat vi.err; fail "virt-install failed"; }
	sed -i 's/<domain type="test">/<domain type="kvm">/' vi.xml
	ctl define vi.xml >/dev/null
	ctl start vi >/dev/null
	[ "$(state_of vi)" = running ] || fail "not running"
	[ -S run/vms/vi/vnc.sock ] || fail "no VNC socket for the graphics element"
	ctl domstats vi | grep -q 'block.0.name=vda' || fail "the disk is not there"
	ctl dumpxml vi >dump.xml
	for e in '<pae/>' '<clock offset="utc"/>' '<suspend-to-mem enabled="no"/>' \
		'<controller type="usb" model="ich9-ehci1"/>' '<input type="tablet" bus="usb"/>' \
		'<model type="vga"/>' '<emulator>'; do
		grep -qF "$e" dump.xml || fail "dumpxml lost $e"
	done
}

test_vmmctl_errors_are_one_line() {
	! "$VMMCTL" --connect "$PWD/none.sock" list 2>err || fail "succeeded without vmmd"
	[ "$(wc -l <err)" -eq 1 ] && grep -q "error: cannot connect to vmmd at $PWD/none.sock" err || fail "$(cat err)"
	! "$VMMCTL" frobnicate 2>err || fail "an unknown command succeeded"
	[ "$(cat err)" = "error: unknown command frobnicate; see vmmctl --help" ] || fail "$(cat err)"
	"$VMMCTL" --help | grep -q 'dominfo NAME' || fail "--help does not list the commands"
}

test_vmmctl_console_talks_to_the_guest() {
	need_kvm
	start_vmmd
	define e1 echo
	ctl start e1 >/dev/null
	# the guest echoes upper-cased until 'q', then powers off, which ends the console
	timeout $(scaled 30) "$VMMCTL" console e1 >out < <(sleep 0.5; printf 'hello q'; sleep 30) || true
	tr -d '\r' <out | grep -q 'HELLO ' || { cat out; fail "the guest's echo did not come back"; }
	grep -q 'echo done' out || fail "the console did not show the guest's last words"
	wait_state e1 "shut off"
	! ctl console e1 2>err || fail "console of a shut-off VM succeeded"
	grep -q "e1 is not running" err || fail "wrong error: $(cat err)"
}

test_vmmd_keeps_the_console_log_after_the_vm_ends() {
	need_kvm
	start_vmmd
	define h hello
	ctl start h >/dev/null
	wait_state h "shut off"
	call '{"jsonrpc":"2.0","id":1,"method":"domain.console_log","params":{"name":"h"}}' >reply
	grep -q 'hello from the test guest' reply || { cat reply; fail "the log lacks the guest's greeting"; }
}

# vmm ends with status 0 only when its guest powered off. A guest that does
# so at once can end vmm before vmm took vmmd's connection, so its event
# reaches no one: vmmd still counts a shutdown, not a crash. A stand-in vmm
# listens on its control socket, says it runs, never accepts, and ends with 0.
test_vmmd_takes_vmm_status_0_as_a_shutdown_without_its_event() {
	cat >fake-vmm <<'EOF'
#!/usr/bin/python3
import os, socket, sys, time
ctl = [a.split("=unix:", 1)[1] for a in sys.argv if a.startswith("--control=unix:")][0]
s = socket.socket(socket.AF_UNIX)
s.bind(ctl)
s.listen(1)
os.write(3, b"1")
time.sleep(1)
EOF
	chmod 755 fake-vmm
	start_vmmd --vmm "$PWD/fake-vmm"
	define f hello
	ctl start f >/dev/null
	wait_state f "shut off"
	ctl dominfo f >info
	grep -q "^Reason: *shutdown" info || { cat info; fail "not a shutdown"; }
}

test_vmmd_samples_statistics_for_graphs() {
	need_kvm
	export VMMD_SOCKET=$PWD/run/vmmd.sock
	trap cleanup_vmmd EXIT
	"$VMMD" --state-dir "$PWD/state" --run-dir "$PWD/run" --sample-interval 1 >>vmmd.log 2>&1 &
	VMMD_PID=$!
	for i in $(seq $(scaled 100)); do [ -S "$VMMD_SOCKET" ] && break; sleep 0.1; done
	define s1 tick
	ctl start s1 >/dev/null
	sleep 3.5
	ctl --json domstats s1 >stats.json
	n=$(grep -c '"time_ms"' stats.json)
	[ "$n" -ge 2 ] || { cat stats.json; fail "$n samples after 3.5 s at one a second"; }
	# the guest spins: its CPU time grows from sample to sample
	grep '"cpu_time_ns"' stats.json | tail -n +2 | sed 's/[^0-9]//g' >cpu
	[ "$(sort -n cpu | uniq | wc -l)" -ge 2 ] || fail "CPU time did not grow: $(cat cpu)"
	ctl --json hostinfo | grep -q '"idle_ns"' || fail "no host samples"
	! "$VMMD" --sample-interval 0 2>err || fail "interval 0 accepted"
	grep -q "is not 1 to 3600 seconds" err || fail "$(cat err)"
}

test_vmmd_runs_vms_as_the_vm_user() {
	need_kvm
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	! "$VMMD" --state-dir "$PWD/s2" --run-dir "$PWD/r2" --vm-user no-such-user-here 2>err || fail "an unknown user was accepted"
	grep -q -- "--vm-user no-such-user-here: no such user" err || fail "$(cat err)"
	export VMMD_SOCKET=$PWD/run/vmmd.sock
	trap cleanup_vmmd EXIT
	"$VMMD" --state-dir "$PWD/state" --run-dir "$PWD/run" --vm-user nobody >>vmmd.log 2>&1 &
	VMMD_PID=$!
	for i in $(seq $(scaled 100)); do [ -S "$VMMD_SOCKET" ] && break; sleep 0.1; done
	define u1 tick
	ctl start u1 >/dev/null
	local pid
	pid=$(vmm_pid u1)
	[ "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" = "$(id -u nobody)" ] || fail "vmm is not nobody"
	[ "$(stat -c %U run/vms/u1)" = nobody ] || fail "the run folder is not nobody's"
	ctl suspend u1 >/dev/null && ctl resume u1 >/dev/null || fail "control requests failed"
	ctl shutdown u1 >/dev/null
	wait_state u1 "shut off"
	[ "$(field_of u1 reason)" = shutdown ] || fail "reason $(field_of u1 reason)"
	[ ! -e run/vms/u1/control.sock ] || fail "vmm could not remove its socket"
}

# domain.open_console hands the caller a socket connected to a running
# VM's serial port or VNC server (SCM_RIGHTS), so that a console proxy
# needs no path into the VMs' run folders; what it cannot open it refuses
# with no socket.
test_open_console_hands_over_a_connected_socket() {
	need_kvm
	start_vmmd
	define e echo "<graphics type='vnc'/>"
	define plain tick
	ctl start e >/dev/null
	open_console() { python3 "$SRCDIR/tests/tools/open_console.py" "$VMMD_SOCKET" "$@"; }

	open_console e serial 'hello\n' HELLO >out
	grep -q "^reply .*\"result\":{\"name\":\"e\",\"uuid\":\"$(field_of e uuid)\",\"kind\":\"serial\"}" out ||
		fail "$(cat out)"
	grep -q '^fds 1$' out && grep -q '^got HELLO$' out || fail "the serial socket does not reach the guest: $(cat out)"
	open_console e vnc '' 'RFB 003.008' >out
	grep -q '^fds 1$' out && grep -q '^got RFB 003.008$' out || fail "the VNC socket does not reach vmm's server: $(cat out)"

	refused() { # NAME KIND CODE MESSAGE: an error with no socket
		open_console "$1" "$2" >out
		grep -q "\"code\":$3,\"message\":\"$4\"" out && grep -q '^fds 0$' out ||
			fail "$1 $2: $(cat out)"
	}
	refused plain serial '"invalid-state"' 'plain is not running'
	refused e telnet '"invalid-params"' "params.kind is 'telnet', not serial or vnc"
	refused nosuch serial '"no-domain"' "no VM named 'nosuch'"
	ctl start plain >/dev/null
	refused plain vnc '"no-console"' 'plain runs without a screen'
	ctl destroy plain >/dev/null

	# The run folder is the VM user's: a link in it to another socket, or
	# another process's socket in the console's place, is refused, and
	# nothing connects through the link.
	socat "UNIX-LISTEN:$PWD/elsewhere.sock,fork" SYSTEM:'echo reached >>reached' &
	local listener=$!
	for i in $(seq 50); do [ -S elsewhere.sock ] && break; sleep 0.1; done
	mv run/vms/e/serial.sock run/vms/e/serial.real
	ln -s "$PWD/elsewhere.sock" run/vms/e/serial.sock
	refused e serial '"io-error"' "the serial socket of e is not its vmm's"
	sleep 0.5
	[ ! -e reached ] || fail "vmmd connected through the link"
	kill "$listener" || true
	rm run/vms/e/serial.sock
	socat "UNIX-LISTEN:$PWD/run/vms/e/serial.sock" - >/dev/null &
	listener=$!
	for i in $(seq 50); do [ -S run/vms/e/serial.sock ] && break; sleep 0.1; done
	refused e serial '"io-error"' "the serial socket of e is not its vmm's"
	kill "$listener" 2>/dev/null || true
	rm -f run/vms/e/serial.sock
	mv run/vms/e/serial.real run/vms/e/serial.sock
	open_console e serial 'again\n' AGAIN >out
	grep -q '^got AGAIN$' out || fail "the console put back does not work: $(cat out)"
	grep -q "domain.open_console e serial: its socket is not its vmm's; refused" vmmd.log ||
		fail "the refusal is not logged"
	ctl destroy e >/dev/null
	refused e serial '"invalid-state"' 'e is not running'
}
