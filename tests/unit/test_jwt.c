/*
 * Unit tests of core/jwt.c: a signed token verifies under its key and no
 * other; any change to its header, payload or signature is refused; the
 * key's algorithm is the only one obeyed ("none", HS256 made with an RSA
 * key's public half, RS256 under an HMAC key, headers with members that
 * ask to be obeyed); exp, nbf and iat are checked at their edges;
 * malformed tokens are refused without a crash.
 */
#include "unit.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "core/jwt.h"

#define NOW 1800000000LL

static struct jwt_key hs, hs_other, rs, rs_other;

/* The key named kid among the test keys; the lookup jwt_verify calls. */
static const struct jwt_key *
lookup(void *arg, const char *kid)
{
	static const struct jwt_key *const all[] = { &hs, &hs_other, &rs,
		&rs_other };
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->kid, kid) == 0)
			return all[i];
	return NULL;
}

/* Always the one key given, whatever the kid: as a one-key verifier. */
static const struct jwt_key *
only(void *arg, const char *kid)
{
	(void)kid;
	return arg;
}

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	hs = (struct jwt_key){ .kid = "hs",
		.alg = JWT_HS256,
		.secret_len = 43 };
	randombytes_buf(hs.secret, hs.secret_len);
	hs_other = (struct jwt_key){ .kid = "hs2",
		.alg = JWT_HS256,
		.secret_len = 32 };
	randombytes_buf(hs_other.secret, hs_other.secret_len);
	rs = (struct jwt_key){ .kid = "rs", .alg = JWT_RS256 };
	rs.pkey = EVP_RSA_gen(2048);
	rs_other = (struct jwt_key){ .kid = "rs2", .alg = JWT_RS256 };
	rs_other.pkey = EVP_RSA_gen(2048);
	assert_non_null(rs.pkey);
	assert_non_null(rs_other.pkey);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rs.pkey);
	EVP_PKEY_free(rs_other.pkey);
	return 0;
}

static struct jwt_claims *
claims_exp(int64_t exp)
{
	struct jwt_claims *c = jwt_claims_new();

	jwt_claims_set_str(c, "sub", "user-1");
	jwt_claims_set_int(c, "exp", exp);
	return c;
}

static char *
sign(const struct jwt_key *k, int64_t exp)
{
	struct jwt_claims *c = claims_exp(exp);
	char *tok = jwt_sign(k, c);

	jwt_claims_free(c);
	assert_non_null(tok);
	return tok;
}

static enum jwt_result
verify(const char *tok, int64_t now)
{
	struct jwt_claims *c = NULL;
	enum jwt_result r = jwt_verify(tok, now, lookup, NULL, &c, NULL);

	if (r == JWT_OK)
		assert_non_null(c);
	jwt_claims_free(c);
	return r;
}

/* header.payload (JSON texts) with the signature given as base64url. */
static char *
assemble(const char *header, const char *payload, const char *sig)
{
	char *tok = malloc(8192);
	size_t n;

	assert_non_null(tok);
	base64url_encode((const uint8_t *)header, strlen(header), tok);
	n = strlen(tok);
	tok[n++] = '.';
	base64url_encode((const uint8_t *)payload, strlen(payload), tok + n);
	n += strlen(tok + n);
	tok[n++] = '.';
	strcpy(tok + n, sig);
	return tok;
}

/* header.payload signed with HMAC-SHA256 under key (len bytes). */
static char *
forge_hs(const char *header, const char *payload, const uint8_t *key,
    size_t len)
{
	char *tok = assemble(header, payload, "");
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	size_t n = strlen(tok) - 1;

	crypto_auth_hmacsha256_init(&st, key, len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)tok, n);
	crypto_auth_hmacsha256_final(&st, mac);
	base64url_encode(mac, sizeof(mac), tok + n + 1);
	return tok;
}

static void
test_round_trip(void **state)
{
	const struct jwt_key *k[] = { &hs, &rs };
	const struct jwt_key *used;
	struct jwt_claims *c = NULL;
	int64_t exp;
	size_t i;
	char *tok;

	(void)state;
	for (i = 0; i < 2; i++) {
		tok = sign(k[i], NOW + 60);
		assert_int_equal(jwt_verify(tok, NOW, lookup, NULL, &c, &used),
		    JWT_OK);
		assert_ptr_equal(used, k[i]);
		assert_string_equal(jwt_claims_str(c, "sub"), "user-1");
		assert_int_equal(jwt_claims_int(c, "exp", &exp), 0);
		assert_int_equal(exp, NOW + 60);
		assert_int_equal(jwt_claims_int(c, "sub", &exp), -1);
		assert_null(jwt_claims_str(c, "exp"));
		jwt_claims_free(c);
		c = NULL;
		/* Another key of the same algorithm never verifies it. */
		assert_int_equal(jwt_verify(tok, NOW, only,
				     (void *)(i == 0 ? &hs_other : &rs_other),
				     &c, NULL),
		    JWT_BAD_SIGNATURE);
		free(tok);
	}
}

static void
test_kid(void **state)
{
	struct jwt_key nokid = hs;
	struct jwt_claims *c = NULL;
	char *tok;

	(void)state;
	/* A kid no key has is told apart from a bad signature. */
	strcpy(nokid.kid, "unknown");
	tok = sign(&nokid, NOW + 60);
	assert_int_equal(verify(tok, NOW), JWT_KEY_UNKNOWN);
	free(tok);
	/* No kid at all: the lookup is asked for "". */
	nokid.kid[0] = '\0';
	tok = sign(&nokid, NOW + 60);
	assert_int_equal(verify(tok, NOW), JWT_KEY_UNKNOWN);
	assert_int_equal(jwt_verify(tok, NOW, only, &hs, &c, NULL), JWT_OK);
	jwt_claims_free(c);
	free(tok);
}

static void
test_tampering(void **state)
{
	const struct jwt_key *k[] = { &hs, &rs };
	size_t i, j, len;
	char *tok, saved;

	(void)state;
	for (j = 0; j < 2; j++) {
		tok = sign(k[j], NOW + 60);
		len = strlen(tok);
		/* Every single-character change anywhere is refused. */
		for (i = 0; i < len; i++) {
			if (tok[i] == '.')
				continue;
			saved = tok[i];
			tok[i] = saved == 'A' ? 'B' : 'A';
			assert_int_not_equal(verify(tok, NOW), JWT_OK);
			tok[i] = saved;
		}
		assert_int_equal(verify(tok, NOW), JWT_OK);
		/* A dropped signature. */
		tok[strrchr(tok, '.') - tok + 1] = '\0';
		assert_int_not_equal(verify(tok, NOW), JWT_OK);
		free(tok);
	}
}

static void
test_alg_confusion(void **state)
{
	const char *payload = "{\"sub\":\"user-1\",\"exp\":1800000060}";
	static const char *hs_headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"hs\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"hs\"}",
		"{\"alg\":\"HS512\",\"typ\":\"JWT\",\"kid\":\"hs\"}",
		"{\"alg\":\"hs256\",\"typ\":\"JWT\",\"kid\":\"hs\"}",
		"{\"typ\":\"JWT\",\"kid\":\"hs\"}",
		/* Members that ask to be obeyed are refused. */
		"{\"alg\":\"HS256\",\"kid\":\"hs\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"HS256\",\"kid\":\"hs\",\"jku\":\"https://x/\"}",
		"{\"alg\":\"HS256\",\"kid\":\"hs\",\"jwk\":{}}",
		"{\"alg\":\"HS256\",\"kid\":\"hs\",\"typ\":\"JWE\"}",
		"{\"alg\":\"HS256\",\"kid\":\"hs\",\"kid\":\"hs2\"}",
		"{\"alg\":\"HS256\",\"kid\":7}",
		"[\"HS256\"]",
	};
	uint8_t *der = NULL;
	char *tok;
	size_t i;
	int n;

	(void)state;
	/* A header written by hand the right way verifies: the forge works. */
	tok = forge_hs("{\"alg\":\"HS256\",\"kid\":\"hs\"}", payload, hs.secret,
	    hs.secret_len);
	assert_int_equal(verify(tok, NOW), JWT_OK);
	free(tok);
	for (i = 0; i < sizeof(hs_headers) / sizeof(hs_headers[0]); i++) {
		tok = forge_hs(hs_headers[i], payload, hs.secret,
		    hs.secret_len);
		assert_int_not_equal(verify(tok, NOW), JWT_OK);
		free(tok);
	}
	/* "none" with an empty signature, under either key. */
	tok = assemble("{\"alg\":\"none\",\"kid\":\"rs\"}", payload, "");
	assert_int_not_equal(verify(tok, NOW), JWT_OK);
	free(tok);
	tok = assemble("{\"alg\":\"none\",\"kid\":\"hs\"}", payload, "");
	assert_int_not_equal(verify(tok, NOW), JWT_OK);
	free(tok);
	/*
	 * HS/RS confusion: an HMAC made with the RSA key's public half (as
	 * DER, which is what a confused verifier would use as the secret)
	 * under a header saying HS256 and naming the RSA key.
	 */
	n = i2d_PUBKEY(rs.pkey, &der);
	assert_true(n > 0);
	tok = forge_hs("{\"alg\":\"HS256\",\"kid\":\"rs\"}", payload, der,
	    (size_t)n);
	assert_int_equal(verify(tok, NOW), JWT_BAD_SIGNATURE);
	free(tok);
	OPENSSL_free(der);
	/* And an RS256 header naming the HMAC key. */
	tok = forge_hs("{\"alg\":\"RS256\",\"kid\":\"hs\"}", payload, hs.secret,
	    hs.secret_len);
	assert_int_equal(verify(tok, NOW), JWT_BAD_SIGNATURE);
	free(tok);
}

static void
test_times(void **state)
{
	struct jwt_claims *c;
	char *tok;

	(void)state;
	tok = sign(&hs, NOW + 1);
	assert_int_equal(verify(tok, NOW), JWT_OK);
	/* Expired at exactly exp, and after. */
	assert_int_equal(verify(tok, NOW + 1), JWT_EXPIRED);
	assert_int_equal(verify(tok, NOW + 3600), JWT_EXPIRED);
	free(tok);
	/* No exp, or an exp that is not an integer, never verifies. */
	c = jwt_claims_new();
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_EXPIRED);
	free(tok);
	jwt_claims_set_str(c, "exp", "1900000000");
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_EXPIRED);
	free(tok);
	assert_int_equal(jwt_claims_set_json(c, "exp", "1900000000.5"), 0);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_EXPIRED);
	free(tok);
	jwt_claims_set_bool(c, "exp", 1);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_EXPIRED);
	free(tok);
	/* nbf: valid from exactly nbf on. */
	jwt_claims_set_int(c, "exp", NOW + 600);
	jwt_claims_set_int(c, "nbf", NOW + 10);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_NOT_YET);
	assert_int_equal(verify(tok, NOW + 9), JWT_NOT_YET);
	assert_int_equal(verify(tok, NOW + 10), JWT_OK);
	free(tok);
	jwt_claims_set_str(c, "nbf", "0");
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_NOT_YET);
	free(tok);
	/* iat: up to the leeway ahead is a clock apart; past it, refused. */
	assert_int_equal(jwt_claims_set_json(c, "nbf", "0"), 0);
	jwt_claims_set_int(c, "iat", NOW + JWT_IAT_LEEWAY_S);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_OK);
	free(tok);
	jwt_claims_set_int(c, "iat", NOW + JWT_IAT_LEEWAY_S + 1);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_NOT_YET);
	free(tok);
	assert_int_equal(jwt_claims_set_json(c, "iat", "null"), 0);
	tok = jwt_sign(&hs, c);
	assert_int_equal(verify(tok, NOW), JWT_NOT_YET);
	free(tok);
	jwt_claims_free(c);
}

static void
test_malformed(void **state)
{
	static const char *payloads[] = {
		"[1,2,3]",
		"\"text\"",
		"{\"exp\":1800000060",
		"",
		"{\"exp\":1800000060}{}",
		"{\"exp\":1800000060,\"exp\":1900000000}",
	};
	static const char *bad[] = {
		"",
		".",
		"..",
		"...",
		"a.b",
		"a.b.c.d",
		"a..c",
		"..c",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0.!!!.abc",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0..",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzIn0",
	};
	char *tok, *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(verify(bad[i], NOW), JWT_OK);
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		tok = forge_hs("{\"alg\":\"HS256\",\"kid\":\"hs\"}",
		    payloads[i], hs.secret, hs.secret_len);
		assert_int_not_equal(verify(tok, NOW), JWT_OK);
		free(tok);
	}
	/* Over the size cap, even if it were valid otherwise. */
	big = malloc(70000);
	assert_non_null(big);
	memset(big, 'A', 69999);
	big[69999] = '\0';
	big[100] = '.';
	big[200] = '.';
	assert_int_equal(verify(big, NOW), JWT_MALFORMED);
	free(big);
}

static void
test_jwk(void **state)
{
	char *jwk;

	(void)state;
	assert_null(jwt_key_jwk(&hs));
	jwk = jwt_key_jwk(&rs);
	assert_non_null(jwk);
	assert_non_null(strstr(jwk, "\"kty\":\"RSA\""));
	assert_non_null(strstr(jwk, "\"kid\":\"rs\""));
	assert_non_null(strstr(jwk, "\"e\":\"AQAB\""));
	/* Never the private half. */
	assert_null(strstr(jwk, "\"d\""));
	assert_null(strstr(jwk, "\"p\""));
	free(jwk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_kid),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_jwk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
