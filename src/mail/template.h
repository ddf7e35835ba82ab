/*
 * Mail templates: per kind and locale, a subject, a text body and an HTML
 * body, with {{name}} placeholders.  In the HTML body every value is
 * HTML-escaped; in the subject and text it is inserted as is (the subject is
 * later refused if a value put a line break into it).
 *
 * The built-in templates (templates/mail/LOCALE/KIND.PART, compiled in) can
 * be overridden file by file from a folder, the templates_dir setting:
 *
 *	DIR/LOCALE/KIND.PART			for every project
 *	DIR/PROJECT_ID/LOCALE/KIND.PART		for one project
 *
 * PART is "subject", "txt" or "html".  A template set holds the overrides,
 * read and checked once when it is opened, and is read-only afterwards, so
 * threads share it.  A NULL set means the built-in templates alone.
 *
 * Each file is looked up for the message's locale, then its language
 * ("pt_BR" to "pt"), then English; at each step the project's override
 * wins over the instance's, which wins over the built-in file.
 */
#ifndef RESETD_TEMPLATE_H
#define RESETD_TEMPLATE_H

#include "outbox.h"

#define TEMPLATE_LOCALE_MAX 5	      /* "xx_YY" */
#define TEMPLATE_FILE_MAX (64 * 1024) /* bytes of one override file */
#define TEMPLATE_FILES_MAX 4096	      /* override files in one folder */

struct template_set;

struct rendered_mail {
	char *subject;
	char *text;
	char *html;
};

/*
 * Read the overrides below dir (NULL: none, and *out is NULL).  Every file
 * must be named LOCALE/KIND.PART or PROJECT_ID/LOCALE/KIND.PART with a kind
 * resetd sends, hold at most TEMPLATE_FILE_MAX bytes of UTF-8 without
 * control characters but tab and line ends, and a subject must be one
 * line.  Return 0 and *out (free with template_set_free), or -1 with the
 * first problem in err.
 */
int template_set_open(const char *dir, struct template_set **out, char *err,
    size_t errlen) WUR;
/*
 * A set is shared by reference count: the engine and the mail senders each
 * hold one, and a reload replaces the set while they still use the old.
 * template_set_hold takes another reference to ts (NULL: none) and returns
 * ts; template_set_free and template_set_drop give one back, and the set is
 * freed with the last.  Safe from any thread.  Both accept NULL.
 */
const struct template_set *template_set_hold(const struct template_set *);
void template_set_drop(const struct template_set *);
void template_set_free(struct template_set *);
/* The number of override files a set holds (0 for NULL). */
size_t template_set_count(const struct template_set *);

/* 1 when s names a template folder: "xx" or "xx_YY". */
int template_locale_valid(const char *s);
/*
 * The folder a message in locale is written from, for project_id (NULL:
 * none): locale itself when some template exists for it; else, for
 * "xx_YY", the language "xx"; else the first regional folder of the
 * language ("pt" finds "pt_BR").  Write it into out and return 0, or
 * return -1 when the language has no templates at all.
 */
int template_locale_resolve(const struct template_set *, const char *project_id,
    const char *locale, char out[TEMPLATE_LOCALE_MAX + 1]);

/*
 * Render the templates of kind for locale (NULL: English) and project_id
 * (NULL: instance-wide overrides only) with vars.  Return 0 and fill *out
 * (free with rendered_mail_clear), or -1 when no template of that kind
 * exists (logged).
 */
int template_render(const struct template_set *, const char *project_id,
    const char *kind, const char *locale, const struct mail_var *vars,
    struct rendered_mail *out) WUR;
/* Free what a rendering holds, zeroing it first; the struct is emptied. */
void rendered_mail_clear(struct rendered_mail *);

/*
 * Expand {{name}} placeholders of text (len bytes) into b; html selects
 * HTML escaping of the values.  -1 past the buffer's cap.
 */
int template_expand(struct buf *b, const char *text, size_t len,
    const struct mail_var *vars, int html) WUR;

#endif
