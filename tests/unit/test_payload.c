/*
 * Unit tests of sealed mail payloads (mail/payload.c): a round trip, and
 * every way a stored payload can fail to open: a changed byte anywhere
 * (nonce, ciphertext, tag), another key, another row, a truncated or
 * malformed text.  An unsealed payload from an older version opens as it
 * is, so that mail queued before an upgrade is still sent.
 */
#include "unit.h"

#include <sodium.h>

#include "mail/payload.h"

static const uint8_t key[PAYLOAD_KEY_BYTES] = { 1, 2, 3, 4, 5 };
static const struct payload_ad ad = {
	"018f0000-0000-7000-8000-00000000000a",
	"p-a",
	"reset_link",
	"alice@example.com",
};
static const char text[] =
    "{\"link\":\"https://reset.test/r?token=Zm9vYmFyYmF6cXV4cXV1eA\","
    "\"project_name\":\"Acme \xc3\x89tudes\"}";

static int
opens(const uint8_t *k, const struct payload_ad *a, const char *stored,
    const char *want)
{
	char *got = NULL;

	if (payload_open(k, a, stored, &got) != 0) {
		assert_null(got);
		return 0;
	}
	assert_non_null(got);
	if (want != NULL)
		assert_string_equal(got, want);
	xfree_secret(got);
	return 1;
}

static void
test_round_trip(void **state)
{
	char *a, *b;

	(void)state;
	a = payload_seal(key, &ad, text);
	b = payload_seal(key, &ad, text);
	assert_true(strncmp(a, "v1:", 3) == 0);
	/* Nothing of the text shows, and each seal has its own nonce. */
	assert_null(strstr(a, "reset.test"));
	assert_null(strstr(a, "Zm9vYmFy"));
	assert_string_not_equal(a, b);
	assert_int_equal(opens(key, &ad, a, text), 1);
	assert_int_equal(opens(key, &ad, b, text), 1);
	free(a);
	free(b);
	/* The empty text too. */
	a = payload_seal(key, &ad, "");
	assert_int_equal(opens(key, &ad, a, ""), 1);
	free(a);
}

/* Any changed character, anywhere after the prefix, and it does not open. */
static void
test_tamper(void **state)
{
	char *s = payload_seal(key, &ad, text);
	size_t i, n = strlen(s);
	char was;

	(void)state;
	for (i = 3; i < n; i++) {
		was = s[i];
		s[i] = was == 'A' ? 'B' : 'A';
		assert_int_equal(opens(key, &ad, s, NULL), 0);
		s[i] = was;
	}
	assert_int_equal(opens(key, &ad, s, text), 1);
	/* Cut short, by one character or to less than a nonce and a tag. */
	for (i = 3; i < n; i += (i < 40 ? 1 : 17)) {
		was = s[i];
		s[i] = '\0';
		assert_int_equal(opens(key, &ad, s, NULL), 0);
		s[i] = was;
	}
	free(s);
}

static void
test_wrong_key(void **state)
{
	uint8_t other[PAYLOAD_KEY_BYTES];
	char *s = payload_seal(key, &ad, text);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(other); i++) {
		memcpy(other, key, sizeof(other));
		other[i] ^= 0x80;
		assert_int_equal(opens(other, &ad, s, NULL), 0);
	}
	free(s);
}

/* Sealed for one row, it opens in no other: each bound field counts. */
static void
test_wrong_row(void **state)
{
	char *s = payload_seal(key, &ad, text);
	struct payload_ad a;

	(void)state;
	a = ad;
	a.id = "018f0000-0000-7000-8000-00000000000b";
	assert_int_equal(opens(key, &a, s, NULL), 0);
	a = ad;
	a.project_id = "p-b";
	assert_int_equal(opens(key, &a, s, NULL), 0);
	a = ad;
	a.kind = "reset_code";
	assert_int_equal(opens(key, &a, s, NULL), 0);
	a = ad;
	a.to = "mallory@example.com";
	assert_int_equal(opens(key, &a, s, NULL), 0);
	/* Fields are delimited: moving a character across a border fails. */
	a = ad;
	a.project_id = "p-ar";
	a.kind = "eset_link";
	assert_int_equal(opens(key, &a, s, NULL), 0);
	free(s);
}

/* Older, unsealed payloads open as they are; anything else does not. */
static void
test_formats(void **state)
{
	(void)state;
	assert_int_equal(opens(key, &ad, "{}", "{}"), 1);
	assert_int_equal(opens(key, &ad, text, text), 1);
	assert_int_equal(opens(key, &ad, "", NULL), 0);
	assert_int_equal(opens(key, &ad, "v1:", NULL), 0);
	assert_int_equal(opens(key, &ad, "v1:!!!!", NULL), 0);
	assert_int_equal(opens(key, &ad, "v2:AAAA", NULL), 0);
	assert_int_equal(opens(key, &ad, "[\"x\"]", NULL), 0);
	assert_int_equal(opens(key, &ad, "null", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_wrong_row),
		cmocka_unit_test(test_formats),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
