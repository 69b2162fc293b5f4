#include "common/log.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"

void audit_write(sqlite3 *db, time_t at, const char *user, const char *address,
		 const char *action, const char *object, const char *result)
{
	if (db_exec(db, "INSERT INTO audit (at, user, address, action, object, result) "
			"VALUES (?, ?, ?, ?, ?, ?)", "isssss", (int64_t)at, user,
		    address ? address : "", action, object, result) < 0)
		log_error("cannot write the audit log (%s %s by %s): %s", action, object, user,
			  sqlite3_errmsg(db));
	/* the newest AUDIT_KEEP entries are kept; older ones go, a thousand at a time */
	else if (sqlite3_last_insert_rowid(db) % 1000 == 0)
		db_exec(db, "DELETE FROM audit WHERE id <= ?", "i",
			(int64_t)(sqlite3_last_insert_rowid(db) - AUDIT_KEEP));
}

void audit_log(struct request *r, const char *action, const char *object, const char *result)
{
	audit_write(r->db, r->now, r->session.user_id ? r->session.user : "-", r->address,
		    action ? action : r->path, object, result);
}
