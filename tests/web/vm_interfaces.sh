# A VM's network interfaces from its page: add one on a network (or, for
# an admin, on a host bridge), pull and plug its cable, remove it.

setup_network() {
	echo "<network><name>lan</name><bridge name='wklan0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>" >lan.xml
	ctl net-define lan.xml >/dev/null || fail "cannot define a network"
}

ifaces_of() { ctl dumpxml "$1" | grep -c '<interface'; }
mac_of() { ctl dumpxml "$1" | sed -n 's/.*<mac address="\([^"]*\)".*/\1/p' | head -n1; }

test_add_pull_plug_and_remove_an_interface() {
	start_portal
	setup_network
	define d1 echo
	login_admin
	web /instance/d1 >/dev/null
	grep -q '<option value="network:lan">lan (network)</option>' body.html || fail "the network is not offered"
	grep -q 'No interfaces.' body.html || fail "the empty table does not say so"
	[ "$(post /instance/d1/interface/attach on=network:lan)" = 303 ] || fail "attach answered $(cat body.html)"
	[ "$(ifaces_of d1)" = 1 ] || fail "no interface in the definition"
	mac=$(mac_of d1)
	[[ $mac == 52:54:00:* ]] || fail "the new interface's MAC is '$mac'"
	web /instance/d1 >/dev/null
	grep -q "data-mac=\"$mac\"" body.html || fail "the page does not list $mac"
	grep -q 'has a new interface on lan' body.html || fail "no message: $(grep -o 'id="flash[^<]*' body.html)"
	[ "$(post /instance/d1/interface/link mac="$mac" state=down)" = 303 ] || fail "link down answered"
	ctl dumpxml d1 | grep -q '<link state="down"/>' || fail "the link is not down in the definition"
	web /instance/d1 >/dev/null
	grep -A3 "data-mac=\"$mac\"" body.html | grep -q '>down<' || fail "the page does not show the link down"
	grep -q 'Plug in</button>' body.html || fail "no button to plug it in"
	[ "$(post /instance/d1/interface/link mac="$mac" state=up)" = 303 ] || fail "link up answered"
	ctl dumpxml d1 | grep -q '<link state="up"/>' || fail "the link is not up in the definition"
	[ "$(post /instance/d1/interface/detach mac="$mac")" = 303 ] || fail "detach answered"
	[ "$(ifaces_of d1)" = 0 ] || fail "the interface stayed"
	web "/audit?user=admin" >/dev/null
	for a in "attach interface" "link down" "link up" "detach interface"; do
		grep -q "<td>$a</td>" body.html || fail "'$a' is not in the audit log"
	done
}

# What a form names is checked: unknown networks, bridges for non-admins,
# malformed MACs and states all change nothing and say why.
test_interface_forms_take_only_known_networks_and_macs() {
	start_portal
	setup_network
	define d1 echo "<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='lan'/></interface>"
	login_admin
	make_user carol
	uuid=$(ctl --json dominfo d1 | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
	web /user/carol >/dev/null
	[ "$(post /user/carol/rights vm="$uuid" "view.$uuid=on" "change.$uuid=on")" = 303 ] || fail "rights"
	ctl dumpxml d1 >before.xml
	web /instance/d1 >/dev/null
	expect_refused() { # MESSAGE PATH FIELD...
		local msg=$1 path=$2
		shift 2
		[ "$(post "$path" "$@")" = 303 ] || fail "$path $* answered $(cat body.html)"
		web /instance/d1 >/dev/null
		grep -q "$msg" body.html || fail "$path $*: no '$msg' in $(grep -o 'id="flash[^<]*<[^<]*' body.html)"
	}
	expect_refused "Choose one of the host" /instance/d1/interface/attach on=network:nowhere
	expect_refused "Choose a network" /instance/d1/interface/attach on=/etc/passwd
	expect_refused "Choose a network" /instance/d1/interface/attach on=
	expect_refused "no bridge by that name" /instance/d1/interface/attach on=bridge:../../etc
	expect_refused "no bridge by that name" /instance/d1/interface/attach on=bridge:lo
	expect_refused "by its MAC address" /instance/d1/interface/detach mac=52:54:00:aa:00:01x
	expect_refused "by its MAC address" /instance/d1/interface/detach "mac=01:00:5e:00:00:01"
	expect_refused "no interface with MAC 52:54:00:aa:00:09" /instance/d1/interface/detach mac=52:54:00:aa:00:09
	expect_refused "The link is up or down" /instance/d1/interface/link mac=52:54:00:aa:00:01 state=sideways
	# a user with the change right: networks yes, host bridges never
	JAR=carol login carol carol-password-123
	JAR=carol web /instance/d1 >/dev/null
	grep -q 'host bridge)' body.html && fail "carol is offered host bridges"
	ip link add wkbr$$ type bridge 2>/dev/null || fail "cannot make a bridge"
	[ "$(JAR=carol post /instance/d1/interface/attach on=bridge:wkbr$$)" = 303 ] || fail "bridge answered"
	ip link del wkbr$$
	JAR=carol web /instance/d1 >/dev/null
	grep -q "Only an administrator puts a VM on a host bridge" body.html || fail "carol's bridge was not refused"
	ctl dumpxml d1 | cmp -s - before.xml || fail "the definition changed: $(ctl dumpxml d1 | diff before.xml -)"
	[ "$(JAR=carol post /instance/d1/interface/attach on=network:lan)" = 303 ] || fail "carol's attach"
	[ "$(ifaces_of d1)" = 2 ] || fail "carol could not add an interface on a network"
}
