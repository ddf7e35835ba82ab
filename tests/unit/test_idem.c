/*
 * Unit tests of idempotent calls (core/idem.c) and the pieces around them:
 * request fingerprints, key checks, prefixed ids, and the engine's use
 * cases run with a claim on a real SQLite database in a temporary
 * directory.
 *
 * The race tests make two retries collide deterministically: the outer
 * call's encode callback runs after its own lookup found nothing and before
 * its transaction, so a complete call with the same key made from inside it
 * commits first, and the outer call must roll back and replay its answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "core/engine.h"
#include "core/engine_internal.h"
#include "log.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct config *cfg;
	struct db *db;
	struct engine *e;
	struct project *p;
	int nusers;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct project_spec spec = { .name = "unit", PROJECT_SPEC_DEFAULTS };
	char url[128], err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/resetd-unit-idem-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
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
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];
	const char *const files[] = { "t.db", "t.db-wal", "t.db-shm", NULL };
	int i;

	project_free(f->p);
	engine_free(f->e);
	db_close(f->db);
	config_free(f->cfg);
	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A new user of the fixture's project, with a password; its email in out. */
static void
new_user(struct fixture *f, char *out, size_t outlen)
{
	struct user_spec spec;
	struct user *u = NULL;
	char err[256];

	snprintf(out, outlen, "u%d-%u@example.com", ++f->nusers,
	    randombytes_random());
	spec = (struct user_spec){
		.project_id = f->p->id,
		.email = out,
		.password = "an old password",
	};
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_OK);
	user_free(u);
}

static void
claim_init(struct idem_claim *c, const char *key, const char *body,
    void (*encode)(void *, const struct idem_outcome *, struct idem_answer *),
    void *arg)
{
	memset(c, 0, sizeof(*c));
	c->key = key;
	idem_fingerprint("POST", "/test", body, strlen(body), c->fingerprint);
	c->encode = encode;
	c->encode_arg = arg;
}

/* Pending outbox rows addressed to email. */
static size_t
mails_to(struct fixture *f, const char *email)
{
	struct store_list l = { NULL, 0 };
	struct db_conn *c = db_acquire(f->db);
	size_t i, n = 0;

	assert_non_null(c);
	assert_int_equal(store_outbox_list(c, "pending", 1000, &l), STORE_OK);
	db_release(f->db, c);
	for (i = 0; i < l.n; i++)
		if (strcmp(((struct outbox_msg *)l.items[i])->to_addr, email) ==
		    0)
			n++;
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
	return n;
}

/* pure pieces */

static void
test_fingerprint(void **state)
{
	char a[IDEM_FINGERPRINT_LEN + 1], b[IDEM_FINGERPRINT_LEN + 1];

	(void)state;
	idem_fingerprint("POST", "/p", "{}", 2, a);
	assert_int_equal(strlen(a), IDEM_FINGERPRINT_LEN);
	idem_fingerprint("POST", "/p", "{}", 2, b);
	assert_string_equal(a, b);
	idem_fingerprint("PUT", "/p", "{}", 2, b);
	assert_string_not_equal(a, b);
	idem_fingerprint("POST", "/q", "{}", 2, b);
	assert_string_not_equal(a, b);
	idem_fingerprint("POST", "/p", "{ }", 3, b);
	assert_string_not_equal(a, b);
	/* Only len bytes of the body count. */
	idem_fingerprint("POST", "/p", "{}xyz", 2, b);
	assert_string_equal(a, b);
	/* Parts are length-prefixed, so moving a byte across them shows. */
	idem_fingerprint("POST", "/pa", "b", 1, a);
	idem_fingerprint("POST", "/p", "ab", 2, b);
	assert_string_not_equal(a, b);
	/* No body and an empty one are the same request. */
	idem_fingerprint("GET", "/p", NULL, 0, a);
	idem_fingerprint("GET", "/p", "", 0, b);
	assert_string_equal(a, b);
}

static void
test_key_valid(void **state)
{
	char key[300];

	(void)state;
	assert_true(
	    idem_key_valid("retry-64eedb98-8c16-4faf-85d6-43fde804d95d"));
	assert_true(idem_key_valid("k"));
	assert_false(idem_key_valid(NULL));
	assert_false(idem_key_valid(""));
	assert_false(idem_key_valid("has space"));
	assert_false(idem_key_valid("tab\there"));
	assert_false(idem_key_valid("caf\xc3\xa9"));
	memset(key, 'k', sizeof(key));
	key[IDEM_KEY_MAX] = '\0';
	assert_true(idem_key_valid(key));
	key[IDEM_KEY_MAX] = 'k';
	key[IDEM_KEY_MAX + 1] = '\0';
	assert_false(idem_key_valid(key));
}

static void
test_prefixed_ids(void **state)
{
	char uuid[UUID_STRLEN + 1], back[UUID_STRLEN + 1];
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++) {
		id_new(uuid);
		s = id_prefixed("user_", uuid);
		assert_non_null(s);
		assert_int_equal(strlen(s), 5 + ULID_STRLEN);
		assert_int_equal(id_unprefix("user_", s, back), 0);
		assert_string_equal(back, uuid);
		/* The wrong prefix names nothing. */
		assert_int_equal(id_unprefix("password_reset_", s, back), -1);
		free(s);
	}
	/* A known pair: the nil UUID and the largest. */
	s = id_prefixed("password_reset_",
	    "00000000-0000-0000-0000-000000000000");
	assert_string_equal(s, "password_reset_00000000000000000000000000");
	free(s);
	s = id_prefixed("x_", "ffffffff-ffff-ffff-ffff-ffffffffffff");
	assert_string_equal(s, "x_7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
	free(s);
	/* Lower case is the same ULID. */
	assert_int_equal(id_unprefix("x_", "x_7zzzzzzzzzzzzzzzzzzzzzzzzz",
			     back),
	    0);
	assert_string_equal(back, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	/* Past 128 bits, wrong length, letters Crockford leaves out. */
	assert_int_equal(id_unprefix("x_", "x_80000000000000000000000000",
			     back),
	    -1);
	assert_int_equal(id_unprefix("x_", "x_0000000000000000000000000", back),
	    -1);
	assert_int_equal(id_unprefix("x_", "x_000000000000000000000000000",
			     back),
	    -1);
	assert_int_equal(id_unprefix("x_", "x_0000000000000000000000000U",
			     back),
	    -1);
	assert_int_equal(id_unprefix("x_", "x_", back), -1);
	assert_int_equal(id_unprefix("x_", "", back), -1);
	/* Not a UUID, or a prefix too long. */
	assert_null(id_prefixed("user_", "not-a-uuid"));
	assert_null(
	    id_prefixed("a_prefix_longer_than_thirty_two_bytes_", uuid));
}

/* use cases with a claim */

struct nest {
	struct fixture *f;
	const char *email;
	const char *key;
	const char *body;
	const char *token; /* confirm */
	int depth;
	enum engine_result inner;
	char *inner_body;
	char *inner_token;
};

static void
encode_ticket(void *, const struct idem_outcome *, struct idem_answer *);

/* The same reset request, run to its end; the result goes into n. */
static enum engine_result
request_with(struct nest *n, struct idem_claim *claim, struct reset_ticket *t)
{
	struct reset_request in = {
		.project = n->f->p,
		.login = n->email,
		.link_style = LINK_TOKEN,
		.trusted = 1,
		.idem = claim,
	};

	claim_init(claim, n->key, n->body, encode_ticket, n);
	memset(t, 0, sizeof(*t));
	return reset_request(n->f->e, &in, t);
}

static void
encode_ticket(void *arg, const struct idem_outcome *o, struct idem_answer *out)
{
	struct nest *n = arg;
	struct idem_claim inner;
	struct reset_ticket t;

	if (n != NULL && n->depth == 0) {
		/* A retry with the same key overtakes this call. */
		n->depth = 1;
		n->inner = request_with(n, &inner, &t);
		if (n->inner == ENGINE_OK) {
			n->inner_body = strdup(inner.answer.body);
			n->inner_token = strdup(t.token);
		}
		reset_ticket_clear(&t);
		idem_claim_clear(&inner);
	}
	out->status = 201;
	out->body = xasprintf("{\"id\":\"%s\",\"token\":\"%s\"}",
	    o->ticket->secret_id, o->ticket->token);
}

static void
test_replay_and_mismatch(void **state)
{
	struct fixture *f = *state;
	struct nest n = { .f = f,
		.key = "k-replay",
		.body = "{1}",
		.depth = 1 };
	struct idem_claim c1, c2, c3;
	struct reset_ticket t1, t2, t3;
	char email[64];

	new_user(f, email, sizeof(email));
	n.email = email;
	assert_int_equal(request_with(&n, &c1, &t1), ENGINE_OK);
	assert_int_equal(c1.answer.status, 201);
	assert_non_null(strstr(c1.answer.body, t1.token));
	assert_int_equal(request_with(&n, &c2, &t2), ENGINE_REPLAYED);
	assert_int_equal(c2.answer.status, 201);
	assert_string_equal(c2.answer.body, c1.answer.body);
	assert_null(t2.token);
	n.body = "{2}";
	assert_int_equal(request_with(&n, &c3, &t3),
	    ENGINE_IDEMPOTENCY_MISMATCH);
	assert_int_equal(mails_to(f, email), 1);
	reset_ticket_clear(&t1);
	reset_ticket_clear(&t2);
	reset_ticket_clear(&t3);
	idem_claim_clear(&c1);
	idem_claim_clear(&c2);
	idem_claim_clear(&c3);
}

static void
test_race_request(void **state)
{
	struct fixture *f = *state;
	struct nest n = { .f = f, .key = "k-race-request", .body = "{}" };
	struct idem_claim claim;
	struct reset_ticket t;
	struct reset_confirm rc;
	struct user *u = NULL;
	char email[64];

	new_user(f, email, sizeof(email));
	n.email = email;
	assert_int_equal(request_with(&n, &claim, &t), ENGINE_REPLAYED);
	assert_int_equal(n.inner, ENGINE_OK);
	assert_string_equal(claim.answer.body, n.inner_body);
	/* The loser's secret and email were rolled back with it. */
	assert_int_equal(mails_to(f, email), 1);
	rc = (struct reset_confirm){
		.project = f->p,
		.token = n.inner_token,
		.new_password = "a new password",
	};
	assert_int_equal(reset_confirm(f->e, &rc, &u), ENGINE_OK);
	assert_int_equal(u->email_verified, 1);
	user_free(u);
	reset_ticket_clear(&t);
	idem_claim_clear(&claim);
	free(n.inner_body);
	free(n.inner_token);
}

static void
encode_user(void *, const struct idem_outcome *, struct idem_answer *);

static enum engine_result
confirm_with(struct nest *n, struct idem_claim *claim, struct user **u)
{
	struct reset_confirm in = {
		.project = n->f->p,
		.token = n->token,
		.new_password = "a new password",
		.idem = claim,
	};

	claim_init(claim, n->key, n->body, encode_user, n);
	*u = NULL;
	return reset_confirm(n->f->e, &in, u);
}

static void
encode_user(void *arg, const struct idem_outcome *o, struct idem_answer *out)
{
	struct nest *n = arg;
	struct idem_claim inner;
	struct user *u;

	if (n != NULL && n->depth == 0) {
		n->depth = 1;
		n->inner = confirm_with(n, &inner, &u);
		if (n->inner == ENGINE_OK)
			n->inner_body = strdup(inner.answer.body);
		user_free(u);
		idem_claim_clear(&inner);
	}
	out->status = 200;
	out->body = xasprintf("{\"user\":\"%s\",\"verified\":%d,\"at\":%lld}",
	    o->user->id, o->user->email_verified,
	    (long long)o->user->updated_at);
}

static void
test_race_confirm(void **state)
{
	struct fixture *f = *state;
	struct nest n = { .f = f,
		.key = "k-race-confirm",
		.body = "{}",
		.depth = 1 };
	struct idem_claim claim;
	struct reset_ticket t;
	struct user *u = NULL;
	char email[64];

	new_user(f, email, sizeof(email));
	n.email = email;
	n.key = "k-race-confirm-request";
	assert_int_equal(request_with(&n, &claim, &t), ENGINE_OK);
	idem_claim_clear(&claim);
	n.key = "k-race-confirm";
	n.token = t.token;
	n.depth = 0;
	assert_int_equal(confirm_with(&n, &claim, &u), ENGINE_REPLAYED);
	assert_int_equal(n.inner, ENGINE_OK);
	assert_string_equal(claim.answer.body, n.inner_body);
	assert_null(u);
	/* One "password changed" notice besides the reset email. */
	assert_int_equal(mails_to(f, email), 2);
	idem_claim_clear(&claim);
	/* Later, the spent token still replays under its key... */
	n.depth = 1;
	assert_int_equal(confirm_with(&n, &claim, &u), ENGINE_REPLAYED);
	assert_string_equal(claim.answer.body, n.inner_body);
	idem_claim_clear(&claim);
	/* ...and fails under another. */
	n.key = "k-race-confirm-other";
	assert_int_equal(confirm_with(&n, &claim, &u), ENGINE_SECRET_INVALID);
	idem_claim_clear(&claim);
	reset_ticket_clear(&t);
	free(n.inner_body);
}

static void
test_settle_after_failure(void **state)
{
	struct fixture *f = *state;
	struct nest n = { .f = f, .key = "k-settle", .body = "{}", .depth = 1 };
	struct idem_claim claim, late;
	struct reset_ticket t;
	char email[64];

	new_user(f, email, sizeof(email));
	n.email = email;
	/* No record: a failure stays itself. */
	claim_init(&late, "k-settle", "{}", encode_ticket, NULL);
	assert_int_equal(idem_settle(f->e, f->p->id, &late,
			     ENGINE_SECRET_INVALID),
	    ENGINE_SECRET_INVALID);
	assert_int_equal(idem_settle(f->e, f->p->id, NULL,
			     ENGINE_SECRET_INVALID),
	    ENGINE_SECRET_INVALID);
	/* Once a racing call committed, a failure becomes its replay. */
	assert_int_equal(request_with(&n, &claim, &t), ENGINE_OK);
	assert_int_equal(idem_settle(f->e, f->p->id, &late,
			     ENGINE_SECRET_INVALID),
	    ENGINE_REPLAYED);
	assert_string_equal(late.answer.body, claim.answer.body);
	idem_claim_clear(&late);
	claim_init(&late, "k-settle", "{other}", encode_ticket, NULL);
	assert_int_equal(idem_settle(f->e, f->p->id, &late,
			     ENGINE_SECRET_INVALID),
	    ENGINE_IDEMPOTENCY_MISMATCH);
	idem_claim_clear(&late);
	idem_claim_clear(&claim);
	reset_ticket_clear(&t);
}

static void
test_record_sealed_and_expires(void **state)
{
	struct fixture *f = *state;
	struct nest n = { .f = f, .key = "k-sealed", .body = "{}", .depth = 1 };
	struct idem_claim claim;
	struct reset_ticket t;
	struct idem_record *r = NULL;
	struct db_conn *c;
	char email[64];
	int64_t now;

	new_user(f, email, sizeof(email));
	n.email = email;
	assert_int_equal(request_with(&n, &claim, &t), ENGINE_OK);
	c = db_acquire(f->db);
	assert_non_null(c);
	now = db_now(f->db);
	assert_int_equal(store_idem_get(c, f->p->id, "k-sealed", now, &r),
	    STORE_OK);
	assert_string_equal(r->fingerprint, claim.fingerprint);
	assert_int_equal(r->status, 201);
	assert_true(r->expires_at - r->created_at == IDEM_TTL_MS);
	/* The token is in the answer, but not in the database. */
	assert_non_null(strstr(claim.answer.body, t.token));
	assert_null(strstr(r->answer_sealed, t.token));
	idem_record_free(r);
	r = NULL;
	assert_int_equal(store_idem_get(c, f->p->id, "k-sealed",
			     now + IDEM_TTL_MS + 1, &r),
	    STORE_NOT_FOUND);
	assert_int_equal(store_idem_get(c, "another project", "k-sealed", now,
			     &r),
	    STORE_NOT_FOUND);
	db_release(f->db, c);
	idem_claim_clear(&claim);
	reset_ticket_clear(&t);
}

static void
test_user_create_replay(void **state)
{
	struct fixture *f = *state;
	struct idem_claim c1, c2;
	struct user_spec spec;
	struct user *u = NULL;
	char err[256];

	spec = (struct user_spec){
		.project_id = f->p->id,
		.email = "replayed-user@example.com",
		.password = "short",
		.idem = &c1,
	};
	claim_init(&c1, "k-user", "{}", encode_user, NULL);
	/* A weak password is reported as such, and nothing is recorded. */
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_PASSWORD_TOO_SHORT);
	spec.password = "long enough now";
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_OK);
	user_free(u);
	u = NULL;
	claim_init(&c2, "k-user", "{}", encode_user, NULL);
	spec.idem = &c2;
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_REPLAYED);
	assert_null(u);
	assert_string_equal(c2.answer.body, c1.answer.body);
	/* Without the key the email is taken. */
	spec.idem = NULL;
	assert_int_equal(admin_user_create(f->e, &spec, &u, err, sizeof(err)),
	    ENGINE_CONFLICT);
	idem_claim_clear(&c1);
	idem_claim_clear(&c2);
}

#define WITH_DB(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * What a transaction of core returned becomes one engine result: a store
 * code never reads as a result (STORE_NOT_FOUND and ENGINE_PROJECT_UNKNOWN
 * are both 1), and a refusal without an outcome is no success.
 */
static void
test_tx_result(void **state)
{
	(void)state;
	assert_int_equal(tx_result(0, ENGINE_OK), ENGINE_OK);
	assert_int_equal(tx_result(0, ENGINE_THROTTLED), ENGINE_OK);
	assert_int_equal(tx_result(TX_REFUSED, ENGINE_REPLAYED),
	    ENGINE_REPLAYED);
	assert_int_equal(tx_result(TX_REFUSED, ENGINE_SECRET_EXPIRED),
	    ENGINE_SECRET_EXPIRED);
	assert_int_equal(tx_result(TX_REFUSED, ENGINE_OK), ENGINE_UNAVAILABLE);
	assert_int_equal(tx_result(DB_ERROR, ENGINE_OK), ENGINE_UNAVAILABLE);
	assert_int_equal(tx_result(DB_CONSTRAINT, ENGINE_REPLAYED),
	    ENGINE_UNAVAILABLE);
	assert_int_equal(tx_result(STORE_NOT_FOUND, ENGINE_OK),
	    ENGINE_UNAVAILABLE);
	assert_int_not_equal(TX_REFUSED, STORE_NOT_FOUND);
	assert_true(TX_REFUSED > ENGINE__MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_result),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_key_valid),
		cmocka_unit_test(test_prefixed_ids),
		WITH_DB(test_replay_and_mismatch),
		WITH_DB(test_race_request),
		WITH_DB(test_race_confirm),
		WITH_DB(test_settle_after_failure),
		WITH_DB(test_record_sealed_and_expires),
		WITH_DB(test_user_create_replay),
	};

	return cmocka_run_group_tests_name("idem", tests, NULL, NULL);
}
