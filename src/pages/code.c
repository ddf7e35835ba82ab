/*
 * The code page: GET /reset/code?project=ID shows a form for the email
 * address, the code from the email and the new password twice; its POST
 * confirms through the engine's typed-code use case (reset_confirm_code),
 * with its caps on wrong tries.  Codes come from projects with code
 * delivery (the forgot page of such a project answers with this form),
 * and from the Cognito and Velocity dialects of any project.
 *
 * What the page tells apart is only what the engine does: a wrong code,
 * a code past its tries, an account past its tries, an expired code (said
 * only to whoever typed the right one), a refused password with the rule
 * it broke.  An unknown address answers like a wrong code.
 *
 * The form is bound to the form cookie with a CSRF token; a post without
 * a valid one is refused before the engine is asked, so it counts no try.
 * Before anything else a post spends a token of the client's "confirm"
 * limit (its route's class, spent before the handler runs: routes.c), as
 * the dialects' code confirms do; past it, the "too many attempts" page
 * (429).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define CSRF_PURPOSE "code"
#define ORIGIN_MAX 300

void
page_code_form(struct page_out *o, const struct project *p, const char *locale,
    const char *login_url, const char *email, const char *code, int sent,
    int status)
{
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], csrf[ENGINE_MAC_LEN + 1];
	char origin[ORIGIN_MAX], minutes[24], *href;

	page_form_cookie(o, cookie);
	page_csrf_token(o, CSRF_PURPOSE, cookie, csrf);
	page_set(o, "csrf", csrf);
	page_set(o, "locale_param", locale);
	page_set(o, "login_url", login_url);
	page_set(o, "email", email);
	page_set(o, "code", code);
	if (sent) {
		snprintf(minutes, sizeof(minutes), "%lld",
		    (long long)((p->token_ttl + 59) / 60));
		page_set(o, "minutes", minutes);
		page_set(o, "code_sent", "1");
	}
	href = page_url("/forgot", "project", p->id, "locale", locale,
	    "login_url", login_url);
	page_set(o, "forgot_href", href);
	free(href);
	if (login_url != NULL &&
	    page_origin(login_url, origin, sizeof(origin)) == 0)
		page_allow_form_origin(o, origin);
	page_render(o, PAGE_CODE, status);
}

static void
code_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct project *p = NULL;
	const char *id = page_query(r, "project", UUID_STRLEN);
	const char *locale = page_query(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	char *login_url = NULL;

	if (page_begin_project(&o, r, resp, id, locale, &p) == -1)
		goto out;
	/* A URL that is not one of the project's is dropped, not refused. */
	(void)engine_callback_url(p, page_query(r, "login_url", PAGE_URL_MAX),
	    0, &login_url);
	page_code_form(&o, p, page_locale_param(locale), login_url, NULL, NULL,
	    0, 200);
out:
	page_end(&o);
	project_free(p);
	free(login_url);
}

/*
 * People copy codes with spaces or hyphens ("123 456"); those are not part
 * of any code, so they are dropped before the engine compares.
 */
static void
code_normalise(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '-')
			*w++ = *s;
	*w = '\0';
}

/*
 * The field and text of a refusal of the code by the engine, or 0 for
 * none (a refused password is page_password_error's).
 */
static int
code_error(enum engine_result res, const char **field, const char **key)
{
	static const struct {
		enum engine_result res;
		const char *field;
		const char *key;
	} errors[] = {
		{ ENGINE_CODE_MISMATCH, "code", "err_code_mismatch" },
		{ ENGINE_SECRET_INVALID, "code", "err_code_mismatch" },
		{ ENGINE_USER_UNKNOWN, "code", "err_code_mismatch" },
		{ ENGINE_BAD_INPUT, "code", "err_code_mismatch" },
		{ ENGINE_CODE_LOCKED, "code", "err_code_locked" },
		{ ENGINE_RATE_LIMITED, "code", "err_code_rate" },
		{ ENGINE_SECRET_EXPIRED, "code", "err_code_expired" },
	};
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (errors[i].res == res) {
			*field = errors[i].field;
			*key = errors[i].key;
			return 1;
		}
	}
	return 0;
}

static void
code_post_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct project *p = NULL;
	struct reset_code_confirm in;
	struct password_verdict verdict;
	char *id = page_field(r, "project", UUID_STRLEN);
	char *locale = page_field(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	char *sent_url = page_field(r, "login_url", PAGE_URL_MAX);
	char *login_url = NULL;
	char *email = page_field(r, "email", PAGE_PASSWORD_READ_MAX);
	char *code = page_field(r, "code", PAGE_CODE_READ_MAX);
	char *password = page_password_field(r, "password");
	char *confirm = page_password_field(r, "confirm");
	char *csrf = page_field(r, "csrf", PAGE_SECRET_MAX);
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], origin[ORIGIN_MAX];
	const char *lp, *field, *key;
	enum engine_result res;

	memset(&verdict, 0, sizeof(verdict));
	if (page_begin_project(&o, r, resp, id, locale, &p) == -1)
		goto out;
	lp = page_locale_param(locale);
	/* A URL that is not one of the project's is dropped, not refused. */
	(void)engine_callback_url(p, sent_url, 0, &login_url);
	if (code != NULL)
		code_normalise(code);
	if (!page_cookie_get(http_header(r, "Cookie"), PAGE_COOKIE_FORM, cookie,
		sizeof(cookie)) ||
	    !page_csrf_ok(&o, CSRF_PURPOSE, cookie, csrf)) {
		resp->outcome = "csrf_refused";
		page_error(&o, "form", "err_form_expired");
		page_code_form(&o, p, lp, login_url, email, code, 0, 403);
		goto out;
	}
	if (email == NULL || *email == '\0')
		page_error(&o, "email", "err_email_required");
	else if (strlen(email) > PAGE_EMAIL_MAX)
		page_error(&o, "email", "err_email_long");
	if (code == NULL || *code == '\0')
		page_error(&o, "code", "err_code_required");
	if (password == NULL || *password == '\0')
		page_error(&o, "password", "err_password_required");
	if (confirm == NULL || *confirm == '\0')
		page_error(&o, "confirm", "err_confirm_required");
	else if (password != NULL && *password != '\0' &&
	    strcmp(password, confirm) != 0)
		page_error(&o, "confirm", "err_confirm_mismatch");
	if (o.errors > 0) {
		resp->outcome = "form_invalid";
		page_code_form(&o, p, lp, login_url, email, code, 0, 422);
		goto out;
	}
	in = (struct reset_code_confirm){
		.project = p,
		.login = email,
		.code = code,
		.new_password = password,
		.ctx = &o.ctx,
		.verdict = &verdict,
	};
	res = reset_confirm_code(r->app, &in, NULL);
	/* A refused password spends no try: the code stays in the form. */
	if (page_password_error(&o, res, &verdict)) {
		page_code_form(&o, p, lp, login_url, email, code, 0, 422);
		goto out;
	}
	if (code_error(res, &field, &key)) {
		resp->outcome = engine_result_name(res);
		page_error(&o, field, key);
		page_code_form(&o, p, lp, login_url, email, NULL, 0, 422);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	resp->outcome = "ok";
	if (login_url != NULL &&
	    page_origin(login_url, origin, sizeof(origin)) == 0) {
		page_redirect(&o, login_url);
		goto out;
	}
	page_render(&o, PAGE_RESET_DONE, 200);
out:
	page_end(&o);
	project_free(p);
	free(id);
	free(locale);
	free(login_url);
	free(sent_url);
	free(email);
	xfree_secret(code);
	xfree_secret(password);
	xfree_secret(confirm);
	free(csrf);
}

void
page_code(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	code_run(r, resp);
}

void
page_code_post(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	code_post_run(r, resp);
}
