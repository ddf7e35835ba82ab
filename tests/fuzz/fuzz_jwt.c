/*
 * Fuzz the token verifier (core/jwt.c): any bytes as a token, checked
 * against an HS256 key and an RS256 key (a fixed public key whose private
 * half made the corpus's signed seeds), and the claims of any token that
 * verifies read back.  Any answer is fine; a crash, a leak or a token
 * that verifies under the wrong algorithm is not.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "fuzz.h"
#include "core/jwt.h"

#define NOW 1800000000LL

static const char rs_public[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtRVLDpc8yBjlg2p4FcfK\n"
    "SAizcS8A+86e2fcjctIuNohCL5cc7/vfY2Csl6qwqvTubNNgsyxQcLZApiSnGDv8\n"
    "5UWvNVuoCYDFRgfkzPRX8wFGankceJVOrzAu2nQe2WzbA+I7KEbJ7HzROxj+IoyR\n"
    "N35YBO/rRzpRoMWZZ+7AjMiQjxc4bS5bqF8gYSwfJUtVW++fLIoWRmWiXUaYgAIE\n"
    "Y1pmQPlI3eHG3KRcaOIK3DRxPi5oYvz7XXIglc46a7leyDCeuxKVKYF5q+jXPLE/\n"
    "ebMutAughRETf7ZoGYY6eGXnExZYDQmzNFr18cvypLlDbmQqDMzcryGqj7z+7rn/\n"
    "CwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static struct jwt_key hs = { .kid = "hs",
	.alg = JWT_HS256,
	.secret = "fuzz-secret-key-of-the-corpus",
	.secret_len = 29 };
static struct jwt_key rs = { .kid = "rs", .alg = JWT_RS256 };

static const struct jwt_key *
lookup(void *arg, const char *kid)
{
	(void)arg;
	if (strcmp(kid, "hs") == 0)
		return &hs;
	if (strcmp(kid, "rs") == 0)
		return &rs;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	struct jwt_claims *c = NULL;
	const struct jwt_key *used = NULL;
	int64_t v;
	BIO *bio;

	if (rs.pkey == NULL) {
		bio = BIO_new_mem_buf(rs_public, -1);
		rs.pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (rs.pkey == NULL)
			abort();
	}
	if (jwt_verify(s, NOW, lookup, NULL, &c, &used) == JWT_OK) {
		if (c == NULL || used == NULL)
			abort();
		/* Whatever verified, exp was an integer in the future. */
		if (jwt_claims_int(c, "exp", &v) != 0 || v <= NOW)
			abort();
		(void)jwt_claims_str(c, "sub");
		(void)jwt_claims_bool(c, "email_verified");
		(void)jwt_claims_has(c, "groups");
		jwt_claims_free(c);
	}
	free(s);
	return 0;
}
