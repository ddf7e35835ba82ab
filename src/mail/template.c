/*
 * Template lookup and expansion.  The built-in templates are compiled into
 * the binary from templates/mail/LOCALE/KIND.{subject,txt,html}; overrides
 * are read from a folder once, checked, and kept in a table that is never
 * changed afterwards.  Lookups walk short tables: a few hundred built-in
 * files, and the overrides an operator wrote.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../log.h"
#include "../util/embedded.h"
#include "template.h"

/* The kinds of mail resetd sends, and the parts of each. */
static const char *const kinds[] = {
	"reset_link",
	"reset_code",
	"password_changed",
	"unknown_account",
	NULL,
};

static const char *const parts[] = {
	"subject",
	"txt",
	"html",
	NULL,
};

struct override {
	char *project_id; /* NULL: every project */
	char locale[TEMPLATE_LOCALE_MAX + 1];
	char *name; /* "reset_link.txt" */
	char *data;
	size_t len;
};

struct template_set {
	struct override *files;
	size_t n;
	/* References, changed atomically; the only field that ever changes. */
	int refs;
};

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
		if (strlen(vars->name) == n &&
		    strncmp(vars->name, name, n) == 0)
			return vars->value != NULL ? vars->value : "";
	return "";
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
		if ((html ? str_html_escape(b, value, strlen(value)) :
			    buf_puts(b, value)) == -1)
			return -1;
		p = close + 2;
	}
	return 0;
}

int
template_locale_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != 2 && n != 5)
		return 0;
	if (!(s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z'))
		return 0;
	return n == 2 ||
	    (s[2] == '_' && s[3] >= 'A' && s[3] <= 'Z' && s[4] >= 'A' &&
		s[4] <= 'Z');
}

static int
in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncmp(s, *list, n) == 0)
			return 1;
	return 0;
}

/* 1 when name is KIND.PART of a kind and part resetd knows. */
static int
file_name_valid(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && in_list(name, (size_t)(dot - name), kinds) &&
	    in_list(dot + 1, strlen(dot + 1), parts);
}

/*
 * 1 when the text is UTF-8 without NUL or control characters other than
 * tab and line ends; a subject must also be one line, but for the line
 * end it may finish with.
 */
static int
text_valid(const char *data, size_t len, int subject)
{
	const char *p = data, *end = data + len, *eol;
	size_t n;

	if (subject) {
		while (end > data && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		if (memchr(data, '\n', (size_t)(end - data)) != NULL ||
		    memchr(data, '\r', (size_t)(end - data)) != NULL)
			return 0;
	}
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((eol != NULL ? eol : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!str_is_clean_utf8(p, n))
			return 0;
		p = eol != NULL ? eol + 1 : end;
	}
	return 1;
}

/* Read one override file into the set; -1 with err. */
static int
load_file(struct template_set *ts, const char *project_id, const char *locale,
    const char *name, const char *path, char *err, size_t errlen)
{
	struct override *o;
	struct stat st;
	char *data = NULL;
	ssize_t got;
	size_t off = 0;
	int fd = -1, rc = -1;

	if (!file_name_valid(name)) {
		snprintf(err, errlen,
		    "templates_dir: %s: expected KIND.PART "
		    "(reset_link, reset_code, password_changed, "
		    "unknown_account; subject, txt, html)",
		    path);
		goto out;
	}
	if (ts->n >= TEMPLATE_FILES_MAX) {
		snprintf(err, errlen, "templates_dir: more than %d files",
		    TEMPLATE_FILES_MAX);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "templates_dir: %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TEMPLATE_FILE_MAX) {
		snprintf(err, errlen,
		    "templates_dir: %s: expected a file of "
		    "at most %d bytes",
		    path, TEMPLATE_FILE_MAX);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		got = read(fd, data + off, (size_t)st.st_size - off);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "templates_dir: %s: %s", path,
			    got == 0 ? "changed while read" : strerror(errno));
			goto out;
		}
		off += (size_t)got;
	}
	data[off] = '\0';
	if (!text_valid(data, off,
		str_has_prefix(strrchr(name, '.'), ".subject"))) {
		snprintf(err, errlen,
		    "templates_dir: %s: expected UTF-8 text "
		    "without control characters%s",
		    path, strstr(name, ".subject") ? ", on one line" : "");
		goto out;
	}
	ts->files = xrealloc(ts->files, (ts->n + 1) * sizeof(*ts->files));
	o = &ts->files[ts->n++];
	o->project_id = project_id ? xstrdup(project_id) : NULL;
	/* template_locale_valid let it through: at most 5 bytes. */
	memcpy(o->locale, locale, strnlen(locale, TEMPLATE_LOCALE_MAX) + 1);
	o->locale[TEMPLATE_LOCALE_MAX] = '\0';
	o->name = xstrdup(name);
	o->data = data;
	o->len = off;
	data = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(data);
	return rc;
}

/* Read every file of the folder dir/locale. */
static int
load_locale(struct template_set *ts, const char *project_id, const char *locale,
    const char *dir, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d;
	char *path;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "templates_dir: %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		rc = load_file(ts, project_id, locale, e->d_name, path, err,
		    errlen);
		free(path);
	}
	closedir(d);
	return rc;
}

/*
 * Read the folder dir, of locale folders, or, when project_id is NULL,
 * also of project folders holding locale folders.
 */
static int
load_dir(struct template_set *ts, const char *project_id, const char *dir,
    char *err, size_t errlen)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	char *path;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "templates_dir: %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen,
			    "templates_dir: %s: expected a "
			    "folder named LOCALE%s",
			    path, project_id ? "" : " or PROJECT_ID");
			rc = -1;
		} else if (template_locale_valid(e->d_name))
			rc = load_locale(ts, project_id, e->d_name, path, err,
			    errlen);
		else if (project_id == NULL && id_is_uuid(e->d_name))
			rc = load_dir(ts, e->d_name, path, err, errlen);
		else {
			snprintf(err, errlen,
			    "templates_dir: %s: expected a "
			    "folder named LOCALE (xx or xx_YY)%s",
			    path, project_id ? "" : " or PROJECT_ID");
			rc = -1;
		}
		free(path);
	}
	closedir(d);
	return rc;
}

int
template_set_open(const char *dir, struct template_set **out, char *err,
    size_t errlen)
{
	struct template_set *ts;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return 0;
	ts = xcalloc(1, sizeof(*ts));
	ts->refs = 1;
	if (load_dir(ts, NULL, dir, err, errlen) == -1) {
		template_set_free(ts);
		return -1;
	}
	*out = ts;
	return 0;
}

const struct template_set *
template_set_hold(const struct template_set *ts)
{
	if (ts != NULL)
		__atomic_add_fetch(&((struct template_set *)ts)->refs, 1,
		    __ATOMIC_RELAXED);
	return ts;
}

void
template_set_drop(const struct template_set *ts)
{
	template_set_free((struct template_set *)ts);
}

void
template_set_free(struct template_set *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	/* The last reference frees; acq_rel orders every use before it. */
	if (__atomic_sub_fetch(&ts->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < ts->n; i++) {
		free(ts->files[i].project_id);
		free(ts->files[i].name);
		free(ts->files[i].data);
	}
	free(ts->files);
	free(ts);
}

size_t
template_set_count(const struct template_set *ts)
{
	return ts != NULL ? ts->n : 0;
}

/* An override of project_id (NULL: instance-wide) for locale and name. */
static const struct override *
override_find(const struct template_set *ts, const char *project_id,
    const char *locale, const char *name)
{
	size_t i;

	for (i = 0; ts != NULL && i < ts->n; i++) {
		const struct override *o = &ts->files[i];

		if ((o->project_id == NULL) != (project_id == NULL))
			continue;
		if (project_id != NULL &&
		    strcmp(o->project_id, project_id) != 0)
			continue;
		if (strcmp(o->locale, locale) == 0 &&
		    strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

/*
 * 1 when a folder exists for locale; with prefix, any folder whose name
 * starts with locale (a language's regional folders), its name in found.
 */
static int
locale_exists(const struct template_set *ts, const char *project_id,
    const char *locale, int prefix, char found[TEMPLATE_LOCALE_MAX + 1])
{
	const struct embedded_file *f;
	char want[16];
	size_t i, n;

	n = (size_t)snprintf(want, sizeof(want), "mail/%s", locale);
	for (f = embedded_files; f->path != NULL; f++) {
		if (strncmp(f->path, want, n) != 0 ||
		    (prefix ? f->path[n] != '_' : f->path[n] != '/'))
			continue;
		snprintf(found, TEMPLATE_LOCALE_MAX + 1, "%.*s",
		    (int)strcspn(f->path + 5, "/"), f->path + 5);
		return 1;
	}
	for (i = 0; ts != NULL && i < ts->n; i++) {
		const struct override *o = &ts->files[i];

		if (o->project_id != NULL &&
		    (project_id == NULL ||
			strcmp(o->project_id, project_id) != 0))
			continue;
		if (prefix ? !(str_has_prefix(o->locale, locale) &&
				 o->locale[strlen(locale)] == '_') :
			     strcmp(o->locale, locale) != 0)
			continue;
		snprintf(found, TEMPLATE_LOCALE_MAX + 1, "%s", o->locale);
		return 1;
	}
	return 0;
}

int
template_locale_resolve(const struct template_set *ts, const char *project_id,
    const char *locale, char out[TEMPLATE_LOCALE_MAX + 1])
{
	char lang[3], found[TEMPLATE_LOCALE_MAX + 1];

	if (locale == NULL || !template_locale_valid(locale))
		return -1;
	memcpy(lang, locale, 2);
	lang[2] = '\0';
	if (locale_exists(ts, project_id, locale, 0, found) ||
	    locale_exists(ts, project_id, lang, 0, found) ||
	    locale_exists(ts, project_id, lang, 1, found)) {
		memcpy(out, found, sizeof(found));
		return 0;
	}
	return -1;
}

/*
 * Find KIND.PART for locale, then its language, then English; at each step
 * the project's override, the instance's, then the built-in file.
 */
static int
find_part(const struct template_set *ts, const char *project_id,
    const char *kind, const char *locale, const char *part, const char **data,
    size_t *len)
{
	const struct embedded_file *f;
	const struct override *o;
	char chain[3][TEMPLATE_LOCALE_MAX + 1], name[64], path[96];
	int i, n = 0;

	if (locale != NULL && template_locale_valid(locale)) {
		snprintf(chain[n++], sizeof(chain[0]), "%s", locale);
		if (strlen(locale) > 2)
			snprintf(chain[n++], sizeof(chain[0]), "%.2s", locale);
	}
	snprintf(chain[n++], sizeof(chain[0]), "en");
	if (snprintf(name, sizeof(name), "%s.%s", kind, part) >=
	    (int)sizeof(name))
		return -1;
	for (i = 0; i < n; i++) {
		o = NULL;
		if (project_id != NULL)
			o = override_find(ts, project_id, chain[i], name);
		if (o == NULL)
			o = override_find(ts, NULL, chain[i], name);
		if (o != NULL) {
			*data = o->data;
			*len = o->len;
			return 0;
		}
		snprintf(path, sizeof(path), "mail/%s/%s", chain[i], name);
		f = embedded_find(path);
		if (f != NULL) {
			*data = f->data;
			*len = f->len;
			return 0;
		}
	}
	return -1;
}

static char *
render_part(const struct template_set *ts, const char *project_id,
    const char *kind, const char *locale, const char *part,
    const struct mail_var *vars, int html)
{
	struct buf b;
	const char *data;
	size_t len;

	if (find_part(ts, project_id, kind, locale, part, &data, &len) == -1)
		return NULL;
	buf_init(&b, RENDERED_MAX);
	if (template_expand(&b, data, len, vars, html) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

int
template_render(const struct template_set *ts, const char *project_id,
    const char *kind, const char *locale, const struct mail_var *vars,
    struct rendered_mail *out)
{
	struct rendered_mail m = { NULL, NULL, NULL };
	size_t n;

	if (!in_list(kind, strlen(kind), kinds))
		return log_fail("mail: no template for kind %.64s", kind);
	m.subject = render_part(ts, project_id, kind, locale, "subject", vars,
	    0);
	m.text = render_part(ts, project_id, kind, locale, "txt", vars, 0);
	m.html = render_part(ts, project_id, kind, locale, "html", vars, 1);
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
