# Networks (admin): the list, the form that defines NAT, isolated and
# bridged networks, a network's page with its static hosts and DHCP
# leases, start, stop, autostart and delete. vmmd runs in a network
# namespace of the test's own, so the bridges, nftables tables and
# dnsmasq that starting a network makes stay in it.

net_portal() {
	in_netns
	start_portal
	login_admin
}

nets() { ctl net-list --all | awk 'NR > 2 && NF { print $1 }' | sort | tr '\n' ' '; }

test_an_admin_defines_each_kind_of_network_and_sees_it_listed() {
	net_portal
	web /networks >/dev/null
	grep -q 'No networks yet.' body.html || fail "the empty list does not say so"
	[ "$(post /networks name=lab mode=nat bridge=wklab address=10.81.0.1/24 dhcp=on \
		dhcp_start=10.81.0.100 dhcp_end=10.81.0.199 start=on autostart=on \
		"hosts=52:54:00:81:00:10 10.81.0.10 web
52:54:00:81:00:11 10.81.0.11")" = 303 ] || fail "creating lab answered $(cat body.html)"
	[ "$(header_of Location)" = /networks ] || fail "the create went to $(header_of Location)"
	flash_of /networks | grep -q 'The network lab was defined and started; it starts with the host.' ||
		fail "no message: $(flash_of /networks)"
	ip -n "$NS" -4 -o addr show wklab | grep -q 'inet 10.81.0.1/24' || fail "wklab has no 10.81.0.1/24"
	[ "$(post /networks name=iso mode=isolated address=10.82.0.1/24)" = 303 ] || fail "creating iso"
	[ "$(post /networks name=lan mode=bridge bridge=br0 start=on)" = 303 ] || fail "creating lan"
	ctl net-dumpxml lab >lab.xml
	grep -q "<forward mode=['\"]nat['\"]" lab.xml || fail "lab is not NAT: $(cat lab.xml)"
	grep -q "<host mac=['\"]52:54:00:81:00:10['\"] ip=['\"]10.81.0.10['\"] name=['\"]web['\"]" lab.xml ||
		fail "lab lacks its static host: $(cat lab.xml)"
	grep -q "<range start=['\"]10.81.0.100['\"] end=['\"]10.81.0.199['\"]" lab.xml || fail "lab's range"
	ctl net-dumpxml iso | grep -q '<forward' && fail "iso forwards"
	ctl net-dumpxml lan | grep -q "<forward mode=['\"]bridge['\"]" || fail "lan is not bridged"

	web /networks >/dev/null
	row() { grep -A9 "data-network=\"$1\"" body.html | tr -d '\n' | sed 's/<\/tr>.*//'; }
	row lab | grep -q 'active.*NAT.*wklab.*10.81.0.1/24.*10.81.0.100 – 10.81.0.199.*yes' ||
		fail "lab's row: $(row lab)"
	row iso | grep -q 'inactive.*isolated.*10.82.0.1/24.*no' || fail "iso's row: $(row iso)"
	row lan | grep -q 'active.*bridged.*br0' || fail "lan's row: $(row lan)"
	# the network's page: its definition, static hosts, and leases (none yet)
	[ "$(web /network/lab)" = 200 ] || fail "lab's page"
	sed -n '/id="network-hosts"/,/<\/table>/p' body.html | grep -A2 '52:54:00:81:00:10' | grep -q '10.81.0.10' ||
		fail "the static host is not in the hosts table"
	grep -q 'id="network-leases"' body.html || fail "an active NAT network's page has no leases"
	grep -q '&lt;forward mode=' body.html || fail "the definition is not shown escaped"
	audit_has "create network" lab ok
	audit_has "start network" lab ok
}

audit_has() { # ACTION OBJECT RESULT: a row of the audit log (RESULT a part of its result)
	web "/audit" >/dev/null
	grep -q "<td>$1</td><td>$2</td><td>[^<]*$3[^<]*</td>" body.html ||
		fail "the audit log has no '$1' of $2 with '$3'"
}

# A leased address shows on the network's page: a peer namespace with a
# MAC of its own asks the network's dnsmasq.
test_a_network_page_shows_its_dhcp_leases() {
	net_portal
	[ "$(post /networks name=lab mode=nat bridge=wklab address=10.81.0.1/24 dhcp=on \
		dhcp_start=10.81.0.100 dhcp_end=10.81.0.199 start=on)" = 303 ] || fail "creating lab"
	peer a wklab 52:54:00:81:00:99
	dhcp a -r 10.81.0.150 -x hostname:peer-a
	web /network/lab >/dev/null
	grep -A4 'data-mac="52:54:00:81:00:99"' body.html | tr -d '\n' |
		grep -q '10.81.0.150/24.*peer-a.*20[0-9][0-9]-' || fail "no lease: $(grep -A8 network-leases body.html)"
}

test_start_stop_autostart_and_delete_from_the_pages() {
	net_portal
	[ "$(post /networks name=iso mode=isolated bridge=wkiso address=10.82.0.1/24)" = 303 ] || fail "iso"
	ip -n "$NS" link show wkiso >/dev/null 2>&1 && fail "iso started without asking"
	web /network/iso >/dev/null
	[ "$(post /network/iso/start)" = 303 ] || fail "start"
	ip -n "$NS" link show wkiso >/dev/null 2>&1 || fail "no bridge wkiso after the start"
	ctl net-info iso | grep -q 'Active: *yes' || fail "iso is not active: $(ctl net-info iso)"
	# a started network is not deleted
	[ "$(post /network/iso/delete)" = 303 ] || fail "delete"
	flash_of /network/iso | grep -q 'stop it first' || fail "deleting a started network: $(flash_of /network/iso)"
	[ "$(nets)" = "iso " ] || fail "the networks are $(nets)"
	[ "$(post /network/iso/autostart enable=on)" = 303 ] || fail "autostart on"
	ctl net-info iso | grep -q 'Autostart: *yes' || fail "autostart is not on"
	[ "$(post /network/iso/autostart)" = 303 ] || fail "autostart off"
	ctl net-info iso | grep -q 'Autostart: *no' || fail "autostart is not off"
	[ "$(post /network/iso/stop)" = 303 ] || fail "stop"
	ip -n "$NS" link show wkiso >/dev/null 2>&1 && fail "wkiso is still there"
	[ "$(post /network/iso/delete)" = 303 ] || fail "delete"
	[ "$(header_of Location)" = /networks ] || fail "delete went to $(header_of Location)"
	[ -z "$(nets)" ] || fail "the networks are $(nets)"
	audit_has "delete network" iso ok
	# what follows the definition is tried, each part, and said: here the
	# subnet is taken on the host, so the start is refused, not autostart
	ip -n "$NS" link add busy0 type bridge
	ip -n "$NS" addr add 10.84.0.1/24 dev busy0
	[ "$(post /networks name=busy mode=nat address=10.84.0.1/24 start=on autostart=on)" = 303 ] || fail "busy"
	flash_of /networks | grep -q 'The network busy was defined; it did not start: .*its subnet is in use on this host.*; it starts with the host' ||
		fail "the follow-ups: $(flash_of /networks)"
	ctl net-info busy | grep -q 'Autostart: *yes' || fail "busy's autostart was not set"
	audit_has "start network" busy "subnet is in use"
	audit_has "network autostart" busy ok
	# one that does not exist, and a name vmmd could not have
	[ "$(post /network/iso/start)" = 303 ] || fail "start of a deleted network"
	flash_of /networks | grep -q "no network named 'iso'" || fail "no message for a deleted network"
	[ "$(post '/network/a%3Cb/start')" = 404 ] || fail "a name with '<' answered $(cat body.html)"
	grep -q 'no network named a&lt;b' body.html || fail "the refusal is not the name check's: $(cat body.html)"
	[ "$(web '/network/a%0d%0aSet-Cookie:x=1')" = 404 ] || fail "a name with CRLF"
	grep -qi '^set-cookie: *x=1' headers.txt && fail "a header came from the path"
	return 0
}

# Every field is checked: one clear message, and nothing defined.
test_the_network_form_refuses_bad_input_and_defines_nothing() {
	net_portal
	web /networks >/dev/null
	refused() { # MESSAGE FIELD...
		local msg=$1
		shift
		[ "$(post /networks "$@")" = 303 ] || fail "$* answered $(cat body.html)"
		flash_of /networks | grep -qF "$msg" || fail "$*: not '$msg' but '$(flash_of /networks)'"
		[ "$(nets)" = "$before" ] || fail "$* defined $(nets)"
	}
	before=
	ok=(mode=nat address=10.81.0.1/24 dhcp=on dhcp_start=10.81.0.100 dhcp_end=10.81.0.199)
	refused "A network's name" name= "${ok[@]}"
	refused "A network's name" name=../x "${ok[@]}"
	refused "A network's name" "name=a'/><forward mode='bridge" "${ok[@]}"
	refused "A network's name" name=-x "${ok[@]}"
	refused "A network's name" name=a+b "${ok[@]}"
	refused "NAT, isolated or bridged" name=n mode=route address=10.81.0.1/24
	refused "prefix of 8 to 30" name=n mode=nat address=10.81.0.1
	refused "prefix of 8 to 30" name=n mode=nat address=10.81.0.1/31
	refused "prefix of 8 to 30" name=n mode=nat address=10.81.0.1/024
	refused "prefix of 8 to 30" name=n mode=nat "address=10.81.0.1'/24"
	refused "prefix of 8 to 30" name=n mode=nat address=fe80::1/64
	refused "first to a last" name=n mode=nat address=10.81.0.1/24 dhcp=on dhcp_start=10.81.0.100
	refused "first to a last" name=n mode=nat address=10.81.0.1/24 dhcp=on "dhcp_start=10.81.0.100'" dhcp_end=10.81.0.199
	refused "names the host's bridge" name=n mode=bridge
	refused "A bridge's name" name=n mode=bridge bridge=br0/../x
	refused "A bridge's name" name=n mode=nat bridge=a-very-long-bridge-name address=10.81.0.1/24
	refused "Static host line 2" name=n "${ok[@]}" "hosts=52:54:00:81:00:10 10.81.0.10
52:54:00:81:00:11 10.81.0.11 a b"
	refused "Static host line 1" name=n "${ok[@]}" "hosts=01:00:5e:00:00:01 10.81.0.10"
	refused "Static host line 3" name=n "${ok[@]}" "hosts=52:54:00:81:00:10 10.81.0.10

52:54:00:81:00:11"
	refused "Static host line 1" name=n "${ok[@]}" "hosts=52:54:00:81:00:10 10.81.0.10 <script>"
	refused "turn it on" name=n mode=nat address=10.81.0.1/24 "hosts=52:54:00:81:00:10 10.81.0.10"
	# what only vmmd can tell: its sentence, and nothing defined
	refused "10.82.0.1" name=n mode=nat address=10.81.0.1/24 dhcp=on dhcp_start=10.82.0.1 dhcp_end=10.82.0.9
	[ "$(post /networks name=lab "${ok[@]}")" = 303 ] || fail "lab"
	before=$(nets)
	[ "$before" = "lab " ] || fail "lab was not defined"
	# vmmd refuses a second network on the same subnet, and the same name again
	refused "its subnet overlaps 10.81.0.0/24 of the network lab" name=lab2 mode=isolated address=10.81.0.1/24
	refused "a network named lab exists already" name=lab mode=isolated address=10.90.0.1/24
	[ "$(nets)" = "lab " ] || fail "the networks are $(nets)"
	ctl net-dumpxml lab | grep -q "<forward mode=['\"]nat['\"]" || fail "lab was replaced"
}

# A user (even one with every right on a VM on the network) is refused
# every network page and action, with nothing changed.
test_a_user_is_refused_every_network_page_and_action() {
	net_portal
	[ "$(post /networks name=lab mode=isolated bridge=wklab address=10.81.0.1/24 start=on)" = 303 ] ||
		fail "creating lab"
	define vm-a echo "<interface type='network'><mac address='52:54:00:aa:00:0a'/><source network='lab'/></interface>"
	make_user alice
	set_rights alice vm-a power change remove console
	JAR=alice login alice alice-password-123
	local before path
	before=$(ctl net-list --all; ctl net-info lab; ctl net-dumpxml lab)
	for path in /networks /network/lab /network/nowhere; do
		[ "$(JAR=alice web "$path")" = 403 ] || fail "alice got $path"
	done
	grep -q 'href="/networks"' body.html && fail "alice's menu offers Networks"
	for path in "/networks name=stolen mode=isolated address=10.99.0.1/24" /network/lab/stop \
		"/network/lab/autostart enable=on" /network/lab/delete /network/lab/start; do
		# shellcheck disable=SC2086
		[ "$(JAR=alice post $path)" = 403 ] || fail "alice's POST $path answered $(cat body.html)"
	done
	[ "$before" = "$(ctl net-list --all; ctl net-info lab; ctl net-dumpxml lab)" ] ||
		fail "alice changed the networks"
	web /instances >/dev/null
	grep -q 'href="/networks"' body.html || fail "the admin's menu has no Networks"
}
