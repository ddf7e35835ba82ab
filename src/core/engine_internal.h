/*
 * The engine's private state, shared by the files of core/.
 */
#ifndef RESETD_ENGINE_INTERNAL_H
#define RESETD_ENGINE_INTERNAL_H

#include <pthread.h>

#include "../util/metrics.h"
#include "engine.h"
#include "jwt.h"
#include "password.h"
#include "secret.h"

/* The most keys of a project kept at once: signing and still verifying. */
#define KEYRING_KEYS_MAX 16
/* The parsed-key table: sets of ways (keyring.c). */
#define KEYRING_SETS 64
#define KEYRING_WAYS 4

/* A parsed signing key, shared; held by whoever uses it. */
struct keyring_key {
	struct jwt_key jwt;
	char project_id[UUID_STRLEN + 1];
	int64_t retired_at;   /* 0: signs */
	int64_t verify_until; /* 0: while it signs */
	int refs;
};

/*
 * db_write callbacks in core speak one vocabulary.  A callback returns 0
 * to commit; a db failure as the store gave it (DB_ERROR, DB_CONSTRAINT)
 * to roll back; or TX_REFUSED to roll back with an expected outcome, which
 * it has put in its argument first.  Other store results (STORE_NOT_FOUND,
 * a count of rows) are never returned as they are.  Where db_write was
 * called, tx_result maps what it returned once: ENGINE_OK, the outcome, or
 * ENGINE_UNAVAILABLE; store and db codes go no further.  Call db_write
 * before reading the outcome (never both as arguments of one call: their
 * order is unspecified).
 */
#define TX_REFUSED 0x7478 /* "tx": no store or db code */
enum engine_result tx_result(int rc, enum engine_result outcome);

struct engine {
	const struct config *cfg;
	struct db *db;
	uint8_t token_key[SECRET_KEY_BYTES];
	uint8_t seal_key[32];			 /* client secrets at rest */
	uint8_t page_key[SECRET_KEY_BYTES];	 /* page MACs */
	uint8_t cancel_key[SECRET_KEY_BYTES];	 /* cancel links */
	uint8_t audit_key[32];			 /* audit subjects */
	uint8_t outbox_key[32];			 /* queued mail payloads */
	uint8_t backoff_key[32];		 /* sign-in back-off subjects */
	uint8_t aws_key[32];			 /* AWS secret keys at rest */
	uint8_t cursor_key[32];			 /* admin paging cursors */
	uint8_t webhook_key[32];		 /* webhook secrets at rest */
	int webhooks_queued;			 /* event.c, atomic */
	uint8_t signing_seal_key[32];		 /* signing keys at rest */
	uint8_t refresh_key[SECRET_KEY_BYTES];	 /* refresh hashes */
	uint8_t challenge_key[SECRET_KEY_BYTES]; /* sign-in challenges */
	/* Parsed signing keys, per project (keyring.c). */
	pthread_mutex_t keys_lock;
	struct keyring_slot {
		char project_id[UUID_STRLEN + 1];
		int64_t fetched_ms;
		size_t n;
		struct keyring_key *keys[KEYRING_KEYS_MAX];
	} keyslots[KEYRING_SETS * KEYRING_WAYS];
	int64_t backoff_pruned_ms; /* backoff.c, atomic */
	/*
	 * Per-address limits; in the database with rate_limit_store.  Their
	 * rules live in ratelimit, where a reload replaces them.
	 */
	int rate_shared;	/* rate_limit_store = database */
	uint8_t rate_key[32];	/* shared buckets' row keys */
	int64_t rate_pruned_ms; /* ratelimit_shared.c, atomic */
	/*
	 * Settings a reload changes while requests run (engine_reload):
	 * read them with ENGINE_TUNABLE, never from cfg.
	 */
	int64_t login_backoff_after;
	int64_t login_backoff_base;
	int64_t login_backoff_max;
	int64_t reset_floor_ms;
	int64_t reset_jitter_ms;
	struct hasher *hasher;
	struct ratelimit *ratelimit; /* per-client limits */
	pthread_mutex_t floor_lock;
	/* Recent mail counts per project, for the mail budget (reset.c). */
	pthread_mutex_t budget_lock;
	struct budget_slot {
		char project_id[UUID_STRLEN + 1];
		int64_t queued;
		int64_t notices; /* of queued, unknown_account */
		int64_t fetched_ms;
	} budget[64];
	int64_t floor_avg_us; /* moving average of requests */
	/* Projects recently read, shared with callers (engine_project). */
	pthread_mutex_t projects_lock;
	struct project_slot {
		struct project *project;
		int64_t fetched_ms;
	} projects[64];
	void (*wake_mail)(void *);
	void *wake_mail_arg;
	/*
	 * What a reload replaces whole, each a reference under live_lock:
	 * the templates (NULL: the built-in ones) and the configured sender.
	 */
	pthread_mutex_t live_lock;
	const struct template_set *templates;
	struct engine_sender *sender;
};

/* The configured sender of mail (mail_from, mail_from_name). */
struct engine_sender {
	int refs; /* under the engine's live_lock */
	char *addr;
	char *name;
};

/* A setting engine_reload may change, read atomically. */
#define ENGINE_TUNABLE(e, field) __atomic_load_n(&(e)->field, __ATOMIC_RELAXED)

/*
 * The mail templates in force, with a reference the caller gives back with
 * template_set_drop once done (a reload may replace them meanwhile).
 */
const struct template_set *engine_templates_hold(struct engine *);
/*
 * The configured sender in force, with a reference the caller gives back
 * with engine_sender_drop once the mail is queued.
 */
const struct engine_sender *engine_sender_hold(struct engine *);
void engine_sender_drop(struct engine *, const struct engine_sender *);
/*
 * The sender of a project's mail as engine_mail_sender chooses it, with s
 * in place of the configuration; the strings belong to s and p.
 */
void engine_sender_pick(const struct engine_sender *, const struct project *p,
    const char **addr, const char **name);

/* 1 when the newline-separated list holds item exactly. */
int engine_list_has(const char *list, const char *item);

/* idem.c: the engine's half of idempotent calls (see engine.h) */
/*
 * Look the claim's key up before any work: ENGINE_OK when no live record
 * holds it, ENGINE_REPLAYED with claim->answer set, ENGINE_IDEMPOTENCY_
 * MISMATCH, or ENGINE_UNAVAILABLE (logged).
 */
enum engine_result
idem_begin(struct engine *, const char *project_id, struct idem_claim *);
/* Have the dialect encode outcome into claim->answer. */
void idem_encode(struct idem_claim *, const struct idem_outcome *);
/*
 * Record claim->answer on c, inside the transaction that does the work;
 * call it first there.  STORE_OK; TX_REFUSED with *outcome set to
 * ENGINE_REPLAYED when the key was taken meanwhile (roll back, then call
 * idem_settle); or DB_ERROR.
 */
int idem_record(struct engine *, struct db_conn *, const char *project_id,
    const struct idem_claim *, int64_t now, enum engine_result *outcome);
/*
 * After a use case ended with result other than ENGINE_OK: if a racing
 * call with the same key has committed meanwhile, return ENGINE_REPLAYED
 * (or ENGINE_IDEMPOTENCY_MISMATCH) as idem_begin would; else result.
 */
enum engine_result idem_settle(struct engine *, const char *project_id,
    struct idem_claim *, enum engine_result result);
/* audit.c */
#define LOGIN_SUBJECT_LEN 32 /* hex of a 16-byte keyed hash */
#define AUDIT_SUBJECT_LEN LOGIN_SUBJECT_LEN

/*
 * A keyed hash (key: 32 bytes) of a project and a login, the login's
 * ASCII letters lower-cased as lookups do, in hex: the same for a login
 * whether or not an account has it, and naming nobody without the key.
 */
void login_subject(const uint8_t *key, const char *project_id,
    const char *login, char out[LOGIN_SUBJECT_LEN + 1]);
/* The audit subject of a login in a project (case-insensitive). */
void audit_subject(const struct engine *, const char *project_id,
    const char *login, char out[AUDIT_SUBJECT_LEN + 1]);
/*
 * Insert an audit row on c, inside the caller's transaction.  ctx, project,
 * subject and detail may be NULL.  STORE_OK or a db failure.
 */
int audit_write(struct db_conn *, const struct request_context *,
    const char *project_id, enum audit_kind, const char *subject,
    const char *detail, int64_t now);
/* The same in a transaction of its own; a failure is logged, not returned. */
void audit_record(struct engine *, const struct request_context *,
    const char *project_id, enum audit_kind, const char *subject,
    const char *detail);

/* event.c: recording events inside the transaction of their change */
/*
 * Record event name (user.created, user.updated, user.deleted) with u as
 * its data (a WorkOS User, no password hash), on c.  STORE_OK or failure.
 */
int event_user(struct engine *, struct db_conn *, const char *name,
    const struct user *u, int64_t now);
/*
 * Record password_reset.created or .succeeded for secret s of user u (a
 * WorkOS PasswordReset without token or URL), on c.  A public request
 * whose answer is held passes the time it goes out (database clock, ms)
 * in answer_at: its deliveries are then due at a random moment of the
 * second after it, not at once (0: at once).
 */
int event_password_reset(struct engine *, struct db_conn *, const char *name,
    const struct secret *s, const struct user *u, int64_t now,
    int64_t answer_at);
/*
 * Record email.delivery_failed for message m, which just died of
 * m->last_error: its id, kind, recipient, tries and that error, never its
 * payload.  Nothing for a webhook delivery.  On c, in the transaction that
 * marks it dead.
 */
int event_mail_dead(struct engine *, struct db_conn *,
    const struct outbox_msg *m, int64_t now);
/* Record session.created for s, with ctx's address and agent (may be NULL). */
int event_session_created(struct engine *, struct db_conn *,
    const struct request_context *ctx, const struct session *s, int64_t now);
/*
 * Revoke every live session of a user, as store_session_revoke_user
 * does, and record session.revoked for each, on c.  The number revoked,
 * or a failure.
 */
int event_sessions_revoke(struct engine *, struct db_conn *,
    const char *user_id, int64_t now);
/*
 * Revoke session id and its refresh tokens, as store_session_revoke does
 * (its return), and record session.revoked when it was live, on c.
 */
int event_session_revoke(struct engine *, struct db_conn *, const char *id,
    int64_t now);

/*
 * After a write that may have recorded events: when webhook deliveries were
 * queued since the last call, wake the senders (a hint: a wake that comes
 * early costs a poll interval at most).
 */
void event_wake(struct engine *);

/* backoff.c: the per-login sign-in back-off */
#define BACKOFF_SUBJECT_LEN LOGIN_SUBJECT_LEN

/*
 * The back-off subject of a login in a project: a keyed hash of both, the
 * login lower-cased as lookups are.  It names nobody without the key and
 * is the same for a login whether or not an account has it.
 */
void backoff_subject(const struct engine *, const char *project_id,
    const char *login, char out[BACKOFF_SUBJECT_LEN + 1]);
/*
 * Count one sign-in try of login before its password is checked (see
 * backoff.c); a try that sets a hold is audited as rate_limited, detail
 * "login", with ctx's address (ctx may be NULL).  ENGINE_OK with subject
 * filled, to be handed to backoff_success if the password is right;
 * ENGINE_THROTTLED with the seconds until the login may try again in
 * *retry_after_s (the try was not counted); ENGINE_UNAVAILABLE when the
 * database failed (logged).
 */
enum engine_result
backoff_begin(struct engine *, const struct request_context *ctx,
    const char *project_id, const char *login,
    char subject[BACKOFF_SUBJECT_LEN + 1], int64_t *retry_after_s);
/* Inside the sign-in's write transaction: forget subject.  0 or a failure. */
int backoff_success(struct db_conn *, const char *subject);
/*
 * Take back a try counted by backoff_begin that proved nothing about the
 * password (the project's user storage failed); failures are logged.
 */
void backoff_undo(struct engine *, const char *subject);

/* keyring.c: each project's signing keys (see keyring.c) */
/*
 * The key that signs a project's tokens of alg, held (release with
 * keyring_key_release); the project's first one is made when needed.
 * ENGINE_OK or ENGINE_UNAVAILABLE (logged).
 */
enum engine_result keyring_signing(struct engine *, const struct project *,
    enum jwt_alg, struct keyring_key **out);
/*
 * The key named kid, held, when it is of alg and still verifies:
 * ENGINE_OK, ENGINE_SESSION_INVALID (no such key, another algorithm,
 * rotated out and past its time) or ENGINE_UNAVAILABLE.
 */
enum engine_result keyring_find(struct engine *, const char *kid, enum jwt_alg,
    struct keyring_key **out);
/* Let go of a key; NULL is fine. */
void keyring_key_release(struct keyring_key *);
/* Release every cached key (engine_free). */
void keyring_free(struct engine *);

/* session.c */
/*
 * The longest a token signed with alg for project p may live, in
 * seconds: how long a rotated-out key must still verify.
 */
int64_t token_longest_ttl_s(const struct project *p, enum jwt_alg);

/* ratelimit_shared.c: per-address limits kept in the database */
#define RATE_KEY_LEN 32 /* hex of a 16-byte keyed hash */

/*
 * Take a token of class cls for client a from its buckets in the
 * database, as ratelimit_take does in memory (same return and *first).
 * A database failure lets the call through (logged by the db layer).
 */
int64_t ratelimit_shared_take(struct engine *, const struct addr *a,
    enum ratelimit_class cls, int *first);

/* reset.c */
/*
 * Check a new password against the project's policy, with the account's
 * details (any may be NULL) as context: ENGINE_OK, or the
 * ENGINE_PASSWORD_* result of the rule broken, with *verdict filled when
 * it is not NULL.
 */
enum engine_result reset_password_policy(const struct engine *,
    const struct project *, const char *password, const char *email,
    const char *username, struct password_verdict *verdict);
/*
 * Inside a write transaction, after secret s was spent: store the new
 * password hash (marking the email verified), revoke the user's sessions
 * and live secrets, record the secret's use and the change in the audit
 * trail and the event log (session.revoked, password_reset.succeeded),
 * and queue the "password changed" email in the locale
 * engine_locale_choose picks, the secret's first.  0 or a store failure.
 */
int reset_apply_password(struct engine *, struct db_conn *,
    const struct request_context *, const struct project *, const struct user *,
    const struct secret *s, const char *hash, int64_t now);

/* cancel.c */
/*
 * The "this wasn't me" link of secret id, newly allocated:
 * PUBLIC_URL/reset/cancel?id=ID&sig=MAC (see cancel.c).
 */
char *cancel_link(const struct engine *, const char *secret_id);

/* code.c */
/*
 * Wrong tries one secret takes before it dies: a wrong code, or an app
 * refusing the password a confirm carried (a wrong verify_code, say), for
 * codes and links alike.
 */
#define SECRET_MAX_WRONG 5
#define CODE_DESTINATION_MAX 32 /* a masked address, NUL included */

/*
 * Mask an email address as Cognito shows it: the first character of the
 * local part and of the domain, each followed by "***", in lower case
 * ("John.Doe@Example.com" gives "j***@e***").  out has outlen bytes.
 */
void code_mask_email(const char *email, char *out, size_t outlen);
/* 1 when s has the shape code_mask_email needs: "x@y", x and y non-empty. */
int code_email_shaped(const char *s);
/* What a code request shows for a login that is not an address. */
#define CODE_DESTINATION_HIDDEN "****@****"
/*
 * The destination a code request shows, from the typed login alone, so
 * that it is the same whether an account exists: the login masked when
 * it is an address (what an account with that address shows), else
 * CODE_DESTINATION_HIDDEN, for real and unknown usernames alike.
 */
void code_destination(const char *login, char out[CODE_DESTINATION_MAX]);
/*
 * The subject of decoy codes for a login that names no account: a keyed
 * hash of the project and the lower-cased login, as hex.
 */
void code_decoy_subject(const uint8_t key[SECRET_KEY_BYTES],
    const char *project_id, const char *login, char out[SECRET_HASH_LEN + 1]);

#endif
