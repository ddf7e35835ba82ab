/*
 * Login and sessions.  A session is a row; the token a dialect hands out
 * (a signed JWT) names it, so a reset can revoke every session of a user
 * by updating rows, and a revoked token stops working at once.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "engine_internal.h"
#include "userstore.h"

/*
 * How long a session lives, by face: as long as its refresh tokens, which
 * is Cognito's default of 30 days for the faces that have them; for
 * Xsolla, whose login token is the session, the project's login token
 * lifetime.  The project's token_ttl is its reset secrets' lifetime and
 * does not apply: short-lived links must not mean short sessions.
 */
#define REFRESH_TTL_MS (30LL * 86400 * 1000)

static int64_t
session_ttl_ms(const struct project *p, enum session_face f)
{
	if (f == SF_XSOLLA)
		return p->login_token_ttl * 1000;
	return REFRESH_TTL_MS;
}

void
login_result_clear(struct login_result *r)
{
	session_free(r->session);
	user_free(r->user);
	xfree_secret(r->refresh_token);
	free(r->challenge);
	memset(r, 0, sizeof(*r));
}

/*
 * A new refresh token of session s into *token (43 characters) and its
 * row into *row (its hash only).
 */
static void
refresh_new(const struct engine *e, const struct session *s, int64_t now,
    char **token, struct refresh_token *row)
{
	*token = xmalloc(SECRET_TOKEN_LEN + 1);
	secret_token_new(*token);
	row->id = xmalloc(UUID_STRLEN + 1);
	id_new(row->id);
	row->session_id = s->id;
	row->client_id = s->client_id;
	row->token_hash = xmalloc(SECRET_HASH_LEN + 1);
	secret_hash(e->refresh_key, "refresh", *token, row->token_hash);
	row->created_at = now;
	row->expires_at = s->expires_at;
}

/* sign-in challenges */

#define CHALLENGE_TTL_MS (3 * 60 * 1000) /* Cognito's Session: 3 min */

/*
 * The text a challenge proves: the user, the client and the expiry,
 * "user_id client_id expires_ms".
 */
static char *
challenge_text(const char *user_id, const char *client_id, int64_t exp)
{
	return xasprintf("%s %s %lld", user_id, client_id ? client_id : "-",
	    (long long)exp);
}

/*
 * A challenge: base64url of its text, a dot, and a MAC of the text under
 * the challenge subkey.  Nothing is stored: it is spent by setting the
 * password, after which the user no longer needs one.
 */
static char *
challenge_new(struct engine *e, const char *user_id, const char *client_id)
{
	char *text = challenge_text(user_id, client_id,
	    db_now(e->db) + CHALLENGE_TTL_MS);
	char mac[SECRET_MAC_LEN + 1];
	char *enc = xmalloc(B64URL_LEN(strlen(text)) + 1), *out;

	base64url_encode((const uint8_t *)text, strlen(text), enc);
	secret_mac(e->challenge_key, "new_password", text, mac);
	out = xasprintf("%s.%s", enc, mac);
	free(enc);
	free(text);
	return out;
}

/* 1 when challenge is live, for client_id and user_id. */
static int
challenge_valid(struct engine *e, const char *challenge, const char *user_id,
    const char *client_id)
{
	const char *dot;
	char mac[SECRET_MAC_LEN + 1], *text, *want = NULL;
	uint8_t *raw;
	long long exp;
	int n, ok = 0;
	size_t len;

	if (challenge == NULL || strlen(challenge) > 1024)
		return 0;
	dot = strchr(challenge, '.');
	if (dot == NULL || strlen(dot + 1) != SECRET_MAC_LEN)
		return 0;
	len = (size_t)(dot - challenge);
	raw = xmalloc(len + 1);
	n = base64url_decode(challenge, len, raw);
	if (n <= 0) {
		free(raw);
		return 0;
	}
	text = xstrndup((const char *)raw, (size_t)n);
	free(raw);
	secret_mac(e->challenge_key, "new_password", text, mac);
	if (!secret_hash_equal(mac, dot + 1) || strlen(text) != (size_t)n)
		goto out;
	if (sscanf(strrchr(text, ' ') ? strrchr(text, ' ') + 1 : "", "%lld",
		&exp) != 1 ||
	    exp <= db_now(e->db))
		goto out;
	want = challenge_text(user_id, client_id, exp);
	ok = strcmp(want, text) == 0;
out:
	free(want);
	free(text);
	return ok;
}

struct login_tx {
	struct engine *e;
	struct session *session;
	struct refresh_token *refresh; /* NULL: none */
	const char *new_hash;	       /* NULL: no rehash */
	const char *set_hash;	       /* a new password's; NULL: none */
	const struct request_context *ctx;
	const char *subject; /* audit subject */
	const char *backoff; /* back-off subject */
	int64_t now;
};

static int
login_tx(struct db_conn *c, void *arg)
{
	struct login_tx *t = arg;
	int rc = STORE_OK;

	if (t->set_hash != NULL)
		rc = store_user_change_password(c, t->session->user_id,
		    t->set_hash, t->now);
	if (rc == STORE_OK)
		rc = store_session_insert(c, t->session);
	if (rc == STORE_OK && t->refresh != NULL)
		rc = store_refresh_insert(c, t->refresh);
	if (rc == STORE_OK)
		rc = event_session_created(t->e, c, t->ctx, t->session, t->now);
	if (rc == STORE_OK)
		rc = backoff_success(c, t->backoff);
	if (rc == STORE_OK)
		rc = store_user_touch_sign_in(c, t->session->user_id, t->now);
	if (rc == STORE_OK && t->new_hash != NULL)
		rc = store_user_rehash(c, t->session->user_id, t->new_hash);
	if (rc == STORE_OK)
		rc = audit_write(c, t->ctx, t->session->project_id,
		    AUDIT_LOGIN_SUCCEEDED, t->subject, NULL, t->now);
	return rc;
}

/* What open_session needs besides the user. */
struct open_args {
	const struct project *project;
	enum session_face face;
	const char *client_id;
	const struct request_context *ctx;
	const char *subject;  /* audit subject */
	const char *backoff;  /* back-off subject */
	const char *rehash;   /* NULL: no rehash */
	const char *set_hash; /* a new password's; NULL */
};

/*
 * Open a session of user u (taken) in one transaction: the session row,
 * its refresh token where the face has them, the back-off forgotten, the
 * sign-in time, a new hash if any, the audit row.  ENGINE_OK with *out
 * filled, or ENGINE_UNAVAILABLE.
 */
static enum engine_result
open_session(struct engine *e, const struct open_args *a, struct user *u,
    struct login_result *out)
{
	struct session *s;
	struct login_tx t = { .refresh = NULL };
	struct refresh_token rt;
	char *refresh = NULL;
	enum engine_result result = ENGINE_UNAVAILABLE;
	int rc;

	s = xcalloc(1, sizeof(*s));
	s->id = xmalloc(UUID_STRLEN + 1);
	id_new(s->id);
	s->project_id = xstrdup(u->project_id);
	s->user_id = xstrdup(u->id);
	t.now = db_now(e->db);
	s->created_at = t.now;
	s->expires_at = t.now + session_ttl_ms(a->project, a->face);
	s->client_id = a->client_id ? xstrdup(a->client_id) : NULL;
	memset(&rt, 0, sizeof(rt));
	if (a->face != SF_XSOLLA) {
		refresh_new(e, s, t.now, &refresh, &rt);
		t.refresh = &rt;
	}
	t.e = e;
	t.session = s;
	t.new_hash = a->rehash;
	t.set_hash = a->set_hash;
	t.ctx = a->ctx;
	t.subject = a->subject;
	t.backoff = a->backoff;
	rc = db_write(e->db, login_tx, &t);
	event_wake(e);
	if (rc != 0)
		goto out;
	u->last_sign_in_at = t.now;
	u->status = USER_CONFIRMED;
	out->session = s;
	out->user = u;
	out->refresh_token = refresh;
	s = NULL;
	u = NULL;
	refresh = NULL;
	result = ENGINE_OK;
out:
	free(rt.id);
	free(rt.token_hash);
	xfree_secret(refresh);
	session_free(s);
	user_free(u);
	return result;
}

enum engine_result
session_login(struct engine *e, const struct login_request *in,
    struct login_result *out)
{
	struct db_conn *c;
	struct user *u = NULL;
	struct open_args a;
	char *rehash = NULL;
	char subject[AUDIT_SUBJECT_LEN + 1];
	char backoff[BACKOFF_SUBJECT_LEN + 1];
	enum engine_result result = ENGINE_CREDENTIALS_INVALID;
	int64_t wait = 0;
	int rc, ok;

	if (in->login == NULL || *in->login == '\0' || in->password == NULL ||
	    strlen(in->login) > 320 ||
	    strlen(in->password) > PASSWORD_MAX_BYTES)
		return ENGINE_CREDENTIALS_INVALID;
	/*
	 * Counted before the account is looked up, and by the login as
	 * typed: a held-back login is refused without a lookup or a hash,
	 * the same for an account and for a login that names none.
	 */
	result = backoff_begin(e, in->ctx, in->project->id, in->login, backoff,
	    &wait);
	if (result == ENGINE_THROTTLED)
		out->retry_after_s = wait;
	if (result != ENGINE_OK)
		return result;
	result = ENGINE_CREDENTIALS_INVALID;
	if (storage_is_webhook(in->project)) {
		/* The app checks the password; one answer for both refusals. */
		result = storage_sign_in(e, in->project, in->login,
		    in->password, &u);
		if (result != ENGINE_OK) {
			/* The app failed: the try says nothing of the password. */
			backoff_undo(e, backoff);
			return result;
		}
		result = ENGINE_CREDENTIALS_INVALID;
		ok = u != NULL;
		audit_subject(e, in->project->id, u ? u->email : in->login,
		    subject);
	} else {
		c = db_acquire(e->db);
		if (c == NULL)
			return ENGINE_UNAVAILABLE;
		rc = store_user_find(c, in->project->id, in->login, &u);
		db_release(e->db, c);
		if (rc < 0)
			return ENGINE_UNAVAILABLE;
		audit_subject(e, in->project->id, u ? u->email : in->login,
		    subject);
		/* Unknown users and users without a password: a dummy verify. */
		ok = hasher_verify(e->hasher, u ? u->password_hash : NULL,
		    in->password);
	}
	if (!ok) {
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "credentials");
		if (u == NULL && in->reveal_user_existence)
			result = ENGINE_USER_UNKNOWN;
		goto out;
	}
	if (u->disabled) {
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "disabled");
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	if (u->status == USER_FORCE_CHANGE_PASSWORD) {
		/* The temporary password was right: no session before a new one. */
		if (in->allow_challenge) {
			out->challenge = challenge_new(e, u->id, in->client_id);
			result = ENGINE_PASSWORD_CHANGE_REQUIRED;
		}
		goto out;
	}
	if (u->status == USER_RESET_REQUIRED) {
		/*
		 * An operator required a reset: the password opens nothing
		 * until a code sets a new one.  Only its holder is told so.
		 */
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "reset_required");
		if (in->allow_challenge)
			result = ENGINE_PASSWORD_RESET_REQUIRED;
		goto out;
	}
	/* A hash made before passwords were normalised is made again. */
	if (u->password_hash != NULL &&
	    (ok == 2 || hasher_needs_rehash(e->hasher, u->password_hash))) {
		rehash = hasher_hash(e->hasher, in->password);
		if (rehash == NULL) {
			result = ENGINE_UNAVAILABLE;
			goto out;
		}
	}
	a = (struct open_args){ in->project, in->face, in->client_id, in->ctx,
		subject, backoff, rehash, NULL };
	result = open_session(e, &a, u, out);
	u = NULL;
out:
	if (result == ENGINE_OK)
		metrics_inc(M_SIGNINS_SUCCEEDED);
	else if (result != ENGINE_UNAVAILABLE)
		metrics_inc(M_SIGNINS_FAILED);
	xfree_secret(rehash);
	user_free(u);
	return result;
}

enum engine_result
session_new_password(struct engine *e, const struct new_password_answer *in,
    struct login_result *out)
{
	struct db_conn *c;
	struct user *u = NULL;
	struct open_args a;
	char *hash = NULL;
	char subject[AUDIT_SUBJECT_LEN + 1];
	char backoff[BACKOFF_SUBJECT_LEN + 1];
	enum engine_result result = ENGINE_SESSION_INVALID;
	int rc;

	if (in->login == NULL || strlen(in->login) > 320 ||
	    in->new_password == NULL)
		return ENGINE_SESSION_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_find(c, in->project->id, in->login, &u);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (u == NULL || u->disabled ||
	    u->status != USER_FORCE_CHANGE_PASSWORD ||
	    !challenge_valid(e, in->challenge, u->id, in->client_id))
		goto out;
	result = reset_password_policy(e, in->project, in->new_password,
	    u->email, u->username, in->verdict);
	if (result != ENGINE_OK)
		goto out;
	hash = hasher_hash(e->hasher, in->new_password);
	if (hash == NULL) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	audit_subject(e, in->project->id, u->email, subject);
	backoff_subject(e, in->project->id, in->login, backoff);
	a = (struct open_args){ in->project, SF_COGNITO, in->client_id, in->ctx,
		subject, backoff, NULL, hash };
	result = open_session(e, &a, u, out);
	u = NULL;
out:
	xfree_secret(hash);
	user_free(u);
	return result;
}

struct change_tx {
	const char *user_id;
	const char *hash;
	const char *backoff;
	const char *project_id;
	const char *subject;
	const struct request_context *ctx;
	int64_t now;
};

static int
change_tx(struct db_conn *c, void *arg)
{
	struct change_tx *t = arg;
	int rc;

	rc = store_user_change_password(c, t->user_id, t->hash, t->now);
	if (rc == STORE_OK)
		rc = backoff_success(c, t->backoff);
	if (rc == STORE_OK)
		rc = audit_write(c, t->ctx, t->project_id,
		    AUDIT_PASSWORD_CHANGED, t->subject, "change", t->now);
	return rc;
}

enum engine_result
session_change_password(struct engine *e, const struct password_change *in)
{
	const struct user *u = in->user;
	struct change_tx t;
	char subject[AUDIT_SUBJECT_LEN + 1];
	char backoff[BACKOFF_SUBJECT_LEN + 1];
	char *hash = NULL;
	enum engine_result result;
	int64_t wait = 0;
	int ok;

	if (in->old_password == NULL || in->new_password == NULL ||
	    strlen(in->old_password) > PASSWORD_MAX_BYTES)
		return ENGINE_CREDENTIALS_INVALID;
	/* The old password is a sign-in try of the user's address. */
	result = backoff_begin(e, in->ctx, in->project->id, u->email, backoff,
	    &wait);
	if (result != ENGINE_OK)
		return result;
	audit_subject(e, in->project->id, u->email, subject);
	if (storage_is_webhook(in->project)) {
		/* The app checks the old password, as at sign-in. */
		struct user *who = NULL;

		result = storage_sign_in(e, in->project, u->email,
		    in->old_password, &who);
		if (result != ENGINE_OK) {
			backoff_undo(e, backoff);
			return result;
		}
		ok = who != NULL && strcmp(who->id, u->id) == 0;
		user_free(who);
	} else
		ok = hasher_verify(e->hasher, u->password_hash,
		    in->old_password);
	if (!ok) {
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "credentials");
		return ENGINE_CREDENTIALS_INVALID;
	}
	result = reset_password_policy(e, in->project, in->new_password,
	    u->email, u->username, in->verdict);
	if (result != ENGINE_OK)
		return result;
	/* The project's storage takes it: hashed here, or set by the app. */
	result = storage_set_password(e, in->project, u, in->new_password, NULL,
	    &hash);
	if (result != ENGINE_OK)
		return result;
	t = (struct change_tx){ u->id, hash, backoff, in->project->id, subject,
		in->ctx, db_now(e->db) };
	result = db_write(e->db, change_tx, &t) == 0 ? ENGINE_OK :
						       ENGINE_UNAVAILABLE;
	xfree_secret(hash);
	return result;
}

/* refresh */

struct refresh_tx {
	struct engine *e;
	const struct refresh_token *old;
	struct refresh_token *next; /* NULL: no rotation */
	int64_t now;
	int reused; /* out: the token was spent */
};

static int
refresh_tx(struct db_conn *c, void *arg)
{
	struct refresh_tx *t = arg;
	int rc;

	if (t->next == NULL)
		return STORE_OK;
	rc = store_refresh_spend(c, t->old->id, t->now);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		/* Spent already: whoever holds it, the family dies. */
		t->reused = 1;
		return event_session_revoke(t->e, c, t->old->session_id,
			   t->now) < 0 ?
		    DB_ERROR :
		    STORE_OK;
	}
	return store_refresh_insert(c, t->next);
}

/* 1 when two client ids, either NULL, are the same. */
static int
same_client(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

enum engine_result
session_refresh(struct engine *e, const struct refresh_request *in,
    struct login_result *out)
{
	char hash[SECRET_HASH_LEN + 1];
	struct refresh_token *rt = NULL, next;
	struct refresh_tx t;
	struct session *s = NULL;
	struct user *u = NULL;
	struct db_conn *c;
	char *token = NULL;
	int64_t now = db_now(e->db);
	enum engine_result result = ENGINE_SESSION_INVALID;
	int rc, rotate = in->face == SF_WORKOS;

	memset(&next, 0, sizeof(next));
	if (in->token == NULL || !secret_token_valid(in->token))
		return ENGINE_SESSION_INVALID;
	secret_hash(e->refresh_key, "refresh", in->token, hash);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_refresh_get(c, hash, &rt);
	if (rc == STORE_OK)
		rc = store_session_get(c, rt->session_id, &s);
	if (rc == STORE_OK)
		rc = store_user_get(c, s->project_id, s->user_id, &u);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	/* A token answers only to its own project and client. */
	if (rc != STORE_OK || strcmp(s->project_id, in->project->id) != 0 ||
	    !same_client(rt->client_id, in->client_id))
		goto out;
	if (rt->expires_at <= now || s->revoked_at != 0 || s->expires_at <= now)
		goto out;
	if (u->disabled) {
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	t = (struct refresh_tx){ e, rt, NULL, now, 0 };
	if (rotate) {
		/* Spend it and make the next; if spent, revoke the family. */
		refresh_new(e, s, now, &token, &next);
		t.next = &next;
	}
	rc = t.next != NULL ? db_write(e->db, refresh_tx, &t) : 0;
	event_wake(e);
	if (rc != 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (t.reused) {
		log_info("session: a spent refresh token was presented again; "
			 "its session %s is revoked",
		    s->id);
		goto out;
	}
	out->session = s;
	out->user = u;
	out->refresh_token = token;
	s = NULL;
	u = NULL;
	token = NULL;
	result = ENGINE_OK;
out:
	free(next.id);
	free(next.token_hash);
	xfree_secret(token);
	refresh_token_free(rt);
	session_free(s);
	user_free(u);
	return result;
}

/* revocation */

struct revoke_tx {
	struct engine *e;
	const char *id;	     /* a session, or */
	const char *user_id; /* all of a user's */
	int64_t now;
	int changed;
};

static int
revoke_tx(struct db_conn *c, void *arg)
{
	struct revoke_tx *t = arg;
	int rc;

	/* Each session revoked is the event session.revoked too. */
	if (t->id != NULL)
		rc = event_session_revoke(t->e, c, t->id, t->now);
	else
		rc = event_sessions_revoke(t->e, c, t->user_id, t->now);
	if (rc < 0)
		return rc;
	t->changed = rc;
	return STORE_OK;
}

/* The session id of p, live, in *out; ENGINE_OK, SESSION_INVALID, ... */
static enum engine_result
live_session(struct engine *e, const struct project *p, const char *id,
    struct session **out)
{
	struct db_conn *c;
	int rc;

	if (!id_is_uuid(id))
		return ENGINE_SESSION_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_session_get(c, id, out);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc != STORE_OK)
		return ENGINE_SESSION_INVALID;
	if (strcmp((*out)->project_id, p->id) != 0 || (*out)->revoked_at != 0 ||
	    (*out)->expires_at <= db_now(e->db)) {
		session_free(*out);
		*out = NULL;
		return ENGINE_SESSION_INVALID;
	}
	return ENGINE_OK;
}

enum engine_result
session_revoke(struct engine *e, const struct project *p, const char *id)
{
	struct session *s = NULL;
	struct revoke_tx t;
	enum engine_result res;

	res = live_session(e, p, id, &s);
	if (res != ENGINE_OK)
		return res;
	t = (struct revoke_tx){ e, s->id, NULL, db_now(e->db), 0 };
	res = db_write(e->db, revoke_tx, &t) == 0 ? ENGINE_OK :
						    ENGINE_UNAVAILABLE;
	event_wake(e);
	session_free(s);
	return res;
}

enum engine_result
session_logout(struct engine *e, const char *id, const char *return_to)
{
	struct session *s = NULL;
	struct project *p = NULL;
	struct db_conn *c;
	struct revoke_tx t;
	enum engine_result res;
	int rc;

	if (!id_is_uuid(id))
		return ENGINE_SESSION_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_session_get(c, id, &s);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc != STORE_OK)
		return ENGINE_SESSION_INVALID;
	res = engine_project(e, s->project_id, &p);
	if (res != ENGINE_OK)
		goto out;
	if (return_to != NULL && !engine_login_url_allowed(p, return_to)) {
		res = ENGINE_LOGIN_URL_REFUSED;
		goto out;
	}
	if (s->revoked_at == 0 && s->expires_at > db_now(e->db)) {
		t = (struct revoke_tx){ e, s->id, NULL, db_now(e->db), 0 };
		if (db_write(e->db, revoke_tx, &t) != 0)
			res = ENGINE_UNAVAILABLE;
		event_wake(e);
	}
out:
	project_free(p);
	session_free(s);
	return res;
}

enum engine_result
session_revoke_user(struct engine *e, const struct project *p,
    const char *user_id)
{
	struct revoke_tx t = { e, NULL, user_id, db_now(e->db), 0 };
	enum engine_result res;

	(void)p; /* the caller checked the user is p's */
	res = db_write(e->db, revoke_tx, &t) == 0 ? ENGINE_OK :
						    ENGINE_UNAVAILABLE;
	event_wake(e);
	return res;
}

enum engine_result
session_revoke_refresh(struct engine *e, const struct project *p,
    const char *client_id, const char *token)
{
	char hash[SECRET_HASH_LEN + 1];
	struct refresh_token *rt = NULL;
	struct session *s = NULL;
	struct db_conn *c;
	enum engine_result res = ENGINE_OK;
	int rc;

	if (token == NULL || !secret_token_valid(token))
		return ENGINE_OK;
	secret_hash(e->refresh_key, "refresh", token, hash);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_refresh_get(c, hash, &rt);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc != STORE_OK)
		return ENGINE_OK;
	if (rt->client_id == NULL || client_id == NULL ||
	    strcmp(rt->client_id, client_id) != 0)
		res = ENGINE_SESSION_INVALID;
	else {
		res = live_session(e, p, rt->session_id, &s);
		if (res == ENGINE_OK)
			res = session_revoke(e, p, rt->session_id);
		else if (res == ENGINE_SESSION_INVALID)
			res = ENGINE_OK; /* dead already */
	}
	session_free(s);
	refresh_token_free(rt);
	return res;
}

enum engine_result
session_list(struct engine *e, const struct project *p, const char *user_id,
    struct store_list *out)
{
	struct db_conn *c;
	int rc;

	(void)p; /* the caller checked the user is p's */
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_session_list_user(c, user_id, db_now(e->db), out);
	db_release(e->db, c);
	return rc < 0 ? ENGINE_UNAVAILABLE : ENGINE_OK;
}

/* tokens */

/* How each kind of token is signed, and how long it lives. */
static const struct token_profile {
	enum jwt_alg alg;
	int64_t ttl_s;	    /* 0: the project's setting */
	int issuer_project; /* iss is PUBLIC_URL/POOL */
} token_profiles[TK__MAX] = {
	/* TK_XSOLLA_LOGIN */
	{ JWT_HS256, 0, 0 }, /* 0: the project's login_token_ttl */
	/* TK_WORKOS_ACCESS: WorkOS's access tokens live 5 minutes */
	{ JWT_RS256, 300, 0 },
	/* TK_COGNITO_ACCESS: Cognito's default, 1 hour */
	{ JWT_RS256, 3600, 1 },
	/* TK_COGNITO_ID */
	{ JWT_RS256, 3600, 1 },
};

/*
 * Every user is in one group, the default one, as a project without
 * groups shows it in Xsolla's tokens.
 */
#define DEFAULT_GROUPS \
	"[{\"id\":1,\"name\":\"default\",\"is_default\":true," \
	"\"is_deletable\":false}]"

static const struct token_profile *
profile(enum token_kind k)
{
	if (k < 0 || k >= TK__MAX)
		abort();
	return &token_profiles[k];
}

int64_t
token_longest_ttl_s(const struct project *p, enum jwt_alg alg)
{
	int64_t longest = 0;
	int k;

	for (k = 0; k < TK__MAX; k++) {
		if (token_profiles[k].alg != alg)
			continue;
		if (token_profiles[k].ttl_s == 0 &&
		    p->login_token_ttl > longest)
			longest = p->login_token_ttl;
		if (token_profiles[k].ttl_s > longest)
			longest = token_profiles[k].ttl_s;
	}
	return longest;
}

/* The issuer of a kind of token for project p, newly allocated. */
static char *
issuer(const struct engine *e, const struct project *p, enum token_kind k)
{
	char pool[ENGINE_POOL_ID_MAX + 1];

	/* Cognito's: the project's user pool id, as the admin calls name it. */
	if (profile(k)->issuer_project) {
		engine_user_pool_id(e->cfg->aws_region, p->id, pool);
		return xasprintf("%s/%s", e->cfg->public_url, pool);
	}
	return xstrdup(e->cfg->public_url);
}

/* uuid as the map writes ids: with prefix and as a ULID, or bare. */
static char *
map_id(const char *prefix, const char *uuid)
{
	char *s;

	if (prefix == NULL)
		return xstrdup(uuid);
	s = id_prefixed(prefix, uuid);
	if (s == NULL)
		s = xstrdup(uuid); /* every stored id is a UUID */
	return s;
}

/* The UUID a mapped id names into out; 0, or -1 when it names none. */
static int
unmap_id(const char *prefix, const char *s, char out[UUID_STRLEN + 1])
{
	if (s == NULL)
		return -1;
	if (prefix == NULL) {
		if (!id_is_uuid(s) || strlen(s) != UUID_STRLEN)
			return -1;
		memcpy(out, s, UUID_STRLEN + 1);
		return 0;
	}
	return id_unprefix(prefix, s, out);
}

enum engine_result
session_token(struct engine *e, const struct project *p, enum token_kind k,
    const struct claim_map *map, const struct login_result *lr,
    const char *client_id, char **out)
{
	const struct token_profile *tp = profile(k);
	const struct user *u = lr->user;
	const struct session *s = lr->session;
	struct jwt_claims *c = jwt_claims_new();
	struct keyring_key *key = NULL;
	char jti[UUID_STRLEN + 1];
	char *v;
	int64_t now_s = db_now(e->db) / 1000, exp_s;
	enum engine_result result = ENGINE_UNAVAILABLE;
	int f, i;

	/* Never past the session; rounded up, so a full lifetime is whole. */
	exp_s = (s->expires_at + 999) / 1000;
	if (now_s + (tp->ttl_s != 0 ? tp->ttl_s : p->login_token_ttl) < exp_s)
		exp_s = now_s +
		    (tp->ttl_s != 0 ? tp->ttl_s : p->login_token_ttl);
	for (f = 0; f < CF__MAX; f++) {
		const char *name = map->name[f];

		if (name == NULL)
			continue;
		switch ((enum claim_field)f) {
		case CF_ISSUER:
			v = issuer(e, p, k);
			jwt_claims_set_str(c, name, v);
			free(v);
			break;
		case CF_SUBJECT:
			v = map_id(map->user_prefix, u->id);
			jwt_claims_set_str(c, name, v);
			free(v);
			break;
		case CF_SESSION:
			v = map_id(map->session_prefix, s->id);
			jwt_claims_set_str(c, name, v);
			free(v);
			break;
		case CF_TOKEN_ID:
			id_new(jti);
			jwt_claims_set_str(c, name, jti);
			break;
		case CF_PROJECT:
			jwt_claims_set_str(c, name, p->id);
			break;
		case CF_CLIENT:
			if (client_id != NULL)
				jwt_claims_set_str(c, name, client_id);
			break;
		case CF_ISSUED:
			jwt_claims_set_int(c, name, now_s);
			break;
		case CF_EXPIRES:
			jwt_claims_set_int(c, name, exp_s);
			break;
		case CF_AUTH_TIME:
			jwt_claims_set_int(c, name, s->created_at / 1000);
			break;
		case CF_EMAIL:
			jwt_claims_set_str(c, name, u->email);
			break;
		case CF_EMAIL_VERIFIED:
			jwt_claims_set_bool(c, name, u->email_verified);
			break;
		case CF_USERNAME:
			jwt_claims_set_str(c, name,
			    u->username == NULL && map->username_or_email ?
				u->email :
				u->username);
			break;
		case CF_GROUPS:
			if (jwt_claims_set_json(c, name, DEFAULT_GROUPS) != 0)
				abort(); /* a constant that parses */
			break;
		case CF__MAX:
		default:
			abort();
		}
	}
	for (i = 0; i < CLAIM_FIXED_MAX && map->fixed[i].name != NULL; i++)
		jwt_claims_set_str(c, map->fixed[i].name, map->fixed[i].value);
	if (keyring_signing(e, p, tp->alg, &key) != ENGINE_OK)
		goto out;
	*out = jwt_sign(&key->jwt, c);
	if (*out != NULL)
		result = ENGINE_OK;
out:
	keyring_key_release(key);
	jwt_claims_free(c);
	return result;
}

void
token_check_clear(struct token_check *t)
{
	session_free(t->session);
	user_free(t->user);
	free(t->project_id);
	free(t->client_id);
	memset(t, 0, sizeof(*t));
}

struct lookup_arg {
	struct engine *e;
	enum jwt_alg alg;
	struct keyring_key *key; /* held; released by the caller */
	enum engine_result found;
};

static const struct jwt_key *
lookup_key(void *arg, const char *kid)
{
	struct lookup_arg *a = arg;

	a->found = keyring_find(a->e, kid, a->alg, &a->key);
	return a->found == ENGINE_OK ? &a->key->jwt : NULL;
}

/*
 * 1 when the claims say what map requires of every token of its kind.
 * The issuer is not compared: it is PUBLIC_URL, and instances sharing a
 * database may be set up with different ones; the key says the project,
 * and the key's algorithm and the fixed claims say the kind.
 */
static int
claims_fit(const struct jwt_claims *c, const struct claim_map *map)
{
	const char *v;
	int i;

	for (i = 0; i < CLAIM_FIXED_MAX && map->fixed[i].name != NULL; i++) {
		v = jwt_claims_str(c, map->fixed[i].name);
		if (v == NULL || strcmp(v, map->fixed[i].value) != 0)
			return 0;
	}
	return 1;
}

enum engine_result
session_token_check(struct engine *e, const struct project *p,
    enum token_kind k, const struct claim_map *map, const char *token,
    struct token_check *out)
{
	struct lookup_arg la = { e, profile(k)->alg, NULL, ENGINE_OK };
	struct jwt_claims *c = NULL;
	struct project *kp = NULL;
	struct db_conn *conn;
	struct session *s = NULL;
	struct user *u = NULL;
	char sid[UUID_STRLEN + 1], uid[UUID_STRLEN + 1];
	const char *v;
	enum engine_result result = ENGINE_SESSION_INVALID;
	int rc;

	if (token == NULL)
		return ENGINE_SESSION_INVALID;
	if (jwt_verify(token, db_now(e->db) / 1000, lookup_key, &la, &c,
		NULL) != JWT_OK) {
		/* A store failure while finding the key is not the token's. */
		if (la.found == ENGINE_UNAVAILABLE)
			result = ENGINE_UNAVAILABLE;
		goto out;
	}
	/* The key names the project; a token of another project is foreign. */
	if (p != NULL && strcmp(p->id, la.key->project_id) != 0)
		goto out;
	if (p == NULL) {
		result = engine_project(e, la.key->project_id, &kp);
		if (result == ENGINE_PROJECT_UNKNOWN)
			result = ENGINE_SESSION_INVALID;
		if (result != ENGINE_OK)
			goto out;
		result = ENGINE_SESSION_INVALID;
		p = kp;
	}
	if (!claims_fit(c, map))
		goto out;
	if (map->name[CF_PROJECT] != NULL &&
	    ((v = jwt_claims_str(c, map->name[CF_PROJECT])) == NULL ||
		strcmp(v, p->id) != 0))
		goto out;
	if (map->name[CF_SESSION] == NULL ||
	    unmap_id(map->session_prefix,
		jwt_claims_str(c, map->name[CF_SESSION]), sid) != 0)
		goto out;
	if (map->name[CF_SUBJECT] == NULL ||
	    unmap_id(map->user_prefix, jwt_claims_str(c, map->name[CF_SUBJECT]),
		uid) != 0)
		goto out;
	conn = db_acquire(e->db);
	if (conn == NULL) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	rc = store_session_get(conn, sid, &s);
	if (rc == STORE_OK &&
	    (strcmp(s->project_id, p->id) != 0 || strcmp(s->user_id, uid) != 0))
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = store_user_get(conn, s->project_id, s->user_id, &u);
	db_release(e->db, conn);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (rc == STORE_OK && s->revoked_at != 0)
		out->revoked = 1;
	if (rc != STORE_OK || s->revoked_at != 0 ||
	    s->expires_at <= db_now(e->db))
		goto out;
	if (u->disabled) {
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	out->session = s;
	out->user = u;
	out->project_id = xstrdup(p->id);
	v = map->name[CF_CLIENT] ? jwt_claims_str(c, map->name[CF_CLIENT]) :
				   NULL;
	out->client_id = v ? xstrdup(v) : NULL;
	if (jwt_claims_int(c, "exp", &out->expires_at_s) != 0)
		abort(); /* jwt_verify requires it */
	s = NULL;
	u = NULL;
	result = ENGINE_OK;
out:
	session_free(s);
	user_free(u);
	project_free(kp);
	keyring_key_release(la.key);
	jwt_claims_free(c);
	return result;
}
