/*
 * The hosted pages' face: its route table, and its answers to a refused
 * request and to an engine failure, both whole pages in the request's
 * language with every page header.
 *
 * Every page that acts on or looks up a secret spends a token before its
 * handler runs: a post that asks for a reset its "request" class, the
 * posts that confirm or cancel and the pages that look a link up (GET
 * /reset, GET /reset/cancel) the "confirm" class, since each answers
 * whether what the client sent names a live secret.  The empty forms and
 * the stylesheets spend nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"

/*
 * The language a refused or failed request asked for: its locale form
 * field for a post, its locale query argument otherwise.  Newly
 * allocated, or NULL.
 */
static char *
explicit_locale(const struct http_request *r)
{
	const char *q;

	if (strcmp(r->method, "POST") == 0)
		return page_field(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	q = page_query(r, "locale", PAGE_LANGUAGE_TAG_MAX);
	return q != NULL ? xstrdup(q) : NULL;
}

static void
pages_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	struct page_out o;
	char *locale = explicit_locale(r);

	page_throttled(&o, r, resp, locale, retry_after_s);
	page_end(&o);
	free(locale);
}

static void
pages_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	struct page_out o;
	char *locale = explicit_locale(r);

	page_begin(&o, r, resp, NULL, locale);
	page_fail(&o, (enum engine_result)result);
	page_end(&o);
	free(locale);
}

#define PAGES(method, path, fn, limit) \
	{ \
		method, path, NULL, NULL, fn, RUN_WORKER, limit \
	}

static const struct route pages_routes[] = {
	PAGES("GET", "/forgot", page_forgot, HTTP_UNLIMITED),
	PAGES("POST", "/forgot", page_forgot_post, HTTP_LIMIT(RL_REQUEST)),
	PAGES("GET", "/reset", page_reset, HTTP_LIMIT(RL_CONFIRM)),
	PAGES("POST", "/reset", page_reset_post, HTTP_LIMIT(RL_CONFIRM)),
	PAGES("GET", "/reset/code", page_code, HTTP_UNLIMITED),
	PAGES("POST", "/reset/code", page_code_post, HTTP_LIMIT(RL_CONFIRM)),
	PAGES("GET", "/reset/cancel", page_cancel, HTTP_LIMIT(RL_CONFIRM)),
	PAGES("POST", "/reset/cancel", page_cancel_post,
	    HTTP_LIMIT(RL_CONFIRM)),
	{ "GET", "/assets/resetd.css", NULL, NULL, page_asset_css, RUN_INLINE,
	    HTTP_UNLIMITED },
	PAGES("GET", "/assets/project/{}", page_asset_project_css,
	    HTTP_UNLIMITED),
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face pages_face = {
	.name = "pages",
	.routes = pages_routes,
	.throttled = pages_throttled,
	.failed = pages_failed,
};
