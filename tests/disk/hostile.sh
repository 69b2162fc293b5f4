# Hostile and broken qcow2 images are refused at open with one clear line.

fresh() { qemu-img create -q -f qcow2 -o cluster_size=65536 "$1" 8M; }

test_qcow2_refuses_a_truncated_header() {
	need_qemu_img
	fresh t.qcow2
	truncate -s 50 t.qcow2
	expect_refused t.qcow2,format=qcow2 "too short"
}

test_qcow2_refuses_cluster_bits_out_of_range() {
	need_qemu_img
	for bits in 08 16 ff; do
		fresh c.qcow2
		poke c.qcow2 20 "00 00 00 $bits"
		expect_refused c.qcow2,format=qcow2 "cluster_bits"
	done
}

test_qcow2_refuses_header_fields_out_of_range() {
	need_qemu_img
	fresh h.qcow2
	poke h.qcow2 0 "51 46 49 00"
	expect_refused h.qcow2,format=qcow2 "no QFI magic"
	fresh h.qcow2
	poke h.qcow2 4 "00 00 00 04"
	expect_refused h.qcow2,format=qcow2 "has version 4"
	# a v3 header shorter than 104 bytes, not a multiple of 8, or longer than what is read
	for len in "00 00 00 60" "00 00 00 6c" "00 00 10 08"; do
		fresh h.qcow2
		poke h.qcow2 100 "$len"
		expect_refused h.qcow2,format=qcow2 "header length"
	done
	fresh h.qcow2
	poke h.qcow2 96 "00 00 00 07"
	expect_refused h.qcow2,format=qcow2 "refcount_order 7"
	# 1 GiB, but the single L1 entry of an 8 MiB image maps 512 MiB
	fresh h.qcow2
	poke h.qcow2 24 "00 00 00 00 40 00 00 00"
	expect_refused h.qcow2,format=qcow2 "too large"
	# the L1 table not aligned to a cluster (inside the file, clear of the refcount table)
	fresh h.qcow2
	poke h.qcow2 40 "00 00 00 00 00 02 00 08"
	expect_refused h.qcow2,format=qcow2 "L1 table lies outside"
}

test_qcow2_refuses_l1_table_past_the_end_or_on_the_header() {
	need_qemu_img
	fresh l.qcow2
	poke l.qcow2 40 "00 00 00 00 10 00 00 00"
	expect_refused l.qcow2,format=qcow2 "L1 table lies outside"
	fresh l.qcow2
	poke l.qcow2 40 "00 00 00 00 00 00 00 00"
	expect_refused l.qcow2,format=qcow2 "L1 table lies outside"
}

test_qcow2_refuses_refcount_table_past_the_end_or_huge() {
	need_qemu_img
	fresh r.qcow2
	poke r.qcow2 48 "00 00 00 10 00 00 00 00"
	expect_refused r.qcow2,format=qcow2 "refcount table"
	fresh r.qcow2
	poke r.qcow2 56 "7f ff ff ff"
	expect_refused r.qcow2,format=qcow2 "refcount table"
	# none at all: a writable image could count no cluster it allocates
	fresh r.qcow2
	poke r.qcow2 56 "00 00 00 00"
	expect_refused r.qcow2,format=qcow2 "refcount table"
}

test_qcow2_refuses_overlapping_tables() {
	need_qemu_img
	fresh o.qcow2
	# point L1 at the refcount table
	dd if=o.qcow2 bs=1 skip=48 count=8 status=none | dd of=o.qcow2 bs=1 seek=40 conv=notrunc status=none
	expect_refused o.qcow2,format=qcow2 "overlap"
}

test_qcow2_refuses_absurd_sizes() {
	need_qemu_img
	fresh s.qcow2
	poke s.qcow2 24 "7f ff ff ff ff ff ff ff"
	expect_refused s.qcow2,format=qcow2 "too large"
	fresh s.qcow2
	poke s.qcow2 36 "7f ff ff ff"
	expect_refused s.qcow2,format=qcow2 "too large"
}

test_qcow2_refuses_backing_chains_that_loop() {
	need_qemu_img
	qemu-img create -q -f qcow2 a.qcow2 1M
	qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 -u b.qcow2 1M
	# a names itself
	qemu-img rebase -q -u -f qcow2 -b a.qcow2 -F qcow2 a.qcow2
	expect_refused a.qcow2,format=qcow2 "backing chain loops"
	# a -> b -> a
	qemu-img rebase -q -u -f qcow2 -b b.qcow2 -F qcow2 a.qcow2
	expect_refused a.qcow2,format=qcow2 "backing chain loops"
}

# A file made raw (vmmd marks it so) holds its guest's bytes: a qcow2
# header written there names a backing file of the guest's choice, so an
# overlay that names it as a qcow2 is refused, not followed to the secret.
test_qcow2_refuses_a_backing_file_made_raw_as_a_qcow2() {
	need_qemu_img
	need_trusted_xattr
	make_data secret.raw 1
	qemu-img create -q -f raw disk.raw 1M
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.webkvm.format", b"raw")' disk.raw
	# what the guest of disk.raw writes into it
	qemu-img create -q -f qcow2 -b secret.raw -F raw -u header.qcow2 1M
	dd if=header.qcow2 of=disk.raw bs=64k count=1 conv=notrunc status=none
	qemu-img create -q -f qcow2 -b disk.raw -F qcow2 -u top.qcow2 1M
	expect_refused top.qcow2,format=qcow2 "disk.raw was made as a raw image"
	# unmarked, it is what its header says (as qemu reads it)
	python3 -c 'import os, sys; os.removexattr(sys.argv[1], "trusted.webkvm.format")' disk.raw
	reads_as top.qcow2,format=qcow2 secret.raw
}

test_qcow2_refuses_a_chain_deeper_than_16() {
	need_qemu_img
	qemu-img create -q -f raw l0.img 1M
	prev=l0.img fmt=raw
	for i in $(seq 1 17); do
		qemu-img create -q -f qcow2 -b $prev -F $fmt -u l$i.qcow2 1M
		prev=l$i.qcow2 fmt=qcow2
	done
	expect_refused l17.qcow2,format=qcow2 "deeper than 16"
	"$DISKIO" l16.qcow2,format=qcow2 size >/dev/null || fail "a chain of 16 was refused"
}

test_qcow2_refuses_missing_backing_file() {
	need_qemu_img
	qemu-img create -q -f qcow2 -b gone.qcow2 -F qcow2 -u m.qcow2 1M
	expect_refused m.qcow2,format=qcow2 "cannot open backing file .*gone.qcow2"
}

test_qcow2_refuses_unsupported_features() {
	need_qemu_img
	fresh e.qcow2
	poke e.qcow2 32 "00 00 00 01"
	expect_refused e.qcow2,format=qcow2 "encrypted"
	fresh f.qcow2
	poke f.qcow2 72 "00 00 00 00 00 00 01 00"
	expect_refused f.qcow2,format=qcow2 "unknown incompatible features"
	fresh f.qcow2
	poke f.qcow2 79 "04"
	expect_refused f.qcow2,format=qcow2 "external file"
	qemu-img create -q -f qcow2 -o extended_l2=on x.qcow2 1M
	expect_refused x.qcow2,format=qcow2 "extended L2"
	# qemu-img 5.1 and later (Debian 12 has 7.2) makes zstd images
	qemu-img create -q -f qcow2 -o compression_type=zstd z.qcow2 1M ||
		fail "qemu-img cannot make a zstd image"
	expect_refused z.qcow2,format=qcow2 "zstd"
}

test_qcow2_refuses_writing_a_dirty_image_but_reads_it() {
	need_qemu_img
	fresh d.qcow2
	poke d.qcow2 79 "01"
	expect_refused d.qcow2,format=qcow2 "not closed cleanly"
	"$DISKIO" d.qcow2,format=qcow2,readonly size >/dev/null || fail "read-only open refused"
	fresh c.qcow2
	poke c.qcow2 79 "02"
	expect_refused c.qcow2,format=qcow2 "marked corrupt"
	"$DISKIO" c.qcow2,format=qcow2,readonly size >/dev/null || fail "read-only open refused"
}

# Two clusters of 64 KiB written (bytes 1, then 2) on an 8 MiB disk, whose
# single L1 entry maps one L2 table. qemu-img lays the file out as: header
# 0, refcount table 0x10000, refcount block 0x20000, L1 table 0x30000,
# L2 table 0x40000, data 0x50000 and 0x60000; the file ends at 0x70000.
two_clusters() {
	fresh "$1"
	qemu-io -f qcow2 -c "write -P 1 0 64K" -c "write -P 2 64K 64K" "$1" >/dev/null
	[ "$(l2_table "$1")" -eq $((0x40000)) ] && [ "$(stat -c %s "$1")" -eq $((0x70000)) ] ||
		fail "qemu-img laid out $1 differently: L2 at $(l2_table "$1"), $(stat -c %s "$1") bytes"
}

# refused_everywhere IMG [OFF]: reading, writing part of or all of,
# zeroing and discarding the guest cluster at OFF (0) each fail with an
# I/O error, and the file does not change.
refused_everywhere() {
	local spec=$1,format=qcow2 off=$((${2:-0})) sum
	sum=$(md5sum <"$1")
	io_error "$spec" read $off 4K
	io_error "$spec" write $((off + 4096)) 4K 9
	io_error "$spec" write $off 64K 9
	io_error "$spec" zero $((off + 100)) 1000
	io_error "$spec" zero $off 64K
	io_error "$spec" zero-unmap $off 64K
	io_error "$spec" discard $off 64K
	[ "$(md5sum <"$1")" = "$sum" ] || fail "a refused access changed $1"
}

# cluster_reads IMG OFF BYTE: the guest cluster at OFF reads as 64 KiB of BYTE.
cluster_reads() {
	"$DISKIO" "$1,format=qcow2" read "$2" 64K >got.bin || fail "cannot read $2 of $1"
	head -c 64K /dev/zero | tr '\0' "\\$(printf %o "$3")" | cmp -s - got.bin ||
		fail "$2 of $1 does not read as $3"
}

test_qcow2_refuses_hostile_l2_entries_on_every_path() {
	need_qemu_img
	local e l2
	# past or at the end of the file, on the L1 or refcount table, not
	# aligned to a cluster, reserved bits set; with and without the
	# "copied" flag (bit 63) that lets a write go in place
	two_clusters good.qcow2
	l2=$(l2_table good.qcow2)
	for e in 0x8000000000070000 0x0000000000070000 0x8000000000030000 0x8000000000010000 \
		0x8000000000050200 0x8000000000050002 0x2000000000050000 0x8000000000070001; do
		cp good.qcow2 g.qcow2
		poke64 g.qcow2 $l2 $e
		refused_everywhere g.qcow2 || fail "entry $e"
		cluster_reads g.qcow2 64K 2
	done
}

test_qcow2_hostile_l2_entry_ends_a_run_of_clusters() {
	need_qemu_img
	local l2 orig
	# cluster 0 at 0x60000, cluster 1 right after it: past the end of the file
	two_clusters h.qcow2
	l2=$(l2_table h.qcow2)
	poke64 h.qcow2 $l2 0x8000000000060000
	poke64 h.qcow2 $((l2 + 8)) 0x8000000000070000
	io_error h.qcow2,format=qcow2 read 0 128K
	io_error h.qcow2,format=qcow2 write 0 128K 9
	[ "$(stat -c %s h.qcow2)" -eq $((0x70000)) ] || fail "a write went past the end of the file"
	# a new run for clusters 0 and 1, where the old cluster 1 was the L1 table
	fresh w.qcow2
	qemu-io -f qcow2 -c "write -P 2 64K 64K" w.qcow2 >/dev/null
	l2=$(l2_table w.qcow2)
	orig=$(be64 w.qcow2 $((l2 + 8)))
	poke64 w.qcow2 $((l2 + 8)) 0x30000
	io_error w.qcow2,format=qcow2 write 0 128K 9
	# with cluster 1 put back, the refcounts must still hold (the L1 table not freed)
	poke64 w.qcow2 $((l2 + 8)) $orig
	qemu_check w.qcow2
	cluster_reads w.qcow2 0 9
	cluster_reads w.qcow2 64K 2
}

test_qcow2_refuses_hostile_l1_entries() {
	need_qemu_img
	local e l1
	# the L2 table past the end, on the refcount table, not aligned,
	# reserved bits 0 and 62 set
	two_clusters good.qcow2
	l1=$(be64 good.qcow2 40)
	for e in 0x8000000000070000 0x8000000000010000 0x8000000000040200 \
		0x8000000000040001 0xc000000000040000; do
		cp good.qcow2 l.qcow2
		poke64 l.qcow2 $((l1)) $e
		refused_everywhere l.qcow2 || fail "entry $e"
		refused_everywhere l.qcow2 65536 || fail "entry $e"
	done
	# past what the L1 table maps (requests beyond the disk's size)
	cp good.qcow2 l.qcow2
	io_error l.qcow2,format=qcow2 read 512M 4K
	io_error l.qcow2,format=qcow2 write 512M 4K 1
}

# A compressed image of three 64 KiB clusters; d0 and d2 are the
# descriptors of clusters 0 and 2, off0 and n0 where cluster 0's
# compressed bytes lie and how many sectors the descriptor gives them.
# Descriptors here: bit 62 set, bits 54-61 sectors - 1, bits 0-53 offset.
compressed_three() {
	make_data data.raw 1
	head -c 192K data.raw >d.raw
	qemu-img convert -c -f raw -O qcow2 -o cluster_size=65536 d.raw c.qcow2
	l2=$(l2_table c.qcow2)
	d0=$(be64 c.qcow2 $l2)
	d2=$(be64 c.qcow2 $((l2 + 16)))
	((d0 >> 62 == 1 && d2 >> 62 == 1)) || fail "clusters 0 and 2 are not compressed"
	off0=$((d0 & ((1 << 54) - 1)))
	n0=$(((d0 >> 54 & 0xff) + 1))
}

# put_compressed IMG AT: a copy of cluster 0's compressed bytes at AT, and
# cluster 1's descriptor pointing at it (one sector more, for AT's offset
# within its sector).
put_compressed() {
	dd if=c.qcow2 of="$1" bs=64K iflag=skip_bytes,count_bytes oflag=seek_bytes skip=$off0 \
		seek=$(($2)) count=$((n0 * 512 - (off0 & 511))) conv=notrunc status=none
	poke64 "$1" $((l2 + 8)) $(((1 << 62) | (n0 << 54) | $2))
}

test_qcow2_refuses_hostile_compressed_descriptors() {
	need_qemu_img
	local l2 d0 d2 off0 n0 at end
	compressed_three
	# the copy works where it may lie: past the old end of the file, mid-sector
	cp c.qcow2 h.qcow2
	put_compressed h.qcow2 $((($(stat -c %s c.qcow2) + 511) / 512 * 512 + 256))
	"$DISKIO" h.qcow2,format=qcow2 read 64K 64K >got.bin || fail "a moved cluster cannot be read"
	head -c 64K d.raw | cmp -s - got.bin || fail "the moved cluster reads wrong"
	# not on the header, the refcount table or the L1 table, though it would inflate
	for at in 0x1000 $(($(be64 c.qcow2 48) + 0x100)) $(($(be64 c.qcow2 40) + 0x100)); do
		cp c.qcow2 h.qcow2
		put_compressed h.qcow2 $at
		refused_everywhere h.qcow2 65536 || fail "compressed cluster at $at"
		cluster_reads_as h.qcow2 0 d.raw
	done
	# data that does not inflate to a cluster: a descriptor into the middle
	# of cluster 0's compressed bytes
	cp c.qcow2 h.qcow2
	poke64 h.qcow2 $((l2 + 8)) $(((1 << 62) | ((n0 - 2) << 54) | (off0 + 1000)))
	io_error h.qcow2,format=qcow2 read 64K 4K
	io_error h.qcow2,format=qcow2 write 64K 4K 1
	# a whole deflate stream that ends before the cluster is full (1000 bytes)
	python3 -c 'import sys, zlib; c = zlib.compressobj(9, zlib.DEFLATED, -12); sys.stdout.buffer.write(c.compress(b"x" * 1000) + c.flush())' >short.z
	cp c.qcow2 h.qcow2
	at=$((($(stat -c %s h.qcow2) + 511) / 512 * 512))
	dd if=short.z of=h.qcow2 bs=1 seek=$at conv=notrunc status=none
	poke64 h.qcow2 $((l2 + 8)) $(((1 << 62) | (($(stat -c %s short.z) + 511) / 512 - 1) << 54 | at))
	io_error h.qcow2,format=qcow2 read 64K 4K
	# cluster 2 is last in the file: the most sectors a descriptor can give
	# (2^8 of 512 bytes: two clusters) run past its end
	end=$(($(stat -c %s c.qcow2) + 65535 & ~65535))
	(((d2 & ((1 << 54) - 1)) + 131072 - (d2 & 511) > end)) || fail "cluster 2 does not end the file"
	cp c.qcow2 h.qcow2
	poke64 h.qcow2 $((l2 + 16)) $((d2 | 0xff << 54))
	refused_everywhere h.qcow2 131072
	# far past it
	cp c.qcow2 h.qcow2
	poke64 h.qcow2 $((l2 + 16)) $(((1 << 62) | (1 << 50)))
	refused_everywhere h.qcow2 131072
}

# cluster_reads_as IMG OFF RAW: the guest cluster at OFF reads as the same
# 64 KiB of RAW.
cluster_reads_as() {
	"$DISKIO" "$1,format=qcow2" read "$2" 64K >got.bin || fail "cannot read $2 of $1"
	head -c $(($2 + 65536)) "$3" | tail -c 65536 | cmp -s - got.bin || fail "$2 of $1 reads wrong"
}

test_qcow2_image_with_snapshots_opens_only_read_only() {
	need_qemu_img
	local sum
	two_clusters s.qcow2
	qemu-img snapshot -c before s.qcow2
	sum=$(md5sum <s.qcow2)
	expect_refused s.qcow2,format=qcow2 "internal snapshots"
	"$DISKIO" s.qcow2,format=qcow2,readonly read 0 128K >got.bin || fail "read-only open refused"
	{ head -c 64K /dev/zero | tr '\0' '\1'; head -c 64K /dev/zero | tr '\0' '\2'; } >expect.bin
	cmp -s got.bin expect.bin || fail "the image reads wrong"
	[ "$(md5sum <s.qcow2)" = "$sum" ] || fail "opening changed the image"
}

test_qcow2_tables_shared_with_a_hidden_snapshot_are_not_written() {
	need_qemu_img
	# The header says no snapshots, but the tables are still shared with
	# one: the L1 entry has no "copied" flag.
	two_clusters s.qcow2
	qemu-img snapshot -c before s.qcow2
	poke s.qcow2 60 "00 00 00 00"
	sum=$(md5sum <s.qcow2)
	io_error s.qcow2,format=qcow2 write 4K 4K 9
	io_error s.qcow2,format=qcow2 write 0 64K 9
	io_error s.qcow2,format=qcow2 zero 100 1000
	io_error s.qcow2,format=qcow2 zero 0 64K
	io_error s.qcow2,format=qcow2 discard 64K 64K
	[ "$(md5sum <s.qcow2)" = "$sum" ] || fail "a refused write changed the shared tables"
	cluster_reads s.qcow2 0 1
	cluster_reads s.qcow2 64K 2
}

test_qcow2_refuses_a_backing_name_outside_the_header_cluster() {
	need_qemu_img
	# on the header's own fields
	fresh b.qcow2
	poke64 b.qcow2 8 16
	poke b.qcow2 16 "00 00 00 08"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# a length but no offset: the name would be the magic
	fresh b.qcow2
	poke b.qcow2 16 "00 00 00 04"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# past the end of a 512-byte header cluster
	qemu-img create -q -f qcow2 -o cluster_size=512 b.qcow2 1M
	poke64 b.qcow2 8 500
	poke b.qcow2 16 "00 00 00 14"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# longer than a 512-byte cluster (the bound must not wrap around)
	qemu-img create -q -f qcow2 -o cluster_size=512 b.qcow2 1M
	poke64 b.qcow2 8 200
	poke b.qcow2 16 "00 00 02 58"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# in the 4 KiB read, but past the 512-byte header cluster
	qemu-img create -q -f qcow2 -o cluster_size=512 b.qcow2 1M
	poke64 b.qcow2 8 1000
	poke b.qcow2 16 "00 00 00 08"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# past the 4 KiB of header that are read
	fresh b.qcow2
	poke64 b.qcow2 8 4090
	poke b.qcow2 16 "00 00 00 0a"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# longer than a path may be
	fresh b.qcow2
	poke64 b.qcow2 8 1000
	poke b.qcow2 16 "00 00 04 00"
	expect_refused b.qcow2,format=qcow2 "backing file name lies outside the header"
	# a name with a NUL in it
	fresh b.qcow2
	printf 'a.img\0b' | dd of=b.qcow2 bs=1 seek=1000 conv=notrunc status=none
	poke64 b.qcow2 8 1000
	poke b.qcow2 16 "00 00 00 07"
	expect_refused b.qcow2,format=qcow2 "backing file name is not a path"
	# a name that is a protocol, not a file
	for name in "json:{}" "nbd://localhost/x"; do
		qemu-img create -q -f qcow2 -b "$name" -F raw -u p.qcow2 1M
		expect_refused p.qcow2,format=qcow2 "names a backing file by protocol"
	done
}

test_qcow2_refuses_hostile_header_extensions() {
	need_qemu_img
	qemu-img create -q -f raw base.raw 1M
	qemu-img create -q -f qcow2 -b base.raw -F raw x.qcow2 1M
	"$DISKIO" x.qcow2,format=qcow2 size >/dev/null || fail "a good overlay was refused"
	# qemu-img's header is 112 bytes; the backing format comes first after it
	[ "$(be64 x.qcow2 112)" = 0xe2792aca00000003 ] || fail "no backing format extension at 112"
	# the extension claims to run past the backing name
	cp x.qcow2 y.qcow2
	poke y.qcow2 116 "00 00 10 00"
	expect_refused y.qcow2,format=qcow2 "header extension runs past its end"
	# by a few bytes: its data would end inside the backing name
	local boff len
	boff=$(($(be64 x.qcow2 8)))
	len=$((boff - 112 - 8 + 4))
	cp x.qcow2 y.qcow2
	poke y.qcow2 116 "$(printf '%02x %02x %02x %02x' $((len >> 24 & 255)) $((len >> 16 & 255)) $((len >> 8 & 255)) $((len & 255)))"
	expect_refused y.qcow2,format=qcow2 "header extension runs past its end"
	# a backing format webkvm does not read
	cp x.qcow2 y.qcow2
	poke y.qcow2 120 "76 6d 64"
	expect_refused y.qcow2,format=qcow2 "backing file of format 'vmd'"
}

# A request in more pieces than raw's own batch (64 segments): 200 of
# 2 KiB, read and written in order, both with the page cache and without.
test_raw_requests_of_many_segments() {
	need_qemu_img
	qemu-img create -q -f raw r.img 4M
	qemu-img create -q -f raw expect.raw 4M
	qemu-io -f raw -c "write -P 7 4096 400K" -c "write -P 9 1M 400K" expect.raw >/dev/null
	"$DISKIO" r.img,format=raw segments 200 write 4096 400K 7 || fail "the write of 200 segments failed"
	"$DISKIO" r.img,format=raw,cache=none segments 200 write 1M 400K 9 ||
		fail "the write of 200 segments without the page cache failed"
	cmp r.img expect.raw || fail "200 segments were written wrong"
	"$DISKIO" r.img,format=raw segments 200 read 0 2M >got.bin || fail "the read of 200 segments failed"
	head -c 2M expect.raw | cmp -s - got.bin || fail "200 segments read wrong"
}

test_raw_cache_none_reads_and_writes_with_unaligned_buffers() {
	need_qemu_img
	qemu-img create -q -f raw r.img 4M
	if ! "$DISKIO" r.img,format=raw,cache=none size >/dev/null 2>err; then
		grep -q O_DIRECT err && skip "this file system has no O_DIRECT"
		cat err
		fail "cache=none open"
	fi
	# disk-io's malloc'd buffers are not 4 KiB aligned: the bounce path serves them
	# (one request of 1 MiB + 4 KiB goes through the 1 MiB bounce buffer in two)
	"$DISKIO" r.img,format=raw,cache=none write 512 1536 5 write 1M 1M 6 write 2M 1028K 8 flush
	qemu-img create -q -f raw expect.raw 4M
	qemu-io -f raw -c "write -P 5 512 1536" -c "write -P 6 1M 1M" -c "write -P 8 2M 1028K" \
		expect.raw >/dev/null
	cmp r.img expect.raw || fail "cache=none writes differ"
	reads_as r.img,format=raw,cache=none expect.raw
}
