/*
 * What every worker thread shares, read-only once the portal has started,
 * and what each request carries through the route table to its handler.
 */
#ifndef WEBKVM_FCGI_APP_H
#define WEBKVM_FCGI_APP_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <time.h>

#include "common/buf.h"
#include "fcgi/fragment.h"
#include "fcgi/params.h"
#include "fcgi/session.h"
#include "fcgi/vmmd.h"

#define REQUEST_BODY_MAX (1024 * 1024)   /* nginx's client_max_body_size is the same */
#define PAGE_MAX (64 * 1024 * 1024)      /* a rendered page */
#define ROUTE_ARGS_MAX 2
#define VM_NAME_MAX 64

struct tpl_set;

struct app {
	const char *state_dir;
	const char *db_path;
	const char *vmmd_socket;
	const struct tpl_set *templates;
	int vmmd_timeout_ms;
};

/* What a worker thread keeps from one request to the next: its own, shared with no other. */
struct worker_keep {
	sqlite3 *db;           /* its database connection */
	struct vmmd_link vmmd; /* its connection to vmmd, with vmmd's last list of VMs */
	struct buf page;       /* the answer's body: a large page is not allocated anew each time */
	struct fragment rows;  /* the instances list's rows, with what they were made from */
	struct fragment api_list; /* the API's list of VMs, likewise */
	struct fragment volumes;  /* a pool page's volumes, likewise */
};

/* A VM's rights for the user of a request (an admin has them all). */
struct vm_rights {
	bool view, power, change, remove, console;
};

struct request {
	const struct app *app;
	sqlite3 *db;            /* this worker's connection */
	struct vmmd_link *vmmd; /* this worker's connection to vmmd */
	struct fragment *rows;  /* this worker's instances rows (fcgi/pages/vms.c) */
	struct fragment *api_list; /* and its API list of VMs */
	struct fragment *volumes;  /* and a pool page's volumes (fcgi/pages/storage.c) */
	time_t now;

	/* what nginx passed, checked where it is read */
	const char *method;     /* GET, HEAD or POST */
	const char *path;       /* DOCUMENT_URI, without the query */
	bool api;               /* under /api/: a script with an API token, answered in JSON */
	const char *route_path; /* the path the route table sees (path without "/api") */
	const char *host;       /* nginx's $host: the Host header's name, without the port */
	const char *port;       /* the port nginx took the request on */
	const char *origin;     /* Origin header or NULL */
	const char *address;    /* the client's address */
	const char *user_agent;
	bool https;
	bool poll;              /* background polling (X-Requested-With: poll): no activity */
	const char *style_nonce; /* nginx's nonce for <style> in this answer's CSP (32 hex digits), or NULL */
	struct params query;
	struct params form;     /* a POST's urlencoded body */
	struct FCGX_Stream *file_body; /* a POST's body of application/octet-stream, unread */
	long long file_length;  /* its Content-Length */
	const char *csrf_header; /* X-CSRF-Token */
	bool script;            /* X-Requested-With: a script of our pages, answered in JSON */
	struct params cookies;
	const char *args[ROUTE_ARGS_MAX]; /* the route's {} parts, in order */

	/* who asks */
	bool has_session;
	struct session session; /* user_id 0: not logged in */
	char new_session_id[SESSION_ID_HEX + 1]; /* set: the cookie goes out with the answer */
	bool clear_cookie;

	/* the VM of a route on one VM (args[0]), looked up by the router */
	json_object *vm;        /* vmmd's domain.info, owned */
	const char *vm_uuid;
	struct vm_rights rights;

	/* the answer */
	int refusal_status;         /* the API's for a refusal not of the caller's input, or 0 */
	const char *refusal_code;   /* and its code */
	char refusal_reason[48];    /* vmmd's code, when vmmd refused */
	int status;
	const char *content_type;
	struct buf headers;     /* extra header lines, each ending in \r\n */
	struct buf body;
};

#endif
