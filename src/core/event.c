/*
 * The event log: what happened to a project's users, resets and sessions,
 * one row per event, written by the use case in the transaction of the
 * change it records (so a rolled-back change leaves no event, and a
 * committed one always has its event), and posted to the project's
 * webhooks through the outbox (mail/webhook.h).
 *
 * An event's data is the object it is about, as WorkOS's events carry it
 * (a User, a PasswordReset, a Session), written here once at the time of
 * the event, so the log and every webhook show the object as it was then.
 * Nothing in it is a secret: a PasswordReset has no token and no URL, a
 * User no password hash.  The objects are written with util's JSON string
 * writer; core never holds a JSON library.
 *
 * Webhook endpoints are made and checked here too (admin_webhook_*): the
 * URL when it is set, the secret made once and sealed under a key of its
 * own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "../mail/webhook.h"
#include "engine_internal.h"

#define DATA_MAX (16 * 1024) /* one event's data */
#define EVENT_SPREAD_MS 1000 /* see event_password_reset */

static const char *const event_names[] = {
	"password_reset.created",
	"password_reset.succeeded",
	"user.created",
	"user.updated",
	"user.deleted",
	"session.created",
	"session.revoked",
	"email.delivery_failed",
	NULL,
};

const char *const *
event_known_names(void)
{
	return event_names;
}

int
event_name_known(const char *name)
{
	const char *const *n;

	for (n = event_names; *n != NULL; n++)
		if (strcmp(*n, name) == 0)
			return 1;
	return 0;
}

/* A JSON object written field by field; rc sticks at the first failure. */
struct obj {
	struct buf b;
	int rc;
	int n; /* fields written */
};

static void
obj_open(struct obj *o)
{
	buf_init(&o->b, DATA_MAX);
	o->n = 0;
	o->rc = buf_puts(&o->b, "{");
}

static void
obj_key(struct obj *o, const char *key)
{
	if (o->rc == 0 && o->n++ > 0)
		o->rc = buf_puts(&o->b, ",");
	if (o->rc == 0)
		o->rc = str_json_string(&o->b, key);
	if (o->rc == 0)
		o->rc = buf_puts(&o->b, ":");
}

static void
obj_str(struct obj *o, const char *key, const char *value)
{
	obj_key(o, key);
	if (o->rc == 0)
		o->rc = str_json_string(&o->b, value);
}

static void
obj_raw(struct obj *o, const char *key, const char *raw)
{
	obj_key(o, key);
	if (o->rc == 0)
		o->rc = buf_puts(&o->b, raw);
}

/* A stored UUID as its public id (prefix and ULID); NULL stays null. */
static void
obj_id(struct obj *o, const char *key, const char *prefix, const char *uuid)
{
	char *id = uuid != NULL ? id_prefixed(prefix, uuid) : NULL;

	obj_str(o, key, id != NULL ? id : uuid);
	free(id);
}

/* A time as ISO 8601 UTC, or null for 0. */
static void
obj_time(struct obj *o, const char *key, int64_t ms)
{
	char when[ISO8601_LEN + 1];

	if (ms == 0) {
		obj_raw(o, key, "null");
		return;
	}
	time_iso8601(ms, when);
	obj_str(o, key, when);
}

/*
 * Close o and record it as event name of project, its deliveries due at
 * not_before (0: now); STORE_OK or failure.
 */
static int
obj_emit_after(struct engine *e, struct db_conn *c, struct obj *o,
    const char *project_id, const char *name, int64_t now, int64_t not_before)
{
	int queued = 0, rc;

	if (o->rc == 0)
		o->rc = buf_puts(&o->b, "}");
	if (o->rc != 0) {
		log_error("event: the data of %s is too long", name);
		buf_free(&o->b);
		return DB_ERROR;
	}
	rc = webhook_emit(c, e->outbox_key, project_id, name, buf_cstr(&o->b),
	    now, not_before, &queued);
	buf_free(&o->b);
	if (queued > 0 && not_before == 0)
		__atomic_store_n(&e->webhooks_queued, 1, __ATOMIC_RELEASE);
	return rc;
}

static int
obj_emit(struct engine *e, struct db_conn *c, struct obj *o,
    const char *project_id, const char *name, int64_t now)
{
	return obj_emit_after(e, c, o, project_id, name, now, 0);
}

void
event_wake(struct engine *e)
{
	if (__atomic_exchange_n(&e->webhooks_queued, 0, __ATOMIC_ACQ_REL))
		engine_mail_queued(e);
}

int
event_user(struct engine *e, struct db_conn *c, const char *name,
    const struct user *u, int64_t now)
{
	struct obj o;

	obj_open(&o);
	obj_str(&o, "object", "user");
	obj_id(&o, "id", "user_", u->id);
	obj_str(&o, "email", u->email);
	obj_raw(&o, "email_verified", u->email_verified ? "true" : "false");
	obj_str(&o, "first_name", u->first_name);
	obj_str(&o, "last_name", u->last_name);
	obj_raw(&o, "name", "null");
	obj_raw(&o, "profile_picture_url", "null");
	obj_time(&o, "last_sign_in_at", u->last_sign_in_at);
	obj_str(&o, "locale", u->locale);
	obj_raw(&o, "external_id", "null");
	obj_raw(&o, "metadata", "{}");
	obj_time(&o, "created_at", u->created_at);
	/* A change made now is the user's latest update. */
	obj_time(&o, "updated_at",
	    strcmp(name, "user.created") == 0 && u->updated_at != 0 ?
		u->updated_at :
		now);
	return obj_emit(e, c, &o, u->project_id, name, now);
}

int
event_password_reset(struct engine *e, struct db_conn *c, const char *name,
    const struct secret *s, const struct user *u, int64_t now,
    int64_t answer_at)
{
	int64_t due = 0;

	struct obj o;

	obj_open(&o);
	obj_str(&o, "object", "password_reset");
	obj_id(&o, "id", "password_reset_", s->id);
	obj_id(&o, "user_id", "user_", u->id);
	obj_str(&o, "email", u->email);
	obj_time(&o, "expires_at", s->expires_at);
	obj_time(&o, "created_at", s->created_at);
	/*
	 * After a public request's answer, at a random moment of the next
	 * EVENT_SPREAD_MS: the post (a known account's alone) then cannot be
	 * timed against that answer, nor wake with it.
	 */
	if (answer_at > 0)
		due = answer_at + 1 +
		    (int64_t)randombytes_uniform(EVENT_SPREAD_MS);
	return obj_emit_after(e, c, &o, u->project_id, name, now, due);
}

/* A Session object; ctx (may be NULL) gives its address and agent. */
static int
session_event(struct engine *e, struct db_conn *c, const char *name,
    const struct request_context *ctx, const struct session *s, int64_t now)
{
	int revoked = strcmp(name, "session.revoked") == 0;
	struct obj o;

	obj_open(&o);
	obj_str(&o, "object", "session");
	obj_id(&o, "id", "session_", s->id);
	obj_id(&o, "user_id", "user_", s->user_id);
	obj_str(&o, "ip_address", ctx != NULL ? ctx->client_ip : NULL);
	obj_str(&o, "user_agent",
	    ctx != NULL && ctx->user_agent != NULL &&
		    strlen(ctx->user_agent) <= 256 ?
		ctx->user_agent :
		NULL);
	obj_str(&o, "auth_method", "password");
	obj_str(&o, "status", revoked ? "revoked" : "active");
	obj_time(&o, "expires_at", s->expires_at);
	obj_time(&o, "ended_at", revoked ? now : 0);
	obj_time(&o, "created_at", s->created_at);
	obj_time(&o, "updated_at", now);
	return obj_emit(e, c, &o, s->project_id, name, now);
}

int
event_mail_dead(struct engine *e, struct db_conn *c, const struct outbox_msg *m,
    int64_t now)
{
	struct obj o;
	char tries[24];

	/* A failing endpoint must not feed itself; a lookup is no mail. */
	if (strcmp(m->kind, WEBHOOK_KIND) == 0 ||
	    strcmp(m->kind, OUTBOX_TASK_KIND) == 0)
		return STORE_OK;
	snprintf(tries, sizeof(tries), "%lld", (long long)m->tries);
	obj_open(&o);
	obj_str(&o, "object", "email");
	obj_id(&o, "id", "email_", m->id);
	obj_str(&o, "kind", m->kind);
	obj_str(&o, "to", m->to_addr);
	obj_raw(&o, "tries", tries);
	obj_str(&o, "error", m->last_error);
	obj_time(&o, "created_at", m->created_at);
	return obj_emit(e, c, &o, m->project_id, "email.delivery_failed", now);
}

int
event_session_created(struct engine *e, struct db_conn *c,
    const struct request_context *ctx, const struct session *s, int64_t now)
{
	return session_event(e, c, "session.created", ctx, s, now);
}

int
event_sessions_revoke(struct engine *e, struct db_conn *c, const char *user_id,
    int64_t now)
{
	struct store_list l = { NULL, 0 };
	size_t i;
	int rc;

	rc = store_session_list_user(c, user_id, now, &l);
	if (rc == STORE_OK)
		rc = store_session_revoke_user(c, user_id, now);
	for (i = 0; i < l.n && rc >= 0; i++) {
		int one = session_event(e, c, "session.revoked", NULL,
		    l.items[i], now);

		if (one != STORE_OK)
			rc = one;
	}
	store_list_free(&l, (void (*)(void *))session_free);
	return rc;
}

int
event_session_revoke(struct engine *e, struct db_conn *c, const char *id,
    int64_t now)
{
	struct session *s = NULL;
	int rc, one;

	rc = store_session_get(c, id, &s);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc != STORE_OK)
		return rc;
	rc = store_session_revoke(c, id, now);
	/* Recorded only when this revoked a live session. */
	if (rc > 0 && s->revoked_at == 0 && s->expires_at > now) {
		one = session_event(e, c, "session.revoked", NULL, s, now);
		if (one != STORE_OK)
			rc = one;
	}
	session_free(s);
	return rc;
}

/* reading the log */

enum engine_result
engine_events_list(struct engine *e, const struct event_filter *f,
    struct store_list *out)
{
	struct db_conn *c = db_acquire(e->db);
	int rc;

	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_event_list(c, f, out);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

/* webhook endpoints */

/* The secret: "whsec_" and the base64 of WEBHOOK_SECRET_BYTES random bytes. */
static char *
secret_new(void)
{
	uint8_t raw[WEBHOOK_SECRET_BYTES];
	char enc[sodium_base64_ENCODED_LEN(WEBHOOK_SECRET_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	char *s;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(enc, sizeof(enc), raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	s = xasprintf("%s%s", WEBHOOK_SECRET_PREFIX, enc);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(enc, sizeof(enc));
	return s;
}

static int
insert_webhook_tx(struct db_conn *c, void *arg)
{
	return store_webhook_insert(c, arg);
}

/* 1 when project id allows private targets; -1 on failure, 0 otherwise. */
static int
private_targets(struct engine *e, const char *project_id,
    enum engine_result *res)
{
	struct db_conn *c = db_acquire(e->db);
	int on = 0, rc;

	if (c == NULL) {
		*res = ENGINE_UNAVAILABLE;
		return -1;
	}
	rc = store_project_private_targets(c, project_id, &on);
	db_release(e->db, c);
	if (rc != STORE_OK) {
		*res = rc == STORE_NOT_FOUND ? ENGINE_PROJECT_UNKNOWN :
					       ENGINE_UNAVAILABLE;
		return -1;
	}
	return on;
}

enum engine_result
admin_webhook_create(struct engine *e, const char *project_id, const char *url,
    const char *const *events, char **secret_out, char id_out[UUID_STRLEN + 1],
    char *err, size_t errlen)
{
	struct webhook_endpoint w;
	struct store_list have = { NULL, 0 };
	enum engine_result res = ENGINE_OK;
	struct buf list;
	size_t nhave;
	char id[UUID_STRLEN + 1];
	char *secret = NULL, *joined = NULL;
	const char *const *n;
	int on, rc = 0;

	on = private_targets(e, project_id, &res);
	if (on < 0) {
		snprintf(err, errlen, "%s",
		    res == ENGINE_PROJECT_UNKNOWN ?
			"no such project" :
			"the database is unavailable");
		return res;
	}
	res = admin_webhook_list(e, project_id, &have);
	nhave = have.n;
	store_list_free(&have, (void (*)(void *))webhook_endpoint_free);
	if (res != ENGINE_OK) {
		snprintf(err, errlen, "the database is unavailable");
		return res;
	}
	if (nhave >= WEBHOOK_ENDPOINTS_MAX) {
		snprintf(err, errlen,
		    "the project has %d endpoints, the most "
		    "it may have",
		    WEBHOOK_ENDPOINTS_MAX);
		return ENGINE_BAD_INPUT;
	}
	buf_init(&list, 4096);
	for (n = events; n != NULL && *n != NULL && rc == 0; n++) {
		if (strcmp(*n, "*") != 0 && !event_name_known(*n)) {
			snprintf(err, errlen, "unknown event %.64s", *n);
			buf_free(&list);
			return ENGINE_BAD_INPUT;
		}
		if (n != events)
			rc = buf_puts(&list, "\n");
		if (rc == 0)
			rc = buf_puts(&list, *n);
	}
	if (rc != 0 || events == NULL || events[0] == NULL) {
		snprintf(err, errlen, "name one event or more (or *)");
		buf_free(&list);
		return ENGINE_BAD_INPUT;
	}
	/* Last: a name is resolved, which the checks above need not wait for. */
	if (webhook_url_check(url, on, err, errlen) != 0) {
		buf_free(&list);
		return ENGINE_BAD_INPUT;
	}
	joined = buf_take(&list);
	id_new(id);
	secret = secret_new();
	memset(&w, 0, sizeof(w));
	w.id = id;
	w.project_id = (char *)project_id;
	w.url = (char *)url;
	w.events = joined;
	w.secret_sealed = webhook_secret_seal(e->webhook_key, id, project_id,
	    secret);
	w.created_at = db_now(e->db);
	if (db_write(e->db, insert_webhook_tx, &w) != 0) {
		snprintf(err, errlen, "the database is unavailable");
		res = ENGINE_UNAVAILABLE;
		xfree_secret(secret);
	} else {
		*secret_out = secret;
		memcpy(id_out, id, sizeof(id));
	}
	free(w.secret_sealed);
	free(joined);
	return res;
}

enum engine_result
admin_webhook_list(struct engine *e, const char *project_id,
    struct store_list *out)
{
	struct db_conn *c = db_acquire(e->db);
	int rc;

	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_webhook_list(c, project_id, out);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

struct delete_tx {
	const char *project_id;
	const char *id;
	int deleted;
};

static int
delete_webhook_tx(struct db_conn *c, void *arg)
{
	struct delete_tx *t = arg;

	t->deleted = store_webhook_delete(c, t->project_id, t->id);
	return t->deleted < 0 ? t->deleted : 0;
}

enum engine_result
admin_webhook_delete(struct engine *e, const char *project_id, const char *id)
{
	struct delete_tx t = { project_id, id, 0 };

	if (db_write(e->db, delete_webhook_tx, &t) != 0)
		return ENGINE_UNAVAILABLE;
	return t.deleted > 0 ? ENGINE_OK : ENGINE_USER_UNKNOWN;
}

enum engine_result
admin_webhook_test(struct engine *e, const char *id, long *status, char *err,
    size_t errlen)
{
	struct webhook_endpoint *w = NULL;
	struct db_conn *c;
	struct obj o;
	enum engine_result res = ENGINE_OK;
	char eid[UUID_STRLEN + 1];
	char *secret = NULL, *body = NULL, *pub = NULL, *msg = NULL;
	char when[ISO8601_LEN + 1];
	int on = 0, rc;

	*status = 0;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_webhook_get(c, id, &w);
	if (rc == STORE_OK)
		rc = store_project_private_targets(c, w->project_id, &on);
	db_release(e->db, c);
	if (rc != STORE_OK) {
		snprintf(err, errlen, "%s",
		    rc == STORE_NOT_FOUND ? "no such endpoint" :
					    "the database is unavailable");
		webhook_endpoint_free(w);
		return rc == STORE_NOT_FOUND ? ENGINE_USER_UNKNOWN :
					       ENGINE_UNAVAILABLE;
	}
	secret = webhook_secret_open(e->webhook_key, w->id, w->project_id,
	    w->secret_sealed);
	if (secret == NULL) {
		snprintf(err, errlen, "the endpoint's secret does not open");
		res = ENGINE_UNAVAILABLE;
		goto out;
	}
	/* A sample event: the shape of every event, naming nobody. */
	id_new(eid);
	pub = id_prefixed("event_", eid);
	msg = id_prefixed("msg_", eid);
	time_iso8601(db_now(e->db), when);
	obj_open(&o);
	obj_str(&o, "object", "event");
	obj_str(&o, "id", pub);
	obj_str(&o, "event", "webhook.test");
	obj_raw(&o, "data", "{\"object\":\"test\"}");
	obj_str(&o, "created_at", when);
	if (o.rc == 0)
		o.rc = buf_puts(&o.b, "}");
	body = o.rc == 0 ? buf_take(&o.b) : NULL;
	buf_free(&o.b);
	if (body == NULL) {
		res = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (webhook_send(
		&(struct webhook_post){
		    .url = w->url,
		    .secret = secret,
		    .msg_id = msg,
		    .body = body,
		    .allow_private = on,
		    .timeout_ms = e->cfg->webhook_timeout_ms,
		    .now_ms = time_now_ms(),
		},
		status, err, errlen) != 0)
		res = ENGINE_BAD_INPUT;
out:
	free(body);
	free(pub);
	free(msg);
	xfree_secret(secret);
	webhook_endpoint_free(w);
	return res;
}
