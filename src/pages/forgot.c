/*
 * The forgot-password page: GET /forgot?project=ID shows a form for an
 * email address; its POST asks the engine for a reset, through the same
 * equal-work path as every dialect, and always answers with the same page:
 * "check your email" (or, for a project that mails codes, the code form
 * with that notice).  Nothing on it, its headers or its timing depends on
 * whether the address has an account.
 *
 * Query and form arguments: project (required), locale (an explicit
 * language, passed on), login_url (kept only when it is one of the
 * project's callback URLs, and then carried by the emailed link).
 *
 * The form is bound to the form cookie with a CSRF token.  A post without
 * a valid one (an expired cookie, a forged post) gets the form again with
 * a fresh token, and no reset is requested.
 *
 * A post spends a token of the client's "request" limit first of all
 * (its route's class, spent before the handler runs: routes.c), before
 * the project is looked up; past the limit it gets the "too many
 * attempts" page (429), whatever the address, so that page says nothing
 * about accounts either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define CSRF_PURPOSE "forgot"

static void
forgot_form(struct page_out *o, const struct project *p, const char *locale,
    const char *login_url, const char *email, int status)
{
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], csrf[ENGINE_MAC_LEN + 1];
	char *href;

	page_form_cookie(o, cookie);
	page_csrf_token(o, CSRF_PURPOSE, cookie, csrf);
	page_set(o, "csrf", csrf);
	page_set(o, "locale_param", locale);
	page_set(o, "login_url", login_url);
	page_set(o, "email", email);
	if (engine_delivery(p, DELIVERY_CARRIES_BOTH) == DELIVER_CODE) {
		page_set(o, "code_delivery", "1");
		href = page_url("/reset/code", "project", p->id, "locale",
		    locale, "login_url", login_url);
		page_set(o, "code_href", href);
		free(href);
	}
	page_render(o, PAGE_FORGOT, status);
}

static void
forgot_run(const struct http_request *r, struct http_response *resp)
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
	forgot_form(&o, p, page_locale_param(locale), login_url, NULL, 200);
out:
	page_end(&o);
	project_free(p);
	free(login_url);
}

static void
forgot_post_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct project *p = NULL;
	struct reset_request in;
	struct reset_ticket t;
	char *id = page_field(r, "project", UUID_STRLEN);
	char *locale = page_field(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	char *sent_url = page_field(r, "login_url", PAGE_URL_MAX);
	char *login_url = NULL;
	char *email = page_field(r, "email", PAGE_PASSWORD_READ_MAX);
	char *csrf = page_field(r, "csrf", PAGE_SECRET_MAX);
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], minutes[24], *href;
	const char *lp;
	enum engine_result res;

	if (page_begin_project(&o, r, resp, id, locale, &p) == -1)
		goto out;
	lp = page_locale_param(locale);
	/* A URL that is not one of the project's is dropped, not refused. */
	(void)engine_callback_url(p, sent_url, 0, &login_url);
	if (!page_cookie_get(http_header(r, "Cookie"), PAGE_COOKIE_FORM, cookie,
		sizeof(cookie)) ||
	    !page_csrf_ok(&o, CSRF_PURPOSE, cookie, csrf)) {
		resp->outcome = "csrf_refused";
		page_error(&o, "form", "err_form_expired");
		forgot_form(&o, p, lp, login_url, email, 403);
		goto out;
	}
	if (email == NULL || *email == '\0')
		page_error(&o, "email", "err_email_required");
	else if (strlen(email) > PAGE_EMAIL_MAX)
		page_error(&o, "email", "err_email_long");
	if (o.errors > 0) {
		forgot_form(&o, p, lp, login_url, email, 422);
		goto out;
	}
	in = (struct reset_request){
		.project = p,
		.login = email,
		.login_url = login_url,
		/* The page's language, so that the email matches it. */
		.locale = page_locale(o.locale)->tag,
		.link_style = LINK_RESET_CODE,
		.delivery = engine_delivery(p, DELIVERY_CARRIES_BOTH),
		.ctx = &o.ctx,
		/* The time floor holds the answer, not this thread. */
		.answer_at_us = &resp->answer_at_us,
	};
	res = reset_request(r->app, &in, &t);
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	/* Whether an account was found is in t, and stays there. */
	reset_ticket_clear(&t);
	resp->outcome = "ok";
	snprintf(minutes, sizeof(minutes), "%lld",
	    (long long)((p->token_ttl + 59) / 60));
	page_set(&o, "minutes", minutes);
	if (in.delivery == DELIVER_CODE) {
		page_code_form(&o, p, lp, login_url, email, NULL, 1, 200);
		goto out;
	}
	page_set(&o, "email", email);
	href = page_url("/forgot", "project", p->id, "locale", lp, "login_url",
	    login_url);
	page_set(&o, "forgot_href", href);
	free(href);
	page_render(&o, PAGE_FORGOT_SENT, 200);
out:
	page_end(&o);
	project_free(p);
	free(id);
	free(locale);
	free(login_url);
	free(sent_url);
	free(email);
	free(csrf);
}

void
page_forgot(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	forgot_run(r, resp);
}

void
page_forgot_post(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	forgot_post_run(r, resp);
}
