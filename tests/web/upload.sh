# Uploading files into a storage pool: the body goes from nginx to the
# portal as it arrives and from there, as an open file, to vmmd, which
# copies it into the pool under a name of its rules. What arrives is what
# was sent; a refused, cut or failed upload leaves no file anywhere.

TEST_SECONDS=300

# upload PATH-IN-POOL-URL FILE [CURL-ARGS...]: as the admin (jar), the
# file's bytes with the page's token; prints the status.
upload() {
	local url=$1 file=$2 token
	shift 2
	token=$(csrf /pool/p)
	web -H "Origin: $URL" -H "X-CSRF-Token: $token" -H 'Content-Type: application/octet-stream' \
		-X POST -T "$file" "$@" "$url"
}

# everything the upload could have left: the pool, the portal's state
# folder (its nameless files never have a name), nginx's temporary files
leftovers() {
	find pool portal nginx-tmp/body -mindepth 1 2>/dev/null |
		grep -v -e '^portal/portal\.db' -e '\.lock$' -e '^pool/guest\.bzImage$' || true
}

test_an_upload_arrives_intact_and_sparse_images_stay_sparse() {
	start_portal
	setup_pool
	login_admin
	truncate -s 2G big.raw
	printf 'first' | dd of=big.raw conv=notrunc status=none
	printf 'middle' | dd of=big.raw bs=1 seek=1000000007 conv=notrunc status=none
	printf 'last' | dd of=big.raw bs=1 seek=$((2 * 1024 * 1024 * 1024 - 4)) conv=notrunc status=none
	[ "$(upload "/pool/p/upload?name=big.raw" big.raw)" = 303 ] || fail "the upload answered $(cat body.html)"
	flash_of /pool/p | grep -q "big.raw was uploaded" || fail "no message: $(flash_of /pool/p)"
	cmp big.raw pool/big.raw || fail "the image changed on its way"
	# three blocks hold data (of 4 KiB here; up to 64 KiB on other file
	# systems); the rest is holes
	[ "$(du -k pool/big.raw | cut -f1)" -le 256 ] || fail "the sparse image takes $(du -h pool/big.raw | cut -f1)"
	# zeros here and there between data (4 KiB of each, in turn) are
	# written with it: no hole, and no extent, per block of zeros
	python3 -c 'import os, sys; sys.stdout.buffer.write(b"".join(os.urandom(4096) + bytes(4096) for _ in range(1024)))' >mixed.raw
	[ "$(upload "/pool/p/upload?name=mixed.raw" mixed.raw)" = 303 ] || fail "the mixed upload answered $(cat body.html)"
	cmp mixed.raw pool/mixed.raw || fail "the mixed image changed on its way"
	[ "$(du -k pool/mixed.raw | cut -f1)" -ge 8000 ] || fail "short runs of zeros became holes: $(du -k pool/mixed.raw | cut -f1) KiB of 8192"

	qemu-img create -q -f qcow2 q.qcow2 1G
	qemu-io -f qcow2 -c 'write -P 0xab 0 3M' -c 'write -P 0x17 512M 64k' q.qcow2 >/dev/null
	[ "$(upload "/pool/p/upload?name=q.qcow2" q.qcow2)" = 303 ] || fail "the qcow2 upload answered $(cat body.html)"
	qemu-img compare -q q.qcow2 pool/q.qcow2 || fail "the qcow2 changed on its way"
	web /pool/p >/dev/null
	grep -A2 'data-volume="q.qcow2"' body.html | grep -q '<td>qcow2</td>' || fail "the pool does not list it as qcow2"
	web /audit >/dev/null
	grep -q '<td>upload volume</td><td>p/q.qcow2</td><td>ok</td>' body.html || fail "not audited"
	[ -z "$(leftovers | grep -v -e '^pool/big.raw$' -e '^pool/q.qcow2$' -e '^pool/mixed.raw$')" ] || fail "left: $(leftovers)"
}

# A listing of the pool while an upload is under way sees a part of the
# file (none of it, here) and marks it raw at first sight; the whole
# upload is then marked as what its header says, a qcow2.
test_an_upload_listed_while_it_comes_is_what_its_header_says() {
	start_portal
	setup_pool
	login_admin
	local pid mark
	qemu-img create -q -f qcow2 q.qcow2 1G
	qemu-io -f qcow2 -c 'write -P 0xab 0 3M' q.qcow2 >/dev/null
	# about 35 s at this rate: time enough for a second login and a listing
	upload "/pool/p/upload?name=q.qcow2" q.qcow2 --limit-rate 100k >upload.status &
	pid=$!
	for _ in $(seq 600); do [ -e pool/q.qcow2 ] && break; sleep 0.05; done
	[ -e pool/q.qcow2 ] || fail "the upload did not reach the pool in 30 s"
	JAR=jar2 login admin "$ADMIN_PASSWORD" >/dev/null
	JAR=jar2 web /pool/p >/dev/null
	mark=$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.webkvm.format").decode())' pool/q.qcow2)
	[ "$mark" = raw ] || fail "the listing during the upload marked it '$mark', not raw (did the upload end first?)"
	wait "$pid"
	[ "$(cat upload.status)" = 303 ] || fail "the upload answered $(cat body.html)"
	qemu-img compare -q q.qcow2 pool/q.qcow2 || fail "the qcow2 changed on its way"
	web /pool/p >/dev/null
	grep -A2 'data-volume="q.qcow2"' body.html | grep -q '<td>qcow2</td>' ||
		fail "the pool lists it as: $(grep -A2 'data-volume="q.qcow2"' body.html)"
}

test_an_upload_goes_to_the_disk_past_the_page_cache() {
	start_portal
	setup_pool
	login_admin
	local direct=0 res
	command -v fincore >/dev/null || fail "no fincore (package util-linux-extra)"
	# vmmd writes past the cache on ext4, XFS and btrfs; elsewhere (tmpfs,
	# NFS) the upload only has to arrive
	case $(stat -f -c %T pool) in ext2/ext3 | xfs | btrfs) direct=1 ;; esac
	head -c 32M /dev/urandom >r.bin
	# an odd tail: the last part that is no whole block goes through the
	# cache; vmmd reads the header after (some pages at most)
	printf 'tail' >>r.bin
	[ "$(upload "/pool/p/upload?name=r.bin" r.bin)" = 303 ] || fail "the upload answered $(cat body.html)"
	res=$(fincore --bytes --noheadings --output RES pool/r.bin)
	if [ $direct = 1 ]; then
		[ "$res" -le 262144 ] || fail "$res bytes of the uploaded file stay in the page cache"
	else
		echo "the pool's file system ($(stat -f -c %T pool)) takes no direct writes from vmmd: only the bytes are checked ($res cached)"
	fi
	cmp r.bin pool/r.bin || fail "the file changed on its way"
}

test_an_upload_through_the_api_and_from_the_page_script() {
	start_portal
	setup_pool
	login_admin
	local t
	t=$(make_token jar t)
	head -c 3M /dev/urandom >r.bin
	[ "$(curl -sk -o body.html -w '%{http_code}' -H "Authorization: Bearer $t" --resolve "$HOSTPORT:127.0.0.1" \
		-H 'Content-Type: application/octet-stream' -X POST -T r.bin "$URL/api/pool/p/upload?name=r.bin")" = 200 ] ||
		fail "the API upload answered $(cat body.html)"
	grep -q '"ok": *true' body.html || fail "the API's answer: $(cat body.html)"
	cmp r.bin pool/r.bin || fail "the file changed on its way"
	# the page's script: where to go, and the message waits there
	[ "$(upload "/pool/p/upload?name=s.bin" r.bin -H 'X-Requested-With: upload')" = 200 ] || fail "the script's upload"
	[ "$(json "d['location']")" = /pool/p ] || fail "the script is not told where to go: $(cat body.html)"
	flash_of /pool/p | grep -q "s.bin was uploaded" || fail "the message did not wait for the page"
	# a user, or a request without the page's token or from elsewhere, uploads nothing
	make_user u
	JAR=u login u u-password-123
	[ "$(JAR=u web -H "Origin: $URL" -H "X-CSRF-Token: $(JAR=u csrf /instances)" \
		-H 'Content-Type: application/octet-stream' -X POST -T r.bin "/pool/p/upload?name=u.bin")" = 403 ] ||
		fail "a user could upload"
	[ "$(web -H "Origin: $URL" -H 'Content-Type: application/octet-stream' -X POST -T r.bin "/pool/p/upload?name=u.bin")" = 403 ] ||
		fail "an upload without the token was taken"
	[ "$(web -H "Origin: https://evil.example" -H "X-CSRF-Token: $(csrf /pool/p)" -H 'Content-Type: application/octet-stream' \
		-X POST -T r.bin "/pool/p/upload?name=u.bin")" = 403 ] || fail "an upload from another site was taken"
	# the token in a form field does not open the upload; a file's bytes open no form route
	[ "$(web -H "Origin: $URL" --data-urlencode "csrf=$(csrf /pool/p)" "/pool/p/upload?name=u.bin")" = 403 ] ||
		fail "a form reached the upload"
	head -c 1k /dev/urandom >small.bin
	[ "$(web -H "Origin: $URL" -H "X-CSRF-Token: $(csrf /pool/p)" -H 'Content-Type: application/octet-stream' \
		-X POST -T small.bin /pool/p/volume/create)" = 403 ] || fail "a file reached a form's route"
	[ ! -e pool/u.bin ] || fail "a refused upload left its file"
}

test_bad_names_and_qcow2_images_reading_other_files_are_refused() {
	start_portal
	setup_pool
	login_admin
	head -c 1M /dev/urandom >data.bin
	local before name status
	before=$(ls -A pool)
	for name in 'a%2Fb' '..' '-x' 'a%00b' 'a%0Ab' '.hidden' '' 'guest.bzImage'; do
		# refused by the portal's rule for names, or as an address it does not read (NUL)
		status=$(upload "/pool/p/upload?name=$name" data.bin)
		[ "$status" = 400 ] && continue
		flash_of /pool/p | grep -q -e "A volume's name has" -e "has a volume named" ||
			fail "the name '$name' was not refused ($status)"
	done
	cmp -s "$TESTGUEST" pool/guest.bzImage || fail "an upload replaced a volume"

	qemu-img create -q -f qcow2 -b /etc/shadow -F raw shadow.qcow2 1G
	upload "/pool/p/upload?name=shadow.qcow2" shadow.qcow2 >/dev/null
	flash_of /pool/p | grep -q "backing file /etc/shadow is not a volume of its pool" || fail "a backing /etc/shadow was taken"
	qemu-img create -q -f qcow2 -u -b ../../../../etc/shadow -F raw up.qcow2 1G
	upload "/pool/p/upload?name=up.qcow2" up.qcow2 >/dev/null
	flash_of /pool/p | grep -q "is not a volume of its pool" || fail "a relative backing file out of the pool was taken"
	qemu-img create -q -f qcow2 -o data_file="$PWD/outside.raw" ext.qcow2 1M
	upload "/pool/p/upload?name=ext.qcow2" ext.qcow2 >/dev/null
	flash_of /pool/p | grep -q "keeps its data in another file" || fail "an external data file was taken: $(flash_of /pool/p)"
	[ "$(ls -A pool)" = "$before" ] || fail "refused uploads left files: $(ls -A pool)"
	# a backing file in the pool is the pool's own
	qemu-img create -q -f qcow2 -u -b guest.bzImage -F raw over.qcow2 1G
	upload "/pool/p/upload?name=over.qcow2" over.qcow2 >/dev/null
	[ -e pool/over.qcow2 ] || fail "an overlay of a volume of the pool was refused: $(flash_of /pool/p)"
}

test_a_cut_upload_and_a_full_disk_leave_no_file() {
	start_portal
	setup_pool
	login_admin
	local token
	token=$(csrf /pool/p)
	# 10 MiB of the 100 promised, then the connection goes
	python3 - "$HOSTPORT" "$(awk '$6 == "__Host-webkvm" {print $7}' jar)" "$token" "$URL" <<'PY'
import socket, ssl, sys, time
hostport, cookie, token, origin = sys.argv[1:5]
host, port = hostport.rsplit(':', 1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(port))), server_hostname=host)
s.sendall((f"POST /pool/p/upload?name=cut.raw HTTP/1.1\r\nHost: {hostport}\r\n"
           f"Cookie: __Host-webkvm={cookie}\r\nOrigin: {origin}\r\nX-CSRF-Token: {token}\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: 104857600\r\n\r\n").encode())
chunk = bytes(range(256)) * 4096
for _ in range(10):
    s.sendall(chunk)
time.sleep(0.5)
s.close()
PY
	local i
	for i in $(seq 50); do
		sqlite3 portal/portal.db "SELECT result FROM audit WHERE action = 'upload volume'" | grep -q . && break
		sleep 0.2
	done
	sqlite3 portal/portal.db "SELECT result FROM audit WHERE action = 'upload volume'" | grep -q "ended after" ||
		fail "the cut upload is not in the audit log: $(sqlite3 portal/portal.db 'SELECT * FROM audit')"
	[ ! -e pool/cut.raw ] || fail "the cut upload left its file"
	[ -z "$(leftovers)" ] || fail "the cut upload left $(leftovers)"

	# a pool on a file system of 32 MiB, and 48 MiB that do not fit
	mkdir small
	mount -t tmpfs -o size=32m tmpfs small
	TEST_MOUNTS=$PWD/small
	printf "<pool type='dir'><name>small</name><target><path>%s</path></target></pool>" "$PWD/small" >small.xml
	ctl pool-define small.xml >/dev/null
	ctl pool-start small >/dev/null
	head -c 48M /dev/urandom >big.bin
	token=$(csrf /pool/small)
	web -H "Origin: $URL" -H "X-CSRF-Token: $token" -H 'Content-Type: application/octet-stream' \
		-X POST -T big.bin "/pool/small/upload?name=big.bin" >/dev/null
	flash_of /pool/small | grep -q "No space left" || fail "a full disk was not reported: $(flash_of /pool/small)"
	[ -z "$(ls -A small)" ] || fail "the failed copy left $(ls -A small)"
}
