/*
 * Unit tests of passwords (core/password.c): the bounds every new password
 * must meet, counted in code points, and Argon2id hashing with small
 * parameters: hash, verify, the dummy verify and the rehash check.
 */
#include "unit.h"

#include <pthread.h>

#include <sodium.h>

#include "core/password.h"

#define OPS 1
#define MEM_KIB 8192

#define CYRILLIC_A "\xd0\xb0"		/* U+0430, 2 bytes */
#define CJK_MI "\xe5\xaf\x86"		/* U+5BC6, 3 bytes */
#define GCLEF "\xf0\x9d\x84\x9e"	/* U+1D11E, 4 bytes */

/* password_check_bounds of n copies of c. */
static enum password_check
check_repeat(const char *c, size_t n)
{
	char *s = unit_repeat(c, n);
	enum password_check rc = password_check_bounds(s);

	free(s);
	return rc;
}

static void
test_bounds_ascii(void **state)
{
	(void)state;
	assert_int_equal(password_check_bounds(""), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("a"), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("abcdefg"), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("abcdefgh"), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 255), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 256), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 257), PASSWORD_TOO_LONG);
	/* Refused, never cut to the limit. */
	assert_int_equal(check_repeat("a", 1000), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 1024), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 1025), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 100000), PASSWORD_TOO_LONG);
}

static void
test_bounds_code_points(void **state)
{
	(void)state;
	/* 8 Cyrillic letters: 16 bytes, 8 characters. */
	assert_int_equal(password_check_bounds(
	    "\xd0\xb0\xd0\xb1\xd0\xb2\xd0\xb3\xd0\xb4\xd0\xb5\xd0\xb6\xd0\xb7"),
	    PASSWORD_OK);
	/* 7 of them are 14 bytes but still 7 characters. */
	assert_int_equal(check_repeat(CYRILLIC_A, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(CYRILLIC_A, 8), PASSWORD_OK);
	/* 7 CJK characters: 21 bytes, too short. */
	assert_int_equal(check_repeat(CJK_MI, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(CJK_MI, 8), PASSWORD_OK);
	assert_int_equal(check_repeat(GCLEF, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(GCLEF, 8), PASSWORD_OK);
	/* The upper bound is in characters too. */
	assert_int_equal(check_repeat(CYRILLIC_A, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(CYRILLIC_A, 257), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat(CJK_MI, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(CJK_MI, 257), PASSWORD_TOO_LONG);
	/* 256 four-byte characters fill PASSWORD_MAX_BYTES exactly. */
	assert_int_equal(check_repeat(GCLEF, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(GCLEF, 257), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat(GCLEF, 1000), PASSWORD_TOO_LONG);
	/* Mixed: 7 ASCII letters and one two-byte letter. */
	assert_int_equal(password_check_bounds("abcdefg\xc3\xa9"), PASSWORD_OK);
	assert_int_equal(password_check_bounds("abcdef\xc3\xa9"),
	    PASSWORD_TOO_SHORT);
}

static void
test_bounds_text(void **state)
{
	(void)state;
	/* Spaces are ordinary characters. */
	assert_int_equal(password_check_bounds("correct horse battery staple"),
	    PASSWORD_OK);
	assert_int_equal(password_check_bounds("        "), PASSWORD_OK);
	assert_int_equal(password_check_bounds(" a b c d "), PASSWORD_OK);
	/* Control characters. */
	assert_int_equal(password_check_bounds("abcdefgh\n"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\refgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\x01" "efgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\x1b" "efgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcdefgh\x7f"),
	    PASSWORD_INVALID_TEXT);
	/* Not UTF-8. */
	assert_int_equal(password_check_bounds("abcdefgh\xff"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xe9t\xe9 1234567"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcdefgh\xc3"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xc0\xaf" "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xed\xa0\x80" "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xf4\x90\x80\x80" "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	/* Invalid text is refused even when it is short. */
	assert_int_equal(password_check_bounds("\xff"), PASSWORD_INVALID_TEXT);
}

static void
test_hash_verify(void **state)
{
	struct hasher *h;
	char *hash, *hash2;
	char prefix[64];

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 1);
	assert_non_null(h);
	hash = hasher_hash(h, "correct horse battery staple");
	assert_non_null(hash);
	snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=1$",
	    MEM_KIB, OPS);
	assert_memory_equal(hash, prefix, strlen(prefix));
	assert_true(strlen(hash) < crypto_pwhash_STRBYTES);

	assert_int_equal(hasher_verify(h, hash, "correct horse battery staple"),
	    1);
	assert_int_equal(hasher_verify(h, hash, "correct horse battery stapl"),
	    0);
	assert_int_equal(hasher_verify(h, hash, "Correct horse battery staple"),
	    0);
	assert_int_equal(hasher_verify(h, hash, ""), 0);
	/* No stored hash: the dummy is checked and the answer is always 0. */
	assert_int_equal(hasher_verify(h, NULL, "correct horse battery staple"),
	    0);
	assert_int_equal(hasher_verify(h, NULL, ""), 0);
	/* A malformed hash never verifies. */
	assert_int_equal(hasher_verify(h, "not a hash", "x"), 0);

	/* Salted: the same password hashes differently each time. */
	hash2 = hasher_hash(h, "correct horse battery staple");
	assert_non_null(hash2);
	assert_string_not_equal(hash, hash2);
	assert_int_equal(hasher_verify(h, hash2,
	    "correct horse battery staple"), 1);

	/* Multibyte passwords round trip byte for byte. */
	free(hash2);
	hash2 = hasher_hash(h, "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c");
	assert_non_null(hash2);
	assert_int_equal(hasher_verify(h, hash2,
	    "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c"), 1);
	assert_int_equal(hasher_verify(h, hash2,
	    "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb"), 0);
	free(hash2);
	free(hash);
	hasher_free(h);
	hasher_free(NULL);
}

static void
test_needs_rehash(void **state)
{
	struct hasher *h, *more_ops, *more_mem;
	char *hash;

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 1);
	more_ops = hasher_new(OPS + 1, MEM_KIB, 1);
	more_mem = hasher_new(OPS, MEM_KIB * 2, 1);
	assert_non_null(h);
	assert_non_null(more_ops);
	assert_non_null(more_mem);
	hash = hasher_hash(h, "password123");
	assert_non_null(hash);
	assert_int_equal(hasher_needs_rehash(h, hash), 0);
	assert_int_equal(hasher_needs_rehash(more_ops, hash), 1);
	assert_int_equal(hasher_needs_rehash(more_mem, hash), 1);
	/* A hash from other parameters still verifies. */
	assert_int_equal(hasher_verify(more_ops, hash, "password123"), 1);
	/* Something that is not an Argon2id hash wants replacing. */
	assert_int_equal(hasher_needs_rehash(h, "garbage"), 1);
	free(hash);
	hasher_free(h);
	hasher_free(more_ops);
	hasher_free(more_mem);
}

struct worker {
	struct hasher	*h;
	char		 pw[32];
	int		 ok;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char *hash = hasher_hash(w->h, w->pw);

	w->ok = hash != NULL && hasher_verify(w->h, hash, w->pw) == 1 &&
	    hasher_verify(w->h, hash, "other password") == 0;
	free(hash);
	return NULL;
}

/* More threads than slots: each waits its turn, none fails. */
static void
test_concurrent(void **state)
{
	struct worker w[6];
	pthread_t t[6];
	struct hasher *h;
	int i;

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 2);
	assert_non_null(h);
	for (i = 0; i < 6; i++) {
		w[i].h = h;
		snprintf(w[i].pw, sizeof(w[i].pw), "password-%d", i);
		w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]),
		    0);
	}
	for (i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].ok, 1);
	}
	hasher_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_ascii),
		cmocka_unit_test(test_bounds_code_points),
		cmocka_unit_test(test_bounds_text),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_concurrent),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
