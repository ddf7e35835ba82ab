/*
 * Reset secrets: link tokens are 32 bytes from the OS random source, written
 * as 43 base64url characters.  Only a keyed hash of a secret is ever stored;
 * the key is derived from the server secret, so a copy of the database alone
 * cannot be turned into working links.
 */
#ifndef RESETD_SECRET_H
#define RESETD_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define SECRET_TOKEN_BYTES 32
#define SECRET_TOKEN_LEN B64URL_LEN(SECRET_TOKEN_BYTES)	/* 43 */
#define SECRET_HASH_LEN 64				/* hex of 32 bytes */
#define SECRET_KEY_BYTES 32

/* Write a new random link token, NUL-terminated, into out. */
void	secret_token_new(char out[SECRET_TOKEN_LEN + 1]);
/* Return 1 when s has the shape of a link token (43 base64url chars). */
int	secret_token_valid(const char *s);
/*
 * Write the keyed hash of a secret (BLAKE2b-256 under key) as hex.  The
 * purpose is hashed in too, so a secret made for one use never matches a
 * lookup for another.
 */
void	secret_hash(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
	    const char *secret, char out[SECRET_HASH_LEN + 1]);
/* Compare two hashes in constant time; 1 when equal. */
int	secret_hash_equal(const char *, const char *);

#endif
