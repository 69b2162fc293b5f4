# Storage (admin): pools defined from the form under vmmd's pool root,
# started, stopped, set to autostart and deleted; volumes made, cloned,
# grown and deleted, with the VMs that use each;
# every bad field refused with nothing made.

storage_portal() {
	mkdir -p pools
	VMMD_ARGS="--pool-root $PWD/pools" start_portal
	login_admin
}

pools() { ctl pool-list --all | awk 'NR > 2 && NF { print $1 }' | sort | tr '\n' ' '; }
volumes() { ls "$PWD/pools/images" 2>/dev/null | sort | tr '\n' ' '; }
# A pool's own settings: its Capacity, Allocation and Available are the
# file system's, which anything else on the machine may change.
pool_settings() { ctl pool-info "$1" | grep -Ev '^(Capacity|Allocation|Available):'; }

make_images_pool() {
	[ "$(post /storage name=images "path=$PWD/pools/images" start=on autostart=on)" = 303 ] ||
		fail "creating the pool answered $(cat body.html)"
}

test_an_admin_defines_starts_stops_and_deletes_a_pool() {
	storage_portal
	web /storage >/dev/null
	grep -q 'No pools yet.' body.html || fail "the empty list does not say so"
	make_images_pool
	flash_of /storage | grep -q 'The pool images was defined and started; it starts with the host.' ||
		fail "$(flash_of /storage)"
	[ -d pools/images ] || fail "the pool's folder was not made"
	web /storage >/dev/null
	grep -A8 'data-pool="images"' body.html | tr -d '\n' | grep -q "active.*$PWD/pools/images.*[0-9] [KMGT]iB.*yes" ||
		fail "the pool's row: $(grep -A8 'data-pool="images"' body.html)"
	ctl pool-info images | grep -q 'Autostart: *yes' || fail "autostart is not on"
	# a folder outside the pool root is vmmd's to refuse
	[ "$(post /storage name=etc path=/etc start=on)" = 303 ] || fail "the /etc pool"
	flash_of /storage | grep -q 'not under a folder for pools' || fail "no refusal for /etc: $(flash_of /storage)"
	[ "$(pools)" = "images " ] || fail "the pools are $(pools)"
	# a name that is taken is not redefined
	[ "$(post /storage name=images "path=$PWD/pools/other")" = 303 ] || fail "images again"
	flash_of /storage | grep -q 'a pool named images exists already' || fail "$(flash_of /storage)"
	ctl pool-dumpxml images | grep -q "$PWD/pools/images<" || fail "images was changed"
	web /pool/images >/dev/null
	[ "$(post /pool/images/autostart)" = 303 ] || fail "autostart off"
	ctl pool-info images | grep -q 'Autostart: *no' || fail "autostart is still on"
	[ "$(post /pool/images/delete)" = 303 ] || fail "delete"
	flash_of /pool/images | grep -qi 'stop' || fail "a started pool was deleted: $(flash_of /pool/images)"
	[ "$(post /pool/images/stop)" = 303 ] || fail "stop"
	ctl pool-info images | grep -q 'State: *inactive' || fail "the pool did not stop: $(ctl pool-info images)"
	[ "$(post /pool/images/delete)" = 303 ] || fail "delete"
	[ "$(header_of Location)" = /storage ] || fail "delete went to $(header_of Location)"
	[ -z "$(pools)" ] || fail "the pools are $(pools)"
	[ -d pools/images ] || fail "deleting the pool removed its folder"
	[ "$(post '/pool/a%3Cb/start')" = 404 ] || fail "a pool name with '<'"
	grep -q 'no pool named a&lt;b' body.html || fail "the refusal is not the name check's: $(cat body.html)"
	[ "$(web '/pool/a%0d%0aSet-Cookie:x=1')" = 404 ] || fail "a pool name with CRLF"
	return 0
}

test_volumes_are_made_cloned_grown_marked_and_deleted() {
	storage_portal
	make_images_pool
	web /pool/images >/dev/null
	grep -q 'No volumes.' body.html || fail "the empty pool does not say so"
	[ "$(post /pool/images/volume/create name=base.qcow2 format=qcow2 size=2 unit=GiB)" = 303 ] || fail "base"
	[ "$(post /pool/images/volume/create name=data.raw format=raw size=64 unit=MiB)" = 303 ] || fail "data"
	[ "$(qemu-img info --output=json pools/images/base.qcow2 | grep -o '"virtual-size": [0-9]*')" = '"virtual-size": 2147483648' ] ||
		fail "base.qcow2 is not a 2 GiB qcow2"
	[ "$(stat -c %s pools/images/data.raw)" = $((64 << 20)) ] || fail "data.raw is not 64 MiB"
	[ "$(post /pool/images/volume/clone volume=base.qcow2 new_name=vm1.qcow2 overlay=on)" = 303 ] || fail "overlay"
	[ "$(post /pool/images/volume/clone volume=data.raw new_name=copy.raw)" = 303 ] || fail "copy"
	qemu-img info pools/images/vm1.qcow2 | grep -q "backing file: $PWD/pools/images/base.qcow2" ||
		fail "vm1.qcow2 is not an overlay of base.qcow2"
	cmp pools/images/data.raw pools/images/copy.raw || fail "the copy differs"
	[ "$(post /pool/images/volume/resize volume=data.raw size=128 unit=MiB)" = 303 ] || fail "resize"
	[ "$(stat -c %s pools/images/data.raw)" = $((128 << 20)) ] || fail "data.raw did not grow"
	# a VM on vm1.qcow2
	define d1 echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$PWD/pools/images/vm1.qcow2'/><target dev='vda' bus='virtio'/></disk>"
	web /pool/images >/dev/null
	row() { grep -A12 "data-volume=\"$1\"" body.html | tr -d '\n' | sed 's/<\/tr>.*//'; }
	row base.qcow2 | grep -q 'qcow2.*2 GiB' || fail "base's row: $(row base.qcow2)"
	row vm1.qcow2 | grep -q "qcow2.*2 GiB.*$PWD/pools/images/base.qcow2.*href=\"/instance/d1\"" ||
		fail "vm1's row: $(row vm1.qcow2)"
	row vm1.qcow2 | grep -q 'These VMs have it as a disk: d1' || fail "deleting vm1 does not name d1"
	row data.raw | grep -q 'raw.*128 MiB' || fail "data's row: $(row data.raw)"
	# the backing file of an overlay stays while the overlay is there
	[ "$(post /pool/images/volume/delete volume=base.qcow2)" = 303 ] || fail "delete base"
	flash_of /pool/images | grep -q 'base.qcow2 is the backing file of the volume images/vm1.qcow2' ||
		fail "the backing file was not kept: $(flash_of /pool/images)"
	[ "$(post /pool/images/volume/delete volume=vm1.qcow2)" = 303 ] || fail "delete vm1"
	[ "$(post /pool/images/volume/delete volume=base.qcow2)" = 303 ] || fail "delete base"
	flash_of /pool/images | grep -q 'The volume base.qcow2 was deleted.' || fail "$(flash_of /pool/images)"
	[ "$(volumes)" = "copy.raw data.raw " ] || fail "the volumes are $(volumes)"
	web /audit >/dev/null
	grep -q '<td>clone volume</td>' body.html || fail "the clone is not in the audit log"
}

test_the_storage_forms_refuse_bad_input_and_make_nothing() {
	storage_portal
	make_images_pool
	[ "$(post /pool/images/volume/create name=keep.raw format=raw size=1 unit=MiB)" = 303 ] || fail "keep"
	local before
	before=$(volumes; pools)
	refused() { # PATH MESSAGE FIELD...
		local path=$1 msg=$2 back
		shift 2
		back=/pool/images
		[ "$path" = /storage ] && back=/storage
		[ "$(post "$path" "$@")" = 303 ] || fail "$path $* answered $(cat body.html)"
		flash_of "$back" | grep -qF "$msg" || fail "$path $*: not '$msg' but '$(flash_of "$back")'"
		[ "$(volumes; pools)" = "$before" ] || fail "$path $* made something: $(volumes; pools)"
	}
	for name in "" "a/b" ".." "../x" "-rf" ".hidden" "a b" "$(printf 'a\nb')" "x<y>"; do
		refused /pool/images/volume/create "A volume's name" "name=$name" format=raw size=1 unit=MiB
		refused /pool/images/volume/clone "A volume's name" volume=keep.raw "new_name=$name"
	done
	refused /pool/images/volume/create "A volume's name" "name=a$(printf '\001')b" format=raw size=1 unit=MiB
	web -H "Origin: $URL" --data "csrf=$(csrf /pool/images)&name=a%00b&format=raw&size=1&unit=MiB" \
		/pool/images/volume/create >/dev/null
	[ "$(volumes; pools)" = "$before" ] || fail "a name with NUL made something: $(volumes)"
	refused /pool/images/volume/create "raw or qcow2" name=x format=vmdk size=1 unit=MiB
	refused /pool/images/volume/create "1 MiB to 64 TiB" name=x format=raw size=0 unit=MiB
	refused /pool/images/volume/create "1 MiB to 64 TiB" name=x format=raw size=-1 unit=GiB
	refused /pool/images/volume/create "1 MiB to 64 TiB" name=x format=raw size=1e3 unit=GiB
	refused /pool/images/volume/create "1 MiB to 64 TiB" name=x format=raw size=65537 unit=GiB
	refused /pool/images/volume/create "1 MiB to 64 TiB" name=x format=raw size=1 unit=KiB
	refused /pool/images/volume/create "exists" name=keep.raw format=raw size=1 unit=MiB
	refused /pool/images/volume/resize "Choose a volume" volume=../../etc/passwd size=1 unit=GiB
	refused /pool/images/volume/delete "Choose a volume" volume=../keep.raw
	refused /pool/images/volume/delete "no volume named" volume=nothing
	# a shrink is vmmd's to refuse
	[ "$(post /pool/images/volume/resize volume=keep.raw size=2 unit=MiB)" = 303 ] || fail "grow"
	before=$(volumes; pools)
	refused /pool/images/volume/resize "it can only grow" volume=keep.raw size=1 unit=MiB
	[ "$(stat -c %s pools/images/keep.raw)" = $((2 << 20)) ] || fail "keep.raw shrank"
	for p in "" "relative/path" "/a/../etc" "/a/./b" "/a b" "/etc/." "/x/.."; do
		refused /storage "A pool's folder" name=p2 "path=$p" start=on
	done
	refused /storage "A pool's name" "name=a'/><x" "path=$PWD/pools/x"
	refused /storage "A pool's name" "name=" "path=$PWD/pools/x"
	# an inactive pool shows no sizes of a folder it does not use
	[ "$(post /storage name=idle "path=$PWD/pools/idle")" = 303 ] || fail "idle"
	web /storage >/dev/null
	grep -A8 'data-pool="idle"' body.html | grep -q 'iB' && fail "the inactive pool shows sizes"
	return 0
}

# A raw volume's guest writes its first bytes: a qcow2 header there, naming
# another volume as its backing file, leaves it raw to everything that
# looks at it after (the pool's page and its format for an attach, its
# size for a quota, an overlay's backing format), or a user could read
# another user's disk through it. A file put in the pool by hand is what
# its header said the first time the pool was listed.
test_a_guests_qcow2_header_does_not_make_its_raw_disk_a_qcow2() {
	storage_portal
	make_images_pool
	local vol
	[ "$(post /pool/images/volume/create name=victim.qcow2 format=qcow2 size=1 unit=MiB)" = 303 ] || fail "victim"
	[ "$(post /pool/images/volume/create name=disk.raw format=raw size=8 unit=MiB)" = 303 ] || fail "disk"
	# what a guest of disk.raw may write: a qcow2 header over victim.qcow2, of 1 TiB
	qemu-img create -q -f qcow2 -u -b victim.qcow2 -F qcow2 header.qcow2 1T
	dd if=header.qcow2 of=pools/images/disk.raw bs=64k count=1 conv=notrunc status=none
	# and a qcow2 put there by hand, never listed yet
	qemu-img create -q -f qcow2 -u -b victim.qcow2 -F qcow2 pools/images/by-hand.qcow2 1G
	web /pool/images >/dev/null
	vol=$(grep -A5 'data-volume="disk.raw"' body.html)
	echo "$vol" | grep -q '<td>raw</td>' || fail "disk.raw is listed as: $vol"
	echo "$vol" | grep -q 'victim' && fail "disk.raw is listed with a backing file: $vol"
	echo "$vol" | grep -q '<td>8 MiB</td>' || fail "disk.raw is not 8 MiB: $vol"
	vol=$(grep -A5 'data-volume="by-hand.qcow2"' body.html)
	echo "$vol" | grep -q '<td>qcow2</td>' && echo "$vol" | grep -q 'victim.qcow2' ||
		fail "by-hand.qcow2 is not the qcow2 its header says: $vol"
	# the portal's user may not name it as a qcow2 either (root may)
	domain_xml x echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$PWD/pools/images/disk.raw'/><target dev='vda' bus='virtio'/></disk>" >x.xml
	as_portal "$VMMCTL" define x.xml >define.out 2>&1 && fail "the portal's user defined disk.raw as a qcow2"
	grep -q 'disk.raw was made as a raw image and is not read as a qcow2' define.out ||
		fail "not refused for what disk.raw is: $(cat define.out)"
	# an overlay over it reads it as raw
	[ "$(post /pool/images/volume/clone volume=disk.raw new_name=over.qcow2 overlay=on)" = 303 ] || fail "overlay"
	qemu-img info pools/images/over.qcow2 | grep -q '^backing file format: raw' ||
		fail "the overlay reads disk.raw as: $(qemu-img info pools/images/over.qcow2)"
	# a copy is raw as its source
	[ "$(post /pool/images/volume/clone volume=disk.raw new_name=copy.img)" = 303 ] || fail "copy"
	web /pool/images >/dev/null
	grep -A5 'data-volume="copy.img"' body.html | grep -q '<td>raw</td>' ||
		fail "the copy is listed as: $(grep -A5 'data-volume="copy.img"' body.html)"
	# nor may it write a qcow2 as a raw disk (its guest would write the header)
	domain_xml y echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$PWD/pools/images/victim.qcow2'/><target dev='vda' bus='virtio'/></disk>" >y.xml
	as_portal "$VMMCTL" define y.xml >define.out 2>&1 && fail "the portal's user defined victim.qcow2 as a raw disk"
	grep -q 'victim.qcow2 was made as a qcow2 image and is not written as raw' define.out ||
		fail "not refused for what victim.qcow2 is: $(cat define.out)"
	# a file never listed, a VM's raw disk already (its guest wrote the
	# header): the definition says what it is at first sight, and a clone
	# of that VM reads it so too
	cp header.qcow2 pools/images/old.raw
	truncate -s 8M pools/images/old.raw
	define old echo "<disk type='file' device='disk'><source file='$PWD/pools/images/old.raw'/><target dev='vda' bus='virtio'/></disk>"
	web /pool/images >/dev/null
	grep -A5 'data-volume="old.raw"' body.html | grep -q '<td>raw</td>' ||
		fail "old.raw is listed as: $(grep -A5 'data-volume="old.raw"' body.html)"
	ctl clone old old-over --overlay >/dev/null
	qemu-img info pools/images/old-over.qcow2 | grep -q '^backing file format: raw' ||
		fail "the VM's overlay reads old.raw as: $(qemu-img info pools/images/old-over.qcow2)"
	ctl clone old old-copy >/dev/null
	for _ in $(seq 50); do ctl dominfo old-copy | grep -q 'copying' || break; sleep 0.1; done
	web /pool/images >/dev/null
	grep -A5 'data-volume="old-copy.raw"' body.html | grep -q '<td>raw</td>' ||
		fail "the VM's copy is listed as: $(grep -A5 'data-volume="old-copy' body.html)"
	# the header written again, after vmmd restarted: still raw
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	start_vmmd --group "$PORTAL_GROUP" --vmm "$VMM" --kernel-dir "$(dirname "$TESTGUEST")" --pool-root "$PWD/pools"
	trap cleanup_portal EXIT
	dd if=header.qcow2 of=pools/images/disk.raw bs=4k count=1 conv=notrunc status=none
	web /pool/images >/dev/null
	grep -A5 'data-volume="disk.raw"' body.html | grep -q '<td>raw</td>' || fail "disk.raw became a qcow2 after a restart"
	return 0
}

# A user, even one with every right on a VM whose disk is in the pool, is
# refused every storage page and action, with nothing changed.
test_a_user_is_refused_every_storage_page_and_action() {
	storage_portal
	make_images_pool
	[ "$(post /pool/images/volume/create name=keep.raw format=raw size=1 unit=MiB)" = 303 ] || fail "keep"
	define vm-a echo "<disk type='file' device='disk'><source file='$PWD/pools/images/keep.raw'/><target dev='vda' bus='virtio'/></disk>"
	make_user alice
	set_rights alice vm-a power change remove console
	JAR=alice login alice alice-password-123
	local before path
	before=$(volumes; ctl pool-list --all; pool_settings images; sha256sum pools/images/keep.raw)
	for path in /storage /pool/images /pool/nothing; do
		[ "$(JAR=alice web "$path")" = 403 ] || fail "alice got $path"
	done
	grep -q 'href="/storage"' body.html && fail "alice's menu offers Storage"
	for path in "/storage name=stolen path=$PWD/pools/stolen start=on" /pool/images/stop \
		/pool/images/autostart /pool/images/delete \
		"/pool/images/volume/create name=stolen format=raw size=1 unit=MiB" \
		"/pool/images/volume/clone volume=keep.raw new_name=stolen" \
		"/pool/images/volume/resize volume=keep.raw size=2 unit=MiB" \
		"/pool/images/volume/delete volume=keep.raw"; do
		# shellcheck disable=SC2086
		[ "$(JAR=alice post $path)" = 403 ] || fail "alice's POST $path answered $(cat body.html)"
	done
	[ "$before" = "$(volumes; ctl pool-list --all; pool_settings images; sha256sum pools/images/keep.raw)" ] ||
		fail "alice changed the storage"
	return 0
}
