# Tags and bulk actions: an admin tags VMs, everyone who sees a VM sees
# its tags, the list filters by tag; many VMs ticked on the list get one
# action, each VM checked for the caller's right on it on its own, and
# the answer names each VM's result.

listed() { # PATH: the VMs the list shows, in order
	web "$1" >/dev/null
	grep -o 'role="row" data-vm="[^"]*"' body.html | sed 's/.*data-vm="//; s/"//' | tr '\n' ' '
}

tags_of_page() { # VM
	web "/instance/$1" >/dev/null
	grep -o 'id="vm-tags">.*</dd>' body.html | grep -o 'tag=[^"]*' | sed 's/tag=//' | tr '\n' ' '
}

test_an_admin_tags_vms_and_the_list_filters_by_tag() {
	# one worker: the list it keeps is the one each view meets
	PORTAL_THREADS=1 start_portal
	define vm-a echo
	define vm-b echo
	define vm-c echo
	login_admin
	# the list is viewed first, so that a later view could only be right if
	# the kept rows knew of the tags that changed in between
	[ "$(listed /instances)" = "vm-a vm-b vm-c " ] || fail "the list is $(listed /instances)"
	web /instance/vm-a >/dev/null
	[ "$(post /instance/vm-a/tags "tags=web, prod web")" = 303 ] || fail "tagging vm-a"
	[ "$(post /instance/vm-b/tags "tags=web")" = 303 ] || fail "tagging vm-b"
	web /instances >/dev/null
	grep -A3 'data-vm="vm-b"' body.html | grep -q 'href="/instances?tag=web">web</a>' ||
		fail "the list kept from before the tags shows none"
	[ "$(tags_of_page vm-a)" = "prod web " ] || fail "vm-a's tags are $(tags_of_page vm-a)"
	[ "$(listed '/instances?tag=web')" = "vm-a vm-b " ] || fail "tag=web lists $(listed '/instances?tag=web')"
	[ "$(listed '/instances?tag=prod')" = "vm-a " ] || fail "tag=prod lists $(listed '/instances?tag=prod')"
	grep -q 'id="tag-filter">Tagged <span[^>]*>prod</span>' body.html || fail "the filter is not named"
	listed /instances >/dev/null
	grep -q 'id="tag-filter"' body.html && fail "the unfiltered list names a tag filter"
	[ -z "$(listed '/instances?tag=nothing')" ] || fail "tag=nothing lists something"
	grep -q 'No VM matches.' body.html || fail "an empty filter does not say so"
	web /instances >/dev/null
	grep -A3 'data-vm="vm-b"' body.html | grep -q 'href="/instances?tag=web">web</a>' || fail "vm-b's row has no tag"
	# sorting keeps the tag filter
	web '/instances?tag=web' >/dev/null
	grep -q 'href="/instances?sort=name&amp;order=desc&amp;tag=web"' body.html || fail "the column links lose the tag"
	[ "$(listed '/instances?tag=web&sort=name&order=desc')" = "vm-b vm-a " ] || fail "sorted, tagged"
	# a tag taken off leaves the filter at once
	[ "$(listed '/instances?tag=web')" = "vm-a vm-b " ] || fail "tag=web lists $(listed '/instances?tag=web')"
	[ "$(post /instance/vm-b/tags "tags=")" = 303 ] || fail "untagging vm-b"
	[ "$(listed '/instances?tag=web')" = "vm-a " ] || fail "vm-b is still tagged web"
	# bad tags: one message, the old tags kept
	web /instance/vm-a >/dev/null
	for t in "<b>x</b>" "a/b" "-x" "$(printf 'x%.0s' $(seq 33))" "$(seq -s, 17)" "x'y"; do
		[ "$(post /instance/vm-a/tags "tags=$t")" = 303 ] || fail "tags=$t answered $(cat body.html)"
		flash_of /instance/vm-a | grep -q -e 'A tag has' -e 'at most 16 tags' || fail "tags=$t: $(flash_of /instance/vm-a)"
		[ "$(tags_of_page vm-a)" = "prod web " ] || fail "tags=$t changed vm-a's tags to $(tags_of_page vm-a)"
	done
	# a user who sees vm-a sees its tags, and cannot change them
	make_user alice
	set_rights alice vm-a power change remove console
	JAR=alice login alice alice-password-123
	JAR=alice web /instance/vm-a >/dev/null
	grep -q 'href="/instances?tag=prod">prod</a>' body.html || fail "alice does not see vm-a's tags"
	grep -q 'id="tags-form"' body.html && fail "alice gets the tags form"
	[ "$(JAR=alice post /instance/vm-a/tags "tags=mine")" = 403 ] || fail "alice set tags"
	[ "$(tags_of_page vm-a)" = "prod web " ] || fail "alice changed vm-a's tags"
	# a VM deleted from its page and defined again from its saved XML (the
	# same uuid) has no tags; nor one deleted in a bulk action
	ctl dumpxml vm-a >saved.xml
	web /instance/vm-a >/dev/null
	[ "$(post /instance/vm-a/delete)" = 303 ] || fail "deleting vm-a"
	ctl define saved.xml >/dev/null
	[ -z "$(tags_of_page vm-a)" ] || fail "vm-a, defined again, has the old one's tags"
	[ "$(sqlite3 portal/portal.db 'SELECT count(*) FROM vm_tags')" = 0 ] || fail "vm_tags keeps rows"
}

# alice may delete vm-a, only see vm-b, and not see vm-c: a bulk delete of
# all three (and of a VM that does not exist) deletes vm-a alone.
test_a_bulk_action_checks_each_vm_on_its_own() {
	start_portal
	define vm-a echo
	define vm-b echo
	define vm-c echo
	login_admin
	make_user alice
	set_rights alice vm-a remove
	set_rights alice vm-b
	JAR=alice login alice alice-password-123
	JAR=alice web /instances >/dev/null
	grep -q 'name="vm" value="vm-a"' body.html || fail "vm-a has no box to tick"
	grep -q 'id="bulk-actions"' body.html || fail "no bulk actions"
	local token
	token=$(JAR=alice csrf /instances)
	bulk() { # JAR ACTION VM...: the bulk form as the list sends it
		local jar=$1 action=$2 args=() v
		shift 2
		for v in "$@"; do args+=(--data-urlencode "vm=$v"); done
		JAR=$jar web -H "Origin: $URL" --data-urlencode "csrf=$(JAR=$jar csrf /instances)" \
			--data-urlencode "action=$action" --data-urlencode from=list "${args[@]}" /instances/bulk
	}
	result() { grep "data-vm=\"$1\"" body.html | sed 's/.*<td>[^<]*<\/td><td>//; s/<[^>]*>//g; s/^ *//'; }
	[ "$(bulk alice delete vm-a vm-b vm-c no-such-vm vm-a)" = 200 ] || fail "the bulk delete answered $(cat body.html)"
	grep -q 'delete: 1 of 4 done' body.html || fail "the summary: $(grep -o 'id="bulk-summary">[^<]*' body.html)"
	[ "$(grep -c 'data-vm="vm-a"' body.html)" = 1 ] || fail "vm-a, ticked twice, has two results"
	result vm-a | grep -q 'done deleted' || fail "vm-a: $(result vm-a)"
	result vm-b | grep -q 'not done refused: you may not do this to it' || fail "vm-b: $(result vm-b)"
	result vm-c | grep -q 'not done refused: no VM of yours has this name' || fail "vm-c: $(result vm-c)"
	result no-such-vm | grep -q 'not done refused: no VM of yours has this name' || fail "no-such-vm: $(result no-such-vm)"
	ctl list --all | grep -q ' vm-a ' && fail "vm-a was not deleted"
	ctl list --all | grep -q ' vm-b ' || fail "vm-b was deleted"
	ctl list --all | grep -q ' vm-c ' || fail "vm-c was deleted"
	# power without the power right: refused for each, nothing started
	[ "$(bulk alice start vm-b vm-c)" = 200 ] || fail "the bulk start answered $(cat body.html)"
	grep -q 'start: 0 of 2 done' body.html || fail "alice started something: $(grep -o 'id="bulk-summary">[^<]*' body.html)"
	[ "$(state_of vm-b)" = "shut off" ] && [ "$(state_of vm-c)" = "shut off" ] || fail "a VM changed"
	# with the power right, the start reaches vmmd (started where KVM is, or vmmd's reason)
	web /instances >/dev/null
	set_rights alice vm-b power
	[ "$(bulk alice start vm-b)" = 200 ] || fail "the bulk start answered $(cat body.html)"
	[ -n "$(result vm-b)" ] || fail "vm-b has no result"
	result vm-b | grep -q 'refused' && fail "vm-b's start was refused: $(result vm-b)"
	# what is not an action, and no VM ticked
	[ "$(bulk alice reboot vm-b)" = 303 ] || fail "an unknown action answered $(cat body.html)"
	JAR=alice flash_of /instances | grep -q "Choose what to do" || fail "no message for an unknown action"
	[ "$(bulk alice delete)" = 303 ] || fail "nothing ticked answered $(cat body.html)"
	JAR=alice flash_of /instances | grep -q "Tick the VMs" || fail "no message for nothing ticked"
	# each VM alice sees has its row in the audit log; the names that are
	# no VM of hers share one (a form of made-up names cannot flood the log)
	web '/audit?user=alice' >/dev/null
	grep -q '<td>delete</td><td>vm-a</td><td>ok</td>' body.html || fail "vm-a's delete is not audited"
	grep -q '<td>delete</td><td>vm-b</td><td>refused</td>' body.html || fail "vm-b's refusal is not audited"
	grep -q '<td>delete</td><td>vm-c no-such-vm</td><td>refused</td>' body.html ||
		fail "the unknown names are not audited in one row: $(grep '<td>delete</td>' body.html)"
	local many=() n
	for n in $(seq 1 300); do many+=("made-up-$n"); done
	n=$(sqlite3 portal/portal.db 'SELECT count(*) FROM audit')
	[ "$(bulk alice delete "${many[@]}")" = 200 ] || fail "300 made-up names answered $(cat body.html)"
	[ "$(sqlite3 portal/portal.db 'SELECT count(*) FROM audit')" = $((n + 1)) ] ||
		fail "300 made-up names took $(($(sqlite3 portal/portal.db 'SELECT count(*) FROM audit') - n)) rows of the audit log"
	# the admin's bulk delete of what remains: vm-b runs where this
	# machine's /dev/kvm started it, and a running VM is forced off first
	if [ "$(state_of vm-b)" = running ]; then
		[ "$(bulk jar delete vm-b)" = 200 ] && result vm-b | grep -q 'is running; destroy it first' ||
			fail "a running VM's delete: $(result vm-b)"
		[ "$(bulk jar destroy vm-b)" = 200 ] && result vm-b | grep -q 'done forced off' ||
			fail "the admin's bulk force off: $(result vm-b)"
	fi
	[ "$(bulk jar delete vm-b vm-c)" = 200 ] || fail "the admin's bulk delete"
	grep -q 'delete: 2 of 2 done' body.html || fail "the admin's summary: $(grep -o 'id="bulk-summary">[^<]*' body.html)"
	[ -z "$(ctl list --all | awk 'NR > 2 && NF')" ] || fail "VMs are left: $(ctl list --all)"
}
