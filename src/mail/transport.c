/*
 * Transport selection: the first driver whose prefix the URL starts with.
 */
#include <string.h>

#include "../log.h"
#include "transport.h"

extern const struct transport_driver transport_maildir;
extern const struct transport_driver transport_smtp;
extern const struct transport_driver transport_smtps;
extern const struct transport_driver transport_log;

static const struct transport_driver *const transports[] = {
	&transport_maildir,
	&transport_smtp,
	&transport_smtps,
	&transport_log,
	NULL,
};

static const struct transport_driver *
driver_of(const char *url)
{
	const struct transport_driver *const *t;

	for (t = transports; *t != NULL; t++)
		if (str_has_prefix(url, (*t)->prefix))
			return *t;
	return NULL;
}

int
transport_open(const char *url, const struct config *cfg, struct transport *out)
{
	const struct transport_driver *d = driver_of(url);

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return log_fail(
		    "mail: unsupported transport (expected "
		    "maildir:DIR, smtp://HOST, smtps://HOST or log:)");
	/* The driver is set only once its handle exists. */
	if (d->open(url, cfg, &out->handle) == -1)
		return -1;
	out->driver = d;
	return 0;
}

void
transport_close(struct transport *t)
{
	if (t->driver != NULL)
		t->driver->close(t->handle);
	t->driver = NULL;
	t->handle = NULL;
}

int
transport_send(struct transport *t, const struct transport_msg *m, char *reply,
    size_t replylen)
{
	if (replylen > 0)
		reply[0] = '\0';
	return t->driver->send(t->handle, m, reply, replylen);
}

void
transport_cancel(struct transport *t)
{
	if (t->driver != NULL && t->driver->cancel != NULL)
		t->driver->cancel(t->handle);
}

const char *
transport_name(const char *url)
{
	const struct transport_driver *d = driver_of(url);

	return d != NULL ? d->name : NULL;
}
