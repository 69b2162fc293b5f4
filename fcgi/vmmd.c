#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/jsonrpc.h"
#include "common/sock.h"
#include "fcgi/vmmd.h"

void vmmd_link_close(struct vmmd_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void vmmd_link_free(struct vmmd_link *l)
{
	vmmd_link_close(l);
	json_object_put(l->domains);
	l->domains = NULL;
	for (unsigned int i = 0; i < VMMD_KEPT_POOLS; i++) {
		json_object_put(l->volumes[i].list);
		l->volumes[i].list = NULL;
	}
}

/* Nothing to read and not closed: a kept connection still usable. */
static bool still_open(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * How long a call may take: vmmd answers reads from its memory at once,
 * but a call that waits on a VM's vmm, a process or a disk copy answers
 * when vmmd's own deadline for that has passed (10 s for a vmm or a
 * process to end, 60 s for a start), with its own readable error. The
 * portal waits a little longer than vmmd, so that the user reads vmmd's
 * sentence and the connection stays in step.
 */
static int deadline_ms(const struct vmmd_link *l, const char *method)
{
	static const struct {
		const char *method;
		int ms;
	} slow[] = {
		{ "domain.start", 65000 },     { "domain.shutdown", 15000 }, { "domain.reboot", 15000 },
		{ "domain.reset", 15000 },     { "domain.suspend", 15000 },  { "domain.resume", 15000 },
		{ "domain.destroy", 15000 },   { "domain.stats", 15000 },    { "domain.set_link", 15000 },
		/* copies (a child of vmmd's makes them): the worker waits for the clone,
		 * so that its owner and disks are written down when it is made */
		{ "domain.clone", 3600000 },   { "vol.clone", 3600000 },     { "vol.create", 300000 },
		{ "vol.resize", 300000 },      { "vol.upload", 300000 },
	};

	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
		if (!strcmp(method, slow[i].method))
			return slow[i].ms > l->timeout_ms ? slow[i].ms : l->timeout_ms;
	return l->timeout_ms;
}

static int call(struct vmmd_link *l, const char *method, json_object *params, int pass_fd,
		int timeout_ms, json_object **ret, char *code, size_t codelen, char *err, size_t errlen)
{
	int r;

	*ret = NULL;
	if (codelen)
		code[0] = '\0';
	if (l->fd >= 0 && !still_open(l->fd))
		vmmd_link_close(l);
	if (l->fd < 0) {
		l->fd = unix_connect(l->socket);
		if (l->fd < 0) {
			r = l->fd;
			l->fd = -1;
			json_object_put(params);
			return error_set(err, errlen, r, "the VM service is not reachable (%s)",
					 strerror(-r));
		}
	}
	if (pass_fd >= 0)
		r = jsonrpc_call_fd(l->fd, method, params, pass_fd, timeout_ms, ret, code, codelen,
				    err, errlen);
	else
		r = jsonrpc_call(l->fd, method, params, timeout_ms, ret, code, codelen, err, errlen);
	/* vmmd's refusals come with a code; anything else broke the link (-EPERM is -1 too) */
	if (r < 0 && (r != -1 || !codelen || !code[0])) {
		vmmd_link_close(l);
		return r == -1 ? -EPROTO : r;
	}
	return r;
}

int vmmd_call(struct vmmd_link *l, const char *method, json_object *params, json_object **ret,
	      char *code, size_t codelen, char *err, size_t errlen)
{
	return call(l, method, params, -1, deadline_ms(l, method), ret, code, codelen, err, errlen);
}

int vmmd_call_fd(struct vmmd_link *l, const char *method, json_object *params, int pass_fd,
		 int timeout_ms, json_object **ret, char *code, size_t codelen, char *err,
		 size_t errlen)
{
	return call(l, method, params, pass_fd, timeout_ms, ret, code, codelen, err, errlen);
}

int vmmd_call_vm(struct vmmd_link *l, const char *method, const char *name, json_object **ret,
		 char *code, size_t codelen, char *err, size_t errlen)
{
	return vmmd_call(l, method, vmmd_name_params(name), ret, code, codelen, err, errlen);
}

/*
 * A list call that the link keeps: method with params (taken, or NULL),
 * its answer's list under field; *kept (with its etag in etag, etaglen
 * bytes) is sent as "unless" and given again when vmmd says it is
 * unchanged. A new reference, or NULL with code and err.
 */
static json_object *kept_list(struct vmmd_link *l, const char *method, json_object *params,
			      const char *field, json_object **kept, char *etag_kept, size_t etaglen,
			      char *code, size_t codelen, char *err, size_t errlen)
{
	json_object *ret, *list;
	const char *etag = NULL;
	bool unchanged = false;

	if (*kept) {
		if (!params)
			params = json_object_new_object();
		json_object_object_add(params, "unless", json_object_new_string(etag_kept));
	}
	if (vmmd_call(l, method, params, &ret, code, codelen, err, errlen) < 0)
		return NULL;
	json_get_string(ret, "etag", &etag);
	json_get_bool(ret, "unchanged", &unchanged);
	if (unchanged) {
		if (*kept && etag && !strcmp(etag, etag_kept)) {
			json_object_put(ret);
			return json_object_get(*kept);
		}
		json_object_put(ret);
		/* the next call asks for the whole list */
		json_object_put(*kept);
		*kept = NULL;
		snprintf(code, codelen, "protocol-error");
		error_set(err, errlen, -EPROTO, "the VM service called a list unchanged that this link does not hold");
		return NULL;
	}
	if (!json_object_object_get_ex(ret, field, &list) || !json_object_is_type(list, json_type_array)) {
		json_object_put(ret);
		snprintf(code, codelen, "protocol-error");
		error_set(err, errlen, -EPROTO, "the VM service's answer has no list");
		return NULL;
	}
	json_object_put(*kept);
	*kept = NULL;
	/* an answer without an etag (or a long one) is used once, not kept */
	if (etag && strlen(etag) < etaglen) {
		*kept = json_object_get(list);
		strcpy(etag_kept, etag);
	}
	json_object_get(list);
	json_object_put(ret);
	return list;
}

json_object *vmmd_domains(struct vmmd_link *l, char *err, size_t errlen)
{
	char code[64];

	return kept_list(l, "domain.list", NULL, "domains", &l->domains, l->domains_etag,
			 sizeof(l->domains_etag), code, sizeof(code), err, errlen);
}

json_object *vmmd_volumes(struct vmmd_link *l, const char *pool, const char **etag_ret, char *code,
			  size_t codelen, char *err, size_t errlen)
{
	struct vmmd_kept *k = NULL;
	json_object *params = json_object_new_object(), *list;

	json_object_object_add(params, "pool", json_object_new_string(pool));
	if (etag_ret)
		*etag_ret = NULL;
	if (strlen(pool) >= sizeof(l->volumes[0].key)) {
		json_object_put(params);
		snprintf(code, codelen, "no-pool");
		error_set(err, errlen, -EINVAL, "no pool has so long a name");
		return NULL;
	}
	for (unsigned int i = 0; i < VMMD_KEPT_POOLS && !k; i++)
		if (l->volumes[i].list && !strcmp(l->volumes[i].key, pool))
			k = &l->volumes[i];
	if (!k) {
		k = &l->volumes[l->next_volumes++ % VMMD_KEPT_POOLS];
		json_object_put(k->list);
		k->list = NULL;
		strcpy(k->key, pool);
	}
	list = kept_list(l, "vol.list", params, "volumes", &k->list, k->etag, sizeof(k->etag), code,
			 codelen, err, errlen);
	if (list && etag_ret && list == k->list)
		*etag_ret = k->etag;
	return list;
}

json_object *vmmd_name_params(const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}
