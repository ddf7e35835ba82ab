/*
 * Unit tests of user storage's pure parts (core/userstore.c): the strict
 * reading of an app's answers, the settings check, the claims of the
 * token each call carries, and the refusals of a call that never leaves
 * the machine (mail/webhook.c's webhook_call).  The e2e tests run the
 * calls against a real app (tests/e2e/userstorage.test.js).
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

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

/*
 * A one-shot HTTP server on 127.0.0.1: it reads one request (headers and
 * a Content-Length body), keeps its Authorization header, and writes the
 * canned answer.
 */
struct one_shot {
	int fd;
	int port;
	const char *answer;
	size_t answer_len;
	char auth[8192];
};

static void *
one_shot_main(void *arg)
{
	struct one_shot *s = arg;
	char req[16384], *eoh, *a, *end;
	size_t got = 0;
	ssize_t n;
	long clen = 0;
	int c;

	c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	for (;;) {
		n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		eoh = strstr(req, "\r\n\r\n");
		if (eoh == NULL)
			continue;
		a = strcasestr(req, "\r\nContent-Length:");
		if (a != NULL)
			clen = strtol(a + 17, NULL, 10);
		if ((size_t)(eoh + 4 - req) + (size_t)clen <= got)
			break;
	}
	a = strcasestr(req, "\r\nAuthorization: ");
	if (a != NULL) {
		a += 17;
		end = strstr(a, "\r\n");
		if (end != NULL && (size_t)(end - a) < sizeof(s->auth))
			memcpy(s->auth, a, (size_t)(end - a));
	}
	(void)!send(c, s->answer, s->answer_len, MSG_NOSIGNAL);
	close(c);
	return NULL;
}

static void
one_shot_start(struct one_shot *s, pthread_t *t)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(t, NULL, one_shot_main, s), 0);
}

static void
one_shot_stop(struct one_shot *s, pthread_t t)
{
	pthread_join(t, NULL);
	close(s->fd);
}

static void
test_call_answers(void **state)
{
	struct webhook_answer *ans = malloc(sizeof(*ans));
	struct one_shot *s = calloc(1, sizeof(*s));
	char url[WEBHOOK_URL_MAX + 1], err[WEBHOOK_ERROR_MAX];
	char *bearer = malloc(4001), *big = malloc(20000);
	pthread_t t;
	int n;

	(void)state;
	assert_non_null(ans);
	assert_non_null(s);
	assert_non_null(bearer);
	assert_non_null(big);
	/* A token longer than any URL it names arrives whole. */
	memset(bearer, 'b', 4000);
	bearer[4000] = '\0';
	s->answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json; "
		    "charset=utf-8\r\nContent-Length: 2\r\n"
		    "Connection: close\r\n\r\n{}";
	s->answer_len = strlen(s->answer);
	one_shot_start(s, &t);
	n = snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
	memset(url + n, 'p', 1800);
	url[n + 1800] = '\0';
	assert_int_equal(webhook_call(&(struct webhook_call){ .url = url,
					  .bearer = bearer,
					  .body = "{}",
					  .timeout_ms = 5000,
					  .allow_private = 1 },
			     ans, err, sizeof(err)),
	    0);
	one_shot_stop(s, t);
	assert_int_equal(ans->status, 200);
	assert_string_equal(ans->content_type,
	    "application/json; charset=utf-8");
	assert_string_equal(ans->body, "{}");
	assert_int_equal(strlen(s->auth), strlen("Bearer ") + 4000);
	assert_int_equal(strncmp(s->auth, "Bearer bbbb", 11), 0);

	/* An answer past 16 KiB is an error, not a cut answer. */
	memset(s, 0, sizeof(*s));
	n = snprintf(big, 20000,
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n",
	    WEBHOOK_ANSWER_MAX + 1);
	memset(big + n, ' ', WEBHOOK_ANSWER_MAX + 1);
	s->answer = big;
	s->answer_len = (size_t)n + WEBHOOK_ANSWER_MAX + 1;
	one_shot_start(s, &t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", s->port);
	assert_int_equal(webhook_call(&(struct webhook_call){ .url = url,
					  .bearer = "t",
					  .body = "{}",
					  .timeout_ms = 5000,
					  .allow_private = 1 },
			     ans, err, sizeof(err)),
	    -1);
	one_shot_stop(s, t);
	assert_non_null(strstr(err, "longer"));

	/* A redirect is an answer the caller refuses: never followed. */
	memset(s, 0, sizeof(*s));
	s->answer = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	s->answer_len = strlen(s->answer);
	one_shot_start(s, &t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/r", s->port);
	assert_int_equal(webhook_call(&(struct webhook_call){ .url = url,
					  .bearer = "t",
					  .body = "{}",
					  .timeout_ms = 5000,
					  .allow_private = 1 },
			     ans, err, sizeof(err)),
	    0);
	one_shot_stop(s, t);
	assert_int_equal(ans->status, 302);
	free(big);
	free(bearer);
	free(s);
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
		cmocka_unit_test(test_call_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
