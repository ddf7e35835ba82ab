/*
 * "This wasn't me": the page behind the cancel link of every reset email
 * (core/cancel.c makes the link).
 *
 *	GET /reset/cancel?id=ID&sig=MAC
 *		Shows what the link would cancel and a button; changes
 *		nothing, so a mail scanner that fetches the link cancels
 *		nothing.
 *	POST /reset/cancel
 *		The button: the CSRF token bound to the form cookie, and id
 *		and sig again.  Revokes the pending secret, so the emailed
 *		link or code stops working; the password is not touched.
 *
 * A link resetd did not make gets the "not valid" page; a reset that was
 * used, cancelled or has expired gets "nothing to cancel".
 *
 * Both spend a token of the client's "confirm" limit first (their routes'
 * class, spent before the handler runs: routes.c): like a confirm, they
 * look up or act on a secret named by what the client sends (here a
 * MAC), so guessing at it is limited the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define CSRF_PURPOSE "cancel"

static void
cancel_form(struct page_out *o, const char *id, const char *sig,
    const char *locale, int status)
{
	char cookie[PAGE_COOKIE_VALUE_MAX + 1], csrf[ENGINE_MAC_LEN + 1];

	page_form_cookie(o, cookie);
	page_csrf_token(o, CSRF_PURPOSE, cookie, csrf);
	page_set(o, "csrf", csrf);
	page_set(o, "cancel_id", id);
	page_set(o, "cancel_sig", sig);
	page_set(o, "locale_param", locale);
	page_render(o, PAGE_CANCEL, status);
}

/* The page for a reset that is not pending, or was just cancelled. */
static void
cancel_result(struct page_out *o, const struct reset_link_info *info)
{
	if (info->state == RESET_LINK_CANCELLED) {
		o->resp->outcome = "ok";
		page_render(o, PAGE_CANCEL_DONE, 200);
		return;
	}
	o->resp->outcome = "not_pending";
	page_render(o, PAGE_CANCEL_NONE, 410);
}

static void
cancel_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct reset_link_info info;
	const char *id = page_query(r, "id", UUID_STRLEN);
	const char *sig = page_query(r, "sig", PAGE_SECRET_MAX);
	const char *locale = page_query(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	enum engine_result res;

	memset(&info, 0, sizeof(info));
	res = reset_cancel_lookup(r->app, id, sig, &info);
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
		cancel_result(&o, &info);
		goto out;
	}
	cancel_form(&o, id, sig, page_locale_param(locale), 200);
out:
	page_end(&o);
	reset_link_info_clear(&info);
}

static void
cancel_post_run(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;
	struct reset_link_info info, done;
	char *id = page_field(r, "id", UUID_STRLEN);
	char *sig = page_field(r, "sig", PAGE_SECRET_MAX);
	char *locale = page_field(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	char *csrf = page_field(r, "csrf", PAGE_SECRET_MAX);
	char cookie[PAGE_COOKIE_VALUE_MAX + 1];
	enum engine_result res;

	memset(&info, 0, sizeof(info));
	memset(&done, 0, sizeof(done));
	/* The link first: it names the project, and so the page. */
	res = reset_cancel_lookup(r->app, id, sig, &info);
	page_begin(&o, r, resp, info.project,
	    locale != NULL ? locale : info.locale);
	if (r->body_too_large) {
		page_render(&o, PAGE_ERROR, 413);
		goto out;
	}
	if (res == ENGINE_SECRET_INVALID) {
		resp->outcome = "secret_invalid";
		page_render(&o, PAGE_LINK_INVALID, 404);
		goto out;
	}
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	if (!page_cookie_get(http_header(r, "Cookie"), PAGE_COOKIE_FORM, cookie,
		sizeof(cookie)) ||
	    !page_csrf_ok(&o, CSRF_PURPOSE, cookie, csrf)) {
		resp->outcome = "csrf_refused";
		page_error(&o, "form", "err_form_expired");
		cancel_form(&o, id, sig, page_locale_param(locale), 403);
		goto out;
	}
	res = reset_cancel(r->app, id, sig, &done);
	if (res != ENGINE_OK) {
		page_fail(&o, res);
		goto out;
	}
	cancel_result(&o, &done);
out:
	page_end(&o);
	reset_link_info_clear(&info);
	reset_link_info_clear(&done);
	free(id);
	free(sig);
	free(locale);
	free(csrf);
}

void
page_cancel(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	cancel_run(r, resp);
}

void
page_cancel_post(const struct http_request *r, struct http_response *resp)
{
	if (page_refuse_malformed(r, resp))
		return;
	cancel_post_run(r, resp);
}
