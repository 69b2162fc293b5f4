# Self-service under quotas: an admin lets a user make VMs (from flavors
# and template volumes) and bounds the VMs the user owns by number, vCPUs,
# memory and disk. Each limit holds at its edge, for creating, cloning and
# resizing, and with requests racing each other; what is refused leaves
# nothing made.

# set_quota USER FIELD=VALUE...: as the admin (jar); may_create=on lets USER make VMs.
set_quota() {
	local user=$1
	shift
	web "/user/$user" >/dev/null
	[ "$(post "/user/$user/quota" "$@")" = 303 ] || fail "setting the quotas of $user answered $(cat body.html)"
}

# the admin (jar) and user u (jar u), u allowed to make VMs with the quotas
# given, the test guest p/guest.bzImage marked as a template
setup_self_service() {
	start_portal
	setup_pool
	login_admin
	make_user u
	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/template volume=guest.bzImage enable=on)" = 303 ] || fail "marking a template failed"
	set_quota u may_create=on "$@"
	JAR=u login u u-password-123
}

# ucreate NAME [FIELD=VALUE...]: u makes a VM of the flavor small (1 vCPU,
# 512 MiB, 10 GiB) on the template kernel; prints the flash message.
ucreate() {
	local name=$1
	shift
	JAR=u web /create >/dev/null
	[ "$(JAR=u post /create "name=$name" flavor=1 pool=p kernel=p/guest.bzImage "$@")" = 303 ] ||
		fail "creating $name answered $(cat body.html)"
	JAR=u flash_of /instances
}

made() { ctl list --all | grep -q " $1 " || [ -e "pool/$1.qcow2" ]; }

test_only_users_allowed_to_make_vms_do_and_only_on_templates() {
	start_portal
	setup_pool
	login_admin
	make_user u
	make_user v
	JAR=u login u u-password-123
	[ "$(JAR=u web /create)" = 403 ] || fail "a user not allowed to make VMs got the create page"
	[ "$(JAR=u post /create name=a flavor=1 pool=p kernel=p/guest.bzImage)" = 403 ] ||
		fail "a user not allowed to make VMs could post the form"
	JAR=u web /instances >/dev/null
	grep -q 'href="/create"' body.html && fail "the menu offers Create to a user who may not"
	made a && fail "a VM was made"

	set_quota u may_create=on
	JAR=u web /instances >/dev/null
	grep -q 'href="/create"' body.html || fail "the menu does not offer Create"
	[ "$(JAR=u web /create)" = 200 ] || fail "the create page answered $(cat body.html)"
	grep -q 'guest.bzImage' body.html && fail "a volume not marked as a template is offered"
	ucreate a | grep -q "Choose the kernel" || fail "a kernel that is no template was taken"
	JAR=u web /create >/dev/null
	[ "$(JAR=u post /create name=a flavor=1 pool=p kernel=p/guest.bzImage base=p/guest.bzImage)" = 303 ] || fail "create"
	made a && fail "a VM was made on volumes that are no templates"

	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/template volume=guest.bzImage enable=on)" = 303 ] || fail "marking a template failed"
	web /pool/p >/dev/null
	grep -A1 'data-volume="guest.bzImage"' body.html | grep -q '>template<' || fail "the pool page does not mark it"
	JAR=u web /create >/dev/null
	grep -q '<option value="p/guest.bzImage">p/guest.bzImage</option>' body.html || fail "the template is not offered"
	ucreate a | grep -q "a was created" || fail "u could not make a VM"
	ctl dumpxml a | grep -q "<kernel>$PWD/pool/guest.bzImage</kernel>" || fail "not the template kernel"
	# theirs, with every right; not another user's
	[ "$(sqlite3 portal/portal.db "SELECT u.name FROM vm_owners o JOIN users u ON u.id = o.user_id
		WHERE o.vm_uuid = '$(uuid_of a)'")" = u ] || fail "u does not own a"
	JAR=u web /instance/a >/dev/null
	grep -q 'id="clone-form"' body.html || fail "the owner is not offered a clone"
	grep -q 'action="/instance/a/settings"' body.html || fail "the owner may not change a"
	JAR=v login v v-password-123
	[ "$(JAR=v web /instance/a)" = 403 ] || fail "another user sees a"
	web /audit >/dev/null
	grep -q '<td>create</td><td>a</td><td>ok</td>' body.html || fail "not audited"
}

test_each_quota_holds_at_its_edge() {
	setup_self_service vms=2
	ucreate q1 | grep -q "was created" || fail "q1: $(JAR=u flash_of /instances)"
	ucreate q2 | grep -q "was created" || fail "the last VM that fits was refused"
	ucreate q3 | grep -q "quota of 2 VMs" || fail "the third VM was not refused for the VM quota"
	made q3 && fail "the refused VM left something"

	set_quota u may_create=on vcpus=3
	ucreate q3 | grep -q "was created" || fail "the last vCPU that fits was refused"
	ucreate q4 | grep -q "quota of 3 vCPUs" || fail "the fourth vCPU was not refused"
	made q4 && fail "the refused VM left something"

	set_quota u may_create=on memory=2048
	ucreate q4 | grep -q "was created" || fail "the last MiB that fits was refused"
	ucreate q5 | grep -q "memory quota of 2048 MiB" || fail "memory past the quota was not refused"
	made q5 && fail "the refused VM left something"

	set_quota u may_create=on disk=50
	ucreate q5 | grep -q "was created" || fail "the last GiB that fits was refused"
	ucreate q6 | grep -q "disk quota of 50 GiB" || fail "disk past the quota was not refused"
	made q6 && fail "the refused VM left something"

	# what u sees of it, and the admin
	JAR=u web /create >/dev/null
	grep -q 'data-quota="Disk (GiB)">50 of 50<' body.html || fail "the create page does not show the use: $(grep -o 'data-quota[^<]*' body.html)"
	web /user/u >/dev/null
	grep -q 'data-used="vms">5<' body.html || fail "the user page does not show the use"
	web /audit >/dev/null
	grep -q '<td>create</td><td>q6</td><td>refused: quota</td>' body.html || fail "the refusal is not audited"
}

test_ten_concurrent_creates_against_a_quota_of_three_make_three() {
	setup_self_service vms=3
	local t i made_vms refused=0 args=()
	t=$(make_token u t)
	[ -n "$t" ] || fail "no token"
	# one curl, ten connections opened at once: the requests meet in the portal's workers
	for i in $(seq 10); do
		[ "$i" = 1 ] || args+=(--next)
		args+=(-sk -o "answer.$i" -H "Authorization: Bearer $t" --resolve "$HOSTPORT:127.0.0.1"
			--data-urlencode "name=r$i" --data-urlencode flavor=1 --data-urlencode pool=p
			--data-urlencode kernel=p/guest.bzImage "$URL/api/create")
	done
	curl --parallel --parallel-immediate --parallel-max 10 "${args[@]}"
	made_vms=$(ctl list --all | grep -c ' r[0-9]* ')
	[ "$made_vms" = 3 ] || fail "$made_vms VMs were made: $(ctl list --all)"
	[ "$(ls pool | grep -c '^r[0-9]*\.qcow2$')" = 3 ] || fail "not 3 disks: $(ls pool)"
	for i in $(seq 10); do grep -q 'quota of 3 VMs' "answer.$i" && refused=$((refused + 1)); done
	[ "$refused" = 7 ] || fail "$refused answers named the quota: $(cat answer.*)"
}

test_resizing_cloning_and_attaching_stay_within_the_owners_quotas() {
	setup_self_service vcpus=2 memory=1024 disk=25
	ucreate a | grep -q "was created" || fail "a was not made"
	JAR=u web /instance/a >/dev/null
	JAR=u post /instance/a/settings vcpus=2 memory=512 title= description= >/dev/null
	ctl dumpxml a | grep -q '<vcpu>2</vcpu>' || fail "a resize within the quota was refused: $(JAR=u flash_of /instance/a)"
	JAR=u post /instance/a/settings vcpus=3 memory=512 title= description= >/dev/null
	JAR=u flash_of /instance/a | grep -q "quota of 2 vCPUs" || fail "3 vCPUs were not refused"
	JAR=u post /instance/a/settings vcpus=2 memory=2048 title= description= >/dev/null
	JAR=u flash_of /instance/a | grep -q "memory quota of 1024 MiB" || fail "2048 MiB were not refused"
	ctl dumpxml a | grep -q '<vcpu>2</vcpu>' || fail "a refused resize changed the VM"
	ctl dumpxml a | grep -q '<memory unit=.MiB.>512</memory>' || fail "a refused resize changed the memory"

	JAR=u post /instance/a/disk/resize target=vda size=26 >/dev/null
	JAR=u flash_of /instance/a | grep -q "disk quota of 25 GiB" || fail "a disk past the quota was not refused"
	qemu-img info pool/a.qcow2 | grep -q 'virtual size: 10 GiB' || fail "the refused resize grew the disk"
	JAR=u post /instance/a/disk/resize target=vda size=20 >/dev/null
	qemu-img info pool/a.qcow2 | grep -q 'virtual size: 20 GiB' || fail "a disk within the quota was refused"

	# a clone takes as much again: 4 vCPUs do not fit 2
	JAR=u post /instance/a/clone new_name=b >/dev/null
	JAR=u flash_of /instance/a | grep -q "quota of 2 vCPUs" || fail "the clone was not refused"
	made b && fail "the refused clone left something"
	set_quota u may_create=on vcpus=4 memory=1000 disk=40
	JAR=u web /instance/a >/dev/null
	JAR=u post /instance/a/clone new_name=b >/dev/null
	JAR=u flash_of /instance/a | grep -q "memory quota of 1000 MiB" || fail "the clone's memory was not refused"
	set_quota u may_create=on vcpus=4 disk=40
	JAR=u web /instance/a >/dev/null
	[ "$(JAR=u post /instance/a/clone new_name=b)" = 303 ] || fail "clone"
	[ "$(header_of Location)" = /instance/b ] || fail "the clone within the quota was refused: $(JAR=u flash_of /instance/a)"
	[ "$(JAR=u web /instance/b)" = 200 ] || fail "the clone is not u's"

	# a disk more: 40 GiB are used, one more of 1 GiB does not fit
	ctl vol-create p extra.raw 1G >/dev/null
	JAR=u web /instance/a >/dev/null
	JAR=u post /instance/a/disk/attach volume=p/extra.raw >/dev/null
	JAR=u flash_of /instance/a | grep -q "disk quota of 40 GiB" || fail "a disk past the quota was attached"
	ctl dumpxml a | grep -q extra.raw && fail "the refused disk is attached"

	# a VM u may change but did not make is not u's to clone
	define x echo
	set_rights u x change
	JAR=u web /instance/x >/dev/null
	grep -q 'id="clone-form"' body.html && fail "u is offered a clone of a VM not theirs"
	JAR=u post /instance/x/clone new_name=y >/dev/null
	JAR=u flash_of /instance/x | grep -q "only the VMs you made" || fail "u cloned a VM not theirs"
	made y && fail "the refused clone left something"
	return 0
}

# A pool whose volumes cannot be listed (its folder gone behind vmmd's
# back) would leave the disks of the user's VMs in it out of the count:
# the count refuses instead, naming the pool, and nothing is made.
test_a_count_that_cannot_see_a_pools_disks_refuses() {
	setup_self_service disk=15
	local t
	mkdir pool2
	printf "<pool type='dir'><name>p2</name><target><path>%s</path></target></pool>" "$PWD/pool2" >p2.xml
	ctl pool-define p2.xml >/dev/null
	ctl pool-start p2 >/dev/null
	JAR=u web /create >/dev/null
	[ "$(JAR=u post /create name=a flavor=1 pool=p2 kernel=p/guest.bzImage)" = 303 ] || fail "create a"
	JAR=u flash_of /instances | grep -q "was created" || fail "a was not made in p2"
	[ -e pool2/a.qcow2 ] || fail "a's disk is not in p2: $(ls pool2)"
	t=$(make_token u t)
	mv pool2 pool2.away
	ucreate b | grep -q "The volumes of pool p2 could not be listed" ||
		fail "the count went on without p2: $(JAR=u flash_of /instances)"
	made b && fail "a VM was made past the disk quota"
	[ "$(api "$t" POST /create name=b flavor=1 pool=p kernel=p/guest.bzImage)" = 500 ] ||
		fail "the API answered $(cat body.html)"
	[ "$(json "d['code']")" = vm-service-error ] && [ "$(json "d['reason']")" = io-error ] ||
		fail "the API's code: $(cat body.html)"
	grep -q "pool2" body.html && fail "the answer shows the pool's folder to a user: $(cat body.html)"
	made b && fail "a VM was made past the disk quota through the API"
	mv pool2.away pool2
	ucreate b | grep -q "disk quota of 15 GiB" || fail "b was not refused by the quota"
	made b && fail "the refused VM left something"
	return 0
}

test_quota_forms_take_numbers_or_nothing() {
	setup_self_service vms=3
	local before
	before=$(sqlite3 portal/portal.db 'SELECT may_create, quota_vms, quota_vcpus, quota_memory_mib, quota_disk_gib FROM users')
	web /user/u >/dev/null
	for bad in vms=-1 vms=abc vms=1e3 vcpus=0x10 "memory= 5" disk=99999999999999; do
		post /user/u/quota may_create=on "$bad" >/dev/null
		flash_of /user/u | grep -q "whole number" || fail "$bad was not refused"
	done
	post /user/u/quota may_create=maybe >/dev/null
	[ "$before" = "$(sqlite3 portal/portal.db 'SELECT may_create, quota_vms, quota_vcpus, quota_memory_mib, quota_disk_gib FROM users')" ] ||
		fail "a refused form changed the quotas"
	set_quota u vms= vcpus=4
	[ "$(sqlite3 portal/portal.db "SELECT may_create, quote(quota_vms), quota_vcpus FROM users WHERE name = 'u'")" = "0|NULL|4" ] ||
		fail "the quotas were not stored: $(sqlite3 portal/portal.db "SELECT * FROM users WHERE name = 'u'")"
	[ "$(JAR=u web /create)" = 403 ] || fail "u may still make VMs"
}

test_an_admin_edits_flavors_and_users_cannot() {
	setup_self_service
	web /flavors >/dev/null
	[ "$(post /flavor/small vcpus=2 memory=1024 disk=5)" = 303 ] || fail "editing a flavor"
	[ "$(sqlite3 portal/portal.db "SELECT vcpus, memory_mib, disk_gib FROM flavors WHERE name = 'small'")" = "2|1024|5" ] ||
		fail "the flavor was not changed"
	post /flavor/small vcpus=0 memory=1024 disk=5 >/dev/null
	post /flavor/nope vcpus=1 memory=1024 disk=5 >/dev/null
	flash_of /flavors | grep -q "no flavor named nope" || fail "a missing flavor was not named"
	[ "$(JAR=u web -H "Origin: $URL" --data-urlencode "csrf=$(JAR=u csrf /create)" \
		--data-urlencode vcpus=64 --data-urlencode memory=16 --data-urlencode disk=1 /flavor/small)" = 403 ] ||
		fail "a user could edit a flavor"
	[ "$(sqlite3 portal/portal.db "SELECT vcpus, memory_mib, disk_gib FROM flavors WHERE name = 'small'")" = "2|1024|5" ] ||
		fail "a refused edit changed the flavor"
	# the next VM is of the new size
	ucreate f1 | grep -q "was created" || fail "f1 was not made"
	ctl dumpxml f1 | grep -q '<vcpu>2</vcpu>' || fail "not the flavor's new size"
}

# The user who made a VM may delete its disks with it, as an admin may:
# only the disks made for it (by create or clone), never a template, and
# vmmd keeps any disk that another VM has or a volume is built on. Another
# user with the delete right may not.
test_a_user_deletes_the_disks_of_the_vms_they_made() {
	setup_self_service
	ucreate a >/dev/null
	ucreate b >/dev/null
	ucreate d >/dev/null
	ucreate e >/dev/null
	[ -f pool/a.qcow2 ] && [ -f pool/b.qcow2 ] && [ -f pool/d.qcow2 ] || fail "the VMs' disks were not made: $(ls pool)"
	JAR=u web /instance/a >/dev/null
	grep -q 'name="remove_storage"' body.html || fail "the maker is not offered to delete the disks"
	[ "$(JAR=u post /instance/a/delete remove_storage=on)" = 303 ] || fail "deleting a answered $(cat body.html)"
	! made a || fail "a is still there"
	[ ! -e pool/a.qcow2 ] || fail "a's disk stayed"
	[ -f pool/guest.bzImage ] || fail "the template kernel went"

	# a disk not made for the VM (here a template an admin attached) stays
	ctl vol-create p tdisk.raw 1M >/dev/null
	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/template volume=tdisk.raw enable=on)" = 303 ] || fail "marking tdisk.raw"
	ctl attach-disk b "$PWD/pool/tdisk.raw" vdb >/dev/null || fail "cannot attach tdisk.raw to b"
	JAR=u web /instance/b >/dev/null
	[ "$(JAR=u post /instance/b/delete remove_storage=on)" = 303 ] || fail "deleting b answered $(cat body.html)"
	JAR=u flash_of /instances | grep -q "Kept: tdisk.raw (not made for it" || fail "tdisk.raw is not named kept: $(JAR=u flash_of /instances)"
	[ ! -e pool/b.qcow2 ] && [ -f pool/tdisk.raw ] || fail "the wrong disks of b went: $(ls pool)"
	# nor one made for it that an admin has since marked as a template
	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/template volume=e.qcow2 enable=on)" = 303 ] || fail "marking e.qcow2"
	JAR=u web /instance/e >/dev/null
	[ "$(JAR=u post /instance/e/delete remove_storage=on)" = 303 ] || fail "deleting e answered $(cat body.html)"
	[ -f pool/e.qcow2 ] || fail "a template made for the VM went with it"

	# a disk another VM has stays, and the user is not told that VM's name
	ctl dumpxml d | sed 's|<name>d</name>|<name>other</name>|; /<uuid>/d; /<mac /d' >other.xml
	ctl define other.xml >/dev/null || fail "cannot define other on d's disk"
	ucreate c >/dev/null
	make_user w
	set_rights w c remove
	JAR=u web /instance/d >/dev/null
	[ "$(JAR=u post /instance/d/delete remove_storage=on)" = 303 ] || fail "deleting d answered $(cat body.html)"
	JAR=u flash_of /instances >flash.txt
	grep -q "Kept: d.qcow2 (not made for it, a template, or needed by others)" flash.txt ||
		fail "the kept disk is not named: $(cat flash.txt)"
	grep -qw other flash.txt && fail "the user is told of another VM: $(cat flash.txt)"
	[ -f pool/d.qcow2 ] || fail "a disk another VM has was removed"

	# another user with the delete right on c may delete it, not its disks
	JAR=w login w w-password-123
	JAR=w web /instance/c >/dev/null
	grep -q 'name="remove_storage"' body.html && fail "a user who did not make c is offered its disks"
	[ "$(JAR=w post /instance/c/delete remove_storage=on)" = 303 ] || fail "w's delete answered $(cat body.html)"
	ctl list --all | grep -q ' c ' || fail "c went with its disks by another user"
	JAR=w flash_of /instance/c | grep -q "Only an administrator, or the user who made the VM" ||
		fail "no refusal for w: $(JAR=w flash_of /instance/c)"
}

# A template mark holds for the file an admin marked: a file made later
# under its name (the volume deleted outside the portal, with vmmctl) is no
# template, on the pool page, the create page or the create form.
test_a_template_mark_holds_for_its_file_not_its_name() {
	setup_self_service
	cp pool/guest.bzImage other.bzImage
	JAR=u web /create >/dev/null
	grep -q '<option value="p/guest.bzImage">' body.html || fail "the template is not offered"
	ctl vol-delete guest.bzImage --pool p >/dev/null || fail "vmmctl vol-delete failed"
	ctl vol-upload guest.bzImage other.bzImage --pool p >/dev/null || fail "vmmctl vol-upload failed"
	web /pool/p >/dev/null
	[ -n "$(grep 'data-volume="guest.bzImage"' body.html)" ] || fail "the new file is not listed"
	grep -A1 'data-volume="guest.bzImage"' body.html | grep -q '>template<' && fail "the new file is marked a template"
	JAR=u web /create >/dev/null
	grep -q '<option value="p/guest.bzImage">' body.html && fail "the new file is offered as a template"
	ucreate a | grep -q "Choose the kernel" || fail "the new file was taken as a template kernel"
	made a && fail "a VM was made on it"
	# marked again, it is one
	web /pool/p >/dev/null
	[ "$(post /pool/p/volume/template volume=guest.bzImage enable=on)" = 303 ] || fail "marking it again failed"
	ucreate a | grep -q "a was created" || fail "the file marked again is no template"
}
