/*
 * Unit tests of webhook signing and targets (mail/webhook.c), the JSON
 * string writer events use (util/str.c) and ordered ids (util/id.c).
 * The signature is checked against the Standard Webhooks specification's
 * own example; the e2e tests check real deliveries with its npm package.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sodium.h>

#include "mail/webhook.h"
#include "util/util.h"

static void
test_sign_vector(void **state)
{
	char sig[WEBHOOK_SIGNATURE_MAX];

	(void)state;
	assert_int_equal(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			     "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
			     "{\"test\": 2432232314}", sig, sizeof(sig)),
	    0);
	assert_string_equal(sig,
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	assert_int_equal(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m",
			     "1", "{}", sig, sizeof(sig)),
	    -1);
	assert_int_equal(webhook_sign("whsec_!!!", "m", "1", "{}", sig,
			     sizeof(sig)),
	    -1);
	assert_int_equal(webhook_sign("whsec_", "m", "1", "{}", sig,
			     sizeof(sig)),
	    -1);
}

static int
private4(const char *s)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &a.sin_addr), 1);
	return webhook_addr_private((struct sockaddr *)&a);
}

static int
private6(const char *s)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
	return webhook_addr_private((struct sockaddr *)&a);
}

static void
test_private_addresses(void **state)
{
	static const char *const priv4[] = { "127.0.0.1", "127.255.0.9",
		"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
		"255.255.255.255", "198.18.0.1", NULL };
	static const char *const pub4[] = { "8.8.8.8", "172.32.0.1",
		"172.15.255.255", "100.128.0.1", "192.169.0.1", "1.1.1.1",
		NULL };
	static const char *const priv6[] = { "::1", "::", "fc00::1", "fd12::1",
		"fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"64:ff9b::a9fe:a9fe", "::127.0.0.1", NULL };
	static const char *const pub6[] = { "2001:4860:4860::8888",
		"::ffff:8.8.8.8", "2606:4700::1111", NULL };
	const char *const *p;

	(void)state;
	for (p = priv4; *p != NULL; p++)
		assert_int_equal(private4(*p), 1);
	for (p = pub4; *p != NULL; p++)
		assert_int_equal(private4(*p), 0);
	for (p = priv6; *p != NULL; p++)
		assert_int_equal(private6(*p), 1);
	for (p = pub6; *p != NULL; p++)
		assert_int_equal(private6(*p), 0);
}

static void
test_url_check(void **state)
{
	static const char *const bad[] = { "ftp://example.com/",
		"file:///etc/passwd", "http://user:pw@example.com/",
		"http://user@example.com/", "example.com/hook", "", "http://",
		"gopher://x/", NULL };
	static const char *const closed[] = { "http://127.0.0.1:8080/h",
		"http://localhost/h", "http://a.localhost/h", "http://[::1]/h",
		"https://10.0.0.2/h", "http://169.254.169.254/", NULL };
	const char *const *p;
	char err[256];

	(void)state;
	for (p = bad; *p != NULL; p++) {
		assert_int_equal(webhook_url_check(*p, 1, err, sizeof(err)),
		    -1);
		assert_true(err[0] != '\0');
	}
	for (p = closed; *p != NULL; p++) {
		assert_int_equal(webhook_url_check(*p, 0, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "private"));
		assert_int_equal(webhook_url_check(*p, 1, err, sizeof(err)), 0);
	}
	/* Literal public addresses need no resolver. */
	assert_int_equal(webhook_url_check("https://8.8.8.8/hook?a=b@c", 0, err,
			     sizeof(err)),
	    0);
}

static void
test_json_string(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 256);
	assert_int_equal(str_json_string(&b, "a\"b\\c\n\x01\x7f\xc3\xa9\xff"),
	    0);
	assert_string_equal(buf_cstr(&b),
	    "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9\xef\xbf\xbd\"");
	buf_reset(&b);
	assert_int_equal(str_json_string(&b, NULL), 0);
	assert_string_equal(buf_cstr(&b), "null");
	buf_free(&b);
	buf_init(&b, 4);
	assert_int_equal(str_json_string(&b, "abcdef"), -1);
	buf_free(&b);
}

static void
test_ordered_ids(void **state)
{
	char prev[UUID_STRLEN + 1], id[UUID_STRLEN + 1];
	int i;

	(void)state;
	id_new_ordered(prev);
	for (i = 0; i < 10000; i++) {
		id_new_ordered(id);
		assert_true(id_is_uuid(id));
		assert_true(strcmp(prev, id) < 0);
		assert_int_equal(id[14], '7');
		memcpy(prev, id, sizeof(id));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_private_addresses),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_ordered_ids),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
