/*
 * The rules every face asks the same way, each in one function: how a
 * project's reset secrets are delivered (a link or a code), which
 * callback URL a call may use, and whether a client lets its answers
 * tell which accounts exist.  A face passes what it was sent and what
 * its wire format can carry; the rule itself is only here.
 */
#include <string.h>

#include "engine_internal.h"

enum reset_delivery
engine_delivery(const struct project *p, unsigned carries)
{
	if (carries == DELIVERY_CARRIES_LINK)
		return DELIVER_LINK;
	if (carries == DELIVERY_CARRIES_CODE)
		return DELIVER_CODE;
	return p->delivery != NULL && strcmp(p->delivery, "code") == 0 ?
	    DELIVER_CODE :
	    DELIVER_LINK;
}

/* The first of a newline-separated list, copied; NULL when empty. */
static char *
first_line(const char *lines)
{
	if (lines == NULL || *lines == '\0')
		return NULL;
	return xstrndup(lines, strcspn(lines, "\n"));
}

enum engine_result
engine_callback_url(const struct project *p, const char *requested,
    unsigned flags, char **out)
{
	*out = NULL;
	if (requested != NULL && engine_login_url_allowed(p, requested)) {
		*out = xstrdup(requested);
		return ENGINE_OK;
	}
	if (requested != NULL && (flags & CALLBACK_REFUSE_UNLISTED))
		return ENGINE_LOGIN_URL_REFUSED;
	/* Several to choose from and none chosen: the caller must choose. */
	if (requested == NULL && (flags & CALLBACK_REQUIRE_CHOICE) &&
	    p->callback_urls != NULL && strchr(p->callback_urls, '\n') != NULL)
		return ENGINE_LOGIN_URL_REFUSED;
	/* An unlisted URL ignored is as if none was sent. */
	if (flags & CALLBACK_DEFAULT_FIRST)
		*out = first_line(p->callback_urls);
	return ENGINE_OK;
}

int
engine_reveals_users(const struct app_client *cl)
{
	return cl != NULL && !cl->prevent_user_existence_errors;
}
