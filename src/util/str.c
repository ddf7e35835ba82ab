/*
 * String checks used at the edges, where outside text comes in.
 */
#include <string.h>

#include "util.h"

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t
str_utf8_seq(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n, i;

	if (avail == 0)
		return 0;
	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 1;
		cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 2;
		cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 3;
		cp = *p & 0x07;
	} else
		return 0;
	if (avail <= n)
		return 0;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

int
str_is_utf8(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = str_utf8_seq(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
str_is_clean_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (!str_is_utf8(s, len))
		return 0;
	for (i = 0; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return 0;
	return 1;
}

size_t
str_utf8_clean(char *out, size_t outlen, const char *s, size_t len)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const char *from;
	size_t i = 0, o = 0, n, take;

	while (i < len) {
		n = str_utf8_seq(s + i, len - i);
		if (n == 0 || s[i] == '\0') {
			from = fffd;
			take = 3;
			n = 1;
		} else {
			from = s + i;
			take = n;
		}
		if (o + take >= outlen)
			break;
		memcpy(out + o, from, take);
		o += take;
		i += n;
	}
	if (outlen > 0)
		out[o] = '\0';
	return o;
}

size_t
str_utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
str_url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			if (buf_append(b, s, 1) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(b, esc, 3) == -1)
			return -1;
	}
	return 0;
}

uint32_t
str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int
str_case_equal(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return *a == *b;
}

int
str_json_string(struct buf *b, const char *s)
{
	size_t left, n;
	int rc;

	if (s == NULL)
		return buf_puts(b, "null");
	left = strlen(s);
	rc = buf_puts(b, "\"");
	while (left > 0 && rc == 0) {
		unsigned char ch = (unsigned char)*s;

		n = str_utf8_seq(s, left);
		if (n == 0) {
			rc = buf_puts(b, "\ufffd");
			n = 1;
		} else if (ch == '"' || ch == '\\')
			rc = buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			rc = buf_printf(b, "\\u%04x", ch);
		else
			rc = buf_append(b, s, n);
		s += n;
		left -= n;
	}
	if (rc == 0)
		rc = buf_puts(b, "\"");
	return rc;
}

int
str_html_escape(struct buf *b, const char *s, size_t n)
{
	const char *end = s + n;
	int rc = 0;

	for (; s < end && rc == 0; s++) {
		switch (*s) {
		case '&':
			rc = buf_puts(b, "&amp;");
			break;
		case '<':
			rc = buf_puts(b, "&lt;");
			break;
		case '>':
			rc = buf_puts(b, "&gt;");
			break;
		case '"':
			rc = buf_puts(b, "&quot;");
			break;
		case '\'':
			rc = buf_puts(b, "&#39;");
			break;
		default:
			rc = buf_append(b, s, 1);
		}
	}
	return rc;
}
