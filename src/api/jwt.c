/*
 * Compact JWTs signed with HMAC-SHA256, for the session tokens dialects
 * hand out.  Only tokens this server signed are ever accepted: the header is
 * fixed, so no "alg" from outside is ever obeyed.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"

#define JWT_MAX 4096

static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
sign(const uint8_t key[32], const char *data, size_t len, char *out)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	base64url_encode(mac, sizeof(mac), out);
}

char *
jwt_sign(const uint8_t key[32], json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	size_t plen = strlen(payload);
	char *tok = xmalloc(B64URL_LEN(sizeof(jwt_header)) + B64URL_LEN(plen) +
	    B64URL_LEN(32) + 3);
	size_t n;

	base64url_encode((const uint8_t *)jwt_header, sizeof(jwt_header) - 1,
	    tok);
	n = strlen(tok);
	tok[n++] = '.';
	base64url_encode((const uint8_t *)payload, plen, tok + n);
	n += strlen(tok + n);
	sign(key, tok, n, tok + n + 1);
	tok[n] = '.';
	free(payload);
	return tok;
}

json_t *
jwt_verify(const uint8_t key[32], const char *token, int64_t now_s)
{
	char expect[B64URL_LEN(32) + 1];
	char header[B64URL_LEN(sizeof(jwt_header)) + 1];
	const char *dot1, *dot2;
	uint8_t *payload = NULL;
	json_t *claims = NULL, *exp;
	size_t len = strnlen(token, JWT_MAX + 1);
	int n;

	if (len > JWT_MAX)
		return NULL;
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return NULL;
	/*
	 * The header must be the one this server writes, byte for byte: a
	 * token that names another "alg" (none, RS256) is refused before its
	 * signature is looked at.
	 */
	base64url_encode((const uint8_t *)jwt_header, sizeof(jwt_header) - 1,
	    header);
	if ((size_t)(dot1 - token) != strlen(header) ||
	    memcmp(token, header, strlen(header)) != 0)
		return NULL;
	sign(key, token, (size_t)(dot2 - token), expect);
	if (strlen(dot2 + 1) != strlen(expect) ||
	    sodium_memcmp(dot2 + 1, expect, strlen(expect)) != 0)
		return NULL;
	payload = xmalloc((size_t)(dot2 - dot1));
	n = base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload);
	if (n > 0)
		claims = json_loadb((const char *)payload, (size_t)n, 0, NULL);
	free(payload);
	exp = json_object_get(claims, "exp");
	if (!json_is_object(claims) || !json_is_integer(exp) ||
	    json_integer_value(exp) <= now_s) {
		json_decref(claims);
		return NULL;
	}
	return claims;
}
