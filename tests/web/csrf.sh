# Every state change is a POST with the session's CSRF token and this
# site's Origin; anything else is refused with 403 and changes nothing.

user_exists() { web /users >/dev/null; grep -q "data-user=\"$1\"" body.html; }

test_a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
	start_portal
	login_admin
	local status
	status=$(web -H "Origin: $URL" --data-urlencode name=mallory --data-urlencode role=admin \
		--data-urlencode password=mallory-password-1 /users)
	[ "$status" = 403 ] || fail "a POST without a token answered $status"
	user_exists mallory && fail "the user was created"
	web /audit >/dev/null
	grep -q '<td>create user</td><td></td><td>refused</td>' body.html ||
		fail "the refusal is not in the audit log"
}

test_a_post_with_another_sessions_token_is_refused() {
	start_portal
	login_admin
	local other status
	other=$(JAR=jar2 csrf /login)
	status=$(web -H "Origin: $URL" --data-urlencode "csrf=$other" --data-urlencode name=mallory \
		--data-urlencode role=admin --data-urlencode password=mallory-password-1 /users)
	[ "$status" = 403 ] || fail "another session's token answered $status"
	status=$(web -H "Origin: $URL" --data-urlencode "csrf=$(csrf /users | tr 0-9a-f 1-9a-f0)" \
		--data-urlencode name=mallory --data-urlencode role=admin \
		--data-urlencode password=mallory-password-1 /users)
	[ "$status" = 403 ] || fail "a changed token answered $status"
	user_exists mallory && fail "the user was created"
	return 0
}

test_a_foreign_or_missing_origin_is_refused() {
	start_portal
	login_admin
	local token status
	token=$(csrf /users)
	for origin in "https://evil.example" "null" "http://${URL#https://}" ""; do
		status=$(web ${origin:+-H "Origin: $origin"} --data-urlencode "csrf=$token" \
			--data-urlencode name=mallory --data-urlencode role=admin \
			--data-urlencode password=mallory-password-1 /users)
		[ "$status" = 403 ] || fail "Origin '$origin' answered $status"
	done
	user_exists mallory && fail "the user was created"
	return 0
}

test_the_login_form_needs_its_token_too() {
	start_portal
	web /login >/dev/null
	local status
	status=$(web -H "Origin: $URL" --data-urlencode name=admin \
		--data-urlencode "password=$ADMIN_PASSWORD" /login)
	[ "$status" = 403 ] || fail "a login without the form's token answered $status"
	[ -z "$(header_of Location)" ] || fail "it went on to $(header_of Location)"
}

test_state_changing_routes_take_no_get() {
	start_portal
	login_admin
	local p status
	for p in /logout /instance/x/start /instance/x/destroy /user/admin/password; do
		status=$(web "$p")
		[ "$status" = 405 ] || fail "GET $p answered $status"
	done
	[ "$(web /instances)" = 200 ] || fail "the session did not survive"
}

test_a_body_that_is_not_a_form_is_refused() {
	start_portal
	login_admin
	local status
	status=$(web -H "Origin: $URL" -H 'Content-Type: application/json' \
		--data "{\"csrf\":\"$(csrf /users)\",\"name\":\"mallory\"}" /users)
	[ "$status" = 415 ] || fail "a JSON body answered $status"
	status=$(web -H "Origin: $URL" --data-urlencode "csrf=$(csrf /users)" --data 'name=%zz' /users)
	[ "$status" = 400 ] || fail "a malformed form answered $status"
	head -c 2000000 /dev/zero | tr '\0' a >big
	status=$(web -H "Origin: $URL" --data-binary @big /users)
	[ "$status" = 413 ] || fail "a 2 MB body answered $status"
	user_exists mallory && fail "a user was created"
	return 0
}

# Every state-changing route in the portal's own table, as an admin with
# things for each to act on: without the CSRF token, and with the token
# but from another site's Origin, each is 403 and nothing changes. A new
# route is walked without this test changing.
test_every_state_changing_route_needs_the_token_and_our_origin() {
	in_netns
	mkdir -p pools/p
	VMMD_ARGS="--pool-root $PWD/pools" start_portal
	login_admin
	echo "<network><name>lan</name><bridge name='wklan0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>" >lan.xml
	ctl net-define lan.xml >/dev/null
	printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pools/p" >p.xml
	ctl pool-define p.xml >/dev/null
	ctl pool-start p >/dev/null
	ctl vol-create p v.raw 1M >/dev/null
	define vm-a echo
	make_user bob
	web /account/tokens >/dev/null
	[ "$(post /account/tokens name=t)" = 200 ] || fail "making a token"
	state() {
		ctl list --all; ctl dumpxml vm-a; ctl net-list --all; ctl net-info lan; ctl pool-list --all
		ls -l pools/p
		sqlite3 portal/portal.db 'SELECT name, role, disabled, password, may_create, quota_vms,
			quota_vcpus, quota_memory_mib, quota_disk_gib FROM users;
			SELECT * FROM rights; SELECT * FROM flavors; SELECT * FROM vm_tags;
			SELECT id, name FROM api_tokens; SELECT * FROM vm_owners; SELECT * FROM template_volumes'
	}
	local before method pattern who changes need path token args status n=0
	before=$(state)
	token=$(csrf /instances)
	while read -r method pattern who changes need; do
		[ "$method" = POST ] || continue
		case $pattern in /login | /logout) continue ;; esac
		path=${pattern/\/instance\/\{\}/\/instance\/vm-a}
		path=${path/\/network\/\{\}/\/network\/lan}
		path=${path/\/pool\/\{\}/\/pool\/p}
		path=${path/\/user\/\{\}/\/user\/bob}
		path=${path/\/flavor\/\{\}/\/flavor\/small}
		path=${path/\/account\/token\/\{\}/\/account\/token\/1}
		path=${path//\{\}/serial}
		args=(--data-urlencode name=stolen --data-urlencode vm=vm-a --data-urlencode volume=v.raw
			--data-urlencode action=delete --data-urlencode role=admin --data-urlencode password=stolen-password-1
			--data-urlencode tags=stolen --data-urlencode vcpus=2 --data-urlencode memory=64
			--data-urlencode mode=isolated --data-urlencode address=10.99.0.1/24 --data-urlencode "path=$PWD/pools/x"
			--data-urlencode format=raw --data-urlencode size=2 --data-urlencode unit=MiB --data-urlencode new_name=stolen
			--data-urlencode enable=on --data-urlencode may_create=on --data-urlencode vms=9 --data-urlencode disk=3)
		status=$(web -H "Origin: $URL" "${args[@]}" "$path")
		[ "$status" = 403 ] || fail "POST $path without the token answered $status"
		status=$(web -H "Origin: https://evil.example" --data-urlencode "csrf=$token" "${args[@]}" "$path")
		[ "$status" = 403 ] || fail "POST $path from another site answered $status"
		n=$((n + 1))
	done < <("$FCGI" --routes)
	[ "$n" -ge 40 ] || fail "only $n routes were walked"
	[ "$before" = "$(state)" ] || fail "something changed: $(diff <(echo "$before") <(state))"
}
