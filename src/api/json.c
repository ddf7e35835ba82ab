/*
 * JSON plumbing shared by the dialects: body parsing with its checks, field
 * access with caps, and the JSON form of records.
 */
#include <string.h>

#include "../log.h"
#include "api.h"

int
api_json_reply(struct http_response *resp, int status, json_t *v,
    const char *content_type, const char *fallback)
{
	char *text = NULL;
	int rc = 0;

	/*
	 * json_pack answers NULL for text that is not UTF-8, and json_dumps
	 * fails likewise: a runtime failure of this answer, never of the
	 * process.
	 */
	if (v != NULL)
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL) {
		log_error("api: cannot encode an answer (status %d); "
			  "answering 500",
		    status);
		http_set_body(resp, 500, content_type, fallback,
		    strlen(fallback));
		resp->outcome = "encode_failed";
		rc = -1;
		goto out;
	}
	http_set_body(resp, status, content_type, text, strlen(text));
out:
	free(text);
	json_decref(v);
	return rc;
}

int
api_json_take(struct http_response *resp, int status, json_t *v,
    const char *fallback)
{
	return api_json_reply(resp, status, v, "application/json", fallback);
}

json_t *
api_time(int64_t ms)
{
	char iso[ISO8601_LEN + 1];

	if (ms == 0)
		return json_null();
	time_iso8601(ms, iso);
	return json_string(iso);
}

json_t *
api_string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

enum api_body
api_parse_object(const struct http_request *r, const char *json_type,
    json_t **out, char *err, size_t errlen)
{
	char ct[64], charset[32], text[256];
	json_error_t je;
	json_t *v;

	if (r->body_too_large) {
		snprintf(err, errlen, "request body too large");
		return API_BODY_TOO_LARGE;
	}
	http_content_type(r, ct, sizeof(ct));
	if (strcmp(ct, json_type) != 0) {
		snprintf(err, errlen, "expected Content-Type %s", json_type);
		return API_BODY_WRONG_TYPE;
	}
	/* JSON is UTF-8 (RFC 8259); a body declared otherwise is refused. */
	if (http_content_charset(r, charset, sizeof(charset)) == -1 ||
	    (charset[0] != '\0' && strcmp(charset, "utf-8") != 0 &&
		strcmp(charset, "utf8") != 0)) {
		snprintf(err, errlen,
		    "unsupported charset: JSON must be "
		    "UTF-8");
		return API_BODY_WRONG_CHARSET;
	}
	if (r->body == NULL || r->body_len == 0) {
		snprintf(err, errlen, "expected a JSON object");
		return API_BODY_MALFORMED;
	}
	/*
	 * jansson checks UTF-8, refuses NUL in strings unless asked, and caps
	 * nesting depth; duplicate keys are refused so that a field cannot
	 * mean two things.
	 */
	v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL || !json_is_object(v)) {
		/*
		 * jansson's text may quote the body, cut in the middle of a
		 * character: cleaned, it is safe to echo.
		 */
		snprintf(text, sizeof(text), "malformed JSON%s%s",
		    v ? "" : ": ", v ? " (expected an object)" : je.text);
		(void)str_utf8_clean(err, errlen, text, strlen(text));
		json_decref(v);
		return API_BODY_MALFORMED;
	}
	*out = v;
	return API_BODY_OK;
}

int
api_string_field(json_t *obj, const char *name, size_t max, const char **out)
{
	json_t *v = json_object_get(obj, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 1;
}

/* A newline-separated list as a JSON array. */
static json_t *
lines_json(const char *lines)
{
	json_t *a = json_array();
	const char *p = lines, *eol;

	while (p != NULL && *p != '\0') {
		eol = strchr(p, '\n');
		json_array_append_new(a,
		    eol ? json_stringn(p, (size_t)(eol - p)) : json_string(p));
		p = eol ? eol + 1 : NULL;
	}
	return a;
}

json_t *
api_password_policy_json(const struct project *p)
{
	struct password_policy pol;
	json_t *require = json_array();
	unsigned c;

	engine_password_policy(NULL, p, &pol);
	c = pol.checks;
	if (c & PW_REQUIRE_UPPERCASE)
		json_array_append_new(require, json_string("uppercase"));
	if (c & PW_REQUIRE_LOWERCASE)
		json_array_append_new(require, json_string("lowercase"));
	if (c & PW_REQUIRE_NUMBERS)
		json_array_append_new(require, json_string("numbers"));
	if (c & PW_REQUIRE_SYMBOLS)
		json_array_append_new(require, json_string("symbols"));
	return json_pack("{s:s, s:I, s:I, s:b, s:b, s:I, s:o}", "profile",
	    p->password_profile ? p->password_profile : "nist", "min_length",
	    (json_int_t)pol.min_length, "max_length",
	    (json_int_t)pol.max_length, "lists", (c & PW_CHECK_LISTS) != 0,
	    "score", (c & PW_CHECK_SCORE) != 0, "min_score",
	    (json_int_t)pol.min_score, "require", require);
}

json_t *
api_project_json(const struct project *p, const char *aws_region)
{
	char pool[ENGINE_POOL_ID_MAX + 1];
	json_t *j;

	j = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:I, s:s, s:b, s:o, s:o, "
	    "s:o, s:o, s:b, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "id", p->id, "name", p->name, "callback_urls",
	    lines_json(p->callback_urls), "allowed_origins",
	    lines_json(p->allowed_origins), "reset_url",
	    api_string_or_null(p->reset_url), "token_ttl",
	    (json_int_t)p->token_ttl, "delivery", p->delivery,
	    "send_reset_emails", p->send_reset_emails, "created_at",
	    api_time(p->created_at), "mail_from",
	    api_string_or_null(p->mail_from), "mail_from_name",
	    api_string_or_null(p->mail_from_name), "locale",
	    api_string_or_null(p->locale), "unknown_account_notice",
	    p->unknown_account_notice, "logo_url",
	    api_string_or_null(p->logo_url), "accent_color",
	    api_string_or_null(p->accent_color), "reset_limit_per_hour",
	    (json_int_t)p->reset_limit_per_hour, "mail_budget_per_hour",
	    (json_int_t)p->mail_budget_per_hour, "password_min_length",
	    (json_int_t)p->password_min_length, "password_min_score",
	    (json_int_t)p->password_min_score, "notice_limit_per_hour",
	    (json_int_t)p->notice_limit_per_hour, "notice_share_percent",
	    (json_int_t)p->notice_share_percent, "login_token_ttl",
	    (json_int_t)p->login_token_ttl, "password_policy",
	    api_password_policy_json(p));
	if (j != NULL)
		json_object_update_new(j,
		    json_pack("{s:b, s:s, s:o, s:o, s:o, s:o, s:s, s:I}",
			"allow_private_targets", p->allow_private_targets,
			"user_storage",
			p->user_storage ? p->user_storage : "builtin",
			"storage_lookup_url",
			api_string_or_null(p->storage_lookup_url),
			"storage_verify_url",
			api_string_or_null(p->storage_verify_url),
			"storage_password_url",
			api_string_or_null(p->storage_password_url),
			"storage_new_user_url",
			api_string_or_null(p->storage_new_user_url),
			"storage_password_format",
			p->storage_password_format ?
			    p->storage_password_format :
			    "plain",
			"storage_timeout_ms",
			(json_int_t)p->storage_timeout_ms));
	/* The Cognito user pool id the admin calls and tokens name. */
	if (j != NULL && aws_region != NULL && id_is_uuid(p->id)) {
		engine_user_pool_id(aws_region, p->id, pool);
		json_object_set_new(j, "cognito_user_pool_id",
		    json_string(pool));
	}
	return j;
}

json_t *
api_outbox_json(const struct outbox_msg *m)
{
	/* Never the payload: it holds the link or code. */
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:o, s:o, "
			 "s:o}",
	    "id", m->id, "project_id", m->project_id, "kind", m->kind, "to",
	    m->to_addr, "locale", api_string_or_null(m->locale), "state",
	    m->state, "tries", (json_int_t)m->tries, "next_try_at",
	    strcmp(m->state, "pending") == 0 ? api_time(m->next_try_at) :
					       json_null(),
	    "last_error", api_string_or_null(m->last_error), "created_at",
	    api_time(m->created_at), "sent_at", api_time(m->sent_at));
}

json_t *
api_audit_json(const struct audit_event *a)
{
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id",
	    a->id, "project_id", api_string_or_null(a->project_id),
	    "created_at", api_time(a->created_at), "event", a->event,
	    "client_ip", api_string_or_null(a->client_ip), "user_agent",
	    api_string_or_null(a->user_agent), "subject",
	    api_string_or_null(a->subject), "detail",
	    api_string_or_null(a->detail));
}

json_t *
api_user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:s}",
	    "id", u->id, "project_id", u->project_id, "email", u->email,
	    "username", api_string_or_null(u->username), "email_verified",
	    u->email_verified, "disabled", u->disabled, "first_name",
	    api_string_or_null(u->first_name), "last_name",
	    api_string_or_null(u->last_name), "locale",
	    api_string_or_null(u->locale), "created_at",
	    api_time(u->created_at), "updated_at", api_time(u->updated_at),
	    "last_sign_in_at", api_time(u->last_sign_in_at), "status",
	    user_status_name(u->status));
}
