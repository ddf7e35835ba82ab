/*
 * MIME message construction.  Everything outside input can influence is
 * checked before it reaches a header, and the body is quoted-printable so
 * no line ever passes the RFC limits whatever the template says.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "message.h"

#define MESSAGE_MAX (1024 * 1024)
#define QP_LINE 76
/*
 * Text bytes per RFC 2047 encoded word: 36 bytes make 48 of base64 and a
 * 60-character word, so "Subject: " and a word stay within 76 columns.
 */
#define WORD_BYTES 36
/* Plain ASCII header text longer than this is sent as encoded words too,
 * which fold, so no header line passes 78 columns. */
#define PLAIN_HEADER_MAX 60

/* 1 when s is safe in a header: no CR, LF or other control characters. */
static int
header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* A plain address: local@domain, printable ASCII, no specials. */
static int
address_valid(const char *s)
{
	const char *at = strchr(s, '@');

	if (!header_safe(s) || !is_ascii(s) || at == NULL || at == s ||
	    at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return 0;
	return strpbrk(s, " <>()[],;:\\\"") == NULL;
}

int
message_header_encode(struct buf *b, const char *s)
{
	char chunk[64];
	size_t len = strlen(s), i = 0, n;

	if (is_ascii(s) && len <= PLAIN_HEADER_MAX)
		return buf_puts(b, s);
	/*
	 * Encoded words of at most WORD_BYTES of text, cut between UTF-8
	 * characters, folded onto continuation lines.
	 */
	while (i < len) {
		n = len - i > WORD_BYTES ? WORD_BYTES : len - i;
		while (n > 0 && i + n < len &&
		    ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		sodium_bin2base64(chunk, sizeof(chunk),
		    (const unsigned char *)s + i, n,
		    sodium_base64_VARIANT_ORIGINAL);
		if (buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "",
			chunk) == -1)
			return -1;
		i += n;
	}
	return 0;
}

int
message_qp_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[4];
	int col = 0, rc = 0;
	size_t n;

	for (; *s != '\0' && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r')
			continue;
		if (c == '\n') {
			rc = buf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		/* Space or tab before a line end must be encoded. */
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && s[1] != '\n' && s[1] != '\r' &&
			s[1] != '\0')) {
			enc[0] = (char)c;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			n = 3;
		}
		if (col + (int)n > QP_LINE - 1) {
			rc = buf_puts(b, "=\r\n");
			col = 0;
		}
		if (rc == 0)
			rc = buf_append(b, enc, n);
		col += (int)n;
	}
	return rc;
}

/* Quote a display name that is ASCII, escaping quotes and backslashes. */
static int
append_quoted(struct buf *b, const char *s)
{
	int rc = buf_puts(b, "\"");

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = buf_puts(b, "\\");
		if (rc == 0)
			rc = buf_append(b, s, 1);
	}
	return rc == 0 ? buf_puts(b, "\"") : -1;
}

int
message_build(const struct message_spec *m, char **out, char *err,
    size_t errlen)
{
	struct buf b;
	char date[40], boundary[40], msgid[40];
	uint8_t rnd[12];
	const char *domain;
	int rc = 0;

	if (!address_valid(m->from_addr) || !address_valid(m->to_addr)) {
		snprintf(err, errlen, "malformed sender or recipient address");
		return -1;
	}
	if ((m->from_name != NULL && !header_safe(m->from_name)) ||
	    !header_safe(m->subject)) {
		snprintf(err, errlen,
		    "line break or control character in a "
		    "header value");
		return -1;
	}
	domain = strchr(m->from_addr, '@') + 1;
	time_rfc5322(m->date_ms, date);
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), msgid);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "=_resetd_");
	hex_encode(rnd, sizeof(rnd), boundary + 9);

	buf_init(&b, MESSAGE_MAX);
	rc |= buf_printf(&b, "Date: %s\r\n", date);
	rc |= buf_printf(&b, "Message-ID: <%s@%s>\r\n", msgid, domain);
	rc |= buf_puts(&b, "From: ");
	if (m->from_name != NULL && *m->from_name != '\0') {
		if (is_ascii(m->from_name) &&
		    strlen(m->from_name) <= PLAIN_HEADER_MAX) {
			rc |= append_quoted(&b, m->from_name);
			rc |= buf_printf(&b, " <%s>\r\n", m->from_addr);
		} else {
			/* The address goes on a line of its own. */
			rc |= message_header_encode(&b, m->from_name);
			rc |= buf_printf(&b, "\r\n <%s>\r\n", m->from_addr);
		}
	} else
		rc |= buf_printf(&b, "%s\r\n", m->from_addr);
	rc |= buf_printf(&b, "To: %s\r\n", m->to_addr);
	rc |= buf_puts(&b, "Subject: ");
	rc |= message_header_encode(&b, m->subject);
	rc |= buf_puts(&b, "\r\nMIME-Version: 1.0\r\n");
	/* RFC 3834: vacation responders leave automatic mail alone. */
	rc |= buf_puts(&b, "Auto-Submitted: auto-generated\r\n");
	rc |= buf_printf(&b,
	    "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s\"\r\n\r\n",
	    boundary);
	rc |= buf_printf(&b,
	    "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	    boundary);
	rc |= message_qp_encode(&b, m->text);
	rc |= buf_printf(&b,
	    "\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
	    boundary);
	rc |= message_qp_encode(&b, m->html);
	rc |= buf_printf(&b, "\r\n--%s--\r\n", boundary);
	if (rc != 0) {
		buf_free(&b);
		snprintf(err, errlen, "message larger than %d bytes",
		    MESSAGE_MAX);
		return -1;
	}
	*out = buf_take(&b);
	return 0;
}
