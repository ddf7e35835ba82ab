/*
 * The Cognito dialect: AWS JSON 1.1 on POST /, the operation named by the
 * X-Amz-Target header, so that @aws-sdk/client-cognito-identity-provider
 * and amazon-cognito-identity-js work against resetd with only their
 * endpoint changed.  Served: ForgotPassword and ConfirmForgotPassword;
 * sign-in (InitiateAuth with USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH,
 * RespondToAuthChallenge for NEW_PASSWORD_REQUIRED) and the calls made
 * with its tokens (GetUser, ChangePassword, GlobalSignOut, RevokeToken),
 * all without AWS credentials, as Cognito serves them; the admin calls,
 * signed with AWS Signature Version 4, in cognito_admin.c; any other
 * target is UnknownOperationException.  Tokens are core's (session.c):
 * this face only names their claims as Cognito does.
 *
 * Wire rules (docs/dialects/velocity-cognito.md): every answer is
 * application/x-amz-json-1.1 and carries x-amzn-RequestId (the request id
 * the HTTP layer also sends as X-Request-ID).  Errors are {"__type",
 * "message"} with a plain exception name (amazon-cognito-identity-js does
 * not strip namespaces), repeated in x-amzn-ErrorType ("Name:", with the
 * real service's trailing colon) and x-amzn-ErrorMessage, with HTTP 400
 * for every client error as the real service answers (429 only for
 * resetd's per-address throttle, 500 for its own failures).  The
 * exception table is shared with the Velocity dialect, which wraps the
 * same two calls.
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
#define USERNAME_MAX 320 /* the engine's bound on logins */
#define SECRET_HASH_MAX 128
#define CODE_MAX 2048
#define PASSWORD_FIELD_MAX \
	4096 /* longer is a parameter error; the engine
				   refuses past 256 characters by policy */
#define MESSAGE_MAX 512

/* How Cognito begins every InvalidPasswordException message. */
#define POLICY_PREFIX "Password did not conform with policy: "

/*
 * What InvalidPasswordException says of each rule of the policy: Cognito's
 * own words for the rules Cognito has, the same form for resetd's others.
 */
static const char *const policy_words[PW__MAX] = {
	NULL,			    /* PW_OK */
	"Password not long enough", /* PW_MIN_LENGTH */
	"Password too long",	    /* PW_MAX_LENGTH */
	"Password contains characters that are not allowed",
	/* PW_VALID_TEXT */
	"Password is one of the most common passwords", /* PW_COMMON */
	"Password has appeared in a data breach",	/* PW_BREACHED */
	"Password is the email, username or the name of the service",
	/* PW_CONTEXT */
	"Password is too easy to guess",	   /* PW_STRENGTH */
	"Password must have uppercase characters", /* PW_UPPERCASE */
	"Password must have lowercase characters", /* PW_LOWERCASE */
	"Password must have numeric characters",   /* PW_NUMBERS */
	"Password must have symbol characters",	   /* PW_SYMBOLS */
};

/* The answer when another cannot be encoded: fixed, valid, in shape. */
#define COGNITO_FALLBACK_MESSAGE "Internal error, please try again."
#define COGNITO_FALLBACK \
	"{\"__type\":\"InternalErrorException\"," \
	"\"message\":\"" COGNITO_FALLBACK_MESSAGE "\"}"

/* Every header this face reads: one that is not clean text is a 400. */
static const char *const cognito_headers[] = {
	"X-Amz-Target",
	"Content-Type",
	"Origin",
	"User-Agent",
	"Authorization",
	"X-Amz-Date",
	NULL,
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
	{ 400, "UserNotFoundException",
	    "Username/client id combination not found." },
	/* CE_NOT_AUTHORIZED */
	{ 400, "NotAuthorizedException", "Unable to verify secret hash." },
	/* CE_INVALID_PARAMETER */
	{ 400, "InvalidParameterException", "Invalid parameters." },
	/* CE_RESOURCE_NOT_FOUND */
	{ 400, "ResourceNotFoundException",
	    "User pool client does not exist." },
	/* CE_UNKNOWN_OPERATION */
	{ 400, "UnknownOperationException", "Unknown operation." },
	/* CE_SERIALIZATION */
	{ 400, "SerializationException",
	    "The request body is not a JSON object." },
	/* CE_INTERNAL */
	{ 500, "InternalErrorException", "Internal error, please try again." },
	/* CE_TOO_MANY_REQUESTS */
	{ 429, "TooManyRequestsException",
	    "Too many requests, please try "
	    "again later." },
	/* CE_MISSING_AUTH_TOKEN */
	{ 400, "MissingAuthenticationTokenException",
	    "Request is missing "
	    "Authentication Token" },
	/* CE_INCOMPLETE_SIGNATURE */
	{ 400, "IncompleteSignatureException",
	    "The request signature does "
	    "not conform to AWS standards." },
	/* CE_UNRECOGNIZED_CLIENT */
	{ 400, "UnrecognizedClientException",
	    "The security token included "
	    "in the request is invalid." },
	/* CE_INVALID_SIGNATURE */
	{ 400, "InvalidSignatureException",
	    "The request signature we "
	    "calculated does not match the signature you provided." },
	/* CE_USERNAME_EXISTS */
	{ 400, "UsernameExistsException", "User account already exists" },
	/* CE_PASSWORD_RESET_REQUIRED */
	{ 400, "PasswordResetRequiredException",
	    "Password reset required for "
	    "the user" },
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
		*message = POLICY_PREFIX "Password not long enough";
		break;
	case ENGINE_PASSWORD_TOO_LONG:
		e = CE_INVALID_PASSWORD;
		*message = POLICY_PREFIX "Password too long";
		break;
	case ENGINE_PASSWORD_INVALID_TEXT:
		e = CE_INVALID_PASSWORD;
		*message = POLICY_PREFIX
		    "Password contains characters that are "
		    "not allowed";
		break;
	case ENGINE_PASSWORD_WEAK:
		e = CE_INVALID_PASSWORD;
		*message = POLICY_PREFIX "Password is too easy to guess";
		break;
	case ENGINE_THROTTLED:
		e = CE_TOO_MANY_REQUESTS;
		break;
	case ENGINE_CODE_LOCKED:
		/* Cognito's answer once a code's wrong tries are spent. */
		e = CE_LIMIT_EXCEEDED;
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
	case ENGINE_STORAGE_REFUSED:
		e = CE_INVALID_PARAMETER;
		break;
	case ENGINE_UNAVAILABLE:
		e = CE_INTERNAL;
		break;
	case ENGINE_PASSWORD_CHANGE_REQUIRED:
		e = CE_NOT_AUTHORIZED;
		break;
	case ENGINE_PASSWORD_RESET_REQUIRED:
		e = CE_PASSWORD_RESET_REQUIRED;
		break;
	default:
		/* A result this face has no answer for: a bug, not a crash. */
		log_error("cognito: engine result %s has no answer",
		    engine_result_name(res));
		e = CE_INTERNAL;
		break;
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
	if (v == NULL || v->rule <= PW_OK || v->rule >= PW__MAX)
		return message;
	snprintf(buf, len, POLICY_PREFIX "%s", policy_words[v->rule]);
	return buf;
}

/* answers */

/*
 * The headers the real service puts on an error: x-amzn-ErrorType with
 * its trailing colon (the SDKs cut the name at the first ':'), and
 * x-amzn-ErrorMessage.
 */
static void
error_headers(struct http_response *resp, const char *type, const char *message)
{
	char t[96];

	snprintf(t, sizeof(t), "%s:", type);
	http_set_header(resp, "x-amzn-ErrorType", t);
	http_set_header(resp, "x-amzn-ErrorMessage", message);
}

/*
 * Answer v (taken; NULL when it could not be built); when it cannot be
 * encoded, InternalErrorException goes out instead.  Return 0, or -1 then.
 */

static int
reply(struct http_response *resp, int status, json_t *v)
{
	if (api_json_reply(resp, status, v, COGNITO_JSON, COGNITO_FALLBACK) ==
	    0)
		return 0;
	error_headers(resp, "InternalErrorException", COGNITO_FALLBACK_MESSAGE);
	return -1;
}

int
cognito_reply(struct http_response *resp, int status, json_t *v)
{
	return reply(resp, status, v);
}

/*
 * Answer exception e with HTTP status (0: the exception's); message NULL:
 * its default.
 */
static void
fail_status(struct http_response *resp, enum cognito_error e,
    const char *message, int status)
{
	const struct cognito_exception *x = cognito_exception(e);

	if (reply(resp, status != 0 ? status : x->status,
		json_pack("{s:s, s:s}", "__type", x->type, "message",
		    message != NULL ? message : x->message)) == -1)
		return;
	error_headers(resp, x->type, message != NULL ? message : x->message);
	resp->outcome = x->type;
}

/* Answer exception e; message NULL: its default. */
static void
fail(struct http_response *resp, enum cognito_error e, const char *message)
{
	fail_status(resp, e, message, 0);
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

	snprintf(msg, sizeof(msg),
	    "1 validation error detected: Value at "
	    "'%s' failed to satisfy constraint: %s",
	    member, why);
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
	char msg[128]; /* member names are short constants */

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
		fail_member(resp, label,
		    "Member must have length greater than "
		    "or equal to 1");
		return -1;
	}
	if (json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg),
		    "Member must have length less than "
		    "or equal to %zu",
		    max);
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
		snprintf(msg, sizeof(msg),
		    "User pool client %s does not exist.", client_id);
		fail(resp, CE_RESOURCE_NOT_FOUND, msg);
	} else if (res == ENGINE_CREDENTIALS_INVALID) {
		if (secret_hash == NULL)
			snprintf(msg, sizeof(msg),
			    "Client %s is configured for "
			    "secret but secret was not received",
			    client_id);
		else
			snprintf(msg, sizeof(msg),
			    "Unable to verify secret hash "
			    "for client %s",
			    client_id);
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
	if (reply(resp, 200,
		json_pack("{s:{s:s, s:s, s:s}}", "CodeDeliveryDetails",
		    "Destination", t.destination, "DeliveryMedium", "EMAIL",
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

/* sign-in and tokens */

#define TOKEN_MAX 8192 /* the engine's bound on a JWT */
#define AUTH_FLOW_MAX 64
#define SESSION_FIELD_MAX 2048

/* Cognito's names for its tokens' claims. */
static const struct claim_map cognito_access_claims = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "origin_jti",
		[CF_TOKEN_ID] = "jti",
		[CF_CLIENT] = "client_id",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
		[CF_AUTH_TIME] = "auth_time",
		[CF_USERNAME] = "username",
	},
	.username_or_email = 1,
	.fixed = { { "token_use", "access" },
	    { "scope", "aws.cognito.signin.user.admin" } },
};

static const struct claim_map cognito_id_claims = {
	.name = {
		[CF_ISSUER] = "iss",
		[CF_SUBJECT] = "sub",
		[CF_SESSION] = "origin_jti",
		[CF_TOKEN_ID] = "jti",
		[CF_CLIENT] = "aud",
		[CF_ISSUED] = "iat",
		[CF_EXPIRES] = "exp",
		[CF_AUTH_TIME] = "auth_time",
		[CF_EMAIL] = "email",
		[CF_EMAIL_VERIFIED] = "email_verified",
		[CF_USERNAME] = "cognito:username",
	},
	.username_or_email = 1,
	.fixed = { { "token_use", "id" } },
};

#define SRP_MESSAGE \
	"USER_SRP_AUTH is not supported: it needs a stored SRP " \
	"verifier, a password equivalent far cheaper to crack than the " \
	"Argon2id hash resetd keeps. Use USER_PASSWORD_AUTH (Amplify: " \
	"authFlowType: 'USER_PASSWORD_AUTH')."

/* Read an object member; 1 with *out, 0 absent, -1 with resp answered. */
static int
object_member(struct http_response *resp, json_t *body, const char *name,
    json_t **out)
{
	json_t *v = json_object_get(body, name);
	char msg[128];

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		snprintf(msg, sizeof(msg), "Expected an object for member '%s'",
		    name);
		fail(resp, CE_SERIALIZATION, msg);
		return -1;
	}
	*out = v;
	return 1;
}

/* Answer a session: AuthenticationResult, with a RefreshToken if any. */
static void
auth_result(const struct http_request *r, struct http_response *resp,
    const struct project *p, const struct login_result *lr,
    const char *client_id)
{
	char *access = NULL, *id = NULL;
	enum engine_result res;
	json_t *ar;

	res = session_token(r->app, p, TK_COGNITO_ACCESS,
	    &cognito_access_claims, lr, client_id, &access);
	if (res == ENGINE_OK)
		res = session_token(r->app, p, TK_COGNITO_ID,
		    &cognito_id_claims, lr, client_id, &id);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	ar = json_pack("{s:s, s:s, s:i, s:s}", "AccessToken", access, "IdToken",
	    id, "ExpiresIn", 3600, "TokenType", "Bearer");
	if (ar != NULL && lr->refresh_token != NULL)
		json_object_set_new(ar, "RefreshToken",
		    json_string(lr->refresh_token));
	if (reply(resp, 200,
		json_pack("{s:o, s:{}}", "AuthenticationResult", ar,
		    "ChallengeParameters")) == 0)
		resp->outcome = "ok";
out:
	xfree_secret(access);
	xfree_secret(id);
}

/* A failed sign-in in Cognito's words. */
static void
fail_login(struct http_response *resp, enum engine_result res)
{
	switch (res) {
	case ENGINE_CREDENTIALS_INVALID:
		fail(resp, CE_NOT_AUTHORIZED,
		    "Incorrect username or password.");
		break;
	case ENGINE_USER_UNKNOWN:
		fail(resp, CE_USER_NOT_FOUND, "User does not exist.");
		break;
	case ENGINE_USER_DISABLED:
		fail(resp, CE_NOT_AUTHORIZED, "User is disabled.");
		break;
	case ENGINE_THROTTLED:
		/* The login's back-off, the same for unknown logins. */
		fail(resp, CE_NOT_AUTHORIZED, "Password attempts exceeded");
		break;
	default:
		fail_engine(resp, res, NULL);
		break;
	}
}

static void
password_auth(const struct http_request *r, struct http_response *resp,
    const char *client_id, json_t *params)
{
	struct app_client cl;
	struct project *p = NULL;
	struct login_request in;
	struct login_result lr = { .session = NULL };
	struct request_context ctx;
	enum engine_result res;
	const char *username, *password, *secret_hash = NULL;

	memset(&cl, 0, sizeof(cl));
	if (member(resp, params, "USERNAME", "authParameters.USERNAME",
		USERNAME_MAX, 1, &username) != 1 ||
	    member(resp, params, "PASSWORD", "authParameters.PASSWORD",
		PASSWORD_FIELD_MAX, 1, &password) != 1 ||
	    member(resp, params, "SECRET_HASH", "authParameters.SECRET_HASH",
		SECRET_HASH_MAX, 0, &secret_hash) == -1)
		return;
	if (client_of(r, resp, client_id, username, secret_hash, &cl, &p) == -1)
		return;
	face_context(r, &ctx);
	in = (struct login_request){ .project = p,
		.login = username,
		.password = password,
		.ctx = &ctx,
		.face = SF_COGNITO,
		.client_id = cl.id,
		.reveal_user_existence = engine_reveals_users(&cl),
		.allow_challenge = 1 };
	res = session_login(r->app, &in, &lr);
	if (res == ENGINE_PASSWORD_CHANGE_REQUIRED) {
		if (reply(resp, 200,
			json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}",
			    "ChallengeName", "NEW_PASSWORD_REQUIRED", "Session",
			    lr.challenge, "ChallengeParameters",
			    "USER_ID_FOR_SRP", username, "requiredAttributes",
			    "[]", "userAttributes", "{}")) == 0)
			resp->outcome = "challenge";
	} else if (res != ENGINE_OK)
		fail_login(resp, res);
	else
		auth_result(r, resp, p, &lr, cl.id);
	login_result_clear(&lr);
	project_free(p);
	app_client_clear(&cl);
}

static void
refresh_auth(const struct http_request *r, struct http_response *resp,
    const char *client_id, json_t *params)
{
	struct app_client cl;
	struct project *p = NULL;
	struct refresh_request in;
	struct login_result lr = { .session = NULL };
	struct request_context ctx;
	enum engine_result res;
	const char *token, *secret_hash = NULL;
	char msg[MESSAGE_MAX];

	memset(&cl, 0, sizeof(cl));
	if (member(resp, params, "REFRESH_TOKEN",
		"authParameters.REFRESH_TOKEN", TOKEN_MAX, 1, &token) != 1 ||
	    member(resp, params, "SECRET_HASH", "authParameters.SECRET_HASH",
		SECRET_HASH_MAX, 0, &secret_hash) == -1)
		return;
	res = engine_client(r->app, client_id, &cl);
	if (res == ENGINE_OK)
		res = engine_project(r->app, cl.project_id, &p);
	if (res == ENGINE_CREDENTIALS_INVALID ||
	    res == ENGINE_PROJECT_UNKNOWN) {
		snprintf(msg, sizeof(msg),
		    "User pool client %s does not exist.", client_id);
		fail(resp, CE_RESOURCE_NOT_FOUND, msg);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	face_context(r, &ctx);
	in = (struct refresh_request){ p, SF_COGNITO, cl.id, token, &ctx };
	res = session_refresh(r->app, &in, &lr);
	if (res == ENGINE_SESSION_INVALID) {
		fail(resp, CE_NOT_AUTHORIZED, "Invalid Refresh Token");
		goto out;
	}
	if (res == ENGINE_USER_DISABLED) {
		fail(resp, CE_NOT_AUTHORIZED, "User is disabled.");
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	/* The hash names the user, known only now: by sub or by name. */
	if (!engine_client_user_hash_ok(&cl, lr.user, secret_hash)) {
		snprintf(msg, sizeof(msg),
		    "Unable to verify secret hash for "
		    "client %s",
		    client_id);
		fail(resp, CE_NOT_AUTHORIZED, msg);
		goto out;
	}
	auth_result(r, resp, p, &lr, cl.id);
out:
	login_result_clear(&lr);
	project_free(p);
	app_client_clear(&cl);
}

static void
initiate_auth(const struct http_request *r, struct http_response *resp,
    json_t *body)
{
	const char *flow, *client_id;
	json_t *params = NULL;
	int rc;

	if (member(resp, body, "AuthFlow", "authFlow", AUTH_FLOW_MAX, 1,
		&flow) != 1 ||
	    member(resp, body, "ClientId", "clientId", CLIENT_ID_MAX, 1,
		&client_id) != 1)
		return;
	rc = object_member(resp, body, "AuthParameters", &params);
	if (rc == -1)
		return;
	if (rc == 0)
		params = NULL;
	if (strcmp(flow, "USER_SRP_AUTH") == 0) {
		fail(resp, CE_INVALID_PARAMETER, SRP_MESSAGE);
		return;
	}
	if (strcmp(flow, "USER_PASSWORD_AUTH") != 0 &&
	    strcmp(flow, "REFRESH_TOKEN_AUTH") != 0 &&
	    strcmp(flow, "REFRESH_TOKEN") != 0) {
		fail(resp, CE_INVALID_PARAMETER,
		    "The auth flow is not supported: "
		    "use USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH.");
		return;
	}
	if (params == NULL) {
		fail(resp, CE_INVALID_PARAMETER,
		    "Missing required parameter "
		    "AuthParameters");
		return;
	}
	if (strcmp(flow, "USER_PASSWORD_AUTH") == 0)
		password_auth(r, resp, client_id, params);
	else
		refresh_auth(r, resp, client_id, params);
}

static void
respond_to_auth_challenge(const struct http_request *r,
    struct http_response *resp, json_t *body)
{
	struct app_client cl;
	struct project *p = NULL;
	struct new_password_answer in;
	struct login_result lr = { .session = NULL };
	struct password_verdict verdict;
	struct request_context ctx;
	enum engine_result res;
	const char *name, *client_id, *session, *username, *password;
	const char *secret_hash = NULL;
	json_t *answers = NULL;

	memset(&cl, 0, sizeof(cl));
	memset(&verdict, 0, sizeof(verdict));
	if (member(resp, body, "ChallengeName", "challengeName", AUTH_FLOW_MAX,
		1, &name) != 1 ||
	    member(resp, body, "ClientId", "clientId", CLIENT_ID_MAX, 1,
		&client_id) != 1)
		return;
	if (strcmp(name, "NEW_PASSWORD_REQUIRED") != 0) {
		fail(resp, CE_INVALID_PARAMETER,
		    "The challenge is not "
		    "supported: only NEW_PASSWORD_REQUIRED is.");
		return;
	}
	if (member(resp, body, "Session", "session", SESSION_FIELD_MAX, 1,
		&session) != 1)
		return;
	if (object_member(resp, body, "ChallengeResponses", &answers) != 1) {
		if (!resp->outcome)
			fail_member(resp, "challengeResponses",
			    "Member must not be null");
		return;
	}
	if (member(resp, answers, "USERNAME", "challengeResponses.USERNAME",
		USERNAME_MAX, 1, &username) != 1 ||
	    member(resp, answers, "NEW_PASSWORD",
		"challengeResponses.NEW_PASSWORD", PASSWORD_FIELD_MAX, 1,
		&password) != 1 ||
	    member(resp, answers, "SECRET_HASH",
		"challengeResponses.SECRET_HASH", SECRET_HASH_MAX, 0,
		&secret_hash) == -1)
		return;
	if (client_of(r, resp, client_id, username, secret_hash, &cl, &p) == -1)
		return;
	face_context(r, &ctx);
	in = (struct new_password_answer){ p, cl.id, username, session,
		password, &ctx, &verdict };
	res = session_new_password(r->app, &in, &lr);
	if (res == ENGINE_SESSION_INVALID)
		fail(resp, CE_NOT_AUTHORIZED, "Invalid session for the user.");
	else if (res != ENGINE_OK)
		fail_engine(resp, res, &verdict);
	else
		auth_result(r, resp, p, &lr, cl.id);
	login_result_clear(&lr);
	project_free(p);
	app_client_clear(&cl);
}

/*
 * Check an access token; 0 with *tc filled, or -1 with resp answered as
 * Cognito does: NotAuthorizedException, "Access Token has been revoked"
 * for a sound token of a signed-out session.
 */
static int
access_token_of(const struct http_request *r, struct http_response *resp,
    json_t *body, struct token_check *tc)
{
	const char *token;
	enum engine_result res;

	if (member(resp, body, "AccessToken", "accessToken", TOKEN_MAX, 1,
		&token) != 1)
		return -1;
	res = session_token_check(r->app, NULL, TK_COGNITO_ACCESS,
	    &cognito_access_claims, token, tc);
	if (res == ENGINE_OK)
		return 0;
	if (res == ENGINE_SESSION_INVALID)
		fail(resp, CE_NOT_AUTHORIZED,
		    tc->revoked ? "Access Token has been revoked" :
				  "Invalid Access Token");
	else if (res == ENGINE_USER_DISABLED)
		fail(resp, CE_NOT_AUTHORIZED, "User is disabled.");
	else
		fail_engine(resp, res, NULL);
	return -1;
}

static void
get_user(const struct http_request *r, struct http_response *resp, json_t *body)
{
	struct token_check tc = { .session = NULL };
	const struct user *u;

	if (access_token_of(r, resp, body, &tc) == -1)
		goto out;
	u = tc.user;
	if (reply(resp, 200,
		json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, "
			  "{s:s, s:s}]}",
		    "Username", u->username != NULL ? u->username : u->email,
		    "UserAttributes", "Name", "sub", "Value", u->id, "Name",
		    "email", "Value", u->email, "Name", "email_verified",
		    "Value", u->email_verified ? "true" : "false")) == 0)
		resp->outcome = "ok";
out:
	token_check_clear(&tc);
}

static void
change_password(const struct http_request *r, struct http_response *resp,
    json_t *body)
{
	struct token_check tc = { .session = NULL };
	struct project *p = NULL;
	struct password_change in;
	struct password_verdict verdict;
	struct request_context ctx;
	enum engine_result res;
	const char *old, *new;

	memset(&verdict, 0, sizeof(verdict));
	if (member(resp, body, "PreviousPassword", "previousPassword",
		PASSWORD_FIELD_MAX, 1, &old) != 1 ||
	    member(resp, body, "ProposedPassword", "proposedPassword",
		PASSWORD_FIELD_MAX, 1, &new) != 1)
		return;
	if (access_token_of(r, resp, body, &tc) == -1)
		goto out;
	res = engine_project(r->app, tc.project_id, &p);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	face_context(r, &ctx);
	in = (struct password_change){ p, tc.user, old, new, &ctx, &verdict };
	res = session_change_password(r->app, &in);
	if (res == ENGINE_CREDENTIALS_INVALID || res == ENGINE_THROTTLED)
		fail_login(resp,
		    res == ENGINE_THROTTLED ? res : ENGINE_CREDENTIALS_INVALID);
	else if (res != ENGINE_OK)
		fail_engine(resp, res, &verdict);
	else if (reply(resp, 200, json_object()) == 0)
		resp->outcome = "ok";
out:
	project_free(p);
	token_check_clear(&tc);
}

static void
global_sign_out(const struct http_request *r, struct http_response *resp,
    json_t *body)
{
	struct token_check tc = { .session = NULL };
	struct project *p = NULL;
	enum engine_result res;

	if (access_token_of(r, resp, body, &tc) == -1)
		goto out;
	res = engine_project(r->app, tc.project_id, &p);
	if (res == ENGINE_OK)
		res = session_revoke_user(r->app, p, tc.user->id);
	if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	else if (reply(resp, 200, json_object()) == 0)
		resp->outcome = "ok";
out:
	project_free(p);
	token_check_clear(&tc);
}

static void
revoke_token(const struct http_request *r, struct http_response *resp,
    json_t *body)
{
	struct app_client cl;
	struct project *p = NULL;
	enum engine_result res;
	const char *token, *client_id, *secret = NULL;
	char msg[MESSAGE_MAX];

	memset(&cl, 0, sizeof(cl));
	if (member(resp, body, "Token", "token", TOKEN_MAX, 1, &token) != 1 ||
	    member(resp, body, "ClientId", "clientId", CLIENT_ID_MAX, 1,
		&client_id) != 1 ||
	    member(resp, body, "ClientSecret", "clientSecret", SECRET_HASH_MAX,
		0, &secret) == -1)
		return;
	res = engine_client(r->app, client_id, &cl);
	if (res == ENGINE_OK)
		res = engine_project(r->app, cl.project_id, &p);
	if (res == ENGINE_CREDENTIALS_INVALID ||
	    res == ENGINE_PROJECT_UNKNOWN) {
		snprintf(msg, sizeof(msg),
		    "User pool client %s does not exist.", client_id);
		fail(resp, CE_RESOURCE_NOT_FOUND, msg);
		goto out;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		goto out;
	}
	if (cl.secret != NULL &&
	    (secret == NULL || !engine_mac_equal(cl.secret, secret))) {
		fail(resp, CE_NOT_AUTHORIZED, "Invalid client secret.");
		goto out;
	}
	res = session_revoke_refresh(r->app, p, cl.id, token);
	if (res == ENGINE_SESSION_INVALID)
		fail(resp, CE_NOT_AUTHORIZED,
		    "The token was not issued to this "
		    "client.");
	else if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	else if (reply(resp, 200, json_object()) == 0)
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
	    (strcmp(ct, COGNITO_JSON) == 0 ||
		strcmp(ct, "application/json") == 0))
		return json_object();
	switch (api_parse_object(r,
	    strcmp(ct, "application/json") == 0 ? "application/json" :
						  COGNITO_JSON,
	    &body, err, sizeof(err))) {
	case API_BODY_OK:
		return body;
	case API_BODY_TOO_LARGE:
		fail(resp, CE_INVALID_PARAMETER,
		    "1 validation error detected: "
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
	    "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, "
	    "X-Request-ID");
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
    void (*fn)(const struct http_request *, struct http_response *, json_t *))
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
cognito_confirm_forgot(const struct http_request *r, struct http_response *resp)
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
 * The key set and discovery document of a user pool (a project), where
 * Cognito's clients look: PUBLIC_URL/{userPoolId}/.well-known/...  The
 * pool id is the one the admin calls take (engine_user_pool_id); the
 * project's id names it too.  A pool that does not exist is a 404 in
 * Cognito's error shape.
 */
static struct project *
pool_of(const struct http_request *r, struct http_response *resp)
{
	const struct config *cfg = engine_config(r->app);
	struct project *p = NULL;
	enum engine_result res = ENGINE_PROJECT_UNKNOWN;
	char uuid[UUID_STRLEN + 1];

	http_set_header(resp, "x-amzn-RequestId", r->request_id);
	/* A pool id has a UUID's length too: the form decides. */
	if (r->path_param != NULL && id_is_uuid(r->path_param))
		res = engine_project(r->app, r->path_param, &p);
	else if (r->path_param != NULL &&
	    engine_user_pool_project(cfg->aws_region, r->path_param, uuid) == 0)
		res = engine_project(r->app, uuid, &p);
	if (res == ENGINE_PROJECT_UNKNOWN)
		/* A plain GET of a missing document: 404, not an API error. */
		fail_status(resp, CE_RESOURCE_NOT_FOUND,
		    "User pool does not exist.", 404);
	else if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	return p;
}

void
cognito_jwks(const struct http_request *r, struct http_response *resp)
{
	struct project *p;
	enum engine_result res;
	char *jwks = NULL;

	p = pool_of(r, resp);
	if (p == NULL)
		return;
	res = keyring_jwks(r->app, p, &jwks);
	if (res != ENGINE_OK)
		fail_engine(resp, res, NULL);
	else {
		http_set_header(resp, "Access-Control-Allow-Origin", "*");
		http_set_header(resp, "Cache-Control", "max-age=300");
		http_set_body(resp, 200, "application/json", jwks,
		    strlen(jwks));
		resp->outcome = "ok";
	}
	free(jwks);
	project_free(p);
}

void
cognito_openid_configuration(const struct http_request *r,
    struct http_response *resp)
{
	const struct config *cfg = engine_config(r->app);
	struct project *p;
	char *iss, *jwks, pool[ENGINE_POOL_ID_MAX + 1];

	p = pool_of(r, resp);
	if (p == NULL)
		return;
	engine_user_pool_id(cfg->aws_region, p->id, pool);
	iss = xasprintf("%s/%s", cfg->public_url, pool);
	jwks = xasprintf("%s/.well-known/jwks.json", iss);
	http_set_header(resp, "Access-Control-Allow-Origin", "*");
	/* No authorization endpoint: resetd signs in through the API only. */
	if (api_json_reply(resp, 200,
		json_pack("{s:s, s:s, s:[s], s:[s], "
			  "s:[s], s:[s, s, s]}",
		    "issuer", iss, "jwks_uri", jwks,
		    "id_token_signing_alg_values_supported", "RS256",
		    "subject_types_supported", "public",
		    "response_types_supported", "token", "claims_supported",
		    "sub", "email", "email_verified"),
		"application/json", COGNITO_FALLBACK) == 0)
		resp->outcome = "ok";
	free(iss);
	free(jwks);
	project_free(p);
}

static void
cognito_initiate_auth(const struct http_request *r, struct http_response *resp)
{
	operation(r, resp, initiate_auth);
}

static void
cognito_respond_to_auth_challenge(const struct http_request *r,
    struct http_response *resp)
{
	operation(r, resp, respond_to_auth_challenge);
}

static void
cognito_get_user(const struct http_request *r, struct http_response *resp)
{
	operation(r, resp, get_user);
}

static void
cognito_change_password(const struct http_request *r,
    struct http_response *resp)
{
	operation(r, resp, change_password);
}

static void
cognito_global_sign_out(const struct http_request *r,
    struct http_response *resp)
{
	operation(r, resp, global_sign_out);
}

static void
cognito_revoke_token(const struct http_request *r, struct http_response *resp)
{
	operation(r, resp, revoke_token);
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
	/* Sign-in, and the calls made with its tokens (no AWS credentials). */
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "InitiateAuth",
	    cognito_initiate_auth, RUN_WORKER, HTTP_LIMIT(RL_LOGIN) },
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "RespondToAuthChallenge",
	    cognito_respond_to_auth_challenge, RUN_WORKER,
	    HTTP_LIMIT(RL_LOGIN) },
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "GetUser",
	    cognito_get_user, RUN_WORKER, HTTP_LIMIT(RL_API) },
	/* It checks a password: a sign-in's class. */
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "ChangePassword",
	    cognito_change_password, RUN_WORKER, HTTP_LIMIT(RL_LOGIN) },
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "GlobalSignOut",
	    cognito_global_sign_out, RUN_WORKER, HTTP_LIMIT(RL_API) },
	{ "POST", "/", "X-Amz-Target", TARGET_PREFIX "RevokeToken",
	    cognito_revoke_token, RUN_WORKER, HTTP_LIMIT(RL_API) },
/* The admin calls, signed (cognito_admin.c): a server's budget. */
#define ADMIN_ROUTE(op) \
	{ \
		"POST", "/", "X-Amz-Target", TARGET_PREFIX op, cognito_admin, \
		    RUN_WORKER, HTTP_LIMIT(RL_API) \
	}
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
	/* A pool's key set and discovery document, where clients look. */
	{ "GET", "/{}/.well-known/jwks.json", NULL, NULL, cognito_jwks,
	    RUN_WORKER, HTTP_LIMIT(RL_API) },
	{ "GET", "/{}/.well-known/openid-configuration", NULL, NULL,
	    cognito_openid_configuration, RUN_WORKER, HTTP_LIMIT(RL_API) },
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face cognito_face = {
	.name = "cognito",
	.routes = cognito_routes,
	.throttled = cognito_throttled,
	.failed = cognito_failed,
};
