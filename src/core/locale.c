/*
 * The language of mail.  Every path that queues a message asks
 * engine_locale_choose, so that the rule is written once:
 *
 *	1. the locale the request gave (Xsolla's ?locale=, "xx_YY" or "xx"),
 *	2. the user's stored locale,
 *	3. the project's default locale,
 *	4. English;
 *
 * taking the first for which templates exist, built in or overridden.
 * A locale with no folder of its own falls back to its language ("pt_PT"
 * to "pt"), then to a regional folder of the language ("pt" to "pt_BR"),
 * and only then down the list.
 */
#include <string.h>

#include "../mail/template.h"
#include "engine_internal.h"

int
engine_locale_normalise(const char *s, char out[ENGINE_LOCALE_MAX + 1])
{
	char l[ENGINE_LOCALE_MAX + 1];
	size_t n, i;

	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n != 2 && n != 5)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (i == 2) {
			if (c != '_' && c != '-')
				return -1;
			l[i] = '_';
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c < 'a' || c > 'z')
			return -1;
		/* The language in lower case, the region in upper case. */
		l[i] = i < 2 ? c : (char)(c - 'a' + 'A');
	}
	l[n] = '\0';
	memcpy(out, l, n + 1);
	return 0;
}

void
engine_locale_choose(const struct template_set *ts, const char *project_id,
    const char *request, const char *user, const char *project,
    char out[ENGINE_LOCALE_MAX + 1])
{
	const char *cand[] = { request, user, project };
	char norm[ENGINE_LOCALE_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (engine_locale_normalise(cand[i], norm) == -1)
			continue;
		if (template_locale_resolve(ts, project_id, norm, out) == 0)
			return;
	}
	memcpy(out, "en", 3);
}
