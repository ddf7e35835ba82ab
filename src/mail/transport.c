/*
 * Transport selection.
 */
#include <string.h>

#include "../log.h"
#include "transport.h"

extern const struct transport_driver transport_maildir;

static const struct transport_driver *const transports[] = {
	&transport_maildir,
	NULL,
};

int
transport_open(const char *url, const struct config *cfg,
    struct transport *out)
{
	const struct transport_driver *const *t;

	for (t = transports; *t != NULL; t++) {
		if (!str_has_prefix(url, (*t)->prefix))
			continue;
		/* The driver is set only once its handle exists. */
		if ((*t)->open(url, cfg, &out->handle) == -1)
			return -1;
		out->driver = *t;
		return 0;
	}
	return log_fail("mail: unsupported transport (expected maildir:DIR)");
}

void
transport_close(struct transport *t)
{
	if (t->driver != NULL)
		t->driver->close(t->handle);
	t->driver = NULL;
}

int
transport_send(struct transport *t, const char *from, const char *to,
    const char *msg, size_t len, char *err, size_t errlen)
{
	return t->driver->send(t->handle, from, to, msg, len, err, errlen);
}
