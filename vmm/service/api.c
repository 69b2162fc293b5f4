/*
 * vmmd's API: one function per method, each checking its params.
 *
 * NOTES
 * - Methods: domain.list, domain.define, domain.undefine, domain.dumpxml,
 *   domain.info, domain.start, domain.shutdown, domain.destroy,
 *   domain.reboot, domain.reset, domain.suspend, domain.resume,
 *   domain.autostart, domain.stats, domain.console, domain.console_log,
 *   domain.open_console,
 *   domain.clone, domain.attach_disk, domain.detach_disk,
 *   domain.attach_interface, domain.detach_interface, domain.set_link,
 *   host.info; the pool.*
 *   and vol.* methods are in api_storage.c, the net.* methods and
 *   domain.ifaddr in api_network.c.
 * - Every method that changes something is logged with the caller's uid.
 * - Reads (domain.list, domain.info, dumpxml, ...) answer from vmmd's
 *   memory at once, whatever the VMs do; "responding" says whether a
 *   running VM's vmm answers. A method that needs its vmm (shutdown,
 *   suspend, resume, reset, reboot, stats) or waits for a process (start,
 *   destroy) answers later, and vmmd serves everyone else meanwhile.
 * - The caller's uid decides which host files a definition may name
 *   (hostfile.c).
 * - A VM's summary (each entry of domain.list, and the answers about one
 *   VM) carries a running VM's IPv4 addresses: what the DHCP of its
 *   networks leased to its MACs (virsh domifaddr --source lease).
 * - domain.reboot presses the power button and starts the VM again once
 *   the guest has shut down, as libvirt does without a guest agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fingerprint.h"
#include "common/log.h"
#include "common/mac.h"
#include "common/util.h"
#include "vmm/service/api.h"

/* In a job's child: every descriptor closed but the nkeep in keep, no signal blocked. */
static void job_child_setup(const int *keep, unsigned int nkeep)
{
	int fds[64];
	unsigned int n = 0, low = 3;
	sigset_t none;

	for (unsigned int i = 0; i < nkeep && n < ARRAY_SIZE(fds); i++) {
		unsigned int k = n++;

		/* in order, for the ranges between them */
		for (; k > 0 && fds[k - 1] > keep[i]; k--)
			fds[k] = fds[k - 1];
		fds[k] = keep[i];
	}
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] < (int)low)
			continue;
		if (fds[i] > (int)low)
			close_range(low, fds[i] - 1, 0);
		low = fds[i] + 1;
	}
	close_range(low, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int api_job(struct api_ctx *c, struct job *job, int (*work)(void *arg), void *arg,
	    const int *keep, unsigned int nkeep)
{
	pid_t pid = fork();

	if (pid == 0) {
		job_child_setup(keep, nkeep);
		_exit(work(arg));
	}
	if (pid < 0) {
		api_fail(c, "io-error", "cannot fork: %s", strerror(errno));
		return -1;
	}
	job->pidfd = (struct watch){ .kind = FD_JOB, .fd = syscall(SYS_pidfd_open, pid, 0), .owner = job };
	if (job->pidfd.fd < 0 || vmmd_watch(c->d, &job->pidfd) < 0) {
		api_fail(c, "io-error", "cannot watch the child: %s", strerror(errno));
		if (job->pidfd.fd >= 0)
			close(job->pidfd.fd);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	job->q = c->later;
	job->next = c->d->jobs;
	c->d->jobs = job;
	c->deferred = true;
	return 0;
}

json_object *api_fail(struct api_ctx *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	c->code = code;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return NULL;
}

const char *api_string(struct api_ctx *c, const char *key)
{
	const char *v;

	if (json_get_string(c->params, key, &v))
		return v;
	api_fail(c, JSONRPC_INVALID_PARAMS, "params.%s (a string) is missing", key);
	return NULL;
}

/* The domain named by params.name, or NULL with the error set. */
static struct domain *param_domain(struct api_ctx *c)
{
	const char *name = api_string(c, "name");
	struct domain *dom;

	if (!name)
		return NULL;
	dom = domain_find(c->d, name);
	if (!dom)
		api_fail(c, "no-domain", "no VM named '%s'", name);
	return dom;
}

/*
 * A VM's summary, field by field, to a sink: the one list of what
 * domain.list and the answers on one VM carry, whether it is being made
 * into JSON or into domain.list's etag.
 */
struct summary_sink {
	void (*str)(struct summary_sink *s, const char *key, const char *v);
	void (*num)(struct summary_sink *s, const char *key, int64_t v);
	void (*flag)(struct summary_sink *s, const char *key, bool v);
	void (*strs)(struct summary_sink *s, const char *key, const char *const *v, size_t n);
};

/* What a summary is made from besides the VM: the time, and the leases, read once for a list. */
struct summary_ctx {
	const struct vmmd *d;
	int64_t now;
	struct lease_table leases;
	bool leases_read;
};

#define SUMMARY_ADDRESSES_MAX 16

/* A running VM's IPv4 addresses: the leases its networks' DHCP gave its MACs. */
static void summary_addresses(struct domain *dom, struct summary_ctx *x, struct summary_sink *s)
{
	char text[SUMMARY_ADDRESSES_MAX][INET_ADDRSTRLEN];
	const char *v[SUMMARY_ADDRESSES_MAX];
	size_t n = 0;

	if (dom->state == DOMAIN_RUNNING || dom->state == DOMAIN_PAUSED) {
		for (unsigned int i = 0; i < dom->def->nifaces && n < SUMMARY_ADDRESSES_MAX; i++) {
			const struct domain_iface *f = &dom->def->ifaces[i];
			uint32_t ips[SUMMARY_ADDRESSES_MAX];
			size_t got;

			if (f->type != IFACE_NETWORK)
				continue;
			if (!x->leases_read) {
				lease_table_load(x->d, &x->leases);
				x->leases_read = true;
			}
			got = lease_table_find(&x->leases, f->source, f->mac, ips,
					       SUMMARY_ADDRESSES_MAX - n);
			for (size_t k = 0; k < got; k++, n++) {
				struct in_addr a = { htonl(ips[k]) };

				inet_ntop(AF_INET, &a, text[n], sizeof(text[n]));
				v[n] = text[n];
			}
		}
	}
	s->strs(s, "addresses", v, n);
}

static void summary_visit(struct domain *dom, struct summary_ctx *x, struct summary_sink *s)
{
	s->str(s, "name", dom->def->name);
	s->str(s, "uuid", dom->def->uuid);
	s->num(s, "id", dom->id);
	s->str(s, "state", domain_state_name(dom->state));
	s->str(s, "reason", dom->reason);
	s->flag(s, "autostart", dom->autostart);
	s->flag(s, "responding", domain_responding(dom, x->now));
	/* what a list of VMs shows, so that a portal needs no call per VM */
	s->num(s, "vcpus", dom->def->vcpus);
	s->num(s, "memory_kib", dom->def->memory_kib);
	if (dom->def->title)
		s->str(s, "title", dom->def->title);
	summary_addresses(dom, x, s);
}

struct json_sink {
	struct summary_sink sink;
	json_object *o;
};

static void json_str(struct summary_sink *s, const char *key, const char *v)
{
	json_object_object_add(((struct json_sink *)s)->o, key, json_object_new_string(v));
}

static void json_num(struct summary_sink *s, const char *key, int64_t v)
{
	json_object_object_add(((struct json_sink *)s)->o, key, json_object_new_int64(v));
}

static void json_flag(struct summary_sink *s, const char *key, bool v)
{
	json_object_object_add(((struct json_sink *)s)->o, key, json_object_new_boolean(v));
}

static void json_strs(struct summary_sink *s, const char *key, const char *const *v, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	json_object_object_add(((struct json_sink *)s)->o, key, arr);
}

#define JSON_SINK { json_str, json_num, json_flag, json_strs }

json_object *api_domain_summary(struct vmmd *d, struct domain *dom)
{
	struct json_sink j = { JSON_SINK, json_object_new_object() };
	struct summary_ctx x = { .d = d, .now = vmmd_now_ms() };

	summary_visit(dom, &x, &j.sink);
	lease_table_free(&x.leases);
	return j.o;
}

/* A fingerprint of each field's key and value, each ended by a NUL. */
struct hash_sink {
	struct summary_sink sink;
	struct fingerprint fp;
};

static void hash_str(struct summary_sink *s, const char *key, const char *v)
{
	fingerprint_add_str(&((struct hash_sink *)s)->fp, key);
	fingerprint_add_str(&((struct hash_sink *)s)->fp, v);
}

static void hash_num(struct summary_sink *s, const char *key, int64_t v)
{
	fingerprint_add_str(&((struct hash_sink *)s)->fp, key);
	fingerprint_add(&((struct hash_sink *)s)->fp, &v, sizeof(v));
}

static void hash_flag(struct summary_sink *s, const char *key, bool v)
{
	uint8_t b = v;

	fingerprint_add_str(&((struct hash_sink *)s)->fp, key);
	fingerprint_add(&((struct hash_sink *)s)->fp, &b, 1);
}

/* the count first, so that ["a", "b"] and ["a\0b"] differ */
static void hash_strs(struct summary_sink *s, const char *key, const char *const *v, size_t n)
{
	uint64_t count = n;

	fingerprint_add_str(&((struct hash_sink *)s)->fp, key);
	fingerprint_add(&((struct hash_sink *)s)->fp, &count, sizeof(count));
	for (size_t i = 0; i < n; i++)
		fingerprint_add_str(&((struct hash_sink *)s)->fp, v[i]);
}

void api_domain_done(struct vmmd *d, struct deferred *q, struct domain *dom, const char *code,
		     const char *err)
{
	if (code)
		vmmd_answer_error(d, q, code, "%s", err);
	else
		vmmd_answer(d, q, api_domain_summary(d, dom), false);
}

/* The reply comes later: what finishes the request has c->later. */
static json_object *api_later(struct api_ctx *c)
{
	c->deferred = true;
	return NULL;
}

/*
 * {"domains": [...], "etag": E}. E is a fingerprint of every field of
 * every VM listed, in order (summary_visit's, hashed without making the
 * list), so a caller that already holds the list E names gets {"etag": E,
 * "unchanged": true} for params.unless = E, and neither vmmd makes the
 * list nor the caller reads and parses it again (a portal's page asks for
 * it on every view).
 */
static json_object *api_list(struct api_ctx *c)
{
	struct hash_sink hs = { .sink = { hash_str, hash_num, hash_flag, hash_strs } };
	struct summary_ctx x = { .d = c->d, .now = vmmd_now_ms() };
	json_object *arr, *o = json_object_new_object();
	const char *unless = NULL;
	char etag[FINGERPRINT_HEX_SIZE];

	fingerprint_init(&hs.fp);
	for (unsigned int i = 0; i < c->d->ndomains; i++) {
		summary_visit(c->d->domains[i], &x, &hs.sink);
		fingerprint_add(&hs.fp, "", 1); /* where one VM ends */
	}
	/* without a fingerprint, the list alone: used once, never unchanged */
	if (fingerprint_end(&hs.fp, etag) == 0)
		json_object_object_add(o, "etag", json_object_new_string(etag));
	json_get_string(c->params, "unless", &unless);
	if (etag[0] && unless && !strcmp(unless, etag)) {
		json_object_object_add(o, "unchanged", json_object_new_boolean(true));
		lease_table_free(&x.leases);
		return o;
	}
	arr = json_object_new_array();
	for (unsigned int i = 0; i < c->d->ndomains; i++) {
		struct json_sink j = { JSON_SINK, json_object_new_object() };

		summary_visit(c->d->domains[i], &x, &j.sink);
		json_object_array_add(arr, j.o);
	}
	lease_table_free(&x.leases);
	json_object_object_add(o, "domains", arr);
	return o;
}

static json_object *api_define(struct api_ctx *c)
{
	struct domain *dom;
	const char *xml;

	if (!json_get_string(c->params, "xml", &xml))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.xml (a string) is missing");
	if (domain_define(c->d, xml, strlen(xml), c->uid, &dom, &c->code, c->err,
			  sizeof(c->err)) < 0)
		return NULL;
	return api_domain_summary(c->d, dom);
}

/* params.remove_storage: also delete its disks that are volumes of started pools. */
/* A VM whose disks are being copied for a clone must not write to them, nor go. */
static bool copies_under_way(struct api_ctx *c, const struct domain *dom)
{
	if (!dom || !dom->copying)
		return false;
	api_fail(c, "invalid-state", "the disks of %s are being copied for a clone; wait until "
		 "that is done", dom->def->name);
	return true;
}

static json_object *api_undefine(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	json_object *o, *doomed, *removed, *kept, *why, *only = NULL;
	bool remove = false;

	if (!dom || copies_under_way(c, dom))
		return NULL;
	if (json_object_object_get_ex(c->params, "remove_storage", NULL) &&
	    !json_get_bool(c->params, "remove_storage", &remove))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.remove_storage is not true or false");
	/* params.files: remove only these of its disks */
	if (json_object_object_get_ex(c->params, "files", &only)) {
		bool strings = json_object_is_type(only, json_type_array);

		for (size_t i = 0; strings && i < json_object_array_length(only); i++)
			strings = json_object_is_type(json_object_array_get_idx(only, i), json_type_string);
		if (!strings)
			return api_fail(c, JSONRPC_INVALID_PARAMS, "params.files is not a list of paths");
	}
	if (dom->pid)
		return api_fail(c, "invalid-state", "%s is %s; destroy it first", dom->def->name,
				domain_state_name(dom->state));
	o = json_object_new_object();
	doomed = json_object_new_array();
	removed = json_object_new_array();
	kept = json_object_new_array();
	why = json_object_new_object();
	if (remove)
		domain_storage_to_remove(c->d, dom, only, doomed, kept, why);
	json_object_object_add(o, "removed", removed);
	json_object_object_add(o, "kept", kept);
	json_object_object_add(o, "why", why);
	/* the definition first: a VM that stays keeps its disks */
	if (domain_undefine(c->d, dom, &c->code, c->err, sizeof(c->err)) < 0) {
		json_object_put(doomed);
		json_object_put(o);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(doomed); i++) {
		json_object *f = json_object_array_get_idx(doomed, i);

		if (unlink(json_object_get_string(f)) == 0) {
			json_object_array_add(removed, json_object_get(f));
		} else {
			char text[300];

			snprintf(text, sizeof(text), "cannot be removed: %s", strerror(errno));
			json_object_array_add(kept, json_object_get(f));
			json_object_object_add(why, json_object_get_string(f), json_object_new_string(text));
		}
	}
	json_object_put(doomed);
	return o;
}

static json_object *clone_done(struct vmmd *d, struct job *job, int status, bool *is_error)
{
	struct domain *clone;
	const char *code = NULL;
	char err[1024];

	if (domain_clone_define(d, job->data, status, &clone, &code, err, sizeof(err)) < 0) {
		*is_error = true;
		return jsonrpc_error(NULL, code ? code : "internal-error", "%s", err);
	}
	return api_domain_summary(d, clone);
}

static void clone_release(struct vmmd *d, struct job *job)
{
	(void)d;
	domain_clone_free(job->data);
}

/*
 * params: new_name; overlay (true: each writable disk a qcow2 over the
 * original). Copies are made by a child, and the reply comes when the
 * clone is defined.
 */
static json_object *api_clone(struct api_ctx *c)
{
	struct domain *dom = param_domain(c), *clone;
	const char *new_name = dom ? api_string(c, "new_name") : NULL;
	int fds[2 * DOMAIN_MAX_DISKS];
	struct domain_clone *cl;
	bool overlay = false;
	struct job *job;

	if (!new_name)
		return NULL;
	if (json_object_object_get_ex(c->params, "overlay", NULL) &&
	    !json_get_bool(c->params, "overlay", &overlay))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.overlay is not true or false");
	if (domain_clone_prepare(c->d, dom, new_name, overlay, c->uid, &cl, &c->code, c->err,
				 sizeof(c->err)) < 0)
		return NULL;
	if (!domain_clone_copies(cl)) {
		if (domain_clone_define(c->d, cl, 0, &clone, &c->code, c->err, sizeof(c->err)) < 0)
			return NULL;
		return api_domain_summary(c->d, clone);
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		domain_clone_free(cl);
		return api_fail(c, JSONRPC_INTERNAL, "out of memory");
	}
	snprintf(job->path, sizeof(job->path), "the clone %s", new_name);
	job->finish = clone_done;
	job->release = clone_release;
	job->data = cl;
	if (api_job(c, job, domain_clone_copy, cl, fds, domain_clone_files(cl, fds)) < 0) {
		domain_clone_free(cl);
		free(job);
		return NULL;
	}
	domain_clone_close_files(cl);
	return NULL;
}

/* params: file, target; format (raw, qcow2), readonly, serial, cache (none, writeback). */
static json_object *api_attach_disk(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	struct domain_disk disk = { 0 };
	const char *v;

	if (!dom || !(disk.file = api_string(c, "file")) || !(disk.target = api_string(c, "target")))
		return NULL;
	if (json_get_string(c->params, "format", &v)) {
		if (strcmp(v, "qcow2") == 0)
			disk.format = DISK_FORMAT_QCOW2;
		else if (strcmp(v, "raw") != 0)
			return api_fail(c, JSONRPC_INVALID_PARAMS, "params.format must be raw or qcow2");
	}
	if (json_get_string(c->params, "cache", &v)) {
		if (strcmp(v, "none") == 0)
			disk.cache = DISK_CACHE_NONE;
		else if (strcmp(v, "writeback") == 0)
			disk.cache = DISK_CACHE_WRITEBACK;
		else
			return api_fail(c, JSONRPC_INVALID_PARAMS, "params.cache must be none or writeback");
	}
	json_get_bool(c->params, "readonly", &disk.readonly);
	if (json_get_string(c->params, "serial", &v))
		disk.serial = v;
	if (domain_attach_disk(c->d, dom, &disk, c->uid, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return api_domain_summary(c->d, dom);
}

static json_object *api_detach_disk(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	const char *target = dom ? api_string(c, "target") : NULL;

	if (!target || domain_detach_disk(c->d, dom, target, c->uid, &c->code, c->err,
					  sizeof(c->err)) < 0)
		return NULL;
	return api_domain_summary(c->d, dom);
}

/* params.mac as a MAC address, or false with the error set. */
static bool param_mac(struct api_ctx *c, uint8_t mac[6])
{
	const char *v = api_string(c, "mac");

	if (v && mac_parse(v, mac) == 0)
		return true;
	if (v)
		api_fail(c, JSONRPC_INVALID_PARAMS, "params.mac is not a unicast MAC address");
	return false;
}

/* A bridge of this host by that name (what <interface type='bridge'> may name)? */
static bool bridge_exists(const char *name)
{
	char path[64];

	if (strlen(name) >= 16 || strchr(name, '/') || name[0] == '.')
		return false;
	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
	return access(path, F_OK) == 0;
}

/*
 * domain.attach_interface {name, network | bridge, mac?, link?}: a virtio
 * NIC on a defined network or on a bridge of this host, at the next start.
 */
static json_object *api_attach_interface(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	struct domain_iface f = { 0 };
	bool have_mac = false, up = true;
	const char *net = NULL, *bridge = NULL;

	if (!dom)
		return NULL;
	json_get_string(c->params, "network", &net);
	json_get_string(c->params, "bridge", &bridge);
	if (!net == !bridge)
		return api_fail(c, JSONRPC_INVALID_PARAMS, "give one of params.network and params.bridge");
	if (net && !network_find(c->d, net))
		return api_fail(c, "no-network", "no network named '%s'", net);
	if (bridge && !bridge_exists(bridge))
		return api_fail(c, "no-network", "this host has no bridge named '%s'", bridge);
	f.type = net ? IFACE_NETWORK : IFACE_BRIDGE;
	f.source = net ? net : bridge;
	if (json_object_object_get_ex(c->params, "mac", NULL)) {
		if (!param_mac(c, f.mac))
			return NULL;
		have_mac = true;
	}
	if (json_object_object_get_ex(c->params, "link", NULL) &&
	    !json_get_bool(c->params, "link", &up))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.link is not true or false");
	f.link_down = !up;
	if (domain_attach_iface(c->d, dom, &f, have_mac, c->uid, &c->code, c->err,
				sizeof(c->err)) < 0)
		return NULL;
	return api_domain_summary(c->d, dom);
}

/* domain.detach_interface {name, mac}: at the next start. */
static json_object *api_detach_interface(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	uint8_t mac[6];

	if (!dom || !param_mac(c, mac) ||
	    domain_detach_iface(c->d, dom, mac, c->uid, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return api_domain_summary(c->d, dom);
}

static void set_link_done(struct vmmd *d, struct exchange *x, json_object *res, const char *code,
			  const char *err)
{
	if (!res)
		vmmd_answer_error(d, x->q, code,
				  "the definition keeps the new link state, but the running VM did not take it: %s",
				  err);
	else
		api_domain_done(d, x->q, x->dom, NULL, NULL);
}

/*
 * domain.set_link {name, mac, up}: plug or pull an interface's cable, in
 * the definition and, when the VM runs, at once (as virsh domif-setlink
 * does with both --live and --config).
 */
static json_object *api_set_link(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	json_object *params;
	uint8_t mac[6];
	bool up;
	int r;

	if (!dom || !param_mac(c, mac))
		return NULL;
	if (!json_get_bool(c->params, "up", &up))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.up (true or false) is missing");
	if (domain_set_iface_link(c->d, dom, mac, up, c->uid, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	if (!dom->pid || dom->starting)
		return api_domain_summary(c->d, dom);
	params = json_object_new_object();
	json_object_object_add(params, "mac", json_object_get(json_object_object_get(c->params, "mac")));
	json_object_object_add(params, "up", json_object_new_boolean(up));
	r = exchange_start_with(c->d, dom, "vm.set_link", params, set_link_done, c->later, &c->code,
				c->err, sizeof(c->err));
	json_object_put(params);
	return r < 0 ? NULL : api_later(c);
}

json_object *api_xml(struct api_ctx *c, char *xml)
{
	json_object *o;

	if (!xml)
		return api_fail(c, JSONRPC_INTERNAL, "out of memory");
	o = json_object_new_object();
	json_object_object_add(o, "xml", json_object_new_string(xml));
	free(xml);
	return o;
}

static json_object *api_dumpxml(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);

	return dom ? api_xml(c, domain_def_format(dom->def)) : NULL;
}

/* From memory: the CPU time is vmm's at its last statistics sample. */
static json_object *api_info(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	json_object *o;

	if (!dom)
		return NULL;
	o = api_domain_summary(c->d, dom);
	json_object_object_add(o, "vcpus", json_object_new_int(dom->def->vcpus));
	json_object_object_add(o, "max_memory_kib", json_object_new_int64(dom->def->memory_kib));
	json_object_object_add(o, "memory_kib",
			       json_object_new_int64(dom->def->current_memory_kib));
	json_object_object_add(o, "persistent", json_object_new_boolean(1));
	json_object_object_add(o, "cpu_time_ns",
			       json_object_new_int64(dom->pid ? dom->cpu_time_ns : 0));
	if (dom->def->title)
		json_object_object_add(o, "title", json_object_new_string(dom->def->title));
	return o;
}

static json_object *api_start(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);

	if (!dom || domain_start(c->d, dom, c->uid, c->later, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return api_later(c);
}

static json_object *api_destroy(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);

	if (!dom || domain_destroy(c->d, dom, c->later, &c->code, c->err, sizeof(c->err)) < 0)
		return NULL;
	return api_later(c);
}

/* vmm answered a control request; its status gives the state. */
static void control_done(struct vmmd *d, struct exchange *x, json_object *res, const char *code,
			 const char *err)
{
	struct domain *dom = x->dom;
	const char *state;

	if (!res) {
		vmmd_answer_error(d, x->q, code, "%s", err);
		return;
	}
	if (json_get_string(res, "state", &state))
		domain_set_paused(d, dom, strcmp(state, "paused") == 0,
				  strcmp(x->method, "vm.pause") == 0    ? "user"
				  : strcmp(x->method, "vm.resume") == 0 ? "unpaused"
									: NULL);
	if (strcmp(x->q->method, "domain.reboot") == 0 && dom->pid)
		dom->rebooting = true;
	api_domain_done(d, x->q, dom, NULL, NULL);
}

/* A control request to vmm that returns vmm's status; the state follows it. */
static json_object *control_and_update(struct api_ctx *c, const char *method)
{
	struct domain *dom = param_domain(c);

	if (!dom || exchange_start(c->d, dom, method, control_done, c->later, &c->code, c->err,
				   sizeof(c->err)) < 0)
		return NULL;
	return api_later(c);
}

static json_object *api_shutdown(struct api_ctx *c)
{
	return control_and_update(c, "vm.powerdown");
}

static json_object *api_suspend(struct api_ctx *c)
{
	return control_and_update(c, "vm.pause");
}

static json_object *api_resume(struct api_ctx *c)
{
	if (copies_under_way(c, param_domain(c)))
		return NULL;
	return control_and_update(c, "vm.resume");
}

static json_object *api_reset(struct api_ctx *c)
{
	return control_and_update(c, "vm.reset");
}

static json_object *api_reboot(struct api_ctx *c)
{
	return control_and_update(c, "vm.powerdown");
}

static json_object *api_autostart(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	bool on = true;

	if (!dom)
		return NULL;
	if (json_object_object_get_ex(c->params, "enable", NULL) &&
	    !json_get_bool(c->params, "enable", &on))
		return api_fail(c, JSONRPC_INVALID_PARAMS, "params.enable is not true or false");
	if (domain_set_autostart(c->d, dom, on, c->err, sizeof(c->err)) < 0) {
		c->code = "io-error";
		return NULL;
	}
	return api_domain_summary(c->d, dom);
}

/* What domain.stats gives beside vmm's counters (res: those counters, or an empty object). */
static json_object *stats_reply(struct domain *dom, json_object *res)
{
	json_object *disks, *nets;

	/* name vmm's disks, which it numbers in the definition's order */
	if (json_object_object_get_ex(res, "disks", &disks) &&
	    json_object_is_type(disks, json_type_array))
		for (size_t i = 0; i < json_object_array_length(disks) && i < dom->def->ndisks; i++)
			json_object_object_add(json_object_array_get_idx(disks, i), "target",
					       json_object_new_string(dom->def->disks[i].target));
	/* and its NICs by their taps, when this vmmd started the VM and knows them */
	if (json_object_object_get_ex(res, "nets", &nets) && json_object_is_type(nets, json_type_array))
		for (size_t i = 0; i < json_object_array_length(nets) && i < DOMAIN_MAX_IFACES; i++)
			if (dom->tap_names[i][0])
				json_object_object_add(json_object_array_get_idx(nets, i), "target",
						       json_object_new_string(dom->tap_names[i]));
	json_object_object_add(res, "name", json_object_new_string(dom->def->name));
	json_object_object_add(res, "state", json_object_new_string(domain_state_name(dom->state)));
	json_object_object_add(res, "history", stats_history(dom->history, false));
	return res;
}

static void stats_done(struct vmmd *d, struct exchange *x, json_object *res, const char *code,
		       const char *err)
{
	if (!res) {
		vmmd_answer_error(d, x->q, code, "%s", err);
		return;
	}
	json_get_int64(res, "cpu_time_ns", &x->dom->cpu_time_ns);
	vmmd_answer(d, x->q, stats_reply(x->dom, json_object_get(res)), false);
}

static json_object *api_stats(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);

	if (!dom)
		return NULL;
	/* no vmm to ask (yet): what vmmd knows */
	if (!dom->pid || dom->starting)
		return stats_reply(dom, json_object_new_object());
	if (exchange_start(c->d, dom, "vm.stats", stats_done, c->later, &c->code, c->err,
			   sizeof(c->err)) < 0)
		return NULL;
	return api_later(c);
}

/* Where the serial console's socket is (one client at a time attaches to it) and its log. */
static json_object *api_console(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	json_object *o;
	char path[4096];

	if (!dom)
		return NULL;
	if (!dom->pid)
		return api_fail(c, "invalid-state", "%s is not running", dom->def->name);
	o = json_object_new_object();
	snprintf(path, sizeof(path), "%s/vms/%s/serial.sock", c->d->run_dir, dom->def->name);
	json_object_object_add(o, "serial", json_object_new_string(path));
	snprintf(path, sizeof(path), "%s/vms/%s/serial.log", c->d->run_dir, dom->def->name);
	json_object_object_add(o, "log", json_object_new_string(path));
	return o;
}

/*
 * params: name, kind ("serial" or "vnc"). The reply carries a socket
 * connected to the running VM's serial port or VNC server (SCM_RIGHTS,
 * non-blocking), as libvirt's virDomainOpenConsole and
 * virDomainOpenGraphicsFD hand one over: a console proxy never needs the
 * VM's run folder, which only root and the VM's user may enter. Whoever
 * may use vmmd's socket gets any VM's console: the portal checks the
 * user's console right before it asks. Each one handed over is logged.
 */
static json_object *api_open_console(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	const char *kind = dom ? api_string(c, "kind") : NULL;
	json_object *o;
	int fd, r;

	if (!kind)
		return NULL;
	if (strcmp(kind, "serial") && strcmp(kind, "vnc"))
		return api_fail(c, JSONRPC_INVALID_PARAMS,
				"params.kind is '%s', not serial or vnc", kind);
	if (!dom->pid || dom->state == DOMAIN_SHUTOFF || dom->state == DOMAIN_CRASHED)
		return api_fail(c, "invalid-state", "%s is not running", dom->def->name);
	if (dom->starting)
		return api_fail(c, "invalid-state", "%s is starting; ask again once it runs",
				dom->def->name);
	/* the running VM's screen, whatever its definition says since it started */
	fd = vmm_connect_socket(c->d, dom, !strcmp(kind, "vnc") ? "vnc.sock" : "serial.sock");
	r = fd < 0 ? fd : 0;
	if (r == -ENOENT && !strcmp(kind, "vnc"))
		return api_fail(c, "no-console", "%s runs without a screen", dom->def->name);
	if (r == -EPERM) {
		log_warn("uid %u: domain.open_console %s %s: its socket is not its vmm's; refused",
			 (unsigned int)c->uid, dom->def->name, kind);
		return api_fail(c, "io-error", "the %s socket of %s is not its vmm's", kind,
				dom->def->name);
	}
	if (r < 0)
		return api_fail(c, r == -EAGAIN ? "busy" : "io-error",
				"cannot reach the %s console of %s: %s", kind, dom->def->name,
				strerror(-r));
	log_info("uid %u: domain.open_console %s %s", (unsigned int)c->uid, dom->def->name, kind);
	c->reply_fd = fd;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(dom->def->name));
	json_object_object_add(o, "uuid", json_object_new_string(dom->def->uuid));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	return o;
}

#define CONSOLE_LOG_TAIL (64 * 1024)

/* The end of the console's log (the last run's, once the VM has ended). */
static json_object *api_console_log(struct api_ctx *c)
{
	struct domain *dom = param_domain(c);
	char path[4096], *buf;
	json_object *o;
	ssize_t n;
	off_t size;
	int fd;

	if (!dom)
		return NULL;
	snprintf(path, sizeof(path), "%s/vms/%s/serial.log", c->d->run_dir, dom->def->name);
	o = json_object_new_object();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		json_object_object_add(o, "text", json_object_new_string(""));
		return o;
	}
	size = lseek(fd, 0, SEEK_END);
	buf = malloc(CONSOLE_LOG_TAIL);
	n = buf && size >= 0 ? pread(fd, buf, CONSOLE_LOG_TAIL,
				     size > CONSOLE_LOG_TAIL ? size - CONSOLE_LOG_TAIL : 0)
			     : -1;
	close(fd);
	json_object_object_add(o, "text", json_object_new_string_len(buf ? buf : "", n > 0 ? n : 0));
	free(buf);
	return o;
}

static json_object *api_host_info(struct api_ctx *c)
{
	json_object *o = host_info();

	json_object_object_add(o, "history", stats_history(c->d->host_history, true));
	return o;
}

static const struct {
	const char *name;
	api_fn fn;
	bool changes;  /* logged with the caller's uid */
} methods[] = {
	{ "domain.list", api_list, false },
	{ "domain.define", api_define, true },
	{ "domain.undefine", api_undefine, true },
	{ "domain.dumpxml", api_dumpxml, false },
	{ "domain.info", api_info, false },
	{ "domain.start", api_start, true },
	{ "domain.shutdown", api_shutdown, true },
	{ "domain.destroy", api_destroy, true },
	{ "domain.reboot", api_reboot, true },
	{ "domain.reset", api_reset, true },
	{ "domain.suspend", api_suspend, true },
	{ "domain.resume", api_resume, true },
	{ "domain.autostart", api_autostart, true },
	{ "domain.stats", api_stats, false },
	{ "domain.console", api_console, false },
	{ "domain.console_log", api_console_log, false },
	{ "domain.open_console", api_open_console, false },
	{ "domain.clone", api_clone, true },
	{ "domain.attach_disk", api_attach_disk, true },
	{ "domain.detach_disk", api_detach_disk, true },
	{ "domain.attach_interface", api_attach_interface, true },
	{ "domain.detach_interface", api_detach_interface, true },
	{ "domain.set_link", api_set_link, true },
	{ "host.info", api_host_info, false },
	{ "pool.list", api_pool_list, false },
	{ "pool.define", api_pool_define, true },
	{ "pool.undefine", api_pool_undefine, true },
	{ "pool.start", api_pool_start, true },
	{ "pool.stop", api_pool_stop, true },
	{ "pool.dumpxml", api_pool_dumpxml, false },
	{ "pool.info", api_pool_info, false },
	{ "pool.autostart", api_pool_autostart, true },
	{ "vol.list", api_vol_list, false },
	{ "vol.create", api_vol_create, true },
	{ "vol.clone", api_vol_clone, true },
	{ "vol.delete", api_vol_delete, true },
	{ "vol.info", api_vol_info, false },
	{ "vol.resize", api_vol_resize, true },
	{ "vol.upload", api_vol_upload, true },
	{ "net.list", api_net_list, false },
	{ "net.define", api_net_define, true },
	{ "net.undefine", api_net_undefine, true },
	{ "net.start", api_net_start, true },
	{ "net.destroy", api_net_destroy, true },
	{ "net.dumpxml", api_net_dumpxml, false },
	{ "net.info", api_net_info, false },
	{ "net.autostart", api_net_autostart, true },
	{ "net.leases", api_net_leases, false },
	{ "domain.ifaddr", api_domain_ifaddr, false },
};

json_object *api_call(struct vmmd *d, const char *method, json_object *params, uid_t peer_uid,
		      int *passed_fd, int *ret_reply_fd, struct deferred **ret_later, bool *is_error)
{
	struct api_ctx c = { .d = d, .params = params, .uid = peer_uid, .passed_fd = passed_fd,
			     .reply_fd = -1 };
	const char *name = NULL;
	json_object *res;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, method) != 0)
			continue;
		c.later = calloc(1, sizeof(*c.later));
		if (!c.later) {
			*is_error = true;
			return jsonrpc_error(NULL, JSONRPC_INTERNAL, "out of memory");
		}
		c.later->uid = peer_uid;
		c.later->changes = methods[i].changes;
		snprintf(c.later->method, sizeof(c.later->method), "%s", method);
		if (json_get_string(params, "name", &name))
			snprintf(c.later->name, sizeof(c.later->name), "%s", name);
		res = methods[i].fn(&c);
		if (c.deferred) {
			*ret_later = c.later;
			return NULL;
		}
		deferred_free(c.later);
		if (methods[i].changes) {
			if (!json_get_string(params, "name", &name) &&
			    !(res && json_get_string(res, "name", &name)))
				name = "";
			if (res)
				log_info("uid %u: %s %s", (unsigned int)peer_uid, method, name);
			else
				log_info("uid %u: %s %s failed: %s", (unsigned int)peer_uid, method,
					 name, c.err);
		}
		if (res) {
			*ret_reply_fd = c.reply_fd;
			return res;
		}
		if (c.reply_fd >= 0)
			close(c.reply_fd);
		*is_error = true;
		return jsonrpc_error(NULL, c.code ? c.code : JSONRPC_INTERNAL, "%s", c.err);
	}
	*is_error = true;
	return jsonrpc_error(NULL, JSONRPC_METHOD_NOT_FOUND, "vmmd has no method '%s'", method);
}
