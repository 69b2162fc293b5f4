# Browser consoles without a running VM (no KVM here): the console proxy's
# websocket itself, in its benchmark mode against an echo server, and
# every refusal of its tickets and of the portal's console routes. What
# needs a guest that runs (a console that opens, shows only its own VM,
# and closes when its session or right ends) is in tests/direct/portal.sh.

# A free loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_listening PORT...: each loopback TCP port is listened on (read from
# /proc/net/tcp: a connection would use up a listener that takes one),
# within 30 s.
wait_listening() {
	local i
	for i in $(seq 300); do
		python3 - "$@" <<'END' && return 0
import sys
want = {int(p) for p in sys.argv[1:]}
for line in open("/proc/net/tcp").readlines()[1:]:
    local, state = line.split()[1], line.split()[3]
    if state == "0A" and local.startswith("0100007F:"):
        want.discard(int(local.split(":")[1], 16))
sys.exit(1 if want else 0)
END
		sleep 0.1
	done
	fail "nothing listens on port $* after 30 s"
}

test_the_console_proxy_speaks_strict_rfc6455() {
	need_portal
	local echo_port proxy_port pid i
	echo_port=$(free_port)
	proxy_port=$(free_port)
	socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,fork,reuseaddr" EXEC:cat &
	# the memory checks measure the proxy's RSS: under AddressSanitizer what
	# is freed must be reused at once, as malloc does, not held in quarantine
	(ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
		exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$WEBSOCKIFY" \
		--listen "127.0.0.1:$proxy_port" --target "127.0.0.1:$echo_port" \
		--handshake-timeout 3000 >websockify.log 2>&1) &
	pid=$!
	wait_listening "$echo_port" "$proxy_port"
	python3 "$SRCDIR/tests/tools/ws_conformance.py" "127.0.0.1:$proxy_port" "$pid" >conformance.txt 2>&1 ||
		{ cat conformance.txt; fail "the proxy failed its conformance checks"; }
	grep '^stalled reader' conformance.txt
	# SIGTERM: an idle console gets its close (going away) before the proxy ends
	python3 "$SRCDIR/tests/tools/ws_ends.py" stop "127.0.0.1:$proxy_port" >stop.out &
	for i in $(seq 300); do grep -q open stop.out && break; sleep 0.1; done
	grep -q open stop.out || fail "the console to be stopped did not open in 30 s: $(cat stop.out)"
	kill -TERM "$pid"
	wait "$pid" || fail "the proxy did not end cleanly on SIGTERM: $(tail -3 websockify.log)"
	wait $! || true
	grep -q "^close 1001 the console proxy is stopping" stop.out || fail "on SIGTERM an open console got: $(cat stop.out)"
	grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' websockify.log &&
		{ cat websockify.log; fail "the sanitizers found something in the proxy"; }
	return 0
}

# A guest's last output before it ends reaches the browser before the
# close, and a browser's last input before it drops the connection
# reaches the guest.
test_the_console_proxy_loses_nothing_at_either_end() {
	need_portal
	local src_port sink_port p1 p2 i out
	src_port=$(free_port)
	sink_port=$(free_port)
	p1=$(free_port)
	p2=$(free_port)
	socat "TCP-LISTEN:$src_port,bind=127.0.0.1,reuseaddr" SYSTEM:'head -c 300000 /dev/zero' &
	socat -u "TCP-LISTEN:$sink_port,bind=127.0.0.1,reuseaddr" "CREATE:$PWD/got.bin" &
	local sink=$!
	for port in "$p1:$src_port" "$p2:$sink_port"; do
		(exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$WEBSOCKIFY" \
			--listen "127.0.0.1:${port%%:*}" --target "127.0.0.1:${port##*:}" >>websockify.log 2>&1) &
	done
	wait_listening "$src_port" "$sink_port" "$p1" "$p2"
	out=$(python3 "$SRCDIR/tests/tools/ws_ends.py" last-output "127.0.0.1:$p1" 300000)
	[ "$out" = "got 300000 close 1000" ] || fail "the guest's last output: $out"
	python3 "$SRCDIR/tests/tools/ws_ends.py" last-input "127.0.0.1:$p2" 1048576 >/dev/null
	for i in $(seq 300); do kill -0 "$sink" 2>/dev/null || break; sleep 0.1; done
	[ "$(stat -c %s got.bin)" = 1048576 ] || fail "the browser's last input: $(stat -c %s got.bin) of 1048576 bytes reached the guest"
}

test_the_fixed_target_is_only_for_loopback() {
	need_portal
	local out status
	for listen in 0.0.0.0:7001 10.0.0.1:7001 "$PWD/ws.sock"; do
		status=0
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$WEBSOCKIFY" \
			--listen "$listen" --target 127.0.0.1:7002 2>&1) || status=$?
		[ "$status" = 2 ] || fail "--listen $listen --target answered $status: $out"
		echo "$out" | grep -q "needs --listen 127.0.0.1:PORT" || fail "no reason given: $out"
	done
	status=0
	out=$("$WEBSOCKIFY" --listen "$PWD/ws.sock" 2>&1) || status=$?
	[ "$status" = 1 ] && echo "$out" | grep -q "does not run as root" ||
		fail "as root it answered $status: $out"
	[ ! -e ws.sock ] || fail "it left a socket behind"
}

session_of() { awk '$6 == "__Host-webkvm" { print $7 }' "$1"; }
ticket_for() { # JAR VM KIND [MS-LEFT]
	as_portal /usr/bin/python3 "$SRCDIR/tests/tools/ticket_db.py" "$PWD/portal/portal.db" \
		"$(session_of "$1")" "$(uuid_of "$2")" "$2" "$3" ${4:+"$4"}
}
# console JAR TICKET [ARGS...]: the handshake's status through nginx
console() {
	local jar=$1 ticket=$2 sid=
	shift 2
	[ "$jar" = - ] || sid=$(session_of "$jar")
	python3 "$SRCDIR/tests/tools/ws_console.py" "$URL" "${sid:--}" "$ticket" "$@" |
		sed -n 's/^status //p; s/^statuses //p'
}

setup_consoles() {
	start_portal
	define vm-a echo
	define vm-b echo
	login_admin
	make_user alice
	make_user bob
	set_rights alice vm-a console
	set_rights bob vm-a
	JAR=alice login alice alice-password-123
	JAR=bob login bob bob-password-123
}

test_a_console_opens_only_with_a_fresh_ticket_of_the_same_session_and_the_right() {
	setup_consoles
	local t status
	# every check passed: vmmd's answer, the VM is not running, is the last word
	t=$(ticket_for alice vm-a serial)
	[ "$(console alice "$t")" = 409 ] || fail "alice's own ticket was not admitted"
	[ "$(console alice "$t")" = 403 ] || fail "a ticket opened a second connection"
	t=$(ticket_for alice vm-a serial)
	[ "$(console - "$t")" = 403 ] || fail "a ticket without the session's cookie was admitted"
	[ "$(console alice "$t")" = 403 ] || fail "a ticket spent by a refused use still worked"
	t=$(ticket_for alice vm-a serial)
	[ "$(console bob "$t")" = 403 ] || fail "alice's ticket with bob's cookie was admitted"
	t=$(ticket_for alice vm-a serial)
	JAR=alice2 login alice alice-password-123
	[ "$(console alice2 "$t")" = 403 ] || fail "a ticket of another session of the same user was admitted"
	t=$(ticket_for alice vm-a vnc -1)
	[ "$(console alice "$t")" = 403 ] || fail "an expired ticket was admitted"
	t=$(ticket_for alice vm-a serial)
	status=$(console alice "$t" --race 2)
	[ "$status" = "403 409" ] || fail "two connections racing for one ticket got: $status"
	t=$(ticket_for alice vm-a serial)
	[ "$(console alice "$t" --origin https://evil.example)" = 403 ] || fail "another site's page opened a console"
	[ "$(console alice "$t" --origin -)" = 403 ] || fail "a handshake without an Origin was admitted"
	# names, uuids and ids are not tickets
	[ "$(console alice - --path "/websockify?ticket=vm-a")" = 400 ] || fail "a VM's name as a ticket"
	[ "$(console alice - --path "/websockify?ticket=$(uuid_of vm-a)")" = 400 ] || fail "a uuid as a ticket"
	[ "$(console alice - --path "/websockify?ticket=1")" = 403 ] || fail "an id as a ticket"
	[ "$(console alice - --path "/websockify?vm=vm-a")" = 403 ] || fail "a console without a ticket"
	[ "$(console alice - --path "/websockify?ticket=")" = 403 ] || fail "an empty ticket"
	# the right, at the moment the ticket is used
	t=$(ticket_for bob vm-a serial)
	[ "$(console bob "$t")" = 403 ] || fail "bob, without the console right, was admitted"
	t=$(ticket_for alice vm-a serial)
	set_rights alice vm-a
	[ "$(console alice "$t")" = 403 ] || fail "a ticket outlived the console right it was issued under"
	set_rights alice vm-a console
	t=$(ticket_for alice vm-a serial)
	[ "$(JAR=alice post /logout)" = 303 ] || fail "logout failed"
	[ "$(console alice "$t")" = 403 ] || fail "a ticket outlived its session"
	web /audit >/dev/null
	grep -q "<td>open serial console</td><td>vm-a</td><td>the ticket belongs to another session" body.html ||
		fail "the refusals are not in the audit log"
	grep -q "<td>open serial console</td><td>vm-a</td><td>the VM is not running" body.html ||
		fail "the admitted tries are not in the audit log"
}

test_console_pages_and_tickets_need_the_console_right() {
	setup_consoles
	local status
	[ "$(JAR=alice web /instance/vm-a/console/serial)" = 200 ] || fail "alice's serial console page"
	grep -q 'data-kind="serial"' body.html && grep -q '/static/js/console-serial.js' body.html ||
		fail "the serial page lacks its parts"
	[ "$(JAR=alice web /instance/vm-a/console/vnc)" = 200 ] || fail "alice's screen page"
	grep -q '/static/js/console-vnc.js' body.html || fail "the screen's page lacks its script"
	[ "$(JAR=alice web /instance/vm-a/console/rdp)" = 404 ] || fail "an unknown kind of console"
	[ "$(JAR=bob web /instance/vm-a/console/serial)" = 403 ] || fail "bob, without the right, got the page"
	[ "$(JAR=alice web /instance/vm-b/console/vnc)" = 403 ] || fail "alice got another VM's console page"
	# the ticket: a POST with the session's token from our own pages
	status=$(JAR=alice post /instance/vm-a/console/serial/ticket.json)
	[ "$status" = 409 ] && grep -q '"error":"vm-a is not running' body.html ||
		fail "a ticket for a VM that is not running: $status $(cat body.html)"
	status=$(JAR=bob post /instance/vm-a/console/serial/ticket.json)
	[ "$status" = 403 ] || fail "bob got a ticket: $status"
	status=$(JAR=alice post /instance/vm-b/console/vnc/ticket.json)
	[ "$status" = 403 ] || fail "alice got a ticket for another VM: $status"
	status=$(JAR=alice web -H "Origin: $URL" -X POST /instance/vm-a/console/serial/ticket.json)
	[ "$status" = 403 ] || fail "a ticket without the CSRF token: $status"
	status=$(JAR=alice web -H "Origin: https://evil.example" \
		--data-urlencode "csrf=$(JAR=alice csrf /instance/vm-a/console/serial)" \
		/instance/vm-a/console/serial/ticket.json)
	[ "$status" = 403 ] || fail "a ticket asked from another site's page: $status"
	status=$(JAR=alice web /instance/vm-a/console/serial/ticket.json)
	[ "$status" = 405 ] || fail "a ticket by GET: $status"
	as_portal /usr/bin/python3 -c "import sqlite3,sys; sys.exit(sqlite3.connect('$PWD/portal/portal.db').execute('SELECT count(*) FROM console_tickets').fetchone()[0])" ||
		fail "a refused request left a ticket behind"
}
