/*
 * One action on many VMs from the instances list: start, shut down,
 * suspend, resume, force off or delete each VM ticked. Each VM is checked
 * on its own, as its own page's route would be (the caller sees it and
 * holds the action's right on it, at this moment), and goes to vmmd on
 * its own; the answer is a page with each VM's result, and each one is
 * in the audit log.
 *
 * NOTES
 * - A VM that does not exist and one the caller may not see are refused
 *   alike, as on the VMs' own pages; the audit log gets one row for all of
 *   them (a row each for the VMs the caller sees).
 * - Past BULK_SECONDS the VMs left are not tried, and say so.
 * - Delete removes definitions only, never disks (a VM's own page, for
 *   an admin, deletes disks too).
 * - The actions that vmmd passes to a VM's vmm are refused at once for a
 *   vmm that does not answer, so that one stuck VM does not hold the
 *   request for the whole list.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/jsonrpc.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/rights.h"
#include "fcgi/tags.h"
#include "fcgi/vmlist.h"
#include "fcgi/vmmd.h"

#define BULK_MAX 1000
#define BULK_SECONDS 120 /* past this, the VMs left are not tried (nginx waits 300 s) */

struct bulk_action {
	const char *action, *method, *done;
	bool remove;   /* needs the delete right, not the power right */
	bool asks_vmm; /* vmmd passes it to the VM's vmm */
};

static const struct bulk_action bulk_actions[] = {
	{ "start", "domain.start", "started", false, false },
	{ "shutdown", "domain.shutdown", "asked to shut down", false, true },
	{ "suspend", "domain.suspend", "suspended", false, true },
	{ "resume", "domain.resume", "resumed", false, true },
	{ "destroy", "domain.destroy", "forced off", false, false },
	{ "delete", "domain.undefine", "deleted", true, false },
};

static void add_result(json_object *results, const char *name, bool ok, const char *text)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "result", json_object_new_string(text));
	json_object_array_add(results, o);
}

/* One VM: checked, then done; its result added. True when it was done. */
static bool bulk_one(struct request *r, const struct bulk_action *a, const char *name,
		     json_object *results)
{
	json_object *params, *info = NULL, *res = NULL;
	char code[64], err[512];
	struct vm_rights rights = { 0 };
	const char *uuid = NULL;
	bool responding = true;
	char uuid_copy[64];

	/* not audited one by one: a form of 1,000 made-up names would fill the log (see page_vms_bulk) */
	if (!vm_name_valid(name)) {
		add_result(results, name, false, "refused: no VM of yours has this name");
		return false;
	}
	params = json_object_new_object();
	json_object_object_add(params, "name", json_object_new_string(name));
	if (vmmd_call(r->vmmd, "domain.info", params, &info, code, sizeof(code), err, sizeof(err)) < 0 ||
	    !json_get_string(info, "uuid", &uuid) ||
	    rights_get(r->db, &r->session, uuid, &rights) < 0 || !rights.view) {
		json_object_put(info);
		add_result(results, name, false, "refused: no VM of yours has this name");
		return false;
	}
	snprintf(uuid_copy, sizeof(uuid_copy), "%s", uuid);
	json_get_bool(info, "responding", &responding);
	json_object_put(info);
	if (!(a->remove ? rights.remove : rights.power)) {
		add_result(results, name, false, "refused: you may not do this to it");
		audit_log(r, a->action, name, "refused");
		return false;
	}
	if (a->asks_vmm && !responding) {
		add_result(results, name, false, "not responding; force off works now");
		audit_log(r, a->action, name, "not responding");
		return false;
	}
	params = json_object_new_object();
	json_object_object_add(params, "name", json_object_new_string(name));
	if (a->remove)
		json_object_object_add(params, "remove_storage", json_object_new_boolean(0));
	if (vmmd_call(r->vmmd, a->method, params, &res, code, sizeof(code), err, sizeof(err)) < 0) {
		add_result(results, name, false, err);
		audit_log(r, a->action, name, err);
		return false;
	}
	json_object_put(res);
	if (a->remove) {
		/* a VM defined again with this uuid gets no old rights or tags */
		vm_forget(r->db, uuid_copy);
	}
	add_result(results, name, true, a->done);
	audit_log(r, a->action, name, "ok");
	return true;
}

/*
 * One audit row for the names that are no VM of the caller's: each VM the
 * caller sees has a row of its own, but a form can name 1,000 that do not
 * exist, and each request would push 1,000 rows of history out of the log.
 */
static void audit_unknown(struct request *r, const struct bulk_action *a, json_object *results)
{
	struct buf names = BUF_INIT(1024);
	size_t n = 0;

	for (size_t k = 0; k < json_object_array_length(results); k++) {
		json_object *o = json_object_array_get_idx(results, k);
		const char *result = json_object_get_string(json_object_object_get(o, "result"));

		if (strcmp(result, "refused: no VM of yours has this name"))
			continue;
		if (n++ < 10)
			buf_printf(&names, "%s%.64s", n > 1 ? " " : "",
				   json_object_get_string(json_object_object_get(o, "name")));
	}
	if (n) {
		if (n > 10)
			buf_printf(&names, " and %zu more", n - 10);
		audit_log(r, a->action, names.data ? names.data : "", "refused");
	}
	buf_free(&names);
}

int page_vms_bulk(struct request *r)
{
	const char *action = params_get(&r->form, "action"), *name;
	const struct bulk_action *a = NULL;
	json_object *ctx, *results;
	size_t i = 0, n = 0, done = 0;
	char summary[128];

	for (size_t k = 0; action && k < sizeof(bulk_actions) / sizeof(bulk_actions[0]); k++)
		if (!strcmp(action, bulk_actions[k].action))
			a = &bulk_actions[k];
	if (!a)
		return respond_redirect_error(r, "/instances", "Choose what to do with the selected VMs.");
	while (params_next(&r->form, "vm", &i))
		n++;
	if (n == 0)
		return respond_redirect_error(r, "/instances", "Tick the VMs to act on first.");
	if (n > BULK_MAX)
		return respond_redirect_error(r, "/instances", "At most %d VMs at once.", BULK_MAX);
	results = json_object_new_array();
	for (i = 0; (name = params_next(&r->form, "vm", &i));) {
		bool repeated = false;

		/* a name ticked twice is done once */
		for (size_t k = 0; k < json_object_array_length(results); k++)
			repeated |= !strcmp(json_object_get_string(json_object_object_get(
						    json_object_array_get_idx(results, k), "name")), name);
		if (repeated)
			continue;
		if (time(NULL) - r->now > BULK_SECONDS) {
			add_result(results, name, false, "not tried: the request ran out of time");
			continue;
		}
		done += bulk_one(r, a, name, results);
	}
	audit_unknown(r, a, results);
	ctx = json_object_new_object();
	snprintf(summary, sizeof(summary), "%s: %zu of %zu done", a->action, done,
		 json_object_array_length(results));
	json_object_object_add(ctx, "summary", json_object_new_string(summary));
	json_object_object_add(ctx, "results", results);
	json_object_object_add(ctx, "nav_instances", json_object_new_boolean(1));
	return respond_page(r, "bulk", "Selected VMs", ctx);
}
