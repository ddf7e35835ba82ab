/*
 * Unit tests of the dialects' JSON plumbing (api/json.c): the body check
 * (size, Content-Type, charset, UTF-8, one object, no duplicate keys),
 * string fields with their caps, times and nulls, the JSON form of
 * records (never an outbox payload), and an answer that cannot be encoded
 * becoming the face's fixed 500 body.
 */
#include "unit.h"

#include <jansson.h>

#include "api/api.h"
#include "http/http.h"

/* A request made without a connection: a Content-Type and a body. */
static enum api_body
parse(const char *content_type, const char *body, size_t len, json_t **out,
    char *err, size_t errlen)
{
	struct http_field f = { HTTP_FIELD_HEADER, "Content-Type",
		content_type };
	struct http_request r;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = "/x";
	r.body = body;
	r.body_len = len;
	r.fields = content_type != NULL ? &f : NULL;
	r.nfields = content_type != NULL ? 1 : 0;
	*out = NULL;
	return api_parse_object(&r, "application/json", out, err, errlen);
}

static enum api_body
parse_str(const char *content_type, const char *body, json_t **out)
{
	char err[256];

	return parse(content_type, body, body ? strlen(body) : 0, out, err,
	    sizeof(err));
}

static void
test_parse_ok(void **state)
{
	json_t *v;

	(void)state;
	assert_int_equal(parse_str("application/json", "{\"a\":\"b\"}", &v),
	    API_BODY_OK);
	assert_string_equal(json_string_value(json_object_get(v, "a")), "b");
	json_decref(v);
	/* Parameters and case: the type is what counts, UTF-8 any spelling. */
	assert_int_equal(parse_str("Application/JSON; charset=UTF-8", "{}", &v),
	    API_BODY_OK);
	json_decref(v);
	assert_int_equal(parse_str("application/json;charset=\"utf8\"", " { } ",
			     &v),
	    API_BODY_OK);
	json_decref(v);
}

static void
test_parse_refused(void **state)
{
	char err[256];
	json_t *v;

	(void)state;
	assert_int_equal(parse_str(NULL, "{}", &v), API_BODY_WRONG_TYPE);
	assert_int_equal(parse_str("text/plain", "{}", &v),
	    API_BODY_WRONG_TYPE);
	assert_int_equal(parse_str("application/jsonx", "{}", &v),
	    API_BODY_WRONG_TYPE);
	assert_int_equal(parse_str("application/json; charset=latin1", "{}",
			     &v),
	    API_BODY_WRONG_CHARSET);
	assert_int_equal(parse_str("application/json", NULL, &v),
	    API_BODY_MALFORMED);
	assert_int_equal(parse_str("application/json", "", &v),
	    API_BODY_MALFORMED);
	assert_int_equal(parse_str("application/json", "[1]", &v),
	    API_BODY_MALFORMED);
	assert_int_equal(parse_str("application/json", "\"s\"", &v),
	    API_BODY_MALFORMED);
	assert_int_equal(parse_str("application/json", "{\"a\":1", &v),
	    API_BODY_MALFORMED);
	/* A key given twice would mean two things. */
	assert_int_equal(parse_str("application/json",
			     "{\"a\":\"x\",\"a\":\"y\"}", &v),
	    API_BODY_MALFORMED);
	/* Not UTF-8, and a NUL inside a string. */
	assert_int_equal(parse_str("application/json", "{\"a\":\"\xff\"}", &v),
	    API_BODY_MALFORMED);
	assert_int_equal(parse_str("application/json", "{\"a\":\"\\u0000\"}",
			     &v),
	    API_BODY_MALFORMED);
	assert_null(v);
	/* The error text echoed back is clean UTF-8, whatever the body. */
	assert_int_equal(parse("application/json", "{\"\xc3", 3, &v, err,
			     sizeof(err)),
	    API_BODY_MALFORMED);
	assert_true(str_is_clean_utf8(err, strlen(err)));
	assert_non_null(strstr(err, "malformed JSON"));
}

static void
test_parse_too_large(void **state)
{
	struct http_request r;
	char err[64];
	json_t *v = NULL;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.body_too_large = 1;
	assert_int_equal(api_parse_object(&r, "application/json", &v, err,
			     sizeof(err)),
	    API_BODY_TOO_LARGE);
	assert_string_equal(err, "request body too large");
	assert_null(v);
}

static void
test_string_field(void **state)
{
	json_t *o = json_loads("{\"s\":\"abc\",\"n\":null,\"i\":3,"
			       "\"z\":\"a\\u0000b\",\"long\":\"abcdef\"}",
	    JSON_ALLOW_NUL, NULL);
	const char *out = NULL;

	(void)state;
	assert_non_null(o);
	assert_int_equal(api_string_field(o, "s", 3, &out), 1);
	assert_string_equal(out, "abc");
	out = NULL;
	assert_int_equal(api_string_field(o, "missing", 10, &out), 0);
	assert_int_equal(api_string_field(o, "n", 10, &out), 0);
	assert_null(out);
	assert_int_equal(api_string_field(o, "i", 10, &out), -1);
	assert_int_equal(api_string_field(o, "long", 5, &out), -1);
	assert_int_equal(api_string_field(o, "z", 10, &out), -1);
	assert_null(out);
	json_decref(o);
}

static void
test_time_and_null(void **state)
{
	json_t *v;

	(void)state;
	v = api_time(0);
	assert_true(json_is_null(v));
	json_decref(v);
	v = api_time(1689646039911LL);
	assert_string_equal(json_string_value(v), "2023-07-18T02:07:19.911Z");
	json_decref(v);
	v = api_string_or_null(NULL);
	assert_true(json_is_null(v));
	json_decref(v);
	v = api_string_or_null("x");
	assert_string_equal(json_string_value(v), "x");
	json_decref(v);
}

static void
test_records(void **state)
{
	struct project p = {
		.id = "p-1",
		.name = "Acme",
		.callback_urls = "https://a.example/cb\nhttps://b.example/cb",
		.allowed_origins = "",
		.token_ttl = 3600,
		.delivery = "link",
		.send_reset_emails = 1,
		.created_at = 1689646039911LL,
		.reset_limit_per_hour = 3,
		.mail_budget_per_hour = 1000,
	};
	struct outbox_msg m = {
		.id = "m-1",
		.project_id = "p-1",
		.kind = "reset_link",
		.to_addr = "a@example.com",
		.payload = "v1:sealed-link",
		.state = "sent",
		.tries = 1,
		.next_try_at = 5,
		.created_at = 1689646039911LL,
		.sent_at = 1689646040000LL,
	};
	json_t *v, *a;
	char *text;

	(void)state;
	v = api_project_json(&p, NULL);
	assert_non_null(v);
	/* No region, or no UUID to make a pool id of: no pool id. */
	assert_null(json_object_get(v, "cognito_user_pool_id"));
	a = json_object_get(v, "callback_urls");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_array_get(a, 1)),
	    "https://b.example/cb");
	assert_int_equal(json_array_size(json_object_get(v, "allowed_origins")),
	    0);
	assert_true(json_is_null(json_object_get(v, "reset_url")));
	assert_true(json_is_true(json_object_get(v, "send_reset_emails")));
	assert_int_equal(json_integer_value(json_object_get(v, "token_ttl")),
	    3600);
	json_decref(v);

	/* A message never shows its payload; a sent one has no next try. */
	v = api_outbox_json(&m);
	assert_non_null(v);
	text = json_dumps(v, 0);
	assert_null(strstr(text, "sealed-link"));
	assert_null(json_object_get(v, "payload"));
	assert_true(json_is_null(json_object_get(v, "next_try_at")));
	assert_true(json_is_null(json_object_get(v, "locale")));
	assert_string_equal(json_string_value(json_object_get(v, "to")),
	    "a@example.com");
	free(text);
	json_decref(v);
	m.state = "pending";
	m.next_try_at = 1689646039911LL;
	v = api_outbox_json(&m);
	assert_string_equal(json_string_value(
				json_object_get(v, "next_try_at")),
	    "2023-07-18T02:07:19.911Z");
	json_decref(v);
}

static void
test_reply_unencodable(void **state)
{
	struct http_response resp;
	static const char fallback[] = "{\"error\":\"internal\"}";

	(void)state;
	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, 1 << 16);
	/* json_pack refuses text that is not UTF-8: NULL reaches the reply. */
	assert_int_equal(api_json_take(&resp, 200,
			     json_pack("{s:s}", "a", "\xff"), fallback),
	    -1);
	assert_int_equal(resp.status, 500);
	assert_string_equal(resp.outcome, "encode_failed");
	assert_int_equal(resp.body.len, strlen(fallback));
	assert_memory_equal(resp.body.data, fallback, strlen(fallback));
	buf_free(&resp.body);

	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, 1 << 16);
	assert_int_equal(api_json_take(&resp, 201, json_pack("{s:i}", "n", 1),
			     fallback),
	    0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.content_type, "application/json");
	assert_memory_equal(resp.body.data, "{\"n\":1}", 7);
	buf_free(&resp.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_too_large),
		cmocka_unit_test(test_string_field),
		cmocka_unit_test(test_time_and_null),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_reply_unencodable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
