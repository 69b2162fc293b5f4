# The web tier's helpers: a real nginx, webkvm.fcgi and vmmd for each test,
# in the test's own folder, driven over https with curl and a cookie jar
# the way a browser drives the pages.
. "$SRCDIR/tests/direct/lib.sh"

FCGI=$BUILDDIR/fcgi/webkvm.fcgi
WEBSOCKIFY=$BUILDDIR/websockify/webkvm-websockify
# The portal's user: not root, in vmmd's socket group; a uid of its own
# so that nothing else on the machine shares its files.
PORTAL_UID=${PORTAL_UID:-64917}
PORTAL_GROUP=webkvm

need_portal() {
	[ "$(id -u)" -eq 0 ] || skip "the portal's tests start nginx and vmmd as root"
	command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null ||
		fail "nginx is not installed (contrib/install-deps installs it)"
	[ -x "$FCGI" ] || fail "no $FCGI"
	[ -x "$WEBSOCKIFY" ] || fail "no $WEBSOCKIFY"
}

# start_portal: vmmd (group webkvm), webkvm.fcgi as PORTAL_UID, nginx on a
# free loopback port with a self-signed certificate. Sets URL, ADMIN_PASSWORD.
# PORTAL_ADDRESS and PORTAL_PORT choose nginx's address and port instead;
# VMMD_ARGS are more of vmmd's options; NGINX_ACCESS_LOG is nginx's access log
# (off for none); PORTAL_JS_ROOT serves Debian's front-end libraries from a copy of
# /usr/share/javascript (where a machine lacks the packages).
start_portal() {
	need_portal
	getent group "$PORTAL_GROUP" >/dev/null || groupadd --system "$PORTAL_GROUP"
	PORTAL_GID=$(getent group "$PORTAL_GROUP" | cut -d: -f3)
	chmod 755 "$PWD"
	# the test guest is a kernel the portal (not root) may name
	start_vmmd --group "$PORTAL_GROUP" --vmm "$VMM" --kernel-dir "$(dirname "$TESTGUEST")" ${VMMD_ARGS:-}
	trap cleanup_portal EXIT
	mkdir -p portal fcgi nginx-tmp
	# the socket's folder: the portal's, and only nginx's group (nogroup
	# here, as nginx runs as nobody) may enter it
	chown "$PORTAL_UID:$PORTAL_GID" portal
	chown "$PORTAL_UID:nogroup" fcgi
	chmod 700 portal
	chmod 750 fcgi
	ADMIN_PASSWORD=$(as_portal "$FCGI" --state-dir "$PWD/portal" --create-admin admin) ||
		fail "--create-admin failed: $ADMIN_PASSWORD"
	# exec: PORTAL_PID is webkvm.fcgi itself, not a shell around it
	(exec setpriv --reuid="$PORTAL_UID" --regid="$PORTAL_GID" --groups "$PORTAL_GID" -- \
		"$FCGI" --state-dir "$PWD/portal" --socket "$PWD/fcgi/fcgi.sock" \
		--templates "$SRCDIR/templates" --vmmd "$VMMD_SOCKET" --threads "${PORTAL_THREADS:-4}" \
		>>portal.log 2>&1) &
	PORTAL_PID=$!
	# the console proxy beside it, as the same user, on the socket nginx's /websockify passes to
	(exec setpriv --reuid="$PORTAL_UID" --regid="$PORTAL_GID" --groups "$PORTAL_GID" -- \
		"$WEBSOCKIFY" --state-dir "$PWD/portal" --listen "$PWD/fcgi/websockify.sock" \
		--vmmd "$VMMD_SOCKET" ${WEBSOCKIFY_CHECK_MS:+--check-interval "$WEBSOCKIFY_CHECK_MS"} \
		${WEBSOCKIFY_ARGS:-} >>websockify.log 2>&1) &
	WEBSOCKIFY_PID=$!
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -keyout tls.key -out tls.crt >/dev/null 2>&1 ||
		fail "openssl cannot make a certificate"
	local port i
	for i in 1 2 3 4 5; do
		port=${PORTAL_PORT:-$((20000 + RANDOM % 40000))}
		nginx_conf "$port" >nginx.conf
		/usr/sbin/nginx -c "$PWD/nginx.conf" -p "$PWD" >>nginx.log 2>&1 && break
		port=
	done
	[ -n "$port" ] || { cat nginx.log nginx-error.log 2>/dev/null; fail "nginx did not start"; }
	URL=https://localhost:$port
	HOSTPORT=localhost:$port
	for i in $(seq $(scaled 300)); do
		[ -S fcgi/fcgi.sock ] && [ -S fcgi/websockify.sock ] && return 0
		sleep 0.1
	done
	cat portal.log websockify.log
	fail "webkvm.fcgi did not come up"
}

as_portal() { setpriv --reuid="$PORTAL_UID" --regid="$PORTAL_GID" --groups "$PORTAL_GID" -- "$@"; }

nginx_conf() { # PORT
	cat <<END
daemon on;
worker_processes 1;
user nobody nogroup;
pid $PWD/nginx.pid;
error_log $PWD/nginx-error.log;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	access_log ${NGINX_ACCESS_LOG:-$PWD/nginx-access.log};
	client_body_temp_path $PWD/nginx-tmp/body;
	fastcgi_temp_path $PWD/nginx-tmp/fastcgi;
	proxy_temp_path $PWD/nginx-tmp/proxy;
	uwsgi_temp_path $PWD/nginx-tmp/uwsgi;
	scgi_temp_path $PWD/nginx-tmp/scgi;
$(sed -e "s|@LISTEN@|${PORTAL_ADDRESS:-127.0.0.1}:$1|; s|@CERT@|$PWD/tls.crt|; s|@KEY@|$PWD/tls.key|" \
	-e "s|@STATIC@|$SRCDIR/static|; s|@SOCKET@|$PWD/fcgi/fcgi.sock|" \
	-e "s|@WEBSOCKIFY@|$PWD/fcgi/websockify.sock|; s|@XTERM@|$BUILDDIR/lib/xterm|" \
	-e "s|/usr/share/javascript/|${PORTAL_JS_ROOT:-/usr/share/javascript}/|" \
	-e "s|/usr/share/novnc/|${PORTAL_NOVNC_ROOT:-/usr/share/novnc}/|" "$SRCDIR/contrib/nginx/webkvm.conf")
${NGINX_EXTRA:-}
}
END
}

# cleanup_portal: nginx, the portal and vmmd go; a report of the
# sanitizers (in the AddressSanitizer build: a leak, a bad access,
# undefined behaviour) in the portal's log fails the test.
cleanup_portal() {
	local i
	[ -f nginx.pid ] && kill -QUIT "$(cat nginx.pid)" 2>/dev/null || true
	if [ -n "${PORTAL_PID:-}" ] && kill -TERM "$PORTAL_PID" 2>/dev/null; then
		# it finishes what is in flight, then LeakSanitizer looks at what is left
		for i in $(seq 400); do
			[ -e "/proc/$PORTAL_PID" ] || break
			grep -q '^[0-9]* ([^)]*) Z' "/proc/$PORTAL_PID/stat" 2>/dev/null && break
			sleep 0.05
		done
	fi
	if [ -n "${WEBSOCKIFY_PID:-}" ] && kill -TERM "$WEBSOCKIFY_PID" 2>/dev/null; then
		for i in $(seq 400); do
			[ -e "/proc/$WEBSOCKIFY_PID" ] || break
			grep -q '^[0-9]* ([^)]*) Z' "/proc/$WEBSOCKIFY_PID/stat" 2>/dev/null && break
			sleep 0.05
		done
	fi
	cleanup_test
	for log in portal.log websockify.log; do
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' $log 2>/dev/null; then
			echo "FAILED: the sanitizers found this in ${log%.log}:"
			grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' $log | head -n 60
			exit 1
		fi
	done
}

# web [CURL-ARGS...] PATH: a request with the cookie jar JAR (default
# jar), the answer's body in body.html, its headers in headers.txt; prints
# the status.
web() {
	local jar=${JAR:-jar} path
	path=${*: -1}
	set -- "${@:1:$#-1}"
	curl -sk -o body.html -D headers.txt -w '%{http_code}' -b "$jar" -c "$jar" \
		--resolve "$HOSTPORT:127.0.0.1" "$@" "$URL$path"
}

# post PATH [FIELD=VALUE...]: a form POST from our own page, with this
# jar's CSRF token (from the last page, or else from a page that has one)
# and our Origin.
post() {
	local path=$1 f args=() token
	shift
	for f in "$@"; do args+=(--data-urlencode "$f"); done
	token=$(csrf)
	[ -n "$token" ] || token=$(csrf /account/password)
	[ -n "$token" ] || token=$(csrf /login)
	web -H "Origin: $URL" --data-urlencode "csrf=$token" "${args[@]}" "$path"
}

# The CSRF token of the last page (body.html) or, with a path, of that page.
csrf() {
	[ -n "${1:-}" ] && web "$1" >/dev/null
	sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' body.html | head -n1
}

# login NAME PASSWORD: log in with this jar; fails unless it gets in.
login() {
	local status
	web /login >/dev/null
	status=$(post /login "name=$1" "password=$2")
	[ "$status" = 303 ] || fail "login as $1 answered $status: $(grep -o 'alert-danger[^<]*<' body.html)"
}

# login_admin: log in as the setup's admin and replace its initial password by ADMIN_PASSWORD2.
ADMIN_PASSWORD2=correct-horse-battery-staple
login_admin() {
	login admin "$ADMIN_PASSWORD"
	web /account/password >/dev/null
	local status
	status=$(post /account/password "current=$ADMIN_PASSWORD" "new=$ADMIN_PASSWORD2" "repeat=$ADMIN_PASSWORD2")
	[ "$status" = 303 ] || fail "changing the initial password answered $status"
	ADMIN_PASSWORD=$ADMIN_PASSWORD2
}

# make_user NAME [admin]: an account with password NAME-password-123 (as the logged-in admin).
make_user() {
	local status
	web /users >/dev/null
	status=$(post /users "name=$1" "role=${2:-user}" "password=$1-password-123")
	[ "$status" = 303 ] || fail "creating the user $1 answered $status"
	# a refusal is a redirect too: the list must have the user
	web /users >/dev/null
	grep -q "href=\"/user/$1\"" body.html || fail "the user $1 was not made: $(grep -o 'alert-danger[^<]*<[^<]*' body.html)"
}

# flash_of PATH: the message the last redirect left, from the page it went
# to (with this jar), unescaped.
flash_of() {
	web "$1" >/dev/null
	grep -o 'id="flash[^>]*>[^<]*' body.html | sed "s/.*>//; s/&#39;/'/g; s/&quot;/\"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\\&/g"
}

header_of() { tr -d '\r' <headers.txt | sed -n "s/^$1: //Ip" | head -n1; }

uuid_of() { ctl --json dominfo "$1" | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p'; }

# set_rights USER VM [RIGHT...]: as the admin (jar), USER may see VM and do RIGHTs.
set_rights() {
	local user=$1 vm=$2 uuid r args=()
	shift 2
	uuid=$(uuid_of "$vm")
	args=("vm=$uuid" "view.$uuid=on")
	for r in "$@"; do args+=("$r.$uuid=on"); done
	web "/user/$user" >/dev/null
	[ "$(post "/user/$user/rights" "${args[@]}")" = 303 ] || fail "setting the rights of $user failed"
}

# need_browser: chromium, and playwright-core from npm in BUILDDIR/tests/browser
# with the scripts of tests/browser beside it.
need_browser() {
	[ -x /usr/bin/chromium ] || fail "chromium is not installed (contrib/install-deps installs it)"
	command -v npm >/dev/null || fail "npm is not installed"
	local dir=$BUILDDIR/tests/browser
	if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
		mkdir -p "$dir" && cp "$SRCDIR/tests/browser/package.json" "$dir/" &&
			(cd "$dir" && npm install --no-audit --no-fund --silent >npm.log 2>&1) ||
			fail "npm cannot install playwright-core (log in $dir/npm.log)"
	fi
	cp "$SRCDIR"/tests/browser/*.mjs "$dir/"
}

# a started pool p in the test's folder, with the test guest as a kernel volume
setup_pool() {
	mkdir -p pool
	cp "$TESTGUEST" pool/guest.bzImage
	printf "<pool type='dir'><name>p</name><target><path>%s</path></target></pool>" "$PWD/pool" >p.xml
	ctl pool-define p.xml >/dev/null
	ctl pool-start p >/dev/null
}

flavor_id() { # NAME: the id the create page offers for it
	web /create >/dev/null
	sed -n "s/.*<option value=\"\([0-9]*\)\">$1: .*/\1/p" body.html | head -n1
}

# make_token JAR NAME [DAYS]: a token made on JAR's tokens page; its text on stdout.
make_token() {
	local jar=$1 name=$2 days=${3:-} status
	JAR=$jar web /account/tokens >/dev/null
	status=$(JAR=$jar post /account/tokens "name=$name" "days=$days")
	[ "$status" = 200 ] || fail "making the token $name answered $status"
	grep -o 'id="new-token-value">wkt_[0-9a-f]*' body.html | sed 's/.*>//'
}

# api TOKEN METHOD PATH [FIELD=VALUE...]: the answer's body in body.html; prints the status.
api() {
	local token=$1 method=$2 path=$3 args=() f
	shift 3
	for f in "$@"; do args+=(--data-urlencode "$f"); done
	if [ "$method" = POST ]; then
		curl -sk -o body.html -D headers.txt -w '%{http_code}' -H "Authorization: Bearer $token" \
			--resolve "$HOSTPORT:127.0.0.1" -X POST "${args[@]}" "$URL/api$path"
	else
		curl -sk -o body.html -D headers.txt -w '%{http_code}' -H "Authorization: Bearer $token" \
			--resolve "$HOSTPORT:127.0.0.1" "$URL/api$path"
	fi
}

json() { python3 -c "import json,sys; d=json.load(open('body.html')); print(eval(sys.argv[1]))" "$1"; }
