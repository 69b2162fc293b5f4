# The outer VM for the tiers that need a working /dev/kvm, sourced by
# tests/run and tests/bench/run.
#
# Where this machine's /dev/kvm cannot run the tests (there is none, it is
# not ours to open, or it is a paravirtualised nested one without VT-x or
# AMD-V, which cannot boot a stock kernel), a whole tier runs in one boot of
# an outer VM: QEMU's software emulation with an emulated AMD SVM CPU,
# where Debian's kvm-amd loads and /dev/kvm is real. Its root is a small
# Debian made once with debootstrap and kept, as an ext4 image booted with
# snapshot=on, in the test cache ($WEBKVM_TEST_CACHE); the source and build
# trees are shared in over 9p at the same paths, so the unchanged test
# scripts run there and their logs land in the build tree.
#
# Needs: debootstrap, qemu-system-x86, e2fsprogs, busybox-static, cpio,
# kmod, and Debian's kernel package (tests/nested/bed.sh fetches it).

OUTER_SRCDIR=${OUTER_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BED_SRCDIR=$OUTER_SRCDIR
. "$OUTER_SRCDIR/tests/nested/bed.sh"

# What the tests call inside, the libraries that webkvm's binaries (and
# the AddressSanitizer build) load (outer_missing_libs names any it lacks),
# the lifecycle benchmark's anchor, libvirtd driving QEMU, and what the
# portal's tests with running guests start (nginx, curl, openssl).
OUTER_PACKAGES="bash coreutils util-linux procps kmod socat iproute2 iputils-ping psmisc
gawk sed grep diffutils findutils qemu-utils dnsmasq-base nftables e2fsprogs python3
busybox virtinst libvncserver1 libvncclient1 libjson-c5 libxml2 zlib1g libasan8
libubsan1 libgcc-s1
qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
nginx curl openssl libfcgi0ldbl libargon2-1 libsqlite3-0 libssl3 libwslay1"

# The kernel's modules that a test VM has no use for stay out of the image.
OUTER_SKIP_MODULES="drivers/gpu drivers/media drivers/net/wireless drivers/net/ethernet
drivers/infiniband drivers/staging drivers/scsi drivers/iio drivers/bluetooth
drivers/usb drivers/input/touchscreen drivers/mtd drivers/isdn net/wireless net/mac80211
net/bluetooth sound"

outer_log() { echo "outer: $*" >&2; }

# The kind of /dev/kvm this machine has, in a few words, and whether the
# tiers can run on it: "usable" or why not.
kvm_state() {
	if [ ! -e /dev/kvm ]; then
		echo "no /dev/kvm"
	elif ! (exec 3<>/dev/kvm) 2>/dev/null; then
		# opened, not judged by its mode: root passes -r and -w whatever
		# a container's device rules say
		echo "no access to /dev/kvm"
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "a paravirtualised /dev/kvm (no vmx or svm flag)"
	else
		echo usable
	fi
}

# The tiers run in the outer VM unless /dev/kvm is usable here, and always
# with WEBKVM_FORCE_OUTER_VM set. Never from inside the outer VM itself.
outer_vm_needed() {
	[ -n "${WEBKVM_IN_OUTER_VM:-}" ] && return 1
	[ -n "${WEBKVM_FORCE_OUTER_VM:-}" ] && return 0
	[ "$(kvm_state)" != usable ]
}

# The Debian mirror and release this machine's apt uses, as "URI SUITE".
outer_mirror() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v c="$codename" '$2 == c && $1 !~ /security/ { print $1, $2; exit }'
}

# Build the root image once per package list, kernel and builder; it is
# kept in the cache. Prints nothing; 0 when $BED_CACHE/outer/root.img is ready.
outer_image() {
	local dir=$BED_CACHE/outer key mirror kroot=$BED_CACHE/kernel/root kver root m status
	bed_fetch_kernel || { outer_log "cannot fetch Debian's kernel package"; return 1; }
	kver=$(ls "$kroot/lib/modules")
	# made again for another package list, kernel, release or C library
	key=$( (echo $OUTER_PACKAGES $OUTER_SKIP_MODULES "$kver"
		. /etc/os-release && echo "$VERSION_CODENAME"
		dpkg-query -W -f '${Version}' libc6
		declare -f outer_image) | sha256sum | cut -c1-16)
	[ -f "$dir/root.img" ] && [ "$(cat "$dir/key" 2>/dev/null)" = "$key" ] && return 0
	command -v debootstrap >/dev/null || { outer_log "debootstrap is not installed"; return 1; }
	mirror=$(outer_mirror)
	[ -n "$mirror" ] || { outer_log "no Debian mirror in this machine's apt sources"; return 1; }
	outer_log "making the outer VM's Debian root (once per package list; a few minutes)"
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	root=$dir/root
	set -- $mirror
	# debootstrap lays the base; apt, in the new root, resolves the rest
	# (debootstrap's own resolver does not take alternatives).
	debootstrap --variant=minbase "$2" "$root" "$1" >"$dir/debootstrap.log" 2>&1 || {
		outer_log "debootstrap failed; see $dir/debootstrap.log"
		tail -n 5 "$dir/debootstrap.log" >&2
		return 1
	}
	# no service starts in the new root while its packages install
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc" || return 1
	DEBIAN_FRONTEND=noninteractive chroot "$root" sh -c \
		"apt-get update -q && apt-get install -y -q --no-install-recommends $(echo $OUTER_PACKAGES)" \
		>>"$dir/debootstrap.log" 2>&1
	status=$?
	umount "$root/proc"
	if [ $status -ne 0 ]; then
		outer_log "cannot install the outer VM's packages; see $dir/debootstrap.log"
		tail -n 5 "$dir/debootstrap.log" >&2
		return 1
	fi
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
	mkdir -p "$root/lib/modules"
	cp -a "$kroot/lib/modules/$kver" "$root/lib/modules/"
	for m in $OUTER_SKIP_MODULES; do rm -rf "$root/lib/modules/$kver/kernel/$m"; done
	depmod -b "$root" "$kver" || return 1
	echo webkvm-outer >"$root/etc/hostname"
	printf '127.0.0.1 localhost webkvm-outer\n::1 localhost\n' >"$root/etc/hosts"
	: >"$root/etc/fstab"
	chmod 755 "$root"
	mkfs.ext4 -q -F -L webkvm-outer -d "$root" "$dir/root.img.tmp" 3G || return 1
	mv "$dir/root.img.tmp" "$dir/root.img"
	rm -rf "$root"
	echo "$key" >"$dir/key"
}

# The initramfs that mounts the root image and the shared folders, then
# hands over to tests/outer/init on the shared source tree.
outer_initramfs() {
	local out=$BED_CACHE/outer/initrd root
	[ -f "$out" ] && [ "$out" -nt "$OUTER_SRCDIR/tests/outer/initramfs-init" ] &&
		[ "$out" -nt "$BED_CACHE/outer/root.img" ] && return 0
	root=$(mktemp -d) || return 1
	bed_busybox_root "$root"
	bed_add_modules "$root" virtio_pci virtio_blk ext4 9p 9pnet_virtio ||
		{ rm -rf "$root"; return 1; }
	cp "$OUTER_SRCDIR/tests/outer/initramfs-init" "$root/init"
	chmod 755 "$root/init"
	bed_cpio "$root" "$out.tmp" && mv "$out.tmp" "$out"
	rm -rf "$root"
}

# outer_missing_libs BUILDDIR: the shared libraries that the build's
# programs load and the image lacks, one a line.
outer_missing_libs() {
	local builddir=$1 bin lib img=$BED_CACHE/outer/root.img
	for bin in "$builddir"/vmm/vmm "$builddir"/vmm/vmmd "$builddir"/vmm/vmmctl \
		"$builddir"/fcgi/webkvm.fcgi "$builddir"/websockify/webkvm-websockify \
		"$builddir"/tests/tools/*; do
		[ -x "$bin" ] && [ -f "$bin" ] || continue
		ldd "$bin" 2>/dev/null | awk '$3 ~ /^\// { print $3 }'
	done | sort -u | while read -r lib; do
		debugfs -R "stat $lib" "$img" 2>/dev/null | grep -q '^Inode:' ||
			debugfs -R "stat $(readlink -f "$lib")" "$img" 2>/dev/null | grep -q '^Inode:' ||
			echo "$lib"
	done
}

# outer_run BUILDDIR COMMAND LOG RESULTS: boot the outer VM once and run
# COMMAND (a bash command line) there as root, in the source tree, with
# WEBKVM_IN_OUTER_VM=1 and the WEBKVM_*, ASAN_* and UBSAN_* variables of
# this environment. The command's output goes to RESULTS, the consoles' to
# LOG; both are emptied first, so nothing of an earlier run is read back.
# Returns the command's status, 125 when the outer VM ended without one
# (its kernel stopped: the heartbeat went quiet), or 124 when the outer VM
# could not be made or booted at all (said on stderr). OUTER_HOSTFWD=PORT
# gives the outer VM a NIC (user networking, 10.0.2.15) and forwards
# 127.0.0.1:PORT here to the same port there; without it the outer VM has
# none. OUTER_SHARE_LIVE=DIR shares DIR uncached, for files that both
# sides write while the outer VM runs (the shares above are cached there).
outer_run() {
	local builddir=$1 command=$2 log=$3 results=$4 work status shares= append= tag=0 dir missing
	local nic="-nic none"
	: >"$log" && : >"$results" || return 124
	outer_image && outer_initramfs || return 124
	missing=$(outer_missing_libs "$builddir")
	if [ -n "$missing" ]; then
		outer_log "the outer VM's root lacks libraries the build loads (add their packages to OUTER_PACKAGES): $(echo $missing)"
		return 124
	fi
	work=$(mktemp -d) || return 124
	chmod 755 "$work"
	{
		echo "export WEBKVM_IN_OUTER_VM=1"
		env | grep -E '^(WEBKVM_[A-Z_]*|ASAN_OPTIONS|UBSAN_OPTIONS|FUZZ_SECONDS)=' |
			grep -v '^WEBKVM_FORCE_OUTER_VM=' | sed "s/^\([^=]*\)=\(.*\)$/export \1='\2'/"
		echo "cd '$OUTER_SRCDIR'"
		echo "$command"
	} >"$work/run.sh"
	: >"$work/alive"
	# The source tree, the build tree where it lies elsewhere, and the work folder.
	for dir in "$OUTER_SRCDIR" "$builddir" "$work"; do
		case $dir in "$OUTER_SRCDIR"/*) continue ;; esac
		case $dir in *[!A-Za-z0-9/._-]*) outer_log "cannot share $dir (unusual characters)"; rm -rf "$work"; return 124 ;; esac
		shares="$shares -virtfs local,path=$dir,mount_tag=share$tag,security_model=none"
		append="$append webkvm.share=share$tag:$dir"
		tag=$((tag + 1))
	done
	if [ -n "${OUTER_SHARE_LIVE:-}" ]; then
		case $OUTER_SHARE_LIVE in /*[!A-Za-z0-9/._-]* | [!/]*) outer_log "cannot share $OUTER_SHARE_LIVE"; rm -rf "$work"; return 124 ;; esac
		shares="$shares -virtfs local,path=$OUTER_SHARE_LIVE,mount_tag=live,security_model=none"
		append="$append webkvm.sharenc=live:$OUTER_SHARE_LIVE"
	fi
	[ -n "${OUTER_HOSTFWD:-}" ] &&
		nic="-nic user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$OUTER_HOSTFWD-:$OUTER_HOSTFWD"
	timeout -s KILL "${OUTER_TIMEOUT:-3600}" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu "${OUTER_CPU:-qemu64,+svm}" -m "${OUTER_MEMORY:-6144}" \
		-smp "${OUTER_CPUS:-2}" -kernel "$(bed_kernel)" -initrd "$BED_CACHE/outer/initrd" \
		-append "console=ttyS0 quiet panic=-1 webkvm.init=$OUTER_SRCDIR/tests/outer/init webkvm.run=$work/run.sh$append" \
		-drive "file=$BED_CACHE/outer/root.img,format=raw,if=virtio,snapshot=on,cache=unsafe" \
		$shares $nic -display none -monitor none \
		-serial "file:$log" -serial "file:$work/alive" -serial "file:$results" \
		-no-reboot </dev/null &
	bed_watch_heartbeat $! "$work/alive"
	status=$(tr -d '\r' <"$log" | sed -n 's/^BED-EXIT \([0-9]*\).*/\1/p' | tail -n1)
	rm -rf "$work"
	[ -n "$status" ] || { outer_log "the outer VM ended without a result (see $log)"; return 125; }
	return "$status"
}
