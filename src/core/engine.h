/*
 * The reset engine: every use case resetd offers, independent of any wire
 * format.  Dialect adapters turn their requests into these structs and the
 * results back into their answers; the engine never sees HTTP or JSON.
 *
 * Each use case returns an enum engine_result.  Expected outcomes (an
 * unknown secret, a short password) are results, not errors, and are not
 * logged as errors; ENGINE_UNAVAILABLE means the database or another
 * resource failed, and was logged where it happened.
 */
#ifndef RESETD_ENGINE_H
#define RESETD_ENGINE_H

#include <stdint.h>

#include "../config.h"
#include "../mail/outbox.h"
#include "../store/store.h"
#include "../util/sigv4.h"
#include "jwt.h"
#include "password.h"
#include "ratelimit.h"

enum engine_result {
	ENGINE_OK,		   /* 0 */
	ENGINE_PROJECT_UNKNOWN,	   /* 1 */
	ENGINE_BAD_INPUT,	   /* 2 */
	ENGINE_LOGIN_URL_REFUSED,  /* 3 */
	ENGINE_SECRET_INVALID,	   /* 4: unknown, used, revoked, other user */
	ENGINE_SECRET_EXPIRED,	   /* 5 */
	ENGINE_PASSWORD_TOO_SHORT, /* 6 */
	ENGINE_PASSWORD_TOO_LONG,  /* 7 */
	ENGINE_PASSWORD_INVALID_TEXT, /* 8 */
	ENGINE_CREDENTIALS_INVALID,   /* 9 */
	ENGINE_USER_DISABLED,	      /* 10 */
	ENGINE_SESSION_INVALID,	      /* 11 */
	ENGINE_USER_UNKNOWN,	      /* 12 */
	ENGINE_CONFLICT,	      /* 13: the record exists already */
	ENGINE_UNAVAILABLE,	      /* 14 */
	ENGINE_REPLAYED, /* 15: an idempotent call's earlier answer */
	ENGINE_IDEMPOTENCY_MISMATCH, /* 16: the key answered another request */
	ENGINE_CODE_MISMATCH,	     /* 17: a wrong reset code */
	ENGINE_CODE_LOCKED,	     /* 18: the code took its wrong tries */
	ENGINE_RATE_LIMITED,	     /* 19: the account took its wrong tries */
	ENGINE_THROTTLED,     /* 20: too many calls; retry after a while */
	ENGINE_PASSWORD_WEAK, /* 21: common, breached, guessable */
	ENGINE_PASSWORD_CHANGE_REQUIRED, /* 22: a temporary password was
					    right; only where asked for */
	ENGINE_PASSWORD_RESET_REQUIRED,	 /* 23: the right password of a user
					   an operator made reset; only
					   where asked for */
	ENGINE_STORAGE_REFUSED,		 /* 24: the project's app (user storage)
				   refused the password or the user */
	ENGINE__MAX
};

/* The name of a result, for logs: "ok", "secret_invalid", ... */
const char *engine_result_name(enum engine_result);

/* How the email link carries the secret. */
enum link_style {
	LINK_RESET_CODE, /* ?reset_code=TOKEN&user_id=ID (Xsolla) */
	LINK_TOKEN,	 /* ?token=TOKEN (WorkOS) */
};

/* What the reset email carries. */
enum reset_delivery {
	DELIVER_LINK, /* a link; link_style says how it holds the secret */
	DELIVER_CODE, /* a short numeric code to type (Velocity, Cognito) */
};

struct engine;
struct template_set;

/*
 * Where a request came from, as the HTTP layer decided (the client address
 * it trusts, after any trusted proxies).  Adapters pass it on; the engine
 * counts limits by it and records it in the audit trail, and never parses
 * a header itself.  Any field may be NULL (the CLI, tests).
 */
struct request_context {
	const char *client_ip;	/* text form of an address */
	const char *user_agent; /* as sent; capped when recorded */
};

/* engine.c */
/*
 * Create the engine over an open, migrated database.  The server secret
 * comes from the config, or from the database, where it is generated on
 * first start.  Return NULL on failure (logged).
 */
struct engine *engine_new(const struct config *, struct db *);
void engine_free(struct engine *);
/* Set the function called when mail is queued, to wake a sender. */
void engine_set_mail_waker(struct engine *, void (*)(void *), void *);
/*
 * Wake the mail senders: mail was queued.  A public reset request held by
 * its time floor leaves this to the server, which calls it when the answer
 * goes out (see reset_request's answer_at_us).
 */
void engine_mail_queued(struct engine *);
/*
 * Set the mail templates the engine chooses locales among (NULL, the
 * default: the built-in ones).  The engine takes a reference of its own
 * (template_set_hold) and gives back the one to the set it replaces once
 * no request uses it; safe while requests run, for a reload.
 */
void engine_set_templates(struct engine *, const struct template_set *);
/*
 * Apply what a reload may change while requests run: the per-address
 * rate limits and windows, the sign-in back-off, the reset request time
 * floor, and the configured sender mail is queued with (mail_from,
 * mail_from_name).  Everything else in cfg is ignored; the engine keeps the
 * configuration it was made with.  Safe while requests run.
 */
void engine_reload(struct engine *, const struct config *);
/* The key that seals queued mail payloads (mailer_start), 32 bytes. */
const uint8_t *engine_outbox_key(const struct engine *);
/* The key that seals webhook endpoints' secrets (mailer_start), 32 bytes. */
const uint8_t *engine_webhook_key(const struct engine *);
/*
 * The sender of a project's mail: its own address and name where it has
 * them, the configured ones otherwise (p NULL: the configured ones).  The
 * strings belong to cfg and p.  Mail is queued with its sender.
 */
void engine_mail_sender(const struct config *, const struct project *p,
    const char **addr, const char **name);
/*
 * What became of a queued message, for the audit trail and the event log:
 * a mail_recorder for mailer_start (arg: the engine), run on c in the
 * transaction that marks the message.  A reset email is recorded in the
 * audit trail under the subject it was queued with; a message that died
 * (not a webhook delivery) is the event email.delivery_failed.  STORE_OK
 * or a db failure.
 */
int engine_mail_record(struct db_conn *c, const struct outbox_msg *m,
    enum mail_fate, int64_t now, void *engine);
/*
 * The outbox task of user storage (an outbox_task, mailer_set_task; arg:
 * the engine): the lookup of a public reset request of a webhook project,
 * after its answer.  A user the app knows gets, in one transaction, its
 * shadow row, the reset secret and the reset mail; an unknown one
 * nothing (or the unknown-account notice, when the request was to have
 * one).  An app that is down or answers wrongly: TRANSPORT_DEFERRED, and
 * the outbox tries again.
 */
int engine_storage_task(const struct outbox_msg *m, const struct mail_var *vars,
    char *err, size_t errlen, void *engine);
#define ENGINE_MAC_LEN 43 /* base64url of 32 bytes */
/*
 * A MAC of value for the hosted pages (their CSRF tokens), under a key of
 * their own derived from the server secret, as 43 base64url characters
 * NUL-terminated in out.  purpose keeps MACs of different uses apart.
 */
void engine_page_mac(const struct engine *, const char *purpose,
    const char *value, char out[ENGINE_MAC_LEN + 1]);
/* Compare two MACs (or hashes) in constant time; 1 when equal. */
int engine_mac_equal(const char *, const char *);
const struct config *engine_config(const struct engine *);
/* Look up a project by id; ENGINE_OK with *out, PROJECT_UNKNOWN, UNAVAILABLE. */
enum engine_result
engine_project(struct engine *, const char *id, struct project **out);
/*
 * Now, in milliseconds, by the one clock every expiry check uses (the
 * database's: see db_now).  Adapters that check an expiry themselves, such
 * as a token's exp claim, ask this rather than the host's clock, so that
 * instances with skewed clocks agree.
 */
int64_t engine_now(struct engine *);
/* ENGINE_OK when the database answers, else ENGINE_UNAVAILABLE. */
enum engine_result engine_ping(struct engine *);
/*
 * ENGINE_OK when the database answers and takes writes, as far as this
 * instance knows; after a failed write (or on a nearly full disk) this
 * costs a probe write, at most one a second (store_write_check).  Else
 * ENGINE_UNAVAILABLE.
 */
enum engine_result engine_ready(struct engine *);
/* 1 when origin may call the project from a browser. */
int engine_origin_allowed(const struct project *, const char *origin);
/* 1 when url is one of the project's callback URLs, exactly. */
int engine_login_url_allowed(const struct project *, const char *url);
/*
 * The per-client limit: take a token of class cls for the client of ctx.
 * ENGINE_OK, or ENGINE_THROTTLED with the seconds to wait in
 * *retry_after_s; the first refusal of a run is recorded in the audit
 * trail.  The HTTP server calls it, through engine_throttle_hook, before
 * every route's handler (dialects and hosted pages alike), so a limit
 * holds whatever the wire format.  A context without a client address is
 * never limited.
 */
enum engine_result
engine_throttle(struct engine *, const struct request_context *,
    enum ratelimit_class cls, int64_t *retry_after_s);
/*
 * The engine's hooks for the HTTP server (struct http_app, which main
 * fills in; e is the engine).  engine_throttle_hook is engine_throttle for
 * the client at client_ip (NULL: unknown) sending user_agent: 0 when the
 * call may go on, 1 when refused (*retry_after_s set), -1 with an engine
 * result in *failure for a class the engine does not have (logged).
 * engine_wake_hook is engine_mail_queued.
 */
int engine_throttle_hook(void *e, const char *client_ip, const char *user_agent,
    int cls, int64_t *retry_after_s, int *failure);
void engine_wake_hook(void *e);
/*
 * The password policy of a project, as password_check takes it.  e may be
 * NULL to describe the policy (no breached list then).
 */
void engine_password_policy(const struct engine *, const struct project *,
    struct password_policy *out);

#define ENGINE_POOL_ID_MAX (32 + 1 + ULID_STRLEN)

/* locale.c */
#define ENGINE_LOCALE_MAX 5 /* "xx_YY" */

/*
 * Normalise a locale as dialects send it ("de", "de_DE", "de-de", "pt_br")
 * to "xx" or "xx_YY" in out.  Return 0, or -1 when s has neither shape
 * (out untouched), so that nothing odd reaches templates or links.
 */
int engine_locale_normalise(const char *s, char out[ENGINE_LOCALE_MAX + 1]) WUR;
/*
 * The locale a message is written in: the first of the request's locale,
 * the user's stored locale and the project's default locale (each may be
 * NULL, and is normalised first) for which templates exists, as
 * template_locale_resolve finds them ("pt_BR", else "pt", else a regional
 * "pt_XX"); English when none has any.  The template folder chosen is
 * written into out.  Every path that queues mail calls this.
 */
void engine_locale_choose(const struct template_set *, const char *project_id,
    const char *request, const char *user, const char *project,
    char out[ENGINE_LOCALE_MAX + 1]);

/* idem.c */
/*
 * Idempotent calls.  A dialect whose clients retry a POST with the same
 * Idempotency-Key (WorkOS's SDK) passes an idem_claim to the use case.  The
 * use case looks the key up first: an earlier answer to the same request is
 * ENGINE_REPLAYED with that answer in claim->answer; an earlier answer to
 * another request is ENGINE_IDEMPOTENCY_MISMATCH.  Otherwise it does the
 * work, calls encode with what it is about to commit so the dialect writes
 * its wire answer, and records that answer (sealed) in the transaction that
 * does the work.  Of several racing retries exactly one commits; the others
 * roll back and replay its answer.  Only successes are recorded: a failed
 * call is evaluated again when it is retried.  Records live IDEM_TTL_MS.
 */
#define IDEM_KEY_MAX 255
#define IDEM_FINGERPRINT_LEN 64 /* hex of 32 bytes */
#define IDEM_ANSWER_MAX (64 * 1024)
#define IDEM_TTL_MS (24LL * 3600 * 1000)

struct reset_ticket;

/* What a use case is about to commit; the fields that apply are set. */
struct idem_outcome {
	const struct reset_ticket *ticket; /* reset_request */
	const struct user *user;	   /* confirm, user create */
};

/* An answer as the dialect wrote it. */
struct idem_answer {
	int status;
	char *body; /* NUL-terminated JSON or other text */
};

struct idem_claim {
	const char *key;
	char fingerprint[IDEM_FINGERPRINT_LEN + 1];
	/* Write the answer for outcome into *out; body allocated. */
	void (*encode)(void *arg, const struct idem_outcome *,
	    struct idem_answer *out);
	void *encode_arg;
	/* On ENGINE_OK: what encode wrote; on ENGINE_REPLAYED: the replay. */
	struct idem_answer answer;
};

/* 1 when key may name an idempotent call: 1 to 255 printable ASCII bytes. */
int idem_key_valid(const char *key);
/*
 * Fingerprint a request: the hex BLAKE2b-256 of its method, path and body
 * bytes, each length-prefixed so no two requests share one.  body may be
 * NULL when len is 0.
 */
void idem_fingerprint(const char *method, const char *path, const char *body,
    size_t len, char out[IDEM_FINGERPRINT_LEN + 1]);
/* Free the answer a claim holds; the claim may be used again. */
void idem_claim_clear(struct idem_claim *);

/* reset.c */
struct reset_request {
	const struct project *project;
	const char *login;	    /* email or username */
	const char *login_url;	    /* NULL: none given */
	const char *locale;	    /* NULL: none given */
	enum link_style link_style; /* DELIVER_LINK only */
	/*
	 * A trusted caller (a server holding a secret API key) receives the
	 * ticket: an unknown or disabled account is ENGINE_USER_UNKNOWN and
	 * costs no decoy work, and it may set link_base.
	 */
	int trusted;
	/* The link's base instead of the project's reset URL; trusted only. */
	const char *link_base;
	/*
	 * The caller hands the token on itself, so the project's
	 * send_reset_emails setting decides whether the email goes out too.
	 * Without it the email always goes: it is the only way the secret
	 * travels.
	 */
	int mail_optional;
	struct idem_claim *idem; /* NULL: not idempotent */
	enum reset_delivery delivery;
	/*
	 * Set by clients configured to reveal whether an account exists
	 * (Cognito's PreventUserExistenceErrors off): the request then
	 * answers ENGINE_USER_UNKNOWN, after the same work.
	 */
	int reveal_user_existence;
	const struct request_context *ctx; /* NULL: none */
	/*
	 * Who asked for an operator's reset ("admin api:NAME", "cli:USER"),
	 * recorded as the audit event's detail; NULL: the user did.
	 */
	const char *requested_by;
	/* Trusted callers over the account's limit: when to retry. */
	int64_t *retry_after_s;
	/*
	 * The time floor of a public request (see reset.c).  When set, the
	 * answer's earliest time is written here, in microseconds of the
	 * monotonic clock, for the caller to hold the answer until then
	 * without holding a thread; when NULL, reset_request sleeps.  When a
	 * time is written (not 0), the caller wakes the mail senders with
	 * engine_mail_queued once the answer has gone out.
	 */
	int64_t *answer_at_us;
	/*
	 * Internal to reset.c: the user of a webhook project (user storage)
	 * as its app described it, resolved before the work (a trusted
	 * caller's lookup, or the outbox's lookup after a public request's
	 * answer); its shadow row is written in the request's transaction.
	 */
	const struct user *shadow;
	int shadow_new; /* the shadow row is new: inserted, not updated */
	int deferred;	/* the outbox's lookup: limits were counted */
	int resolved;	/* the app was asked already (shadow NULL: unknown) */
};

/*
 * What a reset request did.  Public dialects must not show any of it: the
 * engine does the same work for unknown accounts, and the answer must not
 * differ either.  Server-to-server dialects (WorkOS) may.
 */
struct reset_ticket {
	int user_found;
	char *secret_id;
	char *token; /* the secret in clear; zeroed on free */
	char *link;
	int64_t created_at;
	int64_t expires_at;
	struct user *user; /* NULL when not found */
	/*
	 * DELIVER_CODE: where the code went, masked ("j***@e***"); for an
	 * account that does not exist, a simulated one of the same shape.
	 */
	char *destination;
};

/*
 * Request a reset: for an existing, enabled account, kill its older secrets,
 * store a new one and queue the email, in one transaction that is durable
 * before this returns.  An unknown or disabled account costs the same work
 * and leaves no usable secret (with DELIVER_CODE, a decoy code that counts
 * wrong tries like a real one; a trusted caller gets ENGINE_USER_UNKNOWN
 * and no decoy work, see above).  On ENGINE_OK, *out is filled (free with
 * reset_ticket_clear).  ENGINE_USER_UNKNOWN also when the request asks to
 * reveal existence.  With a claim, also ENGINE_REPLAYED and
 * ENGINE_IDEMPOTENCY_MISMATCH, *out unset.
 *
 * Limits: a login that had the project's reset_limit_per_hour secrets in
 * the last hour (counted by the account's id, or for no account by a keyed
 * hash of the login), or a project past its mail_budget_per_hour, gets a
 * decoy that is no current code, no mail, its live secrets kept, and the
 * normal answer, whether an account exists or not; the event is audited,
 * and the budget logged.  A
 * trusted caller is told instead: ENGINE_THROTTLED, with the seconds until
 * the account may have another in *in->retry_after_s.  A request that
 * reveals existence is told of the account's limit (not the budget's):
 * ENGINE_RATE_LIMITED, after the same work, the seconds in
 * *in->retry_after_s when set.
 */
enum engine_result reset_request(struct engine *, const struct reset_request *,
    struct reset_ticket *out);
void reset_ticket_clear(struct reset_ticket *);

struct reset_confirm {
	const struct project *project;
	const char *token;
	const char *user_id; /* NULL: not given */
	const char *new_password;
	struct idem_claim *idem;	   /* NULL: not idempotent */
	const struct request_context *ctx; /* NULL: none */
	struct password_verdict *verdict;  /* NULL: not wanted */
	/*
	 * Xsolla's verify_code, passed on to an app that keeps its users
	 * (user storage webhook) with the new password; NULL: none sent.
	 */
	const char *verify_code;
};

/*
 * Confirm a reset: check the secret without consuming it, check the
 * password, hash it, then in one transaction consume the secret (exactly one
 * of many concurrent confirms wins), store the hash, mark the email
 * verified, revoke the user's sessions and other secrets and queue a
 * "password changed" email.  On ENGINE_OK, *user_out (if not NULL) receives
 * the updated user.  A password the policy refuses is ENGINE_PASSWORD_*,
 * with the reason in *in->verdict when it is set.
 */
enum engine_result reset_confirm(struct engine *, const struct reset_confirm *,
    struct user **user_out);
/*
 * With user storage webhook the password is set by the project's app,
 * called after the secret is checked and outside any transaction; only
 * when it accepts is the secret spent.  An app that refuses the password
 * (a wrong verify_code) is ENGINE_STORAGE_REFUSED; one that is down, slow
 * or answers wrongly is ENGINE_UNAVAILABLE.  Either way the secret stays
 * usable.
 */
/*
 * A reset of the project by its id, for trusted callers that made it: the
 * secret row in *out (free with secret_free), whether live, used, revoked
 * or expired.  Its token_hash is NULL: only the hash was ever stored, so
 * the token cannot be shown again.  ENGINE_SECRET_INVALID when the project
 * has no reset with that id.
 */
enum engine_result reset_get(struct engine *, const struct project *,
    const char *id, struct secret **out);

/*
 * Where a link secret stands, for its holder (the hosted pages tell the
 * user why a link does not work).  Only the holder of the secret, or of
 * its cancel link, learns it.
 */
enum reset_link_state {
	RESET_LINK_LIVE,      /* 0: may be spent */
	RESET_LINK_USED,      /* 1: spent on a new password */
	RESET_LINK_EXPIRED,   /* 2 */
	RESET_LINK_DEAD,      /* 3: revoked (a newer request, a reset, a
				   cancel) or its account changed */
	RESET_LINK_CANCELLED, /* 4: reset_cancel only: this call revoked it */
};

struct reset_link_info {
	struct project *project;
	enum reset_link_state state;
	char *email; /* LIVE: the account's address */
	/*
	 * The login_url the request carried, only while it is still one of
	 * the project's callback URLs (checked at every lookup, so a URL
	 * removed since the request is not used); NULL otherwise.
	 */
	char *login_url;
	char *locale; /* the request's; NULL: none */
	int64_t expires_at;
};

/*
 * Look a link secret up without spending or changing anything: its
 * project, its state and, while it is live, the account's address.  When
 * user_id is given (Xsolla's links carry it) it must be the secret's user.
 * ENGINE_OK with *out filled (clear with reset_link_info_clear);
 * ENGINE_SECRET_INVALID when no reset link has that secret (malformed,
 * unknown, a decoy, another user); ENGINE_UNAVAILABLE.
 */
enum engine_result reset_link_lookup(struct engine *, const char *token,
    const char *user_id, struct reset_link_info *out);
void reset_link_info_clear(struct reset_link_info *);

/* cancel.c */
/*
 * "This wasn't me": every reset email carries a link to cancel the
 * request, PUBLIC_URL/reset/cancel?id=ID&sig=MAC, where ID is the
 * secret's row id and MAC a keyed MAC of it under a key of its own.  The
 * link holds no reset secret and cannot be used to reset; it can only
 * revoke the one secret it names, while that is pending.
 *
 * reset_cancel_lookup says where the named secret stands (project, state;
 * no address, no login_url) and changes nothing.  reset_cancel revokes it
 * when it is live and reports RESET_LINK_CANCELLED, or the state that kept
 * it from being cancelled.  Both: ENGINE_OK with *out filled (clear with
 * reset_link_info_clear), ENGINE_SECRET_INVALID for a link resetd did not
 * make, ENGINE_UNAVAILABLE.
 */
enum engine_result reset_cancel_lookup(struct engine *, const char *id,
    const char *sig, struct reset_link_info *out);
enum engine_result reset_cancel(struct engine *, const char *id,
    const char *sig, struct reset_link_info *out);

/* code.c */
struct reset_code_confirm {
	const struct project *project;
	const char *login; /* as typed: email or username */
	const char *code;  /* as typed */
	const char *new_password;
	int reveal_user_existence;
	const struct request_context *ctx; /* NULL: none */
	struct password_verdict *verdict;  /* NULL: not wanted */
};

/*
 * Confirm a reset with a typed code.  The password policy is checked
 * first; then the code is compared in constant time with the newest code
 * of the account.  A wrong code counts one try, atomically, in the
 * database; a code dies after 5 wrong tries (ENGINE_CODE_LOCKED) and an
 * account takes at most 10 wrong tries on the codes of one hour
 * (ENGINE_RATE_LIMITED); past either cap the right code is refused too.
 * The right code is spent exactly once, with the same effects as
 * reset_confirm.
 *
 * Results: ENGINE_OK (*user_out, if not NULL, receives the user),
 * ENGINE_CODE_MISMATCH, ENGINE_CODE_LOCKED, ENGINE_RATE_LIMITED,
 * ENGINE_SECRET_EXPIRED (the right code, too late), ENGINE_PASSWORD_*,
 * ENGINE_BAD_INPUT, ENGINE_UNAVAILABLE.  Unless reveal_user_existence is
 * set, an unknown or disabled account answers as an account would (its
 * decoy code, if one was requested, is counted and capped like a real
 * one), and an account with no live code answers ENGINE_CODE_MISMATCH like
 * a wrong code; when it is set, those answer ENGINE_USER_UNKNOWN and
 * ENGINE_SECRET_INVALID.
 */
enum engine_result reset_confirm_code(struct engine *,
    const struct reset_code_confirm *, struct user **user_out);

/* session.c */
/*
 * Sessions and the tokens that name them.  Every rule about a token lives
 * here: which key signs it, how long it lives, which claims it carries and
 * what makes it valid.  A face only says which kind of token it wants and
 * what its vendor calls each claim (struct claim_map).
 */
struct login_request {
	const struct project *project;
	const char *login;
	const char *password;
	const struct request_context *ctx; /* NULL: none */
	enum session_face {
		SF_XSOLLA,  /* 0 */
		SF_WORKOS,  /* 1 */
		SF_COGNITO, /* 2 */
		SF__MAX
	} face;
	const char *client_id; /* the app client; NULL: none */
	/* Cognito without PreventUserExistenceErrors: ENGINE_USER_UNKNOWN. */
	int reveal_user_existence;
	/*
	 * The face can ask for a new password (Cognito's NEW_PASSWORD_
	 * REQUIRED): a user with a temporary password and the right one is
	 * ENGINE_PASSWORD_CHANGE_REQUIRED with out->challenge set, and a user
	 * an operator made reset its password (reset_required) with the
	 * right one is ENGINE_PASSWORD_RESET_REQUIRED (Cognito's
	 * PasswordResetRequiredException).  Elsewhere either user's sign-in
	 * is ENGINE_CREDENTIALS_INVALID until a reset.
	 */
	int allow_challenge;
};

struct login_result {
	struct session *session;
	struct user *user;
	int64_t retry_after_s; /* ENGINE_THROTTLED: when to retry */
	/*
	 * The session's refresh token, for faces that have them (WorkOS,
	 * Cognito); NULL otherwise, and after a refresh that does not rotate
	 * (Cognito's).  Zeroed on clear.
	 */
	char *refresh_token;
	/*
	 * ENGINE_PASSWORD_CHANGE_REQUIRED: an opaque, signed proof that the
	 * temporary password was right, for session_new_password; it lives
	 * 3 minutes, as Cognito's Session does.
	 */
	char *challenge;
};

/*
 * Verify a password and open a session.  Unknown users cost a dummy verify,
 * so timing does not tell them apart.  On ENGINE_OK, fill *out (free with
 * login_result_clear).  Every try counts against the login's back-off
 * (backoff.c), kept in the database, first: a login held back answers
 * ENGINE_THROTTLED with out->retry_after_s set, whether or not an account
 * has it, and a success forgets its tries.
 */
enum engine_result session_login(struct engine *, const struct login_request *,
    struct login_result *out);
void login_result_clear(struct login_result *);

/* The answer to a new-password challenge. */
struct new_password_answer {
	const struct project *project;
	const char *client_id;
	const char *login;     /* as typed */
	const char *challenge; /* login_result.challenge */
	const char *new_password;
	const struct request_context *ctx;
	struct password_verdict *verdict; /* NULL: not wanted */
};

/*
 * Answer a new-password challenge: the challenge must be live, made for
 * this client and for the user login names, who must still have a
 * temporary password; the new one must pass the project's policy.  Then
 * the password is set and a session opened as session_login does.
 * ENGINE_OK with *out; ENGINE_SESSION_INVALID (a challenge that does not
 * fit); ENGINE_PASSWORD_*; ENGINE_UNAVAILABLE.
 */
enum engine_result session_new_password(struct engine *,
    const struct new_password_answer *, struct login_result *out);

struct password_change {
	const struct project *project;
	const struct user *user; /* from a checked token */
	const char *old_password;
	const char *new_password;
	const struct request_context *ctx;
	struct password_verdict *verdict; /* NULL: not wanted */
};

/*
 * Change a signed-in user's password, proving the old one.  The old one
 * counts toward the login's back-off like a sign-in.  ENGINE_OK;
 * ENGINE_CREDENTIALS_INVALID; ENGINE_THROTTLED; ENGINE_PASSWORD_*;
 * ENGINE_UNAVAILABLE.  The user's other sessions stay.
 */
enum engine_result
session_change_password(struct engine *, const struct password_change *);

/* A refresh grant. */
struct refresh_request {
	const struct project *project;
	enum session_face face;
	const char *client_id; /* must be the token's client */
	const char *token;
	const struct request_context *ctx; /* NULL: none */
};

/*
 * Trade a refresh token for its session's user, as a login would.  A
 * token is single use where the face rotates them (WorkOS): the answer
 * holds the next one, and presenting a spent token again revokes its
 * whole family (its session), as the OAuth 2.0 Security BCP asks; that
 * is the one refusal that writes.  Cognito's refresh tokens live until
 * they expire or are revoked.  ENGINE_OK with *out filled (clear with
 * login_result_clear); ENGINE_SESSION_INVALID for any token that is not
 * live (unknown, expired, spent, revoked, another client's or project's);
 * ENGINE_USER_DISABLED; ENGINE_UNAVAILABLE.
 */
enum engine_result session_refresh(struct engine *,
    const struct refresh_request *, struct login_result *out);
/*
 * Revoke one session of project p, with its refresh tokens: ENGINE_OK,
 * ENGINE_SESSION_INVALID when p has no such live session, or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result session_revoke(struct engine *, const struct project *p,
    const char *session_id);
/*
 * Sign out through a session id alone, as a browser sent to WorkOS's
 * logout URL does: the session's project must list return_to (when not
 * NULL) among its callback URLs, else ENGINE_LOGIN_URL_REFUSED and
 * nothing is written; then the session is revoked if it is live.
 * ENGINE_OK (also for a session that had ended), ENGINE_SESSION_INVALID
 * for an unknown id, ENGINE_UNAVAILABLE.
 */
enum engine_result
session_logout(struct engine *, const char *session_id, const char *return_to);
/* Revoke every session of a user of p (a sign-out everywhere). */
enum engine_result session_revoke_user(struct engine *, const struct project *p,
    const char *user_id);
/*
 * Revoke the session a refresh token of client_id belongs to; an unknown
 * or dead token is ENGINE_OK as well (RFC 7009), another client's is
 * ENGINE_SESSION_INVALID.
 */
enum engine_result session_revoke_refresh(struct engine *,
    const struct project *p, const char *client_id, const char *token);
/*
 * The live sessions of a user of p, newest first, in *out (struct
 * session items; free with store_list_free(out, session_free)).
 */
enum engine_result session_list(struct engine *, const struct project *p,
    const char *user_id, struct store_list *out);

/* keyring.c */
/*
 * Rotate a project's RS256 key: a new key signs from now on (within the
 * key cache's 10 seconds in other processes), and the old one stays in
 * the key set until the last token it signed has expired.  The new kid
 * is written to kid.  ENGINE_OK, ENGINE_PROJECT_UNKNOWN or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result keyring_rotate(struct engine *, const char *project_id,
    enum jwt_alg, char kid[UUID_STRLEN + 1]);
/*
 * The HS256 secret key of a project's Xsolla login tokens, for the
 * operator to give the project's backend (made when the project has
 * none); with rotate, a new one first, the old one still accepted by
 * resetd until its tokens expire.  The secret is returned in *secret_out
 * (free with xfree_secret) and its kid in kid.
 */
enum engine_result keyring_secret(struct engine *, const char *project_id,
    int rotate, char **secret_out, char kid[UUID_STRLEN + 1]);
/*
 * The project's RS256 key set as JWKS text ({"keys":[...]}), newly
 * allocated in *out: every key that still verifies.  ENGINE_OK or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result
keyring_jwks(struct engine *, const struct project *p, char **out);

/* The tokens resetd signs; each kind has its key, lifetime and claims. */
enum token_kind {
	TK_XSOLLA_LOGIN,   /* 0: HS256 under the project's secret key */
	TK_WORKOS_ACCESS,  /* 1: RS256, 5 minutes */
	TK_COGNITO_ACCESS, /* 2: RS256, 1 hour */
	TK_COGNITO_ID,	   /* 3: RS256, 1 hour */
	TK__MAX
};

/* What a token says, by meaning; a claim_map gives the vendor's names. */
enum claim_field {
	CF_ISSUER,	   /* 0: PUBLIC_URL, or PUBLIC_URL/PROJECT */
	CF_SUBJECT,	   /* 1: the user's id */
	CF_SESSION,	   /* 2: the session's id */
	CF_TOKEN_ID,	   /* 3: an id of this token alone */
	CF_PROJECT,	   /* 4: the project's id */
	CF_CLIENT,	   /* 5: the app client's id */
	CF_ISSUED,	   /* 6: iat */
	CF_EXPIRES,	   /* 7: exp */
	CF_AUTH_TIME,	   /* 8: when the password was checked */
	CF_EMAIL,	   /* 9 */
	CF_EMAIL_VERIFIED, /* 10 */
	CF_USERNAME,	   /* 11 */
	CF_GROUPS,	   /* 12: the user's groups (Xsolla's shape) */
	CF__MAX
};

#define CLAIM_FIXED_MAX 3

/*
 * A face's names for the claims of one kind of token: name[f] NULL leaves
 * field f out.  CF_SESSION and CF_SUBJECT are required to check a token.  Ids are written with prefix (WorkOS's "user_" and a ULID)
 * when one is given, else as UUIDs.  fixed are claims with a constant
 * value ("token_use":"access"), written on signing and required on
 * checking, so that a token of one kind never passes for another.
 */
struct claim_map {
	const char *name[CF__MAX];
	const char *user_prefix;
	const char *session_prefix;
	int username_or_email; /* CF_USERNAME: the email when
						   the user has no username */
	struct {
		const char *name;
		const char *value;
	} fixed[CLAIM_FIXED_MAX];
};

/*
 * Sign a token of kind for the session and user of lr (project p, app
 * client client_id or NULL) with the claims map names.  Return the token
 * in *out (free with xfree_secret): ENGINE_OK, or ENGINE_UNAVAILABLE
 * (logged).  Its expiry is the kind's lifetime, never past the session's.
 */
enum engine_result session_token(struct engine *, const struct project *p,
    enum token_kind, const struct claim_map *, const struct login_result *lr,
    const char *client_id, char **out);

/* A token checked by session_token_check. */
struct token_check {
	struct session *session;
	struct user *user;
	char *project_id;
	char *client_id; /* NULL: none in the token */
	int64_t expires_at_s;
	int revoked; /* a sound token of a revoked session */
};

void token_check_clear(struct token_check *);
/*
 * Check a token of kind: its signature under a key of the project (p; a
 * NULL p takes the project of the key), its expiry, its fixed claims,
 * and that its session is live and its user enabled.  The issuer is not
 * compared (instances sharing a database may have different PUBLIC_URLs).  On
 * ENGINE_OK, fill *out (clear with token_check_clear).  Any fault of the
 * token itself, of any kind (malformed, forged, expired, revoked, another
 * project's, a rotated-out key, another kind of token), is
 * ENGINE_SESSION_INVALID; a disabled user's is ENGINE_USER_DISABLED; else
 * ENGINE_UNAVAILABLE.  Nothing is written.
 */
enum engine_result
session_token_check(struct engine *, const struct project *p, enum token_kind,
    const struct claim_map *, const char *token, struct token_check *out);

/* admin.c */
struct project_spec {
	const char *name;
	const char **callback_urls; /* NULL-terminated, may be NULL */
	const char **allowed_origins;
	const char *reset_url;
	int64_t token_ttl;	    /* 0: default */
	int reset_emails_off;	    /* send_reset_emails = 0 */
	const char *delivery;	    /* "link" or "code"; NULL: link */
	const char *mail_from;	    /* NULL: the instance's */
	const char *mail_from_name; /* NULL: the instance's */
	const char *locale;	    /* default mail locale; NULL: en */
	int unknown_account_notice;
	const char *logo_url;	  /* hosted pages' logo; NULL: none */
	const char *accent_color; /* "#RRGGBB"; NULL: none */
	/* Limits and policy; a value below zero takes the default. */
	int64_t reset_limit_per_hour;
	int64_t mail_budget_per_hour;  /* 0: no budget */
	int64_t notice_limit_per_hour; /* per recipient */
	int64_t notice_share_percent;  /* of the mail budget */
	int64_t password_min_length;
	int64_t password_min_score;
	int64_t login_token_ttl; /* seconds; 0 or less: default */
	/* Password profile and switches; see struct password_settings. */
	const char *password_profile; /* NULL: nist */
	int password_lists;	      /* -1: the profile's */
	int password_score;	      /* -1: the profile's */
	const char *password_require; /* NULL: the profile's */
	/*
	 * User storage (core/userstore.h): where the project's users live.
	 * The URLs are checked as webhook endpoints' are, private targets
	 * only when allowed; webhook needs the lookup, verify and password
	 * URLs.
	 */
	const char *user_storage;	     /* NULL: builtin */
	const char *storage_lookup_url;	     /* NULL: none */
	const char *storage_verify_url;	     /* NULL: none */
	const char *storage_password_url;    /* NULL: none */
	const char *storage_new_user_url;    /* NULL: creating is refused */
	const char *storage_password_format; /* NULL: plain */
	int64_t storage_timeout_ms;	     /* 0 or less: 3000 */
	int allow_private_targets;	     /* -1: as it was (new: off) */
};

/*
 * A change to a project's password policy.  profile, when set, starts the
 * rules over from that profile's defaults; each other member, when set
 * (not NULL, not below zero), switches one rule.  lists and score are 0
 * (off) or 1 (on); require is a comma-separated list of uppercase,
 * lowercase, numbers and symbols, or "none".
 */
struct password_settings {
	const char *profile;
	int64_t min_length;
	int64_t min_score;
	int lists;
	int score;
	const char *require;
};

/* Defaults and bounds of the per-project limits. */
#define PROJECT_RESET_LIMIT_DEFAULT 3
#define PROJECT_RESET_LIMIT_MAX 1000
#define PROJECT_MAIL_BUDGET_DEFAULT 1000
#define PROJECT_MAIL_BUDGET_MAX 10000000
/*
 * Unknown-account notices: how many one address may get an hour, and the
 * share of the mail budget they may use; the rest is kept for accounts.
 */
#define PROJECT_NOTICE_LIMIT_DEFAULT 1
#define PROJECT_NOTICE_SHARE_DEFAULT 20
/* Xsolla login tokens: 24 hours by default, as Xsolla's. */
#define PROJECT_LOGIN_TTL_DEFAULT 86400
#define PROJECT_LOGIN_TTL_MIN 60
#define PROJECT_LOGIN_TTL_MAX (30 * 86400)
/* A project_spec with every limit at its default. */
#define PROJECT_SPEC_DEFAULTS \
	.reset_limit_per_hour = -1, .mail_budget_per_hour = -1, \
	.notice_limit_per_hour = -1, .notice_share_percent = -1, \
	.password_min_length = -1, .password_min_score = -1, \
	.login_token_ttl = -1, .password_lists = -1, .password_score = -1, \
	.allow_private_targets = -1
/* A password_settings that changes nothing. */
#define PASSWORD_SETTINGS_NONE \
	{ \
		NULL, -1, -1, -1, -1, NULL \
	}

/* Create a project; on ENGINE_OK, *out. ENGINE_BAD_INPUT names the field in err. */
enum engine_result
admin_project_create(struct engine *, const struct project_spec *,
    struct project **out, char *err, size_t errlen);
struct user_spec {
	const char *project_id;
	const char *email;
	const char *username;
	const char *password; /* NULL: none set */
	/*
	 * An existing hash to keep instead (imports): Argon2id, or bcrypt,
	 * made again as Argon2id at the next sign-in; not with password.
	 */
	const char *password_hash;
	const char *first_name;
	const char *last_name;
	int email_verified;
	const char *locale;		  /* mail locale; NULL: none */
	struct idem_claim *idem;	  /* NULL: not idempotent */
	struct password_verdict *verdict; /* NULL: not wanted */
	/* Imports keep what operators bring: bounds only, no strength rules. */
	int bounds_only;
	/*
	 * Cognito's status: force_change_password makes the password
	 * temporary (the first sign-in must choose another).
	 */
	enum user_status status;
};

/*
 * Create a user; on ENGINE_OK, *out.  A bad field is ENGINE_BAD_INPUT, or
 * for the password ENGINE_PASSWORD_TOO_SHORT, _TOO_LONG, _INVALID_TEXT or
 * _WEAK (the project's policy, reason in *spec->verdict when set);
 * an email or username in use is ENGINE_CONFLICT; err says which.  With a
 * claim, also ENGINE_REPLAYED and ENGINE_IDEMPOTENCY_MISMATCH.
 */
enum engine_result admin_user_create(struct engine *, const struct user_spec *,
    struct user **out, char *err, size_t errlen);
/*
 * Create n users of one project (specs[0].project_id) in one transaction:
 * all of them or, when one is refused, none; err names the first refused.
 */
enum engine_result admin_user_import(struct engine *, const struct user_spec *,
    size_t n, char *err, size_t errlen);
/*
 * A user of the project by id, in *out without its password hash;
 * ENGINE_USER_UNKNOWN when the project has no such user.
 */
enum engine_result admin_user_get(struct engine *, const struct project *,
    const char *id, struct user **out);
/*
 * Disable (disabled 1) or enable (0) a user of a project, named by its id,
 * email or username.  Disabling also revokes the user's sessions and live
 * reset secrets in the same transaction, so a token or link issued before
 * stops working at once and enabling does not bring it back.  A change is
 * audited (user_disabled, user_enabled) with ctx (NULL from the CLI); a
 * user already in that state is left alone.  On ENGINE_OK, *out (may be
 * NULL) is the user as it is now, without its password hash; else
 * ENGINE_PROJECT_UNKNOWN, ENGINE_USER_UNKNOWN or ENGINE_UNAVAILABLE.
 */
enum engine_result
admin_user_set_disabled(struct engine *, const struct request_context *ctx,
    const char *project_id, const char *user, int disabled, struct user **out);
/*
 * A user of a project named by its id, email or username, in *out
 * without its password hash; ENGINE_PROJECT_UNKNOWN (no such project),
 * ENGINE_USER_UNKNOWN or ENGINE_UNAVAILABLE.  The other operations on one
 * user below name it the same way and answer the same results.
 */
enum engine_result admin_user_lookup(struct engine *, const char *project_id,
    const char *user, struct user **out);

struct admin_password {
	const char *project_id;
	const char *user; /* id, email, username */
	const char *password;
	/*
	 * 1: the user is confirmed and signs in with it; 0: it is a
	 * temporary password (force_change_password), and sign-in asks for
	 * a new one.
	 */
	int permanent;
	const struct request_context *ctx; /* NULL: the CLI */
	struct password_verdict *verdict;  /* NULL: not wanted */
};

/*
 * Set a user's password as an operator: the project's policy decides
 * (ENGINE_PASSWORD_*, reason in *in->verdict), the email is left as it
 * was, and in one transaction the hash and status are stored, the user's
 * sessions and live reset secrets revoked, and the change audited
 * (password_set).  On ENGINE_OK, *out (may be NULL) is the user now.
 * A webhook project's app (user storage) sets the password itself, first,
 * and keeps it; it takes no temporary one (ENGINE_STORAGE_REFUSED, as
 * when it refuses the password; ENGINE_UNAVAILABLE when it fails).
 */
enum engine_result admin_user_set_password(struct engine *,
    const struct admin_password *, struct user **out);
/*
 * Require a reset: a code is sent to the user's email (as reset_request
 * does for a trusted caller, with its limits: ENGINE_THROTTLED with
 * *retry_after_s), then the user's status is set to reset_required, which
 * deactivates its password (session_login takes it nowhere; Cognito's
 * sign-in answers its holder ENGINE_PASSWORD_RESET_REQUIRED), and its
 * sessions are revoked, audited (reset_required).  Confirming the code
 * sets a new password and confirms the user.  ENGINE_USER_DISABLED for a
 * disabled user, whom nothing is sent.
 */
enum engine_result
admin_user_require_reset(struct engine *, const struct request_context *,
    const char *project_id, const char *user, int64_t *retry_after_s);
/* Revoke every session of a user, audited (user_signed_out). */
enum engine_result admin_user_sign_out(struct engine *,
    const struct request_context *, const char *project_id, const char *user);
/*
 * The changes of one update: a NULL name and an email_verified of -1 keep
 * what the user has; "" clears a name.  A password is checked by the
 * project's policy as at creation.
 */
struct user_update {
	const char *first_name;
	const char *last_name;
	int email_verified;		  /* 0, 1; -1: keep */
	const char *password;		  /* NULL: keep */
	struct password_verdict *verdict; /* NULL: not wanted */
};

/*
 * Update user id of project p, in one transaction with the user.updated
 * event.  On ENGINE_OK, *out (may be NULL) is the user as it is now,
 * without its hash; else ENGINE_USER_UNKNOWN, ENGINE_BAD_INPUT (err names
 * the field), a password result as admin_user_create has them (verdict),
 * or ENGINE_UNAVAILABLE.
 */
enum engine_result
admin_user_update(struct engine *, const struct project *p, const char *id,
    const struct user_update *, struct user **out, char *err, size_t errlen);
/* The most rows one admin list returns, and one user page. */
#define ADMIN_LIST_MAX 100000
#define ADMIN_PAGE_MAX 1000
#define ADMIN_CURSOR_MAX 80

/*
 * Replace every setting of project id with spec, checked as at creation
 * (a complete spec: admin_project_spec gives the current one, lists
 * aside; the password policy is kept but for the password members set).  On ENGINE_OK, *out is the project as it is now.  This instance
 * sees it at once; others within their project cache's 10 seconds.
 * ENGINE_PROJECT_UNKNOWN, ENGINE_BAD_INPUT (err names the field).
 */
enum engine_result admin_project_update(struct engine *, const char *id,
    const struct project_spec *spec, struct project **out, char *err,
    size_t errlen);
/*
 * The spec of project p's settings, its two lists left NULL (they are
 * lines in p); the strings are p's.
 */
void admin_project_spec(const struct project *p, struct project_spec *out);
/*
 * The lines of a newline-separated list (a project's callback URLs or
 * origins) as a new NULL-terminated array; free with engine_list_free.
 */
const char **engine_list_split(const char *list);
void engine_list_free(const char **);
/* Drop project id from the engine's cache (engine_project). */
void engine_project_forget(struct engine *, const char *id);
/* Every project, in creation order (items: struct project). */
enum engine_result admin_project_list(struct engine *, struct store_list *);
/* A project by id; ENGINE_PROJECT_UNKNOWN when there is none. */
enum engine_result
admin_project_show(struct engine *, const char *id, struct project **out);
/* A project's API keys, never their hashes (items: struct api_key). */
enum engine_result admin_api_key_list(struct engine *, const char *project_id,
    struct store_list *);

/*
 * One listing of a project's users, for the admin API, the CLI and
 * Cognito's ListUsers alike.  filter and value are store_user_page's
 * (USER_FILTER_NONE: all; the prefix filters take '_' and '%' as plain
 * text); email, when set, is the admin API's exact-address filter, the
 * same as USER_FILTER_EMAIL and not to be combined with another filter.
 */
struct user_query {
	const char *project_id;
	const char *email;	 /* only this address; NULL: all */
	enum user_filter filter; /* USER_FILTER_NONE unless email */
	const char *value;	 /* what filter compares */
	const char *cursor;	 /* a next cursor of this list; NULL */
	int64_t limit;		 /* 1 to ADMIN_PAGE_MAX */
	int desc;		 /* newest first; a cursor binds it */
};

/*
 * A page of a project's users in creation order, without password hashes
 * (items: struct user).  When more follow, next holds the cursor of the
 * next page, else "".  A cursor is opaque: the page's last id and a MAC
 * binding it to this project and filter, so a made-up or moved cursor is
 * ENGINE_BAD_INPUT; so are a limit out of range, and an unknown project
 * (ENGINE_PROJECT_UNKNOWN); err names the field.
 */
enum engine_result admin_user_list(struct engine *, const struct user_query *,
    struct store_list *out, char next[ADMIN_CURSOR_MAX + 1], char *err,
    size_t errlen);
/* A user by id, any project, without its hash; ENGINE_USER_UNKNOWN. */
enum engine_result
admin_user_show(struct engine *, const char *id, struct user **out);
/*
 * Delete a user with its sessions (and their refresh tokens) and reset
 * secrets, in one transaction with the user.deleted event and an audit
 * event (user_deleted, under the keyed hash of its email, detail by: who
 * asked; NULL: "admin").  With project_id, user names a user of that
 * project by id, email or username (ENGINE_PROJECT_UNKNOWN when there is
 * no such project); without, user is an id of any project.  Its email and
 * username are free again at once.  ENGINE_USER_UNKNOWN when there is no
 * such user.
 */
enum engine_result
admin_user_delete(struct engine *, const struct request_context *,
    const char *project_id, const char *user, const char *by);
/* 1 when s may name who asked for an operator's action. */
int admin_actor_valid(const char *s);
/*
 * An operator's reset: mail the user a reset link, as a trusted request,
 * so the operator never sees the link.  The audit event (reset_requested)
 * has by as its detail.  ENGINE_USER_UNKNOWN, ENGINE_USER_DISABLED,
 * ENGINE_THROTTLED (the account's hourly resets), ENGINE_BAD_INPUT (by),
 * ENGINE_UNAVAILABLE; err says which.
 */
enum engine_result
admin_user_reset(struct engine *, const struct request_context *,
    const char *id, const char *by, char *err, size_t errlen);
/*
 * Outbox messages, newest first, of a state (NULL: all but dropped), at
 * most limit (1 to ADMIN_LIST_MAX) (items: struct outbox_msg).
 */
enum engine_result admin_outbox_list(struct engine *, const char *state,
    int64_t limit, struct store_list *out, char *err, size_t errlen);
/*
 * Make a dead message (id) or every dead message (id NULL) pending again,
 * and wake the senders; *retried is how many.  ENGINE_USER_UNKNOWN: no
 * such message; ENGINE_CONFLICT: it is not dead.
 */
enum engine_result admin_outbox_retry(struct engine *, const char *id,
    int64_t *retried, char *err, size_t errlen);

struct audit_query {
	const char *project_id; /* NULL: every project */
	const char *user_id;	/* NULL: every subject */
	int64_t since, until;	/* ms: [since, until) */
	int64_t limit;		/* 1 to ADMIN_LIST_MAX */
};

/* Audit events, newest first (items: struct audit_event). */
enum engine_result admin_audit_list(struct engine *, const struct audit_query *,
    struct store_list *out, char *err, size_t errlen);
/* The outbox's pending and dead messages now, for the metrics. */
enum engine_result
engine_outbox_depth(struct engine *, int64_t *pending, int64_t *dead);

/* policy.c: the rules every face asks the same way */
struct app_client;
/* What a face's confirm call can carry back: a link's secret, a code. */
#define DELIVERY_CARRIES_LINK 1u
#define DELIVERY_CARRIES_CODE 2u
#define DELIVERY_CARRIES_BOTH (DELIVERY_CARRIES_LINK | DELIVERY_CARRIES_CODE)
/*
 * How a reset of project p is delivered through a face whose confirm can
 * carry what carries says: the one kind it carries (Xsolla and WorkOS
 * confirm links, Cognito and Velocity codes), or, for a face that takes
 * both (the hosted pages), the project's own setting ("link" or "code").
 */
enum reset_delivery engine_delivery(const struct project *p, unsigned carries);
/* How engine_callback_url treats what the client sent. */
#define CALLBACK_REFUSE_UNLISTED 1u /* unlisted: ENGINE_LOGIN_URL_REFUSED */
#define CALLBACK_DEFAULT_FIRST 2u   /* none: the project's first URL */
#define CALLBACK_REQUIRE_CHOICE 4u  /* none, of several: refused */
/*
 * The callback URL a call of project p is to use, for requested (what the
 * client sent; NULL: nothing): requested itself when it is one of p's
 * callback URLs, exactly (engine_login_url_allowed).  One that is not is
 * refused with CALLBACK_REFUSE_UNLISTED (ENGINE_LOGIN_URL_REFUSED, *out
 * NULL), and otherwise ignored as if none was sent.  With none,
 * CALLBACK_REQUIRE_CHOICE refuses the call (ENGINE_LOGIN_URL_REFUSED)
 * when p has several callback URLs; then CALLBACK_DEFAULT_FIRST gives
 * p's first callback URL, else none.  On
 * ENGINE_OK *out is a new string (caller frees) or NULL for none.
 */
enum engine_result engine_callback_url(const struct project *p,
    const char *requested, unsigned flags, char **out);
/*
 * 1 when the answers to client cl may tell an unknown account from a
 * known one (a Cognito app client with PreventUserExistenceErrors off);
 * 0 for NULL (a face with no client) and by default.
 */
int engine_reveals_users(const struct app_client *cl);

/* valid.c: the checks of request fields (1: passes, 0: does not) */
#define VALID_NAME_MAX 200 /* bytes of a name */
#define VALID_URL_MAX 2048 /* bytes of a URL */
/* 1 when s is 1 to max bytes of clean text (str_is_clean_utf8). */
int valid_text(const char *, size_t max);
/* 1 when s is an origin: scheme://host[:port], no path (valid_url). */
int valid_origin(const char *);
/* 1 when s is an acceptable email address. */
int valid_email(const char *);
/*
 * 1 when s may be a sender address: an acceptable email address in plain
 * ASCII, without characters that are special in a header.
 */
int valid_sender(const char *);
/*
 * 1 when s may be a sender's display name: 1 to 200 bytes of UTF-8 with no
 * control character at all (a CR or LF would end the header).
 */
int valid_sender_name(const char *);
/* 1 when s is an absolute http(s) URL resetd may put in a link. */
int valid_url(const char *);
/*
 * 1 when s may be a project's logo: an https URL, or an http URL whose host
 * is loopback (127.0.0.1, localhost, [::1]) for development; its host is
 * letters, digits, dots and hyphens (or a bracketed IPv6 address), with an
 * optional port and no user part, so its origin is safe to name in a
 * Content-Security-Policy; and it holds none of the characters a URL
 * must percent-encode (quotes, angle brackets, backslash, ...).
 */
int valid_logo_url(const char *);
/* 1 when s is a colour as "#RRGGBB" (hex digits, either case). */
int valid_color(const char *);

/* event.c */
/*
 * The event log.  Every change to a project's users, resets and sessions
 * is recorded in the transaction that makes it, as one of the names
 * event_known_names lists (NULL-terminated); email.delivery_failed is
 * recorded by the outbox when a message dies.  Each is posted to the
 * project's webhook endpoints that take it (mail/webhook.h).
 */
const char *const *event_known_names(void);
int event_name_known(const char *name);
/*
 * A project's events matching f (store_event_list), oldest first, into
 * *out (struct event_row; free with event_row_free).  ENGINE_OK or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result engine_events_list(struct engine *,
    const struct event_filter *f, struct store_list *out);
/*
 * Make a webhook endpoint of a project posting the events named (a
 * NULL-terminated list of known names, or "*": all).  The URL is checked
 * (webhook_url_check), against private targets unless the project allows
 * them.  The secret ("whsec_" and base64) is returned once in
 * *secret_out (free with xfree_secret) and stored only sealed; the
 * endpoint's id goes to id_out.  A project has at most
 * WEBHOOK_ENDPOINTS_MAX (16) endpoints.  ENGINE_BAD_INPUT with the reason
 * in err, ENGINE_PROJECT_UNKNOWN, ENGINE_UNAVAILABLE.
 */
enum engine_result admin_webhook_create(struct engine *, const char *project_id,
    const char *url, const char *const *events, char **secret_out,
    char id_out[UUID_STRLEN + 1], char *err, size_t errlen);
/* A project's endpoints (struct webhook_endpoint) into *out. */
enum engine_result admin_webhook_list(struct engine *, const char *project_id,
    struct store_list *out);
/*
 * Delete endpoint id of a project; deliveries queued for it die unsent.
 * ENGINE_OK, ENGINE_USER_UNKNOWN when there is no such endpoint, or
 * ENGINE_UNAVAILABLE.
 */
enum engine_result
admin_webhook_delete(struct engine *, const char *project_id, const char *id);
/*
 * Post a sample event ("webhook.test") to endpoint id now, signed as
 * every delivery is, outside the outbox.  ENGINE_OK when it answered 2xx;
 * ENGINE_BAD_INPUT when it did not (the reason in err, the status in
 * *status, 0 when none); ENGINE_USER_UNKNOWN for no such endpoint;
 * ENGINE_UNAVAILABLE.
 */
enum engine_result admin_webhook_test(struct engine *, const char *id,
    long *status, char *err, size_t errlen);

/* credentials.c */
#define APP_CLIENT_SECRET_HASH_LEN 44 /* base64 of an HMAC-SHA256 */

/* An app client, its secret unsealed. */
struct app_client {
	char *id;
	char *project_id;
	char *secret; /* NULL: a public client; zeroed on clear */
	int prevent_user_existence_errors;
};

void app_client_clear(struct app_client *);
#define AWS_ACCESS_KEY_ID_LEN 20 /* "AKIA" and 16 base32 */
#define AWS_SECRET_BYTES 30
#define AWS_SECRET_ACCESS_KEY_LEN 40 /* base64 of 30 bytes */

/* An API key as AWS credentials, as the key's maker receives them. */
struct aws_credentials {
	char access_key_id[AWS_ACCESS_KEY_ID_LEN + 1];
	char *secret_access_key; /* zeroed on clear */
};

void aws_credentials_clear(struct aws_credentials *);
/*
 * Make an API key for a project.  The key ("sk_" and 43 characters) is
 * returned once in *key_out (caller frees with xfree_secret), and its row
 * id, which names it from then on, in id_out; only its keyed hash is
 * stored.  The key is also a pair of AWS credentials for the Cognito
 * face's signed calls: an access key id, stored as it is, and a secret
 * access key, which SigV4 checks need back and which is therefore stored
 * sealed under a subkey of the server secret of its own, bound to the
 * row.  They are returned once in *aws_out (NULL: not wanted; clear with
 * aws_credentials_clear).
 */
enum engine_result
admin_api_key_create(struct engine *, const char *project_id, char **key_out,
    char id_out[UUID_STRLEN + 1], struct aws_credentials *aws_out);
/*
 * The AWS secret access key of an API key row, unsealed (free with
 * xfree_secret); NULL when the key has none or it does not open (logged).
 */
char *engine_aws_unseal(struct engine *, const struct api_key *);
/*
 * Revoke an API key, named by its id or by the key itself ("sk_...").
 * The key is refused from the next call on: keys are looked up in the
 * database on every call, never cached.  Revoking is audited
 * (api_key_revoked) with ctx (NULL from the CLI); a key revoked already
 * stays as it was.  On ENGINE_OK, *out is the key's row (its revoked_at
 * set; free with api_key_free); ENGINE_CREDENTIALS_INVALID when there is
 * no such key, or ENGINE_UNAVAILABLE.
 */
enum engine_result
admin_api_key_revoke(struct engine *, const struct request_context *ctx,
    const char *id_or_key, struct api_key **out);
/*
 * Give an app client with a secret a new one, sealed like the first; the
 * old one stops working at once (clients are read on every call).  The
 * new secret is returned once in out.  Audited (client_secret_rotated)
 * with ctx.  ENGINE_CREDENTIALS_INVALID when there is no such client,
 * ENGINE_CONFLICT when it has no secret (a public client gets none by
 * rotation: make a client with one), or ENGINE_UNAVAILABLE.
 */
enum engine_result
admin_client_rotate_secret(struct engine *, const struct request_context *ctx,
    const char *client_id, struct app_client *out);
/*
 * Make an app client ("client_" and a ULID) for a project, with a secret
 * when with_secret is set; the secret is returned once, in out.  Clients
 * hide whether accounts exist unless reveal_user_existence is set (the
 * legacy mode of Cognito's PreventUserExistenceErrors).
 */
enum engine_result admin_client_create(struct engine *, const char *project_id,
    int with_secret, int reveal_user_existence, struct app_client *out);
/* The project an API key belongs to; ENGINE_CREDENTIALS_INVALID if none. */
enum engine_result engine_project_by_api_key(struct engine *, const char *key,
    struct project **out);
/* An app client by id, secret unsealed; ENGINE_CREDENTIALS_INVALID if none. */
enum engine_result
engine_client(struct engine *, const char *client_id, struct app_client *out);
/*
 * Check the client of an OAuth-style token call made with an API key, as
 * WorkOS's SDK makes it: client_id must name an app client of the key's
 * project, and client_secret must be that API key itself.  ENGINE_OK,
 * ENGINE_CREDENTIALS_INVALID or ENGINE_UNAVAILABLE.
 */
enum engine_result
engine_client_check_key(struct engine *, const struct project *,
    const char *api_key, const char *client_id, const char *client_secret);

/* awsauth.c */
/* How a signed (AWS SigV4) call fared; each refusal is one of AWS's. */
enum aws_auth {
	AWS_AUTH_OK,		    /* 0 */
	AWS_AUTH_MISSING,	    /* 1: MissingAuthenticationToken */
	AWS_AUTH_INCOMPLETE,	    /* 2: IncompleteSignature */
	AWS_AUTH_UNRECOGNIZED,	    /* 3: UnrecognizedClient */
	AWS_AUTH_INVALID_SIGNATURE, /* 4: InvalidSignature */
	AWS_AUTH_UNAVAILABLE,	    /* 5: the store failed (logged) */
};

struct aws_auth_check {
	const char *authorization; /* NULL: none sent */
	const char *amz_date;	   /* NULL: none sent */
	const char *service;	   /* "cognito-idp" */
	const struct sigv4_request *request;
	char message[320]; /* out: AWS's words */
};

/*
 * Check the SigV4 signature of a call: scope (the instance's aws_region,
 * in->service, X-Amz-Date's day), a live API key's access key id, the
 * signature recomputed under its sealed secret and compared in constant
 * time, and X-Amz-Date within 5 minutes of engine_now.  AWS_AUTH_OK with
 * the key's project in *out (free with project_free); else the refusal,
 * with AWS's message in in->message, and nothing changed.
 */
enum aws_auth engine_aws_auth(struct engine *, struct aws_auth_check *in,
    struct project **out);
/*
 * The Cognito user pool id of a project: the instance's region
 * (aws_region), an underscore and the project's id (a UUID) as a ULID:
 * "us-east-1_01J...".
 */
void engine_user_pool_id(const char *region, const char *project_id,
    char out[ENGINE_POOL_ID_MAX + 1]);
/*
 * The project id a user pool id names, if it is of region and in that
 * form; 0 with the UUID in out, or -1.
 */
int engine_user_pool_project(const char *region, const char *pool_id,
    char out[UUID_STRLEN + 1]) WUR;

/* What a call through an app client names and proves. */
struct client_auth {
	const char *client_id;
	const char *project_id;	 /* must own the client; NULL: any */
	const char *username;	 /* as typed, for the SecretHash */
	const char *secret_hash; /* NULL: none sent */
};

/*
 * Authenticate a call through an app client: the client must exist (and
 * belong to project_id when one is given), and when it has a secret, the
 * call must carry its SecretHash, compared in constant time.  On
 * ENGINE_OK, fill *client_out (clear with app_client_clear) and *project_out
 * (free with project_free).  ENGINE_PROJECT_UNKNOWN: no such client in
 * that project; ENGINE_CREDENTIALS_INVALID: a missing or wrong SecretHash;
 * ENGINE_UNAVAILABLE.
 */
enum engine_result
engine_client_auth(struct engine *, const struct client_auth *,
    struct app_client *client_out, struct project **project_out);
/*
 * 1 when secret_hash is client cl's SecretHash for user u under any of
 * the names Cognito takes for it (the sub, the username, the email), or
 * when cl has no secret.  For calls that name no user (a refresh).
 */
int engine_client_user_hash_ok(const struct app_client *cl,
    const struct user *u, const char *secret_hash);
/*
 * Compute Cognito's SecretHash, Base64(HMAC-SHA256(key = secret,
 * message = username || client_id)), into out.
 */
void app_client_secret_hash(const char *secret, const char *username,
    const char *client_id, char out[APP_CLIENT_SECRET_HASH_LEN + 1]);

#endif
