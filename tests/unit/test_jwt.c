/*
 * Unit tests of the session tokens (api/jwt.c): a signed token verifies
 * under its key and no other; any change to its header, payload or
 * signature is refused; a header naming another algorithm is refused even
 * when its MAC is right; expiry is strict; malformed tokens are refused
 * without a crash.
 */
#include "unit.h"

#include <jansson.h>
#include <sodium.h>

#include "api/api.h"

#define NOW 1800000000LL

static uint8_t key[32], other[32];

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	return 0;
}

static char *
token_with_exp(json_t *exp)
{
	json_t *claims = json_pack("{s:s}", "sub", "user-1");
	char *tok;

	if (exp != NULL)
		json_object_set_new(claims, "exp", exp);
	tok = jwt_sign(key, claims);
	json_decref(claims);
	return tok;
}

/* Sign header.payload with key as HS256 would, whatever the header says. */
static char *
forge(const char *header_json, const char *payload_json,
    const uint8_t *k)
{
	char *tok = malloc(4096);
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	size_t n;

	assert_non_null(tok);
	base64url_encode((const uint8_t *)header_json, strlen(header_json),
	    tok);
	n = strlen(tok);
	tok[n++] = '.';
	base64url_encode((const uint8_t *)payload_json, strlen(payload_json),
	    tok + n);
	n += strlen(tok + n);
	crypto_auth_hmacsha256(mac, (const uint8_t *)tok, n, k);
	tok[n++] = '.';
	base64url_encode(mac, sizeof(mac), tok + n);
	return tok;
}

static void
test_round_trip(void **state)
{
	char *tok = token_with_exp(json_integer(NOW + 60));
	json_t *claims;

	(void)state;
	claims = jwt_verify(key, tok, NOW);
	assert_non_null(claims);
	assert_string_equal(json_string_value(json_object_get(claims, "sub")),
	    "user-1");
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")),
	    NOW + 60);
	json_decref(claims);
	/* Another key never verifies it. */
	assert_null(jwt_verify(other, tok, NOW));
	free(tok);
}

static void
test_tampering(void **state)
{
	char *tok = token_with_exp(json_integer(NOW + 60));
	size_t i, len = strlen(tok);
	char saved;

	(void)state;
	/* Every single-character change anywhere in the token is refused. */
	for (i = 0; i < len; i++) {
		if (tok[i] == '.')
			continue;
		saved = tok[i];
		tok[i] = saved == 'A' ? 'B' : 'A';
		assert_null(jwt_verify(key, tok, NOW));
		tok[i] = saved;
	}
	assert_non_null(tok);
	/* A dropped signature, or a truncated one. */
	tok[strrchr(tok, '.') - tok + 1] = '\0';
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
}

static void
test_alg_confusion(void **state)
{
	static const char *headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\",\"alg\":\"HS256\"}",	/* same claims, other bytes */
		"{\"alg\":\"HS256\"}",
		"{}",
	};
	const char *payload = "{\"sub\":\"user-1\",\"exp\":1800000060}";
	json_t *c;
	char *tok;
	size_t i;

	(void)state;
	/* The fixed header itself, forged here, verifies: the forge is right. */
	tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, key);
	c = jwt_verify(key, tok, NOW);
	assert_non_null(c);
	json_decref(c);
	free(tok);
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		tok = forge(headers[i], payload, key);
		assert_null(jwt_verify(key, tok, NOW));
		free(tok);
	}
	/* "alg":"none" with an empty signature. */
	tok = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, key);
	tok[strrchr(tok, '.') - tok + 1] = '\0';
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
}

static void
test_expiry(void **state)
{
	char *tok;
	json_t *c;

	(void)state;
	tok = token_with_exp(json_integer(NOW + 1));
	c = jwt_verify(key, tok, NOW);
	assert_non_null(c);
	json_decref(c);
	/* Expired at exactly exp, and after. */
	assert_null(jwt_verify(key, tok, NOW + 1));
	assert_null(jwt_verify(key, tok, NOW + 3600));
	free(tok);
	/* No exp, or an exp that is not an integer, never verifies. */
	tok = token_with_exp(NULL);
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
	tok = token_with_exp(json_string("1900000000"));
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
	tok = token_with_exp(json_real(1900000000.5));
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
	tok = token_with_exp(json_true());
	assert_null(jwt_verify(key, tok, NOW));
	free(tok);
}

static void
test_malformed(void **state)
{
	static const char *payloads[] = {
		"[1,2,3]",	/* not an object */
		"\"text\"",
		"{\"exp\":1800000060",	/* not JSON */
		"",
		"{\"exp\":1800000060}{}",
	};
	static const char *bad[] = {
		"", ".", "..", "...", "a.b", "a.b.c.d", "a..c", "..c",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.!!!.abc",
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..",
	};
	char *tok, *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(jwt_verify(key, bad[i], NOW));
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payloads[i],
		    key);
		assert_null(jwt_verify(key, tok, NOW));
		free(tok);
	}
	/* Over the size cap, even if it were valid otherwise. */
	big = malloc(70000);
	assert_non_null(big);
	memset(big, 'A', 69999);
	big[69999] = '\0';
	big[100] = '.';
	big[200] = '.';
	assert_null(jwt_verify(key, big, NOW));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
