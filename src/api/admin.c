/*
 * The admin face: JSON over HTTP on the admin listener (admin_listen),
 * and GET /metrics.  Every request carries the bearer token first.
 *
 * The token is kept only as a BLAKE2b hash; what a request presents is
 * hashed the same way and the two hashes compared with sodium_memcmp, so
 * the comparison costs the same whatever the token's length or the place
 * of its first wrong byte, and a right and a wrong token take the same
 * path up to the answer.  Wrong tokens are counted per client address in
 * a token bucket (rate_admin_auth a minute): an address past it gets 429
 * for every request, right token or not, until the bucket refills, so a
 * guesser learns nothing from a right guess while held.
 *
 * Each handler decodes its input into the same core operation the CLI
 * calls (core/admin.c, core/credentials.c), so validation and audit
 * events are one implementation.  Errors are
 * {"error": {"code", "message", "field"?}}; unknown body fields are
 * refused with 400 naming the field.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "../config.h"
#include "../log.h"
#include "../util/embedded.h"
#include "../util/metrics.h"
#include "api.h"
#include "face.h"

#define ADMIN_FALLBACK \
	"{\"error\":{\"code\":\"internal\"," \
	"\"message\":\"the answer could not be encoded\"}}"
#define FAIL_SLOTS 1024
#define METRICS_MAX (4 * 1024 * 1024)

/* Wrong tokens of one client address: a token bucket. */
struct fail_slot {
	uint8_t key[16]; /* keyed hash of the address; 0: free */
	double tokens;
	int64_t at_ms; /* when tokens was last refilled */
};

static struct {
	int ready;
	uint8_t token_hash[crypto_generichash_BYTES];
	double per_minute;
	pthread_mutex_t lock;
	uint8_t slot_key[crypto_shorthash_KEYBYTES];
	struct fail_slot slots[FAIL_SLOTS];
} adm = { .lock = PTHREAD_MUTEX_INITIALIZER };

void
admin_init(const struct config *cfg)
{
	const char *t = cfg->admin_token != NULL ? cfg->admin_token : "";

	crypto_generichash(adm.token_hash, sizeof(adm.token_hash),
	    (const unsigned char *)t, strlen(t), NULL, 0);
	crypto_shorthash_keygen(adm.slot_key);
	adm.per_minute = (double)cfg->rate_admin_auth;
	adm.ready = cfg->admin_token != NULL;
}

/* Answer an admin error: {"error": {code, message, field?}}. */
static void
admin_error(struct http_response *resp, int status, const char *code,
    const char *message, const char *field)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	if (e != NULL && field != NULL)
		json_object_set_new(e, "field", json_string(field));
	api_json_take(resp, status,
	    e != NULL ? json_pack("{s:o}", "error", e) : NULL, ADMIN_FALLBACK);
	resp->outcome = code;
}

/* The bucket of addr, under adm.lock, refilled to now. */
static struct fail_slot *
fail_slot(const char *addr, int64_t now)
{
	uint8_t key[16];
	uint8_t h[crypto_shorthash_BYTES];
	struct fail_slot *s;
	double add;

	crypto_generichash(key, sizeof(key), (const unsigned char *)addr,
	    strlen(addr), adm.slot_key, sizeof(adm.slot_key));
	key[0] |= 1; /* never all zero: that marks a free slot */
	crypto_shorthash(h, key, sizeof(key), adm.slot_key);
	s = &adm.slots[(h[0] | (size_t)h[1] << 8) % FAIL_SLOTS];
	if (memcmp(s->key, key, sizeof(key)) != 0) {
		/* A new address takes the slot; the old one is forgotten. */
		memcpy(s->key, key, sizeof(key));
		s->tokens = adm.per_minute;
		s->at_ms = now;
	}
	add = (double)(now - s->at_ms) * adm.per_minute / 60000.0;
	s->tokens = s->tokens + add > adm.per_minute ? adm.per_minute :
						       s->tokens + add;
	s->at_ms = now;
	return s;
}

/*
 * 1 when r carries the admin token and its address is not held back;
 * otherwise 0, with resp answered 401 or 429.
 */
static int
authorised(const struct http_request *r, struct http_response *resp)
{
	uint8_t h[crypto_generichash_BYTES];
	const char *auth = http_header(r, "Authorization");
	const char *tok = "";
	struct fail_slot *s;
	int64_t wait_s;
	int ok;

	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0)
		tok = auth + 7;
	crypto_generichash(h, sizeof(h), (const unsigned char *)tok,
	    strlen(tok), NULL, 0);
	ok = adm.ready && sodium_memcmp(h, adm.token_hash, sizeof(h)) == 0;
	pthread_mutex_lock(&adm.lock);
	s = fail_slot(r->client_ip, time_mono_ms());
	if (s->tokens < 1.0) {
		wait_s = (int64_t)((1.0 - s->tokens) * 60.0 / adm.per_minute) +
		    1;
		pthread_mutex_unlock(&adm.lock);
		metrics_inc(M_RATE_LIMITED_ADMIN);
		http_set_retry_after(resp, wait_s);
		admin_error(resp, 429, "rate_limited",
		    "too many wrong tokens "
		    "from this address; try again later",
		    NULL);
		return 0;
	}
	if (!ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&adm.lock);
	if (ok)
		return 1;
	metrics_inc(M_ADMIN_AUTH_FAILED);
	http_set_header(resp, "WWW-Authenticate",
	    "Bearer realm=\"resetd-admin\"");
	admin_error(resp, 401, "unauthorized",
	    "a valid bearer token is "
	    "required",
	    NULL);
	return 0;
}

static void
admin_not_found(const struct http_request *r, struct http_response *resp)
{
	if (!authorised(r, resp))
		return;
	admin_error(resp, 404, "not_found", "no such admin endpoint or method",
	    NULL);
}

static void
admin_metrics(const struct http_request *r, struct http_response *resp)
{
	struct buf b;
	int64_t pending = 0, dead = 0;
	int rc;

	if (!authorised(r, resp))
		return;
	buf_init(&b, METRICS_MAX);
	rc = metrics_render(&b);
	if (rc == 0)
		rc = http_metrics_render(&b);
	if (rc == 0 &&
	    engine_outbox_depth((struct engine *)r->app, &pending, &dead) ==
		ENGINE_OK)
		rc = buf_printf(&b,
		    "# HELP resetd_outbox_messages Messages in "
		    "the outbox, by state: pending (queued or to retry) and "
		    "dead.\n# TYPE resetd_outbox_messages gauge\n"
		    "resetd_outbox_messages{state=\"pending\"} %lld\n"
		    "resetd_outbox_messages{state=\"dead\"} %lld\n",
		    (long long)pending, (long long)dead);
	if (rc != 0) {
		buf_free(&b);
		admin_error(resp, 500, "internal", "the metrics did not fit",
		    NULL);
		return;
	}
	http_set_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	resp->outcome = "ok";
}

/* the admin API */

#define BODY_FIELD_MAX 4096
#define ADMIN_LIST_DEFAULT 100
#define IMPORT_MAX 1000
#define ACTOR_MAX 80

enum field_type {
	F_STRING,
	F_BOOL,
	F_INT,
	F_STRINGS, /* an array of strings */
	F_OBJECTS, /* an array of objects */
};

struct field {
	const char *name;
	enum field_type type;
};

/* The fields of a project, as POST /admin/projects takes them. */
static const struct field project_fields[] = {
	{ "name", F_STRING },
	{ "callback_urls", F_STRINGS },
	{ "allowed_origins", F_STRINGS },
	{ "reset_url", F_STRING },
	{ "token_ttl", F_INT },
	{ "send_reset_emails", F_BOOL },
	{ "delivery", F_STRING },
	{ "mail_from", F_STRING },
	{ "mail_from_name", F_STRING },
	{ "locale", F_STRING },
	{ "unknown_account_notice", F_BOOL },
	{ "logo_url", F_STRING },
	{ "accent_color", F_STRING },
	{ "reset_limit_per_hour", F_INT },
	{ "mail_budget_per_hour", F_INT },
	{ "notice_limit_per_hour", F_INT },
	{ "notice_share_percent", F_INT },
	{ "password_min_length", F_INT },
	{ "password_min_score", F_INT },
	{ "password_policy", F_STRING },
	{ "password_lists", F_BOOL },
	{ "password_score", F_BOOL },
	{ "password_require", F_STRING },
	{ "login_token_ttl", F_INT },
	{ "allow_private_targets", F_BOOL },
	{ "user_storage", F_STRING },
	{ "storage_lookup_url", F_STRING },
	{ "storage_verify_url", F_STRING },
	{ "storage_password_url", F_STRING },
	{ "storage_new_user_url", F_STRING },
	{ "storage_password_format", F_STRING },
	{ "storage_timeout_ms", F_INT },
	{ NULL, F_STRING },
};

static const struct field user_fields[] = {
	{ "email", F_STRING },
	{ "username", F_STRING },
	{ "password", F_STRING },
	{ "first_name", F_STRING },
	{ "last_name", F_STRING },
	{ "email_verified", F_BOOL },
	{ "locale", F_STRING },
	{ NULL, F_STRING },
};

/* An imported user may bring a hash instead of a password. */
static const struct field import_user_fields[] = {
	{ "email", F_STRING },
	{ "username", F_STRING },
	{ "password", F_STRING },
	{ "password_hash", F_STRING },
	{ "first_name", F_STRING },
	{ "last_name", F_STRING },
	{ "email_verified", F_BOOL },
	{ "locale", F_STRING },
	{ NULL, F_STRING },
};

static const struct field import_fields[] = {
	{ "users", F_OBJECTS },
	{ NULL, F_STRING },
};

static const struct field client_fields[] = {
	{ "secret", F_BOOL },
	{ "reveal_user_existence", F_BOOL },
	{ NULL, F_STRING },
};

/* What PATCH /admin/users/{id} changes (core's admin_user_update). */
static const struct field user_update_fields[] = {
	{ "first_name", F_STRING },
	{ "last_name", F_STRING },
	{ "email_verified", F_BOOL },
	{ "password", F_STRING },
	{ NULL, F_STRING },
};

/* Operators' actions may name who asked, for the audit trail. */
static const struct field actor_fields[] = {
	{ "requested_by", F_STRING },
	{ NULL, F_STRING },
};

static const struct field no_fields[] = {
	{ NULL, F_STRING },
};

/*
 * The CLI's names for fields, as core's messages use them, and the API's:
 * a message "reset-limit: ..." names the field reset_limit_per_hour.
 */
static const struct {
	const char *cli;
	const char *api;
} field_names[] = {
	{ "callback-url", "callback_urls" },
	{ "allowed-origin", "allowed_origins" },
	{ "reset-limit", "reset_limit_per_hour" },
	{ "mail-budget", "mail_budget_per_hour" },
	{ "notice-limit", "notice_limit_per_hour" },
	{ "notice-share", "notice_share_percent" },
	{ "name", "name" },
	{ NULL, NULL },
};

/*
 * Check obj's fields against table: each known, each of its type (null
 * counts as absent).  0, or -1 with resp answered 400 naming the field.
 */
static int
fields_check(json_t *obj, const struct field *table, const char *prefix,
    struct http_response *resp)
{
	const struct field *f;
	const char *key;
	json_t *v, *item;
	char name[160];
	size_t i;
	int ok;

	json_object_foreach(obj, key, v)
	{
		snprintf(name, sizeof(name), "%s%s", prefix, key);
		for (f = table; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			/* The key is the client's: only clean text is echoed. */
			if (!str_is_clean_utf8(key, strlen(key)) ||
			    strlen(key) > 64)
				snprintf(name, sizeof(name), "%s?", prefix);
			admin_error(resp, 400, "unknown_field",
			    "this field is "
			    "not one the call takes",
			    name);
			return -1;
		}
		if (json_is_null(v))
			continue;
		switch (f->type) {
		case F_STRING:
			ok = json_is_string(v) &&
			    json_string_length(v) <= BODY_FIELD_MAX &&
			    strlen(json_string_value(v)) ==
				json_string_length(v);
			break;
		case F_BOOL:
			ok = json_is_boolean(v);
			break;
		case F_INT:
			ok = json_is_integer(v);
			break;
		case F_STRINGS:
			ok = json_is_array(v);
			json_array_foreach(v, i,
			    item) if (!json_is_string(item) ||
			    strlen(json_string_value(item)) !=
				json_string_length(item)) ok = 0;
			break;
		case F_OBJECTS:
			ok = json_is_array(v);
			json_array_foreach(v, i,
			    item) if (!json_is_object(item)) ok = 0;
			break;
		default:
			ok = 0; /* no request may end the process */
			break;
		}
		if (!ok) {
			admin_error(resp, 400, "invalid_type",
			    f->type == F_BOOL ? "expected true or false" :
				f->type == F_INT ?
						"expected an integer" :
				f->type == F_STRING ?
						"expected a string" :
				f->type == F_STRINGS ?
						"expected an array of strings" :
						"expected an array of objects",
			    name);
			return -1;
		}
	}
	return 0;
}

/*
 * Parse the body as a JSON object whose fields table allows (an empty
 * body is an empty object when empty_ok).  NULL, with resp answered, when
 * it is not one.
 */
static json_t *
body_object(const struct http_request *r, struct http_response *resp,
    const struct field *table, int empty_ok)
{
	char err[256];
	json_t *obj = NULL;
	enum api_body rc;

	if (empty_ok && !r->body_too_large &&
	    (r->body == NULL || r->body_len == 0))
		return json_object();
	rc = api_parse_object(r, "application/json", &obj, err, sizeof(err));
	if (rc != API_BODY_OK) {
		admin_error(resp,
		    rc == API_BODY_TOO_LARGE	  ? 413 :
			rc == API_BODY_WRONG_TYPE ? 415 :
						    400,
		    rc == API_BODY_TOO_LARGE	  ? "body_too_large" :
			rc == API_BODY_WRONG_TYPE ? "unsupported_media_type" :
						    "malformed_body",
		    err, NULL);
		return NULL;
	}
	if (fields_check(obj, table, "", resp) == -1) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static const char *
str_of(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* An integer field, or def when absent or null. */
static int64_t
int_of(json_t *obj, const char *name, int64_t def)
{
	json_t *v = json_object_get(obj, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

/* A boolean field: 1, 0, or def when absent or null. */
static int
bool_of(json_t *obj, const char *name, int def)
{
	json_t *v = json_object_get(obj, name);

	return json_is_boolean(v) ? json_is_true(v) : def;
}

/* A NULL-terminated array of an array of strings' values (free it). */
static const char **
strings_of(json_t *obj, const char *name)
{
	json_t *a = json_object_get(obj, name), *v;
	const char **out;
	size_t i;

	if (!json_is_array(a))
		return NULL;
	out = xcalloc(json_array_size(a) + 1, sizeof(*out));
	json_array_foreach(a, i, v) out[i] = json_string_value(v);
	return out;
}

/*
 * The field a core message names ("reset-limit: expected ..."), as the
 * API names it; prefix is put before it ("users[3].").
 */
static void
err_field(const char *err, const char *prefix, char *out, size_t outlen)
{
	char name[64];
	size_t n = strspn(err, "abcdefghijklmnopqrstuvwxyz_-"), i;

	out[0] = '\0';
	if (n == 0 || n >= sizeof(name) || err[n] != ':')
		return;
	memcpy(name, err, n);
	name[n] = '\0';
	for (i = 0; field_names[i].cli != NULL; i++)
		if (strcmp(field_names[i].cli, name) == 0)
			break;
	if (field_names[i].cli != NULL)
		snprintf(name, sizeof(name), "%s", field_names[i].api);
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '-')
			name[i] = '_';
	snprintf(out, outlen, "%s%s", prefix, name);
}

/* Answer a core result other than ENGINE_OK, with err when it has one. */
static void
answer_result(struct http_response *resp, enum engine_result r, const char *err,
    const char *prefix)
{
	char field[96];

	err_field(err != NULL ? err : "", prefix, field, sizeof(field));
	switch (r) {
	case ENGINE_BAD_INPUT:
	case ENGINE_PASSWORD_TOO_SHORT:
	case ENGINE_PASSWORD_TOO_LONG:
	case ENGINE_PASSWORD_INVALID_TEXT:
	case ENGINE_PASSWORD_WEAK:
	case ENGINE_STORAGE_REFUSED:
		admin_error(resp, 400, "invalid_field",
		    err != NULL && *err ? err : "a field is not valid",
		    field[0] ? field : NULL);
		break;
	case ENGINE_PROJECT_UNKNOWN:
		admin_error(resp, 404, "project_not_found", "no such project",
		    NULL);
		break;
	case ENGINE_USER_UNKNOWN:
	case ENGINE_CREDENTIALS_INVALID:
		admin_error(resp, 404, "not_found",
		    err != NULL && *err ? err : "no such record", NULL);
		break;
	case ENGINE_CONFLICT:
	case ENGINE_USER_DISABLED:
		admin_error(resp, 409, "conflict",
		    err != NULL && *err ?
			err :
			"the record is not in a state that allows this",
		    field[0] ? field : NULL);
		break;
	case ENGINE_THROTTLED:
		admin_error(resp, 429, "rate_limited",
		    err != NULL && *err ? err : "try again later", NULL);
		break;
	case ENGINE_UNAVAILABLE:
		admin_error(resp, 503, "unavailable",
		    "the database is "
		    "unavailable; try again",
		    NULL);
		break;
	default:
		admin_error(resp, 500, "internal", engine_result_name(r), NULL);
		break;
	}
}

static void
reply(struct http_response *resp, int status, json_t *v)
{
	api_json_take(resp, status, v, ADMIN_FALLBACK);
	resp->outcome = "ok";
}

/* The request's context, for the audit trail. */
static void
context(const struct http_request *r, struct request_context *ctx)
{
	face_context(r, ctx);
}

/*
 * Who asked, for the audit trail: "admin api", or "admin api:NAME" with
 * the body's requested_by.  -1, with resp answered 400, when it is not
 * a name.
 */
static int
actor(json_t *body, char out[ACTOR_MAX], struct http_response *resp)
{
	const char *by = body != NULL ? str_of(body, "requested_by") : NULL;

	if (by != NULL && !admin_actor_valid(by)) {
		admin_error(resp, 400, "invalid_field",
		    "requested_by: expected "
		    "1 to 64 letters, digits or ._@:-",
		    "requested_by");
		return -1;
	}
	snprintf(out, ACTOR_MAX, "admin_api%s%s", by ? ":" : "", by ? by : "");
	return 0;
}

/*
 * A query argument that must be a whole number in [min, max]; def when
 * absent.  -1, with resp answered 400, when it is not.
 */
static int
query_int(const struct http_request *r, const char *name, int64_t def,
    int64_t min, int64_t max, int64_t *out, struct http_response *resp)
{
	const char *v = http_query(r, name);
	char *end, msg[96];
	long long n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
		snprintf(msg, sizeof(msg), "%s: expected %lld to %lld", name,
		    (long long)min, (long long)max);
		admin_error(resp, 400, "invalid_field", msg, name);
		return -1;
	}
	*out = n;
	return 0;
}

/*
 * A time query argument: RFC 3339 in UTC ("2026-12-03T08:00:00Z", with
 * optional fractions of a second) into ms; def when absent.
 */
static int
query_time(const struct http_request *r, const char *name, int64_t def,
    int64_t *out, struct http_response *resp)
{
	const char *v = http_query(r, name), *p;
	struct tm tm;
	char msg[96];
	int64_t ms = 0, scale = 100;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p != NULL && *p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ms += (*p - '0') * scale;
	}
	if (p == NULL || strcmp(p, "Z") != 0 || tm.tm_year < 70) {
		snprintf(msg, sizeof(msg),
		    "%s: expected a UTC time like "
		    "2026-01-31T12:00:00Z",
		    name);
		admin_error(resp, 400, "invalid_field", msg, name);
		return -1;
	}
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

/* The query arguments a GET takes; any other is refused. */
static int
query_check(const struct http_request *r, const char *const *allowed,
    struct http_response *resp)
{
	const char *stray;

	if (r->query_invalid) {
		admin_error(resp, 400, "invalid_query",
		    "a query argument is "
		    "not valid text",
		    NULL);
		return -1;
	}
	stray = http_query_stray(r, allowed);
	if (stray != NULL) {
		/* Clean text (query_invalid is not set), but the client's. */
		admin_error(resp, 400, "unknown_field",
		    "a query argument is "
		    "not one the call takes",
		    strlen(stray) <= 64 ? stray : NULL);
		return -1;
	}
	return 0;
}

static json_t *
list_json(struct store_list *l, json_t *(*fn)(const void *))
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, fn(l->items[i]));
	return a;
}


static json_t *
user_item(const void *u)
{
	return api_user_json(u);
}

static json_t *
outbox_item(const void *m)
{
	return api_outbox_json(m);
}

static json_t *
key_item(const void *v)
{
	const struct api_key *k = v;

	return json_pack("{s:s, s:s, s:o, s:o}", "id", k->id, "project_id",
	    k->project_id, "created_at", api_time(k->created_at), "revoked_at",
	    k->revoked_at ? api_time(k->revoked_at) : json_null());
}

static json_t *
audit_item(const void *v)
{
	return api_audit_json(v);
}

static const char *const no_query[] = { NULL };

/* A project as the admin API answers it, with its Cognito user pool id. */
static json_t *
project_out(const struct http_request *r, const struct project *p)
{
	return api_project_json(p, engine_config(r->app)->aws_region);
}

static void
admin_projects_list(const struct http_request *r, struct http_response *resp)
{
	struct store_list l = { NULL, 0 };
	enum engine_result res;

	if (!authorised(r, resp) || query_check(r, no_query, resp) == -1)
		return;
	res = admin_project_list((struct engine *)r->app, &l);
	if (res == ENGINE_OK) {
		json_t *a = json_array();
		size_t i;

		for (i = 0; i < l.n; i++)
			json_array_append_new(a, project_out(r, l.items[i]));
		reply(resp, 200, json_pack("{s:o}", "data", a));
	} else
		answer_result(resp, res, NULL, "");
	store_list_free(&l, (void (*)(void *))project_free);
}

static void
admin_projects_create(const struct http_request *r, struct http_response *resp)
{
	struct project_spec spec = { PROJECT_SPEC_DEFAULTS };
	struct project *p = NULL;
	enum engine_result res;
	const char **callbacks, **origins;
	char err[256] = "";
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, project_fields, 0)) == NULL)
		return;
	callbacks = strings_of(b, "callback_urls");
	origins = strings_of(b, "allowed_origins");
	spec.name = str_of(b, "name");
	spec.callback_urls = callbacks;
	spec.allowed_origins = origins;
	spec.reset_url = str_of(b, "reset_url");
	spec.token_ttl = int_of(b, "token_ttl", 0);
	spec.reset_emails_off = !bool_of(b, "send_reset_emails", 1);
	spec.delivery = str_of(b, "delivery");
	spec.mail_from = str_of(b, "mail_from");
	spec.mail_from_name = str_of(b, "mail_from_name");
	spec.locale = str_of(b, "locale");
	spec.unknown_account_notice = bool_of(b, "unknown_account_notice", 0);
	spec.logo_url = str_of(b, "logo_url");
	spec.accent_color = str_of(b, "accent_color");
	spec.reset_limit_per_hour = int_of(b, "reset_limit_per_hour", -1);
	spec.mail_budget_per_hour = int_of(b, "mail_budget_per_hour", -1);
	spec.notice_limit_per_hour = int_of(b, "notice_limit_per_hour", -1);
	spec.notice_share_percent = int_of(b, "notice_share_percent", -1);
	spec.password_min_length = int_of(b, "password_min_length", -1);
	spec.password_min_score = int_of(b, "password_min_score", -1);
	spec.password_profile = str_of(b, "password_policy");
	spec.password_lists = bool_of(b, "password_lists", -1);
	spec.password_score = bool_of(b, "password_score", -1);
	spec.password_require = str_of(b, "password_require");
	spec.login_token_ttl = int_of(b, "login_token_ttl", -1);
	spec.allow_private_targets = bool_of(b, "allow_private_targets", 0);
	spec.user_storage = str_of(b, "user_storage");
	spec.storage_lookup_url = str_of(b, "storage_lookup_url");
	spec.storage_verify_url = str_of(b, "storage_verify_url");
	spec.storage_password_url = str_of(b, "storage_password_url");
	spec.storage_new_user_url = str_of(b, "storage_new_user_url");
	spec.storage_password_format = str_of(b, "storage_password_format");
	spec.storage_timeout_ms = int_of(b, "storage_timeout_ms", 0);
	/* A token_ttl of 0 or less means nothing; core takes 0 as default. */
	if (json_object_get(b, "token_ttl") != NULL &&
	    !json_is_null(json_object_get(b, "token_ttl")) &&
	    spec.token_ttl < 1)
		spec.token_ttl = -1;
	res = admin_project_create((struct engine *)r->app, &spec, &p, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 201, project_out(r, p));
	else
		answer_result(resp, res, err, "");
	free(callbacks);
	free(origins);
	project_free(p);
	json_decref(b);
}

/* The string field name of b when present: its value, or NULL for null. */
static void
patch_string(json_t *b, const char *name, const char **field)
{
	if (json_object_get(b, name) != NULL)
		*field = str_of(b, name);
}

static void
patch_int(json_t *b, const char *name, int64_t *field)
{
	if (json_object_get(b, name) != NULL)
		*field = int_of(b, name, -1);
}

/*
 * PATCH /admin/projects/{id}: change the settings the body names, keep
 * the others; the result is checked as a whole, as at creation.
 */
static void
admin_projects_update(const struct http_request *r, struct http_response *resp)
{
	struct project_spec spec;
	struct project *old = NULL, *p = NULL;
	enum engine_result res;
	const char **callbacks = NULL, **origins = NULL;
	const char **old_callbacks = NULL, **old_origins = NULL;
	char err[256] = "";
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, project_fields, 0)) == NULL)
		return;
	res = admin_project_show(r->app, r->path_param, &old);
	if (res != ENGINE_OK) {
		answer_result(resp, res, NULL, "");
		goto out;
	}
	admin_project_spec(old, &spec);
	if (json_object_get(b, "callback_urls") != NULL)
		callbacks = strings_of(b, "callback_urls");
	else
		callbacks = old_callbacks = engine_list_split(
		    old->callback_urls);
	if (json_object_get(b, "allowed_origins") != NULL)
		origins = strings_of(b, "allowed_origins");
	else
		origins = old_origins = engine_list_split(old->allowed_origins);
	spec.callback_urls = callbacks;
	spec.allowed_origins = origins;
	patch_string(b, "name", &spec.name);
	patch_string(b, "reset_url", &spec.reset_url);
	patch_string(b, "delivery", &spec.delivery);
	patch_string(b, "mail_from", &spec.mail_from);
	patch_string(b, "mail_from_name", &spec.mail_from_name);
	patch_string(b, "locale", &spec.locale);
	patch_string(b, "logo_url", &spec.logo_url);
	patch_string(b, "accent_color", &spec.accent_color);
	patch_int(b, "token_ttl", &spec.token_ttl);
	if (json_is_null(json_object_get(b, "token_ttl")))
		spec.token_ttl = 0; /* the default */
	patch_int(b, "reset_limit_per_hour", &spec.reset_limit_per_hour);
	patch_int(b, "mail_budget_per_hour", &spec.mail_budget_per_hour);
	patch_int(b, "notice_limit_per_hour", &spec.notice_limit_per_hour);
	patch_int(b, "notice_share_percent", &spec.notice_share_percent);
	patch_int(b, "password_min_length", &spec.password_min_length);
	patch_int(b, "password_min_score", &spec.password_min_score);
	patch_string(b, "password_policy", &spec.password_profile);
	spec.password_lists = bool_of(b, "password_lists", -1);
	spec.password_score = bool_of(b, "password_score", -1);
	patch_string(b, "password_require", &spec.password_require);
	patch_int(b, "login_token_ttl", &spec.login_token_ttl);
	spec.allow_private_targets = bool_of(b, "allow_private_targets",
	    spec.allow_private_targets);
	patch_string(b, "user_storage", &spec.user_storage);
	patch_string(b, "storage_lookup_url", &spec.storage_lookup_url);
	patch_string(b, "storage_verify_url", &spec.storage_verify_url);
	patch_string(b, "storage_password_url", &spec.storage_password_url);
	patch_string(b, "storage_new_user_url", &spec.storage_new_user_url);
	patch_string(b, "storage_password_format",
	    &spec.storage_password_format);
	patch_int(b, "storage_timeout_ms", &spec.storage_timeout_ms);
	spec.reset_emails_off = !bool_of(b, "send_reset_emails",
	    !spec.reset_emails_off);
	spec.unknown_account_notice = bool_of(b, "unknown_account_notice",
	    spec.unknown_account_notice);
	/* As at creation, a token_ttl below 1 is refused, not defaulted. */
	if (json_is_integer(json_object_get(b, "token_ttl")) &&
	    spec.token_ttl < 1)
		spec.token_ttl = -1;
	if (spec.delivery == NULL)
		spec.delivery = "link";
	res = admin_project_update(r->app, r->path_param, &spec, &p, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200, project_out(r, p));
	else
		answer_result(resp, res, err, "");
out:
	if (old_callbacks == NULL)
		free(callbacks);
	if (old_origins == NULL)
		free(origins);
	engine_list_free(old_callbacks);
	engine_list_free(old_origins);
	project_free(old);
	project_free(p);
	json_decref(b);
}

static void
admin_projects_get(const struct http_request *r, struct http_response *resp)
{
	struct project *p = NULL;
	enum engine_result res;

	if (!authorised(r, resp) || query_check(r, no_query, resp) == -1)
		return;
	res = admin_project_show((struct engine *)r->app, r->path_param, &p);
	if (res == ENGINE_OK)
		reply(resp, 200, project_out(r, p));
	else
		answer_result(resp, res, NULL, "");
	project_free(p);
}

static void
admin_users_list(const struct http_request *r, struct http_response *resp)
{
	static const char *const allowed[] = { "email", "cursor", "limit",
		NULL };
	struct store_list l = { NULL, 0 };
	struct user_query q;
	enum engine_result res;
	char next[ADMIN_CURSOR_MAX + 1], err[256] = "";
	int64_t limit;

	if (!authorised(r, resp) || query_check(r, allowed, resp) == -1 ||
	    query_int(r, "limit", ADMIN_LIST_DEFAULT, 1, ADMIN_PAGE_MAX, &limit,
		resp) == -1)
		return;
	q = (struct user_query){
		.project_id = r->path_param,
		.email = http_query(r, "email"),
		.cursor = http_query(r, "cursor"),
		.limit = limit,
	};
	res = admin_user_list((struct engine *)r->app, &q, &l, next, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200,
		    json_pack("{s:o, s:o}", "data", list_json(&l, user_item),
			"next_cursor",
			next[0] ? json_string(next) : json_null()));
	else
		answer_result(resp, res, err, "");
	store_list_free(&l, (void (*)(void *))user_free);
}

/* Fill a user spec of project_id from an object checked by fields_check. */
static void
user_spec_of(json_t *o, const char *project_id, struct user_spec *spec)
{
	*spec = (struct user_spec){
		.project_id = project_id,
		.email = str_of(o, "email"),
		.username = str_of(o, "username"),
		.password = str_of(o, "password"),
		.password_hash = str_of(o, "password_hash"),
		.first_name = str_of(o, "first_name"),
		.last_name = str_of(o, "last_name"),
		.email_verified = bool_of(o, "email_verified", 0),
		.locale = str_of(o, "locale"),
	};
}

static void
admin_users_create(const struct http_request *r, struct http_response *resp)
{
	struct user_spec spec;
	struct user *u = NULL;
	enum engine_result res;
	char err[256] = "";
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, user_fields, 0)) == NULL)
		return;
	user_spec_of(b, r->path_param, &spec);
	res = admin_user_create((struct engine *)r->app, &spec, &u, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 201, api_user_json(u));
	else if (res == ENGINE_PROJECT_UNKNOWN)
		answer_result(resp, res, NULL, "");
	else
		answer_result(resp, res, err, "");
	user_free(u);
	json_decref(b);
}

static void
admin_users_import(const struct http_request *r, struct http_response *resp)
{
	struct user_spec *specs = NULL;
	enum engine_result res;
	char err[512] = "", prefix[32], field[96];
	json_t *b, *users, *o;
	size_t i, n;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, import_fields, 0)) == NULL)
		return;
	users = json_object_get(b, "users");
	n = json_array_size(users);
	if (n == 0 || n > IMPORT_MAX) {
		admin_error(resp, 400, "invalid_field",
		    "users: expected 1 to "
		    "1000 users",
		    "users");
		goto out;
	}
	specs = xcalloc(n, sizeof(*specs));
	json_array_foreach(users, i, o)
	{
		snprintf(prefix, sizeof(prefix), "users[%zu].", i);
		if (fields_check(o, import_user_fields, prefix, resp) == -1)
			goto out;
		user_spec_of(o, r->path_param, &specs[i]);
		/* Operators bring their users' passwords as they are. */
		specs[i].bounds_only = 1;
	}
	res = admin_user_import((struct engine *)r->app, specs, n, err,
	    sizeof(err));
	if (res == ENGINE_OK) {
		reply(resp, 201,
		    json_pack("{s:s, s:I}", "project_id", r->path_param,
			"imported", (json_int_t)n));
		goto out;
	}
	if (res == ENGINE_PROJECT_UNKNOWN ||
	    (res == ENGINE_UNAVAILABLE && strncmp(err, "project", 7) == 0)) {
		answer_result(resp, ENGINE_PROJECT_UNKNOWN, NULL, "");
		goto out;
	}
	/* "user N: field: ..." names users[N-1].field. */
	if (strncmp(err, "user ", 5) == 0 && strchr(err, ':') != NULL) {
		snprintf(prefix, sizeof(prefix), "users[%lld].",
		    strtoll(err + 5, NULL, 10) - 1);
		err_field(strchr(err, ':') + 2, prefix, field, sizeof(field));
		admin_error(resp, res == ENGINE_CONFLICT ? 409 : 400,
		    res == ENGINE_CONFLICT ? "conflict" : "invalid_field", err,
		    field[0] ? field : NULL);
	} else
		answer_result(resp, res, err, "");
out:
	free(specs);
	json_decref(b);
}

static void
admin_users_get(const struct http_request *r, struct http_response *resp)
{
	struct user *u = NULL;
	enum engine_result res;

	if (!authorised(r, resp) || query_check(r, no_query, resp) == -1)
		return;
	res = admin_user_show((struct engine *)r->app, r->path_param, &u);
	if (res == ENGINE_OK)
		reply(resp, 200, api_user_json(u));
	else
		answer_result(resp, res, "no such user", "");
	user_free(u);
}

static void
admin_users_delete(const struct http_request *r, struct http_response *resp)
{
	struct request_context ctx;
	enum engine_result res;
	char by[ACTOR_MAX];
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, actor_fields, 1)) == NULL)
		return;
	if (actor(b, by, resp) == 0) {
		context(r, &ctx);
		res = admin_user_delete((struct engine *)r->app, &ctx, NULL,
		    r->path_param, by);
		if (res == ENGINE_OK)
			http_set_body(resp, 204, NULL, "", 0);
		else
			answer_result(resp, res, "no such user", "");
		resp->outcome = res == ENGINE_OK ? "ok" : resp->outcome;
	}
	json_decref(b);
}

/*
 * PATCH /admin/users/{id}: names (a null or absent one is kept, "" clears
 * it), email_verified and a password by the project's policy, with the
 * user.updated event; core's admin_user_update, as the WorkOS face's.
 */
static void
admin_users_update(const struct http_request *r, struct http_response *resp)
{
	struct user_update up;
	struct project *p = NULL;
	struct user *u = NULL, *out = NULL;
	enum engine_result res;
	char err[256] = "";
	json_t *b, *v;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, user_update_fields, 0)) == NULL)
		return;
	v = json_object_get(b, "email_verified");
	up = (struct user_update){
		.first_name = str_of(b, "first_name"),
		.last_name = str_of(b, "last_name"),
		.email_verified = json_is_boolean(v) ? json_is_true(v) : -1,
		.password = str_of(b, "password"),
	};
	res = admin_user_show((struct engine *)r->app, r->path_param, &u);
	if (res == ENGINE_OK)
		res = admin_project_show((struct engine *)r->app, u->project_id,
		    &p);
	if (res == ENGINE_PROJECT_UNKNOWN)
		res = ENGINE_USER_UNKNOWN;
	if (res == ENGINE_OK)
		res = admin_user_update((struct engine *)r->app, p, u->id, &up,
		    &out, err, sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200, api_user_json(out));
	else
		answer_result(resp, res,
		    res == ENGINE_USER_UNKNOWN ? "no such user" : err, "");
	user_free(out);
	user_free(u);
	project_free(p);
	json_decref(b);
}

static void
users_set_disabled(const struct http_request *r, struct http_response *resp,
    int disabled)
{
	struct request_context ctx;
	struct user *u = NULL;
	enum engine_result res;
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, no_fields, 1)) == NULL)
		return;
	json_decref(b);
	res = admin_user_show((struct engine *)r->app, r->path_param, &u);
	if (res == ENGINE_OK) {
		context(r, &ctx);
		res = admin_user_set_disabled((struct engine *)r->app, &ctx,
		    u->project_id, u->id, disabled, NULL);
	}
	user_free(u);
	u = NULL;
	if (res == ENGINE_OK)
		res = admin_user_show((struct engine *)r->app, r->path_param,
		    &u);
	if (res == ENGINE_OK)
		reply(resp, 200, api_user_json(u));
	else
		answer_result(resp, res, "no such user", "");
	user_free(u);
}

static void
admin_users_disable(const struct http_request *r, struct http_response *resp)
{
	users_set_disabled(r, resp, 1);
}

static void
admin_users_enable(const struct http_request *r, struct http_response *resp)
{
	users_set_disabled(r, resp, 0);
}

static void
admin_users_reset(const struct http_request *r, struct http_response *resp)
{
	struct request_context ctx;
	enum engine_result res;
	char by[ACTOR_MAX], err[256] = "";
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, actor_fields, 1)) == NULL)
		return;
	if (actor(b, by, resp) == 0) {
		context(r, &ctx);
		res = admin_user_reset((struct engine *)r->app, &ctx,
		    r->path_param, by, err, sizeof(err));
		if (res == ENGINE_OK)
			reply(resp, 202,
			    json_pack("{s:s, s:s}", "user_id", r->path_param,
				"status", "mailed"));
		else
			answer_result(resp, res, err, "");
	}
	json_decref(b);
}

static void
admin_keys_list(const struct http_request *r, struct http_response *resp)
{
	struct store_list l = { NULL, 0 };
	enum engine_result res;

	if (!authorised(r, resp) || query_check(r, no_query, resp) == -1)
		return;
	res = admin_api_key_list((struct engine *)r->app, r->path_param, &l);
	if (res == ENGINE_OK)
		reply(resp, 200,
		    json_pack("{s:o}", "data", list_json(&l, key_item)));
	else
		answer_result(resp, res, NULL, "");
	store_list_free(&l, (void (*)(void *))api_key_free);
}

static void
admin_keys_create(const struct http_request *r, struct http_response *resp)
{
	struct aws_credentials aws;
	enum engine_result res;
	char id[UUID_STRLEN + 1], *key = NULL;
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, no_fields, 1)) == NULL)
		return;
	json_decref(b);
	res = admin_api_key_create((struct engine *)r->app, r->path_param, &key,
	    id, &aws);
	/*
	 * The key and its AWS secret access key are shown here once; only
	 * the key's keyed hash and the secret sealed are kept.
	 */
	if (res == ENGINE_OK) {
		reply(resp, 201,
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id,
			"project_id", r->path_param, "key", key,
			"aws_access_key_id", aws.access_key_id,
			"aws_secret_access_key", aws.secret_access_key));
		aws_credentials_clear(&aws);
	} else
		answer_result(resp, res, NULL, "");
	xfree_secret(key);
}

static void
admin_keys_revoke(const struct http_request *r, struct http_response *resp)
{
	struct request_context ctx;
	struct api_key *k = NULL;
	enum engine_result res;
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, no_fields, 1)) == NULL)
		return;
	json_decref(b);
	/* By id only: a key itself never travels in a URL. */
	if (!id_is_uuid(r->path_param)) {
		answer_result(resp, ENGINE_CREDENTIALS_INVALID,
		    "no such API key", "");
		return;
	}
	context(r, &ctx);
	res = admin_api_key_revoke((struct engine *)r->app, &ctx, r->path_param,
	    &k);
	if (res == ENGINE_OK)
		reply(resp, 200, key_item(k));
	else
		answer_result(resp, res, "no such API key", "");
	api_key_free(k);
}

static json_t *
client_json(const struct app_client *cl)
{
	json_t *v = json_pack("{s:s, s:s, s:b}", "project_id", cl->project_id,
	    "client_id", cl->id, "prevent_user_existence_errors",
	    cl->prevent_user_existence_errors);

	if (v != NULL && cl->secret != NULL)
		json_object_set_new(v, "client_secret",
		    json_string(cl->secret));
	return v;
}

static void
admin_clients_create(const struct http_request *r, struct http_response *resp)
{
	struct app_client cl;
	enum engine_result res;
	json_t *b;

	memset(&cl, 0, sizeof(cl));
	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, client_fields, 1)) == NULL)
		return;
	res = admin_client_create((struct engine *)r->app, r->path_param,
	    bool_of(b, "secret", 0), bool_of(b, "reveal_user_existence", 0),
	    &cl);
	json_decref(b);
	if (res == ENGINE_OK) {
		reply(resp, 201, client_json(&cl));
		app_client_clear(&cl);
	} else
		answer_result(resp, res, NULL, "");
}

static void
admin_clients_rotate(const struct http_request *r, struct http_response *resp)
{
	struct request_context ctx;
	struct app_client cl;
	enum engine_result res;
	json_t *b;

	memset(&cl, 0, sizeof(cl));
	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, no_fields, 1)) == NULL)
		return;
	json_decref(b);
	context(r, &ctx);
	res = admin_client_rotate_secret((struct engine *)r->app, &ctx,
	    r->path_param, &cl);
	if (res == ENGINE_OK) {
		reply(resp, 200, client_json(&cl));
		app_client_clear(&cl);
	} else
		answer_result(resp, res,
		    res == ENGINE_CONFLICT ?
			"the client "
			"has no secret (make a client with one instead)" :
			"no such client",
		    "");
}

static void
admin_outbox_entries(const struct http_request *r, struct http_response *resp)
{
	static const char *const allowed[] = { "state", "limit", NULL };
	struct store_list l = { NULL, 0 };
	enum engine_result res;
	char err[256] = "";
	int64_t limit;

	if (!authorised(r, resp) || query_check(r, allowed, resp) == -1 ||
	    query_int(r, "limit", ADMIN_LIST_DEFAULT, 1, ADMIN_LIST_MAX, &limit,
		resp) == -1)
		return;
	res = admin_outbox_list((struct engine *)r->app, http_query(r, "state"),
	    limit, &l, err, sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200,
		    json_pack("{s:o}", "data", list_json(&l, outbox_item)));
	else
		answer_result(resp, res, err, "");
	store_list_free(&l, (void (*)(void *))outbox_msg_free);
}

static void
outbox_retry(const struct http_request *r, struct http_response *resp,
    const char *id)
{
	enum engine_result res;
	char err[256] = "";
	int64_t n = 0;
	json_t *b;

	if (!authorised(r, resp) ||
	    (b = body_object(r, resp, no_fields, 1)) == NULL)
		return;
	json_decref(b);
	res = admin_outbox_retry((struct engine *)r->app, id, &n, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200, json_pack("{s:I}", "retried", (json_int_t)n));
	else
		answer_result(resp, res, err, "");
}

static void
admin_outbox_retry_one(const struct http_request *r, struct http_response *resp)
{
	outbox_retry(r, resp, r->path_param);
}

static void
admin_outbox_retry_dead(const struct http_request *r,
    struct http_response *resp)
{
	outbox_retry(r, resp, NULL);
}

static void
admin_audit(const struct http_request *r, struct http_response *resp)
{
	static const char *const allowed[] = { "project_id", "user_id", "since",
		"until", "limit", NULL };
	struct store_list l = { NULL, 0 };
	struct audit_query q;
	enum engine_result res;
	char err[256] = "";

	memset(&q, 0, sizeof(q));
	if (!authorised(r, resp) || query_check(r, allowed, resp) == -1 ||
	    query_int(r, "limit", ADMIN_LIST_DEFAULT, 1, ADMIN_LIST_MAX,
		&q.limit, resp) == -1 ||
	    query_time(r, "since", 0, &q.since, resp) == -1 ||
	    query_time(r, "until", INT64_MAX, &q.until, resp) == -1)
		return;
	q.project_id = http_query(r, "project_id");
	q.user_id = http_query(r, "user_id");
	res = admin_audit_list((struct engine *)r->app, &q, &l, err,
	    sizeof(err));
	if (res == ENGINE_OK)
		reply(resp, 200,
		    json_pack("{s:o}", "data", list_json(&l, audit_item)));
	else
		answer_result(resp, res, err, "");
	store_list_free(&l, (void (*)(void *))audit_event_free);
}

/*
 * GET /openapi/NAME.json: the OpenAPI 3.1 document of a dialect or of this
 * API, built into the binary from docs/openapi/.  Only the names of the
 * table are looked up, so no path reaches another file.
 */
static void
admin_openapi(const struct http_request *r, struct http_response *resp)
{
	static const char *const names[] = { "xsolla.json", "workos.json",
		"cognito.json", "velocity.json", "admin.json", NULL };
	const struct embedded_file *f = NULL;
	char path[64];
	size_t i;

	if (!authorised(r, resp))
		return;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], r->path_param) == 0)
			break;
	if (names[i] != NULL) {
		snprintf(path, sizeof(path), "docs/openapi/%s", names[i]);
		f = embedded_find(path);
	}
	if (f == NULL) {
		admin_error(resp, 404, "not_found",
		    "no such document: try "
		    "xsolla, workos, cognito, velocity or admin (.json)",
		    NULL);
		return;
	}
	http_set_body(resp, 200, "application/json", f->data, f->len);
	resp->outcome = "ok";
}

/*
 * The face's own refusals.  Its routes spend no class of the dialects'
 * limits (HTTP_UNLIMITED): wrong tokens have their own limit, above, and
 * an operator's tools are not throttled once authorised.
 */
static void
admin_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	(void)r;
	http_set_retry_after(resp, retry_after_s);
	admin_error(resp, 429, "rate_limited", "try again later", NULL);
}

static void
admin_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	(void)r;
	(void)result;
	admin_error(resp, 503, "unavailable",
	    "the database is unavailable; "
	    "try again",
	    NULL);
}

#define ADMIN(method, path, fn) \
	{ \
		method, path, NULL, NULL, fn, RUN_WORKER, HTTP_UNLIMITED \
	}

static const struct route admin_routes[] = {
	ADMIN("GET", "/metrics", admin_metrics),
	ADMIN("GET", "/openapi/{}", admin_openapi),
	ADMIN("GET", "/admin/projects", admin_projects_list),
	ADMIN("POST", "/admin/projects", admin_projects_create),
	ADMIN("GET", "/admin/projects/{}", admin_projects_get),
	ADMIN("PATCH", "/admin/projects/{}", admin_projects_update),
	ADMIN("GET", "/admin/projects/{}/users", admin_users_list),
	ADMIN("POST", "/admin/projects/{}/users", admin_users_create),
	ADMIN("POST", "/admin/projects/{}/users/import", admin_users_import),
	ADMIN("GET", "/admin/projects/{}/api-keys", admin_keys_list),
	ADMIN("POST", "/admin/projects/{}/api-keys", admin_keys_create),
	ADMIN("POST", "/admin/projects/{}/clients", admin_clients_create),
	ADMIN("GET", "/admin/users/{}", admin_users_get),
	ADMIN("PATCH", "/admin/users/{}", admin_users_update),
	ADMIN("DELETE", "/admin/users/{}", admin_users_delete),
	ADMIN("POST", "/admin/users/{}/disable", admin_users_disable),
	ADMIN("POST", "/admin/users/{}/enable", admin_users_enable),
	ADMIN("POST", "/admin/users/{}/reset", admin_users_reset),
	ADMIN("POST", "/admin/api-keys/{}/revoke", admin_keys_revoke),
	ADMIN("POST", "/admin/clients/{}/rotate-secret", admin_clients_rotate),
	ADMIN("GET", "/admin/outbox", admin_outbox_entries),
	ADMIN("POST", "/admin/outbox/retry-dead", admin_outbox_retry_dead),
	ADMIN("POST", "/admin/outbox/{}/retry", admin_outbox_retry_one),
	ADMIN("GET", "/admin/audit", admin_audit),
	/* Unknown admin paths and methods: 404 in the face's shape. */
	ADMIN("*", "/admin/*", admin_not_found),
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face admin_face = {
	.name = "admin",
	.routes = admin_routes,
	.throttled = admin_throttled,
	.failed = admin_failed,
};
