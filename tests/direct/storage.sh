# Storage pools and volumes through vmmd and vmmctl; images checked with qemu-img.

define_pool() { # define_pool NAME PATH
	cat >"$1.pool.xml" <<END
<pool type='dir'>
  <name>$1</name>
  <target>
    <path>$2</path>
  </target>
</pool>
END
	ctl pool-define "$1.pool.xml" >/dev/null
}

# reads_pattern FILE BYTE OFFSET LENGTH: qemu-io reads BYTE throughout the
# range of qcow2 FILE. qemu-io prints its "read N/N bytes" line even when
# the pattern differs, so its status and its verdict are what count.
reads_pattern() {
	qemu-io -f qcow2 -c "read -P $2 $3 $4" "$1" >qio.out 2>&1 || { cat qio.out; return 1; }
	! grep -q "Pattern verification failed" qio.out
}

vol_field() { # vol_field VOL POOL KEY
	ctl --json vol-info "$1" --pool "$2" | sed -n "s/.*\"$3\": *\"\\{0,1\\}\\([^\",]*\\).*/\\1/p"
}

test_pool_define_start_stop_undefine() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-list --all | grep -q ' images  *inactive  *no' || { ctl pool-list --all; fail "not listed inactive"; }
	[ -z "$(ctl pool-list | grep images)" ] || fail "pool-list shows an inactive pool"
	ctl pool-start images >/dev/null
	[ -d images ] || fail "pool-start did not make the folder"
	ctl pool-info images | grep -q '^State: *running' || fail "not running after pool-start"
	ctl pool-info images | grep -q '^Capacity:' || fail "no capacity"
	ctl pool-dumpxml images | grep -q "<path>$PWD/images</path>" || fail "dumpxml lost the path"
	# started pools stay started across a vmmd restart
	kill -9 "$VMMD_PID"
	start_vmmd
	ctl pool-list | grep -q ' images  *active' || fail "the pool was not active after a restart"
	! ctl pool-undefine images 2>err || fail "undefined a started pool"
	grep -q "images is started; stop it first" err || fail "$(cat err)"
	ctl pool-destroy images >/dev/null
	ctl pool-undefine images >/dev/null
	[ -z "$(ls state/pools)" ] || fail "definition left: $(ls state/pools)"
	[ -d images ] || fail "undefining removed the folder"
}

test_pool_refuses_bad_definitions() {
	start_vmmd
	printf "<pool type='logical'><name>v</name><target><path>/dev/vg</path></target></pool>" >l.xml
	! ctl pool-define l.xml 2>err || fail "a logical pool was accepted"
	[ "$(cat err)" = "error: unsupported pool type 'logical' (webkvm has type 'dir')" ] || fail "$(cat err)"
	printf "<pool type='dir'><name>p</name><target><path>/var/../etc</path></target></pool>" >d.xml
	! ctl pool-define d.xml 2>err || fail "a path with .. was accepted"
	grep -q "is not an absolute folder path" err || fail "$(cat err)"
	printf "<pool type='dir'><name>p</name><source><host name='nfs'/></source><target><path>/srv/p</path></target></pool>" >s.xml
	! ctl pool-define s.xml 2>err || fail "a source host was accepted"
	[ "$(cat err)" = "error: unsupported element <host> in <source>" ] || fail "$(cat err)"
	define_pool a "$PWD/same"
	! define_pool b "$PWD/same" 2>err || fail "two pools got the same folder"
	grep -q "the pool a already has the folder" err || fail "$(cat err)"
	[ "$(ls state/pools)" = "a.xml" ] || fail "refused definitions left files: $(ls state/pools)"
}

test_volumes_create_clone_resize_delete() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images base.qcow2 1G --format qcow2 >/dev/null
	qemu-img check images/base.qcow2 >check.out || { cat check.out; fail "qemu-img check of a new qcow2"; }
	[ "$(vol_field base.qcow2 images format)" = qcow2 ] || fail "format"
	[ "$(vol_field base.qcow2 images capacity)" = 1073741824 ] || fail "capacity"
	ctl vol-create images data.img 64M >/dev/null
	[ "$(stat -c %s images/data.img)" = 67108864 ] || fail "raw size"
	[ "$(vol_field data.img images format)" = raw ] || fail "raw format"

	# a pattern written with qemu-io survives a full clone
	qemu-io -f qcow2 -c 'write -P 0xa5 1M 64k' images/base.qcow2 >/dev/null
	ctl vol-clone base.qcow2 copy.qcow2 --pool images >/dev/null
	qemu-img compare images/base.qcow2 images/copy.qcow2 >/dev/null || fail "the copy differs"
	# an overlay reads through to its base and writes land in the overlay
	ctl vol-clone base.qcow2 over.qcow2 --pool images --overlay >/dev/null
	[ "$(vol_field over.qcow2 images backing)" = "$PWD/images/base.qcow2" ] || fail "backing"
	reads_pattern images/over.qcow2 0xa5 1M 64k || fail "overlay does not read its base"
	qemu-io -f qcow2 -c 'write -P 0x11 1M 4k' images/over.qcow2 >/dev/null
	reads_pattern images/over.qcow2 0x11 1M 4k || fail "the write did not land in the overlay"
	reads_pattern images/base.qcow2 0xa5 1M 4k || fail "the base changed"
	qemu-img check images/over.qcow2 >/dev/null || fail "qemu-img check of the overlay"

	ctl vol-resize over.qcow2 3G --pool images >/dev/null
	[ "$(qemu-img info --output=json images/over.qcow2 | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" = 3221225472 ] || fail "qcow2 resize"
	qemu-img check images/over.qcow2 >/dev/null || fail "qemu-img check after resize"
	ctl vol-resize data.img 128M --pool images >/dev/null
	[ "$(stat -c %s images/data.img)" = 134217728 ] || fail "raw resize"
	! ctl vol-resize data.img 1M --pool images 2>err || fail "a volume shrank"
	grep -q "it can only grow" err || fail "$(cat err)"

	ctl vol-list images >list
	for v in base.qcow2 copy.qcow2 over.qcow2 data.img; do grep -q " $v " list || fail "vol-list lacks $v"; done
	ctl vol-delete copy.qcow2 --pool images >/dev/null
	[ ! -e images/copy.qcow2 ] || fail "vol-delete left the file"
	! ctl vol-create images data.img 1M 2>err || fail "vol-create overwrote a volume"
	grep -q "File exists" err || fail "$(cat err)"
	[ "$(stat -c %s images/data.img)" = 134217728 ] || fail "the existing volume changed"
}

test_volume_names_cannot_leave_the_pool() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	echo secret >outside
	for name in ../outside .hidden a/b .. .; do
		! ctl vol-create images "$name" 1M 2>err || fail "vol-create accepted '$name'"
		grep -q "is not a volume name" err || fail "'$name': $(cat err)"
		! ctl vol-info "$name" --pool images 2>err || fail "vol-info accepted '$name'"
		grep -q "is not a volume name" err || fail "vol-info '$name': $(cat err)"
		! ctl vol-delete "$name" --pool images 2>err || fail "vol-delete accepted '$name'"
		grep -q "is not a volume name" err || fail "vol-delete '$name': $(cat err)"
	done
	[ "$(cat outside)" = secret ] || fail "a file outside the pool changed"
	# a symlink in the pool is not followed
	ln -s "$PWD/outside" images/link
	! ctl vol-info link --pool images 2>err || fail "vol-info followed a symlink"
	grep -q "cannot open $PWD/images/link: Too many levels of symbolic links" err || fail "$(cat err)"
	ctl vol-list images >list
	grep -q '^ Name ' list || { cat list; fail "vol-list gave no table"; }
	! grep -q ' link ' list || fail "vol-list shows a symlink"
	! ctl vol-resize link 1G --pool images 2>err || fail "vol-resize followed a symlink"
	grep -q "cannot open $PWD/images/link: Too many levels of symbolic links" err || fail "$(cat err)"
	[ "$(cat outside)" = secret ] || fail "a file outside the pool changed"
	# a hostile qcow2 header is refused, not trusted
	printf 'QFI\373\000\000\000\003' >images/evil.qcow2
	head -c 200 /dev/urandom >>images/evil.qcow2
	! ctl vol-info evil.qcow2 --pool images 2>err || fail "a broken qcow2 was read"
	grep -q "^error: .*qcow2" err || fail "$(cat err)"
	ctl pool-list >/dev/null || fail "vmmd stopped answering after a broken qcow2"
}

test_vm_runs_on_a_volume_that_cannot_then_be_deleted() {
	need_kvm
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images vm.qcow2 64M --format qcow2 >/dev/null
	cat >vm.xml <<END
<domain type='kvm'>
  <name>vm</name>
  <memory unit='MiB'>32</memory>
  <os><type>hvm</type><kernel>$TESTGUEST</kernel><cmdline>guest=tick</cmdline></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$PWD/images/vm.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
END
	ctl define vm.xml >/dev/null
	ctl start vm >/dev/null
	ctl domstats vm | grep -q 'block.0.name=vda' || fail "no disk in the VM"
	! ctl vol-delete vm.qcow2 --pool images 2>err || fail "deleted the disk of a running VM"
	grep -q "the running VM vm uses" err || fail "$(cat err)"
	! ctl vol-resize vm.qcow2 1G --pool images 2>err || fail "resized the disk of a running VM"
	grep -q "the running VM vm uses" err || fail "$(cat err)"
	ctl destroy vm >/dev/null
	ctl vol-delete vm.qcow2 --pool images >/dev/null
}

vm_with_disks_xml() { # NAME: a VM with a writable qcow2, a read-only raw disk and a NIC
	cat <<END
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <os><type>hvm</type><kernel>$TESTGUEST</kernel><cmdline>guest=tick</cmdline></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$PWD/images/$1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$PWD/images/seed.img'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
END
}

test_clone_copies_writable_disks_with_new_uuid_and_mac() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images web.qcow2 64M --format qcow2 >/dev/null
	ctl vol-create images seed.img 1M >/dev/null
	qemu-io -f qcow2 -c 'write -P 0x3c 0 64k' images/web.qcow2 >/dev/null
	vm_with_disks_xml web >web.xml
	ctl define web.xml >/dev/null
	ctl clone web web2 | grep -q "Clone 'web2' created" || fail "clone did not say so"
	ctl dumpxml web >a.xml
	ctl dumpxml web2 >b.xml
	[ "$(sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' a.xml)" != "$(sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' b.xml)" ] || fail "same uuid"
	! grep -q '52:54:00:aa:bb:cc' b.xml || fail "same MAC"
	grep -q "mac address=\"52:54:00:" b.xml || fail "no new MAC"
	grep -q "<source file=\"$PWD/images/web2.qcow2\"/>" b.xml || fail "the writable disk was not copied beside the original"
	grep -q "<source file=\"$PWD/images/seed.img\"/>" b.xml || fail "the read-only disk is not shared"
	qemu-img compare images/web.qcow2 images/web2.qcow2 >/dev/null || fail "the copy differs"
	! ctl clone web web2 2>err || fail "cloned onto an existing name"
	grep -q "a VM named web2 exists" err || fail "$(cat err)"
	# a clone that fails leaves no files behind
	ctl vol-create images web3.qcow2 1M >/dev/null
	! ctl clone web web3 2>err || fail "clone overwrote a file"
	grep -q "cannot create $PWD/images/web3.qcow2: File exists" err || fail "$(cat err)"
	[ "$(stat -c %s images/web3.qcow2)" = 1048576 ] || fail "the existing file changed"
	! ctl dominfo web3 2>/dev/null || fail "a failed clone was defined"
}

# stop_copying_child: vmmd's child that copies, stopped (SIGSTOP) once it is
# there; its pid.
stop_copying_child() {
	local i child
	for i in $(seq $(scaled 1000)); do
		child=$(pgrep -P "$VMMD_PID" | head -1)
		if [ -n "$child" ]; then
			kill -STOP "$child"
			echo "$child"
			return 0
		fi
		sleep 0.01
	done
	return 1
}

# copy_dies VMMCTL-ARGS...: a clone whose copying child is killed fails (its
# output in clone.out).
copy_dies() {
	local cl child
	ctl "$@" >clone.out 2>&1 &
	cl=$!
	child=$(stop_copying_child) || fail "no child of vmmd copies for $*: $(cat clone.out)"
	kill -9 "$child"
	! wait "$cl" || fail "$* succeeded though its copy died"
}

# Copies of volumes and of VMs' disks may take minutes: vmmd's children make
# them, and vmmd answers everyone meanwhile. (It once copied in its loop.)
test_copies_run_beside_the_service() {
	local cl child
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images seed.img 1M >/dev/null
	yes webkvm | head -c 512M >images/big.img
	ctl vol-clone big.img copy.img --pool images >clone.out 2>&1 &
	cl=$!
	child=$(stop_copying_child) || fail "no child of vmmd copies the volume: $(cat clone.out)"
	timeout $(scaled 2) "$VMMCTL" pool-list >/dev/null || fail "vmmd did not answer during a copy"
	kill -0 "$cl" 2>/dev/null || fail "the clone answered before its copy was done: $(cat clone.out)"
	# neither end changes meanwhile, nor does a VM on either start
	! ctl vol-resize copy.img 2G --pool images 2>err || fail "the copy was resized while made"
	grep -q "is being copied" err || fail "$(cat err)"
	! ctl vol-delete big.img --pool images 2>err || fail "the source was deleted while copied"
	vm_with_disks_xml onbig | sed "s|$PWD/images/onbig.qcow2|$PWD/images/big.img|" >onbig.xml
	ctl define onbig.xml >/dev/null || fail "cannot define onbig"
	! ctl start onbig 2>err || fail "a VM on a volume being copied started"
	grep -q "the disk $PWD/images/big.img of onbig is being copied" err || fail "$(cat err)"
	ctl undefine onbig >/dev/null
	# the child holds none of vmmd's sockets
	ls -l /proc/"$child"/fd | grep -q socket && fail "the copying child holds sockets: $(ls -l /proc/$child/fd)"
	kill -CONT "$child"
	wait "$cl" || { cat clone.out; fail "the volume's clone failed"; }
	cmp images/big.img images/copy.img || fail "the volume's copy differs"
	# a copy that dies leaves no volume
	copy_dies vol-clone big.img dead.img --pool images
	grep -q "cannot copy into $PWD/images/dead.img" clone.out || fail "$(cat clone.out)"
	[ ! -e images/dead.img ] || fail "a failed copy left its file"

	# a VM's clone: the VM may not start nor go while its disks are copied
	ctl vol-create images web.qcow2 1G --format qcow2 >/dev/null
	qemu-io -f qcow2 -c 'write -P 0x3c 0 512M' images/web.qcow2 >/dev/null
	vm_with_disks_xml web >web.xml
	ctl define web.xml >/dev/null
	ctl clone web web2 >clone.out 2>&1 &
	cl=$!
	child=$(stop_copying_child) || fail "no child of vmmd copies the VM's disks: $(cat clone.out)"
	timeout $(scaled 2) "$VMMCTL" list --all >/dev/null || fail "vmmd did not answer during a VM's copy"
	! ctl start web 2>err || fail "a VM started while its disks were copied"
	grep -q "the disks of web are being copied for a clone" err || fail "$(cat err)"
	! ctl undefine web 2>err || fail "a VM went while its disks were copied"
	grep -q "being copied for a clone" err || fail "$(cat err)"
	! ctl dominfo web2 >/dev/null 2>&1 || fail "the clone was defined before its disks were copied"
	kill -CONT "$child"
	wait "$cl" || { cat clone.out; fail "the VM's clone failed"; }
	grep -q "Clone 'web2' created" clone.out || fail "$(cat clone.out)"
	qemu-img compare images/web.qcow2 images/web2.qcow2 >/dev/null || fail "the VM's copy differs"
	# a VM made under the clone's name while the copy ran keeps its definition
	ctl clone web taken >clone.out 2>&1 &
	cl=$!
	child=$(stop_copying_child) || fail "no child of vmmd copies the VM's disks"
	vm_with_disks_xml taken | sed "s|<name>taken</name>|<name>taken</name><title>mine</title>|" >taken.xml
	ctl define taken.xml >/dev/null || fail "cannot define taken meanwhile"
	kill -CONT "$child"
	! wait "$cl" || fail "the clone replaced a VM made meanwhile"
	grep -q "a VM named taken was made while the disks were copied" clone.out || fail "$(cat clone.out)"
	ctl dumpxml taken | grep -q '<title>mine</title>' || fail "taken's definition changed"
	[ ! -e images/taken.qcow2 ] || fail "the refused clone left its copy"
	# a VM's copy that dies leaves no files and no clone, and the VM free again
	copy_dies clone web web3
	grep -q "cannot copy the disks of web" clone.out || fail "$(cat clone.out)"
	[ ! -e images/web3.qcow2 ] || fail "a failed clone left its copy"
	! ctl dominfo web3 >/dev/null 2>&1 || fail "a failed clone was defined"
	ctl undefine web >/dev/null || fail "the VM is still held after its clone failed"

	# vmmd stopped during a copy: the child goes with it, and so does the half copy
	ctl vol-clone big.img late.img --pool images >clone.out 2>&1 &
	cl=$!
	child=$(stop_copying_child) || fail "no child of vmmd copies the volume"
	kill -TERM "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	wait "$cl" 2>/dev/null || true
	! kill -0 "$child" 2>/dev/null || fail "the copying child outlived vmmd"
	[ ! -e images/late.img ] || fail "vmmd left a half copy"
}

test_attach_and_detach_disk_change_the_definition() {
	need_kvm
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images extra.qcow2 16M --format qcow2 >/dev/null
	domain_xml_plain() { printf "<domain type='kvm'><name>d</name><memory unit='MiB'>32</memory><os><type>hvm</type><kernel>%s</kernel><cmdline>guest=tick</cmdline></os><devices/></domain>" "$TESTGUEST"; }
	domain_xml_plain >d.xml
	ctl define d.xml >/dev/null
	ctl attach-disk d "$PWD/images/extra.qcow2" vdc --subdriver qcow2 --mode readonly --serial 'EX<1>' --persistent >/dev/null
	ctl dumpxml d >dump.xml
	grep -q '<driver name="qemu" type="qcow2"/>' dump.xml || fail "no driver"
	grep -q '<target dev="vdc" bus="virtio"/>' dump.xml || fail "no target"
	grep -q '<readonly/>' dump.xml || fail "not read-only"
	grep -q '<serial>EX&lt;1&gt;</serial>' dump.xml || fail "serial not escaped"
	! ctl attach-disk d "$PWD/images/extra.qcow2" vdc 2>err || fail "a second vdc was attached"
	grep -q "d already has a disk vdc" err || fail "$(cat err)"
	! ctl attach-disk d relative.img vdd 2>err || fail "a relative path was attached"
	grep -q "with an absolute path" err || fail "$(cat err)"
	! ctl attach-disk d /x.img sda 2>err || fail "target sda was attached"
	grep -q "unsupported disk target 'sda'" err || fail "$(cat err)"
	ctl start d >/dev/null
	ctl domstats d | grep -q 'block.0.name=vdc' || fail "the VM does not have the disk"
	ctl destroy d >/dev/null
	ctl detach-disk d vdc >/dev/null
	! ctl dumpxml d | grep -q '<disk' || fail "the disk stayed"
	! ctl detach-disk d vdc 2>err || fail "detached a missing disk"
	grep -q "d has no disk vdc" err || fail "$(cat err)"
}

test_undefine_remove_all_storage_deletes_pool_volumes_only() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-create images gone.qcow2 16M --format qcow2 >/dev/null
	ctl vol-create images seed.img 1M >/dev/null
	vm_with_disks_xml gone | sed "s|$PWD/images/seed.img|$PWD/outside.img|" >gone.xml
	truncate -s 1M outside.img
	ctl define gone.xml >/dev/null
	ctl undefine gone --remove-all-storage >out
	grep -q "Volume '$PWD/images/gone.qcow2' removed" out || { cat out; fail "not removed"; }
	grep -q "$PWD/outside.img' is not a volume of a started pool; kept" out || fail "not reported kept"
	[ ! -e images/gone.qcow2 ] && [ -e outside.img ] && [ -e images/seed.img ] || fail "the wrong files went"

	# a disk another VM has, and the base of an overlay, stay, each with why
	ctl vol-create images shared.qcow2 16M --format qcow2 >/dev/null
	ctl vol-create images base.qcow2 16M --format qcow2 >/dev/null
	ctl vol-clone base.qcow2 over.qcow2 --pool images --overlay >/dev/null
	vm_with_disks_xml one | sed "s|$PWD/images/one.qcow2|$PWD/images/shared.qcow2|" >one.xml
	vm_with_disks_xml two | sed "s|$PWD/images/two.qcow2|$PWD/images/shared.qcow2|" >two.xml
	vm_with_disks_xml three | sed "s|$PWD/images/three.qcow2|$PWD/images/base.qcow2|" >three.xml
	for v in one two three; do ctl define $v.xml >/dev/null; done
	ctl undefine one --remove-all-storage >out
	grep -q "'$PWD/images/shared.qcow2' is a disk of the VM two too; kept" out || { cat out; fail "the shared disk was not reported kept"; }
	ctl undefine three --remove-all-storage >out
	grep -q "'$PWD/images/base.qcow2' is the backing file of the volume images/over.qcow2; kept" out ||
		{ cat out; fail "the overlay's base was not reported kept"; }
	[ -e images/shared.qcow2 ] && [ -e images/base.qcow2 ] || fail "a disk others need went"
	! ctl dominfo one >/dev/null 2>&1 && ! ctl dominfo three >/dev/null 2>&1 || fail "the VMs stayed"
	ctl undefine two --remove-all-storage >out
	[ ! -e images/shared.qcow2 ] || { cat out; fail "the last VM's disk stayed"; }
	# nor a file that is another VM's kernel
	cp "$TESTGUEST" images/kern.img
	vm_with_disks_xml five | sed "s|<kernel>[^<]*</kernel>|<kernel>$PWD/images/kern.img</kernel>|" >five.xml
	vm_with_disks_xml six | sed "s|$PWD/images/six.qcow2|$PWD/images/kern.img|" >six.xml
	ctl define five.xml >/dev/null && ctl define six.xml >/dev/null || fail "cannot define five and six"
	ctl undefine six --remove-all-storage >out
	grep -q "'$PWD/images/kern.img' is the kernel or initrd of the VM five; kept" out || { cat out; fail "another VM's kernel was not kept"; }
	[ -e images/kern.img ] || fail "another VM's kernel went"
}

test_vm_on_a_network_that_is_not_defined_does_not_start() {
	need_kvm
	start_vmmd
	mkdir -p images
	vm_with_disks_xml nic >nic.xml
	ctl define nic.xml >/dev/null
	! ctl start nic 2>err || fail "a VM started without its network"
	[ "$(cat err)" = "error: nic: network 'default' is not defined" ] || fail "$(cat err)"
	[ -z "$(pgrep -f -- "--control=unix:$PWD/run/")" ] || fail "a vmm process was left"
}

test_vol_upload_copies_what_the_client_can_read() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	# a sparse "ISO" with data at both ends
	truncate -s 64M disk.iso
	printf 'ISO-START' | dd of=disk.iso conv=notrunc 2>/dev/null
	printf 'ISO-END' | dd of=disk.iso bs=1 seek=$((64 * 1024 * 1024 - 7)) conv=notrunc 2>/dev/null
	ctl vol-upload install.iso disk.iso --pool images | grep -q 'Vol install.iso uploaded' || fail "upload did not say so"
	cmp disk.iso images/install.iso || fail "the volume differs from the file"
	[ "$(stat -c %b images/install.iso)" -lt 1024 ] || fail "holes were filled in ($(stat -c %b images/install.iso) blocks)"
	# a qcow2 keeps its format
	qemu-img create -f qcow2 img.qcow2 16M >/dev/null
	ctl vol-upload img.qcow2 img.qcow2 --pool images >/dev/null
	[ "$(vol_field img.qcow2 images format)" = qcow2 ] || fail "the uploaded qcow2 is not one"
	# from a pipe too
	ctl vol-upload piped.img /dev/stdin --pool images < <(printf 'through a pipe') >/dev/null
	[ "$(cat images/piped.img)" = "through a pipe" ] || fail "the piped upload differs"
	# never over an existing volume; a file the client cannot read never goes in
	! ctl vol-upload install.iso disk.iso --pool images 2>err || fail "overwrote a volume"
	grep -q "File exists" err || fail "$(cat err)"
	! ctl vol-upload x.img "$PWD/no-such-file" --pool images 2>err || fail "uploaded a missing file"
	grep -q "cannot open $PWD/no-such-file" err || fail "$(cat err)"
	# as nobody, a file only root may read (the test runs as root: the tier needs it)
	id nobody >/dev/null 2>&1 || fail "no user nobody to upload as"
	command -v setpriv >/dev/null || fail "no setpriv to upload as nobody"
	echo secret >secret && chmod 600 secret
	chmod 755 "$PWD" && chmod 777 run && chmod 666 run/vmmd.sock
	! setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups "$VMMCTL" vol-upload s.img "$PWD/secret" \
		--pool images 2>err || fail "nobody uploaded root's file"
	grep -q "cannot open $PWD/secret" err || fail "$(cat err)"
	[ ! -e images/s.img ] || fail "a volume was made"
	# a slow upload does not hold the service up: vmmd answers long before its data comes
	ctl vol-upload slow.img /dev/stdin --pool images < <(sleep $(scaled 20); echo late) >slow.out 2>&1 &
	local up=$!
	sleep 0.5
	timeout $(scaled 10) "$VMMCTL" pool-list >/dev/null || fail "vmmd did not answer during an upload"
	wait $up || { cat slow.out; fail "the slow upload failed"; }
	[ "$(cat images/slow.img)" = late ] || fail "the slow upload differs"
	# the raw request without a file is refused
	call '{"jsonrpc":"2.0","id":1,"method":"vol.upload","params":{"pool":"images","name":"y.img"}}' | grep -q 'needs the file sent with the request' || fail "no file was accepted"
	[ ! -e images/y.img ] || fail "a volume was made without a file"
}

test_vmmd_restarts_while_an_upload_runs() {
	start_vmmd
	define_pool images "$PWD/images"
	ctl pool-start images >/dev/null
	ctl vol-upload slow.img /dev/stdin --pool images < <(sleep 4; echo late) >slow.out 2>&1 &
	sleep 0.5
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	# the copying child must not keep the new vmmd out
	start_vmmd
	ctl pool-list >/dev/null || { cat vmmd.log; fail "the new vmmd does not answer"; }
	! grep -q "another vmmd is running" vmmd.log || fail "the upload's child held the lock"
}
