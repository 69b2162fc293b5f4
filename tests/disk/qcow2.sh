# qcow2 in vmm's disk layer against images qemu-img and qemu-io made.

test_qcow2_reads_qemu_img_convert_at_several_cluster_sizes() {
	need_qemu_img
	make_data data.raw 5
	for cs in 512 4096 65536 2M; do
		qemu-img convert -f raw -O qcow2 -o cluster_size=$cs data.raw img-$cs.qcow2
		reads_as "img-$cs.qcow2,format=qcow2" data.raw
	done
}

test_qcow2_reads_compressed_clusters() {
	need_qemu_img
	make_data data.raw 4
	qemu-img convert -c -f raw -O qcow2 data.raw c.qcow2
	qemu-img check -f qcow2 c.qcow2 | grep -q '[1-9][0-9.]*% compressed' || fail "no compressed clusters"
	reads_as "c.qcow2,format=qcow2" data.raw
}

test_qcow2_reads_zero_clusters() {
	need_qemu_img
	make_data data.raw 2
	qemu-img convert -f raw -O qcow2 data.raw z.qcow2
	qemu-io -f qcow2 -c "write -z 64K 128K" z.qcow2 >/dev/null
	qemu-io -f raw -c "write -z 64K 128K" data.raw >/dev/null
	reads_as "z.qcow2,format=qcow2" data.raw
}

test_qcow2_backing_chain_reads_through_three_levels() {
	need_qemu_img
	make_data base.raw 3
	qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 3M
	qemu-io -f qcow2 -c "write -P 0x11 1M 64K" -c "write -P 0x12 2500K 3K" mid.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 3M
	qemu-io -f qcow2 -c "write -P 0x21 1040K 8K" -c "write -z 0 4K" top.qcow2 >/dev/null
	qemu-img convert -f qcow2 -O raw top.qcow2 expect.raw
	reads_as "top.qcow2,format=qcow2" expect.raw
}

test_qcow2_backing_file_larger_or_smaller_than_overlay() {
	need_qemu_img
	# A base that ends in the middle of a cluster, as qcow2 with 512-byte
	# clusters (one L2 table maps 32 KiB: reads past its end find no L1
	# entry), under a larger overlay: past the base's end it reads as
	# zeroes, and a write into the cluster the base ends in copies up what
	# the base has.
	make_data data.raw 1
	truncate -s $((1048576 + 1000)) data.raw
	qemu-img convert -f raw -O qcow2 -o cluster_size=512 data.raw base.qcow2
	qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 big.qcow2 3M
	qemu-img convert -f qcow2 -O raw big.qcow2 expect.raw
	reads_as "big.qcow2,format=qcow2" expect.raw
	"$DISKIO" big.qcow2,format=qcow2 write $((1048576 + 900)) 200 5 write 2M 4K 6
	qemu-io -f raw -c "write -P 5 $((1048576 + 900)) 200" -c "write -P 6 2M 4K" expect.raw >/dev/null
	qemu_check big.qcow2
	same big.qcow2 qcow2 expect.raw
	reads_as "big.qcow2,format=qcow2" expect.raw
	# A smaller overlay shows only the start of a larger base, up to its
	# last byte, also after a write into its last cluster.
	make_data base.raw 3
	qemu-img create -q -f qcow2 -b base.raw -F raw small.qcow2 1M
	head -c 1M base.raw >expect.raw
	reads_as "small.qcow2,format=qcow2" expect.raw
	"$DISKIO" small.qcow2,format=qcow2 write $((1048576 - 100)) 50 7
	qemu-io -f raw -c "write -P 7 $((1048576 - 100)) 50" expect.raw >/dev/null
	[ "$("$DISKIO" small.qcow2,format=qcow2 size)" -eq 1048576 ] || fail "the overlay's size changed"
	qemu_check small.qcow2
	same small.qcow2 qcow2 expect.raw
}

# Random-looking writes of every shape, the same through qemu-io on a raw copy.
write_script() {
	echo "write 0 4K 1"
	echo "write 5000 3000 2"
	echo "write 70K 200K 3"
	echo "write 1M 1M 4"
	echo "write 1500K 512 5"
	echo "write 3M 64K 6"
	echo "write 4095K 1K 7"
}

apply_writes() { # SPEC: through disk-io; RAW: through qemu-io
	local args=() line
	while read -r line; do args+=($line); done < <(write_script)
	"$DISKIO" "$1" "${args[@]}" flush || fail "disk-io writes"
	write_script | while read -r _ off len byte; do
		qemu-io -f raw -c "write -P $byte $off $len" "$2" >/dev/null
	done
}

test_qcow2_writes_pass_qemu_img_check_and_compare() {
	need_qemu_img
	for cs in 512 4096 65536; do
		qemu-img create -q -f qcow2 -o cluster_size=$cs w.qcow2 4M
		qemu-img create -q -f raw expect.raw 4M
		apply_writes w.qcow2,format=qcow2 expect.raw
		qemu_check w.qcow2
		same w.qcow2 qcow2 expect.raw
		rm -f w.qcow2 expect.raw
	done
}

test_qcow2_v2_image_read_and_write() {
	need_qemu_img
	make_data data.raw 4
	qemu-img convert -f raw -O qcow2 -o compat=0.10 data.raw v2.qcow2
	reads_as "v2.qcow2,format=qcow2" data.raw
	apply_writes v2.qcow2,format=qcow2 data.raw
	"$DISKIO" v2.qcow2,format=qcow2 zero 2M 64K zero 100 1000 discard 3M 128K
	qemu-io -f raw -c "write -z 2M 64K" -c "write -z 100 1000" data.raw >/dev/null
	qemu_check v2.qcow2
	# the whole disk but the discarded range must match; that may read as
	# what was there or as zeroes
	qemu-img convert -f qcow2 -O raw v2.qcow2 got.raw
	[ "$(stat -c %s got.raw)" -eq $((4 << 20)) ] || fail "v2 image has the wrong size"
	cmp -n 3M got.raw data.raw || fail "v2 image differs before the discarded range"
	cmp -i 3200K got.raw data.raw || fail "v2 image differs after the discarded range"
	head -c 3200K got.raw | tail -c 128K >discarded.bin
	head -c 3200K data.raw | tail -c 128K | cmp -s - discarded.bin ||
		head -c 128K /dev/zero | cmp -s - discarded.bin ||
		fail "the discarded range reads as neither its data nor zeroes"
}

test_qcow2_overlay_writes_leave_the_base_unchanged() {
	need_qemu_img
	make_data base.raw 2
	qemu-img convert -f raw -O qcow2 base.raw base.qcow2
	md5sum base.qcow2 >base.md5
	qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 2M
	cp base.raw expect.raw
	"$DISKIO" top.qcow2,format=qcow2 write 5000 3000 2 write 70K 200K 3 write 1500K 512 5
	qemu-io -f raw -c "write -P 2 5000 3000" -c "write -P 3 70K 200K" -c "write -P 5 1500K 512" \
		expect.raw >/dev/null
	md5sum -c --quiet base.md5 || fail "the base image changed"
	qemu_check top.qcow2
	same top.qcow2 qcow2 expect.raw
}

test_qcow2_write_into_compressed_cluster_frees_it() {
	need_qemu_img
	make_data data.raw 2
	qemu-img convert -c -f raw -O qcow2 data.raw c.qcow2
	"$DISKIO" c.qcow2,format=qcow2 write 100K 10 9 write 1M 64K 8
	qemu-io -f raw -c "write -P 9 100K 10" -c "write -P 8 1M 64K" data.raw >/dev/null
	qemu_check c.qcow2
	same c.qcow2 qcow2 data.raw
}

test_qcow2_zero_and_discard_whole_and_partial_clusters() {
	need_qemu_img
	make_data data.raw 4
	for extra in "" "-b base.qcow2 -F qcow2"; do
		qemu-img convert -f raw -O qcow2 data.raw base.qcow2
		if [ -n "$extra" ]; then
			qemu-img create -q -f qcow2 $extra z.qcow2 4M
		else
			cp base.qcow2 z.qcow2
		fi
		cp data.raw expect.raw
		"$DISKIO" z.qcow2,format=qcow2 zero 64K 128K zero 300K 5000 zero-unmap 1M 1M \
			write 2M 64K 3 discard 2M 64K
		qemu-io -f raw -c "write -z 64K 128K" -c "write -z 300K 5000" -c "write -z 1M 1M" \
			expect.raw >/dev/null
		qemu_check z.qcow2
		# a discarded range may read as anything: compare around it
		qemu-img convert -f qcow2 -O raw z.qcow2 got.raw
		cmp -n 2M got.raw expect.raw || fail "zeroed ranges differ ($extra)"
		cmp -i 2112K got.raw expect.raw || fail "data after the discard differs ($extra)"
	done
}

test_qcow2_multi_cluster_writes_span_tables_and_reuse_freed_runs() {
	need_qemu_img
	# 512-byte clusters: an L2 table maps 32 KiB and a refcount block counts
	# 128 KiB, so long writes cross both; discards leave free runs of 80
	# and 6 clusters in the middle of the file for later writes to fill.
	qemu-img create -q -f qcow2 -o cluster_size=512 m.qcow2 8M
	qemu-img create -q -f raw expect.raw 8M
	local size
	# The same first write alone, for the size it leaves the file.
	qemu-img create -q -f qcow2 -o cluster_size=512 first.qcow2 8M
	"$DISKIO" first.qcow2,format=qcow2 write 0 3M 1 flush
	size=$(stat -c %s first.qcow2)
	# Then, in the same run, writes that need new clusters for both freed
	# ranges, and no more than were freed: the file must not grow.
	"$DISKIO" m.qcow2,format=qcow2 write 0 3M 1 discard 100K 40K discard 1M 3K \
		write 90K 60K 3 write 1047552 5K 6 flush
	[ "$(stat -c %s m.qcow2)" -eq "$size" ] ||
		fail "the writes into discarded ranges grew the file from $size to $(stat -c %s m.qcow2)"
	"$DISKIO" m.qcow2,format=qcow2 write 4M 200K 2 write 5000 70000 4 write 2097408 1M 5 \
		write 7M 1M 7 flush
	qemu-io -f raw -c "write -P 1 0 3M" -c "write -P 2 4M 200K" -c "write -P 3 90K 60K" \
		-c "write -P 4 5000 70000" -c "write -P 5 2097408 1M" -c "write -P 6 1047552 5K" \
		-c "write -P 7 7M 1M" expect.raw >/dev/null
	qemu_check m.qcow2
	same m.qcow2 qcow2 expect.raw
}

test_qcow2_refcount_table_grows() {
	need_qemu_img
	# 512-byte clusters: the first refcount table covers 8 MiB of file.
	qemu-img create -q -f qcow2 -o cluster_size=512 g.qcow2 64M
	qemu-img create -q -f raw expect.raw 64M
	"$DISKIO" g.qcow2,format=qcow2 write 0 20M 7 write 40M 3M 9
	qemu-io -f raw -c "write -P 7 0 20M" -c "write -P 9 40M 3M" expect.raw >/dev/null
	qemu_check g.qcow2
	same g.qcow2 qcow2 expect.raw
}

test_qcow2_refcount_widths_1_and_64_bits() {
	need_qemu_img
	for bits in 1 8 64; do
		qemu-img create -q -f qcow2 -o refcount_bits=$bits r.qcow2 4M
		qemu-img create -q -f raw expect.raw 4M
		apply_writes r.qcow2,format=qcow2 expect.raw
		qemu_check r.qcow2
		same r.qcow2 qcow2 expect.raw
		rm -f r.qcow2 expect.raw
	done
}

test_qcow2_readonly_refuses_writes() {
	need_qemu_img
	qemu-img create -q -f qcow2 ro.qcow2 1M
	md5sum ro.qcow2 >ro.md5
	! "$DISKIO" ro.qcow2,format=qcow2,readonly write 0 4K 1 2>err || fail "a read-only write succeeded"
	grep -q "Read-only" err || { cat err; fail "no read-only error"; }
	for cmd in "zero 0 64K" "zero 100 10" "discard 0 64K"; do
		! "$DISKIO" ro.qcow2,format=qcow2,readonly $cmd 2>err || fail "a read-only $cmd succeeded"
		grep -q "Read-only" err || { cat err; fail "no read-only error for $cmd"; }
	done
	md5sum -c --quiet ro.md5 || fail "the image changed"
}

# killed_series IMG OFF COUNT STOP: disk-io writes COUNT times 6000 bytes
# from OFF on, every 8 KiB (two 4 KiB clusters, one whole and one in part,
# all new to the image), flushing after each 20; it is killed with SIGKILL
# as soon as it reports STOP writes flushed, while most of its writes are
# still to come. Prints how many writes were flushed before it died.
killed_series() {
	local pid status=0 line last=0
	rm -f marks
	mkfifo marks
	"$DISKIO" "$1,format=qcow2" series "$2" "$3" 8K 6000 20 >marks 2>err &
	pid=$!
	exec 3<marks
	while read -r -u 3 line && [ "$line" -lt "$4" ]; do :; done
	kill -9 $pid 2>/dev/null || true
	wait $pid || status=$?
	# what it flushed and reported before the kill landed
	last=$line
	while read -r -u 3 line; do last=$line; done
	exec 3<&-
	[ "$status" -eq 137 ] || { cat err >&2; fail "disk-io ended with $status before the kill"; }
	[ "$last" -ge "$4" ] && [ "$last" -lt "$3" ] || fail "disk-io reported $last of $3 writes"
	echo "$last"
}

test_qcow2_sigkill_during_writes_leaves_no_corruption() {
	need_qemu_img
	local round n status base flushed=()
	qemu-img create -q -f qcow2 -o cluster_size=4096 k.qcow2 1G
	for round in 0 1 2; do
		base=$((round * 256 << 20))
		# 20000 writes would take seconds; the kill comes after 200 to 1400
		n=$(killed_series k.qcow2 $base 20000 $((200 + round * 600)))
		flushed+=("$n")
		status=0
		qemu-img check -f qcow2 k.qcow2 >check.out 2>&1 || status=$?
		# 0: clean, 3: leaked clusters only; 2 would be corruption
		[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { cat check.out; fail "qemu-img check says $status"; }
		# every flushed write of every round so far reads back
		qemu-img convert -f qcow2 -O raw k.qcow2 got.raw
		for r in $(seq 0 $round); do
			base=$((r * 256 << 20))
			rm -f expect.raw
			truncate -s 1G expect.raw
			"$DISKIO" expect.raw,format=raw series $base "${flushed[r]}" 8K 6000 0
			cmp -i $base -n $(((flushed[r] - 1) * 8192 + 6000)) got.raw expect.raw ||
				fail "round $r: the first ${flushed[r]} writes do not read back after round $round"
		done
	done
}

test_qcow2_probe_refused_without_format() {
	need_qemu_img
	qemu-img create -q -f qcow2 p.qcow2 1M
	expect_refused p.qcow2 "looks like qcow2: say format=qcow2"
	"$DISKIO" p.qcow2,format=raw size >/dev/null || fail "format=raw was refused"
}
