# Helpers for the disk tier: vmm's disk layer (through tests/tools/disk-io)
# held against qemu-img and qemu-io on the same image files. Each test_*
# function runs in its own bash in a fresh temporary folder and fails on
# the first failing command (set -e) or an explicit fail.

fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

DISKIO=$BUILDDIR/tests/tools/disk-io

# need_trusted_xattr: vmmd's format marks (trusted.*) can be set and read here (root).
need_trusted_xattr() {
	: >xattr.probe
	python3 -c 'import os; os.setxattr("xattr.probe", "trusted.webkvm.format", b"raw")' 2>/dev/null ||
		skip "trusted extended attributes cannot be set here (not root, or the file system keeps none)"
	rm -f xattr.probe
}

need_qemu_img() {
	command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
		skip "qemu-img and qemu-io are not installed (Debian package qemu-utils)"
}

# A file of LEN MiB of data that compresses a little and differs everywhere.
make_data() {
	local out=$1 mib=$2
	seq 1 $((mib * 200000)) | head -c $((mib * 1048576)) >"$out"
}

# qemu_check IMG: qemu-img check must find no errors and no leaks.
qemu_check() {
	qemu-img check -f qcow2 "$1" >check.out 2>&1 || { cat check.out; fail "qemu-img check $1"; }
}

# same IMG FMT REF: the image reads exactly as the raw file REF, per qemu-img.
same() {
	qemu-img compare -q -f "$2" -F raw "$1" "$3" || fail "qemu-img compare: $1 differs from $3"
}

# reads_as SPEC REF: our disk layer reads SPEC exactly as the raw file REF.
reads_as() {
	local size
	size=$(stat -c %s "$2")
	"$DISKIO" "$1" read 0 "$size" >got.bin || fail "disk-io read $1"
	cmp -s got.bin "$2" || fail "$1 does not read as $2"
}

# expect_refused SPEC PATTERN: opening SPEC fails with one line matching PATTERN.
expect_refused() {
	local status=0
	"$DISKIO" "$1" size >/dev/null 2>err || status=$?
	[ "$status" -eq 1 ] || { cat err; fail "disk-io $1 ended with $status, not 1"; }
	[ "$(wc -l <err)" -eq 1 ] || { cat err; fail "expected one line on stderr"; }
	grep -q -- "$2" err || { cat err; fail "stderr does not match '$2'"; }
}

# poke FILE OFFSET HEXBYTES: overwrite bytes in place ("00 00 00 08").
poke() {
	printf "$(echo "$3" | sed 's/\([0-9a-f][0-9a-f]\) */\\x\1/g')" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# poke64 FILE OFFSET VALUE: write VALUE (a shell number, 0x... allowed) as
# the big-endian 64-bit number at OFFSET.
poke64() {
	poke "$1" "$2" "$(printf '%016x' $(($3)) | sed 's/../& /g')"
}

# be64 FILE OFFSET: the big-endian 64-bit number at OFFSET, as 0x... hex.
be64() {
	echo "0x$(od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n')"
}

# l2_table IMG: the file offset of the L2 table of the image's first GiB
# (its first L1 entry), so that tests can forge L2 entries.
l2_table() {
	local l1
	l1=$(be64 "$1" 40)
	echo $(($(be64 "$1" $((l1))) & 0x00fffffffffffe00))
}

# io_error SPEC COMMAND...: disk-io opens SPEC, then COMMAND fails with an
# I/O error: exit status 1 (not a crash, not success) and EIO's message.
io_error() {
	local status=0
	"$DISKIO" "$@" >/dev/null 2>err || status=$?
	[ "$status" -eq 1 ] && grep -q "Input/output error" err ||
		{ cat err; fail "disk-io ${*:2}: status $status, not an I/O error"; }
}
