/*
 * Template lookup and expansion.  Templates are built into the binary from
 * templates/mail/LOCALE/KIND.{subject,txt,html}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util/embedded.h"
#include "template.h"

#define RENDERED_MAX (256 * 1024)
#define VAR_NAME_MAX 32

void
rendered_mail_clear(struct rendered_mail *m)
{
	xfree_secret(m->subject);
	xfree_secret(m->text);
	xfree_secret(m->html);
	memset(m, 0, sizeof(*m));
}

static const char *
var_value(const struct mail_var *vars, const char *name, size_t n)
{
	for (; vars != NULL && vars->name != NULL; vars++)
		if (strlen(vars->name) == n && strncmp(vars->name, name, n) == 0)
			return vars->value != NULL ? vars->value : "";
	return "";
}

static int
append_html_escaped(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
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

int
template_expand(struct buf *b, const char *text, size_t len,
    const struct mail_var *vars, int html)
{
	const char *p = text, *end = text + len, *open, *close;
	const char *name, *value;
	size_t n;

	while (p < end) {
		open = memmem(p, (size_t)(end - p), "{{", 2);
		if (open == NULL)
			return buf_append(b, p, (size_t)(end - p));
		if (buf_append(b, p, (size_t)(open - p)) == -1)
			return -1;
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL)
			return buf_append(b, open, (size_t)(end - open));
		name = open + 2;
		while (name < close && *name == ' ')
			name++;
		n = (size_t)(close - name);
		while (n > 0 && name[n - 1] == ' ')
			n--;
		if (n > VAR_NAME_MAX) {
			/* Not a placeholder: keep the text as it is. */
			if (buf_append(b, open, 2) == -1)
				return -1;
			p = open + 2;
			continue;
		}
		value = var_value(vars, name, n);
		if ((html ? append_html_escaped(b, value) : buf_puts(b, value)) == -1)
			return -1;
		p = close + 2;
	}
	return 0;
}

/* Find KIND.PART for locale, falling back to its language, then English. */
static const struct embedded_file *
find_part(const char *kind, const char *locale, const char *part)
{
	const struct embedded_file *f = NULL;
	char path[128], lang[3];

	if (locale != NULL && strlen(locale) <= 5) {
		snprintf(path, sizeof(path), "mail/%s/%s.%s", locale, kind, part);
		f = embedded_find(path);
		if (f == NULL && strlen(locale) > 2) {
			memcpy(lang, locale, 2);
			lang[2] = '\0';
			snprintf(path, sizeof(path), "mail/%s/%s.%s", lang, kind,
			    part);
			f = embedded_find(path);
		}
	}
	if (f == NULL) {
		snprintf(path, sizeof(path), "mail/en/%s.%s", kind, part);
		f = embedded_find(path);
	}
	return f;
}

static char *
render_part(const char *kind, const char *locale, const char *part,
    const struct mail_var *vars, int html)
{
	const struct embedded_file *f = find_part(kind, locale, part);
	struct buf b;

	if (f == NULL)
		return NULL;
	buf_init(&b, RENDERED_MAX);
	if (template_expand(&b, f->data, f->len, vars, html) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

int
template_render(const char *kind, const char *locale,
    const struct mail_var *vars, struct rendered_mail *out)
{
	struct rendered_mail m = { NULL, NULL, NULL };
	size_t n;

	m.subject = render_part(kind, locale, "subject", vars, 0);
	m.text = render_part(kind, locale, "txt", vars, 0);
	m.html = render_part(kind, locale, "html", vars, 1);
	if (m.subject == NULL || m.text == NULL || m.html == NULL) {
		rendered_mail_clear(&m);
		return log_fail("mail: no usable template for %s", kind);
	}
	/* The subject file ends with a newline that is not part of it. */
	n = strlen(m.subject);
	while (n > 0 && (m.subject[n - 1] == '\n' || m.subject[n - 1] == '\r'))
		m.subject[--n] = '\0';
	*out = m;
	return 0;
}
