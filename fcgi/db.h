/*
 * The portal's database: sqlite3 in WAL mode, one connection per worker
 * thread, prepared statements only. The schema is a list of migrations;
 * PRAGMA user_version says how many have run, and each runs once, in a
 * transaction of its own, when the portal starts.
 */
#ifndef WEBKVM_FCGI_DB_H
#define WEBKVM_FCGI_DB_H

#include <sqlite3.h>
#include <stddef.h>

/* Open (creating it mode 0600) and bring the schema up to date. */
int db_open(const char *path, sqlite3 **ret_db, char *err, size_t errlen);
/* The number of migrations this build knows (the newest schema version). */
int db_schema_version(void);
void db_close(sqlite3 *db);

/*
 * Run one statement with parameters bound from a format: each character of
 * types is one argument: 'i' an int64_t, 's' a const char * (NULL binds
 * NULL). 0, or -EIO with sqlite's message in err. For statements without
 * rows (INSERT, UPDATE, DELETE).
 */
int db_exec(sqlite3 *db, const char *sql, const char *types, ...);
/* Rows changed by the last db_exec on this connection. */
int db_changes(sqlite3 *db);

/*
 * Prepare and bind the same way for a query; the caller steps and
 * finalizes it. NULL on error.
 */
sqlite3_stmt *db_query(sqlite3 *db, const char *sql, const char *types, ...);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

#endif
