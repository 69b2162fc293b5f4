# The audit log's page (admin): newest first, 100 a page, filtered by
# user and by VM, the filters kept from page to page.

test_audit_log_pages_and_filters_by_user_and_vm() {
	start_portal
	define a1 echo
	define a2 echo
	login_admin
	make_user alice
	local i token
	token=$(csrf /instance/a1)
	# 110 changes to a1, one to a2
	for i in $(seq 110); do
		web -H "Origin: $URL" --data-urlencode "csrf=$token" --data-urlencode enable=$([ $((i % 2)) = 1 ] && echo on || echo off) \
			/instance/a1/autostart >/dev/null
	done
	post /instance/a2/autostart enable=on >/dev/null

	web /audit >/dev/null
	[ "$(grep -c '<td>autostart</td>' body.html)" = 100 ] || fail "the first page has $(grep -c '<td>autostart</td>' body.html) rows, not 100"
	grep -o '<td>autostart</td><td>a[12]</td>' body.html | head -n1 | grep -q a2 || fail "the newest (a2) is not first"
	grep -q 'name="page" value="2"' body.html || fail "no way to the older page"

	web '/audit?object=a1&page=2' >/dev/null
	[ "$(grep -c '<td>autostart</td><td>a1</td>' body.html)" = 10 ] ||
		fail "page 2 for a1 has $(grep -c '<td>autostart</td><td>a1</td>' body.html) rows, not 10"
	grep -q '<td>a2</td>' body.html && fail "the filter for a1 shows a2"
	grep -q 'name="object" value="a1"' body.html || fail "the filter is not kept for the next page"
	grep -q 'name="page" value="1"' body.html || fail "no way back to the newer page"

	web '/audit?object=a2' >/dev/null
	[ "$(grep -c '<td>autostart</td><td>a2</td>' body.html)" = 1 ] && ! grep -q '<td>a1</td>' body.html ||
		fail "the filter for a2 is wrong"
	web '/audit?user=alice' >/dev/null
	grep -q '<td>autostart</td>' body.html && fail "alice's filter shows the admin's changes"
	web '/audit?user=admin&object=alice' >/dev/null
	grep -q '<td>create user</td><td>alice</td>' body.html || fail "the admin's filter lacks the user made"
	web '/audit?user=admin&object=a2' >/dev/null
	[ "$(grep -c '<td>autostart</td><td>a2</td>' body.html)" = 1 ] || fail "user and VM together"
	[ "$(web '/audit?page=0')" = 400 ] || fail "page 0 was taken"
	[ "$(web '/audit?page=x')" = 400 ] || fail "page x was taken"
}
