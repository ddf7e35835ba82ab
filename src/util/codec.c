/*
 * base64url (RFC 4648 section 5, no padding) and lowercase hex, on
 * libsodium's codecs.  Those run in constant time: the bytes encoded and
 * decoded here are often secrets (link tokens, keys, MACs), and a table
 * indexed with secret bits leaks them through the cache.  Decoders reject
 * anything that is not exactly their alphabet, including non-zero padding
 * bits, so every value has one text.
 */
#include <string.h>

#include <sodium.h>

#include "util.h"

void
base64url_encode(const uint8_t *in, size_t n, char *out)
{
	sodium_bin2base64(out,
	    sodium_base64_ENCODED_LEN(n,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	    in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
base64url_decode(const char *in, size_t len, uint8_t *out)
{
	const char *end;
	size_t n;

	/* A length of 1 mod 4 cannot be base64 of anything. */
	if (len % 4 == 1)
		return -1;
	if (sodium_base642bin(out, len * 3 / 4, in, len, NULL, &n, &end,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + len)
		return -1;
	return (int)n;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int
hex_decode(const char *in, size_t len, uint8_t *out)
{
	const char *end;
	size_t n;

	if (len % 2 != 0)
		return -1;
	if (sodium_hex2bin(out, len / 2, in, len, NULL, &n, &end) != 0 ||
	    end != in + len)
		return -1;
	return (int)n;
}
