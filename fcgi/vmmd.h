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

/* A list read from vmmd, kept with its etag (see vmmd_domains). */
struct vmmd_kept {
	json_object *list;
	char etag[40];
	char key[72];    /* what it is the list of: a pool's name */
};

#define VMMD_KEPT_POOLS 4

struct vmmd_link {
	const char *socket;
	int timeout_ms;  /* for reads; calls that wait on a VM get vmmd's deadline and more */
	int fd; /* -1: not connected */
	/* the last domain.list read on this link, and vmmd's etag for it */
	json_object *domains;
	char domains_etag[40];
	/* the last vol.list of the pools last listed on it */
	struct vmmd_kept volumes[VMMD_KEPT_POOLS];
	unsigned int next_volumes;
};

void vmmd_link_close(struct vmmd_link *l);
/* Close it and drop what it keeps. */
void vmmd_link_free(struct vmmd_link *l);
/*
 * Call method with params (taken; may be NULL). 0 with *ret (the caller's);
 * -1 when vmmd refused, with its code and its message in err; or -errno
 * when vmmd could not be reached, with a sentence in err.
 */
int vmmd_call(struct vmmd_link *l, const char *method, json_object *params, json_object **ret,
	      char *code, size_t codelen, char *err, size_t errlen);
/* The same, handing pass_fd to vmmd with the request, with a deadline of the caller's. */
int vmmd_call_fd(struct vmmd_link *l, const char *method, json_object *params, int pass_fd,
		 int timeout_ms, json_object **ret, char *code, size_t codelen, char *err,
		 size_t errlen);
/* Params {"name": name}, for the calls on one VM, network or pool. */
json_object *vmmd_name_params(const char *name);
/* The same for a call on one VM: params {"name": name}. */
int vmmd_call_vm(struct vmmd_link *l, const char *method, const char *name, json_object **ret,
		 char *code, size_t codelen, char *err, size_t errlen);

/*
 * vmmd's list of VMs (domain.list's "domains"), a reference the caller
 * puts. The link keeps the last list it read and asks vmmd for it with
 * that list's etag: when nothing in it changed, vmmd answers "unchanged"
 * and the kept list is given, not read and parsed again. The objects are
 * the kept ones: a caller may add keys to them (each view the same ones),
 * nothing else. NULL with a sentence in err.
 */
json_object *vmmd_domains(struct vmmd_link *l, char *err, size_t errlen);
/*
 * A started pool's volumes (vol.list's "volumes") likewise, kept for the
 * last few pools; *etag_ret, when given, is the kept list's etag (or NULL
 * for a list not kept). NULL with vmmd's code and its sentence.
 */
json_object *vmmd_volumes(struct vmmd_link *l, const char *pool, const char **etag_ret, char *code,
			  size_t codelen, char *err, size_t errlen);

#endif
