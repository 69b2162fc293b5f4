/* The audit log: who did what to which object, when, from where, and how it ended. */
#ifndef WEBKVM_FCGI_AUDIT_H
#define WEBKVM_FCGI_AUDIT_H

#include "fcgi/app.h"

#define AUDIT_KEEP 200000

/* One entry, from a request or from the console proxy; user "-" for no one. */
void audit_write(sqlite3 *db, time_t at, const char *user, const char *address,
		 const char *action, const char *object, const char *result);
/* result: "ok", "refused", or vmmd's or the portal's sentence of why it failed. */
void audit_log(struct request *r, const char *action, const char *object, const char *result);

#endif
