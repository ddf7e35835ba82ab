/*
 * Fuzz the hosted pages' language choice: Accept-Language as a header
 * value (page_accept_language) and the input as one language tag of len
 * bytes with no terminator (page_locale_match), checking their contracts:
 * a written locale or none, and nothing past the cap read.
 */
#include "fuzz.h"
#include "pages/pages.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	enum page_locale l, m;
	size_t i, n = strlen(s);

	l = page_accept_language(s);
	if (l < 0 || l > LOC__MAX)
		abort();
	if (l != LOC__MAX)
		(void)page_locale(l); /* aborts on a locale with no row */
	/* Only the first PAGE_ACCEPT_LANGUAGE_MAX bytes count. */
	if (n > PAGE_ACCEPT_LANGUAGE_MAX + 1) {
		for (i = PAGE_ACCEPT_LANGUAGE_MAX + 1; i < n; i++)
			s[i] = 'x';
		m = page_accept_language(s);
		if (m != l)
			abort();
	}
	/* The replay hands over an exact-size copy: ASan sees overreads. */
	l = page_locale_match((const char *)data, len);
	if (l < 0 || l > LOC__MAX)
		abort();
	if (len > PAGE_LANGUAGE_TAG_MAX && l != LOC__MAX)
		abort();
	free(s);
	return 0;
}
