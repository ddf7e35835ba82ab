/*
 * User storage: where a project's users and their passwords live.  A
 * project's storage is "builtin" (resetd's users table keeps them) or
 * "webhook" (the app keeps them and answers calls to its URLs, Xsolla's
 * custom storage).  Core asks a table of operations (user_storage_of) and
 * never knows which backend answers.
 *
 * The webhook backend POSTs JSON to the project's URLs, each call carrying
 * "Authorization: Bearer JWT", an HS256 token signed with the project's
 * secret key (keyring_secret) with the claims
 *
 *   iss "resetd", aud the URL called, iat now, exp now + 60, jti random,
 *   xsolla_login_project_id the project's id, type "custom_storage".
 *
 * Answers are checked strictly (storage_parse_user): a 200 answer is a JSON
 * object of at most 16 KiB with Content-Type application/json; anything
 * else, or a redirect, or a call past the project's timeout, is a failure
 * and never believed.  docs/architecture.md has the wire contract.
 *
 * A webhook project's users are shadow rows in the users table: resetd's
 * own UUID, the app's id as external_id, email, locale and status, never a
 * password hash.
 */
#ifndef RESETD_USERSTORE_H
#define RESETD_USERSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"
#include "engine.h"

#define STORAGE_BUILTIN "builtin"
#define STORAGE_WEBHOOK "webhook"
#define STORAGE_LOOKUP_KIND OUTBOX_TASK_KIND /* mail/outbox.h */
#define STORAGE_TIMEOUT_MIN_MS 100
#define STORAGE_TIMEOUT_MAX_MS 30000
#define STORAGE_TIMEOUT_DEFAULT_MS 3000
#define STORAGE_TOKEN_TTL_S 60
#define STORAGE_ID_MAX 128
#define STORAGE_ERR_MAX 256

/* What a storage operation came to. */
enum storage_result {
	STORAGE_OK,	   /* 0: found, right password, accepted, created */
	STORAGE_NOT_FOUND, /* 1: no such user; or wrong credentials */
	STORAGE_REFUSED,   /* 2: the app refused a password or a user */
	STORAGE_EXISTS,	   /* 3: create: the user exists */
	STORAGE_FAILED,	   /* 4: down, slow, wrong shape (reason in err) */
};

/* A user as the app describes it. */
struct storage_user {
	char *id; /* the app's own id, 1 to STORAGE_ID_MAX bytes */
	char *email;
	char *username; /* NULL: none */
	char *locale;	/* NULL: none */
	int disabled;	/* status "disabled" */
};

void storage_user_clear(struct storage_user *);

struct engine;

/* The operations of a backend; create may be NULL (refused). */
struct user_storage_ops {
	const char *name;
	/* A user by email or username. */
	enum storage_result (*lookup)(struct engine *, const struct project *,
	    const char *login, struct storage_user *out, char *err,
	    size_t errlen);
	/* Sign-in: the password of login; NOT_FOUND for wrong or unknown. */
	enum storage_result (*check)(struct engine *, const struct project *,
	    const char *login, const char *password, struct storage_user *out,
	    char *err, size_t errlen);
	/*
	 * Set user u's password (outside any transaction).  verify_code is
	 * what the client sent (NULL: none).  *hash_out receives the hash
	 * the caller's transaction stores (NULL: none to store, the app
	 * keeps it).
	 */
	enum storage_result (*set)(struct engine *, const struct project *,
	    const struct user *u, const char *password, const char *verify_code,
	    char **hash_out, char *err, size_t errlen);
	/* Make a user in the app; NOT for builtin (it stores its own). */
	enum storage_result (*create)(struct engine *, const struct project *,
	    const char *email, const char *username, const char *password,
	    struct storage_user *out, char *err, size_t errlen);
};

/* The backend of project p. */
const struct user_storage_ops *user_storage_of(const struct project *p);
/* 1 when the project's users live in its app. */
int storage_is_webhook(const struct project *p);

/*
 * The shadow row of su, a user of webhook project p as its app described
 * it: the row with its external id, else the row of its email (adopted),
 * else a new one (*is_new), with the app's email, locale and status; for
 * the caller to write (free with user_free).  ENGINE_OK or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result storage_shadow_of(struct engine *, const struct project *p,
    const struct storage_user *su, struct user **out, int *is_new);

/*
 * Set user u's new password in project p's storage, outside any
 * transaction (reset.c): ENGINE_OK with *hash_out the hash the caller's
 * transaction stores (NULL: the app keeps the password), or
 * ENGINE_STORAGE_REFUSED (the app said no), or ENGINE_UNAVAILABLE (down,
 * slow, a wrong answer; logged without the password).
 */
enum engine_result storage_set_password(struct engine *,
    const struct project *p, const struct user *u, const char *password,
    const char *verify_code, char **hash_out);

/*
 * Sign-in with a webhook project's app: its password check, then the
 * shadow row written from its answer.  ENGINE_OK with *out the user
 * (free with user_free), or NULL for a wrong password or an unknown user
 * alike; ENGINE_UNAVAILABLE when the app or the database failed (logged,
 * without the password).
 */
enum engine_result storage_sign_in(struct engine *, const struct project *p,
    const char *login, const char *password, struct user **out);
/*
 * Write shadow row u (storage_shadow_of) in a transaction of its own:
 * ENGINE_OK or ENGINE_UNAVAILABLE.
 */
enum engine_result
storage_shadow_save(struct engine *, struct user *u, int is_new);

/* Pure parts, for the tests. */
/*
 * Parse a 200 answer's user object: body of len bytes with content type
 * ctype.  0 with *out filled, or -1 with the reason in err.
 */
int storage_parse_user(const char *ctype, const char *body, size_t len,
    struct storage_user *out, char *err, size_t errlen);
/* A project's storage settings, as set. */
struct storage_settings {
	const char *kind; /* "builtin" or "webhook" */
	const char *lookup_url, *verify_url, *password_url, *new_user_url;
	const char *format; /* "plain" or "argon2id"; NULL: plain */
	int64_t timeout_ms;
	int allow_private;
	/*
	 * URLs kept as they were (STORAGE_KEPT_*): their form is checked,
	 * but their address is not resolved again (an unrelated change of
	 * the project must not fail on DNS); calls are checked at connect.
	 */
	unsigned kept;
};
#define STORAGE_KEPT_LOOKUP 1u
#define STORAGE_KEPT_VERIFY 2u
#define STORAGE_KEPT_PASSWORD 4u
#define STORAGE_KEPT_NEW_USER 8u

/*
 * Check a project's storage settings: the kind, the URLs (as webhook
 * endpoints' are: webhook_url_check, private targets only when allowed),
 * the password format and the timeout; webhook needs the lookup, verify
 * and password URLs.  0, or -1 with err naming the option.
 */
int storage_settings_check(const struct storage_settings *, char *err,
    size_t errlen);
/* The same of a 200 answer that need only be a JSON object. */
int storage_answer_object(const char *ctype, const char *body, size_t len,
    char *err, size_t errlen);
struct jwt_claims;
/* The claims of a call to url of project_id at now_s (caller frees). */
struct jwt_claims *
storage_claims(const char *project_id, const char *url, int64_t now_s);

#endif
