# The screen over VNC: framebuffer, i8042 keyboard and mouse, seen by a
# viewer of the test suite (libvncclient) and by the test guest. The guest
# paints slowly on some nested hosts, so the screens here are small.

# start_fb_guest [vmm options...]: the guest in fb mode with a 320x240 screen
# on vnc.sock; its pid in $pid, its console in console.log.
start_fb_guest() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=fb --fb 320x240 \
		--vnc unix:$PWD/vnc.sock --serial file:console.log "$@" </dev/null >out 2>err &
	pid=$!
	# A failing test must not leave its guest spinning.
	trap 'kill -KILL $pid 2>/dev/null || true' EXIT
	wait_for console.log 'keys ready'
}

stop_guest() {
	kill -KILL $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
}

# console_has LINE...: each line appears in the console, in that order.
console_has() {
	local got
	got=$(tr -d '\r' <console.log)
	for line in "$@"; do
		printf '%s\n' "$got" | grep -qx -- "$line" || { echo "$got"; fail "no line '$line' on the console"; }
		got=$(printf '%s\n' "$got" | sed "0,/^$line\$/d")
	done
}

test_viewer_sees_the_pattern_pixel_exact() {
	start_fb_guest
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern || fail "the viewer did not see the pattern"
	stop_guest
}

test_guest_redraw_reaches_the_viewer() {
	start_fb_guest
	# F1 (keysym 0xffbe) makes the guest paint an orange square at 100,100.
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern key 0xffbe square 100 100 ff8000 ||
		fail "the redrawn square did not reach the viewer"
	stop_guest
}

test_keys_arrive_as_scancodes() {
	start_fb_guest
	# a, Shift+1 ('!'), Up (an E0 key), keypad Enter: set 1, as translated.
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock key 0x61 keydown 0xffe1 key 0x21 keyup 0xffe1 \
		key 0xff52 key 0xff8d sleep 300
	wait_for console.log 'kbd 0x9c'
	console_has 'kbd 0x1e' 'kbd 0x9e' 'kbd 0x2a' 'kbd 0x2' 'kbd 0x82' 'kbd 0xaa' \
		'kbd 0xe0' 'kbd 0x48' 'kbd 0xe0' 'kbd 0xc8' 'kbd 0xe0' 'kbd 0x1c' 'kbd 0xe0' 'kbd 0x9c'
	stop_guest
}

# The guest halts while the i8042 has no byte for it: the keyboard's IRQ1
# and the mouse's IRQ12 (through the second 8259) bring it back, and a
# screen that waits for keys takes no host CPU.
test_keys_and_pointer_wake_a_halted_guest() {
	local busy
	start_fb_guest
	busy=$(busy_ms $pid)
	[ "$busy" -lt 1000 ] || fail "vmm ran (or waited to run) $busy ms of 3 s while its guest waited for keys"
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock key 0x61 sleep 300
	wait_for console.log 'kbd 0x9e'
	console_has 'kbd 0x1e' 'kbd 0x9e'
	# the pointer on its own, once the guest halts again: IRQ12 alone wakes it
	sleep 0.5
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock pointer 10 10 0 sleep 300
	wait_for console.log 'aux 0xa'
	stop_guest
}

test_untranslated_keyboard_gets_set_2() {
	start_fb_guest
	# F12 down: the guest turns translation off; then F12 up and Escape in set 2.
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock keydown 0xffc9 sleep 300
	wait_for console.log 'xlate off'
	# The guest powers off on Escape, so the viewer may see the server go.
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock keyup 0xffc9 key 0xff1b || true
	wait $pid || fail "vmm did not end after Escape"
	console_has 'kbd 0x58' 'xlate off' 'kbd 0xf0' 'kbd 0x7' 'kbd 0x76'
}

test_extended_key_event_sends_the_key_itself() {
	start_fb_guest
	# XT code 0x10 is the key right of Tab, whatever symbol the viewer's layout gives it.
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock xtkey 0x10 xtkey 0xd3 sleep 300 ||
		fail "extended key events failed"
	wait_for console.log 'kbd 0xd3'
	console_has 'kbd 0x10' 'kbd 0x90' 'kbd 0xe0' 'kbd 0x53' 'kbd 0xe0' 'kbd 0xd3'
	stop_guest
}

test_pointer_moves_the_ps2_mouse() {
	start_fb_guest
	# From 0,0 to 10,10 with the left button, then to 20,5 with none.
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock pointer 10 10 1 pointer 20 5 0 sleep 300
	wait_for console.log 'aux 0x5'
	# packet: buttons|bit 3|sign bits, dx, dy (up is positive)
	console_has 'aux 0x29' 'aux 0xa' 'aux 0xf6' 'aux 0x8' 'aux 0xa' 'aux 0x5'
	stop_guest
}

test_several_viewers_at_once() {
	start_fb_guest
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern sleep 3000 >v1 2>&1 &
	local v1=$!
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern sleep 3000 >v2 2>&1 &
	local v2=$!
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern || fail "third viewer"
	wait $v1 || { cat v1; fail "first viewer"; }
	wait $v2 || { cat v2; fail "second viewer"; }
	stop_guest
}

test_bad_viewers_disturb_no_one() {
	start_fb_guest
	# A good viewer stays connected throughout.
	timeout $(scaled 60) "$VNC_CLIENT" vnc.sock pattern sleep 4000 key 0x61 pattern >good 2>&1 &
	local good=$!
	# garbage instead of a handshake
	head -c 4096 /dev/urandom | timeout $(scaled 5) socat - UNIX-CONNECT:vnc.sock >/dev/null 2>&1 || true
	# a valid handshake, then half a pointer event, then silence and hang-up
	printf 'RFB 003.008\n\001\001\005\000' | timeout $(scaled 5) socat -t 2 - UNIX-CONNECT:vnc.sock \
		>/dev/null 2>&1 || true
	# a valid handshake, then an unknown message type
	printf 'RFB 003.008\n\001\001\077junk' | timeout $(scaled 5) socat -t 2 - UNIX-CONNECT:vnc.sock \
		>/dev/null 2>&1 || true
	# a viewer that stalls mid-message and keeps the connection open
	(printf 'RFB 003.008\n\001\001\004\001'; sleep 8) | timeout $(scaled 10) socat - UNIX-CONNECT:vnc.sock \
		>/dev/null 2>&1 &
	local stall=$!
	sleep 1
	# a new viewer is served while the stalled one waits
	timeout $(scaled 30) "$VNC_CLIENT" vnc.sock pattern key 0x62 || fail "a new viewer was not served"
	wait $good || { cat good; fail "the good viewer was disturbed"; }
	kill $stall 2>/dev/null || true
	wait_for console.log 'kbd 0x30'
	console_has 'kbd 0x1e' 'kbd 0x9e'
	kill -0 $pid || fail "vmm died"
	stop_guest
}

# A wrong password is refused by the server's answer (vnc-client's status 3
# says it read exactly that), not by a server that crashed or hung up; vmm
# runs on and still lets the right password in.
test_vnc_password() {
	local status=0
	printf 'sesame\n' >pw
	start_fb_guest --vnc unix:$PWD/vnc.sock,password=$PWD/pw
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock password sesame pattern || fail "the right password was refused"
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock password wrong pattern 2>refused || status=$?
	[ $status -ne 0 ] || fail "a wrong password was let in"
	[ $status -eq 3 ] && grep -q "the server refused the password" refused ||
		{ cat refused err; fail "a wrong password ended the viewer with status $status, not with the server's refusal"; }
	running $pid || { cat err; fail "vmm ended after a wrong password"; }
	timeout $(scaled 20) "$VNC_CLIENT" vnc.sock password sesame pattern ||
		fail "the right password was refused after a wrong one"
	running $pid || { cat err; fail "vmm ended"; }
	stop_guest
}

test_vnc_on_tcp() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=fb --fb 320x240 \
		--vnc tcp:127.0.0.1:0 --serial file:console.log </dev/null >out 2>err &
	pid=$!
	trap 'kill -KILL $pid 2>/dev/null || true' EXIT
	wait_for console.log 'keys ready'
	local port
	port=$(ss -Hltnp | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | head -1)
	[ -n "$port" ] || fail "vmm listens on no TCP port"
	timeout $(scaled 20) socat UNIX-LISTEN:$PWD/relay.sock TCP:127.0.0.1:$port &
	local i
	for i in $(seq $(scaled 100)); do [ -S relay.sock ] && break; sleep 0.1; done
	timeout $(scaled 20) "$VNC_CLIENT" relay.sock pattern || fail "no screen over TCP"
	stop_guest
}

# maps_of PID: vmm's memory map in the file maps, read while it runs (one
# that ended shows none, so a missing library would prove nothing).
maps_of() {
	cat "/proc/$1/maps" >maps 2>/dev/null || { cat err; fail "cannot read the maps of vmm ($1)"; }
	running "$1" || { cat err; fail "vmm was not running when its maps were read"; }
	grep -qF "$(readlink -f "$VMM")" maps || fail "the maps read do not show vmm itself"
}

# A VM without a screen does not carry libvncserver and what it brings (TLS,
# crypto, image codecs): the library is loaded only for --vnc.
test_libvncserver_is_loaded_only_with_a_screen() {
	need_kvm
	"$VMM" run --kernel "$TESTGUEST" --cmdline guest=halt --memory 32 --serial file:console.log \
		</dev/null >out 2>err &
	pid=$!
	trap 'kill -KILL $pid 2>/dev/null || true' EXIT
	wait_for console.log halting
	maps_of $pid
	grep -q 'libc[.-]' maps || fail "the maps read show no libc"
	! grep -q libvncserver maps || fail "a VM without a screen mapped libvncserver"
	! grep -q libgnutls maps || fail "a VM without a screen mapped gnutls"
	stop_guest
	start_fb_guest
	maps_of $pid
	grep -q libvncserver maps || fail "a VM with a screen has no libvncserver mapped"
	stop_guest
}

test_error_vnc_options() {
	need_kvm
	expect_error "vnc bogus is not unix:PATH or tcp:HOST:PORT" run --kernel "$TESTGUEST" --vnc bogus
	expect_error "unknown option colour=1" run --kernel "$TESTGUEST" --vnc unix:x.sock,colour=1
	expect_error "fb 100x100 is not WIDTHxHEIGHT" run --kernel "$TESTGUEST" --vnc unix:x.sock --fb 100x100
	expect_error "fb sizes the screen of --vnc, which is missing" run --kernel "$TESTGUEST" --fb 640x480
	touch notasocket
	expect_error "notasocket exists and is not a socket" run --kernel "$TESTGUEST" --vnc unix:notasocket
	expect_error "cannot read the VNC password file" \
		run --kernel "$TESTGUEST" --vnc unix:x.sock,password=/nonexistent
	: >empty
	expect_error "must hold one line" run --kernel "$TESTGUEST" --vnc unix:x.sock,password=empty
	[ ! -e x.sock ] || fail "a socket was left behind after an error"
}
