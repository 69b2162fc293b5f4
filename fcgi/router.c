/*
 * NOTES
 * - Every request goes through router_dispatch; a handler runs only after
 *   its route's checks passed, and a refusal leaves nothing changed.
 * - Refusals are answered alike for a VM that does not exist and one the
 *   user may not see, so that names cannot be probed.
 * - The Origin of a state change must be this site's own (scheme and Host
 *   as nginx received them); browsers send it with every POST.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ct.h"
#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/router.h"
#include "fcgi/vmmd.h"

bool route_match(const char *pattern, const char *path, char *buf, size_t buflen,
		 const char **args)
{
	size_t used = 0;
	int n = 0;

	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t len = strcspn(path, "/");

			if (!len || n == ROUTE_ARGS_MAX || used + len + 1 > buflen)
				return false;
			memcpy(buf + used, path, len);
			buf[used + len] = '\0';
			args[n++] = buf + used;
			used += len + 1;
			pattern += 2;
			path += len;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return !*pattern && !*path;
}

/*
 * This site's origin as a browser names it (RFC 6454): the scheme, the
 * host nginx served (Debian's nginx passes $host, never the raw Host
 * header), and the port unless it is the scheme's default.
 */
static const char *page_origin(struct request *r, char *buf, size_t len)
{
	const char *scheme = r->https ? "https" : "http";
	const char *port = r->port ? r->port : "";
	bool default_port = !*port || !strcmp(port, r->https ? "443" : "80");

	snprintf(buf, len, "%s://%s%s%s", scheme, r->host ? r->host : "", default_port ? "" : ":",
		 default_port ? "" : port);
	return buf;
}

/* Who may call it: 0, or an answer is made. */
static int check_access(struct request *r, const struct route *rt)
{
	if (rt->access == ACCESS_ANYONE)
		return 0;
	if (!r->session.user_id) {
		if (r->api)
			return respond_error(r, 401, "The API needs a valid token: Authorization: Bearer "
					     "TOKEN (made on your API tokens page)."), -EACCES;
		if (request_wants_json(r) || rt->changes_state)
			return respond_error(r, 401, "Your session has ended. Please log in again."), -EACCES;
		return respond_redirect(r, "/login", NULL), -EACCES;
	}
	/* the setup's password must be changed before anything else */
	if (r->session.initial_password && strcmp(rt->pattern, "/account/password") &&
	    strcmp(rt->pattern, "/logout")) {
		if (request_wants_json(r) || rt->changes_state)
			return respond_error(r, 403, "Change the initial password first."), -EACCES;
		return respond_redirect(r, "/account/password", "Choose a password of your own first."), -EACCES;
	}
	if (rt->access == ACCESS_ADMIN && !r->session.admin)
		return respond_error(r, 403, "Only an administrator may do this."), -EACCES;
	if (rt->access == ACCESS_CREATE && !r->session.admin && !r->session.may_create)
		return respond_error(r, 403, "Only an administrator, or a user allowed to make VMs, may do this."), -EACCES;
	return 0;
}

static int check_state_change(struct request *r, const struct route *rt)
{
	char origin[300];
	const char *token;

	/* a token is no cookie: no browser sends it by itself, so no forgery to check for */
	if (!rt->changes_state || r->api)
		return 0;
	if (!r->origin || strcmp(r->origin, page_origin(r, origin, sizeof(origin))))
		return respond_error(r, 403, "This request did not come from this site's own pages."), -EACCES;
	/* a file's bytes carry no form: a script of our pages sends the token in a header */
	token = rt->file_body ? r->csrf_header : params_get(&r->form, "csrf");
	if (!r->has_session || !token || !token_equal(token, r->session.csrf))
		return respond_error(r, 403, "The form has expired. Reload the page and try again."), -EACCES;
	return 0;
}

/* A form where a form is due, a file's bytes where those are. */
static int check_body(struct request *r, const struct route *rt)
{
	if (rt->file_body && !r->file_body)
		return respond_error(r, 415, "Send the file's bytes as application/octet-stream."), -EINVAL;
	if (!rt->file_body && r->file_body)
		return respond_error(r, 415, "The portal takes forms only as application/x-www-form-urlencoded."), -EINVAL;
	return 0;
}

static int check_vm(struct request *r, const struct route *rt)
{
	static const char refused[] = "You have no access to a VM named %s.";
	json_object *params, *info = NULL;
	char code[64], err[256];
	const char *uuid;
	bool allowed;
	int ret;

	if (rt->vm == VM_NONE)
		return 0;
	if (rt->vm == VM_ADMIN && !r->session.admin)
		return respond_error(r, 403, "Only an administrator may do this."), -EACCES;
	params = json_object_new_object();
	json_object_object_add(params, "name", json_object_new_string(r->args[0]));
	ret = vmmd_call(r->vmmd, "domain.info", params, &info, code, sizeof(code), err, sizeof(err));
	if (ret < 0 || !json_get_string(info, "uuid", &uuid)) {
		json_object_put(info);
		if (!r->session.admin)
			return respond_error(r, 403, refused, r->args[0]), -EACCES;
		if (ret == -1 && !strcmp(code, "no-domain"))
			return respond_error(r, 404, "There is no VM named %s.", r->args[0]), -ENOENT;
		return respond_error(r, 502, "The VM service did not answer: %s", err), -EIO;
	}
	r->vm = info;
	r->vm_uuid = uuid;
	ret = rights_get(r->db, &r->session, uuid, &r->rights);
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed."), ret;
	switch (rt->vm) {
	case VM_SEE: allowed = r->rights.view; break;
	case VM_POWER: allowed = r->rights.power; break;
	case VM_CHANGE: allowed = r->rights.change; break;
	case VM_REMOVE: allowed = r->rights.remove; break;
	case VM_CONSOLE: allowed = r->rights.console; break;
	default: allowed = r->session.admin; break;
	}
	if (!r->rights.view)
		return respond_error(r, 403, refused, r->args[0]), -EACCES;
	if (!allowed)
		return respond_error(r, 403, "You may not do this to the VM %s.", r->args[0]), -EACCES;
	return 0;
}

bool route_in_api(const struct route *rt)
{
	/* logging in and out, the account's own pages and the consoles are for browsers */
	return rt->access != ACCESS_ANYONE && strncmp(rt->pattern, "/account", 8) &&
	       strcmp(rt->pattern, "/logout") && !strstr(rt->pattern, "/console/");
}

void router_dispatch(struct request *r)
{
	const struct route *rt, *found = NULL;
	bool path_known = false;
	char argbuf[2 * (VM_NAME_MAX + 1)];
	const char *args[ROUTE_ARGS_MAX] = { 0 };
	bool is_get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");

	for (rt = routes; rt->pattern; rt++) {
		if (!route_match(rt->pattern, r->route_path, argbuf, sizeof(argbuf), args) ||
		    (r->api && !route_in_api(rt)))
			continue;
		path_known = true;
		if ((is_get && !strcmp(rt->method, "GET")) || !strcmp(rt->method, r->method)) {
			found = rt;
			break;
		}
	}
	if (!found) {
		if (path_known) {
			respond_header(r, "Allow", is_get ? "POST" : "GET, HEAD");
			respond_error(r, 405, "This address does not take a %s request.",
				      is_get ? "GET" : "POST");
		} else {
			respond_error(r, 404, "There is no page at this address.");
		}
		return;
	}
	memcpy(r->args, args, sizeof(args));
	if (check_access(r, found) < 0 || check_state_change(r, found) < 0 ||
	    check_vm(r, found) < 0 || check_body(r, found) < 0) {
		/* a refusal without a login is not logged: anyone could fill the log */
		if (found->changes_state && r->session.user_id)
			audit_log(r, found->action, r->args[0] ? r->args[0] : "", "refused");
		return;
	}
	found->handler(r);
}
