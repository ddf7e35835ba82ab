/*
 * Driver selection and the thin wrappers the store calls.  Nothing here
 * knows SQL; each call forwards to the driver that opened the database.
 *
 * db_write also keeps the instance's view of whether writes work: every
 * write that fails with DB_ERROR bumps a failure count, and a probe write
 * that commits (db_write_probe) clears the failures counted before it
 * began.  Only a probe clears them, because a transaction that changes no
 * row commits even on a full disk and so proves nothing.  The count starts
 * at one, so the first readiness check of a process writes once.
 */
#include <pthread.h>
#include <stdatomic.h>
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
	const struct db_driver *driver;
	void *handle;
	atomic_llong write_failures;   /* ever counted */
	atomic_llong failures_cleared; /* up to here */
	pthread_mutex_t probe_lock;    /* guards what follows */
	int64_t probe_at;	       /* monotonic ms, 0: none */
	int probe_rc;
};

struct db_listener {
	const struct db_driver *driver;
	void *handle;
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
			atomic_init(&db->write_failures, 1);
			atomic_init(&db->failures_cleared, 0);
			pthread_mutex_init(&db->probe_lock, NULL);
			*out = db;
			return 0;
		}
	}
	return log_fail(
	    "database: unsupported URL scheme (expected sqlite:PATH "
	    "or postgres://...)");
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	db->driver->close(db->handle);
	pthread_mutex_destroy(&db->probe_lock);
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
	int rc;

	rc = db->driver->write(db->handle, fn, arg);
	if (rc == DB_ERROR)
		atomic_fetch_add(&db->write_failures, 1);
	return rc;
}

int
db_write_suspect(struct db *db)
{
	if (atomic_load(&db->write_failures) !=
	    atomic_load(&db->failures_cleared))
		return 1;
	return db->driver->write_doubt != NULL &&
	    db->driver->write_doubt(db->handle);
}

int
db_write_probe(struct db *db, int (*fn)(struct db_conn *, void *), void *arg)
{
	long long seen;
	int64_t now;
	int rc;

	pthread_mutex_lock(&db->probe_lock);
	now = time_mono_ms();
	if (db->probe_at != 0 && now - db->probe_at < DB_PROBE_SPACING_MS) {
		rc = db->probe_rc;
		goto out;
	}
	seen = atomic_load(&db->write_failures);
	rc = db_write(db, fn, arg);
	if (rc != 0)
		rc = DB_ERROR;
	else if (atomic_load(&db->failures_cleared) < seen)
		atomic_store(&db->failures_cleared, seen);
	db->probe_at = time_mono_ms();
	db->probe_rc = rc;
out:
	pthread_mutex_unlock(&db->probe_lock);
	return rc;
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
