/*
 * The WorkOS dialect: AuthKit's password-reset calls, user create and get,
 * and password authentication, under /user_management, for servers that
 * hold a secret API key.  WorkOS's official Node SDK works against it with
 * only its host changed.
 *
 * Wire rules (docs/dialects/workos.md): the project is named by the API key
 * in "Authorization: Bearer sk_..."; ids are a prefix and a ULID; times are
 * ISO-8601 UTC with milliseconds; every answer, errors included, is JSON.
 * Errors are {"code", "message"}, with "errors": [{"code", "message"}] for
 * grouped failures, or OAuth's {"error", "error_description"} on the
 * authenticate call's client checks.
 *
 * A POST with an Idempotency-Key header (SDK 11.x sends one and retries
 * with it) is idempotent: the engine records the answer this file encodes
 * with the work, and a retry gets that answer again, byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../log.h"
#include "api.h"

#define FIELD_MAX 1024
#define URL_FIELD_MAX 2048 /* the engine's limit for URLs */
#define PASSWORD_FIELD_MAX 4096
#define ECHO_ID_MAX 128

#define PREFIX_USER "user_"

/* The answer when another cannot be encoded: fixed, valid, in shape. */
#define WORKOS_FALLBACK \
	"{\"code\":\"server_error\",\"message\":" \
	"\"An internal error occurred; try again.\"}"

/* Every header this face reads: one that is not clean text is a 400. */
static const char *const workos_headers[] = {
	"Authorization",
	"Idempotency-Key",
	"Content-Type",
	"User-Agent",
	NULL,
};
#define PREFIX_RESET "password_reset_"
#define PREFIX_SESSION "session_"

enum workos_error {
	WE_UNAUTHORIZED,	 /* 0 */
	WE_ROUTE_NOT_FOUND,	 /* 1 */
	WE_METHOD_NOT_ALLOWED,	 /* 2 */
	WE_RESET_NOT_FOUND,	 /* 3 */
	WE_USER_NOT_FOUND,	 /* 4 */
	WE_EMAIL_NOT_FOUND,	 /* 5 */
	WE_TOKEN_NOT_FOUND,	 /* 6 */
	WE_TOKEN_EXPIRED,	 /* 7 */
	WE_RESET_PASSWORD_WEAK,	 /* 8 */
	WE_USER_PASSWORD_WEAK,	 /* 9 */
	WE_EMAIL_NOT_AVAILABLE,	 /* 10 */
	WE_INVALID_PARAMETERS,	 /* 11 */
	WE_INVALID_JSON,	 /* 12 */
	WE_INVALID_CREDENTIALS,	 /* 13 */
	WE_INVALID_CLIENT,	 /* 14 */
	WE_UNSUPPORTED_GRANT,	 /* 15 */
	WE_IDEM_KEY_INVALID,	 /* 16 */
	WE_IDEM_KEY_REUSED,	 /* 17 */
	WE_TOO_LARGE,		 /* 18 */
	WE_RATE_LIMITED,	 /* 19 */
	WE_UNAVAILABLE,		 /* 20 */
	WE_INVALID_HEADER,	 /* 21 */
	WE_UNSUPPORTED_CHARSET,	 /* 22 */
	WE_INVALID_GRANT,	 /* 23 */
	WE_SESSION_NOT_FOUND,	 /* 24 */
	WE_RETURN_TO_REFUSED,	 /* 25 */
	WE_UPDATE_PASSWORD_WEAK, /* 26 */
	WE__MAX
};

enum error_shape {
	SHAPE_CODE,    /* {"code", "message"} */
	SHAPE_GROUPED, /* {"code", "message", "errors": [{"code", ...}]} */
	SHAPE_OAUTH,   /* {"error", "error_description"} */
};

static const struct {
	int status;
	enum error_shape shape;
	const char *code;
	const char *message;
	const char *inner_code; /* SHAPE_GROUPED */
	const char *inner_message;
} workos_errors[WE__MAX] = {
	/* WE_UNAUTHORIZED */
	{ 401, SHAPE_CODE, "unauthorized",
	    "Could not authorize the request: the API key is missing, "
	    "malformed or not known.",
	    NULL, NULL },
	/* WE_ROUTE_NOT_FOUND */
	{ 404, SHAPE_CODE, "not_found", "No endpoint has this path.", NULL,
	    NULL },
	/* WE_METHOD_NOT_ALLOWED */
	{ 405, SHAPE_CODE, "method_not_allowed",
	    "This endpoint does not take that method.", NULL, NULL },
	/* WE_RESET_NOT_FOUND */
	{ 404, SHAPE_CODE, "entity_not_found",
	    "Could not find a password reset with that id.", NULL, NULL },
	/* WE_USER_NOT_FOUND */
	{ 404, SHAPE_CODE, "entity_not_found",
	    "Could not find a user with that id.", NULL, NULL },
	/* WE_EMAIL_NOT_FOUND */
	{ 404, SHAPE_CODE, "entity_not_found",
	    "Could not find a user with that email.", NULL, NULL },
	/* WE_TOKEN_NOT_FOUND */
	{ 400, SHAPE_CODE, "password_reset_token_not_found",
	    "Password reset token not found.", NULL, NULL },
	/* WE_TOKEN_EXPIRED */
	{ 400, SHAPE_GROUPED, "password_reset_error",
	    "The password reset token has expired.",
	    "password_reset_token_expired",
	    "The password reset token has expired." },
	/* WE_RESET_PASSWORD_WEAK: errors[] from weak_password_errors */
	{ 400, SHAPE_GROUPED, "password_reset_error",
	    "Password does not meet requirements.", NULL, NULL },
	/* WE_USER_PASSWORD_WEAK: errors[] from weak_password_errors; 400 as
	   the spec has it, so the SDK throws BadRequestException */
	{ 400, SHAPE_GROUPED, "user_creation_error", "Could not create user.",
	    NULL, NULL },
	/* WE_EMAIL_NOT_AVAILABLE: 400, as the spec has user_creation_error */
	{ 400, SHAPE_GROUPED, "user_creation_error", "Could not create user.",
	    "email_not_available", "A user with this email already exists." },
	/* WE_INVALID_PARAMETERS: errors[] names the fields */
	{ 422, SHAPE_GROUPED, "invalid_request_parameters",
	    "Validation failed.", NULL, NULL },
	/* WE_INVALID_JSON */
	{ 400, SHAPE_CODE, "invalid_json",
	    "The request body must be a JSON object sent as application/json.",
	    NULL, NULL },
	/* WE_INVALID_CREDENTIALS */
	{ 400, SHAPE_CODE, "invalid_credentials", "Invalid credentials.", NULL,
	    NULL },
	/* WE_INVALID_CLIENT */
	{ 400, SHAPE_OAUTH, "invalid_client",
	    "Invalid client ID or client secret.", NULL, NULL },
	/* WE_UNSUPPORTED_GRANT */
	{ 400, SHAPE_OAUTH, "unsupported_grant_type",
	    "Only the password and refresh_token grants are supported.", NULL,
	    NULL },
	/* WE_IDEM_KEY_INVALID */
	{ 400, SHAPE_CODE, "idempotency_key_invalid",
	    "The Idempotency-Key header must be 1 to 255 printable ASCII "
	    "characters.",
	    NULL, NULL },
	/* WE_IDEM_KEY_REUSED */
	{ 422, SHAPE_CODE, "idempotency_key_reused",
	    "This Idempotency-Key was used for a different request in the "
	    "last 24 hours.",
	    NULL, NULL },
	/* WE_TOO_LARGE */
	{ 413, SHAPE_CODE, "request_too_large",
	    "The request body is too large.", NULL, NULL },
	/* WE_RATE_LIMITED */
	{ 429, SHAPE_CODE, "rate_limit_exceeded",
	    "Too many requests; retry after the time in Retry-After.", NULL,
	    NULL },
	/* WE_UNAVAILABLE */
	{ 503, SHAPE_CODE, "service_unavailable",
	    "Service temporarily unavailable, try again.", NULL, NULL },
	/* WE_INVALID_HEADER */
	{ 400, SHAPE_CODE, "invalid_header",
	    "A request header is not valid UTF-8 text.", NULL, NULL },
	/* WE_UNSUPPORTED_CHARSET */
	{ 415, SHAPE_CODE, "unsupported_media_type",
	    "The request body must be UTF-8 JSON (application/json; "
	    "charset=utf-8).",
	    NULL, NULL },
	/* WE_INVALID_GRANT */
	{ 400, SHAPE_OAUTH, "invalid_grant",
	    "The refresh token is invalid, expired, revoked or already used.",
	    NULL, NULL },
	/* WE_SESSION_NOT_FOUND */
	{ 404, SHAPE_CODE, "entity_not_found",
	    "Could not find a session with that id.", NULL, NULL },
	/* WE_RETURN_TO_REFUSED */
	{ 422, SHAPE_GROUPED, "invalid_request_parameters",
	    "Validation failed.", "invalid_return_to",
	    "return_to is not one of the project's allowed URLs." },
	/* WE_UPDATE_PASSWORD_WEAK: errors[] from weak_password_errors; 400
	   as createUser's refusal, so the SDK throws BadRequestException */
	{ 400, SHAPE_GROUPED, "user_update_error", "Could not update user.",
	    NULL, NULL },
};

/*
 * The errors[] of a refused password: the policy's verdict says which rule
 * and why, in the shape WorkOS gives password_too_weak (a warning and
 * suggestions, as zxcvbn words them).
 */
static json_t *
weak_password_errors(enum engine_result res, const struct password_verdict *v)
{
	struct password_verdict none;
	char message[160];

	if (v == NULL || v->rule == PW_OK) {
		/* A result without a verdict: say what the result says. */
		memset(&none, 0, sizeof(none));
		none.rule = res == ENGINE_PASSWORD_TOO_SHORT ? PW_MIN_LENGTH :
		    res == ENGINE_PASSWORD_TOO_LONG	     ? PW_MAX_LENGTH :
		    res == ENGINE_PASSWORD_INVALID_TEXT	     ? PW_VALID_TEXT :
							       PW_STRENGTH;
		none.min_length = PASSWORD_MIN_CHARS;
		none.message = "This password does not meet the policy.";
		none.suggestion = "Choose a longer, less common password.";
		v = &none;
	}
	if (v->rule == PW_MIN_LENGTH)
		snprintf(message, sizeof(message),
		    "Password must be at least "
		    "%lld characters.",
		    (long long)v->min_length);
	else if (v->rule == PW_MAX_LENGTH)
		snprintf(message, sizeof(message),
		    "Password must be at most "
		    "%lld characters.",
		    (long long)(v->max_length > 0 ? v->max_length :
						    PASSWORD_MAX_CHARS));
	else if (v->rule >= PW_UPPERCASE && v->rule <= PW_SYMBOLS)
		snprintf(message, sizeof(message), "%s", v->message);
	else
		snprintf(message, sizeof(message),
		    "Password does not meet "
		    "requirements (%s).",
		    password_rule_name(v->rule));
	return json_pack("[{s:s, s:s, s:s, s:[s], s:s}]", "code",
	    "password_too_weak", "message", message, "rule",
	    password_rule_name(v->rule), "suggestions", v->suggestion,
	    "warning", v->message);
}

/* 1 when res is one of the password results weak_password_errors takes. */
static int
is_weak_password(enum engine_result res)
{
	return res == ENGINE_PASSWORD_TOO_SHORT ||
	    res == ENGINE_PASSWORD_TOO_LONG ||
	    res == ENGINE_PASSWORD_INVALID_TEXT || res == ENGINE_PASSWORD_WEAK;
}

/*
 * Answer error e.  errors (taken) replaces the row's errors[]; extra
 * (taken) adds top-level fields.
 */
static void
fail_with(struct http_response *resp, enum workos_error e, json_t *errors,
    json_t *extra)
{
	json_t *body;

	if (e < 0 || e >= WE__MAX)
		abort();
	if (workos_errors[e].shape == SHAPE_OAUTH)
		body = json_pack("{s:s, s:s}", "error", workos_errors[e].code,
		    "error_description", workos_errors[e].message);
	else
		body = json_pack("{s:s, s:s}", "code", workos_errors[e].code,
		    "message", workos_errors[e].message);
	if (errors == NULL && workos_errors[e].inner_code != NULL)
		errors = json_pack("[{s:s, s:s}]", "code",
		    workos_errors[e].inner_code, "message",
		    workos_errors[e].inner_message);
	if (errors != NULL)
		json_object_set_new(body, "errors", errors);
	if (extra != NULL) {
		json_object_update(body, extra);
		json_decref(extra);
	}
	if (e == WE_UNAUTHORIZED)
		http_set_header(resp, "WWW-Authenticate", "Bearer");
	if (api_json_take(resp, workos_errors[e].status, body,
		WORKOS_FALLBACK) == 0)
		resp->outcome = workos_errors[e].code;
}

static void
fail(struct http_response *resp, enum workos_error e)
{
	fail_with(resp, e, NULL, NULL);
}

/* A validation failure naming one field. */
static void
fail_field(struct http_response *resp, const char *field, const char *code,
    const char *message)
{
	fail_with(resp, WE_INVALID_PARAMETERS,
	    json_pack("[{s:s, s:s, s:s}]", "field", field, "code", code,
		"message", message),
	    NULL);
}

/* A 404 for an entity, echoing its id when it is printable and short. */
static void
fail_entity(struct http_response *resp, enum workos_error e, const char *id)
{
	size_t n = strnlen(id, ECHO_ID_MAX + 1);

	if (n > ECHO_ID_MAX || !str_is_clean_utf8(id, n))
		id = "";
	fail_with(resp, e, NULL, json_pack("{s:s}", "entity_id", id));
}

void
workos_rate_limited(struct http_response *resp, int64_t retry_after_s)
{
	http_set_retry_after(resp, retry_after_s);
	fail(resp, WE_RATE_LIMITED);
}

/*
 * The errors every call maps the same way.  Results a call gives a meaning
 * of its own are handled by the call before it comes here.
 */
static void
fail_engine(struct http_response *resp, enum engine_result res,
    const struct password_verdict *v)
{
	switch (res) {
	case ENGINE_IDEMPOTENCY_MISMATCH:
		fail(resp, WE_IDEM_KEY_REUSED);
		break;
	case ENGINE_CREDENTIALS_INVALID:
	case ENGINE_USER_DISABLED:
		fail(resp, WE_INVALID_CREDENTIALS);
		break;
	case ENGINE_SECRET_INVALID:
		fail(resp, WE_TOKEN_NOT_FOUND);
		break;
	case ENGINE_SECRET_EXPIRED:
		fail(resp, WE_TOKEN_EXPIRED);
		break;
	case ENGINE_PASSWORD_TOO_SHORT:
	case ENGINE_PASSWORD_TOO_LONG:
	case ENGINE_PASSWORD_INVALID_TEXT:
	case ENGINE_PASSWORD_WEAK:
		fail_with(resp, WE_RESET_PASSWORD_WEAK,
		    weak_password_errors(res, v), NULL);
		break;
	case ENGINE_PROJECT_UNKNOWN:
	case ENGINE_SESSION_INVALID:
		fail(resp, WE_UNAUTHORIZED);
		break;
	case ENGINE_BAD_INPUT:
	case ENGINE_LOGIN_URL_REFUSED:
	case ENGINE_STORAGE_REFUSED:
		fail_with(resp, WE_INVALID_PARAMETERS,
		    json_pack("[{s:s, s:s}]", "code", "invalid_parameter",
			"message", "A parameter has an invalid value."),
		    NULL);
		break;
	case ENGINE_USER_UNKNOWN:
		fail(resp, WE_EMAIL_NOT_FOUND);
		break;
	case ENGINE_CONFLICT:
		fail(resp, WE_EMAIL_NOT_AVAILABLE);
		break;
	case ENGINE_UNAVAILABLE:
		fail(resp, WE_UNAVAILABLE);
		break;
	case ENGINE_THROTTLED:
	case ENGINE_RATE_LIMITED:
		workos_rate_limited(resp, 60);
		break;
	default:
		/* A result this face has no answer for: a bug, not a crash. */
		log_error("workos: engine result %s has no answer",
		    engine_result_name(res));
		fail(resp, WE_UNAVAILABLE);
		break;
	}
}

/* objects */

/* The public id of a stored one; every stored id is a UUID. */
static char *
public_id(const char *prefix, const char *uuid)
{
	char *id = id_prefixed(prefix, uuid);

	if (id == NULL) {
		log_error("workos: stored id %s is not a UUID", uuid);
		abort();
	}
	return id;
}

static json_t *
user_json(const struct user *u)
{
	char *id = public_id(PREFIX_USER, u->id);
	json_t *v;

	v = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, "
		      "s:o, s:o, s:o, s:o}",
	    "object", "user", "id", id, "email", u->email, "email_verified",
	    u->email_verified, "first_name", api_string_or_null(u->first_name),
	    "last_name", api_string_or_null(u->last_name), "name", json_null(),
	    "profile_picture_url", json_null(), "last_sign_in_at",
	    api_time(u->last_sign_in_at), "locale",
	    api_string_or_null(u->locale), "external_id", json_null(),
	    "metadata", json_object(), "created_at", api_time(u->created_at),
	    "updated_at", api_time(u->updated_at));
	free(id);
	return v;
}

/* A PasswordReset; token and url are "" when they cannot be shown. */
static json_t *
reset_json(const char *secret_id, const char *user_id, const char *email,
    const char *token, const char *url, int64_t expires_at, int64_t created_at)
{
	char *id = public_id(PREFIX_RESET, secret_id);
	char *uid = public_id(PREFIX_USER, user_id);
	json_t *v;

	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "object",
	    "password_reset", "id", id, "user_id", uid, "email", email,
	    "password_reset_token", token, "password_reset_url", url,
	    "expires_at", api_time(expires_at), "created_at",
	    api_time(created_at));
	free(id);
	free(uid);
	return v;
}

/* Write v (taken) as an answer. */
static void
answer_set(struct idem_answer *out, int status, json_t *v)
{
	out->status = status;
	out->body = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (out->body == NULL) {
		/* Text that is not UTF-8: this answer fails, not the process. */
		log_error("workos: cannot encode an answer (status %d); "
			  "answering 500",
		    status);
		out->status = 500;
		out->body = xstrdup(WORKOS_FALLBACK);
	}
}

/* Encoders: the answer of each call for what the engine did. */

static void
encode_reset_create(void *arg, const struct idem_outcome *o,
    struct idem_answer *out)
{
	const struct reset_ticket *t = o->ticket;

	(void)arg;
	answer_set(out, 201,
	    reset_json(t->secret_id, t->user->id, t->user->email, t->token,
		t->link, t->expires_at, t->created_at));
}

static void
encode_reset_send(void *arg, const struct idem_outcome *o,
    struct idem_answer *out)
{
	(void)arg;
	(void)o;
	answer_set(out, 200, json_object());
}

static void
encode_confirm(void *arg, const struct idem_outcome *o, struct idem_answer *out)
{
	(void)arg;
	answer_set(out, 200, json_pack("{s:o}", "user", user_json(o->user)));
}

static void
encode_user_create(void *arg, const struct idem_outcome *o,
    struct idem_answer *out)
{
	(void)arg;
	answer_set(out, 201, user_json(o->user));
}

/* Send an answer, recorded or fresh. */
static void
answer_send(struct http_response *resp, const struct idem_answer *a,
    int replayed)
{
	http_set_body(resp, a->status, "application/json", a->body,
	    strlen(a->body));
	if (replayed)
		http_set_header(resp, "Idempotent-Replayed", "true");
	resp->outcome = replayed ? "replayed" : "ok";
}

/* the common start of every call */

/*
 * The project the API key names (the route's limit was spent before the
 * handler ran).  Return it (caller frees), or NULL with resp answered.
 * *key receives the key, which lives as long as r.
 */
static struct project *
project_of(const struct http_request *r, struct http_response *resp,
    const char **key)
{
	const char *auth = http_header(r, "Authorization");
	struct project *p = NULL;
	enum engine_result res;
	const char *bad;
	char message[128];

	bad = http_header_malformed(r, workos_headers);
	if (bad != NULL) {
		snprintf(message, sizeof(message),
		    "The %s header is not valid "
		    "UTF-8 text.",
		    bad);
		fail_with(resp, WE_INVALID_HEADER, NULL,
		    json_pack("{s:s}", "message", message));
		return NULL;
	}
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		fail(resp, WE_UNAUTHORIZED);
		return NULL;
	}
	auth += 7;
	while (*auth == ' ')
		auth++;
	res = engine_project_by_api_key(r->app, auth, &p);
	if (res != ENGINE_OK) {
		fail(resp,
		    res == ENGINE_UNAVAILABLE ? WE_UNAVAILABLE :
						WE_UNAUTHORIZED);
		return NULL;
	}
	*key = auth;
	return p;
}

/* Parse the JSON body; NULL with resp answered when it is unusable. */
static json_t *
body_of(const struct http_request *r, struct http_response *resp)
{
	char err[256];
	json_t *body = NULL;

	switch (
	    api_parse_object(r, "application/json", &body, err, sizeof(err))) {
	case API_BODY_OK:
		return body;
	case API_BODY_TOO_LARGE:
		fail(resp, WE_TOO_LARGE);
		return NULL;
	case API_BODY_WRONG_TYPE:
	case API_BODY_MALFORMED:
		fail(resp, WE_INVALID_JSON);
		return NULL;
	case API_BODY_WRONG_CHARSET:
		fail(resp, WE_UNSUPPORTED_CHARSET);
		return NULL;
	default:
		abort();
	}
}

/*
 * Set up claim from the Idempotency-Key header.  Return claim when the
 * call is idempotent, NULL when it carries no key, or NULL with *answered
 * set when the key is malformed.
 */
static struct idem_claim *
claim_of(const struct http_request *r, struct http_response *resp,
    struct idem_claim *claim, int *answered)
{
	const char *key = http_header(r, "Idempotency-Key");

	*answered = 0;
	if (key == NULL)
		return NULL;
	if (!idem_key_valid(key)) {
		fail(resp, WE_IDEM_KEY_INVALID);
		*answered = 1;
		return NULL;
	}
	claim->key = key;
	idem_fingerprint(r->method, r->path, r->body, r->body_len,
	    claim->fingerprint);
	return claim;
}

/* A required string field; 0 with resp answered when absent or bad. */
static int
required(struct http_response *resp, json_t *body, const char *name, size_t max,
    const char **out)
{
	char code[64], message[128];
	int rc;

	rc = api_string_field(body, name, max, out);
	if (rc == 1 && **out != '\0')
		return 1;
	if (rc == -1) {
		snprintf(code, sizeof(code), "%s_invalid", name);
		snprintf(message, sizeof(message),
		    "%s must be a string of at "
		    "most %zu bytes.",
		    name, max);
	} else {
		snprintf(code, sizeof(code), "%s_required", name);
		snprintf(message, sizeof(message), "%s is required.", name);
	}
	fail_field(resp, name, code, message);
	return 0;
}

/* An optional string field; 0 with resp answered when it has another type. */
static int
optional(struct http_response *resp, json_t *body, const char *name, size_t max,
    const char **out)
{
	char code[64], message[128];

	if (api_string_field(body, name, max, out) != -1)
		return 1;
	snprintf(code, sizeof(code), "%s_invalid", name);
	snprintf(message, sizeof(message),
	    "%s must be a string of at most "
	    "%zu bytes.",
	    name, max);
	fail_field(resp, name, code, message);
	return 0;
}

/* calls */

/* Create and send: a trusted reset request, told apart by link_base. */
static void
reset_request_call(const struct http_request *r, struct http_response *resp,
    int send)
{
	struct project *p;
	struct reset_request in;
	struct reset_ticket t;
	struct idem_claim claim, *cp;
	struct idem_outcome o;
	enum engine_result res;
	json_t *body = NULL;
	const char *key, *email = NULL, *url = NULL;
	struct request_context ctx;
	int64_t retry = 0;
	int answered;

	memset(&claim, 0, sizeof(claim));
	memset(&t, 0, sizeof(t));
	face_context(r, &ctx);
	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (!required(resp, body, "email", FIELD_MAX, &email))
		goto out;
	if (send &&
	    !required(resp, body, "password_reset_url", URL_FIELD_MAX, &url))
		goto out;
	if (url != NULL && !valid_url(url)) {
		fail_field(resp, "password_reset_url",
		    "password_reset_url_invalid",
		    "password_reset_url must be an absolute http(s) URL.");
		goto out;
	}
	claim.encode = send ? encode_reset_send : encode_reset_create;
	cp = claim_of(r, resp, &claim, &answered);
	if (answered)
		goto out;
	in = (struct reset_request){
		.project = p,
		.login = email,
		.link_style = LINK_TOKEN,
		.delivery = engine_delivery(p, DELIVERY_CARRIES_LINK),
		.trusted = 1,
		.link_base = url,
		.mail_optional = !send,
		.idem = cp,
		.ctx = &ctx,
		.retry_after_s = &retry,
	};
	res = reset_request(r->app, &in, &t);
	if (res == ENGINE_THROTTLED) {
		/* WorkOS limits resets per email too; its server hears it. */
		workos_rate_limited(resp, retry);
		goto out;
	}
	if (res == ENGINE_USER_UNKNOWN || res == ENGINE_BAD_INPUT) {
		/* A login too long to be anyone's is unknown too. */
		fail_entity(resp, WE_EMAIL_NOT_FOUND, email);
		goto out;
	}
	if (res != ENGINE_OK && res != ENGINE_REPLAYED) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (cp == NULL) {
		o = (struct idem_outcome){ .ticket = &t };
		claim.encode(NULL, &o, &claim.answer);
	}
	answer_send(resp, &claim.answer, res == ENGINE_REPLAYED);
out:
	reset_ticket_clear(&t);
	idem_claim_clear(&claim);
	json_decref(body);
	project_free(p);
}

void
workos_reset_create(const struct http_request *r, struct http_response *resp)
{
	reset_request_call(r, resp, 0);
}

void
workos_reset_send(const struct http_request *r, struct http_response *resp)
{
	reset_request_call(r, resp, 1);
}

void
workos_reset_get(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct secret *s = NULL;
	char uuid[UUID_STRLEN + 1];
	const char *key;
	enum engine_result res;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	res = ENGINE_SECRET_INVALID;
	if (id_unprefix(PREFIX_RESET, r->path_param, uuid) == 0)
		res = reset_get(r->app, p, uuid, &s);
	if (res == ENGINE_SECRET_INVALID) {
		fail_entity(resp, WE_RESET_NOT_FOUND, r->path_param);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	/* Only the token's hash was stored: it cannot be shown again. */
	if (api_json_take(resp, 200,
		reset_json(s->id, s->user_id, s->email, "", "", s->expires_at,
		    s->created_at),
		WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	secret_free(s);
	project_free(p);
}

void
workos_reset_confirm(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct reset_confirm in;
	struct idem_claim claim, *cp;
	struct idem_outcome o;
	struct user *u = NULL;
	enum engine_result res;
	json_t *body = NULL;
	const char *key, *token = NULL, *password = NULL;
	struct request_context ctx;
	struct password_verdict verdict;
	int answered;

	memset(&claim, 0, sizeof(claim));
	memset(&verdict, 0, sizeof(verdict));
	face_context(r, &ctx);
	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (!required(resp, body, "token", FIELD_MAX, &token) ||
	    !required(resp, body, "new_password", PASSWORD_FIELD_MAX,
		&password))
		goto out;
	claim.encode = encode_confirm;
	cp = claim_of(r, resp, &claim, &answered);
	if (answered)
		goto out;
	in = (struct reset_confirm){
		.project = p,
		.token = token,
		.new_password = password,
		.idem = cp,
		.ctx = &ctx,
		.verdict = &verdict,
	};
	res = reset_confirm(r->app, &in, &u);
	if (res != ENGINE_OK && res != ENGINE_REPLAYED) {
		fail_engine(resp, res, &verdict);
		goto out;
	}
	if (cp == NULL) {
		o = (struct idem_outcome){ .user = u };
		claim.encode(NULL, &o, &claim.answer);
	}
	answer_send(resp, &claim.answer, res == ENGINE_REPLAYED);
out:
	user_free(u);
	idem_claim_clear(&claim);
	json_decref(body);
	project_free(p);
}

/*
 * Fields of WorkOS's create-user call that resetd cannot keep.  They are
 * refused rather than dropped, so nothing the caller set is lost quietly.
 */
static const char *const unsupported_user_fields[] = {
	"password_hash",
	"password_hash_type",
	"external_id",
	"name",
	NULL,
};

void
workos_user_create(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct user_spec spec;
	struct idem_claim claim, *cp;
	struct idem_outcome o;
	struct user *u = NULL;
	enum engine_result res;
	json_t *body = NULL, *v;
	const char *key, *email = NULL, *password = NULL;
	const char *first = NULL, *last = NULL;
	const char *const *f;
	char err[256], code[64];
	struct password_verdict verdict;
	int answered, verified = 0;

	memset(&claim, 0, sizeof(claim));
	memset(&verdict, 0, sizeof(verdict));
	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (!required(resp, body, "email", FIELD_MAX, &email) ||
	    !optional(resp, body, "password", PASSWORD_FIELD_MAX, &password) ||
	    !optional(resp, body, "first_name", FIELD_MAX, &first) ||
	    !optional(resp, body, "last_name", FIELD_MAX, &last))
		goto out;
	if (!valid_email(email)) {
		fail_field(resp, "email", "email_invalid",
		    "email must be an email address.");
		goto out;
	}
	v = json_object_get(body, "email_verified");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		fail_field(resp, "email_verified", "email_verified_invalid",
		    "email_verified must be a boolean.");
		goto out;
	}
	verified = json_is_true(v);
	for (f = unsupported_user_fields; *f != NULL; f++) {
		v = json_object_get(body, *f);
		if (v == NULL || json_is_null(v))
			continue;
		snprintf(code, sizeof(code), "%s_unsupported", *f);
		fail_field(resp, *f, code, "resetd does not store this field.");
		goto out;
	}
	v = json_object_get(body, "metadata");
	if (v != NULL && !json_is_null(v) &&
	    !(json_is_object(v) && json_object_size(v) == 0)) {
		fail_field(resp, "metadata", "metadata_unsupported",
		    "resetd does not store metadata.");
		goto out;
	}
	claim.encode = encode_user_create;
	cp = claim_of(r, resp, &claim, &answered);
	if (answered)
		goto out;
	spec = (struct user_spec){
		.project_id = p->id,
		.email = email,
		.password = password,
		.first_name = first,
		.last_name = last,
		.email_verified = verified,
		.idem = cp,
		.verdict = &verdict,
	};
	res = admin_user_create(r->app, &spec, &u, err, sizeof(err));
	if (is_weak_password(res)) {
		fail_with(resp, WE_USER_PASSWORD_WEAK,
		    weak_password_errors(res, &verdict), NULL);
		goto out;
	}
	if (res == ENGINE_BAD_INPUT) {
		fail_with(resp, WE_INVALID_PARAMETERS,
		    json_pack("[{s:s, s:s}]", "code", "invalid_parameter",
			"message", err),
		    NULL);
		goto out;
	}
	if (res != ENGINE_OK && res != ENGINE_REPLAYED) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (cp == NULL) {
		o = (struct idem_outcome){ .user = u };
		claim.encode(NULL, &o, &claim.answer);
	}
	answer_send(resp, &claim.answer, res == ENGINE_REPLAYED);
out:
	user_free(u);
	idem_claim_clear(&claim);
	json_decref(body);
	project_free(p);
}

void
workos_user_get(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct user *u = NULL;
	char uuid[UUID_STRLEN + 1];
	const char *key;
	enum engine_result res;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	res = ENGINE_USER_UNKNOWN;
	if (id_unprefix(PREFIX_USER, r->path_param, uuid) == 0)
		res = admin_user_get(r->app, p, uuid, &u);
	if (res == ENGINE_USER_UNKNOWN) {
		fail_entity(resp, WE_USER_NOT_FOUND, r->path_param);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (api_json_take(resp, 200, user_json(u), WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	user_free(u);
	project_free(p);
}

#define USERS_LIMIT_DEFAULT 10
#define USERS_LIMIT_MAX 100

/*
 * GET /user_management/users?email=&limit=&after=&order=: a page of the
 * project's users, core's list (admin_user_list).  The cursors in
 * list_metadata.after are core's opaque ones; one not made by this list
 * (or with another filter or order) is a 422 naming "after".  order is
 * desc (newest first) unless asc, as WorkOS has it; before and
 * organization_id have no meaning here and are refused.
 */
void
workos_users_list(const struct http_request *r, struct http_response *resp)
{
	struct store_list l = { NULL, 0 };
	struct user_query q;
	struct project *p;
	const char *key, *v;
	char next[ADMIN_CURSOR_MAX + 1], err[256], *end;
	json_t *data;
	enum engine_result res;
	long long n;
	size_t i;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	if (r->query_invalid) {
		fail_field(resp, "query", "invalid",
		    "A query argument is not valid UTF-8 text.");
		goto out;
	}
	q = (struct user_query){ .project_id = p->id,
		.limit = USERS_LIMIT_DEFAULT,
		.desc = 1 };
	v = http_query(r, "email");
	if (v != NULL && *v != '\0')
		q.email = v;
	v = http_query(r, "after");
	if (v != NULL && *v != '\0')
		q.cursor = v;
	v = http_query(r, "before");
	if (v != NULL && *v != '\0') {
		fail_field(resp, "before", "before_unsupported",
		    "resetd pages forward only: use after.");
		goto out;
	}
	v = http_query(r, "organization_id");
	if (v != NULL && *v != '\0') {
		fail_field(resp, "organization_id",
		    "organization_id_unsupported",
		    "resetd has no organizations.");
		goto out;
	}
	v = http_query(r, "limit");
	if (v != NULL && *v != '\0') {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 ||
		    n > USERS_LIMIT_MAX) {
			fail_field(resp, "limit", "limit_invalid",
			    "limit must be a number from 1 to 100.");
			goto out;
		}
		q.limit = n;
	}
	v = http_query(r, "order");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "asc") == 0)
			q.desc = 0;
		else if (strcmp(v, "desc") != 0) {
			fail_field(resp, "order", "order_invalid",
			    "order must be asc or desc.");
			goto out;
		}
	}
	err[0] = '\0';
	res = admin_user_list(r->app, &q, &l, next, err, sizeof(err));
	if (res == ENGINE_BAD_INPUT) {
		if (strncmp(err, "cursor", 6) == 0)
			fail_field(resp, "after", "after_invalid",
			    "after is not a cursor of this list.");
		else
			fail_field(resp, "email", "email_invalid",
			    "email must be at most 320 bytes of text.");
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	data = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(data, user_json(l.items[i]));
	if (api_json_take(resp, 200,
		json_pack("{s:s, s:o, s:{s:n, s:o}}", "object", "list", "data",
		    data, "list_metadata", "before", "after",
		    next[0] != '\0' ? json_string(next) : json_null()),
		WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	store_list_free(&l, (void (*)(void *))user_free);
	project_free(p);
}

static const char *const unsupported_update_fields[] = {
	"email",
	"name",
	"password_hash",
	"password_hash_type",
	"external_id",
	"locale",
	NULL,
};

/*
 * PUT /user_management/users/{id}: first_name, last_name, email_verified
 * and password, as updateUser sends them (absent or null keeps a field);
 * core's admin_user_update.  A password is held to the project's policy
 * and refused as createUser refuses one.
 */
void
workos_user_update(const struct http_request *r, struct http_response *resp)
{
	struct user_update up;
	struct password_verdict verdict;
	struct project *p;
	struct user *u = NULL;
	char uuid[UUID_STRLEN + 1], err[256], code[64];
	const char *key, *const *f;
	enum engine_result res;
	json_t *body = NULL, *v;

	memset(&verdict, 0, sizeof(verdict));
	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	up = (struct user_update){ .email_verified = -1, .verdict = &verdict };
	if (!optional(resp, body, "first_name", FIELD_MAX, &up.first_name) ||
	    !optional(resp, body, "last_name", FIELD_MAX, &up.last_name) ||
	    !optional(resp, body, "password", PASSWORD_FIELD_MAX, &up.password))
		goto out;
	v = json_object_get(body, "email_verified");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		fail_field(resp, "email_verified", "email_verified_invalid",
		    "email_verified must be a boolean.");
		goto out;
	}
	if (json_is_boolean(v))
		up.email_verified = json_is_true(v);
	for (f = unsupported_update_fields; *f != NULL; f++) {
		v = json_object_get(body, *f);
		if (v == NULL || json_is_null(v))
			continue;
		snprintf(code, sizeof(code), "%s_unsupported", *f);
		fail_field(resp, *f, code,
		    "resetd does not change this field.");
		goto out;
	}
	v = json_object_get(body, "metadata");
	if (v != NULL && !json_is_null(v) &&
	    !(json_is_object(v) && json_object_size(v) == 0)) {
		fail_field(resp, "metadata", "metadata_unsupported",
		    "resetd does not store metadata.");
		goto out;
	}
	res = ENGINE_USER_UNKNOWN;
	err[0] = '\0';
	if (id_unprefix(PREFIX_USER, r->path_param, uuid) == 0)
		res = admin_user_update(r->app, p, uuid, &up, &u, err,
		    sizeof(err));
	if (res == ENGINE_USER_UNKNOWN) {
		fail_entity(resp, WE_USER_NOT_FOUND, r->path_param);
		goto out;
	}
	if (is_weak_password(res)) {
		fail_with(resp, WE_UPDATE_PASSWORD_WEAK,
		    weak_password_errors(res, &verdict), NULL);
		goto out;
	}
	if (res == ENGINE_BAD_INPUT) {
		fail_with(resp, WE_INVALID_PARAMETERS,
		    json_pack("[{s:s, s:s}]", "code", "invalid_parameter",
			"message", err),
		    NULL);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (api_json_take(resp, 200, user_json(u), WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	user_free(u);
	json_decref(body);
	project_free(p);
}

/*
 * DELETE /user_management/users/{id}: 204, core's admin_user_delete (the
 * audit and user.deleted, the sessions, refresh tokens and secrets) of
 * this project's user; a user of another project is unknown.
 */
void
workos_user_delete(const struct http_request *r, struct http_response *resp)
{
	struct request_context ctx;
	struct project *p;
	char uuid[UUID_STRLEN + 1];
	const char *key;
	enum engine_result res;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	res = ENGINE_USER_UNKNOWN;
	if (id_unprefix(PREFIX_USER, r->path_param, uuid) == 0) {
		face_context(r, &ctx);
		/* Named with the project: another project's user is unknown. */
		res = admin_user_delete(r->app, &ctx, p->id, uuid, "workos");
	}
	if (res == ENGINE_USER_UNKNOWN)
		fail_entity(resp, WE_USER_NOT_FOUND, r->path_param);
	else if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	else {
		http_set_body(resp, 204, NULL, "", 0);
		resp->outcome = "ok";
	}
	project_free(p);
}

/*
 * WorkOS's names for its access token's claims.  The refresh token is
 * opaque: core keeps it, hashed.
 */
static const struct claim_map workos_claims = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "sid",
		[CF_TOKEN_ID] = "jti",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
	},
	.user_prefix = PREFIX_USER,
	.session_prefix = PREFIX_SESSION,
};

/* Answer a session: the user, its access token and refresh token. */
static void
session_answer(const struct http_request *r, struct http_response *resp,
    const struct project *p, const struct login_result *lr,
    const char *client_id, int password)
{
	enum engine_result res;
	char *access = NULL;
	json_t *v;

	res = session_token(r->app, p, TK_WORKOS_ACCESS, &workos_claims, lr,
	    client_id, &access);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return;
	}
	v = json_pack("{s:o, s:n, s:s, s:s}", "user", user_json(lr->user),
	    "organization_id", "access_token", access, "refresh_token",
	    lr->refresh_token);
	if (v != NULL && password)
		json_object_set_new(v, "authentication_method",
		    json_string("Password"));
	if (api_json_take(resp, 200, v, WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
	xfree_secret(access);
}

/*
 * Authentication: the password grant and the refresh grant.  Not
 * idempotent: a retried login opens another session, which is harmless,
 * and replaying would mean storing tokens.  A refresh token is spent
 * once; the answer carries the next.
 */
void
workos_authenticate(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct login_request in;
	struct refresh_request rin;
	struct login_result lr = { .session = NULL };
	enum engine_result res;
	json_t *body = NULL;
	const char *key, *grant = NULL, *client_id = NULL, *secret = NULL;
	const char *email = NULL, *password = NULL, *unused = NULL;
	const char *refresh = NULL;
	struct request_context ctx;
	int is_refresh;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (!required(resp, body, "grant_type", FIELD_MAX, &grant))
		goto out;
	is_refresh = strcmp(grant, "refresh_token") == 0;
	if (strcmp(grant, "password") != 0 && !is_refresh) {
		fail(resp, WE_UNSUPPORTED_GRANT);
		goto out;
	}
	if (!required(resp, body, "client_id", FIELD_MAX, &client_id) ||
	    (!is_refresh &&
		!required(resp, body, "email", FIELD_MAX, &email)) ||
	    (!is_refresh &&
		!required(resp, body, "password", PASSWORD_FIELD_MAX,
		    &password)) ||
	    (is_refresh &&
		!required(resp, body, "refresh_token", FIELD_MAX, &refresh)) ||
	    !optional(resp, body, "organization_id", FIELD_MAX, &unused) ||
	    !optional(resp, body, "ip_address", FIELD_MAX, &unused) ||
	    !optional(resp, body, "user_agent", FIELD_MAX, &unused))
		goto out;
	if (api_string_field(body, "client_secret", FIELD_MAX, &secret) != 1)
		secret = NULL;
	res = engine_client_check_key(r->app, p, key, client_id, secret);
	if (res == ENGINE_CREDENTIALS_INVALID) {
		fail(resp, WE_INVALID_CLIENT);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	face_context(r, &ctx);
	if (is_refresh) {
		rin = (struct refresh_request){ p, SF_WORKOS, client_id,
			refresh, &ctx };
		res = session_refresh(r->app, &rin, &lr);
		if (res == ENGINE_SESSION_INVALID ||
		    res == ENGINE_USER_DISABLED) {
			fail(resp, WE_INVALID_GRANT);
			goto out;
		}
	} else {
		in = (struct login_request){ .project = p,
			.login = email,
			.password = password,
			.ctx = &ctx,
			.face = SF_WORKOS,
			.client_id = client_id };
		res = session_login(r->app, &in, &lr);
		if (res == ENGINE_THROTTLED) {
			/* The login's back-off: 429, the SDK's retryAfter. */
			workos_rate_limited(resp, lr.retry_after_s);
			goto out;
		}
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	session_answer(r, resp, p, &lr, client_id, !is_refresh);
out:
	login_result_clear(&lr);
	json_decref(body);
	project_free(p);
}

/* events */

#define EVENTS_LIMIT_DEFAULT 10
#define EVENTS_LIMIT_MAX 100
#define EVENTS_NAMES_MAX 16 /* names one list may filter by */
#define EVENT_NAME_MAX 64
#define PREFIX_EVENT "event_"

/*
 * Parse an ISO 8601 UTC time as WorkOS writes them, "2024-01-02T03:04:05Z"
 * with optional fractional seconds, into milliseconds.  -1 when s is not
 * one.
 */
static int64_t
iso8601_parse(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, ms = 0, digits = 0;
	struct tm tm;
	time_t t;

	if (strlen(s) > 40 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		&n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
	while (digits > 0 && digits < 3) {
		ms *= 10;
		digits++;
	}
	if ((*s != 'Z' && strcmp(s, "+00:00") != 0) ||
	    (*s == 'Z' && s[1] != '\0'))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t * 1000 + ms;
}

/* 1 when s may name an event: a-z, digits, '.' and '_', 1 to 64 bytes. */
static int
event_name_shaped(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > EVENT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The names asked for, from every events[] and events argument, each a
 * comma-separated list (the SDK sends events=a,b): into names (strings
 * in store, NULL-terminated).  0, or -1 with resp answered.
 */
static int
event_names_of(const struct http_request *r, struct http_response *resp,
    char store[EVENTS_NAMES_MAX][EVENT_NAME_MAX + 1],
    const char *names[EVENTS_NAMES_MAX + 1])
{
	static const char *const params[] = { "events[]", "events", NULL };
	const char *vals[EVENTS_NAMES_MAX + 1];
	const char *const *pn;
	const char *p, *end;
	size_t nv, i, k = 0;

	for (pn = params; *pn != NULL; pn++) {
		nv = http_query_all(r, *pn, vals, EVENTS_NAMES_MAX + 1);
		if (nv > EVENTS_NAMES_MAX)
			goto too_many;
		for (i = 0; i < nv; i++) {
			for (p = vals[i]; *p != '\0';
			     p = *end ? end + 1 : end) {
				end = strchr(p, ',');
				if (end == NULL)
					end = p + strlen(p);
				if (end == p)
					continue;
				if (!event_name_shaped(p, (size_t)(end - p))) {
					fail_field(resp, "events", "invalid",
					    "An event name is not valid.");
					return -1;
				}
				if (k >= EVENTS_NAMES_MAX)
					goto too_many;
				memcpy(store[k], p, (size_t)(end - p));
				store[k][end - p] = '\0';
				names[k] = store[k];
				k++;
			}
		}
	}
	names[k] = NULL;
	return 0;
too_many:
	fail_field(resp, "events", "too_many",
	    "At most 16 event names may be given.");
	return -1;
}

/* An event row as WorkOS lists it; NULL when its data does not parse. */
static json_t *
event_json(const struct event_row *ev)
{
	json_t *data = json_loads(ev->data, JSON_REJECT_DUPLICATES, NULL);
	char *id = public_id(PREFIX_EVENT, ev->id);
	json_t *v;

	if (data == NULL) {
		log_error("workos: event %s has data that does not parse",
		    ev->id);
		free(id);
		return NULL;
	}
	v = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "object", "event", "id",
	    id, "event", ev->event, "data", data, "created_at",
	    api_time(ev->created_at), "context", json_object());
	free(id);
	return v;
}

void
workos_events_list(const struct http_request *r, struct http_response *resp)
{
	char store[EVENTS_NAMES_MAX][EVENT_NAME_MAX + 1];
	const char *names[EVENTS_NAMES_MAX + 1];
	struct event_filter f;
	struct store_list l = { NULL, 0 };
	struct project *p;
	const char *key, *v, *after_arg = NULL;
	char after[UUID_STRLEN + 1], *end, *cursor = NULL;
	json_t *data = NULL, *one;
	enum engine_result res;
	long long n;
	size_t i;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	if (r->query_invalid) {
		fail_field(resp, "query", "invalid",
		    "A query argument is not valid UTF-8 text.");
		goto out;
	}
	memset(&f, 0, sizeof(f));
	f.project_id = p->id;
	f.limit = EVENTS_LIMIT_DEFAULT;
	if (event_names_of(r, resp, store, names) != 0)
		goto out;
	f.names = names[0] != NULL ? names : NULL;
	v = http_query(r, "after");
	if (v != NULL && *v != '\0') {
		if (id_unprefix(PREFIX_EVENT, v, after) != 0) {
			fail_field(resp, "after", "invalid",
			    "after must be an event id.");
			goto out;
		}
		f.after = after;
		after_arg = v;
	}
	v = http_query(r, "range_start");
	if (v != NULL && *v != '\0' && (f.range_start = iso8601_parse(v)) < 0) {
		fail_field(resp, "range_start", "invalid",
		    "range_start must be an ISO 8601 time.");
		goto out;
	}
	v = http_query(r, "range_end");
	if (v != NULL && *v != '\0' && (f.range_end = iso8601_parse(v)) < 0) {
		fail_field(resp, "range_end", "invalid",
		    "range_end must be an ISO 8601 time.");
		goto out;
	}
	v = http_query(r, "limit");
	if (v != NULL && *v != '\0') {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 ||
		    n > EVENTS_LIMIT_MAX) {
			fail_field(resp, "limit", "invalid",
			    "limit must be a number from 1 to 100.");
			goto out;
		}
		f.limit = (int)n;
	}
	v = http_query(r, "order");
	if (v != NULL && *v != '\0' && strcmp(v, "asc") != 0) {
		fail_field(resp, "order", "invalid",
		    "Events are listed oldest first (order=asc).");
		goto out;
	}
	res = engine_events_list(r->app, &f, &l);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	data = json_array();
	for (i = 0; i < l.n; i++) {
		one = event_json(l.items[i]);
		if (one != NULL)
			json_array_append_new(data, one);
	}
	/* The cursor to poll on from: the last event, else the one given. */
	if (l.n > 0)
		cursor = public_id(PREFIX_EVENT,
		    ((struct event_row *)l.items[l.n - 1])->id);
	else if (after_arg != NULL)
		cursor = xstrdup(after_arg);
	if (api_json_take(resp, 200,
		json_pack("{s:s, s:o, s:{s:o}}", "object", "list", "data", data,
		    "list_metadata", "after", api_string_or_null(cursor)),
		WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	free(cursor);
	store_list_free(&l, (void (*)(void *))event_row_free);
	project_free(p);
}

/* The face's answers to a refused call and to an engine failure. */
static void
workos_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	(void)r;
	workos_rate_limited(resp, retry_after_s);
}

static void
workos_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	(void)r;
	fail_engine(resp, (enum engine_result)result, NULL);
}

void
workos_not_found(const struct http_request *r, struct http_response *resp)
{
	(void)r;
	fail(resp, WE_ROUTE_NOT_FOUND);
}

void
workos_method_not_allowed(const struct http_request *r,
    struct http_response *resp)
{
	(void)r;
	fail(resp, WE_METHOD_NOT_ALLOWED);
}

/*
 * The start of a call made without an API key (the key set, the logout
 * redirect): the header check.  0, or -1 with resp answered.
 */
static int
public_call(const struct http_request *r, struct http_response *resp)
{
	if (http_header_malformed(r, workos_headers) != NULL) {
		fail_with(resp, WE_INVALID_HEADER, NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * The key set the SDK's getJwksUrl(clientId) names: public, no API key,
 * as WorkOS serves it.  An unknown client is a 404 in WorkOS's shape.
 */
void
workos_jwks(const struct http_request *r, struct http_response *resp)
{
	struct app_client cl;
	struct project *p = NULL;
	enum engine_result res;
	char *jwks = NULL;

	if (public_call(r, resp) == -1)
		return;
	memset(&cl, 0, sizeof(cl));
	res = engine_client(r->app, r->path_param, &cl);
	if (res == ENGINE_OK)
		res = engine_project(r->app, cl.project_id, &p);
	if (res == ENGINE_OK)
		res = keyring_jwks(r->app, p, &jwks);
	if (res == ENGINE_CREDENTIALS_INVALID || res == ENGINE_PROJECT_UNKNOWN)
		fail(resp, WE_ROUTE_NOT_FOUND);
	else if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	else {
		http_set_header(resp, "Cache-Control", "max-age=300");
		http_set_body(resp, 200, "application/json", jwks,
		    strlen(jwks));
		resp->outcome = "ok";
	}
	free(jwks);
	project_free(p);
	app_client_clear(&cl);
}

/* A session as WorkOS shows it. */
static json_t *
session_json(const struct session *s)
{
	char *id = public_id(PREFIX_SESSION, s->id);
	char *uid = public_id(PREFIX_USER, s->user_id);
	json_t *v;

	v = json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:o, s:n, s:o, "
		      "s:o}",
	    "object", "session", "id", id, "user_id", uid, "ip_address",
	    "user_agent", "auth_method", "password", "status", "active",
	    "expires_at", api_time(s->expires_at), "ended_at", "created_at",
	    api_time(s->created_at), "updated_at", api_time(s->created_at));
	free(id);
	free(uid);
	return v;
}

/* GET /user_management/users/{id}/sessions: the user's live sessions. */
void
workos_sessions_list(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct user *u = NULL;
	struct store_list l = { NULL, 0 };
	char uuid[UUID_STRLEN + 1];
	const char *key;
	enum engine_result res = ENGINE_USER_UNKNOWN;
	json_t *data;
	size_t i;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	if (id_unprefix(PREFIX_USER, r->path_param, uuid) == 0)
		res = admin_user_get(r->app, p, uuid, &u);
	if (res == ENGINE_OK)
		res = session_list(r->app, p, u->id, &l);
	if (res == ENGINE_USER_UNKNOWN) {
		fail_entity(resp, WE_USER_NOT_FOUND, r->path_param);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	data = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(data, session_json(l.items[i]));
	if (api_json_take(resp, 200,
		json_pack("{s:s, s:o, s:{s:n, s:n}}", "object", "list", "data",
		    data, "list_metadata", "before", "after"),
		WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	store_list_free(&l, (void (*)(void *))session_free);
	user_free(u);
	project_free(p);
}

/* POST /user_management/sessions/revoke {"session_id"}. */
void
workos_session_revoke(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	char uuid[UUID_STRLEN + 1];
	const char *key, *sid = NULL;
	enum engine_result res = ENGINE_SESSION_INVALID;
	json_t *body = NULL;

	p = project_of(r, resp, &key);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (!required(resp, body, "session_id", FIELD_MAX, &sid))
		goto out;
	if (id_unprefix(PREFIX_SESSION, sid, uuid) == 0)
		res = session_revoke(r->app, p, uuid);
	if (res == ENGINE_SESSION_INVALID) {
		fail_entity(resp, WE_SESSION_NOT_FOUND, sid);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (api_json_take(resp, 200, json_object(), WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	json_decref(body);
	project_free(p);
}

/*
 * GET /user_management/sessions/logout?session_id=&return_to=: where the
 * SDK's getLogoutUrl sends the browser, so no API key: the session id
 * names the session.  It is revoked, and the browser redirected to
 * return_to, which must be one of the project's callback URLs: an open
 * redirect would let anyone bounce users through resetd.
 */
void
workos_logout(const struct http_request *r, struct http_response *resp)
{
	const char *sid = http_query(r, "session_id");
	const char *to = http_query(r, "return_to");
	char uuid[UUID_STRLEN + 1];
	enum engine_result res = ENGINE_SESSION_INVALID;

	if (public_call(r, resp) == -1)
		return;
	if (r->query_invalid || sid == NULL) {
		fail_with(resp, WE_INVALID_PARAMETERS,
		    json_pack("[{s:s, s:s}]", "code", "session_id_required",
			"message", "session_id is required."),
		    NULL);
		return;
	}
	if (id_unprefix(PREFIX_SESSION, sid, uuid) == 0)
		res = session_logout(r->app, uuid, to);
	if (res == ENGINE_SESSION_INVALID) {
		fail_entity(resp, WE_SESSION_NOT_FOUND, sid);
		return;
	}
	if (res == ENGINE_LOGIN_URL_REFUSED) {
		fail(resp, WE_RETURN_TO_REFUSED);
		return;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return;
	}
	if (to != NULL)
		http_set_header(resp, "Location", to);
	if (api_json_take(resp, to != NULL ? 302 : 200, json_object(),
		WORKOS_FALLBACK) == 0)
		resp->outcome = "ok";
}

/*
 * The routes.  Every call is a server call with an API key (but for the
 * logout redirect and the key set) and spends that class before its
 * handler runs.  The SDK wants this dialect's JSON
 * for unknown paths and methods too: the method "*" rows answer 405 for
 * its paths and the prefix row 404, inline and unlimited.
 */
#define WORKOS(method, path, fn) \
	{ \
		method, path, NULL, NULL, fn, RUN_WORKER, HTTP_LIMIT(RL_API) \
	}
#define WORKOS_OTHER(path, fn) \
	{ \
		"*", path, NULL, NULL, fn, RUN_INLINE, HTTP_UNLIMITED \
	}

static const struct route workos_routes[] = {
	WORKOS("POST", "/user_management/password_reset", workos_reset_create),
	WORKOS("POST", "/user_management/password_reset/confirm",
	    workos_reset_confirm),
	WORKOS("POST", "/user_management/password_reset/send",
	    workos_reset_send),
	WORKOS("GET", "/user_management/password_reset/{}", workos_reset_get),
	WORKOS("POST", "/user_management/users", workos_user_create),
	WORKOS("GET", "/user_management/users", workos_users_list),
	WORKOS("GET", "/user_management/users/{}", workos_user_get),
	WORKOS("PUT", "/user_management/users/{}", workos_user_update),
	WORKOS("DELETE", "/user_management/users/{}", workos_user_delete),
	WORKOS("POST", "/user_management/authenticate", workos_authenticate),
	WORKOS("GET", "/user_management/users/{}/sessions",
	    workos_sessions_list),
	WORKOS("POST", "/user_management/sessions/revoke",
	    workos_session_revoke),
	/* Called by browsers and JWT libraries, without an API key. */
	WORKOS("GET", "/user_management/sessions/logout", workos_logout),
	WORKOS("GET", "/sso/jwks/{}", workos_jwks),
	WORKOS_OTHER("/user_management/password_reset",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/confirm",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/send",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/{}",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/users", workos_method_not_allowed),
	WORKOS_OTHER("/user_management/users/{}", workos_method_not_allowed),
	WORKOS_OTHER("/user_management/authenticate",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/users/{}/sessions",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/sessions/revoke",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/sessions/logout",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/*", workos_not_found),
	WORKOS("GET", "/events", workos_events_list),
	WORKOS_OTHER("/events", workos_method_not_allowed),
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face workos_face = {
	.name = "workos",
	.routes = workos_routes,
	.throttled = workos_throttled,
	.failed = workos_failed,
};

/*
 * Any other path, asked with a WorkOS API key: a WorkOS client (the SDK
 * wants JSON in its shape) gets 404 {"code", "message"}.  A face of its
 * own, listed after every other, so that it takes only what no face
 * serves.  It spends the API class, as every call with a key does.
 */
static const struct route workos_unknown_routes[] = {
	{ "*", "/*", "Authorization", "Bearer sk_*", workos_not_found,
	    RUN_WORKER, HTTP_LIMIT(RL_API) },
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face workos_unknown_face = {
	.name = "workos",
	.routes = workos_unknown_routes,
	.throttled = workos_throttled,
	.failed = workos_failed,
};
