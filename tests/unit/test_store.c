/*
 * Unit tests of the store (store/store.c over its db drivers): migrations,
 * settings, projects, users, secrets, sessions, the outbox with its claim
 * leases, the shared counters, and db_write's commit and rollback.
 *
 * One test body runs on every database: each test is run once on a fresh
 * SQLite file (store/db_sqlite.c), then once on a fresh PostgreSQL schema
 * of its own (store/db_pgsql.c; unit_db.h), in two cmocka groups.
 * The cluster's URL comes from RESETD_TEST_POSTGRES, which tests/run sets
 * (see unit_db.h); without it the PostgreSQL group is reported skipped.
 * Where the dialects differ in a test's own SQL (reading a table's
 * columns), the test asks db_dialect.  Two tests run once, outside the
 * two groups: test_open_errors checks URL handling and opens no database,
 * and test_open_sqlite_while_locked is about SQLite's switch to WAL.
 */
#include "unit.h"

#include <pthread.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "unit_db.h"

#define T0 1700000000000LL /* a fixed "now" in milliseconds */
#define MINUTE 60000LL

struct fixture {
	struct unit_db udb;   /* the database under test */
	struct unit_db fresh; /* another, for tests that need one */
	struct db *db;
	struct db_conn *c; /* a reader connection, autocommit */
};

/* Open a fresh database of the kind in *state ("sqlite", "postgres"). */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *kind = *state;

	if (f == NULL)
		return -1;
	*state = f;
	unit_db_make(&f->udb, kind);
	assert_int_equal(db_open(f->udb.url, 4, &f->db), 0);
	assert_non_null(f->db);
	assert_string_equal(db_dialect(f->db), kind);
	/* Twice: the second run finds nothing to do. */
	assert_int_equal(store_migrate(f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->c = db_acquire(f->db);
	assert_non_null(f->c);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->c != NULL)
		db_release(f->db, f->c);
	if (f->db != NULL)
		db_close(f->db);
	unit_db_drop(&f->fresh);
	unit_db_drop(&f->udb);
	free(f);
	return 0;
}

/* The migration's text for the dialect of db. */
static const char *
migration_sql(const struct migration *m, struct db *db)
{
	if (strcmp(db_dialect(db), "sqlite") == 0 && m->sql_sqlite != NULL)
		return m->sql_sqlite;
	if (strcmp(db_dialect(db), "postgres") == 0 && m->sql_postgres != NULL)
		return m->sql_postgres;
	return m->sql;
}

/* The single integer a query yields. */
static int64_t
query_int(struct db_conn *c, const char *sql)
{
	struct db_rows *r;
	int64_t v;

	assert_int_equal(db_query(c, sql, DB_NOARGS, &r), 0);
	assert_int_equal(db_next(r), 1);
	v = db_int(r, 0);
	assert_int_equal(db_next(r), 0);
	db_done(r);
	return v;
}

static void
add_project(struct db_conn *c, const char *id, const char *name,
    int64_t created_at)
{
	struct project p = {
		.id = (char *)id,
		.name = (char *)name,
		.callback_urls =
		    "https://app.example.com/cb\nhttps://x.test/cb",
		.allowed_origins = "",
		.reset_url = NULL,
		.token_ttl = 3600,
		.delivery = "link",
		.created_at = created_at,
	};

	assert_int_equal(store_project_insert(c, &p), STORE_OK);
}

static int
add_user(struct db_conn *c, const char *id, const char *project_id,
    const char *email, const char *username, int64_t created_at)
{
	struct user u = {
		.id = (char *)id,
		.project_id = (char *)project_id,
		.email = (char *)email,
		.username = (char *)username,
		.password_hash = NULL,
		.email_verified = 0,
		.disabled = 0,
		.locale = "en",
		.first_name = "First",
		.last_name = NULL,
		.created_at = created_at,
		.updated_at = created_at,
	};

	return store_user_insert(c, &u);
}

static int
add_secret(struct db_conn *c, const char *id, const char *project_id,
    const char *user_id, const char *hash, int64_t expires_at)
{
	struct secret s = {
		.id = (char *)id,
		.project_id = (char *)project_id,
		.user_id = (char *)user_id,
		.purpose = user_id != NULL ? "reset_link" : "decoy",
		.token_hash = (char *)hash,
		.email = "alice@example.com",
		.created_at = T0,
		.expires_at = expires_at,
		.login_url = "https://app.example.com/login",
		.locale = "de",
	};

	return store_secret_insert(c, &s);
}

static void
add_outbox(struct db_conn *c, const char *id, const char *state,
    int64_t next_try_at, int64_t created_at)
{
	struct outbox_msg m = {
		.id = (char *)id,
		.project_id = "p-a",
		.kind = "reset_link",
		.to_addr = "alice@example.com",
		.locale = "fr",
		.payload = "{\"link\":\"https://x.test/r?t=abc\"}",
		.state = (char *)state,
		.next_try_at = next_try_at,
		.created_at = created_at,
	};

	assert_int_equal(store_outbox_insert(c, &m), STORE_OK);
}

/* The outbox row id, read back through a list of its state. */
static struct outbox_msg *
outbox_find(struct fixture *f, const char *id)
{
	struct store_list l;
	struct outbox_msg *m, *found = NULL;
	size_t i;

	assert_int_equal(store_outbox_list(f->c, NULL, 1000, &l), STORE_OK);
	for (i = 0; i < l.n; i++) {
		m = l.items[i];
		if (found == NULL && strcmp(m->id, id) == 0) {
			found = m;
			l.items[i] = NULL;
		}
	}
	for (i = 0; i < l.n; i++)
		outbox_msg_free(l.items[i]);
	free(l.items);
	return found;
}

static void
free_outbox_list(struct store_list *l)
{
	store_list_free(l, (void (*)(void *))outbox_msg_free);
}

static void
test_migrate(void **state)
{
	struct fixture *f = *state;

	const struct migration *m;
	int64_t n = 0, last = 0;

	for (m = store_migrations; m->version != 0; m++) {
		n++;
		last = m->version;
	}
	assert_true(n >= 1);
	/* Each migration recorded once, whatever the number of runs. */
	assert_int_equal(query_int(f->c,
			     "SELECT COUNT(*) FROM schema_migrations"),
	    n);
	assert_int_equal(
	    query_int(f->c,
		"SELECT COUNT(DISTINCT version) FROM schema_migrations"),
	    n);
	assert_int_equal(query_int(f->c,
			     "SELECT MAX(version) FROM schema_migrations"),
	    last);
	assert_int_equal(store_migrate(f->db), 0);
	assert_int_equal(query_int(f->c,
			     "SELECT COUNT(*) FROM schema_migrations"),
	    n);
	assert_int_equal(store_ping(f->c), STORE_OK);

	/* The schema survives a reopen, and migrating again is still a no-op. */
	{
		struct db *db2;
		struct db_conn *c2;
		int64_t count;

		assert_int_equal(db_open(f->udb.url, 2, &db2), 0);
		assert_int_equal(store_migrate(db2), 0);
		c2 = db_acquire(db2);
		assert_non_null(c2);
		assert_int_equal(store_project_count(c2, &count), STORE_OK);
		assert_int_equal(count, 0);
		assert_int_equal(query_int(c2,
				     "SELECT COUNT(*) FROM schema_migrations"),
		    n);
		db_release(db2, c2);
		db_close(db2);
	}
}

/*
 * A database migrated by a branch that skipped a number (here: 6 without
 * 5) still gets the one it lacks from a later binary: versions are looked
 * up one by one, not compared with the highest applied.
 */
static void
test_migrate_gap(void **state)
{
	struct fixture *f = *state;
	const struct migration *m;
	int64_t n = 0;

	for (m = store_migrations; m->version != 0; m++)
		n++;
	/* Forget migration 4 as if this database never had it. */
	assert_int_equal(db_exec(f->c,
			     "DELETE FROM schema_migrations WHERE "
			     "version = 4",
			     DB_NOARGS),
	    1);
	assert_true(
	    db_exec(f->c, "DROP INDEX secrets_subject", DB_NOARGS) >= 0);
	assert_true(db_exec(f->c, "ALTER TABLE secrets DROP COLUMN subject",
			DB_NOARGS) >= 0);
	assert_int_equal(query_int(f->c,
			     "SELECT COUNT(*) FROM schema_migrations"),
	    n - 1);
	assert_int_equal(store_migrate(f->db), 0);
	assert_int_equal(query_int(f->c,
			     "SELECT COUNT(*) FROM schema_migrations"),
	    n);
	if (strcmp(db_dialect(f->db), "sqlite") == 0)
		assert_int_equal(
		    query_int(f->c,
			"SELECT COUNT(*) FROM "
			"pragma_table_info('secrets') WHERE name = 'subject'"),
		    1);
	else
		assert_int_equal(
		    query_int(f->c,
			"SELECT COUNT(*) FROM "
			"information_schema.columns WHERE table_schema = "
			"current_schema() AND table_name = 'secrets' AND "
			"column_name = 'subject'"),
		    1);
}

/*
 * The migration that gives outbox rows their sender gives the messages
 * still to send (pending, dead) the sender their project has, as a sender
 * thread would have picked when it read the project; rows sent or of a
 * project without one keep NULL, the configured sender.
 */
static void
test_migrate_outbox_sender(void **state)
{
	struct fixture *f = *state;
	const struct migration *m;
	struct project b = {
		.id = "p-b",
		.name = "B",
		.callback_urls = "",
		.allowed_origins = "",
		.token_ttl = 3600,
		.delivery = "link",
		.created_at = T0,
		.mail_from = "hello@b.test",
		.mail_from_name = "B Support",
	};
	struct outbox_msg *o = NULL;
	char sql[128];
	int version = 0;

	for (m = store_migrations; m->version != 0; m++)
		if (strcmp(m->name, "outbox senders") == 0)
			version = m->version;
	assert_true(version > 0);
	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(store_project_insert(f->c, &b), STORE_OK);
	add_outbox(f->c, "m-1", "pending", T0, T0);
	add_outbox(f->c, "m-2", "dead", T0, T0);
	add_outbox(f->c, "m-3", "sent", T0, T0);
	add_outbox(f->c, "m-4", "pending", T0, T0);
	assert_true(db_exec(f->c,
			"UPDATE outbox SET project_id = 'p-b' WHERE "
			"id IN ('m-1', 'm-2', 'm-3')",
			DB_NOARGS) == 3);
	/* The database as it was before: no sender columns. */
	snprintf(sql, sizeof(sql),
	    "DELETE FROM schema_migrations WHERE "
	    "version = %d",
	    version);
	assert_int_equal(db_exec(f->c, sql, DB_NOARGS), 1);
	assert_true(db_exec(f->c, "ALTER TABLE outbox DROP COLUMN from_addr",
			DB_NOARGS) >= 0);
	assert_true(db_exec(f->c, "ALTER TABLE outbox DROP COLUMN from_name",
			DB_NOARGS) >= 0);
	assert_int_equal(store_migrate(f->db), 0);

	assert_int_equal(store_outbox_get(f->c, "m-1", &o), STORE_OK);
	assert_string_equal(o->from_addr, "hello@b.test");
	assert_string_equal(o->from_name, "B Support");
	outbox_msg_free(o);
	assert_int_equal(store_outbox_get(f->c, "m-2", &o), STORE_OK);
	assert_string_equal(o->from_addr, "hello@b.test");
	outbox_msg_free(o);
	assert_int_equal(store_outbox_get(f->c, "m-3", &o), STORE_OK);
	assert_null(o->from_addr);
	outbox_msg_free(o);
	assert_int_equal(store_outbox_get(f->c, "m-4", &o), STORE_OK);
	assert_null(o->from_addr);
	assert_null(o->from_name);
	outbox_msg_free(o);
}

static void
test_open_errors(void **state)
{
	struct db *db = NULL;

	(void)state;
	assert_int_equal(db_open("postgres://localhost/x", 1, &db), -1);
	assert_null(db);
	assert_int_equal(db_open("sqlite:", 1, &db), -1);
	assert_null(db);
}

#define WAL_ROUNDS 20

struct opener {
	const char *url;
	pthread_barrier_t *go;
	int rc;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;
	struct db *db;

	pthread_barrier_wait(o->go);
	o->rc = db_open(o->url, 1, &db);
	if (o->rc == 0)
		db_close(db);
	return NULL;
}

/*
 * SQLite's alone (the journal mode): opening a new file switches it to
 * WAL, which needs the file's exclusive lock.  Another connection holding
 * the write lock makes SQLite refuse the switch at once, without waiting
 * (its busy handler could deadlock there), so the open must wait and try
 * again, as instances starting together on a new file do to each other.
 * Each round lets the lock go just as the open begins, before or after
 * its first try; no round may fail.
 */
static void
test_open_sqlite_while_locked(void **state)
{
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX], url[UNIT_URL_MAX];
	pthread_barrier_t go;
	pthread_t t;
	struct opener o;
	sqlite3 *other;
	int round;

	(void)state;
	for (round = 0; round < WAL_ROUNDS; round++) {
		unit_tmpdir(dir);
		snprintf(path, sizeof(path), "%s/x.db", dir);
		snprintf(url, sizeof(url), "sqlite:%s", path);
		assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
		/*
		 * Its COMMIT waits out the opener's shared lock, as any
		 * instance's connection does (they all have a busy timeout);
		 * without one it fails at once whenever the opener happens to
		 * be reading just then, which a loaded machine makes common.
		 */
		sqlite3_busy_timeout(other, 10000);
		assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL,
				     NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
		o = (struct opener){ url, &go, -99 };
		assert_int_equal(pthread_create(&t, NULL, opener_main, &o), 0);
		pthread_barrier_wait(&go);
		assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL,
				     NULL),
		    SQLITE_OK);
		assert_int_equal(pthread_join(t, NULL), 0);
		pthread_barrier_destroy(&go);
		sqlite3_close(other);
		unit_rmdir(dir);
		if (o.rc != 0)
			fail_msg("round %d: the open failed", round);
	}
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	char *v = NULL;

	assert_int_equal(store_setting_get_or_put(f->db, "server_secret",
			     "first", &v),
	    STORE_OK);
	assert_string_equal(v, "first");
	free(v);
	v = NULL;
	/* The first value stays. */
	assert_int_equal(store_setting_get_or_put(f->db, "server_secret",
			     "second", &v),
	    STORE_OK);
	assert_string_equal(v, "first");
	free(v);
	v = NULL;
	/* Other keys are separate. */
	assert_int_equal(store_setting_get_or_put(f->db, "other", "x", &v),
	    STORE_OK);
	assert_string_equal(v, "x");
	free(v);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM settings"), 2);
}

static void
test_projects(void **state)
{
	struct fixture *f = *state;
	struct project *p = NULL, *q;
	struct project full = {
		.id = "p-full",
		.name = "Full \"Project\" \xc3\xa9",
		.callback_urls = "",
		.allowed_origins = "https://a.test\nhttps://b.test",
		.reset_url = "https://app.test/reset",
		.token_ttl = 900,
		.delivery = "code",
		.created_at = T0 + 5,
		.logo_url = "https://cdn.app.test/logo.svg",
		.accent_color = "#0a7c4E",
	};
	struct store_list l;
	int64_t n = -1;

	assert_int_equal(store_project_count(f->c, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_project_list(f->c, &l), STORE_OK);
	assert_int_equal(l.n, 0);
	store_list_free(&l, (void (*)(void *))project_free);

	add_project(f->c, "p-b", "Beta", T0 + 2);
	add_project(f->c, "p-a", "Alpha", T0 + 1);
	assert_int_equal(store_project_insert(f->c, &full), STORE_OK);

	assert_int_equal(store_project_get(f->c, "p-full", &p), STORE_OK);
	assert_non_null(p);
	assert_string_equal(p->id, "p-full");
	assert_string_equal(p->name, "Full \"Project\" \xc3\xa9");
	assert_string_equal(p->callback_urls, "");
	assert_string_equal(p->allowed_origins,
	    "https://a.test\nhttps://b.test");
	assert_string_equal(p->reset_url, "https://app.test/reset");
	assert_int_equal(p->token_ttl, 900);
	assert_string_equal(p->delivery, "code");
	assert_int_equal(p->created_at, T0 + 5);
	assert_string_equal(p->logo_url, "https://cdn.app.test/logo.svg");
	assert_string_equal(p->accent_color, "#0a7c4E");
	project_free(p);

	p = NULL;
	assert_int_equal(store_project_get(f->c, "p-a", &p), STORE_OK);
	assert_string_equal(p->name, "Alpha");
	assert_null(p->reset_url);
	assert_null(p->logo_url);
	assert_null(p->accent_color);
	assert_string_equal(p->callback_urls,
	    "https://app.example.com/cb\nhttps://x.test/cb");
	/* Shared: each hold is let go by one project_free, the last frees. */
	assert_ptr_equal(project_hold(p), p);
	assert_ptr_equal(project_hold(p), p);
	project_free(p);
	project_free(p);
	assert_string_equal(p->name, "Alpha");
	project_free(p);

	/* Not found leaves *out alone. */
	q = &full;
	assert_int_equal(store_project_get(f->c, "p-none", &q),
	    STORE_NOT_FOUND);
	assert_ptr_equal(q, &full);

	/* Duplicate id. */
	full.name = "Again";
	assert_int_equal(store_project_insert(f->c, &full), DB_CONSTRAINT);

	assert_int_equal(store_project_count(f->c, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_project_list(f->c, &l), STORE_OK);
	assert_int_equal(l.n, 3);
	/* Oldest first. */
	assert_string_equal(((struct project *)l.items[0])->id, "p-a");
	assert_string_equal(((struct project *)l.items[1])->id, "p-b");
	assert_string_equal(((struct project *)l.items[2])->id, "p-full");
	assert_string_equal(((struct project *)l.items[2])->name,
	    "Full \"Project\" \xc3\xa9");
	store_list_free(&l, (void (*)(void *))project_free);
	assert_null(l.items);
	assert_int_equal(l.n, 0);
	project_free(NULL);
}

static void
test_users(void **state)
{
	struct fixture *f = *state;
	static struct user dummy;
	struct user *u = NULL, *sentinel = &dummy;

	add_project(f->c, "p-a", "A", T0);
	add_project(f->c, "p-b", "B", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "Alice@Example.COM",
			     "AliceW", T0 + 1),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-2", "p-a", "bob@example.com", NULL,
			     T0 + 2),
	    STORE_OK);
	/* Two users without a username are fine. */
	assert_int_equal(add_user(f->c, "u-3", "p-a", "carol@example.com", NULL,
			     T0 + 3),
	    STORE_OK);

	/* Duplicate email, any case, in the same project. */
	assert_int_equal(add_user(f->c, "u-4", "p-a", "alice@example.com", NULL,
			     T0),
	    DB_CONSTRAINT);
	assert_int_equal(add_user(f->c, "u-4", "p-a", "ALICE@EXAMPLE.COM", NULL,
			     T0),
	    DB_CONSTRAINT);
	/* Duplicate username, any case. */
	assert_int_equal(add_user(f->c, "u-4", "p-a", "dave@example.com",
			     "alicew", T0),
	    DB_CONSTRAINT);
	/* Duplicate id. */
	assert_int_equal(add_user(f->c, "u-1", "p-a", "eve@example.com", NULL,
			     T0),
	    DB_CONSTRAINT);
	/* A project that does not exist. */
	assert_int_equal(add_user(f->c, "u-4", "p-none", "x@example.com", NULL,
			     T0),
	    DB_CONSTRAINT);
	/* The same email in another project is another user. */
	assert_int_equal(add_user(f->c, "u-b1", "p-b", "alice@example.com",
			     "alicew", T0 + 4),
	    STORE_OK);

	/* Every field comes back. */
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_string_equal(u->id, "u-1");
	assert_string_equal(u->project_id, "p-a");
	assert_string_equal(u->email, "Alice@Example.COM");
	assert_string_equal(u->username, "AliceW");
	assert_null(u->password_hash);
	assert_int_equal(u->email_verified, 0);
	assert_int_equal(u->disabled, 0);
	assert_string_equal(u->locale, "en");
	assert_string_equal(u->first_name, "First");
	assert_null(u->last_name);
	assert_int_equal(u->created_at, T0 + 1);
	assert_int_equal(u->updated_at, T0 + 1);
	assert_int_equal(u->last_sign_in_at, 0);
	user_free(u);

	/* user_get is scoped to the project. */
	u = sentinel;
	assert_int_equal(store_user_get(f->c, "p-b", "u-1", &u),
	    STORE_NOT_FOUND);
	assert_ptr_equal(u, sentinel);
	assert_int_equal(store_user_get(f->c, "p-a", "u-b1", &u),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_get(f->c, "p-a", "u-none", &u),
	    STORE_NOT_FOUND);

	/* Find by email or username, ignoring ASCII case. */
	u = NULL;
	assert_int_equal(store_user_find(f->c, "p-a", "ALICE@example.com", &u),
	    STORE_OK);
	assert_string_equal(u->id, "u-1");
	user_free(u);
	u = NULL;
	assert_int_equal(store_user_find(f->c, "p-a", "alicew", &u), STORE_OK);
	assert_string_equal(u->id, "u-1");
	user_free(u);
	u = NULL;
	assert_int_equal(store_user_find(f->c, "p-a", "ALICEW", &u), STORE_OK);
	assert_string_equal(u->id, "u-1");
	user_free(u);
	u = NULL;
	assert_int_equal(store_user_find(f->c, "p-a", "Bob@Example.com", &u),
	    STORE_OK);
	assert_string_equal(u->id, "u-2");
	user_free(u);
	/* Scoped to the project too. */
	u = NULL;
	assert_int_equal(store_user_find(f->c, "p-b", "Alice@Example.COM", &u),
	    STORE_OK);
	assert_string_equal(u->id, "u-b1");
	user_free(u);
	u = sentinel;
	assert_int_equal(store_user_find(f->c, "p-b", "bob@example.com", &u),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_find(f->c, "p-a", "nobody@example.com", &u),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_find(f->c, "p-a", "alice", &u),
	    STORE_NOT_FOUND);
	assert_ptr_equal(u, sentinel);
	user_free(NULL);
}

static void
test_user_email_wins(void **state)
{
	struct fixture *f = *state;
	struct user *u = NULL;

	add_project(f->c, "p-a", "A", T0);
	/* u-x's username is u-y's email. */
	assert_int_equal(add_user(f->c, "u-x", "p-a", "x@example.com",
			     "Y@Example.com", T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-y", "p-a", "y@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(store_user_find(f->c, "p-a", "y@example.com", &u),
	    STORE_OK);
	assert_string_equal(u->id, "u-y");
	user_free(u);
}

/* The ids of a page, joined with spaces, into out; limit < 0: newest first. */
static void
page_ids(struct db_conn *c, const char *project, enum user_filter filter,
    const char *value, const char *after, int64_t limit, char *out, size_t len)
{
	struct user_page_query q = { filter, value, after,
		limit < 0 ? -limit : limit, limit < 0 };
	struct store_list l;
	size_t i, n = 0;

	assert_int_equal(store_user_page(c, project, &q, &l), STORE_OK);
	out[0] = '\0';
	for (i = 0; i < l.n; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " " : "",
		    ((struct user *)l.items[i])->id);
	store_list_free(&l, (void (*)(void *))user_free);
}

/*
 * Pages of users (ListUsers, user list): id order, after a cursor, at most
 * a limit, filtered by email or username, exactly or by a prefix that is
 * text (LIKE's '_' and '%' match only themselves), in any case; one
 * project's only.  Statuses round-trip; delete takes sessions and secrets.
 */
static void
test_user_pages_status_delete(void **state)
{
	struct fixture *f = *state;
	struct session ses = {
		.id = "ses-1",
		.project_id = "p-a",
		.user_id = "u-2",
		.created_at = T0,
		.expires_at = T0 + MINUTE,
	};
	struct user *u = NULL;
	char ids[256];

	add_project(f->c, "p-a", "A", T0);
	add_project(f->c, "p-b", "B", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a_b@example.com", "Ann",
			     T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-2", "p-a", "axb@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-3", "p-a", "A%c@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-4", "p-b", "a_b@example.com", NULL,
			     T0),
	    STORE_OK);

	page_ids(f->c, "p-a", USER_FILTER_NONE, NULL, NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1 u-2 u-3");
	page_ids(f->c, "p-a", USER_FILTER_NONE, NULL, NULL, 2, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1 u-2");
	page_ids(f->c, "p-a", USER_FILTER_NONE, NULL, "u-2", 2, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-3");
	/* Newest first, "after" meaning older; filters alike. */
	page_ids(f->c, "p-a", USER_FILTER_NONE, NULL, NULL, -2, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-3 u-2");
	page_ids(f->c, "p-a", USER_FILTER_NONE, NULL, "u-2", -2, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1");
	page_ids(f->c, "p-a", USER_FILTER_EMAIL_PREFIX, "a", "u-3", -5, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-2 u-1");
	page_ids(f->c, "p-a", USER_FILTER_EMAIL, "A_B@EXAMPLE.COM", NULL, 10,
	    ids, sizeof(ids));
	assert_string_equal(ids, "u-1");
	page_ids(f->c, "p-a", USER_FILTER_EMAIL_PREFIX, "a_", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1");
	page_ids(f->c, "p-a", USER_FILTER_EMAIL_PREFIX, "a%", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-3");
	page_ids(f->c, "p-a", USER_FILTER_EMAIL_PREFIX, "A", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1 u-2 u-3");
	page_ids(f->c, "p-a", USER_FILTER_USERNAME, "ann", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1");
	page_ids(f->c, "p-a", USER_FILTER_USERNAME_PREFIX, "A", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "u-1");
	page_ids(f->c, "p-a", USER_FILTER_ID, "u-4", NULL, 10, ids,
	    sizeof(ids));
	assert_string_equal(ids, "");

	/* Status: confirmed by default; an operator's password sets one. */
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_int_equal(u->status, USER_CONFIRMED);
	user_free(u);
	assert_int_equal(store_user_admin_password(f->c, "p-a", "u-1", "h1",
			     USER_FORCE_CHANGE_PASSWORD, T0 + 1),
	    1);
	assert_int_equal(store_user_admin_password(f->c, "p-b", "u-1", "h1",
			     USER_CONFIRMED, T0 + 1),
	    0);
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_int_equal(u->status, USER_FORCE_CHANGE_PASSWORD);
	assert_string_equal(u->password_hash, "h1");
	assert_int_equal(u->email_verified, 0);
	user_free(u);
	assert_int_equal(store_user_set_status(f->c, "p-a", "u-1",
			     USER_RESET_REQUIRED, T0 + 2),
	    1);
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_int_equal(u->status, USER_RESET_REQUIRED);
	user_free(u);
	/* A reset's password confirms the user. */
	assert_int_equal(store_user_set_password(f->c, "u-1", "h2", T0 + 3),
	    STORE_OK);
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_int_equal(u->status, USER_CONFIRMED);
	user_free(u);

	/* Delete: only in its project, with what names the user. */
	assert_int_equal(store_session_insert(f->c, &ses), STORE_OK);
	assert_int_equal(add_secret(f->c, "s-1", "p-a", "u-2", "hash-1",
			     T0 + MINUTE),
	    STORE_OK);
	assert_int_equal(store_user_delete(f->c, "p-b", "u-2"), 0);
	assert_int_equal(store_user_delete(f->c, "p-a", "u-2"), 1);
	assert_int_equal(store_user_get(f->c, "p-a", "u-2", &u),
	    STORE_NOT_FOUND);
	assert_int_equal(store_secret_by_id(f->c, "s-1", (struct secret **)&u),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_delete(f->c, "p-a", "u-2"), 0);
	/* The email is free again. */
	assert_int_equal(add_user(f->c, "u-5", "p-a", "AXB@example.com", NULL,
			     T0),
	    STORE_OK);
}

static void
test_user_updates(void **state)
{
	struct fixture *f = *state;
	struct user *u = NULL;
	struct store_list l;

	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(add_user(f->c, "u-2", "p-a", "b@example.com", NULL,
			     T0 + 2),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a@example.com", "a",
			     T0 + 1),
	    STORE_OK);

	assert_int_equal(store_user_set_password(f->c, "u-1", "$argon2id$h1",
			     T0 + 10),
	    STORE_OK);
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_string_equal(u->password_hash, "$argon2id$h1");
	assert_int_equal(u->email_verified, 1);
	assert_int_equal(u->updated_at, T0 + 10);
	user_free(u);

	assert_int_equal(store_user_rehash(f->c, "u-1", "$argon2id$h2"),
	    STORE_OK);
	assert_int_equal(store_user_touch_sign_in(f->c, "u-1", T0 + 20),
	    STORE_OK);
	u = NULL;
	assert_int_equal(store_user_get(f->c, "p-a", "u-1", &u), STORE_OK);
	assert_string_equal(u->password_hash, "$argon2id$h2");
	assert_int_equal(u->updated_at, T0 + 10);
	assert_int_equal(u->last_sign_in_at, T0 + 20);
	user_free(u);

	/* The other user is untouched. */
	u = NULL;
	assert_int_equal(store_user_get(f->c, "p-a", "u-2", &u), STORE_OK);
	assert_null(u->password_hash);
	assert_int_equal(u->email_verified, 0);
	assert_int_equal(u->last_sign_in_at, 0);
	user_free(u);

	assert_int_equal(store_user_list(f->c, "p-a", &l), STORE_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(((struct user *)l.items[0])->id, "u-1");
	assert_string_equal(((struct user *)l.items[1])->id, "u-2");
	store_list_free(&l, (void (*)(void *))user_free);
	assert_int_equal(store_user_list(f->c, "p-none", &l), STORE_OK);
	assert_int_equal(l.n, 0);
	store_list_free(&l, (void (*)(void *))user_free);
}

static void
test_secrets(void **state)
{
	struct fixture *f = *state;
	static struct secret dummy;
	struct secret *s = NULL, *sentinel = &dummy;
	int64_t exp = T0 + 15 * MINUTE;

	add_project(f->c, "p-a", "A", T0);
	add_project(f->c, "p-b", "B", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-2", "p-a", "b@example.com", NULL,
			     T0),
	    STORE_OK);

	assert_int_equal(add_secret(f->c, "s-1", "p-a", "u-1", "hash-1", exp),
	    STORE_OK);
	/* Hashes are unique. */
	assert_int_equal(add_secret(f->c, "s-x", "p-a", "u-1", "hash-1", exp),
	    DB_CONSTRAINT);
	/* A decoy has no user. */
	assert_int_equal(add_secret(f->c, "s-decoy", "p-a", NULL, "hash-d",
			     exp),
	    STORE_OK);

	assert_int_equal(store_secret_by_hash(f->c, "hash-1", &s), STORE_OK);
	assert_string_equal(s->id, "s-1");
	assert_string_equal(s->project_id, "p-a");
	assert_string_equal(s->user_id, "u-1");
	assert_string_equal(s->purpose, "reset_link");
	assert_string_equal(s->token_hash, "hash-1");
	assert_string_equal(s->email, "alice@example.com");
	assert_int_equal(s->created_at, T0);
	assert_int_equal(s->expires_at, exp);
	assert_int_equal(s->used_at, 0);
	assert_int_equal(s->revoked_at, 0);
	assert_int_equal(s->attempts, 0);
	assert_string_equal(s->login_url, "https://app.example.com/login");
	assert_string_equal(s->locale, "de");
	secret_free(s);

	s = NULL;
	assert_int_equal(store_secret_by_hash(f->c, "hash-d", &s), STORE_OK);
	assert_null(s->user_id);
	assert_string_equal(s->purpose, "decoy");
	secret_free(s);

	s = sentinel;
	assert_int_equal(store_secret_by_hash(f->c, "hash-none", &s),
	    STORE_NOT_FOUND);
	assert_ptr_equal(s, sentinel);
	/* secret_get is scoped to the project. */
	assert_int_equal(store_secret_get(f->c, "p-b", "s-1", &s),
	    STORE_NOT_FOUND);
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-1", &s), STORE_OK);
	assert_string_equal(s->token_hash, "hash-1");
	secret_free(s);

	/* Consumed once only. */
	assert_int_equal(store_secret_consume(f->c, "s-1", T0 + MINUTE), 1);
	assert_int_equal(store_secret_consume(f->c, "s-1", T0 + MINUTE), 0);
	assert_int_equal(store_secret_consume(f->c, "s-1", T0 + 2 * MINUTE), 0);
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-1", &s), STORE_OK);
	assert_int_equal(s->used_at, T0 + MINUTE);
	assert_int_equal(s->revoked_at, 0);
	secret_free(s);
	assert_int_equal(store_secret_consume(f->c, "s-none", T0), 0);

	/* Not after expiry, nor at the very millisecond it expires. */
	assert_int_equal(add_secret(f->c, "s-2", "p-a", "u-1", "hash-2", exp),
	    STORE_OK);
	assert_int_equal(store_secret_consume(f->c, "s-2", exp), 0);
	assert_int_equal(store_secret_consume(f->c, "s-2", exp + 1), 0);
	assert_int_equal(store_secret_consume(f->c, "s-2", exp - 1), 1);

	/* Wrong tries: counted while live; the max-th revokes. */
	assert_int_equal(add_secret(f->c, "s-w", "p-a", "u-1", "hash-w", exp),
	    STORE_OK);
	assert_int_equal(store_secret_count_wrong(f->c, "s-w", T0 + 1, 3), 1);
	assert_int_equal(store_secret_count_wrong(f->c, "s-w", T0 + 2, 3), 1);
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-w", &s), STORE_OK);
	assert_int_equal(s->attempts, 2);
	assert_int_equal(s->revoked_at, 0);
	secret_free(s);
	assert_int_equal(store_secret_count_wrong(f->c, "s-w", T0 + 3, 3), 1);
	assert_int_equal(store_secret_count_wrong(f->c, "s-w", T0 + 4, 3), 0);
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-w", &s), STORE_OK);
	assert_int_equal(s->attempts, 3);
	assert_int_equal(s->revoked_at, T0 + 3);
	secret_free(s);
	assert_int_equal(store_secret_consume(f->c, "s-w", T0 + 4), 0);
	assert_int_equal(store_secret_count_wrong(f->c, "s-1", T0 + 4, 3), 0);

	/* Revoking counts only live secrets of that user. */
	assert_int_equal(add_secret(f->c, "s-3", "p-a", "u-1", "hash-3", exp),
	    STORE_OK);
	assert_int_equal(add_secret(f->c, "s-4", "p-a", "u-1", "hash-4", exp),
	    STORE_OK);
	assert_int_equal(add_secret(f->c, "s-old", "p-a", "u-1", "hash-old",
			     T0 + 1),
	    STORE_OK); /* expired at T0 + 2 min */
	assert_int_equal(add_secret(f->c, "s-5", "p-a", "u-2", "hash-5", exp),
	    STORE_OK);
	assert_int_equal(store_secret_revoke_user(f->c, "u-1", T0 + 2 * MINUTE),
	    2);
	assert_int_equal(store_secret_revoke_user(f->c, "u-1", T0 + 3 * MINUTE),
	    0);
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-3", &s), STORE_OK);
	assert_int_equal(s->revoked_at, T0 + 2 * MINUTE);
	assert_int_equal(s->used_at, 0);
	secret_free(s);
	/* A used secret keeps no revocation time. */
	s = NULL;
	assert_int_equal(store_secret_get(f->c, "p-a", "s-1", &s), STORE_OK);
	assert_int_equal(s->revoked_at, 0);
	secret_free(s);
	/* A revoked secret cannot be consumed. */
	assert_int_equal(store_secret_consume(f->c, "s-3", T0 + 3 * MINUTE), 0);
	assert_int_equal(store_secret_consume(f->c, "s-4", T0 + 3 * MINUTE), 0);
	/* The other user's secret is still live. */
	assert_int_equal(store_secret_consume(f->c, "s-5", T0 + 3 * MINUTE), 1);
	assert_int_equal(store_secret_revoke_user(f->c, "u-none", T0), 0);

	/* One secret by id, whatever its project; revoked once, if live. */
	assert_int_equal(add_secret(f->c, "s-6", "p-a", "u-2", "hash-6", exp),
	    STORE_OK);
	s = NULL;
	assert_int_equal(store_secret_by_id(f->c, "s-6", &s), STORE_OK);
	assert_string_equal(s->project_id, "p-a");
	secret_free(s);
	s = sentinel;
	assert_int_equal(store_secret_by_id(f->c, "s-none", &s),
	    STORE_NOT_FOUND);
	assert_ptr_equal(s, sentinel);
	assert_int_equal(store_secret_revoke(f->c, "s-6", exp), 0);
	assert_int_equal(store_secret_revoke(f->c, "s-6", T0 + MINUTE), 1);
	assert_int_equal(store_secret_revoke(f->c, "s-6", T0 + MINUTE), 0);
	assert_int_equal(store_secret_consume(f->c, "s-6", T0 + MINUTE), 0);
	assert_int_equal(store_secret_revoke(f->c, "s-5", T0 + 4 * MINUTE), 0);
	assert_int_equal(store_secret_revoke(f->c, "s-none", T0), 0);
	secret_free(NULL);
}

/* One reset secret of the limits' kinds, under subject (NULL: none). */
static void
add_counted(struct db_conn *c, const char *id, const char *user_id,
    const char *purpose, const char *subject, int64_t created_at)
{
	struct secret s = {
		.id = (char *)id,
		.project_id = "p-a",
		.user_id = (char *)user_id,
		.purpose = (char *)purpose,
		.token_hash = (char *)id, /* unique, as hashes are */
		.email = "",
		.created_at = created_at,
		.expires_at = created_at + 60 * MINUTE,
		.subject = (char *)subject,
	};

	assert_int_equal(store_secret_insert(c, &s), STORE_OK);
}

/*
 * The per-login limit counts by subject: an account's links and codes
 * under its id, and the decoys of a login that names no account under
 * that login's key, alike; rows filed under no subject (made over a
 * limit), older rows and other purposes are not counted.
 */
static void
test_limit_counts(void **state)
{
	struct fixture *f = *state;
	const struct migration *m;
	struct secret *s = NULL;
	int64_t n = -1, oldest = -1;
	struct outbox_msg mail = {
		.project_id = "p-a",
		.to_addr = "x@example.com",
		.payload = "{}",
		.next_try_at = T0,
	};
	static const struct {
		const char *id;
		const char *kind;
		const char *state;
		int64_t at;
	} mails[] = {
		{ "m-1", "unknown_account", "pending", T0 - 10 * MINUTE },
		{ "m-2", "unknown_account", "sent", T0 - 20 * MINUTE },
		{ "m-3", "unknown_account", "dropped", T0 - 5 * MINUTE },
		{ "m-4", "unknown_account", "sent", T0 - 90 * MINUTE },
		{ "m-5", "reset_code", "pending", T0 - 1 * MINUTE },
	};
	size_t i;

	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a@example.com", NULL,
			     T0),
	    STORE_OK);
	add_counted(f->c, "s-1", "u-1", "reset_link", "u-1", T0 - 30 * MINUTE);
	add_counted(f->c, "s-2", "u-1", "reset_code", "u-1", T0 - 20 * MINUTE);
	add_counted(f->c, "s-3", NULL, "reset_code", NULL, T0 - 10 * MINUTE);
	add_counted(f->c, "s-4", "u-1", "reset_link", "u-1", T0 - 90 * MINUTE);
	add_counted(f->c, "s-5", NULL, "decoy", "key-g", T0 - 40 * MINUTE);
	add_counted(f->c, "s-6", NULL, "reset_code", "key-g", T0 - 5 * MINUTE);
	add_counted(f->c, "s-7", NULL, "decoy", NULL, T0 - 4 * MINUTE);
	add_counted(f->c, "s-8", "u-1", "session_other", "u-1",
	    T0 - 3 * MINUTE);

	assert_int_equal(store_secret_count_recent(f->c, "u-1",
			     T0 - 60 * MINUTE, &n, &oldest),
	    STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(oldest, T0 - 30 * MINUTE);
	assert_int_equal(store_secret_count_recent(f->c, "key-g",
			     T0 - 60 * MINUTE, &n, &oldest),
	    STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(oldest, T0 - 40 * MINUTE);
	assert_int_equal(store_secret_count_recent(f->c, "key-none",
			     T0 - 60 * MINUTE, &n, &oldest),
	    STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(oldest, 0);

	/* Links made before migration 10 get their user's id as subject. */
	add_counted(f->c, "s-9", "u-1", "reset_link", NULL, T0 - 2 * MINUTE);
	for (m = store_migrations; m->version != 10; m++)
		assert_int_not_equal(m->version, 0);
	assert_int_equal(db_script(f->c, migration_sql(m, f->db)), 0);
	assert_int_equal(store_secret_by_id(f->c, "s-9", &s), STORE_OK);
	assert_string_equal(s->subject, "u-1");
	secret_free(s);
	s = NULL;
	/* A decoy made over a limit stays filed under nobody. */
	assert_int_equal(store_secret_by_id(f->c, "s-7", &s), STORE_OK);
	assert_null(s->subject);
	secret_free(s);
	assert_int_equal(store_secret_count_recent(f->c, "u-1",
			     T0 - 60 * MINUTE, &n, &oldest),
	    STORE_OK);
	assert_int_equal(n, 3);

	/* Notices of the hour, dropped rows left out, up to at_most. */
	for (i = 0; i < sizeof(mails) / sizeof(mails[0]); i++) {
		mail.id = (char *)mails[i].id;
		mail.kind = (char *)mails[i].kind;
		mail.state = (char *)mails[i].state;
		mail.created_at = mails[i].at;
		assert_int_equal(store_outbox_insert(f->c, &mail), STORE_OK);
	}
	assert_int_equal(store_outbox_count_kind(f->c, "p-a", "unknown_account",
			     T0 - 60 * MINUTE, 100, &n),
	    STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_count_kind(f->c, "p-a", "unknown_account",
			     T0 - 60 * MINUTE, 1, &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_count_kind(f->c, "p-a", "reset_code",
			     T0 - 60 * MINUTE, 100, &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_count_recent(f->c, "p-a",
			     T0 - 60 * MINUTE, 100, &n),
	    STORE_OK);
	assert_int_equal(n, 3);
}

static void
test_sessions(void **state)
{
	struct fixture *f = *state;
	static struct session dummy;
	struct session *s = NULL, *sentinel = &dummy;
	struct session in = {
		.id = "ses-1",
		.project_id = "p-a",
		.user_id = "u-1",
		.created_at = T0,
		.expires_at = T0 + 60 * MINUTE,
	};

	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(add_user(f->c, "u-2", "p-a", "b@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(store_session_insert(f->c, &in), STORE_OK);
	assert_int_equal(store_session_insert(f->c, &in), DB_CONSTRAINT);
	in.id = "ses-2";
	in.created_at = T0 + 1;
	assert_int_equal(store_session_insert(f->c, &in), STORE_OK);
	in.id = "ses-3";
	in.user_id = "u-2";
	assert_int_equal(store_session_insert(f->c, &in), STORE_OK);
	/* A user that does not exist. */
	in.id = "ses-4";
	in.user_id = "u-none";
	assert_int_equal(store_session_insert(f->c, &in), DB_CONSTRAINT);

	assert_int_equal(store_session_get(f->c, "ses-1", &s), STORE_OK);
	assert_string_equal(s->id, "ses-1");
	assert_string_equal(s->project_id, "p-a");
	assert_string_equal(s->user_id, "u-1");
	assert_int_equal(s->created_at, T0);
	assert_int_equal(s->expires_at, T0 + 60 * MINUTE);
	assert_int_equal(s->revoked_at, 0);
	session_free(s);
	s = sentinel;
	assert_int_equal(store_session_get(f->c, "ses-none", &s),
	    STORE_NOT_FOUND);
	assert_ptr_equal(s, sentinel);

	assert_int_equal(store_session_revoke_user(f->c, "u-1", T0 + MINUTE),
	    2);
	assert_int_equal(store_session_revoke_user(f->c, "u-1",
			     T0 + 2 * MINUTE),
	    0);
	s = NULL;
	assert_int_equal(store_session_get(f->c, "ses-2", &s), STORE_OK);
	assert_int_equal(s->revoked_at, T0 + MINUTE);
	session_free(s);
	s = NULL;
	assert_int_equal(store_session_get(f->c, "ses-3", &s), STORE_OK);
	assert_int_equal(s->revoked_at, 0);
	session_free(s);
	session_free(NULL);
}

static void
test_outbox_claim(void **state)
{
	struct fixture *f = *state;
	struct store_list l;
	struct outbox_msg *m;

	add_project(f->c, "p-a", "A", T0);
	add_outbox(f->c, "m-due", "pending", T0 - 10, T0 - 10);
	add_outbox(f->c, "m-later", "pending", T0 + MINUTE, T0 - 5);
	add_outbox(f->c, "m-dropped", "dropped", T0 - 20, T0 - 20);
	add_outbox(f->c, "m-sent", "sent", T0 - 30, T0 - 30);
	add_outbox(f->c, "m-dead", "dead", T0 - 40, T0 - 40);

	/* Only the due pending row. */
	assert_int_equal(store_outbox_claim(f->db, T0, T0 + 2 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	m = l.items[0];
	assert_string_equal(m->id, "m-due");
	assert_string_equal(m->state, "pending");
	assert_string_equal(m->kind, "reset_link");
	assert_string_equal(m->to_addr, "alice@example.com");
	assert_string_equal(m->locale, "fr");
	assert_string_equal(m->payload,
	    "{\"link\":\"https://x.test/r?t=abc\"}");
	assert_int_equal(m->tries, 1);
	assert_int_equal(m->next_try_at, T0 + 2 * MINUTE);
	assert_int_equal(m->created_at, T0 - 10);
	assert_int_equal(m->sent_at, 0);
	assert_null(m->last_error);
	free_outbox_list(&l);

	/* It is leased: an immediate second claim gets nothing. */
	assert_int_equal(store_outbox_claim(f->db, T0, T0 + 2 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 0);
	free_outbox_list(&l);
	assert_int_equal(store_outbox_claim(f->db, T0 + MINUTE - 1,
			     T0 + 3 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 0);
	free_outbox_list(&l);

	/* The later row falls due first; the lease ends after it. */
	assert_int_equal(store_outbox_claim(f->db, T0 + MINUTE, T0 + 3 * MINUTE,
			     10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-later");
	assert_int_equal(((struct outbox_msg *)l.items[0])->tries, 1);
	free_outbox_list(&l);

	/* After the lease ends the first row is due again, tries counted. */
	assert_int_equal(store_outbox_claim(f->db, T0 + 2 * MINUTE,
			     T0 + 4 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	m = l.items[0];
	assert_string_equal(m->id, "m-due");
	assert_int_equal(m->tries, 2);
	assert_int_equal(m->next_try_at, T0 + 4 * MINUTE);
	free_outbox_list(&l);

	/* Both due at once, limited to one: the one due earliest. */
	assert_int_equal(store_outbox_claim(f->db, T0 + 10 * MINUTE,
			     T0 + 11 * MINUTE, 1, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-later");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_claim(f->db, T0 + 10 * MINUTE,
			     T0 + 11 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-due");
	assert_int_equal(((struct outbox_msg *)l.items[0])->tries, 3);
	free_outbox_list(&l);

	/* The dropped, sent and dead rows were never claimed. */
	m = outbox_find(f, "m-sent");
	assert_non_null(m);
	assert_int_equal(m->tries, 0);
	assert_int_equal(m->next_try_at, T0 - 30);
	outbox_msg_free(m);
	assert_int_equal(query_int(f->c,
			     "SELECT tries FROM outbox WHERE "
			     "id = 'm-dropped'"),
	    0);
	assert_int_equal(query_int(f->c,
			     "SELECT next_try_at FROM outbox WHERE "
			     "id = 'm-dropped'"),
	    T0 - 20);
	assert_int_equal(query_int(f->c,
			     "SELECT tries FROM outbox WHERE "
			     "id = 'm-dead'"),
	    0);
}

static void
test_outbox_sent_failed(void **state)
{
	struct fixture *f = *state;
	struct store_list l;
	struct outbox_msg *m;

	add_project(f->c, "p-a", "A", T0);
	add_outbox(f->c, "m-1", "pending", T0, T0);
	add_outbox(f->c, "m-2", "pending", T0, T0 + 1);
	add_outbox(f->c, "m-3", "pending", T0, T0 + 2);
	assert_int_equal(store_outbox_claim(f->db, T0, T0 + MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 3);
	free_outbox_list(&l);

	/* Sent: the payload is forgotten. */
	assert_int_equal(store_outbox_sent(f->c, "m-1", T0 + 5), 0);
	m = outbox_find(f, "m-1");
	assert_non_null(m);
	assert_string_equal(m->state, "sent");
	assert_null(m->payload);
	assert_int_equal(m->sent_at, T0 + 5);
	assert_null(m->last_error);
	assert_int_equal(m->tries, 1);
	outbox_msg_free(m);

	/* Failed for good: dead, error kept, never claimed again. */
	assert_int_equal(store_outbox_failed(f->c, "m-3", "550 no such user",
			     -1, 1),
	    0);
	m = outbox_find(f, "m-3");
	assert_non_null(m);
	assert_string_equal(m->state, "dead");
	assert_string_equal(m->last_error, "550 no such user");
	/* Kept, so that an operator can retry it (resetd outbox retry). */
	assert_non_null(m->payload);
	assert_int_equal(m->sent_at, 0);
	outbox_msg_free(m);

	/* Failed with a retry time: still pending, due then, error kept. */
	/* A sender whose claim is stale (tries moved on) changes nothing. */
	assert_int_equal(store_outbox_failed(f->c, "m-2", "stale sender", -1,
			     0),
	    0);
	m = outbox_find(f, "m-2");
	assert_string_equal(m->state, "pending");
	assert_null(m->last_error);
	outbox_msg_free(m);
	assert_int_equal(store_outbox_failed(f->c, "m-2", "451 try later",
			     T0 + 30 * MINUTE, 1),
	    0);
	m = outbox_find(f, "m-2");
	assert_non_null(m);
	assert_string_equal(m->state, "pending");
	assert_string_equal(m->last_error, "451 try later");
	assert_int_equal(m->next_try_at, T0 + 30 * MINUTE);
	assert_non_null(m->payload);
	assert_int_equal(m->sent_at, 0);
	outbox_msg_free(m);
	assert_int_equal(store_outbox_claim(f->db, T0 + 30 * MINUTE - 1,
			     T0 + 40 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 0);
	free_outbox_list(&l);
	assert_int_equal(store_outbox_claim(f->db, T0 + 30 * MINUTE,
			     T0 + 40 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	m = l.items[0];
	assert_string_equal(m->id, "m-2");
	assert_int_equal(m->tries, 2);
	/* The error was the last try's; a leased message has none. */
	assert_null(m->last_error);
	free_outbox_list(&l);
	/* Then sent: the old error goes. */
	assert_int_equal(store_outbox_sent(f->c, "m-2", T0 + 31 * MINUTE), 0);
	m = outbox_find(f, "m-2");
	assert_string_equal(m->state, "sent");
	assert_null(m->last_error);
	outbox_msg_free(m);


	/* Nothing is left to claim, ever. */
	assert_int_equal(store_outbox_claim(f->db, T0 + 1000 * MINUTE,
			     T0 + 1001 * MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 0);
	free_outbox_list(&l);

	/* Marking a dead or sent message changes nothing. */
	assert_int_equal(store_outbox_sent(f->c, "m-3", T0 + 99), 0);
	assert_int_equal(store_outbox_failed(f->c, "m-1", "late error", T0 + 99,
			     1),
	    0);
	m = outbox_find(f, "m-3");
	assert_string_equal(m->state, "dead");
	assert_int_equal(m->sent_at, 0);
	outbox_msg_free(m);
	m = outbox_find(f, "m-1");
	assert_string_equal(m->state, "sent");
	assert_null(m->last_error);
	assert_int_equal(m->sent_at, T0 + 5);
	outbox_msg_free(m);
}

/*
 * Hastening after the relay came back: only messages waiting on the
 * backoff of a failed try are made due, the soonest first, never a leased
 * one (its sender is at work on it), nor a dead, sent or dropped one.
 */
static void
test_outbox_hasten(void **state)
{
	struct fixture *f = *state;
	struct store_list l;
	struct outbox_msg *m;
	const char *waiting[] = { "m-w1", "m-w2", "m-w3" };
	const int64_t now = T0 + MINUTE + 1;
	int i;

	add_project(f->c, "p-a", "A", T0);
	for (i = 0; i < 3; i++)
		add_outbox(f->c, waiting[i], "pending", T0, T0 + i);
	add_outbox(f->c, "m-inflight", "pending", T0, T0 + 10);
	add_outbox(f->c, "m-dead", "dead", T0, T0 + 11);
	add_outbox(f->c, "m-dropped", "dropped", T0 + 5 * MINUTE, T0 + 12);
	add_outbox(f->c, "m-fresh", "pending", T0 + 5 * MINUTE, T0 + 13);
	/* Every due one claimed and failed, backoffs ending apart. */
	assert_int_equal(store_outbox_claim(f->db, T0, T0 + MINUTE, 10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 4);
	free_outbox_list(&l);
	for (i = 0; i < 3; i++)
		assert_int_equal(store_outbox_failed(f->c, waiting[i],
				     "smtp: Couldn't connect to server",
				     T0 + (30 - i) * MINUTE, 1),
		    0);
	assert_int_equal(store_outbox_failed(f->c, "m-inflight", "421 busy",
			     T0 + MINUTE, 1),
	    0);
	/* Its backoff over, m-inflight is claimed again: its sender is at it. */
	assert_int_equal(store_outbox_claim(f->db, T0 + MINUTE, T0 + 2 * MINUTE,
			     10, &l),
	    STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id,
	    "m-inflight");
	free_outbox_list(&l);

	/* Two at most, the soonest due first; the error stays. */
	assert_int_equal(store_outbox_hasten(f->db, now, 2), 2);
	m = outbox_find(f, "m-w3");
	assert_int_equal(m->next_try_at, now);
	assert_string_equal(m->last_error, "smtp: Couldn't connect to server");
	outbox_msg_free(m);
	m = outbox_find(f, "m-w2");
	assert_int_equal(m->next_try_at, now);
	outbox_msg_free(m);
	m = outbox_find(f, "m-w1");
	assert_int_equal(m->next_try_at, T0 + 30 * MINUTE);
	outbox_msg_free(m);
	/* Then the last one waiting; nothing else is. */
	assert_int_equal(store_outbox_hasten(f->db, now, 100), 1);
	m = outbox_find(f, "m-w1");
	assert_int_equal(m->next_try_at, now);
	outbox_msg_free(m);
	assert_int_equal(store_outbox_hasten(f->db, now, 100), 0);
	m = outbox_find(f, "m-inflight");
	assert_int_equal(m->next_try_at, T0 + 2 * MINUTE);
	assert_int_equal(m->tries, 2);
	outbox_msg_free(m);
	m = outbox_find(f, "m-fresh");
	assert_int_equal(m->next_try_at, T0 + 5 * MINUTE);
	outbox_msg_free(m);
	assert_int_equal(query_int(f->c,
			     "SELECT next_try_at FROM outbox WHERE "
			     "id = 'm-dropped'"),
	    T0 + 5 * MINUTE);
	m = outbox_find(f, "m-dead");
	assert_string_equal(m->state, "dead");
	assert_int_equal(m->next_try_at, T0);
	outbox_msg_free(m);

	/* Claimed, so leased: a hasten leaves them to their senders. */
	assert_int_equal(store_outbox_claim(f->db, now, T0 + 3 * MINUTE, 10,
			     &l),
	    STORE_OK);
	assert_int_equal(l.n, 3);
	free_outbox_list(&l);
	assert_int_equal(store_outbox_hasten(f->db, now + 1, 100), 0);
	m = outbox_find(f, "m-w2");
	assert_int_equal(m->next_try_at, T0 + 3 * MINUTE);
	outbox_msg_free(m);
}

static void
test_outbox_list(void **state)
{
	struct fixture *f = *state;
	struct store_list l;

	add_project(f->c, "p-a", "A", T0);
	add_outbox(f->c, "m-1", "pending", T0, T0 + 1);
	add_outbox(f->c, "m-2", "sent", T0, T0 + 2);
	add_outbox(f->c, "m-3", "pending", T0, T0 + 3);
	add_outbox(f->c, "m-4", "dead", T0, T0 + 4);
	add_outbox(f->c, "m-5", "dropped", T0, T0 + 5);

	assert_int_equal(store_outbox_list(f->c, "pending", 10, &l), STORE_OK);
	assert_int_equal(l.n, 2);
	/* Newest first. */
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-3");
	assert_string_equal(((struct outbox_msg *)l.items[1])->id, "m-1");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_list(f->c, "pending", 1, &l), STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-3");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_list(f->c, "dead", 10, &l), STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-4");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_list(f->c, "dropped", 10, &l), STORE_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-5");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_list(f->c, "nonsense", 10, &l), STORE_OK);
	assert_int_equal(l.n, 0);
	free_outbox_list(&l);

	/* Without a state: every real message, the dropped decoys left out. */
	assert_int_equal(store_outbox_list(f->c, NULL, 10, &l), STORE_OK);
	assert_int_equal(l.n, 4);
	assert_string_equal(((struct outbox_msg *)l.items[0])->id, "m-4");
	assert_string_equal(((struct outbox_msg *)l.items[1])->id, "m-3");
	assert_string_equal(((struct outbox_msg *)l.items[2])->id, "m-2");
	assert_string_equal(((struct outbox_msg *)l.items[3])->id, "m-1");
	free_outbox_list(&l);
	assert_int_equal(store_outbox_list(f->c, NULL, 2, &l), STORE_OK);
	assert_int_equal(l.n, 2);
	free_outbox_list(&l);
}

struct tx {
	int ret; /* what the function returns after inserting */
	int rc;	 /* what the inserts returned */
};

static int
insert_then(struct db_conn *c, void *arg)
{
	struct tx *t = arg;
	struct project p = {
		.id = "p-tx",
		.name = "Tx",
		.callback_urls = "",
		.allowed_origins = "",
		.token_ttl = 60,
		.delivery = "link",
		.created_at = T0,
	};

	t->rc = store_project_insert(c, &p);
	if (t->rc != STORE_OK)
		return t->rc;
	t->rc = add_user(c, "u-tx", "p-tx", "tx@example.com", NULL, T0);
	if (t->rc != STORE_OK)
		return t->rc;
	return t->ret;
}

/* Inserts a user, then a duplicate of it: the constraint aborts all. */
static int
insert_dup(struct db_conn *c, void *arg)
{
	struct tx *t = arg;

	t->rc = add_user(c, "u-new", "p-a", "new@example.com", NULL, T0);
	if (t->rc != STORE_OK)
		return t->rc;
	t->rc = add_user(c, "u-dup", "p-a", "NEW@example.com", NULL, T0);
	return t->rc;
}

static void
test_write_rollback(void **state)
{
	struct fixture *f = *state;
	struct project *p = NULL;
	struct user *u = NULL;
	struct tx t = { 1, -99 };
	int64_t n;

	/* A function that inserts and then returns 1 leaves nothing. */
	assert_int_equal(db_write(f->db, insert_then, &t), 1);
	assert_int_equal(t.rc, STORE_OK);
	assert_int_equal(store_project_get(f->c, "p-tx", &p), STORE_NOT_FOUND);
	assert_int_equal(store_project_count(f->c, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM users"), 0);

	/* Any other nonzero value is passed back as is. */
	t.ret = 42;
	assert_int_equal(db_write(f->db, insert_then, &t), 42);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM users"), 0);

	/* Returning 0 commits both rows. */
	t.ret = 0;
	assert_int_equal(db_write(f->db, insert_then, &t), 0);
	assert_int_equal(store_project_get(f->c, "p-tx", &p), STORE_OK);
	project_free(p);
	assert_int_equal(store_user_get(f->c, "p-tx", "u-tx", &u), STORE_OK);
	user_free(u);

	/* A constraint failure part way rolls back the first insert too. */
	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(db_write(f->db, insert_dup, &t), DB_CONSTRAINT);
	assert_int_equal(t.rc, DB_CONSTRAINT);
	u = NULL;
	assert_int_equal(store_user_get(f->c, "p-a", "u-new", &u),
	    STORE_NOT_FOUND);
	assert_null(u);
	/* And the writer is usable afterwards. */
	t.ret = 0;
	assert_int_equal(db_write(f->db, insert_then, &t), DB_CONSTRAINT);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM users"), 1);
}

#define NTHREADS 6
#define NMSGS 120

struct claimer {
	struct db *db;
	char *seen[NMSGS];
	int n;
	int rc;
};

static void *
claimer_main(void *arg)
{
	struct claimer *cl = arg;
	struct store_list l;
	struct outbox_msg *m;
	size_t i;

	for (;;) {
		cl->rc = store_outbox_claim(cl->db, T0, T0 + MINUTE, 7, &l);
		if (cl->rc != STORE_OK || l.n == 0) {
			if (cl->rc == STORE_OK)
				free_outbox_list(&l);
			return NULL;
		}
		for (i = 0; i < l.n; i++) {
			m = l.items[i];
			if (cl->n < NMSGS)
				cl->seen[cl->n] = strdup(m->id);
			cl->n++;
		}
		free_outbox_list(&l);
	}
}

/* Senders claiming at once never get the same message. */
static void
test_outbox_claim_concurrent(void **state)
{
	struct fixture *f = *state;
	struct claimer cl[NTHREADS];
	pthread_t t[NTHREADS];
	char *all[NMSGS], id[32];
	int i, j, total = 0;

	add_project(f->c, "p-a", "A", T0);
	for (i = 0; i < NMSGS; i++) {
		snprintf(id, sizeof(id), "m-%03d", i);
		add_outbox(f->c, id, "pending", T0 - i, T0);
	}
	memset(cl, 0, sizeof(cl));
	for (i = 0; i < NTHREADS; i++) {
		cl[i].db = f->db;
		assert_int_equal(pthread_create(&t[i], NULL, claimer_main,
				     &cl[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(cl[i].rc, STORE_OK);
		assert_true(total + cl[i].n <= NMSGS);
		for (j = 0; j < cl[i].n; j++)
			all[total++] = cl[i].seen[j];
	}
	assert_int_equal(total, NMSGS);
	qsort(all, NMSGS, sizeof(*all), unit_strcmp_p);
	for (i = 0; i < NMSGS; i++) {
		snprintf(id, sizeof(id), "m-%03d", i);
		assert_string_equal(all[i], id);
	}
	for (i = 0; i < NMSGS; i++)
		free(all[i]);
	assert_int_equal(query_int(f->c,
			     "SELECT COUNT(*) FROM outbox WHERE tries = 1"),
	    NMSGS);
}

struct consumer {
	struct db *db;
	int rc;
};

static int
consume_tx(struct db_conn *c, void *arg)
{
	struct consumer *co = arg;
	int rc = store_secret_consume(c, "s-1", T0 + 1);

	if (rc < 0)
		return rc;
	co->rc = rc;
	return 0;
}

static void *
consumer_main(void *arg)
{
	struct consumer *co = arg;
	struct db_conn *c;

	/* Half in a write transaction, half on a pooled connection. */
	if (co->rc == 0) {
		co->rc = -100;
		if (db_write(co->db, consume_tx, co) != 0)
			co->rc = -101;
		return NULL;
	}
	c = db_acquire(co->db);
	co->rc = c != NULL ? store_secret_consume(c, "s-1", T0 + 1) : -102;
	db_release(co->db, c);
	return NULL;
}

/* However many callers race for one secret, exactly one consumes it. */
static void
test_secret_consume_concurrent(void **state)
{
	struct fixture *f = *state;
	struct consumer co[NTHREADS];
	pthread_t t[NTHREADS];
	int i, won = 0;

	add_project(f->c, "p-a", "A", T0);
	assert_int_equal(add_user(f->c, "u-1", "p-a", "a@example.com", NULL,
			     T0),
	    STORE_OK);
	assert_int_equal(add_secret(f->c, "s-1", "p-a", "u-1", "hash-1",
			     T0 + MINUTE),
	    STORE_OK);
	for (i = 0; i < NTHREADS; i++) {
		co[i].db = f->db;
		co[i].rc = i % 2;
		assert_int_equal(pthread_create(&t[i], NULL, consumer_main,
				     &co[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(co[i].rc == 0 || co[i].rc == 1);
		won += co[i].rc;
	}
	assert_int_equal(won, 1);
}

#define START_ROUNDS 3

struct starter {
	const char *url;
	pthread_barrier_t *go;
	char value[32];
	char *got;
	int rc;
};

static void *
starter_main(void *arg)
{
	struct starter *st = arg;
	struct db *db;

	pthread_barrier_wait(st->go);
	st->rc = db_open(st->url, 2, &db);
	if (st->rc != 0)
		return NULL;
	st->rc = store_migrate(db);
	if (st->rc == 0)
		st->rc = store_setting_get_or_put(db, "server_secret",
		    st->value, &st->got);
	db_close(db);
	return NULL;
}

/*
 * Instances starting at once on one new database all start (they race to
 * make its schema, and on SQLite to switch it to WAL; see
 * test_open_sqlite_while_locked), and agree on one setting.  A few rounds,
 * each on a new database, the instances released together.
 */
static void
test_setting_concurrent_starts(void **state)
{
	struct fixture *f = *state;
	struct starter st[NTHREADS];
	pthread_t t[NTHREADS];
	pthread_barrier_t go;
	int i, round, ok;

	for (round = 0; round < START_ROUNDS; round++) {
		unit_db_make(&f->fresh, f->udb.kind);
		assert_int_equal(pthread_barrier_init(&go, NULL, NTHREADS), 0);
		for (i = 0; i < NTHREADS; i++) {
			st[i].url = f->fresh.url;
			st[i].go = &go;
			snprintf(st[i].value, sizeof(st[i].value), "value-%d",
			    i);
			st[i].got = NULL;
			assert_int_equal(pthread_create(&t[i], NULL,
					     starter_main, &st[i]),
			    0);
		}
		for (i = 0; i < NTHREADS; i++)
			assert_int_equal(pthread_join(t[i], NULL), 0);
		pthread_barrier_destroy(&go);
		ok = 1;
		for (i = 0; i < NTHREADS; i++) {
			if (st[i].rc != STORE_OK || st[i].got == NULL ||
			    st[0].got == NULL || strcmp(st[i].got, st[0].got))
				ok = 0;
		}
		for (i = 0; i < NTHREADS; i++) {
			if (!ok)
				print_error("round %d, starter %d: rc %d, "
					    "setting %s\n",
				    round, i, st[i].rc,
				    st[i].got != NULL ? st[i].got : "(none)");
			free(st[i].got);
		}
		assert_true(ok);
		unit_db_drop(&f->fresh);
	}
}

struct backoff_try {
	const char *subject;
	int64_t now, forget_before, hold_until;
	int64_t failures, until;
	int clear;
};

static int
backoff_try_tx(struct db_conn *c, void *arg)
{
	struct backoff_try *b = arg;
	int rc;

	if (b->clear)
		return store_backoff_clear(c, b->subject) < 0 ? -1 : 0;
	rc = store_backoff_count(c, b->subject, b->now, b->forget_before,
	    &b->failures, &b->until);
	if (rc == STORE_OK && b->hold_until != 0)
		rc = store_backoff_hold(c, b->subject, b->hold_until);
	return rc;
}

/* Count one try of subject at now; return the failures counted. */
static int64_t
backoff_try(struct db *db, const char *subject, int64_t now, int64_t hold,
    int64_t *until)
{
	struct backoff_try b = { subject, now, now - 1440 * MINUTE, hold, -1,
		-1, 0 };

	assert_int_equal(db_write(db, backoff_try_tx, &b), 0);
	*until = b.until;
	return b.failures;
}

/*
 * The sign-in back-off's count: one more per try, none while held, from
 * one again after a quiet day or a success; prune keeps held rows.
 */
static void
test_login_backoff(void **state)
{
	struct fixture *f = *state;
	struct backoff_try clear = { "s1", 0, 0, 0, 0, 0, 1 };
	int64_t until;

	assert_int_equal(backoff_try(f->db, "s1", T0, 0, &until), 1);
	assert_int_equal(until, 0);
	assert_int_equal(backoff_try(f->db, "s1", T0 + 1, 0, &until), 2);
	/* The third try sets a hold of a minute... */
	assert_int_equal(backoff_try(f->db, "s1", T0 + 2, T0 + MINUTE, &until),
	    3);
	/* ...during which tries are refused and not counted. */
	assert_int_equal(backoff_try(f->db, "s1", T0 + 3, 0, &until), 3);
	assert_int_equal(until, T0 + MINUTE);
	assert_int_equal(backoff_try(f->db, "s1", T0 + MINUTE - 1, 0, &until),
	    3);
	assert_int_equal(until, T0 + MINUTE);
	/* After it, counted again, the hold cleared until set anew. */
	assert_int_equal(backoff_try(f->db, "s1", T0 + MINUTE, 0, &until), 4);
	assert_int_equal(until, 0);
	/* Another subject has its own count. */
	assert_int_equal(backoff_try(f->db, "s2", T0 + MINUTE, 0, &until), 1);
	/* A quiet day forgets. */
	assert_int_equal(backoff_try(f->db, "s1", T0 + 1442 * MINUTE, 0,
			     &until),
	    1);
	/* A success forgets. */
	assert_int_equal(backoff_try(f->db, "s1", T0 + 1443 * MINUTE, 0,
			     &until),
	    2);
	assert_int_equal(db_write(f->db, backoff_try_tx, &clear), 0);
	assert_int_equal(backoff_try(f->db, "s1", T0 + 1444 * MINUTE, 0,
			     &until),
	    1);
	/* Pruning drops the quiet rows alone. */
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM login_backoff"),
	    2);
	assert_int_equal(store_backoff_prune(f->c, T0 + 1000 * MINUTE), 1);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM login_backoff"),
	    1);
}

/* Take from the n buckets at now; return the wait in ms (0: taken). */
static int64_t
rate_try(struct db *db, const struct store_rate_bucket *b, int n, int64_t now,
    int *first)
{
	int64_t wait = -1;

	*first = -1;
	assert_int_equal(store_rate_take(db, b, n, now, 0, &wait, first),
	    STORE_OK);
	return wait;
}

/*
 * Shared token buckets: a refill per ms, all or nothing over the buckets
 * of one take, the first refusal of a run flagged once, idle rows pruned.
 */
static void
test_rate_buckets(void **state)
{
	struct fixture *f = *state;
	/* 2 per 10 s for "host", 3 per 10 s for "net": 0.2 and 0.3 per s. */
	const struct store_rate_bucket b[2] = {
		{ "host", 2 * STORE_RATE_UNIT, 10000,
		    2 * STORE_RATE_UNIT / 10000 },
		{ "net", 3 * STORE_RATE_UNIT, 10000,
		    3 * STORE_RATE_UNIT / 10000 },
	};
	struct store_rate_bucket both[2];
	int64_t wait;
	int first;

	assert_int_equal(rate_try(f->db, b, 2, T0, &first), 0);
	assert_int_equal(rate_try(f->db, b, 2, T0, &first), 0);
	/* host is empty: 5 s to its next token; flagged once. */
	assert_int_equal(rate_try(f->db, b, 2, T0, &first), 5000);
	assert_int_equal(first, 1);
	assert_int_equal(rate_try(f->db, b, 2, T0 + 1000, &first), 4000);
	assert_int_equal(first, 0);
	/* Refused takes spent nothing of net: one token left there. */
	both[0] = b[0];
	both[0].key = "other";
	both[1] = b[1];
	assert_int_equal(rate_try(f->db, both, 2, T0 + 1000, &first), 0);
	/* Now net is empty too (0.3 refilled): the wait is the longer. */
	assert_int_equal(rate_try(f->db, both, 2, T0 + 1000, &first), 2334);
	assert_int_equal(first, 1);
	/* ...and "other" got its token back: it has one, not none. */
	assert_int_equal(query_int(f->c,
			     "SELECT tokens FROM rate_buckets "
			     "WHERE key = 'other'"),
	    STORE_RATE_UNIT);
	/* Refilled by time; a clock that goes back refills nothing. */
	assert_int_equal(rate_try(f->db, b, 2, T0 + 6000, &first), 0);
	assert_int_equal(rate_try(f->db, b, 2, T0 + 5000, &first) > 0, 1);
	/* Idle for a window: full again. */
	assert_int_equal(rate_try(f->db, b, 1, T0 + 16000, &first), 0);
	assert_int_equal(rate_try(f->db, b, 1, T0 + 16000, &first), 0);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM rate_buckets"),
	    3);
	/*
	 * A take that prunes first: the rows idle since before T0 + 10 s
	 * (net, other) go, and net comes back as a full bucket.
	 */
	assert_int_equal(store_rate_take(f->db, b + 1, 1, T0 + 16001,
			     T0 + 10000, &wait, &first),
	    STORE_OK);
	assert_int_equal(wait, 0);
	assert_int_equal(query_int(f->c, "SELECT COUNT(*) FROM rate_buckets"),
	    2);
	assert_int_equal(query_int(f->c,
			     "SELECT tokens FROM rate_buckets "
			     "WHERE key = 'net'"),
	    2 * STORE_RATE_UNIT);
}

/*
 * The tests every database runs, with their names in each group.  Not
 * among them: test_open_errors, which opens no database, and
 * test_open_sqlite_while_locked, which is about SQLite's journal mode.
 */
#define STORE_TEST(fn) \
	{ \
#fn, #fn " on postgres", fn \
	}

static const struct store_test {
	const char *name;    /* on SQLite */
	const char *pg_name; /* on PostgreSQL */
	CMUnitTestFunction fn;
} store_tests[] = {
	STORE_TEST(test_migrate),
	STORE_TEST(test_migrate_gap),
	STORE_TEST(test_migrate_outbox_sender),
	STORE_TEST(test_settings),
	STORE_TEST(test_projects),
	STORE_TEST(test_users),
	STORE_TEST(test_user_pages_status_delete),
	STORE_TEST(test_user_email_wins),
	STORE_TEST(test_user_updates),
	STORE_TEST(test_secrets),
	STORE_TEST(test_limit_counts),
	STORE_TEST(test_sessions),
	STORE_TEST(test_outbox_claim),
	STORE_TEST(test_outbox_sent_failed),
	STORE_TEST(test_outbox_hasten),
	STORE_TEST(test_outbox_list),
	STORE_TEST(test_write_rollback),
	STORE_TEST(test_outbox_claim_concurrent),
	STORE_TEST(test_secret_consume_concurrent),
	STORE_TEST(test_setting_concurrent_starts),
	STORE_TEST(test_login_backoff),
	STORE_TEST(test_rate_buckets),
};
#define NSTORE_TESTS (sizeof(store_tests) / sizeof(store_tests[0]))

/* Stands in for each test of a database that cannot be reached. */
static void
test_skipped(void **state)
{
	(void)state;
	skip();
}

/* Run every store test on a fresh database of kind; the failures. */
static int
run_on(const char *kind)
{
	struct CMUnitTest t[NSTORE_TESTS];
	int pg = strcmp(kind, "postgres") == 0;
	int reachable = !pg || unit_pg_base() != NULL;
	size_t i;

	if (!reachable)
		fprintf(stderr,
		    "store on postgres: skipped, %s is not set (a "
		    "cluster's base URL; tests/run starts one and sets it)\n",
		    UNIT_PG_ENV);
	for (i = 0; i < NSTORE_TESTS; i++) {
		t[i] = (struct CMUnitTest){
			.name = pg ? store_tests[i].pg_name :
				     store_tests[i].name,
			.test_func = reachable ? store_tests[i].fn :
						 test_skipped,
			.setup_func = reachable ? setup : NULL,
			.teardown_func = reachable ? teardown : NULL,
			.initial_state = (void *)kind,
		};
	}
	return _cmocka_run_group_tests(pg ? "store on postgres" :
					    "store on sqlite",
	    t, NSTORE_TESTS, pg && reachable ? unit_pg_begin : NULL,
	    pg && reachable ? unit_pg_end : NULL);
}

int
main(void)
{
	const struct CMUnitTest once[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_sqlite_while_locked),
	};
	int failed;

	if (sodium_init() < 0)
		return 1;
	failed = cmocka_run_group_tests_name("store", once, NULL, NULL);
	failed += run_on("sqlite");
	failed += run_on("postgres");
	return failed != 0;
}
