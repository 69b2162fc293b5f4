# The JSON API under /api/: the pages' own routes and handlers, answered
# in JSON, for a script with an API token (made on the tokens page, shown
# once, kept hashed). A token has exactly its user's rights; cookies do
# not authenticate it; expired and revoked tokens and disabled users'
# tokens open nothing; a token is never written to a log.

setup_api() {
	mkdir -p pools
	VMMD_ARGS="--pool-root $PWD/pools" start_portal
	echo "<network><name>lan</name><bridge name='wklan0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>" >lan.xml
	ctl net-define lan.xml >/dev/null
	define vm-a echo
	define vm-b echo
	login_admin
	make_user alice
	set_rights alice vm-a power
	JAR=alice login alice alice-password-123
}

test_a_token_is_shown_once_kept_hashed_and_has_its_users_rights() {
	setup_api
	local t
	t=$(make_token alice "my script")
	[ ${#t} = 68 ] || fail "the token is '$t'"
	JAR=alice web /account/tokens >/dev/null
	grep -q "$t" body.html && fail "the token is shown again"
	grep -q '<td>my script</td>' body.html || fail "the token is not listed"
	sqlite3 portal/portal.db .dump | grep -q "$t" && fail "the database holds the token itself"
	[ "$(api "$t" GET /instances)" = 200 ] || fail "alice's list answered $(cat body.html)"
	[ "$(json "[v['name'] for v in d['vms']]")" = "['vm-a']" ] || fail "alice's list: $(cat body.html)"
	[ "$(api "$t" GET /instance/vm-a)" = 200 ] || fail "vm-a answered $(cat body.html)"
	[ "$(json "d['vm']['name']")" = vm-a ] || fail "vm-a: $(cat body.html)"
	# her right, no more: power on vm-a, nothing on vm-b, no admin pages
	# started where KVM is (200), or vmmd's failure to (500); never a refusal of hers
	case $(api "$t" POST /instance/vm-a/start) in
	200) [ "$(json "d['ok']")" = True ] || fail "the start: $(cat body.html)" ;;
	500) [ "$(json "d['code']")" = vm-service-error ] && [ "$(json "d['reason']")" = start-failed ] ||
		fail "the start: $(cat body.html)" ;;
	*) fail "alice's start of vm-a answered $(cat body.html)" ;;
	esac
	[ "$(api "$t" GET /instance/vm-b)" = 403 ] || fail "alice got vm-b"
	[ "$(json "d['code']")" = forbidden ] || fail "a refusal: $(cat body.html)"
	[ "$(api "$t" POST /instance/vm-b/start)" = 403 ] || fail "alice started vm-b"
	[ "$(api "$t" POST /instance/vm-a/delete)" = 403 ] || fail "alice deleted vm-a"
	[ "$(api "$t" POST /instance/vm-a/settings vcpus=2 memory=64)" = 403 ] || fail "alice changed vm-a"
	[ "$(api "$t" GET /users)" = 403 ] || fail "alice got the users"
	[ "$(api "$t" POST /networks name=x mode=isolated address=10.99.0.1/24)" = 403 ] || fail "alice made a network"
	ctl list --all | grep -q ' vm-b ' || fail "vm-b is gone"
	[ "$(state_of vm-b)" = "shut off" ] || fail "vm-b was started"
	[ "$(ctl dumpxml vm-a | grep -c '<vcpu>1</vcpu>')" = 1 ] || fail "vm-a's settings changed"
	[ "$(ctl net-list --all | grep -c ' x ')" = 0 ] || fail "a network was made"
	# the state changes need no CSRF token and no Origin; the refusals and actions are audited
	web '/audit?user=alice' >/dev/null
	grep -q '<td>start</td><td>vm-b</td><td>refused</td>' body.html || fail "the refusal is not audited"
}

test_cookies_do_not_open_the_api_nor_tokens_the_pages() {
	setup_api
	local t
	t=$(make_token alice script)
	# alice's logged-in cookie jar on an API address: no
	[ "$(JAR=alice web /api/instances)" = 401 ] || fail "a cookie opened the API"
	[ "$(json "d['code']")" = unauthenticated ] || fail "the answer: $(cat body.html)"
	[ "$(JAR=alice web -H "Origin: $URL" --data "csrf=$(JAR=alice csrf /instances)" /api/instance/vm-a/start)" = 401 ] ||
		fail "a cookie and a CSRF token opened the API"
	# a token on a page's address: no (the page wants a login)
	[ "$(curl -sk -o body.html -w '%{http_code}' -H "Authorization: Bearer $t" --resolve "$HOSTPORT:127.0.0.1" "$URL/instances")" = 303 ] ||
		fail "a token opened a page"
	# no token, a wrong one, one of another form
	[ "$(api '' GET /instances)" = 401 ] || fail "no token"
	[ "$(api "wkt_$(printf '0%.0s' $(seq 64))" GET /instances)" = 401 ] || fail "a made-up token"
	[ "$(api "${t}x" GET /instances)" = 401 ] || fail "a longer token"
	[ "$(api "$(echo "$t" | tr a-f A-F)" GET /instances)" = 401 ] || fail "an upper-case token"
	# what the API does not offer: logging in, the account, the consoles
	[ "$(api "$t" POST /login name=alice password=alice-password-123)" = 404 ] || fail "/api/login"
	[ "$(api "$t" POST /account/tokens name=more)" = 404 ] || fail "a token made a token"
	[ "$(api "$t" POST /account/password current=x new=y repeat=y)" = 404 ] || fail "/api/account/password"
	[ "$(api "$t" POST /instance/vm-a/console/serial/ticket.json)" = 404 ] || fail "a console ticket"
	[ "$(json "d['code']")" = not-found ] || fail "the answer: $(cat body.html)"
}

test_expired_revoked_and_disabled_users_tokens_open_nothing() {
	setup_api
	local t1 t2 t3 id
	t1=$(make_token alice soon 1)
	t2=$(make_token alice revoked)
	t3=$(make_token alice disabled)
	for t in "$t1" "$t2" "$t3"; do
		[ "$(api "$t" GET /instances)" = 200 ] || fail "a new token does not work"
	done
	JAR=alice web /account/tokens >/dev/null
	# a day from now, and shown as the row says (a date taken now could be a day on, past midnight)
	[ "$(sqlite3 portal/portal.db "SELECT expires - strftime('%s','now') BETWEEN 86400 - 300 AND 86400 FROM api_tokens WHERE name = 'soon'")" = 1 ] ||
		fail "the token does not expire in a day"
	grep -A1 '<td>soon</td>' body.html |
		grep -q "$(sqlite3 portal/portal.db "SELECT strftime('%Y-%m-%d %H:%M UTC', expires, 'unixepoch') FROM api_tokens WHERE name = 'soon'")" ||
		fail "the expiry is not shown"
	# a day later (the row's expiry moved back instead)
	sqlite3 portal/portal.db "UPDATE api_tokens SET expires = strftime('%s','now') - 1 WHERE name = 'soon'"
	[ "$(api "$t1" GET /instances)" = 401 ] || fail "an expired token works"
	id=$(JAR=alice csrf /account/tokens >/dev/null; grep -B1 '<td>revoked</td>' body.html | grep -o 'data-token="[0-9]*"' | grep -o '[0-9]*')
	[ "$(JAR=alice post "/account/token/$id/revoke")" = 303 ] || fail "revoke"
	[ "$(api "$t2" GET /instances)" = 401 ] || fail "a revoked token works"
	[ "$(api "$t3" GET /instances)" = 200 ] || fail "revoking one token ended another"
	# bob cannot revoke alice's
	make_user bob
	JAR=bob login bob bob-password-123
	id=$(sqlite3 portal/portal.db "SELECT id FROM api_tokens WHERE name = 'disabled'")
	JAR=bob web /account/tokens >/dev/null
	[ "$(JAR=bob post "/account/token/$id/revoke")" = 303 ] || fail "bob's revoke"
	[ "$(api "$t3" GET /instances)" = 200 ] || fail "bob revoked alice's token"
	web /user/alice >/dev/null
	[ "$(post /user/alice role=user disabled=on)" = 303 ] || fail "disabling alice"
	[ "$(api "$t3" GET /instances)" = 401 ] || fail "a disabled user's token works"
	# a password reset ends every token of the user (whoever had the account had them)
	[ "$(post /user/alice role=user)" = 303 ] || fail "enabling alice"
	[ "$(api "$t3" GET /instances)" = 200 ] || fail "alice's token did not come back with her"
	[ "$(post /user/alice/password password=alice-password-456)" = 303 ] || fail "resetting alice's password"
	[ "$(api "$t3" GET /instances)" = 401 ] || fail "a token outlived its user's password"
	# and a token follows its user's role at each request
	local ta
	ta=$(make_token jar admin-token)
	[ "$(api "$ta" GET /users)" = 200 ] || fail "the admin's token"
	make_user carol admin
	JAR=carol login carol carol-password-123
	local tc
	tc=$(make_token carol carols)
	[ "$(api "$tc" GET /users)" = 200 ] || fail "carol's admin token"
	web /user/carol >/dev/null
	[ "$(post /user/carol role=user)" = 303 ] || fail "making carol a user"
	[ "$(api "$tc" GET /users)" = 403 ] || fail "carol's token kept the admin role"
}

# One call from each group of pages, as an admin's script would make it;
# and no token in any log.
test_the_api_covers_each_group_of_pages() {
	setup_api
	local t
	t=$(make_token jar admin-script 30)
	[ "$(api "$t" GET /host)" = 200 ] && [ -n "$(json "d['host']")" ] || fail "host: $(cat body.html)"
	[ "$(api "$t" GET '/instances?q=vm-&sort=name&order=desc')" = 200 ] || fail "instances"
	[ "$(json "[v['name'] for v in d['vms']]")" = "['vm-b', 'vm-a']" ] || fail "the sorted list: $(cat body.html)"
	[ "$(api "$t" POST /instance/vm-a/settings vcpus=2 memory=64 title=t description=)" = 200 ] ||
		fail "settings: $(cat body.html)"
	[ "$(json "d['ok']")" = True ] || fail "settings: $(cat body.html)"
	ctl dumpxml vm-a | grep -q '<vcpu>2</vcpu>' || fail "vm-a has not 2 vCPUs"
	[ "$(api "$t" POST /instance/vm-a/settings vcpus=0 memory=64)" = 400 ] || fail "bad settings"
	[ "$(json "d['code']")" = refused ] && json "d['message']" | grep -q 'vCPUs' || fail "the refusal: $(cat body.html)"
	[ "$(api "$t" POST /instance/vm-a/tags "tags=web")" = 200 ] || fail "tags"
	[ "$(api "$t" GET /instances?tag=web)" = 200 ] && [ "$(json "[v['name'] for v in d['vms']]")" = "['vm-a']" ] ||
		fail "by tag: $(cat body.html)"
	[ "$(api "$t" POST /instances/bulk action=delete vm=vm-b)" = 200 ] || fail "bulk"
	[ "$(json "d['results'][0]['ok']")" = True ] || fail "bulk: $(cat body.html)"
	[ "$(api "$t" POST /networks name=iso mode=isolated address=10.91.0.1/24)" = 200 ] || fail "networks: $(cat body.html)"
	[ "$(api "$t" GET /networks)" = 200 ] && [ "$(json "[n['name'] for n in d['networks']]" | grep -c iso)" = 1 ] ||
		fail "the network list: $(cat body.html)"
	[ "$(api "$t" POST /storage name=images "path=$PWD/pools/images" start=on)" = 200 ] || fail "storage: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/create name=d.qcow2 format=qcow2 size=1 unit=GiB)" = 200 ] || fail "volume"
	[ "$(api "$t" GET /pool/images)" = 200 ] && [ "$(json "d['volumes'][0]['name']")" = d.qcow2 ] ||
		fail "the pool: $(cat body.html)"
	[ "$(api "$t" POST /flavors name=tiny vcpus=1 memory=64 disk=1)" = 200 ] || fail "flavors"
	[ "$(api "$t" GET /users)" = 200 ] && json "[u['name'] for u in d['users']]" | grep -q alice || fail "users: $(cat body.html)"
	[ "$(api "$t" GET /audit)" = 200 ] || fail "audit"
	[ "$(api "$t" GET /no-such-thing)" = 404 ] && [ "$(json "d['code']")" = not-found ] || fail "404: $(cat body.html)"
	[ "$(api "$t" GET /instance/vm-a/start)" = 405 ] && [ "$(json "d['code']")" = method-not-allowed ] ||
		fail "405: $(cat body.html)"
	# the token in no log: nginx's, the portal's, vmmd's, the audit log
	web /audit >/dev/null
	grep -q 'POST /api/pool/images/volume/create' nginx-access.log || fail "nginx's access log has no API request"
	grep -q "${t#wkt_}" nginx-access.log nginx-error.log portal.log vmmd.log body.html &&
		fail "the token is in a log"
	sqlite3 portal/portal.db .dump | grep -q "${t#wkt_}" && fail "the token is in the database"
	return 0
}

# A refusal says of what kind it is: the caller's values (400 refused), no
# such thing (404), in use or taken (409 conflict, with vmmd's code as the
# reason), a quota (403 quota-exceeded), the VM service away (502).
test_api_refusals_say_what_kind_they_are() {
	mkdir -p pools/images
	cp "$TESTGUEST" pools/images/guest.bzImage
	VMMD_ARGS="--pool-root $PWD/pools" start_portal
	login_admin
	make_user u
	local t ut
	t=$(make_token jar kinds)
	[ "$(api "$t" POST /storage name=images "path=$PWD/pools/images" start=on)" = 200 ] || fail "storage: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/create name=base.qcow2 format=qcow2 size=1 unit=GiB)" = 200 ] || fail "volume"
	[ "$(api "$t" POST /pool/images/volume/create name=base.qcow2 format=qcow2 size=1 unit=GiB)" = 409 ] &&
		[ "$(json "d['code']")" = conflict ] && [ "$(json "d['reason']")" = volume-exists ] ||
		fail "a taken volume name: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/clone volume=base.qcow2 new_name=over.qcow2 overlay=on)" = 200 ] ||
		fail "overlay: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/delete volume=base.qcow2)" = 409 ] &&
		[ "$(json "d['code']")" = conflict ] && [ "$(json "d['reason']")" = invalid-state ] &&
		json "d['message']" | grep -q 'backing file' || fail "a base's delete: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/create name=../x format=raw size=1 unit=MiB)" = 400 ] &&
		[ "$(json "d['code']")" = refused ] || fail "a bad name: $(cat body.html)"
	[ "$(api "$t" POST /pool/images/volume/delete volume=gone.img)" = 404 ] &&
		[ "$(json "d['code']")" = not-found ] && [ "$(json "d['reason']")" = no-volume ] ||
		fail "no such volume: $(cat body.html)"
	[ "$(api "$t" POST /flavors name=tiny vcpus=1 memory=64 disk=1)" = 200 ] || fail "flavor"
	[ "$(api "$t" POST /flavors name=tiny vcpus=1 memory=64 disk=1)" = 409 ] &&
		[ "$(json "d['code']")" = conflict ] || fail "a taken flavor name: $(cat body.html)"
	# a quota
	[ "$(api "$t" POST /pool/images/volume/template volume=guest.bzImage enable=on)" = 200 ] || fail "template"
	web /user/u >/dev/null
	[ "$(post /user/u/quota may_create=on vms=0)" = 303 ] || fail "u's quota"
	JAR=u login u u-password-123
	ut=$(make_token u mine)
	[ "$(api "$ut" POST /create name=q1 flavor=1 pool=images kernel=images/guest.bzImage)" = 403 ] &&
		[ "$(json "d['code']")" = quota-exceeded ] && json "d['message']" | grep -q 'quota of 0 VMs' ||
		fail "a quota: $(cat body.html)"
	# the VM service away
	kill -9 "$VMMD_PID"
	wait "$VMMD_PID" 2>/dev/null || true
	[ "$(api "$t" POST /pool/images/stop)" = 502 ] && [ "$(json "d['code']")" = vm-service-unavailable ] ||
		fail "vmmd away: $(cat body.html)"
	# a user's quota cannot be counted without it: not the user's fault either
	[ "$(api "$ut" POST /create name=q1 flavor=1 pool=images kernel=images/guest.bzImage)" = 502 ] &&
		[ "$(json "d['code']")" = vm-service-unavailable ] || fail "a quota with vmmd away: $(cat body.html)"
}
