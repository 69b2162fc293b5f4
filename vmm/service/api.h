/* What the API's method files share: the call's context and its errors. */
#ifndef WEBKVM_VMMD_API_H
#define WEBKVM_VMMD_API_H

#include "vmm/service/vmmd.h"

struct api_ctx {
	struct vmmd *d;
	json_object *params;
	uid_t uid;            /* the caller's */
	const char *code;     /* on error */
	char err[1024];
	int *passed_fd;       /* sent by the client with the request, or -1 */
	int reply_fd;         /* to send with the reply (SCM_RIGHTS), or -1; the caller closes it */
	/*
	 * For a method whose reply comes later: it hands `later` to what
	 * finishes it (which then calls vmmd_answer), sets `deferred` and
	 * returns NULL.
	 */
	struct deferred *later;
	bool deferred;
};

typedef json_object *(*api_fn)(struct api_ctx *c);

/*
 * Answer the call later: work(arg) runs in a child process (its return, 0
 * or an errno, is the status), and when it ends job->finish makes the
 * reply. The caller fills in the job's path, finish and data. The child
 * keeps only the file descriptors in keep (nkeep of them; no client, no
 * listener, no VM's), and signals reach it. 0, with the job taken and the
 * call deferred; or -1 with the error set and the job still the caller's.
 */
int api_job(struct api_ctx *c, struct job *job, int (*work)(void *arg), void *arg,
	    const int *keep, unsigned int nkeep);

/* Set the error and return NULL. */
json_object *api_fail(struct api_ctx *c, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* params.KEY as a string, or NULL with the error set. */
const char *api_string(struct api_ctx *c, const char *key);
/* { "xml": xml } for a dumpxml method, taking xml (NULL: out of memory). */
json_object *api_xml(struct api_ctx *c, char *xml);

/* api_storage.c */
json_object *api_pool_list(struct api_ctx *c);
json_object *api_pool_define(struct api_ctx *c);
json_object *api_pool_undefine(struct api_ctx *c);
json_object *api_pool_start(struct api_ctx *c);
json_object *api_pool_stop(struct api_ctx *c);
json_object *api_pool_dumpxml(struct api_ctx *c);
json_object *api_pool_info(struct api_ctx *c);
json_object *api_pool_autostart(struct api_ctx *c);
json_object *api_vol_list(struct api_ctx *c);
json_object *api_vol_create(struct api_ctx *c);
json_object *api_vol_clone(struct api_ctx *c);
json_object *api_vol_delete(struct api_ctx *c);
json_object *api_vol_info(struct api_ctx *c);
json_object *api_vol_resize(struct api_ctx *c);
json_object *api_vol_upload(struct api_ctx *c);

/* api_network.c */
json_object *api_net_list(struct api_ctx *c);
json_object *api_net_define(struct api_ctx *c);
json_object *api_net_undefine(struct api_ctx *c);
json_object *api_net_start(struct api_ctx *c);
json_object *api_net_destroy(struct api_ctx *c);
json_object *api_net_dumpxml(struct api_ctx *c);
json_object *api_net_info(struct api_ctx *c);
json_object *api_net_autostart(struct api_ctx *c);
json_object *api_net_leases(struct api_ctx *c);
json_object *api_domain_ifaddr(struct api_ctx *c);

#endif
