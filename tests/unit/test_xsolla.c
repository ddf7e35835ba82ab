/*
 * Unit tests of the Xsolla dialect's pure pieces (api/xsolla.c): every
 * engine failure a handler can meet answered in Xsolla's shape (status,
 * error.code, description, details), and the 429 of a throttled call.
 * The wire answers through Xsolla's SDK are in tests/e2e/xsolla.test.js.
 */
#include "unit.h"

#include "api/api.h"
#include "face_test.h"

/* What Xsolla answers for each engine failure: status and error.code. */
static const struct {
	enum engine_result res;
	int status;
	const char *code; /* NULL: the number 0 */
} answers[] = {
	{ ENGINE_PROJECT_UNKNOWN, 404, "003-019" },
	{ ENGINE_BAD_INPUT, 400, NULL },
	{ ENGINE_LOGIN_URL_REFUSED, 400, "010-012" },
	{ ENGINE_SECRET_INVALID, 404, "003-061" },
	{ ENGINE_SECRET_EXPIRED, 404, "003-061" },
	{ ENGINE_PASSWORD_TOO_SHORT, 400, NULL }, /* new_password's bounds */
	{ ENGINE_PASSWORD_TOO_LONG, 400, NULL },
	{ ENGINE_PASSWORD_INVALID_TEXT, 422, "900-003" },
	{ ENGINE_CREDENTIALS_INVALID, 401, "003-001" },
	{ ENGINE_USER_DISABLED, 401, "002-040" },
	{ ENGINE_SESSION_INVALID, 401, "002-016" },
	{ ENGINE_USER_UNKNOWN, 404, "003-061" },
	{ ENGINE_CONFLICT, 400, NULL },
	{ ENGINE_UNAVAILABLE, 503, "900-503" },
	{ ENGINE_RATE_LIMITED, 429, "002-057" },
	{ ENGINE_THROTTLED, 429, "002-057" },
	{ ENGINE_PASSWORD_WEAK, 422, "900-007" },
};

static void
test_failed(void **state)
{
	struct http_request r;
	struct http_response resp;
	json_t *body, *err, *code;
	size_t i;

	(void)state;
	face_request(&r);
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		face_response_init(&resp);
		xsolla_face.failed(&r, &resp, answers[i].res);
		assert_int_equal(resp.status, answers[i].status);
		assert_string_equal(resp.content_type, "application/json");
		body = face_body(&resp);
		err = json_object_get(body, "error");
		assert_non_null(err);
		code = json_object_get(err, "code");
		if (answers[i].code == NULL) {
			assert_true(json_is_integer(code));
			assert_int_equal(json_integer_value(code), 0);
		} else
			assert_string_equal(json_string_value(code),
			    answers[i].code);
		assert_non_null(
		    json_string_value(json_object_get(err, "description")));
		assert_true(json_is_object(json_object_get(err, "details")));
		/* No project named: no origin may read the answer. */
		assert_null(face_header(&resp, "Access-Control-Allow-Origin"));
		json_decref(body);
		face_response_clear(&resp);
	}

	/* A refused login URL says which field. */
	face_response_init(&resp);
	xsolla_face.failed(&r, &resp, ENGINE_LOGIN_URL_REFUSED);
	body = face_body(&resp);
	assert_non_null(json_string_value(
	    json_object_get(json_object_get(json_object_get(body, "error"),
				"details"),
		"login_url")));
	json_decref(body);
	face_response_clear(&resp);
	/* A password too long names the rule and the bound. */
	face_response_init(&resp);
	xsolla_face.failed(&r, &resp, ENGINE_PASSWORD_TOO_LONG);
	body = face_body(&resp);
	err = json_object_get(json_object_get(body, "error"), "details");
	assert_string_equal(json_string_value(json_object_get(err, "rule")),
	    "max_length");
	assert_true(json_integer_value(json_object_get(err, "max_length")) > 0);
	json_decref(body);
	face_response_clear(&resp);
}

static void
test_throttled(void **state)
{
	struct http_request r;
	struct http_response resp;
	json_t *body, *err;

	(void)state;
	face_request(&r);
	face_response_init(&resp);
	xsolla_face.throttled(&r, &resp, 12);
	assert_int_equal(resp.status, 429);
	assert_string_equal(face_header(&resp, "Retry-After"), "12");
	body = face_body(&resp);
	err = json_object_get(body, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
	    "002-057");
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(err, "details"),
				 "retry_after")),
	    12);
	json_decref(body);
	face_response_clear(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_throttled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
