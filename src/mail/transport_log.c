/*
 * The log transport, for development only: "log:" writes each message's
 * headers and text part to standard output, "log:FILE" appends them to
 * FILE (created 0600).  The text holds the reset link or code, so this is
 * a way to read mail on a developer's terminal, never a production
 * transport.  It never writes to standard error, where the JSON log lines
 * go: a secret cannot end up among them, and those lines stay one JSON
 * object each.
 *
 * Each message is one write(2) under a process-wide lock, so messages of
 * concurrent senders never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "transport.h"

#define ENTRY_MAX (2 * 1024 * 1024)

struct logt {
	int fd;
	int own; /* close fd on close */
};

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

static int
lt_open(const char *url, const struct config *cfg, void **handle)
{
	const char *path = url + strlen("log:");
	struct logt *t;
	int fd = STDOUT_FILENO;

	(void)cfg;
	if (*path != '\0') {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (fd == -1)
			return log_fail("mail: cannot open %s: %s", path,
			    strerror(errno));
	}
	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	t->own = *path != '\0';
	*handle = t;
	return 0;
}

static void
lt_close(void *handle)
{
	struct logt *t = handle;

	if (t->own)
		close(t->fd);
	free(t);
}

/* Append the headers of a message (CRLF lines, up to the blank line). */
static int
append_headers(struct buf *b, const char *data, size_t len)
{
	const char *end = memmem(data, len, "\r\n\r\n", 4);
	const char *p, *eol;
	int rc = 0;

	if (end == NULL)
		end = data + len;
	for (p = data; p < end && rc == 0; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		rc = buf_append(b, p, (size_t)(eol - p));
		if (rc == 0)
			rc = buf_puts(b, "\n");
	}
	return rc;
}

static int
lt_send(void *handle, const struct transport_msg *m, char *reply,
    size_t replylen)
{
	struct logt *t = handle;
	struct buf b;
	const char *p;
	size_t off = 0;
	ssize_t n;
	int rc;

	buf_init(&b, ENTRY_MAX);
	rc = buf_printf(&b,
	    "---- mail from <%s> to <%s> (log transport, for "
	    "development only) ----\n",
	    m->from, m->to);
	if (rc == 0)
		rc = append_headers(&b, m->data, m->len);
	if (rc == 0)
		rc = buf_printf(&b, "\n%s\n---- end of mail ----\n",
		    m->text != NULL ? m->text : "");
	if (rc != 0) {
		buf_free(&b);
		snprintf(reply, replylen, "log: message larger than %d bytes",
		    ENTRY_MAX);
		return TRANSPORT_PERMANENT;
	}
	p = buf_cstr(&b);
	pthread_mutex_lock(&write_lock);
	while (off < b.len) {
		n = write(t->fd, p + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	pthread_mutex_unlock(&write_lock);
	rc = off == b.len ? 0 : TRANSPORT_TEMPORARY;
	if (rc != 0)
		snprintf(reply, replylen, "log: %s", strerror(errno));
	buf_free(&b);
	return rc;
}

const struct transport_driver transport_log = {
	.name = "log",
	.prefix = "log:",
	.open = lt_open,
	.close = lt_close,
	.send = lt_send,
};
