# Runs inside the nested test bed: virtio-blk throughput in the stock
# guest, vmm against QEMU (microvm with PCIe, virtio-blk-pci, cache=none,
# aio=threads) on the same images of an ext4 file system, in the same run.
# Prints "BENCH disk ENGINE FORMAT TEST FIGURE UNIT" lines.

D=$BED_DISK_DIR
MEM=256
CPUS=2
SECS=${BENCH_DISK_SECONDS:-8}

# run_engine ENGINE FORMAT READ-IMAGE WRITE-IMAGE
run_engine() {
	local engine=$1 fmt=$2 rimg=$3 wimg=$4 cmd
	rm -f guest.in guest.out guest.err
	mkfifo guest.in
	exec 3<>guest.in
	if [ "$engine" = vmm ]; then
		"$VMM" run --kernel "$INNER_KERNEL" --initrd "$INNER_INITRD" --memory $MEM --cpus $CPUS \
			--cmdline "console=ttyS0 quiet" \
			--disk "$rimg,format=$fmt,cache=none,serial=READ" \
			--disk "$wimg,format=$fmt,cache=none,serial=WRITE" \
			<guest.in >guest.out 2>guest.err &
	else
		qemu-system-x86_64 -M microvm,pcie=on,rtc=on -accel kvm -cpu host -m $MEM -smp $CPUS \
			-nodefaults -no-user-config -display none -serial stdio \
			-kernel "$INNER_KERNEL" -initrd "$INNER_INITRD" -append "console=ttyS0 quiet" \
			-drive if=none,id=r,file=$rimg,format=$fmt,cache=none,aio=threads \
			-device virtio-blk-pci,drive=r,serial=READ \
			-drive if=none,id=w,file=$wimg,format=$fmt,cache=none,aio=threads \
			-device virtio-blk-pci,drive=w,serial=WRITE \
			<guest.in >guest.out 2>guest.err &
	fi
	GUEST_PID=$!
	if ! guest_wait WEBKVM-GUEST-READY 300; then
		echo "BENCH disk $engine $fmt boot fail"
		guest_log
		kill -9 $GUEST_PID
		return
	fi
	guest_send 'dev() { for d in /sys/block/vd*; do [ "$(cat $d/serial)" = "$1" ] && echo /dev/${d##*/}; done; }'
	guest_send "blkbench seqread \$(dev READ) $SECS; blkbench randread \$(dev READ) $SECS; blkbench seqwrite \$(dev WRITE) 96; echo BENCH-DONE"
	guest_wait '^BENCH-DONE' 600
	tr -d '\r' <guest.out | sed -n "s/^BLK \([a-z]*\) \([0-9.]*\) \(.*\)/BENCH disk $engine $fmt \1 \2 \3/p"
	guest_send 'poweroff -f'
	guest_end 60
}

for fmt in raw qcow2; do
	for engine in vmm qemu; do
		run_engine $engine $fmt "$D/read.$fmt" "$D/write-$engine.$fmt"
	done
done
