/*
 * Driver selection and the thin wrappers the store calls.  Nothing here
 * knows SQL; each call forwards to the driver that opened the database.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "db.h"

extern const struct db_driver db_driver_sqlite;
extern const struct db_driver db_driver_pgsql;

static const struct db_driver *const drivers[] = {
	&db_driver_sqlite,
	&db_driver_pgsql,
	NULL,
};

struct db {
	const struct db_driver	*driver;
	void			*handle;
};

struct db_listener {
	const struct db_driver	*driver;
	void			*handle;
};

int
db_open(const char *url, int pool_size, struct db **out)
{
	const struct db_driver *const *d;
	const char *const *p;
	struct db *db;
	void *handle;

	for (d = drivers; *d != NULL; d++) {
		for (p = (*d)->prefixes; *p != NULL; p++) {
			if (!str_has_prefix(url, *p))
				continue;
			if ((*d)->open(url, pool_size, &handle) == -1)
				return -1;
			db = xcalloc(1, sizeof(*db));
			db->driver = *d;
			db->handle = handle;
			*out = db;
			return 0;
		}
	}
	return log_fail("database: unsupported URL scheme (expected sqlite:PATH "
	    "or postgres://...)");
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db->driver->close(db->handle);
	free(db);
}

const char *
db_dialect(const struct db *db)
{
	return db->driver->name;
}

const char *
db_conn_dialect(const struct db_conn *c)
{
	return c->driver->name;
}

int64_t
db_now(struct db *db)
{
	return db->driver->now(db->handle);
}

struct db_conn *
db_acquire(struct db *db)
{
	return db->driver->acquire(db->handle);
}

void
db_release(struct db *db, struct db_conn *c)
{
	if (c != NULL)
		db->driver->release(db->handle, c);
}

int
db_write(struct db *db, int (*fn)(struct db_conn *, void *), void *arg)
{
	return db->driver->write(db->handle, fn, arg);
}

struct db_listener *
db_listener_open(struct db *db, const char *channel)
{
	struct db_listener *l;

	if (db->driver->listen_open == NULL)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->driver = db->driver;
	l->handle = db->driver->listen_open(db->handle, channel);
	return l;
}

int
db_listener_wait(struct db_listener *l, int fd, int timeout_ms)
{
	return l->driver->listen_wait(l->handle, fd, timeout_ms);
}

int
db_listener_notify(struct db_listener *l)
{
	return l->driver->listen_notify(l->handle);
}

void
db_listener_close(struct db_listener *l)
{
	if (l == NULL)
		return;
	l->driver->listen_close(l->handle);
	free(l);
}

int
db_exec(struct db_conn *c, const char *sql, const struct db_value *v, int n)
{
	struct db_rows *r;
	int rc;
	int64_t changes;

	rc = c->driver->query(c, sql, v, n, &r);
	if (rc < 0)
		return rc;
	do
		rc = c->driver->next(r);
	while (rc == 1);
	changes = c->driver->changes(r);
	c->driver->done(r);
	if (rc < 0)
		return rc;
	return (int)changes;
}

int
db_query(struct db_conn *c, const char *sql, const struct db_value *v, int n,
    struct db_rows **out)
{
	return c->driver->query(c, sql, v, n, out);
}

int
db_script(struct db_conn *c, const char *sql)
{
	return c->driver->script(c, sql);
}

int
db_next(struct db_rows *r)
{
	return r->driver->next(r);
}

int
db_is_null(struct db_rows *r, int col)
{
	return r->driver->is_null(r, col);
}

int64_t
db_int(struct db_rows *r, int col)
{
	return r->driver->col_int(r, col);
}

char *
db_strdup(struct db_rows *r, int col)
{
	const char *s = r->driver->col_text(r, col);

	return s != NULL ? xstrdup(s) : NULL;
}

void
db_done(struct db_rows *r)
{
	if (r != NULL)
		r->driver->done(r);
}
