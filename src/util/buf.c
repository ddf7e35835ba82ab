/*
 * A growable buffer with a cap, in the manner of curl's dynbuf: whoever
 * creates it says how large it may ever get, so outside input can never make
 * it grow without bound.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

static int
buf_reserve(struct buf *b, size_t more)
{
	size_t want;

	if (more > b->cap || b->len > b->cap - more)
		return -1;
	want = b->len + more + 1;
	if (want <= b->size)
		return 0;
	if (b->size * 2 > want)
		want = b->size * 2;
	if (want < 64)
		want = 64;
	if (want > b->cap + 1)
		want = b->cap + 1;
	b->data = xrealloc(b->data, want);
	b->size = want;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	rc = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (rc != n)
		return -1;
	b->len += (size_t)n;
	return 0;
}

const char *
buf_cstr(struct buf *b)
{
	if (b->data == NULL) {
		b->data = xmalloc(1);
		b->data[0] = '\0';
		b->size = 1;
	}
	return b->data;
}

char *
buf_take(struct buf *b)
{
	char *p;

	buf_cstr(b);
	p = b->data;
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}
