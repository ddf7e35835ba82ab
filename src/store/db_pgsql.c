/*
 * The PostgreSQL driver: one database shared by any number of resetd
 * instances.
 *
 * Connections come from a pool of at most pool_size, opened lazily.  A
 * write is BEGIN, the caller's function, COMMIT on one pooled connection;
 * the server orders concurrent writers, so no lock is needed here, and
 * concurrent commits share their WAL flushes.  BEGIN is sent with the
 * transaction's first statement, in one round trip (pipeline mode); if
 * that first exchange finds the connection dead, nothing was committed,
 * and it is run again once on a fresh session.  db_write reports success
 * only when the server answered COMMIT with "COMMIT": a transaction that
 * failed earlier answers COMMIT with "ROLLBACK", and a connection lost
 * during the commit leaves its outcome unknown; both are DB_ERROR.
 *
 * A connection the server has dropped (a restart, an idle timeout) is
 * noticed when it is taken from the pool: an idle connection has nothing
 * to read, so a readable socket means an error or the end of the stream.
 * Such a connection, and any that fails in use, is closed and a fresh one
 * opened on the next acquire, so the daemon recovers by itself once the
 * server is back.  While it is not, acquire returns NULL at once and the
 * callers answer "unavailable".  The outage and the recovery are each
 * logged once.
 *
 * Statements are parameterised and prepared once per connection, named
 * after their place in a cache keyed by the address of the SQL text (the
 * store's SQL is static); parameters travel as text, integers in decimal.
 * Unique and other integrity violations (SQLSTATE class 23) are
 * DB_CONSTRAINT, as they are with SQLite.
 *
 * Time: db_now follows the server's clock.  When the first connection
 * opens, and then at most every CLOCK_REFRESH_US (on whichever connection
 * is taken from the pool next), the driver reads the server's
 * clock_timestamp() and pairs it with this host's monotonic clock at the
 * middle of the round trip; db_now extrapolates from that pair with the
 * monotonic clock.  Every instance thus reads the same clock to within
 * half a round trip plus the drift of its monotonic clock over one refresh
 * period (milliseconds at most), and a step of this host's wall clock has
 * no effect at all.
 *
 * Notifications: a listener is one dedicated connection, outside the pool,
 * that LISTENs on a channel and sends NOTIFY in its own transactions with
 * synchronous_commit off (a notification is a hint; nothing depends on it
 * surviving a crash).
 */
#include <assert.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../util/metrics.h"
#include "../log.h"
#include "db.h"

#define STMT_CACHE_SIZE 64
#define MAX_PARAMS 32
#define CONNECT_TIMEOUT "5" /* seconds, unless the URL says */
#define CLOCK_REFRESH_US (60LL * 1000000)
#define CLOCK_MAX_RTT_US (1000LL * 1000)
#define LISTEN_RETRY_MS 1000
#define STALE_LOG_US (60LL * 1000000)

struct pg_rows {
	struct db_rows base;
	PGresult *res;
	int row; /* the current row; -1 before the first */
	int nrows;
	int64_t changes;
};

struct pg_stmt {
	const char *sql;
	char name[24];
};

struct pg_conn {
	struct db_conn base;
	struct pg_db *db;
	PGconn *pg;
	int begin_pending; /* BEGIN goes with the next statement */
	struct pg_stmt cache[STMT_CACHE_SIZE];
	int ncache;
	struct pg_conn *next_free;
};

struct pg_db {
	char *url;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t freed;
	struct pg_conn *free_list;
	int open, max;
	int down;		 /* the outage was logged */
	int64_t stale_logged_us; /* the last such line */
	int have_clock;
	int64_t clock_server_ms; /* the server's clock ... */
	int64_t clock_mono_us;	 /* ... at this moment */
};

struct pg_listener {
	struct pg_db *db;
	PGconn *pg;
	char *listen_sql;
	char *notify_sql;
	int64_t retry_at_us; /* no reconnect before this */
	int fresh;	     /* (re)connected: may have missed some */
};

extern const struct db_driver db_driver_pgsql;

/* connections */

/* Note an outage once, and the recovery once. */
static void
note_down(struct pg_db *d, const char *why)
{
	int first;

	pthread_mutex_lock(&d->lock);
	first = !d->down;
	d->down = 1;
	pthread_mutex_unlock(&d->lock);
	if (first)
		log_error("postgres: database unavailable: %s", why);
}

static void
note_up(struct pg_db *d)
{
	int was;

	pthread_mutex_lock(&d->lock);
	was = d->down;
	d->down = 0;
	pthread_mutex_unlock(&d->lock);
	if (was)
		log_info("postgres: database reachable again");
}

/*
 * Note pooled connections the server closed: after a restart that is all
 * of them, so say it at most once a minute.
 */
static void
note_stale(struct pg_db *d)
{
	int64_t now = time_mono_us();
	int say;

	pthread_mutex_lock(&d->lock);
	say = d->stale_logged_us == 0 ||
	    now - d->stale_logged_us > STALE_LOG_US;
	if (say)
		d->stale_logged_us = now;
	pthread_mutex_unlock(&d->lock);
	if (say)
		log_warn("postgres: the server closed pooled connections; "
			 "reconnecting");
}

/* The first line of libpq's message, for one-line logs. */
static void
first_line(const char *msg, char *out, size_t outlen)
{
	size_t n = msg != NULL ? strcspn(msg, "\n") : 0;

	if (n >= outlen)
		n = outlen - 1;
	if (n > 0)
		memcpy(out, msg, n);
	out[n] = '\0';
}

/* Server notices ("relation exists, skipping") go to the log, as debug. */
static void
notice(void *arg, const char *msg)
{
	char line[256];

	(void)arg;
	first_line(msg, line, sizeof(line));
	log_debug("postgres: %s", line);
}

/*
 * Open a libpq connection.  The URL's own settings win over the defaults
 * given before it (libpq takes the last value of a repeated keyword).
 */
static PGconn *
pg_connect(struct pg_db *d)
{
	static const char *const keys[] = {
		"connect_timeout",
		"application_name",
		"dbname",
		NULL,
	};
	const char *values[] = { CONNECT_TIMEOUT, "resetd", d->url, NULL };
	char why[256];
	PGconn *pg;

	pg = PQconnectdbParams(keys, values, 1);
	if (pg == NULL)
		log_fatal("postgres: out of memory");
	if (PQstatus(pg) != CONNECTION_OK) {
		first_line(PQerrorMessage(pg), why, sizeof(why));
		note_down(d, why);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, notice, NULL);
	note_up(d);
	return pg;
}

/*
 * Read the server's clock and remember it with this host's monotonic
 * time at the middle of the round trip.  A slow answer is not used.
 */
static void
clock_measure(struct pg_db *d, PGconn *pg)
{
	PGresult *res;
	int64_t t0, t1, server_ms;

	t0 = time_mono_us();
	res = PQexec(pg,
	    "SELECT (extract(epoch FROM clock_timestamp()) * "
	    "1000)::bigint");
	t1 = time_mono_us();
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		PQclear(res);
		return;
	}
	server_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (t1 - t0 > CLOCK_MAX_RTT_US)
		return;
	pthread_mutex_lock(&d->lock);
	d->clock_server_ms = server_ms;
	d->clock_mono_us = t0 + (t1 - t0) / 2;
	d->have_clock = 1;
	pthread_mutex_unlock(&d->lock);
}

static int
clock_stale(struct pg_db *d)
{
	int stale;

	pthread_mutex_lock(&d->lock);
	stale = !d->have_clock ||
	    time_mono_us() - d->clock_mono_us > CLOCK_REFRESH_US;
	pthread_mutex_unlock(&d->lock);
	return stale;
}

static struct pg_conn *
conn_open(struct pg_db *d)
{
	struct pg_conn *c;
	PGconn *pg;

	pg = pg_connect(d);
	if (pg == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->base.driver = &db_driver_pgsql;
	c->db = d;
	c->pg = pg;
	return c;
}

/* Replace a broken connection's session by a fresh one; 0 or -1. */
static int
conn_reopen(struct pg_conn *c)
{
	PGconn *pg;

	pg = pg_connect(c->db);
	if (pg == NULL)
		return -1;
	PQfinish(c->pg);
	c->pg = pg;
	c->ncache = 0; /* prepared statements died with the session */
	return 0;
}

static void
conn_free(struct pg_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->pg);
	free(c);
}

/*
 * Whether a pooled connection is still good.  An idle connection that
 * does not LISTEN is sent nothing, so a readable socket is the server's
 * goodbye: the FATAL of a shutdown, the end of the stream, or both (and
 * reading the first need not reveal the second).  At worst it was a rare
 * notice, and the price is one reconnection.
 */
static int
conn_alive(struct pg_conn *c)
{
	struct pollfd p;

	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		return 0;
	p.fd = PQsocket(c->pg);
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd < 0)
		return 0;
	return poll(&p, 1, 0) == 0;
}

/* Give up a connection slot (its connection is gone or never was). */
static void
slot_drop(struct pg_db *d)
{
	pthread_mutex_lock(&d->lock);
	d->open--;
	pthread_cond_signal(&d->freed);
	pthread_mutex_unlock(&d->lock);
}

static struct db_conn *
pg_acquire(void *handle)
{
	struct pg_db *d = handle;
	struct pg_conn *c = NULL;

	pthread_mutex_lock(&d->lock);
	while (d->free_list == NULL && d->open >= d->max)
		pthread_cond_wait(&d->freed, &d->lock);
	if (d->free_list != NULL) {
		c = d->free_list;
		d->free_list = c->next_free;
	} else
		d->open++;
	pthread_mutex_unlock(&d->lock);
	if (c != NULL && !conn_alive(c)) {
		note_stale(d);
		conn_free(c);
		c = NULL;
	}
	if (c == NULL) {
		c = conn_open(d);
		if (c == NULL) {
			slot_drop(d);
			return NULL;
		}
	}
	if (clock_stale(d))
		clock_measure(d, c->pg);
	return &c->base;
}

static void
pg_release(void *handle, struct db_conn *base)
{
	struct pg_db *d = handle;
	struct pg_conn *c = (struct pg_conn *)base;
	PGresult *res;

	/* Nothing may stay open on a connection that goes back. */
	if (PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		res = PQexec(c->pg, "ROLLBACK");
		PQclear(res);
	}
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		conn_free(c);
		slot_drop(d);
		return;
	}
	pthread_mutex_lock(&d->lock);
	c->next_free = d->free_list;
	d->free_list = c;
	pthread_cond_signal(&d->freed);
	pthread_mutex_unlock(&d->lock);
}

/* opening and closing */

static int
pg_open(const char *url, int pool_size, void **handle)
{
	struct pg_db *d;
	struct db_conn *c;

	if (PQisthreadsafe() == 0)
		return log_fail("postgres: libpq built without thread safety");
	d = xcalloc(1, sizeof(*d));
	d->url = xstrdup(url);
	d->max = pool_size > 0 ? pool_size : 8;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->freed, NULL);
	/* Connect once now: a wrong URL should stop the start, and the
	 * first connection reads the server's clock. */
	c = pg_acquire(d);
	if (c == NULL) {
		pthread_mutex_destroy(&d->lock);
		pthread_cond_destroy(&d->freed);
		free(d->url);
		free(d);
		return log_fail("postgres: cannot connect to the database");
	}
	pg_release(d, c);
	*handle = d;
	return 0;
}

static void
pg_close(void *handle)
{
	struct pg_db *d = handle;
	struct pg_conn *c, *next;

	for (c = d->free_list; c != NULL; c = next) {
		next = c->next_free;
		conn_free(c);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->freed);
	free(d->url);
	free(d);
}

/* statements */

/*
 * Turn a failed result into DB_CONSTRAINT or DB_ERROR.  Only the primary
 * message is logged: the detail of a violation quotes the row's values.
 */
static int
result_error(PGconn *pg, PGresult *res, const char *what)
{
	const char *state, *msg;
	char line[256];

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
			    NULL;
	first_line(msg != NULL ? msg : PQerrorMessage(pg), line, sizeof(line));
	log_error("postgres: %s: %s%s%s", what, line, state ? " SQLSTATE " : "",
	    state ? state : "");
	return DB_ERROR;
}

/* Run a statement without parameters; 0 or DB_ERROR (logged). */
static int
exec_simple(PGconn *pg, const char *sql)
{
	PGresult *res;
	int rc = 0;

	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = result_error(pg, res, sql) == DB_CONSTRAINT ?
		    DB_CONSTRAINT :
		    DB_ERROR;
	PQclear(res);
	return rc;
}

static int
pg_script(struct db_conn *base, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)base;

	if (c->begin_pending) {
		c->begin_pending = 0;
		if (exec_simple(c->pg, "BEGIN") != 0)
			return DB_ERROR;
	}
	return exec_simple(c->pg, sql) == 0 ? 0 : DB_ERROR;
}

/* The prepared name of sql on c, preparing it on first use; NULL: none. */
static int
stmt_name(struct pg_conn *c, const char *sql, const char **name)
{
	struct pg_stmt *s;
	PGresult *res;
	int i, rc;

	*name = NULL;
	for (i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			*name = c->cache[i].name;
			return 0;
		}
	}
	if (c->ncache >= STMT_CACHE_SIZE)
		return 0; /* run it unnamed */
	s = &c->cache[c->ncache];
	snprintf(s->name, sizeof(s->name), "resetd_%d", c->ncache);
	res = PQprepare(c->pg, s->name, sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = result_error(c->pg, res, "prepare");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	s->sql = sql;
	c->ncache++;
	*name = s->name;
	return 0;
}

/*
 * BEGIN and a transaction's first statement in one round trip, through
 * libpq's pipeline mode.  Return the statement's result (BEGIN's when
 * BEGIN failed), or NULL when the exchange broke off.
 */
static PGresult *
exec_with_begin(PGconn *pg, const char *name, const char *sql, int n,
    const char *const *values)
{
	PGresult *got[2] = { NULL, NULL };
	PGresult *res;
	int i, sent;

	if (PQenterPipelineMode(pg) == 0)
		return NULL;
	sent = PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (sent && name != NULL)
		sent = PQsendQueryPrepared(pg, name, n, values, NULL, NULL, 0);
	else if (sent)
		sent = PQsendQueryParams(pg, sql, n, NULL, values, NULL, NULL,
		    0);
	if (sent)
		sent = PQpipelineSync(pg);
	/* Each statement yields its result and a NULL; then the sync. */
	for (i = 0; sent && i < 2; i++) {
		got[i] = PQgetResult(pg);
		if (got[i] == NULL)
			break;
		for (res = PQgetResult(pg); res != NULL; res = PQgetResult(pg))
			PQclear(res);
	}
	if (sent && i == 2) {
		res = PQgetResult(pg);
		if (PQresultStatus(res) != PGRES_PIPELINE_SYNC)
			sent = 0;
		PQclear(res);
	}
	if (PQexitPipelineMode(pg) == 0 || !sent || i < 2) {
		PQclear(got[0]);
		PQclear(got[1]);
		return NULL;
	}
	if (PQresultStatus(got[0]) != PGRES_COMMAND_OK) {
		PQclear(got[1]);
		return got[0];
	}
	PQclear(got[0]);
	return got[1];
}

/*
 * Run sql with text parameters on c, with the BEGIN it owes if any; NULL
 * (*rc set when logged) when it could not even be sent.
 */
static PGresult *
run(struct pg_conn *c, const char *sql, int n, const char *const *values,
    int *rc)
{
	const char *name;

	*rc = stmt_name(c, sql, &name);
	if (*rc < 0)
		return NULL;
	if (c->begin_pending)
		return exec_with_begin(c->pg, name, sql, n, values);
	if (name != NULL)
		return PQexecPrepared(c->pg, name, n, values, NULL, NULL, 0);
	return PQexecParams(c->pg, sql, n, NULL, values, NULL, NULL, 0);
}

static int
pg_query(struct db_conn *base, const char *sql, const struct db_value *v, int n,
    struct db_rows **out)
{
	struct pg_conn *c = (struct pg_conn *)base;
	const char *values[MAX_PARAMS];
	char ints[MAX_PARAMS][24];
	struct pg_rows *r;
	PGresult *res;
	int i, rc = 0, first;

	if (n < 0 || n > MAX_PARAMS)
		abort(); /* the store's statements are known */
	for (i = 0; i < n; i++) {
		switch (v[i].type) {
		case DB_NULL:
			values[i] = NULL;
			break;
		case DB_INT:
			snprintf(ints[i], sizeof(ints[i]), "%lld",
			    (long long)v[i].i);
			values[i] = ints[i];
			break;
		case DB_TEXT:
			values[i] = v[i].s;
			break;
		default:
			abort();
		}
	}
	first = c->begin_pending;
	res = run(c, sql, n, values, &rc);
	if (first && PQstatus(c->pg) != CONNECTION_OK && conn_reopen(c) == 0) {
		/*
		 * The transaction died with its first statement, so nothing
		 * of it was committed: a fresh session may run it again.
		 */
		PQclear(res);
		c->begin_pending = 1;
		res = run(c, sql, n, values, &rc);
	}
	c->begin_pending = 0;
	if (res == NULL)
		return rc < 0 ? rc : result_error(c->pg, NULL, "statement");
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = result_error(c->pg, res, "statement");
		PQclear(res);
		return rc;
	}
	r = xcalloc(1, sizeof(*r));
	r->base.driver = &db_driver_pgsql;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	r->changes = strtoll(PQcmdTuples(res), NULL, 10);
	*out = &r->base;
	return 0;
}

static int
pg_next(struct db_rows *base)
{
	struct pg_rows *r = (struct pg_rows *)base;

	if (r->row + 1 >= r->nrows) {
		r->row = r->nrows;
		return 0;
	}
	r->row++;
	return 1;
}

static int
pg_is_null(struct db_rows *base, int col)
{
	struct pg_rows *r = (struct pg_rows *)base;

	assert(r->row >= 0 && r->row < r->nrows);
	return PQgetisnull(r->res, r->row, col);
}

static int64_t
pg_col_int(struct db_rows *base, int col)
{
	struct pg_rows *r = (struct pg_rows *)base;

	assert(r->row >= 0 && r->row < r->nrows);
	if (PQgetisnull(r->res, r->row, col))
		return 0;
	return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
}

static const char *
pg_col_text(struct db_rows *base, int col)
{
	struct pg_rows *r = (struct pg_rows *)base;

	assert(r->row >= 0 && r->row < r->nrows);
	if (PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static int64_t
pg_changes(struct db_rows *base)
{
	return ((struct pg_rows *)base)->changes;
}

static void
pg_done(struct db_rows *base)
{
	struct pg_rows *r = (struct pg_rows *)base;

	PQclear(r->res);
	free(r);
}

/* transactions */

static int
pg_write(void *handle, int (*fn)(struct db_conn *, void *), void *arg)
{
	struct pg_db *d = handle;
	struct db_conn *base;
	struct pg_conn *c;
	PGresult *res;
	int64_t t0;
	int rc;

	base = pg_acquire(d);
	if (base == NULL)
		return DB_ERROR;
	c = (struct pg_conn *)base;
	/* BEGIN travels with the first statement: one round trip less. */
	c->begin_pending = 1;
	rc = fn(&c->base, arg);
	if (rc != 0 || c->begin_pending) {
		c->begin_pending = 0; /* nothing ran: nothing to commit */
		goto out;	      /* release rolls back */
	}
	metrics_observe(H_DB_BATCH, 1);
	t0 = time_mono_us();
	res = PQexec(c->pg, "COMMIT");
	metrics_observe(H_DB_COMMIT, time_mono_us() - t0);
	/* A failed transaction answers COMMIT with ROLLBACK. */
	if (PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			log_error("postgres: the transaction had failed and "
				  "was rolled back");
		else
			(void)result_error(c->pg, res, "COMMIT");
		rc = DB_ERROR;
	}
	PQclear(res);
out:
	pg_release(d, &c->base);
	return rc;
}

static int64_t
pg_now(void *handle)
{
	struct pg_db *d = handle;
	int64_t now;

	pthread_mutex_lock(&d->lock);
	if (d->have_clock)
		now = d->clock_server_ms +
		    (time_mono_us() - d->clock_mono_us) / 1000;
	else
		now = time_now_ms();
	pthread_mutex_unlock(&d->lock);
	return now;
}

/* notifications */

static void
listener_drop(struct pg_listener *l)
{
	PQfinish(l->pg);
	l->pg = NULL;
	l->retry_at_us = time_mono_us() + LISTEN_RETRY_MS * 1000LL;
}

/* Connect the listener when it is not; 0, or -1 while it cannot. */
static int
listener_ready(struct pg_listener *l)
{
	if (l->pg != NULL && PQstatus(l->pg) == CONNECTION_OK)
		return 0;
	if (l->pg != NULL)
		listener_drop(l);
	if (time_mono_us() < l->retry_at_us)
		return -1;
	l->pg = pg_connect(l->db);
	if (l->pg == NULL) {
		l->retry_at_us = time_mono_us() + LISTEN_RETRY_MS * 1000LL;
		return -1;
	}
	if (exec_simple(l->pg, "SET synchronous_commit = off") != 0 ||
	    exec_simple(l->pg, l->listen_sql) != 0) {
		listener_drop(l);
		return -1;
	}
	l->fresh = 1;
	return 0;
}

static void *
pg_listen_open(void *handle, const char *channel)
{
	struct pg_listener *l = xcalloc(1, sizeof(*l));
	size_t i;

	/* Channels are names from resetd's code: plain identifiers. */
	for (i = 0; channel[i] != '\0'; i++)
		if (!((channel[i] >= 'a' && channel[i] <= 'z') ||
			channel[i] == '_'))
			abort();
	l->db = handle;
	l->listen_sql = xasprintf("LISTEN %s", channel);
	l->notify_sql = xasprintf("NOTIFY %s", channel);
	(void)listener_ready(l);
	return l;
}

/* Count the notifications libpq holds, other than our own. */
static int
listener_drain(struct pg_listener *l)
{
	PGnotify *n;
	int got = 0;

	for (n = PQnotifies(l->pg); n != NULL; n = PQnotifies(l->pg)) {
		if (n->be_pid != PQbackendPID(l->pg))
			got = 1;
		PQfreemem(n);
	}
	return got;
}

static int
pg_listen_wait(void *handle, int fd, int timeout_ms)
{
	struct pg_listener *l = handle;
	struct pollfd p[2];
	int n = 0, i, got = 0;

	if (listener_ready(l) == 0) {
		/* Notifications sent while we did not listen are lost. */
		if (l->fresh || listener_drain(l)) {
			l->fresh = 0;
			return DB_WAKE_NOTIFIED;
		}
		p[n].fd = PQsocket(l->pg);
		p[n].events = POLLIN;
		p[n].revents = 0;
		n++;
	} else if (timeout_ms > LISTEN_RETRY_MS)
		timeout_ms = LISTEN_RETRY_MS;
	if (fd >= 0) {
		p[n].fd = fd;
		p[n].events = POLLIN;
		p[n].revents = 0;
		n++;
	}
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		if (p[i].fd == fd) {
			got |= DB_WAKE_FD;
			continue;
		}
		if (PQconsumeInput(l->pg) == 0 ||
		    PQstatus(l->pg) != CONNECTION_OK) {
			note_down(l->db, "the listening connection was lost");
			listener_drop(l);
			continue;
		}
		if (listener_drain(l))
			got |= DB_WAKE_NOTIFIED;
	}
	return got;
}

static int
pg_listen_notify(void *handle)
{
	struct pg_listener *l = handle;

	if (listener_ready(l) == -1)
		return DB_ERROR;
	if (exec_simple(l->pg, l->notify_sql) != 0) {
		if (PQstatus(l->pg) != CONNECTION_OK)
			listener_drop(l);
		return DB_ERROR;
	}
	return 0;
}

static void
pg_listen_close(void *handle)
{
	struct pg_listener *l = handle;

	if (l == NULL)
		return;
	PQfinish(l->pg);
	free(l->listen_sql);
	free(l->notify_sql);
	free(l);
}

static const char *const pgsql_prefixes[] = {
	"postgres://",
	"postgresql://",
	NULL,
};

const struct db_driver db_driver_pgsql = {
	.name = "postgres",
	.prefixes = pgsql_prefixes,
	.open = pg_open,
	.close = pg_close,
	.acquire = pg_acquire,
	.release = pg_release,
	.write = pg_write,
	.script = pg_script,
	.query = pg_query,
	.next = pg_next,
	.is_null = pg_is_null,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.changes = pg_changes,
	.done = pg_done,
	.now = pg_now,
	.listen_open = pg_listen_open,
	.listen_wait = pg_listen_wait,
	.listen_notify = pg_listen_notify,
	.listen_close = pg_listen_close,
};
