/*
 * The reset page: where an emailed link lands, and where the new password
 * is chosen.
 *
 *	GET /reset?reset_code=S&user_id=U[&login_url=..][&locale=..]
 *	GET /reset?token=S				(WorkOS-style links)
 *		Looks the secret up (the engine changes nothing: mail
 *		scanners open links, with GET and HEAD, as often as they
 *		like), moves it into the __Host-resetd-reset cookie and
 *		answers 303 to the bare /reset, so the secret leaves the
 *		address bar, the history and any Referer.  An unknown secret
 *		gets the "not valid" page at once, and no cookie.
 *	GET /reset
 *		Reads the secret from the cookie and shows where the link
 *		stands: the new-password form while it is live, else used,
 *		expired or not valid, with a button to ask for a new one.
 *	POST /reset
 *		The form: the CSRF token bound to the cookie, the new password
 *		twice.  Only then is the secret spent, by the engine, which
 *		checks the password first and spends nothing when it refuses;
 *		the form then says which rule the password broke (too short,
 *		common, breached, the account's own details, too guessable).
 *		Success answers 303 to the request's login_url (checked again
 *		now against the project's callback URLs), or the done page.
 *		Each request, GET or post, first spends a token of the
 *		client's "confirm" limit (routes.c); past it, the "too many
 *		attempts" page (429).
 *
 * The cookie is SameSite=Strict.  A link opened from a webmail is a
 * navigation that started on another site, and browsers do not send a
 * Strict cookie along the redirect that follows it (Chromium holds back
 * Strict cookies for the whole redirect chain).  So when /reset arrives
 * without its cookie and Sec-Fetch-Site says cross-site, the page reloads
 * itself once (a meta refresh, no JavaScript); that reload starts on this
 * site, and the cookie comes with it.  Without the header, or on the
 * reload, a missing cookie is the "could not find your link" page.
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define CSRF_PURPOSE "reset"
#define COOKIE_MAX_AGE 1800	/* long enough to type a password */
#define COOKIE_MAX_AGE_DEAD 300 /* for a link that only says why */
#define ORIGIN_MAX 300

/*
 * The cookie's lifetime: until the link expires (a minute more, so that the
 * page can still say "expired"), at most COOKIE_MAX_AGE.
 */
static int64_t
cookie_max_age(struct engine *e, const struct reset_link_info *info)
{
	int64_t left;

	if (info->state != RESET_LINK_LIVE)
		return COOKIE_MAX_AGE_DEAD;
	/* The engine's clock: the one the expiry was written and is read by. */
	left = (info->expires_at - engine_now(e)) / 1000 + 60;
	if (left > COOKIE_MAX_AGE)
		left = COOKIE_MAX_AGE;
	return left < 60 ? 60 : left;
}

/* The page of a link that cannot be used, with a way to ask again. */
static void
state_page(struct page_out *o, const struct reset_link_info *info)
{
	char *href;

	href = page_url("/forgot", "project", info->project->id, "locale",
	    page_locale_param(info->locale), "login_url", info->login_url);
	page_set(o, "forgot_href", href);
	free(href);
	switch (info->state) {
	case RESET_LINK_USED:
		page_render(o, PAGE_LINK_USED, 410);
		break;
	case RESET_LINK_EXPIRED:
		page_render(o, PAGE_LINK_EXPIRED, 410);
		break;
	case RESET_LINK_DEAD:
	case RESET_LINK_CANCELLED:
		page_render(o, PAGE_LINK_INVALID, 410);
		break;
	case RESET_LINK_LIVE:
	default:
		abort();
	}
	o->resp->outcome = "link_not_live";
}

static void
reset_form(struct page_out *o, const struct reset_link_info *info,
    const char *cookie, const char *locale, int status)
{
	char csrf[ENGINE_MAC_LEN + 1], origin[ORIGIN_MAX];

	page_csrf_token(o, CSRF_PURPOSE, cookie, csrf);
	page_set(o, "csrf", csrf);
	page_set(o, "email", info->email);
	page_set(o, "locale_param", locale);
	/* The form's answer may redirect there: allow it as a form target. */
	if (info->login_url != NULL &&
	    page_origin(info->login_url, origin, sizeof(origin)) == 0)
		page_allow_form_origin(o, origin);
	page_render(o, PAGE_RESET, status);
}

/* GET /reset?reset_code=...: park the secret in the cookie, redirect. */
static void
reset_link(const struct http_request *r, struct http_response *resp,
    const char *token, const char *locale)
{
	struct page_out o;
	struct reset_link_info info;
	enum engine_result res;

	memset(&info, 0, sizeof(info));
	res = token != NULL ?
	    reset_link_lookup(r->app, token, http_query(r, "user_id"), &info) :
	    ENGINE_SECRET_INVALID;
	page_begin(&o, r, resp, info.project,
	    locale != NULL ? locale : info.locale);
	if (res == ENGINE_SECRET_INVALID) {
		resp->outcome = "secret_invalid";
		page_render(&o, PAGE_LINK_INVALID, 404);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	page_cookie_set(&o, PAGE_COOKIE_RESET, token,
	    cookie_max_age(r->app, &info));
	/*
	 * The bare path: nothing of the link stays in the address.  Its
	 * locale argument is the one the engine stored with the secret.
	 */
	page_redirect(&o, "/reset");
	resp->outcome = "link_parked";
out:
	page_end(&o);
	reset_link_info_clear(&info);
}

static void
reset_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct reset_link_info info;
	enum engine_result res;
	const char *locale = page_query(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	const char *sfs = http_header(r, "Sec-Fetch-Site");
	char cookie[PAGE_COOKIE_VALUE_MAX + 1];

	if (http_query(r, "reset_code") != NULL) {
		reset_link(r, resp,
		    page_query(r, "reset_code", PAGE_SECRET_MAX), locale);
		return;
	}
	if (http_query(r, "token") != NULL) {
		reset_link(r, resp, page_query(r, "token", PAGE_SECRET_MAX),
		    locale);
		return;
	}
	memset(&info, 0, sizeof(info));
	if (!page_cookie_get(http_header(r, "Cookie"), PAGE_COOKIE_RESET,
		cookie, sizeof(cookie))) {
		page_begin(&o, r, resp, NULL, locale);
		resp->outcome = "no_cookie";
		if (sfs != NULL && strcmp(sfs, "cross-site") == 0) {
			page_set(&o, "refresh", "1");
			page_render(&o, PAGE_RESET_CONTINUE, 200);
		} else
			page_render(&o, PAGE_LINK_MISSING, 400);
		goto out;
	}
	res = reset_link_lookup(r->app, cookie, NULL, &info);
	page_begin(&o, r, resp, info.project,
	    locale != NULL ? locale : info.locale);
	if (res == ENGINE_SECRET_INVALID) {
		resp->outcome = "secret_invalid";
		page_render(&o, PAGE_LINK_INVALID, 404);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	if (info.state != RESET_LINK_LIVE) {
		state_page(&o, &info);
		goto out;
	}
	reset_form(&o, &info, cookie, page_locale_param(locale), 200);
out:
	page_end(&o);
	reset_link_info_clear(&info);
}

static void
reset_post_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct reset_link_info info, again;
	struct reset_confirm in;
	struct password_verdict verdict;
	enum engine_result res;
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], origin[ORIGIN_MAX];
	char *locale = page_field(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	char *csrf = page_field(r, "csrf", PAGE_SECRET_MAX);
	char *password = page_password_field(r, "password");
	char *confirm = page_password_field(r, "confirm");
	const char *lp = page_locale_param(locale);

	memset(&info, 0, sizeof(info));
	memset(&verdict, 0, sizeof(verdict));
	memset(&again, 0, sizeof(again));
	if (!page_cookie_get(http_header(r, "Cookie"), PAGE_COOKIE_RESET,
		cookie, sizeof(cookie))) {
		page_begin(&o, r, resp, NULL, locale);
		resp->outcome = "no_cookie";
		page_render(&o, PAGE_LINK_MISSING, 400);
		goto out;
	}
	res = reset_link_lookup(r->app, cookie, NULL, &info);
	page_begin(&o, r, resp, info.project,
	    locale != NULL ? locale : info.locale);
	if (res == ENGINE_SECRET_INVALID) {
		resp->outcome = "secret_invalid";
		page_render(&o, PAGE_LINK_INVALID, 404);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	if (info.state != RESET_LINK_LIVE) {
		state_page(&o, &info);
		goto out;
	}
	if (r->body_too_large) {
		page_render(&o, PAGE_ERROR, 413);
		goto out;
	}
	/* A forged post, or one bound to another cookie: nothing is spent. */
	if (!page_csrf_ok(&o, CSRF_PURPOSE, cookie, csrf)) {
		resp->outcome = "csrf_refused";
		page_error(&o, "form", "err_form_expired");
		reset_form(&o, &info, cookie, lp, 403);
		goto out;
	}
	if (password == NULL || *password == '\0')
		page_error(&o, "password", "err_password_required");
	if (confirm == NULL || *confirm == '\0')
		page_error(&o, "confirm", "err_confirm_required");
	else if (password != NULL && *password != '\0' &&
	    strcmp(password, confirm) != 0)
		page_error(&o, "confirm", "err_confirm_mismatch");
	if (o.errors > 0) {
		resp->outcome = "form_invalid";
		reset_form(&o, &info, cookie, lp, 422);
		goto out;
	}
	in = (struct reset_confirm){
		.project = info.project,
		.token = cookie,
		.new_password = password,
		.ctx = &o.ctx,
		.verdict = &verdict,
	};
	res = reset_confirm(r->app, &in, NULL);
	/* Refused by the policy: nothing was spent, the form again. */
	if (page_password_error(&o, res, &verdict)) {
		reset_form(&o, &info, cookie, lp, 422);
		goto out;
	}
	if (res == ENGINE_SECRET_INVALID || res == ENGINE_SECRET_EXPIRED) {
		/* Spent or killed since the lookup: say which. */
		res = reset_link_lookup(r->app, cookie, NULL, &again);
		if (res == ENGINE_OK && again.state != RESET_LINK_LIVE)
			state_page(&o, &again);
		else if (res == ENGINE_OK || res == ENGINE_SECRET_INVALID)
			page_render(&o, PAGE_LINK_INVALID, 404);
		else
			page_fail(&o, res);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	resp->outcome = "ok";
	if (info.login_url != NULL &&
	    page_origin(info.login_url, origin, sizeof(origin)) == 0) {
		page_redirect(&o, info.login_url);
		goto out;
	}
	page_set(&o, "login_url", info.login_url);
	page_render(&o, PAGE_RESET_DONE, 200);
out:
	page_end(&o);
	reset_link_info_clear(&info);
	reset_link_info_clear(&again);
	free(locale);
	free(csrf);
	xfree_secret(password);
	xfree_secret(confirm);
}

void
page_reset(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	reset_run(r, resp);
}

void
page_reset_post(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	reset_post_run(r, resp);
}
