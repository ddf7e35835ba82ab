/*
 * Token and code generation and hashing, all through libsodium.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "secret.h"

void
secret_token_new(char out[SECRET_TOKEN_LEN + 1])
{
	uint8_t raw[SECRET_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	base64url_encode(raw, sizeof(raw), out);
	sodium_memzero(raw, sizeof(raw));
}

int
secret_token_valid(const char *s)
{
	uint8_t raw[SECRET_TOKEN_BYTES + 2];
	size_t len = strnlen(s, SECRET_TOKEN_LEN + 1);
	int n;

	if (len != SECRET_TOKEN_LEN)
		return 0;
	n = base64url_decode(s, len, raw);
	sodium_memzero(raw, sizeof(raw));
	return n == SECRET_TOKEN_BYTES;
}

void
secret_hash(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
    const char *secret, char out[SECRET_HASH_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[32];
	static const uint8_t sep = 0;

	crypto_generichash_init(&st, key, SECRET_KEY_BYTES, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)purpose,
	    strlen(purpose));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)secret, strlen(secret));
	crypto_generichash_final(&st, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
}

void
secret_code_new(char out[SECRET_CODE_DIGITS + 1])
{
	uint32_t n;

	/* randombytes_uniform has no modulo bias. */
	n = randombytes_uniform(SECRET_CODE_SPACE);
	snprintf(out, SECRET_CODE_DIGITS + 1, "%0*u", SECRET_CODE_DIGITS,
	    (unsigned)n);
	sodium_memzero(&n, sizeof(n));
}

void
secret_code_hash(const uint8_t key[SECRET_KEY_BYTES], const char *subject,
    const char *secret_id, const char *code, char out[SECRET_HASH_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[32];
	static const uint8_t sep = 0;
	static const char purpose[] = "reset_code";

	/* NUL cannot occur inside any part, so the parts cannot run together. */
	crypto_generichash_init(&st, key, SECRET_KEY_BYTES, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)purpose,
	    sizeof(purpose) - 1);
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)subject,
	    strlen(subject));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)secret_id,
	    strlen(secret_id));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)code, strlen(code));
	crypto_generichash_final(&st, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
	sodium_memzero(&st, sizeof(st));
}

void
secret_mac(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
    const char *value, char out[SECRET_MAC_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[32];
	static const uint8_t sep = 0;

	crypto_generichash_init(&st, key, SECRET_KEY_BYTES, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)purpose,
	    strlen(purpose));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)value, strlen(value));
	crypto_generichash_final(&st, h, sizeof(h));
	base64url_encode(h, sizeof(h), out);
	sodium_memzero(h, sizeof(h));
}

int
secret_hash_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n != strlen(b))
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}
