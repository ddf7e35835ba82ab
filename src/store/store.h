/*
 * The store: typed operations on resetd's records, written once over the db
 * interface and so shared by every driver.  The engine never writes SQL; it
 * calls these.
 *
 * Return values: lookups return STORE_OK with the record written to *out,
 * STORE_NOT_FOUND, or DB_ERROR; writes return STORE_OK, DB_CONSTRAINT or
 * DB_ERROR.  Failures are logged by the db layer.  Records returned are
 * owned by the caller and freed with their _free function (which accepts
 * NULL).  Operations that take a struct db_conn run on the connection they
 * are given, inside or outside a db_write transaction.
 */
#ifndef RESETD_STORE_H
#define RESETD_STORE_H

#include <stdint.h>

#include "db.h"

#define STORE_OK 0
#define STORE_NOT_FOUND 1

struct project {
	char *id;
	char *name;
	char *callback_urls;   /* one per line, "" when none */
	char *allowed_origins; /* one per line, "" when none */
	char *reset_url;       /* NULL: resetd's hosted page */
	int64_t token_ttl;     /* seconds */
	char *delivery;	       /* "link" or "code" */
	int send_reset_emails; /* see reset_request's mail_optional */
	int64_t created_at;
	char *mail_from;	    /* NULL: the configured mail_from */
	char *mail_from_name;	    /* NULL: the configured name */
	char *locale;		    /* default mail locale; NULL: English */
	int unknown_account_notice; /* mail addresses with no account */
	char *logo_url;		    /* hosted pages' logo; NULL: none */
	char *accent_color;	    /* "#RRGGBB"; NULL: resetd's own */
	/* Abuse limits and password policy (migration 7). */
	int64_t reset_limit_per_hour; /* reset emails per account */
	int64_t mail_budget_per_hour; /* mail queued; 0: no budget */
	int64_t password_min_length;  /* code points */
	int64_t password_min_score;   /* 0 to 4, zxcvbn's scale */
	/* Unknown-account notices (migration 11). */
	int64_t notice_limit_per_hour; /* per recipient */
	int64_t notice_share_percent;  /* of the mail budget */
	/* Sessions (migration 14). */
	int64_t login_token_ttl; /* Xsolla login tokens, seconds */
	/* Password profile and switches (migration 15). */
	char *password_profile;	 /* "nist", "cognito" or "xsolla" */
	int64_t password_checks; /* PW_CHECK_* and PW_REQUIRE_* bits */
	/* User storage (migration 20); the URLs NULL when not set. */
	char *user_storage; /* "builtin" or "webhook" */
	char *storage_lookup_url;
	char *storage_verify_url;
	char *storage_password_url;
	char *storage_new_user_url;    /* NULL: creating users is refused */
	char *storage_password_format; /* "plain" or "argon2id" */
	int64_t storage_timeout_ms;    /* per call */
	int allow_private_targets; /* webhooks, storage: private addresses */
	int holds;		   /* project_hold calls not yet freed */
};

/* Where a user stands in Cognito's terms (migration 19). */
enum user_status {
	USER_CONFIRMED,		    /* 0: signs in with its password */
	USER_FORCE_CHANGE_PASSWORD, /* 1: a temporary password; sign-in
					   asks for a new one */
	USER_RESET_REQUIRED,	    /* 2: sign-in refused until a code
					   confirms a new password */
	USER_STATUS__MAX
};

/* The stored name of a status: "confirmed", ... */
const char *user_status_name(enum user_status);

struct user {
	char *id;
	char *project_id;
	char *email;
	char *username;	     /* may be NULL */
	char *password_hash; /* may be NULL */
	int email_verified;
	int disabled;
	char *locale;
	char *first_name;
	char *last_name;
	int64_t created_at;
	int64_t updated_at;
	int64_t last_sign_in_at; /* 0: never */
	/*
	 * Cognito's status.  A temporary password (force_change_password)
	 * is also marked in password_change_required (migration 14).
	 */
	enum user_status status;
	/* A webhook project's shadow: the app's own id (migration 20). */
	char *external_id; /* NULL: a builtin user */
};

struct secret {
	char *id;
	char *project_id;
	char *user_id; /* NULL for a decoy */
	char *purpose; /* "reset_link", "reset_code", "decoy" */
	char *token_hash;
	char *email;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at;    /* 0: not used */
	int64_t revoked_at; /* 0: not revoked */
	int64_t attempts;   /* wrong tries (reset codes) */
	char *login_url;
	char *locale;
	char *subject; /* user id or decoy key; NULL: uncounted */
};

struct session {
	char *id;
	char *project_id;
	char *user_id;
	int64_t created_at;
	int64_t expires_at;
	int64_t revoked_at;
	char *client_id; /* the app client; NULL: none */
};

/*
 * A token signing key.  id is the key's "kid".  secret_sealed is the
 * private key (PKCS#8 DER) or the HS256 secret, sealed under a key derived
 * from the server secret.  A key signs until retired; it verifies until
 * verify_until (0: while it signs).
 */
struct signing_key {
	char *id;
	char *project_id;
	char *alg; /* "RS256" or "HS256" */
	char *secret_sealed;
	int64_t created_at;
	int64_t retired_at;   /* 0: signs */
	int64_t verify_until; /* 0: not retired */
};

/*
 * A refresh token: only its keyed hash is stored.  It belongs to a session
 * (its family); used_at is set when it was spent on a rotation.
 */
struct refresh_token {
	char *id;
	char *session_id;
	char *client_id; /* NULL: none */
	char *token_hash;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at; /* 0: not spent */
};

struct outbox_msg {
	char *id;
	char *project_id;
	char *kind;
	char *to_addr;
	char *locale;
	char *payload; /* JSON; NULL once sent */
	char *state;   /* pending, sent, dead, dropped */
	int64_t tries;
	int64_t next_try_at;
	char *last_error;
	int64_t created_at;
	int64_t sent_at;
	char *subject; /* audit subject of a reset mail, or NULL */
	/* The sender, chosen when queued; NULL: the configured one. */
	char *from_addr;
	char *from_name;
};

/* What an audit row records; the column holds the name. */
enum audit_kind {
	AUDIT_RESET_REQUESTED,	     /* 0 */
	AUDIT_RESET_MAIL_SENT,	     /* 1 */
	AUDIT_RESET_MAIL_FAILED,     /* 2 */
	AUDIT_SECRET_USED,	     /* 3 */
	AUDIT_SECRET_REFUSED,	     /* 4: expired, used, wrong code, ... */
	AUDIT_PASSWORD_CHANGED,	     /* 5 */
	AUDIT_LOGIN_SUCCEEDED,	     /* 6 */
	AUDIT_LOGIN_FAILED,	     /* 7 */
	AUDIT_RATE_LIMITED,	     /* 8 */
	AUDIT_API_KEY_REVOKED,	     /* 9: by an operator */
	AUDIT_CLIENT_SECRET_ROTATED, /* 10: by an operator */
	AUDIT_USER_DISABLED,	     /* 11: by an operator */
	AUDIT_USER_ENABLED,	     /* 12: by an operator */
	AUDIT_USER_DELETED,	     /* 13: by an operator */
	AUDIT_USER_SIGNED_OUT,	     /* 14: by an operator */
	AUDIT_PASSWORD_SET,	     /* 15: by an operator */
	AUDIT_RESET_REQUIRED,	     /* 16: by an operator */
	AUDIT__MAX
};

/* One row of the audit trail; no field ever holds a secret. */
struct audit_event {
	char *id;
	char *project_id; /* NULL: no project was known */
	int64_t created_at;
	char *event; /* "reset_requested", ... */
	char *client_ip;
	char *user_agent; /* capped */
	char *subject;	  /* keyed hash of the login, or NULL */
	char *detail;	  /* a short word or two, or NULL */
};

struct api_key {
	char *id;
	char *project_id;
	char *key_hash;
	int64_t created_at;
	int64_t revoked_at; /* 0: live */
	/* As AWS credentials (migration 19); NULL for older keys. */
	char *access_key_id;
	char *aws_secret_sealed;
};

struct client {
	char *id;
	char *project_id;
	char *secret_sealed; /* NULL: no secret */
	int prevent_user_existence_errors;
	int64_t created_at;
};

/* The recorded answer to an idempotent call. */
struct idem_record {
	char *project_id;
	char *idem_key;
	char *fingerprint;
	int status;
	char *answer_sealed;
	int64_t created_at;
	int64_t expires_at;
};

/* A list of records of one kind, as list functions return them. */
struct store_list {
	void **items;
	size_t n;
};

/* store.c */
/* A trivial query: STORE_OK when the database answers. */
int store_ping(struct db_conn *);
/*
 * Whether the database takes writes: STORE_OK at the cost of two atomic
 * reads (and, on SQLite, a statvfs) while no write has failed; otherwise
 * one probe write (see db_write_probe), at most one a second, whose
 * success clears the failures.  DB_ERROR while writes fail.
 */
int store_write_check(struct db *);
/* Bring the schema up to date; 0 or DB_ERROR. */
int store_migrate(struct db *) WUR;
/*
 * Return the value of a setting in *out (caller frees), inserting value
 * first when the setting is absent, so that concurrent first starts agree
 * on one value.
 */
int store_setting_get_or_put(struct db *, const char *key, const char *value,
    char **out) WUR;
/* The value of a setting in *out (caller frees): STORE_OK, STORE_NOT_FOUND. */
int store_setting_get(struct db *, const char *key, char **out) WUR;
/*
 * Delete a setting and leave no copy of its value behind where SQLite
 * keeps them (the freed bytes are overwritten with secure_delete, and the
 * WAL is checkpointed and truncated).  STORE_OK or DB_ERROR.
 */
int store_setting_delete(struct db *, const char *key) WUR;

int store_project_insert(struct db_conn *, const struct project *);
int store_project_get(struct db_conn *, const char *id, struct project **);
/* Replace every setting of project p->id: 1, 0 (no such project), DB_ERROR. */
int store_project_update(struct db_conn *, const struct project *);
int store_project_list(struct db_conn *, struct store_list *);
int store_project_count(struct db_conn *, int64_t *);
/*
 * A project may be shared: project_hold adds a holder and returns p, and
 * project_free frees it when no hold is left.  A shared project is never
 * changed.
 */
struct project *project_hold(struct project *);
void project_free(struct project *);

int store_user_insert(struct db_conn *, const struct user *);
int store_user_get(struct db_conn *, const char *project_id, const char *id,
    struct user **);
/* Find a user by email or username (case-insensitive). */
int store_user_find(struct db_conn *, const char *project_id, const char *login,
    struct user **);
int
store_user_list(struct db_conn *, const char *project_id, struct store_list *);
/*
 * Store a new password hash that a reset proved: the email is marked
 * verified and the user confirmed.
 */
/*
 * A user of a webhook project by the app's own id: STORE_OK with *out,
 * STORE_NOT_FOUND, or a db failure.
 */
int store_user_by_external(struct db_conn *, const char *project_id,
    const char *external_id, struct user **);
/*
 * Refresh a shadow user from its app's answer: its external id, email,
 * locale and whether it is disabled (u->id names the row).  1 when a row
 * changed, 0 when none, or a db failure (DB_CONSTRAINT: another user of
 * the project has that email).
 */
int store_user_shadow_update(struct db_conn *, const struct user *u);
/* A user by id, whatever its project. */
int store_user_by_id(struct db_conn *, const char *id, struct user **);
int store_user_set_password(struct db_conn *, const char *id, const char *hash,
    int64_t now);
/*
 * Set a user's password hash as the user chose it (a sign-in challenge,
 * a change with the old password): the user is confirmed.
 */
int store_user_change_password(struct db_conn *, const char *id,
    const char *hash, int64_t now);
/*
 * Store a password hash an operator set, and the status it leaves the user
 * in (confirmed, or force_change_password for a temporary one), without
 * touching email_verified: 1 when user id of the project was changed, 0
 * when there is no such user, or DB_ERROR.
 */
int store_user_admin_password(struct db_conn *, const char *project_id,
    const char *id, const char *hash, enum user_status, int64_t now);
/* Set a user's status: 1 when changed, 0 when no such user, DB_ERROR. */
int store_user_set_status(struct db_conn *, const char *project_id,
    const char *id, enum user_status, int64_t now);
/*
 * Delete user id of a project with its sessions (and their refresh tokens)
 * and reset secrets: 1 when it was deleted, 0 when there is no such user,
 * or DB_ERROR.
 */
int store_user_delete(struct db_conn *, const char *project_id, const char *id);

/* Which users a page of a listing holds. */
enum user_filter {
	USER_FILTER_NONE,
	USER_FILTER_EMAIL,	  /* email = value (any case) */
	USER_FILTER_EMAIL_PREFIX, /* email starts with value */
	USER_FILTER_USERNAME,	  /* username = value (any case) */
	USER_FILTER_USERNAME_PREFIX,
	USER_FILTER_ID,	      /* id = value */
	USER_FILTER_STATUS,   /* status = value, by user_status_name */
	USER_FILTER_ENABLED,  /* not disabled (value unused) */
	USER_FILTER_DISABLED, /* disabled (value unused) */
};

struct user_page_query {
	enum user_filter filter;
	const char *value;    /* what the filter compares */
	const char *after_id; /* NULL: from the first */
	int64_t limit;	      /* 1 or more */
	int desc;	      /* newest first */
};

/*
 * One page of a project's users in id order (which is creation order;
 * desc: newest first, "after" then meaning older): those after after_id
 * that pass the filter, at most limit of them.
 */
int store_user_page(struct db_conn *, const char *project_id,
    const struct user_page_query *, struct store_list *);
/*
 * Disable (disabled 1) or enable (0) user id of a project: 1 when its
 * state changed, 0 when it was already so (or there is no such user), or
 * DB_ERROR.
 */
int store_user_set_disabled(struct db_conn *, const char *project_id,
    const char *id, int disabled, int64_t now);
/*
 * Write u's names and email_verified (and hash, when u->password_hash is
 * set, clearing password_change_required) with updated_at: 1 when user
 * u->id of u->project_id was changed, 0 when there is none, or DB_ERROR.
 */
int store_user_update(struct db_conn *, const struct user *u);
/* Replace a password hash made with older parameters. */
int store_user_rehash(struct db_conn *, const char *id, const char *hash);
int store_user_touch_sign_in(struct db_conn *, const char *id, int64_t now);
void user_free(struct user *);

int store_secret_insert(struct db_conn *, const struct secret *);
int store_secret_by_hash(struct db_conn *, const char *hash, struct secret **);
int store_secret_get(struct db_conn *, const char *project_id, const char *id,
    struct secret **);
/* A secret by its row id, whatever its project and state. */
int store_secret_by_id(struct db_conn *, const char *id, struct secret **);
/*
 * Consume a secret: succeeds (returns 1) only if it is still unused,
 * unrevoked and unexpired at now, and only for one caller ever; 0 when it
 * was not; DB_ERROR.
 */
int store_secret_consume(struct db_conn *, const char *id, int64_t now);
/*
 * Count a wrong try on secret id while it is unused and unrevoked; the
 * try that brings its count to max revokes it at now.  1 when counted, 0
 * when the secret was no longer live; DB_ERROR.
 */
int store_secret_count_wrong(struct db_conn *, const char *id, int64_t now,
    int64_t max);
/*
 * Revoke one secret while it is live (unused, unrevoked, unexpired at
 * now): 1 when this call revoked it, 0 when it was not live, or DB_ERROR.
 */
int store_secret_revoke(struct db_conn *, const char *id, int64_t now);
/*
 * The number of reset secrets (links, codes and their decoys) stored
 * under subject after since, in *out, and when the oldest of them was
 * made (0: none) in *oldest: the per-login limit counts these.  A subject
 * is a user's id, or the keyed hash of a login that names no account.
 */
int store_secret_count_recent(struct db_conn *, const char *subject,
    int64_t since, int64_t *out, int64_t *oldest);
/* Revoke every live secret of a user; the number revoked or DB_ERROR. */
int
store_secret_revoke_user(struct db_conn *, const char *user_id, int64_t now);
void secret_free(struct secret *);

/*
 * The sign-in back-off (core/backoff.c), one row per login subject.
 * store_backoff_count counts one try at now, atomically, unless the
 * subject is backed off: a row last tried at or before forget_before
 * starts again from one.  It returns STORE_OK with the failures counted
 * (this try included) in *failures and the time the subject is backed off
 * until in *until; when *until is past now, the try was refused and not
 * counted.  store_backoff_hold sets that time.  store_backoff_clear
 * forgets a subject (a success); store_backoff_prune forgets every subject
 * last tried before before and not backed off; both return the rows
 * removed or DB_ERROR.
 */
int store_backoff_count(struct db_conn *, const char *subject, int64_t now,
    int64_t forget_before, int64_t *failures, int64_t *until);
int store_backoff_hold(struct db_conn *, const char *subject, int64_t until);
/* The time subject is held until (0: no row or no hold), in *until. */
int store_backoff_until(struct db_conn *, const char *subject, int64_t *until);
int store_backoff_clear(struct db_conn *, const char *subject);
/*
 * Take back the last try of subject (one that proved nothing, as when a
 * user storage app failed): one failure less, and no hold.
 */
int store_backoff_uncount(struct db_conn *, const char *subject);
int store_backoff_prune(struct db_conn *, int64_t before);

/*
 * Per-address token buckets in the database, shared by instances
 * (core/ratelimit_shared.c).  Tokens are counted in STORE_RATE_UNIT parts.
 */
#define STORE_RATE_UNIT 1000000000LL
struct store_rate_bucket {
	const char *key;
	int64_t full;	   /* tokens of a full bucket, in units */
	int64_t window_ms; /* a bucket idle this long is full */
	int64_t per_ms;	   /* units refilled per millisecond */
};

/*
 * Take one token at now from each of the n buckets (at most 3), all or
 * none, in the order given, which callers keep the same (narrowest
 * first).  First, when prune_before is not 0, delete the buckets last
 * touched before it (a bucket idle for its window is full, the same as
 * none).  STORE_OK with *wait_ms 0 when every bucket had a token; else
 * *wait_ms is how long until the first bucket that refused will have one,
 * nothing stays taken, and *first is 1 when that bucket had allowed its
 * last call.  DB_ERROR on failure (logged).
 */
int store_rate_take(struct db *, const struct store_rate_bucket *, int n,
    int64_t now, int64_t prune_before, int64_t *wait_ms, int *first);

/*
 * Reset codes.  A code row has purpose "reset_code" and a subject (the
 * user's id, or a decoy key for a login that names no account); wrong
 * tries are counted on the row.  The limits a try must stay under:
 */
struct store_code_caps {
	int64_t now;
	int64_t since;	     /* the per-subject window starts after this */
	int64_t per_code;    /* most wrong tries on one code */
	int64_t per_subject; /* most wrong tries on codes made since */
};

/* The newest code of a subject in a project, whatever its state. */
int store_code_latest(struct db_conn *, const char *project_id,
    const char *subject, struct secret **);
/*
 * The codes of a subject in a project created after since, newest first,
 * at most 16, whatever their state (secret records in out).
 */
int store_code_recent(struct db_conn *, const char *project_id,
    const char *subject, int64_t since, struct store_list *out);
/* The sum of wrong tries on the subject's codes created after since. */
int store_code_attempts(struct db_conn *, const char *subject, int64_t since,
    int64_t *out);
/*
 * Count one wrong try on code id, in one statement, only while the code
 * is live and both caps are still unreached; so concurrent tries can never
 * pass a cap.  Return 1 when counted, 0 when refused, or DB_ERROR.
 */
/*
 * Inside a write transaction, before counting or spending a code: make the
 * tries of one subject take turns until the transaction ends, so the
 * per-subject cap holds under concurrency.  SQLite's writes take turns
 * already; on PostgreSQL this is a transaction-scoped advisory lock.
 */
int store_code_lock(struct db_conn *, const char *subject);
int store_code_count_wrong(struct db_conn *, const char *id,
    const char *subject, const struct store_code_caps *);
/*
 * Consume code id under the same conditions as store_code_count_wrong:
 * return 1 for exactly one caller ever, 0 for every other, or DB_ERROR.
 */
int store_code_consume(struct db_conn *, const char *id, const char *subject,
    const struct store_code_caps *);

int store_session_insert(struct db_conn *, const struct session *);
int store_session_get(struct db_conn *, const char *id, struct session **);
int
store_session_revoke_user(struct db_conn *, const char *user_id, int64_t now);
void session_free(struct session *);
/* The live sessions of a user, newest first. */
int store_session_list_user(struct db_conn *, const char *user_id, int64_t now,
    struct store_list *);
/* Revoke one session and its refresh tokens; rows changed or a failure. */
int store_session_revoke(struct db_conn *, const char *id, int64_t now);

/* signing keys */
int store_signing_key_insert(struct db_conn *, const struct signing_key *);
/* The keys of a project that still verify at now, newest first. */
int store_signing_key_list(struct db_conn *, const char *project_id,
    int64_t now, struct store_list *);
int
store_signing_key_get(struct db_conn *, const char *id, struct signing_key **);
/*
 * Retire the signing keys of alg of a project: they stop signing, and
 * verify until verify_until.  Rows changed, or a failure.
 */
int store_signing_key_retire(struct db_conn *, const char *project_id,
    const char *alg, int64_t now, int64_t verify_until);
void signing_key_free(struct signing_key *);

/* refresh tokens */
int store_refresh_insert(struct db_conn *, const struct refresh_token *);
int store_refresh_get(struct db_conn *, const char *token_hash,
    struct refresh_token **);
/* Spend a refresh token: 1 when this call spent it, 0 when it was spent. */
int store_refresh_spend(struct db_conn *, const char *id, int64_t now);
void refresh_token_free(struct refresh_token *);

int store_outbox_insert(struct db_conn *, const struct outbox_msg *);
/*
 * Claim up to limit due messages for this sender until lease_until: each
 * claimed message has its tries counted, its last error cleared, and is
 * invisible to other senders until the lease runs out.  Runs its own
 * transaction.
 */
int store_outbox_claim(struct db *, int64_t now, int64_t lease_until, int limit,
    struct store_list *);
/* Which messages a claim takes. */
enum outbox_claim {
	CLAIM_ANY,	/* 0 */
	CLAIM_MAIL,	/* 1: every kind but calls to apps */
	CLAIM_WEBHOOKS, /* 2: calls to apps only: webhook deliveries and
			   storage lookups */
};
/* store_outbox_claim, of the messages which names only. */
int store_outbox_claim_kind(struct db *, enum outbox_claim which, int64_t now,
    int64_t lease_until, int limit, struct store_list *);
/*
 * Mark a claimed message sent and forget its payload, on c (inside the
 * transaction that records what else its sending means).
 */
int store_outbox_sent(struct db_conn *, const char *id, int64_t now);
/*
 * Record a failed try on c: retry at next_try_at, or dead when
 * next_try_at < 0.  tries is the count the claim returned; when another
 * sender has claimed the message since (its lease ran out), the record is
 * left alone.  A dead message keeps its payload, so that it can be retried.
 */
int store_outbox_failed(struct db_conn *, const char *id, const char *error,
    int64_t next_try_at, int64_t tries);
/*
 * Make due at now up to limit messages waiting on the backoff of a failed
 * try (pending, not due, with an error), the soonest due first; a leased
 * message is never one of them, nor a webhook delivery, whose endpoint
 * the relay says nothing of.  For when the relay works again: their
 * own backoffs would keep them waiting after it is back.  Runs its own
 * transaction; the number made due, or DB_ERROR.
 */
int store_outbox_hasten(struct db *, int64_t now, int limit);
/*
 * Make dead messages pending again, due at now with no tries counted: the
 * one named id (NULL: every dead message).  Return how many, or DB_ERROR.
 */
int store_outbox_retry(struct db_conn *, const char *id, int64_t now);
/* The message named id, in *out. */
int store_outbox_get(struct db_conn *, const char *id, struct outbox_msg **);
/*
 * List messages, newest first; state NULL for every state but "dropped"
 * (the equal-work rows of requests for unknown accounts, never sent).
 */
int store_outbox_list(struct db_conn *, const char *state, int limit,
    struct store_list *);
void outbox_msg_free(struct outbox_msg *);
/* Messages pending (queued or waiting to retry) and dead, for metrics. */
int store_outbox_depth(struct db_conn *, int64_t *pending, int64_t *dead);
/*
 * Mail queued (not dropped) for a project after since, counted up to
 * at_most, in *out: enough to tell whether a budget of at_most is spent.
 */
int store_outbox_count_recent(struct db_conn *, const char *project_id,
    int64_t since, int64_t at_most, int64_t *out);
/*
 * The same count for the messages of one kind (say "unknown_account"),
 * up to at_most, in *out.
 */
int store_outbox_count_kind(struct db_conn *, const char *project_id,
    const char *kind, int64_t since, int64_t at_most, int64_t *out);
/*
 * Delete, in one transaction, at most limit rows of each kind nothing needs
 * any more: dropped outbox rows created before now, sent mail a week old,
 * secrets and sessions a day past expiry, expired idempotency records.
 * The number deleted goes to *deleted.
 */
int store_purge(struct db *, int64_t now, int64_t limit, int64_t *deleted);

/* The name of a kind, as stored: "reset_requested", ... */
const char *store_audit_name(enum audit_kind);
int store_audit_insert(struct db_conn *, const struct audit_event *);
/* The newest events, of one project or (project_id NULL) of all. */
int store_audit_list(struct db_conn *, const char *project_id, int limit,
    struct store_list *);
/*
 * The newest limit events with created_at in [since, until), of a project
 * and a subject when given (NULL: any).
 */
int
store_audit_query(struct db_conn *, const char *project_id, const char *subject,
    int64_t since, int64_t until, int limit, struct store_list *);
void audit_event_free(struct audit_event *);

int store_api_key_insert(struct db_conn *, const struct api_key *);
/* The key with AWS access key id akid, revoked or not. */
int store_api_key_by_access_key(struct db_conn *, const char *akid,
    struct api_key **);
int
store_api_key_by_hash(struct db_conn *, const char *hash, struct api_key **);
int store_api_key_get(struct db_conn *, const char *id, struct api_key **);
/* A project's API keys, revoked ones included, oldest first. */
int store_api_key_list(struct db_conn *, const char *project_id,
    struct store_list *);
/*
 * Revoke API key id: 1 when this call revoked it, 0 when it was revoked
 * already (or does not exist), or DB_ERROR.
 */
int store_api_key_revoke(struct db_conn *, const char *id, int64_t now);
void api_key_free(struct api_key *);

int store_client_insert(struct db_conn *, const struct client *);
int store_client_get(struct db_conn *, const char *id, struct client **);
/* Replace client id's sealed secret: 1 when the client exists, 0, DB_ERROR. */
int store_client_set_secret(struct db_conn *, const char *id,
    const char *secret_sealed);
void client_free(struct client *);

/* The record for (project, key) unless it has expired at now. */
int store_idem_get(struct db_conn *, const char *project_id, const char *key,
    int64_t now, struct idem_record **);
/*
 * Insert a record; DB_CONSTRAINT when a record holds (project, key), which
 * on PostgreSQL also waits for a racing transaction that inserted it.
 * Expired records do not count: purge them first in the same transaction.
 */
int store_idem_insert(struct db_conn *, const struct idem_record *);
/* Delete every record expired at now; the number deleted or DB_ERROR. */
int store_idem_purge(struct db_conn *, int64_t now);
void idem_record_free(struct idem_record *);

/* store_event.c: the event log and webhook endpoints */
/* One event; data is its object as JSON text, holding no secret. */
struct event_row {
	char *id; /* UUID v7 */
	char *project_id;
	char *event; /* "password_reset.created", ... */
	char *data;
	int64_t created_at;
};

/* What store_event_list returns. */
struct event_filter {
	const char *project_id;
	const char *const *names; /* NULL-terminated; NULL: every event */
	const char *after;	  /* an event id; NULL: from the first */
	int64_t range_start;	  /* created at or after; 0: any */
	int64_t range_end;	  /* created before; 0: any */
	int limit;
};

struct webhook_endpoint {
	char *id;
	char *project_id;
	char *url;
	char *events; /* newline-separated names; "*": all */
	char *secret_sealed;
	int64_t created_at;
};

int store_event_insert(struct db_conn *, const struct event_row *);
/*
 * A project's events matching f, oldest first (by id), at most f->limit;
 * each a struct event_row.
 */
int store_event_list(struct db_conn *, const struct event_filter *f,
    struct store_list *);
/*
 * Delete at most limit events created before before, in a transaction of
 * its own; the number deleted or DB_ERROR.
 */
int store_event_purge(struct db *, int64_t before, int64_t limit);
void event_row_free(struct event_row *);

int store_webhook_insert(struct db_conn *, const struct webhook_endpoint *);
int
store_webhook_get(struct db_conn *, const char *id, struct webhook_endpoint **);
/* A project's endpoints, oldest first. */
int store_webhook_list(struct db_conn *, const char *project_id,
    struct store_list *);
/* Delete endpoint id of a project: 1 when deleted, 0 when none, DB_ERROR. */
int
store_webhook_delete(struct db_conn *, const char *project_id, const char *id);
void webhook_endpoint_free(struct webhook_endpoint *);

/*
 * Whether project id may reach private addresses, in *on (0 or 1); set
 * with the project's other settings (store_project_update).
 */
int store_project_private_targets(struct db_conn *, const char *id, int *on);

/* Free a list and its records with the given free function. */
void store_list_free(struct store_list *, void (*)(void *));

#endif
