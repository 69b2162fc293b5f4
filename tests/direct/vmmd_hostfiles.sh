# From a caller other than root (such as the portal, in vmmd's socket
# group), vmmd takes only host files that are volumes of its started pools,
# or kernels in the folders given with --kernel-dir: vmm opens a VM's files
# as root, so any other file would be handed to the guest. No guest runs
# here (a stand-in vmm where a start must succeed), so no KVM is needed.

# start_vmmd_for_others [OPTIONS]: vmmd whose socket group is nobody's
# group, with a kernel folder; the test's folder is opened to others.
start_vmmd_for_others() {
	OTHER_GID=$(id -g nobody 2>/dev/null) || skip "no user nobody"
	chmod 755 "$PWD"
	umask 022
	mkdir -p kernels
	cp "$TESTGUEST" kernels/vmlinuz
	start_vmmd --group "$(id -gn nobody)" --kernel-dir "$PWD/kernels" "$@"
}

# as_other CMD...: CMD as nobody, in the socket's group only.
as_other() { setpriv --reuid="$(id -u nobody)" --regid="$OTHER_GID" --clear-groups "$@"; }

other_call() { printf '%s\n' "$1" | as_other socat -t5 - "UNIX-CONNECT:$VMMD_SOCKET"; }

# vm_xml NAME KERNEL [DISK [FORMAT]] [INITRD]: a definition naming those files.
vm_xml() {
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>32</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$2</kernel>${5:+
    <initrd>$5</initrd>}
    <cmdline>guest=hello</cmdline>
  </os>
  <devices>${3:+
    <disk type='file' device='disk'>
      <driver name='qemu' type='${4:-raw}'/>
      <source file='$3'/>
      <target dev='vda' bus='virtio'/>
    </disk>}
  </devices>
</domain>
EOF
}

# define_as_other NAME KERNEL [DISK [FORMAT]] [INITRD]: the reply to domain.define, one line.
define_as_other() {
	local xml
	xml=$(vm_xml "$@" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))')
	other_call "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"domain.define\",\"params\":{\"xml\":$xml}}"
}

# refused REPLY MESSAGE: REPLY is the path-not-allowed error with MESSAGE.
refused() {
	printf '%s\n' "$1" | grep -q '"code":"path-not-allowed"' || fail "not refused: $1"
	printf '%s\n' "$1" | grep -qF "\"message\":\"$2" || fail "not the expected message ($2): $1"
}

pool_xml() { # pool_xml NAME PATH
	printf "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>\n" "$1" "$2"
}

# images: a started pool in ./images, defined by root.
make_pool() {
	pool_xml images "$PWD/images" >images.pool.xml
	ctl pool-define images.pool.xml >/dev/null
	ctl pool-start images >/dev/null
}

test_vmmd_refuses_host_files_from_callers_other_than_root() {
	start_vmmd_for_others
	local r
	r=$(define_as_other k1 /etc/shadow)
	refused "$r" 'kernel \/etc\/shadow is not a volume of a started pool nor a file in a kernel folder'
	r=$(define_as_other d1 "$PWD/kernels/vmlinuz" /etc/shadow)
	refused "$r" 'disk \/etc\/shadow is not a volume of a started pool; only root may name other host files'
	r=$(define_as_other i1 "$PWD/kernels/vmlinuz" "" "" /etc/shadow)
	refused "$r" 'initrd \/etc\/shadow is not a volume'
	# vmmctl says it in one line too
	vm_xml k2 /etc/shadow >k2.xml
	! as_other "$VMMCTL" define k2.xml 2>err || fail "vmmctl define succeeded"
	[ "$(cat err)" = "error: kernel /etc/shadow is not a volume of a started pool nor a file in a kernel folder (vmmd --kernel-dir); only root may name other host files" ] ||
		fail "$(cat err)"
	[ -z "$(ls state/domains)" ] || fail "refused definitions left files: $(ls state/domains)"
	! ctl list --all | grep -qE ' (k1|d1|i1|k2) ' || fail "a refused VM is listed: $(ctl list --all)"

	# edits that name a path are refused the same way, and change nothing
	make_pool
	as_other "$VMMCTL" vol-create images a.img 1M >/dev/null
	vm_xml ok "$PWD/kernels/vmlinuz" "$PWD/images/a.img" >ok.xml
	as_other "$VMMCTL" define ok.xml >/dev/null
	ctl dumpxml ok >before.xml
	! as_other "$VMMCTL" attach-disk ok /etc/shadow vdb 2>err || fail "attach-disk of /etc/shadow succeeded"
	grep -q "disk /etc/shadow is not a volume of a started pool" err || fail "$(cat err)"
	ctl dumpxml ok | cmp -s - before.xml || fail "the refused attach changed the definition"
	! as_other "$VMMCTL" vol-create images ../b.img 1M 2>/dev/null || fail "a volume outside its pool"
}

test_vmmd_refuses_a_symlink_out_of_a_pool() {
	start_vmmd_for_others
	make_pool
	as_other "$VMMCTL" vol-create images a.img 1M >/dev/null
	ln -s /etc/shadow images/shadow.img
	ln -s /etc images/etc
	local r
	r=$(define_as_other l1 "$PWD/kernels/vmlinuz" "$PWD/images/shadow.img")
	refused "$r" "disk ${PWD//\//\\/}\\/images\\/shadow.img is not a volume of a started pool"
	r=$(define_as_other l2 "$PWD/images/shadow.img")
	refused "$r" "kernel ${PWD//\//\\/}\\/images\\/shadow.img is not a volume"
	r=$(define_as_other l3 "$PWD/kernels/vmlinuz" "$PWD/images/etc/shadow")
	refused "$r" "disk ${PWD//\//\\/}\\/images\\/etc\\/shadow is not a volume"
	# a kernel folder's symlink may not point out of it either
	ln -s /etc/shadow kernels/shadow
	r=$(define_as_other l4 "$PWD/kernels/shadow")
	refused "$r" "kernel ${PWD//\//\\/}\\/kernels\\/shadow is not a volume"
	# a qcow2 volume whose backing file is a host file (vmm would follow it)
	qemu-img create -q -f qcow2 -b /etc/shadow -F raw images/over.qcow2
	r=$(define_as_other l5 "$PWD/kernels/vmlinuz" "$PWD/images/over.qcow2" qcow2)
	refused "$r" "disk ${PWD//\//\\/}\\/images\\/over.qcow2 has the backing file \\/etc\\/shadow, which is not a volume"
	[ -z "$(ls state/domains)" ] || fail "refused definitions left files: $(ls state/domains)"
}

test_vmmd_accepts_pool_volumes_and_kernel_folder_files_from_others() {
	start_vmmd_for_others
	make_pool
	as_other "$VMMCTL" vol-create images a.qcow2 64M --format qcow2 >/dev/null
	as_other "$VMMCTL" vol-clone a.qcow2 b.qcow2 --pool images --overlay >/dev/null
	cp "$TESTGUEST" images/vmlinuz
	local r
	r=$(define_as_other v1 "$PWD/kernels/vmlinuz" "$PWD/images/b.qcow2" qcow2)
	printf '%s\n' "$r" | grep -q '"result":{"name":"v1"' || fail "a volume was refused: $r"
	r=$(define_as_other v2 "$PWD/images/vmlinuz" "$PWD/images/a.qcow2" qcow2)
	printf '%s\n' "$r" | grep -q '"result":{"name":"v2"' || fail "a kernel that is a volume was refused: $r"
	# and only those: the same kernel elsewhere is not taken
	mkdir -p elsewhere
	cp "$TESTGUEST" elsewhere/vmlinuz
	r=$(define_as_other v4 "$PWD/elsewhere/vmlinuz" "$PWD/images/a.qcow2" qcow2)
	refused "$r" "kernel ${PWD//\//\\/}\\/elsewhere\\/vmlinuz is not a volume"
	as_other "$VMMCTL" vol-create images c.img 1M >/dev/null
	as_other "$VMMCTL" attach-disk v1 "$PWD/images/c.img" vdb >/dev/null || fail "attach-disk of a volume"
	as_other "$VMMCTL" clone v1 v3 >/dev/null || fail "clone of a VM of volumes"
	[ -f images/v3.qcow2 ] || fail "the clone's disk was not copied into the pool"
	[ "$(ls state/domains | tr '\n' ' ')" = "v1.xml v2.xml v3.xml " ] || fail "$(ls state/domains)"
}

test_vmmd_lets_root_name_any_host_file() {
	start_vmmd_for_others
	vm_xml r1 /etc/passwd /etc/shadow >r1.xml
	ctl define r1.xml >/dev/null || fail "root may name any file"
	ctl dumpxml r1 | grep -q "<source file=\"/etc/shadow\"/>" || fail "the disk is not kept"
	# the same definition from another caller is not taken, nor is any edit of it
	! as_other "$VMMCTL" define r1.xml 2>/dev/null || fail "another caller redefined it"
	! as_other "$VMMCTL" detach-disk r1 vda 2>err || fail "another caller edited it"
	grep -q "kernel /etc/passwd is not a volume" err || fail "$(cat err)"
}

# A stand-in vmm that says its guest runs and then waits.
fake_vmm() {
	cat >fake-vmm <<'EOF'
#!/usr/bin/python3
import os, socket, sys, time
ctl = [a.split("=unix:", 1)[1] for a in sys.argv if a.startswith("--control=unix:")][0]
s = socket.socket(socket.AF_UNIX)
s.bind(ctl)
s.listen(8)
os.write(3, b"1")
time.sleep(600)
EOF
	chmod 755 fake-vmm
}

test_vmmd_checks_host_files_again_at_start() {
	fake_vmm
	start_vmmd_for_others --vmm "$PWD/fake-vmm"
	make_pool
	as_other "$VMMCTL" vol-create images a.img 1M >/dev/null
	vm_xml s1 "$PWD/kernels/vmlinuz" "$PWD/images/a.img" >s1.xml
	as_other "$VMMCTL" define s1.xml >/dev/null
	as_other "$VMMCTL" start s1 >/dev/null || fail "a VM of volumes did not start"
	as_other "$VMMCTL" destroy s1 >/dev/null
	# the pool stopped since: its files are no volumes now
	ctl pool-destroy images >/dev/null
	! as_other "$VMMCTL" start s1 2>err || fail "started with a disk of a stopped pool"
	[ "$(cat err)" = "error: disk $PWD/images/a.img is not a volume of a started pool; only root may name other host files" ] ||
		fail "$(cat err)"
	[ "$(state_of s1)" = "shut off" ] || fail "s1 is $(state_of s1)"
	ctl start s1 >/dev/null || fail "root could not start it"
	ctl destroy s1 >/dev/null
	# a definition root wrote, naming host files, starts only for root
	vm_xml r1 /etc/passwd >r1.xml
	ctl define r1.xml >/dev/null
	! as_other "$VMMCTL" start r1 2>err || fail "another caller started root's VM of host files"
	grep -q "kernel /etc/passwd is not a volume" err || fail "$(cat err)"
}

test_vmmd_lets_only_root_make_pools_outside_pool_roots() {
	mkdir -p pools
	start_vmmd_for_others --pool-root "$PWD/pools"
	pool_xml etc /etc >etc.xml
	! as_other "$VMMCTL" pool-define etc.xml 2>err || fail "another caller made /etc a pool"
	[ "$(cat err)" = "error: pool folder /etc is not under a folder for pools (vmmd --pool-root); only root may make other host folders pools" ] ||
		fail "$(cat err)"
	ln -s /etc pools/etc
	pool_xml etc2 "$PWD/pools/etc" >etc2.xml
	! as_other "$VMMCTL" pool-define etc2.xml 2>/dev/null || fail "a pool through a symlink out of the pool root"
	pool_xml mine "$PWD/pools/mine" >mine.xml
	as_other "$VMMCTL" pool-define mine.xml >/dev/null || fail "a pool under the pool root was refused"
	as_other "$VMMCTL" pool-start mine >/dev/null
	[ -d pools/mine ] || fail "the pool's folder was not made"
	[ "$(ls state/pools)" = "mine.xml" ] || fail "$(ls state/pools)"
	ctl pool-define etc.xml >/dev/null || fail "root may make any folder a pool"
}
