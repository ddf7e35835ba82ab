/*
 * Fuzz the hosted pages' form decoding (page_form_get) with the input as
 * an x-www-form-urlencoded body of len bytes with no terminator, for the
 * fields the pages read, under their caps and a small one.  A value is
 * at most its cap and never longer than the body.  Then the other way:
 * the input, cut at its first NUL, as a value that page_url encodes into
 * a query, which page_form_get must decode back to the same bytes.
 */
#include "fuzz.h"
#include "pages/pages.h"

static const struct {
	const char *name;
	size_t max;
} fields[] = {
	{ "csrf", PAGE_SECRET_MAX },
	{ "email", PAGE_EMAIL_MAX },
	{ "password", PAGE_PASSWORD_READ_MAX },
	{ "code", PAGE_CODE_READ_MAX },
	{ "locale", PAGE_LANGUAGE_TAG_MAX },
	{ "login_url", PAGE_URL_MAX },
	{ "n", 8 },
	{ "", 8 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *body = (const char *)data;
	char *v, *s, *url, *q;
	size_t i, n;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = page_form_get(body, len, fields[i].name, fields[i].max);
		if (v == NULL)
			continue;
		n = strlen(v);
		if (n > fields[i].max || n > len || *fields[i].name == '\0')
			abort();
		free(v);
	}
	/* Round trip: what the pages encode into links, decoded again. */
	s = fuzz_cstr(data, len);
	n = strlen(s);
	if (n <= PAGE_URL_MAX) {
		url = page_url("/p", "n", s, NULL, NULL, NULL, NULL);
		q = strchr(url, '?');
		if (n > 0) {
			if (q == NULL)
				abort();
			v = page_form_get(q + 1, strlen(q + 1), "n", n);
			if (v == NULL || strcmp(v, s) != 0)
				abort();
			free(v);
		}
		free(url);
	}
	free(s);
	return 0;
}
