/*
 * Unit tests of the Cognito dialect's pure pieces (api/cognito.c): the
 * exception each engine failure becomes (shared with Velocity), the
 * InvalidPasswordException messages, and the failure and 429 answers in
 * Cognito's shape (__type, x-amzn-ErrorType, x-amzn-RequestId).  The wire
 * answers through the AWS SDK are in tests/e2e/cognito.test.js.
 */
#include "unit.h"

#include "api/api.h"
#include "core/password.h"
#include "face_test.h"

/* What Cognito answers for each engine failure. */
static const struct {
	enum engine_result res;
	int status;
	const char *type;
} answers[] = {
	{ ENGINE_PROJECT_UNKNOWN, 400, "ResourceNotFoundException" },
	{ ENGINE_BAD_INPUT, 400, "InvalidParameterException" },
	{ ENGINE_LOGIN_URL_REFUSED, 400, "InvalidParameterException" },
	{ ENGINE_SECRET_INVALID, 400, "ExpiredCodeException" },
	{ ENGINE_SECRET_EXPIRED, 400, "ExpiredCodeException" },
	{ ENGINE_PASSWORD_TOO_SHORT, 400, "InvalidPasswordException" },
	{ ENGINE_PASSWORD_TOO_LONG, 400, "InvalidPasswordException" },
	{ ENGINE_PASSWORD_INVALID_TEXT, 400, "InvalidPasswordException" },
	{ ENGINE_CREDENTIALS_INVALID, 400, "NotAuthorizedException" },
	{ ENGINE_USER_DISABLED, 400, "UserNotFoundException" },
	{ ENGINE_SESSION_INVALID, 400, "InvalidParameterException" },
	{ ENGINE_USER_UNKNOWN, 400, "UserNotFoundException" },
	{ ENGINE_CONFLICT, 400, "InvalidParameterException" },
	{ ENGINE_UNAVAILABLE, 500, "InternalErrorException" },
	{ ENGINE_CODE_MISMATCH, 400, "CodeMismatchException" },
	{ ENGINE_CODE_LOCKED, 400, "LimitExceededException" },
	{ ENGINE_RATE_LIMITED, 400, "LimitExceededException" },
	{ ENGINE_THROTTLED, 429, "TooManyRequestsException" },
	{ ENGINE_PASSWORD_WEAK, 400, "InvalidPasswordException" },
};

#define NANSWERS (sizeof(answers) / sizeof(answers[0]))

static void
test_engine_error(void **state)
{
	const struct cognito_exception *x;
	const char *message;
	size_t i;

	(void)state;
	for (i = 0; i < NANSWERS; i++) {
		x = cognito_exception(
		    cognito_engine_error(answers[i].res, &message));
		assert_int_equal(x->status, answers[i].status);
		assert_string_equal(x->type, answers[i].type);
		assert_non_null(message);
		assert_true(*message != '\0');
	}
	/* A user who does not exist and one disabled read the same. */
	assert_int_equal(cognito_engine_error(ENGINE_USER_UNKNOWN, &message),
	    cognito_engine_error(ENGINE_USER_DISABLED, &message));
}

static void
test_password_message(void **state)
{
	struct password_verdict v = { .rule = PW_MIN_LENGTH,
		.min_length = 12,
		.message = "too short",
		.suggestion = "longer" };
	char buf[256];
	const char *m;

	(void)state;
	m = cognito_password_message(ENGINE_PASSWORD_TOO_LONG, NULL, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password too long");
	m = cognito_password_message(ENGINE_PASSWORD_TOO_SHORT, &v, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password not long enough");
	v.rule = PW_COMMON;
	v.message = "This is a very common password.";
	m = cognito_password_message(ENGINE_PASSWORD_WEAK, &v, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password is one of the most common passwords");
	/* Cognito's own words for its classes. */
	v.rule = PW_UPPERCASE;
	m = cognito_password_message(ENGINE_PASSWORD_WEAK, &v, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password must have uppercase characters");
	v.rule = PW_SYMBOLS;
	m = cognito_password_message(ENGINE_PASSWORD_WEAK, &v, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password must have symbol characters");
	/* A verdict that refused nothing says what the result says. */
	v.rule = PW_OK;
	m = cognito_password_message(ENGINE_PASSWORD_WEAK, &v, buf,
	    sizeof(buf));
	assert_string_equal(m,
	    "Password did not conform with policy: "
	    "Password is too easy to guess");
}

static void
test_failed(void **state)
{
	struct http_request r;
	struct http_response resp;
	json_t *body;
	size_t i;

	(void)state;
	face_request(&r);
	for (i = 0; i < NANSWERS; i++) {
		face_response_init(&resp);
		cognito_face.failed(&r, &resp, answers[i].res);
		assert_int_equal(resp.status, answers[i].status);
		assert_string_equal(resp.content_type,
		    "application/x-amz-json-1.1");
		/* The real service's form: the name and a colon. */
		assert_non_null(face_header(&resp, "x-amzn-ErrorType"));
		assert_int_equal(strncmp(face_header(&resp, "x-amzn-ErrorType"),
				     answers[i].type, strlen(answers[i].type)),
		    0);
		assert_string_equal(face_header(&resp, "x-amzn-ErrorType") +
			strlen(answers[i].type),
		    ":");
		assert_non_null(face_header(&resp, "x-amzn-ErrorMessage"));
		assert_string_equal(face_header(&resp, "x-amzn-RequestId"),
		    "req-1");
		body = face_body(&resp);
		assert_string_equal(json_string_value(
					json_object_get(body, "__type")),
		    answers[i].type);
		assert_non_null(
		    json_string_value(json_object_get(body, "message")));
		json_decref(body);
		face_response_clear(&resp);
	}
}

static void
test_throttled(void **state)
{
	struct http_request r;
	struct http_response resp;
	json_t *body;

	(void)state;
	face_request(&r);
	face_response_init(&resp);
	cognito_face.throttled(&r, &resp, 3);
	assert_int_equal(resp.status, 429);
	assert_string_equal(face_header(&resp, "Retry-After"), "3");
	assert_string_equal(face_header(&resp, "x-amzn-ErrorType"),
	    "TooManyRequestsException:");
	body = face_body(&resp);
	assert_string_equal(json_string_value(json_object_get(body, "__type")),
	    "TooManyRequestsException");
	json_decref(body);
	face_response_clear(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_error),
		cmocka_unit_test(test_password_message),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_throttled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
