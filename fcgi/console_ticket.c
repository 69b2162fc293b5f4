#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/console_ticket.h"
#include "fcgi/db.h"
#include "fcgi/password.h"

int console_kind_valid(const char *kind)
{
	return kind && (!strcmp(kind, "vnc") || !strcmp(kind, "serial"));
}

static int well_formed(const char *t)
{
	size_t i;

	for (i = 0; t[i]; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return i == TICKET_HEX;
}

int ticket_issue(sqlite3 *db, const struct session *s, const char *vm_uuid, const char *vm_name,
		 const char *kind, int64_t now_ms, char ret[TICKET_HEX + 1])
{
	char ticket[TICKET_HEX + 1], hash[SESSION_ID_HEX + 1];
	int r;

	if (!s->user_id || !console_kind_valid(kind))
		return -EINVAL;
	r = random_hex(ticket, TICKET_HEX / 2);
	if (r < 0)
		return r;
	sha256_hex(ticket, hash);
	if (db_exec(db, "DELETE FROM console_tickets WHERE expires <= ?", "i", now_ms) < 0 ||
	    db_exec(db, "DELETE FROM console_tickets WHERE session_hash = ? AND hash IN "
			"(SELECT hash FROM console_tickets WHERE session_hash = ? "
			"ORDER BY expires DESC LIMIT -1 OFFSET ?)", "ssi", s->id_hash, s->id_hash,
		    (int64_t)(TICKETS_PER_SESSION - 1)) < 0 ||
	    db_exec(db, "INSERT INTO console_tickets (hash, session_hash, user_id, vm_uuid, "
			"vm_name, kind, expires) VALUES (?, ?, ?, ?, ?, ?, ?)", "ssisssi", hash,
		    s->id_hash, s->user_id, vm_uuid, vm_name, kind, now_ms + TICKET_LIFE_MS) < 0)
		return -EIO;
	memcpy(ret, ticket, sizeof(ticket));
	return 0;
}

int ticket_take(sqlite3 *db, const char *ticket, int64_t now_ms, struct console_ticket *ret)
{
	char hash[SESSION_ID_HEX + 1];
	sqlite3_stmt *st;
	int rc;

	if (!ticket || !well_formed(ticket))
		return -ENOENT;
	sha256_hex(ticket, hash);
	/* one statement: whoever deletes the row is the one who has it */
	st = db_query(db, "DELETE FROM console_tickets WHERE hash = ? RETURNING session_hash, "
			  "user_id, vm_uuid, vm_name, kind, expires", "s", hash);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(ret->session_hash, sizeof(ret->session_hash), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		ret->user_id = sqlite3_column_int64(st, 1);
		snprintf(ret->vm_uuid, sizeof(ret->vm_uuid), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		snprintf(ret->vm_name, sizeof(ret->vm_name), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		snprintf(ret->kind, sizeof(ret->kind), "%s", (const char *)sqlite3_column_text(st, 4));
		ret->expires_ms = sqlite3_column_int64(st, 5);
		/* RETURNING's rows come before the delete is done: finish it */
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -EIO;
		return now_ms < ret->expires_ms ? 0 : -ENOENT;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}
