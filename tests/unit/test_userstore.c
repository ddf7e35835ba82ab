/*
 * Unit tests of user storage's pure parts (core/userstore.c): the strict
 * reading of an app's answers, the settings check, the claims of the
 * token each call carries, and the refusals of a call that never leaves
 * the machine (mail/webhook.c's webhook_call).  The e2e tests run the
 * calls against a real app (tests/e2e/userstorage.test.js).
 */
#include "unit.h"

#include "core/jwt.h"
#include "core/userstore.h"
#include "mail/webhook.h"

#define JSON "application/json"

static int
parse(const char *ctype, const char *body, struct storage_user *su)
{
	char err[STORAGE_ERR_MAX];

	memset(su, 0, sizeof(*su));
	return storage_parse_user(ctype, body, strlen(body), su, err,
	    sizeof(err));
}

static void
test_parse_user(void **state)
{
	struct storage_user su;
	char big[WEBHOOK_ANSWER_MAX + 64];

	(void)state;
	assert_int_equal(parse(JSON,
			     "{\"id\":\"u1\",\"email\":\"a@example.com\","
			     "\"username\":null,\"locale\":\"de\","
			     "\"status\":\"active\",\"extra\":[1]}",
			     &su),
	    0);
	assert_string_equal(su.id, "u1");
	assert_string_equal(su.email, "a@example.com");
	assert_null(su.username);
	assert_string_equal(su.locale, "de");
	assert_int_equal(su.disabled, 0);
	storage_user_clear(&su);
	assert_int_equal(parse("application/json; charset=utf-8",
			     "{\"id\":\"u2\",\"email\":\"b@example.com\","
			     "\"status\":\"disabled\"}",
			     &su),
	    0);
	assert_int_equal(su.disabled, 1);
	storage_user_clear(&su);

	/* Wrong shapes, types, content types: never believed. */
	assert_int_equal(parse("text/plain",
			     "{\"id\":\"u\",\"email\":\"a@example.com\"}", &su),
	    -1);
	assert_int_equal(parse("application/jsonx",
			     "{\"id\":\"u\",\"email\":\"a@example.com\"}", &su),
	    -1);
	assert_int_equal(parse(NULL,
			     "{\"id\":\"u\",\"email\":\"a@example.com\"}", &su),
	    -1);
	assert_int_equal(parse(JSON, "[{\"id\":\"u\"}]", &su), -1);
	assert_int_equal(parse(JSON, "not json", &su), -1);
	assert_int_equal(parse(JSON, "{\"id\":5,\"email\":\"a@example.com\"}",
			     &su),
	    -1);
	assert_int_equal(parse(JSON,
			     "{\"id\":\"\",\"email\":\"a@example.com\"}", &su),
	    -1);
	assert_int_equal(parse(JSON, "{\"id\":\"u\"}", &su), -1);
	assert_int_equal(parse(JSON, "{\"id\":\"u\",\"email\":\"nope\"}", &su),
	    -1);
	assert_int_equal(parse(JSON,
			     "{\"id\":\"u\",\"email\":\"a@example.com\","
			     "\"status\":\"gone\"}",
			     &su),
	    -1);
	assert_int_equal(parse(JSON,
			     "{\"id\":\"u\",\"email\":\"a@example.com\","
			     "\"locale\":7}",
			     &su),
	    -1);
	assert_int_equal(parse(JSON,
			     "{\"id\":\"u\",\"id\":\"v\","
			     "\"email\":\"a@example.com\"}",
			     &su),
	    -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"id\":\"", 7);
	assert_int_equal(parse(JSON, big, &su), -1);
	/* Every failure leaves nothing allocated behind (ASan checks). */
	assert_null(su.id);
}

static void
test_answer_object(void **state)
{
	char err[STORAGE_ERR_MAX];

	(void)state;
	assert_int_equal(storage_answer_object(JSON, "{}", 2, err, sizeof(err)),
	    0);
	assert_int_equal(storage_answer_object(JSON, "[]", 2, err, sizeof(err)),
	    -1);
	assert_int_equal(storage_answer_object("text/html", "{}", 2, err,
			     sizeof(err)),
	    -1);
	assert_int_equal(storage_answer_object(JSON, "", 0, err, sizeof(err)),
	    -1);
}

static int
check(const struct storage_settings *s, char *err, size_t len)
{
	err[0] = '\0';
	return storage_settings_check(s, err, len);
}

static void
test_settings(void **state)
{
	char err[256];
	struct storage_settings s = {
		.kind = "webhook",
		.lookup_url = "http://127.0.0.1:9/lookup",
		.verify_url = "http://127.0.0.1:9/verify",
		.password_url = "http://127.0.0.1:9/password",
		.timeout_ms = 3000,
		.allow_private = 1,
	};

	(void)state;
	assert_int_equal(check(&s, err, sizeof(err)), 0);
	/* Private targets only when allowed, or for a URL kept as it was. */
	s.allow_private = 0;
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "storage-lookup-url"));
	assert_non_null(strstr(err, "private"));
	s.kept = STORAGE_KEPT_LOOKUP | STORAGE_KEPT_VERIFY |
	    STORAGE_KEPT_PASSWORD;
	assert_int_equal(check(&s, err, sizeof(err)), 0);
	s.new_user_url = "http://localhost/new";
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "storage-new-user-url"));
	s.new_user_url = NULL;
	s.allow_private = 1;
	s.kept = 0;

	/* The required URLs of webhook storage are named when missing. */
	s.verify_url = NULL;
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--storage-verify-url"));
	s.verify_url = "http://127.0.0.1:9/verify";
	s.password_url = NULL;
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--storage-password-url"));
	s.password_url = "http://127.0.0.1:9/password";

	/* Scheme, credentials, format, timeout, kind. */
	s.lookup_url = "ftp://127.0.0.1/x";
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	s.lookup_url = "http://user:pw@127.0.0.1/x";
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	s.lookup_url = "http://127.0.0.1:9/lookup";
	s.format = "bcrypt";
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "storage-password-format"));
	s.format = "argon2id";
	assert_int_equal(check(&s, err, sizeof(err)), 0);
	s.timeout_ms = 99;
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "storage-timeout-ms"));
	s.timeout_ms = 30001;
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	s.timeout_ms = 30000;
	assert_int_equal(check(&s, err, sizeof(err)), 0);
	s.kind = "ldap";
	assert_int_equal(check(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "user-storage"));

	/* Builtin needs no URL. */
	memset(&s, 0, sizeof(s));
	s.kind = "builtin";
	s.timeout_ms = 3000;
	assert_int_equal(check(&s, err, sizeof(err)), 0);
}

static const struct jwt_key *
one_key(void *arg, const char *kid)
{
	(void)kid;
	return arg;
}

static void
test_claims(void **state)
{
	struct jwt_key key;
	struct jwt_claims *cl, *got = NULL, *other = NULL;
	const char *jti;
	char *tok, *tok2;
	int64_t v;

	(void)state;
	memset(&key, 0, sizeof(key));
	key.alg = JWT_HS256;
	memcpy(key.secret, "0123456789abcdef0123456789abcdef", 32);
	key.secret_len = 32;
	cl = storage_claims("p-1", "https://app.example/lookup", 1000);
	tok = jwt_sign(&key, cl);
	jwt_claims_free(cl);
	assert_non_null(tok);
	assert_int_equal(jwt_verify(tok, 1030, one_key, &key, &got, NULL),
	    JWT_OK);
	assert_string_equal(jwt_claims_str(got, "iss"), "resetd");
	assert_string_equal(jwt_claims_str(got, "aud"),
	    "https://app.example/lookup");
	assert_string_equal(jwt_claims_str(got, "xsolla_login_project_id"),
	    "p-1");
	assert_string_equal(jwt_claims_str(got, "type"), "custom_storage");
	assert_int_equal(jwt_claims_int(got, "iat", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(jwt_claims_int(got, "exp", &v), 0);
	assert_int_equal(v, 1000 + STORAGE_TOKEN_TTL_S);
	jti = jwt_claims_str(got, "jti");
	assert_non_null(jti);
	/* Short-lived, and no two alike. */
	assert_int_equal(jwt_verify(tok, 1000 + STORAGE_TOKEN_TTL_S, one_key,
			     &key, &other, NULL),
	    JWT_EXPIRED);
	cl = storage_claims("p-1", "https://app.example/lookup", 1000);
	tok2 = jwt_sign(&key, cl);
	jwt_claims_free(cl);
	assert_int_equal(jwt_verify(tok2, 1000, one_key, &key, &other, NULL),
	    JWT_OK);
	assert_string_not_equal(jwt_claims_str(other, "jti"), jti);
	jwt_claims_free(other);
	jwt_claims_free(got);
	free(tok);
	free(tok2);
}

static void
test_call_refusals(void **state)
{
	struct webhook_answer *ans = malloc(sizeof(*ans));
	char err[WEBHOOK_ERROR_MAX];
	struct webhook_call c = {
		.url = "http://127.0.0.1:1/lookup",
		.bearer = "t",
		.body = "{}",
		.timeout_ms = 1000,
		.allow_private = 0,
	};

	(void)state;
	assert_non_null(ans);
	/* Loopback, not allowed: refused at connect, nothing sent. */
	assert_int_equal(webhook_call(&c, ans, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "private"));
	c.url = "file:///etc/passwd";
	assert_int_equal(webhook_call(&c, ans, err, sizeof(err)), -1);
	c.url = "http://u:p@127.0.0.1:1/";
	assert_int_equal(webhook_call(&c, ans, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "credentials"));
	c.url = NULL;
	assert_int_equal(webhook_call(&c, ans, err, sizeof(err)), -1);
	free(ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_answer_object),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_call_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
