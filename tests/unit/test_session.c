/*
 * Unit tests of sessions and their tokens (core/session.c, core/keyring.c)
 * through a real engine on a temporary SQLite file: every kind of token
 * checks as its own kind and as no other; a token of another project, a
 * revoked session, and a key rotated out and past its time are refused;
 * a check uses the parsed key it cached, without reading or parsing the
 * key again (the rows are spoilt under it and it still verifies); refresh
 * tokens rotate, and a spent one revokes its family; nothing is written
 * for a refused refresh.
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
	struct project *p, *q; /* two projects */
};

static const struct claim_map access_map = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "origin_jti",
		[CF_TOKEN_ID] = "jti",
		[CF_CLIENT] = "client_id",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
	},
	.fixed = { { "token_use", "access" } },
};

static const struct claim_map id_map = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "origin_jti",
		[CF_CLIENT] = "aud",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
		[CF_EMAIL] = "email",
	},
	.fixed = { { "token_use", "id" } },
};

static const struct claim_map login_map = {
	.name = {
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "jti",
		[CF_PROJECT] = "xsolla_login_project_id",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
		[CF_GROUPS] = "groups",
	},
	.fixed = { { "type", "xsolla_login" } },
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
	assert_int_equal(config_load(NULL, &f->cfg, err, sizeof(err)), 0);
	assert_int_equal(log_set_level("error"), 0);
	assert_int_equal(db_open(f->cfg->database, 4, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->e = engine_new(f->cfg, f->db);
	assert_non_null(f->e);
	assert_int_equal(admin_project_create(f->e, &spec, &f->p, err,
			     sizeof(err)),
	    ENGINE_OK);
	assert_int_equal(admin_project_create(f->e, &spec, &f->q, err,
			     sizeof(err)),
	    ENGINE_OK);
	us.project_id = f->p->id;
	assert_int_equal(admin_user_create(f->e, &us, &u, err, sizeof(err)),
	    ENGINE_OK);
	user_free(u);
	us.project_id = f->q->id;
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
	project_free(f->q);
	engine_free(f->e);
	db_close(f->db);
	config_free(f->cfg);
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static void
login(struct fixture *f, struct project *p, enum session_face face,
    const char *client, struct login_result *lr)
{
	struct login_request in = { .project = p,
		.login = "alice@example.com",
		.password = "correct horse battery staple",
		.face = face,
		.client_id = client };

	memset(lr, 0, sizeof(*lr));
	assert_int_equal(session_login(f->e, &in, lr), ENGINE_OK);
}

static enum engine_result
check(struct fixture *f, struct project *p, enum token_kind k,
    const struct claim_map *map, const char *tok)
{
	struct token_check tc = { .session = NULL };
	enum engine_result r;

	r = session_token_check(f->e, p, k, map, tok, &tc);
	if (r == ENGINE_OK)
		assert_non_null(tc.user);
	token_check_clear(&tc);
	return r;
}

static int
exec_sql(struct db_conn *c, void *arg)
{
	return db_exec(c, arg, DB_NOARGS) < 0 ? -1 : 0;
}

static void
sql(struct fixture *f, const char *text)
{
	assert_int_equal(db_write(f->db, exec_sql, (void *)text), 0);
}

static int64_t
count(struct fixture *f, const char *query)
{
	struct db_conn *c = db_acquire(f->db);
	struct db_rows *r;
	int64_t n = -1;

	assert_non_null(c);
	assert_int_equal(db_query(c, query, DB_NOARGS, &r), 0);
	if (db_next(r) == 1)
		n = db_int(r, 0);
	db_done(r);
	db_release(f->db, c);
	return n;
}

/* Each kind checks as itself, and never as another kind or project. */
static void
test_kinds(void **state)
{
	struct fixture *f = *state;
	struct login_result lr, lx;
	char *access = NULL, *id = NULL, *x = NULL;

	login(f, f->p, SF_COGNITO, "client_A", &lr);
	assert_non_null(lr.refresh_token);
	assert_int_equal(session_token(f->e, f->p, TK_COGNITO_ACCESS,
			     &access_map, &lr, "client_A", &access),
	    ENGINE_OK);
	assert_int_equal(session_token(f->e, f->p, TK_COGNITO_ID, &id_map, &lr,
			     "client_A", &id),
	    ENGINE_OK);
	login(f, f->p, SF_XSOLLA, NULL, &lx);
	assert_null(lx.refresh_token);
	assert_int_equal(session_token(f->e, f->p, TK_XSOLLA_LOGIN, &login_map,
			     &lx, NULL, &x),
	    ENGINE_OK);

	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, access),
	    ENGINE_OK);
	assert_int_equal(check(f, NULL, TK_COGNITO_ACCESS, &access_map, access),
	    ENGINE_OK);
	assert_int_equal(check(f, f->p, TK_COGNITO_ID, &id_map, id), ENGINE_OK);
	assert_int_equal(check(f, f->p, TK_XSOLLA_LOGIN, &login_map, x),
	    ENGINE_OK);
	/* An ID token where an access token is expected, and so on. */
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, id),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->p, TK_COGNITO_ID, &id_map, access),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, x),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->p, TK_XSOLLA_LOGIN, &login_map, access),
	    ENGINE_SESSION_INVALID);
	/* Another project's. */
	assert_int_equal(check(f, f->q, TK_COGNITO_ACCESS, &access_map, access),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->q, TK_XSOLLA_LOGIN, &login_map, x),
	    ENGINE_SESSION_INVALID);
	/* Revoked: every token of the session dies. */
	assert_int_equal(session_revoke_user(f->e, f->p, lr.user->id),
	    ENGINE_OK);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, access),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->p, TK_XSOLLA_LOGIN, &login_map, x),
	    ENGINE_SESSION_INVALID);
	xfree_secret(access);
	xfree_secret(id);
	xfree_secret(x);
	login_result_clear(&lr);
	login_result_clear(&lx);
}

/*
 * A check uses the key it parsed and cached: with every key row spoilt
 * (its sealed secret no longer opens) a token still verifies, so nothing
 * was read or parsed again.  A key rotated out verifies until its time,
 * and then it is refused; new tokens carry the new kid.
 */
static void
test_rotation_and_cache(void **state)
{
	struct fixture *f = *state;
	struct login_result lr;
	char *old = NULL, *fresh = NULL, kid[UUID_STRLEN + 1];
	char *saved;

	login(f, f->p, SF_COGNITO, "client_A", &lr);
	assert_int_equal(session_token(f->e, f->p, TK_COGNITO_ACCESS,
			     &access_map, &lr, "client_A", &old),
	    ENGINE_OK);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, old),
	    ENGINE_OK);
	sql(f, "UPDATE signing_keys SET secret_sealed = 'spoilt'");
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, old),
	    ENGINE_OK);
	keyring_free(f->e); /* drop the cache: now the spoilt rows count */
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, old),
	    ENGINE_SESSION_INVALID);
	/* A fresh start: new keys, a token of the first. */
	sql(f, "DELETE FROM signing_keys");
	keyring_free(f->e);
	xfree_secret(old);
	assert_int_equal(session_token(f->e, f->p, TK_COGNITO_ACCESS,
			     &access_map, &lr, "client_A", &old),
	    ENGINE_OK);
	assert_int_equal(keyring_rotate(f->e, f->p->id, JWT_RS256, kid),
	    ENGINE_OK);
	assert_int_equal(session_token(f->e, f->p, TK_COGNITO_ACCESS,
			     &access_map, &lr, "client_A", &fresh),
	    ENGINE_OK);
	saved = strchr(fresh, '.');
	assert_non_null(saved);
	/* The old token verifies, and the new one names the new kid. */
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, old),
	    ENGINE_OK);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, fresh),
	    ENGINE_OK);
	assert_int_equal(count(f,
			     "SELECT COUNT(*) FROM signing_keys WHERE "
			     "retired_at IS NULL"),
	    1);
	assert_int_equal(count(f,
			     "SELECT COUNT(*) FROM signing_keys WHERE "
			     "verify_until IS NOT NULL"),
	    1);
	/* Past its time, the rotated-out key is refused, cached or not. */
	sql(f,
	    "UPDATE signing_keys SET verify_until = 1 WHERE verify_until "
	    "IS NOT NULL");
	keyring_free(f->e);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, old),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(check(f, f->p, TK_COGNITO_ACCESS, &access_map, fresh),
	    ENGINE_OK);
	xfree_secret(old);
	xfree_secret(fresh);
	login_result_clear(&lr);
}

/* Rotation, reuse revoking the family, another client; no refusal writes. */
static void
test_refresh(void **state)
{
	struct fixture *f = *state;
	struct login_result lr, r1, r2;
	struct refresh_request in;
	int64_t before;

	login(f, f->p, SF_WORKOS, "client_W", &lr);
	in = (struct refresh_request){ f->p, SF_WORKOS, "client_W",
		lr.refresh_token, NULL };
	memset(&r1, 0, sizeof(r1));
	assert_int_equal(session_refresh(f->e, &in, &r1), ENGINE_OK);
	assert_non_null(r1.refresh_token);
	assert_string_not_equal(r1.refresh_token, lr.refresh_token);
	assert_string_equal(r1.session->id, lr.session->id);
	/* Another client, another project, garbage: refused, nothing written. */
	before = count(f,
	    "SELECT COUNT(*) + COALESCE(SUM(used_at), 0) FROM "
	    "refresh_tokens");
	memset(&r2, 0, sizeof(r2));
	in = (struct refresh_request){ f->p, SF_WORKOS, "client_X",
		r1.refresh_token, NULL };
	assert_int_equal(session_refresh(f->e, &in, &r2),
	    ENGINE_SESSION_INVALID);
	in = (struct refresh_request){ f->q, SF_WORKOS, "client_W",
		r1.refresh_token, NULL };
	assert_int_equal(session_refresh(f->e, &in, &r2),
	    ENGINE_SESSION_INVALID);
	in.token = "not a refresh token";
	assert_int_equal(session_refresh(f->e, &in, &r2),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(count(f,
			     "SELECT COUNT(*) + COALESCE(SUM(used_at), 0) "
			     "FROM refresh_tokens"),
	    before);
	assert_int_equal(count(f,
			     "SELECT COUNT(*) FROM sessions WHERE "
			     "revoked_at IS NOT NULL"),
	    0);
	/* The spent one again: refused, and the family is revoked. */
	in = (struct refresh_request){ f->p, SF_WORKOS, "client_W",
		lr.refresh_token, NULL };
	assert_int_equal(session_refresh(f->e, &in, &r2),
	    ENGINE_SESSION_INVALID);
	in.token = r1.refresh_token;
	assert_int_equal(session_refresh(f->e, &in, &r2),
	    ENGINE_SESSION_INVALID);
	login_result_clear(&lr);
	login_result_clear(&r1);
	login_result_clear(&r2);

	/* Cognito's are reused, and give no new one. */
	login(f, f->p, SF_COGNITO, "client_C", &lr);
	in = (struct refresh_request){ f->p, SF_COGNITO, "client_C",
		lr.refresh_token, NULL };
	memset(&r1, 0, sizeof(r1));
	assert_int_equal(session_refresh(f->e, &in, &r1), ENGINE_OK);
	assert_null(r1.refresh_token);
	login_result_clear(&r1);
	assert_int_equal(session_refresh(f->e, &in, &r1), ENGINE_OK);
	login_result_clear(&r1);
	assert_int_equal(session_revoke_refresh(f->e, f->p, "client_X",
			     lr.refresh_token),
	    ENGINE_SESSION_INVALID);
	assert_int_equal(session_refresh(f->e, &in, &r1), ENGINE_OK);
	login_result_clear(&r1);
	assert_int_equal(session_revoke_refresh(f->e, f->p, "client_C",
			     lr.refresh_token),
	    ENGINE_OK);
	assert_int_equal(session_refresh(f->e, &in, &r1),
	    ENGINE_SESSION_INVALID);
	login_result_clear(&lr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_and_cache, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
