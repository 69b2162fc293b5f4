/*
 * A VM's consoles in the browser: the page of its screen (noVNC) or its
 * serial port (xterm.js), and the tickets those pages open the console
 * proxy with (fcgi/console_ticket.h). The page takes nothing from its
 * address but the VM's name and the kind, which the route checked the
 * console right on; the websocket's address is always /websockify on
 * this site, with a ticket fetched by a POST carrying the CSRF token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/audit.h"
#include "fcgi/console_ticket.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmlist.h"

static bool vm_runs(json_object *vm)
{
	const char *state = json_object_get_string(json_object_object_get(vm, "state"));

	return state && (!strcmp(state, "running") || !strcmp(state, "paused"));
}

int page_vm_console(struct request *r)
{
	json_object *ctx;
	const char *kind = r->args[1];
	struct vm_decor decor = { 0 };
	char title[128];

	if (!console_kind_valid(kind))
		return respond_error(r, 404, "There is no page at this address.");
	vm_decorate(r->vm, &r->rights, &decor);
	vm_decor_free(&decor);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "vm", json_object_get(r->vm));
	json_object_object_add(ctx, "kind", json_object_new_string(kind));
	json_object_object_add(ctx, !strcmp(kind, "vnc") ? "vnc" : "serial",
			       json_object_new_boolean(true));
	if (r->style_nonce)
		json_object_object_add(ctx, "style_nonce", json_object_new_string(r->style_nonce));
	snprintf(title, sizeof(title), "%s of %s", !strcmp(kind, "vnc") ? "Screen" : "Serial console",
		 r->args[0]);
	return respond_page(r, "console", title, ctx);
}

int page_vm_console_ticket(struct request *r)
{
	const char *kind = r->args[1];
	char ticket[TICKET_HEX + 1];
	struct timespec ts;
	json_object *o;
	int ret;

	if (!console_kind_valid(kind))
		return respond_error(r, 404, "There is no console of this kind.");
	if (!vm_runs(r->vm)) {
		audit_log(r, "open console", r->args[0], "not running");
		return respond_error(r, 409, "%s is not running: start it to open its console.",
				     r->args[0]);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ret = ticket_issue(r->db, &r->session, r->vm_uuid, r->args[0], kind,
			   (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ticket);
	if (ret < 0)
		return respond_error(r, 500, "The portal's database failed.");
	o = json_object_new_object();
	json_object_object_add(o, "ticket", json_object_new_string(ticket));
	json_object_object_add(o, "expires_in", json_object_new_int(TICKET_LIFE_MS / 1000));
	return respond_json(r, 200, o);
}
