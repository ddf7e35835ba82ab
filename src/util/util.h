/*
 * Small utilities every layer uses: allocation that cannot fail, a growable
 * buffer with a mandatory cap, base64url and hex codecs, identifiers, time.
 *
 * Allocation failure is fatal (xmalloc and friends abort with a message), so
 * request code carries no out-of-memory branches.  Every buffer that holds
 * outside input has a cap, fixed when it is created.
 */
#ifndef RESETD_UTIL_H
#define RESETD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))

/* xalloc.c */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xasprintf(const char *, ...) PRINTF(1, 2);
/* Zero a secret string and free it; accepts NULL. */
void xfree_secret(char *);

/* buf.c: a growable byte buffer that refuses to grow past its cap. */
struct buf {
	char *data; /* always NUL-terminated when len > 0 or after buf_cstr */
	size_t len;
	size_t size;
	size_t cap; /* the most bytes it may ever hold */
};

void buf_init(struct buf *, size_t cap);
/* Append; return 0, or -1 when the cap would be passed (nothing appended). */
int buf_append(struct buf *, const void *, size_t) WUR;
int buf_puts(struct buf *, const char *) WUR;
int buf_printf(struct buf *, const char *, ...) PRINTF(2, 3) WUR;
/* Return the contents as a NUL-terminated string owned by the buffer. */
const char *buf_cstr(struct buf *);
/* Hand the contents to the caller (who frees them); the buffer is emptied. */
char *buf_take(struct buf *);
void buf_reset(struct buf *);
void buf_free(struct buf *);

/* codec.c */
/* Bytes needed for the base64url text of n bytes, without padding or NUL. */
#define B64URL_LEN(n) (((n)*4 + 2) / 3)
void base64url_encode(const uint8_t *, size_t, char *out);
/*
 * Decode unpadded base64url text of length len into out (room for len*3/4
 * bytes).  Return the number of bytes written, or -1 on a bad character or
 * length.
 */
int base64url_decode(const char *, size_t len, uint8_t *out) WUR;
void hex_encode(const uint8_t *, size_t, char *out);
int hex_decode(const char *, size_t len, uint8_t *out) WUR;

/* id.c */
#define UUID_STRLEN 36
#define ULID_STRLEN 26
/*
 * Write a new time-ordered UUID (version 7) into out (UUID_STRLEN + 1 bytes).
 * Every id resetd makes is one of these; dialects that show ids as
 * "prefix_ULID" print the same 128 bits in Crockford base32.
 */
void id_new(char *out);
/*
 * The same, but ids made by this process sort in the order they were
 * made, even within one millisecond (RFC 9562's counter in rand_a):
 * for the event log, whose cursor is an id.
 */
void id_new_ordered(char *out);
/* Return 1 when s is a UUID in canonical lowercase-or-uppercase form. */
int id_is_uuid(const char *);
/* The same 128 bits as a ULID (ULID_STRLEN + 1 bytes); -1 if not a UUID. */
int id_uuid_to_ulid(const char *uuid, char *out) WUR;
/* The reverse; -1 if s is not a valid ULID. */
int id_ulid_to_uuid(const char *ulid, char *out) WUR;
/* Longest prefix id_prefixed takes ("password_reset_" is 15 bytes). */
#define ID_PREFIX_MAX 32
/*
 * The public form of an id: prefix (such as "user_") and the ULID of a
 * UUID, newly allocated; NULL when uuid is not a UUID or the prefix is
 * longer than ID_PREFIX_MAX.
 */
char *id_prefixed(const char *prefix, const char *uuid);
/*
 * The reverse: write the UUID named by s into out (UUID_STRLEN + 1 bytes)
 * when s is prefix and a valid ULID; -1 otherwise, out untouched.
 */
int id_unprefix(const char *prefix, const char *s, char *out) WUR;

/* timeutil.c */
/* Milliseconds since the epoch, wall clock. */
int64_t time_now_ms(void);
/* Monotonic milliseconds, for durations. */
int64_t time_mono_ms(void);
/* Monotonic microseconds, for durations. */
int64_t time_mono_us(void);
/* ISO-8601 UTC with milliseconds ("2023-07-18T02:07:19.911Z"), 25 bytes. */
#define ISO8601_LEN 24
void time_iso8601(int64_t ms, char *out);
/* RFC 5322 date ("Mon, 23 Nov 2026 03:46:00 +0000") into out[40]. */
void time_rfc5322(int64_t ms, char *out);

/* str.c */
/* Return 1 when s starts with prefix. */
int str_has_prefix(const char *s, const char *prefix);
/* Return 1 when s is valid UTF-8 with no NUL and no C0 controls but tab. */
int str_is_clean_utf8(const char *s, size_t len);
/*
 * The length of the valid UTF-8 sequence at s (1 to 4 bytes, n bytes
 * available), or 0 when s does not start one: a stray continuation byte,
 * a lead byte cut short, an overlong form, a surrogate, beyond U+10FFFF.
 * NUL and controls count as valid here.
 */
size_t str_utf8_seq(const char *s, size_t n);
/* Return 1 when the n bytes of s are valid UTF-8 (controls allowed). */
int str_is_utf8(const char *s, size_t n);
/*
 * Copy n bytes of outside text s into out (outlen bytes, at least 4) as
 * valid UTF-8 with no NUL: each byte that does not start a valid sequence
 * becomes U+FFFD, and a NUL becomes U+FFFD too.  The copy is cut on a
 * character boundary when it does not fit, and always NUL-terminated.
 * This is what every answer and log line uses to echo bytes a client
 * sent.  Return the length written.
 */
size_t str_utf8_clean(char *out, size_t outlen, const char *s, size_t n);
/* Number of Unicode code points in valid UTF-8 text. */
size_t str_utf8_count(const char *);
/* Append s percent-encoded for a URL query value; -1 past the cap. */
int str_url_encode(struct buf *, const char *s) WUR;
/*
 * Append n bytes of s to b escaped for HTML text and attribute values
 * (& < > " ' become entities); -1 past the buffer's cap.
 */
int str_html_escape(struct buf *, const char *s, size_t n) WUR;
/*
 * Append s to b as a JSON string, quotes included: ", \ and controls
 * escaped, each byte that does not start a valid UTF-8 sequence written
 * as U+FFFD, so the result always parses.  NULL appends null.  -1 past
 * the buffer's cap.
 */
int str_json_string(struct buf *, const char *s) WUR;
/* 1 when a and b are equal but for ASCII case. */
int str_case_equal(const char *a, const char *b);
/* A 32-bit FNV-1a hash of s, to spread keys over a fixed table. */
uint32_t str_hash(const char *s);

/* cidr.c: addresses and ranges */
struct addr {
	int family;	   /* 4 or 6 */
	uint8_t bytes[16]; /* IPv4 in the first 4 */
};

struct cidr {
	struct addr addr;
	int bits; /* prefix length */
};

/*
 * Parse len bytes of s as an IPv4 or IPv6 address (an IPv4-mapped one
 * becomes IPv4).  0, or -1 when it is not an address.
 */
int addr_parse(const char *s, size_t len, struct addr *) WUR;
/* The text form of an address into out (INET6_ADDRSTRLEN bytes do). */
void addr_format(const struct addr *, char *out, size_t outlen);
/* The rate limiter's key of a client: IPv4 as is, IPv6 by its /64. */
void addr_group(const struct addr *, struct addr *out);
/* a with every bit past the first bits cleared: its range of that size. */
void addr_prefix(const struct addr *, int bits, struct addr *out);
/* Parse len bytes of s as "ADDR" or "ADDR/BITS"; 0, or -1. */
int cidr_parse(const char *s, size_t len, struct cidr *) WUR;
/* 1 when a lies in c. */
int cidr_match(const struct cidr *, const struct addr *);
/*
 * Parse a list of ranges separated by commas or blanks into out (room for
 * max); 0 with the count in *n, or -1 on a malformed item or too many.
 */
int cidr_parse_list(const char *s, struct cidr *out, size_t max, size_t *n) WUR;
/* 1 when a lies in one of the n ranges. */
int cidr_list_match(const struct cidr *, size_t n, const struct addr *);

/* sha1.c: only for breached-password lists, which are keyed by it */
#define SHA1_BYTES 20
void sha1(const void *, size_t, uint8_t out[SHA1_BYTES]);

#endif
