/*
 * Fuzz AWS Signature Version 4 (util/sigv4.c) as a signed call meets it:
 * the first line of the input is an Authorization header, the second an
 * X-Amz-Date, the third a path, and the rest a body.  A header that parses
 * must give a signature over that request for its own signed headers
 * (whose values come from the lines themselves), and the path must
 * canonicalise once and twice encoded; nothing may crash or overrun.
 */
#include "fuzz.h"
#include "util/sigv4.h"

static const char *
header(void *arg, const char *name)
{
	(void)name;
	return arg;
}

/* Cut s at its first newline; the rest, or "" when there is none. */
static char *
line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl == NULL)
		return s + strlen(s);
	*nl = '\0';
	return nl + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	char *date = line(s), *path = line(date), *body = line(path);
	struct sigv4_param q[2] = { { path, date }, { "a", NULL } };
	struct sigv4_request r = {
		.method = "POST",
		.path = path,
		.path_encodings = 2,
		.query = q,
		.nquery = 2,
		.header = header,
		.header_arg = date,
		.body = body,
		.body_len = strlen(body),
	};
	struct sigv4_auth a;
	struct buf b;
	const char *why;
	char sig[SIGV4_HEX_LEN + 1];
	long long t;

	(void)sigv4_parse_amz_date(date, &t);
	if (sigv4_parse_authorization(s, &a, &why) == 0 &&
	    sigv4_signature(&r, &a, date, "secret", sig) == 0 &&
	    strlen(sig) != SIGV4_HEX_LEN)
		abort(); /* a signature is always 64 hex digits */
	buf_init(&b, SIGV4_CANONICAL_MAX);
	r.path_encodings = 1;
	if (sigv4_canonical_request(&r, "host;x-amz-date", &b) == 0 &&
	    strncmp(buf_cstr(&b), "POST\n/", 6) != 0)
		abort(); /* the canonical URI always starts with '/' */
	buf_free(&b);
	free(s);
	return 0;
}
