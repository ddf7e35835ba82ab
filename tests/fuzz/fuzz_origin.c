/*
 * Fuzz page_origin, which picks the origin of a URL (a logo, a login_url)
 * to name in a Content-Security-Policy as it is.  An origin it returns
 * must be a prefix of the URL, start with http:// or https://, and hold
 * only what a policy source may: letters, digits, dots, hyphens, one
 * port, or a bracketed IPv6 address; nothing that could end the source
 * or the header (a space, a semicolon, a quote, a comma).
 */
#include "fuzz.h"
#include "pages/pages.h"

static void
check(const char *url, size_t outlen)
{
	char out[512];
	const char *host;

	memset(out, 'Z', sizeof(out));
	if (page_origin(url, out, outlen) != 0)
		return;
	if (strlen(out) >= outlen || strncmp(url, out, strlen(out)) != 0)
		abort();
	if (strncmp(out, "https://", 8) == 0)
		host = out + 8;
	else if (strncmp(out, "http://", 7) == 0)
		host = out + 7;
	else
		abort();
	if (*host == '\0' ||
	    strspn(host,
		"abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);

	check(s, 512);
	check(s, 16);
	free(s);
	return 0;
}
