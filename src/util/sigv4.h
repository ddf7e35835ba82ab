/*
 * AWS Signature Version 4, the parts a server needs to check a signed
 * request: parse the Authorization header, build the canonical request
 * and string to sign exactly as AWS's signers do, derive the signing key
 * for a date, region and service, and compute the signature.  Pure
 * functions over plain data: no HTTP library, no clock, no key store
 * (core/awsauth.c decides which secret and which time apply).
 *
 * Reference: AWS's "Create a signed AWS API request" and the published
 * aws-sig-v4-test-suite, whose vectors tests/unit/test_sigv4.c replays.
 */
#ifndef RESETD_SIGV4_H
#define RESETD_SIGV4_H

#include <stddef.h>

#include "util.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_KEY_ID_MAX 128
#define SIGV4_SCOPE_PART_MAX 63 /* region, service */
#define SIGV4_SIGNED_HEADERS_MAX 1024
#define SIGV4_HEX_LEN 64		 /* a SHA-256 in hex */
#define SIGV4_AMZ_DATE_LEN 16		 /* 20150830T123600Z */
#define SIGV4_CANONICAL_MAX (256 * 1024) /* without the body */

/* The Authorization header of a signed request, taken apart. */
struct sigv4_auth {
	char key_id[SIGV4_KEY_ID_MAX + 1];
	char date[9]; /* YYYYMMDD of the scope */
	char region[SIGV4_SCOPE_PART_MAX + 1];
	char service[SIGV4_SCOPE_PART_MAX + 1];
	char terminator[16]; /* "aws4_request" */
	char signed_headers[SIGV4_SIGNED_HEADERS_MAX + 1];
	char signature[SIGV4_HEX_LEN + 1];
};

/* A decoded query argument. */
struct sigv4_param {
	const char *name;
	const char *value;
};

/* What is signed of a request. */
struct sigv4_request {
	const char *method;
	const char *path; /* decoded, as routed */
	/*
	 * How many times each path segment is URI-encoded: 2 for every
	 * service but S3 (the SDKs encode the already encoded path again),
	 * 1 for the test suite's raw paths.
	 */
	int path_encodings;
	const struct sigv4_param *query; /* decoded; any order */
	size_t nquery;
	/*
	 * The value of a request header by lower-case name, several lines
	 * joined with commas; NULL when absent.
	 */
	const char *(*header)(void *arg, const char *name);
	void *header_arg;
	const char *body; /* NULL when body_len is 0 */
	size_t body_len;
};

/*
 * Take an Authorization header apart.  Return 0 with *out filled; -1 when
 * the value is not "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=..." with a five-part credential, lower-case hex signature and
 * sorted lower-case header names, with *why set to AWS's wording (static).
 */
int sigv4_parse_authorization(const char *value, struct sigv4_auth *out,
    const char **why);
/*
 * 1 when s is an X-Amz-Date, YYYYMMDD'T'HHMMSS'Z', of a real instant;
 * its seconds since the epoch in *epoch_s.
 */
int sigv4_parse_amz_date(const char *s, long long *epoch_s);
/*
 * The canonical request of r for the header names signed_headers (as in
 * the Authorization header) into out, which is reset first.  Return 0, or
 * -1 when it would pass SIGV4_CANONICAL_MAX.  A signed header that r does
 * not carry is written empty, so the signature cannot match.
 */
int sigv4_canonical_request(const struct sigv4_request *r,
    const char *signed_headers, struct buf *out) WUR;
/*
 * The signature of r as a signer holding secret would have made it for
 * the scope of a at time amz_date, in lower-case hex into out.  Return
 * 0, or -1 when the canonical request is too large.
 */
int sigv4_signature(const struct sigv4_request *r, const struct sigv4_auth *a,
    const char *amz_date, const char *secret, char out[SIGV4_HEX_LEN + 1]) WUR;
/* The string to sign of a canonical request, for tests, into out. */
int sigv4_string_to_sign(const char *canonical, const struct sigv4_auth *a,
    const char *amz_date, struct buf *out) WUR;

#endif
