# Authorization: a user sees only the VMs an admin gave them, and does to
# each only what the admin allowed; every refusal is 403 and changes
# nothing. An admin sees and does everything.

# two VMs, a user alice who may see vm-a (and, with RIGHTS, more on it)
setup_alice() { # [power] [change] [remove] [console]
	start_portal
	define vm-a echo
	define vm-b echo
	login_admin
	make_user alice
	make_user bob
	set_rights alice vm-a "$@"
}

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
	local p status
	for p in /instance/vm-b /instance/vm-b/state.json /instance/no-such-vm; do
		status=$(JAR=alice web "$p")
		[ "$status" = 403 ] || fail "alice got $status for $p"
	done
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

# Every state-changing route, for each right alice lacks, and across to
# bob's view: 403, no change to the VM or the accounts, a refusal audited.
test_every_state_changing_route_is_refused_without_its_right() {
	setup_alice
	JAR=alice login alice alice-password-123
	local route status vm before after token
	before=$(ctl list --all | sort)
	token=$(JAR=alice csrf /instances)
	for vm in vm-a vm-b; do
		for route in start shutdown reboot destroy suspend resume; do
			status=$(JAR=alice web -H "Origin: $URL" --data-urlencode "csrf=$token" "/instance/$vm/$route")
			[ "$status" = 403 ] || fail "alice's $route of $vm answered $status"
		done
	done
	for route in /users /user/bob /user/bob/password /user/alice/rights /user/admin; do
		status=$(JAR=alice web -H "Origin: $URL" --data-urlencode "csrf=$token" \
			--data-urlencode name=x --data-urlencode role=admin \
			--data-urlencode password=another-password-1 "$route")
		[ "$status" = 403 ] || fail "alice's POST $route answered $status"
	done
	for route in /users /user/bob /audit; do
		status=$(JAR=alice web "$route")
		[ "$status" = 403 ] || fail "alice's GET $route answered $status"
	done
	after=$(ctl list --all | sort)
	[ "$before" = "$after" ] || fail "the VMs changed: $before / $after"
	JAR=bob login bob bob-password-123 # bob's password still works
	web /users >/dev/null
	grep -q 'data-user="x"' body.html && fail "a user x was created"
	grep -A2 'data-user="alice"' body.html | grep -q '>user<' || fail "alice is no longer a plain user"
	web "/audit?user=alice" >/dev/null
	[ "$(grep -c '<td>refused</td>' body.html)" -ge 17 ] || fail "the refusals are not all audited"
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

test_an_admin_cannot_lock_themselves_out() {
	start_portal
	login_admin
	web /user/admin >/dev/null
	post /user/admin role=user >/dev/null
	post /user/admin role=admin disabled=on >/dev/null
	[ "$(web /users)" = 200 ] || fail "the admin lost the users page"
}
