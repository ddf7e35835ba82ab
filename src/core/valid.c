/*
 * The checks of request fields, in one place for every face and the CLI:
 * what a URL resetd may put in a link, an origin, an email address, a
 * sender, a display name, a logo URL and a colour must look like.  Each
 * is a pure predicate over a NUL-terminated string: 1 when it passes, 0
 * otherwise; none logs.  The use cases of core/ (admin.c, reset.c) call
 * them on what they are given, and a face may call them first to word its
 * own error.
 */
#include <string.h>

#include "engine_internal.h"

int
valid_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n > 0 && n <= max && str_is_clean_utf8(s, n);
}

int
valid_url(const char *s)
{
	const char *host;
	size_t i, n = strnlen(s, VALID_URL_MAX + 1);

	if (n == 0 || n > VALID_URL_MAX)
		return 0;
	if (str_has_prefix(s, "https://"))
		host = s + 8;
	else if (str_has_prefix(s, "http://"))
		host = s + 7;
	else
		return 0;
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * The length of the authority (host and optional port) at s when it is
 * strict: a DNS name or IPv4 address of letters, digits, dots and hyphens,
 * or a bracketed IPv6 address, then optionally a colon and 1 to 5 digits;
 * no user part.  0 when it is not.
 */
static size_t
authority_len(const char *s)
{
	size_t n = 0, port = 0;

	if (s[0] == '[') {
		n = 1 + strspn(s + 1, "0123456789abcdefABCDEF:.");
		if (n == 1 || s[n] != ']')
			return 0;
		n++;
	} else
		n = strspn(s,
		    "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
	if (n == 0)
		return 0;
	if (s[n] == ':') {
		port = strspn(s + n + 1, "0123456789");
		if (port == 0 || port > 5)
			return 0;
		n += 1 + port;
	}
	if (s[n] != '\0' && s[n] != '/' && s[n] != '?' && s[n] != '#')
		return 0;
	return n;
}

/* 1 when the authority of length n at s names this machine. */
static int
authority_loopback(const char *s, size_t n)
{
	static const char *const hosts[] = { "127.0.0.1", "localhost", "[::1]",
		NULL };
	size_t i, h = n;

	if (memchr(s, ':', n) != NULL && s[0] != '[')
		h = (size_t)((const char *)memchr(s, ':', n) - s);
	else if (s[0] == '[')
		h = (size_t)((const char *)memchr(s, ']', n) - s) + 1;
	for (i = 0; hosts[i] != NULL; i++)
		if (strlen(hosts[i]) == h && strncmp(s, hosts[i], h) == 0)
			return 1;
	return 0;
}

int
valid_logo_url(const char *s)
{
	size_t n;

	/* Characters RFC 3986 never leaves unencoded have no business here. */
	if (!valid_url(s) || strpbrk(s, "\"'<>\\^`{|}") != NULL)
		return 0;
	if (str_has_prefix(s, "https://"))
		return authority_len(s + 8) > 0;
	n = authority_len(s + 7);
	return n > 0 && authority_loopback(s + 7, n);
}

int
valid_color(const char *s)
{
	return strlen(s) == 7 && s[0] == '#' &&
	    strspn(s + 1, "0123456789abcdefABCDEF") == 6;
}

int
valid_origin(const char *s)
{
	return valid_url(s) && strchr(strstr(s, "://") + 3, '/') == NULL &&
	    strpbrk(s, "?#") == NULL;
}

int
valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i, n = strnlen(s, 255);

	if (n == 0 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == ',' || c == ';' || c == '\\')
			return 0;
	}
	return str_is_clean_utf8(s, n);
}

int
valid_sender(const char *s)
{
	size_t i;

	if (!valid_email(s))
		return 0;
	/* What message_build puts in a header: ASCII, no specials. */
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] >= 0x7f ||
		    strchr("()[]:\"<>,;\\", s[i]) != NULL)
			return 0;
	return 1;
}

int
valid_sender_name(const char *s)
{
	size_t i, n = strnlen(s, VALID_NAME_MAX + 1);

	if (n == 0 || n > VALID_NAME_MAX || !str_is_clean_utf8(s, n))
		return 0;
	/* str_is_clean_utf8 lets a tab through; a header takes none. */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}
