# Runs inside the nested test bed: virtio-net on a tap in the stock guest,
# vmm against QEMU (microvm with PCIe, virtio-net-pci on a tap, no vhost:
# QEMU's own device model), each booted once (BENCH_NET_ROUNDS more, alternating). Measures TCP
# throughput each way and one-byte round trips with tcp-xfer.
# Where the guest's end of a transfer runs can decide its speed: on the
# vCPU that takes the NIC's receive interrupt, QEMU's gets a fraction of
# what it gets on the other one (vmm's did too while its I/O thread
# preempted vCPUs), and the guest picks that vCPU by itself. So each
# transfer runs once pinned to each (tests "...@irq-cpu" and
# "...@other-cpu"), the same for both.
# Prints "BENCH net ENGINE TEST FIGURE UNIT" lines, and for the transfer
# from the guest what it cost per MiB: "COST net ENGINE COUNTER VALUE", the
# outer kernel's KVM counters (exits, interrupts injected, ...) and the
# guest's virtio-net interrupts, to see where one engine spends more.

MEM=512
CPUS=2
MIB=${BENCH_NET_MIB:-64}
ROUNDS=${BENCH_NET_ROUNDS:-1}
MAC=52:54:00:12:34:56

mount -t debugfs none /sys/kernel/debug 2>/dev/null
KVM_COUNTERS="exits io_exits mmio_exits irq_injections halt_exits halt_wakeup"
kvm_counters() {
	local s
	for s in $KVM_COUNTERS; do
		printf '%s ' "$(cat /sys/kernel/debug/kvm/$s 2>/dev/null || echo 0)"
	done
}

# The guest's interrupt counts for its virtio-net queues: "RX TX".
guest_irqs() { # KEY
	guest_send "echo $1=\$(awk '/virtio[0-9]*-(input|output)/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+\$/) c[\$NF ~ /input/] += \$i } END { print c[1] + 0, c[0] + 0 }' /proc/interrupts)"
	guest_wait "^$1=" 60
	guest_value "$1"
}

# print_costs ENGINE "COUNTERS-BEFORE" "COUNTERS-AFTER": per MiB sent (two transfers).
print_costs() {
	echo "$1 $2 $3" | awk -v mib="$((2 * MIB))" -v names="$KVM_COUNTERS guest_rx_irqs guest_tx_irqs" '
		{ n = split(names, name, " "); e = $1
		  for (i = 1; i <= n; i++) printf "COST net %s %s %.1f\n", e, name[i], ($(1 + n + i) - $(1 + i)) / mib }'
}

run_engine() {
	local engine=$1 tap=$2 v
	rm -f guest.in guest.out guest.err
	mkfifo guest.in
	exec 3<>guest.in
	if [ "$engine" = vmm ]; then
		"$VMM" run --kernel "$INNER_KERNEL" --initrd "$INNER_INITRD" --memory $MEM --cpus $CPUS \
			--cmdline "console=ttyS0 quiet" --net "tap=$tap,mac=$MAC" \
			<guest.in >guest.out 2>guest.err &
	else
		qemu-system-x86_64 -M microvm,pcie=on,rtc=on -accel kvm -cpu host -m $MEM -smp $CPUS \
			-nodefaults -no-user-config -display none -serial stdio \
			-kernel "$INNER_KERNEL" -initrd "$INNER_INITRD" -append "console=ttyS0 quiet" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
			-device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
			<guest.in >guest.out 2>guest.err &
	fi
	GUEST_PID=$!
	if ! guest_wait WEBKVM-GUEST-READY 300; then
		echo "BENCH net $engine boot fail"
		guest_log
		kill -9 $GUEST_PID
		return
	fi
	ip link set "$tap" up && ip addr add 10.0.3.1/24 dev "$tap"
	guest_send 'for d in /sys/class/net/*; do [ "$(cat $d/address)" = '$MAC' ] && E=${d##*/}; done; ip link set $E up; ip addr add 10.0.3.15/24 dev $E; ping -c 1 -W 10 10.0.3.1 >/dev/null; echo NETUP=$E'
	guest_wait '^NETUP=' 60

	# The vCPU that takes the receive interrupt, and another.
	guest_send "RXIRQ=\$(awk '/virtio[0-9]*-input/ { sub(\":\", \"\", \$1); print \$1; exit }' /proc/interrupts); echo RXCPU=\$(cut -d, -f1 /proc/irq/\$RXIRQ/effective_affinity_list | cut -d- -f1)"
	guest_wait '^RXCPU=' 30
	local rxcpu place cpu k=0
	rxcpu=$(guest_value RXCPU)
	case "$rxcpu" in [0-9]*) ;; *) echo "bench: $engine: no receive interrupt CPU ('$rxcpu')"; rxcpu=0 ;; esac

	# guest to host
	local gi0 gi1 k0 k1
	gi0=$(guest_irqs GI0)
	k0=$(kvm_counters)
	for place in irq-cpu other-cpu; do
		cpu=$rxcpu
		[ $place = other-cpu ] && cpu=$(((rxcpu + 1) % CPUS))
		k=$((k + 1))
		tcp-xfer recv 5001 1 >recv.txt 2>&1 &
		sleep 0.5
		guest_send "taskset -c $cpu tcp-xfer send 10.0.3.1 5001 $MIB 1 | sed 's/^SENT /SENT$k=/'"
		guest_wait "^SENT$k=" 300
		wait $!
		v=$(sed -n 's/^RECV ok=1 .* mbps=//p' recv.txt)
		echo "BENCH net $engine guest-to-host@$place ${v:-fail} Mbit/s"
	done
	k1=$(kvm_counters)
	gi1=$(guest_irqs GI1)
	print_costs "$engine" "$k0 $gi0" "$k1 $gi1"

	# host to guest
	for place in irq-cpu other-cpu; do
		cpu=$rxcpu
		[ $place = other-cpu ] && cpu=$(((rxcpu + 1) % CPUS))
		k=$((k + 1))
		# a port of its own: the console still shows the last one's LISTENING line
		guest_send "taskset -c $cpu tcp-xfer recv $((5010 + k)) 2 | sed 's/^RECV /RECV$k=/' &"
		guest_wait "^LISTENING port=$((5010 + k))" 30
		tcp-xfer send 10.0.3.15 $((5010 + k)) "$MIB" 2 >/dev/null 2>&1
		guest_wait "^RECV$k=" 300
		v=$(guest_value RECV$k | sed -n 's/^ok=1 .* mbps=//p')
		echo "BENCH net $engine host-to-guest@$place ${v:-fail} Mbit/s"
	done

	# round trips, guest to host and back
	tcp-xfer echo 5003 >/dev/null 2>&1 &
	sleep 0.5
	guest_send "tcp-xfer rr 10.0.3.1 5003 500 | sed 's/^RR /RR3=/'"
	guest_wait '^RR3=' 300
	wait $!
	v=$(guest_value RR3 | sed -n 's/.*median_us=\([0-9.]*\).*/\1/p')
	echo "BENCH net $engine round-trip ${v:-fail} us"

	guest_send 'poweroff -f'
	guest_end 60
	[ "$GUEST_STATUS" = timeout ] && echo "bench: $engine did not power off"
}

i=0
while [ $i -lt "$ROUNDS" ]; do
	run_engine vmm bv$i
	run_engine qemu bq$i
	i=$((i + 1))
done
