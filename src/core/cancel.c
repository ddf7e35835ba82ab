/*
 * "This wasn't me": the link in every reset email that cancels the
 * request, for someone who did not ask for it.
 *
 * The link must not hold the reset secret: mail scanners open every link
 * in a message, and a cancel link that carried the secret would put it in
 * one more URL for them to follow and log.  It holds a secret of its own
 * instead, made without storing anything: the row id of the reset secret
 * and a keyed MAC of that id (BLAKE2b-256 under a key derived from the
 * server secret for this use alone, as 43 base64url characters).
 *
 *	PUBLIC_URL/reset/cancel?id=<secret row id>&sig=<MAC of the id>
 *
 * Only resetd can make a MAC, so only the mailbox that got the email holds
 * a working cancel link; the id alone (UUID v7, partly time) cancels
 * nothing.  The link can do one thing: revoke the secret it names while
 * that is pending.  It cannot reset a password, cannot revive anything,
 * and stops mattering once the secret is used, revoked or expired.  GET
 * shows a page with a button and changes nothing; only the POST of that
 * button revokes, so a scanner fetching the link cancels nothing.
 *
 * No column was needed: the MAC is recomputed from the id.  Rotating the
 * server secret kills pending cancel links together with the reset links
 * they belong to.
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "engine_internal.h"

#define CANCEL_PURPOSE "cancel"

char *
cancel_link(const struct engine *e, const char *secret_id)
{
	char mac[SECRET_MAC_LEN + 1];

	secret_mac(e->cancel_key, CANCEL_PURPOSE, secret_id, mac);
	return xasprintf("%s/reset/cancel?id=%s&sig=%s", e->cfg->public_url,
	    secret_id, mac);
}

/* Where a secret stands at now, as far as cancelling it goes. */
static enum reset_link_state
cancel_state(const struct secret *s, int64_t now)
{
	if (s->used_at != 0)
		return RESET_LINK_USED;
	if (s->revoked_at != 0)
		return RESET_LINK_DEAD;
	if (now >= s->expires_at)
		return RESET_LINK_EXPIRED;
	return RESET_LINK_LIVE;
}

/*
 * Check a cancel link and load what it names: the secret (*sout) and its
 * project (*pout), both the caller's to free.  ENGINE_SECRET_INVALID when
 * the MAC is wrong or the row is not a real reset (decoys are never
 * mailed, so they have no cancel link).
 */
static enum engine_result
cancel_load(struct engine *e, const char *id, const char *sig,
    struct secret **sout, struct project **pout)
{
	struct db_conn *c;
	struct secret *s = NULL;
	struct project *p = NULL;
	char mac[SECRET_MAC_LEN + 1];
	enum engine_result result = ENGINE_SECRET_INVALID;
	int rc;

	if (id == NULL || sig == NULL || !id_is_uuid(id) ||
	    strnlen(sig, SECRET_MAC_LEN + 1) != SECRET_MAC_LEN)
		return ENGINE_SECRET_INVALID;
	secret_mac(e->cancel_key, CANCEL_PURPOSE, id, mac);
	if (!secret_hash_equal(mac, sig))
		return ENGINE_SECRET_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_secret_by_id(c, id, &s);
	if (rc == STORE_OK)
		rc = store_project_get(c, s->project_id, &p);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (s == NULL || p == NULL || s->user_id == NULL ||
	    (strcmp(s->purpose, "reset_link") != 0 &&
		strcmp(s->purpose, "reset_code") != 0))
		goto out;
	*sout = s;
	*pout = p;
	s = NULL;
	p = NULL;
	result = ENGINE_OK;
out:
	secret_free(s);
	project_free(p);
	return result;
}

enum engine_result
reset_cancel_lookup(struct engine *e, const char *id, const char *sig,
    struct reset_link_info *out)
{
	struct secret *s = NULL;
	struct project *p = NULL;
	enum engine_result result;

	result = cancel_load(e, id, sig, &s, &p);
	if (result != ENGINE_OK)
		return result;
	memset(out, 0, sizeof(*out));
	out->project = p;
	out->state = cancel_state(s, db_now(e->db));
	out->locale = s->locale ? xstrdup(s->locale) : NULL;
	out->expires_at = s->expires_at;
	secret_free(s);
	return ENGINE_OK;
}

struct cancel_tx {
	const char *id;
	int64_t now;
	int revoked;
};

static int
cancel_tx(struct db_conn *c, void *arg)
{
	struct cancel_tx *t = arg;
	int rc;

	rc = store_secret_revoke(c, t->id, t->now);
	if (rc < 0)
		return rc;
	t->revoked = rc == 1;
	return 0;
}

enum engine_result
reset_cancel(struct engine *e, const char *id, const char *sig,
    struct reset_link_info *out)
{
	struct cancel_tx t;
	struct secret *s = NULL;
	struct project *p = NULL;
	enum reset_link_state state;
	enum engine_result result;

	result = cancel_load(e, id, sig, &s, &p);
	if (result != ENGINE_OK)
		return result;
	state = cancel_state(s, db_now(e->db));
	if (state == RESET_LINK_LIVE) {
		t = (struct cancel_tx){ .id = s->id, .now = db_now(e->db) };
		if (db_write(e->db, cancel_tx, &t) != 0) {
			result = ENGINE_UNAVAILABLE;
			goto out;
		}
		if (t.revoked) {
			state = RESET_LINK_CANCELLED;
			log_info("reset: secret %s cancelled from its email",
			    s->id);
		} else {
			/* Used, revoked or expired in between: say which. */
			secret_free(s);
			project_free(p);
			s = NULL;
			p = NULL;
			result = cancel_load(e, id, sig, &s, &p);
			if (result != ENGINE_OK)
				goto out;
			state = cancel_state(s, db_now(e->db));
		}
	}
	memset(out, 0, sizeof(*out));
	out->state = state;
	out->locale = s->locale ? xstrdup(s->locale) : NULL;
	out->expires_at = s->expires_at;
	out->project = p;
	p = NULL;
	result = ENGINE_OK;
out:
	secret_free(s);
	project_free(p);
	return result;
}
