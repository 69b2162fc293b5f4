# A VM's disks from its page: attach a volume, grow it, detach it.

setup_volumes() {
	mkdir -p pool
	printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pool" >p.xml
	ctl pool-define p.xml >/dev/null
	ctl pool-start p >/dev/null
	ctl vol-create p data.qcow2 1G --format qcow2 >/dev/null || fail "cannot make a volume"
}

test_attach_grow_and_detach_a_volume() {
	start_portal
	setup_volumes
	define d1 echo
	login_admin
	web /instance/d1 >/dev/null
	grep -q '<option value="p/data.qcow2">' body.html || fail "the volume is not offered"
	[ "$(post /instance/d1/disk/attach volume=p/data.qcow2)" = 303 ] || fail "attach answered $(cat body.html)"
	ctl dumpxml d1 | grep -q "$PWD/pool/data.qcow2" || fail "the disk is not in the definition"
	web /instance/d1 >/dev/null
	grep -q 'data-disk="vda"' body.html || fail "the page does not list vda"
	[ "$(post /instance/d1/disk/resize target=vda size=2)" = 303 ] || fail "resize answered"
	qemu-img info pool/data.qcow2 | grep -q 'virtual size: 2 GiB' || fail "not grown: $(qemu-img info pool/data.qcow2)"
	[ "$(post /instance/d1/disk/detach target=vda)" = 303 ] || fail "detach answered"
	ctl dumpxml d1 | grep -q "data.qcow2" && fail "the disk is still in the definition"
	[ -f pool/data.qcow2 ] || fail "detach removed the volume"
}

test_attach_takes_only_volumes() {
	start_portal
	setup_volumes
	define d1 echo
	login_admin
	ctl dumpxml d1 >before.xml
	web /instance/d1 >/dev/null
	post /instance/d1/disk/attach volume=/etc/shadow >/dev/null
	post /instance/d1/disk/attach "volume=p/../../../etc/shadow" >/dev/null
	post /instance/d1/disk/detach target=../x >/dev/null
	post /instance/d1/disk/resize target=vda size=0 >/dev/null
	ctl dumpxml d1 | cmp -s - before.xml || fail "the definition changed"
}

# Clone with the disks copied, or as qcow2 overlays that read through to
# the originals; anything else for the disks changes nothing.
test_clone_copies_or_overlays_the_disks() {
	start_portal
	setup_volumes
	qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' pool/data.qcow2 >/dev/null || fail "cannot write the volume"
	define d1 echo
	ctl attach-disk d1 "$PWD/pool/data.qcow2" vda --subdriver qcow2 >/dev/null
	login_admin
	web /instance/d1 >/dev/null
	grep -q '<option value="overlay">Disks as overlays</option>' body.html || fail "no overlay choice"
	[ "$(post /instance/d1/clone new_name=c1 disks=copy)" = 303 ] || fail "clone answered $(cat body.html)"
	qemu-img info pool/c1.qcow2 >info || fail "no copy at pool/c1.qcow2"
	grep -q 'backing file' info && fail "the copy has a backing file: $(cat info)"
	qemu-img compare pool/data.qcow2 pool/c1.qcow2 >/dev/null || fail "the copy differs"
	ctl dumpxml c1 | grep -q "$PWD/pool/c1.qcow2" || fail "c1 does not use its copy"

	web /instance/d1 >/dev/null
	[ "$(post /instance/d1/clone new_name=c2 disks=overlay)" = 303 ] || fail "clone answered $(cat body.html)"
	qemu-img info pool/c2.qcow2 >info || fail "no overlay at pool/c2.qcow2"
	grep -q "^backing file: $PWD/pool/data.qcow2\$" info || fail "not backed by the original: $(cat info)"
	grep -q '^backing file format: qcow2$' info || fail "no backing format: $(cat info)"
	[ "$(stat -c %s pool/c2.qcow2)" -lt 1048576 ] || fail "the overlay is $(stat -c %s pool/c2.qcow2) bytes"
	qemu-img compare pool/data.qcow2 pool/c2.qcow2 >/dev/null || fail "the overlay does not read through"
	ctl dumpxml c2 | grep -q 'type=.qcow2.' || fail "c2's disk is not qcow2: $(ctl dumpxml c2)"
	ctl dumpxml c2 | grep -q "$PWD/pool/c2.qcow2" || fail "c2 does not use its overlay"

	web /instance/d1 >/dev/null
	post /instance/d1/clone new_name=c3 disks=linked >/dev/null
	web /instance/d1 >/dev/null
	grep -q 'The disks are copied or made overlays.' body.html || fail "no refusal: $(grep -o 'alert-danger[^<]*<' body.html)"
	ctl list --all | grep -q ' c3 ' && fail "c3 was made"
	[ ! -e pool/c3.qcow2 ] || fail "c3's disk was made"
	# the overlay goes with its VM; the original stays
	web /instance/c2 >/dev/null
	[ "$(post /instance/c2/delete remove_storage=on)" = 303 ] || fail "delete answered $(cat body.html)"
	[ ! -e pool/c2.qcow2 ] && [ -f pool/data.qcow2 ] || fail "delete removed the wrong disk"
}

# A user with the change right on their VM attaches free volumes only:
# not another VM's disk (a VM they may not even see), nor the base of
# other volumes' overlays; an admin may. Neither is offered to the user.
test_a_user_attaches_only_volumes_no_one_uses() {
	start_portal
	setup_volumes
	ctl vol-create p free.raw 1M >/dev/null
	ctl vol-create p base.qcow2 1G --format qcow2 >/dev/null
	ctl vol-clone base.qcow2 over.qcow2 --pool p --overlay >/dev/null || fail "cannot make an overlay"
	define d1 echo
	define secret echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$PWD/pool/data.qcow2'/><target dev='vda' bus='virtio'/></disk>"
	login_admin
	make_user alice
	set_rights alice d1 change
	JAR=alice login alice alice-password-123
	JAR=alice web /instance/d1 >/dev/null
	grep -q '<option value="p/free.raw">' body.html || fail "the free volume is not offered"
	grep -q -e 'p/data.qcow2' -e 'p/base.qcow2' body.html && fail "a taken volume is offered"
	grep -q 'secret' body.html && fail "the page names the VM that uses a volume"
	for v in p/data.qcow2 p/base.qcow2; do
		[ "$(JAR=alice post /instance/d1/disk/attach "volume=$v")" = 303 ] || fail "attach $v answered"
		JAR=alice web /instance/d1 >/dev/null
		grep -q 'That volume is in use' body.html || fail "alice attached $v: $(grep -o 'id="flash[^<]*' body.html)"
	done
	ctl dumpxml d1 | grep -q '<disk' && fail "a taken volume was attached to d1"
	[ "$(JAR=alice post /instance/d1/disk/attach volume=p/free.raw)" = 303 ] || fail "attach free"
	ctl dumpxml d1 | grep -q "$PWD/pool/free.raw" || fail "the free volume was not attached"
	# the admin may give a VM a volume in use (a shared read-only disk, say)
	web /instance/d1 >/dev/null
	[ "$(post /instance/d1/disk/attach volume=p/base.qcow2 readonly=on)" = 303 ] || fail "the admin's attach"
	ctl dumpxml d1 | grep -q "$PWD/pool/base.qcow2" || fail "the admin could not attach base.qcow2"
}
