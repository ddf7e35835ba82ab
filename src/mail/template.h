/*
 * Mail templates: per kind and locale, a subject, a text body and an HTML
 * body, with {{name}} placeholders.  In the HTML body every value is
 * HTML-escaped; in the subject and text it is inserted as is (the subject is
 * later refused if a value put a line break into it).
 *
 * Locales fall back from "pt_BR" to "pt" to English.
 */
#ifndef RESETD_TEMPLATE_H
#define RESETD_TEMPLATE_H

#include "outbox.h"

struct rendered_mail {
	char	*subject;
	char	*text;
	char	*html;
};

/*
 * Render the templates of kind for locale with vars.  Return 0 and fill
 * *out (free with rendered_mail_clear), or -1 when no template of that kind
 * exists (logged).
 */
int	template_render(const char *kind, const char *locale,
	    const struct mail_var *vars, struct rendered_mail *out) WUR;
void	rendered_mail_clear(struct rendered_mail *);

/*
 * Expand {{name}} placeholders of text (len bytes) into b; html selects
 * HTML escaping of the values.  -1 past the buffer's cap.
 */
int	template_expand(struct buf *b, const char *text, size_t len,
	    const struct mail_var *vars, int html) WUR;

#endif
