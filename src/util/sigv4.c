/*
 * AWS Signature Version 4 as a verifier computes it (see sigv4.h).  The
 * canonical request follows AWS's signers to the byte: the path with its
 * "." and ".." segments and empty segments removed, each segment
 * URI-encoded (RFC 3986 unreserved characters kept, the rest as %XX in
 * upper case) once per encoding asked; the query sorted by encoded name,
 * then value; the signed headers lower-case, their values trimmed with
 * inner runs of spaces collapsed; the payload's SHA-256 in hex, computed
 * from the body itself, never taken from a header.  HMACs and hashes are
 * libsodium's.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sigv4.h"

#define TERMINATOR "aws4_request"
#define SEGMENT_MAX 4096

/* 1 when c is an RFC 3986 unreserved character. */
static int
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Append s (n bytes) URI-encoded to b. */
static int
uri_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			if (buf_append(b, &s[i], 1) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(b, esc, 3) == -1)
			return -1;
	}
	return 0;
}

/* Append segment s (n bytes) encoded times times. */
static int
segment_encode(struct buf *b, const char *s, size_t n, int times)
{
	struct buf once;
	int rc;

	if (times <= 1)
		return uri_encode(b, s, n);
	buf_init(&once, n * 3 + 1);
	rc = uri_encode(&once, s, n);
	if (rc == 0)
		rc = segment_encode(b, once.data ? once.data : "", once.len,
		    times - 1);
	buf_free(&once);
	return rc;
}

/* The canonical URI of a decoded path. */
static int
canonical_uri(struct buf *b, const char *path, int times)
{
	const char *seg[256];
	size_t len[256], n = 0, i, plen = strlen(path);
	const char *p = path, *end = path + plen, *slash;
	int trailing = plen > 0 && path[plen - 1] == '/';

	while (p < end) {
		slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL)
			slash = end;
		if (slash - p == 0 || (slash - p == 1 && p[0] == '.'))
			; /* empty or ".": dropped */
		else if (slash - p == 2 && p[0] == '.' && p[1] == '.') {
			if (n > 0)
				n--;
		} else {
			if (n == sizeof(seg) / sizeof(seg[0]) ||
			    (size_t)(slash - p) > SEGMENT_MAX)
				return -1;
			seg[n] = p;
			len[n++] = (size_t)(slash - p);
		}
		p = slash + 1;
	}
	if (buf_puts(b, "/") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (i > 0 && buf_puts(b, "/") == -1)
			return -1;
		if (segment_encode(b, seg[i], len[i], times) == -1)
			return -1;
	}
	if (n > 0 && trailing && buf_puts(b, "/") == -1)
		return -1;
	return 0;
}

struct qpair {
	char *name;  /* encoded */
	char *value; /* encoded */
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static char *
encoded(const char *s)
{
	struct buf b;

	buf_init(&b, strlen(s) * 3 + 1);
	if (uri_encode(&b, s, strlen(s)) == -1)
		abort(); /* the cap fits every byte encoded */
	return b.len ? buf_take(&b) : (buf_free(&b), xstrdup(""));
}

static int
canonical_query(struct buf *b, const struct sigv4_param *q, size_t n)
{
	struct qpair *p;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	p = xcalloc(n, sizeof(*p));
	for (i = 0; i < n; i++) {
		p[i].name = encoded(q[i].name);
		p[i].value = encoded(q[i].value ? q[i].value : "");
	}
	qsort(p, n, sizeof(*p), qpair_cmp);
	for (i = 0; i < n && rc == 0; i++)
		rc = buf_printf(b, "%s%s=%s", i ? "&" : "", p[i].name,
		    p[i].value);
	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	return rc;
}

/* Append a header value trimmed, inner runs of spaces as one. */
static int
header_value(struct buf *b, const char *v)
{
	size_t i, n;
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	for (i = 0; i < n; i++) {
		if (v[i] == ' ' || v[i] == '\t') {
			space = 1;
			continue;
		}
		if (space && buf_append(b, " ", 1) == -1)
			return -1;
		space = 0;
		if (buf_append(b, &v[i], 1) == -1)
			return -1;
	}
	return 0;
}

static void
sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	hex_encode(h, sizeof(h), out);
}

int
sigv4_canonical_request(const struct sigv4_request *r,
    const char *signed_headers, struct buf *out)
{
	char name[SIGV4_SIGNED_HEADERS_MAX + 1];
	char hash[SIGV4_HEX_LEN + 1];
	const char *p = signed_headers, *semi, *v;
	size_t n;

	buf_reset(out);
	if (buf_printf(out, "%s\n", r->method) == -1 ||
	    canonical_uri(out, r->path, r->path_encodings) == -1 ||
	    buf_puts(out, "\n") == -1 ||
	    canonical_query(out, r->query, r->nquery) == -1 ||
	    buf_puts(out, "\n") == -1)
		return -1;
	while (*p != '\0') {
		semi = strchr(p, ';');
		n = semi ? (size_t)(semi - p) : strlen(p);
		if (n >= sizeof(name))
			return -1;
		memcpy(name, p, n);
		name[n] = '\0';
		v = r->header(r->header_arg, name);
		if (buf_printf(out, "%s:", name) == -1 ||
		    (v != NULL && header_value(out, v) == -1) ||
		    buf_puts(out, "\n") == -1)
			return -1;
		p += n;
		if (*p == ';')
			p++;
	}
	sha256_hex(r->body_len ? r->body : "", r->body_len, hash);
	if (buf_printf(out, "\n%s\n%s", signed_headers, hash) == -1)
		return -1;
	return 0;
}

int
sigv4_string_to_sign(const char *canonical, const struct sigv4_auth *a,
    const char *amz_date, struct buf *out)
{
	char hash[SIGV4_HEX_LEN + 1];

	sha256_hex(canonical, strlen(canonical), hash);
	buf_reset(out);
	return buf_printf(out, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/%s\n%s",
	    amz_date, a->date, a->region, a->service, TERMINATOR, hash);
}

static void
hmac(const uint8_t *key, size_t keylen, const char *msg, size_t msglen,
    uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg, msglen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

int
sigv4_signature(const struct sigv4_request *r, const struct sigv4_auth *a,
    const char *amz_date, const char *secret, char out[SIGV4_HEX_LEN + 1])
{
	struct buf canon, sts;
	uint8_t k[crypto_auth_hmacsha256_BYTES], mac[sizeof(k)];
	char *first;
	size_t slen = strlen(secret);
	int rc = -1;

	buf_init(&canon, SIGV4_CANONICAL_MAX);
	buf_init(&sts, 1024);
	if (sigv4_canonical_request(r, a->signed_headers, &canon) == -1 ||
	    sigv4_string_to_sign(buf_cstr(&canon), a, amz_date, &sts) == -1)
		goto out;
	first = xasprintf("AWS4%s", secret);
	hmac((const uint8_t *)first, 4 + slen, a->date, strlen(a->date), k);
	xfree_secret(first);
	hmac(k, sizeof(k), a->region, strlen(a->region), k);
	hmac(k, sizeof(k), a->service, strlen(a->service), k);
	hmac(k, sizeof(k), TERMINATOR, strlen(TERMINATOR), k);
	hmac(k, sizeof(k), buf_cstr(&sts), sts.len, mac);
	hex_encode(mac, sizeof(mac), out);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(mac, sizeof(mac));
	rc = 0;
out:
	buf_free(&canon);
	buf_free(&sts);
	return rc;
}

/* Copy [p, p+n) into out (size bytes); -1 when it does not fit or is empty. */
static int
copy_part(char *out, size_t size, const char *p, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
parse_credential(const char *p, size_t n, struct sigv4_auth *a,
    const char **why)
{
	const char *part[5], *end = p + n, *slash;
	size_t len[5];
	int i;

	*why = "Credential must have exactly 5 slash-delimited elements, "
	       "e.g. keyid/date/region/service/term";
	for (i = 0; i < 5; i++) {
		slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL)
			slash = end;
		part[i] = p;
		len[i] = (size_t)(slash - p);
		if (slash == end && i < 4)
			return -1;
		p = slash + 1;
	}
	if (p <= end)
		return -1; /* a sixth element */
	if (copy_part(a->key_id, sizeof(a->key_id), part[0], len[0]) == -1 ||
	    copy_part(a->date, sizeof(a->date), part[1], len[1]) == -1 ||
	    copy_part(a->region, sizeof(a->region), part[2], len[2]) == -1 ||
	    copy_part(a->service, sizeof(a->service), part[3], len[3]) == -1 ||
	    copy_part(a->terminator, sizeof(a->terminator), part[4], len[4]) ==
		-1)
		return -1;
	return 0;
}

/* 1 when s is a list of lower-case header names joined by ';', host in it. */
static int
signed_headers_valid(const char *s)
{
	const char *p = s, *semi;
	size_t n;
	int host = 0;

	while (*p != '\0') {
		semi = strchr(p, ';');
		n = semi ? (size_t)(semi - p) : strlen(p);
		if (n == 0 ||
		    strspn(p,
			"abcdefghijklmnopqrstuvwxyz0123456789"
			"-_!#$%&'*+.^`|~") < n)
			return 0;
		if (n == 4 && strncmp(p, "host", 4) == 0)
			host = 1;
		p += n;
		if (*p == ';' && *++p == '\0')
			return 0;
	}
	return host;
}

int
sigv4_parse_authorization(const char *v, struct sigv4_auth *a, const char **why)
{
	const char *p, *comma, *eq;
	size_t n, alen = strlen(SIGV4_ALGORITHM);
	int cred = 0, sh = 0, sig = 0;

	memset(a, 0, sizeof(*a));
	*why = "Authorization header requires 'Credential' parameter. "
	       "Authorization header requires 'Signature' parameter. "
	       "Authorization header requires 'SignedHeaders' parameter.";
	if (strncmp(v, SIGV4_ALGORITHM, alen) != 0 || v[alen] != ' ') {
		*why = "Unsupported AWS 'algorithm': expected "
		       "'AWS4-HMAC-SHA256'";
		return -1;
	}
	p = v + alen;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		eq = memchr(p, '=', n);
		if (eq == NULL)
			return -1;
		if (eq - p == 10 && strncmp(p, "Credential", 10) == 0) {
			if (parse_credential(eq + 1, n - 11, a, why) == -1)
				return -1;
			cred = 1;
		} else if (eq - p == 13 &&
		    strncmp(p, "SignedHeaders", 13) == 0) {
			if (copy_part(a->signed_headers,
				sizeof(a->signed_headers), eq + 1,
				n - 14) == -1)
				return -1;
			sh = 1;
		} else if (eq - p == 9 && strncmp(p, "Signature", 9) == 0) {
			/* A signature of another length cannot match. */
			if (n - 10 <= SIGV4_HEX_LEN)
				memcpy(a->signature, eq + 1, n - 10);
			sig = 1;
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	if (!cred || !sh || !sig)
		return -1;
	if (!signed_headers_valid(a->signed_headers)) {
		*why = "'Host' or ':authority' must be a 'SignedHeader' in the "
		       "AWS Authorization.";
		return -1;
	}
	return 0;
}

/* The number in the n digits at s. */
static int
num(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

int
sigv4_parse_amz_date(const char *s, long long *epoch_s)
{
	struct tm tm;
	int i, mday;
	time_t t;

	if (strlen(s) != SIGV4_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)s[i]))
			return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 4, 2) - 1;
	tm.tm_mday = mday = num(s + 6, 2);
	tm.tm_hour = num(s + 9, 2);
	tm.tm_min = num(s + 11, 2);
	tm.tm_sec = num(s + 13, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || mday < 1 ||
	    mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return 0;
	t = timegm(&tm);
	/* timegm normalises 31 February to March: such a date is not real. */
	if (t == (time_t)-1 || tm.tm_mday != mday)
		return 0;
	*epoch_s = (long long)t;
	return 1;
}
