/*
 * Unit tests of the sign-in back-off (core/backoff.c) through a real
 * engine on a temporary SQLite file: the subject a login is counted by,
 * the exponential hold and its cap, and session_login answering a real
 * and an unknown login alike.  Time is not waited for: a test lets a hold
 * pass by clearing until_ms in the row, which keeps the count.
 */
#include "unit.h"

#include <sodium.h>

#include "config.h"
#include "core/engine.h"
#include "core/engine_internal.h"
#include "log.h"
#include "store/store.h"

struct fixture {
	char dir[UNIT_DIR_MAX];
	struct config *cfg;
	struct db *db;
	struct engine *e;
	struct project *p;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct project_spec spec = { .name = "unit", PROJECT_SPEC_DEFAULTS };
	struct user_spec us = {
		.email = "alice@example.com",
		.password = "correct horse battery staple",
	};
	struct user *u = NULL;
	char url[UNIT_PATH_MAX], err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	unit_tmpdir(f->dir);
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	unsetenv("RESETD_CONFIG");
	setenv("RESETD_DATABASE", url, 1);
	setenv("RESETD_ARGON2_MEMORY_KIB", "8192", 1);
	setenv("RESETD_ARGON2_OPSLIMIT", "1", 1);
	setenv("RESETD_LOGIN_BACKOFF_AFTER", "3", 1);
	setenv("RESETD_LOGIN_BACKOFF_BASE", "2", 1);
	setenv("RESETD_LOGIN_BACKOFF_MAX", "10", 1);
	assert_int_equal(config_load(NULL, &f->cfg, err, sizeof(err)), 0);
	assert_int_equal(log_set_level("error"), 0);
	assert_int_equal(db_open(f->cfg->database, 4, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->e = engine_new(f->cfg, f->db);
	assert_non_null(f->e);
	assert_int_equal(admin_project_create(f->e, &spec, &f->p, err,
			     sizeof(err)),
	    ENGINE_OK);
	us.project_id = f->p->id;
	assert_int_equal(admin_user_create(f->e, &us, &u, err, sizeof(err)),
	    ENGINE_OK);
	user_free(u);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	project_free(f->p);
	engine_free(f->e);
	db_close(f->db);
	config_free(f->cfg);
	unsetenv("RESETD_LOGIN_BACKOFF_AFTER");
	unsetenv("RESETD_LOGIN_BACKOFF_BASE");
	unsetenv("RESETD_LOGIN_BACKOFF_MAX");
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static int
clear_hold(struct db_conn *c, void *arg)
{
	(void)arg;
	return db_exec(c, "UPDATE login_backoff SET until_ms = 0", DB_NOARGS) <
		0 ?
	    -1 :
	    0;
}

/* The hold the row of subject holds now, in ms past its last try. */
static int64_t
hold_of(struct fixture *f, const char *subject, int64_t *failures)
{
	struct db_conn *c = db_acquire(f->db);
	struct db_rows *r;
	int64_t hold = -1;

	assert_non_null(c);
	assert_int_equal(db_query(c,
			     "SELECT until_ms, last_ms, failures "
			     "FROM login_backoff WHERE subject = $1",
			     DB_ARGS(DB_TEXT(subject)), &r),
	    0);
	if (db_next(r) == 1) {
		hold = db_int(r, 0) == 0 ? 0 : db_int(r, 0) - db_int(r, 1);
		*failures = db_int(r, 2);
	}
	db_done(r);
	db_release(f->db, c);
	return hold;
}

/* SQLite's count of commits by other connections, as c sees it. */
static int64_t
data_version(struct db_conn *c)
{
	struct db_rows *r;
	int64_t v;

	assert_int_equal(db_query(c, "PRAGMA data_version", DB_NOARGS, &r), 0);
	assert_int_equal(db_next(r), 1);
	v = db_int(r, 0);
	db_done(r);
	return v;
}

/* One login of login with password; its result, and the wait if held. */
static enum engine_result
try_login(struct fixture *f, const char *login, const char *password,
    int64_t *wait)
{
	struct login_request in = { .project = f->p,
		.login = login,
		.password = password };
	struct login_result lr = { .session = NULL };
	enum engine_result res;

	res = session_login(f->e, &in, &lr);
	*wait = lr.retry_after_s;
	login_result_clear(&lr);
	return res;
}

/* The subject: the login as lookups see it, per project, 32 hex. */
static void
test_subject(void **state)
{
	struct fixture *f = *state;
	char a[BACKOFF_SUBJECT_LEN + 1], b[BACKOFF_SUBJECT_LEN + 1];
	size_t i;

	backoff_subject(f->e, f->p->id, "Alice@Example.COM", a);
	backoff_subject(f->e, f->p->id, "alice@example.com", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), BACKOFF_SUBJECT_LEN);
	for (i = 0; i < BACKOFF_SUBJECT_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	backoff_subject(f->e, "another-project", "alice@example.com", b);
	assert_string_not_equal(a, b);
	backoff_subject(f->e, f->p->id, "alice@example.co", b);
	assert_string_not_equal(a, b);
}

/*
 * From the third try on, each try holds the login 2 s, then 4, 8, and
 * 10 (the cap); a held try is refused, whatever the password, and not
 * counted.  A real and an unknown login go through the same steps.
 */
static void
test_exponential(void **state)
{
	struct fixture *f = *state;
	const char *logins[] = { "alice@example.com", "nobody@example.com" };
	const int64_t holds[] = { 0, 0, 2000, 4000, 8000, 10000, 10000 };
	char subject[BACKOFF_SUBJECT_LEN + 1];
	int64_t wait, failures = 0, version;
	struct db_conn *c;
	size_t i, k;

	for (i = 0; i < 2; i++) {
		backoff_subject(f->e, f->p->id, logins[i], subject);
		for (k = 0; k < sizeof(holds) / sizeof(holds[0]); k++) {
			assert_int_equal(try_login(f, logins[i], "wrong guess",
					     &wait),
			    ENGINE_CREDENTIALS_INVALID);
			assert_int_equal(hold_of(f, subject, &failures),
			    holds[k]);
			assert_int_equal(failures, (int64_t)k + 1);
			if (holds[k] == 0)
				continue;
			/*
			 * Held: the right password too, not counted, and
			 * nothing written (a flood of held tries is reads).
			 */
			c = db_acquire(f->db);
			assert_non_null(c);
			version = data_version(c);
			assert_int_equal(try_login(f, logins[i],
					     "correct horse battery staple",
					     &wait),
			    ENGINE_THROTTLED);
			assert_int_equal(data_version(c), version);
			db_release(f->db, c);
			assert_true(wait >= 1 && wait <= holds[k] / 1000);
			assert_int_equal(hold_of(f, subject, &failures),
			    holds[k]);
			assert_int_equal(failures, (int64_t)k + 1);
			assert_int_equal(db_write(f->db, clear_hold, NULL), 0);
		}
	}
	/* A success forgets the tries: the row is gone. */
	assert_int_equal(try_login(f, "ALICE@example.com",
			     "correct horse battery staple", &wait),
	    ENGINE_OK);
	backoff_subject(f->e, f->p->id, logins[0], subject);
	assert_int_equal(hold_of(f, subject, &failures), -1);
	/* The unknown login's row stays, with its count. */
	backoff_subject(f->e, f->p->id, logins[1], subject);
	assert_int_equal(hold_of(f, subject, &failures), 0);
	assert_int_equal(failures, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exponential, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
