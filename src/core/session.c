/*
 * Login and sessions.  A session is a row; the token a dialect hands out
 * (a signed JWT) names it, so a reset can revoke every session of a user
 * by updating rows, and a revoked token stops working at once.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "engine_internal.h"

/*
 * A session lives 24 hours in every project, as Xsolla's tokens do by
 * default.  The project's token_ttl is its reset secrets' lifetime and
 * does not apply: short-lived links must not mean short sessions.
 */
#define SESSION_TTL_MS (24LL * 3600 * 1000)

void
login_result_clear(struct login_result *r)
{
	session_free(r->session);
	user_free(r->user);
	memset(r, 0, sizeof(*r));
}

struct login_tx {
	struct engine	*e;
	struct session	*session;
	const char	*new_hash;	/* NULL: no rehash */
	const struct request_context *ctx;
	const char	*subject;	/* audit subject */
	const char	*backoff;	/* back-off subject */
	int64_t		 now;
};

static int
login_tx(struct db_conn *c, void *arg)
{
	struct login_tx *t = arg;
	int rc;

	rc = store_session_insert(c, t->session);
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

enum engine_result
session_login(struct engine *e, const struct login_request *in,
    struct login_result *out)
{
	struct db_conn *c;
	struct user *u = NULL;
	struct session *s = NULL;
	struct login_tx t;
	char *rehash = NULL;
	char subject[AUDIT_SUBJECT_LEN + 1];
	char backoff[BACKOFF_SUBJECT_LEN + 1];
	enum engine_result result = ENGINE_CREDENTIALS_INVALID;
	int64_t wait = 0;
	int rc, ok;

	if (in->login == NULL || *in->login == '\0' || in->password == NULL ||
	    strlen(in->login) > 320 || strlen(in->password) > PASSWORD_MAX_BYTES)
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
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_find(c, in->project->id, in->login, &u);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	audit_subject(e, in->project->id, u ? u->email : in->login, subject);
	/* Unknown users and users without a password cost a dummy verify. */
	ok = hasher_verify(e->hasher, u ? u->password_hash : NULL, in->password);
	if (!ok) {
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "credentials");
		goto out;
	}
	if (u->disabled) {
		audit_record(e, in->ctx, in->project->id, AUDIT_LOGIN_FAILED,
		    subject, "disabled");
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	/* A hash made before passwords were normalised is made again. */
	if (ok == 2 || hasher_needs_rehash(e->hasher, u->password_hash)) {
		rehash = hasher_hash(e->hasher, in->password);
		if (rehash == NULL) {
			result = ENGINE_UNAVAILABLE;
			goto out;
		}
	}
	s = xcalloc(1, sizeof(*s));
	s->id = xmalloc(UUID_STRLEN + 1);
	id_new(s->id);
	s->project_id = xstrdup(u->project_id);
	s->user_id = xstrdup(u->id);
	t.now = db_now(e->db);
	s->created_at = t.now;
	s->expires_at = t.now + SESSION_TTL_MS;
	t.e = e;
	t.session = s;
	t.new_hash = rehash;
	t.ctx = in->ctx;
	t.subject = subject;
	t.backoff = backoff;
	rc = db_write(e->db, login_tx, &t);
	event_wake(e);
	if (rc != 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	u->last_sign_in_at = t.now;
	out->session = s;
	out->user = u;
	s = NULL;
	u = NULL;
	result = ENGINE_OK;
out:
	xfree_secret(rehash);
	session_free(s);
	user_free(u);
	return result;
}

enum engine_result
session_user(struct engine *e, const struct project *p,
    const char *session_id, struct user **out)
{
	struct db_conn *c;
	struct session *s = NULL;
	struct user *u = NULL;
	enum engine_result result = ENGINE_SESSION_INVALID;
	int rc;

	if (!id_is_uuid(session_id))
		return ENGINE_SESSION_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_session_get(c, session_id, &s);
	/* A session answers only for its own project. */
	if (rc == STORE_OK && strcmp(s->project_id, p->id) != 0)
		rc = STORE_NOT_FOUND;
	if (rc == STORE_OK)
		rc = store_user_get(c, s->project_id, s->user_id, &u);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (s == NULL || u == NULL || s->revoked_at != 0 ||
	    s->expires_at <= db_now(e->db))
		goto out;
	if (u->disabled) {
		result = ENGINE_USER_DISABLED;
		goto out;
	}
	*out = u;
	u = NULL;
	result = ENGINE_OK;
out:
	session_free(s);
	user_free(u);
	return result;
}
