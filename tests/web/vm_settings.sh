# Changing a VM from its page: settings, autostart, the XML (admins),
# clone (admins) and delete, each landing in vmmd's definition.

test_settings_change_the_definition() {
	start_portal
	define s1 echo
	login_admin
	web /instance/s1 >/dev/null
	[ "$(post /instance/s1/settings vcpus=2 memory=48 'title=A <b>bold</b> title' \
		"description=line one
line two")" = 303 ] || fail "the settings answered $(cat body.html)"
	ctl dumpxml s1 >s1.xml
	grep -q '<vcpu[^>]*>2</vcpu>' s1.xml || fail "vcpus not set: $(cat s1.xml)"
	grep -q "<memory unit=.MiB.>48</memory>" s1.xml ||
		fail "memory not set: $(grep memory s1.xml)"
	grep -q '<title>A &lt;b&gt;bold&lt;/b&gt; title</title>' s1.xml || fail "title not set: $(grep title s1.xml)"
	grep -q 'line two' s1.xml || fail "description not set"
	web /instance/s1 >/dev/null
	grep -q 'A &lt;b&gt;bold&lt;/b&gt; title' body.html || fail "the page does not show the title escaped"
}

test_bad_settings_are_refused_and_change_nothing() {
	start_portal
	define s1 echo
	login_admin
	ctl dumpxml s1 >before.xml
	web /instance/s1 >/dev/null
	local i
	for i in 1 2 3 4; do
		case $i in
		1) post /instance/s1/settings vcpus=0 memory=48 >/dev/null ;;
		2) post /instance/s1/settings vcpus=2 memory=8 >/dev/null ;;
		3) post /instance/s1/settings vcpus=x memory=48 >/dev/null ;;
		4) post /instance/s1/settings vcpus=2 memory=48 "title=a
b" >/dev/null ;;
		esac
		web /instance/s1 >/dev/null
		grep -q 'alert-danger' body.html || fail "bad settings $i gave no error"
	done
	ctl dumpxml s1 >after.xml
	cmp -s before.xml after.xml || fail "the definition changed: $(diff before.xml after.xml)"
}

test_autostart_turns_on_and_off() {
	start_portal
	define s1 echo
	login_admin
	web /instance/s1 >/dev/null
	post /instance/s1/autostart enable=on >/dev/null
	ctl dominfo s1 | grep -q '^Autostart: *enable' || fail "autostart not on: $(ctl dominfo s1)"
	post /instance/s1/autostart >/dev/null
	ctl dominfo s1 | grep -q '^Autostart: *disable' || fail "autostart not off: $(ctl dominfo s1)"
}

test_admin_edits_the_xml_but_not_the_name() {
	start_portal
	define s1 echo
	login_admin
	ctl dumpxml s1 | sed 's|</name>|</name><title>from xml</title>|' >new.xml
	web /instance/s1 >/dev/null
	[ "$(web -H "Origin: $URL" --data-urlencode "csrf=$(csrf)" --data-urlencode "xml@new.xml" /instance/s1/xml)" = 303 ] ||
		fail "saving the XML failed"
	ctl dumpxml s1 | grep -q '<title>from xml</title>' || fail "the XML was not saved"
	sed 's|<name>s1</name>|<name>s2</name>|' new.xml >renamed.xml
	web /instance/s1 >/dev/null
	web -H "Origin: $URL" --data-urlencode "csrf=$(csrf)" --data-urlencode "xml@renamed.xml" /instance/s1/xml >/dev/null
	ctl list --all | grep -q ' s2 ' && fail "a renamed definition made a new VM"
	web /instance/s1 >/dev/null
	grep -q 'must keep the name s1' body.html || fail "no refusal shown"
}

test_clone_and_delete() {
	start_portal
	define s1 echo
	login_admin
	web /instance/s1 >/dev/null
	[ "$(post /instance/s1/clone new_name=s1-copy)" = 303 ] || fail "clone answered $(cat body.html)"
	[ "$(header_of Location)" = /instance/s1-copy ] || fail "clone went to $(header_of Location)"
	ctl list --all | grep -q ' s1-copy ' || fail "no clone"
	web /instance/s1 >/dev/null
	post /instance/s1/clone 'new_name=../etc' >/dev/null
	web /instance/s1 >/dev/null
	grep -q 'alert-danger' body.html || fail "a bad clone name gave no error"
	[ "$(post /instance/s1-copy/delete)" = 303 ] || fail "delete answered $(cat body.html)"
	ctl list --all | grep -q ' s1-copy ' && fail "the clone is still there"
	[ "$(header_of Location)" = /instances ] || fail "delete went to $(header_of Location)"
}
