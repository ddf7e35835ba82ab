/*
 * Mail transports: a const table of functions plus a private handle, chosen
 * by the scheme of the "mail" setting from a NULL-terminated list.
 */
#ifndef RESETD_TRANSPORT_H
#define RESETD_TRANSPORT_H

#include <stddef.h>

#include "../config.h"

/* What a failed send means for the message. */
#define TRANSPORT_TEMPORARY (-1)	/* try again later */
#define TRANSPORT_PERMANENT (-2)	/* give up now */

struct transport_driver {
	const char	*name;
	const char	*prefix;
	int	(*open)(const char *url, const struct config *, void **handle);
	void	(*close)(void *handle);
	/*
	 * Deliver one message (CRLF lines).  Return 0 once the destination
	 * accepted it, or TRANSPORT_TEMPORARY / TRANSPORT_PERMANENT with a
	 * reason in err.
	 */
	int	(*send)(void *handle, const char *from, const char *to,
		    const char *msg, size_t len, char *err, size_t errlen);
};

struct transport {
	const struct transport_driver	*driver;
	void				*handle;
};

/* Open the transport named by url; -1 on failure (logged). */
int	transport_open(const char *url, const struct config *,
	    struct transport *out) WUR;
void	transport_close(struct transport *);
int	transport_send(struct transport *, const char *from, const char *to,
	    const char *msg, size_t len, char *err, size_t errlen);

#endif
