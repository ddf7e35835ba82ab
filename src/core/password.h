/*
 * Passwords: the policy every new password must meet, and Argon2id hashing
 * through libsodium with bounded concurrency.
 *
 * The policy is the one place every dialect and page checks a new password.
 * A project picks a profile, and may then switch its rules one by one:
 *
 *   nist     (the default; NIST SP 800-63B, OWASP ASVS 6.2) the lists and
 *            the strength score below, 8 to 256 characters;
 *   cognito  Cognito's PasswordPolicy: a minimum length (6 to 99, 8 by
 *            default) and at least one uppercase letter, lowercase letter,
 *            number and symbol (Cognito's symbol set), no lists, no score;
 *   xsolla   Xsolla's 6 to 100 characters, nothing else.
 *
 * The rules that keep a password typeable (valid UTF-8, no controls or
 * format characters) hold under every profile.
 *
 * Under nist, the rules are: a length in characters as a reader
 * sees them (extended grapheme clusters, so a letter with its accents is
 * one), between the project's minimum (8 by default) and 256, never
 * truncated; any Unicode text but controls, format characters (invisible
 * ones, bidi overrides) and line or paragraph separators, which cannot be
 * typed again as seen; no composition rules; not one
 * of the most common passwords; not in the operator's list of breached
 * passwords; not the account's own email, username or the project's name;
 * and at least the project's strength score (zxcvbn's 0 to 4 scale, with
 * the account's details and the project's name as a dictionary).
 *
 * Every password is NFKC-normalised before it is checked and before it is
 * hashed, so that the same text typed on two keyboards is the same
 * password.  Hashes made before normalisation existed verify too: when the
 * normalised form fails and differs from the text as typed, the text as
 * typed is tried, and a match is rehashed in the normalised form.
 *
 * Each hash takes the configured memory, so at most hash_concurrency of them
 * run at once: memory stays bounded and a burst of confirms or logins cannot
 * take every worker.
 */
#ifndef RESETD_PASSWORD_H
#define RESETD_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

#define PASSWORD_MIN_CHARS 8	   /* the default minimum */
#define PASSWORD_MIN_CHARS_FLOOR 6 /* the lowest minimum a project may set */
#define PASSWORD_MIN_CHARS_MAX 128
#define PASSWORD_MAX_CHARS 256 /* characters; longer is refused, never cut */
#define PASSWORD_MAX_BYTES (PASSWORD_MAX_CHARS * 4)
#define PASSWORD_SCORE_DEFAULT 2
#define PASSWORD_CONTEXT_MAX 8 /* account details given to the checks */

/* The rule a password broke; each has a name the dialects show. */
enum password_rule {
	PW_OK,	       /* 0 */
	PW_MIN_LENGTH, /* 1 */
	PW_MAX_LENGTH, /* 2 */
	PW_VALID_TEXT, /* 3: not UTF-8, or Cc, Cf, Zl, Zp characters */
	PW_COMMON,     /* 4: one of the most common passwords */
	PW_BREACHED,   /* 5: in the breached-password list */
	PW_CONTEXT,    /* 6: the email, username or project name */
	PW_STRENGTH,   /* 7: below the minimum score */
	PW_UPPERCASE,  /* 8: no uppercase letter, when required */
	PW_LOWERCASE,  /* 9: no lowercase letter, when required */
	PW_NUMBERS,    /* 10: no digit, when required */
	PW_SYMBOLS,    /* 11: no symbol (Cognito's set), when required */
	PW__MAX
};

/* A project's password profile: the defaults its rules start from. */
enum password_profile {
	PW_PROFILE_NIST,    /* 0 */
	PW_PROFILE_COGNITO, /* 1 */
	PW_PROFILE_XSOLLA,  /* 2 */
	PW_PROFILE__MAX
};

/* The rules a project may switch, as bits of password_policy.checks. */
#define PW_CHECK_LISTS 0x01 /* common, breached, own details */
#define PW_CHECK_SCORE 0x02 /* the strength score */
#define PW_REQUIRE_UPPERCASE 0x04
#define PW_REQUIRE_LOWERCASE 0x08
#define PW_REQUIRE_NUMBERS 0x10
#define PW_REQUIRE_SYMBOLS 0x20
#define PW_REQUIRE_ALL 0x3c
#define PW_CHECKS_ALL 0x3f

/* What a profile starts from. */
struct password_profile_info {
	const char *name;	/* "nist", "cognito", "xsolla" */
	int64_t min_length;	/* the default minimum */
	int64_t min_length_max; /* the highest minimum allowed */
	int64_t max_length;	/* characters; longer is refused */
	unsigned checks;	/* PW_CHECK_* and PW_REQUIRE_* bits */
};

/* A min_score that asks for the bounds only: length and text. */
#define PASSWORD_BOUNDS_ONLY (-1)

/* What a project asks of new passwords. */
struct password_policy {
	int64_t min_length;	   /* characters */
	int64_t max_length;	   /* characters; 0: PASSWORD_MAX_CHARS */
	int64_t min_score;	   /* 0 to 4, or PASSWORD_BOUNDS_ONLY */
	unsigned checks;	   /* PW_CHECK_* and PW_REQUIRE_* bits */
	const char *breached_file; /* NULL: none */
};

/* Why a password was refused, for the dialects to say. */
struct password_verdict {
	enum password_rule rule;
	int score; /* 0 to 4 when computed */
	int64_t min_length;
	int64_t max_length;
	int64_t min_score;
	const char *message;	/* static English text */
	const char *suggestion; /* static English text */
};

/* The name of a rule: "min_length", "common", ... */
const char *password_rule_name(enum password_rule);
/* What profile p starts from. */
const struct password_profile_info *password_profile(enum password_profile);
/* The profile named name into *out: 0, or -1 when there is none. */
int password_profile_parse(const char *name, enum password_profile *out);
/*
 * The PW_REQUIRE_* bits of a comma-separated list of "uppercase",
 * "lowercase", "numbers" and "symbols", or "none", into *out: 0, or -1
 * when a name is not one of those.
 */
int password_require_parse(const char *list, unsigned *out);
/*
 * 1 when c is one of Cognito's symbols: ^ $ * . [ ] { } ( ) ? " ! @ # % &
 * / \ , > < ' : ; | _ ~ ` = + - (a space inside the password counts too,
 * which the caller decides).
 */
int password_is_symbol(int32_t c);
/*
 * The NFKC form of pw, newly allocated (free with xfree_secret), or NULL
 * when pw is not valid UTF-8 or longer than PASSWORD_MAX_BYTES.
 */
char *password_normalise(const char *pw);
/*
 * Check a candidate password (as typed) against policy p.  context is a
 * NULL-terminated list of the account's details and the project's name
 * (any may be missing).  Return the rule broken, PW_OK when none, and fill
 * *out when it is not NULL.
 */
enum password_rule password_check(const struct password_policy *,
    const char *pw, const char *const *context, struct password_verdict *out);
/*
 * The length of valid UTF-8 text s in characters, as the policy counts
 * them: extended grapheme clusters (Unicode UAX #29), so that a letter
 * followed by combining marks is one character, as a reader sees it.
 */
size_t password_chars(const char *s);
/* The zxcvbn-style score, 0 to 4, of entropy in bits. */
int password_score(double bits);
/*
 * Look the SHA-1 of pw up in a breached-password file of sorted
 * "HEX40:COUNT" lines, by binary search with pread: the file is never
 * loaded.  1 when found, 0 when not, -1 when the file cannot be read
 * (logged).
 */
int password_breached(const char *path, const char *pw);
/* 1 when pw (lower-cased ASCII) is on the built-in common list. */
int password_common(const char *pw);

struct hasher;

/*
 * Create a hasher for Argon2id with opslimit passes and memory_kib KiB,
 * allowing concurrency hashes at once (0: one per CPU).  It also prepares
 * the dummy hash used to spend equal time on unknown users.
 */
struct hasher *
hasher_new(uint64_t opslimit, size_t memory_kib, int concurrency);
void hasher_free(struct hasher *);
/*
 * Hash a password, normalised first, into a newly allocated string; NULL on
 * failure (logged) or when the text cannot be normalised.
 */
char *hasher_hash(struct hasher *, const char *password);
/*
 * Verify a password against a stored hash: 1 when its normalised form
 * matches, 2 when only the text as typed matches (a hash made before
 * normalisation: the caller should rehash), 0 otherwise.  With hash NULL,
 * verify against the dummy hash and return 0: the same cost as a real
 * verify, for users who do not exist.
 */
int hasher_verify(struct hasher *, const char *hash, const char *password);
/*
 * Hash for ms milliseconds on threads threads (each hash still takes one of
 * the hasher's slots) and return the number of hashes completed; -1 when a
 * hash failed (logged).  This is the ceiling of confirm and login rates.
 */
int64_t hasher_bench(struct hasher *, int threads, int64_t ms);
/* 1 when hash was made with other parameters than the current ones. */
int hasher_needs_rehash(struct hasher *, const char *hash);
/*
 * 1 when hash may be imported as a user's password hash: an Argon2id
 * string ("$argon2id$v=19$m=...", any parameters), or a bcrypt hash
 * ("$2a$", "$2b$", "$2y$") that libxcrypt accepts (crypt_checksalt).
 * Either verifies at sign-in and is then made again as Argon2id at the
 * configured parameters.
 */
int hasher_importable(const char *hash);

#endif
