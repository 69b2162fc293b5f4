# Helpers for scripts that run vmm with the inner stock-kernel guest, in
# the outer test VM (busybox sh) or directly on a host with VT-x/AMD-V.
# $VMM is the vmm binary, $BED_ROOT holds inner/vmlinuz and inner/initrd.

INNER_KERNEL=$BED_ROOT/inner/vmlinuz
INNER_INITRD=$BED_ROOT/inner/initrd

# result pass|fail NAME [detail]: one line the test runner collects.
result() {
	echo "RESULT $1 $2${3:+ $3}"
}

# guest_start ARGS...: start vmm with the inner kernel and initrd; its serial
# console is guest.out, input through fd 3, stderr in guest.err.
guest_start() {
	rm -f guest.in guest.out guest.err
	mkfifo guest.in
	exec 3<>guest.in
	"$VMM" run --kernel "$INNER_KERNEL" --initrd "$INNER_INITRD" "$@" \
		<guest.in >guest.out 2>guest.err &
	GUEST_PID=$!
}

# The console's complete lines: a line still being printed is not one yet.
guest_lines() {
	head -n "$(wc -l <guest.out 2>/dev/null || echo 0)" guest.out 2>/dev/null
}

# guest_wait PATTERN SECONDS: wait until the console shows PATTERN on a whole line.
guest_wait() {
	local i=0
	while [ $i -lt $(($2 * 10)) ]; do
		guest_lines | grep -q "$1" && return 0
		guest_running || { guest_lines | grep -q "$1"; return; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# guest_running: vmm has not ended (a zombie still answers kill -0: look
# at its state). Shell builtins only: it runs every tenth of a second in
# an emulated outer VM with one CPU.
guest_running() {
	local key value
	while read -r key value; do
		[ "$key" = State: ] || continue
		case $value in [RSD]*) return 0 ;; esac
		return 1
	done 2>/dev/null </proc/$GUEST_PID/status
	return 1
}

# guest_send TEXT: type a line on the guest's serial console.
guest_send() {
	printf '%s\n' "$1" >&3
}

# guest_value KEY: the value of the first "KEY=value" the guest printed.
guest_value() {
	guest_lines | tr -d '\r' | sed -n "s/^$1=//p" | head -n1
}

# guest_end SECONDS: wait for vmm to end and set GUEST_STATUS to its exit
# status, or to "timeout" (killing it) when it is still running. Not in a
# subshell: only this shell can reap vmm.
guest_end() {
	local i=0
	GUEST_STATUS=timeout
	while [ $i -lt $(($1 * 10)) ]; do
		if ! guest_running; then
			wait "$GUEST_PID"
			GUEST_STATUS=$?
			exec 3>&-
			return
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
	exec 3>&-
}

# guest_log: the guest's console and vmm's stderr, for a failure's detail.
guest_log() {
	echo "--- guest console"
	tr -d '\r' <guest.out | tail -n 40
	echo "--- vmm stderr"
	cat guest.err
}
