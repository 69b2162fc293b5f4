# Accounts and sessions through nginx: login, throttling, the session
# cookie, logout, password changes, and the setup's initial password.

test_login_page_sets_a_pre_session_cookie_with_its_flags() {
	start_portal
	[ "$(web /login)" = 200 ] || fail "GET /login answered $(web /login)"
	local cookie
	cookie=$(tr -d '\r' <headers.txt | grep -i '^set-cookie: __Host-webkvm=')
	[ -n "$cookie" ] || fail "no session cookie: $(cat headers.txt)"
	for flag in "Path=/" Secure HttpOnly "SameSite=Strict"; do
		echo "$cookie" | grep -q "; $flag" || fail "the cookie lacks $flag: $cookie"
	done
	echo "$cookie" | grep -qE '__Host-webkvm=[0-9a-f]{64};' || fail "not a 256-bit id: $cookie"
	[ -n "$(csrf)" ] || fail "the login form has no CSRF token"
}

test_pages_need_a_login() {
	start_portal
	local p status
	for p in / /instances /host /users /audit /instance/x; do
		status=$(web "$p")
		[ "$status" = 303 ] || fail "GET $p without a login answered $status"
		[ "$(header_of Location)" = /login ] || fail "GET $p went to $(header_of Location)"
	done
	[ "$(web /instances.json)" = 401 ] || fail "the JSON answered $(web /instances.json) without a login"
}

test_initial_admin_must_change_its_password_first() {
	start_portal
	# the setup keeps the first password in a root-only file in the state folder
	printf '%s\n' "$ADMIN_PASSWORD" >portal/initial-admin-password
	chmod 600 portal/initial-admin-password
	login admin "$ADMIN_PASSWORD"
	[ "$(header_of Location)" = /account/password ] || fail "login went to $(header_of Location)"
	[ "$(web /instances)" = 303 ] || fail "/instances answered before the password change"
	[ "$(header_of Location)" = /account/password ] || fail "went to $(header_of Location)"
	web /account/password >/dev/null
	[ "$(post /account/password "current=$ADMIN_PASSWORD" new=short repeat=short)" = 400 ] ||
		fail "a short password was taken"
	[ "$(post /account/password "current=$ADMIN_PASSWORD" new=a-long-new-password new2=x repeat=another-long-one)" = 400 ] ||
		fail "differing passwords were taken"
	[ -f portal/initial-admin-password ] || fail "a refused change removed the initial password's file"
	[ "$(post /account/password "current=$ADMIN_PASSWORD" new=a-long-new-password repeat=a-long-new-password)" = 303 ] ||
		fail "the change was refused: $(cat body.html)"
	[ "$(web /instances)" = 200 ] || fail "/instances answered $(web /instances) after the change"
	[ ! -e portal/initial-admin-password ] || fail "the initial password's file outlived the change"
}

test_wrong_password_and_unknown_user_get_the_same_answer() {
	start_portal
	local a b
	web /login >/dev/null
	[ "$(post /login name=admin password=wrong-password-here)" = 401 ] || fail "a wrong password was not 401"
	a=$(grep -o 'id="login-error">[^<]*' body.html)
	[ "$(post /login name=nobody-here password=wrong-password-here)" = 401 ] || fail "an unknown user was not 401"
	b=$(grep -o 'id="login-error">[^<]*' body.html)
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "the answers differ: '$a' and '$b'"
}

# fail_logins NAME N: N logins as NAME with wrong passwords, from this client.
fail_logins() {
	local i
	web /login >/dev/null
	for i in $(seq "$2"); do
		post /login "name=$1" "password=wrong-password-$i" >/dev/null
	done
}

test_repeated_bad_logins_are_throttled_per_account_and_per_address() {
	start_portal
	local status
	fail_logins admin 5
	status=$(post /login name=admin "password=$ADMIN_PASSWORD")
	[ "$status" = 429 ] || fail "the right password after 5 failures answered $status, not 429"
	grep -q 'Too many failed logins' body.html || fail "no throttle message"
	# an unknown name is throttled the same way, and the address is too:
	# a fresh cookie jar (a client dropping its cookies) changes nothing
	JAR=jar2 web /login >/dev/null
	status=$(JAR=jar2 post /login name=someone-else password=whatever-it-is)
	[ "$status" = 429 ] || fail "the same address with another name answered $status"
}

# A stolen session must not try passwords through the password form
# faster than the login form allows.
test_wrong_current_passwords_are_throttled_like_logins() {
	start_portal
	login_admin
	local i status
	web /account/password >/dev/null
	for i in 1 2 3 4 5; do
		status=$(post /account/password current=wrong-password-$i new=yet-another-password repeat=yet-another-password)
		[ "$status" = 403 ] || fail "wrong current password $i answered $status"
	done
	status=$(post /account/password "current=$ADMIN_PASSWORD" new=yet-another-password repeat=yet-another-password)
	[ "$status" = 429 ] || fail "the right current password after 5 wrong ones answered $status, not 429"
	grep -q 'Too many wrong passwords' body.html || fail "no throttle message"
	# the password is unchanged
	JAR=fresh web /login >/dev/null
	status=$(JAR=fresh post /login name=admin password=yet-another-password)
	[ "$status" != 303 ] || fail "the throttled change went through"
	JAR=fresh2 web /login >/dev/null
	status=$(JAR=fresh2 post /login name=admin "password=$ADMIN_PASSWORD")
	[ "$status" = 303 ] || fail "the unchanged password does not log in: $status"
	web /audit >/dev/null
	grep -q '<td>change password</td><td>admin</td><td>throttled</td>' body.html || fail "the refusal is not audited"
}

test_login_replaces_a_planted_session_id() {
	start_portal
	local planted after
	web /login >/dev/null
	planted=$(awk '$6 == "__Host-webkvm" { print $7 }' jar)
	[ -n "$planted" ] || fail "no pre-login session id"
	post /login name=admin "password=$ADMIN_PASSWORD" >/dev/null
	after=$(awk '$6 == "__Host-webkvm" { print $7 }' jar)
	[ -n "$after" ] && [ "$after" != "$planted" ] || fail "the id stayed the same across login"
	# the planted id is no session at all now
	printf 'localhost\tFALSE\t/\tTRUE\t0\t__Host-webkvm\t%s\n' "$planted" >jar2
	[ "$(JAR=jar2 web /account/password)" = 303 ] || fail "the planted id still works"
}

test_logout_ends_the_session_on_the_server() {
	start_portal
	login_admin
	cp jar old-jar
	[ "$(post /logout)" = 303 ] || fail "logout answered $(post /logout)"
	[ "$(JAR=old-jar web /instances)" = 303 ] || fail "the old session still opens pages"
	[ "$(JAR=old-jar web /instances.json)" = 401 ] || fail "the old session still gets JSON"
}

test_password_change_ends_the_other_sessions() {
	start_portal
	login_admin
	JAR=other login admin "$ADMIN_PASSWORD"
	[ "$(JAR=other web /instances)" = 200 ] || fail "the second session does not work"
	cp jar before-change
	web /account/password >/dev/null
	[ "$(post /account/password "current=$ADMIN_PASSWORD" new=yet-another-password repeat=yet-another-password)" = 303 ] ||
		fail "the change was refused"
	[ "$(JAR=other web /instances)" = 303 ] || fail "the other session survived the password change"
	[ "$(JAR=before-change web /instances)" = 303 ] || fail "this session's old id survived the password change"
	[ "$(web /instances)" = 200 ] || fail "this browser lost its session"
}

test_every_answer_carries_the_security_headers() {
	start_portal
	local p
	for p in /login /instances /static/css/webkvm.css /no-such-page; do
		web "$p" >/dev/null
		header_of Content-Security-Policy | grep -q "script-src 'self'" || fail "$p: no CSP: $(cat headers.txt)"
		header_of Content-Security-Policy | grep -q "frame-ancestors 'none'" || fail "$p: CSP without frame-ancestors"
		header_of Content-Security-Policy | grep -q "unsafe" && fail "$p: an unsafe CSP"
		[ "$(header_of X-Content-Type-Options)" = nosniff ] || fail "$p: no nosniff"
		[ -n "$(header_of Referrer-Policy)" ] || fail "$p: no Referrer-Policy"
		header_of Strict-Transport-Security | grep -q max-age || fail "$p: no HSTS"
	done
}

# One client's failures block that client, for that name and for any
# name; another client still logs in as that name (no lockout of admin
# by anyone who knows the name).
test_a_clients_failures_do_not_lock_the_account_for_others() {
	start_portal
	local status
	fail_logins admin 5
	[ "$(post /login name=admin "password=$ADMIN_PASSWORD")" = 429 ] || fail "the guessing client was not blocked"
	JAR=other web --interface 127.0.0.2 /login >/dev/null
	status=$(JAR=other web --interface 127.0.0.2 -H "Origin: $URL" \
		--data-urlencode "csrf=$(csrf)" --data-urlencode name=admin \
		--data-urlencode "password=$ADMIN_PASSWORD" /login)
	[ "$status" = 303 ] || fail "admin from another address answered $status"
}

# Attempts are counted before their password is checked: sixteen at once
# from one client get at most five answers that checked a password.
test_parallel_logins_cannot_pass_the_limit() {
	start_portal
	local token i checked pids=()
	token=$(csrf /login)
	for i in $(seq 16); do
		curl -sk -o /dev/null -w '%{http_code}\n' -b jar --resolve "$HOSTPORT:127.0.0.1" \
			-H "Origin: $URL" --data-urlencode "csrf=$token" --data-urlencode name=admin \
			--data-urlencode "password=wrong-password-$i" "$URL/login" >>codes &
		pids+=($!)
	done
	wait "${pids[@]}"
	checked=$(grep -c '^401$' codes)
	[ "$checked" -le 5 ] || fail "$checked parallel tries were checked: $(sort codes | uniq -c)"
	[ "$(grep -c '^429$' codes)" -ge 11 ] || fail "not throttled: $(sort codes | uniq -c)"
}

test_methods_and_paths_that_are_not_routes() {
	start_portal
	login_admin
	local p status
	status=$(web -I /users)
	[ "$status" = 200 ] || fail "HEAD /users answered $status"
	status=$(curl -sk -I -b jar --resolve "$HOSTPORT:127.0.0.1" -o /dev/null -w '%{http_code}' "$URL/logout")
	[ "$status" = 405 ] || fail "HEAD on a state change answered $status"
	for m in PUT DELETE OPTIONS PATCH; do
		status=$(web -X "$m" /instances)
		[ "$status" = 405 ] || fail "$m answered $status"
	done
	for p in /instances/ /instance/ /instance//start /instance/a%2Fb /users/x/y "/instance/$(head -c 300 /dev/zero | tr '\0' a)"; do
		status=$(web "$p")
		case $status in 403|404|405) ;; *) fail "GET $p answered $status" ;; esac
	done
	[ "$(web /instances)" = 200 ] || fail "the session did not survive"
}

test_nginx_errors_carry_the_security_headers_too() {
	start_portal
	head -c 2000000 /dev/zero | tr '\0' a >big
	[ "$(web --data-binary @big /login)" = 413 ] || fail "no 413"
	header_of Content-Security-Policy | grep -q "frame-ancestors 'none'" || fail "413 without CSP: $(cat headers.txt)"
	[ "$(header_of X-Content-Type-Options)" = nosniff ] || fail "413 without nosniff"
	kill -TERM "$PORTAL_PID"
	wait "$PORTAL_PID" 2>/dev/null || true
	[ "$(web /login)" = 502 ] || fail "without the portal: $(web /login)"
	header_of Content-Security-Policy | grep -q "script-src 'self'" || fail "502 without CSP"
	[ "$(header_of X-Frame-Options)" = DENY ] || fail "502 without X-Frame-Options"
	[ "$(grep -ci '^content-security-policy:' headers.txt)" = 1 ] || fail "the CSP comes more than once"
}

test_the_portals_socket_folder_is_closed_to_others() {
	start_portal
	[ "$(stat -c '%a %G' fcgi)" = "750 nogroup" ] || fail "the socket folder is $(stat -c '%a %G' fcgi)"
	! setpriv --reuid=64918 --regid=64918 --clear-groups -- test -r fcgi/fcgi.sock 2>/dev/null ||
		fail "a user outside nginx's group reaches the socket"
	[ "$(stat -c %a portal/portal.db)" = 600 ] || fail "the database is $(stat -c %a portal/portal.db)"
}

# Sessions end after 30 minutes idle or 12 hours in all, and the pages'
# background polling is no activity. The session's times are moved back
# in the database (as the portal's user) rather than waited for. Another
# process reading the database while the portal runs must see what the
# portal wrote, and leave its WAL in place: the portal once dropped its
# own locks, and the other process deleted the WAL from under it.
test_sessions_expire_idle_or_old_and_polling_is_no_activity() {
	start_portal
	login_admin
	sql() {
		as_portal /usr/bin/python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5)
rows = c.execute(sys.argv[2]).fetchall()
c.commit()
print("\n".join("|".join(map(str, r)) for r in rows))' "$PWD/portal/portal.db" "$1"
	}
	local before after
	sql "UPDATE sessions SET last_active = last_active - 600 WHERE user_id IS NOT NULL" >/dev/null
	before=$(sql "SELECT last_active FROM sessions WHERE user_id IS NOT NULL")
	[ "$(web -H 'X-Requested-With: poll' /instances.json)" = 200 ] || fail "the poll answered $(cat body.html)"
	[ "$(sql "SELECT last_active FROM sessions WHERE user_id IS NOT NULL")" = "$before" ] ||
		fail "a poll counted as activity"
	[ "$(web /instances)" = 200 ] || fail "the page answered $(cat body.html)"
	[ -f portal/portal.db-wal ] || fail "another process took the portal's WAL away"
	after=$(sql "SELECT last_active FROM sessions WHERE user_id IS NOT NULL")
	[ "$after" -gt "$before" ] || fail "a page view did not count as activity ($before, $after): $(sql "SELECT substr(id_hash,1,8), user_id, created, last_active FROM sessions") now $(date +%s)"
	# 31 minutes idle
	sql "UPDATE sessions SET last_active = last_active - 1860 WHERE user_id IS NOT NULL" >/dev/null
	[ "$(web /instances)" = 303 ] && [ "$(header_of Location)" = /login ] || fail "an idle session still works"
	[ -z "$(sql "SELECT 1 FROM sessions WHERE user_id IS NOT NULL")" ] || fail "the idle session stayed in the database"
	# active, but 12 hours and a minute old
	login admin "$ADMIN_PASSWORD2"
	sql "UPDATE sessions SET created = created - 43260 WHERE user_id IS NOT NULL" >/dev/null
	[ "$(web /instances)" = 303 ] && [ "$(header_of Location)" = /login ] || fail "a 12-hour-old session still works"
}

# The portal never runs as root, for serving or for its admin command,
# and refuses before it touches the state folder.
test_the_portal_refuses_to_run_as_root() {
	need_portal
	mkdir -m 700 state
	! "$FCGI" --state-dir "$PWD/state" --socket "$PWD/fcgi.sock" --templates "$SRCDIR/templates" 2>err ||
		fail "it ran as root"
	grep -q 'does not run as root' err || fail "$(cat err)"
	! "$FCGI" --state-dir "$PWD/state" --create-admin someone 2>err || fail "--create-admin ran as root"
	grep -q 'does not run as root' err || fail "$(cat err)"
	[ -z "$(ls state)" ] && [ ! -e fcgi.sock ] || fail "it left $(ls state) in the state folder"
}
