/*
 * Unit tests of reset secrets (core/secret.c): token shape and randomness,
 * the token shape check, the keyed hash and its constant-time comparison.
 */
#include "unit.h"

#include <sodium.h>

#include "core/secret.h"

#define NTOKENS 1000
#define B64URL_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static void
test_token_shape(void **state)
{
	char tok[SECRET_TOKEN_LEN + 1];
	uint8_t raw[SECRET_TOKEN_BYTES + 2];
	size_t i;
	int k;

	(void)state;
	assert_int_equal(SECRET_TOKEN_LEN, 43);
	for (k = 0; k < 100; k++) {
		memset(tok, 'X', sizeof(tok));
		secret_token_new(tok);
		assert_int_equal(strlen(tok), 43);
		for (i = 0; i < 43; i++) {
			assert_true(tok[i] != '\0');
			assert_non_null(strchr(B64URL_CHARS, tok[i]));
		}
		assert_int_equal(base64url_decode(tok, 43, raw), 32);
		assert_int_equal(secret_token_valid(tok), 1);
	}
}

static void
test_token_distinct(void **state)
{
	char **toks;
	int i;

	(void)state;
	toks = calloc(NTOKENS, sizeof(*toks));
	assert_non_null(toks);
	for (i = 0; i < NTOKENS; i++) {
		toks[i] = malloc(SECRET_TOKEN_LEN + 1);
		assert_non_null(toks[i]);
		secret_token_new(toks[i]);
	}
	qsort(toks, NTOKENS, sizeof(*toks), unit_strcmp_p);
	for (i = 1; i < NTOKENS; i++)
		assert_string_not_equal(toks[i - 1], toks[i]);
	for (i = 0; i < NTOKENS; i++)
		free(toks[i]);
	free(toks);
}

static void
test_token_valid(void **state)
{
	char tok[SECRET_TOKEN_LEN + 1], bad[64];

	(void)state;
	secret_token_new(tok);
	assert_int_equal(secret_token_valid(tok), 1);
	assert_int_equal(secret_token_valid(
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    1);
	assert_int_equal(secret_token_valid(
			     "__________________________________________8"),
	    1);

	assert_int_equal(secret_token_valid(""), 0);
	/* One short, one long. */
	memcpy(bad, tok, 42);
	bad[42] = '\0';
	assert_int_equal(secret_token_valid(bad), 0);
	memcpy(bad, tok, 43);
	bad[43] = 'A';
	bad[44] = '\0';
	assert_int_equal(secret_token_valid(bad), 0);
	/* Characters of the standard alphabet, padding, space. */
	memcpy(bad, tok, 44);
	bad[5] = '+';
	assert_int_equal(secret_token_valid(bad), 0);
	bad[5] = '/';
	assert_int_equal(secret_token_valid(bad), 0);
	bad[5] = '=';
	assert_int_equal(secret_token_valid(bad), 0);
	bad[5] = ' ';
	assert_int_equal(secret_token_valid(bad), 0);
	/* 43 characters whose last one carries nonzero unused bits. */
	assert_int_equal(secret_token_valid(
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"),
	    0);
	assert_int_equal(secret_token_valid(
			     "___________________________________________"),
	    0);
	/* A token followed by more text is not a token. */
	assert_int_equal(secret_token_valid(
			     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"),
	    0);
}

static void
check_hex64(const char *h)
{
	size_t i;

	assert_int_equal(strlen(h), SECRET_HASH_LEN);
	for (i = 0; i < SECRET_HASH_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", h[i]));
}

static void
test_hash_known_answer(void **state)
{
	uint8_t key[SECRET_KEY_BYTES];
	char h[SECRET_HASH_LEN + 1];
	size_t i;

	(void)state;
	/*
	 * Keyed BLAKE2b-256 of purpose, NUL, secret; the expected values come
	 * from Python's hashlib.blake2b(key=..., digest_size=32).
	 */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	secret_hash(key, "reset_link", "abc", h);
	assert_string_equal(h,
	    "3afa3bb61a54b978fd6830dc086fc3c61a3bacf6648ccd2e93c1d8603f4ef469");
	memset(key, 0, sizeof(key));
	secret_hash(key, "", "", h);
	assert_string_equal(h,
	    "f3719b9e9fbe04e35f255cd7a929c524d98db121192f646e52c33b9b1bd86d6f");
}

static void
test_hash_properties(void **state)
{
	uint8_t k1[SECRET_KEY_BYTES], k2[SECRET_KEY_BYTES];
	char a[SECRET_HASH_LEN + 1], b[SECRET_HASH_LEN + 1];
	char tok[SECRET_TOKEN_LEN + 1];

	(void)state;
	memset(k1, 0x11, sizeof(k1));
	memcpy(k2, k1, sizeof(k2));
	k2[31] ^= 1;
	secret_token_new(tok);

	/* Deterministic. */
	secret_hash(k1, "reset_link", tok, a);
	secret_hash(k1, "reset_link", tok, b);
	check_hex64(a);
	assert_string_equal(a, b);
	/* The key, the purpose and the secret each change it. */
	secret_hash(k2, "reset_link", tok, b);
	check_hex64(b);
	assert_string_not_equal(a, b);
	secret_hash(k1, "reset_code", tok, b);
	assert_string_not_equal(a, b);
	secret_hash(k1, "reset_link", "another secret", b);
	assert_string_not_equal(a, b);
	/* The separator keeps the purpose and the secret apart. */
	secret_hash(k1, "ab", "c", a);
	secret_hash(k1, "a", "bc", b);
	assert_string_not_equal(a, b);
	/* An unkeyed-looking key (all zero) still differs from k1. */
	memset(k2, 0, sizeof(k2));
	secret_hash(k1, "p", "s", a);
	secret_hash(k2, "p", "s", b);
	assert_string_not_equal(a, b);
}

static void
test_hash_equal(void **state)
{
	uint8_t key[SECRET_KEY_BYTES];
	char a[SECRET_HASH_LEN + 1], b[SECRET_HASH_LEN + 1];

	(void)state;
	memset(key, 7, sizeof(key));
	secret_hash(key, "reset_link", "x", a);
	memcpy(b, a, sizeof(b));
	assert_int_equal(secret_hash_equal(a, b), 1);
	/* A change in the first or last character. */
	b[0] = b[0] == '0' ? '1' : '0';
	assert_int_equal(secret_hash_equal(a, b), 0);
	memcpy(b, a, sizeof(b));
	b[63] = b[63] == '0' ? '1' : '0';
	assert_int_equal(secret_hash_equal(a, b), 0);
	/* Different lengths: a prefix is not equal, either way round. */
	memcpy(b, a, sizeof(b));
	b[63] = '\0';
	assert_int_equal(secret_hash_equal(a, b), 0);
	assert_int_equal(secret_hash_equal(b, a), 0);
	assert_int_equal(secret_hash_equal("", a), 0);
	assert_int_equal(secret_hash_equal(a, ""), 0);
	assert_int_equal(secret_hash_equal("", ""), 1);
	assert_int_equal(secret_hash_equal("abc", "abc"), 1);
	assert_int_equal(secret_hash_equal("abc", "abd"), 0);
	assert_int_equal(secret_hash_equal("abc", "ABC"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_token_distinct),
		cmocka_unit_test(test_token_valid),
		cmocka_unit_test(test_hash_known_answer),
		cmocka_unit_test(test_hash_properties),
		cmocka_unit_test(test_hash_equal),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
