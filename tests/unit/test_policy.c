/*
 * Unit tests of core/policy.c, the rules every face asks the same way:
 * the delivery of a project's resets through a face, the callback URL a
 * call may use, and whether a client's answers may reveal accounts.
 */
#include "unit.h"

#include "core/engine.h"

static void
test_delivery(void **state)
{
	struct project p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.delivery = "code";
	/* A face that carries one kind gets it, whatever the project says. */
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_LINK),
	    DELIVER_LINK);
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_CODE),
	    DELIVER_CODE);
	/* A face that carries both follows the project. */
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_BOTH),
	    DELIVER_CODE);
	p.delivery = "link";
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_BOTH),
	    DELIVER_LINK);
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_CODE),
	    DELIVER_CODE);
	p.delivery = NULL;
	assert_int_equal(engine_delivery(&p, DELIVERY_CARRIES_BOTH),
	    DELIVER_LINK);
}

static void
test_callback_url(void **state)
{
	struct project p;
	char *out = (char *)"unset";

	(void)state;
	memset(&p, 0, sizeof(p));
	p.callback_urls = "https://a.example/cb\nhttps://b.example/cb";

	/* Listed: itself, a copy. */
	assert_int_equal(engine_callback_url(&p, "https://b.example/cb", 0,
			     &out),
	    ENGINE_OK);
	assert_string_equal(out, "https://b.example/cb");
	free(out);
	assert_int_equal(engine_callback_url(&p, "https://b.example/cb",
			     CALLBACK_REFUSE_UNLISTED, &out),
	    ENGINE_OK);
	assert_string_equal(out, "https://b.example/cb");
	free(out);

	/* Not listed, exactly: a prefix, a longer URL, another host. */
	assert_int_equal(engine_callback_url(&p, "https://a.example/c",
			     CALLBACK_REFUSE_UNLISTED, &out),
	    ENGINE_LOGIN_URL_REFUSED);
	assert_null(out);
	assert_int_equal(engine_callback_url(&p, "https://a.example/cb/x",
			     CALLBACK_REFUSE_UNLISTED | CALLBACK_DEFAULT_FIRST,
			     &out),
	    ENGINE_LOGIN_URL_REFUSED);
	assert_null(out);
	/* Ignored instead: as if none was sent. */
	assert_int_equal(engine_callback_url(&p, "https://evil.example/cb", 0,
			     &out),
	    ENGINE_OK);
	assert_null(out);
	assert_int_equal(engine_callback_url(&p, "https://evil.example/cb",
			     CALLBACK_DEFAULT_FIRST, &out),
	    ENGINE_OK);
	assert_string_equal(out, "https://a.example/cb");
	free(out);

	/* None sent: the first, or none. */
	assert_int_equal(engine_callback_url(&p, NULL, CALLBACK_DEFAULT_FIRST,
			     &out),
	    ENGINE_OK);
	assert_string_equal(out, "https://a.example/cb");
	free(out);
	assert_int_equal(engine_callback_url(&p, NULL, CALLBACK_REFUSE_UNLISTED,
			     &out),
	    ENGINE_OK);
	assert_null(out);
	p.callback_urls = "";
	assert_int_equal(engine_callback_url(&p, NULL, CALLBACK_DEFAULT_FIRST,
			     &out),
	    ENGINE_OK);
	assert_null(out);
	assert_int_equal(engine_callback_url(&p, "", CALLBACK_REFUSE_UNLISTED,
			     &out),
	    ENGINE_LOGIN_URL_REFUSED);
}

static void
test_reveals_users(void **state)
{
	struct app_client cl;

	(void)state;
	memset(&cl, 0, sizeof(cl));
	assert_false(engine_reveals_users(NULL));
	cl.prevent_user_existence_errors = 1;
	assert_false(engine_reveals_users(&cl));
	cl.prevent_user_existence_errors = 0;
	assert_true(engine_reveals_users(&cl));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery),
		cmocka_unit_test(test_callback_url),
		cmocka_unit_test(test_reveals_users),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
