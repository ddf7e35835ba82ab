/*
 * Compact JWTs, HS256 and RS256 (see jwt.h).  Claims are a jansson object
 * behind an opaque struct; this is the one file of core/ that touches
 * JSON, because a JWT is JSON by definition and its callers must not be.
 *
 * The signature is checked before the payload is parsed, and the header
 * is parsed from at most a few hundred bytes, so an unsigned token costs
 * a base64 decode and one small parse.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "../log.h"
#include "jwt.h"

#define HEADER_MAX 512	   /* decoded header bytes */
#define RS256_SIG_MAX 1024 /* RSA up to 8192 bits */

struct jwt_claims {
	json_t *obj;
};

static const char *const alg_names[JWT__MAX] = {
	"HS256", /* JWT_HS256 */
	"RS256", /* JWT_RS256 */
};

const char *
jwt_alg_name(enum jwt_alg a)
{
	if (a < 0 || a >= JWT__MAX)
		abort();
	return alg_names[a];
}

struct jwt_claims *
jwt_claims_new(void)
{
	struct jwt_claims *c = xcalloc(1, sizeof(*c));

	c->obj = json_object();
	if (c->obj == NULL)
		abort(); /* out of memory, as xmalloc */
	return c;
}

void
jwt_claims_free(struct jwt_claims *c)
{
	if (c == NULL)
		return;
	json_decref(c->obj);
	free(c);
}

void
jwt_claims_set_str(struct jwt_claims *c, const char *name, const char *v)
{
	json_object_set_new(c->obj, name,
	    v != NULL ? json_string(v) : json_null());
}

void
jwt_claims_set_int(struct jwt_claims *c, const char *name, int64_t v)
{
	json_object_set_new(c->obj, name, json_integer((json_int_t)v));
}

void
jwt_claims_set_bool(struct jwt_claims *c, const char *name, int v)
{
	json_object_set_new(c->obj, name, json_boolean(v));
}

int
jwt_claims_set_json(struct jwt_claims *c, const char *name, const char *json)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);

	if (v == NULL)
		return -1;
	json_object_set_new(c->obj, name, v);
	return 0;
}

const char *
jwt_claims_str(const struct jwt_claims *c, const char *name)
{
	return json_string_value(json_object_get(c->obj, name));
}

int
jwt_claims_int(const struct jwt_claims *c, const char *name, int64_t *out)
{
	json_t *v = json_object_get(c->obj, name);

	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
jwt_claims_bool(const struct jwt_claims *c, const char *name)
{
	json_t *v = json_object_get(c->obj, name);

	if (!json_is_boolean(v))
		return -1;
	return json_is_true(v);
}

int
jwt_claims_has(const struct jwt_claims *c, const char *name)
{
	return json_object_get(c->obj, name) != NULL;
}

/* signatures */

static void
hs256(const struct jwt_key *key, const char *data, size_t len,
    uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	if (key->secret_len == 0 || key->secret_len > JWT_HS_KEY_MAX)
		abort(); /* a key without a secret is a caller's bug */
	crypto_auth_hmacsha256_init(&st, key->secret, key->secret_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* RS256 over data into sig (*siglen in: its size, out: used); 0 or -1. */
static int
rs256_sign(EVP_PKEY *pkey, const char *data, size_t len, uint8_t *sig,
    size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;

	if (md == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(md, sig, siglen, (const uint8_t *)data, len) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

/* 1 when sig is an RS256 signature of data under pkey. */
static int
rs256_verify(EVP_PKEY *pkey, const char *data, size_t len, const uint8_t *sig,
    size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (md == NULL)
		return 0;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const uint8_t *)data, len) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* Append the base64url of json's compact text to b; 0 or -1. */
static int
append_b64_json(struct buf *b, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	char *enc;
	int rc;

	if (text == NULL)
		return -1;
	enc = xmalloc(B64URL_LEN(strlen(text)) + 1);
	base64url_encode((const uint8_t *)text, strlen(text), enc);
	rc = buf_puts(b, enc);
	free(enc);
	free(text);
	return rc;
}

char *
jwt_sign(const struct jwt_key *key, const struct jwt_claims *claims)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	uint8_t sig[RS256_SIG_MAX];
	size_t siglen = sizeof(sig);
	char enc[B64URL_LEN(RS256_SIG_MAX) + 1];
	struct buf b;
	json_t *header;
	char *tok = NULL;

	header = json_pack("{s:s, s:s}", "alg", jwt_alg_name(key->alg), "typ",
	    "JWT");
	if (header == NULL)
		return NULL;
	if (key->kid[0] != '\0')
		json_object_set_new(header, "kid", json_string(key->kid));
	buf_init(&b, JWT_MAX);
	if (append_b64_json(&b, header) != 0 || buf_puts(&b, ".") != 0 ||
	    append_b64_json(&b, claims->obj) != 0)
		goto out;
	switch (key->alg) {
	case JWT_HS256:
		hs256(key, buf_cstr(&b), b.len, mac);
		base64url_encode(mac, sizeof(mac), enc);
		break;
	case JWT_RS256:
		if (key->pkey == NULL ||
		    rs256_sign(key->pkey, buf_cstr(&b), b.len, sig, &siglen) !=
			0) {
			log_error("jwt: key %s cannot sign", key->kid);
			goto out;
		}
		base64url_encode(sig, siglen, enc);
		break;
	default:
		abort();
	}
	if (buf_puts(&b, ".") != 0 || buf_puts(&b, enc) != 0)
		goto out;
	tok = buf_take(&b);
out:
	buf_free(&b);
	json_decref(header);
	return tok;
}

/* verification */

/* Decode base64url s (len bytes) into a new buffer of *n bytes; NULL. */
static uint8_t *
b64_decode(const char *s, size_t len, size_t max, int *n)
{
	uint8_t *out;

	if (len == 0 || len > B64URL_LEN(max))
		return NULL;
	out = xmalloc(len); /* decoded is shorter than encoded */
	*n = base64url_decode(s, len, out);
	if (*n <= 0 || (size_t)*n > max) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * Parse the header (len bytes of base64url at s): an object with "alg" a
 * string, "typ" absent or "JWT", "kid" absent or a short string, nothing
 * else.  Fill alg and kid; 0, or -1.
 */
static int
parse_header(const char *s, size_t len, char alg[8], char kid[JWT_KID_MAX + 1])
{
	uint8_t *raw;
	json_t *h = NULL, *v;
	const char *name;
	int n, rc = -1;

	raw = b64_decode(s, len, HEADER_MAX, &n);
	if (raw == NULL)
		return -1;
	h = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES,
	    NULL);
	free(raw);
	if (!json_is_object(h))
		goto out;
	json_object_foreach(h, name, v)
	{
		if (strcmp(name, "alg") == 0) {
			if (!json_is_string(v) || json_string_length(v) >= 8)
				goto out;
		} else if (strcmp(name, "typ") == 0) {
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), "JWT") != 0)
				goto out;
		} else if (strcmp(name, "kid") == 0) {
			if (!json_is_string(v) ||
			    json_string_length(v) > JWT_KID_MAX ||
			    strlen(json_string_value(v)) !=
				json_string_length(v))
				goto out;
		} else
			goto out; /* crit, jku, jwk, x5u, ...: not obeyed */
	}
	v = json_object_get(h, "alg");
	if (v == NULL)
		goto out;
	strcpy(alg, json_string_value(v));
	v = json_object_get(h, "kid");
	strcpy(kid, v != NULL ? json_string_value(v) : "");
	rc = 0;
out:
	json_decref(h);
	return rc;
}

enum jwt_result
jwt_verify(const char *token, int64_t now_s, jwt_key_lookup lookup, void *arg,
    struct jwt_claims **out, const struct jwt_key **key_out)
{
	char alg[8], kid[JWT_KID_MAX + 1];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	const char *dot1, *dot2;
	const struct jwt_key *key;
	uint8_t *sig = NULL, *payload = NULL;
	json_t *claims = NULL, *v;
	size_t len = strnlen(token, JWT_MAX + 1);
	int64_t t;
	int n, ok;
	enum jwt_result rc = JWT_MALFORMED;

	if (len > JWT_MAX)
		return JWT_MALFORMED;
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) :
		      NULL;
	if (dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return JWT_MALFORMED;
	if (parse_header(token, (size_t)(dot1 - token), alg, kid) != 0)
		return JWT_MALFORMED;
	key = lookup(arg, kid);
	if (key == NULL)
		return JWT_KEY_UNKNOWN;
	/* The key's algorithm, never the header's choice. */
	if (strcmp(alg, jwt_alg_name(key->alg)) != 0)
		return JWT_BAD_SIGNATURE;
	sig = b64_decode(dot2 + 1, strlen(dot2 + 1), RS256_SIG_MAX, &n);
	if (sig == NULL)
		return JWT_BAD_SIGNATURE;
	switch (key->alg) {
	case JWT_HS256:
		hs256(key, token, (size_t)(dot2 - token), mac);
		ok = (size_t)n == sizeof(mac) &&
		    sodium_memcmp(sig, mac, sizeof(mac)) == 0;
		break;
	case JWT_RS256:
		ok = key->pkey != NULL &&
		    rs256_verify(key->pkey, token, (size_t)(dot2 - token), sig,
			(size_t)n);
		break;
	default:
		abort();
	}
	free(sig);
	if (!ok)
		return JWT_BAD_SIGNATURE;
	payload = b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), JWT_MAX, &n);
	if (payload == NULL)
		return JWT_MALFORMED;
	claims = json_loadb((const char *)payload, (size_t)n,
	    JSON_REJECT_DUPLICATES, NULL);
	free(payload);
	if (!json_is_object(claims))
		goto out;
	v = json_object_get(claims, "exp");
	rc = JWT_EXPIRED;
	if (!json_is_integer(v) || json_integer_value(v) <= now_s)
		goto out;
	rc = JWT_NOT_YET;
	v = json_object_get(claims, "nbf");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) > now_s))
		goto out;
	v = json_object_get(claims, "iat");
	if (v != NULL) {
		if (!json_is_integer(v))
			goto out;
		t = (int64_t)json_integer_value(v);
		if (t > now_s + JWT_IAT_LEEWAY_S)
			goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->obj = claims;
	claims = NULL;
	if (key_out != NULL)
		*key_out = key;
	rc = JWT_OK;
out:
	json_decref(claims);
	return rc;
}

/* The big-endian bytes of an RSA parameter as base64url; NULL. */
static char *
bn_b64(EVP_PKEY *pkey, const char *param)
{
	BIGNUM *bn = NULL;
	uint8_t *bytes;
	char *out = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return NULL;
	n = BN_num_bytes(bn);
	bytes = xmalloc((size_t)n + 1);
	if (BN_bn2bin(bn, bytes) == n) {
		out = xmalloc(B64URL_LEN((size_t)n) + 1);
		base64url_encode(bytes, (size_t)n, out);
	}
	free(bytes);
	BN_free(bn);
	return out;
}

char *
jwt_key_jwk(const struct jwt_key *key)
{
	char *n = NULL, *e = NULL, *text = NULL;
	json_t *jwk;

	if (key->alg != JWT_RS256 || key->pkey == NULL)
		return NULL;
	n = bn_b64(key->pkey, OSSL_PKEY_PARAM_RSA_N);
	e = bn_b64(key->pkey, OSSL_PKEY_PARAM_RSA_E);
	if (n == NULL || e == NULL) {
		log_error("jwt: key %s has no RSA public half", key->kid);
		goto out;
	}
	jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "kid",
	    key->kid, "use", "sig", "alg", "RS256", "n", n, "e", e);
	if (jwk != NULL)
		text = json_dumps(jwk, JSON_COMPACT);
	json_decref(jwk);
out:
	free(n);
	free(e);
	return text;
}
