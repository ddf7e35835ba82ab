/*
 * The Cognito dialect: AWS JSON 1.1 on POST /, the operation named by the
 * X-Amz-Target header, so that @aws-sdk/client-cognito-identity-provider
 * and amazon-cognito-identity-js work against resetd with only their
 * endpoint changed.  Two unsigned operations are served here,
 * ForgotPassword and ConfirmForgotPassword; the admin calls, signed with
 * AWS Signature Version 4, are in cognito_admin.c; any other target is
 * UnknownOperationException.
 *
 * Wire rules (docs/dialects/velocity-cognito.md): every answer is
 * application/x-amz-json-1.1 and carries x-amzn-RequestId (the request id
 * the HTTP layer also sends as X-Request-ID).  Errors are {"__type",
 * "message"} with a plain exception name (amazon-cognito-identity-js does
 * not strip namespaces), repeated in x-amzn-ErrorType, with the status the
 * SDK's model gives the exception.  The exception table is shared with
 * the Velocity dialect, which wraps the same two calls.
 *
 * The app client named by ClientId decides the rest: a client with a
 * secret requires SecretHash, and a client set to reveal user existence
 * answers UserNotFoundException for unknown accounts; by default every
 * account looks alike (PreventUserExistenceErrors).
 */
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "api.h"

#define COGNITO_JSON "application/x-amz-json-1.1"
#define TARGET_PREFIX "AWSCognitoIdentityProviderService."
#define CLIENT_ID_MAX 128
#define USERNAME_MAX 320	/* the engine's bound on logins */
#define SECRET_HASH_MAX 128
#define CODE_MAX 2048
#define PASSWORD_FIELD_MAX 4096	/* longer is a parameter error; the engine
				   refuses past 256 characters by policy */
#define MESSAGE_MAX 512

/* The answer when another cannot be encoded: fixed, valid, in shape. */
#define COGNITO_FALLBACK "{\"__type\":\"InternalErrorException\"," \
	"\"message\":\"Internal error, please try again.\"}"

/* Every header this face reads: one that is not clean text is a 400. */
static const char *const cognito_headers[] = {
	"X-Amz-Target", "Content-Type", "Origin", "User-Agent", "Authorization",
	"X-Amz-Date", NULL,
};

static const struct cognito_exception cognito_exceptions[CE__MAX] = {
	/* CE_CODE_MISMATCH */
	{ 400, "CodeMismatchException",
	    "Invalid verification code provided, please try again." },
	/* CE_EXPIRED_CODE */
	{ 400, "ExpiredCodeException",
	    "Invalid code provided, please request a code again." },
	/* CE_INVALID_PASSWORD */
	{ 400, "InvalidPasswordException",
	    "Password does not conform to policy." },
	/* CE_LIMIT_EXCEEDED */
	{ 400, "LimitExceededException",
	    "Attempt limit exceeded, please try after some time." },
	/* CE_TOO_MANY_FAILED */
	{ 400, "TooManyFailedAttemptsException",
	    "Too many failed attempts for this code, please request a new "
	    "code." },
	/* CE_USER_NOT_FOUND */
	{ 404, "UserNotFoundException",
	    "Username/client id combination not found." },
	/* CE_NOT_AUTHORIZED */
	{ 403, "NotAuthorizedException", "Unable to verify secret hash." },
	/* CE_INVALID_PARAMETER */
	{ 400, "InvalidParameterException", "Invalid parameters." },
	/* CE_RESOURCE_NOT_FOUND */
	{ 404, "ResourceNotFoundException", "User pool client does not exist." },
	/* CE_UNKNOWN_OPERATION */
	{ 400, "UnknownOperationException", "Unknown operation." },
	/* CE_SERIALIZATION */
	{ 400, "SerializationException",
	    "The request body is not a JSON object." },
	/* CE_INTERNAL */
	{ 500, "InternalErrorException", "Internal error, please try again." },
	/* CE_TOO_MANY_REQUESTS */
	{ 429, "TooManyRequestsException", "Too many requests, please try "
	    "again later." },
	/* CE_MISSING_AUTH_TOKEN */
	{ 400, "MissingAuthenticationTokenException", "Request is missing "
	    "Authentication Token" },
	/* CE_INCOMPLETE_SIGNATURE */
	{ 400, "IncompleteSignatureException", "The request signature does "
	    "not conform to AWS standards." },
	/* CE_UNRECOGNIZED_CLIENT */
	{ 400, "UnrecognizedClientException", "The security token included "
	    "in the request is invalid." },
	/* CE_INVALID_SIGNATURE */
	{ 400, "InvalidSignatureException", "The request signature we "
	    "calculated does not match the signature you provided." },
	/* CE_USERNAME_EXISTS */
	{ 400, "UsernameExistsException", "User account already exists" },
};

const struct cognito_exception *
cognito_exception(enum cognito_error e)
{
	if (e < 0 || e >= CE__MAX)
		abort();
	return &cognito_exceptions[e];
}

enum cognito_error
cognito_engine_error(enum engine_result res, const char **message)
{
	enum cognito_error e;

	*message = NULL;
	switch (res) {
	case ENGINE_CODE_MISMATCH:
		e = CE_CODE_MISMATCH;
		break;
	case ENGINE_SECRET_INVALID:
	case ENGINE_SECRET_EXPIRED:
		e = CE_EXPIRED_CODE;
		break;
	case ENGINE_PASSWORD_TOO_SHORT:
		e = CE_INVALID_PASSWORD;
		*message = "Password does not conform to policy: Password not "
		    "long enough";
		break;
	case ENGINE_PASSWORD_TOO_LONG:
		e = CE_INVALID_PASSWORD;
		*message = "Password does not conform to policy: Password too "
		    "long";
		break;
	case ENGINE_PASSWORD_INVALID_TEXT:
		e = CE_INVALID_PASSWORD;
		*message = "Password does not conform to policy: Password "
		    "contains characters that are not allowed";
		break;
	case ENGINE_PASSWORD_WEAK:
		e = CE_INVALID_PASSWORD;
		*message = "Password does not conform to policy: Password is "
		    "too easy to guess";
		break;
	case ENGINE_THROTTLED:
		e = CE_TOO_MANY_REQUESTS;
		break;
	case ENGINE_CODE_LOCKED:
		e = CE_TOO_MANY_FAILED;
		break;
	case ENGINE_RATE_LIMITED:
		e = CE_LIMIT_EXCEEDED;
		break;
	case ENGINE_USER_UNKNOWN:
	case ENGINE_USER_DISABLED:
		e = CE_USER_NOT_FOUND;
		break;
	case ENGINE_CREDENTIALS_INVALID:
		e = CE_NOT_AUTHORIZED;
		break;
	case ENGINE_PROJECT_UNKNOWN:
		e = CE_RESOURCE_NOT_FOUND;
		break;
	case ENGINE_BAD_INPUT:
	case ENGINE_LOGIN_URL_REFUSED:
	case ENGINE_SESSION_INVALID:
	case ENGINE_CONFLICT:
		e = CE_INVALID_PARAMETER;
		break;
	case ENGINE_UNAVAILABLE:
		e = CE_INTERNAL;
		break;
	case ENGINE_OK:
	default:
		abort();
	}
	if (*message == NULL)
		*message = cognito_exceptions[e].message;
	return e;
}

const char *
cognito_password_message(enum engine_result res,
    const struct password_verdict *v, char *buf, size_t len)
{
	const char *message;

	(void)cognito_engine_error(res, &message);
	if (v == NULL || v->rule == PW_OK)
		return message;
	if (v->rule == PW_MIN_LENGTH)
		snprintf(buf, len, "Password does not conform to policy: "
		    "Password not long enough (at least %lld characters)",
		    (long long)v->min_length);
	else
		snprintf(buf, len, "Password does not conform to policy: %s",
		    v->message);
	return buf;
}

/* answers */

/*
 * Answer v (taken; NULL when it could not be built); when it cannot be
 * encoded, InternalErrorException goes out instead.  Return 0, or -1 then.
 */
static int
reply(struct http_response *resp, int status, json_t *v)
{
	if (api_json_reply(resp, status, v, COGNITO_JSON,
	    COGNITO_FALLBACK) == 0)
		return 0;
	http_set_header(resp, "x-amzn-ErrorType", "InternalErrorException");
	return -1;
}

int
cognito_reply(struct http_response *resp, int status, json_t *v)
{
	return reply(resp, status, v);
}

/* Answer exception e; message NULL: its default. */
static void
fail(struct http_response *resp, enum cognito_error e, const char *message)
{
	const struct cognito_exception *x = cognito_exception(e);

	if (reply(resp, x->status, json_pack("{s:s, s:s}", "__type", x->type,
	    "message", message != NULL ? message : x->message)) == -1)
		return;
	http_set_header(resp, "x-amzn-ErrorType", x->type);
	resp->outcome = x->type;
}

void
cognito_fail(struct http_response *resp, enum cognito_error e,
    const char *message)
{
	fail(resp, e, message);
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


/* Cognito's wording for a member that fails its constraints. */
static void
fail_member(struct http_response *resp, const char *member, const char *why)
{
	char msg[MESSAGE_MAX];

	snprintf(msg, sizeof(msg), "1 validation error detected: Value at "
	    "'%s' failed to satisfy constraint: %s", member, why);
	fail(resp, CE_INVALID_PARAMETER, msg);
}

/*
 * Read string member name (its camel-case form, for messages, in label).
 * Return 1 with *out, 0 when an optional member is absent or null, or -1
 * with resp answered.
 */
static int
member(struct http_response *resp, json_t *body, const char *name,
    const char *label, size_t max, int required, const char **out)
{
	json_t *v = json_object_get(body, name);
	char msg[128];	/* member names are short constants */

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		fail_member(resp, label, "Member must not be null");
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "Expected a string for member '%s'",
		    name);
		fail(resp, CE_SERIALIZATION, msg);
		return -1;
	}
	if (json_string_length(v) == 0) {
		fail_member(resp, label, "Member must have length greater than "
		    "or equal to 1");
		return -1;
	}
	if (json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg), "Member must have length less than "
		    "or equal to %zu", max);
		fail_member(resp, label, msg);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

/*
 * The app client and its project, with SecretHash checked.  Return 0, or
 * -1 with resp answered.
 */
static int
client_of(const struct http_request *r, struct http_response *resp,
    const char *client_id, const char *username, const char *secret_hash,
    struct app_client *cl, struct project **p)
{
	struct client_auth in = { client_id, NULL, username, secret_hash };
	char msg[MESSAGE_MAX];
	enum engine_result res;

	res = engine_client_auth(r->app, &in, cl, p);
	if (res == ENGINE_OK)
		return 0;
	/* client_id is at most CLIENT_ID_MAX bytes: the message fits. */
	if (res == ENGINE_PROJECT_UNKNOWN) {
		snprintf(msg, sizeof(msg), "User pool client %s does not exist.",
		    client_id);
		fail(resp, CE_RESOURCE_NOT_FOUND, msg);
	} else if (res == ENGINE_CREDENTIALS_INVALID) {
		if (secret_hash == NULL)
			snprintf(msg, sizeof(msg), "Client %s is configured for "
			    "secret but secret was not received", client_id);
		else
			snprintf(msg, sizeof(msg), "Unable to verify secret hash "
			    "for client %s", client_id);
		fail(resp, CE_NOT_AUTHORIZED, msg);
	} else
		fail_engine(resp, res, NULL);
	return -1;
}

/* operations */

static void
forgot_password(const struct http_request *r, struct http_response *resp,
    json_t *body)
{
	struct app_client cl;
	struct project *p = NULL;
	struct reset_request in;
	struct reset_ticket t;
	struct request_context ctx;
	enum engine_result res;
	const char *client_id, *username, *secret_hash = NULL;

	memset(&cl, 0, sizeof(cl));
	face_context(r, &ctx);
	if (member(resp, body, "ClientId", "clientId", CLIENT_ID_MAX, 1,
	    &client_id) != 1 ||
	    member(resp, body, "Username", "username", USERNAME_MAX, 1,
	    &username) != 1 ||
	    member(resp, body, "SecretHash", "secretHash", SECRET_HASH_MAX, 0,
	    &secret_hash) == -1)
		return;
	if (client_of(r, resp, client_id, username, secret_hash, &cl, &p) == -1)
		return;
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
	if (reply(resp, 200, json_pack("{s:{s:s, s:s, s:s}}",
	    "CodeDeliveryDetails",
	    "Destination", t.destination,
	    "DeliveryMedium", "EMAIL",
	    "AttributeName", "email")) == 0)
		resp->outcome = "ok";
	reset_ticket_clear(&t);
out:
	project_free(p);
	app_client_clear(&cl);
}

static void
confirm_forgot_password(const struct http_request *r,
    struct http_response *resp, json_t *body)
{
	struct app_client cl;
	struct project *p = NULL;
	struct reset_code_confirm in;
	struct request_context ctx;
	struct password_verdict verdict;
	enum engine_result res;
	const char *client_id, *username, *code, *password;
	const char *secret_hash = NULL;

	memset(&cl, 0, sizeof(cl));
	memset(&verdict, 0, sizeof(verdict));
	face_context(r, &ctx);
	if (member(resp, body, "ClientId", "clientId", CLIENT_ID_MAX, 1,
	    &client_id) != 1 ||
	    member(resp, body, "Username", "username", USERNAME_MAX, 1,
	    &username) != 1 ||
	    member(resp, body, "ConfirmationCode", "confirmationCode", CODE_MAX,
	    1, &code) != 1 ||
	    member(resp, body, "Password", "password", PASSWORD_FIELD_MAX, 1,
	    &password) != 1 ||
	    member(resp, body, "SecretHash", "secretHash", SECRET_HASH_MAX, 0,
	    &secret_hash) == -1)
		return;
	if (client_of(r, resp, client_id, username, secret_hash, &cl, &p) == -1)
		return;
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
	if (reply(resp, 200, json_object()) == 0)
		resp->outcome = "ok";
out:
	project_free(p);
	app_client_clear(&cl);
}

/* operations */

/*
 * The body as a JSON object; NULL with resp answered.  The SDKs send
 * application/x-amz-json-1.1; application/json is taken too, for curl.
 * An empty body is an empty input, whose missing members are named.
 */
json_t *
cognito_body(const struct http_request *r, struct http_response *resp)
{
	char ct[64], err[256];
	json_t *body = NULL;

	http_content_type(r, ct, sizeof(ct));
	if (!r->body_too_large && r->body_len == 0 &&
	    (strcmp(ct, COGNITO_JSON) == 0 || strcmp(ct, "application/json") == 0))
		return json_object();
	switch (api_parse_object(r, strcmp(ct, "application/json") == 0 ?
	    "application/json" : COGNITO_JSON, &body, err, sizeof(err))) {
	case API_BODY_OK:
		return body;
	case API_BODY_TOO_LARGE:
		fail(resp, CE_INVALID_PARAMETER, "1 validation error detected: "
		    "the request body is too large");
		return NULL;
	case API_BODY_WRONG_TYPE:
	case API_BODY_WRONG_CHARSET:
	case API_BODY_MALFORMED:
		fail(resp, CE_SERIALIZATION, err);
		return NULL;
	default:
		abort();
	}
}

/*
 * Browser clients (amazon-cognito-identity-js, Amplify) call cross-origin
 * without credentials; like Cognito, any origin may read the answers,
 * which hold nothing an attacker could not ask for directly.
 */
static void
cors(const struct http_request *r, struct http_response *resp)
{
	if (http_header(r, "Origin") == NULL)
		return;
	http_set_header(resp, "Access-Control-Allow-Origin", "*");
	http_set_header(resp, "Access-Control-Expose-Headers",
	    "x-amzn-RequestId, x-amzn-ErrorType, X-Request-ID");
}

/*
 * What every answer on POST / starts with: x-amzn-RequestId and CORS.
 * Then a header this face reads that is not clean text: return 1 with
 * resp answered (SerializationException), or 0.
 */
int
cognito_begin(const struct http_request *r, struct http_response *resp)
{
	const char *bad;
	char msg[MESSAGE_MAX];

	http_set_header(resp, "x-amzn-RequestId", r->request_id);
	cors(r, resp);
	bad = http_header_malformed(r, cognito_headers);
	if (bad == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "the %s header is not valid UTF-8 text",
	    bad);
	fail(resp, CE_SERIALIZATION, msg);
	return 1;
}

/* Run operation fn on the request's body. */
static void
operation(const struct http_request *r, struct http_response *resp,
    void (*fn)(const struct http_request *, struct http_response *,
    json_t *))
{
	json_t *body;

	if (cognito_begin(r, resp))
		return;
	body = cognito_body(r, resp);
	if (body == NULL)
		return;
	fn(r, resp, body);
	json_decref(body);
}

static void
cognito_forgot(const struct http_request *r, struct http_response *resp)
{
	operation(r, resp, forgot_password);
}

static void
cognito_confirm_forgot(const struct http_request *r,
    struct http_response *resp)
{
	operation(r, resp, confirm_forgot_password);
}

/* POST / with any other X-Amz-Target, or none. */
static void
cognito_unknown(const struct http_request *r, struct http_response *resp)
{
	if (cognito_begin(r, resp))
		return;
	fail(resp, CE_UNKNOWN_OPERATION, NULL);
}

/*
 * The face's answer to a call its route's limit refused
 * (TooManyRequestsException, 429, Retry-After), and to an engine failure,
 * each with x-amzn-RequestId and CORS like every answer.
 */
static void
cognito_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	http_set_header(resp, "x-amzn-RequestId", r->request_id);
	cors(r, resp);
	http_set_retry_after(resp, retry_after_s);
	fail(resp, CE_TOO_MANY_REQUESTS, NULL);
}

static void
cognito_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	http_set_header(resp, "x-amzn-RequestId", r->request_id);
	cors(r, resp);
	fail_engine(resp, (enum engine_result)result, NULL);
}

void
cognito_preflight(const struct http_request *r, struct http_response *resp)
{
	http_set_header(resp, "x-amzn-RequestId", r->request_id);
	if (http_header(r, "Origin") != NULL) {
		http_set_header(resp, "Access-Control-Allow-Origin", "*");
		http_set_header(resp, "Access-Control-Allow-Methods",
		    "POST, OPTIONS");
		http_set_header(resp, "Access-Control-Allow-Headers",
		    "content-type, x-amz-target, x-amz-user-agent, "
		    "cache-control, amz-sdk-invocation-id, amz-sdk-request");
		http_set_header(resp, "Access-Control-Max-Age", "600");
	}
	http_set_body(resp, 204, NULL, "", 0);
	resp->outcome = "ok";
}

/*
 * The routes: one endpoint, POST /, whose operation X-Amz-Target names.
 * Each operation spends its class before its handler runs; an unknown
 * operation, answered at once, and the preflight spend nothing.
 */
static const struct route cognito_routes[] = {
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "ForgotPassword",
	    cognito_forgot, RUN_WORKER, HTTP_LIMIT(RL_REQUEST) },
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "ConfirmForgotPassword",
	    cognito_confirm_forgot, RUN_WORKER, HTTP_LIMIT(RL_CONFIRM) },
	/* The admin calls, signed (cognito_admin.c): a server's budget. */
#define ADMIN_ROUTE(op) { "POST", "/", "X-Amz-Target", TARGET_PREFIX op, \
	    cognito_admin, RUN_WORKER, HTTP_LIMIT(RL_API) }
	ADMIN_ROUTE("AdminCreateUser"),
	ADMIN_ROUTE("AdminSetUserPassword"),
	ADMIN_ROUTE("AdminGetUser"),
	ADMIN_ROUTE("AdminDeleteUser"),
	ADMIN_ROUTE("AdminDisableUser"),
	ADMIN_ROUTE("AdminEnableUser"),
	ADMIN_ROUTE("AdminUserGlobalSignOut"),
	ADMIN_ROUTE("AdminResetUserPassword"),
	ADMIN_ROUTE("ListUsers"),
#undef ADMIN_ROUTE
	{ "POST", "/", NULL, NULL, cognito_unknown, RUN_WORKER,
	    HTTP_UNLIMITED },
	{ "OPTIONS", "/", NULL, NULL, cognito_preflight, RUN_INLINE,
	    HTTP_UNLIMITED },
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face cognito_face = {
	.name = "cognito",
	.routes = cognito_routes,
	.throttled = cognito_throttled,
	.failed = cognito_failed,
};
