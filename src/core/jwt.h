/*
 * Compact JSON Web Tokens (RFC 7519) as resetd signs and checks them:
 * HS256 under a 32-byte secret, RS256 under an RSA key (OpenSSL's
 * libcrypto).  Claims are built and read through struct jwt_claims, so
 * that no caller sees the JSON inside; the JSON library stays in this
 * file.
 *
 * Verification obeys nothing from outside that it did not expect: the
 * header may carry only "alg", "typ" and "kid"; the key is chosen by
 * "kid" through the caller's lookup, and the header's "alg" must be that
 * key's own algorithm, so "none", HS256 under an RSA key's public half,
 * or any other algorithm is refused before a signature is looked at.
 * "exp" is required; "nbf" and "iat", when present, are checked too.
 */
#ifndef RESETD_JWT_H
#define RESETD_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define JWT_MAX 8192 /* the longest token verified, in bytes */
#define JWT_KID_MAX 64
#define JWT_HS_KEY_MAX 64 /* the longest HS256 secret */
/* How far in the future "iat" may be, for clocks a little apart. */
#define JWT_IAT_LEEWAY_S 60

enum jwt_alg {
	JWT_HS256, /* 0 */
	JWT_RS256, /* 1 */
	JWT__MAX
};

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

/*
 * A key as jwt_sign and jwt_verify take it.  For HS256, secret_len bytes
 * of secret; for RS256, pkey (a private key signs; a private or public
 * key verifies).
 */
struct jwt_key {
	char kid[JWT_KID_MAX + 1];
	enum jwt_alg alg;
	uint8_t secret[JWT_HS_KEY_MAX];
	size_t secret_len;
	struct evp_pkey_st *pkey;
};

/* The name of an algorithm as a JWT header writes it ("HS256"). */
const char *jwt_alg_name(enum jwt_alg);

/* A set of claims; opaque. */
struct jwt_claims;

struct jwt_claims *jwt_claims_new(void);
void jwt_claims_free(struct jwt_claims *);
/* Set a claim; a NULL string is written as null. */
void
jwt_claims_set_str(struct jwt_claims *, const char *name, const char *value);
void jwt_claims_set_int(struct jwt_claims *, const char *name, int64_t);
void jwt_claims_set_bool(struct jwt_claims *, const char *name, int);
/*
 * Set a claim to the JSON value json (an array or object written by the
 * caller, such as Xsolla's groups).  Return 0, or -1 when json does not
 * parse (nothing set).
 */
int jwt_claims_set_json(struct jwt_claims *, const char *name,
    const char *json) WUR;
/* A string claim (owned by the claims), or NULL when absent or not text. */
const char *jwt_claims_str(const struct jwt_claims *, const char *name);
/* An integer claim into *out: 0, or -1 when absent or not an integer. */
int
jwt_claims_int(const struct jwt_claims *, const char *name, int64_t *out) WUR;
/* A boolean claim: 1 or 0, or -1 when absent or not a boolean. */
int jwt_claims_bool(const struct jwt_claims *, const char *name);
/* 1 when the claim is present, whatever its type. */
int jwt_claims_has(const struct jwt_claims *, const char *name);

/*
 * Sign claims with key: header {"alg","typ":"JWT","kid"} ("kid" left out
 * when key->kid is empty).  Return the token (caller frees), or NULL when
 * the key cannot sign (logged).
 */
char *jwt_sign(const struct jwt_key *, const struct jwt_claims *);

/*
 * Find the key a token names: kid is the header's "kid" ("" when it has
 * none).  Return the key (owned by the caller of jwt_verify, alive until
 * it returns) or NULL when there is none.
 */
typedef const struct jwt_key *(*jwt_key_lookup)(void *arg, const char *kid);

enum jwt_result {
	JWT_OK,		   /* 0 */
	JWT_MALFORMED,	   /* 1: not a JWT, or a header not allowed */
	JWT_KEY_UNKNOWN,   /* 2: no key has the kid */
	JWT_BAD_SIGNATURE, /* 3: wrong alg for the key, or signature */
	JWT_EXPIRED,	   /* 4: exp missing, not an integer, or past */
	JWT_NOT_YET,	   /* 5: nbf or iat in the future */
	JWT__RESULT_MAX
};

/*
 * Verify token at now_s (seconds): its shape, its header, its signature
 * under the key lookup finds, and its times: exp is required and must be
 * after now_s; nbf, when present, at or before it; iat, when present, no
 * more than JWT_IAT_LEEWAY_S after it.  A time claim of another type than
 * an integer is refused.  On JWT_OK, *out holds the claims (free with
 * jwt_claims_free) and, when key_out is not NULL, *key_out the key that
 * verified.  Nothing is logged: a bad token is an expected outcome.
 */
enum jwt_result
jwt_verify(const char *token, int64_t now_s, jwt_key_lookup lookup, void *arg,
    struct jwt_claims **out, const struct jwt_key **key_out);

/*
 * The RSA key's public half as a JWK ({"kty":"RSA","kid","use":"sig",
 * "alg":"RS256","n","e"}), newly allocated JSON text; NULL when key is
 * not RS256 (or fails, logged).
 */
char *jwt_key_jwk(const struct jwt_key *);

#endif
