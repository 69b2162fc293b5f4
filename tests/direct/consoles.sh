# Browser consoles with guests that run: a ticket from the portal opens the
# VM's serial port or screen through nginx and the console proxy, each
# user reaches only their own VM, and an open console closes within 5 s
# when its session ends (logout, password change, expiry), its user is
# disabled, its right is taken away or its VM stops. (The refusals that need no running VM are in
# tests/web/console.sh; the pages in Chromium in tests/web/browser_live.sh.)

. "$SRCDIR/tests/web/lib.sh"

session_of() { awk '$6 == "__Host-webkvm" { print $7 }' "$1"; }

# ticket JAR VM KIND: one from the portal, as the console page fetches it
ticket() {
	local status
	status=$(JAR=$1 post "/instance/$2/console/$3/ticket.json")
	[ "$status" = 200 ] || fail "$1's ticket for the $3 console of $2 answered $status: $(cat body.html)"
	sed -n 's/.*"ticket":"\([0-9a-f]*\)".*/\1/p' body.html
}

# wsc JAR TICKET [ARGS...]: ws_console.py through nginx with JAR's session
wsc() {
	local jar=$1 ticket=$2
	shift 2
	python3 "$SRCDIR/tests/tools/ws_console.py" "$URL" "$(session_of "$jar")" "$ticket" "$@"
}

setup_two_vms() {
	need_kvm
	start_portal
	define vm-a echo
	define vm-b fb "<graphics type='vnc'/>"
	ctl start vm-a >/dev/null && ctl start vm-b >/dev/null || fail "cannot start the guests"
	login_admin
	make_user alice
	make_user bob
	set_rights alice vm-a console
	set_rights bob vm-b console
	JAR=alice login alice alice-password-123
	JAR=bob login bob bob-password-123
}

test_consoles_open_through_the_portal_and_reach_only_their_own_vm() {
	setup_two_vms
	local t out
	# alice types into vm-a's serial port, and the echo guest answers
	t=$(ticket alice vm-a serial)
	out=$(wsc alice "$t" --send 'hello\n' --expect HELLO)
	echo "$out" | grep -q "^got HELLO" || fail "alice's serial console: $out"
	# the ticket was for one connection
	out=$(wsc alice "$t")
	[ "$out" = "status 403" ] || fail "a used ticket opened a console again: $out"
	# bob's screen of vm-b: noVNC's stream starts with the RFB greeting
	t=$(ticket bob vm-b vnc)
	out=$(wsc bob "$t" --expect "RFB 003.008")
	echo "$out" | grep -q "^got RFB" || fail "bob's screen: $out"
	# vm-a has no screen: refused with a reason at the ticket's use
	t=$(ticket alice vm-a vnc)
	out=$(wsc alice "$t")
	[ "$out" = "status 409" ] || fail "the screen of a VM without one: $out"
	# neither may reach the other's VM
	[ "$(JAR=alice post /instance/vm-b/console/serial/ticket.json)" = 403 ] || fail "alice got a ticket for vm-b"
	[ "$(JAR=bob post /instance/vm-a/console/vnc/ticket.json)" = 403 ] || fail "bob got a ticket for vm-a"
	# both at once: each sees only their own VM
	t=$(ticket alice vm-a serial)
	wsc alice "$t" --send 'one\n' --expect ONE --hold 3 >alice.out &
	local pid=$!
	t=$(ticket bob vm-b serial)
	wsc bob "$t" --send 'two\n' --hold 2 >bob.out
	wait "$pid" || true
	grep -q "^got ONE" alice.out || fail "alice's console beside bob's: $(cat alice.out)"
	grep -q "TWO" alice.out && fail "bob's input reached alice's VM"
	web /audit >/dev/null
	grep -q "<td>open serial console</td><td>vm-a</td><td>ok</td>" body.html ||
		fail "opening a console is not in the audit log"
	return 0
}

# open_held JAR VM NAME: a serial console of VM held open in the background
# (NAME.out); returns once it is open.
open_held() {
	local t i
	t=$(ticket "$1" "$2" serial)
	wsc "$1" "$t" --hold 30 >"$3.out" &
	for i in $(seq $(scaled 100)); do
		grep -q "^status" "$3.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "^status 101" "$3.out" || fail "the console $3 did not open: $(cat "$3.out")"
}

# closed_within NAME SINCE CODE: the console NAME closed with CODE within 5 s of SINCE
closed_within() {
	local i line at
	for i in $(seq $(scaled 100)); do
		line=$(grep "^closed" "$1.out" || true)
		[ -n "$line" ] && break
		sleep 0.1
	done
	[ -n "$line" ] || fail "the console $1 is still open 10 s on: $(cat "$1.out")"
	echo "$1: $line"
	at=${line##* at }
	echo "$line" | grep -q "^closed $3 " || fail "the console $1: $line (not $3)"
	python3 -c "import sys; sys.exit(0 if $at - $2 < 5 else 1)" ||
		fail "the console $1 closed $(python3 -c "print(round($at - $2, 1))") s after, not within 5 s"
}

now() { python3 -c 'import time; print(f"{time.time():.3f}")'; }

test_an_open_console_closes_when_its_session_or_right_ends() {
	setup_two_vms
	local t0
	open_held alice vm-a logout
	t0=$(now)
	[ "$(JAR=alice post /logout)" = 303 ] || fail "logout failed"
	closed_within logout "$t0" 1008

	JAR=alice login alice alice-password-123
	open_held alice vm-a disable
	t0=$(now)
	[ "$(post /user/alice role=user disabled=on)" = 303 ] || fail "disabling alice failed"
	closed_within disable "$t0" 1008
	[ "$(post /user/alice role=user)" = 303 ] || fail "enabling alice failed"

	JAR=alice login alice alice-password-123
	open_held alice vm-a right
	t0=$(now)
	set_rights alice vm-a
	closed_within right "$t0" 1008
	set_rights alice vm-a console

	# a password change ends the user's other sessions
	JAR=alice login alice alice-password-123
	open_held alice vm-a password
	JAR=alice2 login alice alice-password-123
	JAR=alice2 web /account/password >/dev/null
	t0=$(now)
	[ "$(JAR=alice2 post /account/password current=alice-password-123 new=alice-password-456 \
		repeat=alice-password-456)" = 303 ] || fail "alice's password change failed"
	closed_within password "$t0" 1008

	# a session that expired (idle for more than 30 minutes: its last
	# activity is set back, as the portal's own expiry test does)
	open_held alice2 vm-a expired
	t0=$(now)
	as_portal /usr/bin/python3 -c "import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute('UPDATE sessions SET last_active = ? WHERE user_id = (SELECT id FROM users WHERE name = ?)', (int(time.time()) - 31 * 60, 'alice'))
db.commit()" "$PWD/portal/portal.db"
	closed_within expired "$t0" 1008

	# the VM's end: a console its VM closes says so (1000)
	JAR=alice2 login alice alice-password-456
	open_held alice2 vm-a destroyed
	t0=$(now)
	ctl destroy vm-a >/dev/null
	closed_within destroyed "$t0" 1000
}
