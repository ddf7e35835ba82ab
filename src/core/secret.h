/*
 * Reset secrets: link tokens are 32 bytes from the OS random source, written
 * as 43 base64url characters; reset codes are 6 decimal digits, drawn
 * uniformly, for people to type.  Only a keyed hash of a secret is ever
 * stored; the key is derived from the server secret, so a copy of the
 * database alone cannot be turned into working links.
 *
 * A code has only 20 bits: it is safe only because the engine caps wrong
 * tries per code and per account, and because its hash binds the subject
 * it was sent to and the row it lives in, so it can only be checked
 * against that one row and never looked up by value.
 */
#ifndef RESETD_SECRET_H
#define RESETD_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define SECRET_TOKEN_BYTES 32
#define SECRET_TOKEN_LEN B64URL_LEN(SECRET_TOKEN_BYTES) /* 43 */
#define SECRET_HASH_LEN 64				/* hex of 32 bytes */
#define SECRET_KEY_BYTES 32
#define SECRET_CODE_DIGITS 6
#define SECRET_CODE_SPACE 1000000U /* 10^SECRET_CODE_DIGITS */

/* Write a new random link token, NUL-terminated, into out. */
void secret_token_new(char out[SECRET_TOKEN_LEN + 1]);
/* Return 1 when s has the shape of a link token (43 base64url chars). */
int secret_token_valid(const char *s);
/*
 * Write the keyed hash of a secret (BLAKE2b-256 under key) as hex.  The
 * purpose is hashed in too, so a secret made for one use never matches a
 * lookup for another.
 */
void secret_hash(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
    const char *secret, char out[SECRET_HASH_LEN + 1]);
/*
 * Write a new reset code into out: SECRET_CODE_DIGITS decimal digits,
 * uniform over the whole space, leading zeros kept.
 */
void secret_code_new(char out[SECRET_CODE_DIGITS + 1]);
/*
 * Write the keyed hash of a typed code as hex: BLAKE2b-256 under key of
 * the purpose "reset_code", the subject (a user id or decoy key), the
 * secret's row id and the code, each part delimited.  Equal codes of two
 * users, or of two requests, never hash alike.
 */
void secret_code_hash(const uint8_t key[SECRET_KEY_BYTES], const char *subject,
    const char *secret_id, const char *code, char out[SECRET_HASH_LEN + 1]);
#define SECRET_MAC_LEN B64URL_LEN(32) /* 43 */

/*
 * Write a keyed MAC of value as base64url: BLAKE2b-256 under key of the
 * purpose and the value, delimited, so a MAC made for one use never
 * passes for another.  For values that are not secret themselves (a
 * secret's row id, a cookie bound to a form).
 */
void secret_mac(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
    const char *value, char out[SECRET_MAC_LEN + 1]);
/* Compare two hashes in constant time; 1 when equal. */
int secret_hash_equal(const char *, const char *);

#endif
