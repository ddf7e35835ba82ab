/*
 * Unit tests of SHA-1 (util/sha1.c) on the FIPS 180 example vectors,
 * including the ones that take more than one block: the 56-byte message
 * whose padding needs a second block, the 112-byte two-block message and a
 * million 'a's.
 */
#include "unit.h"

#include "util/util.h"

static void
check(const void *data, size_t len, const char *want)
{
	uint8_t d[SHA1_BYTES];
	char hex[2 * SHA1_BYTES + 1];

	sha1(data, len, d);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, want);
}

static void
test_vectors(void **state)
{
	(void)state;
	check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	      "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	    112, "a49b2446a02c645bf419f995b67091253a04a259");
}

static void
test_million(void **state)
{
	char *a = malloc(1000000);

	(void)state;
	assert_non_null(a);
	memset(a, 'a', 1000000);
	check(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
