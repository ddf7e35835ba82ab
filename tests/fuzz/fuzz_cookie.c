/*
 * Fuzz the hosted pages' Cookie parser (page_cookie_get) with the input as
 * a header value, for each cookie the pages read and a short name, into
 * buffers of the pages' size and a small one, checking its contract: a
 * value is non-empty, fits, holds only cookie-octets and was in the
 * header; a header over PAGE_COOKIE_HEADER_MAX yields nothing.
 */
#include "fuzz.h"
#include "pages/pages.h"

static void
check(const char *header, const char *name, size_t outlen)
{
	char out[PAGE_COOKIE_VALUE_MAX + 1];
	const char *p;

	memset(out, 'Z', sizeof(out));
	if (!page_cookie_get(header, name, out, outlen))
		return;
	if (strnlen(header, PAGE_COOKIE_HEADER_MAX + 1) >
	    PAGE_COOKIE_HEADER_MAX)
		abort();
	if (out[0] == '\0' || strnlen(out, outlen) >= outlen)
		abort();
	for (p = out; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\",;\\", *p) != NULL)
			abort();
	if (strstr(header, out) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const names[] = {
		PAGE_COOKIE_RESET,
		PAGE_COOKIE_FORM,
		"n",
	};
	char *s = fuzz_cstr(data, len);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		check(s, names[i], PAGE_COOKIE_VALUE_MAX + 1);
		check(s, names[i], 4);
	}
	free(s);
	return 0;
}
