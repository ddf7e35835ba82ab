/*
 * Typed operations over the db interface.  Each record kind has its column
 * list and a function that reads one row into a struct; every statement is
 * a static string, so drivers can cache its prepared form by address.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "store.h"
#include "store_internal.h"

static void
list_push(struct store_list *l, void *item)
{
	l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n++] = item;
}

void
store_list_free(struct store_list *l, void (*fn)(void *))
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fn(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int64_t
int_or_zero(struct db_rows *r, int col)
{
	return db_is_null(r, col) ? 0 : db_int(r, col);
}

/*
 * Run a query expected to yield at most one row, read by fn into *out.
 */
static int
query_one(struct db_conn *c, const char *sql, const struct db_value *v, int n,
    void *(*fn)(struct db_rows *), void **out)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c, sql, v, n, &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*out = fn(r);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = STORE_NOT_FOUND;
	db_done(r);
	return rc;
}

static int
query_list(struct db_conn *c, const char *sql, const struct db_value *v, int n,
    void *(*fn)(struct db_rows *), struct store_list *out)
{
	struct db_rows *r;
	struct store_list l = { NULL, 0 };
	int rc;

	rc = db_query(c, sql, v, n, &r);
	if (rc < 0)
		return rc;
	while ((rc = db_next(r)) == 1)
		list_push(&l, fn(r));
	db_done(r);
	if (rc < 0) {
		free(l.items);
		return rc;
	}
	*out = l;
	return STORE_OK;
}

/* Write changes count as STORE_OK, a failure as itself. */
static int
exec_ok(int rc)
{
	return rc < 0 ? rc : STORE_OK;
}

/* Run a query whose one row holds one integer, into *out. */
static int
query_count(struct db_conn *c, const char *sql, const struct db_value *v, int n,
    int64_t *out)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c, sql, v, n, &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_int(r, 0);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = DB_ERROR;
	db_done(r);
	return rc;
}

int
store_ping(struct db_conn *c)
{
	return exec_ok(db_exec(c, "SELECT 1", DB_NOARGS));
}

/*
 * The probe write: one row of settings, rewritten with the time, so that
 * the transaction really writes (a failing disk or a read-only database
 * refuses it) and the table does not grow.
 */
static int
write_probe_tx(struct db_conn *c, void *arg)
{
	char value[32];

	snprintf(value, sizeof(value), "%lld", (long long)*(int64_t *)arg);
	return exec_ok(db_exec(c,
	    "INSERT INTO settings (key, value) VALUES "
	    "('write_probe', $1) ON CONFLICT (key) DO UPDATE SET value = "
	    "excluded.value",
	    DB_ARGS(DB_TEXT(value))));
}

int
store_write_check(struct db *db)
{
	int64_t now;

	if (!db_write_suspect(db))
		return STORE_OK;
	now = time_now_ms();
	return db_write_probe(db, write_probe_tx, &now) == 0 ? STORE_OK :
							       DB_ERROR;
}

/* settings */

int
store_setting_get_or_put(struct db *db, const char *key, const char *value,
    char **out)
{
	struct db_conn *c;
	struct db_rows *r;
	int rc;

	c = db_acquire(db);
	if (c == NULL)
		return DB_ERROR;
	rc = db_exec(c,
	    "INSERT INTO settings (key, value) VALUES ($1, $2) "
	    "ON CONFLICT (key) DO NOTHING",
	    DB_ARGS(DB_TEXT(key), DB_TEXT(value)));
	if (rc < 0)
		goto out;
	rc = db_query(c, "SELECT value FROM settings WHERE key = $1",
	    DB_ARGS(DB_TEXT(key)), &r);
	if (rc < 0)
		goto out;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_strdup(r, 0);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = log_fail("store: setting %s vanished", key);
	db_done(r);
out:
	db_release(db, c);
	return rc;
}

int
store_setting_get(struct db *db, const char *key, char **out)
{
	struct db_conn *c;
	struct db_rows *r;
	int rc;

	c = db_acquire(db);
	if (c == NULL)
		return DB_ERROR;
	rc = db_query(c, "SELECT value FROM settings WHERE key = $1",
	    DB_ARGS(DB_TEXT(key)), &r);
	if (rc < 0)
		goto out;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_strdup(r, 0);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = STORE_NOT_FOUND;
	db_done(r);
out:
	db_release(db, c);
	return rc;
}

static int
setting_delete_tx(struct db_conn *c, void *arg)
{
	return exec_ok(db_exec(c, "DELETE FROM settings WHERE key = $1",
	    DB_ARGS(DB_TEXT(arg))));
}

int
store_setting_delete(struct db *db, const char *key)
{
	struct db_conn *c;
	int rc;

	rc = db_write(db, setting_delete_tx, (void *)key);
	if (rc != STORE_OK || strcmp(db_dialect(db), "sqlite") != 0)
		return rc;
	/*
	 * The WAL still holds the page as it was before the delete, and
	 * frames past its end are not erased by a plain checkpoint.
	 */
	c = db_acquire(db);
	if (c == NULL)
		return DB_ERROR;
	rc = db_script(c, "PRAGMA wal_checkpoint(TRUNCATE)");
	db_release(db, c);
	return rc;
}

/* migrations */

/*
 * Instances that start at once on one PostgreSQL database each run their
 * migrations; a transaction-scoped advisory lock, taken first, makes them
 * take turns, so the second finds the work done.  (Without it, two
 * CREATE TABLE IF NOT EXISTS can both try and one fail.)  SQLite's write
 * transaction is exclusive already.  The key is "resetd" in ASCII.
 */
static const char migrate_lock_postgres[] =
    "SELECT pg_advisory_xact_lock(125780053292132)";

/* 1 when version is recorded as applied, 0 when not, or DB_ERROR. */
static int
migration_applied(struct db_conn *c, int version)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c, "SELECT 1 FROM schema_migrations WHERE version = $1",
	    DB_ARGS(DB_INT(version)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	db_done(r);
	return rc;
}

/*
 * Apply every listed migration that is not recorded, in list order.  Each
 * version is looked up by itself rather than compared with the highest
 * one applied: branches developed in parallel number their migrations
 * apart (a database made by one branch may have 6 without 5), and the
 * merged binary must still apply the one it lacks.
 */
static int
migrate_tx(struct db_conn *c, void *arg)
{
	struct db *db = arg;
	const struct migration *m;
	const char *sql;
	int rc;

	if (strcmp(db_dialect(db), "postgres") == 0) {
		rc = db_exec(c, migrate_lock_postgres, DB_NOARGS);
		if (rc < 0)
			return rc;
	}
	rc = db_script(c,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
	    "applied_at BIGINT NOT NULL)");
	if (rc < 0)
		return rc;
	for (m = store_migrations; m->version != 0; m++) {
		rc = migration_applied(c, m->version);
		if (rc < 0)
			return rc;
		if (rc == 1)
			continue;
		sql = m->sql;
		if (strcmp(db_dialect(db), "sqlite") == 0 && m->sql_sqlite)
			sql = m->sql_sqlite;
		if (strcmp(db_dialect(db), "postgres") == 0 && m->sql_postgres)
			sql = m->sql_postgres;
		rc = db_script(c, sql);
		if (rc < 0)
			return rc;
		rc = db_exec(c,
		    "INSERT INTO schema_migrations (version, name, "
		    "applied_at) VALUES ($1, $2, $3)",
		    DB_ARGS(DB_INT(m->version), DB_TEXT(m->name),
			DB_INT(time_now_ms())));
		if (rc < 0)
			return rc;
		log_info("store: applied migration %d (%s)", m->version,
		    m->name);
	}
	return 0;
}

int
store_migrate(struct db *db)
{
	return db_write(db, migrate_tx, db);
}

/* projects */

#define PROJECT_COLS \
	"id, name, callback_urls, allowed_origins, reset_url, " \
	"token_ttl, delivery, created_at, send_reset_emails, mail_from, " \
	"mail_from_name, locale, unknown_account_notice, logo_url, accent_color, " \
	"reset_limit_per_hour, mail_budget_per_hour, password_min_length, " \
	"password_min_score, notice_limit_per_hour, notice_share_percent, " \
	"login_token_ttl, password_profile, password_checks, user_storage, " \
	"storage_lookup_url, storage_verify_url, storage_password_url, " \
	"storage_new_user_url, storage_password_format, storage_timeout_ms, " \
	"allow_private_targets"

static void *
project_read(struct db_rows *r)
{
	struct project *p = xcalloc(1, sizeof(*p));

	p->id = db_strdup(r, 0);
	p->name = db_strdup(r, 1);
	p->callback_urls = db_strdup(r, 2);
	p->allowed_origins = db_strdup(r, 3);
	p->reset_url = db_strdup(r, 4);
	p->token_ttl = db_int(r, 5);
	p->delivery = db_strdup(r, 6);
	p->created_at = db_int(r, 7);
	p->send_reset_emails = db_int(r, 8) != 0;
	p->mail_from = db_strdup(r, 9);
	p->mail_from_name = db_strdup(r, 10);
	p->locale = db_strdup(r, 11);
	p->unknown_account_notice = db_int(r, 12) != 0;
	p->logo_url = db_strdup(r, 13);
	p->accent_color = db_strdup(r, 14);
	p->reset_limit_per_hour = db_int(r, 15);
	p->mail_budget_per_hour = db_int(r, 16);
	p->password_min_length = db_int(r, 17);
	p->password_min_score = db_int(r, 18);
	p->notice_limit_per_hour = db_int(r, 19);
	p->notice_share_percent = db_int(r, 20);
	p->login_token_ttl = db_int(r, 21);
	p->password_profile = db_strdup(r, 22);
	p->password_checks = db_int(r, 23);
	p->user_storage = db_strdup(r, 24);
	p->storage_lookup_url = db_strdup(r, 25);
	p->storage_verify_url = db_strdup(r, 26);
	p->storage_password_url = db_strdup(r, 27);
	p->storage_new_user_url = db_strdup(r, 28);
	p->storage_password_format = db_strdup(r, 29);
	p->storage_timeout_ms = db_int(r, 30);
	p->allow_private_targets = db_int(r, 31) != 0;
	return p;
}

struct project *
project_hold(struct project *p)
{
	__atomic_add_fetch(&p->holds, 1, __ATOMIC_RELAXED);
	return p;
}

void
project_free(struct project *p)
{
	if (p == NULL || __atomic_fetch_sub(&p->holds, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(p->id);
	free(p->name);
	free(p->callback_urls);
	free(p->allowed_origins);
	free(p->reset_url);
	free(p->delivery);
	free(p->mail_from);
	free(p->mail_from_name);
	free(p->locale);
	free(p->logo_url);
	free(p->accent_color);
	free(p->password_profile);
	free(p->user_storage);
	free(p->storage_lookup_url);
	free(p->storage_verify_url);
	free(p->storage_password_url);
	free(p->storage_new_user_url);
	free(p->storage_password_format);
	free(p);
}

/*
 * The values of the user storage columns (user_storage through
 * allow_private_targets), last in both the insert and the update, with
 * what a project that sets none gets: builtin storage, plain passwords,
 * a 3000 ms timeout.
 */
#define PROJECT_STORAGE_ARGS(p) \
	DB_TEXT((p)->user_storage ? (p)->user_storage : "builtin"), \
	    DB_TEXT((p)->storage_lookup_url), \
	    DB_TEXT((p)->storage_verify_url), \
	    DB_TEXT((p)->storage_password_url), \
	    DB_TEXT((p)->storage_new_user_url), \
	    DB_TEXT((p)->storage_password_format ? \
		    (p)->storage_password_format : \
		    "plain"), \
	    DB_INT( \
		(p)->storage_timeout_ms > 0 ? (p)->storage_timeout_ms : 3000), \
	    DB_INT((p)->allow_private_targets != 0)

int
store_project_insert(struct db_conn *c, const struct project *p)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO projects (" PROJECT_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
	    "$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, "
	    "$28, $29, $30, $31, $32)",
	    DB_ARGS(DB_TEXT(p->id), DB_TEXT(p->name), DB_TEXT(p->callback_urls),
		DB_TEXT(p->allowed_origins), DB_TEXT(p->reset_url),
		DB_INT(p->token_ttl), DB_TEXT(p->delivery),
		DB_INT(p->created_at), DB_INT(p->send_reset_emails),
		DB_TEXT(p->mail_from), DB_TEXT(p->mail_from_name),
		DB_TEXT(p->locale), DB_INT(p->unknown_account_notice),
		DB_TEXT(p->logo_url), DB_TEXT(p->accent_color),
		DB_INT(p->reset_limit_per_hour),
		DB_INT(p->mail_budget_per_hour), DB_INT(p->password_min_length),
		DB_INT(p->password_min_score), DB_INT(p->notice_limit_per_hour),
		DB_INT(p->notice_share_percent), DB_INT(p->login_token_ttl),
		DB_TEXT(p->password_profile ? p->password_profile : "nist"),
		DB_INT(p->password_checks), PROJECT_STORAGE_ARGS(p))));
}

int
store_project_update(struct db_conn *c, const struct project *p)
{
	return db_exec(c,
	    "UPDATE projects SET name = $2, callback_urls = $3, "
	    "allowed_origins = $4, reset_url = $5, token_ttl = $6, delivery = $7, "
	    "send_reset_emails = $8, mail_from = $9, mail_from_name = $10, "
	    "locale = $11, unknown_account_notice = $12, logo_url = $13, "
	    "accent_color = $14, reset_limit_per_hour = $15, "
	    "mail_budget_per_hour = $16, password_min_length = $17, "
	    "password_min_score = $18, notice_limit_per_hour = $19, "
	    "notice_share_percent = $20, login_token_ttl = $21, "
	    "password_profile = $22, password_checks = $23, user_storage = $24, "
	    "storage_lookup_url = $25, storage_verify_url = $26, "
	    "storage_password_url = $27, storage_new_user_url = $28, "
	    "storage_password_format = $29, storage_timeout_ms = $30, "
	    "allow_private_targets = $31 WHERE id = $1",
	    DB_ARGS(DB_TEXT(p->id), DB_TEXT(p->name), DB_TEXT(p->callback_urls),
		DB_TEXT(p->allowed_origins), DB_TEXT(p->reset_url),
		DB_INT(p->token_ttl), DB_TEXT(p->delivery),
		DB_INT(p->send_reset_emails), DB_TEXT(p->mail_from),
		DB_TEXT(p->mail_from_name), DB_TEXT(p->locale),
		DB_INT(p->unknown_account_notice), DB_TEXT(p->logo_url),
		DB_TEXT(p->accent_color), DB_INT(p->reset_limit_per_hour),
		DB_INT(p->mail_budget_per_hour), DB_INT(p->password_min_length),
		DB_INT(p->password_min_score), DB_INT(p->notice_limit_per_hour),
		DB_INT(p->notice_share_percent), DB_INT(p->login_token_ttl),
		DB_TEXT(p->password_profile), DB_INT(p->password_checks),
		PROJECT_STORAGE_ARGS(p)));
}

int
store_project_get(struct db_conn *c, const char *id, struct project **out)
{
	return query_one(c,
	    "SELECT " PROJECT_COLS " FROM projects WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), project_read, (void **)out);
}

int
store_project_list(struct db_conn *c, struct store_list *out)
{
	return query_list(c,
	    "SELECT " PROJECT_COLS " FROM projects ORDER BY "
	    "created_at, id",
	    DB_NOARGS, project_read, out);
}

int
store_project_count(struct db_conn *c, int64_t *out)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c, "SELECT COUNT(*) FROM projects", DB_NOARGS, &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_int(r, 0);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = DB_ERROR;
	db_done(r);
	return rc;
}

/* users */

#define USER_COLS \
	"id, project_id, email, username, password_hash, " \
	"email_verified, disabled, locale, first_name, last_name, created_at, " \
	"updated_at, last_sign_in_at, password_change_required, status, " \
	"external_id"

static const char *const user_status_names[USER_STATUS__MAX] = {
	"confirmed",		 /* USER_CONFIRMED */
	"force_change_password", /* USER_FORCE_CHANGE_PASSWORD */
	"reset_required",	 /* USER_RESET_REQUIRED */
};

const char *
user_status_name(enum user_status st)
{
	if (st < 0 || st >= USER_STATUS__MAX)
		abort();
	return user_status_names[st];
}

/* A stored status; one this version does not know reads as confirmed. */
static enum user_status
user_status_of(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < USER_STATUS__MAX; i++)
		if (strcmp(s, user_status_names[i]) == 0)
			return (enum user_status)i;
	return USER_CONFIRMED;
}

static void *
user_read(struct db_rows *r)
{
	struct user *u = xcalloc(1, sizeof(*u));
	char *st;

	u->id = db_strdup(r, 0);
	u->project_id = db_strdup(r, 1);
	u->email = db_strdup(r, 2);
	u->username = db_strdup(r, 3);
	u->password_hash = db_strdup(r, 4);
	u->email_verified = db_int(r, 5) != 0;
	u->disabled = db_int(r, 6) != 0;
	u->locale = db_strdup(r, 7);
	u->first_name = db_strdup(r, 8);
	u->last_name = db_strdup(r, 9);
	u->created_at = db_int(r, 10);
	u->updated_at = db_int(r, 11);
	u->last_sign_in_at = int_or_zero(r, 12);
	/* A temporary password is marked in both columns (migration 14). */
	st = db_strdup(r, 14);
	u->status = db_int(r, 13) != 0 ? USER_FORCE_CHANGE_PASSWORD :
					 user_status_of(st);
	free(st);
	u->external_id = db_strdup(r, 15);
	return u;
}

void
user_free(struct user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->project_id);
	free(u->email);
	free(u->username);
	xfree_secret(u->password_hash);
	free(u->locale);
	free(u->first_name);
	free(u->last_name);
	free(u->external_id);
	free(u);
}

/* The lookup key of an email or username: ASCII lower case. */
static char *
login_key(const char *s)
{
	char *k = xstrdup(s);
	char *p;

	for (p = k; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return k;
}

int
store_user_insert(struct db_conn *c, const struct user *u)
{
	char *email_key = login_key(u->email);
	char *username_key = u->username ? login_key(u->username) : NULL;
	int rc;

	rc = db_exec(c,
	    "INSERT INTO users (id, project_id, email, email_key, "
	    "username, username_key, password_hash, email_verified, disabled, "
	    "locale, first_name, last_name, created_at, updated_at, "
	    "password_change_required, status, external_id) VALUES ($1, $2, $3, "
	    "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
	    DB_ARGS(DB_TEXT(u->id), DB_TEXT(u->project_id), DB_TEXT(u->email),
		DB_TEXT(email_key), DB_TEXT(u->username), DB_TEXT(username_key),
		DB_TEXT(u->password_hash), DB_INT(u->email_verified),
		DB_INT(u->disabled), DB_TEXT(u->locale), DB_TEXT(u->first_name),
		DB_TEXT(u->last_name), DB_INT(u->created_at),
		DB_INT(u->updated_at),
		DB_INT(u->status == USER_FORCE_CHANGE_PASSWORD),
		DB_TEXT(user_status_name(u->status)), DB_TEXT(u->external_id)));
	free(email_key);
	free(username_key);
	return exec_ok(rc);
}

int
store_user_get(struct db_conn *c, const char *project_id, const char *id,
    struct user **out)
{
	return query_one(c,
	    "SELECT " USER_COLS " FROM users WHERE id = $1 AND "
	    "project_id = $2",
	    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)), user_read, (void **)out);
}

int
store_user_find(struct db_conn *c, const char *project_id, const char *login,
    struct user **out)
{
	char *key = login_key(login);
	int rc;

	/* An email match wins over a username that looks like an email. */
	rc = query_one(c,
	    "SELECT " USER_COLS " FROM users WHERE project_id = $1 "
	    "AND (email_key = $2 OR username_key = $2) ORDER BY "
	    "CASE WHEN email_key = $2 THEN 0 ELSE 1 END LIMIT 1",
	    DB_ARGS(DB_TEXT(project_id), DB_TEXT(key)), user_read,
	    (void **)out);
	free(key);
	return rc;
}

int
store_user_list(struct db_conn *c, const char *project_id,
    struct store_list *out)
{
	return query_list(c,
	    "SELECT " USER_COLS " FROM users WHERE project_id = "
	    "$1 ORDER BY created_at, id",
	    DB_ARGS(DB_TEXT(project_id)), user_read, out);
}

int
store_user_by_external(struct db_conn *c, const char *project_id,
    const char *external_id, struct user **out)
{
	return query_one(c,
	    "SELECT " USER_COLS " FROM users WHERE project_id = $1 "
	    "AND external_id = $2",
	    DB_ARGS(DB_TEXT(project_id), DB_TEXT(external_id)), user_read,
	    (void **)out);
}

int
store_user_shadow_update(struct db_conn *c, const struct user *u)
{
	char *email_key = login_key(u->email);
	int rc;

	rc = db_exec(c,
	    "UPDATE users SET external_id = $1, email = $2, "
	    "email_key = $3, locale = $4, disabled = $5, updated_at = $6 "
	    "WHERE project_id = $7 AND id = $8",
	    DB_ARGS(DB_TEXT(u->external_id), DB_TEXT(u->email),
		DB_TEXT(email_key), DB_TEXT(u->locale),
		DB_INT(u->disabled != 0), DB_INT(u->updated_at),
		DB_TEXT(u->project_id), DB_TEXT(u->id)));
	free(email_key);
	return rc;
}

int
store_user_by_id(struct db_conn *c, const char *id, struct user **out)
{
	return query_one(c, "SELECT " USER_COLS " FROM users WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), user_read, (void **)out);
}

int
store_user_set_password(struct db_conn *c, const char *id, const char *hash,
    int64_t now)
{
	return exec_ok(db_exec(c,
	    "UPDATE users SET password_hash = $1, "
	    "email_verified = 1, updated_at = $2, password_change_required = 0, "
	    "status = 'confirmed' WHERE id = $3",
	    DB_ARGS(DB_TEXT(hash), DB_INT(now), DB_TEXT(id))));
}

int
store_user_change_password(struct db_conn *c, const char *id, const char *hash,
    int64_t now)
{
	return exec_ok(db_exec(c,
	    "UPDATE users SET password_hash = $1, "
	    "updated_at = $2, password_change_required = 0, status = "
	    "'confirmed' WHERE id = $3",
	    DB_ARGS(DB_TEXT(hash), DB_INT(now), DB_TEXT(id))));
}

int
store_user_admin_password(struct db_conn *c, const char *project_id,
    const char *id, const char *hash, enum user_status st, int64_t now)
{
	return db_exec(c,
	    "UPDATE users SET password_hash = $1, status = $2, "
	    "password_change_required = $3, updated_at = $4 WHERE project_id = "
	    "$5 AND id = $6",
	    DB_ARGS(DB_TEXT(hash), DB_TEXT(user_status_name(st)),
		DB_INT(st == USER_FORCE_CHANGE_PASSWORD), DB_INT(now),
		DB_TEXT(project_id), DB_TEXT(id)));
}

int
store_user_set_status(struct db_conn *c, const char *project_id, const char *id,
    enum user_status st, int64_t now)
{
	return db_exec(c,
	    "UPDATE users SET status = $1, "
	    "password_change_required = $2, updated_at = $3 WHERE project_id = "
	    "$4 AND id = $5",
	    DB_ARGS(DB_TEXT(user_status_name(st)),
		DB_INT(st == USER_FORCE_CHANGE_PASSWORD), DB_INT(now),
		DB_TEXT(project_id), DB_TEXT(id)));
}

int
store_user_delete(struct db_conn *c, const char *project_id, const char *id)
{
	int rc;

	/* Rows that name the user go first: they reference it. */
	rc = db_exec(c,
	    "DELETE FROM refresh_tokens WHERE session_id IN (SELECT "
	    "id FROM sessions WHERE user_id = $1 AND project_id = $2)",
	    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)));
	if (rc >= 0)
		rc = db_exec(c,
		    "DELETE FROM sessions WHERE user_id = $1 AND "
		    "project_id = $2",
		    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)));
	if (rc >= 0)
		rc = db_exec(c,
		    "DELETE FROM secrets WHERE user_id = $1 AND "
		    "project_id = $2",
		    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)));
	if (rc >= 0)
		rc = db_exec(c,
		    "DELETE FROM users WHERE id = $1 AND "
		    "project_id = $2",
		    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)));
	return rc;
}

/* value with LIKE's specials escaped by '\', then '%'. */
static char *
like_prefix(const char *value)
{
	size_t i, n = strlen(value);
	char *out = xmalloc(2 * n + 2), *p = out;

	for (i = 0; i < n; i++) {
		if (value[i] == '%' || value[i] == '_' || value[i] == '\\')
			*p++ = '\\';
		*p++ = value[i];
	}
	*p++ = '%';
	*p = '\0';
	return out;
}

int
store_user_page(struct db_conn *c, const char *project_id,
    const struct user_page_query *q, struct store_list *out)
{
	/*
	 * One statement per filter and order, each a constant text.  Ids are
	 * UUIDv7: their order is the order of creation; newest first, "after"
	 * means older.
	 */
#define USER_PAGE(cond) \
	{ \
		"SELECT " USER_COLS " FROM users WHERE project_id = $1 AND " \
		"id > $2 AND " cond " ORDER BY id LIMIT $4", \
		    "SELECT " USER_COLS \
		    " FROM users WHERE project_id = $1 AND " \
		    "($2 = '' OR id < $2) AND " cond \
		    " ORDER BY id DESC LIMIT $4" \
	}
	static const char *const sql[][2] = {
		/* USER_FILTER_NONE */
		USER_PAGE("$3 = $3"),
		/* USER_FILTER_EMAIL */
		USER_PAGE("email_key = $3"),
		/* USER_FILTER_EMAIL_PREFIX */
		USER_PAGE("email_key LIKE $3 ESCAPE '\\'"),
		/* USER_FILTER_USERNAME */
		USER_PAGE("username_key = $3"),
		/* USER_FILTER_USERNAME_PREFIX */
		USER_PAGE("username_key LIKE $3 ESCAPE '\\'"),
		/* USER_FILTER_ID */
		USER_PAGE("id = $3"),
		/* USER_FILTER_STATUS: a temporary password is marked twice */
		USER_PAGE("(CASE WHEN password_change_required <> 0 THEN "
			  "'force_change_password' ELSE status END) = $3"),
		/* USER_FILTER_ENABLED */
		USER_PAGE("disabled = 0 AND $3 = $3"),
		/* USER_FILTER_DISABLED */
		USER_PAGE("disabled <> 0 AND $3 = $3"),
	};
#undef USER_PAGE
	char *key, *value;
	int rc;

	if ((size_t)q->filter >= sizeof(sql) / sizeof(sql[0]))
		return DB_ERROR; /* no such filter: a caller's bug */
	key = login_key(q->value != NULL ? q->value : "");
	if (q->filter == USER_FILTER_EMAIL_PREFIX ||
	    q->filter == USER_FILTER_USERNAME_PREFIX) {
		value = like_prefix(key);
		free(key);
	} else if (q->filter == USER_FILTER_ID ||
	    q->filter == USER_FILTER_STATUS) {
		free(key);
		value = xstrdup(q->value != NULL ? q->value : "");
	} else
		value = key;
	rc = query_list(c, sql[q->filter][q->desc != 0],
	    DB_ARGS(DB_TEXT(project_id),
		DB_TEXT(q->after_id != NULL ? q->after_id : ""), DB_TEXT(value),
		DB_INT(q->limit)),
	    user_read, out);
	free(value);
	return rc;
}

int
store_user_set_disabled(struct db_conn *c, const char *project_id,
    const char *id, int disabled, int64_t now)
{
	return db_exec(c,
	    "UPDATE users SET disabled = $1, updated_at = $2 "
	    "WHERE project_id = $3 AND id = $4 AND disabled <> $1",
	    DB_ARGS(DB_INT(disabled != 0), DB_INT(now), DB_TEXT(project_id),
		DB_TEXT(id)));
}

int
store_user_update(struct db_conn *c, const struct user *u)
{
	if (u->password_hash != NULL)
		return db_exec(c,
		    "UPDATE users SET first_name = $1, "
		    "last_name = $2, email_verified = $3, updated_at = $4, "
		    "password_hash = $5, password_change_required = 0 "
		    "WHERE project_id = $6 AND id = $7",
		    DB_ARGS(DB_TEXT(u->first_name), DB_TEXT(u->last_name),
			DB_INT(u->email_verified != 0), DB_INT(u->updated_at),
			DB_TEXT(u->password_hash), DB_TEXT(u->project_id),
			DB_TEXT(u->id)));
	return db_exec(c,
	    "UPDATE users SET first_name = $1, last_name = $2, "
	    "email_verified = $3, updated_at = $4 WHERE project_id = $5 AND "
	    "id = $6",
	    DB_ARGS(DB_TEXT(u->first_name), DB_TEXT(u->last_name),
		DB_INT(u->email_verified != 0), DB_INT(u->updated_at),
		DB_TEXT(u->project_id), DB_TEXT(u->id)));
}

int
store_user_rehash(struct db_conn *c, const char *id, const char *hash)
{
	return exec_ok(db_exec(c,
	    "UPDATE users SET password_hash = $1 WHERE "
	    "id = $2",
	    DB_ARGS(DB_TEXT(hash), DB_TEXT(id))));
}

int
store_user_touch_sign_in(struct db_conn *c, const char *id, int64_t now)
{
	return exec_ok(db_exec(c,
	    "UPDATE users SET last_sign_in_at = $1 WHERE "
	    "id = $2",
	    DB_ARGS(DB_INT(now), DB_TEXT(id))));
}

/* secrets */

#define SECRET_COLS \
	"id, project_id, user_id, purpose, token_hash, email, " \
	"created_at, expires_at, used_at, revoked_at, attempts, login_url, " \
	"locale, subject"

static void *
secret_read(struct db_rows *r)
{
	struct secret *s = xcalloc(1, sizeof(*s));

	s->id = db_strdup(r, 0);
	s->project_id = db_strdup(r, 1);
	s->user_id = db_strdup(r, 2);
	s->purpose = db_strdup(r, 3);
	s->token_hash = db_strdup(r, 4);
	s->email = db_strdup(r, 5);
	s->created_at = db_int(r, 6);
	s->expires_at = db_int(r, 7);
	s->used_at = int_or_zero(r, 8);
	s->revoked_at = int_or_zero(r, 9);
	s->attempts = db_int(r, 10);
	s->login_url = db_strdup(r, 11);
	s->locale = db_strdup(r, 12);
	s->subject = db_strdup(r, 13);
	return s;
}

void
secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->project_id);
	free(s->user_id);
	free(s->purpose);
	free(s->token_hash);
	free(s->email);
	free(s->login_url);
	free(s->locale);
	free(s->subject);
	free(s);
}

int
store_secret_insert(struct db_conn *c, const struct secret *s)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO secrets (id, project_id, "
	    "user_id, purpose, token_hash, email, created_at, expires_at, "
	    "login_url, locale, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "$9, $10, $11)",
	    DB_ARGS(DB_TEXT(s->id), DB_TEXT(s->project_id), DB_TEXT(s->user_id),
		DB_TEXT(s->purpose), DB_TEXT(s->token_hash), DB_TEXT(s->email),
		DB_INT(s->created_at), DB_INT(s->expires_at),
		DB_TEXT(s->login_url), DB_TEXT(s->locale),
		DB_TEXT(s->subject))));
}

int
store_secret_by_hash(struct db_conn *c, const char *hash, struct secret **out)
{
	return query_one(c,
	    "SELECT " SECRET_COLS " FROM secrets WHERE "
	    "token_hash = $1",
	    DB_ARGS(DB_TEXT(hash)), secret_read, (void **)out);
}

int
store_secret_by_id(struct db_conn *c, const char *id, struct secret **out)
{
	return query_one(c, "SELECT " SECRET_COLS " FROM secrets WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), secret_read, (void **)out);
}

int
store_secret_get(struct db_conn *c, const char *project_id, const char *id,
    struct secret **out)
{
	return query_one(c,
	    "SELECT " SECRET_COLS " FROM secrets WHERE id = $1 "
	    "AND project_id = $2",
	    DB_ARGS(DB_TEXT(id), DB_TEXT(project_id)), secret_read,
	    (void **)out);
}

int
store_secret_count_wrong(struct db_conn *c, const char *id, int64_t now,
    int64_t max)
{
	/* SET reads the row as it was: attempts + 1 is the new count. */
	return db_exec(c,
	    "UPDATE secrets SET attempts = attempts + 1, revoked_at = CASE "
	    "WHEN attempts + 1 >= $3 THEN $2 ELSE revoked_at END "
	    "WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL",
	    DB_ARGS(DB_TEXT(id), DB_INT(now), DB_INT(max)));
}

int
store_secret_consume(struct db_conn *c, const char *id, int64_t now)
{
	return db_exec(c,
	    "UPDATE secrets SET used_at = $1 WHERE id = $2 AND "
	    "used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

int
store_secret_revoke(struct db_conn *c, const char *id, int64_t now)
{
	return db_exec(c,
	    "UPDATE secrets SET revoked_at = $1 WHERE id = $2 AND "
	    "used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

int
store_secret_count_recent(struct db_conn *c, const char *subject, int64_t since,
    int64_t *out, int64_t *oldest)
{
	struct db_rows *r;
	int rc;

	/* On the index secrets_subject (subject, created_at). */
	rc = db_query(c,
	    "SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM "
	    "secrets WHERE subject = $1 AND created_at > $2 AND purpose IN "
	    "('reset_link', 'reset_code', 'decoy')",
	    DB_ARGS(DB_TEXT(subject), DB_INT(since)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_int(r, 0);
		*oldest = db_int(r, 1);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = DB_ERROR;
	db_done(r);
	return rc;
}

int
store_secret_revoke_user(struct db_conn *c, const char *user_id, int64_t now)
{
	return db_exec(c,
	    "UPDATE secrets SET revoked_at = $1 WHERE user_id = $2 "
	    "AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
	    DB_ARGS(DB_INT(now), DB_TEXT(user_id)));
}

/* reset codes */

int
store_code_latest(struct db_conn *c, const char *project_id,
    const char *subject, struct secret **out)
{
	return query_one(c,
	    "SELECT " SECRET_COLS " FROM secrets WHERE "
	    "subject = $1 AND project_id = $2 AND purpose = 'reset_code' "
	    "ORDER BY created_at DESC, id DESC LIMIT 1",
	    DB_ARGS(DB_TEXT(subject), DB_TEXT(project_id)), secret_read,
	    (void **)out);
}

int
store_code_recent(struct db_conn *c, const char *project_id,
    const char *subject, int64_t since, struct store_list *out)
{
	return query_list(c,
	    "SELECT " SECRET_COLS " FROM secrets WHERE "
	    "subject = $1 AND project_id = $2 AND purpose = 'reset_code' AND "
	    "created_at > $3 ORDER BY created_at DESC, id DESC LIMIT 16",
	    DB_ARGS(DB_TEXT(subject), DB_TEXT(project_id), DB_INT(since)),
	    secret_read, out);
}

/* shared rate limits */

/*
 * A bucket refilled at $4 (now): full ($2) when idle for its window ($5),
 * as it was when the clock went back, else plus $6 per ms up to full.
 */
#define RATE_REFILLED \
	"(CASE WHEN $4 - rate_buckets.at_ms >= $5 THEN $2 " \
	"  WHEN $4 <= rate_buckets.at_ms THEN rate_buckets.tokens " \
	"  WHEN rate_buckets.tokens + ($4 - rate_buckets.at_ms) * $6 >= $2 " \
	"  THEN $2 " \
	"  ELSE rate_buckets.tokens + ($4 - rate_buckets.at_ms) * $6 END)"

/*
 * Refill one bucket and take a token ($3) when it holds one, in one
 * statement: the upsert locks the row while it runs, so two takes never
 * see the same token, and every SET reads the row as it was.  refusing
 * becomes 0 when the token was taken, 2 on the first refusal after a
 * take and 1 on later ones: RETURNING gives only the new row, so the
 * new value carries whether it changed.
 */
static const char rate_take_sql[] =
    "INSERT INTO rate_buckets (key, tokens, at_ms, refusing) "
    "VALUES ($1, CAST($2 AS BIGINT) - CAST($3 AS BIGINT), $4, 0) "
    "ON CONFLICT (key) DO UPDATE SET "
    "tokens = " RATE_REFILLED " - CASE WHEN " RATE_REFILLED " >= $3 "
    "  THEN $3 ELSE 0 END, "
    "at_ms = CASE WHEN $4 > rate_buckets.at_ms THEN $4 "
    "  ELSE rate_buckets.at_ms END, "
    "refusing = CASE WHEN " RATE_REFILLED " >= $3 THEN 0 "
    "  WHEN rate_buckets.refusing = 0 THEN 2 ELSE 1 END "
    "RETURNING tokens, refusing";

/* Give a token back to a bucket a later bucket of the same take refused. */
static const char rate_give_back_sql[] =
    "UPDATE rate_buckets SET tokens = CASE WHEN tokens + $1 > $2 THEN $2 "
    "ELSE tokens + $1 END WHERE key = $3";

struct rate_take {
	const struct store_rate_bucket *b;
	int n;
	int64_t now, prune_before;
	int64_t wait_ms;
	int first;
};

/*
 * Take from each bucket in order; at the first that refuses, give back
 * what the earlier ones gave and stop.
 */
static int
rate_take_run(struct db_conn *c, void *arg)
{
	struct rate_take *t = arg;
	const struct store_rate_bucket *b;
	struct db_rows *r;
	int64_t tokens = 0, refusing = 0;
	int i, k, rc;

	t->wait_ms = 0;
	t->first = 0;
	if (t->prune_before != 0) {
		rc = db_exec(c, "DELETE FROM rate_buckets WHERE at_ms < $1",
		    DB_ARGS(DB_INT(t->prune_before)));
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < t->n; i++) {
		b = &t->b[i];
		rc = db_query(c, rate_take_sql,
		    DB_ARGS(DB_TEXT(b->key), DB_INT(b->full),
			DB_INT(STORE_RATE_UNIT), DB_INT(t->now),
			DB_INT(b->window_ms), DB_INT(b->per_ms)),
		    &r);
		if (rc < 0)
			return rc;
		rc = db_next(r);
		if (rc == 1) {
			tokens = db_int(r, 0);
			refusing = db_int(r, 1);
		}
		db_done(r);
		if (rc != 1)
			return DB_ERROR;
		if (refusing == 0)
			continue;
		t->first = refusing == 2;
		t->wait_ms = (STORE_RATE_UNIT - tokens + b->per_ms - 1) /
		    b->per_ms;
		if (t->wait_ms < 1)
			t->wait_ms = 1;
		for (k = 0; k < i; k++) {
			rc = db_exec(c, rate_give_back_sql,
			    DB_ARGS(DB_INT(STORE_RATE_UNIT),
				DB_INT(t->b[k].full), DB_TEXT(t->b[k].key)));
			if (rc < 0)
				return rc;
		}
		break;
	}
	return 0;
}

/*
 * On PostgreSQL each statement runs in autocommit on a pooled connection:
 * one round trip per bucket and no COMMIT to wait for.  A take that a
 * later bucket refuses is given back a moment later; meanwhile a call
 * that needed that very token may be refused, which errs on the side of
 * the limit.  On SQLite the take is one transaction of the writer.
 */
int
store_rate_take(struct db *db, const struct store_rate_bucket *b, int n,
    int64_t now, int64_t prune_before, int64_t *wait_ms, int *first)
{
	struct rate_take t = { b, n, now, prune_before, 0, 0 };
	struct db_conn *c;
	int rc;

	assert(n >= 1 && n <= 3);
	if (strcmp(db_dialect(db), "postgres") == 0) {
		c = db_acquire(db);
		if (c == NULL)
			return DB_ERROR;
		rc = rate_take_run(c, &t);
		db_release(db, c);
	} else
		rc = db_write(db, rate_take_run, &t);
	if (rc != 0)
		return rc < 0 ? rc : DB_ERROR;
	*wait_ms = t.wait_ms;
	*first = t.first;
	return STORE_OK;
}

/* the sign-in back-off */

/*
 * One statement, so two tries of one login can never both pass the
 * check: on PostgreSQL the upsert locks the row until the transaction
 * ends, and SQLite's writer is alone.  Every SET reads the row as it was.
 */
static const char backoff_count_sql[] =
    "INSERT INTO login_backoff (subject, failures, until_ms, last_ms) "
    "VALUES ($1, 1, 0, $2) ON CONFLICT (subject) DO UPDATE SET "
    "failures = CASE WHEN login_backoff.until_ms > $2 "
    "  THEN login_backoff.failures "
    "  WHEN login_backoff.last_ms <= $3 THEN 1 "
    "  ELSE login_backoff.failures + 1 END, "
    "until_ms = CASE WHEN login_backoff.until_ms > $2 "
    "  THEN login_backoff.until_ms ELSE 0 END, "
    "last_ms = CASE WHEN login_backoff.until_ms > $2 "
    "  THEN login_backoff.last_ms ELSE $2 END "
    "RETURNING failures, until_ms";

int
store_backoff_count(struct db_conn *c, const char *subject, int64_t now,
    int64_t forget_before, int64_t *failures, int64_t *until)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c, backoff_count_sql,
	    DB_ARGS(DB_TEXT(subject), DB_INT(now), DB_INT(forget_before)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*failures = db_int(r, 0);
		*until = db_int(r, 1);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = DB_ERROR;
	db_done(r);
	return rc;
}

int
store_backoff_until(struct db_conn *c, const char *subject, int64_t *until)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c,
	    "SELECT until_ms FROM login_backoff WHERE subject = $1",
	    DB_ARGS(DB_TEXT(subject)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc >= 0) {
		*until = rc == 1 ? db_int(r, 0) : 0;
		rc = STORE_OK;
	}
	db_done(r);
	return rc;
}

int
store_backoff_hold(struct db_conn *c, const char *subject, int64_t until)
{
	return exec_ok(db_exec(c,
	    "UPDATE login_backoff SET until_ms = $1 "
	    "WHERE subject = $2",
	    DB_ARGS(DB_INT(until), DB_TEXT(subject))));
}

int
store_backoff_clear(struct db_conn *c, const char *subject)
{
	return db_exec(c, "DELETE FROM login_backoff WHERE subject = $1",
	    DB_ARGS(DB_TEXT(subject)));
}

int
store_backoff_uncount(struct db_conn *c, const char *subject)
{
	return exec_ok(db_exec(c,
	    "UPDATE login_backoff SET failures = failures - 1, "
	    "until_ms = 0 WHERE subject = $1 AND failures > 0",
	    DB_ARGS(DB_TEXT(subject))));
}

int
store_backoff_prune(struct db_conn *c, int64_t before)
{
	return db_exec(c,
	    "DELETE FROM login_backoff WHERE last_ms < $1 AND "
	    "until_ms < $2",
	    DB_ARGS(DB_INT(before), DB_INT(before)));
}

int
store_code_attempts(struct db_conn *c, const char *subject, int64_t since,
    int64_t *out)
{
	struct db_rows *r;
	int rc;

	rc = db_query(c,
	    "SELECT COALESCE(SUM(attempts), 0) FROM secrets "
	    "WHERE subject = $1 AND purpose = 'reset_code' AND created_at > $2",
	    DB_ARGS(DB_TEXT(subject), DB_INT(since)), &r);
	if (rc < 0)
		return rc;
	rc = db_next(r);
	if (rc == 1) {
		*out = db_int(r, 0);
		rc = STORE_OK;
	} else if (rc == 0)
		rc = DB_ERROR;
	db_done(r);
	return rc;
}

int
store_code_lock(struct db_conn *c, const char *subject)
{
	if (strcmp(db_conn_dialect(c), "postgres") != 0)
		return STORE_OK;
	return exec_ok(db_exec(c,
	    "SELECT pg_advisory_xact_lock("
	    "hashtextextended($1, 7))",
	    DB_ARGS(DB_TEXT(subject))));
}

/*
 * A code may take a try or be spent while it is live, under its own cap,
 * and its subject is under the cap for the window.  The two statements
 * below say so in one WHERE clause each (parameters numbered in order of
 * first use, as the db interface requires).
 */
int
store_code_count_wrong(struct db_conn *c, const char *id, const char *subject,
    const struct store_code_caps *k)
{
	return db_exec(c,
	    "UPDATE secrets SET attempts = attempts + 1 WHERE "
	    "id = $1 AND used_at IS NULL AND revoked_at IS NULL AND "
	    "expires_at > $2 AND attempts < $3 AND (SELECT COALESCE(SUM("
	    "w.attempts), 0) FROM secrets w WHERE w.subject = $4 AND "
	    "w.purpose = 'reset_code' AND w.created_at > $5) < $6",
	    DB_ARGS(DB_TEXT(id), DB_INT(k->now), DB_INT(k->per_code),
		DB_TEXT(subject), DB_INT(k->since), DB_INT(k->per_subject)));
}

int
store_code_consume(struct db_conn *c, const char *id, const char *subject,
    const struct store_code_caps *k)
{
	return db_exec(c,
	    "UPDATE secrets SET used_at = $1 WHERE id = $2 AND "
	    "used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 AND "
	    "attempts < $3 AND (SELECT COALESCE(SUM(w.attempts), 0) FROM "
	    "secrets w WHERE w.subject = $4 AND w.purpose = 'reset_code' AND "
	    "w.created_at > $5) < $6",
	    DB_ARGS(DB_INT(k->now), DB_TEXT(id), DB_INT(k->per_code),
		DB_TEXT(subject), DB_INT(k->since), DB_INT(k->per_subject)));
}

/* sessions */

#define SESSION_COLS \
	"id, project_id, user_id, created_at, expires_at, " \
	"revoked_at, client_id"

static void *
session_read(struct db_rows *r)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->id = db_strdup(r, 0);
	s->project_id = db_strdup(r, 1);
	s->user_id = db_strdup(r, 2);
	s->created_at = db_int(r, 3);
	s->expires_at = db_int(r, 4);
	s->revoked_at = int_or_zero(r, 5);
	s->client_id = db_strdup(r, 6);
	return s;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->project_id);
	free(s->user_id);
	free(s->client_id);
	free(s);
}

int
store_session_insert(struct db_conn *c, const struct session *s)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO sessions (id, project_id, "
	    "user_id, created_at, expires_at, client_id) VALUES ($1, $2, $3, "
	    "$4, $5, $6)",
	    DB_ARGS(DB_TEXT(s->id), DB_TEXT(s->project_id), DB_TEXT(s->user_id),
		DB_INT(s->created_at), DB_INT(s->expires_at),
		DB_TEXT(s->client_id))));
}

int
store_session_get(struct db_conn *c, const char *id, struct session **out)
{
	return query_one(c,
	    "SELECT " SESSION_COLS " FROM sessions WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), session_read, (void **)out);
}

int
store_session_revoke_user(struct db_conn *c, const char *user_id, int64_t now)
{
	return db_exec(c,
	    "UPDATE sessions SET revoked_at = $1 WHERE user_id = "
	    "$2 AND revoked_at IS NULL",
	    DB_ARGS(DB_INT(now), DB_TEXT(user_id)));
}

int
store_session_list_user(struct db_conn *c, const char *user_id, int64_t now,
    struct store_list *out)
{
	return query_list(c,
	    "SELECT " SESSION_COLS " FROM sessions WHERE "
	    "user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY "
	    "created_at DESC, id DESC LIMIT 100",
	    DB_ARGS(DB_TEXT(user_id), DB_INT(now)), session_read, out);
}

int
store_session_revoke(struct db_conn *c, const char *id, int64_t now)
{
	return db_exec(c,
	    "UPDATE sessions SET revoked_at = $1 WHERE id = $2 "
	    "AND revoked_at IS NULL",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

/* signing keys */

#define SIGNING_KEY_COLS \
	"id, project_id, alg, secret_sealed, created_at, " \
	"retired_at, verify_until"

static void *
signing_key_read(struct db_rows *r)
{
	struct signing_key *k = xcalloc(1, sizeof(*k));

	k->id = db_strdup(r, 0);
	k->project_id = db_strdup(r, 1);
	k->alg = db_strdup(r, 2);
	k->secret_sealed = db_strdup(r, 3);
	k->created_at = db_int(r, 4);
	k->retired_at = int_or_zero(r, 5);
	k->verify_until = int_or_zero(r, 6);
	return k;
}

void
signing_key_free(struct signing_key *k)
{
	if (k == NULL)
		return;
	free(k->id);
	free(k->project_id);
	free(k->alg);
	xfree_secret(k->secret_sealed);
	free(k);
}

int
store_signing_key_insert(struct db_conn *c, const struct signing_key *k)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO signing_keys (id, project_id, "
	    "alg, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
	    DB_ARGS(DB_TEXT(k->id), DB_TEXT(k->project_id), DB_TEXT(k->alg),
		DB_TEXT(k->secret_sealed), DB_INT(k->created_at))));
}

int
store_signing_key_list(struct db_conn *c, const char *project_id, int64_t now,
    struct store_list *out)
{
	return query_list(c,
	    "SELECT " SIGNING_KEY_COLS " FROM signing_keys "
	    "WHERE project_id = $1 AND (verify_until IS NULL OR verify_until "
	    "> $2) ORDER BY created_at DESC, id DESC",
	    DB_ARGS(DB_TEXT(project_id), DB_INT(now)), signing_key_read, out);
}

int
store_signing_key_get(struct db_conn *c, const char *id,
    struct signing_key **out)
{
	return query_one(c,
	    "SELECT " SIGNING_KEY_COLS " FROM signing_keys "
	    "WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), signing_key_read, (void **)out);
}

int
store_signing_key_retire(struct db_conn *c, const char *project_id,
    const char *alg, int64_t now, int64_t verify_until)
{
	return db_exec(c,
	    "UPDATE signing_keys SET retired_at = $1, "
	    "verify_until = $2 WHERE project_id = $3 AND alg = $4 AND "
	    "retired_at IS NULL",
	    DB_ARGS(DB_INT(now), DB_INT(verify_until), DB_TEXT(project_id),
		DB_TEXT(alg)));
}

/* refresh tokens */

#define REFRESH_COLS \
	"id, session_id, client_id, token_hash, created_at, " \
	"expires_at, used_at"

static void *
refresh_read(struct db_rows *r)
{
	struct refresh_token *t = xcalloc(1, sizeof(*t));

	t->id = db_strdup(r, 0);
	t->session_id = db_strdup(r, 1);
	t->client_id = db_strdup(r, 2);
	t->token_hash = db_strdup(r, 3);
	t->created_at = db_int(r, 4);
	t->expires_at = db_int(r, 5);
	t->used_at = int_or_zero(r, 6);
	return t;
}

void
refresh_token_free(struct refresh_token *t)
{
	if (t == NULL)
		return;
	free(t->id);
	free(t->session_id);
	free(t->client_id);
	free(t->token_hash);
	free(t);
}

int
store_refresh_insert(struct db_conn *c, const struct refresh_token *t)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO refresh_tokens (" REFRESH_COLS
	    ") VALUES ($1, $2, $3, $4, $5, $6, NULL)",
	    DB_ARGS(DB_TEXT(t->id), DB_TEXT(t->session_id),
		DB_TEXT(t->client_id), DB_TEXT(t->token_hash),
		DB_INT(t->created_at), DB_INT(t->expires_at))));
}

int
store_refresh_get(struct db_conn *c, const char *token_hash,
    struct refresh_token **out)
{
	return query_one(c,
	    "SELECT " REFRESH_COLS " FROM refresh_tokens "
	    "WHERE token_hash = $1",
	    DB_ARGS(DB_TEXT(token_hash)), refresh_read, (void **)out);
}

int
store_refresh_spend(struct db_conn *c, const char *id, int64_t now)
{
	return db_exec(c,
	    "UPDATE refresh_tokens SET used_at = $1 WHERE id = "
	    "$2 AND used_at IS NULL",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

/* api keys */

static void *
api_key_read(struct db_rows *r)
{
	struct api_key *k = xcalloc(1, sizeof(*k));

	k->id = db_strdup(r, 0);
	k->project_id = db_strdup(r, 1);
	k->key_hash = db_strdup(r, 2);
	k->created_at = db_int(r, 3);
	k->revoked_at = int_or_zero(r, 4);
	k->access_key_id = db_strdup(r, 5);
	k->aws_secret_sealed = db_strdup(r, 6);
	return k;
}

void
api_key_free(struct api_key *k)
{
	if (k == NULL)
		return;
	free(k->id);
	free(k->project_id);
	free(k->key_hash);
	free(k->access_key_id);
	free(k->aws_secret_sealed);
	free(k);
}

int
store_api_key_insert(struct db_conn *c, const struct api_key *k)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO api_keys (id, project_id, "
	    "key_hash, created_at, access_key_id, aws_secret_sealed) VALUES ($1, "
	    "$2, $3, $4, $5, $6)",
	    DB_ARGS(DB_TEXT(k->id), DB_TEXT(k->project_id),
		DB_TEXT(k->key_hash), DB_INT(k->created_at),
		DB_TEXT(k->access_key_id), DB_TEXT(k->aws_secret_sealed))));
}

#define API_KEY_COLS \
	"id, project_id, key_hash, created_at, revoked_at, " \
	"access_key_id, aws_secret_sealed"

int
store_api_key_by_access_key(struct db_conn *c, const char *akid,
    struct api_key **out)
{
	return query_one(c,
	    "SELECT " API_KEY_COLS " FROM api_keys WHERE "
	    "access_key_id = $1",
	    DB_ARGS(DB_TEXT(akid)), api_key_read, (void **)out);
}

int
store_api_key_by_hash(struct db_conn *c, const char *hash, struct api_key **out)
{
	return query_one(c,
	    "SELECT " API_KEY_COLS " FROM api_keys WHERE "
	    "key_hash = $1",
	    DB_ARGS(DB_TEXT(hash)), api_key_read, (void **)out);
}

int
store_api_key_get(struct db_conn *c, const char *id, struct api_key **out)
{
	return query_one(c,
	    "SELECT " API_KEY_COLS " FROM api_keys WHERE "
	    "id = $1",
	    DB_ARGS(DB_TEXT(id)), api_key_read, (void **)out);
}

int
store_api_key_list(struct db_conn *c, const char *project_id,
    struct store_list *out)
{
	return query_list(c,
	    "SELECT " API_KEY_COLS " FROM api_keys WHERE "
	    "project_id = $1 ORDER BY created_at, id",
	    DB_ARGS(DB_TEXT(project_id)), api_key_read, out);
}

int
store_api_key_revoke(struct db_conn *c, const char *id, int64_t now)
{
	return db_exec(c,
	    "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 "
	    "AND revoked_at IS NULL",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

/* app clients */

static void *
client_read(struct db_rows *r)
{
	struct client *cl = xcalloc(1, sizeof(*cl));

	cl->id = db_strdup(r, 0);
	cl->project_id = db_strdup(r, 1);
	cl->secret_sealed = db_strdup(r, 2);
	cl->prevent_user_existence_errors = db_int(r, 3) != 0;
	cl->created_at = db_int(r, 4);
	return cl;
}

void
client_free(struct client *cl)
{
	if (cl == NULL)
		return;
	free(cl->id);
	free(cl->project_id);
	free(cl->secret_sealed);
	free(cl);
}

int
store_client_insert(struct db_conn *c, const struct client *cl)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO clients (id, project_id, "
	    "secret_sealed, prevent_user_existence_errors, created_at) VALUES "
	    "($1, $2, $3, $4, $5)",
	    DB_ARGS(DB_TEXT(cl->id), DB_TEXT(cl->project_id),
		DB_TEXT(cl->secret_sealed),
		DB_INT(cl->prevent_user_existence_errors),
		DB_INT(cl->created_at))));
}

int
store_client_set_secret(struct db_conn *c, const char *id,
    const char *secret_sealed)
{
	return db_exec(c, "UPDATE clients SET secret_sealed = $1 WHERE id = $2",
	    DB_ARGS(DB_TEXT(secret_sealed), DB_TEXT(id)));
}

int
store_client_get(struct db_conn *c, const char *id, struct client **out)
{
	return query_one(c,
	    "SELECT id, project_id, secret_sealed, "
	    "prevent_user_existence_errors, created_at FROM clients WHERE "
	    "id = $1",
	    DB_ARGS(DB_TEXT(id)), client_read, (void **)out);
}

/* idempotency records */

#define IDEM_COLS \
	"project_id, idem_key, fingerprint, status, answer_sealed, " \
	"created_at, expires_at"

static void *
idem_read(struct db_rows *r)
{
	struct idem_record *k = xcalloc(1, sizeof(*k));

	k->project_id = db_strdup(r, 0);
	k->idem_key = db_strdup(r, 1);
	k->fingerprint = db_strdup(r, 2);
	k->status = (int)db_int(r, 3);
	k->answer_sealed = db_strdup(r, 4);
	k->created_at = db_int(r, 5);
	k->expires_at = db_int(r, 6);
	return k;
}

void
idem_record_free(struct idem_record *k)
{
	if (k == NULL)
		return;
	free(k->project_id);
	free(k->idem_key);
	free(k->fingerprint);
	xfree_secret(k->answer_sealed);
	free(k);
}

int
store_idem_get(struct db_conn *c, const char *project_id, const char *key,
    int64_t now, struct idem_record **out)
{
	return query_one(c,
	    "SELECT " IDEM_COLS " FROM idempotency_keys WHERE "
	    "project_id = $1 AND idem_key = $2 AND expires_at > $3",
	    DB_ARGS(DB_TEXT(project_id), DB_TEXT(key), DB_INT(now)), idem_read,
	    (void **)out);
}

int
store_idem_insert(struct db_conn *c, const struct idem_record *k)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO idempotency_keys (" IDEM_COLS
	    ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
	    DB_ARGS(DB_TEXT(k->project_id), DB_TEXT(k->idem_key),
		DB_TEXT(k->fingerprint), DB_INT(k->status),
		DB_TEXT(k->answer_sealed), DB_INT(k->created_at),
		DB_INT(k->expires_at))));
}

int
store_idem_purge(struct db_conn *c, int64_t now)
{
	return db_exec(c, "DELETE FROM idempotency_keys WHERE expires_at <= $1",
	    DB_ARGS(DB_INT(now)));
}

/* outbox */

#define OUTBOX_COLS \
	"id, project_id, kind, to_addr, locale, payload, state, " \
	"tries, next_try_at, last_error, created_at, sent_at, subject, " \
	"from_addr, from_name"
#define OUTBOX_COLS_QUALIFIED \
	"outbox.id, project_id, kind, to_addr, locale, " \
	"payload, state, tries, next_try_at, last_error, created_at, sent_at, " \
	"outbox.subject, outbox.from_addr, outbox.from_name"

static void *
outbox_read(struct db_rows *r)
{
	struct outbox_msg *m = xcalloc(1, sizeof(*m));

	m->id = db_strdup(r, 0);
	m->project_id = db_strdup(r, 1);
	m->kind = db_strdup(r, 2);
	m->to_addr = db_strdup(r, 3);
	m->locale = db_strdup(r, 4);
	m->payload = db_strdup(r, 5);
	m->state = db_strdup(r, 6);
	m->tries = db_int(r, 7);
	m->next_try_at = db_int(r, 8);
	m->last_error = db_strdup(r, 9);
	m->created_at = db_int(r, 10);
	m->sent_at = int_or_zero(r, 11);
	m->subject = db_strdup(r, 12);
	m->from_addr = db_strdup(r, 13);
	m->from_name = db_strdup(r, 14);
	return m;
}

void
outbox_msg_free(struct outbox_msg *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->project_id);
	free(m->kind);
	free(m->to_addr);
	free(m->locale);
	xfree_secret(m->payload);
	free(m->state);
	free(m->last_error);
	free(m->subject);
	free(m->from_addr);
	free(m->from_name);
	free(m);
}

int
store_outbox_insert(struct db_conn *c, const struct outbox_msg *m)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO outbox (id, project_id, kind, "
	    "to_addr, locale, payload, state, next_try_at, created_at, subject, "
	    "from_addr, from_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
	    "$10, $11, $12)",
	    DB_ARGS(DB_TEXT(m->id), DB_TEXT(m->project_id), DB_TEXT(m->kind),
		DB_TEXT(m->to_addr), DB_TEXT(m->locale), DB_TEXT(m->payload),
		DB_TEXT(m->state), DB_INT(m->next_try_at),
		DB_INT(m->created_at), DB_TEXT(m->subject),
		DB_TEXT(m->from_addr), DB_TEXT(m->from_name))));
}

struct claim {
	int64_t now, lease_until;
	int limit;
	const char *sql;
	struct store_list got;
};

static int
claim_tx(struct db_conn *c, void *arg)
{
	struct claim *cl = arg;

	return query_list(c, cl->sql,
	    DB_ARGS(DB_INT(cl->lease_until), DB_INT(cl->now),
		DB_INT(cl->limit)),
	    outbox_read, &cl->got);
}

/*
 * A claim moves next_try_at to the end of the lease: the message is not due
 * for anyone else until then, and if its sender dies it becomes due again
 * by itself.  It also clears last_error, the error of the try before: a
 * pending message with an error is one waiting on its backoff, which is
 * what store_outbox_hasten looks for, and a leased one never is.  PostgreSQL skips rows another instance is claiming.  There
 * the due rows are picked in a MATERIALIZED CTE, so the locking LIMIT
 * query runs exactly once: as a subquery under IN, the planner is free to
 * run it again (say, as the inner side of a nested loop), locking and
 * returning other rows than the ones it counted.
 */
#define CLAIM_SQLITE(kinds) \
	"UPDATE outbox SET next_try_at = $1, tries = tries + 1, last_error = " \
	"NULL WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND " \
	"next_try_at <= $2" kinds \
	" ORDER BY next_try_at LIMIT $3) RETURNING " OUTBOX_COLS
#define CLAIM_POSTGRES(kinds) \
	"WITH due AS MATERIALIZED (SELECT id FROM outbox WHERE state = " \
	"'pending' AND next_try_at <= $2" kinds " ORDER BY next_try_at " \
	"LIMIT $3 FOR UPDATE SKIP LOCKED) " \
	"UPDATE outbox SET next_try_at = $1, tries = tries + 1, last_error = " \
	"NULL FROM due WHERE outbox.id = due.id RETURNING " OUTBOX_COLS_QUALIFIED
/* Storage lookups are calls to apps: the webhook senders make them. */
#define KINDS_MAIL " AND kind NOT IN ('webhook', 'storage_lookup')"
#define KINDS_WEBHOOKS " AND kind IN ('webhook', 'storage_lookup')"

/* The claim of each enum outbox_claim, per dialect. */
static const char *const claims[][2] = {
	{ CLAIM_SQLITE(""), CLAIM_POSTGRES("") }, /* CLAIM_ANY */
	{ CLAIM_SQLITE(KINDS_MAIL),
	    CLAIM_POSTGRES(KINDS_MAIL) }, /* CLAIM_MAIL */
	{ CLAIM_SQLITE(KINDS_WEBHOOKS),
	    CLAIM_POSTGRES(KINDS_WEBHOOKS) }, /* CLAIM_WEBHOOKS */
};

int
store_outbox_claim(struct db *db, int64_t now, int64_t lease_until, int limit,
    struct store_list *out)
{
	return store_outbox_claim_kind(db, CLAIM_ANY, now, lease_until, limit,
	    out);
}

int
store_outbox_claim_kind(struct db *db, enum outbox_claim which, int64_t now,
    int64_t lease_until, int limit, struct store_list *out)
{
	struct claim cl = { now, lease_until, limit, claims[which][0],
		{ NULL, 0 } };
	int rc;

	assert(which >= CLAIM_ANY && which <= CLAIM_WEBHOOKS);
	if (strcmp(db_dialect(db), "postgres") == 0)
		cl.sql = claims[which][1];
	rc = db_write(db, claim_tx, &cl);
	if (rc != 0) {
		store_list_free(&cl.got, (void (*)(void *))outbox_msg_free);
		return rc;
	}
	*out = cl.got;
	return STORE_OK;
}

int
store_outbox_sent(struct db_conn *c, const char *id, int64_t now)
{
	return exec_ok(db_exec(c,
	    "UPDATE outbox SET state = 'sent', "
	    "payload = NULL, sent_at = $1, last_error = NULL WHERE id = $2 AND "
	    "state = 'pending'",
	    DB_ARGS(DB_INT(now), DB_TEXT(id))));
}

int
store_outbox_failed(struct db_conn *c, const char *id, const char *error,
    int64_t next_try_at, int64_t tries)
{
	if (next_try_at < 0)
		return exec_ok(db_exec(c,
		    "UPDATE outbox SET last_error = $1, "
		    "state = 'dead' WHERE id = $2 AND state = 'pending' AND "
		    "tries = $3",
		    DB_ARGS(DB_TEXT(error), DB_TEXT(id), DB_INT(tries))));
	return exec_ok(db_exec(c,
	    "UPDATE outbox SET last_error = $1, "
	    "next_try_at = $2 WHERE id = $3 AND state = 'pending' AND "
	    "tries = $4",
	    DB_ARGS(DB_TEXT(error), DB_INT(next_try_at), DB_TEXT(id),
		DB_INT(tries))));
}

/*
 * Messages waiting on their backoff: pending, not due, with the error of a
 * failed try (a leased message has none; see the claim).  The conditions
 * are repeated outside the subquery, so that on PostgreSQL a row claimed
 * meanwhile by another instance is checked again as it is now and left
 * alone; rows locked by such a claim are skipped, not waited for.
 */
struct hasten {
	int64_t now;
	int limit;
	int n;
};

static const char hasten_sqlite[] =
    "UPDATE outbox SET next_try_at = $1 WHERE id IN (SELECT id FROM outbox "
    "WHERE state = 'pending' AND next_try_at > $1 AND last_error IS NOT "
    "NULL AND kind NOT IN ('webhook', 'storage_lookup') ORDER BY "
    "next_try_at LIMIT $2)";
static const char hasten_postgres[] =
    "WITH waiting AS MATERIALIZED (SELECT id FROM outbox WHERE state = "
    "'pending' AND next_try_at > $1 AND last_error IS NOT NULL AND kind "
    "NOT IN ('webhook', 'storage_lookup') ORDER BY next_try_at LIMIT $2 "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE outbox SET next_try_at = $1 FROM waiting WHERE outbox.id = "
    "waiting.id AND outbox.state = 'pending' AND outbox.next_try_at > $1 "
    "AND outbox.last_error IS NOT NULL";

static int
hasten_tx(struct db_conn *c, void *arg)
{
	struct hasten *h = arg;
	int rc;

	rc = db_exec(c,
	    strcmp(db_conn_dialect(c), "postgres") == 0 ? hasten_postgres :
							  hasten_sqlite,
	    DB_ARGS(DB_INT(h->now), DB_INT(h->limit)));
	if (rc < 0)
		return rc;
	h->n = rc;
	return 0;
}

int
store_outbox_hasten(struct db *db, int64_t now, int limit)
{
	struct hasten h = { now, limit, 0 };
	int rc;

	rc = db_write(db, hasten_tx, &h);
	return rc == 0 ? h.n : rc;
}

int
store_outbox_list(struct db_conn *c, const char *state, int limit,
    struct store_list *out)
{
	if (state == NULL)
		return query_list(c,
		    "SELECT " OUTBOX_COLS " FROM outbox WHERE "
		    "state <> 'dropped' ORDER BY created_at DESC, id DESC LIMIT "
		    "$1",
		    DB_ARGS(DB_INT(limit)), outbox_read, out);
	return query_list(c,
	    "SELECT " OUTBOX_COLS " FROM outbox WHERE state = "
	    "$1 ORDER BY created_at DESC, id DESC LIMIT $2",
	    DB_ARGS(DB_TEXT(state), DB_INT(limit)), outbox_read, out);
}

int
store_outbox_retry(struct db_conn *c, const char *id, int64_t now)
{
	if (id == NULL)
		return db_exec(c,
		    "UPDATE outbox SET state = 'pending', "
		    "tries = 0, next_try_at = $1 WHERE state = 'dead'",
		    DB_ARGS(DB_INT(now)));
	return db_exec(c,
	    "UPDATE outbox SET state = 'pending', tries = 0, "
	    "next_try_at = $1 WHERE id = $2 AND state = 'dead'",
	    DB_ARGS(DB_INT(now), DB_TEXT(id)));
}

int
store_outbox_get(struct db_conn *c, const char *id, struct outbox_msg **out)
{
	return query_one(c, "SELECT " OUTBOX_COLS " FROM outbox WHERE id = $1",
	    DB_ARGS(DB_TEXT(id)), outbox_read, (void **)out);
}

int
store_outbox_depth(struct db_conn *c, int64_t *pending, int64_t *dead)
{
	int rc;

	/* Both counts walk the outbox_due index, on its state prefix. */
	rc = query_count(c,
	    "SELECT COUNT(*) FROM outbox WHERE state = "
	    "'pending'",
	    DB_NOARGS, pending);
	if (rc == STORE_OK)
		rc = query_count(c,
		    "SELECT COUNT(*) FROM outbox WHERE state = "
		    "'dead'",
		    DB_NOARGS, dead);
	return rc;
}

int
store_outbox_count_recent(struct db_conn *c, const char *project_id,
    int64_t since, int64_t at_most, int64_t *out)
{
	/* The partial index outbox_project_mail holds exactly these rows. */
	return query_count(c,
	    "SELECT COUNT(*) FROM (SELECT 1 FROM outbox "
	    "WHERE project_id = $1 AND created_at > $2 AND state <> 'dropped' "
	    "LIMIT $3) AS recent",
	    DB_ARGS(DB_TEXT(project_id), DB_INT(since), DB_INT(at_most)), out);
}

int
store_outbox_count_kind(struct db_conn *c, const char *project_id,
    const char *kind, int64_t since, int64_t at_most, int64_t *out)
{
	/* On outbox_project_mail too, the kind checked on its rows. */
	return query_count(c,
	    "SELECT COUNT(*) FROM (SELECT 1 FROM outbox "
	    "WHERE project_id = $1 AND created_at > $2 AND state <> 'dropped' "
	    "AND kind = $3 LIMIT $4) AS recent",
	    DB_ARGS(DB_TEXT(project_id), DB_INT(since), DB_TEXT(kind),
		DB_INT(at_most)),
	    out);
}

/*
 * Deleting what nothing needs any more, a bounded batch per statement so
 * that no transaction grows large: each statement removes at most limit
 * rows and returns how many it did.
 */
static const struct {
	const char *sql; /* $1: delete rows older than this; $2: limit */
	int64_t age_ms;
} purges[] = {
	/* Equal-work rows of requests that sent nothing. */
	{ "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = "
	  "'dropped' AND created_at < $1 LIMIT $2)",
	    0 },
	/* Sent mail, kept a week for "outbox list". */
	{ "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = "
	  "'sent' AND sent_at < $1 LIMIT $2)",
	    7 * 86400000LL },
	/* Secrets a day past expiry: the hourly limits look back one hour. */
	{ "DELETE FROM secrets WHERE id IN (SELECT id FROM secrets WHERE "
	  "expires_at < $1 LIMIT $2)",
	    86400000LL },
	/* A session's refresh tokens go first; they live no longer. */
	{ "DELETE FROM refresh_tokens WHERE id IN (SELECT r.id FROM "
	  "refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE "
	  "s.expires_at < $1 LIMIT $2)",
	    86400000LL },
	{ "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE "
	  "expires_at < $1 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r "
	  "WHERE r.session_id = sessions.id) LIMIT $2)",
	    86400000LL },
	/* Rotated-out signing keys, once nothing they signed is alive. */
	{ "DELETE FROM signing_keys WHERE id IN (SELECT id FROM signing_keys "
	  "WHERE verify_until IS NOT NULL AND verify_until < $1 LIMIT $2)",
	    0 },
	{ "DELETE FROM idempotency_keys WHERE (project_id, idem_key) IN (SELECT "
	  "project_id, idem_key FROM idempotency_keys WHERE expires_at < $1 "
	  "LIMIT $2)",
	    0 },
};

struct purge {
	int64_t now;
	int64_t limit;
	int64_t deleted;
};

static int
purge_tx(struct db_conn *c, void *arg)
{
	struct purge *pu = arg;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(purges) / sizeof(purges[0]); i++) {
		rc = db_exec(c, purges[i].sql,
		    DB_ARGS(DB_INT(pu->now - purges[i].age_ms),
			DB_INT(pu->limit)));
		if (rc < 0)
			return rc;
		pu->deleted += rc;
	}
	return 0;
}

int
store_purge(struct db *db, int64_t now, int64_t limit, int64_t *deleted)
{
	struct purge pu = { now, limit, 0 };
	int rc;

	rc = db_write(db, purge_tx, &pu);
	if (rc == 0)
		*deleted = pu.deleted;
	return rc;
}

/* audit trail */

static const char *const audit_names[AUDIT__MAX] = {
	"reset_requested",	 /* AUDIT_RESET_REQUESTED */
	"reset_mail_sent",	 /* AUDIT_RESET_MAIL_SENT */
	"reset_mail_failed",	 /* AUDIT_RESET_MAIL_FAILED */
	"secret_used",		 /* AUDIT_SECRET_USED */
	"secret_refused",	 /* AUDIT_SECRET_REFUSED */
	"password_changed",	 /* AUDIT_PASSWORD_CHANGED */
	"login_succeeded",	 /* AUDIT_LOGIN_SUCCEEDED */
	"login_failed",		 /* AUDIT_LOGIN_FAILED */
	"rate_limited",		 /* AUDIT_RATE_LIMITED */
	"api_key_revoked",	 /* AUDIT_API_KEY_REVOKED */
	"client_secret_rotated", /* AUDIT_CLIENT_SECRET_ROTATED */
	"user_disabled",	 /* AUDIT_USER_DISABLED */
	"user_enabled",		 /* AUDIT_USER_ENABLED */
	"user_deleted",		 /* AUDIT_USER_DELETED */
	"user_signed_out",	 /* AUDIT_USER_SIGNED_OUT */
	"password_set",		 /* AUDIT_PASSWORD_SET */
	"reset_required",	 /* AUDIT_RESET_REQUIRED */
};

const char *
store_audit_name(enum audit_kind k)
{
	if (k < 0 || k >= AUDIT__MAX)
		abort();
	return audit_names[k];
}

#define AUDIT_COLS \
	"id, project_id, created_at, event, client_ip, " \
	"user_agent, subject, detail"

static void *
audit_read(struct db_rows *r)
{
	struct audit_event *a = xcalloc(1, sizeof(*a));

	a->id = db_strdup(r, 0);
	a->project_id = db_strdup(r, 1);
	a->created_at = db_int(r, 2);
	a->event = db_strdup(r, 3);
	a->client_ip = db_strdup(r, 4);
	a->user_agent = db_strdup(r, 5);
	a->subject = db_strdup(r, 6);
	a->detail = db_strdup(r, 7);
	return a;
}

void
audit_event_free(struct audit_event *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->project_id);
	free(a->event);
	free(a->client_ip);
	free(a->user_agent);
	free(a->subject);
	free(a->detail);
	free(a);
}

int
store_audit_insert(struct db_conn *c, const struct audit_event *a)
{
	return exec_ok(db_exec(c,
	    "INSERT INTO audit_events (" AUDIT_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	    DB_ARGS(DB_TEXT(a->id), DB_TEXT(a->project_id),
		DB_INT(a->created_at), DB_TEXT(a->event), DB_TEXT(a->client_ip),
		DB_TEXT(a->user_agent), DB_TEXT(a->subject),
		DB_TEXT(a->detail))));
}

int
store_audit_query(struct db_conn *c, const char *project_id,
    const char *subject, int64_t since, int64_t until, int limit,
    struct store_list *out)
{
	return query_list(c,
	    "SELECT " AUDIT_COLS " FROM audit_events WHERE "
	    "($1 = '' OR project_id = $1) AND ($2 = '' OR subject = $2) AND "
	    "created_at >= $3 AND created_at < $4 ORDER BY created_at DESC, "
	    "id DESC LIMIT $5",
	    DB_ARGS(DB_TEXT(project_id ? project_id : ""),
		DB_TEXT(subject ? subject : ""), DB_INT(since), DB_INT(until),
		DB_INT(limit)),
	    audit_read, out);
}

int
store_audit_list(struct db_conn *c, const char *project_id, int limit,
    struct store_list *out)
{
	if (project_id == NULL)
		return query_list(c,
		    "SELECT " AUDIT_COLS " FROM audit_events "
		    "ORDER BY created_at DESC, id DESC LIMIT $1",
		    DB_ARGS(DB_INT(limit)), audit_read, out);
	return query_list(c,
	    "SELECT " AUDIT_COLS " FROM audit_events WHERE "
	    "project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
	    DB_ARGS(DB_TEXT(project_id), DB_INT(limit)), audit_read, out);
}
