# The pages in Debian's chromium, driven by playwright-core: every page at
# a laptop's and a phone's size, with no console error and no CSP
# violation; the screenshots stay in BUILDDIR/tests/screenshots.

TEST_SECONDS=300

test_browser_every_page_renders_without_errors_at_laptop_and_phone_sizes() {
	need_browser
	start_portal
	echo "<network><name>lan</name><bridge name='wklan0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>" >lan.xml
	ctl net-define lan.xml >/dev/null
	mkdir images
	qemu-img create -q -f qcow2 images/debian-12.qcow2 8G
	qemu-img create -q -f qcow2 -b "$PWD/images/debian-12.qcow2" -F qcow2 images/demo.qcow2
	qemu-img create -q -f raw images/scratch.raw 1G
	printf "<pool type='dir'><name>images</name><target><path>%s</path></target></pool>" "$PWD/images" >images.xml
	ctl pool-define images.xml >/dev/null
	ctl pool-start images >/dev/null
	domain_xml demo echo "<interface type='network'><source network='lan'/><link state='down'/></interface>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$PWD/images/demo.qcow2'/><target dev='vda' bus='virtio'/></disk>" | sed 's|<name>demo</name>|<name>demo</name><title>A demo VM</title>|' >demo.xml
	ctl define demo.xml >/dev/null
	local shots=$BUILDDIR/tests/screenshots
	rm -rf "$shots" && mkdir -p "$shots"
	(cd "$BUILDDIR/tests/browser" && node pages.mjs "$URL" "$ADMIN_PASSWORD" "$ADMIN_PASSWORD2" "$shots" demo) \
		>browser.out 2>&1 || { cat browser.out; fail "the browser run found problems"; }
	[ "$(ls "$shots"/*.png | wc -l)" -ge 32 ] || fail "screenshots are missing"
	[ "$(cat images/notes.txt)" = "hello from the browser" ] || fail "the page's upload did not arrive intact"
}
