/*
 * Virtual networks: NAT, isolated, and the host's own bridges.
 *
 * NOTES
 * - Definitions in STATE/networks/NAME.xml, autostart marks in
 *   STATE/network-autostart/NAME. A started network has the folder
 *   RUN/networks/NAME with dnsmasq's configuration, pid and lease files,
 *   and last the file "active", so it stays started across a vmmd restart
 *   (its bridge, rules and dnsmasq do not depend on vmmd).
 * - Starting a NAT or isolated network: the bridge (with its address and
 *   MAC), the nftables table "ip webkvm-NAME", IPv4 forwarding (NAT only),
 *   then dnsmasq, which daemonizes once it is serving. A step that fails
 *   undoes the steps before it, so nothing is left half set up.
 * - Stopping removes the same things, each whether or not it is there:
 *   it also cleans up after a host where something went away by itself.
 * - A <forward mode='bridge'/> network is the host's bridge as it is:
 *   starting checks that it exists; nothing is made or removed.
 * - Subnets of two definitions may not overlap, and neither may two
 *   definitions' bridges. At start, the subnet must also be free on the
 *   host (no interface has an address in it) and the bridge name unused.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/mac.h"
#include "vmm/service/command.h"
#include "vmm/service/netdev.h"
#include "vmm/service/vmmd.h"

#define DEFAULT_NETWORK_XML_FMT                                                           \
	"<network>\n"                                                                      \
	"  <name>default</name>\n"                                                         \
	"  <forward mode='nat'/>\n"                                                        \
	"  <bridge name='%s' stp='on' delay='0'/>\n"                                       \
	"  <ip address='192.168.%u.1' netmask='255.255.255.0'>\n"                          \
	"    <dhcp>\n"                                                                     \
	"      <range start='192.168.%u.2' end='192.168.%u.254'/>\n"                       \
	"    </dhcp>\n"                                                                    \
	"  </ip>\n"                                                                        \
	"</network>\n"

static void run_folder(const struct vmmd *d, const char *name, const char *file, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s/networks/%s%s%s", d->run_dir, name, file ? "/" : "",
		 file ? file : "");
}

struct network *network_find(struct vmmd *d, const char *name)
{
	for (unsigned int i = 0; i < d->nnetworks; i++)
		if (strcmp(d->networks[i]->def->name, name) == 0)
			return d->networks[i];
	return NULL;
}

static struct network *network_find_uuid(struct vmmd *d, const char *uuid)
{
	for (unsigned int i = 0; i < d->nnetworks; i++)
		if (strcmp(d->networks[i]->def->uuid, uuid) == 0)
			return d->networks[i];
	return NULL;
}

/* The network (other than self) that makes the bridge name, or NULL. */
static struct network *bridge_owner(struct vmmd *d, const char *bridge, const struct network *self)
{
	for (unsigned int i = 0; i < d->nnetworks; i++) {
		struct network *n = d->networks[i];

		if (n != self && n->def->forward != NETWORK_BRIDGE &&
		    strcmp(n->def->bridge, bridge) == 0)
			return n;
	}
	return NULL;
}

static int network_add(struct vmmd *d, struct network_def *def, struct network **ret)
{
	struct network **p = realloc(d->networks, (d->nnetworks + 1) * sizeof(*p));
	struct network *net;

	if (!p)
		return -ENOMEM;
	d->networks = p;
	net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	net->def = def;
	d->networks[d->nnetworks++] = net;
	*ret = net;
	return 0;
}

/* Up to len - 1 bytes of a small file (a /proc file has no size), NUL-ended. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = '\0';
	return (ssize_t)off;
}

/* The pid in the network's dnsmasq.pid if that process is our dnsmasq, else 0. */
static pid_t dnsmasq_pid(const struct vmmd *d, const struct network_def *def)
{
	char path[4096], conf[4096], buf[32], cmd[8192];
	ssize_t n;
	long pid;

	run_folder(d, def->name, "dnsmasq.pid", path, sizeof(path));
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 1)
		return 0;
	/* the pid is ours only while that process runs dnsmasq with our file */
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	run_folder(d, def->name, "dnsmasq.conf", conf, sizeof(conf));
	n = read_small(path, cmd, sizeof(cmd));
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1)
		if (strncmp(cmd + i, "--conf-file=", 12) == 0 && strcmp(cmd + i + 12, conf) == 0)
			return (pid_t)pid;
	return 0;
}

static void dnsmasq_stop(const struct vmmd *d, const struct network_def *def)
{
	pid_t pid = dnsmasq_pid(d, def);
	int pidfd;

	if (!pid)
		return;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (kill(pid, SIGTERM) < 0 || pidfd < 0) {
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	/* dnsmasq ends at once on SIGTERM; wait, so that its port is free when we return */
	if (poll(&(struct pollfd){ .fd = pidfd, .events = POLLIN }, 1, 5000) == 0) {
		log_warn("network %s: dnsmasq (pid %d) ignores SIGTERM; killing it", def->name,
			 (int)pid);
		kill(pid, SIGKILL);
		poll(&(struct pollfd){ .fd = pidfd, .events = POLLIN }, 1, 5000);
	}
	close(pidfd);
}

/* Load text as the network's table, replacing one that is there. */
static int nft_load(const struct network_def *def, const char *rules, char *err, size_t errlen)
{
	static const char *const argv[] = { "nft", "-f", "-", NULL };
	char table[XML_NAME_MAX + 16], *text;
	int r;

	network_nft_table(def, table, sizeof(table));
	/* declaring then deleting the table makes the delete work whether it exists or not */
	if (asprintf(&text, "table ip %s\ndelete table ip %s\n%s", table, table,
		     rules ? rules : "") < 0)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	r = command_run(argv, text, err, errlen);
	free(text);
	return r;
}

/* Remove what a started network made; each part whether or not it is there. */
static void teardown(const struct vmmd *d, const struct network_def *def)
{
	static const char *const files[] = { "active", "dnsmasq.pid", "dnsmasq.conf", "leases",
					     NULL };
	char path[4096], err[256];

	if (def->forward != NETWORK_BRIDGE) {
		dnsmasq_stop(d, def);
		if (nft_load(def, NULL, err, sizeof(err)) < 0)
			log_warn("network %s: cannot remove its nftables table: %s", def->name, err);
		if (netdev_is_bridge(def->bridge) && netdev_bridge_delete(def->bridge) < 0)
			log_warn("network %s: cannot delete bridge %s", def->name, def->bridge);
	}
	for (unsigned int i = 0; files[i]; i++) {
		run_folder(d, def->name, files[i], path, sizeof(path));
		unlink(path);
	}
	run_folder(d, def->name, NULL, path, sizeof(path));
	rmdir(path);
}

static int load_one(struct vmmd *d, const char *name, const char *xml, size_t len, char *err,
		    size_t errlen)
{
	struct network_def *def;
	struct network *net;
	char mark[4096];

	if (network_def_parse(&def, xml, len, err, errlen) < 0)
		return -EINVAL;
	if (strcmp(def->name, name) != 0 || network_find(d, def->name) ||
	    network_find_uuid(d, def->uuid)) {
		network_def_free(def);
		return error_set(err, errlen, -EINVAL, "the name or uuid inside does not fit");
	}
	if (network_add(d, def, &net) < 0) {
		network_def_free(def);
		return error_set(err, errlen, -ENOMEM, "out of memory");
	}
	net->autostart = store_marked(d, "network-autostart", def->name);
	run_folder(d, def->name, "active", mark, sizeof(mark));
	net->active = access(mark, F_OK) == 0;
	if (net->active && def->forward != NETWORK_BRIDGE &&
	    (!netdev_is_bridge(def->bridge) || !dnsmasq_pid(d, def))) {
		/* the host lost part of it (a reboot keeps the run folder elsewhere) */
		log_warn("network %s: its bridge or dnsmasq has gone; it is stopped", def->name);
		teardown(d, def);
		net->active = false;
	}
	return 0;
}

int networks_load(struct vmmd *d)
{
	return store_load(d, "networks", NETWORK_XML_MAX, load_one);
}

void networks_autostart(struct vmmd *d)
{
	const char *code;
	char err[512];

	for (unsigned int i = 0; i < d->nnetworks; i++)
		if (d->networks[i]->autostart && !d->networks[i]->active &&
		    network_start(d, d->networks[i], &code, err, sizeof(err)) < 0)
			log_error("network autostart: %s", err);
}

void networks_release(struct vmmd *d)
{
	for (unsigned int i = 0; i < d->nnetworks; i++) {
		network_def_free(d->networks[i]->def);
		free(d->networks[i]);
	}
	free(d->networks);
	d->networks = NULL;
	d->nnetworks = 0;
}

/* A bridge name (virbrN) that no definition has and no host device uses. */
static int pick_bridge(struct vmmd *d, char *out, size_t len)
{
	for (unsigned int n = 0; n < 256; n++) {
		snprintf(out, len, "virbr%u", n);
		if (!bridge_owner(d, out, NULL) && !netdev_exists(out))
			return 0;
	}
	return -ENOSPC;
}

/* Checks against the other definitions: 0, or -1 with code and err. */
static int check_conflicts(struct vmmd *d, const struct network_def *def,
			   const struct network *self, const char **code, char *err, size_t errlen)
{
	struct network *owner;

	*code = "network-exists";
	if (def->forward == NETWORK_BRIDGE)
		return 0;
	owner = bridge_owner(d, def->bridge, self);
	if (owner)
		return error_set(err, errlen, -EEXIST, "the network %s already has bridge %s",
				 owner->def->name, def->bridge), -1;
	for (unsigned int i = 0; i < d->nnetworks; i++) {
		struct network *n = d->networks[i];
		char a[INET_ADDRSTRLEN];

		if (n == self || !network_subnets_overlap(def, n->def))
			continue;
		inet_ntop(AF_INET, &(struct in_addr){ htonl(n->def->address & network_mask(n->def)) },
			  a, sizeof(a));
		return error_set(err, errlen, -EEXIST,
				 "its subnet overlaps %s/%u of the network %s", a, n->def->prefix,
				 n->def->name), -1;
	}
	return 0;
}

int network_define(struct vmmd *d, const char *xml, size_t len, struct network **ret,
		   const char **code, char *err, size_t errlen)
{
	struct network_def *def;
	struct network *net, *same_uuid;
	char *text;
	int r;

	*code = "invalid-xml";
	if (network_def_parse(&def, xml, len, err, errlen) < 0)
		return -1;
	net = network_find(d, def->name);
	same_uuid = network_find_uuid(d, def->uuid);
	*code = "network-exists";
	if (net && strcmp(net->def->uuid, def->uuid) != 0 && def->uuid_given) {
		error_set(err, errlen, -EEXIST, "a network named %s exists with another uuid (%s)",
			  def->name, net->def->uuid);
		goto fail;
	}
	if (same_uuid && same_uuid != net) {
		error_set(err, errlen, -EEXIST, "uuid %s belongs to the network %s", def->uuid,
			  same_uuid->def->name);
		goto fail;
	}
	if (net && net->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "the network %s is started; stop it to change it",
			  def->name);
		goto fail;
	}
	*code = "internal-error";
	if (def->forward != NETWORK_BRIDGE && !def->bridge[0]) {
		char br[NETWORK_BRIDGE_MAX + 1];

		if (net && net->def->bridge[0])
			snprintf(br, sizeof(br), "%s", net->def->bridge);
		else if (pick_bridge(d, br, sizeof(br)) < 0) {
			error_set(err, errlen, -ENOSPC, "no free bridge name virbr0 to virbr255");
			goto fail;
		}
		if (network_def_set_bridge(def, br) < 0)
			goto nomem;
	}
	if (def->forward != NETWORK_BRIDGE && !def->mac_given) {
		uint8_t mac[6];

		if (net && net->def->mac_given)
			memcpy(mac, net->def->mac, 6);
		else
			mac_random(mac);
		if (network_def_set_mac(def, mac) < 0)
			goto nomem;
	}
	if (check_conflicts(d, def, net, code, err, errlen) < 0)
		goto fail;
	*code = "internal-error";
	if (net && strcmp(net->def->uuid, def->uuid) != 0 &&
	    network_def_set_uuid(def, net->def->uuid) < 0)
		goto nomem;
	text = network_def_format(def);
	if (!text)
		goto nomem;
	r = store_save(d, "networks", def->name, text, err, errlen);
	free(text);
	if (r < 0) {
		*code = "io-error";
		goto fail;
	}
	if (net) {
		network_def_free(net->def);
		net->def = def;
	} else if (network_add(d, def, &net) < 0) {
		store_remove(d, "networks", def->name, err, errlen);
		goto nomem;
	}
	*ret = net;
	return 0;
nomem:
	*code = "internal-error";
	error_set(err, errlen, -ENOMEM, "out of memory");
fail:
	network_def_free(def);
	return -1;
}

int network_undefine(struct vmmd *d, struct network *net, const char **code, char *err,
		     size_t errlen)
{
	if (net->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "the network %s is started; stop it first",
			  net->def->name);
		return -1;
	}
	if (store_remove(d, "networks", net->def->name, err, errlen) < 0) {
		*code = "io-error";
		return -1;
	}
	store_mark(d, "network-autostart", net->def->name, false, err, errlen);
	for (unsigned int i = 0; i < d->nnetworks; i++) {
		if (d->networks[i] == net) {
			d->networks[i] = d->networks[--d->nnetworks];
			break;
		}
	}
	network_def_free(net->def);
	free(net);
	return 0;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
	if (!text)
		return error_set(err, errlen, -ENOMEM, "out of memory");
	if (write_file_atomic(path, text, strlen(text), 0644) < 0)
		return error_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Bring up a NAT or isolated network's parts; the caller tears down on failure. */
static int setup(struct vmmd *d, const struct network_def *def, char *err, size_t errlen)
{
	char dir[4096], path[4096], who[64], why[512], *text;
	const char *argv[3];
	int r;

	if (netdev_exists(def->bridge))
		return error_set(err, errlen, -EEXIST,
				 "the bridge name %s is in use by a device on this host", def->bridge);
	if (netdev_subnet_in_use(def->address & network_mask(def), network_mask(def), who,
				 sizeof(who)))
		return error_set(err, errlen, -EEXIST, "its subnet is in use on this host (%s)",
				 who);
	if ((r = netdev_bridge_create(def->bridge, def->mac, def->address, def->prefix,
				      def->stp, def->delay, err, errlen)) < 0)
		return r;
	text = network_nft_rules(def);
	r = text ? nft_load(def, text, why, sizeof(why)) : error_set(why, sizeof(why), -ENOMEM, "no memory");
	free(text);
	if (r < 0)
		return error_set(err, errlen, -EIO, "nft: %s", why);
	if (def->forward == NETWORK_NAT) {
		int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "1\n", 2) != 2) {
			r = error_set(err, errlen, -errno, "cannot turn on IPv4 forwarding: %s",
				      strerror(errno));
			if (fd >= 0)
				close(fd);
			return r;
		}
		close(fd);
	}
	run_folder(d, def->name, NULL, dir, sizeof(dir));
	run_folder(d, def->name, "dnsmasq.conf", path, sizeof(path));
	text = network_dnsmasq_conf(def, dir);
	r = write_text(path, text, err, errlen);
	free(text);
	if (r < 0)
		return r;
	{
		char opt[4096 + 16];

		snprintf(opt, sizeof(opt), "--conf-file=%s", path);
		argv[0] = "dnsmasq";
		argv[1] = opt;
		argv[2] = NULL;
		if (command_run(argv, NULL, why, sizeof(why)) < 0)
			return error_set(err, errlen, -EIO, "dnsmasq: %s", why);
	}
	return 0;
}

int network_start(struct vmmd *d, struct network *net, const char **code, char *err,
		  size_t errlen)
{
	const struct network_def *def = net->def;
	char dir[4096], mark[4096];
	int r;

	if (net->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EBUSY, "the network %s is already started", def->name);
		return -1;
	}
	*code = "network-failed";
	if (def->forward == NETWORK_BRIDGE && !netdev_is_bridge(def->bridge)) {
		error_set(err, errlen, -ENODEV, "%s: there is no bridge %s on this host",
			  def->name, def->bridge);
		return -1;
	}
	run_folder(d, def->name, NULL, dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		error_set(err, errlen, -errno, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	r = def->forward == NETWORK_BRIDGE ? 0 : setup(d, def, err, errlen);
	if (r == 0) {
		run_folder(d, def->name, "active", mark, sizeof(mark));
		r = write_text(mark, def->bridge, err, errlen);
	}
	if (r < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		error_set(err, errlen, r, "cannot start the network %s: %s", def->name, why);
		if (r != -EEXIST || def->forward == NETWORK_BRIDGE)
			teardown(d, def);
		else {
			/* the bridge or subnet belongs to someone else: touch nothing of it */
			run_folder(d, def->name, NULL, dir, sizeof(dir));
			rmdir(dir);
		}
		return -1;
	}
	net->active = true;
	log_info("network %s started on %s", def->name, def->bridge);
	return 0;
}

int network_stop(struct vmmd *d, struct network *net, const char **code, char *err,
		 size_t errlen)
{
	if (!net->active) {
		*code = "invalid-state";
		error_set(err, errlen, -EINVAL, "the network %s is not started", net->def->name);
		return -1;
	}
	teardown(d, net->def);
	net->active = false;
	log_info("network %s stopped", net->def->name);
	return 0;
}

int network_set_autostart(struct vmmd *d, struct network *net, bool on, char *err,
			  size_t errlen)
{
	int r = store_mark(d, "network-autostart", net->def->name, on, err, errlen);

	if (r == 0)
		net->autostart = on;
	return r;
}

int network_leases(const struct vmmd *d, const struct network *net,
		   void (*fn)(void *opaque, const struct network_lease *lease), void *opaque)
{
	char path[4096], *buf, *line, *save = NULL;
	time_t now = time(NULL);
	size_t len;
	int r;

	if (!net->active || net->def->forward == NETWORK_BRIDGE)
		return 0;
	run_folder(d, net->def->name, "leases", path, sizeof(path));
	r = read_file(path, 4 << 20, (void **)&buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* dnsmasq's format: expiry MAC address hostname client-id, '*' when unknown */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct network_lease l = { 0 };
		char mac[32], ip[64], host[256];
		struct in_addr a;

		if (sscanf(line, "%lld %31s %63s %255s", &l.expiry, mac, ip, host) != 4 ||
		    mac_parse(mac, l.mac) < 0 || inet_pton(AF_INET, ip, &a) != 1)
			continue;
		/* one dnsmasq has not pruned yet is over all the same (as libvirt skips it) */
		if (l.expiry && l.expiry < (long long)now)
			continue;
		l.ip = ntohl(a.s_addr);
		l.prefix = net->def->prefix;
		l.hostname = strcmp(host, "*") ? host : NULL;
		fn(opaque, &l);
	}
	free(buf);
	return 0;
}

struct lease_load {
	struct lease_table *t;
	const char *network;
};

static void lease_add(void *opaque, const struct network_lease *l)
{
	struct lease_load *ld = opaque;
	struct lease_table *t = ld->t;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct lease_entry *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return; /* a list shows fewer addresses; nothing else depends on them */
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].network = ld->network;
	memcpy(t->v[t->n].mac, l->mac, 6);
	t->v[t->n].ip = l->ip;
	t->n++;
}

static int lease_cmp(const void *a, const void *b)
{
	const struct lease_entry *x = a, *y = b;

	return memcmp(x->mac, y->mac, 6);
}

void lease_table_load(const struct vmmd *d, struct lease_table *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < d->nnetworks; i++) {
		struct lease_load ld = { t, d->networks[i]->def->name };

		network_leases(d, d->networks[i], lease_add, &ld);
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), lease_cmp);
}

void lease_table_free(struct lease_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

size_t lease_table_find(const struct lease_table *t, const char *net, const uint8_t mac[6],
			uint32_t *ips, size_t max)
{
	size_t lo = 0, hi = t->n, n = 0;

	/* the first entry with this MAC, then each after it with the same */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(t->v[mid].mac, mac, 6) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n && !memcmp(t->v[lo].mac, mac, 6) && n < max; lo++)
		if (!strcmp(t->v[lo].network, net))
			ips[n++] = t->v[lo].ip;
	return n;
}

int networks_make_default(struct vmmd *d)
{
	char xml[1024], br[NETWORK_BRIDGE_MAX + 1], who[64], err[512];
	struct network *net;
	const char *code;
	unsigned int third;

	/* 192.168.122.0/24 as libvirt has it, else the next /24 that is free */
	for (third = 122; third < 255; third++) {
		uint32_t subnet = (192u << 24) | (168u << 16) | (third << 8);
		bool taken = netdev_subnet_in_use(subnet, 0xffffff00u, who, sizeof(who));

		for (unsigned int i = 0; i < d->nnetworks && !taken; i++)
			taken = d->networks[i]->def->forward != NETWORK_BRIDGE &&
				(d->networks[i]->def->address & network_mask(d->networks[i]->def)) ==
					(subnet & network_mask(d->networks[i]->def));
		if (!taken)
			break;
	}
	if (third == 255 || pick_bridge(d, br, sizeof(br)) < 0) {
		log_warn("no free subnet or bridge name for the default network");
		return -ENOSPC;
	}
	snprintf(xml, sizeof(xml), DEFAULT_NETWORK_XML_FMT, br, third, third, third);
	if (network_define(d, xml, strlen(xml), &net, &code, err, sizeof(err)) < 0 ||
	    network_set_autostart(d, net, true, err, sizeof(err)) < 0) {
		log_error("cannot define the default network: %s", err);
		return -EIO;
	}
	log_info("defined the default network on %s, 192.168.%u.0/24", br, third);
	return 0;
}
