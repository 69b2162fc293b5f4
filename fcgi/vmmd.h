/* The portal's calls to vmmd: one connection per call, JSON lines, a deadline. */
#ifndef WEBKVM_FCGI_VMMD_H
#define WEBKVM_FCGI_VMMD_H

#include <json-c/json.h>
#include <stddef.h>

#include "fcgi/app.h"

/*
 * Call method with params (taken; may be NULL). 0 with *ret (the caller's);
 * -1 when vmmd refused, with its code and its message in err; or -errno
 * when vmmd could not be reached, with a sentence in err.
 */
int vmmd_call(const struct app *app, const char *method, json_object *params, json_object **ret,
	      char *code, size_t codelen, char *err, size_t errlen);
/* The same for a call on one VM: params {"name": name}. */
int vmmd_call_vm(const struct app *app, const char *method, const char *name, json_object **ret,
		 char *code, size_t codelen, char *err, size_t errlen);

#endif
