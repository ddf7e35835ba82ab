/*
 * Identifiers.  Every row resetd creates is named by a UUID version 7: 48
 * bits of millisecond time, then random bits, so ids sort by creation and
 * index well.  The WorkOS dialect shows ids as "prefix_" plus a ULID; a ULID
 * is the same 128 bits in Crockford base32, so both forms name one row and
 * convert without a lookup.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"

static void
uuid_format(const uint8_t b[16], char *out)
{
	char hex[33];

	hex_encode(b, 16, hex);
	snprintf(out, UUID_STRLEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
	    hex + 8, hex + 12, hex + 16, hex + 20);
}

static int
uuid_parse(const char *s, uint8_t b[16])
{
	char hex[33];
	size_t i, j;

	if (strlen(s) != UUID_STRLEN)
		return -1;
	for (i = 0, j = 0; i < UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[32] = '\0';
	return hex_decode(hex, 32, b) == 16 ? 0 : -1;
}

void
id_new(char *out)
{
	uint8_t b[16];
	uint64_t ms = (uint64_t)time_now_ms();
	int i;

	randombytes_buf(b, sizeof(b));
	for (i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0f)); /* version 7 */
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* RFC 4122 variant */
	uuid_format(b, out);
}

void
id_new_ordered(char *out)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t last_ms;
	static uint32_t seq;
	uint8_t b[16];
	uint64_t ms = (uint64_t)time_now_ms();
	int i;

	randombytes_buf(b, sizeof(b));
	pthread_mutex_lock(&lock);
	if (ms <= last_ms) {
		ms = last_ms;
		if (++seq > 0xfff) { /* the counter ran out: borrow a ms */
			ms++;
			seq = 0;
		}
	} else
		seq = randombytes_uniform(0x400); /* room to count up */
	last_ms = ms;
	for (i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (seq >> 8)); /* version 7, counter */
	b[7] = (uint8_t)(seq & 0xff);
	pthread_mutex_unlock(&lock);
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* RFC 4122 variant */
	uuid_format(b, out);
}

int
id_is_uuid(const char *s)
{
	uint8_t b[16];

	return uuid_parse(s, b) == 0;
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
id_uuid_to_ulid(const char *uuid, char *out)
{
	uint8_t b[16];
	int i, bit;

	if (uuid_parse(uuid, b) == -1)
		return -1;
	/* 130 bits of output; the two leading bits are zero. */
	for (i = 0; i < ULID_STRLEN; i++) {
		int v = 0, k;

		for (k = 0; k < 5; k++) {
			bit = i * 5 + k - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = crockford[v];
	}
	out[ULID_STRLEN] = '\0';
	return 0;
}

int
id_ulid_to_uuid(const char *ulid, char *out)
{
	uint8_t b[16];
	const char *p;
	int i, k, bit;

	if (strlen(ulid) != ULID_STRLEN)
		return -1;
	memset(b, 0, sizeof(b));
	for (i = 0; i < ULID_STRLEN; i++) {
		p = strchr(crockford, toupper((unsigned char)ulid[i]));
		if (p == NULL || ulid[i] == '\0')
			return -1;
		for (k = 0; k < 5; k++) {
			int v = (int)(p - crockford) >> (4 - k) & 1;

			bit = i * 5 + k - 2;
			if (bit < 0) {
				if (v)
					return -1; /* overflows 128 bits */
				continue;
			}
			b[bit / 8] |= (uint8_t)(v << (7 - bit % 8));
		}
	}
	uuid_format(b, out);
	return 0;
}

char *
id_prefixed(const char *prefix, const char *uuid)
{
	char ulid[ULID_STRLEN + 1];

	if (strlen(prefix) > ID_PREFIX_MAX || id_uuid_to_ulid(uuid, ulid) == -1)
		return NULL;
	return xasprintf("%s%s", prefix, ulid);
}

int
id_unprefix(const char *prefix, const char *s, char *out)
{
	char uuid[UUID_STRLEN + 1];
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0 || id_ulid_to_uuid(s + n, uuid) == -1)
		return -1;
	memcpy(out, uuid, sizeof(uuid));
	return 0;
}
