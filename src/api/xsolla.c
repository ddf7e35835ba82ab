/*
 * The Xsolla Login dialect: reset request and confirm, login and the
 * current user, served at the root and under /api.
 *
 * Wire rules (docs/dialects/xsolla.md): the project is the projectId query
 * argument; both reset calls answer 204 with no body; errors are
 * {"error": {"code", "description", "details"}} with Xsolla's codes, and
 * codes of resetd's own in the same pattern (900-xxx) where Xsolla has
 * none (docs/dialects/xsolla.md lists them).  The JS SDK runs in browsers with credentials, so every answer,
 * errors included, carries CORS headers for the project's allowed origins.
 */
#include <string.h>
#include <strings.h>

#include "../log.h"
#include "api.h"

#define FIELD_MAX 1024
#define PASSWORD_FIELD_MAX 4096

/* The answer when another cannot be encoded: fixed, valid, in shape. */
#define XSOLLA_FALLBACK \
	"{\"error\":{\"code\":\"900-500\"," \
	"\"description\":\"Internal error, try again.\",\"details\":{}}}"

/* Every header this face reads: one that is not clean text is a 400. */
static const char *const xsolla_headers[] = {
	"Origin",
	"Authorization",
	"Content-Type",
	"User-Agent",
	NULL,
};

enum xsolla_error {
	XE_INVALID_PARAMS,     /* 0 */
	XE_WRONG_CREDENTIALS,  /* 1 */
	XE_INVALID_TOKEN,      /* 2 */
	XE_USER_BANNED,	       /* 3 */
	XE_PROJECT_NOT_FOUND,  /* 4 */
	XE_OBJECT_NOT_FOUND,   /* 5 */
	XE_PASSWORD_TOO_SHORT, /* 6 */
	XE_PASSWORD_TOO_LONG,  /* 7 */
	XE_PASSWORD_TEXT,      /* 8 */
	XE_BODY_TOO_LARGE,     /* 9 */
	XE_UNAVAILABLE,	       /* 10 */
	XE_TOO_MANY,	       /* 11 */
	XE_PASSWORD_COMMON,    /* 12 */
	XE_PASSWORD_BREACHED,  /* 13 */
	XE_PASSWORD_CONTEXT,   /* 14 */
	XE_PASSWORD_WEAK,      /* 15 */
	XE_LOGIN_HELD,	       /* 16 */
	XE_PASSWORD_UPPERCASE, /* 17 */
	XE_PASSWORD_LOWERCASE, /* 18 */
	XE_PASSWORD_NUMBERS,   /* 19 */
	XE_PASSWORD_SYMBOLS,   /* 20 */
	XE_LOGIN_URL_UNKNOWN,  /* 21 */
	XE_LOGIN_URL_SEVERAL,  /* 22 */
	XE__MAX
};

static const struct {
	int status;
	const char *code; /* NULL: the number 0 */
	const char *description;
} xsolla_errors[XE__MAX] = {
	/* XE_INVALID_PARAMS */
	{ 400, NULL, "Request has invalid parameters." },
	/* XE_WRONG_CREDENTIALS */
	{ 401, "003-001", "Wrong username or password." },
	/* XE_INVALID_TOKEN */
	{ 401, "002-016", "Invalid token." },
	/* XE_USER_BANNED */
	{ 401, "002-040", "User is banned." },
	/* XE_PROJECT_NOT_FOUND */
	{ 404, "003-019", "Project not found." },
	/* XE_OBJECT_NOT_FOUND */
	{ 404, "003-061", "Object not found." },
	/* XE_PASSWORD_TOO_SHORT: Xsolla's own code for a new_password out of
	   its schema's bounds */
	{ 400, NULL, "Request has invalid parameters." },
	/* XE_PASSWORD_TOO_LONG: likewise */
	{ 400, NULL, "Request has invalid parameters." },
	/* XE_PASSWORD_TEXT */
	{ 422, "900-003",
	    "The new password contains characters that are "
	    "not allowed." },
	/* XE_BODY_TOO_LARGE */
	{ 413, "900-413", "Request body too large." },
	/* XE_UNAVAILABLE */
	{ 503, "900-503", "Service temporarily unavailable, try again." },
	/* XE_TOO_MANY */
	{ 429, "002-057", "Too many requests. Try again later." },
	/* XE_PASSWORD_COMMON */
	{ 422, "900-004", "The new password is too common." },
	/* XE_PASSWORD_BREACHED */
	{ 422, "900-005", "The new password has appeared in a data breach." },
	/* XE_PASSWORD_CONTEXT */
	{ 422, "900-006",
	    "The new password is the account's email, "
	    "username or the project's name." },
	/* XE_PASSWORD_WEAK */
	{ 422, "900-007", "The new password is too easy to guess." },
	/* XE_LOGIN_HELD: the login's back-off, the same for unknown logins */
	{ 429, "002-058", "Too many sign-in attempts. Try again later." },
	/* XE_PASSWORD_UPPERCASE */
	{ 422, "900-008", "The new password must have an uppercase letter." },
	/* XE_PASSWORD_LOWERCASE */
	{ 422, "900-009", "The new password must have a lowercase letter." },
	/* XE_PASSWORD_NUMBERS */
	{ 422, "900-010", "The new password must have a digit." },
	/* XE_PASSWORD_SYMBOLS */
	{ 422, "900-011", "The new password must have a symbol." },
	/* XE_LOGIN_URL_UNKNOWN: Xsolla's SubmittedLoginUrlNotFoundException */
	{ 400, "010-012",
	    "The login_url is not one of the project's callback "
	    "URLs." },
	/* XE_LOGIN_URL_SEVERAL: Xsolla's MultipleLoginUrlsException */
	{ 400, "010-011",
	    "The project has several callback URLs: login_url "
	    "is required." },
};

/*
 * CORS: an origin project p allows may read the answer, with credentials.
 * Every answer, errors included, goes through here once the project is
 * known; with no project (unknown, unreadable, or not named) no origin is
 * allowed, so a page of any other site cannot read, with the user's
 * cookies, even an error.
 */
static void
cors(const struct http_request *r, struct http_response *resp,
    const struct project *p)
{
	const char *origin = http_header(r, "Origin");

	if (p == NULL || origin == NULL || strlen(origin) > 512 ||
	    !engine_origin_allowed(p, origin))
		return;
	http_set_header(resp, "Access-Control-Allow-Origin", origin);
	http_set_header(resp, "Access-Control-Allow-Credentials", "true");
	http_set_header(resp, "Access-Control-Expose-Headers", "X-Request-ID");
	http_set_header(resp, "Vary", "Origin");
}

static void
fail(struct http_response *resp, enum xsolla_error e, json_t *details)
{
	json_t *code;

	if (e < 0 || e >= XE__MAX)
		abort();
	code = xsolla_errors[e].code ? json_string(xsolla_errors[e].code) :
				       json_integer(0);
	if (api_json_take(resp, xsolla_errors[e].status,
		json_pack("{s:{s:o, s:s, s:o}}", "error", "code", code,
		    "description", xsolla_errors[e].description, "details",
		    details ? details : json_object()),
		XSOLLA_FALLBACK) == 0)
		resp->outcome = xsolla_errors[e].code ? xsolla_errors[e].code :
							"0";
}

static void
fail_field(struct http_response *resp, const char *field, const char *why)
{
	fail(resp, XE_INVALID_PARAMS, json_pack("{s:s}", field, why));
}

static enum xsolla_error
engine_error(enum engine_result res, const struct password_verdict *v)
{
	switch (res) {
	case ENGINE_PASSWORD_WEAK:
		if (v != NULL && v->rule == PW_COMMON)
			return XE_PASSWORD_COMMON;
		if (v != NULL && v->rule == PW_BREACHED)
			return XE_PASSWORD_BREACHED;
		if (v != NULL && v->rule == PW_CONTEXT)
			return XE_PASSWORD_CONTEXT;
		if (v != NULL && v->rule == PW_UPPERCASE)
			return XE_PASSWORD_UPPERCASE;
		if (v != NULL && v->rule == PW_LOWERCASE)
			return XE_PASSWORD_LOWERCASE;
		if (v != NULL && v->rule == PW_NUMBERS)
			return XE_PASSWORD_NUMBERS;
		if (v != NULL && v->rule == PW_SYMBOLS)
			return XE_PASSWORD_SYMBOLS;
		return XE_PASSWORD_WEAK;
	case ENGINE_THROTTLED:
	case ENGINE_RATE_LIMITED:
		return XE_TOO_MANY;
	case ENGINE_PROJECT_UNKNOWN:
		return XE_PROJECT_NOT_FOUND;
	case ENGINE_SECRET_INVALID:
	case ENGINE_SECRET_EXPIRED:
	case ENGINE_USER_UNKNOWN:
		return XE_OBJECT_NOT_FOUND;
	case ENGINE_PASSWORD_TOO_SHORT:
		return XE_PASSWORD_TOO_SHORT;
	case ENGINE_PASSWORD_TOO_LONG:
		return XE_PASSWORD_TOO_LONG;
	case ENGINE_PASSWORD_INVALID_TEXT:
		return XE_PASSWORD_TEXT;
	case ENGINE_CREDENTIALS_INVALID:
		return XE_WRONG_CREDENTIALS;
	case ENGINE_USER_DISABLED:
		return XE_USER_BANNED;
	case ENGINE_SESSION_INVALID:
		return XE_INVALID_TOKEN;
	case ENGINE_LOGIN_URL_REFUSED:
		return XE_LOGIN_URL_UNKNOWN;
	case ENGINE_BAD_INPUT:
	case ENGINE_CONFLICT:
	case ENGINE_STORAGE_REFUSED:
		return XE_INVALID_PARAMS;
	case ENGINE_UNAVAILABLE:
		return XE_UNAVAILABLE;
	default:
		/* A result this face has no answer for: a bug, not a crash. */
		log_error("xsolla: engine result %s has no answer",
		    engine_result_name(res));
		return XE_UNAVAILABLE;
	}
}

/*
 * Answer an engine result; v (may be NULL) says why a password was
 * refused, and details.rule names the rule.
 */
static void
fail_engine(struct http_response *resp, enum engine_result res,
    const struct password_verdict *v)
{
	json_t *details = NULL;

	if (res == ENGINE_LOGIN_URL_REFUSED)
		details = json_pack("{s:s}", "login_url",
		    "not one of the project's callback URLs");
	else if (v != NULL && v->rule != PW_OK) {
		details = json_pack("{s:s, s:s, s:s}", "rule",
		    password_rule_name(v->rule), "message", v->message,
		    "suggestion", v->suggestion);
		/* Out of bounds is Xsolla's "0": name the field, as it does. */
		if (v->rule == PW_MIN_LENGTH || v->rule == PW_MAX_LENGTH)
			json_object_set_new(details, "new_password",
			    json_string(v->rule == PW_MIN_LENGTH ? "too short" :
								   "too long"));
		if (v->rule == PW_MIN_LENGTH)
			json_object_set_new(details, "min_length",
			    json_integer(v->min_length));
		else if (v->rule == PW_MAX_LENGTH)
			json_object_set_new(details, "max_length",
			    json_integer(v->max_length));
		else if (v->rule == PW_STRENGTH) {
			json_object_set_new(details, "score",
			    json_integer(v->score));
			json_object_set_new(details, "min_score",
			    json_integer(v->min_score));
		}
	} else if (res == ENGINE_PASSWORD_TOO_LONG)
		details = json_pack("{s:s, s:s, s:i}", "rule", "max_length",
		    "new_password", "too long", "max_length",
		    PASSWORD_MAX_CHARS);
	else if (res == ENGINE_PASSWORD_INVALID_TEXT)
		details = json_pack("{s:s}", "rule", "valid_text");
	fail(resp, engine_error(res, v), details);
}

/*
 * Answer a refused login_url as Xsolla does: 010-012 for one that is not
 * a callback URL of the project, 010-011 for none when the project has
 * several to choose from.
 */
static void
fail_login_url(struct http_response *resp, const char *login_url)
{
	if (login_url != NULL)
		fail(resp, XE_LOGIN_URL_UNKNOWN,
		    json_pack("{s:s}", "login_url",
			"not one of the project's callback URLs"));
	else
		fail(resp, XE_LOGIN_URL_SEVERAL,
		    json_pack("{s:s}", "login_url",
			"required: the project has several callback "
			"URLs"));
}

/*
 * CORS for an answer given before the project was read (a throttled
 * call): the origins of the project projectId names, when it names one;
 * none otherwise.  The read is the one the preflight makes, a primary key
 * through the engine's project cache.
 */
static void
cors_of_query(const struct http_request *r, struct http_response *resp)
{
	const char *id = http_query(r, "projectId");
	struct project *p = NULL;

	if (r->query_invalid || id == NULL ||
	    engine_project(r->app, id, &p) != ENGINE_OK)
		return;
	cors(r, resp, p);
	project_free(p);
}

/*
 * The face's answer to a call its route's limit refused (429, code
 * 002-057, Retry-After), with the CORS of the project projectId names.
 */
static void
xsolla_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	http_set_retry_after(resp, retry_after_s);
	cors_of_query(r, resp);
	fail(resp, XE_TOO_MANY,
	    json_pack("{s:I}", "retry_after", (json_int_t)retry_after_s));
}

/* The face's answer to an engine failure, with CORS as above. */
static void
xsolla_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	cors_of_query(r, resp);
	fail_engine(resp, (enum engine_result)result, NULL);
}

/*
 * A header this face reads that is not clean text: return 1 with resp
 * answered (400, invalid parameters, naming the header), or 0.
 */
static int
header_malformed(const struct http_request *r, struct http_response *resp)
{
	const char *bad = http_header_malformed(r, xsolla_headers);

	if (bad == NULL)
		return 0;
	fail_field(resp, bad, "not valid UTF-8 text");
	return 1;
}

/*
 * The common start of every call: the project from projectId, then CORS.
 * Return the project (caller frees), or NULL with resp already answered.
 */
static struct project *
project_of(const struct http_request *r, struct http_response *resp)
{
	const char *id = http_query(r, "projectId");
	struct project *p = NULL;
	enum engine_result res;

	/* Without a project no origin is allowed: these errors get no CORS. */
	if (header_malformed(r, resp))
		return NULL;
	if (r->query_invalid) {
		fail_field(resp, "query", "a query argument is not valid text");
		return NULL;
	}
	if (id == NULL || *id == '\0') {
		fail_field(resp, "projectId", "required");
		return NULL;
	}
	res = engine_project(r->app, id, &p);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return NULL;
	}
	cors(r, resp, p);
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
		fail(resp, XE_BODY_TOO_LARGE, NULL);
		return NULL;
	case API_BODY_WRONG_TYPE:
	case API_BODY_WRONG_CHARSET:
	case API_BODY_MALFORMED:
		fail(resp, XE_INVALID_PARAMS, json_pack("{s:s}", "body", err));
		return NULL;
	default:
		abort();
	}
}

void
xsolla_preflight(const struct http_request *r, struct http_response *resp)
{
	const char *id = http_query(r, "projectId");
	struct project *p = NULL;

	if (header_malformed(r, resp))
		return;
	if (r->query_invalid)
		id = NULL;
	if (id != NULL && engine_project(r->app, id, &p) == ENGINE_OK &&
	    engine_origin_allowed(p, http_header(r, "Origin"))) {
		cors(r, resp, p);
		http_set_header(resp, "Access-Control-Allow-Methods",
		    "GET, POST, OPTIONS");
		http_set_header(resp, "Access-Control-Allow-Headers",
		    "Authorization, Content-Type, X-Request-ID, X-LOT-Number, "
		    "X-Captcha-Output, X-Pass-Token, X-Gen-Time");
		http_set_header(resp, "Access-Control-Max-Age", "600");
	}
	project_free(p);
	http_set_body(resp, 204, NULL, "", 0);
}

void
xsolla_reset_request(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct reset_request in;
	struct reset_ticket t;
	struct request_context ctx;
	enum engine_result res;
	json_t *body = NULL;
	const char *username = NULL, *login_url;
	char *chosen = NULL;

	face_context(r, &ctx);
	p = project_of(r, resp);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (api_string_field(body, "username", FIELD_MAX, &username) != 1 ||
	    *username == '\0') {
		fail_field(resp, "username", "required");
		goto out;
	}
	/*
	 * The link leads back to a callback URL: of several, the caller must
	 * say which.  This depends on the project alone, never the account.
	 */
	login_url = http_query(r, "login_url");
	res = engine_callback_url(p, login_url,
	    CALLBACK_REFUSE_UNLISTED | CALLBACK_REQUIRE_CHOICE, &chosen);
	free(chosen);
	if (res != ENGINE_OK) {
		fail_login_url(resp, login_url);
		goto out;
	}
	in = (struct reset_request){
		.project = p,
		.login = username,
		.login_url = login_url,
		.locale = http_query(r, "locale"),
		.link_style = LINK_RESET_CODE,
		.delivery = engine_delivery(p, DELIVERY_CARRIES_LINK),
		.ctx = &ctx,
		/* The time floor holds the answer, not this thread. */
		.answer_at_us = &resp->answer_at_us,
	};
	/*
	 * The answer is 204 whether or not the account exists; the ticket
	 * is not shown to anyone.
	 */
	res = reset_request(r->app, &in, &t);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	reset_ticket_clear(&t);
	http_set_body(resp, 204, NULL, "", 0);
	resp->outcome = "ok";
out:
	json_decref(body);
	project_free(p);
}

void
xsolla_reset_confirm(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct reset_confirm in;
	struct request_context ctx;
	struct password_verdict verdict;
	enum engine_result res;
	json_t *body = NULL;
	const char *code = NULL, *password = NULL, *user_id = NULL;
	const char *verify_code = NULL;

	face_context(r, &ctx);
	memset(&verdict, 0, sizeof(verdict));
	p = project_of(r, resp);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (api_string_field(body, "new_password", PASSWORD_FIELD_MAX,
		&password) != 1) {
		fail_field(resp, "new_password", "required");
		goto out;
	}
	if (api_string_field(body, "reset_code", FIELD_MAX, &code) != 1) {
		fail_field(resp, "reset_code", "required");
		goto out;
	}
	if (api_string_field(body, "user_id", FIELD_MAX, &user_id) == -1) {
		fail_field(resp, "user_id", "expected a string");
		goto out;
	}
	/* For an app that keeps its users (user storage), passed on. */
	if (api_string_field(body, "verify_code", FIELD_MAX, &verify_code) ==
	    -1) {
		fail_field(resp, "verify_code", "expected a string");
		goto out;
	}
	in = (struct reset_confirm){
		.project = p,
		.token = code,
		.user_id = user_id,
		.new_password = password,
		.ctx = &ctx,
		.verdict = &verdict,
		.verify_code = verify_code,
	};
	res = reset_confirm(r->app, &in, NULL);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, &verdict);
		goto out;
	}
	http_set_body(resp, 204, NULL, "", 0);
	resp->outcome = "ok";
out:
	json_decref(body);
	project_free(p);
}

/*
 * Xsolla's names for the login token's claims.  The token is the session:
 * jti names it, so a reset revokes it.  Backends check it with the
 * project's secret key (resetd project secret-key).
 */
static const struct claim_map xsolla_claims = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "jti",
		[CF_PROJECT] = "xsolla_login_project_id",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
		[CF_EMAIL] = "email",
		[CF_USERNAME] = "username",
		[CF_GROUPS] = "groups",
	},
	.fixed = { { "type", "xsolla_login" } },
};

void
xsolla_login(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	struct login_request in;
	struct login_result lr = { .session = NULL };
	enum engine_result res;
	json_t *body = NULL;
	const char *username = NULL, *password = NULL;
	const char *login_url = http_query(r, "login_url");
	char *callback = NULL, *jwt = NULL, *url;
	struct request_context ctx;
	int rc;

	face_context(r, &ctx);
	p = project_of(r, resp);
	if (p == NULL)
		return;
	body = body_of(r, resp);
	if (body == NULL)
		goto out;
	if (api_string_field(body, "username", FIELD_MAX, &username) != 1 ||
	    api_string_field(body, "password", PASSWORD_FIELD_MAX, &password) !=
		1) {
		fail_field(resp, "username", "username and password required");
		goto out;
	}
	/*
	 * Where the token goes: the URL sent, or the project's only one; of
	 * several, the caller must choose.
	 */
	res = engine_callback_url(p, login_url,
	    CALLBACK_REFUSE_UNLISTED | CALLBACK_REQUIRE_CHOICE |
		CALLBACK_DEFAULT_FIRST,
	    &callback);
	if (res != ENGINE_OK) {
		fail_login_url(resp, login_url);
		goto out;
	}
	in = (struct login_request){ .project = p,
		.login = username,
		.password = password,
		.ctx = &ctx,
		.face = SF_XSOLLA };
	res = session_login(r->app, &in, &lr);
	if (res == ENGINE_THROTTLED) {
		http_set_retry_after(resp, lr.retry_after_s);
		fail(resp, XE_LOGIN_HELD,
		    json_pack("{s:I}", "retry_after",
			(json_int_t)lr.retry_after_s));
		goto out;
	}
	if (res == ENGINE_OK)
		res = session_token(r->app, p, TK_XSOLLA_LOGIN, &xsolla_claims,
		    &lr, NULL, &jwt);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (callback != NULL) {
		url = xasprintf("%s%ctoken=%s", callback,
		    strchr(callback, '?') ? '&' : '?', jwt);
		rc = api_json_take(resp, 200,
		    json_pack("{s:s}", "login_url", url), XSOLLA_FALLBACK);
		free(url);
	} else
		rc = api_json_take(resp, 200, json_pack("{s:s}", "token", jwt),
		    XSOLLA_FALLBACK);
	if (rc == 0)
		resp->outcome = "ok";
out:
	xfree_secret(jwt);
	free(callback);
	login_result_clear(&lr);
	json_decref(body);
	project_free(p);
}

/*
 * The current user.  The token names its project (the signed claim
 * xsolla_login_project_id), and so does projectId when the client sends
 * it, as Xsolla's SDK does on its /users/me calls: a token of another
 * project is an invalid token, and the answer says which project the user
 * is in.
 */
void
xsolla_users_me(const struct http_request *r, struct http_response *resp)
{
	const char *auth = http_header(r, "Authorization");
	const char *qid = http_query(r, "projectId");
	struct project *p = NULL;
	struct token_check tc = { .session = NULL };
	const struct user *u;
	enum engine_result res;

	if (header_malformed(r, resp))
		return;
	if (r->query_invalid) {
		fail_field(resp, "query", "a query argument is not valid text");
		goto out;
	}
	/* The project the client names decides CORS, errors included. */
	if (qid != NULL) {
		res = engine_project(r->app, qid, &p);
		if (res != ENGINE_OK) {
			fail_engine(resp, res, NULL);
			goto out;
		}
		cors(r, resp, p);
	}
	res = session_token_check(r->app, p, TK_XSOLLA_LOGIN, &xsolla_claims,
	    auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 :
								   NULL,
	    &tc);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (p == NULL) {
		res = engine_project(r->app, tc.project_id, &p);
		if (res != ENGINE_OK) {
			fail_engine(resp,
			    res == ENGINE_PROJECT_UNKNOWN ?
				ENGINE_SESSION_INVALID :
				res,
			    NULL);
			goto out;
		}
		cors(r, resp, p);
	}
	u = tc.user;
	/*
	 * Xsolla's documented user: every field it lists, null where resetd
	 * keeps no such thing (ban, birthday, connections, country, devices,
	 * external id, gender, nickname, phone, picture, tag).  The groups
	 * are the one default group the login token carries (session.c).
	 */
	if (api_json_take(resp, 200,
		json_pack(
		    "{s:s, s:o, s:s, s:o, s:o, "
		    "s:o, s:o, s:o, s:b, s:s, s:n, s:n, s:n, s:n, s:n, s:n, s:n, "
		    "s:[{s:i, s:s, s:b, s:b}], s:b, s:n, s:n, s:n, s:n}",
		    "id", u->id, "username", api_string_or_null(u->username),
		    "email", u->email, "name", json_null(), "first_name",
		    api_string_or_null(u->first_name), "last_name",
		    api_string_or_null(u->last_name), "registered",
		    api_time(u->created_at), "last_login",
		    api_time(u->last_sign_in_at), "email_confirmed",
		    u->email_verified, "xsolla_login_project_id", p->id, "ban",
		    "birthday", "connection_information", "country", "devices",
		    "external_id", "gender", "groups", "id", 1, "name",
		    "default", "is_default", 1, "is_deletable", 0,
		    "is_anonymous", 0, "nickname", "phone", "picture", "tag"),
		XSOLLA_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	token_check_clear(&tc);
	project_free(p);
}

/*
 * The routes, at the root and under /api (the SDK's base URL may include
 * it).  Each call spends its class before its handler runs; preflights
 * spend nothing.
 */
#define XSOLLA(method, path, fn, limit) \
	{ method, path, NULL, NULL, fn, RUN_WORKER, limit }, \
	{ \
		method, "/api" path, NULL, NULL, fn, RUN_WORKER, limit \
	}

static const struct route xsolla_routes[] = {
	XSOLLA("POST", "/password/reset/request", xsolla_reset_request,
	    HTTP_LIMIT(RL_REQUEST)),
	XSOLLA("OPTIONS", "/password/reset/request", xsolla_preflight,
	    HTTP_UNLIMITED),
	XSOLLA("POST", "/password/reset/confirm", xsolla_reset_confirm,
	    HTTP_LIMIT(RL_CONFIRM)),
	XSOLLA("OPTIONS", "/password/reset/confirm", xsolla_preflight,
	    HTTP_UNLIMITED),
	XSOLLA("POST", "/login", xsolla_login, HTTP_LIMIT(RL_LOGIN)),
	XSOLLA("OPTIONS", "/login", xsolla_preflight, HTTP_UNLIMITED),
	/* A session read: the class of server calls, not of logins. */
	XSOLLA("GET", "/users/me", xsolla_users_me, HTTP_LIMIT(RL_API)),
	XSOLLA("OPTIONS", "/users/me", xsolla_preflight, HTTP_UNLIMITED),
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face xsolla_face = {
	.name = "xsolla",
	.routes = xsolla_routes,
	.throttled = xsolla_throttled,
	.failed = xsolla_failed,
};
