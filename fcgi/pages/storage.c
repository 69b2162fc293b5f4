/*
 * Storage (admin): vmmd's pools with their space and state, a form that
 * defines a directory pool, and a pool's page with its volumes (format,
 * size, space used, backing file, the VMs that use each); pools are
 * started, stopped, set to autostart and deleted; volumes are made (raw
 * or qcow2), cloned (a copy or a qcow2 overlay), grown and deleted.
 *
 * NOTES
 * - A pool's name comes from the path and is checked before it goes
 *   anywhere; a volume's comes from a form field and goes to vmmd as a
 *   name inside that pool, never as a path. New volumes take the names
 *   the portal gives everything (letters, digits, '-', '_', '.', '+').
 * - vmmd checks everything again and has the last word: a pool folder
 *   outside its pool roots, a volume that exists, a delete or resize
 *   under a running VM, a shrink. Its sentence is what the page shows.
 */
#include <errno.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/jsonrpc.h"
#include "common/name.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/format.h"
#include "fcgi/pages.h"
#include "fcgi/quota.h"
#include "fcgi/response.h"
#include "fcgi/template.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define VOLUME_NAME_MAX 255
#define POOL_PATH_MAX 1024

static void add_size(json_object *o, const char *from, const char *to)
{
	int64_t bytes = 0;
	char text[32];

	if (!json_get_int64(o, from, &bytes))
		return;
	format_kib(text, sizeof(text), bytes / 1024);
	json_object_object_add(o, to, json_object_new_string(text));
}

static void decorate_pool(json_object *pool)
{
	const char *state = "";

	json_get_string(pool, "state", &state);
	json_object_object_add(pool, "active", json_object_new_boolean(!strcmp(state, "active")));
	if (strcmp(state, "active"))
		return; /* vmmd's figures are of a folder it does not use now */
	add_size(pool, "capacity", "capacity_text");
	add_size(pool, "allocation", "allocation_text");
	add_size(pool, "available", "available_text");
}

int page_storage(struct request *r)
{
	json_object *res = NULL, *pools = NULL, *ctx = json_object_new_object();
	char code[64], err[512];

	if (vmmd_call(r->vmmd, "pool.list", NULL, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		json_object_put(ctx);
		return respond_error(r, 502, "The VM service did not answer: %s", err);
	}
	if (json_object_object_get_ex(res, "pools", &pools))
		for (size_t i = 0; i < json_object_array_length(pools); i++)
			decorate_pool(json_object_array_get_idx(pools, i));
	json_object_object_add(ctx, "pools", json_object_get(pools));
	json_object_put(res);
	json_object_object_add(ctx, "nav_storage", json_object_new_boolean(1));
	return respond_page(r, "storage", "Storage", ctx);
}

/* The pool form's XML: a directory pool, libxml2 escaping both fields. */
static char *pool_xml(const char *name, const char *path)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"pool"), target;
	xmlChar *out = NULL;
	char *ret;
	int size = 0;

	xmlDocSetRootElement(doc, root);
	xmlSetProp(root, (const xmlChar *)"type", (const xmlChar *)"dir");
	xmlNewTextChild(root, NULL, (const xmlChar *)"name", (const xmlChar *)name);
	target = xmlNewChild(root, NULL, (const xmlChar *)"target", NULL);
	xmlNewTextChild(target, NULL, (const xmlChar *)"path", (const xmlChar *)path);
	xmlDocDumpFormatMemory(doc, &out, &size, 1);
	xmlFreeDoc(doc);
	ret = out ? strndup((const char *)out, (size_t)size) : NULL;
	xmlFree(out);
	return ret;
}

/* An absolute path of printable ASCII without "." or ".." parts. */
static bool pool_path_valid(const char *p)
{
	size_t n = strlen(p);

	if (n < 2 || n > POOL_PATH_MAX || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return !strstr(p, "/./") && !strstr(p, "/../") && strcmp(p + n - 2, "/.") &&
	       (n < 3 || strcmp(p + n - 3, "/.."));
}

int page_pool_create(struct request *r)
{
	const char *name = params_get(&r->form, "name"), *path = params_get(&r->form, "path");
	json_object *params, *res = NULL;
	char code[64], err[512];
	bool start, autostart;
	char *xml;

	if (!name || !vm_name_valid(name))
		return respond_redirect_error(r, "/storage", "A pool's name has 1 to %d letters, digits, "
					      "'-', '_', '.' or '+', and does not start with '-' or '.'.",
					      VM_NAME_MAX);
	if (!path || !pool_path_valid(path))
		return respond_redirect_error(r, "/storage", "A pool's folder is an absolute path of "
					      "printable characters, no spaces, no '.' or '..' parts.");
	if (params_bool(&r->form, "start", &start) < 0 ||
	    params_bool(&r->form, "autostart", &autostart) < 0)
		return respond_redirect_error(r, "/storage", "Start and autostart are on or off.");
	xml = pool_xml(name, path);
	if (!xml)
		return respond_error(r, 500, "Out of memory.");
	params = json_object_new_object();
	json_object_object_add(params, "xml", json_object_new_string(xml));
	/* a name that is taken is refused, never the pool redefined */
	json_object_object_add(params, "new", json_object_new_boolean(1));
	free(xml);
	if (vmmd_call(r->vmmd, "pool.define", params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, "create pool", name, err);
		return respond_vmmd_refused(r, "/storage", code, err);
	}
	json_object_put(res);
	audit_log(r, "create pool", name, "ok");
	return define_followups(r, "pool", name, "pool", autostart, start, "/storage");
}

static int by_name(const void *a, const void *b)
{
	const char *x = json_object_get_string(json_object_object_get(*(json_object *const *)a, "name"));
	const char *y = json_object_get_string(json_object_object_get(*(json_object *const *)b, "name"));

	return strcmp(x ? x : "", y ? y : "");
}

static void decorate_volumes(json_object *vols, json_object *templates)
{
	json_object_array_sort(vols, by_name);
	for (size_t i = 0; i < json_object_array_length(vols); i++) {
		json_object *v = json_object_array_get_idx(vols, i), *vms = NULL;

		add_size(v, "capacity", "capacity_text");
		add_size(v, "allocation", "allocation_text");
		json_object_object_get_ex(v, "vms", &vms);
		json_object_object_add(v, "in_use",
				       json_object_new_boolean(vms && json_object_array_length(vms) > 0));
		json_object_object_add(v, "template",
				       json_object_new_boolean(volume_in_templates(templates, v)));
	}
}

/*
 * The pool page's rows of volumes and its choice of them, in f's html (the
 * rows the first counts[0] bytes). A worker keeps them with what they were
 * made from (the pool, vmmd's etag for its list, the pool's templates and
 * the session's CSRF token, which the rows' forms carry) and makes them
 * again only when one of those changed. 0, or -1 with err.
 */
static int volume_rows(struct request *r, char *err, size_t errlen)
{
	struct buf key = BUF_INIT(PAGE_MAX), html = BUF_INIT(PAGE_MAX);
	json_object *vols, *templates, *ctx, *pool;
	const char *etag = NULL, *tpl_text;
	int64_t counts[FRAGMENT_COUNTS] = { 0 };
	char code[64];
	size_t len;
	int ret = -1;

	vols = vmmd_volumes(r->vmmd, r->args[0], &etag, code, sizeof(code), err, errlen);
	if (!vols)
		return -1;
	/* the pool's templates in one query, not one a volume */
	templates = volume_templates(r->db, r->args[0]);
	tpl_text = json_object_to_json_string_length(templates, JSON_C_TO_STRING_PLAIN, &len);
	if (etag) {
		const char *parts[] = { r->args[0], etag, r->session.csrf };

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			buf_puts(&key, parts[i]);
			buf_putc(&key, '\0');
		}
		buf_append(&key, tpl_text, len);
		if (fragment_find(r->volumes, &key)) {
			ret = 0;
			goto out;
		}
	}
	decorate_volumes(vols, templates);
	ctx = json_object_new_object();
	pool = json_object_new_object();
	json_object_object_add(pool, "name", json_object_new_string(r->args[0]));
	json_object_object_add(ctx, "pool", pool);
	json_object_object_add(ctx, "csrf", json_object_new_string(r->session.csrf));
	json_object_object_add(ctx, "volumes", json_object_get(vols));
	if (tpl_render(r->app->templates, "volume_rows", ctx, &html) == 0) {
		counts[0] = (int64_t)html.len;
		counts[1] = (int64_t)json_object_array_length(vols);
		if (tpl_render(r->app->templates, "volume_options", ctx, &html) == 0 && !html.error)
			ret = 0;
	}
	json_object_put(ctx);
	if (ret < 0) {
		error_set(err, errlen, -ENOMEM, "the list of volumes could not be made");
		goto out;
	}
	fragment_keep(r->volumes, etag ? &key : NULL, &html, counts);
out:
	buf_free(&key);
	buf_free(&html);
	json_object_put(templates);
	json_object_put(vols);
	return ret;
}

int page_pool(struct request *r)
{
	json_object *pool = NULL, *ctx;
	char code[64], err[512] = "";

	if (!vm_name_valid(r->args[0]))
		return respond_error(r, 404, "There is no pool named %s.", r->args[0]);
	if (vmmd_call(r->vmmd, "pool.info", vmmd_name_params(r->args[0]), &pool, code, sizeof(code),
		      err, sizeof(err)) < 0)
		return !strcmp(code, "no-pool")
			       ? respond_error(r, 404, "There is no pool named %s.", r->args[0])
			       : respond_error(r, 502, "The VM service did not answer: %s", err);
	decorate_pool(pool);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "pool", pool);
	if (json_object_get_boolean(json_object_object_get(pool, "active")) && r->api) {
		/* the API's answer: the volumes themselves */
		json_object *vols = vmmd_volumes(r->vmmd, r->args[0], NULL, code, sizeof(code), err,
						 sizeof(err));

		if (vols) {
			json_object *templates = volume_templates(r->db, r->args[0]);

			decorate_volumes(vols, templates);
			json_object_put(templates);
			json_object_object_add(ctx, "volumes", vols);
			json_object_object_add(ctx, "has_volumes", json_object_new_boolean(1));
		} else {
			json_object_object_add(ctx, "volumes_error", json_object_new_string(err));
		}
	} else if (json_object_get_boolean(json_object_object_get(pool, "active"))) {
		if (volume_rows(r, err, sizeof(err)) == 0) {
			const struct buf *h = &r->volumes->html;
			int rows_len = (int)r->volumes->counts[0];

			json_object_object_add(ctx, "volume_rows",
					       json_object_new_string_len(h->data ? h->data : "", rows_len));
			json_object_object_add(ctx, "volume_options",
					       json_object_new_string_len(h->data ? h->data + rows_len : "",
									  (int)h->len - rows_len));
			json_object_object_add(ctx, "has_volumes", json_object_new_boolean(1));
		} else {
			json_object_object_add(ctx, "volumes_error", json_object_new_string(err));
		}
	}
	json_object_object_add(ctx, "nav_storage", json_object_new_boolean(1));
	return respond_page(r, "pool", r->args[0], ctx);
}

/* The pool's name from the path, refused (404, answered) when vmmd could not have it. */
static bool pool_name_refused(struct request *r)
{
	if (vm_name_valid(r->args[0]))
		return false;
	respond_error(r, 404, "There is no pool named %s.", r->args[0]);
	return true;
}

/*
 * A call on the pool the path names (params taken); back to its page, or
 * to the list once it is gone. 0 when vmmd did it; else answered.
 */
static int pool_call(struct request *r, const char *action, const char *method,
		     json_object *params, const char *object)
{
	char code[64], err[512], back[VM_NAME_MAX + 8];
	json_object *res = NULL;

	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	if (vmmd_call(r->vmmd, method, params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		audit_log(r, action, object, err);
		respond_vmmd_refused(r, strcmp(code, "no-pool") ? back : "/storage", code, err);
		return -1;
	}
	json_object_put(res);
	audit_log(r, action, object, "ok");
	return 0;
}

static int back_to_pool(struct request *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int back_to_pool(struct request *r, const char *fmt, ...)
{
	char back[VM_NAME_MAX + 8], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	return respond_redirect(r, back, "%s", msg);
}

static int refuse_to_pool(struct request *r, const char *msg)
{
	char back[VM_NAME_MAX + 8];

	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	return respond_redirect_error(r, back, "%s", msg);
}

int page_pool_start(struct request *r)
{
	if (pool_name_refused(r))
		return -1;
	if (pool_call(r, "start pool", "pool.start", vmmd_name_params(r->args[0]), r->args[0]) < 0)
		return -1;
	return back_to_pool(r, "The pool %s was started.", r->args[0]);
}

int page_pool_stop(struct request *r)
{
	if (pool_name_refused(r))
		return -1;
	if (pool_call(r, "stop pool", "pool.stop", vmmd_name_params(r->args[0]), r->args[0]) < 0)
		return -1;
	return back_to_pool(r, "The pool %s was stopped.", r->args[0]);
}

int page_pool_autostart(struct request *r)
{
	json_object *params;
	bool enable;

	if (pool_name_refused(r))
		return -1;
	if (params_bool(&r->form, "enable", &enable) < 0)
		return respond_redirect_error(r, "/storage", "Autostart is on or off.");
	params = vmmd_name_params(r->args[0]);
	json_object_object_add(params, "enable", json_object_new_boolean(enable));
	if (pool_call(r, "pool autostart", "pool.autostart", params, r->args[0]) < 0)
		return -1;
	return back_to_pool(r, enable ? "The pool %s now starts with the host."
				      : "The pool %s no longer starts with the host.",
			    r->args[0]);
}

int page_pool_delete(struct request *r)
{
	if (pool_name_refused(r))
		return -1;
	if (pool_call(r, "delete pool", "pool.undefine", vmmd_name_params(r->args[0]), r->args[0]) < 0)
		return -1;
	return respond_redirect(r, "/storage", "The pool %s was deleted; its folder and volumes "
				"stay on the disk.", r->args[0]);
}

/* A size from the form's size and unit (MiB or GiB), in bytes; 0 when refused. */
static int64_t form_size(struct request *r)
{
	const char *unit = params_get(&r->form, "unit");
	long long n;

	if (!unit || (strcmp(unit, "MiB") && strcmp(unit, "GiB")) ||
	    params_int(&r->form, "size", 1, 64LL * 1024 * 1024, &n) < 0)
		return 0;
	if (!strcmp(unit, "GiB")) {
		if (n > 64 * 1024)
			return 0;
		return (int64_t)n << 30;
	}
	return (int64_t)n << 20;
}

/* The new volume name a form gives in field, or NULL with the page answered. */
static const char *new_volume_name(struct request *r, const char *field)
{
	const char *name = params_get(&r->form, field);
	char back[VM_NAME_MAX + 8];

	if (name && name_valid(name, VOLUME_NAME_MAX, "+"))
		return name;
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	respond_redirect_error(r, back, "A volume's name has 1 to %d letters, digits, '-', '_', '.' "
			       "or '+', and does not start with '-' or '.'.", VOLUME_NAME_MAX);
	return NULL;
}

/* The existing volume a form names (any name vmmd takes: vmmd checks it), or NULL answered. */
static const char *chosen_volume_name(struct request *r)
{
	const char *name = params_get(&r->form, "volume");
	char back[VM_NAME_MAX + 8];

	if (name && *name && !strchr(name, '/') && strlen(name) <= VOLUME_NAME_MAX)
		return name;
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	respond_redirect_error(r, back, "Choose a volume of this pool.");
	return NULL;
}

static json_object *volume_params(struct request *r, const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "pool", json_object_new_string(r->args[0]));
	json_object_object_add(p, "name", json_object_new_string(name));
	return p;
}

static void label(char *buf, size_t len, struct request *r, const char *volume)
{
	snprintf(buf, len, "%s/%s", r->args[0], volume);
}

int page_volume_create(struct request *r)
{
	const char *name, *format = params_get(&r->form, "format");
	char object[VM_NAME_MAX + VOLUME_NAME_MAX + 2], back[VM_NAME_MAX + 8];
	int64_t size = form_size(r);
	json_object *params;

	if (pool_name_refused(r) || !(name = new_volume_name(r, "name")))
		return -1;
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	if (!format || (strcmp(format, "raw") && strcmp(format, "qcow2")))
		return respond_redirect_error(r, back, "A volume is raw or qcow2.");
	if (!size)
		return respond_redirect_error(r, back, "A volume's size is 1 MiB to 64 TiB.");
	params = volume_params(r, name);
	json_object_object_add(params, "format", json_object_new_string(format));
	json_object_object_add(params, "capacity", json_object_new_int64(size));
	label(object, sizeof(object), r, name);
	if (pool_call(r, "create volume", "vol.create", params, object) < 0)
		return -1;
	return back_to_pool(r, "The volume %s was made.", name);
}

int page_volume_clone(struct request *r)
{
	const char *from, *name;
	char object[VM_NAME_MAX + VOLUME_NAME_MAX + 2];
	json_object *params;
	bool overlay;

	if (pool_name_refused(r) || !(from = chosen_volume_name(r)) ||
	    !(name = new_volume_name(r, "new_name")))
		return -1;
	if (params_bool(&r->form, "overlay", &overlay) < 0)
		return refuse_to_pool(r, "An overlay is on or off.");
	params = volume_params(r, from);
	json_object_object_add(params, "new_name", json_object_new_string(name));
	json_object_object_add(params, "overlay", json_object_new_boolean(overlay));
	label(object, sizeof(object), r, name);
	if (pool_call(r, "clone volume", "vol.clone", params, object) < 0)
		return -1;
	return back_to_pool(r, "The volume %s was made.", name);
}

int page_volume_resize(struct request *r)
{
	const char *name;
	char object[VM_NAME_MAX + VOLUME_NAME_MAX + 2], back[VM_NAME_MAX + 8];
	json_object *params;
	int64_t size = form_size(r);

	if (pool_name_refused(r) || !(name = chosen_volume_name(r)))
		return -1;
	snprintf(back, sizeof(back), "/pool/%s", r->args[0]);
	if (!size)
		return respond_redirect_error(r, back, "A volume's size is 1 MiB to 64 TiB.");
	params = volume_params(r, name);
	json_object_object_add(params, "capacity", json_object_new_int64(size));
	label(object, sizeof(object), r, name);
	if (pool_call(r, "resize volume", "vol.resize", params, object) < 0)
		return -1;
	return back_to_pool(r, "The volume %s was resized.", name);
}

int page_volume_delete(struct request *r)
{
	const char *name;
	char object[VM_NAME_MAX + VOLUME_NAME_MAX + 2];

	if (pool_name_refused(r) || !(name = chosen_volume_name(r)))
		return -1;
	label(object, sizeof(object), r, name);
	if (pool_call(r, "delete volume", "vol.delete", volume_params(r, name), object) < 0)
		return -1;
	/* a volume made later under this name is no template until marked */
	volume_template_set(r->db, r->args[0], name, NULL, false);
	return back_to_pool(r, "The volume %s was deleted.", name);
}

/* Mark a volume as a template users may build VMs on, or unmark it. */
int page_volume_template(struct request *r)
{
	const char *name;
	char object[VM_NAME_MAX + VOLUME_NAME_MAX + 2], code[64], err[512];
	json_object *res = NULL;
	bool enable;
	int ret;

	if (pool_name_refused(r) || !(name = chosen_volume_name(r)))
		return -1;
	if (params_bool(&r->form, "enable", &enable) < 0)
		return refuse_to_pool(r, "A volume is a template or not.");
	label(object, sizeof(object), r, name);
	/* only a volume vmmd has in this pool */
	if (vmmd_call(r->vmmd, "vol.info", volume_params(r, name), &res, code, sizeof(code), err,
		      sizeof(err)) < 0) {
		audit_log(r, "template volume", object, err);
		return refuse_to_pool(r, err);
	}
	ret = volume_template_set(r->db, r->args[0], name,
				  json_object_get_string(json_object_object_get(res, "id")), enable);
	json_object_put(res);
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed.");
	audit_log(r, "template volume", object, enable ? "ok: on" : "ok: off");
	return back_to_pool(r, "%s is %s a template users may build VMs on.", name, enable ? "now" : "no longer");
}
