#!/bin/bash
# Start-to-running and destroy latency of a tiny guest, 10 times in a row:
# vmmctl against vmmd, and virsh against libvirtd driving QEMU, on this
# machine's /dev/kvm, in the same run. Then vmmd's RSS with 100 VMs
# defined and RUNNING (10) running.
#
#   tests/bench/lifecycle.sh BUILDDIR
#
# The guest is the test guest's bzImage: vmm enters its 64-bit payload
# (guest=halt), QEMU's -kernel runs its real-mode setup code; both idle
# with interrupts off. libvirtd and virtlogd are started by hand here (and
# stopped after), with the users and groups Debian's packages expect.
set -u
BUILDDIR=$1
N=${BENCH_LIFECYCLE_RUNS:-10}
RUNNING=${BENCH_LIFECYCLE_RUNNING:-10}
work=$(mktemp -d /tmp/webkvm-lifecycle.XXXXXX)
chmod 755 "$work"
cp "$BUILDDIR/tests/guests/testguest.bzImage" "$work/guest.bzImage"
chmod 644 "$work/guest.bzImage"
kvm_mode=$(stat -c '%a %G' /dev/kvm)
VMMD_PID= LIBVIRTD_STARTED=

cleanup() {
	[ -n "$VMMD_PID" ] && kill "$VMMD_PID" 2>/dev/null
	pkill -9 -f -- "--control=unix:$work/run/" 2>/dev/null
	if [ -n "$LIBVIRTD_STARTED" ]; then
		virsh -q -c qemu:///system destroy lvbench >/dev/null 2>&1
		pkill -x libvirtd
		pkill -x virtlogd
	fi
	chgrp "${kvm_mode#* }" /dev/kvm 2>/dev/null
	chmod "${kvm_mode% *}" /dev/kvm 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# stats LABEL FILE: median and mean of the milliseconds in FILE
stats() {
	sort -n "$2" | awk -v l="$1" '{ v[NR] = $1; s += $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %.1f %.1f\n", l, m, s / NR }'
}

domain_xml() { # NAME
	cat <<END
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$work/guest.bzImage</kernel>
    <cmdline>guest=halt</cmdline>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
END
}

# --- vmmd
export VMMD_SOCKET=$work/run/vmmd.sock
"$BUILDDIR/vmm/vmmd" --state-dir "$work/state" --run-dir "$work/run" >"$work/vmmd.log" 2>&1 &
VMMD_PID=$!
for i in $(seq 100); do [ -S "$VMMD_SOCKET" ] && break; sleep 0.1; done
ctl() { "$BUILDDIR/vmm/vmmctl" "$@"; }
domain_xml bench >"$work/bench.xml"
ctl define "$work/bench.xml" >/dev/null || { echo "bench: lifecycle: vmmd refused the guest"; exit 1; }
for i in $(seq $N); do
	t0=$(now_ms)
	ctl start bench >/dev/null || { echo "bench: lifecycle: vmmctl start failed"; exit 1; }
	t1=$(now_ms)
	ctl destroy bench >/dev/null || { echo "bench: lifecycle: vmmctl destroy failed"; exit 1; }
	t2=$(now_ms)
	echo $((t1 - t0)) >>"$work/vmm.start"
	echo $((t2 - t1)) >>"$work/vmm.destroy"
done

# vmm's own figures first: they stand even when the anchor's part never ends
set -- $(stats x "$work/vmm.start") $(stats x "$work/vmm.destroy")
echo "lifecycle: $N starts and destroys with vmmctl done: start median $2 ms (mean $3), destroy median $5 ms (mean $6)"
# vmmd's memory with 100 VMs defined and RUNNING running (20 halted
# guests at once stopped the outer VM under software emulation every time)
for i in $(seq 100); do
	domain_xml "vm$i" >"$work/vm.xml"
	ctl define "$work/vm.xml" >/dev/null
done
for i in $(seq $RUNNING); do ctl start "vm$i" >/dev/null; done
running=$(ctl list | grep -c ' running$')
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$VMMD_PID/status")
for i in $(seq $RUNNING); do ctl destroy "vm$i" >/dev/null; done
echo "lifecycle: vmmd's RSS with 100 VMs defined and $running running: $((rss / 1024)) MiB"

# --- libvirtd and QEMU
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
	useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
chgrp kvm /dev/kvm && chmod 660 /dev/kvm
mkdir -p /var/run/libvirt /var/lib/libvirt /var/log/libvirt/qemu
if ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
	/usr/sbin/virtlogd -d && /usr/sbin/libvirtd -d || { echo "bench: lifecycle: libvirtd does not start"; exit 1; }
	LIBVIRTD_STARTED=1
	for i in $(seq 100); do virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
fi
echo "lifecycle: libvirtd answers"
domain_xml lvbench >"$work/lvbench.xml"
# the first create also probes QEMU's capabilities: not counted
virsh -q -c qemu:///system create "$work/lvbench.xml" >/dev/null 2>"$work/virsh.err" &&
	virsh -q -c qemu:///system destroy lvbench >/dev/null 2>&1 ||
	{ echo "bench: lifecycle: virsh create failed: $(head -n3 "$work/virsh.err")"; exit 1; }
for i in $(seq $N); do
	t0=$(now_ms)
	virsh -q -c qemu:///system create "$work/lvbench.xml" >/dev/null || { echo "bench: lifecycle: virsh create failed"; exit 1; }
	t1=$(now_ms)
	virsh -q -c qemu:///system destroy lvbench >/dev/null || { echo "bench: lifecycle: virsh destroy failed"; exit 1; }
	t2=$(now_ms)
	echo $((t1 - t0)) >>"$work/lv.start"
	echo $((t2 - t1)) >>"$work/lv.destroy"
done

set -- $(stats x "$work/vmm.start") $(stats x "$work/vmm.destroy") $(stats x "$work/lv.start") $(stats x "$work/lv.destroy")
awk -v n=$N -v vs="$2" -v vsa="$3" -v vd="$5" -v vda="$6" -v ls="$8" -v lsa="$9" -v ld="${11}" -v lda="${12}" 'BEGIN {
	printf "lifecycle, %d times each, median (mean) in ms:\n", n
	printf "  start:   vmmctl/vmmd %.1f (%.1f), virsh/libvirtd+QEMU %.1f (%.1f), ratio %.3f (target <= 0.2)\n", vs, vsa, ls, lsa, vs / ls
	printf "  destroy: vmmctl/vmmd %.1f (%.1f), virsh/libvirtd+QEMU %.1f (%.1f), ratio %.3f (target <= 0.2)\n", vd, vda, ld, lda, vd / ld
}'
echo "vmmd RSS with 100 VMs defined and $running running: $((rss / 1024)).$(((rss % 1024) * 10 / 1024)) MiB"
