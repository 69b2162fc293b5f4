#include "common/log.h"
#include "fcgi/audit.h"
#include "fcgi/db.h"

void audit_log(struct request *r, const char *action, const char *object, const char *result)
{
	const char *who = r->session.user_id ? r->session.user : "-";

	if (db_exec(r->db, "INSERT INTO audit (at, user, address, action, object, result) "
			   "VALUES (?, ?, ?, ?, ?, ?)", "isssss", (int64_t)r->now, who,
		    r->address ? r->address : "", action ? action : r->path, object, result) < 0)
		log_error("cannot write the audit log (%s %s by %s): %s", action, object, who,
			  sqlite3_errmsg(r->db));
	/* the newest AUDIT_KEEP entries are kept; older ones go, a thousand at a time */
	else if (sqlite3_last_insert_rowid(r->db) % 1000 == 0)
		db_exec(r->db, "DELETE FROM audit WHERE id <= ?", "i",
			(int64_t)(sqlite3_last_insert_rowid(r->db) - AUDIT_KEEP));
}
