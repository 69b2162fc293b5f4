# What users and VMs can name reaches the pages escaped, and SQL
# metacharacters are data, never code.

HOSTILE='<script>alert(1)</script>"'"'"'&x'

test_a_vm_title_and_description_with_markup_come_out_escaped() {
	start_portal
	domain_xml evil echo | sed "s|<name>evil</name>|<name>evil</name><title>\&lt;script\&gt;alert(1)\&lt;/script\&gt;\&quot;'\&amp;x</title><description>\&lt;script\&gt;alert(1)\&lt;/script\&gt;\&quot;'\&amp;x</description>|" >evil.xml
	ctl define evil.xml >/dev/null
	login_admin
	local p
	for p in /instances /instance/evil; do
		[ "$(web "$p")" = 200 ] || fail "$p answered $(web "$p")"
		grep -q '<script>alert' body.html && fail "$p has the raw script"
		grep -q '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x' body.html ||
			fail "$p does not show the escaped title: $(grep -o '.\{40\}alert.\{40\}' body.html | head -3)"
	done
	# the page shows the title and the description (in the settings), both escaped
	[ "$(grep -o '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x' body.html | wc -l)" -ge 3 ] ||
		fail "the description does not come out escaped: $(grep -o '.\{40\}alert.\{40\}' body.html)"
}

test_a_search_is_reflected_escaped() {
	start_portal
	login_admin
	web "/instances?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E" >/dev/null
	grep -q '"><script>' body.html && fail "the search came back raw"
	grep -q 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' body.html ||
		fail "the search is not in the box, escaped"
}

test_user_names_with_markup_or_sql_are_refused() {
	start_portal
	login_admin
	local name
	for name in "$HOSTILE" "x' OR '1'='1" "a b" "admin;--" ""; do
		post /users "name=$name" role=user password=some-long-password >/dev/null
	done
	web /users >/dev/null
	[ "$(grep -c 'data-user=' body.html)" = 1 ] || fail "a hostile name became a user"
	web /audit >/dev/null
	grep -q '<script>alert' body.html && fail "the audit log shows the raw script"
	return 0
}

test_sql_metacharacters_in_fields_change_nothing() {
	start_portal
	login_admin
	make_user alice
	JAR=x web /login >/dev/null
	[ "$(JAR=x post /login "name=alice' --" password=x)" = 401 ] || fail "an SQL login went in"
	[ "$(JAR=x post /login "name=' OR '1'='1" "password=' OR '1'='1")" = 401 ] || fail "an SQL login went in"
	[ "$(web "/audit?user=%27%20OR%201%3D1%20--")" = 200 ] || fail "the audit filter failed"
	grep -q '<td>login</td>' body.html && fail "the audit filter matched everything"
	web /user/alice >/dev/null
	[ "$(post /user/alice/rights "vm=x' OR 1=1 --")" = 303 ] || fail "the rights form answered oddly"
	web /user/alice >/dev/null
	grep -q 'The form named a VM that is not a uuid' body.html || fail "no refusal shown"
	# a flavor's name is refused; a VM named in an address is data
	web /flavors >/dev/null
	post /flavors "name=f'); DROP TABLE users; --" vcpus=1 memory=64 disk=1 >/dev/null
	web /flavors >/dev/null
	grep -q 'DROP TABLE' body.html && fail "the flavor's name was taken"
	web /instances >/dev/null
	local status
	status=$(post "/instance/x'%20OR%20'1'%3D'1/start")
	[ "$status" = 403 ] || [ "$status" = 404 ] || fail "a VM named with SQL answered $status"
	web "/audit?object=x'%20OR%20'1'%3D'1" >/dev/null
	grep -q "<td>start</td><td>x&#39; OR &#39;1&#39;=&#39;1</td>" body.html ||
		fail "the refusal is not in the log as sent: $(grep -o '<td>start</td>.\{60\}' body.html)"
	grep -q '<td>login</td>' body.html && fail "the object filter matched everything"
	web /users >/dev/null
	[ "$(grep -c 'data-user=' body.html)" = 2 ] || fail "the users changed"
}
