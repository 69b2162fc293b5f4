/*
 * The route table (routes.c) and the checks every request passes before
 * its handler runs, in one place: the method, the session, who may call
 * the route, for a state change the POST, its Origin and its CSRF token,
 * and for a route on one VM the caller's right on that VM.
 */
#ifndef WEBKVM_FCGI_ROUTER_H
#define WEBKVM_FCGI_ROUTER_H

#include <stdbool.h>

#include "fcgi/app.h"

enum access {
	ACCESS_ANYONE, /* no login needed */
	ACCESS_USER,   /* any logged-in user */
	ACCESS_CREATE, /* an admin, or a user an admin let make VMs of their own */
	ACCESS_ADMIN,  /* an admin */
};

/* What a route on one VM needs on it (a user without VM_SEE sees no VM). */
enum vm_need {
	VM_NONE,    /* not a route on one VM */
	VM_SEE,
	VM_POWER,
	VM_CHANGE,
	VM_REMOVE,
	VM_CONSOLE,
	VM_ADMIN,   /* only an admin, whatever the rights */
};

struct route {
	const char *method;   /* "GET" (HEAD too) or "POST" */
	const char *pattern;  /* "/instance/{}/start": {} is one path segment, an argument */
	int (*handler)(struct request *r);
	enum access access;
	bool changes_state;   /* POST only, Origin and CSRF token checked, audited */
	enum vm_need vm;      /* args[0] names the VM */
	const char *action;   /* the audit log's name for it */
	bool file_body;       /* the body is a file's bytes (application/octet-stream),
				 read by the handler; the CSRF token comes in X-CSRF-Token */
};

extern const struct route routes[];

/* Match path against pattern; the {} parts go to args (pointing into buf). */
bool route_match(const char *pattern, const char *path, char *buf, size_t buflen,
		 const char **args);
/* Handle one request whose fields are filled in; sets r->status and body. */
void router_dispatch(struct request *r);

/* Whether the JSON API (under /api/, with a token) offers the route. */
bool route_in_api(const struct route *rt);

#endif
