/*
 * Unit tests of the hosted pages' parsers (pages/parse.c: Accept-Language,
 * language tags, the Cookie header, form bodies, origins), their words
 * (every language has every key) and their rendering (every page in every
 * language, values escaped, no template tag left; a refused password
 * worded by its rule; the 429 page).
 *
 * The parsers take outside bytes, so besides the cases, each is fed
 * random and mutated input under the sanitizers, with its contract
 * checked on every result.  The drivers here are shaped like libFuzzer's
 * (bytes in, nothing kept), so a fuzz/ driver can reuse them.
 */
#include "unit.h"

#include <sodium.h>

#include "pages/pages.h"

#define FUZZ_ROUNDS 20000
#define FUZZ_LEN_MAX 1400

/* Accept-Language */

static void
test_accept_language(void **state)
{
	static const struct {
		const char *header;
		enum page_locale want;
	} cases[] = {
		{ "ja", LOC_JA },
		{ "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", LOC_JA },
		{ "en-US,en;q=0.9", LOC_EN },
		{ "de-CH", LOC_DE },
		{ "fr-CA, fr;q=0.9", LOC_FR },
		{ "es-419,es;q=0.9", LOC_ES },
		{ "pt-PT", LOC_PT_BR },
		{ "pt-BR", LOC_PT_BR },
		{ "ru-RU,ru;q=0.9", LOC_RU },
		{ "zh-CN,zh;q=0.9", LOC_ZH_CN },
		{ "zh-Hans-CN", LOC_ZH_CN },
		{ "zh", LOC_ZH_CN },
		/* Traditional is not written: the next choice wins. */
		{ "zh-TW,zh;q=0.9,en;q=0.8", LOC_ZH_CN },
		{ "zh-TW,en;q=0.8", LOC_EN },
		{ "zh-Hant-HK, ja;q=0.5", LOC_JA },
		/* Weights, not order. */
		{ "en;q=0.5, de;q=0.8", LOC_DE },
		{ "en;q=0.8, de;q=0.8", LOC_EN },
		{ "de;q=1.0, fr", LOC_DE },
		{ "de;q=1.000,fr;q=0.999", LOC_DE },
		{ "de ; q = 0.3 , fr ; q=0.4", LOC_FR },
		{ "DE-de", LOC_DE },
		/* Unwritten languages are passed over. */
		{ "it-IT,it;q=0.9,fr;q=0.3", LOC_FR },
		{ "nl,sv", LOC__MAX },
		/* q=0 means "not this one". */
		{ "de;q=0", LOC__MAX },
		{ "de;q=0.000, en;q=0.001", LOC_EN },
		/* "*" leaves it to the default. */
		{ "*", LOC__MAX },
		{ "*;q=1, fr;q=0.1", LOC_FR },
		/* Malformed items are skipped, not guessed at. */
		{ "de;q=2", LOC__MAX },
		{ "de;q=1.5, ja;q=0.1", LOC_JA },
		{ "de;q=0.1234", LOC__MAX },
		{ "de;q=", LOC__MAX },
		{ "de;q=abc, ru", LOC_RU },
		{ "d e, fr", LOC_FR },
		{ "toolongsubtag-x, es", LOC_ES },
		{ "en--US, ja", LOC_JA },
		{ "-en, ja", LOC_JA },
		{ ",,,ja,,", LOC_JA },
		{ "", LOC__MAX },
		{ ";q=1", LOC__MAX },
		{ "de;level=1;q=0.5, fr;q=0.4", LOC_DE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum page_locale got = page_accept_language(cases[i].header);

		if (got != cases[i].want)
			fail_msg("Accept-Language \"%s\": got %d, want %d",
			    cases[i].header, got, cases[i].want);
	}
	assert_int_equal(page_accept_language(NULL), LOC__MAX);
}

/* Only the first PAGE_ACCEPT_LANGUAGE_MAX bytes count, whole items only. */
static void
test_accept_language_caps(void **state)
{
	char big[PAGE_ACCEPT_LANGUAGE_MAX * 2];
	size_t n;
	int i;

	(void)state;
	/* Padding items, then "ja" past the cap: not read. */
	n = 0;
	while (n < PAGE_ACCEPT_LANGUAGE_MAX + 10)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "xx;q=0.1,");
	snprintf(big + n, sizeof(big) - n, "ja");
	assert_int_equal(page_accept_language(big), LOC__MAX);

	/* An item cut by the cap is dropped: "zh-Hant" cut to "zh" is not. */
	memset(big, 0, sizeof(big));
	n = 0;
	while (n < PAGE_ACCEPT_LANGUAGE_MAX - 20)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "xx,");
	while (n < PAGE_ACCEPT_LANGUAGE_MAX - 2)
		big[n++] = ' ';
	snprintf(big + n, sizeof(big) - n, "zh-Hant-TW");
	assert_int_equal(page_accept_language(big), LOC__MAX);

	/* At most PAGE_ACCEPT_LANGUAGE_ITEMS items. */
	n = 0;
	for (i = 0; i < PAGE_ACCEPT_LANGUAGE_ITEMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x%d,", i % 10);
	snprintf(big + n, sizeof(big) - n, "fr");
	assert_int_equal(page_accept_language(big), LOC__MAX);
	n = 0;
	for (i = 0; i < PAGE_ACCEPT_LANGUAGE_ITEMS - 1; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x%d,", i % 10);
	snprintf(big + n, sizeof(big) - n, "fr");
	assert_int_equal(page_accept_language(big), LOC_FR);
}

static void
test_locale_match(void **state)
{
	static const struct {
		const char *tag;
		enum page_locale want;
	} cases[] = {
		{ "en", LOC_EN },
		{ "EN", LOC_EN },
		{ "en_GB", LOC_EN },
		{ "pt_BR", LOC_PT_BR },
		{ "pt", LOC_PT_BR },
		{ "zh_CN", LOC_ZH_CN },
		{ "zh-hans", LOC_ZH_CN },
		{ "zh_TW", LOC__MAX },
		{ "zh-hant", LOC__MAX },
		{ "ja", LOC_JA },
		{ "ru", LOC_RU },
		{ "es_MX", LOC_ES },
		{ "de", LOC_DE },
		{ "fr", LOC_FR },
		{ "e", LOC__MAX },
		{ "eng", LOC__MAX },
		{ "", LOC__MAX },
		{ "en_", LOC__MAX },
		{ "_en", LOC__MAX },
		{ "en us", LOC__MAX },
		{ "ja;", LOC__MAX },
		{ "ja\"", LOC__MAX },
		{ "en-aaaaaaaaa", LOC__MAX },
		{ "en-a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q", LOC__MAX },
	};
	const struct page_locale_def *d;
	size_t i;
	int l;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (page_locale_match(cases[i].tag, strlen(cases[i].tag)) !=
		    cases[i].want)
			fail_msg("tag \"%s\"", cases[i].tag);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(page_locale_match("jaXX", 2), LOC_JA);
	assert_int_equal(page_locale_match("zh-Hant", 2), LOC_ZH_CN);
	/* Every locale's own tags name it. */
	for (l = 0; l < LOC__MAX; l++) {
		d = page_locale(l);
		assert_int_equal(page_locale_match(d->tag, strlen(d->tag)), l);
		assert_int_equal(page_locale_match(d->html, strlen(d->html)),
		    l);
	}
}

/* Cookies */

static void
test_cookie_get(void **state)
{
	char out[PAGE_COOKIE_VALUE_MAX + 1], *big;

	(void)state;
	assert_true(page_cookie_get("a=1; __Host-resetd-reset=abc_DEF-1; b=2",
	    "__Host-resetd-reset", out, sizeof(out)));
	assert_string_equal(out, "abc_DEF-1");
	assert_true(page_cookie_get("__Host-resetd-reset=x",
	    "__Host-resetd-reset", out, sizeof(out)));
	assert_string_equal(out, "x");
	/* The first of two wins, as browsers order them. */
	assert_true(
	    page_cookie_get("n=first; n=second", "n", out, sizeof(out)));
	assert_string_equal(out, "first");
	/* Names match exactly, not as a prefix or a suffix. */
	assert_false(page_cookie_get("xn=1; nx=2", "n", out, sizeof(out)));
	assert_false(page_cookie_get("N=1", "n", out, sizeof(out)));
	/* Whitespace around pairs; quotes around a value. */
	assert_true(page_cookie_get("  a=1 ;\tn=v2  ", "n", out, sizeof(out)));
	assert_string_equal(out, "v2");
	assert_true(page_cookie_get("n=\"quoted\"", "n", out, sizeof(out)));
	assert_string_equal(out, "quoted");
	/* Refused: empty, bad octets, too long for out, absent. */
	assert_false(page_cookie_get("n=", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=a\\b", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=a\"b", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=a,b", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=\x01", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=\xc3\xa9", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n=0123456789", "n", out, 10));
	assert_true(page_cookie_get("n=012345678", "n", out, 10));
	assert_false(page_cookie_get("a=1", "n", out, sizeof(out)));
	assert_false(page_cookie_get(NULL, "n", out, sizeof(out)));
	assert_false(page_cookie_get("", "n", out, sizeof(out)));
	assert_false(page_cookie_get("n", "n", out, sizeof(out)));
	assert_false(page_cookie_get(";;;", "n", out, sizeof(out)));
	/* A header past the cap is refused whole. */
	big = unit_repeat("x=1; ", PAGE_COOKIE_HEADER_MAX / 5 + 1);
	big[0] = 'n';
	assert_true(strlen(big) > PAGE_COOKIE_HEADER_MAX);
	assert_false(page_cookie_get(big, "n", out, sizeof(out)));
	big[PAGE_COOKIE_HEADER_MAX] = '\0';
	assert_true(page_cookie_get(big, "n", out, sizeof(out)));
	assert_string_equal(out, "1");
	free(big);
}

/* Forms */

static void
test_form_get(void **state)
{
	const char *body =
	    "csrf=abc&email=jane%40example.com&password=a+b%2Bc"
	    "&empty=&bare&dup=1&dup=2&bad=%zz&nul=a%00b&utf=%C3%A9";
	char *v;

	(void)state;
#define GET(name, max) page_form_get(body, strlen(body), name, max)
	v = GET("email", 100);
	assert_string_equal(v, "jane@example.com");
	free(v);
	v = GET("password", 100);
	assert_string_equal(v, "a b+c");
	free(v);
	v = GET("empty", 100);
	assert_string_equal(v, "");
	free(v);
	v = GET("bare", 100);
	assert_string_equal(v, "");
	free(v);
	v = GET("dup", 100);
	assert_string_equal(v, "1");
	free(v);
	v = GET("utf", 100);
	assert_string_equal(v, "\xc3\xa9");
	free(v);
	assert_null(GET("missing", 100));
	assert_null(GET("bad", 100));
	assert_null(GET("nul", 100));
	/* Longer than max once decoded. */
	assert_null(GET("email", 15));
	v = GET("email", 16);
	assert_string_equal(v, "jane@example.com");
	free(v);
	/* Names are decoded too; only len bytes are read. */
	v = page_form_get("a%62c=1", 7, "abc", 10);
	assert_string_equal(v, "1");
	free(v);
	v = page_form_get("x=12345", 5, "x", 10);
	assert_string_equal(v, "123");
	free(v);
	assert_null(page_form_get("x=%4", 4, "x", 10));
	assert_null(page_form_get("x=%", 3, "x", 10));
	assert_null(page_form_get(NULL, 0, "x", 10));
	assert_null(page_form_get("", 0, "x", 10));
#undef GET
}

static void
test_origin(void **state)
{
	static const struct {
		const char *url;
		const char *want; /* NULL: refused */
	} cases[] = {
		{ "https://app.example.com/cb?x=1", "https://app.example.com" },
		{ "http://127.0.0.1:3999/cb", "http://127.0.0.1:3999" },
		{ "https://[2001:db8::1]:8443/x",
		    "https://[2001:db8::1]:8443" },
		{ "https://app.example.com", "https://app.example.com" },
		{ "https://app.example.com#f", "https://app.example.com" },
		{ "https://a.example;script-src/x", NULL },
		{ "https://a.example,b/x", NULL },
		{ "https://user@a.example/x", NULL },
		{ "https://a.example:/x", NULL },
		{ "https://a.example:123456/x", NULL },
		{ "https:///x", NULL },
		{ "ftp://a.example/x", NULL },
		{ "javascript:alert(1)", NULL },
		{ "https://a b/", NULL },
	};
	char out[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = page_origin(cases[i].url, out, sizeof(out));

		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("took %s as %s", cases[i].url, out);
			continue;
		}
		if (rc != 0 || strcmp(out, cases[i].want) != 0)
			fail_msg("origin of %s", cases[i].url);
	}
	assert_int_equal(page_origin("https://app.example.com/x", out, 10), -1);
	assert_int_equal(page_origin(NULL, out, sizeof(out)), -1);
}

/* Fuzzing: random and mutated bytes, contracts checked on each result. */

static void
fuzz_one(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1), out[PAGE_COOKIE_VALUE_MAX + 1], *v;
	char origin[64];
	enum page_locale l;

	assert_non_null(s);
	memcpy(s, data, len);
	s[len] = '\0';
	l = page_accept_language(s);
	assert_true(l >= 0 && l <= LOC__MAX);
	l = page_locale_match((const char *)data, len);
	assert_true(l >= 0 && l <= LOC__MAX);
	memset(out, 'Z', sizeof(out));
	if (page_cookie_get(s, "n", out, sizeof(out))) {
		assert_true(strlen(out) > 0 && strlen(out) < sizeof(out));
		assert_null(strpbrk(out, " ;,\"\\"));
	}
	if (page_cookie_get(s, "n", out, 4))
		assert_true(strlen(out) < 4);
	/* The form parser reads len bytes only: give it no terminator. */
	v = page_form_get((const char *)data, len, "n", 8);
	if (v != NULL) {
		assert_true(strlen(v) <= 8);
		free(v);
	}
	if (page_origin(s, origin, sizeof(origin)) == 0) {
		assert_true(strlen(origin) < sizeof(origin));
		assert_null(strpbrk(origin, " ;,'\"\\<>@"));
	}
	free(s);
}

static void
test_fuzz_parsers(void **state)
{
	static const char *const seeds[] = {
		"ja-JP,ja;q=0.9,en-US;q=0.8",
		"zh-Hant-TW;q=0.5,*;q=0.1",
		"n=abc; __Host-resetd-form=xyz",
		"n=\"q\"",
		"csrf=a&n=%41%42+c&x",
		"n=%zz&n=1",
		"https://[::1]:8080/x",
		"http://a.example:80/?q",
	};
	uint8_t buf[FUZZ_LEN_MAX];
	struct unit_rng r;
	size_t len, k;
	int i, j;

	(void)state;
	assert_true(sodium_init() >= 0);
	unit_rng_init(&r, "test_fuzz_parsers");
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		if (i % 2 == 0) {
			/* Random bytes, biased towards the parsers' syntax. */
			len = unit_rng_uniform(&r, FUZZ_LEN_MAX);
			for (k = 0; k < len; k++) {
				static const char alphabet[] =
				    "n=;,-_ .q0123456789\"\\%+&:/[]*aAzZjJ\t";

				buf[k] = unit_rng_uniform(&r, 4) == 0 ?
				    (uint8_t)unit_rng_uniform(&r, 256) :
				    (uint8_t)alphabet[unit_rng_uniform(&r,
					sizeof(alphabet) - 1)];
			}
		} else {
			/* A seed with a few bytes flipped, cut or repeated. */
			const char *seed = seeds[unit_rng_uniform(&r,
			    sizeof(seeds) / sizeof(seeds[0]))];

			len = strlen(seed);
			memcpy(buf, seed, len);
			for (j = 0; j < 3; j++) {
				k = unit_rng_uniform(&r, (uint32_t)len);
				buf[k] = (uint8_t)unit_rng_uniform(&r, 256);
			}
			if (unit_rng_uniform(&r, 3) == 0)
				len = unit_rng_uniform(&r, (uint32_t)len + 1);
			while (unit_rng_uniform(&r, 4) == 0 &&
			    len * 2 < sizeof(buf)) {
				memcpy(buf + len, buf, len);
				len *= 2;
			}
		}
		fuzz_one(buf, len);
	}
}

/* Words and rendering */

static void
test_text_complete(void **state)
{
	int l;

	(void)state;
	assert_true(page_text_complete());
	for (l = 0; l < LOC__MAX; l++) {
		assert_true(strlen(page_text(l, "forgot_title")) > 0);
		assert_true(strlen(page_text(l, "err_confirm_mismatch")) > 0);
	}
	assert_string_equal(page_text(LOC_JA, "no_such_key"), "");
	/* The languages are not English copied. */
	assert_string_not_equal(page_text(LOC_DE, "reset_title"),
	    page_text(LOC_EN, "reset_title"));
	assert_non_null(strstr(page_text(LOC_JA, "reset_title"),
	    "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89"));
}

static void
response_free(struct http_response *resp)
{
	int i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	buf_free(&resp->body);
}

static const char *
header_of(const struct http_response *resp, const char *name)
{
	int i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static void
test_render_all(void **state)
{
	struct project p = {
		.id = "01a2069c-baae-7025-a41b-4739fc84ee3b",
		.name = "<script>alert(\"x\")</script> & 'co'",
		.delivery = "code",
		.logo_url = "https://cdn.example.com/logo.svg",
		.accent_color = "#0a7c4e",
		.token_ttl = 3600,
	};
	struct http_request req;
	struct http_response resp;
	struct page_out o;
	const char *html, *csp;
	char lang[64];
	int l, pg, with_project;

	(void)state;
	memset(&req, 0, sizeof(req));
	for (l = 0; l < LOC__MAX; l++)
		for (pg = 0; pg < PAGE__MAX; pg++)
			for (with_project = 0; with_project < 2;
			     with_project++) {
				memset(&resp, 0, sizeof(resp));
				buf_init(&resp.body, SIZE_MAX / 2);
				page_begin(&o, &req, &resp,
				    with_project ? &p : NULL,
				    page_locale(l)->tag);
				assert_int_equal(o.locale, l);
				page_set(&o, "csrf", "tok\"en");
				page_set(&o, "email", "a\"<b>@example.com");
				page_set(&o, "minutes", "60");
				page_set(&o, "forgot_href",
				    "/forgot?project=x&locale=de");
				page_set(&o, "code_sent", "1");
				page_error(&o, "form", "err_form_expired");
				page_error(&o, "email", "err_email_required");
				page_error(&o, "code", "err_code_mismatch");
				page_error(&o, "password",
				    "err_password_short");
				page_error(&o, "confirm",
				    "err_confirm_mismatch");
				page_render(&o, pg, 200);
				html = buf_cstr(&resp.body);
				snprintf(lang, sizeof(lang),
				    "<html lang=\"%s\">", page_locale(l)->html);
				if (strstr(html, lang) == NULL)
					fail_msg("page %d, locale %d: no %s",
					    pg, l, lang);
				if (strstr(html, "{{") != NULL ||
				    strstr(html, "}}") != NULL)
					fail_msg(
					    "page %d, locale %d: a tag is left",
					    pg, l);
				/* Values are escaped wherever they land. */
				assert_null(strstr(html, "<script>"));
				assert_null(strstr(html, "a\"<b>"));
				assert_null(strstr(html, "tok\"en"));
				assert_non_null(strstr(html, "</html>"));
				assert_non_null(
				    strstr(html, page_text(l, "error_prefix")));
				csp = header_of(&resp,
				    "Content-Security-Policy");
				assert_non_null(csp);
				assert_non_null(
				    strstr(csp, "default-src 'none'"));
				assert_non_null(
				    strstr(csp, "frame-ancestors 'none'"));
				if (with_project) {
					assert_non_null(strstr(csp,
					    "img-src 'self' https://cdn.example.com;"));
					assert_non_null(
					    strstr(html, "/assets/project/"));
					assert_non_null(
					    strstr(html, "&lt;script&gt;"));
				} else
					assert_non_null(
					    strstr(csp, "img-src 'self';"));
				assert_string_equal(header_of(&resp,
							"Referrer-Policy"),
				    "no-referrer");
				assert_string_equal(header_of(&resp,
							"Cache-Control"),
				    "no-store");
				page_end(&o);
				response_free(&resp);
			}
}

static void
test_render_focus_and_url(void **state)
{
	struct http_request req;
	struct http_response resp;
	struct page_out o;
	const char *html;
	char *u;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, SIZE_MAX / 2);
	page_begin(&o, &req, &resp, NULL, "en");
	/* The first field in error takes the focus; the form has none. */
	page_error(&o, "form", "err_form_expired");
	page_error(&o, "password", "err_password_short");
	page_error(&o, "confirm", "err_confirm_mismatch");
	page_set(&o, "email", "jane@example.com");
	page_render(&o, PAGE_RESET, 422);
	html = buf_cstr(&resp.body);
	assert_int_equal(resp.status, 422);
	assert_non_null(strstr(html,
	    "id=\"password\" name=\"password\" "
	    "autocomplete=\"new-password\""));
	assert_non_null(strstr(html,
	    "aria-describedby=\"password-hint "
	    "password-error\" aria-invalid=\"true\" autofocus>"));
	assert_non_null(strstr(html,
	    "aria-invalid=\"true\" "
	    "aria-describedby=\"confirm-error\">"));
	assert_non_null(strstr(html, "role=\"alert\""));
	assert_non_null(strstr(html,
	    "autocomplete=\"username\" readonly "
	    "hidden>"));
	assert_non_null(strstr(html, "<title>Error: Choose a new password"));
	page_end(&o);
	response_free(&resp);

	u = page_url("/forgot", "project", "a b&c", "locale", NULL, "login_url",
	    "https://x.test/cb?a=1");
	assert_string_equal(u,
	    "/forgot?project=a%20b%26c&login_url="
	    "https%3A%2F%2Fx.test%2Fcb%3Fa%3D1");
	free(u);
	u = page_url("/reset", NULL, NULL, NULL, NULL, NULL, NULL);
	assert_string_equal(u, "/reset");
	free(u);
	assert_string_equal(page_locale_param("pt-br"), "pt_BR");
	assert_null(page_locale_param("xx"));
	assert_null(page_locale_param(NULL));
}

/* A refused password is worded by the rule the engine's verdict names. */
static void
test_password_errors(void **state)
{
	static const struct {
		enum engine_result res;
		enum password_rule rule;
		const char *key;
	} cases[] = {
		{ ENGINE_PASSWORD_TOO_SHORT, PW_MIN_LENGTH,
		    "err_password_short" },
		{ ENGINE_PASSWORD_TOO_LONG, PW_MAX_LENGTH,
		    "err_password_long" },
		{ ENGINE_PASSWORD_INVALID_TEXT, PW_VALID_TEXT,
		    "err_password_text" },
		{ ENGINE_PASSWORD_WEAK, PW_COMMON, "err_password_common" },
		{ ENGINE_PASSWORD_WEAK, PW_BREACHED, "err_password_breached" },
		{ ENGINE_PASSWORD_WEAK, PW_CONTEXT, "err_password_context" },
		{ ENGINE_PASSWORD_WEAK, PW_STRENGTH, "err_password_strength" },
		/* Without a verdict, the result says what it can. */
		{ ENGINE_PASSWORD_WEAK, PW_OK, "err_password_strength" },
		{ ENGINE_PASSWORD_TOO_SHORT, PW_OK, "err_password_short" },
	};
	struct project p = {
		.id = "01a2069c-baae-7025-a41b-4739fc84ee3b",
		.name = "Acme",
		.delivery = "link",
		.token_ttl = 3600,
		.password_min_length = 12,
	};
	struct password_verdict v;
	struct http_request req;
	struct http_response resp;
	struct page_out o;
	const char *html, *want;
	char *filled;
	size_t i;
	int l;

	(void)state;
	memset(&req, 0, sizeof(req));
	for (l = 0; l < LOC__MAX; l++)
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memset(&resp, 0, sizeof(resp));
			buf_init(&resp.body, SIZE_MAX / 2);
			page_begin(&o, &req, &resp, &p, page_locale(l)->tag);
			memset(&v, 0, sizeof(v));
			v.rule = cases[i].rule;
			v.min_length = 12;
			assert_true(page_password_error(&o, cases[i].res, &v));
			assert_string_equal(resp.outcome,
			    engine_result_name(cases[i].res));
			page_set(&o, "email", "jane@example.com");
			page_render(&o, PAGE_RESET, 422);
			html = buf_cstr(&resp.body);
			/* The rule's own words, next to the field, its names filled. */
			want = page_text(l, cases[i].key);
			assert_true(strlen(want) > 0);
			assert_non_null(strstr(html, "id=\"password-error\""));
			assert_null(strstr(html, "{{"));
			if (strstr(want, "{{min_length}}") != NULL)
				assert_non_null(strstr(html, "12"));
			if (strstr(want, "{{project_name}}") != NULL) {
				filled = strstr(html, "id=\"password-error\">");
				assert_non_null(filled);
				assert_non_null(strstr(filled, "Acme"));
			}
			/* The project's minimum, in the hint and for the browser. */
			assert_non_null(strstr(html, "minlength=\"12\""));
			page_end(&o);
			response_free(&resp);
		}
	/* Not a refusal of the password: nothing is said. */
	memset(&resp, 0, sizeof(resp));
	buf_init(&resp.body, SIZE_MAX / 2);
	page_begin(&o, &req, &resp, &p, "en");
	assert_false(page_password_error(&o, ENGINE_OK, NULL));
	assert_false(page_password_error(&o, ENGINE_CODE_MISMATCH, NULL));
	assert_false(page_password_error(&o, ENGINE_UNAVAILABLE, NULL));
	assert_int_equal(o.errors, 0);
	/* No verdict at all: still worded. */
	assert_true(page_password_error(&o, ENGINE_PASSWORD_WEAK, NULL));
	page_render(&o, PAGE_RESET, 422);
	assert_non_null(strstr(buf_cstr(&resp.body), "too easy to guess"));
	assert_non_null(strstr(buf_cstr(&resp.body), "At least 12 characters"));
	page_end(&o);
	response_free(&resp);
}

/* The 429 page: minutes when the wait is longer, else its own words. */
static void
test_render_throttled(void **state)
{
	struct http_request req;
	struct http_response resp;
	struct page_out o;
	const char *html;
	int l, with_minutes;

	(void)state;
	memset(&req, 0, sizeof(req));
	for (l = 0; l < LOC__MAX; l++)
		for (with_minutes = 0; with_minutes < 2; with_minutes++) {
			memset(&resp, 0, sizeof(resp));
			buf_init(&resp.body, SIZE_MAX / 2);
			page_begin(&o, &req, &resp, NULL, page_locale(l)->tag);
			if (with_minutes)
				page_set(&o, "minutes", "17");
			page_render(&o, PAGE_THROTTLED, 429);
			html = buf_cstr(&resp.body);
			assert_int_equal(resp.status, 429);
			assert_non_null(
			    strstr(html, page_text(l, "throttled_title")));
			if (with_minutes)
				assert_non_null(strstr(html, "17"));
			else
				assert_non_null(strstr(html,
				    page_text(l, "throttled_body_soon")));
			assert_null(strstr(html, "{{"));
			assert_non_null(
			    header_of(&resp, "Content-Security-Policy"));
			page_end(&o);
			response_free(&resp);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_language),
		cmocka_unit_test(test_accept_language_caps),
		cmocka_unit_test(test_locale_match),
		cmocka_unit_test(test_cookie_get),
		cmocka_unit_test(test_form_get),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_fuzz_parsers),
		cmocka_unit_test(test_text_complete),
		cmocka_unit_test(test_render_all),
		cmocka_unit_test(test_render_focus_and_url),
		cmocka_unit_test(test_password_errors),
		cmocka_unit_test(test_render_throttled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
