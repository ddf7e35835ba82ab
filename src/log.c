/*
 * The log writer.  Each line is built in a capped buffer and written with a
 * single write(2), so lines from concurrent threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_VALUE_MAX 1024 /* bytes of one field kept; longer is cut */
#define LOG_LINE_MAX 65536 /* room for every field at its longest */

static const char *const level_names[LOG__MAX] = {
	"debug", /* LOG_DEBUG */
	"info",	 /* LOG_INFO */
	"warn",	 /* LOG_WARN */
	"error", /* LOG_ERROR */
};

/*
 * The lowest level written.  A reload changes it while other threads log,
 * so it is read and written atomically.
 */
static int min_level = LOG_INFO;

static int
level_of(const char *name)
{
	int i;

	for (i = 0; i < LOG__MAX; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

static int
level_enabled(enum log_level level)
{
	return (int)level >= __atomic_load_n(&min_level, __ATOMIC_RELAXED);
}

int
log_level_valid(const char *name)
{
	return level_of(name) != -1;
}

int
log_level_rank(const char *name)
{
	return level_of(name);
}

int
log_set_level(const char *name)
{
	int i = level_of(name);

	if (i == -1)
		return -1;
	__atomic_store_n(&min_level, i, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Escape at most n bytes of s, up to a NUL, as the inside of a JSON
 * string: quotes, backslashes and controls escaped, and each byte that
 * does not start a valid UTF-8 sequence written as U+FFFD, so that a line
 * holding a client's bytes still parses.
 */
static int
escape_n(struct buf *b, const char *s, size_t n)
{
	char u[8];
	const char *end = s + n;
	size_t seq;
	int rc;

	while (s < end && *s != '\0') {
		unsigned char c = (unsigned char)*s;

		seq = str_utf8_seq(s, (size_t)(end - s));
		if (seq == 0) {
			rc = buf_puts(b, "\\ufffd");
			seq = 1;
		} else if (c == '"' || c == '\\') {
			u[0] = '\\';
			u[1] = (char)c;
			rc = buf_append(b, u, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			rc = buf_append(b, u, 6);
		} else
			rc = buf_append(b, s, seq);
		if (rc == -1)
			return -1;
		s += seq;
	}
	return 0;
}

int
log_escape(struct buf *b, const char *s)
{
	return escape_n(b, s, strlen(s));
}

static void
line_start(struct buf *b, const char *level)
{
	char ts[ISO8601_LEN + 1];

	time_iso8601(time_now_ms(), ts);
	if (buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level) == -1)
		abort(); /* the line buffer holds far more */
}

static void
line_field(struct buf *b, const char *key, const char *value)
{
	size_t n;

	if (value == NULL)
		return;
	/* Cut long values on a character boundary. */
	n = strnlen(value, LOG_VALUE_MAX + 1);
	if (n > LOG_VALUE_MAX) {
		n = LOG_VALUE_MAX;
		while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
			n--;
	}
	if (buf_printf(b, ",\"%s\":\"", key) == -1 ||
	    escape_n(b, value, n) == -1 || buf_puts(b, "\"") == -1)
		abort(); /* LOG_LINE_MAX holds every field at its longest */
}

static void
line_write(struct buf *b)
{
	ssize_t n;

	if (buf_puts(b, "}\n") == -1)
		abort();
	n = write(STDERR_FILENO, b->data, b->len);
	(void)n;
	buf_free(b);
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	struct buf b;
	char msg[1024];

	if (!level_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	buf_init(&b, LOG_LINE_MAX);
	line_start(&b, level_names[level]);
	line_field(&b, "msg", msg);
	line_write(&b);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int
log_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_request(const struct log_request *r)
{
	struct buf b;

	if (!level_enabled(LOG_INFO))
		return;
	buf_init(&b, LOG_LINE_MAX);
	line_start(&b, "info");
	line_field(&b, "msg", "request");
	line_field(&b, "request_id", r->request_id);
	line_field(&b, "method", r->method);
	line_field(&b, "path", r->path);
	line_field(&b, "remote", r->remote);
	if (r->client != NULL && strcmp(r->client, r->remote) != 0)
		line_field(&b, "client", r->client);
	line_field(&b, "dialect", r->dialect);
	line_field(&b, "outcome", r->outcome);
	if (buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f", r->status,
		(double)r->duration_us / 1000.0) == -1)
		abort();
	line_write(&b);
}
