#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "fcgi/db.h"

/*
 * The schema, one migration per entry, never edited once released: a
 * change is a new entry. Times are seconds since the epoch. VMs are named
 * by uuid, so that a VM defined anew under an old name inherits nothing.
 */
static const char *const migrations[] = {
	/* 1: accounts, sessions, rights, the audit log, login throttling */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),"
	"  password TEXT NOT NULL,"          /* argon2id, encoded */
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  initial INTEGER NOT NULL DEFAULT 0," /* the setup's password, not yet changed */
	"  created INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  id_hash TEXT PRIMARY KEY,"        /* SHA-256 of the cookie's id: the table holds no live id */
	"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE," /* NULL before login */
	"  csrf TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_active INTEGER NOT NULL,"
	"  address TEXT NOT NULL,"
	"  flash TEXT);"                     /* a message for the page after a redirect */
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE rights ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  vm_uuid TEXT NOT NULL,"
	"  power INTEGER NOT NULL DEFAULT 0,"
	"  change INTEGER NOT NULL DEFAULT 0,"
	"  remove INTEGER NOT NULL DEFAULT 0,"
	"  console INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (user_id, vm_uuid));"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  user TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  result TEXT NOT NULL);"
	"CREATE INDEX audit_user ON audit(user, id);"
	"CREATE INDEX audit_object ON audit(object, id);"
	"CREATE TABLE login_failures ("
	"  key TEXT PRIMARY KEY,"            /* 'user:NAME' or 'addr:ADDRESS' */
	"  count INTEGER NOT NULL,"
	"  last INTEGER NOT NULL);",
	/* 2: flavors, the sizes new VMs are made in */
	"CREATE TABLE flavors ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  vcpus INTEGER NOT NULL CHECK (vcpus BETWEEN 1 AND 64),"
	"  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 16),"
	"  disk_gib INTEGER NOT NULL CHECK (disk_gib >= 1));"
	"INSERT INTO flavors (name, vcpus, memory_mib, disk_gib) VALUES"
	"  ('small', 1, 512, 10), ('medium', 2, 2048, 20), ('large', 4, 8192, 40);",
	/* 3: console tickets, each for one connection of the console proxy */
	"CREATE TABLE console_tickets ("
	"  hash TEXT PRIMARY KEY,"           /* SHA-256 of the ticket: the table holds no live one */
	"  session_hash TEXT NOT NULL,"      /* the session it was issued to */
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  vm_uuid TEXT NOT NULL,"
	"  vm_name TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('vnc', 'serial')),"
	"  expires INTEGER NOT NULL);",      /* in milliseconds since the epoch */
	/* 4: tags an admin puts on VMs, by the VM's uuid */
	"CREATE TABLE vm_tags ("
	"  vm_uuid TEXT NOT NULL,"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (vm_uuid, tag));",
	/* 5: API tokens, each for one user, kept only as their SHA-256 */
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER,"                 /* seconds since the epoch, or NULL: never */
	"  last_used INTEGER);",
	/* 6: self-service: who may create VMs, their quotas (NULL: no limit),
	 * the VMs each made (counted against their quotas), and the volumes
	 * users may build VMs on */
	"ALTER TABLE users ADD COLUMN may_create INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN quota_vms INTEGER;"
	"ALTER TABLE users ADD COLUMN quota_vcpus INTEGER;"
	"ALTER TABLE users ADD COLUMN quota_memory_mib INTEGER;"
	"ALTER TABLE users ADD COLUMN quota_disk_gib INTEGER;"
	"CREATE TABLE vm_owners ("
	"  vm_uuid TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE);"
	"CREATE INDEX vm_owners_user ON vm_owners(user_id);"
	"CREATE TABLE template_volumes ("
	"  pool TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  PRIMARY KEY (pool, name));",
	/* 7: a template mark holds for one file (vmmd's volume id: inode and
	 * birth time), not for whatever file has the name later; a
	 * mark made before it holds for none, and is made again */
	"ALTER TABLE template_volumes ADD COLUMN file_id TEXT NOT NULL DEFAULT '';"
	/* and the disks made for a VM a user made, which that user may delete with it */
	"CREATE TABLE vm_made_disks ("
	"  vm_uuid TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY (vm_uuid, path));",
};

int db_schema_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

static int simple(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int version;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return error_set(err, errlen, -EIO, "cannot read the schema version: %s",
				 sqlite3_errmsg(db));
	version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0)
		return error_set(err, errlen, -EIO, "cannot read the schema version: %s",
				 sqlite3_errmsg(db));
	if (version > db_schema_version())
		return error_set(err, errlen, -EPROTO,
				 "the database has schema version %d, newer than this portal's %d",
				 version, db_schema_version());
	for (; version < db_schema_version(); version++) {
		char pragma[48];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (simple(db, "BEGIN IMMEDIATE") < 0 || simple(db, migrations[version]) < 0 ||
		    simple(db, pragma) < 0) {
			error_set(err, errlen, -EIO, "schema migration %d failed: %s", version + 1,
				  sqlite3_errmsg(db));
			simple(db, "ROLLBACK");
			return -EIO;
		}
		if (simple(db, "COMMIT") < 0)
			return error_set(err, errlen, -EIO, "schema migration %d failed: %s",
					 version + 1, sqlite3_errmsg(db));
	}
	return 0;
}

int db_open(const char *path, sqlite3 **ret_db, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int fd, r;

	/*
	 * Made 0600 before sqlite opens it (its -wal and -shm follow its
	 * mode), and only when it is not there: closing any descriptor of the
	 * file drops every POSIX lock this process holds on it, so a worker's
	 * open would take away the others' locks, and another process (the
	 * admin command, a backup) would then take itself for the last user
	 * and delete the WAL under the running portal, whose writes would no
	 * longer reach anyone else.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return error_set(err, errlen, -errno, "cannot open the database %s: %m", path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
					       SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		r = error_set(err, errlen, -EIO, "cannot open the database %s: %s", path,
			      db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return r;
	}
	sqlite3_busy_timeout(db, 5000);
	if (simple(db, "PRAGMA journal_mode = WAL") < 0 ||
	    simple(db, "PRAGMA foreign_keys = ON") < 0 ||
	    simple(db, "PRAGMA synchronous = NORMAL") < 0) {
		r = error_set(err, errlen, -EIO, "cannot set up the database %s: %s", path,
			      sqlite3_errmsg(db));
		sqlite3_close(db);
		return r;
	}
	r = migrate(db, err, errlen);
	if (r < 0) {
		sqlite3_close(db);
		return r;
	}
	*ret_db = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	sqlite3_close(db);
}

static sqlite3_stmt *prepare_v(sqlite3 *db, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st;
	int i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (const char *t = types ? types : ""; *t; t++, i++) {
		int rc;

		if (*t == 'i') {
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		} else {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, i);
		}
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

sqlite3_stmt *db_query(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = prepare_v(db, sql, types, ap);
	va_end(ap);
	return st;
}

int db_exec(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	st = prepare_v(db, sql, types, ap);
	va_end(ap);
	if (!st)
		return -EIO;
	do
		rc = sqlite3_step(st);
	while (rc == SQLITE_ROW);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int db_changes(sqlite3 *db)
{
	return sqlite3_changes(db);
}

int db_begin(sqlite3 *db)
{
	return simple(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
	return simple(db, "COMMIT");
}

void db_rollback(sqlite3 *db)
{
	simple(db, "ROLLBACK");
}
