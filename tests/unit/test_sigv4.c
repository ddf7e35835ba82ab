/*
 * Unit tests of AWS Signature Version 4 (util/sigv4.c) against AWS's
 * published aws-sig-v4-test-suite: the same credentials, instant, region,
 * service and requests, and the signatures AWS published for them.  Also:
 * the suite's canonical request and string to sign for get-vanilla, the
 * double encoding every service but S3 uses, and Authorization headers
 * and dates that must be refused.
 */
#include "unit.h"

#include <sodium.h>

#include "util/sigv4.h"

#define SUITE_KEY_ID "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE "20150830T123600Z"
#define SUITE_SCOPE SUITE_KEY_ID "/20150830/us-east-1/service/aws4_request"

struct hdr {
	const char *name;
	const char *value;
};

struct vector {
	const char *name;
	const char *method;
	const char *path;
	struct sigv4_param query[3];
	struct hdr headers[5];
	const char *body;
	const char *signed_headers;
	const char *signature;
};

#define HOST \
	{ \
		"host", "example.amazonaws.com" \
	}
#define DATE \
	{ \
		"x-amz-date", SUITE_DATE \
	}

static const struct vector vectors[] = {
	{ "get-header-key-duplicate", "GET", "/", { { 0 } },
	    { HOST, { "my-header1", "value2,value2,value1" }, DATE }, NULL,
	    "host;my-header1;x-amz-date",
	    "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
	{ "get-header-value-multiline", "GET", "/", { { 0 } },
	    { HOST, { "my-header1", "value1,value2,value3" }, DATE }, NULL,
	    "host;my-header1;x-amz-date",
	    "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790" },
	{ "get-header-value-order", "GET", "/", { { 0 } },
	    { HOST, { "my-header1", "value4,value1,value3,value2" }, DATE },
	    NULL, "host;my-header1;x-amz-date",
	    "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
	{ "get-header-value-trim", "GET", "/", { { 0 } },
	    { HOST, { "my-header1", "value1" },
		{ "my-header2", "\"a   b   c\"" }, DATE },
	    NULL, "host;my-header1;my-header2;x-amz-date",
	    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
	{ "get-unreserved", "GET",
	    "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	    { { 0 } }, { HOST, DATE }, NULL, "host;x-amz-date",
	    "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
	{ "get-utf8", "GET", "/\xe1\x88\xb4", { { 0 } }, { HOST, DATE }, NULL,
	    "host;x-amz-date",
	    "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
	{ "get-vanilla", "GET", "/", { { 0 } }, { HOST, DATE }, NULL,
	    "host;x-amz-date",
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
	{ "get-vanilla-empty-query-key", "GET", "/", { { "Param1", "value1" } },
	    { HOST, DATE }, NULL, "host;x-amz-date",
	    "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb" },
	{ "get-vanilla-query-order-key-case", "GET", "/",
	    { { "Param2", "value2" }, { "Param1", "value1" } }, { HOST, DATE },
	    NULL, "host;x-amz-date",
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
	{ "get-vanilla-query-unreserved", "GET", "/",
	    { { "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" } },
	    { HOST, DATE }, NULL, "host;x-amz-date",
	    "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
	{ "get-vanilla-utf8-query", "GET", "/", { { "\xe1\x88\xb4", "bar" } },
	    { HOST, DATE }, NULL, "host;x-amz-date",
	    "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
	{ "post-header-key-sort", "POST", "/", { { 0 } },
	    { HOST, { "my-header1", "value1" }, DATE }, NULL,
	    "host;my-header1;x-amz-date",
	    "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c" },
	{ "post-header-value-case", "POST", "/", { { 0 } },
	    { HOST, { "my-header1", "VALUE1" }, DATE }, NULL,
	    "host;my-header1;x-amz-date",
	    "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
	{ "post-vanilla", "POST", "/", { { 0 } }, { HOST, DATE }, NULL,
	    "host;x-amz-date",
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
	{ "post-vanilla-query", "POST", "/", { { "Param1", "value1" } },
	    { HOST, DATE }, NULL, "host;x-amz-date",
	    "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
	{ "post-vanilla-query-nonunreserved", "POST", "/",
	    { { "@#$%^", "" }, { "+", "/,?><`\";:\\|][{}" } }, { HOST, DATE },
	    NULL, "host;x-amz-date",
	    "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e" },
	{ "post-vanilla-query-space", "POST", "/", { { "p", "" } },
	    { HOST, DATE }, NULL, "host;x-amz-date",
	    "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b" },
	{ "post-x-www-form-urlencoded", "POST", "/", { { 0 } },
	    { { "content-type", "application/x-www-form-urlencoded" }, HOST,
		DATE },
	    "Param1=value1", "content-type;host;x-amz-date",
	    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
	{ "post-x-www-form-urlencoded-parameters", "POST", "/", { { 0 } },
	    { { "content-type",
		  "application/x-www-form-urlencoded; charset=utf8" },
		HOST, DATE },
	    "Param1=value1", "content-type;host;x-amz-date",
	    "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe" },
};

static const char *
lookup(void *arg, const char *name)
{
	const struct vector *v = arg;
	size_t i;

	for (i = 0; i < 5 && v->headers[i].name != NULL; i++)
		if (strcmp(v->headers[i].name, name) == 0)
			return v->headers[i].value;
	return NULL;
}

static void
request_of(const struct vector *v, struct sigv4_request *r)
{
	size_t n = 0;

	while (n < 3 && v->query[n].name != NULL)
		n++;
	*r = (struct sigv4_request){
		.method = v->method,
		.path = v->path,
		.path_encodings = 1,
		.query = v->query,
		.nquery = n,
		.header = lookup,
		.header_arg = (void *)v,
		.body = v->body,
		.body_len = v->body ? strlen(v->body) : 0,
	};
}

static char *
authorization_of(const struct vector *v, const char *signature)
{
	char *s = malloc(2048);

	assert_non_null(s);
	snprintf(s, 2048,
	    "AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", "
	    "SignedHeaders=%s, Signature=%s",
	    v->signed_headers, signature);
	return s;
}

/* Every vector: its Authorization parses, and the signature is AWS's. */
static void
test_suite(void **state)
{
	struct sigv4_request r;
	struct sigv4_auth a;
	const char *why;
	char sig[SIGV4_HEX_LEN + 1], *auth;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		auth = authorization_of(&vectors[i], vectors[i].signature);
		if (sigv4_parse_authorization(auth, &a, &why) != 0)
			fail_msg("%s: %s", vectors[i].name, why);
		free(auth);
		assert_string_equal(a.key_id, SUITE_KEY_ID);
		assert_string_equal(a.region, "us-east-1");
		assert_string_equal(a.service, "service");
		request_of(&vectors[i], &r);
		assert_int_equal(sigv4_signature(&r, &a, SUITE_DATE,
				     SUITE_SECRET, sig),
		    0);
		if (strcmp(sig, vectors[i].signature) != 0)
			fail_msg("%s: got %s", vectors[i].name, sig);
		/* Another secret, date or scope signs something else. */
		assert_int_equal(sigv4_signature(&r, &a, SUITE_DATE,
				     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz",
				     sig),
		    0);
		assert_string_not_equal(sig, vectors[i].signature);
		assert_int_equal(sigv4_signature(&r, &a, "20150830T123601Z",
				     SUITE_SECRET, sig),
		    0);
		assert_string_not_equal(sig, vectors[i].signature);
		strcpy(a.region, "us-west-2");
		assert_int_equal(sigv4_signature(&r, &a, SUITE_DATE,
				     SUITE_SECRET, sig),
		    0);
		assert_string_not_equal(sig, vectors[i].signature);
	}
}

/* get-vanilla's canonical request and string to sign, as published. */
static void
test_vanilla_steps(void **state)
{
	struct sigv4_request r;
	struct sigv4_auth a;
	struct buf canon, sts;
	const char *why;
	char *auth = authorization_of(&vectors[6], vectors[6].signature);

	(void)state;
	assert_string_equal(vectors[6].name, "get-vanilla");
	assert_int_equal(sigv4_parse_authorization(auth, &a, &why), 0);
	free(auth);
	request_of(&vectors[6], &r);
	buf_init(&canon, SIGV4_CANONICAL_MAX);
	buf_init(&sts, 1024);
	assert_int_equal(sigv4_canonical_request(&r, a.signed_headers, &canon),
	    0);
	assert_string_equal(buf_cstr(&canon),
	    "GET\n/\n\n"
	    "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	    "host;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sigv4_string_to_sign(buf_cstr(&canon), &a, SUITE_DATE,
			     &sts),
	    0);
	assert_string_equal(buf_cstr(&sts),
	    "AWS4-HMAC-SHA256\n"
	    "20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
	    "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	buf_free(&canon);
	buf_free(&sts);
}

static const char *
no_header(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

/*
 * Services other than S3 encode the path twice, and normalise it: dot
 * segments and empty segments go.
 */
static void
test_paths(void **state)
{
	static const struct {
		const char *path;
		int times;
		const char *want;
	} cases[] = {
		{ "/", 2, "/" },
		{ "", 2, "/" },
		{ "/a b", 1, "/a%20b" },
		{ "/a b", 2, "/a%2520b" },
		{ "/\xe1\x88\xb4", 2, "/%25E1%2588%25B4" },
		{ "/example/..", 1, "/" },
		{ "/example1/example2/../..", 1, "/" },
		{ "/./", 1, "/" },
		{ "//example//", 1, "/example/" },
		{ "/example/./x", 1, "/example/x" },
	};
	struct sigv4_request r = { .method = "POST", .header = no_header };
	struct buf b;
	size_t i;
	const char *nl;

	(void)state;
	buf_init(&b, SIGV4_CANONICAL_MAX);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.path = cases[i].path;
		r.path_encodings = cases[i].times;
		assert_int_equal(sigv4_canonical_request(&r, "host", &b), 0);
		nl = strchr(buf_cstr(&b) + 5, '\n');
		assert_non_null(nl);
		if (strncmp(b.data + 5, cases[i].want, strlen(cases[i].want)) !=
			0 ||
		    (size_t)(nl - (b.data + 5)) != strlen(cases[i].want))
			fail_msg("%s: got %.*s", cases[i].want,
			    (int)(nl - (b.data + 5)), b.data + 5);
	}
	buf_free(&b);
}

static void
test_refused_headers(void **state)
{
	static const char *const bad[] = {
		"",
		"AWS4-HMAC-SHA1 Credential=" SUITE_SCOPE
		", SignedHeaders=host, "
		"Signature=00",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE
		", SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, "
		"SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/"
		"aws4_request/x, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=AKID//us-east-1/service/"
		"aws4_request, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders="
		"x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders="
		"Host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders="
		"host;, Signature=00",
		"AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE ", SignedHeaders="
		"host;;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 garbage",
	};
	struct sigv4_auth a;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (sigv4_parse_authorization(bad[i], &a, &why) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	/* An over-long signature parses, and can never match. */
	assert_int_equal(
	    sigv4_parse_authorization(
		"AWS4-HMAC-SHA256 "
		"Credential=" SUITE_SCOPE ", SignedHeaders=host, Signature="
		"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3100",
		&a, &why),
	    0);
	assert_string_equal(a.signature, "");
}

static void
test_amz_date(void **state)
{
	long long t = 0;

	(void)state;
	assert_true(sigv4_parse_amz_date("20150830T123600Z", &t));
	assert_int_equal(t, 1440938160LL);
	assert_false(sigv4_parse_amz_date("20150830T123600", &t));
	assert_false(sigv4_parse_amz_date("2015-08-30T12:36:00Z", &t));
	assert_false(sigv4_parse_amz_date("20150231T123600Z", &t));
	assert_false(sigv4_parse_amz_date("20151330T123600Z", &t));
	assert_false(sigv4_parse_amz_date("20150830T246000Z", &t));
	assert_false(sigv4_parse_amz_date("2015083OT123600Z", &t));
	assert_false(sigv4_parse_amz_date("", &t));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),
		cmocka_unit_test(test_vanilla_steps),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_refused_headers),
		cmocka_unit_test(test_amz_date),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
