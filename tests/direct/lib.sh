# Helpers for direct-tier tests: the tiny test guest on this machine's /dev/kvm.
# Each test_* function runs in its own bash in a fresh temporary folder;
# it fails on the first failing command (set -e) or an explicit fail.

fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

need_kvm() {
	[ -c /dev/kvm ] || skip "no /dev/kvm on this machine"
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no access to /dev/kvm"
}

# run_guest MODE [vmm options...]: boot the test guest with guest=MODE and
# wait (10 s at most) for vmm to end; output in out, stderr in err, the
# exit status in $status.
run_guest() {
	local mode=$1
	shift
	need_kvm
	status=0
	timeout -s KILL 10 "$VMM" run --kernel "$TESTGUEST" --cmdline "guest=$mode" "$@" \
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
	for i in $(seq 100); do
		tr -d '\r' <"$1" 2>/dev/null | grep -q -- "$2" && return 0
		sleep 0.1
	done
	fail "'$2' never appeared in $1"
}

# vmmd and vmmctl
VMMD=$BUILDDIR/vmm/vmmd
VMMCTL=$BUILDDIR/vmm/vmmctl

# start_vmmd: a vmmd with its folders under the test's folder.
start_vmmd() {
	export VMMD_SOCKET=$PWD/run/vmmd.sock
	trap cleanup_vmmd EXIT
	rm -f "$VMMD_SOCKET" # a killed vmmd leaves it
	"$VMMD" --state-dir "$PWD/state" --run-dir "$PWD/run" >>vmmd.log 2>&1 &
	VMMD_PID=$!
	local i
	for i in $(seq 100); do
		[ -S "$VMMD_SOCKET" ] && return 0
		sleep 0.1
	done
	cat vmmd.log
	fail "vmmd did not come up"
}

cleanup_vmmd() {
	kill -9 "$VMMD_PID" 2>/dev/null || true
	pkill -9 -f -- "--control=unix:$PWD/run/" 2>/dev/null || true
	pkill -f -- "UNIX-CONNECT:$PWD/run/" 2>/dev/null || true
}

ctl() { "$VMMCTL" "$@"; }

# call JSON-LINE: one raw request to vmmd, the reply on stdout.
call() { printf '%s\n' "$1" | socat -t5 - "UNIX-CONNECT:$VMMD_SOCKET"; }

