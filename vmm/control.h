/*
 * vmm's control socket: JSON lines (common/jsonrpc.h) on a unix socket,
 * served by the main loop. vmmd uses it to pause, resume, power down,
 * reset, read statistics and end the VM, and listens on it for events.
 */
#ifndef WEBKVM_VMM_CONTROL_H
#define WEBKVM_VMM_CONTROL_H

#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define CONTROL_MAX_CLIENTS 8
/* the pollfds control_pollfds() may add */
#define CONTROL_MAX_POLLFDS (1 + CONTROL_MAX_CLIENTS)

/* Answer one request: a result object, or an error built with jsonrpc_error (then *is_error). */
typedef json_object *(*control_handler)(void *opaque, const char *method, json_object *params,
					 bool *is_error);

struct control;

/* spec is "unix:PATH". 0 or -errno with a sentence in err. */
int control_open(struct control **ret, const char *spec, control_handler handler, void *opaque,
		 char *err, size_t errlen);
void control_close(struct control *ctl);

/* Add the fds to wait on; returns how many (at most CONTROL_MAX_POLLFDS). */
unsigned int control_pollfds(struct control *ctl, struct pollfd *fds);
/* Serve what those fds have; fds as control_pollfds filled them, after poll. */
void control_dispatch(struct control *ctl, const struct pollfd *fds, unsigned int n);
/* Send a notification to every client. Does not take it. */
void control_broadcast(struct control *ctl, json_object *notification);

#endif
