#!/bin/bash
# Time from navigation to the fully rendered list of VMs in headless
# chromium, logged in already, with 10, 100 and 1,000 VMs defined: our
# instances page (webkvm.fcgi behind nginx, the VMs defined in vmmd) next
# to cockpit-machines from Debian (cockpit-ws, the same VMs defined in
# libvirt's qemu:///system) in the same run; the median of 9 runs a size
# for ours and of 3 for cockpit's (its 100 VMs once).
# It prints the times, the ratios and the targets, and never fails on them.
#
#   tests/bench/browser_list.sh BUILDDIR
#
# Cockpit runs without systemd here: the system bus, virtlogd and libvirtd
# are started by hand when they are not running (the bus starts
# libvirt-dbus and polkitd itself), cockpit-ws listens on the loopback
# without TLS, and a throwaway user in the libvirt group logs in. All that
# it started is stopped after, the VMs undefined and the user removed.
# cockpit-machines' list is capped at BENCH_LIST_LIMIT seconds (60) and its
# 100-VM list is timed once; its 1,000-VM list is not timed, as it never
# completes (its D-Bus calls go past dbus-daemon's 128 pending replies a
# connection), unless BENCH_LIST_COCKPIT_1000=1.
set -u
export SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
export BUILDDIR=$(cd "$1" && pwd)
export VMM=$BUILDDIR/vmm/vmm TESTGUEST=$BUILDDIR/tests/guests/testguest.bzImage
RUNS=${BENCH_LIST_RUNS:-3}
# ours takes a tenth of a second a run: more runs steady its median
OUR_RUNS=${BENCH_LIST_OUR_RUNS:-9}
LIMIT=${BENCH_LIST_LIMIT:-60}
SIZES=${BENCH_LIST_SIZES:-10 100 1000}
work=$(mktemp -d /tmp/webkvm-list.XXXXXX)
cd "$work" || exit 1
. "$SRCDIR/tests/web/lib.sh"
. "$SRCDIR/tests/web/browser.sh"
for f in /usr/lib/cockpit/cockpit-ws /usr/share/cockpit/machines/manifest.json \
	/usr/share/cockpit/shell/manifest.json /usr/sbin/libvirtd /usr/sbin/libvirt-dbus /usr/bin/dbus-daemon; do
	[ -e "$f" ] || { echo "bench: list: $f is missing (contrib/install-deps installs it)"; exit 1; }
done
need_browser
cp "$SRCDIR/tests/browser/list-time.mjs" "$SRCDIR/tests/browser/launch.mjs" "$BUILDDIR/tests/browser/"

# list_time KIND URL USER PASSWORD N RUNS: "MEDIAN-MS" when every run
# completed (for ours followed by the medians of the page's response end
# and load event end), "incomplete ROWS" when one did not, "error ..." otherwise.
list_time() {
	(cd "$BUILDDIR/tests/browser" && node list-time.mjs "$@" "$LIMIT") >list.out 2>&1
	if grep -q '^incomplete' list.out; then
		grep '^incomplete' list.out | head -n1
	elif grep -q '^run' list.out; then
		# the median of each figure on the run lines
		for f in 2 3 4; do
			awk -v f=$f '$1 == "run" && NF >= f { print $f }' list.out | sort -n |
				awk 'END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) } { v[NR] = $1 }'
		done | tr '\n' ' '
		echo
	else
		echo "error $(head -c 300 list.out | tr '\n' ' ')"
	fi
}

# vmmd_define_upto N: vm0001 to vmN defined in vmmd, the new ones over
# one connection (a vmmctl a VM takes minutes for 1,000 on a busy machine).
vmmd_define_upto() {
	local xml name sent=0
	# one line of JSON with @NAME@ where the name goes
	xml=$(domain_xml @NAME@ echo | tr -d '\n' | sed 's/\\/\\\\/g; s/"/\\"/g')
	: >define.jsonl
	while [ $defined -lt $1 ]; do
		defined=$((defined + 1)) sent=$((sent + 1))
		printf -v name 'vm%04d' $defined
		printf '{"jsonrpc":"2.0","id":%d,"method":"domain.define","params":{"xml":"%s"}}\n' \
			$defined "${xml//@NAME@/$name}" >>define.jsonl
	done
	socat -t10 - "UNIX-CONNECT:$VMMD_SOCKET" <define.jsonl >define.out
	[ "$(grep -c '"result"' define.out)" = $sent ] ||
		{ echo "bench: list: vmmd refused definitions: $(grep -m1 error define.out)"; return 1; }
}

# --- ours: vmmd, webkvm.fcgi and nginx as the web tier starts them
# the benchmarks measure serving, not logging
NGINX_ACCESS_LOG=off start_portal >start.log 2>&1 || { cat start.log; exit 1; }
login_admin >>start.log 2>&1 || { cat start.log; exit 1; }
declare -A ours theirs nav
defined=0
for n in $SIZES; do
	vmmd_define_upto "$n" || exit 1
	ours[$n]=$(list_time portal "$URL" admin "$ADMIN_PASSWORD" "$n" "$OUR_RUNS")
	case ${ours[$n]} in
	[0-9]*)
		set -- ${ours[$n]}
		ours[$n]=$1 nav[$n]="; its navigation timing: response end $2 ms, load event end $3 ms"
		;;
	esac
done
cleanup_portal >/dev/null 2>&1
PORTAL_PID= VMMD_PID=
rm -f nginx.pid

# --- cockpit-machines
STARTED_DBUS= STARTED_VIRTLOGD= STARTED_LIBVIRTD= MADE_RUN_LIBVIRT= BUS_PIDS=
USER_NAME=wklist$$ COCKPIT_PID= LV_DEFINED=
bus_pid() { # NAME: the process that owns NAME on the system bus
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null | awk '/uint32/ { print $2 }'
}
stop_pids() { # PID...: TERM, then KILL what is left after 3 s
	local pid i
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null
	for i in $(seq 30); do
		for pid in "$@"; do [ -e "/proc/$pid" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null && break; pid=; done
		[ -z "$pid" ] && return 0
		sleep 0.1
	done
	kill -9 "$@" 2>/dev/null
}
virsh_batch() { # FILE: virsh commands, one a line, in one connection
	virsh -q -c qemu:///system <"$1" >>virsh.log 2>&1
}
cleanup_cockpit() {
	[ -n "$COCKPIT_PID" ] && stop_pids "$COCKPIT_PID"
	if getent passwd "$USER_NAME" >/dev/null; then
		stop_pids $(ps -u "$USER_NAME" -o pid= 2>/dev/null)
		userdel "$USER_NAME" 2>/dev/null
	fi
	if [ -n "$LV_DEFINED" ]; then
		: >undefine.cmds
		for name in $(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep '^wklist-'); do
			echo "undefine $name" >>undefine.cmds
		done
		virsh_batch undefine.cmds
	fi
	if [ -n "$STARTED_DBUS" ]; then
		BUS_PIDS="$(bus_pid org.libvirt) $(bus_pid org.freedesktop.PolicyKit1)"
	fi
	[ -n "$STARTED_LIBVIRTD" ] && stop_pids "$(cat libvirtd.pid 2>/dev/null)"
	[ -n "$STARTED_VIRTLOGD" ] && stop_pids "$(cat virtlogd.pid 2>/dev/null)"
	if [ -n "$STARTED_DBUS" ]; then
		stop_pids $BUS_PIDS "$STARTED_DBUS"
		rm -f /run/dbus/pid /run/dbus/system_bus_socket
	fi
	[ -n "$MADE_RUN_LIBVIRT" ] && rm -rf /run/libvirt
	COCKPIT_PID= LV_DEFINED= STARTED_DBUS= STARTED_LIBVIRTD= STARTED_VIRTLOGD= MADE_RUN_LIBVIRT=
}
trap 'cleanup_cockpit; cleanup_portal >/dev/null 2>&1' EXIT

cockpit_start() {
	local i
	if [ ! -S /run/dbus/system_bus_socket ]; then
		mkdir -p /run/dbus
		dbus-daemon --system --fork --print-pid >dbus.pid || { echo "bench: list: dbus-daemon does not start"; return 1; }
		STARTED_DBUS=$(cat dbus.pid)
	fi
	if ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
		if [ ! -d /run/libvirt ]; then
			# no network nor VM of this machine's autostarts for the benchmark
			MADE_RUN_LIBVIRT=1
			mkdir -p /run/libvirt/network /run/libvirt/qemu
			touch /run/libvirt/network/autostarted /run/libvirt/qemu/autostarted
		fi
		if ! pidof virtlogd >/dev/null; then
			/usr/sbin/virtlogd --daemon --pid-file "$work/virtlogd.pid" && STARTED_VIRTLOGD=1
		fi
		# Where this machine has a /dev/kvm that cannot run QEMU (a
		# paravirtualised one), libvirtd probes QEMU's KVM afresh on every
		# define (20 s each); its VMs here are only listed, never run, so
		# it gets a /dev of its own without kvm, as a machine without one.
		if [ -e /dev/kvm ]; then
			mkdir -p "$work/dev"
			unshare -m --propagation private sh -c '
				dev=$1
				mount -t tmpfs -o mode=755 tmpfs "$dev" || exit 1
				for e in /dev/* /dev/.[!.]*; do
					[ -e "$e" ] || [ -L "$e" ] || continue
					n=${e#/dev/}
					[ "$n" = kvm ] && continue
					if [ -L "$e" ]; then cp -P "$e" "$dev/$n"
					elif [ -d "$e" ]; then mkdir "$dev/$n" && mount --rbind "$e" "$dev/$n"
					else touch "$dev/$n" && mount --bind "$e" "$dev/$n"; fi || exit 1
				done
				mount --move "$dev" /dev || exit 1
				exec /usr/sbin/libvirtd --daemon --pid-file "$2"' sh "$work/dev" "$work/libvirtd.pid"
		else
			/usr/sbin/libvirtd --daemon --pid-file "$work/libvirtd.pid"
		fi || { echo "bench: list: libvirtd does not start"; return 1; }
		STARTED_LIBVIRTD=1
		for i in $(seq 100); do virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
	fi
	PASSWORD=$(openssl rand -hex 12)
	mkdir -p home
	useradd -d "$work/home" -G libvirt -s /bin/bash "$USER_NAME" &&
		chown "$USER_NAME:" home && echo "$USER_NAME:$PASSWORD" | chpasswd ||
		{ echo "bench: list: cannot make the user $USER_NAME"; return 1; }
	for i in 1 2 3 4 5; do
		COCKPIT_PORT=$((20000 + RANDOM % 40000))
		/usr/lib/cockpit/cockpit-ws --no-tls --port "$COCKPIT_PORT" --address 127.0.0.1 >>cockpit-ws.log 2>&1 &
		COCKPIT_PID=$!
		sleep 1
		curl -s -o /dev/null "http://127.0.0.1:$COCKPIT_PORT/" && return 0
		stop_pids "$COCKPIT_PID"
		COCKPIT_PID=
	done
	echo "bench: list: cockpit-ws does not start: $(tail -n3 cockpit-ws.log)"
	return 1
}

# the same VMs as vmmd's, in libvirt (QEMU's TCG: this machine may have no /dev/kvm)
lv_domain_xml() { # NAME
	cat <<END
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$work/guest.bzImage</kernel>
    <cmdline>guest=echo</cmdline>
  </os>
  <devices>
    <console type='pty'/>
  </devices>
</domain>
END
}

if cockpit_start; then
	cp "$TESTGUEST" guest.bzImage && chmod 644 guest.bzImage
	mkdir -p lv
	LV_DEFINED=1
	defined=0
	for n in $SIZES; do
		if [ "$n" -ge 1000 ] && [ "${BENCH_LIST_COCKPIT_1000:-0}" != 1 ]; then
			theirs[$n]="skipped"
			continue
		fi
		: >define.cmds
		while [ $defined -lt $n ]; do
			defined=$((defined + 1))
			lv_domain_xml "wklist-$(printf %04d $defined)" >"lv/$defined.xml"
			echo "define lv/$defined.xml" >>define.cmds
		done
		virsh_batch define.cmds
		have=$(virsh -q -c qemu:///system list --all --name | grep -c '^wklist-')
		[ "$have" = "$n" ] || { theirs[$n]="error libvirt has $have of $n VMs defined"; continue; }
		runs=$RUNS
		[ "$n" -ge 100 ] && runs=1
		theirs[$n]=$(list_time cockpit "http://127.0.0.1:$COCKPIT_PORT" "$USER_NAME" "$PASSWORD" "$n" "$runs")
	done
else
	for n in $SIZES; do theirs[$n]="error cockpit did not start"; done
fi
cleanup_cockpit

# --- the figures
ms() { awk -v v="$1" 'BEGIN { printf "%.2f s", v / 1000 }'; }
for n in $SIZES; do
	o=${ours[$n]} t=${theirs[$n]}
	case $o in
	incomplete*) line="webkvm did not complete: ${o#incomplete } of $n rows after $LIMIT s" ;;
	error*) line="webkvm failed: ${o#error }" ;;
	*) line="webkvm $(ms "$o") (median of $OUR_RUNS${nav[$n]})" ;;
	esac
	case $t in
	skipped) line="$line; cockpit-machines not run (its list stops short of 1,000 rows: dbus-daemon refuses past 128 pending replies)" ;;
	incomplete*) line="$line; cockpit-machines did not complete: ${t#incomplete } of $n rows after $LIMIT s" ;;
	error*) line="$line; cockpit-machines failed: ${t#error }" ;;
	*)
		[ "$n" -ge 100 ] && runs=1 || runs=$RUNS
		line="$line; cockpit-machines $(ms "$t") ($([ "$runs" = 1 ] && echo "1 run" || echo "median of $runs"))"
		case $o in [0-9]*) line="$line; ratio webkvm/cockpit $(awk -v o="$o" -v t="$t" 'BEGIN { printf "%.4f (1/%.0f)", o / t, t / o }')" ;; esac
		;;
	esac
	echo "list $n VMs, navigation to the rendered list: $line"
done
echo "list targets: webkvm at most 1/50 of cockpit-machines' time at 100 VMs; every one of 1,000 VMs rendered in under 2 s"
case ${ours[100]:-}/${theirs[100]:-} in
[0-9]*/[0-9]*) awk -v o="${ours[100]}" -v t="${theirs[100]}" 'BEGIN { printf "list target at 100 VMs: %s (ratio 1/%.0f)\n", (o * 50 <= t ? "met" : "not met"), t / o }' ;;
[0-9]*/incomplete*)
	awk -v o="${ours[100]}" -v l="$LIMIT" 'BEGIN {
		if (o * 50 <= l * 1000) printf "list target at 100 VMs: met (cockpit-machines did not complete within %d s: ratio below 1/%.0f)\n", l, l * 1000 / o
		else printf "list target at 100 VMs: not known (cockpit-machines did not complete within %d s: ratio below 1/%.0f only)\n", l, l * 1000 / o }' ;;
*) echo "list target at 100 VMs: not measured" ;;
esac
case ${ours[1000]:-} in
[0-9]*) awk -v o="${ours[1000]}" 'BEGIN { printf "list target at 1,000 VMs: %s (%.2f s)\n", (o < 2000 ? "met" : "not met"), o / 1000 }' ;;
*) echo "list target at 1,000 VMs: not met (${ours[1000]:-not measured})" ;;
esac
trap - EXIT
cd / && rm -rf "$work"
