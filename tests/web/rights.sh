# Authorization: a user sees only the VMs an admin gave them, and does to
# each only what the admin allowed; every refusal is 403 and changes
# nothing. An admin sees and does everything.

# two VMs, a user alice who may see vm-a (and, with RIGHTS, more on it)
setup_alice() { # [power] [change] [remove] [console]
	start_portal
	echo "<network><name>lan</name><bridge name='wklan0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>" >lan.xml
	ctl net-define lan.xml >/dev/null || fail "cannot define a network"
	define vm-a echo "<interface type='network'><mac address='52:54:00:aa:00:0a'/><source network='lan'/></interface>"
	define vm-b echo "<interface type='network'><mac address='52:54:00:aa:00:0b'/><source network='lan'/></interface>"
	login_admin
	make_user alice
	make_user bob
	set_rights alice vm-a "$@"
}

test_a_user_sees_only_the_vms_given_to_them() {
	setup_alice
	JAR=alice login alice alice-password-123
	[ "$(JAR=alice web /instances)" = 200 ] || fail "alice cannot open the list"
	grep -q 'data-vm="vm-a"' body.html || fail "alice does not see vm-a"
	grep -q 'vm-b' body.html && fail "alice sees vm-b on the list"
	[ "$(JAR=alice web /instances.json)" = 200 ] || fail "alice cannot get the list's JSON"
	grep -q '"vm-a"' body.html || fail "vm-a is missing from the JSON"
	grep -q 'vm-b' body.html && fail "vm-b is in alice's JSON"
	[ "$(JAR=alice web /instance/vm-a)" = 200 ] || fail "alice cannot open vm-a"
	local p status method pattern who state need want
	# every page and JSON on one VM, from the portal's route table (a
	# second {} is a console's kind); she may see vm-a, and no more
	while read -r method pattern who state need; do
		[ "$method" = GET ] && [[ $pattern == /instance/* ]] || continue
		for p in "${pattern/\{\}/vm-b}" "${pattern/\{\}/no-such-vm}"; do
			p=${p//\{\}/serial}
			status=$(JAR=alice web "$p")
			[ "$status" = 403 ] || fail "alice got $status for $p"
		done
		p=${pattern/\{\}/vm-a}
		p=${p//\{\}/serial}
		want=200
		[ "$need" = see ] || want=403
		status=$(JAR=alice web "$p")
		[ "$status" = "$want" ] || fail "alice got $status for her $p, not $want"
	done < <("$FCGI" --routes)
	# a VM that does not exist and one she may not see answer alike
	JAR=alice web /instance/vm-b >/dev/null
	a=$(grep -o 'id="error-message">[^<]*' body.html | sed 's/vm-b/NAME/')
	JAR=alice web /instance/no-such-vm >/dev/null
	b=$(grep -o 'id="error-message">[^<]*' body.html | sed 's/no-such-vm/NAME/')
	[ "$a" = "$b" ] || fail "the answers differ: '$a' and '$b'"
	JAR=bob login bob bob-password-123
	JAR=bob web /instances >/dev/null
	grep -q 'data-vm=' body.html && fail "bob sees a VM"
	return 0
}

# The fields a route would act on, so that a missing check would show as a change.
route_fields() { # PATH
	case $1 in
	*/settings) echo "vcpus=3 memory=48 title=stolen description=stolen" ;;
	*/autostart) echo "enable=on" ;;
	*/clone) echo "new_name=stolen" ;;
	*/delete) echo "remove_storage=on" ;;
	*/xml) echo "xml@vm.xml" ;;
	*/interface/attach) echo "on=network:lan" ;;
	*/vm-b/interface/*) echo "mac=52:54:00:aa:00:0b state=down" ;;
	*/interface/*) echo "mac=52:54:00:aa:00:0a state=down" ;;
	/users) echo "name=stolen role=admin password=stolen-password-1" ;;
	/networks) echo "name=stolen mode=isolated address=10.99.0.1/24" ;;
	/network/*/autostart) echo "enable=on" ;;
	/user/*/password) echo "password=stolen-password-1" ;;
	/user/*/rights) echo "vm=$(uuid_of vm-b) view.$(uuid_of vm-b)=on power.$(uuid_of vm-b)=on" ;;
	/user/*) echo "role=admin" ;;
	esac
}

# alice_posts JAR VM RIGHT: POST every route on one VM that needs another
# right than RIGHT (and than seeing it); each must be 403.
alice_posts() {
	local vm=$2 right=$3 method pattern who state need path status token f args
	token=$(JAR=$1 csrf /instances)
	while read -r method pattern who state need; do
		[ "$method" = POST ] && [[ $pattern == /instance/* ]] || continue
		[ "$need" = "$right" ] && continue
		path=${pattern/\{\}/$vm}
		path=${path//\{\}/serial}
		args=()
		for f in $(route_fields "$path"); do args+=(--data-urlencode "$f"); done
		status=$(JAR=$1 web -H "Origin: $URL" --data-urlencode "csrf=$token" "${args[@]}" "$path")
		[ "$status" = 403 ] || fail "alice (right: $right) got $status for POST $path"
		echo "$path" >>walked
	done < <("$FCGI" --routes)
}

# Every state-changing route, for each right alice may lack, on her VM and
# on one she may not see, and every admin route: 403, nothing changed, and
# each refusal audited. The routes come from the portal's own table, so a
# new route is walked without this test changing.
test_every_state_changing_route_is_refused_without_its_right() {
	setup_alice
	ctl dumpxml vm-a | sed 's|</name>|</name><title>stolen</title>|' >vm.xml
	JAR=alice login alice alice-password-123
	local before after right method pattern who state need path status token f args
	before=$(ctl list --all | sort; ctl dumpxml vm-a; ctl dumpxml vm-b; ctl dominfo vm-a
		ctl net-list --all; ctl net-info lan)
	for right in see power change remove console; do
		[ "$right" = see ] || set_rights alice vm-a "$right"
		alice_posts alice vm-a "$right"
		alice_posts alice vm-b none
	done
	token=$(JAR=alice csrf /instances)
	while read -r method pattern who state need; do
		# alice may not make VMs either
		[ "$who" = admin ] || [ "$who" = creator ] || continue
		path=${pattern/\{\}/bob}
		[[ $pattern == /network/* ]] && path=${pattern/\{\}/lan}
		if [ "$method" = GET ]; then
			status=$(JAR=alice web "$path")
		else
			args=()
			for f in $(route_fields "$path"); do args+=(--data-urlencode "$f"); done
			status=$(JAR=alice web -H "Origin: $URL" --data-urlencode "csrf=$token" "${args[@]}" "$path")
		fi
		[ "$status" = 403 ] || fail "alice got $status for the admin's $method $path"
		[ "$method" = POST ] && echo "$path" >>walked
	done < <("$FCGI" --routes)
	after=$(ctl list --all | sort; ctl dumpxml vm-a; ctl dumpxml vm-b; ctl dominfo vm-a
		ctl net-list --all; ctl net-info lan)
	[ "$before" = "$after" ] || fail "the VMs changed: $(diff <(echo "$before") <(echo "$after"))"
	JAR=bob login bob bob-password-123 # bob's password still works
	web /users >/dev/null
	grep -q 'data-user="stolen"' body.html && fail "a user was created"
	grep -A2 'data-user="alice"' body.html | grep -q '>user<' || fail "alice is no longer a plain user"
	web "/audit?user=alice" >/dev/null
	[ "$(grep -c '<td>refused</td>' body.html)" -ge 90 ] ||
		fail "only $(grep -c '<td>refused</td>' body.html) refusals are in the audit log's first page"
	[ "$(sort -u walked | wc -l)" -ge 20 ] || fail "only $(sort -u walked | wc -l) routes were walked"
}

test_a_right_allows_exactly_its_actions() {
	setup_alice power
	JAR=alice login alice alice-password-123
	local status
	status=$(JAR=alice post /instance/vm-a/start)
	[ "$status" = 303 ] || fail "alice's start with the power right answered $status"
	[ "$(JAR=alice header_of Location)" = /instance/vm-a ] || fail "start went to $(header_of Location)"
	# it got to vmmd: started where KVM is, or refused with vmmd's reason
	JAR=alice web /instance/vm-a >/dev/null
	grep -q 'id="flash">vm-a' body.html || fail "no message about the start: $(grep -o 'alert[^<]*<' body.html)"
	status=$(JAR=alice post /instance/vm-b/start)
	[ "$status" = 403 ] || fail "alice's start of vm-b answered $status"
	[ "$(state_of vm-b)" = "shut off" ] || fail "vm-b changed"
}

test_rights_belong_to_the_vm_not_its_name() {
	setup_alice power
	ctl undefine vm-a >/dev/null
	define vm-a echo
	JAR=alice login alice alice-password-123
	[ "$(JAR=alice web /instance/vm-a)" = 403 ] || fail "a new vm-a inherited alice's rights"
}

test_a_disabled_user_is_logged_out_and_cannot_log_in() {
	setup_alice
	JAR=alice login alice alice-password-123
	web /user/alice >/dev/null
	[ "$(post /user/alice role=user disabled=on)" = 303 ] || fail "disabling alice failed"
	[ "$(JAR=alice web /instances)" = 303 ] || fail "alice's session survived"
	JAR=alice web /login >/dev/null
	[ "$(JAR=alice post /login name=alice password=alice-password-123)" = 401 ] ||
		fail "a disabled user logged in"
}

# The role an admin gives takes effect at the user's next request, both ways.
test_a_user_made_admin_gets_the_admin_pages_and_loses_them_again() {
	setup_alice
	JAR=alice login alice alice-password-123
	[ "$(JAR=alice web /users)" = 403 ] || fail "a user got the users page"
	web /user/alice >/dev/null
	[ "$(post /user/alice role=admin)" = 303 ] || fail "making alice an admin failed"
	[ "$(JAR=alice web /users)" = 200 ] || fail "alice, now an admin, does not get the users page"
	[ "$(JAR=alice web /instance/vm-b)" = 200 ] || fail "alice, now an admin, does not see every VM"
	web /user/alice >/dev/null
	[ "$(post /user/alice role=user)" = 303 ] || fail "making alice a user again failed"
	[ "$(JAR=alice web /users)" = 403 ] || fail "alice kept the users page"
	[ "$(JAR=alice web /instance/vm-b)" = 403 ] || fail "alice still sees a VM not hers"
}

test_an_admin_cannot_lock_themselves_out() {
	start_portal
	login_admin
	web /user/admin >/dev/null
	post /user/admin role=user >/dev/null
	post /user/admin role=admin disabled=on >/dev/null
	[ "$(web /users)" = 200 ] || fail "the admin lost the users page"
}

test_seeing_a_vm_shows_neither_its_definition_nor_its_console() {
	setup_alice
	JAR=alice login alice alice-password-123
	JAR=alice web /instance/vm-a >/dev/null
	grep -q 'id="vm-xml"\|<textarea[^>]*name="xml"\|&lt;domain' body.html && fail "alice sees the definition"
	grep -q 'console-log' body.html && fail "alice sees the console's output"
	grep -q 'action="/instance/vm-a/settings"' body.html && fail "alice gets the settings form"
	return 0
}

test_only_an_admin_deletes_disks_with_a_vm() {
	setup_alice remove
	JAR=alice login alice alice-password-123
	JAR=alice post /instance/vm-a/delete remove_storage=on >/dev/null
	ctl list --all | grep -q ' vm-a ' || fail "vm-a was deleted with its disks by a user"
	[ "$(JAR=alice post /instance/vm-a/delete)" = 303 ] || fail "alice could not delete vm-a"
	ctl list --all | grep -q ' vm-a ' && fail "vm-a is still there"
	# her rights went with it: a VM defined again with its uuid gets none
	return 0
}

test_an_admin_resets_others_passwords_not_their_own() {
	setup_alice
	JAR=alice login alice alice-password-123
	web /user/alice >/dev/null
	[ "$(post /user/alice/password password=a-new-password-for-alice)" = 303 ] || fail "the reset failed"
	[ "$(JAR=alice web /instances)" = 303 ] || fail "alice's session survived the reset"
	web /user/admin >/dev/null
	post /user/admin/password password=another-admin-password >/dev/null
	JAR=x login admin "$ADMIN_PASSWORD" # the old password still works
}
