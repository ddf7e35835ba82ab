/*
 * The dialect adapters.  Each decodes its wire format into an engine call
 * and encodes the result in its own success and error shapes; no business
 * rule lives here beyond mapping names, statuses and envelopes.
 */
#ifndef RESETD_API_H
#define RESETD_API_H

#include <jansson.h>

#include "../core/engine.h"
#include "../http/http.h"
#include "face.h"

/* json.c: shared JSON plumbing */
/*
 * Set a JSON body (compact), its media type and status; takes the
 * reference to v, which may be NULL (a json_pack that failed).  When v is
 * NULL or cannot be encoded (text that is not UTF-8), the answer is the
 * face's fixed body fallback with status 500 instead, outcome
 * "encode_failed", and a log line: no answer ends the process.  Return 0,
 * or -1 when the fallback went out.
 */
int api_json_reply(struct http_response *, int status, json_t *v,
    const char *content_type, const char *fallback);
/* api_json_reply as application/json. */
int api_json_take(struct http_response *, int status, json_t *v,
    const char *fallback);
/* ISO-8601 UTC text of ms as a JSON string, or null for 0. */
json_t *api_time(int64_t ms);
/* A JSON string, or null for NULL. */
json_t *api_string_or_null(const char *);

enum api_body {
	API_BODY_OK,
	API_BODY_TOO_LARGE,
	API_BODY_WRONG_TYPE,	/* the Content-Type is not JSON */
	API_BODY_WRONG_CHARSET, /* a charset other than UTF-8 */
	API_BODY_MALFORMED,	/* not JSON, or not an object */
};

/*
 * Parse the request body as a JSON object.  json_type is the accepted media
 * type ("application/json"); a charset parameter must say UTF-8.  On
 * API_BODY_OK, *out holds a new reference; on a failure, err says what is
 * wrong, as valid UTF-8 fit to echo.
 */
enum api_body api_parse_object(const struct http_request *,
    const char *json_type, json_t **out, char *err, size_t errlen);
/*
 * Read a string field of obj.  Return 1 and *out when it is a string of at
 * most max bytes, 0 when it is absent or null, -1 when it has another type
 * or is too long.
 */
int
api_string_field(json_t *obj, const char *name, size_t max, const char **out);

/* What the CLI and admin answers print for records. */
/*
 * A project; with aws_region (NULL: none), also its Cognito user pool id
 * (cognito_user_pool_id).
 */
json_t *api_project_json(const struct project *, const char *aws_region);
/* The password policy of p: profile, lengths, switches, required classes. */
json_t *api_password_policy_json(const struct project *);
json_t *api_user_json(const struct user *);
/* An outbox message without its payload, which holds the secret. */
json_t *api_outbox_json(const struct outbox_msg *);
/* An audit event, as the CLI and the admin API list them. */
json_t *api_audit_json(const struct audit_event *);

/*
 * The faces of this directory (http.h): each file exports its route
 * table, every route with its rate-limit class, and its answers to a
 * refused call and to an engine failure.  Handlers get the engine as
 * r->app.
 */
extern const struct http_face health_face;
extern const struct http_face xsolla_face;
extern const struct http_face workos_face;
/* Unknown paths asked with a WorkOS API key; list it last. */
extern const struct http_face workos_unknown_face;
extern const struct http_face velocity_face;
extern const struct http_face cognito_face;

/* health.c */
void health_live(const struct http_request *, struct http_response *);
void health_ready(const struct http_request *, struct http_response *);

/* cognito.c */
/*
 * Cognito's exceptions, as both faces of the service (Cognito's wire
 * protocol and Velocity's REST calls) name them.
 */
enum cognito_error {
	CE_CODE_MISMATCH,	    /* 0 */
	CE_EXPIRED_CODE,	    /* 1 */
	CE_INVALID_PASSWORD,	    /* 2 */
	CE_LIMIT_EXCEEDED,	    /* 3 */
	CE_TOO_MANY_FAILED,	    /* 4 */
	CE_USER_NOT_FOUND,	    /* 5 */
	CE_NOT_AUTHORIZED,	    /* 6 */
	CE_INVALID_PARAMETER,	    /* 7 */
	CE_RESOURCE_NOT_FOUND,	    /* 8 */
	CE_UNKNOWN_OPERATION,	    /* 9 */
	CE_SERIALIZATION,	    /* 10 */
	CE_INTERNAL,		    /* 11 */
	CE_TOO_MANY_REQUESTS,	    /* 12 */
	CE_MISSING_AUTH_TOKEN,	    /* 13: unsigned admin call */
	CE_INCOMPLETE_SIGNATURE,    /* 14 */
	CE_UNRECOGNIZED_CLIENT,	    /* 15: unknown access key id */
	CE_INVALID_SIGNATURE,	    /* 16: wrong, stale, other scope */
	CE_USERNAME_EXISTS,	    /* 17 */
	CE_PASSWORD_RESET_REQUIRED, /* 18 */
	CE__MAX
};

struct cognito_exception {
	int status;
	const char *type;    /* "CodeMismatchException" */
	const char *message; /* the default message */
};

/* The row of an exception (static). */
const struct cognito_exception *cognito_exception(enum cognito_error);
/*
 * The exception for an engine result other than ENGINE_OK, with its
 * message in *message (static): the default, or a more precise one.
 */
enum cognito_error
cognito_engine_error(enum engine_result, const char **message);
/*
 * The message of InvalidPasswordException for a refused password: the
 * policy's reason, static or in buf (len bytes).
 */
const char *cognito_password_message(enum engine_result,
    const struct password_verdict *, char *buf, size_t len);
/*
 * Answer v (taken) with status in the dialect's shape; 0, or -1 when the
 * fixed InternalErrorException went out instead.
 */
int cognito_reply(struct http_response *, int status, json_t *v);
/* Answer exception e with message (NULL: its default). */
void
cognito_fail(struct http_response *, enum cognito_error, const char *message);
/*
 * What every answer on POST / starts with (x-amzn-RequestId, CORS); 1
 * with resp answered when a header the face reads is not clean text.
 */
int cognito_begin(const struct http_request *, struct http_response *);
/* The body as a JSON object, or NULL with the answer set. */
json_t *cognito_body(const struct http_request *, struct http_response *);

/* cognito_admin.c */
/*
 * POST / with an admin call's X-Amz-Target: the signature, the members,
 * the pool, then the operation; every refusal in Cognito's shape.
 */
void cognito_admin(const struct http_request *, struct http_response *);
/* OPTIONS /: CORS preflight for browser clients. */
void cognito_preflight(const struct http_request *, struct http_response *);
/* GET /{userPoolId}/.well-known/jwks.json and openid-configuration. */
void cognito_jwks(const struct http_request *, struct http_response *);
void cognito_openid_configuration(const struct http_request *,
    struct http_response *);

/* velocity.c */
void velocity_forgot(const struct http_request *, struct http_response *);
void
velocity_forgot_confirm(const struct http_request *, struct http_response *);

/* xsolla.c */
void xsolla_preflight(const struct http_request *, struct http_response *);
void xsolla_reset_request(const struct http_request *, struct http_response *);
void xsolla_reset_confirm(const struct http_request *, struct http_response *);
void xsolla_login(const struct http_request *, struct http_response *);
void xsolla_users_me(const struct http_request *, struct http_response *);

/* workos.c */
void workos_reset_create(const struct http_request *, struct http_response *);
void workos_reset_send(const struct http_request *, struct http_response *);
void workos_reset_get(const struct http_request *, struct http_response *);
void workos_reset_confirm(const struct http_request *, struct http_response *);
void workos_user_create(const struct http_request *, struct http_response *);
void workos_user_get(const struct http_request *, struct http_response *);
void workos_users_list(const struct http_request *, struct http_response *);
void workos_user_update(const struct http_request *, struct http_response *);
void workos_user_delete(const struct http_request *, struct http_response *);
void workos_authenticate(const struct http_request *, struct http_response *);
/* Sessions: list a user's, revoke one, log out through the browser. */
void workos_sessions_list(const struct http_request *, struct http_response *);
void workos_session_revoke(const struct http_request *, struct http_response *);
void workos_logout(const struct http_request *, struct http_response *);
/* GET /sso/jwks/{clientId}: the project's key set, public. */
void workos_jwks(const struct http_request *, struct http_response *);
/* The dialect's 404 and 405, for paths under /user_management. */
/* GET /events: the project's event log, oldest first. */
void workos_events_list(const struct http_request *, struct http_response *);
void workos_not_found(const struct http_request *, struct http_response *);
void
workos_method_not_allowed(const struct http_request *, struct http_response *);
/*
 * Answer 429 in the dialect's shape with Retry-After: retry_after_s, for
 * the rate limiter to call when it refuses a WorkOS call.
 */
void workos_rate_limited(struct http_response *, int64_t retry_after_s);

/* admin.c: the admin listener's face */
struct config;
/*
 * Keep the admin token's hash and the wrong-token limit of cfg; called
 * once before the admin listener starts.  Without a token nothing is
 * authorised.
 */
void admin_init(const struct config *);
/*
 * The admin API and /metrics: served only on the admin listener, each
 * route behind the bearer token (docs/admin.md).
 */
extern const struct http_face admin_face;

#endif
