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
#include "../store/store.h"

enum engine_result {
	ENGINE_OK,			/* 0 */
	ENGINE_PROJECT_UNKNOWN,		/* 1 */
	ENGINE_BAD_INPUT,		/* 2 */
	ENGINE_LOGIN_URL_REFUSED,	/* 3 */
	ENGINE_SECRET_INVALID,		/* 4: unknown, used, revoked, other user */
	ENGINE_SECRET_EXPIRED,		/* 5 */
	ENGINE_PASSWORD_TOO_SHORT,	/* 6 */
	ENGINE_PASSWORD_TOO_LONG,	/* 7 */
	ENGINE_PASSWORD_INVALID_TEXT,	/* 8 */
	ENGINE_CREDENTIALS_INVALID,	/* 9 */
	ENGINE_USER_DISABLED,		/* 10 */
	ENGINE_SESSION_INVALID,		/* 11 */
	ENGINE_USER_UNKNOWN,		/* 12 */
	ENGINE_CONFLICT,		/* 13: the record exists already */
	ENGINE_UNAVAILABLE,		/* 14 */
	ENGINE__MAX
};

/* The name of a result, for logs: "ok", "secret_invalid", ... */
const char *engine_result_name(enum engine_result);

/* How the email link carries the secret. */
enum link_style {
	LINK_RESET_CODE,	/* ?reset_code=TOKEN&user_id=ID (Xsolla) */
	LINK_TOKEN,		/* ?token=TOKEN (WorkOS) */
};

struct engine;

/* engine.c */
/*
 * Create the engine over an open, migrated database.  The server secret
 * comes from the config, or from the database, where it is generated on
 * first start.  Return NULL on failure (logged).
 */
struct engine *engine_new(const struct config *, struct db *);
void	engine_free(struct engine *);
/* Set the function called when mail is queued, to wake a sender. */
void	engine_set_mail_waker(struct engine *, void (*)(void *), void *);
/* The key that signs session tokens (JWTs), 32 bytes. */
const uint8_t *engine_session_key(const struct engine *);
const struct config *engine_config(const struct engine *);
struct db *engine_db(const struct engine *);
/* Look up a project by id; ENGINE_OK with *out, PROJECT_UNKNOWN, UNAVAILABLE. */
enum engine_result engine_project(struct engine *, const char *id,
	    struct project **out);
/*
 * Now, in milliseconds, by the one clock every expiry check uses (the
 * database's: see db_now).  Adapters that check an expiry themselves, such
 * as a token's exp claim, ask this rather than the host's clock, so that
 * instances with skewed clocks agree.
 */
int64_t	engine_now(struct engine *);
/* ENGINE_OK when the database answers, else ENGINE_UNAVAILABLE. */
enum engine_result engine_ping(struct engine *);
/* 1 when origin may call the project from a browser. */
int	engine_origin_allowed(const struct project *, const char *origin);
/* 1 when url is one of the project's callback URLs, exactly. */
int	engine_login_url_allowed(const struct project *, const char *url);

/* reset.c */
struct reset_request {
	const struct project	*project;
	const char		*login;		/* email or username */
	const char		*login_url;	/* NULL: none given */
	const char		*locale;	/* NULL: none given */
	enum link_style		 link_style;
};

/*
 * What a reset request did.  Public dialects must not show any of it: the
 * engine does the same work for unknown accounts, and the answer must not
 * differ either.  Server-to-server dialects (WorkOS) may.
 */
struct reset_ticket {
	int	 user_found;
	char	*secret_id;
	char	*token;		/* the secret in clear; zeroed on free */
	char	*link;
	int64_t	 created_at;
	int64_t	 expires_at;
	struct user *user;	/* NULL when not found */
};

/*
 * Request a reset: for an existing, enabled account, kill its older secrets,
 * store a new one and queue the email, in one transaction that is durable
 * before this returns.  An unknown or disabled account costs the same work
 * and leaves no usable secret.  On ENGINE_OK, *out is filled (free with
 * reset_ticket_clear).
 */
enum engine_result reset_request(struct engine *, const struct reset_request *,
	    struct reset_ticket *out);
void	reset_ticket_clear(struct reset_ticket *);

struct reset_confirm {
	const struct project	*project;
	const char		*token;
	const char		*user_id;	/* NULL: not given */
	const char		*new_password;
};

/*
 * Confirm a reset: check the secret without consuming it, check the
 * password, hash it, then in one transaction consume the secret (exactly one
 * of many concurrent confirms wins), store the hash, mark the email
 * verified, revoke the user's sessions and other secrets and queue a
 * "password changed" email.  On ENGINE_OK, *user_out (if not NULL) receives
 * the updated user.
 */
enum engine_result reset_confirm(struct engine *, const struct reset_confirm *,
	    struct user **user_out);

/* session.c */
struct login_request {
	const struct project	*project;
	const char		*login;
	const char		*password;
};

struct login_result {
	struct session	*session;
	struct user	*user;
};

/*
 * Verify a password and open a session.  Unknown users cost a dummy verify,
 * so timing does not tell them apart.  On ENGINE_OK, fill *out (free with
 * login_result_clear).
 */
enum engine_result session_login(struct engine *, const struct login_request *,
	    struct login_result *out);
void	login_result_clear(struct login_result *);
/*
 * Return the user of a live session (not revoked, not expired) in *out.
 */
enum engine_result session_user(struct engine *, const char *session_id,
	    struct user **out);

/* admin.c */
struct project_spec {
	const char	*name;
	const char	**callback_urls;	/* NULL-terminated, may be NULL */
	const char	**allowed_origins;
	const char	*reset_url;
	int64_t		 token_ttl;		/* 0: default */
};

/* Create a project; on ENGINE_OK, *out. ENGINE_BAD_INPUT names the field in err. */
enum engine_result admin_project_create(struct engine *,
	    const struct project_spec *, struct project **out, char *err,
	    size_t errlen);

struct user_spec {
	const char	*project_id;
	const char	*email;
	const char	*username;
	const char	*password;	/* NULL: none set */
	const char	*first_name;
	const char	*last_name;
	int		 email_verified;
};

enum engine_result admin_user_create(struct engine *, const struct user_spec *,
	    struct user **out, char *err, size_t errlen);
/* 1 when s is an acceptable email address. */
int	admin_email_valid(const char *);

#endif
