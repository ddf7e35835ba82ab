/*
 * Unit tests of the WorkOS dialect's pure pieces: the 429 encoder (driven
 * end to end through the SDK in tests/e2e/abuse.test.js), and the route
 * table's WorkOS rows, prefix rows included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api/api.h"
#include "faces.h"
#include "http/http.h"

static void
response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, 1 << 20);
}

static void
response_clear(struct http_response *resp)
{
	int i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	buf_free(&resp->body);
}

static const char *
header(const struct http_response *resp, const char *name)
{
	int i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static void
test_rate_limited(void **state)
{
	struct http_response resp;
	json_t *body;

	(void)state;
	response_init(&resp);
	workos_rate_limited(&resp, 7);
	assert_int_equal(resp.status, 429);
	assert_string_equal(resp.content_type, "application/json");
	/* The SDK reads Retry-After as a number of seconds. */
	assert_string_equal(header(&resp, "Retry-After"), "7");
	body = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "code")),
	    "rate_limit_exceeded");
	assert_non_null(json_string_value(json_object_get(body, "message")));
	assert_null(json_object_get(body, "errors"));
	json_decref(body);
	response_clear(&resp);

	response_init(&resp);
	workos_rate_limited(&resp, -5);
	assert_string_equal(header(&resp, "Retry-After"), "0");
	response_clear(&resp);
}

static const struct http_face *found_face;

static const struct route *
route(const char *method, const char *path, int *mismatch, char *param)
{
	struct http_request req;
	const struct route *r;
	const char *p = NULL;
	size_t n = 0;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	found_face = NULL;
	r = http_route_find(resetd_faces, &req, &found_face, &p, &n, mismatch);
	param[0] = '\0';
	if (r != NULL && p != NULL) {
		memcpy(param, p, n);
		param[n] = '\0';
	}
	return r;
}

static void
test_routes(void **state)
{
	const struct route *r;
	char param[128];
	int mismatch;

	(void)state;
	r = route("POST", "/user_management/password_reset", &mismatch, param);
	assert_ptr_equal(r->handler, workos_reset_create);
	r = route("POST", "/user_management/password_reset/confirm", &mismatch,
	    param);
	assert_ptr_equal(r->handler, workos_reset_confirm);
	r = route("GET", "/user_management/password_reset/password_reset_01",
	    &mismatch, param);
	assert_ptr_equal(r->handler, workos_reset_get);
	assert_string_equal(param, "password_reset_01");
	r = route("GET", "/user_management/users/user_01", &mismatch, param);
	assert_ptr_equal(r->handler, workos_user_get);
	assert_string_equal(param, "user_01");
	assert_ptr_equal(found_face, &workos_face);
	assert_string_equal(found_face->name, "workos");

	r = route("GET", "/user_management/users", &mismatch, param);
	assert_ptr_equal(r->handler, workos_users_list);
	r = route("PUT", "/user_management/users/user_01", &mismatch, param);
	assert_ptr_equal(r->handler, workos_user_update);
	assert_string_equal(param, "user_01");
	r = route("DELETE", "/user_management/users/user_01", &mismatch, param);
	assert_ptr_equal(r->handler, workos_user_delete);
	assert_int_not_equal(r->run, RUN_INLINE);

	/* Another method on a known path: the dialect's 405, inline. */
	r = route("PATCH", "/user_management/users/user_01", &mismatch, param);
	assert_ptr_equal(r->handler, workos_method_not_allowed);
	assert_int_equal(r->run, RUN_INLINE);
	r = route("DELETE", "/user_management/users", &mismatch, param);
	assert_ptr_equal(r->handler, workos_method_not_allowed);
	r = route("GET", "/user_management/password_reset", &mismatch, param);
	assert_ptr_equal(r->handler, workos_method_not_allowed);

	/* Unknown paths under the prefix: the dialect's 404. */
	r = route("GET", "/user_management", &mismatch, param);
	assert_ptr_equal(r->handler, workos_not_found);
	r = route("POST", "/user_management/organizations/x/y", &mismatch,
	    param);
	assert_ptr_equal(r->handler, workos_not_found);
	r = route("GET", "/user_management/users/a/b", &mismatch, param);
	assert_ptr_equal(r->handler, workos_not_found);

	/* A longer name that only starts like the prefix is not under it. */
	r = route("GET", "/user_managementx", &mismatch, param);
	assert_null(r);
	assert_int_equal(mismatch, 0);

	/* Other dialects keep their routes. */
	r = route("POST", "/api/password/reset/request", &mismatch, param);
	assert_ptr_equal(r->handler, xsolla_reset_request);
	r = route("DELETE", "/api/login", &mismatch, param);
	assert_null(r);
	assert_int_equal(mismatch, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_routes),
	};

	return cmocka_run_group_tests_name("workos", tests, NULL, NULL);
}
