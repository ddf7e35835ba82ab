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
 * a pooled connection from db_acquire() in autocommit mode.
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
	enum db_type	 type;
	int64_t		 i;
	const char	*s;
};

#define DB_INT(v) ((struct db_value){ DB_INT, (int64_t)(v), NULL })
#define DB_TEXT(v) ((struct db_value){ (v) != NULL ? DB_TEXT : DB_NULL, 0, (v) })
#define DB_NULL_VALUE ((struct db_value){ DB_NULL, 0, NULL })
#define DB_ARGS(...) (const struct db_value[]){ __VA_ARGS__ }, \
	(int)(sizeof((const struct db_value[]){ __VA_ARGS__ }) / sizeof(struct db_value))
#define DB_NOARGS NULL, 0

/* Results below zero: a failure, logged where it happened. */
#define DB_ERROR (-1)		/* the database failed or is unreachable */
#define DB_CONSTRAINT (-2)	/* a uniqueness or other constraint refused a write */

struct db;
struct db_conn;
struct db_rows;

struct db_driver {
	const char	 *name;
	const char *const *prefixes;	/* URL prefixes this driver takes */
	int	(*open)(const char *url, int pool_size, void **handle);
	void	(*close)(void *handle);
	/* Connections: readers from a pool; the writer for db_write. */
	struct db_conn *(*acquire)(void *handle);
	void	(*release)(void *handle, struct db_conn *);
	int	(*write)(void *handle, int (*fn)(struct db_conn *, void *),
		    void *arg);
	int	(*script)(struct db_conn *, const char *sql);
	int	(*query)(struct db_conn *, const char *sql,
		    const struct db_value *, int n, struct db_rows **out);
	int	(*next)(struct db_rows *);
	int	(*is_null)(struct db_rows *, int col);
	int64_t	(*col_int)(struct db_rows *, int col);
	const char *(*col_text)(struct db_rows *, int col);
	int64_t	(*changes)(struct db_rows *);
	void	(*done)(struct db_rows *);
	int64_t	(*now)(void *handle);
};

/*
 * Open the database named by url ("sqlite:PATH").  pool_size bounds the
 * reader connections.  Return 0 and a handle, or -1 (logged).
 */
int	db_open(const char *url, int pool_size, struct db **out) WUR;
void	db_close(struct db *);
/* "sqlite" or "postgres": for the few statements that differ. */
const char *db_dialect(const struct db *);
/*
 * The one clock for expiry checks, in milliseconds.  For a database shared
 * by several instances, this follows the database server's clock, so clock
 * skew between instances cannot stretch or shorten a secret's life.
 */
int64_t	db_now(struct db *);

/* Borrow a reader connection; NULL when the database is unreachable. */
struct db_conn *db_acquire(struct db *);
void	db_release(struct db *, struct db_conn *);

/*
 * Run fn(conn, arg) inside one write transaction.  When fn returns 0 the
 * transaction commits and db_write returns 0 only after the commit is
 * durable; any other value from fn rolls back and is returned as is.
 * DB_ERROR when the commit itself fails.
 */
int	db_write(struct db *, int (*fn)(struct db_conn *, void *), void *arg);

/*
 * Run one statement.  db_exec returns the number of rows changed, or
 * DB_ERROR / DB_CONSTRAINT.  db_query returns 0 and a result to walk with
 * db_next (1: a row, 0: no more, DB_ERROR) and end with db_done.
 */
int	db_exec(struct db_conn *, const char *sql, const struct db_value *,
	    int n);
int	db_query(struct db_conn *, const char *sql, const struct db_value *,
	    int n, struct db_rows **out) WUR;
/* Run several parameterless statements (a migration); 0 or DB_ERROR. */
int	db_script(struct db_conn *, const char *sql) WUR;
int	db_next(struct db_rows *) WUR;
int	db_is_null(struct db_rows *, int col);
int64_t	db_int(struct db_rows *, int col);
/* Text of a column, NULL for NULL; valid until the next db_next/db_done. */
const char *db_text(struct db_rows *, int col);
/* A copy of a text column the caller frees, or NULL. */
char	*db_strdup(struct db_rows *, int col);
void	db_done(struct db_rows *);

/* The driver of a connection, used by db.c's wrappers. */
struct db_conn {
	const struct db_driver	*driver;
};

struct db_rows {
	const struct db_driver	*driver;
};

#endif
