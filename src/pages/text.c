/*
 * The pages' words: one text file per language under templates/pages/text/,
 * built into the binary, each line "key = text"; blank lines and lines
 * starting with # are skipped.  Text may hold {{name}} placeholders, which
 * the renderer fills (and HTML-escapes) like any value.
 *
 * The files are parsed once, at startup (pages_load), into a table per
 * language; a use before that parses them then.  A key a language lacks
 * falls back to English, so a page is never left with a hole;
 * page_text_complete tells the tests when that happens.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util/embedded.h"
#include "pages.h"

#define TEXT_KEYS_MAX 128

struct text_entry {
	char *key;
	char *value;
};

static struct text_table {
	struct text_entry entries[TEXT_KEYS_MAX];
	int n;
} tables[LOC__MAX];

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Strip spaces and tabs from both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s &&
	    ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

static void
table_load(enum page_locale l)
{
	const struct embedded_file *f = embedded_find(page_locale(l)->text);
	struct text_table *t = &tables[l];
	const char *p, *end, *eol, *eq, *ks, *ke, *vs, *ve;

	if (f == NULL)
		log_fatal("pages: %s is not built in", page_locale(l)->text);
	end = f->data + f->len;
	for (p = f->data; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		ks = p;
		ke = eol;
		trim(&ks, &ke);
		if (ks == ke || *ks == '#')
			continue;
		eq = memchr(ks, '=', (size_t)(ke - ks));
		if (eq == NULL)
			log_fatal("pages: %s: a line without '='",
			    page_locale(l)->text);
		vs = eq + 1;
		ve = ke;
		ke = eq;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (t->n >= TEXT_KEYS_MAX)
			log_fatal("pages: %s: more than %d keys",
			    page_locale(l)->text, TEXT_KEYS_MAX);
		t->entries[t->n].key = xstrndup(ks, (size_t)(ke - ks));
		t->entries[t->n].value = xstrndup(vs, (size_t)(ve - vs));
		t->n++;
		if (eol == end)
			break;
	}
}

static void
tables_load(void)
{
	enum page_locale l;

	for (l = 0; l < LOC__MAX; l++)
		table_load(l);
}

void
page_text_load(void)
{
	pthread_once(&tables_once, tables_load);
}

static const char *
lookup(enum page_locale l, const char *key)
{
	const struct text_table *t = &tables[l];
	int i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->entries[i].key, key) == 0)
			return t->entries[i].value;
	return NULL;
}

const char *
page_text(enum page_locale l, const char *key)
{
	const char *v;

	pthread_once(&tables_once, tables_load);
	if (l < 0 || l >= LOC__MAX)
		abort();
	v = lookup(l, key);
	if (v == NULL)
		v = lookup(LOC_EN, key);
	return v != NULL ? v : "";
}

int
page_text_complete(void)
{
	enum page_locale l;
	int i, ok = 1;

	pthread_once(&tables_once, tables_load);
	for (l = 0; l < LOC__MAX; l++) {
		for (i = 0; i < tables[LOC_EN].n; i++) {
			if (lookup(l, tables[LOC_EN].entries[i].key) != NULL)
				continue;
			log_error("pages: %s lacks %s", page_locale(l)->text,
			    tables[LOC_EN].entries[i].key);
			ok = 0;
		}
		for (i = 0; i < tables[l].n; i++) {
			if (lookup(LOC_EN, tables[l].entries[i].key) != NULL)
				continue;
			log_error("pages: %s has %s, which English lacks",
			    page_locale(l)->text, tables[l].entries[i].key);
			ok = 0;
		}
	}
	return ok;
}
