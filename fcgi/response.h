/*
 * Answers: a page rendered from a template with the layout's context, a
 * redirect after a POST, an error page with one readable sentence, or
 * JSON for the pages' scripts. Every answer gets the same security headers
 * (main.c writes them).
 */
#ifndef WEBKVM_FCGI_RESPONSE_H
#define WEBKVM_FCGI_RESPONSE_H

#include <json-c/json.h>

#include "fcgi/app.h"

/* Render template name with ctx (taken), plus user, csrf, flash and nav. */
int respond_page(struct request *r, const char *name, const char *title, json_object *ctx);
/* 303 to a path of ours, with a message for the next page (may be NULL). */
int respond_redirect(struct request *r, const char *path, const char *flash, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with a message shown as an error. */
/*
 * The API's status and code for the next respond_redirect_error, when what
 * is refused is not the caller's input (that is 400 "refused"): a quota
 * (403 "quota-exceeded"), or, by respond_vmmd_refused, what vmmd refused.
 */
void respond_refusal_kind(struct request *r, int status, const char *code);  /* 0, NULL: none */
/*
 * respond_redirect_error with vmmd's sentence err for what it refused
 * (code, vmmd_call's; "" when vmmd was not reached). The API answers:
 * 404 "not-found" (no such VM, pool, volume, network), 409 "conflict" (in
 * use, in the wrong state, the name taken), 400 "refused" (the request's
 * values), 502 "vm-service-unavailable", or 500 "vm-service-error", with
 * vmmd's code as "reason".
 */
int respond_vmmd_refused(struct request *r, const char *path, const char *code, const char *err);
int respond_redirect_error(struct request *r, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Background polling, or a .json address: errors are answered as {"error": "..."}. */
bool request_wants_json(const struct request *r);
int respond_error(struct request *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* obj is taken. */
int respond_json(struct request *r, int status, json_object *obj);
/* Add a header line; a name or value with CR, LF or NUL is refused (-EINVAL). */
int respond_header(struct request *r, const char *name, const char *value);

#endif
