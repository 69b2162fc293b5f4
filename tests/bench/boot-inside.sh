# Runs inside the nested test bed (or directly on a VT-x/AMD-V host):
# boot the stock kernel to the shell marker with vmm and with QEMU microvm,
# alternating, and measure vmm's peak RSS against the guest memory it touched.
# Prints "BENCH ..." lines for tests/bench/run.

RUNS=${BENCH_RUNS:-3}
MEM=256
CPUS=2
APPEND="console=ttyS0 quiet"

uptime_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# boot_time NAME CMD...: milliseconds from start to the marker, or "fail".
# The console is read by the shell's own `read` from a pipe, so waiting
# costs no process per poll (that would slow the guests being measured).
boot_time() {
	local name=$1 t0 pid i
	shift
	rm -f pid.$name t1.$name hwm.$name guest.$name
	t0=$(uptime_ms)
	(sh -c 'echo $$ >pid.'$name'; exec "$@"' sh "$@" </dev/null 2>err.$name | {
		while IFS= read -r line; do
			case $line in
			*WEBKVM-GUEST-READY*) uptime_ms >t1.$name; break ;;
			esac
		done
		cat >/dev/null
	}) &
	i=0
	while [ ! -s t1.$name ] && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	pid=$(cat pid.$name)
	if [ -s t1.$name ]; then
		echo $(($(cat t1.$name) - t0))
	else
		echo fail
		cat err.$name >&2
	fi
	# peak RSS and the guest RAM mapping's resident size, for the RSS figure
	if [ -r /proc/$pid/status ]; then
		awk '/^VmHWM/ {print $2}' /proc/$pid/status >hwm.$name
		awk '/^Size:/ {size = $2} /^Rss:/ {if (size >= '$MEM' * 1024 && $2 > best) best = $2}
			END {print best + 0}' /proc/$pid/smaps >guest.$name
	fi
	kill -9 $pid 2>/dev/null
	wait
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

vmm_times= qemu_times=
for run in $(seq $RUNS); do
	t=$(boot_time vmm "$VMM" run --kernel "$INNER_KERNEL" --initrd "$INNER_INITRD" \
		--memory $MEM --cpus $CPUS --cmdline "$APPEND")
	vmm_times="$vmm_times $t"
	echo "BENCH run $run vmm $t ms"
	t=$(boot_time qemu qemu-system-x86_64 -M microvm -accel kvm -cpu host -m $MEM -smp $CPUS \
		-nodefaults -no-user-config -display none -serial stdio \
		-kernel "$INNER_KERNEL" -initrd "$INNER_INITRD" -append "$APPEND")
	qemu_times="$qemu_times $t"
	echo "BENCH run $run qemu-microvm $t ms"
done
echo "BENCH boot-median vmm $(echo $vmm_times | median) qemu $(echo $qemu_times | median)"
echo "BENCH rss vmm hwm $(cat hwm.vmm) guest $(cat guest.vmm) qemu hwm $(cat hwm.qemu) guest $(cat guest.qemu)"
