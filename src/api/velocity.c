/*
 * The Velocity dialect: Nelnet's REST face over Cognito's reset calls,
 * POST /password/forgot and POST /password/forgot/confirm, served at the
 * root and under /authapi.  Only the confirm call is published; resetd
 * completes the request call and the error envelope in the same style and
 * documents them as its own (docs/dialects/velocity-cognito.md).
 *
 * The userpoolid header names the project (its id) and appclientid one of
 * its app clients, whose settings apply exactly as through Cognito: a
 * client with a secret needs the SecretHash (body member "secretHash"),
 * and the client decides whether unknown accounts are revealed.  Success
 * answers are {"data": {...}}; errors are {"error": {"code", "message"}}
 * with Cognito's exception names and statuses (the table in cognito.c).
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "api.h"

#define HEADER_MAX 128
#define USERNAME_MAX 320 /* the engine's bound on logins */
#define SECRET_HASH_MAX 128
#define CODE_MAX 2048
#define PASSWORD_FIELD_MAX 4096
#define MESSAGE_MAX 512

/* The answer when another cannot be encoded: fixed, valid, in shape. */
#define VELOCITY_FALLBACK \
	"{\"error\":{\"code\":" \
	"\"InternalErrorException\",\"message\":" \
	"\"Internal error, please try again.\"}}"

/* Every header this face reads: one that is not clean text is a 400. */
static const char *const velocity_headers[] = {
	"userpoolid",
	"appclientid",
	"Content-Type",
	"User-Agent",
	NULL,
};

static void
fail(struct http_response *resp, enum cognito_error e, const char *message)
{
	const struct cognito_exception *x = cognito_exception(e);

	if (api_json_take(resp, x->status,
		json_pack("{s:{s:s, s:s}}", "error", "code", x->type, "message",
		    message != NULL ? message : x->message),
		VELOCITY_FALLBACK) == 0)
		resp->outcome = x->type;
}

static void
fail_engine(struct http_response *resp, enum engine_result res,
    const struct password_verdict *v)
{
	const char *message;
	char buf[MESSAGE_MAX];
	enum cognito_error e = cognito_engine_error(res, &message);

	if (e == CE_INVALID_PASSWORD)
		message = cognito_password_message(res, v, buf, sizeof(buf));
	fail(resp, e, message);
}

/*
 * The face's answer to a call its route's limit refused
 * (TooManyRequestsException, 429, Retry-After), and to an engine failure.
 */
static void
velocity_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	(void)r;
	http_set_retry_after(resp, retry_after_s);
	fail(resp, CE_TOO_MANY_REQUESTS, NULL);
}

static void
velocity_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	(void)r;
	fail_engine(resp, (enum engine_result)result, NULL);
}

/*
 * Read string member name of body.  Return 1 with *out, 0 when an
 * optional member is absent or null, or -1 with resp answered.
 */
static int
member(struct http_response *resp, json_t *body, const char *name, size_t max,
    int required, const char **out)
{
	char msg[MESSAGE_MAX];
	int rc;

	rc = api_string_field(body, name, max, out);
	if (rc == 1 && **out != '\0')
		return 1;
	if (rc == 0 && !required)
		return 0;
	if (rc == -1)
		snprintf(msg, sizeof(msg),
		    "%s: expected a string of at most "
		    "%zu bytes",
		    name, max);
	else
		snprintf(msg, sizeof(msg), "%s: required", name);
	fail(resp, CE_INVALID_PARAMETER, msg);
	return -1;
}

/*
 * The call's body, pool and app client, SecretHash checked against
 * username.  Return the body (a new reference) with *cl and *p filled, or
 * NULL with resp answered.
 */
static json_t *
call_of(const struct http_request *r, struct http_response *resp,
    struct app_client *cl, struct project **p)
{
	const char *pool = http_header(r, "userpoolid");
	const char *client = http_header(r, "appclientid");
	const char *username = NULL, *secret_hash = NULL, *bad;
	struct client_auth in;
	enum engine_result res;
	char err[256], msg[MESSAGE_MAX];
	char pool_text[HEADER_MAX + 1], client_text[HEADER_MAX + 1];
	json_t *body = NULL;

	bad = http_header_malformed(r, velocity_headers);
	if (bad != NULL) {
		snprintf(msg, sizeof(msg),
		    "the %s header is not valid UTF-8 "
		    "text",
		    bad);
		fail(resp, CE_INVALID_PARAMETER, msg);
		return NULL;
	}
	if (pool == NULL || *pool == '\0' || strlen(pool) > HEADER_MAX ||
	    client == NULL || *client == '\0' || strlen(client) > HEADER_MAX) {
		fail(resp, CE_INVALID_PARAMETER,
		    "the userpoolid and appclientid "
		    "headers are required");
		return NULL;
	}
	switch (
	    api_parse_object(r, "application/json", &body, err, sizeof(err))) {
	case API_BODY_OK:
		break;
	case API_BODY_TOO_LARGE:
	case API_BODY_WRONG_TYPE:
	case API_BODY_WRONG_CHARSET:
	case API_BODY_MALFORMED:
		fail(resp, CE_INVALID_PARAMETER, err);
		return NULL;
	default:
		abort();
	}
	if (member(resp, body, "userName", USERNAME_MAX, 1, &username) == -1 ||
	    member(resp, body, "secretHash", SECRET_HASH_MAX, 0,
		&secret_hash) == -1)
		goto out;
	in = (struct client_auth){ client, pool, username, secret_hash };
	res = engine_client_auth(r->app, &in, cl, p);
	if (res == ENGINE_OK)
		return body;
	/*
	 * The headers are echoed cleaned (http_header let only clean text
	 * through; this keeps it so whatever changes there).  Both are at
	 * most HEADER_MAX bytes: the messages fit.
	 */
	(void)str_utf8_clean(pool_text, sizeof(pool_text), pool, strlen(pool));
	(void)str_utf8_clean(client_text, sizeof(client_text), client,
	    strlen(client));
	if (res == ENGINE_PROJECT_UNKNOWN) {
		snprintf(msg, sizeof(msg),
		    "User pool client %s does not exist "
		    "in user pool %s.",
		    client_text, pool_text);
		fail(resp, CE_RESOURCE_NOT_FOUND, msg);
	} else if (res == ENGINE_CREDENTIALS_INVALID) {
		snprintf(msg, sizeof(msg),
		    secret_hash == NULL ?
			"Client %s is "
			"configured for secret but secret was not received" :
			"Unable to verify secret hash for client %s",
		    client_text);
		fail(resp, CE_NOT_AUTHORIZED, msg);
	} else
		fail_engine(resp, res, NULL);
out:
	json_decref(body);
	return NULL;
}

void
velocity_forgot(const struct http_request *r, struct http_response *resp)
{
	struct app_client cl;
	struct project *p = NULL;
	struct reset_request in;
	struct reset_ticket t;
	struct request_context ctx;
	enum engine_result res;
	json_t *body;
	const char *username = NULL;

	memset(&cl, 0, sizeof(cl));
	face_context(r, &ctx);
	body = call_of(r, resp, &cl, &p);
	if (body == NULL)
		return;
	(void)api_string_field(body, "userName", USERNAME_MAX, &username);
	in = (struct reset_request){
		.project = p,
		.login = username,
		.delivery = engine_delivery(p, DELIVERY_CARRIES_CODE),
		.reveal_user_existence = engine_reveals_users(&cl),
		.ctx = &ctx,
		/* The time floor holds the answer, not this thread. */
		.answer_at_us = &resp->answer_at_us,
	};
	/* Unless the client reveals existence, every account answers alike. */
	res = reset_request(r->app, &in, &t);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (api_json_take(resp, 200,
		json_pack("{s:{s:s, s:{s:s, s:s, s:s}}}", "data", "userName",
		    username, "codeDeliveryDetails", "destination",
		    t.destination, "deliveryMedium", "EMAIL", "attributeName",
		    "email"),
		VELOCITY_FALLBACK) == 0)
		resp->outcome = "ok";
	reset_ticket_clear(&t);
out:
	json_decref(body);
	project_free(p);
	app_client_clear(&cl);
}

void
velocity_forgot_confirm(const struct http_request *r,
    struct http_response *resp)
{
	struct app_client cl;
	struct project *p = NULL;
	struct reset_code_confirm in;
	struct request_context ctx;
	struct password_verdict verdict;
	enum engine_result res;
	json_t *body;
	const char *username = NULL, *code = NULL, *password = NULL;

	memset(&cl, 0, sizeof(cl));
	memset(&verdict, 0, sizeof(verdict));
	face_context(r, &ctx);
	body = call_of(r, resp, &cl, &p);
	if (body == NULL)
		return;
	(void)api_string_field(body, "userName", USERNAME_MAX, &username);
	if (member(resp, body, "verificationCode", CODE_MAX, 1, &code) == -1 ||
	    member(resp, body, "newPassword", PASSWORD_FIELD_MAX, 1,
		&password) == -1)
		goto out;
	in = (struct reset_code_confirm){
		.project = p,
		.login = username,
		.code = code,
		.new_password = password,
		.reveal_user_existence = engine_reveals_users(&cl),
		.ctx = &ctx,
		.verdict = &verdict,
	};
	res = reset_confirm_code(r->app, &in, NULL);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, &verdict);
		goto out;
	}
	if (api_json_take(resp, 200,
		json_pack("{s:{s:s, s:b}}", "data", "userName", username,
		    "passwordChanged", 1),
		VELOCITY_FALLBACK) == 0)
		resp->outcome = "ok";
out:
	json_decref(body);
	project_free(p);
	app_client_clear(&cl);
}

/*
 * The routes, at the root and under the vendor's base path /authapi; each
 * spends its class before its handler runs.
 */
#define VELOCITY(method, path, fn, limit) \
	{ method, path, NULL, NULL, fn, RUN_WORKER, limit }, \
	{ \
		method, "/authapi" path, NULL, NULL, fn, RUN_WORKER, limit \
	}

static const struct route velocity_routes[] = {
	VELOCITY("POST", "/password/forgot", velocity_forgot,
	    HTTP_LIMIT(RL_REQUEST)),
	VELOCITY("POST", "/password/forgot/confirm", velocity_forgot_confirm,
	    HTTP_LIMIT(RL_CONFIRM)),
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face velocity_face = {
	.name = "velocity",
	.routes = velocity_routes,
	.throttled = velocity_throttled,
	.failed = velocity_failed,
};
