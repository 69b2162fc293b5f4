/*
 * Console tickets: what the portal gives a logged-in user with the console
 * right on a VM, and what the console proxy (websockify/) takes back for
 * one websocket. A ticket is 192 random bits for one session, one user,
 * one VM and one kind of console; it opens at most one connection and
 * only in the 30 s after it was issued. The database keeps its SHA-256,
 * never the ticket, and taking it deletes it in the same statement, so
 * that of two connections racing for one ticket exactly one gets it.
 */
#ifndef WEBKVM_FCGI_CONSOLE_TICKET_H
#define WEBKVM_FCGI_CONSOLE_TICKET_H

#include <sqlite3.h>
#include <stdint.h>

#include "fcgi/session.h"

#define TICKET_HEX 48
#define TICKET_LIFE_MS 30000
#define TICKETS_PER_SESSION 32 /* unused ones kept at most; the oldest go */

struct console_ticket {
	char session_hash[SESSION_ID_HEX + 1];
	int64_t user_id;
	char vm_uuid[40];
	char vm_name[65];
	char kind[8];      /* "vnc" or "serial" */
	int64_t expires_ms;
};

/* Whether kind names a console: "vnc" or "serial". */
int console_kind_valid(const char *kind);
/* A new ticket for session s (logged in) in ret. 0 or -errno. */
int ticket_issue(sqlite3 *db, const struct session *s, const char *vm_uuid, const char *vm_name,
		 const char *kind, int64_t now_ms, char ret[TICKET_HEX + 1]);
/*
 * Take a ticket: it is gone from the database whatever the answer. 0 with
 * what it was issued for; -ENOENT for one that is unknown, already taken,
 * malformed or expired; -EIO.
 */
int ticket_take(sqlite3 *db, const char *ticket, int64_t now_ms, struct console_ticket *ret);

#endif
