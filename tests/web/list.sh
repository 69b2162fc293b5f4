# The instances list's filter by state and its sort by each column.

test_the_list_filters_by_state_and_sorts_by_each_column() {
	start_portal
	domain_xml big echo | sed "s|<vcpu>1</vcpu>|<vcpu>4</vcpu>|; s|<memory unit='MiB'>32</memory>|<memory unit='MiB'>16</memory>|" >big.xml
	domain_xml small echo | sed "s|<memory unit='MiB'>32</memory>|<memory unit='MiB'>64</memory>|" >small.xml
	ctl define big.xml >/dev/null
	ctl define small.xml >/dev/null
	ctl autostart small >/dev/null
	login_admin
	order() { # QUERY: the VMs the list shows for it, in order
		[ "$(web "/instances?$1")" = 200 ] || fail "$1 answered $(cat body.html)"
		grep -o 'data-vm="[a-z]*"' body.html | sed 's/data-vm=//; s/"//g' | tr '\n' ' '
	}
	local q want
	while read -r q want; do
		[ "$(order "$q")" = "${want//,/ } " ] || fail "$q: $(order "$q")instead of ${want//,/ }"
	done <<-'ROWS'
	sort=name&order=asc big,small
	sort=name&order=desc small,big
	sort=vcpus&order=asc small,big
	sort=vcpus&order=desc big,small
	sort=memory&order=asc big,small
	sort=memory&order=desc small,big
	sort=autostart&order=desc small,big
	sort=autostart&order=asc big,small
	sort=state&order=asc big,small
	sort=nonsense&order=sideways big,small
	state=shut+off big,small
	ROWS
	[ -z "$(order 'state=running')" ] || fail "running VMs listed: $(order 'state=running')"
	grep -q 'No VM matches.' body.html || fail "an empty filter says nothing"
	order 'state=paused' >/dev/null
	grep -q '<option value="paused" selected>' body.html || fail "the state filter is not kept in its box"
	# the current column says so, to the eye and to a screen reader
	order 'sort=memory&order=desc' >/dev/null
	grep -q 'aria-sort="descending"' body.html || fail "no aria-sort"
	[ "$(grep -c 'aria-sort=' body.html)" = 1 ] || fail "aria-sort on more than the current column"
	grep -q 'href="/instances?sort=memory&amp;order=asc">Memory ↓' body.html || fail "the header does not offer the other order"
}
