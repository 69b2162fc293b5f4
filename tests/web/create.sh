# Create instance from a flavor, with its disk made in a pool, and the
# flavors an admin keeps.

test_create_from_a_flavor_makes_the_disk_and_the_definition() {
	start_portal
	setup_pool
	login_admin
	local id
	id=$(flavor_id small)
	[ -n "$id" ] || fail "the create page offers no flavor small: $(grep -o '<option[^<]*' body.html | head)"
	grep -q '<option value="p/guest.bzImage">p/guest.bzImage</option>' body.html || fail "the kernel volume is not offered"
	[ "$(post /create name=c1 "flavor=$id" pool=p kernel=p/guest.bzImage cmdline=guest=echo)" = 303 ] ||
		fail "create answered $(cat body.html)"
	[ "$(header_of Location)" = /instance/c1 ] || fail "create went to $(header_of Location)"
	ctl dumpxml c1 >c1.xml
	grep -q "<memory unit=.MiB.>512</memory>" c1.xml || fail "not the flavor's memory: $(grep memory c1.xml)"
	grep -q "$PWD/pool/c1.qcow2" c1.xml || fail "the disk is not the new volume: $(cat c1.xml)"
	grep -q "<kernel>$PWD/pool/guest.bzImage</kernel>" c1.xml || fail "not the chosen kernel"
	qemu-img info "pool/c1.qcow2" | grep -q 'virtual size: 10 GiB' || fail "the disk is not 10 GiB: $(qemu-img info pool/c1.qcow2)"
	web /audit >/dev/null
	grep -q '<td>create</td><td>c1</td><td>ok</td>' body.html || fail "not audited"
}

test_create_refuses_what_is_not_a_volume_and_leaves_nothing() {
	start_portal
	setup_pool
	define taken echo
	login_admin
	local id before
	id=$(flavor_id small)
	before=$(ls pool; ctl list --all)
	post /create name=c1 "flavor=$id" pool=p kernel=/etc/shadow >/dev/null
	post /create name=c1 "flavor=$id" pool=p kernel=p/../../etc/shadow >/dev/null
	post /create name=c1 "flavor=$id" pool=nope kernel=p/guest.bzImage >/dev/null
	post /create name=c1 flavor=999 pool=p kernel=p/guest.bzImage >/dev/null
	post /create 'name=../c1' "flavor=$id" pool=p kernel=p/guest.bzImage >/dev/null
	post /create name=taken "flavor=$id" pool=p kernel=p/guest.bzImage >/dev/null
	[ "$(ls pool; ctl list --all)" = "$before" ] || fail "something was made: $(ls pool; ctl list --all)"
	ctl dumpxml taken | grep -q "$TESTGUEST" || fail "the VM taken was replaced"
	web /create >/dev/null
}

test_create_with_a_hostile_command_line_keeps_it_as_text() {
	start_portal
	setup_pool
	login_admin
	local id
	id=$(flavor_id small)
	post /create name=c2 "flavor=$id" pool=p kernel=p/guest.bzImage \
		'cmdline=guest=echo </cmdline><kernel>/etc/shadow</kernel> &amp;' >/dev/null
	ctl dumpxml c2 >c2.xml || fail "c2 was not made"
	grep -q '<kernel>/etc/shadow</kernel>' c2.xml && fail "the command line became XML"
	grep -q '&lt;/cmdline&gt;&lt;kernel&gt;' c2.xml || fail "the command line is not kept as text: $(grep cmdline c2.xml)"
	return 0
}

test_flavors_are_made_and_deleted_by_admins_only() {
	start_portal
	login_admin
	web /flavors >/dev/null
	[ "$(post /flavors name=tiny vcpus=1 memory=64 disk=1)" = 303 ] || fail "making a flavor failed"
	web /flavors >/dev/null
	grep -q 'data-flavor="tiny"' body.html || fail "the flavor is not listed"
	post /flavors name=bad vcpus=0 memory=64 disk=1 >/dev/null
	post /flavors name=tiny vcpus=1 memory=64 disk=1 >/dev/null
	web /flavors >/dev/null
	grep -q 'data-flavor="bad"' body.html && fail "a flavor with 0 vCPUs was made"
	[ "$(post /flavor/tiny/delete)" = 303 ] || fail "deleting the flavor failed"
	web /flavors >/dev/null
	grep -q 'data-flavor="tiny"' body.html && fail "the flavor is still there"
	return 0
}
