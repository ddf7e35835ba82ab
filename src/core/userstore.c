/*
 * User storage backends (see userstore.h): builtin, on resetd's users
 * table, and webhook, on the app's URLs.
 *
 * A webhook call is one libcurl exchange (webhook_call, which refuses
 * private addresses at connect unless the project allows them), bounded
 * by the project's storage_timeout_ms.  Nothing here logs a password, a
 * verify code or the token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "../log.h"
#include "../mail/webhook.h"
#include "../version.h"
#include "engine_internal.h"
#include "userstore.h"

void
storage_user_clear(struct storage_user *su)
{
	free(su->id);
	free(su->email);
	free(su->username);
	free(su->locale);
	memset(su, 0, sizeof(*su));
}

int
storage_is_webhook(const struct project *p)
{
	return p->user_storage != NULL &&
	    strcmp(p->user_storage, STORAGE_WEBHOOK) == 0;
}

/* pure parts */

/* 1 when ctype is application/json, with parameters or not. */
static int
ctype_json(const char *ctype)
{
	size_t n = strlen("application/json");

	if (ctype == NULL || strncasecmp(ctype, "application/json", n) != 0)
		return 0;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/* An optional string member: 0 (absent or null: *out NULL), or -1. */
static int
opt_string(json_t *o, const char *name, size_t max, char **out)
{
	json_t *v = json_object_get(o, name);
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (json_string_length(v) > max ||
	    !str_is_clean_utf8(s, json_string_length(v)))
		return -1;
	*out = xstrdup(s);
	return 0;
}

int
storage_parse_user(const char *ctype, const char *body, size_t len,
    struct storage_user *out, char *err, size_t errlen)
{
	json_t *root = NULL, *id, *st;
	struct storage_user su;
	const char *why = NULL;

	memset(&su, 0, sizeof(su));
	if (!ctype_json(ctype)) {
		why = "the answer is not application/json";
		goto out;
	}
	if (len > WEBHOOK_ANSWER_MAX) {
		why = "the answer is too long";
		goto out;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		why = "the answer is not a JSON object";
		goto out;
	}
	id = json_object_get(root, "id");
	if (!json_is_string(id) || json_string_length(id) == 0 ||
	    json_string_length(id) > STORAGE_ID_MAX ||
	    !str_is_clean_utf8(json_string_value(id), json_string_length(id))) {
		why = "id: expected a string of 1 to 128 bytes";
		goto out;
	}
	su.id = xstrdup(json_string_value(id));
	if (opt_string(root, "email", 320, &su.email) != 0 ||
	    su.email == NULL || !valid_email(su.email)) {
		why = "email: expected an email address";
		goto out;
	}
	if (opt_string(root, "username", 64, &su.username) != 0) {
		why = "username: expected a string or null";
		goto out;
	}
	if (opt_string(root, "locale", 35, &su.locale) != 0) {
		why = "locale: expected a string or null";
		goto out;
	}
	st = json_object_get(root, "status");
	if (st != NULL && !json_is_null(st)) {
		if (json_is_string(st) &&
		    strcmp(json_string_value(st), "active") == 0)
			su.disabled = 0;
		else if (json_is_string(st) &&
		    strcmp(json_string_value(st), "disabled") == 0)
			su.disabled = 1;
		else {
			why = "status: expected active or disabled";
			goto out;
		}
	}
out:
	json_decref(root);
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		storage_user_clear(&su);
		return -1;
	}
	*out = su;
	return 0;
}

/* One URL setting: NULL passes; else webhook_url_check. */
static int
url_ok(const char *opt, const char *url, int allow_private, char *err,
    size_t errlen)
{
	char why[WEBHOOK_ERROR_MAX];

	if (url == NULL)
		return 0;
	if (webhook_url_check(url, allow_private, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", opt, why);
	return -1;
}

int
storage_settings_check(const struct storage_settings *s, char *err,
    size_t errlen)
{
	const char *kind = s->kind, *format = s->format;
	const char *lookup_url = s->lookup_url, *verify_url = s->verify_url;
	const char *password_url = s->password_url;
	const char *new_user_url = s->new_user_url;
	int64_t timeout_ms = s->timeout_ms;
	int ap = s->allow_private, webhook;

	if (kind == NULL ||
	    (strcmp(kind, STORAGE_BUILTIN) != 0 &&
		strcmp(kind, STORAGE_WEBHOOK) != 0)) {
		snprintf(err, errlen,
		    "user-storage: expected builtin or webhook");
		return -1;
	}
	webhook = strcmp(kind, STORAGE_WEBHOOK) == 0;
	if (format != NULL && strcmp(format, "plain") != 0 &&
	    strcmp(format, "argon2id") != 0) {
		snprintf(err, errlen,
		    "storage-password-format: expected plain or argon2id");
		return -1;
	}
	if (timeout_ms < STORAGE_TIMEOUT_MIN_MS ||
	    timeout_ms > STORAGE_TIMEOUT_MAX_MS) {
		snprintf(err, errlen,
		    "storage-timeout-ms: expected %d to %d milliseconds",
		    STORAGE_TIMEOUT_MIN_MS, STORAGE_TIMEOUT_MAX_MS);
		return -1;
	}
	if (url_ok("storage-lookup-url", lookup_url,
		ap || (s->kept & STORAGE_KEPT_LOOKUP), err, errlen) != 0 ||
	    url_ok("storage-verify-url", verify_url,
		ap || (s->kept & STORAGE_KEPT_VERIFY), err, errlen) != 0 ||
	    url_ok("storage-password-url", password_url,
		ap || (s->kept & STORAGE_KEPT_PASSWORD), err, errlen) != 0 ||
	    url_ok("storage-new-user-url", new_user_url,
		ap || (s->kept & STORAGE_KEPT_NEW_USER), err, errlen) != 0)
		return -1;
	if (!webhook)
		return 0;
	if (lookup_url == NULL) {
		snprintf(err, errlen,
		    "user-storage webhook needs --storage-lookup-url");
		return -1;
	}
	if (verify_url == NULL) {
		snprintf(err, errlen,
		    "user-storage webhook needs --storage-verify-url");
		return -1;
	}
	if (password_url == NULL) {
		snprintf(err, errlen,
		    "user-storage webhook needs --storage-password-url");
		return -1;
	}
	return 0;
}

struct jwt_claims *
storage_claims(const char *project_id, const char *url, int64_t now_s)
{
	struct jwt_claims *cl = jwt_claims_new();
	char jti[UUID_STRLEN + 1];

	id_new(jti);
	jwt_claims_set_str(cl, "iss", "resetd");
	jwt_claims_set_str(cl, "aud", url);
	jwt_claims_set_int(cl, "iat", now_s);
	jwt_claims_set_int(cl, "exp", now_s + STORAGE_TOKEN_TTL_S);
	jwt_claims_set_str(cl, "jti", jti);
	jwt_claims_set_str(cl, "xsolla_login_project_id", project_id);
	jwt_claims_set_str(cl, "type", "custom_storage");
	return cl;
}

/* webhook backend */

/*
 * POST body (a JSON object, consumed) to url of p, authenticated; the
 * answer in *ans.  0, or -1 with the reason in err (not reached, slow,
 * oversize, a redirect, no key).
 */
static int
storage_call(struct engine *e, const struct project *p, const char *url,
    json_t *body, struct webhook_answer *ans, char *err, size_t errlen)
{
	struct keyring_key *k = NULL;
	struct jwt_claims *cl;
	struct db_conn *c;
	char *token = NULL, *text = NULL;
	int rc = -1, private_ok = 0;

	if (url == NULL) {
		snprintf(err, errlen, "the project has no URL for this call");
		goto out;
	}
	/*
	 * Whether private targets are allowed is read afresh, not from the
	 * project cache: turning it off holds from the next call on.
	 */
	c = db_acquire(e->db);
	if (c == NULL ||
	    store_project_private_targets(c, p->id, &private_ok) < 0) {
		if (c != NULL)
			db_release(e->db, c);
		snprintf(err, errlen, "the database is unavailable");
		goto out;
	}
	db_release(e->db, c);
	if (keyring_signing(e, p, JWT_HS256, &k) != ENGINE_OK) {
		snprintf(err, errlen,
		    "the project's secret key is unavailable");
		goto out;
	}
	cl = storage_claims(p->id, url, db_now(e->db) / 1000);
	token = jwt_sign(&k->jwt, cl);
	jwt_claims_free(cl);
	text = json_dumps(body, JSON_COMPACT);
	if (token == NULL || text == NULL) {
		snprintf(err, errlen, "cannot sign the call");
		goto out;
	}
	rc = webhook_call(
	    &(struct webhook_call){
		.url = url,
		.bearer = token,
		.body = text,
		.user_agent = "resetd/" RESETD_VERSION,
		.allow_private = private_ok,
		.timeout_ms = p->storage_timeout_ms > 0 ?
		    p->storage_timeout_ms :
		    STORAGE_TIMEOUT_DEFAULT_MS,
	    },
	    ans, err, errlen);
	if (rc == 0 && ans->status >= 300 && ans->status < 400) {
		snprintf(err, errlen, "the app answered a redirect (%ld)",
		    ans->status);
		rc = -1;
	}
out:
	keyring_key_release(k);
	xfree_secret(token);
	xfree_secret(text);
	json_decref(body);
	return rc;
}

/* The login as the app takes it: {"email": ...} or {"username": ...}. */
static json_t *
login_body(const char *login)
{
	return json_pack("{s:s}", strchr(login, '@') ? "email" : "username",
	    login);
}

/*
 * A 200 answer that carries no user must still be a JSON object with its
 * content type: 0, or -1 with the reason in err.
 */
int
storage_answer_object(const char *ctype, const char *body, size_t len,
    char *err, size_t errlen)
{
	json_t *root;
	int ok;

	if (!ctype_json(ctype)) {
		snprintf(err, errlen, "the answer is not application/json");
		return -1;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	ok = json_is_object(root);
	json_decref(root);
	if (!ok) {
		snprintf(err, errlen, "the answer is not a JSON object");
		return -1;
	}
	return 0;
}

static enum storage_result
answer_user(struct webhook_answer *ans, struct storage_user *out, char *err,
    size_t errlen)
{
	char why[STORAGE_ERR_MAX];

	if (storage_parse_user(ans->content_type, ans->body, ans->len, out, why,
		sizeof(why)) != 0) {
		snprintf(err, errlen, "a wrong answer: %s", why);
		return STORAGE_FAILED;
	}
	return STORAGE_OK;
}

static enum storage_result
wh_lookup(struct engine *e, const struct project *p, const char *login,
    struct storage_user *out, char *err, size_t errlen)
{
	struct webhook_answer *ans;
	enum storage_result r = STORAGE_FAILED;

	/* JSON carries text only: a login that is not is nobody's. */
	if (!str_is_utf8(login, strlen(login)))
		return STORAGE_NOT_FOUND;
	ans = xmalloc(sizeof(*ans));
	if (storage_call(e, p, p->storage_lookup_url, login_body(login), ans,
		err, errlen) != 0)
		goto out;
	if (ans->status == 200)
		r = answer_user(ans, out, err, errlen);
	else if (ans->status == 404)
		r = STORAGE_NOT_FOUND;
	else
		snprintf(err, errlen, "lookup: the app answered %ld",
		    ans->status);
out:
	free(ans);
	return r;
}

/*
 * The user of an answer that says "this user" (a password check that
 * took the password, a create that made the user): a 200 or 201 answer
 * carries it, a 204 one does not and a lookup of login fetches it.  An
 * app whose lookup then does not know the user contradicts itself: an
 * error, as is any other status here.
 */
static enum storage_result
answered_user(struct engine *e, const struct project *p,
    struct webhook_answer *ans, const char *login, struct storage_user *out,
    char *err, size_t errlen)
{
	enum storage_result r;

	if (ans->status != 204)
		return answer_user(ans, out, err, errlen);
	r = wh_lookup(e, p, login, out, err, errlen);
	if (r == STORAGE_NOT_FOUND) {
		snprintf(err, errlen,
		    "the app answered 204 for a user its lookup does not know");
		r = STORAGE_FAILED;
	}
	return r;
}

static enum storage_result
wh_check(struct engine *e, const struct project *p, const char *login,
    const char *password, struct storage_user *out, char *err, size_t errlen)
{
	struct webhook_answer *ans;
	enum storage_result r = STORAGE_FAILED;
	json_t *body;

	/* JSON carries text only: such a login or password is refused. */
	if (!str_is_utf8(login, strlen(login)) ||
	    !str_is_utf8(password, strlen(password)))
		return STORAGE_NOT_FOUND;
	ans = xmalloc(sizeof(*ans));
	body = login_body(login);
	json_object_set_new(body, "password", json_string(password));
	if (storage_call(e, p, p->storage_verify_url, body, ans, err, errlen) !=
	    0)
		goto out;
	switch (ans->status) {
	case 200:
	case 204:
		r = answered_user(e, p, ans, login, out, err, errlen);
		break;
	case 400:
	case 401:
	case 403:
	case 404:
	case 422:
		r = STORAGE_NOT_FOUND;
		break;
	default:
		snprintf(err, errlen, "password check: the app answered %ld",
		    ans->status);
	}
out:
	sodium_memzero(ans, sizeof(*ans));
	free(ans);
	return r;
}

static enum storage_result
wh_set(struct engine *e, const struct project *p, const struct user *u,
    const char *password, const char *verify_code, char **hash_out, char *err,
    size_t errlen)
{
	struct webhook_answer *ans = xmalloc(sizeof(*ans));
	enum storage_result r = STORAGE_FAILED;
	json_t *body;
	char *hash = NULL;

	*hash_out = NULL;
	if (u->external_id == NULL) {
		snprintf(err, errlen, "the user has no id in the app");
		goto out;
	}
	body = json_pack("{s:s,s:s}", "user_id", u->external_id, "email",
	    u->email);
	if (p->storage_password_format != NULL &&
	    strcmp(p->storage_password_format, "argon2id") == 0) {
		hash = hasher_hash(e->hasher, password);
		if (hash == NULL) {
			json_decref(body);
			snprintf(err, errlen, "cannot hash the password");
			goto out;
		}
		json_object_set_new(body, "password_hash", json_string(hash));
	} else
		json_object_set_new(body, "new_password",
		    json_string(password));
	if (verify_code != NULL)
		json_object_set_new(body, "verify_code",
		    json_string(verify_code));
	if (storage_call(e, p, p->storage_password_url, body, ans, err,
		errlen) != 0)
		goto out;
	switch (ans->status) {
	case 200:
		if (storage_answer_object(ans->content_type, ans->body,
			ans->len, err, errlen) == 0)
			r = STORAGE_OK;
		break;
	case 204:
		r = STORAGE_OK;
		break;
	case 400:
	case 403:
	case 409:
	case 422:
		snprintf(err, errlen, "the app refused the password (%ld)",
		    ans->status);
		r = STORAGE_REFUSED;
		break;
	default:
		snprintf(err, errlen, "password set: the app answered %ld",
		    ans->status);
	}
out:
	xfree_secret(hash);
	free(ans);
	return r;
}

static enum storage_result
wh_create(struct engine *e, const struct project *p, const char *email,
    const char *username, const char *password, struct storage_user *out,
    char *err, size_t errlen)
{
	struct webhook_answer *ans = xmalloc(sizeof(*ans));
	enum storage_result r = STORAGE_FAILED;
	json_t *body;

	if (p->storage_new_user_url == NULL) {
		snprintf(err, errlen,
		    "the project's app takes no new users "
		    "(no storage_new_user_url)");
		free(ans);
		return STORAGE_REFUSED;
	}
	body = json_pack("{s:s}", "email", email);
	if (username != NULL)
		json_object_set_new(body, "username", json_string(username));
	json_object_set_new(body, "password",
	    json_string(password != NULL ? password : ""));
	if (storage_call(e, p, p->storage_new_user_url, body, ans, err,
		errlen) != 0)
		goto out;
	switch (ans->status) {
	case 200:
	case 201:
	case 204:
		r = answered_user(e, p, ans, email, out, err, errlen);
		break;
	case 409:
		r = STORAGE_EXISTS;
		break;
	case 400:
	case 422:
		snprintf(err, errlen, "the app refused the user (%ld)",
		    ans->status);
		r = STORAGE_REFUSED;
		break;
	default:
		snprintf(err, errlen, "create: the app answered %ld",
		    ans->status);
	}
out:
	free(ans);
	return r;
}

/* builtin backend */

static void
from_user(const struct user *u, struct storage_user *out)
{
	memset(out, 0, sizeof(*out));
	out->id = xstrdup(u->id);
	out->email = xstrdup(u->email);
	out->username = u->username ? xstrdup(u->username) : NULL;
	out->locale = u->locale ? xstrdup(u->locale) : NULL;
	out->disabled = u->disabled;
}

/* The user of login in p's users table (*u NULL when none): 0, or -1. */
static int
bi_find(struct engine *e, const struct project *p, const char *login,
    struct user **u, char *err, size_t errlen)
{
	struct db_conn *c = db_acquire(e->db);
	int rc = -1;

	*u = NULL;
	if (c != NULL) {
		rc = store_user_find(c, p->id, login, u);
		db_release(e->db, c);
	}
	if (rc < 0) {
		snprintf(err, errlen, "the database is unavailable");
		return -1;
	}
	return 0;
}

static enum storage_result
bi_lookup(struct engine *e, const struct project *p, const char *login,
    struct storage_user *out, char *err, size_t errlen)
{
	struct user *u;

	if (bi_find(e, p, login, &u, err, errlen) != 0)
		return STORAGE_FAILED;
	if (u == NULL)
		return STORAGE_NOT_FOUND;
	from_user(u, out);
	user_free(u);
	return STORAGE_OK;
}

static enum storage_result
bi_check(struct engine *e, const struct project *p, const char *login,
    const char *password, struct storage_user *out, char *err, size_t errlen)
{
	struct user *u;
	int ok;

	if (bi_find(e, p, login, &u, err, errlen) != 0)
		return STORAGE_FAILED;
	/* The same hashing work for an unknown user (hasher_verify). */
	ok = hasher_verify(e->hasher, u != NULL ? u->password_hash : NULL,
		 password) >= 1;
	if (u == NULL || !ok) {
		user_free(u);
		return STORAGE_NOT_FOUND;
	}
	from_user(u, out);
	user_free(u);
	return STORAGE_OK;
}

static enum storage_result
bi_set(struct engine *e, const struct project *p, const struct user *u,
    const char *password, const char *verify_code, char **hash_out, char *err,
    size_t errlen)
{
	(void)p;
	(void)u;
	(void)verify_code;
	*hash_out = hasher_hash(e->hasher, password);
	if (*hash_out == NULL) {
		snprintf(err, errlen, "cannot hash the password");
		return STORAGE_FAILED;
	}
	return STORAGE_OK;
}

static const struct user_storage_ops builtin_ops = {
	.name = STORAGE_BUILTIN,
	.lookup = bi_lookup,
	.check = bi_check,
	.set = bi_set,
	.create = NULL, /* the users table is the storage: admin.c */
};

static const struct user_storage_ops webhook_ops = {
	.name = STORAGE_WEBHOOK,
	.lookup = wh_lookup,
	.check = wh_check,
	.set = wh_set,
	.create = wh_create,
};

const struct user_storage_ops *
user_storage_of(const struct project *p)
{
	return storage_is_webhook(p) ? &webhook_ops : &builtin_ops;
}

/* shadows */

struct shadow_tx {
	struct user *u;
	int is_new;
};

static int
shadow_tx(struct db_conn *c, void *arg)
{
	struct shadow_tx *t = arg;
	int rc;

	rc = t->is_new ? store_user_insert(c, t->u) :
			 store_user_shadow_update(c, t->u);
	return rc < 0 ? rc : 0;
}

enum engine_result
storage_shadow_save(struct engine *e, struct user *u, int is_new)
{
	struct shadow_tx t = { u, is_new };

	return db_write(e->db, shadow_tx, &t) == 0 ? ENGINE_OK :
						     ENGINE_UNAVAILABLE;
}

enum engine_result
storage_sign_in(struct engine *e, const struct project *p, const char *login,
    const char *password, struct user **out)
{
	struct storage_user su;
	struct user *u = NULL;
	char err[STORAGE_ERR_MAX] = "";
	enum storage_result sr;
	enum engine_result res;
	int is_new = 0;

	*out = NULL;
	memset(&su, 0, sizeof(su));
	sr = user_storage_of(p)->check(e, p, login, password, &su, err,
	    sizeof(err));
	if (sr == STORAGE_NOT_FOUND)
		return ENGINE_OK;
	if (sr != STORAGE_OK) {
		log_warn("session: project %s: user storage failed: %s", p->id,
		    err);
		storage_user_clear(&su);
		return ENGINE_UNAVAILABLE;
	}
	res = storage_shadow_of(e, p, &su, &u, &is_new);
	if (res == ENGINE_OK)
		res = storage_shadow_save(e, u, is_new);
	/* A first sign-in racing another made the row meanwhile: again. */
	if (res != ENGINE_OK && is_new) {
		user_free(u);
		u = NULL;
		res = storage_shadow_of(e, p, &su, &u, &is_new);
		if (res == ENGINE_OK)
			res = storage_shadow_save(e, u, is_new);
	}
	storage_user_clear(&su);
	if (res != ENGINE_OK) {
		user_free(u);
		return res;
	}
	*out = u;
	return ENGINE_OK;
}
