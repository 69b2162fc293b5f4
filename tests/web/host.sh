# The host page: what it says matches this machine, and its graphs' JSON.

test_host_page_shows_this_machine() {
	start_portal
	login_admin
	[ "$(web /host)" = 200 ] || fail "/host answered $(cat body.html)"
	local model cpus kib
	model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | sed 's/&/\&amp;/g')
	cpus=$(nproc --all)
	grep -q "id=\"host-cpu\">$model<" body.html || fail "the CPU is not '$model': $(grep -o 'id="host-cpu">[^<]*' body.html)"
	grep -q "id=\"host-cpus\">$cpus<" body.html || fail "not $cpus CPUs: $(grep -o 'id="host-cpus">[^<]*' body.html)"
	grep -q 'id="host-memory">[0-9.]* [GM]iB ([0-9.]* [GM]iB available)' body.html ||
		fail "no memory: $(grep -o 'id="host-memory">[^<]*' body.html)"
	if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
		grep -q 'id="host-kvm"><span class="badge bg-success">usable' body.html || fail "KVM is usable here"
	else
		grep -q 'id="host-kvm"><span class="badge bg-danger">not usable</span> <span class="small">VMs cannot run here' body.html ||
			fail "KVM is not usable here, and the page does not say why"
	fi
	grep -q "<dd class=\"col-7\">$(uname -r)</dd>" body.html || fail "no kernel version"
	grep -q '<dt class="col-5">Up</dt><dd class="col-7">[0-9]' body.html || fail "no uptime"
	# the graphs' points: vmmd samples the host every 5 s; its memory in KiB
	[ "$(web /host.json)" = 200 ] || fail "/host.json answered $(cat body.html)"
	grep -q '"points":\[' body.html || fail "no points: $(cat body.html)"
	kib=$(sed -n 's/.*"memory_kib":\([0-9]*\).*/\1/p' body.html)
	[ "$kib" = "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" ] || fail "memory_kib is '$kib'"
}
