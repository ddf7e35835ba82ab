/*
 * Addresses and address ranges: parsing "192.0.2.1", "2001:db8::/32" and
 * lists of them, matching an address against a range, and the key the rate
 * limiter groups clients by.  IPv4-mapped IPv6 addresses ("::ffff:a.b.c.d")
 * are taken as the IPv4 address they carry, so one client is one key
 * whatever socket family it arrived on.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const uint8_t v4_mapped[12] = {
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0xff,
	0xff,
};

int
addr_parse(const char *s, size_t len, struct addr *out)
{
	char text[INET6_ADDRSTRLEN + 1];
	struct addr a;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a.bytes) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, text, a.bytes) == 1) {
		a.family = 6;
		if (memcmp(a.bytes, v4_mapped, sizeof(v4_mapped)) == 0) {
			memmove(a.bytes, a.bytes + 12, 4);
			memset(a.bytes + 4, 0, 12);
			a.family = 4;
		}
	} else
		return -1;
	*out = a;
	return 0;
}

void
addr_format(const struct addr *a, char *out, size_t outlen)
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, out,
		(socklen_t)outlen) == NULL)
		snprintf(out, outlen, "-");
}

int
cidr_parse(const char *s, size_t len, struct cidr *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	struct cidr c;
	long bits;
	char *end;
	char num[4];
	size_t nlen;

	if (addr_parse(s, alen, &c.addr) == -1)
		return -1;
	c.bits = c.addr.family == 4 ? 32 : 128;
	if (slash != NULL) {
		nlen = len - alen - 1;
		if (nlen == 0 || nlen >= sizeof(num))
			return -1;
		memcpy(num, slash + 1, nlen);
		num[nlen] = '\0';
		if (num[0] < '0' || num[0] > '9')
			return -1;
		bits = strtol(num, &end, 10);
		if (*end != '\0' || bits < 0 || bits > c.bits)
			return -1;
		/* "::ffff:10.0.0.0/104" is 10.0.0.0/8. */
		if (c.addr.family == 4 && memchr(s, ':', alen) != NULL) {
			if (bits < 96)
				return -1;
			bits -= 96;
		}
		c.bits = (int)bits;
	}
	*out = c;
	return 0;
}

int
cidr_match(const struct cidr *c, const struct addr *a)
{
	int full, rest;

	if (c->addr.family != a->family)
		return 0;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(c->addr.bytes, a->bytes, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((c->addr.bytes[full] ^ a->bytes[full]) &
		   (uint8_t)(0xff << (8 - rest))) == 0;
}

int
cidr_parse_list(const char *s, struct cidr *out, size_t max, size_t *n)
{
	const char *p = s, *end;
	size_t len, count = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, " \t,");
		len = (size_t)(end - p);
		if (count >= max || cidr_parse(p, len, &out[count]) == -1)
			return -1;
		count++;
		p = end;
	}
	*n = count;
	return 0;
}

int
cidr_list_match(const struct cidr *list, size_t n, const struct addr *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&list[i], a))
			return 1;
	return 0;
}

void
addr_group(const struct addr *a, struct addr *out)
{
	*out = *a;
	/* One IPv6 host usually holds a whole /64: count it as one client. */
	if (a->family == 6)
		memset(out->bytes + 8, 0, 8);
}

void
addr_prefix(const struct addr *a, int bits, struct addr *out)
{
	int full = bits / 8, rest = bits % 8;

	assert(bits >= 0 && bits <= (a->family == 4 ? 32 : 128));
	*out = *a;
	if (full >= 16)
		return;
	if (rest != 0) {
		out->bytes[full] &= (uint8_t)(0xff << (8 - rest));
		full++;
	}
	memset(out->bytes + full, 0, sizeof(out->bytes) - (size_t)full);
}
