/*
 * What follows the definition of a pool or a network from its form:
 * autostart and a start, each asked of vmmd, each audited, and the
 * answer says what was done and what was refused (the definition stays:
 * it is what the form asked for first, and its page can finish the rest).
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/audit.h"
#include "fcgi/pages.h"
#include "fcgi/response.h"
#include "fcgi/vmmd.h"

/* One follow-up: vmmd's refusal in err (and false), or true. */
static bool follow(struct request *r, const char *method, json_object *params, const char *action,
		   const char *name, char *err, size_t errlen)
{
	json_object *res = NULL;
	char code[64];

	if (vmmd_call(r->vmmd, method, params, &res, code, sizeof(code), err, errlen) < 0) {
		audit_log(r, action, name, err);
		return false;
	}
	json_object_put(res);
	audit_log(r, action, name, "ok");
	return true;
}

int define_followups(struct request *r, const char *kind, const char *name, const char *prefix,
		     bool autostart, bool start, const char *back)
{
	char method[32], action[48], auto_err[512] = "", start_err[512] = "";
	bool auto_ok = true, start_ok = true;
	json_object *params;

	if (autostart) {
		params = vmmd_name_params(name);
		json_object_object_add(params, "enable", json_object_new_boolean(1));
		snprintf(method, sizeof(method), "%s.autostart", prefix);
		snprintf(action, sizeof(action), "%s autostart", kind);
		auto_ok = follow(r, method, params, action, name, auto_err, sizeof(auto_err));
	}
	if (start) {
		snprintf(method, sizeof(method), "%s.start", prefix);
		snprintf(action, sizeof(action), "start %s", kind);
		start_ok = follow(r, method, vmmd_name_params(name), action, name, start_err, sizeof(start_err));
	}
	if (!auto_ok || !start_ok)
		return respond_redirect_error(r, back, "The %s %s was defined%s%s%s%s%s%s.", kind, name,
					      start && start_ok ? " and started" : "",
					      !start_ok ? "; it did not start: " : "", start_err,
					      !auto_ok ? "; autostart was not set: " : "", auto_err,
					      autostart && auto_ok ? "; it starts with the host" : "");
	return respond_redirect(r, back, "The %s %s was defined%s%s.", kind, name,
				start ? " and started" : "",
				autostart ? "; it starts with the host" : "");
}
