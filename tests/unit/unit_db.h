/*
 * Fresh databases for unit tests that run on each database resetd speaks.
 *
 * A SQLite database is a file in a temporary folder of its own.  A
 * PostgreSQL one is a schema of its own (see unit_db_make) in a database
 * made for the test binary (unit_pg_begin), in the cluster whose base URL
 * (a libpq URL without a database name, as scripts/pg-cluster.sh prints
 * it) is in the environment variable RESETD_TEST_POSTGRES.  tests/run starts a
 * throwaway cluster and sets the variable when "postgres" is among
 * RESETD_TEST_DBS; without it a test binary cannot reach PostgreSQL, and
 * reports its PostgreSQL tests as skipped (cmocka's SKIPPED, which
 * tests/run counts), never as passed.
 *
 * Include after unit.h.  Callers initialise libsodium (the names are
 * random).
 */
#ifndef RESETD_UNIT_DB_H
#define RESETD_UNIT_DB_H

#include <libpq-fe.h>
#include <sodium.h>

#define UNIT_PG_ENV "RESETD_TEST_POSTGRES"
#define UNIT_URL_MAX 512

struct unit_db {
	const char *kind;	/* "sqlite" or "postgres" */
	char dir[UNIT_DIR_MAX]; /* sqlite: its folder */
	char name[32];		/* postgres: its schema */
	char url[UNIT_URL_MAX]; /* for db_open */
};

/* The cluster's base URL, or NULL when none was given. */
static inline const char *
unit_pg_base(void)
{
	const char *s = getenv(UNIT_PG_ENV);

	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * The URL of database name in the cluster at base: the name goes after
 * the path's slash, before any query ("postgresql:///NAME?host=/DIR").
 */
static inline void
unit_pg_url(const char *base, const char *name, char url[UNIT_URL_MAX])
{
	const char *q = strchr(base, '?');
	size_t head = q != NULL ? (size_t)(q - base) : strlen(base);

	if (head > 0 && base[head - 1] == '/')
		head--;
	if ((size_t)snprintf(url, UNIT_URL_MAX, "%.*s/%s%s", (int)head, base,
		name, q != NULL ? q : "") >= UNIT_URL_MAX)
		fail_msg("database URL too long: %s", base);
}

/* This binary's database in the cluster: unit_pg_begin to unit_pg_end. */
static char unit_pg_dbname[32];

/* Eight random bytes in hex after prefix, into out. */
static inline void
unit_random_name(const char *prefix, char out[32])
{
	unsigned char rnd[8];
	char hex[sizeof(rnd) * 2 + 1];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(out, 32, "%s%s", prefix, hex);
}

static inline void
unit_pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Run one statement on database dbname of the cluster, through libpq
 * itself rather than the driver under test: 0, or -1 (printed).
 */
static inline int
unit_pg_admin(const char *dbname, const char *sql)
{
	const char *base = unit_pg_base();
	char url[UNIT_URL_MAX];
	PGconn *pg;
	PGresult *res;
	int ok;

	if (base == NULL) {
		print_error("%s is not set\n", UNIT_PG_ENV);
		return -1;
	}
	unit_pg_url(base, dbname, url);
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK) {
		print_error("%s: %s", url, PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	/* Notices ("drop cascades to ...") are no news here. */
	PQsetNoticeProcessor(pg, unit_pg_quiet, NULL);
	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		print_error("%s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
	return ok ? 0 : -1;
}

/*
 * Make the database that this binary's PostgreSQL tests share, each in a
 * schema of its own: a fresh database costs the cluster a copy of its
 * template (most of a second on a busy machine), a schema next to
 * nothing.  Shaped as a cmocka group setup and teardown: 0 or -1.
 */
static inline int
unit_pg_begin(void **state)
{
	char sql[128];

	(void)state;
	unit_random_name("resetd_unit_", unit_pg_dbname);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", unit_pg_dbname);
	if (unit_pg_admin("postgres", sql) == 0)
		return 0;
	unit_pg_dbname[0] = '\0';
	return -1;
}

static inline int
unit_pg_end(void **state)
{
	char sql[128];

	(void)state;
	if (unit_pg_dbname[0] == '\0')
		return 0;
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
	    unit_pg_dbname);
	unit_pg_dbname[0] = '\0';
	return unit_pg_admin("postgres", sql);
}

/*
 * Make a fresh, empty database of kind; its URL goes to u->url.  On
 * PostgreSQL it is a fresh schema in the database of unit_pg_begin, the
 * only one on the URL's search_path, so that the store sees it alone.
 */
static inline void
unit_db_make(struct unit_db *u, const char *kind)
{
	char sql[128], base[UNIT_URL_MAX];

	memset(u, 0, sizeof(*u));
	u->kind = kind;
	if (strcmp(kind, "sqlite") == 0) {
		unit_tmpdir(u->dir);
		snprintf(u->url, sizeof(u->url), "sqlite:%s/x.db", u->dir);
		return;
	}
	if (strcmp(kind, "postgres") != 0)
		fail_msg("unknown database kind %s", kind);
	if (unit_pg_dbname[0] == '\0')
		fail_msg("no database: unit_pg_begin was not run");
	unit_random_name("t_", u->name);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", u->name);
	if (unit_pg_admin(unit_pg_dbname, sql) != 0)
		fail_msg("cannot make schema %s", u->name);
	unit_pg_url(unit_pg_base(), unit_pg_dbname, base);
	if ((size_t)snprintf(u->url, sizeof(u->url),
		"%s%coptions=-csearch_path%%3D%s", base,
		strchr(base, '?') != NULL ? '&' : '?',
		u->name) >= sizeof(u->url))
		fail_msg("database URL too long: %s", base);
}

/*
 * Remove a database made by unit_db_make, once every connection to it is
 * closed.  Does nothing for one never made.  A PostgreSQL schema is left
 * for unit_pg_end, which drops the database and every schema in it at
 * once: dropping each one costs more than the test that used it.
 */
static inline void
unit_db_drop(struct unit_db *u)
{
	if (u->kind == NULL)
		return;
	if (u->dir[0] != '\0')
		unit_rmdir(u->dir);
	memset(u, 0, sizeof(*u));
}

#endif
