/*
 * Cognito's admin calls, signed with AWS Signature Version 4, so that
 * test suites and back ends seed and manage users with the AWS SDKs
 * (AdminCreateUser with MessageAction SUPPRESS, then AdminSetUserPassword
 * with Permanent, ...) against resetd as against Cognito.
 *
 * A call is checked in this order, and a refusal changes nothing:
 *   1. the signature (core/awsauth.c): an API key's AWS credentials,
 *      scoped to this instance's region and service cognito-idp, within
 *      5 minutes; the refusals are AWS's own exceptions;
 *   2. the members, as botocore's model of the operation says: required
 *      members, lengths (in characters), patterns, enums, types; a
 *      violation is InvalidParameterException naming the member in
 *      Cognito's words ("1 validation error detected: Value at
 *      'username' failed to satisfy constraint: ..."), a member of the
 *      wrong JSON type SerializationException;
 *   3. UserPoolId must be the signing key's own project's pool, else
 *      ResourceNotFoundException: a key of one project reaches nothing of
 *      another, and cannot tell whether that pool exists.
 * Then the operation runs in core/admin.c, which the CLI shares.
 *
 * A Username names a user by its username, its email or its id (the
 * "sub").  A user's Username in answers is its username, or its id when
 * it has none (as in pools that sign in with email).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "../log.h"
#include "api.h"

#define MESSAGE_MAX 512
#define WHY_MAX 160 /* what a constraint says; fits in a message */
#define SERVICE "cognito-idp"
#define LIST_LIMIT_DEFAULT 60

/* patterns of botocore's model */

/* [\w-]+_[0-9a-zA-Z]+ */
static int
pool_id_pattern(const char *s)
{
	const char *us = strrchr(s, '_');
	size_t n = strlen(s);

	if (strspn(s,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_-") != n ||
	    us == NULL || us == s || us[1] == '\0')
		return 0;
	return strspn(us + 1,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
		   "uvwxyz0123456789") == strlen(us + 1);
}

/* 1 when every code point of s is of a category in L M N P S, or is in also. */
static int
categories_ok(const char *s, const char *also)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	utf8proc_category_t cat;

	if (*s == '\0')
		return 0;
	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0)
			return 0;
		cat = utf8proc_category(cp);
		if (!(cat >= UTF8PROC_CATEGORY_LU &&
			cat <= UTF8PROC_CATEGORY_SO) &&
		    !(cp < 0x80 && cp != 0 && strchr(also, (int)cp) != NULL))
			return 0;
		p += n;
	}
	return 1;
}

/* [\p{L}\p{M}\p{S}\p{N}\p{P}]+ */
static int
username_pattern(const char *s)
{
	return categories_ok(s, "");
}

/* [\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+ */
static int
attribute_name_pattern(const char *s)
{
	return categories_ok(s, "\t\n\r ");
}

/* [\S]+ (Java's \s: ASCII white space only) */
static int
no_space_pattern(const char *s)
{
	return *s != '\0' && strpbrk(s, " \t\n\v\f\r") == NULL;
}

struct string_shape {
	size_t min, max; /* characters; max 0: none */
	int (*pattern)(const char *);
	const char *pattern_text;
};

static const struct string_shape pool_shape = { 1, 55, pool_id_pattern,
	"[\\w-]+_[0-9a-zA-Z]+" };
static const struct string_shape username_shape = { 1, 128, username_pattern,
	"[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+" };
static const struct string_shape password_shape = { 0, 256, no_space_pattern,
	"[\\S]+" };
static const struct string_shape attr_name_shape = { 1, 32,
	attribute_name_pattern, "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r ]+" };
static const struct string_shape attr_value_shape = { 0, 2048, NULL, NULL };
static const struct string_shape token_shape = { 1, 0, no_space_pattern,
	"[\\S]+" };
static const struct string_shape filter_shape = { 0, 256, NULL, NULL };
static const struct string_shape meta_shape = { 0, 131072, NULL, NULL };

/* The code points of UTF-8 text s. */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Answer Cognito's validation error for member label. */
static void
fail_member(struct http_response *resp, const char *label, const char *why)
{
	char msg[MESSAGE_MAX];

	snprintf(msg, sizeof(msg),
	    "1 validation error detected: Value at "
	    "'%.96s' failed to satisfy constraint: %.200s",
	    label, why);
	cognito_fail(resp, CE_INVALID_PARAMETER, msg);
}

/* Answer SerializationException: member name is not of type what. */
static void
fail_type(struct http_response *resp, const char *name, const char *what)
{
	char msg[MESSAGE_MAX];

	snprintf(msg, sizeof(msg), "Expected %s for member '%s'", what, name);
	cognito_fail(resp, CE_SERIALIZATION, msg);
}

/*
 * Check v, the value of string member name (label in messages), against
 * its shape.  Return 1 with *out; 0 when v is absent or null and not
 * required; -1 with resp answered.
 */
static int
string_value(struct http_response *resp, json_t *v, const char *name,
    const char *label, const struct string_shape *shape, int required,
    const char **out)
{
	char why[MESSAGE_MAX];
	const char *s;
	size_t n;

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		fail_member(resp, label, "Member must not be null");
		return -1;
	}
	if (!json_is_string(v)) {
		fail_type(resp, name, "a string");
		return -1;
	}
	s = json_string_value(v);
	/* A NUL inside is no text any pattern or store takes. */
	if (strlen(s) != json_string_length(v)) {
		fail_member(resp, label,
		    "Member must not contain NUL "
		    "characters");
		return -1;
	}
	n = chars(s);
	if (n < shape->min) {
		snprintf(why, sizeof(why),
		    "Member must have length greater "
		    "than or equal to %zu",
		    shape->min);
		fail_member(resp, label, why);
		return -1;
	}
	if (shape->max != 0 && n > shape->max) {
		snprintf(why, sizeof(why),
		    "Member must have length less than "
		    "or equal to %zu",
		    shape->max);
		fail_member(resp, label, why);
		return -1;
	}
	if (shape->pattern != NULL && !shape->pattern(s)) {
		snprintf(why, sizeof(why),
		    "Member must satisfy regular "
		    "expression pattern: %s",
		    shape->pattern_text);
		fail_member(resp, label, why);
		return -1;
	}
	*out = s;
	return 1;
}

static int
string_member(struct http_response *resp, json_t *body, const char *name,
    const char *label, const struct string_shape *shape, int required,
    const char **out)
{
	return string_value(resp, json_object_get(body, name), name, label,
	    shape, required, out);
}

/* A boolean member: 1 with *out, 0 when absent, -1 with resp answered. */
static int
bool_member(struct http_response *resp, json_t *body, const char *name,
    int *out)
{
	json_t *v = json_object_get(body, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		fail_type(resp, name, "a boolean");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* ClientMetadata: a map of strings to strings, checked and ignored. */
static int
metadata_member(struct http_response *resp, json_t *body)
{
	json_t *m = json_object_get(body, "ClientMetadata"), *v;
	const char *k, *s;

	if (m == NULL || json_is_null(m))
		return 0;
	if (!json_is_object(m)) {
		fail_type(resp, "ClientMetadata", "a map");
		return -1;
	}
	json_object_foreach(m, k, v)
	{
		if (string_value(resp, v, "ClientMetadata", "clientMetadata",
			&meta_shape, 1, &s) != 1)
			return -1;
	}
	return 0;
}

/*
 * The project that signed the call, by the request's signature; NULL with
 * resp answered in AWS's words.
 */
static const char *
header_of(void *arg, const char *name)
{
	return http_header(arg, name);
}

static struct project *
signer_of(const struct http_request *r, struct http_response *resp)
{
	struct sigv4_request sr = {
		.method = r->method,
		.path = r->path,
		.path_encodings = 2,
		.header = header_of,
		.header_arg = (void *)r,
		.body = r->body,
		.body_len = r->body != NULL ? r->body_len : 0,
	};
	struct aws_auth_check in;
	struct project *p = NULL;

	memset(&in, 0, sizeof(in));
	in.authorization = http_header(r, "Authorization");
	in.amz_date = http_header(r, "X-Amz-Date");
	in.service = SERVICE;
	in.request = &sr;
	switch (engine_aws_auth(r->app, &in, &p)) {
	case AWS_AUTH_OK:
		return p;
	case AWS_AUTH_MISSING:
		cognito_fail(resp, CE_MISSING_AUTH_TOKEN, in.message);
		break;
	case AWS_AUTH_INCOMPLETE:
		cognito_fail(resp, CE_INCOMPLETE_SIGNATURE, in.message);
		break;
	case AWS_AUTH_UNRECOGNIZED:
		cognito_fail(resp, CE_UNRECOGNIZED_CLIENT, in.message);
		break;
	case AWS_AUTH_INVALID_SIGNATURE:
		cognito_fail(resp, CE_INVALID_SIGNATURE, in.message);
		break;
	case AWS_AUTH_UNAVAILABLE:
	default:
		cognito_fail(resp, CE_INTERNAL, NULL);
		break;
	}
	return NULL;
}

/*
 * UserPoolId: checked, and the signer's own pool.  Return 0, or -1 with
 * resp answered.
 */
static int
pool_member(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	const struct config *cfg = engine_config(r->app);
	char uuid[UUID_STRLEN + 1], msg[MESSAGE_MAX];
	const char *pool;

	if (string_member(resp, body, "UserPoolId", "userPoolId", &pool_shape,
		1, &pool) != 1)
		return -1;
	if (engine_user_pool_project(cfg->aws_region, pool, uuid) == 0 &&
	    strcmp(uuid, signer->id) == 0)
		return 0;
	/* pool is at most 55 characters of [\w-]: the message fits. */
	snprintf(msg, sizeof(msg), "User pool %s does not exist.", pool);
	cognito_fail(resp, CE_RESOURCE_NOT_FOUND, msg);
	return -1;
}

/* answers */

/* Epoch seconds, as AWS JSON 1.1 writes timestamps. */
static json_t *
epoch(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

static void
attribute(json_t *list, json_t *names, const char *name, const char *value)
{
	size_t i;
	json_t *n;
	int wanted = names == NULL;

	if (value == NULL)
		return;
	json_array_foreach(names, i,
	    n) if (strcmp(json_string_value(n), name) == 0) wanted = 1;
	if (wanted)
		json_array_append_new(list,
		    json_pack("{s:s, s:s}", "Name", name, "Value", value));
}

/* A user's attributes, only those in names (NULL: all). */
static json_t *
attributes(const struct user *u, json_t *names)
{
	json_t *a = json_array();

	attribute(a, names, "sub", u->id);
	attribute(a, names, "email", u->email);
	attribute(a, names, "email_verified",
	    u->email_verified ? "true" : "false");
	attribute(a, names, "given_name", u->first_name);
	attribute(a, names, "family_name", u->last_name);
	attribute(a, names, "locale", u->locale);
	return a;
}

static const char *
status_name(enum user_status st)
{
	switch (st) {
	case USER_FORCE_CHANGE_PASSWORD:
		return "FORCE_CHANGE_PASSWORD";
	case USER_RESET_REQUIRED:
		return "RESET_REQUIRED";
	case USER_CONFIRMED:
	default:
		return "CONFIRMED";
	}
}

/* UserType, with its attributes under attrs_name. */
static json_t *
user_json(const struct user *u, const char *attrs_name, json_t *names)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:s}", "Username",
	    u->username != NULL ? u->username : u->id, attrs_name,
	    attributes(u, names), "UserCreateDate", epoch(u->created_at),
	    "UserLastModifiedDate", epoch(u->updated_at), "Enabled",
	    !u->disabled, "UserStatus", status_name(u->status));
}

static void
ok(struct http_response *resp, json_t *v)
{
	if (cognito_reply(resp, 200, v != NULL ? v : json_object()) == 0)
		resp->outcome = "ok";
}

/* Answer an engine result of an operation on one user. */
static void
fail_engine(struct http_response *resp, enum engine_result res,
    const struct password_verdict *v)
{
	char buf[MESSAGE_MAX];
	const char *message;
	enum cognito_error e;

	switch (res) {
	case ENGINE_USER_UNKNOWN:
		cognito_fail(resp, CE_USER_NOT_FOUND, "User does not exist.");
		return;
	case ENGINE_USER_DISABLED:
		cognito_fail(resp, CE_NOT_AUTHORIZED, "User is disabled.");
		return;
	case ENGINE_THROTTLED:
	case ENGINE_RATE_LIMITED:
		cognito_fail(resp, CE_LIMIT_EXCEEDED, NULL);
		return;
	case ENGINE_CONFLICT:
		cognito_fail(resp, CE_USERNAME_EXISTS,
		    "User account already "
		    "exists");
		return;
	default:
		break;
	}
	e = cognito_engine_error(res, &message);
	if (e == CE_INVALID_PASSWORD)
		message = cognito_password_message(res, v, buf, sizeof(buf));
	cognito_fail(resp, e, message);
}

/* operations */

typedef void (*admin_fn)(const struct http_request *, struct http_response *,
    json_t *, const struct project *);

/* Read UserPoolId and Username of an operation on one user. */
static int
target(const struct http_request *r, struct http_response *resp, json_t *body,
    const struct project *signer, const char **username)
{
	if (pool_member(r, resp, body, signer) == -1 ||
	    string_member(resp, body, "Username", "username", &username_shape,
		1, username) != 1)
		return -1;
	return 0;
}

/* The attribute names resetd keeps, and where. */
enum attr {
	ATTR_EMAIL,
	ATTR_EMAIL_VERIFIED,
	ATTR_GIVEN_NAME,
	ATTR_FAMILY_NAME,
	ATTR_LOCALE,
	ATTR__MAX
};

static const char *const attr_names[ATTR__MAX] = {
	"email",	  /* ATTR_EMAIL */
	"email_verified", /* ATTR_EMAIL_VERIFIED */
	"given_name",	  /* ATTR_GIVEN_NAME */
	"family_name",	  /* ATTR_FAMILY_NAME */
	"locale",	  /* ATTR_LOCALE */
};

/*
 * An AttributeListType member: each element checked; when values is not
 * NULL, each name must be one resetd keeps and its value lands in values.
 * Return 0, or -1 with resp answered.
 */
static int
attribute_list(struct http_response *resp, json_t *body, const char *name,
    const char *label, const char *values[ATTR__MAX])
{
	json_t *list = json_object_get(body, name), *el;
	char lab[96], msg[MESSAGE_MAX];
	const char *n, *v;
	size_t i;
	int a;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		fail_type(resp, name, "a list");
		return -1;
	}
	json_array_foreach(list, i, el)
	{
		if (!json_is_object(el)) {
			fail_type(resp, name, "a list of structures");
			return -1;
		}
		snprintf(lab, sizeof(lab), "%s.%zu.member.name", label, i + 1);
		if (string_value(resp, json_object_get(el, "Name"), "Name", lab,
			&attr_name_shape, 1, &n) != 1)
			return -1;
		snprintf(lab, sizeof(lab), "%s.%zu.member.value", label, i + 1);
		v = NULL;
		if (string_value(resp, json_object_get(el, "Value"), "Value",
			lab, &attr_value_shape, 0, &v) == -1)
			return -1;
		if (values == NULL)
			continue;
		for (a = 0; a < ATTR__MAX; a++)
			if (strcmp(n, attr_names[a]) == 0)
				break;
		if (a == ATTR__MAX) {
			/* n is at most 32 characters: the message fits. */
			snprintf(msg, sizeof(msg),
			    "Attributes did not conform to "
			    "the schema: %s: Attribute does not exist in the "
			    "schema.",
			    n);
			cognito_fail(resp, CE_INVALID_PARAMETER, msg);
			return -1;
		}
		values[a] = v != NULL ? v : "";
	}
	return 0;
}

/* DesiredDeliveryMediums: a list of SMS and EMAIL, checked and ignored. */
static int
mediums_member(struct http_response *resp, json_t *body)
{
	json_t *list = json_object_get(body, "DesiredDeliveryMediums"), *el;
	size_t i;

	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		fail_type(resp, "DesiredDeliveryMediums", "a list");
		return -1;
	}
	json_array_foreach(list, i, el)
	{
		if (!json_is_string(el) ||
		    (strcmp(json_string_value(el), "SMS") != 0 &&
			strcmp(json_string_value(el), "EMAIL") != 0)) {
			fail_member(resp, "desiredDeliveryMediums",
			    "Member must "
			    "satisfy constraint: [Member must satisfy enum value "
			    "set: [SMS, EMAIL]]");
			return -1;
		}
	}
	return 0;
}

static void
admin_create_user(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	const char *values[ATTR__MAX] = { NULL };
	const char *username, *temporary = NULL, *action = NULL;
	struct user_spec spec;
	struct password_verdict verdict;
	struct user *u = NULL;
	enum engine_result res;
	char err[256];
	int force = 0;

	if (target(r, resp, body, signer, &username) == -1 ||
	    attribute_list(resp, body, "UserAttributes", "userAttributes",
		values) == -1 ||
	    attribute_list(resp, body, "ValidationData", "validationData",
		NULL) == -1 ||
	    string_member(resp, body, "TemporaryPassword", "temporaryPassword",
		&password_shape, 0, &temporary) == -1 ||
	    bool_member(resp, body, "ForceAliasCreation", &force) == -1 ||
	    mediums_member(resp, body) == -1 ||
	    metadata_member(resp, body) == -1)
		return;
	if (json_object_get(body, "MessageAction") != NULL &&
	    !json_is_null(json_object_get(body, "MessageAction"))) {
		if (!json_is_string(json_object_get(body, "MessageAction"))) {
			fail_type(resp, "MessageAction", "a string");
			return;
		}
		action = json_string_value(
		    json_object_get(body, "MessageAction"));
		if (strcmp(action, "SUPPRESS") != 0 &&
		    strcmp(action, "RESEND") != 0) {
			fail_member(resp, "messageAction",
			    "Member must satisfy "
			    "enum value set: [RESEND, SUPPRESS]");
			return;
		}
	}
	/* resetd mails no invitations: saying so beats a silent no-op. */
	if (action == NULL || strcmp(action, "SUPPRESS") != 0) {
		cognito_fail(resp, CE_INVALID_PARAMETER,
		    "resetd sends no "
		    "invitation messages: set MessageAction to SUPPRESS, and "
		    "give the user a password with TemporaryPassword or "
		    "AdminSetUserPassword");
		return;
	}
	/* A Username with '@' is the email, as in pools that sign in so. */
	if (strchr(username, '@') != NULL) {
		if (values[ATTR_EMAIL] != NULL &&
		    strcasecmp(values[ATTR_EMAIL], username) != 0) {
			cognito_fail(resp, CE_INVALID_PARAMETER,
			    "Username is an "
			    "email address that differs from the email "
			    "attribute.");
			return;
		}
		values[ATTR_EMAIL] = username;
		username = NULL;
	}
	if (values[ATTR_EMAIL] == NULL) {
		cognito_fail(resp, CE_INVALID_PARAMETER,
		    "resetd needs an email "
		    "for every user: give the email attribute, or an email as "
		    "Username.");
		return;
	}
	if (values[ATTR_EMAIL_VERIFIED] != NULL &&
	    strcmp(values[ATTR_EMAIL_VERIFIED], "true") != 0 &&
	    strcmp(values[ATTR_EMAIL_VERIFIED], "false") != 0) {
		cognito_fail(resp, CE_INVALID_PARAMETER,
		    "Invalid value for "
		    "attribute email_verified: expected true or false.");
		return;
	}
	memset(&verdict, 0, sizeof(verdict));
	spec = (struct user_spec){
		.project_id = signer->id,
		.email = values[ATTR_EMAIL],
		.username = username,
		.password = temporary,
		.first_name = values[ATTR_GIVEN_NAME],
		.last_name = values[ATTR_FAMILY_NAME],
		.email_verified = values[ATTR_EMAIL_VERIFIED] != NULL &&
		    strcmp(values[ATTR_EMAIL_VERIFIED], "true") == 0,
		.locale = values[ATTR_LOCALE],
		.verdict = &verdict,
		.status = USER_FORCE_CHANGE_PASSWORD,
	};
	res = admin_user_create(r->app, &spec, &u, err, sizeof(err));
	if (res == ENGINE_BAD_INPUT) {
		if (strncmp(err, "email:", 6) == 0)
			cognito_fail(resp, CE_INVALID_PARAMETER,
			    "Invalid email "
			    "address format.");
		else
			cognito_fail(resp, CE_INVALID_PARAMETER, err);
		return;
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, &verdict);
		return;
	}
	ok(resp, json_pack("{s:o}", "User", user_json(u, "Attributes", NULL)));
	user_free(u);
}

static void
admin_set_user_password(const struct http_request *r,
    struct http_response *resp, json_t *body, const struct project *signer)
{
	struct request_context ctx;
	struct password_verdict verdict;
	struct admin_password in;
	const char *username, *password;
	enum engine_result res;
	int permanent = 0;

	if (target(r, resp, body, signer, &username) == -1 ||
	    string_member(resp, body, "Password", "password", &password_shape,
		1, &password) != 1 ||
	    bool_member(resp, body, "Permanent", &permanent) == -1)
		return;
	face_context(r, &ctx);
	memset(&verdict, 0, sizeof(verdict));
	in = (struct admin_password){ signer->id, username, password, permanent,
		&ctx, &verdict };
	res = admin_user_set_password(r->app, &in, NULL);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, &verdict);
		return;
	}
	ok(resp, NULL);
}

static void
admin_get_user(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	struct user *u = NULL;
	const char *username;
	enum engine_result res;

	if (target(r, resp, body, signer, &username) == -1)
		return;
	res = admin_user_lookup(r->app, signer->id, username, &u);
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return;
	}
	ok(resp, user_json(u, "UserAttributes", NULL));
	user_free(u);
}

/* The calls that act on one user and answer {}. */
enum user_act {
	ACT_DELETE,
	ACT_DISABLE,
	ACT_ENABLE,
	ACT_SIGN_OUT,
	ACT_RESET,
};

static void
act(const struct http_request *r, struct http_response *resp, json_t *body,
    const struct project *signer, enum user_act what)
{
	struct request_context ctx;
	const char *username;
	enum engine_result res;
	int64_t retry = 0;

	if (target(r, resp, body, signer, &username) == -1 ||
	    (what == ACT_RESET && metadata_member(resp, body) == -1))
		return;
	face_context(r, &ctx);
	switch (what) {
	case ACT_DELETE:
		res = admin_user_delete(r->app, &ctx, signer->id, username,
		    NULL);
		break;
	case ACT_DISABLE:
	case ACT_ENABLE:
		res = admin_user_set_disabled(r->app, &ctx, signer->id,
		    username, what == ACT_DISABLE, NULL);
		break;
	case ACT_SIGN_OUT:
		res = admin_user_sign_out(r->app, &ctx, signer->id, username);
		break;
	case ACT_RESET:
		res = admin_user_require_reset(r->app, &ctx, signer->id,
		    username, &retry);
		if (res == ENGINE_THROTTLED)
			http_set_retry_after(resp, retry);
		break;
	default:
		abort();
	}
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return;
	}
	ok(resp, NULL);
}

static void
admin_delete_user(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	act(r, resp, body, signer, ACT_DELETE);
}

static void
admin_disable_user(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	act(r, resp, body, signer, ACT_DISABLE);
}

static void
admin_enable_user(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	act(r, resp, body, signer, ACT_ENABLE);
}

static void
admin_user_global_sign_out(const struct http_request *r,
    struct http_response *resp, json_t *body, const struct project *signer)
{
	act(r, resp, body, signer, ACT_SIGN_OUT);
}

static void
admin_reset_user_password(const struct http_request *r,
    struct http_response *resp, json_t *body, const struct project *signer)
{
	act(r, resp, body, signer, ACT_RESET);
}

/*
 * Parse a ListUsers filter, NAME = "VALUE" or NAME ^= "VALUE" (inside the
 * quotes, \" and \\ escape), into q; value is written to buf (len bytes).
 * Return 0, or -1 with resp answered.
 */
static int
parse_filter(struct http_response *resp, const char *f, struct user_query *q,
    char *buf, size_t len)
{
	static const struct {
		const char *name;
		enum user_filter eq, prefix; /* NONE: not offered */
	} attrs[] = {
		{ "email", USER_FILTER_EMAIL, USER_FILTER_EMAIL_PREFIX },
		{ "username", USER_FILTER_USERNAME,
		    USER_FILTER_USERNAME_PREFIX },
		{ "sub", USER_FILTER_ID, USER_FILTER_NONE },
		/* Their values are mapped below. */
		{ "cognito:user_status", USER_FILTER_STATUS, USER_FILTER_NONE },
		{ "status", USER_FILTER_ENABLED, USER_FILTER_NONE },
	};
	static const struct {
		const char *wire;
		const char *stored;
	} statuses[] = {
		{ "CONFIRMED", "confirmed" },
		{ "FORCE_CHANGE_PASSWORD", "force_change_password" },
		{ "RESET_REQUIRED", "reset_required" },
	};
	size_t k;
	const char *p = f, *name;
	size_t nlen, i, o = 0;
	int prefix;

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		q->filter = USER_FILTER_NONE;
		return 0;
	}
	name = p;
	nlen = strcspn(p, " =^\"");
	p += nlen;
	while (*p == ' ')
		p++;
	prefix = p[0] == '^' && p[1] == '=';
	if (!prefix && p[0] != '=')
		goto bad;
	p += prefix ? 2 : 1;
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		goto bad;
	while (*p != '"') {
		if (*p == '\0' || o + 1 >= len)
			goto bad;
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		buf[o++] = *p++;
	}
	buf[o] = '\0';
	p++;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		goto bad;
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strlen(attrs[i].name) != nlen ||
		    strncmp(attrs[i].name, name, nlen) != 0)
			continue;
		q->filter = prefix ? attrs[i].prefix : attrs[i].eq;
		if (q->filter == USER_FILTER_NONE)
			break;
		q->value = buf;
		if (q->filter == USER_FILTER_STATUS) {
			/* A status resetd has none of matches no user. */
			q->value = "none";
			for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]);
			     k++)
				if (strcmp(buf, statuses[k].wire) == 0)
					q->value = statuses[k].stored;
		} else if (q->filter == USER_FILTER_ENABLED) {
			if (strcmp(buf, "Disabled") == 0)
				q->filter = USER_FILTER_DISABLED;
			else if (strcmp(buf, "Enabled") != 0)
				goto bad;
		}
		return 0;
	}
	cognito_fail(resp, CE_INVALID_PARAMETER,
	    "Invalid search attribute: "
	    "resetd filters users by email and username (= and ^=), and by "
	    "sub, cognito:user_status and status (=).");
	return -1;
bad:
	cognito_fail(resp, CE_INVALID_PARAMETER,
	    "Error while parsing filter: "
	    "expected ATTRIBUTE = \"VALUE\" or ATTRIBUTE ^= \"VALUE\".");
	return -1;
}

/* AttributesToGet: a list of attribute names, or NULL. */
static int
names_member(struct http_response *resp, json_t *body, json_t **out)
{
	json_t *list = json_object_get(body, "AttributesToGet"), *el;
	char lab[64];
	const char *n;
	size_t i;

	*out = NULL;
	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list)) {
		fail_type(resp, "AttributesToGet", "a list");
		return -1;
	}
	json_array_foreach(list, i, el)
	{
		snprintf(lab, sizeof(lab), "attributesToGet.%zu.member", i + 1);
		if (string_value(resp, el, "AttributesToGet", lab,
			&attr_name_shape, 1, &n) != 1)
			return -1;
	}
	*out = list;
	return 0;
}

static void
list_users(const struct http_request *r, struct http_response *resp,
    json_t *body, const struct project *signer)
{
	struct user_query q = { .filter = USER_FILTER_NONE };
	struct store_list l = { NULL, 0 };
	char next[ADMIN_CURSOR_MAX + 1], err[128];
	const char *filter = NULL, *token = NULL;
	json_t *names, *limit, *users, *answer;
	enum engine_result res;
	char value[4 * 256 + 1]; /* 256 characters of UTF-8 */
	json_int_t n = LIST_LIMIT_DEFAULT;
	size_t i;

	if (pool_member(r, resp, body, signer) == -1 ||
	    names_member(resp, body, &names) == -1 ||
	    string_member(resp, body, "PaginationToken", "paginationToken",
		&token_shape, 0, &token) == -1 ||
	    string_member(resp, body, "Filter", "filter", &filter_shape, 0,
		&filter) == -1)
		return;
	limit = json_object_get(body, "Limit");
	if (limit != NULL && !json_is_null(limit)) {
		if (!json_is_integer(limit)) {
			fail_type(resp, "Limit", "an integer");
			return;
		}
		n = json_integer_value(limit);
		if (n < 0) {
			fail_member(resp, "limit",
			    "Member must have value greater "
			    "than or equal to 0");
			return;
		}
		if (n > 60) {
			fail_member(resp, "limit",
			    "Member must have value less "
			    "than or equal to 60");
			return;
		}
		if (n == 0)
			n = LIST_LIMIT_DEFAULT;
	}
	if (filter != NULL &&
	    parse_filter(resp, filter, &q, value, sizeof(value)) == -1)
		return;
	/*
	 * The token is core's paging cursor, bound to this pool and filter:
	 * a made-up one, or one carried to another filter, is refused.
	 */
	q.project_id = signer->id;
	q.cursor = token;
	q.limit = n;
	res = admin_user_list(r->app, &q, &l, next, err, sizeof(err));
	if (res == ENGINE_BAD_INPUT && strncmp(err, "cursor", 6) == 0) {
		cognito_fail(resp, CE_INVALID_PARAMETER,
		    "Invalid pagination "
		    "token.");
		return;
	}
	/*
	 * A value no stored name can have (core takes 1 to 320 bytes of
	 * text) matches no user, as in Cognito: an empty page.
	 */
	if (res == ENGINE_BAD_INPUT && strncmp(err, "filter", 6) == 0)
		res = ENGINE_OK;
	if (res != ENGINE_OK) {
		fail_engine(resp, res, NULL);
		return;
	}
	users = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(users,
		    user_json(l.items[i], "Attributes", names));
	answer = json_pack("{s:o}", "Users", users);
	if (answer != NULL && next[0] != '\0')
		json_object_set_new(answer, "PaginationToken",
		    json_string(next));
	store_list_free(&l, (void (*)(void *))user_free);
	ok(resp, answer);
}

static const struct {
	const char *name;
	admin_fn fn;
} admin_ops[] = {
	{ "AdminCreateUser", admin_create_user },
	{ "AdminSetUserPassword", admin_set_user_password },
	{ "AdminGetUser", admin_get_user },
	{ "AdminDeleteUser", admin_delete_user },
	{ "AdminDisableUser", admin_disable_user },
	{ "AdminEnableUser", admin_enable_user },
	{ "AdminUserGlobalSignOut", admin_user_global_sign_out },
	{ "AdminResetUserPassword", admin_reset_user_password },
	{ "ListUsers", list_users },
};

void
cognito_admin(const struct http_request *r, struct http_response *resp)
{
	const char *target = http_header(r, "X-Amz-Target");
	struct project *signer;
	json_t *body;
	size_t i, n = sizeof(admin_ops) / sizeof(admin_ops[0]);

	if (cognito_begin(r, resp))
		return;
	/* The route matched one of these names; no other gets here. */
	for (i = 0; i < n; i++)
		if (target != NULL && strchr(target, '.') != NULL &&
		    strcmp(strrchr(target, '.') + 1, admin_ops[i].name) == 0)
			break;
	if (i == n) {
		cognito_fail(resp, CE_UNKNOWN_OPERATION, NULL);
		return;
	}
	/* What was not read whole cannot be checked against its signature. */
	if (r->body_too_large) {
		cognito_fail(resp, CE_INVALID_PARAMETER,
		    "1 validation error "
		    "detected: the request body is too large");
		return;
	}
	signer = signer_of(r, resp);
	if (signer == NULL)
		return;
	body = cognito_body(r, resp);
	if (body != NULL) {
		admin_ops[i].fn(r, resp, body, signer);
		json_decref(body);
	}
	project_free(signer);
}
