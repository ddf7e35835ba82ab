/*
 * The hosted pages' parsers of outside text: the Cookie header,
 * Accept-Language, form bodies (application/x-www-form-urlencoded) and the
 * origin of a URL as a Content-Security-Policy may name it.
 *
 * Each is a pure function of its input bytes, with a cap on how much it
 * reads, so that a fuzz driver can call it directly; none allocates except
 * page_form_get, whose result has a caller-given cap.  Anything malformed
 * is skipped or refused, never guessed at.
 */
#include <stdlib.h>
#include <string.h>

#include "pages.h"

/* Languages */

static const struct page_locale_def locales[LOC__MAX] = {
	/* LOC_EN */
	{ "en", "en", "pages/text/en.txt" },
	/* LOC_DE */
	{ "de", "de", "pages/text/de.txt" },
	/* LOC_FR */
	{ "fr", "fr", "pages/text/fr.txt" },
	/* LOC_ES */
	{ "es", "es", "pages/text/es.txt" },
	/* LOC_PT_BR */
	{ "pt_BR", "pt-BR", "pages/text/pt_BR.txt" },
	/* LOC_RU */
	{ "ru", "ru", "pages/text/ru.txt" },
	/* LOC_JA */
	{ "ja", "ja", "pages/text/ja.txt" },
	/* LOC_ZH_CN */
	{ "zh_CN", "zh-CN", "pages/text/zh_CN.txt" },
};

const struct page_locale_def *
page_locale(enum page_locale l)
{
	if (l < 0 || l >= LOC__MAX)
		abort();
	return &locales[l];
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Bytes of s (at most n) before the first subtag separator. */
static size_t
subtag_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '-' && s[i] != '_'; i++)
		continue;
	return i;
}

/* 1 when subtag (n bytes) equals s, ignoring ASCII case. */
static int
subtag_is(const char *subtag, size_t n, const char *s)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(subtag[i]) != s[i])
			return 0;
	return 1;
}

enum page_locale
page_locale_match(const char *tag, size_t len)
{
	static const struct {
		const char *lang;
		enum page_locale locale;
	} primary[] = {
		{ "en", LOC_EN },
		{ "de", LOC_DE },
		{ "fr", LOC_FR },
		{ "es", LOC_ES },
		{ "pt", LOC_PT_BR }, /* the only Portuguese written */
		{ "ru", LOC_RU },
		{ "ja", LOC_JA },
		{ "zh", LOC_ZH_CN },
	};
	const char *sub;
	size_t i, n, plen;

	if (len == 0 || len > PAGE_LANGUAGE_TAG_MAX)
		return LOC__MAX;
	/* Subtags of letters and digits, 1 to 8 each, joined by - or _. */
	for (i = 0, n = 0; i < len; i++) {
		if (tag[i] == '-' || tag[i] == '_') {
			if (n == 0)
				return LOC__MAX;
			n = 0;
		} else if (is_alnum(tag[i]) && ++n <= 8)
			continue;
		else
			return LOC__MAX;
	}
	if (n == 0)
		return LOC__MAX;
	plen = subtag_len(tag, len);
	for (i = 0; i < sizeof(primary) / sizeof(primary[0]); i++) {
		if (!subtag_is(tag, plen, primary[i].lang))
			continue;
		if (primary[i].locale != LOC_ZH_CN)
			return primary[i].locale;
		/* Chinese: only Simplified is written; Traditional is not it. */
		for (sub = tag + plen; sub < tag + len; sub += n) {
			sub++;
			n = subtag_len(sub, (size_t)(tag + len - sub));
			if (subtag_is(sub, n, "hant") ||
			    subtag_is(sub, n, "tw") ||
			    subtag_is(sub, n, "hk") || subtag_is(sub, n, "mo"))
				return LOC__MAX;
		}
		return LOC_ZH_CN;
	}
	return LOC__MAX;
}

/*
 * Parse a qvalue (RFC 9110: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]) of n
 * bytes into thousandths; -1 when it is not one.
 */
static int
qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One item of Accept-Language, bytes [s, s + n): its locale, or LOC__MAX,
 * and its weight in *q (thousandths).  A malformed item is LOC__MAX.
 */
static enum page_locale
accept_item(const char *s, size_t n, int *q)
{
	const char *end = s + n, *p, *semi;
	size_t len, i;

	*q = 1000;
	for (i = 0; i < n && is_ows(s[i]); i++)
		continue;
	s += i;
	n -= i;
	semi = memchr(s, ';', n);
	p = semi != NULL ? semi : end;
	while (p > s && is_ows(p[-1]))
		p--;
	len = (size_t)(p - s);
	if (len == 0)
		return LOC__MAX;
	/* Parameters: q, possibly with whitespace around ";" and "=". */
	while (semi != NULL) {
		p = semi + 1;
		semi = p < end ? memchr(p, ';', (size_t)(end - p)) : NULL;
		while (p < end && is_ows(*p))
			p++;
		if (p + 1 < end && lower(*p) == 'q') {
			const char *v = p + 1,
				   *vend = semi != NULL ? semi : end;

			while (v < vend && is_ows(*v))
				v++;
			if (v >= vend || *v != '=')
				return LOC__MAX;
			v++;
			while (v < vend && is_ows(*v))
				v++;
			while (vend > v && is_ows(vend[-1]))
				vend--;
			*q = qvalue(v, (size_t)(vend - v));
			if (*q < 0)
				return LOC__MAX;
		}
	}
	if (len == 1 && s[0] == '*')
		return LOC__MAX; /* "anything": the default decides */
	return page_locale_match(s, len);
}

enum page_locale
page_accept_language(const char *value)
{
	enum page_locale best = LOC__MAX, l;
	const char *p, *end, *comma;
	size_t n;
	int q, best_q = 0, items = 0;

	if (value == NULL)
		return LOC__MAX;
	n = strnlen(value, PAGE_ACCEPT_LANGUAGE_MAX + 1);
	end = value + n;
	if (n > PAGE_ACCEPT_LANGUAGE_MAX) {
		/* Read whole items only: drop the one the cap cuts. */
		end = value + PAGE_ACCEPT_LANGUAGE_MAX;
		while (end > value && end[-1] != ',')
			end--;
	}
	for (p = value; p < end && items < PAGE_ACCEPT_LANGUAGE_ITEMS;
	     p = comma + 1, items++) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		l = accept_item(p, (size_t)(comma - p), &q);
		/* The first of equal weights wins; q=0 means "not this". */
		if (l != LOC__MAX && q > best_q) {
			best = l;
			best_q = q;
		}
		if (comma == end)
			break;
	}
	return best;
}

/* Cookies */

/* A cookie-octet of RFC 6265: visible ASCII but for " , ; \ */
static int
cookie_octet(char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

int
page_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	const char *p, *end, *eq, *v, *vend;
	size_t n, namelen = strlen(name);

	if (header == NULL || outlen == 0)
		return 0;
	n = strnlen(header, PAGE_COOKIE_HEADER_MAX + 1);
	if (n > PAGE_COOKIE_HEADER_MAX)
		return 0; /* a header this long is refused whole */
	end = header + n;
	for (p = header; p < end; p = vend + 1) {
		while (p < end && is_ows(*p))
			p++;
		vend = memchr(p, ';', (size_t)(end - p));
		if (vend == NULL)
			vend = end;
		eq = memchr(p, '=', (size_t)(vend - p));
		if (eq == NULL || (size_t)(eq - p) != namelen ||
		    memcmp(p, name, namelen) != 0) {
			if (vend == end)
				break;
			continue;
		}
		v = eq + 1;
		while (vend > v && is_ows(vend[-1]))
			vend--;
		/* A quoted value is taken without its quotes. */
		if (vend - v >= 2 && v[0] == '"' && vend[-1] == '"') {
			v++;
			vend--;
		}
		n = (size_t)(vend - v);
		if (n == 0 || n >= outlen)
			return 0;
		for (p = v; p < vend; p++)
			if (!cookie_octet(*p))
				return 0;
		memcpy(out, v, n);
		out[n] = '\0';
		/* The first cookie of that name wins, as browsers send it. */
		return 1;
	}
	return 0;
}

/* Forms */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode n bytes of a urlencoded name or value into out (room for n + 1
 * bytes); return the length, or -1 on a bad escape or a NUL.
 */
static long
form_decode(const char *s, size_t n, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
			lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				break;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			break;
		} else
			out[o++] = s[i];
	}
	/* Terminated either way, so that a refused value can be zeroed. */
	out[o] = '\0';
	return i == n ? (long)o : -1;
}

char *
page_form_get(const char *body, size_t len, const char *name, size_t max)
{
	const char *p, *end = body + len, *amp, *eq;
	char *key, *value;
	size_t klen, vlen;
	long n;

	if (body == NULL)
		return NULL;
	for (p = body; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		if (klen > 0 && klen <= PAGE_FORM_NAME_MAX) {
			key = xmalloc(klen + 1);
			n = form_decode(p, klen, key);
			if (n >= 0 && strcmp(key, name) == 0) {
				free(key);
				vlen = eq != NULL ? (size_t)(amp - eq - 1) : 0;
				/* Decoding never lengthens; check after too. */
				value = xmalloc(vlen + 1);
				n = form_decode(eq != NULL ? eq + 1 : amp, vlen,
				    value);
				if (n < 0 || (size_t)n > max) {
					xfree_secret(value);
					return NULL;
				}
				return value;
			}
			free(key);
		}
		if (amp == end)
			break;
	}
	return NULL;
}

/* Origins */

int
page_origin(const char *url, char *out, size_t outlen)
{
	const char *host;
	size_t n = 0, port;

	if (url == NULL)
		return -1;
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return -1;
	if (host[0] == '[') {
		n = 1 + strspn(host + 1, "0123456789abcdefABCDEF:.");
		if (n == 1 || host[n] != ']')
			return -1;
		n++;
	} else
		n = strspn(host,
		    "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
	if (n == 0)
		return -1;
	if (host[n] == ':') {
		port = strspn(host + n + 1, "0123456789");
		if (port == 0 || port > 5)
			return -1;
		n += 1 + port;
	}
	if (host[n] != '\0' && host[n] != '/' && host[n] != '?' &&
	    host[n] != '#')
		return -1;
	n += (size_t)(host - url);
	if (n + 1 > outlen)
		return -1;
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}
