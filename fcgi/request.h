/* One FastCGI request, from nginx's parameters to the answer written back. */
#ifndef WEBKVM_FCGI_REQUEST_H
#define WEBKVM_FCGI_REQUEST_H

#include <fcgiapp.h>
#include <sqlite3.h>

#include "fcgi/app.h"

/*
 * Serve one request; body is the worker's page buffer, kept from one
 * request to the next so that a large page is not allocated anew each time.
 */
void request_serve(const struct app *app, sqlite3 *db, struct vmmd_link *vmmd, FCGX_Request *fcgx,
		   struct buf *body);

/* Start a new session for r (login, or a login form's), replacing any it had. */
int request_new_session(struct request *r, int64_t user_id);
/* End r's session and clear its cookie. */
void request_end_session(struct request *r);

#endif
