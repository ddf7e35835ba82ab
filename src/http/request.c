/*
 * Reading a request: the one accessor every face reads headers through,
 * which lets no byte that is not clean UTF-8 reach a face, and the plain
 * fields a request made without a connection carries (tests and the fuzz
 * drivers run whole handlers so, through the real route table).
 */
#include <string.h>
#include <strings.h>

#include "http.h"

const char *
http_field(const struct http_request *r, enum http_field_kind kind,
    const char *name)
{
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		if (r->fields[i].kind != kind)
			continue;
		if (kind == HTTP_FIELD_HEADER ?
			strcasecmp(r->fields[i].name, name) == 0 :
			strcmp(r->fields[i].name, name) == 0)
			return r->fields[i].value;
	}
	return NULL;
}

const char *
http_header(const struct http_request *r, const char *name)
{
	const char *v = http_header_raw(r, name);

	if (v == NULL || !str_is_clean_utf8(v, strlen(v)))
		return NULL;
	return v;
}

const char *
http_header_malformed(const struct http_request *r, const char *const *names)
{
	const char *v;

	for (; *names != NULL; names++) {
		v = http_header_raw(r, *names);
		if (v != NULL && !str_is_clean_utf8(v, strlen(v)))
			return *names;
	}
	return NULL;
}

int
http_content_charset(const struct http_request *r, char *out, size_t outlen)
{
	const char *ct = http_header(r, "Content-Type"), *p;
	size_t i = 0;
	int quoted;

	out[0] = '\0';
	if (ct == NULL)
		return 0;
	/* Each parameter after a ';': name=value or name="value". */
	for (p = strchr(ct, ';'); p != NULL; p = strchr(p, ';')) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "charset", 7) != 0)
			continue;
		p += 7;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		quoted = *p == '"';
		if (quoted)
			p++;
		for (; p[i] != '\0' && p[i] != ';' && p[i] != '"' &&
		     p[i] != ' ' && p[i] != '\t';
		     i++) {
			if (i + 1 >= outlen || (unsigned char)p[i] >= 0x80)
				return -1;
			out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ?
				p[i] - 'A' + 'a' :
				p[i]);
		}
		out[i] = '\0';
		return 0;
	}
	return 0;
}
