# Runs inside the nested test bed: the VNC server of vmm against QEMU's
# (-M pc, std VGA with a VESA mode, -vnc on a unix socket), the same stock
# guest with its console on the framebuffer, the same viewer (libvncclient,
# lossless encodings). Prints
#   BENCH display ENGINE MODE still BYTES CPU-MS          a still screen, 10 s
#   BENCH display ENGINE MODE redraw UPDATES BYTES CPU-MS the guest redrawing, 5 s
# where CPU-MS is the engine's user+system time over the period.

MEM=256
# The last console= is /dev/console, where init's shell talks: the serial port.
CMDLINE="console=tty0 console=ttyS0 quiet"

cpu_ms() { # cpu_ms PID: user+system time so far, in ms
	awk '{ print ($14 + $15) * 10 }' /proc/$1/stat
}

# measure SECONDS: a viewer connects, takes the whole screen, waits 2 s,
# then counts for SECONDS; prints "BYTES UPDATES CPU-MS", the engine's CPU
# time taken over the counted seconds only.
measure() {
	local c0 c1 viewer
	vnc-client vnc.sock sleep 2000 stats $1 >stats.out &
	viewer=$!
	sleep 2
	c0=$(cpu_ms $GUEST_PID)
	wait $viewer
	c1=$(cpu_ms $GUEST_PID)
	set -- $(cat stats.out)
	echo "${2:-0} ${4:-0} $((c1 - c0))"
}

run_engine() {
	local engine=$1 mode
	rm -f guest.in guest.out guest.err vnc.sock
	mkfifo guest.in
	exec 3<>guest.in
	if [ "$engine" = vmm ]; then
		"$VMM" run --kernel "$INNER_KERNEL" --initrd "$INNER_INITRD" --memory $MEM \
			--cmdline "$CMDLINE" --vnc unix:$PWD/vnc.sock <guest.in >guest.out 2>guest.err &
	else
		# VESA mode 0x144 of the std VGA's BIOS: 1024x768, 32 bits, as vmm's default
		qemu-system-x86_64 -M pc -accel kvm -cpu host -m $MEM -nodefaults -no-user-config \
			-vga std -display none -vnc unix:$PWD/vnc.sock -serial stdio \
			-kernel "$INNER_KERNEL" -initrd "$INNER_INITRD" -append "$CMDLINE vga=0x344" \
			<guest.in >guest.out 2>guest.err &
	fi
	GUEST_PID=$!
	if ! guest_wait WEBKVM-GUEST-READY 300; then
		echo "BENCH display $engine boot fail"
		guest_log
		kill -9 $GUEST_PID
		return
	fi
	guest_send 'echo 0 >/sys/class/graphics/fbcon/cursor_blink; dmesg -n 1; echo MODE=$(cat /sys/class/graphics/fb0/virtual_size)x$(cat /sys/class/graphics/fb0/bits_per_pixel)'
	guest_wait '^MODE=' 30
	mode=$(guest_value MODE | tr , x)
	sleep 2
	set -- $(measure 10)
	echo "BENCH display $engine ${mode:-none} still $1 $3"

	# 64 lines of 1024 pixels at 32 bits, rewritten with fresh noise, forever
	guest_send 'while :; do dd if=/dev/urandom of=/dev/fb0 bs=4096 count=64 seek=128 2>/dev/null; done &'
	sleep 2
	set -- $(measure 5)
	echo "BENCH display $engine ${mode:-none} redraw $2 $1 $3"
	guest_send 'kill %1; poweroff -f'
	guest_end 60
}

for engine in vmm qemu; do
	run_engine $engine
done
