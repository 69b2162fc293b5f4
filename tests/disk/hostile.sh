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
	qemu-img create -q -f qcow2 -o extended_l2=on x.qcow2 1M
	expect_refused x.qcow2,format=qcow2 "extended L2"
	qemu-img create -q -f qcow2 -o compression_type=zstd z.qcow2 1M 2>/dev/null ||
		return 0 # this qemu-img has no zstd
	expect_refused z.qcow2,format=qcow2 "zstd"
}

test_qcow2_refuses_writing_a_dirty_image_but_reads_it() {
	need_qemu_img
	fresh d.qcow2
	poke d.qcow2 79 "01"
	expect_refused d.qcow2,format=qcow2 "not closed cleanly"
	"$DISKIO" d.qcow2,format=qcow2,readonly size >/dev/null || fail "read-only open refused"
}

test_qcow2_garbage_l2_entries_give_io_errors_not_crashes() {
	need_qemu_img
	fresh g.qcow2
	qemu-io -f qcow2 -c "write -P 1 0 64K" g.qcow2 >/dev/null
	# the first L2 entry now points into the header
	l2=$(od -An -tx1 -j $((0x30000)) -N 8 g.qcow2 | tr -d ' \n')
	poke g.qcow2 $((0x30000)) "80 00 00 00 00 00 02 00"
	! "$DISKIO" g.qcow2,format=qcow2 read 0 4K >/dev/null 2>err || fail "read of a bad entry succeeded"
	grep -q "Input/output error" err || { cat err; fail "not an I/O error"; }
	! "$DISKIO" g.qcow2,format=qcow2 write 0 4K 1 2>err || fail "write via a bad entry succeeded"
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
	"$DISKIO" r.img,format=raw,cache=none write 512 1536 5 write 1M 1M 6 flush
	qemu-img create -q -f raw expect.raw 4M
	qemu-io -f raw -c "write -P 5 512 1536" -c "write -P 6 1M 1M" expect.raw >/dev/null
	cmp r.img expect.raw || fail "cache=none writes differ"
	reads_as r.img,format=raw,cache=none expect.raw
}
