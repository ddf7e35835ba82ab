/*
 * Unit tests of the Velocity dialect's pure pieces (api/velocity.c): its
 * answers carry Cognito's exceptions in Velocity's envelope
 * ({"error": {"code", "message"}}), for every engine failure and for a
 * throttled call.  The wire answers are in tests/e2e/velocity.test.js.
 */
#include "unit.h"

#include "api/api.h"
#include "face_test.h"

static const enum engine_result failures[] = {
	ENGINE_PROJECT_UNKNOWN,
	ENGINE_BAD_INPUT,
	ENGINE_SECRET_INVALID,
	ENGINE_SECRET_EXPIRED,
	ENGINE_PASSWORD_TOO_SHORT,
	ENGINE_PASSWORD_TOO_LONG,
	ENGINE_PASSWORD_INVALID_TEXT,
	ENGINE_CREDENTIALS_INVALID,
	ENGINE_USER_DISABLED,
	ENGINE_USER_UNKNOWN,
	ENGINE_CONFLICT,
	ENGINE_UNAVAILABLE,
	ENGINE_CODE_MISMATCH,
	ENGINE_CODE_LOCKED,
	ENGINE_RATE_LIMITED,
	ENGINE_THROTTLED,
	ENGINE_PASSWORD_WEAK,
};

static void
test_failed(void **state)
{
	const struct cognito_exception *x;
	struct http_request r;
	struct http_response resp;
	const char *message;
	json_t *body, *err;
	size_t i;

	(void)state;
	face_request(&r);
	for (i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
		x = cognito_exception(
		    cognito_engine_error(failures[i], &message));
		face_response_init(&resp);
		velocity_face.failed(&r, &resp, failures[i]);
		assert_int_equal(resp.status, x->status);
		assert_string_equal(resp.content_type, "application/json");
		body = face_body(&resp);
		err = json_object_get(body, "error");
		assert_string_equal(json_string_value(
					json_object_get(err, "code")),
		    x->type);
		assert_string_equal(json_string_value(
					json_object_get(err, "message")),
		    message);
		/* Cognito's headers are not Velocity's. */
		assert_null(face_header(&resp, "x-amzn-ErrorType"));
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
	velocity_face.throttled(&r, &resp, 9);
	assert_int_equal(resp.status, 429);
	assert_string_equal(face_header(&resp, "Retry-After"), "9");
	body = face_body(&resp);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(body, "error"),
				    "code")),
	    "TooManyRequestsException");
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
