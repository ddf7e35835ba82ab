/*
 * Unit tests of identifiers (util/id.c): UUIDv7 shape, time order and
 * uniqueness, and the UUID <-> ULID conversion.
 */
#include "unit.h"

#include <sodium.h>

#include "util/util.h"

#define CROCKFORD "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#define NIDS 10000

/* Check the canonical lowercase v7 layout of s. */
static void
check_v7_shape(const char *s)
{
	size_t i;

	assert_int_equal(strlen(s), UUID_STRLEN);
	for (i = 0; i < UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			assert_int_equal(s[i], '-');
			continue;
		}
		assert_non_null(strchr("0123456789abcdef", s[i]));
		assert_true(s[i] != '\0');
	}
	/* Version nibble 7; variant bits 10xx. */
	assert_int_equal(s[14], '7');
	assert_non_null(strchr("89ab", s[19]));
	assert_true(s[19] != '\0');
	assert_int_equal(id_is_uuid(s), 1);
}

/* The 48-bit millisecond time of a v7 UUID. */
static int64_t
v7_time(const char *s)
{
	char hex[13];

	memcpy(hex, s, 8);
	memcpy(hex + 8, s + 9, 4);
	hex[12] = '\0';
	return (int64_t)strtoll(hex, NULL, 16);
}

static void
test_new_is_v7(void **state)
{
	char id[UUID_STRLEN + 1];
	int64_t before, after, t;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		memset(id, 'X', sizeof(id));
		before = time_now_ms();
		id_new(id);
		after = time_now_ms();
		check_v7_shape(id);
		t = v7_time(id);
		assert_true(t >= before);
		assert_true(t <= after);
	}
}

static void
test_new_sorts_by_time(void **state)
{
	char a[UUID_STRLEN + 1], b[UUID_STRLEN + 1];
	char ua[ULID_STRLEN + 1], ub[ULID_STRLEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		id_new(a);
		unit_sleep_ms(2);
		id_new(b);
		assert_true(v7_time(a) < v7_time(b));
		assert_true(strcmp(a, b) < 0);
		/* The ULID forms sort the same way. */
		assert_int_equal(id_uuid_to_ulid(a, ua), 0);
		assert_int_equal(id_uuid_to_ulid(b, ub), 0);
		assert_true(strcmp(ua, ub) < 0);
	}
}

static void
test_new_unique(void **state)
{
	char **ids;
	int i;

	(void)state;
	ids = calloc(NIDS, sizeof(*ids));
	assert_non_null(ids);
	for (i = 0; i < NIDS; i++) {
		ids[i] = malloc(UUID_STRLEN + 1);
		assert_non_null(ids[i]);
		id_new(ids[i]);
	}
	qsort(ids, NIDS, sizeof(*ids), unit_strcmp_p);
	for (i = 1; i < NIDS; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	for (i = 0; i < NIDS; i++)
		free(ids[i]);
	free(ids);
}

static void
test_is_uuid(void **state)
{
	(void)state;
	assert_int_equal(id_is_uuid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f1"), 1);
	assert_int_equal(id_is_uuid("0189A2B3-C4D5-7E6F-8A9B-ACBDCEDFE0F1"), 1);
	assert_int_equal(id_is_uuid("00000000-0000-0000-0000-000000000000"), 1);
	assert_int_equal(id_is_uuid(""), 0);
	assert_int_equal(id_is_uuid("0189a2b3c4d57e6f8a9bacbdcedfe0f1"), 0);
	assert_int_equal(id_is_uuid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f"), 0);
	assert_int_equal(id_is_uuid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f10"),
	    0);
	assert_int_equal(id_is_uuid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0fg"), 0);
	assert_int_equal(id_is_uuid("0189a2b3+c4d5-7e6f-8a9b-acbdcedfe0f1"), 0);
	assert_int_equal(id_is_uuid("0189a2b-3c4d5-7e6f-8a9b-acbdcedfe0f1"), 0);
	assert_int_equal(id_is_uuid("{189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f}"), 0);
}

static void
test_ulid_known(void **state)
{
	char ulid[ULID_STRLEN + 1], uuid[UUID_STRLEN + 1];

	(void)state;
	/* Worked out independently (Python int arithmetic). */
	assert_int_equal(id_uuid_to_ulid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f1",
			     ulid),
	    0);
	assert_string_equal(ulid, "01H6HB7H6NFSQRN6XCQQ7DZR7H");
	assert_int_equal(id_ulid_to_uuid("01H6HB7H6NFSQRN6XCQQ7DZR7H", uuid),
	    0);
	assert_string_equal(uuid, "0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0f1");
	/* The example of the ULID specification. */
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FAV", uuid),
	    0);
	assert_string_equal(uuid, "01563e3a-b5d3-d676-4c61-efb99302bd5b");
	assert_int_equal(id_uuid_to_ulid(uuid, ulid), 0);
	assert_string_equal(ulid, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	/* Lower case ULIDs decode to the same bits. */
	assert_int_equal(id_ulid_to_uuid("01arz3ndektsv4rrffq69g5fav", uuid),
	    0);
	assert_string_equal(uuid, "01563e3a-b5d3-d676-4c61-efb99302bd5b");
	/* Upper case UUIDs encode the same. */
	assert_int_equal(id_uuid_to_ulid("01563E3A-B5D3-D676-4C61-EFB99302BD5B",
			     ulid),
	    0);
	assert_string_equal(ulid, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	/* The extremes. */
	assert_int_equal(id_uuid_to_ulid("00000000-0000-0000-0000-000000000000",
			     ulid),
	    0);
	assert_string_equal(ulid, "00000000000000000000000000");
	assert_int_equal(id_uuid_to_ulid("ffffffff-ffff-ffff-ffff-ffffffffffff",
			     ulid),
	    0);
	assert_string_equal(ulid, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
	assert_int_equal(id_ulid_to_uuid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", uuid),
	    0);
	assert_string_equal(uuid, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	assert_int_equal(id_ulid_to_uuid("00000000000000000000000000", uuid),
	    0);
	assert_string_equal(uuid, "00000000-0000-0000-0000-000000000000");
}

static void
test_ulid_round_trip(void **state)
{
	char id[UUID_STRLEN + 1], ulid[ULID_STRLEN + 1], back[UUID_STRLEN + 1];
	int64_t t;
	int i, j;

	(void)state;
	for (i = 0; i < 1000; i++) {
		id_new(id);
		memset(ulid, 'X', sizeof(ulid));
		assert_int_equal(id_uuid_to_ulid(id, ulid), 0);
		assert_int_equal(strlen(ulid), ULID_STRLEN);
		for (j = 0; j < ULID_STRLEN; j++)
			assert_non_null(strchr(CROCKFORD, ulid[j]));
		assert_true(ulid[0] <= '7');
		/* The first ten characters are the same millisecond time. */
		t = 0;
		for (j = 0; j < 10; j++)
			t = t * 32 + (strchr(CROCKFORD, ulid[j]) - CROCKFORD);
		assert_int_equal(t, v7_time(id));
		memset(back, 'X', sizeof(back));
		assert_int_equal(id_ulid_to_uuid(ulid, back), 0);
		assert_string_equal(back, id);
	}
}

static void
test_ulid_rejects(void **state)
{
	char uuid[UUID_STRLEN + 1], ulid[ULID_STRLEN + 1];

	(void)state;
	/* Wrong lengths. */
	assert_int_equal(id_ulid_to_uuid("", uuid), -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FA", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FAVX", uuid),
	    -1);
	/* Characters outside Crockford's alphabet. */
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FAU", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FA!", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FA-", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FA ", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("01ARZ3NDEKTSV4RRFFQ69G5FA\xc3", uuid),
	    -1);
	/* More than 128 bits: the first character must be 0-7. */
	assert_int_equal(id_ulid_to_uuid("81ARZ3NDEKTSV4RRFFQ69G5FAV", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("ZZZZZZZZZZZZZZZZZZZZZZZZZZ", uuid),
	    -1);
	assert_int_equal(id_ulid_to_uuid("80000000000000000000000000", uuid),
	    -1);

	/* And the other way, text that is not a UUID. */
	assert_int_equal(id_uuid_to_ulid("not-a-uuid", ulid), -1);
	assert_int_equal(id_uuid_to_ulid("0189a2b3c4d57e6f8a9bacbdcedfe0f1",
			     ulid),
	    -1);
	assert_int_equal(id_uuid_to_ulid("0189a2b3-c4d5-7e6f-8a9b-acbdcedfe0fz",
			     ulid),
	    -1);
	assert_int_equal(id_uuid_to_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV", ulid),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_is_v7),
		cmocka_unit_test(test_new_sorts_by_time),
		cmocka_unit_test(test_new_unique),
		cmocka_unit_test(test_is_uuid),
		cmocka_unit_test(test_ulid_known),
		cmocka_unit_test(test_ulid_round_trip),
		cmocka_unit_test(test_ulid_rejects),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
