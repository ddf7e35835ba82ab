/*
 * The hosted pages: server-rendered HTML for people, with no JavaScript
 * and nothing from another site.  Forgot password, set a new password
 * from an emailed link, enter an emailed code, and cancel a reset ("this
 * wasn't me"), in eight languages, branded per project.
 *
 * The pages are an adapter like the dialects: each handler turns a form
 * into an engine call and the engine's result into a page.  Every rule
 * about accounts, secrets and passwords is the engine's; what lives here
 * is presentation and the browser's side of security: cookies, CSRF
 * tokens, headers, languages (docs/pages.md).
 *
 * Pages are an enum with a const table (render.c); the text of every page
 * comes from templates/pages/ (layout, one template per page, one text
 * file per language), built into the binary.
 */
#ifndef RESETD_PAGES_H
#define RESETD_PAGES_H

#include "../core/engine.h"
#include "../http/http.h"
#include "../api/face.h"

/* What is read of outside input, at most. */
#define PAGE_ACCEPT_LANGUAGE_MAX 1024 /* bytes of Accept-Language */
#define PAGE_ACCEPT_LANGUAGE_ITEMS 32 /* languages in it */
#define PAGE_LANGUAGE_TAG_MAX 35      /* bytes of one language tag */
#define PAGE_COOKIE_HEADER_MAX 8192   /* bytes of Cookie; longer: none */
#define PAGE_FORM_NAME_MAX 32	      /* bytes of a form field's name */

/* The cookies, both HttpOnly, Secure, SameSite=Strict, Path=/. */
#define PAGE_COOKIE_RESET "__Host-resetd-reset" /* a link's secret */
#define PAGE_COOKIE_FORM "__Host-resetd-form"	/* binds other forms */
#define PAGE_COOKIE_VALUE_MAX 64

/* Form fields and query arguments, at most. */
#define PAGE_EMAIL_MAX 320	     /* what the engine takes as a login */
#define PAGE_URL_MAX 2048	     /* a login_url */
#define PAGE_SECRET_MAX 64	     /* a link's secret, a MAC, an id */
#define PAGE_PASSWORD_READ_MAX 16384 /* longer is refused by the engine */
#define PAGE_CODE_READ_MAX 2048	     /* a typed code, as Cognito caps it */

enum page {
	PAGE_FORGOT,	     /* 0: ask for a reset */
	PAGE_FORGOT_SENT,    /* 1: "check your email" */
	PAGE_RESET,	     /* 2: choose a new password */
	PAGE_RESET_CONTINUE, /* 3: reload on this site, to get the cookie */
	PAGE_RESET_DONE,     /* 4: the password was changed */
	PAGE_LINK_USED,	     /* 5 */
	PAGE_LINK_EXPIRED,   /* 6 */
	PAGE_LINK_INVALID,   /* 7: unknown, replaced, cancelled */
	PAGE_LINK_MISSING,   /* 8: /reset without its cookie */
	PAGE_CODE,	     /* 9: enter a code and a new password */
	PAGE_CANCEL,	     /* 10: "cancel this reset?" */
	PAGE_CANCEL_DONE,    /* 11 */
	PAGE_CANCEL_NONE,    /* 12: nothing pending to cancel */
	PAGE_NOT_FOUND,	     /* 13: no such project or page */
	PAGE_ERROR,	     /* 14: the service failed */
	PAGE_THROTTLED,	     /* 15: too many attempts from this client */
	PAGE__MAX
};

enum page_locale {
	LOC_EN,	   /* 0 */
	LOC_DE,	   /* 1 */
	LOC_FR,	   /* 2 */
	LOC_ES,	   /* 3 */
	LOC_PT_BR, /* 4 */
	LOC_RU,	   /* 5 */
	LOC_JA,	   /* 6 */
	LOC_ZH_CN, /* 7 */
	LOC__MAX
};

struct page_locale_def {
	const char *tag;  /* as links and mail carry it: "pt_BR" */
	const char *html; /* as the lang attribute takes it */
	const char *text; /* the text file, below templates/ */
};

#define PAGE_VARS_MAX 48

struct page_var {
	const char *name; /* a static string */
	char *value;	  /* owned */
};

/* One page being answered. */
struct page_out {
	const struct http_request *req;
	struct http_response *resp;
	/* Who asked (http_context), for every engine call that takes it. */
	struct request_context ctx;
	enum page_locale locale;
	const struct project *project; /* NULL: none known */
	char *form_origin;	       /* more for form-action */
	struct page_var vars[PAGE_VARS_MAX];
	int nvars;
	int errors; /* fields in error */
};

/* parse.c */
/* The row of a locale (static). */
const struct page_locale_def *page_locale(enum page_locale);
/*
 * The locale a language tag names ("pt-BR", "zh_Hans_CN", "DE"), len bytes
 * of tag, not necessarily NUL-terminated; LOC__MAX when none is written.
 * Any Portuguese gets Brazilian; Chinese gets Simplified unless the tag
 * asks for Traditional (Hant, TW, HK, MO).
 */
enum page_locale page_locale_match(const char *tag, size_t len);
/*
 * The written locale an Accept-Language value prefers most: the highest
 * q (the first of equals), q=0 excluded, "*" ignored.  Only the first
 * PAGE_ACCEPT_LANGUAGE_MAX bytes are read, whole items only, and at most
 * PAGE_ACCEPT_LANGUAGE_ITEMS items; malformed items are skipped.
 * LOC__MAX when none matches.
 */
enum page_locale page_accept_language(const char *value);
/*
 * Copy the value of cookie name from a Cookie header into out (outlen
 * bytes) and return 1; 0 when it is absent, empty, too long for out, not
 * made of cookie-octets, or the header is longer than
 * PAGE_COOKIE_HEADER_MAX.
 */
int
page_cookie_get(const char *header, const char *name, char *out, size_t outlen);
/*
 * The decoded value of field name in an x-www-form-urlencoded body of len
 * bytes (not necessarily NUL-terminated), newly allocated (free with
 * xfree_secret when it may be a password); NULL when absent, longer than
 * max bytes, or badly escaped (a NUL included).  The first field of that
 * name wins.
 */
char *page_form_get(const char *body, size_t len, const char *name, size_t max);
/*
 * The origin (scheme://host[:port]) of an http(s) URL into out, when its
 * host is letters, digits, dots and hyphens or a bracketed IPv6 address,
 * so that it may stand in a Content-Security-Policy as it is; -1 when not,
 * or when it does not fit in outlen bytes.
 */
int page_origin(const char *url, char *out, size_t outlen);

/* text.c */
/*
 * The text of key in locale, from templates/pages/text/; English when the
 * locale lacks it, "" when English does too (a unit test keeps every key
 * in every file).
 */
const char *page_text(enum page_locale, const char *key);
/* 1 when every locale has every key English has; logs those missing. */
int page_text_complete(void);
/* Parse the words of every language; fatal on a broken build (pages_load). */
void page_text_load(void);

/* render.c */
/*
 * Start an answer: choose the locale from an explicit choice (a locale
 * parameter, or the one the reset was requested in), then Accept-Language,
 * then the project's default, then English.  explicit may be NULL or
 * anything; what names no written locale is ignored.  o->ctx receives the
 * request's context for the engine's limits and audit trail.
 */
void page_begin(struct page_out *, const struct http_request *,
    struct http_response *, const struct project *, const char *explicit);
/*
 * Start the answer of a page of the project named by id (NULL: none), as
 * page_begin does, with the project read into *p (the caller frees it).
 * Return -1, the answer made, when the project cannot serve the page: a
 * body over the limit (413), an unknown project (404) or a failure to read
 * it.  0 otherwise.
 */
int page_begin_project(struct page_out *, const struct http_request *,
    struct http_response *, const char *id, const char *explicit,
    struct project **p);
/*
 * The written locale an explicit choice names, as a locale parameter
 * carries it ("pt_BR"), for forms and links to pass on; NULL for none.
 */
const char *page_locale_param(const char *explicit);
/* Free what the answer holds; the response stays. */
void page_end(struct page_out *);
/* Set a variable (value copied; NULL: unset). */
void page_set(struct page_out *, const char *name, const char *value);
/*
 * Set a variable to the text of key in the answer's locale, its {{name}}s
 * filled with the variables set so far (page_begin sets the project's:
 * project_name, min_length, ...).
 */
void page_set_text(struct page_out *, const char *name, const char *key);
/*
 * Mark field ("email", "code", "password", "confirm", or "form" for the
 * whole form) in error with the text of key: err_FIELD is set, the first
 * field in error gets the focus, and the page says it has errors.
 */
void page_error(struct page_out *, const char *field, const char *key);
/* Let the page's forms post to origin's URLs (a redirect after them). */
void page_allow_form_origin(struct page_out *, const char *origin);
/* Render page with status into the response, with every header. */
void page_render(struct page_out *, enum page, int status);
/* Answer 303 to location (a path on this site, or an allowed URL). */
void page_redirect(struct page_out *, const char *location);
/* Add a cookie (see PAGE_COOKIE_*); max_age in seconds, 0 deletes. */
void page_cookie_set(struct page_out *, const char *name, const char *value,
    int64_t max_age);
/*
 * The form cookie of the request when it has a well-formed one, else a
 * new random one, set on the response; its value into out.
 */
void page_form_cookie(struct page_out *, char out[PAGE_COOKIE_VALUE_MAX + 1]);
/*
 * The CSRF token of a form: a MAC under the pages' key of purpose and the
 * cookie the form is bound to, into out.
 */
void page_csrf_token(const struct page_out *, const char *purpose,
    const char *cookie, char out[ENGINE_MAC_LEN + 1]);
/* 1 when token is the CSRF token of purpose and cookie. */
int page_csrf_ok(const struct page_out *, const char *purpose,
    const char *cookie, const char *token);
/*
 * A field of the request's form (x-www-form-urlencoded) that is clean
 * text (str_is_clean_utf8: UTF-8, no control character but tab), newly
 * allocated; NULL when it is not, when the body is of another type, or
 * see page_form_get.  Nothing else reaches the engine or the database.
 */
char *page_field(const struct http_request *, const char *name, size_t max);
/*
 * A new password from the form, newly allocated (free with xfree_secret):
 * as page_field but any text, since whether a password is acceptable text
 * is the engine's policy to say (and to word, rule valid_text); it is
 * only ever hashed.  NULL when absent or longer than
 * PAGE_PASSWORD_READ_MAX bytes.
 */
char *page_password_field(const struct http_request *, const char *name);
/*
 * A query argument of at most max bytes, or NULL; NULL for all of them
 * when the HTTP layer found one that is not clean text (query_invalid).
 */
const char *
page_query(const struct http_request *, const char *name, size_t max);
/*
 * The URL of a page with a query, URL-encoded, newly allocated: path and
 * up to three name/value pairs (a NULL value is left out).
 */
char *page_url(const char *path, const char *n1, const char *v1, const char *n2,
    const char *v2, const char *n3, const char *v3);
/*
 * When res is the engine refusing a new password (ENGINE_PASSWORD_*), put
 * the reason next to the password field and return 1: the rule the
 * verdict v names (may be NULL; then the result says what it can) in the
 * answer's language, with the resp's outcome set.  Otherwise return 0.
 * Which passwords are refused is the engine's business; this only words it.
 */
int page_password_error(struct page_out *, enum engine_result,
    const struct password_verdict *v);
/* Answer the page for an engine failure (ENGINE_UNAVAILABLE, ...). */
void page_fail(struct page_out *, enum engine_result);
/*
 * The first check of every page: when a header the pages read is not
 * clean text (http_header_malformed), answer the error page with 400 and
 * return 1, before any work; 0 otherwise.
 */
int page_refuse_malformed(const struct http_request *, struct http_response *);
/*
 * Answer the "too many attempts" page for a request its route's limit
 * refused (pages_face): begin o (with no project: none was looked up),
 * render the page with status 429, Retry-After: retry_after_s and every
 * page header, in the language explicit or Accept-Language names.  The
 * caller then only ends o.
 */
void page_throttled(struct page_out *o, const struct http_request *,
    struct http_response *, const char *explicit, int64_t retry_after_s);
/* routes.c */
/*
 * The hosted pages' face (http.h): its route table, every route with its
 * rate-limit class, the "too many attempts" page and the error page.
 */
extern const struct http_face pages_face;

/*
 * The handlers below are route handlers (http.h): each answers every
 * request with a page, a redirect or a stylesheet, never an error of the
 * HTTP layer, and logs nothing but its outcome (engine failures are logged
 * by the engine).
 */

/* assets.c */
/* GET /assets/resetd.css: the stylesheet; 304 for a matching ETag. */
void page_asset_css(const struct http_request *, struct http_response *);
/* GET /assets/project/ID.css: a project's accent colour; 404 without one. */
void
page_asset_project_css(const struct http_request *, struct http_response *);
/*
 * The path of the stylesheet with a version (a hash of its text), so
 * that it can be cached for long: "/assets/resetd.css?v=..." (static).
 */
const char *page_css_href(void);
/*
 * Parse the built-in page files (the stylesheet and every language's
 * words) now rather than on first use.  A missing or malformed one is a
 * broken build and fatal, so it must be called at startup, before
 * serving: no request may end the process.
 */
void pages_load(void);

/* forgot.c */
/* GET /forgot?project=ID: the form. */
void page_forgot(const struct http_request *, struct http_response *);
/* POST /forgot: request a reset; the same page whatever the address. */
void page_forgot_post(const struct http_request *, struct http_response *);

/* reset.c */
/*
 * GET /reset?reset_code=|token=: park the secret in its cookie and 303 to
 * /reset, spending nothing; GET /reset: the form, or why the link is done.
 */
void page_reset(const struct http_request *, struct http_response *);
/* POST /reset: spend the secret of the cookie on the new password. */
void page_reset_post(const struct http_request *, struct http_response *);

/* code.c */
/*
 * Render the code form of project p: the hidden fields given (NULL: none),
 * the email and code typed (echoed back), and with sent, the notice that
 * a code was sent if the address has an account.
 */
void page_code_form(struct page_out *, const struct project *p,
    const char *locale, const char *login_url, const char *email,
    const char *code, int sent, int status);
/* GET /reset/code?project=ID: the form. */
void page_code(const struct http_request *, struct http_response *);
/* POST /reset/code: spend a typed code on the new password. */
void page_code_post(const struct http_request *, struct http_response *);

/* cancel.c */
/* GET /reset/cancel?id=&sig=: what would be cancelled, and a button. */
void page_cancel(const struct http_request *, struct http_response *);
/* POST /reset/cancel: revoke the pending secret the link names. */
void page_cancel_post(const struct http_request *, struct http_response *);

#endif
