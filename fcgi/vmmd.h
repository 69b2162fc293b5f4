/*
 * The portal's calls to vmmd: JSON lines, a deadline each, on a connection
 * each worker keeps (vmmd answers a connection's requests in order). A
 * connection that vmmd closed is made anew before a request is sent on it;
 * one whose call failed on the way is closed, so that a late answer never
 * meets the next request.
 */
#ifndef WEBKVM_FCGI_VMMD_H
#define WEBKVM_FCGI_VMMD_H

#include <json-c/json.h>
#include <stddef.h>

struct vmmd_link {
	const char *socket;
	int timeout_ms;  /* for reads; calls that wait on a VM get vmmd's deadline and more */
	int fd; /* -1: not connected */
};

void vmmd_link_close(struct vmmd_link *l);
/*
 * Call method with params (taken; may be NULL). 0 with *ret (the caller's);
 * -1 when vmmd refused, with its code and its message in err; or -errno
 * when vmmd could not be reached, with a sentence in err.
 */
int vmmd_call(struct vmmd_link *l, const char *method, json_object *params, json_object **ret,
	      char *code, size_t codelen, char *err, size_t errlen);
/* The same for a call on one VM: params {"name": name}. */
int vmmd_call_vm(struct vmmd_link *l, const char *method, const char *name, json_object **ret,
		 char *code, size_t codelen, char *err, size_t errlen);

#endif
