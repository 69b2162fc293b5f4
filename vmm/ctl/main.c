/*
 * vmmctl: a virsh-like command line over vmmd's API.
 *
 * NOTES
 * - Output is shaped like virsh's; --json prints vmmd's result as it is.
 * - Exit status 0, or 1 with one line on stderr ("error: ...").
 * - The socket is --connect PATH, else $VMMD_SOCKET, else the default.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <termios.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/jsonrpc.h"
#include "common/sock.h"
#include "common/util.h"
#include "vmm/ctl/ctl.h"

#define CALL_TIMEOUT_MS 600000 /* a volume clone copies a whole image */

static void usage(FILE *out)
{
	fputs("Usage: vmmctl [--connect SOCKET] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  list [--all]              running VMs, or all defined ones\n"
	      "  dominfo NAME              a VM's facts and state\n"
	      "  define FILE               define (or redefine) a VM from domain XML\n"
	      "  undefine NAME [--remove-all-storage]\n"
	      "                            remove a shut-off VM's definition (and its disks\n"
	      "                            that are volumes of started pools)\n"
	      "  clone NAME NEW-NAME [--overlay]\n"
	      "                            copy a shut-off VM as virt-clone does: new uuid and\n"
	      "                            MACs, writable disks copied beside the originals\n"
	      "                            (or, --overlay, qcow2 overlays backed by them)\n"
	      "  attach-disk NAME SOURCE TARGET [--subdriver raw|qcow2] [--mode readonly]\n"
	      "              [--serial S] [--cache none|writeback]\n"
	      "                            add a disk to the definition (seen at next start)\n"
	      "  detach-disk NAME TARGET   remove one\n"
	      "  attach-interface NAME network|bridge SOURCE [--mac MAC]\n"
	      "                            add a virtio NIC to the definition (seen at next start)\n"
	      "  detach-interface NAME TYPE --mac MAC  remove one\n"
	      "  domif-setlink NAME MAC up|down  plug or pull its cable, at once and kept\n"
	      "  dumpxml NAME              the VM's definition\n"
	      "  start NAME                start a VM\n"
	      "  shutdown NAME             press the VM's power button\n"
	      "  destroy NAME              end a VM at once\n"
	      "  reboot NAME               shut down through the power button, then start again\n"
	      "  reset NAME                reset the VM at once\n"
	      "  suspend NAME              pause a VM's vCPUs\n"
	      "  resume NAME               let them run again\n"
	      "  autostart [--disable] NAME  start the VM when vmmd starts (or not)\n"
	      "  domstats NAME             CPU, memory and disk statistics\n"
	      "  console NAME              attach to the serial console (Ctrl-] leaves)\n"
	      "  hostinfo                  the host's CPU, memory and KVM\n"
	      "\n"
	      "  pool-list [--all]         started pools, or all defined ones\n"
	      "  pool-define FILE          define a pool (type dir) from pool XML\n"
	      "  pool-start NAME           start a pool (its folder is made if missing)\n"
	      "  pool-destroy NAME         stop a pool (its files stay)\n"
	      "  pool-undefine NAME        remove a stopped pool's definition\n"
	      "  pool-dumpxml NAME         the pool's definition\n"
	      "  pool-info NAME            state and space\n"
	      "  pool-autostart [--disable] NAME\n"
	      "  vol-list POOL             the pool's volumes\n"
	      "  vol-create POOL NAME SIZE [--format raw|qcow2]\n"
	      "                            a new volume; SIZE takes K, M, G, T (powers of 1024)\n"
	      "  vol-clone VOL NEW --pool POOL [--overlay]\n"
	      "                            a full copy, or a qcow2 overlay backed by VOL\n"
	      "  vol-resize VOL SIZE --pool POOL   grow a volume\n"
	      "  vol-delete VOL --pool POOL\n"
	      "  vol-info VOL --pool POOL  format, capacity, allocation, backing file\n"
	      "  vol-upload VOL FILE --pool POOL\n"
	      "                            a new volume with FILE's bytes (an ISO, an image)\n"
	      "\n"
	      "  net-list [--all]          started networks, or all defined ones\n"
	      "  net-define FILE           define a network (NAT, isolated or the host's\n"
	      "                            bridge) from network XML\n"
	      "  net-start NAME            make its bridge, rules and DHCP/DNS server\n"
	      "  net-destroy NAME          stop it, removing all of them\n"
	      "  net-undefine NAME         remove a stopped network's definition\n"
	      "  net-dumpxml NAME          the network's definition\n"
	      "  net-info NAME             state, bridge and addresses\n"
	      "  net-autostart [--disable] NAME\n"
	      "  net-dhcp-leases NAME [--mac MAC]\n"
	      "                            the addresses its DHCP server gave\n"
	      "  domifaddr NAME            a running VM's addresses, from those leases\n"
	      "\n"
	      "The socket defaults to $VMMD_SOCKET, else " RUNSTATEDIR "/webkvm/vmmd.sock.\n",
	      out);
}

int die(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

json_object *call(struct ctl *c, const char *method, json_object *params)
{
	json_object *res;
	char code[64], err[1024];
	int r = jsonrpc_call(c->fd, method, params, CALL_TIMEOUT_MS, &res, code, sizeof(code), err,
			     sizeof(err));

	if (r != 0) {
		die("%s", err);
		return NULL;
	}
	return res;
}

json_object *name_params(const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

const char *str(json_object *o, const char *key)
{
	const char *s;

	return json_get_string(o, key, &s) ? s : "";
}

long long num(json_object *o, const char *key)
{
	int64_t v;

	return json_get_int64(o, key, &v) ? v : 0;
}

int print_json(json_object *res)
{
	puts(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(res);
	return 0;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	bool all = argc > 1 && strcmp(argv[1], "--all") == 0;
	json_object *res, *arr;

	if (argc > 2 || (argc == 2 && !all))
		return die("usage: list [--all]");
	res = call(c, "domain.list", NULL);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_object_object_get_ex(res, "domains", &arr);
	printf(" %-4s %-30s %s\n", "Id", "Name", "State");
	printf("--------------------------------------------\n");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		long long id = num(d, "id");
		char ids[24];

		if (id < 0 && !all)
			continue;
		snprintf(ids, sizeof(ids), id < 0 ? "-" : "%lld", id);
		printf(" %-4s %-30s %s\n", ids, str(d, "name"), str(d, "state"));
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int cmd_dominfo(struct ctl *c, const char *name)
{
	json_object *res = call(c, "domain.info", name_params(name));
	bool autostart = false, responding = true;
	long long id;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	id = num(res, "id");
	json_get_bool(res, "autostart", &autostart);
	if (id < 0)
		printf("%-16s-\n", "Id:");
	else
		printf("%-16s%lld\n", "Id:", id);
	printf("%-16s%s\n", "Name:", str(res, "name"));
	printf("%-16s%s\n", "UUID:", str(res, "uuid"));
	printf("%-16s%s\n", "OS Type:", "hvm");
	printf("%-16s%s\n", "State:", str(res, "state"));
	printf("%-16s%s\n", "Reason:", str(res, "reason"));
	if (id >= 0 && json_get_bool(res, "responding", &responding))
		printf("%-16s%s\n", "Responding:", responding ? "yes" : "no");
	printf("%-16s%lld\n", "CPU(s):", num(res, "vcpus"));
	if (id >= 0)
		printf("%-16s%.1fs\n", "CPU time:", num(res, "cpu_time_ns") / 1e9);
	printf("%-16s%lld KiB\n", "Max memory:", num(res, "max_memory_kib"));
	printf("%-16s%lld KiB\n", "Used memory:", num(res, "memory_kib"));
	printf("%-16s%s\n", "Persistent:", "yes");
	printf("%-16s%s\n", "Autostart:", autostart ? "enable" : "disable");
	printf("\n");
	json_object_put(res);
	return 0;
}

int define_from_file(struct ctl *c, const char *method, const char *file, const char *what)
{
	json_object *p, *res;
	void *buf;
	size_t len;
	int r = read_file(file, 1 << 20, &buf, &len);

	if (r < 0)
		return die("cannot read %s: %s", file, strerror(-r));
	if (memchr(buf, '\0', len)) {
		free(buf);
		return die("%s is not a text file", file);
	}
	p = json_object_new_object();
	json_object_object_add(p, "xml", json_object_new_string_len(buf, len));
	free(buf);
	res = call(c, method, p);
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	/* virsh quotes a domain's name, not a pool's */
	if (strcmp(what, "Domain") == 0)
		printf("Domain '%s' defined from %s\n\n", str(res, "name"), file);
	else
		printf("%s %s defined from %s\n\n", what, str(res, "name"), file);
	json_object_put(res);
	return 0;
}

int print_xml(struct ctl *c, const char *method, const char *name)
{
	json_object *res = call(c, method, name_params(name));

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	fputs(str(res, "xml"), stdout);
	json_object_put(res);
	return 0;
}

/* Report what a call did: the result as JSON, or a sentence as virsh says it. */
static int report(struct ctl *c, json_object *res, const char *name, const char *what, bool quote,
		  const char *done)
{
	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf(quote ? "%s '%s' %s\n\n" : "%s %s %s\n\n", what, name, done);
	json_object_put(res);
	return 0;
}

int name_call(struct ctl *c, const char *method, const char *name, const char *what, bool quote,
	      const char *done)
{
	return report(c, call(c, method, name_params(name)), name, what, quote, done);
}

int autostart_call(struct ctl *c, const char *method, const char *name, const char *what,
		   bool quote, bool disable)
{
	json_object *p = name_params(name);

	json_object_object_add(p, "enable", json_object_new_boolean(!disable));
	return report(c, call(c, method, p), name, what, quote,
		      disable ? "unmarked as autostarted" : "marked as autostarted");
}

static int cmd_autostart(struct ctl *c, int argc, char **argv)
{
	bool disable = argc == 3 && strcmp(argv[1], "--disable") == 0;

	if (argc != 2 && !disable)
		return die("usage: autostart [--disable] NAME");
	return autostart_call(c, "domain.autostart", argv[argc - 1], "Domain", true, disable);
}

static int cmd_domstats(struct ctl *c, const char *name)
{
	json_object *res = call(c, "domain.stats", name_params(name)), *arr;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	printf("Domain: '%s'\n", name);
	printf("  state.state=%s\n", str(res, "state"));
	if (json_object_object_get_ex(res, "cpu_time_ns", NULL))
		printf("  cpu.time=%lld\n", num(res, "cpu_time_ns"));
	if (json_object_object_get_ex(res, "vcpus", &arr)) {
		printf("  vcpu.current=%zu\n", json_object_array_length(arr));
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			printf("  vcpu.%zu.time=%lld\n", i,
			       num(json_object_array_get_idx(arr, i), "cpu_time_ns"));
	}
	if (json_object_object_get_ex(res, "memory_bytes", NULL)) {
		printf("  balloon.current=%lld\n", num(res, "memory_bytes") / 1024);
		printf("  balloon.rss=%lld\n", num(res, "rss_bytes") / 1024);
	}
	if (json_object_object_get_ex(res, "disks", &arr)) {
		printf("  block.count=%zu\n", json_object_array_length(arr));
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *b = json_object_array_get_idx(arr, i);

			printf("  block.%zu.name=%s\n", i, str(b, "target"));
			printf("  block.%zu.rd.reqs=%lld\n", i, num(b, "rd_reqs"));
			printf("  block.%zu.rd.bytes=%lld\n", i, num(b, "rd_bytes"));
			printf("  block.%zu.wr.reqs=%lld\n", i, num(b, "wr_reqs"));
			printf("  block.%zu.wr.bytes=%lld\n", i, num(b, "wr_bytes"));
			printf("  block.%zu.fl.reqs=%lld\n", i, num(b, "flush_reqs"));
		}
	}
	if (json_object_object_get_ex(res, "nets", &arr)) {
		printf("  net.count=%zu\n", json_object_array_length(arr));
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *n = json_object_array_get_idx(arr, i);

			/* the tap, as virsh shows; the MAC for a VM this vmmd adopted */
			printf("  net.%zu.name=%s\n", i,
			       json_object_object_get_ex(n, "target", NULL) ? str(n, "target")
									   : str(n, "mac"));
			printf("  net.%zu.rx.bytes=%lld\n", i, num(n, "rx_bytes"));
			printf("  net.%zu.rx.pkts=%lld\n", i, num(n, "rx_packets"));
			printf("  net.%zu.rx.drop=%lld\n", i, num(n, "rx_dropped"));
			printf("  net.%zu.tx.bytes=%lld\n", i, num(n, "tx_bytes"));
			printf("  net.%zu.tx.pkts=%lld\n", i, num(n, "tx_packets"));
			printf("  net.%zu.tx.drop=%lld\n", i, num(n, "tx_dropped"));
		}
	}
	printf("\n");
	json_object_put(res);
	return 0;
}

static int cmd_hostinfo(struct ctl *c)
{
	json_object *res = call(c, "host.info", NULL);
	bool kvm = false;

	if (!res)
		return 1;
	if (c->json)
		return print_json(res);
	json_get_bool(res, "kvm", &kvm);
	printf("%-20s%s\n", "Hostname:", str(res, "hostname"));
	printf("%-20s%s\n", "CPU model:", str(res, "cpu_model"));
	printf("%-20s%lld\n", "CPU(s):", num(res, "cpus"));
	printf("%-20s%lld KiB\n", "Memory size:", num(res, "memory_kib"));
	printf("%-20s%lld KiB\n", "Memory available:", num(res, "memory_available_kib"));
	printf("%-20s%s\n", "KVM:", kvm ? "available" : "not available");
	printf("\n");
	json_object_put(res);
	return 0;
}

/* Copy bytes both ways until Ctrl-] on the terminal or the console closes. */
static int console_loop(int sock)
{
	struct termios saved, raw;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	char buf[4096];
	int r = 0;

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
					 { .fd = sock, .events = POLLIN } };
		ssize_t n;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (write_all(STDOUT_FILENO, buf, n) < 0)
				break;
		}
		if (fds[0].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				break; /* stdin closed: leave, the VM goes on */
			esc = tty ? memchr(buf, 0x1d, n) : NULL;
			if (esc)
				n = esc - buf;
			if (n > 0 && write_all(sock, buf, n) < 0) {
				r = 1;
				break;
			}
			if (esc)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return r;
}

static int cmd_console(struct ctl *c, const char *name)
{
	json_object *res = call(c, "domain.console", name_params(name));
	const char *path;
	int sock, r;

	if (!res)
		return 1;
	if (!json_get_string(res, "serial", &path)) {
		json_object_put(res);
		return die("vmmd gave no console for %s", name);
	}
	sock = unix_connect(path);
	if (sock < 0) {
		r = die("cannot attach to %s's console at %s: %s", name, path, strerror(-sock));
		json_object_put(res);
		return r;
	}
	json_object_put(res);
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "Connected to domain '%s'\r\nEscape character is ^] (Ctrl + ])\r\n",
			name);
	r = console_loop(sock);
	close(sock);
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "\r\n");
	return r;
}

static const struct {
	const char *name, *method, *done;
} simple_cmds[] = {
	{ "start", "domain.start", "started" },
	{ "shutdown", "domain.shutdown", "is being shutdown" },
	{ "destroy", "domain.destroy", "destroyed" },
	{ "reboot", "domain.reboot", "is being rebooted" },
	{ "reset", "domain.reset", "was reset" },
	{ "suspend", "domain.suspend", "suspended" },
	{ "resume", "domain.resume", "resumed" },
};

/* The commands of edit.c, storage.c and network.c. */
static const struct command *table_command(const char *cmd)
{
	static const struct command *const tables[] = { edit_commands, storage_commands,
							network_commands };
	const struct command *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(tables) && !found; i++)
		found = command_find(tables[i], cmd);
	return found;
}

static int dispatch(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	const struct command *table_cmd;

	if (strcmp(cmd, "list") == 0)
		return cmd_list(c, argc, argv);
	if (strcmp(cmd, "autostart") == 0)
		return cmd_autostart(c, argc, argv);
	if (strcmp(cmd, "hostinfo") == 0)
		return argc == 1 ? cmd_hostinfo(c) : die("usage: hostinfo");
	if ((table_cmd = table_command(cmd)))
		return command_run(c, table_cmd, argc, argv);
	if (argc != 2)
		return die("usage: %s NAME (see vmmctl --help)", cmd);
	if (strcmp(cmd, "dominfo") == 0)
		return cmd_dominfo(c, argv[1]);
	if (strcmp(cmd, "define") == 0)
		return define_from_file(c, "domain.define", argv[1], "Domain");
	if (strcmp(cmd, "dumpxml") == 0)
		return print_xml(c, "domain.dumpxml", argv[1]);
	if (strcmp(cmd, "domstats") == 0)
		return cmd_domstats(c, argv[1]);
	if (strcmp(cmd, "console") == 0)
		return cmd_console(c, argv[1]);
	for (size_t i = 0; i < ARRAY_SIZE(simple_cmds); i++)
		if (strcmp(cmd, simple_cmds[i].name) == 0)
			return name_call(c, simple_cmds[i].method, argv[1], "Domain", true,
					 simple_cmds[i].done);
	return die("unknown command %s; see vmmctl --help", cmd);
}

static bool known_command(const char *cmd)
{
	if (table_command(cmd))
		return true;
	static const char *const others[] = { "list", "autostart", "hostinfo", "dominfo",
					      "define", "dumpxml", "domstats", "console" };

	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (strcmp(cmd, others[i]) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(simple_cmds); i++)
		if (strcmp(cmd, simple_cmds[i].name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl c = { .fd = -1 };
	const char *sock = getenv("VMMD_SOCKET");
	int opt, r;

	if (!sock || !*sock)
		sock = RUNSTATEDIR "/webkvm/vmmd.sock";
	/* options stop at the command: its own options follow it */
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			sock = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return die("unknown option; see vmmctl --help");
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (!known_command(argv[optind]))
		return die("unknown command %s; see vmmctl --help", argv[optind]);
	c.fd = unix_connect(sock);
	if (c.fd < 0)
		return die("cannot connect to vmmd at %s: %s", sock, strerror(-c.fd));
	r = dispatch(&c, argc - optind, argv + optind);
	close(c.fd);
	return r;
}
