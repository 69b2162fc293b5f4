# The nested test bed, sourced by tests and benchmarks.
#
# A stock Debian kernel does not boot on every /dev/kvm (a paravirtualised
# nested one lacks the emulation it needs), so the stock-kernel tests run in
# an outer VM: QEMU's software emulation with an emulated AMD SVM CPU, where
# Debian's kvm-amd module loads and /dev/kvm is real. The outer VM boots the
# same Debian kernel with an initramfs of busybox, the kvm modules, the vmm
# under test (with the libraries ldd lists) and the inner guest's kernel and
# initramfs; a script given per run is appended as a second cpio archive.
#
# On a host whose CPU shows vmx or svm, bed_run runs the same script
# directly on the host instead.
#
# Needs: qemu-system-x86 busybox-static cpio kmod, and Debian's
# linux-image-amd64 package file (bed_fetch_kernel downloads it with apt).

BED_SRCDIR=${BED_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BED_CACHE=${WEBKVM_TEST_CACHE:-$BED_SRCDIR/tests/cache}

bed_log() { echo "bed: $*" >&2; }

# Unpack Debian's kernel package into $BED_CACHE/kernel once.
bed_fetch_kernel() {
	local dir=$BED_CACHE/kernel pkg deb
	[ -f "$dir/done" ] && ls "$dir"/root/lib/modules/*/modules.dep >/dev/null 2>&1 && return 0
	mkdir -p "$BED_CACHE" || return 1
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		bed_log "cannot resolve linux-image-amd64 (run apt-get update)"
		return 1
	fi
	rm -rf "$dir" && mkdir -p "$dir/deb" || return 1
	(cd "$dir/deb" && apt-get download "$pkg" >/dev/null 2>&1) || {
		bed_log "cannot download $pkg"
		return 1
	}
	deb=$(ls "$dir"/deb/*.deb | head -n1)
	dpkg-deb -x "$deb" "$dir/root" || return 1
	rm -f "$deb"
	# The package leaves modules.dep to its postinst; make it for modprobe -D.
	depmod -b "$dir/root" "$(ls "$dir/root/lib/modules")" || return 1
	touch "$dir/done"
}

bed_kernel() { ls "$BED_CACHE"/kernel/root/boot/vmlinuz-* 2>/dev/null | head -n1; }

# bed_add_modules ROOT MODULE...: copy the modules with what they depend on
# into ROOT/lib/modules, and list them in load order in ROOT/lib/modules/order.
bed_add_modules() {
	local root=$1 kroot=$BED_CACHE/kernel/root ver m ko name
	shift
	ver=$(ls "$kroot/lib/modules")
	mkdir -p "$root/lib/modules"
	for m in "$@"; do
		modprobe -d "$kroot" -S "$ver" --show-depends "$m" >"$root/deps" 2>/dev/null || {
			bed_log "module $m is not in the kernel package"
			rm -f "$root/deps"
			return 1
		}
		while read -r _ ko; do
			[ -n "$ko" ] || continue
			name=$(basename "$ko")
			grep -qx "$name" "$root/lib/modules/order" 2>/dev/null && continue
			cp "$ko" "$root/lib/modules/$name" && echo "$name" >>"$root/lib/modules/order"
		done <"$root/deps"
	done
	rm -f "$root/deps"
}

# Copy a binary and the shared libraries ldd lists into a root folder.
bed_copy_binary() {
	local bin=$1 root=$2 dest=$3 lib
	mkdir -p "$root$(dirname "$dest")"
	cp "$bin" "$root$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

bed_busybox_root() {
	local root=$1
	# mktemp -d makes it 0700: a user the VM runs as could not reach its files
	chmod 755 "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	ln -sf busybox "$root/bin/sh"
}

bed_cpio() { (cd "$1" && find . | cpio -o -H newc --quiet) >"$2"; }

# bed_build_inner OUT BUILDDIR: the inner guest: busybox, tcp-xfer, evdev
# and the ACPI button driver, the virtio drivers, and an init
# that prints a marker, powers off on the power button, and runs a shell on
# the serial console.
bed_build_inner() {
	local out=$1 builddir=$2 root
	root=$(mktemp -d) || return 1
	bed_busybox_root "$root"
	bed_add_modules "$root" evdev button virtio_pci virtio_blk virtio-rng virtio_input virtio_net ||
		{ rm -rf "$root"; return 1; }
	bed_copy_binary "$builddir/tests/tools/tcp-xfer" "$root" /bin/tcp-xfer
	[ -n "${BED_INNER_HOOK:-}" ] && "$BED_INNER_HOOK" "$root"
	cp "$BED_SRCDIR/tests/nested/inner-init" "$root/init"
	chmod 755 "$root/init"
	bed_cpio "$root" "$out"
	rm -rf "$root"
}

# The outer VM's base initramfs (everything but the per-run script).
bed_build_outer() {
	local builddir=$1 out=$2 root m vnclib
	root=$(mktemp -d) || return 1
	bed_busybox_root "$root"
	bed_add_modules "$root" kvm-amd virtio_pci virtio_blk ext4 tun bridge \
		nf_tables nft_chain_nat nft_masq nft_reject_ipv4 nft_ct ||
		{ rm -rf "$root"; return 1; }
	bed_copy_binary "$builddir/vmm/vmm" "$root" /usr/bin/vmm
	# vmm loads libvncserver, by the soname it was built with, for a VM with a screen.
	vnclib=$(grep -ao 'libvncserver\.so\.[0-9]*' "$builddir/vmm/vmm" | head -1)
	vnclib=$(/sbin/ldconfig -p | awk -v s="$vnclib" '$1 == s && /x86-64/ { print $NF; exit }')
	[ -n "$vnclib" ] && bed_copy_binary "$vnclib" "$root" "$vnclib" || { rm -rf "$root"; return 1; }
	bed_copy_binary "$builddir/vmm/vmmd" "$root" /usr/bin/vmmd
	bed_copy_binary "$builddir/vmm/vmmctl" "$root" /usr/bin/vmmctl
	bed_copy_binary "$builddir/tests/tools/vnc-client" "$root" /usr/bin/vnc-client
	bed_copy_binary "$(command -v socat)" "$root" /usr/bin/socat
	bed_copy_binary "$builddir/tests/tools/tcp-xfer" "$root" /usr/bin/tcp-xfer
	# vmmd's networks: dnsmasq (which drops to the user nobody) and nft
	bed_copy_binary "$(PATH=$PATH:/usr/sbin:/sbin command -v dnsmasq)" "$root" /usr/sbin/dnsmasq
	bed_copy_binary "$(PATH=$PATH:/usr/sbin:/sbin command -v nft)" "$root" /usr/sbin/nft
	mkdir -p "$root/etc"
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	mkdir -p "$root/inner"
	cp "$(bed_kernel)" "$root/inner/vmlinuz"
	bed_build_inner "$root/inner/initrd" "$builddir" || { rm -rf "$root"; return 1; }
	[ -n "${BED_EXTRA_HOOK:-}" ] && "$BED_EXTRA_HOOK" "$root"
	cp "$BED_SRCDIR/tests/nested/outer-init" "$root/init"
	cp "$BED_SRCDIR/tests/nested/lib.sh" "$root/lib.sh"
	chmod 755 "$root/init"
	bed_cpio "$root" "$out"
	rm -rf "$root"
}

bed_host_has_virt() { grep -qwE 'vmx|svm' /proc/cpuinfo; }

# What the bed lacks on this machine, or nothing when it is complete.
bed_missing() {
	local t
	for t in qemu-system-x86_64 cpio busybox /usr/sbin/dnsmasq /usr/sbin/nft; do
		command -v "$t" >/dev/null || { echo "$t is not installed"; return; }
	done
	[ -f /bin/busybox ] || { echo "busybox-static is not installed"; return; }
	bed_fetch_kernel 2>/dev/null || { echo "Debian's kernel package cannot be fetched"; return; }
}

# bed_watch_heartbeat PID FILE: wait for PID (the outer VM under timeout),
# ending it when FILE, where the outer VM's init writes a line every 5 s on
# its second serial port, has not grown for BED_SILENCE seconds (120). Under
# software-emulated SVM the outer kernel sometimes stops for good while it
# runs the inner guest; it then prints nothing, not even a lockup report,
# and would otherwise hold the run until BED_TIMEOUT.
bed_watch_heartbeat() {
	local pid=$1 file=$2 size=0 now seen quiet=${BED_SILENCE:-120}
	seen=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		now=$(date +%s)
		if [ "$(stat -c %s "$file" 2>/dev/null)" != "$size" ]; then
			size=$(stat -c %s "$file" 2>/dev/null) seen=$now
		elif [ $((now - seen)) -ge "$quiet" ]; then
			bed_log "the outer VM gave no sign of life for $quiet s; ending it"
			kill -TERM "$pid" 2>/dev/null
			break
		fi
	done
	wait "$pid"
}

# bed_run BUILDDIR SCRIPT LOG: run SCRIPT inside the outer VM (or directly
# where the host has VT-x/AMD-V); its output, with the inner guests', goes
# to LOG. Returns the script's exit status. With BED_OUTER_DISK set to an
# ext4 image, the script finds that file system mounted at $BED_DISK_DIR.
bed_run() {
	local builddir=$1 script=$2 log=$3 work base status
	work=$(mktemp -d) || return 1
	if bed_host_has_virt && [ -z "${WEBKVM_FORCE_OUTER_VM:-}" ]; then
		mkdir -p "$work/inner"
		cp "$(bed_kernel)" "$work/inner/vmlinuz"
		bed_build_inner "$work/inner/initrd" "$builddir"
		mkdir -p "$work/disk"
		[ -n "${BED_OUTER_DISK:-}" ] && mount -o loop "$BED_OUTER_DISK" "$work/disk"
		(cd "$work" && BED_ROOT=$work BED_DISK_DIR=$work/disk VMM=$builddir/vmm/vmm \
			sh -c ". '$BED_SRCDIR/tests/nested/lib.sh'; . '$script'") >"$log" 2>&1
		status=$?
		[ -n "${BED_OUTER_DISK:-}" ] && umount "$work/disk"
		rm -rf "$work"
		return $status
	fi
	base=$builddir/tests/${BED_OUTER_NAME:-nested-outer.cpio}
	if [ ! -f "$base" ] || [ "$builddir/vmm/vmm" -nt "$base" ] ||
		[ "$builddir/vmm/vmmd" -nt "$base" ] || [ "$builddir/vmm/vmmctl" -nt "$base" ] ||
		[ "$builddir/tests/tools/tcp-xfer" -nt "$base" ] ||
		[ -n "$(find "$BED_SRCDIR/tests/nested" "$BED_SRCDIR/tests/bench" -newer "$base" 2>/dev/null)" ]; then
		bed_build_outer "$builddir" "$base.tmp" && mv "$base.tmp" "$base" || {
			rm -rf "$work"
			return 1
		}
	fi
	mkdir -p "$work/run"
	cp "$script" "$work/run/run.sh"
	bed_cpio "$work/run" "$work/run.cpio"
	cat "$base" "$work/run.cpio" >"$work/initrd"
	: >"$work/alive"
	timeout -s KILL "${BED_TIMEOUT:-900}" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu qemu64,+svm -m 4096 -smp ${BED_OUTER_CPUS:-1} \
		-kernel "$(bed_kernel)" -initrd "$work/initrd" \
		-append "console=ttyS0 quiet panic=-1" \
		${BED_OUTER_DISK:+-drive file=$BED_OUTER_DISK,format=raw,if=virtio,cache=unsafe} \
		-display none -monitor none -serial "file:$log" -serial "file:$work/alive" \
		-no-reboot </dev/null &
	bed_watch_heartbeat $! "$work/alive"
	rm -rf "$work"
	status=$(sed -n 's/^BED-EXIT \([0-9]*\).*/\1/p' "$log" | tail -n1)
	[ -n "$status" ] || { bed_log "the outer VM ended without a result (see $log)"; return 125; }
	return "$status"
}
