/*
 * Building an RFC 5322 message: headers with RFC 2047 encoding where text
 * is not ASCII, and a multipart/alternative body with text/plain and
 * text/html parts in UTF-8, quoted-printable, lines within 76 characters.
 *
 * Header safety: a CR or LF in any value that reaches a header is refused,
 * never passed on.
 */
#ifndef RESETD_MESSAGE_H
#define RESETD_MESSAGE_H

#include <stdint.h>

#include "../util/util.h"

struct message_spec {
	const char *from_name; /* display name, may be NULL */
	const char *from_addr;
	const char *to_addr;
	const char *subject;
	const char *text;
	const char *html;
	int64_t date_ms;
};

/*
 * Build the message.  Return 0 and the message in *out (CRLF line ends,
 * caller frees), or -1 when a header value holds a line break or other
 * control character, or an address is malformed; err says which.
 */
int message_build(const struct message_spec *, char **out, char *err,
    size_t errlen) WUR;
/* Append s as quoted-printable (RFC 2045), lines at most 76 characters. */
int message_qp_encode(struct buf *, const char *s) WUR;
/* Append s as a header value: as is when plain ASCII, else RFC 2047 words. */
int message_header_encode(struct buf *, const char *s) WUR;

#endif
