/*
 * Rendering a page: the page table, the template language, the headers
 * every page carries, cookies and CSRF tokens.
 *
 * Templates (templates/pages/NAME.html) know five forms:
 *
 *	{{name}}		a variable, HTML-escaped
 *	{{t.key}}		the text of key in the page's language, its
 *				own {{name}}s filled, then HTML-escaped
 *	{{#name}}...{{/name}}	shown when the variable is set and not empty
 *	{{^name}}...{{/name}}	shown when it is not
 *	{{>name}}		the template name.html; {{>body}} is the page's
 *
 * There is no way to insert a value unescaped: all markup comes from the
 * template files, and every value, the texts included, is escaped for
 * both element content and quoted attributes.  Values go only into text
 * and quoted attributes; URLs put in attributes are made here (paths of
 * this site, or URLs the engine validated).
 *
 * Headers on every page: Content-Security-Policy (nothing but this site's
 * stylesheet and forms, plus the project's logo origin for images and an
 * allowed login_url origin for forms that redirect there), Referrer-Policy
 * no-referrer, Cache-Control no-store, X-Frame-Options DENY; the HTTP
 * layer adds X-Content-Type-Options nosniff.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../config.h"
#include "../log.h"
#include "../util/embedded.h"
#include "pages.h"

#define PAGE_RENDERED_MAX (256 * 1024)
#define PAGE_DEPTH_MAX 6
#define PAGE_NAME_MAX 40
#define ORIGIN_MAX 300
#define FORM_COOKIE_BYTES 32
#define FORM_COOKIE_MAX_AGE (2 * 3600)

static const struct page_def {
	const char *template; /* below templates/pages/ */
	const char *title;    /* text key */
	const char *body;     /* text key of the message, or NULL */
} page_defs[PAGE__MAX] = {
	/* PAGE_FORGOT */
	{ "forgot.html", "forgot_title", NULL },
	/* PAGE_FORGOT_SENT */
	{ "forgot_sent.html", "sent_title", NULL },
	/* PAGE_RESET */
	{ "reset.html", "reset_title", NULL },
	/* PAGE_RESET_CONTINUE */
	{ "continue.html", "continue_title", NULL },
	/* PAGE_RESET_DONE */
	{ "done.html", "done_title", NULL },
	/* PAGE_LINK_USED */
	{ "message.html", "used_title", "used_body" },
	/* PAGE_LINK_EXPIRED */
	{ "message.html", "expired_title", "expired_body" },
	/* PAGE_LINK_INVALID */
	{ "message.html", "invalid_title", "invalid_body" },
	/* PAGE_LINK_MISSING */
	{ "message.html", "missing_title", "missing_body" },
	/* PAGE_CODE */
	{ "code.html", "code_title", NULL },
	/* PAGE_CANCEL */
	{ "cancel.html", "cancel_title", NULL },
	/* PAGE_CANCEL_DONE */
	{ "message.html", "cancel_done_title", "cancel_done_body" },
	/* PAGE_CANCEL_NONE */
	{ "message.html", "cancel_none_title", "cancel_none_body" },
	/* PAGE_NOT_FOUND */
	{ "message.html", "notfound_title", "notfound_body" },
	/* PAGE_ERROR */
	{ "message.html", "error_title", "error_body" },
	/* PAGE_THROTTLED */
	{ "throttled.html", "throttled_title", NULL },
};

static int fill_text(struct buf *, const struct page_out *, const char *);

/* variables */

static struct page_var *
var_find(const struct page_out *o, const char *name, size_t n)
{
	int i;

	for (i = 0; i < o->nvars; i++)
		if (strlen(o->vars[i].name) == n &&
		    strncmp(o->vars[i].name, name, n) == 0)
			return (struct page_var *)&o->vars[i];
	return NULL;
}

static const char *
var_value(const struct page_out *o, const char *name, size_t n)
{
	const struct page_var *v = var_find(o, name, n);

	return v != NULL && v->value != NULL ? v->value : "";
}

void
page_set(struct page_out *o, const char *name, const char *value)
{
	struct page_var *v = var_find(o, name, strlen(name));

	if (v == NULL) {
		if (o->nvars >= PAGE_VARS_MAX)
			abort(); /* pages set a known, small number */
		v = &o->vars[o->nvars++];
		v->name = name;
		v->value = NULL;
	}
	xfree_secret(v->value);
	v->value = value != NULL ? xstrdup(value) : NULL;
}

void
page_set_text(struct page_out *o, const char *name, const char *key)
{
	struct buf b;

	buf_init(&b, PAGE_RENDERED_MAX);
	if (fill_text(&b, o, page_text(o->locale, key)) == -1)
		abort(); /* the texts are ours, and short */
	page_set(o, name, buf_cstr(&b));
	buf_free(&b);
}

void
page_error(struct page_out *o, const char *field, const char *key)
{
	static const struct {
		const char *field;
		const char *err;
		const char *focus;
	} fields[] = {
		{ "form", "err_form", NULL },
		{ "email", "err_email", "focus_email" },
		{ "code", "err_code", "focus_code" },
		{ "password", "err_password", "focus_password" },
		{ "confirm", "err_confirm", "focus_confirm" },
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].field, field) == 0)
			break;
	if (i == sizeof(fields) / sizeof(fields[0]))
		abort();
	page_set_text(o, fields[i].err, key);
	if (fields[i].focus != NULL && o->errors++ == 0)
		page_set(o, fields[i].focus, "1");
	page_set(o, "has_errors", "1");
}

/* escaping and expansion */

/* Fill a text's {{name}}s with variables, unescaped, into b. */
static int
fill_text(struct buf *b, const struct page_out *o, const char *text)
{
	const char *p = text, *open, *close;

	while ((open = strstr(p, "{{")) != NULL) {
		close = strstr(open + 2, "}}");
		if (close == NULL)
			break;
		if (buf_append(b, p, (size_t)(open - p)) == -1 ||
		    buf_puts(b,
			var_value(o, open + 2, (size_t)(close - open - 2))) ==
			-1)
			return -1;
		p = close + 2;
	}
	return buf_puts(b, p);
}

static int expand(struct buf *, const struct page_out *, enum page,
    const char *, size_t, int);

/* Render templates/pages/NAME (a path below pages/) into b. */
static int
include(struct buf *b, const struct page_out *o, enum page page,
    const char *name, int depth)
{
	const struct embedded_file *f;
	char path[PAGE_NAME_MAX + 16];
	size_t n;

	snprintf(path, sizeof(path), "pages/%s", name);
	f = embedded_find(path);
	if (f == NULL) {
		log_error("pages: template %s is not built in", path);
		abort(); /* the templates ship with the binary */
	}
	/* A file's last newline belongs to the file, not to the page. */
	n = f->len;
	if (n > 0 && f->data[n - 1] == '\n')
		n--;
	return expand(b, o, page, f->data, n, depth + 1);
}

/*
 * Expand a template of len bytes into b.  A malformed tag (an unclosed
 * section, a name too long) is a bug in the templates: abort, which the
 * tests that render every page in every language catch.
 */
static int
expand(struct buf *b, const struct page_out *o, enum page page,
    const char *text, size_t len, int depth)
{
	const char *p = text, *end = text + len, *open, *close, *name;
	const char *inner, *inner_end;
	char tag[PAGE_NAME_MAX + 6], file[PAGE_NAME_MAX + 6];
	struct buf tb;
	size_t n;
	int rc, show;

	if (depth > PAGE_DEPTH_MAX)
		abort();
	while (p < end) {
		open = memmem(p, (size_t)(end - p), "{{", 2);
		if (open == NULL)
			return buf_append(b, p, (size_t)(end - p));
		if (buf_append(b, p, (size_t)(open - p)) == -1)
			return -1;
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL || close - open - 2 > PAGE_NAME_MAX)
			abort();
		name = open + 2;
		n = (size_t)(close - name);
		p = close + 2;
		switch (*name) {
		case '#':
		case '^':
			snprintf(tag, sizeof(tag), "{{/%.*s}}", (int)n - 1,
			    name + 1);
			inner = p;
			inner_end = memmem(p, (size_t)(end - p), tag,
			    strlen(tag));
			if (inner_end == NULL)
				abort();
			p = inner_end + strlen(tag);
			show = *var_value(o, name + 1, n - 1) != '\0';
			if (*name == '^')
				show = !show;
			if (show &&
			    expand(b, o, page, inner,
				(size_t)(inner_end - inner), depth + 1) == -1)
				return -1;
			break;
		case '>':
			if (n == 5 && strncmp(name, ">body", 5) == 0)
				snprintf(file, sizeof(file), "%s",
				    page_defs[page].template);
			else
				snprintf(file, sizeof(file), "%.*s.html",
				    (int)n - 1, name + 1);
			if (include(b, o, page, file, depth) == -1)
				return -1;
			break;
		default:
			if (n > 2 && strncmp(name, "t.", 2) == 0) {
				snprintf(tag, sizeof(tag), "%.*s", (int)n - 2,
				    name + 2);
				buf_init(&tb, PAGE_RENDERED_MAX);
				rc = fill_text(&tb, o,
				    page_text(o->locale, tag));
				if (rc == 0)
					rc = str_html_escape(b, buf_cstr(&tb),
					    tb.len);
				buf_free(&tb);
			} else {
				const char *v = var_value(o, name, n);

				rc = str_html_escape(b, v, strlen(v));
			}
			if (rc == -1)
				return -1;
		}
	}
	return 0;
}

/* answers */

/*
 * The variables of the answer's project, set when it begins so that texts
 * set before rendering (errors) may name them too.
 */
static void
project_vars(struct page_out *o)
{
	const struct project *p = o->project;
	char n[24], *css = NULL;

	snprintf(n, sizeof(n), "%lld",
	    (long long)(p != NULL && p->password_min_length > 0 ?
		    p->password_min_length :
		    PASSWORD_MIN_CHARS));
	page_set(o, "min_length", n);
	if (p == NULL)
		return;
	page_set(o, "project_name", p->name);
	page_set(o, "project_id", p->id);
	page_set(o, "logo_url", p->logo_url);
	if (p->accent_color != NULL)
		css = xasprintf("/assets/project/%s.css", p->id);
	page_set(o, "project_css", css);
	free(css);
}

void
page_begin(struct page_out *o, const struct http_request *r,
    struct http_response *resp, const struct project *p, const char *explicit)
{
	enum page_locale l = LOC__MAX;

	memset(o, 0, sizeof(*o));
	o->req = r;
	o->resp = resp;
	o->project = p;
	face_context(r, &o->ctx);
	if (explicit != NULL)
		l = page_locale_match(explicit,
		    strnlen(explicit, PAGE_LANGUAGE_TAG_MAX + 1));
	if (l == LOC__MAX)
		l = page_accept_language(http_header(r, "Accept-Language"));
	/* Then the project's default language, then English. */
	if (l == LOC__MAX && p != NULL && p->locale != NULL)
		l = page_locale_match(p->locale, strlen(p->locale));
	if (l == LOC__MAX)
		l = LOC_EN;
	o->locale = l;
	project_vars(o);
}

const char *
page_locale_param(const char *explicit)
{
	enum page_locale l;

	if (explicit == NULL)
		return NULL;
	l = page_locale_match(explicit,
	    strnlen(explicit, PAGE_LANGUAGE_TAG_MAX + 1));
	return l == LOC__MAX ? NULL : page_locale(l)->tag;
}

void
page_end(struct page_out *o)
{
	int i;

	for (i = 0; i < o->nvars; i++)
		xfree_secret(o->vars[i].value);
	free(o->form_origin);
	memset(o, 0, sizeof(*o));
}

void
page_allow_form_origin(struct page_out *o, const char *origin)
{
	free(o->form_origin);
	o->form_origin = xstrdup(origin);
}

/* The headers every page and redirect carries. */
static void
security_headers(struct page_out *o)
{
	char logo[ORIGIN_MAX], *csp;
	const char *img = "";

	if (o->project != NULL && o->project->logo_url != NULL &&
	    page_origin(o->project->logo_url, logo, sizeof(logo)) == 0)
		img = logo;
	csp = xasprintf("default-src 'none'; style-src 'self'; "
			"img-src 'self'%s%s; form-action 'self'%s%s; "
			"frame-ancestors 'none'; base-uri 'none'",
	    *img ? " " : "", img, o->form_origin ? " " : "",
	    o->form_origin ? o->form_origin : "");
	http_set_header(o->resp, "Content-Security-Policy", csp);
	free(csp);
	http_set_header(o->resp, "Referrer-Policy", "no-referrer");
	http_set_header(o->resp, "Cache-Control", "no-store");
	http_set_header(o->resp, "X-Frame-Options", "DENY");
}

void
page_render(struct page_out *o, enum page page, int status)
{
	const struct page_def *d;
	struct buf b;

	if (page < 0 || page >= PAGE__MAX)
		abort();
	d = &page_defs[page];
	page_set(o, "lang", page_locale(o->locale)->html);
	page_set_text(o, "title", d->title);
	if (d->body != NULL)
		page_set_text(o, "body", d->body);
	page_set(o, "css_href", page_css_href());
	buf_init(&b, PAGE_RENDERED_MAX);
	if (include(&b, o, page, "layout.html", 0) == -1) {
		log_error("pages: a page is longer than %d bytes",
		    PAGE_RENDERED_MAX);
		abort(); /* pages are small; texts are ours */
	}
	security_headers(o);
	http_set_header(o->resp, "Content-Language",
	    page_locale(o->locale)->html);
	http_set_body(o->resp, status, "text/html; charset=utf-8",
	    b.data ? b.data : "", b.len);
	buf_free(&b);
	if (o->resp->outcome == NULL)
		o->resp->outcome = "page";
}

void
page_redirect(struct page_out *o, const char *location)
{
	security_headers(o);
	http_set_header(o->resp, "Location", location);
	http_set_body(o->resp, 303, NULL, "", 0);
}

void
page_fail(struct page_out *o, enum engine_result res)
{
	o->resp->outcome = engine_result_name(res);
	page_render(o, PAGE_ERROR, res == ENGINE_UNAVAILABLE ? 503 : 500);
}

/* Every header the pages read: one that is not clean text is a 400. */
static const char *const page_headers[] = {
	"Cookie",
	"Accept-Language",
	"Sec-Fetch-Site",
	"Content-Type",
	"User-Agent",
	NULL,
};

int
page_refuse_malformed(const struct http_request *r, struct http_response *resp)
{
	struct page_out o;

	if (http_header_malformed(r, page_headers) == NULL)
		return 0;
	page_begin(&o, r, resp, NULL, NULL);
	resp->outcome = "header_malformed";
	page_render(&o, PAGE_ERROR, 400);
	page_end(&o);
	return 1;
}

int
page_begin_project(struct page_out *o, const struct http_request *r,
    struct http_response *resp, const char *id, const char *explicit,
    struct project **p)
{
	enum engine_result res;

	res = id != NULL ? engine_project(r->app, id, p) :
			   ENGINE_PROJECT_UNKNOWN;
	page_begin(o, r, resp, *p, explicit);
	if (r->body_too_large)
		page_render(o, PAGE_ERROR, 413);
	else if (res == ENGINE_PROJECT_UNKNOWN)
		page_render(o, PAGE_NOT_FOUND, 404);
	else if (res != ENGINE_OK)
		page_fail(o, res);
	else
		return 0;
	return -1;
}

/*
 * What a refused password is told, by the rule of the engine's verdict:
 * the words are the pages', the rule is the engine's.
 */
static const char *const password_errors[PW__MAX] = {
	NULL,			  /* PW_OK */
	"err_password_short",	  /* PW_MIN_LENGTH */
	"err_password_long",	  /* PW_MAX_LENGTH */
	"err_password_text",	  /* PW_VALID_TEXT */
	"err_password_common",	  /* PW_COMMON */
	"err_password_breached",  /* PW_BREACHED */
	"err_password_context",	  /* PW_CONTEXT */
	"err_password_strength",  /* PW_STRENGTH */
	"err_password_uppercase", /* PW_UPPERCASE */
	"err_password_lowercase", /* PW_LOWERCASE */
	"err_password_numbers",	  /* PW_NUMBERS */
	"err_password_symbols",	  /* PW_SYMBOLS */
};

int
page_password_error(struct page_out *o, enum engine_result res,
    const struct password_verdict *v)
{
	enum password_rule rule;
	char n[24];

	switch (res) {
	case ENGINE_PASSWORD_TOO_SHORT:
		rule = PW_MIN_LENGTH;
		break;
	case ENGINE_PASSWORD_TOO_LONG:
		rule = PW_MAX_LENGTH;
		break;
	case ENGINE_PASSWORD_INVALID_TEXT:
		rule = PW_VALID_TEXT;
		break;
	case ENGINE_PASSWORD_WEAK:
	case ENGINE_STORAGE_REFUSED: /* the project's app said no */
		rule = PW_STRENGTH;
		break;
	default:
		return 0;
	}
	/* The verdict is more precise, when the engine gave one. */
	if (v != NULL && v->rule > PW_OK && v->rule < PW__MAX)
		rule = v->rule;
	if (rule == PW_MIN_LENGTH && v != NULL && v->min_length > 0) {
		snprintf(n, sizeof(n), "%lld", (long long)v->min_length);
		page_set(o, "min_length", n);
	}
	snprintf(n, sizeof(n), "%lld",
	    (long long)(v != NULL && v->max_length > 0 ? v->max_length :
							 PASSWORD_MAX_CHARS));
	page_set(o, "max_length", n);
	o->resp->outcome = engine_result_name(res);
	page_error(o, "password", password_errors[rule]);
	return 1;
}

void
page_throttled(struct page_out *o, const struct http_request *r,
    struct http_response *resp, const char *explicit, int64_t retry_after_s)
{
	int64_t minutes;
	char num[24];

	http_set_retry_after(resp, retry_after_s);
	page_begin(o, r, resp, NULL, explicit);
	/*
	 * Whole minutes, rounded up.  A wait of a minute or less has a text
	 * of its own, so that no language needs the singular of "minutes".
	 */
	minutes = (retry_after_s + 59) / 60;
	if (minutes > 1) {
		snprintf(num, sizeof(num), "%lld", (long long)minutes);
		page_set(o, "minutes", num);
	}
	resp->outcome = "throttled";
	page_render(o, PAGE_THROTTLED, 429);
}

/* cookies and CSRF */

void
page_cookie_set(struct page_out *o, const char *name, const char *value,
    int64_t max_age)
{
	char *c;

	/*
	 * __Host- names need Secure, Path=/ and no Domain.  Browsers keep
	 * Secure cookies from http://localhost and 127.0.0.1 too, so this
	 * holds in development; elsewhere PUBLIC_URL must be https.
	 */
	c = xasprintf("%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; "
		      "SameSite=Strict",
	    name, value, (long long)max_age);
	http_set_header(o->resp, "Set-Cookie", c);
	xfree_secret(c);
}

void
page_form_cookie(struct page_out *o, char out[PAGE_COOKIE_VALUE_MAX + 1])
{
	uint8_t raw[FORM_COOKIE_BYTES];
	char v[PAGE_COOKIE_VALUE_MAX + 1];

	if (page_cookie_get(http_header(o->req, "Cookie"), PAGE_COOKIE_FORM, v,
		sizeof(v)) &&
	    strlen(v) == B64URL_LEN(FORM_COOKIE_BYTES)) {
		memcpy(out, v, sizeof(v));
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	base64url_encode(raw, sizeof(raw), out);
	page_cookie_set(o, PAGE_COOKIE_FORM, out, FORM_COOKIE_MAX_AGE);
}

void
page_csrf_token(const struct page_out *o, const char *purpose,
    const char *cookie, char out[ENGINE_MAC_LEN + 1])
{
	engine_page_mac(o->req->app, purpose, cookie, out);
}

int
page_csrf_ok(const struct page_out *o, const char *purpose, const char *cookie,
    const char *token)
{
	char want[ENGINE_MAC_LEN + 1];
	int ok;

	if (cookie == NULL || *cookie == '\0' || token == NULL)
		return 0;
	page_csrf_token(o, purpose, cookie, want);
	ok = engine_mac_equal(want, token);
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* request input */

/* A field of the request's form, as it was sent. */
static char *
form_field(const struct http_request *r, const char *name, size_t max)
{
	char type[64];

	http_content_type(r, type, sizeof(type));
	if (strcmp(type, "application/x-www-form-urlencoded") != 0 ||
	    r->body == NULL || r->body_too_large)
		return NULL;
	return page_form_get(r->body, r->body_len, name, max);
}

char *
page_field(const struct http_request *r, const char *name, size_t max)
{
	char *v = form_field(r, name, max);

	/*
	 * Browsers send UTF-8 from these pages; anything else was made by
	 * hand, and PostgreSQL would refuse it with an error.
	 */
	if (v != NULL && !str_is_clean_utf8(v, strlen(v))) {
		xfree_secret(v);
		return NULL;
	}
	return v;
}

char *
page_password_field(const struct http_request *r, const char *name)
{
	return form_field(r, name, PAGE_PASSWORD_READ_MAX);
}

const char *
page_query(const struct http_request *r, const char *name, size_t max)
{
	const char *v = http_query(r, name);

	if (r->query_invalid || v == NULL || *v == '\0' ||
	    strnlen(v, max + 1) > max)
		return NULL;
	return v;
}

char *
page_url(const char *path, const char *n1, const char *v1, const char *n2,
    const char *v2, const char *n3, const char *v3)
{
	const char *names[] = { n1, n2, n3 }, *values[] = { v1, v2, v3 };
	struct buf b;
	int i, rc, first = 1;

	buf_init(&b, 16384);
	rc = buf_puts(&b, path);
	for (i = 0; i < 3; i++) {
		if (names[i] == NULL || values[i] == NULL)
			continue;
		rc |= buf_printf(&b, "%c%s=", first ? '?' : '&', names[i]);
		rc |= str_url_encode(&b, values[i]);
		first = 0;
	}
	if (rc != 0)
		abort(); /* every value was capped on the way in */
	return buf_take(&b);
}
