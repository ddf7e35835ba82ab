/*
 * The db interface: a small SQL surface that the typed store operations are
 * written against, with one driver per database.  A driver is a const table
 * of functions plus a private handle, chosen by the URL's scheme from a
 * NULL-terminated list (the shape of OpenSMTPD's table backends).
 *
 * SQL text is shared between drivers: parameters are written $1, $2, ...
 * (each first used in increasing order, which SQLite and PostgreSQL both
 * accept), times are integer milliseconds, ids are text, booleans are 0/1.
 * Where the dialects cannot share a statement, the store asks db_dialect().
 *
 * Writes happen inside db_write(), which runs a caller's function in one
 * transaction and returns only once that transaction is durable.  Reads use
 * a pooled connection from db_acquire() in autocommit mode.  A thread never
 * holds a connection from db_acquire() while it calls db_write(): on a
 * driver whose writes also take pooled connections, a full pool would wait
 * for itself.
 *
 * Instances that share a database can wake each other through a listener
 * (db_listener_open); a driver for a database that only one instance uses
 * has none.
 */
#ifndef RESETD_DB_H
#define RESETD_DB_H

#include <stdint.h>

#include "../util/util.h"

enum db_type {
	DB_NULL,
	DB_INT,
	DB_TEXT,
};

struct db_value {
	enum db_type type;
	int64_t i;
	const char *s;
};

#define DB_INT(v) ((struct db_value){ DB_INT, (int64_t)(v), NULL })
#define DB_TEXT(v) \
	((struct db_value){ (v) != NULL ? DB_TEXT : DB_NULL, 0, (v) })
#define DB_NULL_VALUE ((struct db_value){ DB_NULL, 0, NULL })
#define DB_ARGS(...) \
	(const struct db_value[]){ __VA_ARGS__ }, \
	    (int)(sizeof((const struct db_value[]){ __VA_ARGS__ }) / \
		sizeof(struct db_value))
#define DB_NOARGS NULL, 0

/* Results below zero: a failure, logged where it happened. */
#define DB_ERROR (-1) /* the database failed or is unreachable */
#define DB_CONSTRAINT \
	(-2) /* a uniqueness or other constraint refused a write */

/* What db_listener_wait saw, as bits. */
#define DB_WAKE_NOTIFIED 1 /* another instance sent a notification */
#define DB_WAKE_FD 2	   /* the caller's descriptor is readable */

struct db;
struct db_conn;
struct db_rows;
struct db_listener;

struct db_driver {
	const char *name;
	const char *const *prefixes; /* URL prefixes this driver takes */
	int (*open)(const char *url, int pool_size, void **handle);
	void (*close)(void *handle);
	/* Connections: readers from a pool; the writer for db_write. */
	struct db_conn *(*acquire)(void *handle);
	void (*release)(void *handle, struct db_conn *);
	int (*write)(void *handle, int (*fn)(struct db_conn *, void *),
	    void *arg);
	int (*script)(struct db_conn *, const char *sql);
	int (*query)(struct db_conn *, const char *sql, const struct db_value *,
	    int n, struct db_rows **out);
	int (*next)(struct db_rows *);
	int (*is_null)(struct db_rows *, int col);
	int64_t (*col_int)(struct db_rows *, int col);
	const char *(*col_text)(struct db_rows *, int col);
	int64_t (*changes)(struct db_rows *);
	void (*done)(struct db_rows *);
	int64_t (*now)(void *handle);
	/*
	 * 1 when the driver sees a reason to doubt that a write would work
	 * (SQLite: the disk is nearly full or mounted read-only); cheap.
	 * NULL when it cannot tell.
	 */
	int (*write_doubt)(void *handle);
	/* Notifications between instances; NULL when there are none. */
	void *(*listen_open)(void *handle, const char *channel);
	int (*listen_wait)(void *listener, int fd, int timeout_ms);
	int (*listen_notify)(void *listener);
	void (*listen_close)(void *listener);
};

/*
 * Open the database named by url: "sqlite:PATH", or a libpq URL
 * ("postgres://...", "postgresql://...", "postgresql:///NAME?host=/DIR").
 * pool_size bounds the pooled connections (SQLite: the readers; PostgreSQL:
 * every connection but a listener's).  Return 0 and a handle, or -1
 * (logged).
 */
int db_open(const char *url, int pool_size, struct db **out) WUR;
void db_close(struct db *);
/* "sqlite" or "postgres": for the few statements that differ. */
const char *db_dialect(const struct db *);
/* The same, for the database a connection belongs to. */
const char *db_conn_dialect(const struct db_conn *);
/*
 * The one clock for expiry checks, in milliseconds.  For a database shared
 * by several instances, this follows the database server's clock, so clock
 * skew between instances cannot stretch or shorten a secret's life.
 */
int64_t db_now(struct db *);

/* Borrow a reader connection; NULL when the database is unreachable. */
struct db_conn *db_acquire(struct db *);
void db_release(struct db *, struct db_conn *);

/*
 * Run fn(conn, arg) inside one write transaction.  When fn returns 0 the
 * transaction commits and db_write returns 0 only after the commit is
 * durable; any other value from fn rolls back and is returned as is.
 * DB_ERROR when the commit itself fails.
 */
int db_write(struct db *, int (*fn)(struct db_conn *, void *), void *arg);

/*
 * Whether writes work, as this instance knows it without asking the
 * database.  db_write_suspect is cheap: 1 when a db_write failed with
 * DB_ERROR since the last probe that worked began (and before this
 * process's first probe), or when the driver doubts a write would work;
 * 0 otherwise.
 *
 * db_write_probe runs fn, which must change a row, as a db_write: 0 when
 * it committed, which clears the failures counted before it began, or
 * DB_ERROR.  Probes are made at most once per DB_PROBE_SPACING_MS; a
 * call in between returns the last probe's result without writing.
 */
#define DB_PROBE_SPACING_MS 1000
int db_write_suspect(struct db *);
int
db_write_probe(struct db *, int (*fn)(struct db_conn *, void *), void *arg) WUR;

/*
 * Run one statement.  db_exec returns the number of rows changed, or
 * DB_ERROR / DB_CONSTRAINT.  db_query returns 0 and a result to walk with
 * db_next (1: a row, 0: no more, DB_ERROR) and end with db_done.
 */
int db_exec(struct db_conn *, const char *sql, const struct db_value *, int n);
int db_query(struct db_conn *, const char *sql, const struct db_value *, int n,
    struct db_rows **out) WUR;
/*
 * Notifications on a channel (a lower-case identifier from resetd's code).
 * db_listener_open returns a listener with its own connection, or NULL
 * when the database has no notifications (SQLite), which is not an error.
 * The listener reconnects by itself after the database comes back.
 *
 * db_listener_wait waits up to timeout_ms for a notification from another
 * process or for fd (-1: none) to become readable, and returns the
 * DB_WAKE_* bits of what happened, 0 on a timeout.  While the database is
 * unreachable it waits on fd alone, and at most a second; once it has
 * (re)connected it reports DB_WAKE_NOTIFIED, as notifications sent in the
 * meantime were lost.
 *
 * db_listener_notify sends one notification on the channel in a
 * transaction of its own, not made durable (a notification is a hint):
 * 0, or DB_ERROR (logged).  Listeners are for one thread at a time.
 */
struct db_listener *db_listener_open(struct db *, const char *channel);
int db_listener_wait(struct db_listener *, int fd, int timeout_ms);
int db_listener_notify(struct db_listener *);
void db_listener_close(struct db_listener *);

/* Run several parameterless statements (a migration); 0 or DB_ERROR. */
int db_script(struct db_conn *, const char *sql) WUR;
int db_next(struct db_rows *) WUR;
int db_is_null(struct db_rows *, int col);
int64_t db_int(struct db_rows *, int col);
/* A copy of a text column the caller frees, or NULL. */
char *db_strdup(struct db_rows *, int col);
void db_done(struct db_rows *);

/* The driver of a connection, used by db.c's wrappers. */
struct db_conn {
	const struct db_driver *driver;
};

struct db_rows {
	const struct db_driver *driver;
};

#endif
