# The portal keeps a connection to vmmd per worker: a vmmd that went away
# and came back is found again at the next request, on every worker.

test_the_portal_reaches_vmmd_again_after_vmmd_restarts() {
	start_portal
	define r1 echo
	login_admin
	local i
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(web /instances)" = 200 ] || fail "before the restart: $(web /instances)"
	done
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	[ "$(web /instances)" = 502 ] || fail "without vmmd the list answered $(web /instances)"
	grep -q 'The VM service did not answer' body.html || fail "no readable reason"
	start_vmmd --group "$PORTAL_GROUP" --vmm "$VMM" --kernel-dir "$(dirname "$TESTGUEST")"
	trap cleanup_portal EXIT
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(web /instances)" = 200 ] || fail "request $i after the restart answered $(web /instances)"
		grep -q 'data-vm="r1"' body.html || fail "request $i after the restart lacks r1"
	done
}

# row NAME: the instances list's row of NAME in body.html (up to the
# row's closing tag, the only line that is four spaces and </div>).
row() { awk -v vm="data-vm=\"$1\"" 'index($0, vm) { on = 1 } on { print } on && /^    <\/div>$/ { exit }' body.html; }

# A worker keeps vmmd's list (by its etag) and the rows it made from it,
# with the rights and query they were made for. With one worker every view
# meets what the view before kept: each change of a VM, of a user's rights
# and of the query must show at once, and no user gets another's rows.
test_the_rows_a_worker_keeps_follow_every_change_and_every_user() {
	PORTAL_THREADS=1 start_portal
	define k1 echo
	define k2 echo
	login_admin
	make_user carol
	set_rights carol k1
	JAR=carol login carol carol-password-123
	local i
	for i in 1 2; do
		web /instances >/dev/null
		[ -n "$(row k1)" ] && [ -n "$(row k2)" ] || fail "view $i: the admin does not see k1 and k2"
		JAR=carol web /instances >/dev/null
		[ -n "$(row k1)" ] || fail "view $i: carol does not see k1"
		[ -z "$(row k2)" ] || fail "view $i: carol sees k2, the admin's rows went to her"
		grep -q 'formaction="/instance/k1/start"' body.html && fail "view $i: carol has a start button without the right"
	done
	set_rights carol k1 power
	JAR=carol web /instances >/dev/null
	grep -q 'formaction="/instance/k1/start"' body.html || fail "carol's new right does not show"
	web /instances >/dev/null
	row k1 | grep -q '>no</div>' || fail "k1 shows autostart before it is set"
	ctl autostart k1 >/dev/null || fail "vmmctl autostart failed"
	web /instances >/dev/null
	row k1 | grep -q '>yes</div>' || fail "k1's autostart does not show: $(row k1)"
	domain_xml k2 echo | sed 's|<name>k2</name>|<name>k2</name><title>kept-title-2</title>|' >k2.xml
	ctl define k2.xml >/dev/null || fail "cannot give k2 a title"
	web /instances >/dev/null
	row k2 | grep -q 'kept-title-2' || fail "k2's new title does not show: $(row k2)"
	define k3 echo
	web /instances >/dev/null
	[ -n "$(row k3)" ] || fail "k3, defined after the last view, is not listed"
	grep -q '3 of 3' body.html || fail "the count is not 3 of 3: $(grep -o 'id="vm-count">[^<]*' body.html)"
	ctl undefine k2 >/dev/null || fail "cannot undefine k2"
	web /instances >/dev/null
	[ -z "$(row k2)" ] || fail "k2 is listed after it was undefined"
	web '/instances?q=k3' >/dev/null
	[ -n "$(row k3)" ] && [ -z "$(row k1)" ] || fail "the search for k3 shows other rows"
	web '/instances?sort=name&order=desc' >/dev/null
	[ "$(grep -o 'data-vm="k[0-9]"' body.html | tr -d '\n')" = 'data-vm="k3"data-vm="k1"' ] ||
		fail "descending order not followed: $(grep -o 'data-vm="k[0-9]"' body.html | tr -d '\n')"
	web /instances >/dev/null
	[ "$(grep -o 'data-vm="k[0-9]"' body.html | tr -d '\n')" = 'data-vm="k1"data-vm="k3"' ] ||
		fail "back to the default order: $(grep -o 'data-vm="k[0-9]"' body.html | tr -d '\n')"
	JAR=carol web /instances >/dev/null
	[ -n "$(row k1)" ] && [ -z "$(row k3)" ] || fail "carol's list after the admin's views is not hers"
}

# names_in_api: the names in the API's list in body.html, in order.
names_in_api() { json '" ".join(v["name"] for v in d["vms"])'; }

# The API's list of VMs is kept per worker as the page's rows are: with one
# worker, every change and every token's own rights show at once.
test_the_api_list_a_worker_keeps_follows_every_change_and_every_user() {
	PORTAL_THREADS=1 start_portal
	define a1 echo
	define a2 echo
	login_admin
	make_user carol
	set_rights carol a1
	JAR=carol login carol carol-password-123
	local admin carol i
	admin=$(make_token jar admin-list)
	carol=$(make_token carol carol-list)
	for i in 1 2; do
		[ "$(api "$admin" GET /instances)" = 200 ] || fail "view $i: the admin's list answered $(cat body.html)"
		[ "$(names_in_api)" = "a1 a2" ] || fail "view $i: the admin's list is $(names_in_api)"
		api "$carol" GET /instances >/dev/null
		[ "$(names_in_api)" = "a1" ] || fail "view $i: carol's list is $(names_in_api), not hers"
		[ "$(json 'd["total"]')" = 1 ] || fail "view $i: carol's total is $(json 'd["total"]')"
		[ "$(json 'd["vms"][0]["can"]["power"]')" = False ] || fail "view $i: carol may power a1"
	done
	set_rights carol a1 power
	api "$carol" GET /instances >/dev/null
	[ "$(json 'd["vms"][0]["can"]["power"]')" = True ] || fail "carol's new right does not show"
	api "$admin" GET /instances >/dev/null
	[ "$(post /instance/a2/tags "tags=kept")" = 303 ] || fail "tagging a2"
	api "$admin" GET /instances >/dev/null
	[ "$(json 'd["vms"][1]["tags"]')" = "['kept']" ] || fail "a2's new tag does not show: $(cat body.html)"
	ctl autostart a1 >/dev/null || fail "vmmctl autostart failed"
	api "$admin" GET /instances >/dev/null
	[ "$(json 'd["vms"][0]["autostart"]')" = True ] || fail "a1's autostart does not show"
	define a3 echo
	api "$admin" GET '/instances?sort=name&order=desc' >/dev/null
	[ "$(names_in_api)" = "a3 a2 a1" ] || fail "the descending list is $(names_in_api)"
	api "$admin" GET '/instances?q=a3' >/dev/null
	[ "$(names_in_api)" = "a3" ] || fail "the search for a3 gave $(names_in_api)"
	api "$carol" GET /instances >/dev/null
	[ "$(names_in_api)" = "a1" ] || fail "carol's list after the admin's is $(names_in_api)"
}

# vol_row NAME: the pool page's row of volume NAME in body.html.
vol_row() { awk -v v="data-volume=\"$1\"" 'index($0, v) { on = 1 } on { print } on && /<\/tr>/ { exit }' body.html; }

# A pool page's volumes are kept per worker too (vmmd's etag for the pool's
# list, the pool's templates, the session's CSRF token): with one worker,
# every change shows at once, each session's forms carry its own token, and
# the kept rows of one pool never show on another's page.
test_the_volumes_a_worker_keeps_follow_every_change_and_every_session() {
	PORTAL_THREADS=1 start_portal
	setup_pool
	mkdir -p other
	printf "<pool type='dir'><name>q</name><target><path>%s</path></target></pool>" "$PWD/other" >q.xml
	ctl pool-define q.xml >/dev/null
	ctl pool-start q >/dev/null
	login_admin
	local i t
	for i in 1 2; do
		web /pool/p >/dev/null
		[ -n "$(vol_row guest.bzImage)" ] || fail "view $i: the pool page lacks guest.bzImage"
		grep -q '<option value="guest.bzImage">' body.html || fail "view $i: no choice of guest.bzImage"
	done
	web /pool/q >/dev/null
	[ -z "$(vol_row guest.bzImage)" ] || fail "the pool q shows p's volumes"
	ctl vol-create p v1.img 1M >/dev/null
	web /pool/p >/dev/null
	[ -n "$(vol_row v1.img)" ] || fail "a volume made by vmmctl does not show"
	grep -q '<option value="v1.img">' body.html || fail "no choice of v1.img"
	truncate -s 3M pool/v1.img
	web /pool/p >/dev/null
	vol_row v1.img | grep -q '<td>3 MiB</td>' || fail "v1.img grown on the disk does not show: $(vol_row v1.img)"
	[ "$(post /pool/p/volume/template volume=v1.img enable=on)" = 303 ] || fail "marking a template failed"
	web /pool/p >/dev/null
	vol_row v1.img | grep -q '>template</span>' || fail "the template mark does not show"
	define user1 echo "<disk type='file' device='disk'><source file='$PWD/pool/v1.img'/><target dev='vda' bus='virtio'/></disk>"
	web /pool/p >/dev/null
	vol_row v1.img | grep -q 'href="/instance/user1"' || fail "the VM on v1.img does not show: $(vol_row v1.img)"
	ctl vol-delete v1.img --pool p >/dev/null || fail "vmmctl vol-delete failed"
	web /pool/p >/dev/null
	[ -z "$(vol_row v1.img)" ] || fail "a deleted volume still shows"
	# a second session's forms carry its own token, and it works
	make_user bob admin
	JAR=bob login bob bob-password-123
	JAR=bob web /pool/p >/dev/null
	t=$(vol_row guest.bzImage | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
	[ -n "$t" ] || fail "bob's rows carry no token"
	JAR=jar web /pool/p >/dev/null
	[ "$(vol_row guest.bzImage | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1)" != "$t" ] ||
		fail "the admin's rows carry bob's token"
	[ "$(JAR=bob web -H "Origin: $URL" --data-urlencode "csrf=$t" --data-urlencode volume=guest.bzImage \
		--data-urlencode enable=on /pool/p/volume/template)" = 303 ] || fail "bob's form from his rows was refused"
}

# vmmd's lists carry a fingerprint (etag) that the portal keeps a list by:
# 128 bits of SHA-256 over every field, so that no VM or volume name a
# user picks can make a changed list pass for the one kept. The same list
# gives the same etag and "unchanged"; a change gives another.
test_vmmds_list_etags_are_128_bit_fingerprints_of_every_field() {
	start_portal
	setup_pool
	define f1 echo
	local etag etag2 vetag
	call '{"jsonrpc":"2.0","id":1,"method":"domain.list","params":{}}' >list
	etag=$(sed -n 's/.*"etag": *"\([^"]*\)".*/\1/p' list)
	[[ $etag =~ ^[0-9a-f]{32}$ ]] || fail "domain.list's etag is '$etag'"
	call '{"jsonrpc":"2.0","id":2,"method":"domain.list","params":{"unless":"'"$etag"'"}}' >list
	grep -q '"unchanged": *true' list || fail "the same list is not unchanged: $(cat list)"
	ctl autostart f1 >/dev/null || fail "vmmctl autostart failed"
	call '{"jsonrpc":"2.0","id":3,"method":"domain.list","params":{"unless":"'"$etag"'"}}' >list
	etag2=$(sed -n 's/.*"etag": *"\([^"]*\)".*/\1/p' list)
	[ -n "$etag2" ] && [ "$etag2" != "$etag" ] && grep -q '"f1"' list || fail "a changed list kept its etag: $(cat list)"
	call '{"jsonrpc":"2.0","id":4,"method":"vol.list","params":{"pool":"p"}}' >vols
	vetag=$(sed -n 's/.*"etag": *"\([^"]*\)".*/\1/p' vols)
	[[ $vetag =~ ^[0-9a-f]{32}$ ]] || fail "vol.list's etag is '$vetag'"
	ctl vol-create p v1 1M >/dev/null || fail "cannot make a volume"
	call '{"jsonrpc":"2.0","id":5,"method":"vol.list","params":{"pool":"p","unless":"'"$vetag"'"}}' >vols
	grep -q '"v1"' vols || fail "a changed pool kept its etag: $(cat vols)"
}
