/*
 * webkvm-websockify: the console proxy. One process, one epoll loop, every
 * socket non-blocking. A browser's websocket (from nginx, over a unix
 * socket) is joined to a VM's VNC server or serial port, whose connected
 * socket vmmd hands over (domain.open_console); nothing the client sends
 * names a host, port or path. What may open a console is the portal's
 * say: a ticket it issued (fcgi/console_ticket.h), the same session's
 * cookie, and the console right, checked at the handshake and again every
 * check interval for as long as the console is open.
 */
#ifndef WEBKVM_WEBSOCKIFY_PROXY_H
#define WEBKVM_WEBSOCKIFY_PROXY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "common/buf.h"
#include "websockify/handshake.h"

#define QUEUE_MAX (256 * 1024)     /* bytes queued toward one side before the other is not read */
#define QUEUE_MSGS_MAX 1024        /* messages queued toward the client (a guest's single bytes,
				    * a client's pongs) before neither side is read */
#define MESSAGE_MAX (1024 * 1024)  /* the largest message (and frame) a client may send */
#define READ_CHUNK (256 * 1024)    /* read from a socket at a time (the VM's: sent as one message) */

struct proxy_config {
	const char *listen;          /* a unix socket's path, or 127.0.0.1:PORT */
	const char *state_dir;       /* the portal's: its database */
	const char *vmmd_socket;
	const char *target;          /* the benchmark's fixed TCP target (loopback only), or NULL */
	int max_connections;
	int max_per_user;
	int idle_timeout_ms;
	int handshake_timeout_ms;
	int check_interval_ms;       /* how often an open console's right is checked again */
	int vmmd_timeout_ms;
};

struct conn;

/* What epoll's data points at: one side of a connection, or the listener/signals. */
struct endpoint {
	struct conn *c;
	bool backend;
};

enum conn_state {
	CONN_HANDSHAKE, /* reading the HTTP request */
	CONN_REFUSING,  /* sending the refusal, then closing */
	CONN_OPEN,      /* a websocket joined to its VM's socket */
	CONN_DRAINING,  /* all was sent and our side shut: what the client still sends is
			 * read and dropped until it closes or a grace time ends, so that
			 * closing does not reset the connection before it read our last bytes */
};

struct conn {
	struct proxy *px;
	struct conn *prev, *next;
	struct endpoint ep_client, ep_backend;
	int fd, backend;
	enum conn_state state;
	uint32_t ev_client, ev_backend;    /* what epoll watches on each */
	bool reg_client, reg_backend;      /* whether each is in epoll at all */

	char *in;                /* the handshake, when it came in more than one read */
	size_t in_len;
	struct buf stage;        /* read from the client, not yet taken by wslay */
	size_t stage_off;
	bool dead;               /* closed, freed once the current round of events is done */
	char *raw;               /* the HTTP answer still to send */
	size_t raw_len, raw_off;

	wslay_event_context_ptr ws;
	struct buf to_backend;   /* what the client sent that the VM's socket did not take yet */
	uint8_t frame_opcode;    /* of the frame being received */
	uint64_t msg_len;        /* of the data message being received */
	bool backend_eof;        /* the VM's end closed */
	bool client_eof;         /* the client's socket closed or failed */
	long long deadline;      /* handshake or closing deadline (ms), 0: none */
	long long last_io;

	/* whose console it is (ticketed connections) */
	bool ticketed;
	char session_id[65];
	int64_t user_id;
	char user[33];
	char vm_uuid[40];
	char vm_name[65];
	char kind[8];
	char address[64];
	long long next_check;
};

struct proxy {
	struct proxy_config cfg;
	int epfd, listen_fd, signal_fd;
	struct endpoint ep_listen, ep_signal;
	sqlite3 *db;              /* the portal's database (NULL with a fixed target) */
	struct conn *conns;
	struct conn *dead;        /* closed in this round of events: freed after it */
	int nconns;
	int freed_since_trim;
	bool stopping;
	long long stop_deadline;
	uint8_t scratch[READ_CHUNK];
};

long long mono_ms(void);

/* conn.c: a connection's life. */
void conn_accept(struct proxy *px);
/* An event on one side; nothing for a connection closed earlier in the same round. */
void conn_event(struct conn *c, bool backend, uint32_t events);
/* Free what was closed in this round (its events may still have been in the batch). */
void conn_reap(struct proxy *px);
/* Deadlines, idle time and the periodic check of each open console's right. */
void conn_sweep(struct proxy *px, long long now);
/* Close an open websocket with code and reason, or drop a connection still in its handshake. */
void conn_close(struct conn *c, uint16_t code, const char *reason);
/* The same, and send it now (a connection that waits for nothing else gets it too). */
void conn_close_now(struct conn *c, uint16_t code, const char *reason);

/*
 * admit.c: whether the handshake h may open a console, and the VM's socket
 * for it: 0 with c->backend, or h->status and h->reason set.
 */
void admit(struct proxy *px, struct conn *c, struct handshake *h);
/*
 * Whether an open console may stay open: NULL, or why not (the session
 * ended, the user was disabled, the console right was taken away).
 */
const char *admit_recheck(struct proxy *px, struct conn *c);

#endif
