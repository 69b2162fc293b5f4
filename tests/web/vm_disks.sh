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
