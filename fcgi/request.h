/* One FastCGI request, from nginx's parameters to the answer written back. */
#ifndef WEBKVM_FCGI_REQUEST_H
#define WEBKVM_FCGI_REQUEST_H

#include <fcgiapp.h>
#include <sqlite3.h>

#include "fcgi/app.h"

/* Serve one request with what the worker keeps. */
void request_serve(const struct app *app, struct worker_keep *keep, FCGX_Request *fcgx);

/* Start a new session for r (login, or a login form's), replacing any it had. */
int request_new_session(struct request *r, int64_t user_id);
/* End r's session and clear its cookie. */
void request_end_session(struct request *r);

#endif
