/*
 * Unit tests for typed reset codes: generation (shape, uniformity,
 * leading zeros), the hash that binds a code to its subject and row,
 * Cognito's SecretHash against vectors computed with Node's crypto, and
 * the masked delivery destinations (one fixed mask for usernames).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "unit.h"

#include "core/engine_internal.h"

#define DRAWS 200000

static const uint8_t key_a[SECRET_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t key_b[SECRET_KEY_BYTES] = { 8, 7, 6, 5, 4, 3, 2, 1 };

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[n] == '\0';
}

static void
test_code_shape(void **state)
{
	char code[SECRET_CODE_DIGITS + 1];
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		memset(code, 'x', sizeof(code));
		secret_code_new(code);
		assert_int_equal(strlen(code), 6);
		assert_true(all_digits(code, 6));
	}
}

/*
 * Each of the six positions should hold each digit a tenth of the time:
 * a chi-square test per position, 9 degrees of freedom.  45 is beyond
 * p = 1e-6, so an honest generator fails it about once in a million runs;
 * a biased one (say, n % 10^6 over a 2^20 draw) fails at once.  Leading
 * zeros are kept: about a tenth of the codes start with '0'.
 */
static void
test_code_uniform(void **state)
{
	static long counts[SECRET_CODE_DIGITS][10];
	char code[SECRET_CODE_DIGITS + 1];
	long lead_zero = 0, expected = DRAWS / 10;
	double chi;
	int i, p, d;

	(void)state;
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < DRAWS; i++) {
		secret_code_new(code);
		for (p = 0; p < SECRET_CODE_DIGITS; p++)
			counts[p][code[p] - '0']++;
		if (code[0] == '0')
			lead_zero++;
	}
	for (p = 0; p < SECRET_CODE_DIGITS; p++) {
		chi = 0;
		for (d = 0; d < 10; d++)
			chi += (double)(counts[p][d] - expected) *
			    (double)(counts[p][d] - expected) /
			    (double)expected;
		if (chi > 45.0)
			fail_msg("position %d is not uniform: chi-square %.1f",
			    p, chi);
	}
	assert_true(lead_zero > expected * 9 / 10);
	assert_true(lead_zero < expected * 11 / 10);
}

static void
test_code_hash_binding(void **state)
{
	char h1[SECRET_HASH_LEN + 1], h2[SECRET_HASH_LEN + 1];
	const char *alice = "01a2069c-bb40-70d4-9d22-597cc86ec977";
	const char *bob = "01a2069c-bb40-70d4-9d22-597cc86ec978";
	const char *row1 = "01a2069c-0000-7000-8000-000000000001";
	const char *row2 = "01a2069c-0000-7000-8000-000000000002";

	(void)state;
	secret_code_hash(key_a, alice, row1, "123456", h1);
	assert_int_equal(strlen(h1), SECRET_HASH_LEN);
	/* Deterministic. */
	secret_code_hash(key_a, alice, row1, "123456", h2);
	assert_string_equal(h1, h2);
	assert_true(secret_hash_equal(h1, h2));
	/* The same code of another user, another row, another key. */
	secret_code_hash(key_a, bob, row1, "123456", h2);
	assert_string_not_equal(h1, h2);
	assert_false(secret_hash_equal(h1, h2));
	secret_code_hash(key_a, alice, row2, "123456", h2);
	assert_string_not_equal(h1, h2);
	secret_code_hash(key_b, alice, row1, "123456", h2);
	assert_string_not_equal(h1, h2);
	/* Another code; and parts cannot slide into each other. */
	secret_code_hash(key_a, alice, row1, "123457", h2);
	assert_string_not_equal(h1, h2);
	secret_code_hash(key_a, "ab", "c", "123456", h1);
	secret_code_hash(key_a, "a", "bc", "123456", h2);
	assert_string_not_equal(h1, h2);
	/* Not the hash a link token of the same text would get. */
	secret_hash(key_a, "reset_code", "123456", h2);
	assert_string_not_equal(h1, h2);
}

/* Vectors: node -e 'crypto.createHmac("sha256", k).update(u + id).digest("base64")' */
static void
test_secret_hash_vectors(void **state)
{
	char out[APP_CLIENT_SECRET_HASH_LEN + 1];

	(void)state;
	app_client_secret_hash(
	    "7ae1c6e1c4f3b9d0a2e5f8a1b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2",
	    "john.doe@example.com", "4b8lqa0mfc6gfbqmp8h0ngh7m1", out);
	assert_string_equal(out,
	    "0OMwPzvn7durFjXK0zc5BsZsnzRdc9xJrGFAkwiCpkw=");
	app_client_secret_hash("s3cr3t",
	    "\xc3\x9cn\xc3\xaf"
	    "code-user",
	    "client_01M839SEV3FFRVK9V7CK0JFTZA", out);
	assert_string_equal(out,
	    "jW86Ou233tH4EmjXFH78APv8ZT3X4PxWiqpIytELinE=");
}

static void
test_mask_email(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "john.doe@example.com", "j***@e***" },
		{ "John.Doe@Example.COM", "j***@e***" },
		{ "\xc3\xa9lodie@ex\xc3\xa4mple.fr", "\xc3\xa9***@e***" },
		{ "a@b", "a***@b***" },
		{ "x@\xe2\x82\xacuro.example", "x***@\xe2\x82\xac***" },
		{ "odd@name@host.org", "o***@h***" }, /* the last @ */
		{ "\xff@host.org", "****@h***" },     /* broken UTF-8 */
		{ "\xc3@host.org", "****@h***" },     /* cut sequence */
		{ "no-at-sign", "****" },
		{ "@host.org", "****" },
		{ "user@", "****" },
	};
	char out[CODE_DESTINATION_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		code_mask_email(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("mask(%s) = %s, want %s", cases[i].in, out,
			    cases[i].out);
	}
	assert_true(code_email_shaped("a@b"));
	assert_false(code_email_shaped("ab"));
	assert_false(code_email_shaped("@b"));
	assert_false(code_email_shaped("a@"));
}

static void
test_code_destination(void **state)
{
	/* Logins that are no address, some of them names real accounts use. */
	static const char *const usernames[] = {
		"jroe",
		"JRoe",
		"nobody-here",
		"a",
		"x@",
		"@example.org",
		"j\xc3\xa9r\xc3\xb4me",
		"12345",
		"user.name+tag",
		NULL,
	};
	char known[CODE_DESTINATION_MAX], unknown[CODE_DESTINATION_MAX];
	size_t i;

	(void)state;
	/* Typed as the address: what that address shows, whoever has it. */
	code_destination("jane.roe@example.org", known);
	code_destination("JANE.ROE@EXAMPLE.ORG", unknown);
	assert_string_equal(known, "j***@e***");
	assert_string_equal(known, unknown);
	/*
	 * Typed as a username, real or not: one fixed mask, nothing of any
	 * address, nothing derived from the login.
	 */
	for (i = 0; usernames[i] != NULL; i++) {
		code_destination(usernames[i], known);
		if (strcmp(known, CODE_DESTINATION_HIDDEN) != 0)
			fail_msg("destination(%s) = %s, want %s", usernames[i],
			    known, CODE_DESTINATION_HIDDEN);
	}
	assert_string_equal(CODE_DESTINATION_HIDDEN, "****@****");
}

static void
test_decoy_subject(void **state)
{
	const char *p1 = "01a2069c-baae-7025-a41b-4739fc84ee3b";
	const char *p2 = "01a2069c-baae-7025-a41b-4739fc84ee3c";
	char a[SECRET_HASH_LEN + 1], b[SECRET_HASH_LEN + 1];

	(void)state;
	code_decoy_subject(key_a, p1, "Nobody@Example.com", a);
	assert_int_equal(strlen(a), SECRET_HASH_LEN);
	/* Never the shape of a user id, which is a UUID. */
	assert_false(id_is_uuid(a));
	code_decoy_subject(key_a, p1, "nobody@example.com", b);
	assert_string_equal(a, b);
	code_decoy_subject(key_a, p2, "nobody@example.com", b);
	assert_string_not_equal(a, b);
	code_decoy_subject(key_b, p1, "nobody@example.com", b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_shape),
		cmocka_unit_test(test_code_uniform),
		cmocka_unit_test(test_code_hash_binding),
		cmocka_unit_test(test_secret_hash_vectors),
		cmocka_unit_test(test_mask_email),
		cmocka_unit_test(test_code_destination),
		cmocka_unit_test(test_decoy_subject),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
