/*
 * Administration: creating projects and users, and the operations on a
 * user that an operator or a server holding an API key may do (get, list,
 * set a password, require a reset, sign out, disable, delete), for the CLI
 * and the dialects that manage users (WorkOS, Cognito's admin calls).
 * Every field is validated here, once, whichever face calls, by the checks
 * of valid.c, and each operation is one implementation every face shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "engine_internal.h"

#define LIST_MAX_ITEMS 64
#define TOKEN_TTL_DEFAULT 3600
#define TOKEN_TTL_MAX (7 * 24 * 3600)

/* Join a NULL-terminated list into lines, checking each item with fn. */
static int
join_list(const char **items, int (*fn)(const char *), char **out)
{
	struct buf b;
	size_t i;

	buf_init(&b, LIST_MAX_ITEMS * (VALID_URL_MAX + 1));
	for (i = 0; items != NULL && items[i] != NULL; i++) {
		if (i >= LIST_MAX_ITEMS || !fn(items[i]) ||
		    buf_printf(&b, "%s%s", i ? "\n" : "", items[i]) == -1) {
			buf_free(&b);
			return -1;
		}
	}
	*out = buf_take(&b);
	return 0;
}

static int
insert_project_tx(struct db_conn *c, void *arg)
{
	return store_project_insert(c, arg);
}

enum engine_result
admin_project_create(struct engine *e, const struct project_spec *spec,
    struct project **out, char *err, size_t errlen)
{
	struct project *p = xcalloc(1, sizeof(*p));
	char locale[ENGINE_LOCALE_MAX + 1];
	enum engine_result result = ENGINE_BAD_INPUT;
	int rc;

	if (spec->name == NULL || !valid_text(spec->name, VALID_NAME_MAX)) {
		snprintf(err, errlen, "name: expected 1 to %d bytes of text",
		    VALID_NAME_MAX);
		goto out;
	}
	if (join_list(spec->callback_urls, valid_url,
	    &p->callback_urls) == -1) {
		snprintf(err, errlen, "callback-url: expected at most %d "
		    "absolute http(s) URLs", LIST_MAX_ITEMS);
		goto out;
	}
	if (join_list(spec->allowed_origins, valid_origin,
	    &p->allowed_origins) == -1) {
		snprintf(err, errlen, "allowed-origin: expected at most %d "
		    "origins like https://app.example.com", LIST_MAX_ITEMS);
		goto out;
	}
	if (spec->reset_url != NULL && !valid_url(spec->reset_url)) {
		snprintf(err, errlen, "reset-url: expected an absolute http(s) URL");
		goto out;
	}
	if (spec->delivery != NULL && strcmp(spec->delivery, "link") != 0 &&
	    strcmp(spec->delivery, "code") != 0) {
		snprintf(err, errlen, "delivery: expected link or code");
		goto out;
	}
	if (spec->logo_url != NULL && !valid_logo_url(spec->logo_url)) {
		snprintf(err, errlen, "logo-url: expected an https URL (or http "
		    "on 127.0.0.1, localhost or [::1]) with a plain host name");
		goto out;
	}
	if (spec->accent_color != NULL &&
	    !valid_color(spec->accent_color)) {
		snprintf(err, errlen, "accent-color: expected #RRGGBB");
		goto out;
	}
	if (spec->reset_limit_per_hour == 0 ||
	    spec->reset_limit_per_hour > PROJECT_RESET_LIMIT_MAX) {
		snprintf(err, errlen, "reset-limit: expected 1 to %d resets per "
		    "account per hour", PROJECT_RESET_LIMIT_MAX);
		goto out;
	}
	if (spec->mail_budget_per_hour > PROJECT_MAIL_BUDGET_MAX) {
		snprintf(err, errlen, "mail-budget: expected 0 (none) to %d "
		    "messages per hour", PROJECT_MAIL_BUDGET_MAX);
		goto out;
	}
	if (spec->notice_limit_per_hour == 0 ||
	    spec->notice_limit_per_hour > PROJECT_RESET_LIMIT_MAX) {
		snprintf(err, errlen, "notice-limit: expected 1 to %d notices "
		    "per address per hour", PROJECT_RESET_LIMIT_MAX);
		goto out;
	}
	if (spec->login_token_ttl > 0 &&
	    (spec->login_token_ttl < PROJECT_LOGIN_TTL_MIN ||
	    spec->login_token_ttl > PROJECT_LOGIN_TTL_MAX)) {
		snprintf(err, errlen, "login-token-ttl: expected %d to %d "
		    "seconds", PROJECT_LOGIN_TTL_MIN, PROJECT_LOGIN_TTL_MAX);
		goto out;
	}
	if (spec->notice_share_percent > 100) {
		snprintf(err, errlen, "notice-share: expected 0 to 100 percent "
		    "of the mail budget");
		goto out;
	}
	if ((spec->password_min_length >= 0 &&
	    spec->password_min_length < PASSWORD_MIN_CHARS) ||
	    spec->password_min_length > PASSWORD_MIN_CHARS_MAX) {
		snprintf(err, errlen, "password-min-length: expected %d to %d "
		    "characters", PASSWORD_MIN_CHARS, PASSWORD_MIN_CHARS_MAX);
		goto out;
	}
	if (spec->password_min_score > 4) {
		snprintf(err, errlen, "password-min-score: expected 0 to 4");
		goto out;
	}
	if (spec->token_ttl < 0 || spec->token_ttl > TOKEN_TTL_MAX) {
		snprintf(err, errlen, "token-ttl: expected 1 to %d seconds",
		    TOKEN_TTL_MAX);
		goto out;
	}
	/* Sender settings reach mail headers: refused here, early, too. */
	if (spec->mail_from != NULL && !valid_sender(spec->mail_from)) {
		snprintf(err, errlen, "mail-from: expected a plain email address "
		    "without line breaks or special characters");
		goto out;
	}
	if (spec->mail_from_name != NULL &&
	    !valid_sender_name(spec->mail_from_name)) {
		snprintf(err, errlen, "mail-from-name: expected 1 to %d bytes "
		    "of text without line breaks or control characters",
		    VALID_NAME_MAX);
		goto out;
	}
	if (spec->locale != NULL &&
	    engine_locale_normalise(spec->locale, locale) == -1) {
		snprintf(err, errlen, "locale: expected xx or xx_YY");
		goto out;
	}
	p->id = xmalloc(UUID_STRLEN + 1);
	id_new(p->id);
	p->name = xstrdup(spec->name);
	p->reset_url = spec->reset_url ? xstrdup(spec->reset_url) : NULL;
	p->token_ttl = spec->token_ttl ? spec->token_ttl : TOKEN_TTL_DEFAULT;
	p->delivery = xstrdup(spec->delivery ? spec->delivery : "link");
	p->send_reset_emails = !spec->reset_emails_off;
	p->mail_from = spec->mail_from ? xstrdup(spec->mail_from) : NULL;
	p->mail_from_name = spec->mail_from_name ?
	    xstrdup(spec->mail_from_name) : NULL;
	p->locale = spec->locale ? xstrdup(locale) : NULL;
	p->unknown_account_notice = spec->unknown_account_notice != 0;
	p->logo_url = spec->logo_url ? xstrdup(spec->logo_url) : NULL;
	p->accent_color = spec->accent_color ? xstrdup(spec->accent_color) :
	    NULL;
	p->reset_limit_per_hour = spec->reset_limit_per_hour < 0 ?
	    PROJECT_RESET_LIMIT_DEFAULT : spec->reset_limit_per_hour;
	p->mail_budget_per_hour = spec->mail_budget_per_hour < 0 ?
	    PROJECT_MAIL_BUDGET_DEFAULT : spec->mail_budget_per_hour;
	p->notice_limit_per_hour = spec->notice_limit_per_hour < 0 ?
	    PROJECT_NOTICE_LIMIT_DEFAULT : spec->notice_limit_per_hour;
	p->notice_share_percent = spec->notice_share_percent < 0 ?
	    PROJECT_NOTICE_SHARE_DEFAULT : spec->notice_share_percent;
	p->login_token_ttl = spec->login_token_ttl <= 0 ?
	    PROJECT_LOGIN_TTL_DEFAULT : spec->login_token_ttl;
	p->password_min_length = spec->password_min_length < 0 ?
	    PASSWORD_MIN_CHARS : spec->password_min_length;
	p->password_min_score = spec->password_min_score < 0 ?
	    PASSWORD_SCORE_DEFAULT : spec->password_min_score;
	p->created_at = db_now(e->db);
	rc = db_write(e->db, insert_project_tx, p);
	if (rc != 0) {
		snprintf(err, errlen, "cannot store the project");
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	*out = p;
	p = NULL;
	result = ENGINE_OK;
out:
	project_free(p);
	return result;
}

struct user_tx {
	struct engine		*e;
	struct idem_claim	*idem;
	const struct user	*user;
	enum engine_result	 outcome;	/* with TX_REFUSED */
};

static int
insert_user_tx(struct db_conn *c, void *arg)
{
	struct user_tx *t = arg;
	int rc;

	if (t->idem != NULL) {
		rc = idem_record(t->e, c, t->user->project_id, t->idem,
		    t->user->created_at, &t->outcome);
		if (rc != STORE_OK)
			return rc;
	}
	return store_user_insert(c, t->user);
}

/* Check a user spec's fields; ENGINE_OK, or a result with err filled. */
static enum engine_result
user_check(struct engine *e, const struct project *p,
    const struct user_spec *spec, char *err, size_t errlen)
{
	char locale[ENGINE_LOCALE_MAX + 1];
	struct password_verdict v;
	struct project bounds;
	enum engine_result result;

	if (spec->email == NULL || !valid_email(spec->email)) {
		snprintf(err, errlen, "email: expected an email address");
		return ENGINE_BAD_INPUT;
	}
	if (spec->username != NULL && (!valid_text(spec->username, 64) ||
	    strchr(spec->username, '@') != NULL)) {
		snprintf(err, errlen, "username: expected 1 to 64 bytes of "
		    "text without '@'");
		return ENGINE_BAD_INPUT;
	}
	/* Users are named by id, email or username: no name may be an id. */
	if (spec->username != NULL && id_is_uuid(spec->username)) {
		snprintf(err, errlen, "username: must not have the form of a "
		    "user id (a UUID)");
		return ENGINE_BAD_INPUT;
	}
	if ((spec->first_name && !valid_text(spec->first_name, VALID_NAME_MAX)) ||
	    (spec->last_name && !valid_text(spec->last_name, VALID_NAME_MAX))) {
		snprintf(err, errlen, "name: expected 1 to %d bytes of text",
		    VALID_NAME_MAX);
		return ENGINE_BAD_INPUT;
	}
	if (spec->locale != NULL &&
	    engine_locale_normalise(spec->locale, locale) == -1) {
		snprintf(err, errlen, "locale: expected xx or xx_YY");
		return ENGINE_BAD_INPUT;
	}
	if (spec->password != NULL) {
		bounds = *p;
		if (spec->bounds_only)
			bounds.password_min_score = PASSWORD_BOUNDS_ONLY;
		result = reset_password_policy(e, &bounds, spec->password,
		    spec->email, spec->username, &v);
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "password: %s (%s)", v.message,
			    password_rule_name(v.rule));
			if (spec->verdict != NULL)
				*spec->verdict = v;
			return result;
		}
	}
	return ENGINE_OK;
}

/*
 * Build the record of a checked spec for project p, hashing the password
 * when one is given.  On ENGINE_OK, *out is the new record.
 */
static enum engine_result
user_build(struct engine *e, const struct project *p,
    const struct user_spec *spec, struct user **out, char *err, size_t errlen)
{
	struct user *u = xcalloc(1, sizeof(*u));

	if (spec->password != NULL) {
		u->password_hash = hasher_hash(e->hasher, spec->password);
		if (u->password_hash == NULL) {
			snprintf(err, errlen, "cannot hash the password");
			user_free(u);
			return ENGINE_UNAVAILABLE;
		}
	}
	u->id = xmalloc(UUID_STRLEN + 1);
	id_new(u->id);
	u->project_id = xstrdup(p->id);
	u->email = xstrdup(spec->email);
	u->username = spec->username ? xstrdup(spec->username) : NULL;
	u->first_name = spec->first_name ? xstrdup(spec->first_name) : NULL;
	u->last_name = spec->last_name ? xstrdup(spec->last_name) : NULL;
	u->email_verified = spec->email_verified;
	u->status = spec->status;
	if (spec->locale != NULL) {
		u->locale = xmalloc(ENGINE_LOCALE_MAX + 1);
		if (engine_locale_normalise(spec->locale, u->locale) == -1)
			abort();	/* user_check let it through */
	}
	u->created_at = u->updated_at = db_now(e->db);
	*out = u;
	return ENGINE_OK;
}

enum engine_result
admin_user_create(struct engine *e, const struct user_spec *spec,
    struct user **out, char *err, size_t errlen)
{
	struct user *u = NULL;
	struct project *p = NULL;
	struct user_tx t;
	struct idem_outcome o;
	enum engine_result result;
	int rc, begun = 0;

	result = engine_project(e, spec->project_id ? spec->project_id : "", &p);
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "project: %s", result ==
		    ENGINE_PROJECT_UNKNOWN ? "no such project" : "unavailable");
		goto out;
	}
	result = user_check(e, p, spec, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	/* A retry is answered before the costly hash. */
	if (spec->idem != NULL) {
		result = idem_begin(e, p->id, spec->idem);
		if (result != ENGINE_OK)
			goto out;
		begun = 1;
	}
	result = user_build(e, p, spec, &u, err, errlen);
	if (result != ENGINE_OK)
		goto out;
	if (spec->idem != NULL) {
		o = (struct idem_outcome){ .user = u };
		idem_encode(spec->idem, &o);
	}
	t = (struct user_tx){ e, spec->idem, u, ENGINE_OK };
	rc = db_write(e->db, insert_user_tx, &t);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen, "a user with this email or username "
		    "exists in the project");
		result = ENGINE_CONFLICT;
		goto out;
	}
	result = tx_result(rc, t.outcome);
	if (result == ENGINE_REPLAYED) {
		snprintf(err, errlen, "the idempotency key was taken meanwhile");
		goto out;
	}
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "cannot store the user");
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	*out = u;
	u = NULL;
	result = ENGINE_OK;
out:
	if (begun && result != ENGINE_OK)
		result = idem_settle(e, p->id, spec->idem, result);
	project_free(p);
	user_free(u);
	return result;
}

struct import_tx {
	struct user	**users;
	size_t		  n;
	size_t		  failed_at;	/* the user a constraint refused */
};

static int
import_tx(struct db_conn *c, void *arg)
{
	struct import_tx *t = arg;
	size_t i;
	int rc;

	for (i = 0; i < t->n; i++) {
		rc = store_user_insert(c, t->users[i]);
		if (rc != STORE_OK) {
			t->failed_at = i;
			return rc;
		}
	}
	return 0;
}

enum engine_result
admin_user_import(struct engine *e, const struct user_spec *specs, size_t n,
    char *err, size_t errlen)
{
	struct project *p = NULL;
	struct import_tx t = { xcalloc(n ? n : 1, sizeof(struct user *)), n, 0 };
	enum engine_result result = ENGINE_OK;
	char why[256];
	size_t i, built = 0;
	int rc;

	if (n == 0)
		goto out;
	result = engine_project(e, specs[0].project_id ? specs[0].project_id :
	    "", &p);
	if (result != ENGINE_OK) {
		snprintf(err, errlen, "project: %s", result ==
		    ENGINE_PROJECT_UNKNOWN ? "no such project" : "unavailable");
		goto out;
	}
	for (i = 0; i < n; i++) {
		result = user_check(e, p, &specs[i], why, sizeof(why));
		if (result == ENGINE_OK)
			result = user_build(e, p, &specs[i], &t.users[i], why,
			    sizeof(why));
		if (result != ENGINE_OK) {
			snprintf(err, errlen, "user %zu: %s", i + 1, why);
			goto out;
		}
		built++;
	}
	rc = db_write(e->db, import_tx, &t);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen, "%s: a user with this email or username "
		    "exists in the project", t.users[t.failed_at]->email);
		result = ENGINE_CONFLICT;
	} else if (rc != 0) {
		snprintf(err, errlen, "cannot store users");
		result = ENGINE_UNAVAILABLE;
	}
out:
	for (i = 0; i < built; i++)
		user_free(t.users[i]);
	free(t.users);
	project_free(p);
	return result;
}

enum engine_result
admin_user_get(struct engine *e, const struct project *p, const char *id,
    struct user **out)
{
	struct db_conn *c;
	struct user *u = NULL;
	int rc;

	if (id == NULL || !id_is_uuid(id))
		return ENGINE_USER_UNKNOWN;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_get(c, p->id, id, &u);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc == STORE_NOT_FOUND)
		return ENGINE_USER_UNKNOWN;
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	*out = u;
	return ENGINE_OK;
}

struct disable_tx {
	const struct request_context	*ctx;
	const struct user		*user;
	const char			*subject;
	int				 disabled;
	int64_t				 now;
};

static int
disable_tx(struct db_conn *c, void *arg)
{
	struct disable_tx *t = arg;
	int rc;

	rc = store_user_set_disabled(c, t->user->project_id, t->user->id,
	    t->disabled, t->now);
	if (rc <= 0)
		return rc;	/* already so: nothing changes, nothing recorded */
	/* What the user held before dies with the account's access. */
	if (t->disabled) {
		rc = store_session_revoke_user(c, t->user->id, t->now);
		if (rc >= 0)
			rc = store_secret_revoke_user(c, t->user->id, t->now);
		if (rc < 0)
			return rc;
	}
	return audit_write(c, t->ctx, t->user->project_id, t->disabled ?
	    AUDIT_USER_DISABLED : AUDIT_USER_ENABLED, t->subject, NULL, t->now);
}

enum engine_result
admin_user_set_disabled(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user, int disabled, struct user **out)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct db_conn *c;
	struct disable_tx t;
	char subject[AUDIT_SUBJECT_LEN + 1];
	enum engine_result result;
	int rc;

	result = engine_project(e, project_id ? project_id : "", &p);
	if (result != ENGINE_OK)
		return result;
	result = ENGINE_USER_UNKNOWN;
	if (user == NULL || *user == '\0' || strlen(user) > 320)
		goto out;
	c = db_acquire(e->db);
	if (c == NULL) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (id_is_uuid(user))
		rc = store_user_get(c, p->id, user, &u);
	else
		rc = store_user_find(c, p->id, user, &u);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (rc != STORE_OK)
		goto out;
	audit_subject(e, p->id, u->email, subject);
	t = (struct disable_tx){ ctx, u, subject, disabled != 0,
	    db_now(e->db) };
	if (db_write(e->db, disable_tx, &t) != 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (u->disabled != (disabled != 0))
		u->updated_at = t.now;
	u->disabled = disabled != 0;
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
	result = ENGINE_OK;
out:
	user_free(u);
	project_free(p);
	return result;
}

/*
 * The user of project p named by user: its id, email or username.
 * STORE_OK with *out, STORE_NOT_FOUND or DB_ERROR.
 */
static int
user_resolve(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	struct db_conn *c;
	int rc;

	if (user == NULL || *user == '\0' || strlen(user) > 320)
		return STORE_NOT_FOUND;
	c = db_acquire(e->db);
	if (c == NULL)
		return DB_ERROR;
	if (id_is_uuid(user))
		rc = store_user_get(c, project_id, user, out);
	else
		rc = store_user_find(c, project_id, user, out);
	db_release(e->db, c);
	return rc;
}

/* user_resolve as an engine result, the password hash dropped. */
static enum engine_result
user_load(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	int rc = user_resolve(e, project_id, user, out);

	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc != STORE_OK)
		return ENGINE_USER_UNKNOWN;
	xfree_secret((*out)->password_hash);
	(*out)->password_hash = NULL;
	return ENGINE_OK;
}

enum engine_result
admin_user_lookup(struct engine *e, const char *project_id, const char *user,
    struct user **out)
{
	return user_load(e, project_id, user, out);
}

enum engine_result
admin_user_list(struct engine *e, const char *project_id,
    const struct user_query *q, struct store_list *out)
{
	struct db_conn *c;
	size_t i;
	int rc;

	if (q->limit < 1 || q->limit > ADMIN_LIST_MAX)
		return ENGINE_BAD_INPUT;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_page(c, project_id, q, out);
	db_release(e->db, c);
	if (rc != STORE_OK)
		return ENGINE_UNAVAILABLE;
	for (i = 0; i < out->n; i++) {
		struct user *u = out->items[i];

		xfree_secret(u->password_hash);
		u->password_hash = NULL;
	}
	return ENGINE_OK;
}

/* What an operation on one user writes, and records. */
struct user_op_tx {
	const struct request_context	*ctx;
	const struct user		*user;
	const char			*subject;
	int64_t				 now;
	enum audit_kind			 kind;
	/* ADMIN_SET_PASSWORD */
	const char			*hash;
	enum user_status		 status;
	int				 op;
};

enum {
	OP_SET_PASSWORD,	/* hash and status; sessions and secrets die */
	OP_REQUIRE_RESET,	/* no password, reset_required; sessions die */
	OP_SIGN_OUT,		/* sessions die */
	OP_DELETE,		/* the user and what names it go */
};

static int
user_op_tx(struct db_conn *c, void *arg)
{
	struct user_op_tx *t = arg;
	const struct user *u = t->user;
	int rc = 0;

	switch (t->op) {
	case OP_SET_PASSWORD:
		rc = store_user_admin_password(c, u->project_id, u->id, t->hash,
		    t->status, t->now);
		if (rc == 0)
			return 0;	/* deleted meanwhile: nothing to record */
		if (rc > 0)
			rc = store_secret_revoke_user(c, u->id, t->now);
		if (rc >= 0)
			rc = store_session_revoke_user(c, u->id, t->now);
		break;
	case OP_REQUIRE_RESET:
		/*
		 * The password is deactivated: sign-in refuses a
		 * reset_required user (session_login), and Cognito tells the
		 * holder of the right password to reset it.
		 */
		rc = store_user_set_status(c, u->project_id, u->id,
		    USER_RESET_REQUIRED, t->now);
		if (rc == 0)
			return 0;
		if (rc > 0)
			rc = store_session_revoke_user(c, u->id, t->now);
		break;
	case OP_SIGN_OUT:
		rc = store_session_revoke_user(c, u->id, t->now);
		break;
	case OP_DELETE:
		rc = store_user_delete(c, u->project_id, u->id);
		if (rc == 0)
			return 0;	/* deleted meanwhile: nothing to record */
		break;
	default:
		abort();
	}
	if (rc < 0)
		return rc;
	return audit_write(c, t->ctx, u->project_id, t->kind, t->subject,
	    "admin", t->now);
}

/* Run op on u, audited as kind; ENGINE_OK or ENGINE_UNAVAILABLE. */
static enum engine_result
user_op(struct engine *e, const struct request_context *ctx,
    const struct user *u, int op, enum audit_kind kind, const char *hash,
    enum user_status status, int64_t *now_out)
{
	char subject[AUDIT_SUBJECT_LEN + 1];
	struct user_op_tx t;

	audit_subject(e, u->project_id, u->email, subject);
	t = (struct user_op_tx){ ctx, u, subject, db_now(e->db), kind, hash,
	    status, op };
	if (db_write(e->db, user_op_tx, &t) != 0)
		return ENGINE_UNAVAILABLE;
	if (now_out != NULL)
		*now_out = t.now;
	return ENGINE_OK;
}

enum engine_result
admin_user_set_password(struct engine *e, const struct admin_password *in,
    struct user **out)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct password_verdict v;
	enum engine_result result;
	enum user_status st = in->permanent ? USER_CONFIRMED :
	    USER_FORCE_CHANGE_PASSWORD;
	char *hash = NULL;
	int64_t now;

	result = engine_project(e, in->project_id ? in->project_id : "", &p);
	if (result != ENGINE_OK)
		return result;
	result = user_load(e, p->id, in->user, &u);
	if (result != ENGINE_OK)
		goto out;
	result = reset_password_policy(e, p, in->password, u->email,
	    u->username, &v);
	if (result != ENGINE_OK) {
		if (in->verdict != NULL)
			*in->verdict = v;
		goto out;
	}
	hash = hasher_hash(e->hasher, in->password);
	if (hash == NULL) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	result = user_op(e, in->ctx, u, OP_SET_PASSWORD, AUDIT_PASSWORD_SET,
	    hash, st, &now);
	if (result != ENGINE_OK)
		goto out;
	u->status = st;
	u->updated_at = now;
	if (out != NULL) {
		*out = u;
		u = NULL;
	}
out:
	xfree_secret(hash);
	user_free(u);
	project_free(p);
	return result;
}

/* Load project and user for an operation on one user. */
static enum engine_result
op_target(struct engine *e, const char *project_id, const char *user,
    struct project **p, struct user **u)
{
	enum engine_result result;

	result = engine_project(e, project_id ? project_id : "", p);
	if (result != ENGINE_OK)
		return result;
	return user_load(e, (*p)->id, user, u);
}

enum engine_result
admin_user_sign_out(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user)
{
	struct project *p = NULL;
	struct user *u = NULL;
	enum engine_result result;

	result = op_target(e, project_id, user, &p, &u);
	if (result == ENGINE_OK)
		result = user_op(e, ctx, u, OP_SIGN_OUT, AUDIT_USER_SIGNED_OUT,
		    NULL, u->status, NULL);
	user_free(u);
	project_free(p);
	return result;
}

enum engine_result
admin_user_delete(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user)
{
	struct project *p = NULL;
	struct user *u = NULL;
	enum engine_result result;

	result = op_target(e, project_id, user, &p, &u);
	if (result == ENGINE_OK)
		result = user_op(e, ctx, u, OP_DELETE, AUDIT_USER_DELETED, NULL,
		    u->status, NULL);
	user_free(u);
	project_free(p);
	return result;
}

enum engine_result
admin_user_require_reset(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *user, int64_t *retry_after_s)
{
	struct project *p = NULL;
	struct user *u = NULL;
	struct reset_request in;
	struct reset_ticket t;
	enum engine_result result;

	memset(&t, 0, sizeof(t));
	result = op_target(e, project_id, user, &p, &u);
	if (result != ENGINE_OK)
		goto out;
	if (u->disabled) {
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	/*
	 * The code first: a request over the account's limits changes
	 * nothing.  The caller holds the API key, so it is told.
	 */
	in = (struct reset_request){
		.project = p,
		.login = u->email,
		.delivery = DELIVER_CODE,
		.trusted = 1,
		.ctx = ctx,
		.retry_after_s = retry_after_s,
	};
	result = reset_request(e, &in, &t);
	if (result != ENGINE_OK)
		goto out;
	result = user_op(e, ctx, u, OP_REQUIRE_RESET, AUDIT_RESET_REQUIRED,
	    NULL, USER_RESET_REQUIRED, NULL);
out:
	reset_ticket_clear(&t);
	user_free(u);
	project_free(p);
	return result;
}
