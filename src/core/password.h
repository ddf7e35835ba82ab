/*
 * Passwords: the bounds every new password must meet, and Argon2id hashing
 * through libsodium with bounded concurrency.  Each hash takes the
 * configured memory, so at most hash_concurrency of them run at once: memory
 * stays bounded and a burst of confirms or logins cannot take every worker.
 */
#ifndef RESETD_PASSWORD_H
#define RESETD_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_CHARS 256	/* code points; longer is refused, never cut */
#define PASSWORD_MAX_BYTES (PASSWORD_MAX_CHARS * 4)

enum password_check {
	PASSWORD_OK,
	PASSWORD_TOO_SHORT,
	PASSWORD_TOO_LONG,
	PASSWORD_INVALID_TEXT,	/* not UTF-8, or control characters */
};

/* Check a candidate password against the bounds. */
enum password_check password_check_bounds(const char *);

struct hasher;

/*
 * Create a hasher for Argon2id with opslimit passes and memory_kib KiB,
 * allowing concurrency hashes at once (0: one per CPU).  It also prepares
 * the dummy hash used to spend equal time on unknown users.
 */
struct hasher *hasher_new(uint64_t opslimit, size_t memory_kib,
	    int concurrency);
void	hasher_free(struct hasher *);
/* Hash a password into a newly allocated string; NULL on failure (logged). */
char	*hasher_hash(struct hasher *, const char *password);
/*
 * Verify a password against a stored hash; 1 when it matches.  With hash
 * NULL, verify against the dummy hash and return 0: the same cost as a real
 * verify, for users who do not exist.
 */
int	hasher_verify(struct hasher *, const char *hash, const char *password);
/*
 * Hash for ms milliseconds on threads threads (each hash still takes one of
 * the hasher's slots) and return the number of hashes completed; -1 when a
 * hash failed (logged).  This is the ceiling of confirm and login rates.
 */
int64_t	hasher_bench(struct hasher *, int threads, int64_t ms);
/* 1 when hash was made with other parameters than the current ones. */
int	hasher_needs_rehash(struct hasher *, const char *hash);

#endif
