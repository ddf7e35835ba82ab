/*
 * Unit tests of mail construction: message_build and its encoders
 * (mail/message.c), and template expansion and lookup (mail/template.c).
 * Bodies are decoded back and compared with what went in.
 */
#include "unit.h"

#include <sodium.h>

#include "core/engine.h"
#include "mail/message.h"
#include "mail/template.h"

#define DATE_MS 1700000000000LL /* Tue, 14 Nov 2023 22:13:20 +0000 */

/* Decode quoted-printable text; the caller frees the result. */
static char *
qp_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	uint8_t byte;
	size_t i;

	assert_non_null(out);
	for (i = 0; i < n; i++) {
		if (s[i] != '=') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2; /* soft line break */
			continue;
		}
		assert_true(i + 2 < n);
		assert_int_equal(hex_decode(s + i + 1, 2, &byte), 1);
		/* Encoders write upper-case hex. */
		assert_null(strchr("abcdef", s[i + 1]));
		assert_null(strchr("abcdef", s[i + 2]));
		*o++ = (char)byte;
		i += 2;
	}
	*o = '\0';
	return out;
}

/* s with every LF made CRLF (and lone CRs dropped), caller frees. */
static char *
to_crlf(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	assert_non_null(out);
	for (; *s != '\0'; s++) {
		if (*s == '\r')
			continue;
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Every LF follows a CR and every CR precedes an LF. */
static void
check_crlf(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r')
			assert_int_equal(s[i + 1], '\n');
	}
}

/* The length of the longest line, CRLF not counted. */
static size_t
longest_line(const char *s)
{
	size_t longest = 0, len;
	const char *e;

	for (;;) {
		e = strstr(s, "\r\n");
		len = e != NULL ? (size_t)(e - s) : strlen(s);
		if (len > longest)
			longest = len;
		if (e == NULL)
			return longest;
		s = e + 2;
	}
}

/* Build a message expecting success. */
static char *
build(const struct message_spec *m)
{
	char err[256] = "", *out = NULL;

	if (message_build(m, &out, err, sizeof(err)) != 0)
		fail_msg("message_build: %s", err);
	assert_non_null(out);
	check_crlf(out);
	return out;
}

/*
 * The value of header name, unfolded as RFC 5322 says (a CRLF before a
 * space or tab is removed), copied into out.
 */
static void
header(const char *msg, const char *name, char *out, size_t outlen)
{
	char key[64];
	const char *p, *e, *end;
	size_t n = 0;

	end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	snprintf(key, sizeof(key), "%s: ", name);
	for (p = msg; p < end; p = e + 2) {
		e = strstr(p, "\r\n");
		if (strncmp(p, key, strlen(key)) != 0)
			continue;
		for (p += strlen(key); p < end + 2; p++) {
			if (p[0] == '\r' && p[1] == '\n') {
				if (p[2] != ' ' && p[2] != '\t')
					break;
				p++;
				continue;
			}
			assert_true(n + 1 < outlen);
			out[n++] = *p;
		}
		out[n] = '\0';
		return;
	}
	fail_msg("no %s header", name);
}

/*
 * Decode a header value of RFC 2047 B words folded with CRLF SP into out;
 * each word must be valid UTF-8 on its own and at most 75 characters.
 */
static void
decode_words(const char *v, char *out, size_t outlen)
{
	char word[128];
	unsigned char bin[128];
	const char *p = v, *q;
	size_t binlen, n = 0;

	while (*p != '\0') {
		if (strncmp(p, "\r\n ", 3) == 0)
			p += 3;
		assert_int_equal(strncmp(p, "=?UTF-8?B?", 10), 0);
		q = strstr(p + 10, "?=");
		assert_non_null(q);
		assert_true(q + 2 - p <= 75);
		assert_true((size_t)(q - p - 10) < sizeof(word));
		memcpy(word, p + 10, (size_t)(q - p - 10));
		word[q - p - 10] = '\0';
		assert_int_equal(sodium_base642bin(bin, sizeof(bin), word,
				     strlen(word), NULL, &binlen, NULL,
				     sodium_base64_VARIANT_ORIGINAL),
		    0);
		assert_int_equal(str_is_clean_utf8((char *)bin, binlen), 1);
		assert_true(n + binlen < outlen);
		memcpy(out + n, bin, binlen);
		n += binlen;
		p = q + 2;
	}
	out[n] = '\0';
}

/* The unfolded value of header name: every continuation line joined. */
static void
header_folded(const char *msg, const char *name, char *out, size_t outlen)
{
	char key[64];
	const char *p, *e;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	p = strstr(msg, key);
	assert_non_null(p);
	p += strlen(key);
	e = p;
	while ((e = strstr(e, "\r\n")) != NULL && e[2] == ' ')
		e += 2;
	assert_non_null(e);
	assert_true((size_t)(e - p) < outlen);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

/* Occurrences of needle in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* The longest line of the header block or of the body. */
static size_t
longest_header_line(const char *msg)
{
	char *h = strndup(msg, (size_t)(strstr(msg, "\r\n\r\n") - msg));
	size_t n;

	assert_non_null(h);
	n = longest_line(h);
	free(h);
	return n;
}

static size_t
longest_body_line(const char *msg)
{
	return longest_line(strstr(msg, "\r\n\r\n") + 4);
}

/*
 * Split msg into its two parts, checking the MIME frame exactly; the
 * decoded text and HTML come back in text and html.
 */
static void
parts(const char *msg, char **text, char **html)
{
	char ctype[256], boundary[64], *want;
	const char *body, *p, *e;
	size_t n;

	header(msg, "Content-Type", ctype, sizeof(ctype));
	assert_int_equal(strncmp(ctype, "multipart/alternative; boundary=\"",
			     33),
	    0);
	n = strlen(ctype) - 33 - 1;
	assert_int_equal(ctype[33 + n], '"');
	assert_true(n > 8 && n < sizeof(boundary));
	memcpy(boundary, ctype + 33, n);
	boundary[n] = '\0';

	body = strstr(msg, "\r\n\r\n") + 4;
	want = malloc(1024);
	assert_non_null(want);
	snprintf(want, 1024,
	    "--%s\r\nContent-Type: text/plain; charset=UTF-8"
	    "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
	    boundary);
	assert_int_equal(strncmp(body, want, strlen(want)), 0);
	p = body + strlen(want);
	snprintf(want, 1024,
	    "\r\n--%s\r\nContent-Type: text/html; "
	    "charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable"
	    "\r\n\r\n",
	    boundary);
	e = strstr(p, want);
	assert_non_null(e);
	*text = qp_decode(p, (size_t)(e - p));
	p = e + strlen(want);
	snprintf(want, 1024, "\r\n--%s--\r\n", boundary);
	e = strstr(p, want);
	assert_non_null(e);
	/* The closing boundary ends the message. */
	assert_string_equal(e, want);
	*html = qp_decode(p, (size_t)(e - p));
	/* The boundary appears nowhere else in the body. */
	assert_int_equal(count(body, boundary), 3);
	free(want);
}

static const struct message_spec base_spec = {
	.from_name = "Acme Support",
	.from_addr = "noreply@acme.test",
	.to_addr = "alice@example.com",
	.subject = "Reset your password",
	.text = "Hello,\n\nOpen https://acme.test/r?t=abc&x=1 to reset.\n",
	.html = "<p>Hello,</p>\n<p><a href=\"https://acme.test/r?t=abc\">"
		"Reset</a></p>\n",
	.date_ms = DATE_MS,
};

static void
test_build_headers(void **state)
{
	char *msg, *text, *html, *want, v[256];
	const char *p;
	size_t i;

	(void)state;
	msg = build(&base_spec);
	/* The headers, in order. */
	p = msg;
	assert_int_equal(strncmp(p, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
			     39),
	    0);
	p += 39;
	assert_int_equal(strncmp(p, "Message-ID: <", 13), 0);
	p += 13;
	for (i = 0; i < 24; i++)
		assert_true(p[i] != '\0' && strchr("0123456789abcdef", p[i]));
	p += 24;
	assert_int_equal(strncmp(p, "@acme.test>\r\n", 13), 0);
	p += 13;
	want = "From: \"Acme Support\" <noreply@acme.test>\r\n"
	       "To: alice@example.com\r\n"
	       "Subject: Reset your password\r\n"
	       "MIME-Version: 1.0\r\n"
	       "Auto-Submitted: auto-generated\r\n"
	       "Content-Type: multipart/alternative;\r\n boundary=\"";
	assert_int_equal(strncmp(p, want, strlen(want)), 0);

	header(msg, "Subject", v, sizeof(v));
	assert_string_equal(v, "Reset your password");

	/* Both parts decode to what went in, with CRLF line ends. */
	parts(msg, &text, &html);
	want = to_crlf(base_spec.text);
	assert_string_equal(text, want);
	free(want);
	want = to_crlf(base_spec.html);
	assert_string_equal(html, want);
	free(want);
	free(text);
	free(html);
	assert_true(longest_body_line(msg) <= 76);
	free(msg);
}

static void
test_build_unique_ids(void **state)
{
	char *a, *b, ida[128], idb[128], cta[256], ctb[256];

	(void)state;
	a = build(&base_spec);
	b = build(&base_spec);
	header(a, "Message-ID", ida, sizeof(ida));
	header(b, "Message-ID", idb, sizeof(idb));
	assert_string_not_equal(ida, idb);
	header(a, "Content-Type", cta, sizeof(cta));
	header(b, "Content-Type", ctb, sizeof(ctb));
	assert_string_not_equal(cta, ctb);
	free(a);
	free(b);
}

static void
test_build_from_forms(void **state)
{
	struct message_spec m = base_spec;
	char *msg, v[256];

	(void)state;
	m.from_name = NULL;
	msg = build(&m);
	header(msg, "From", v, sizeof(v));
	assert_string_equal(v, "noreply@acme.test");
	free(msg);

	m.from_name = "";
	msg = build(&m);
	header(msg, "From", v, sizeof(v));
	assert_string_equal(v, "noreply@acme.test");
	free(msg);

	/* Quotes and backslashes are escaped inside the quoted name. */
	m.from_name = "Acme, \"Best\" \\ Co.";
	msg = build(&m);
	header(msg, "From", v, sizeof(v));
	assert_string_equal(v,
	    "\"Acme, \\\"Best\\\" \\\\ Co.\" <noreply@acme.test>");
	free(msg);

	/* A non-ASCII name is an encoded word. */
	m.from_name = "\xc3\x89quipe Acme";
	msg = build(&m);
	header(msg, "From", v, sizeof(v));
	assert_string_equal(v,
	    "=?UTF-8?B?w4lxdWlwZSBBY21l?= <noreply@acme.test>");
	free(msg);

	/* The Message-ID takes the sender's domain. */
	m.from_addr = "mailer@sub.example.org";
	msg = build(&m);
	header(msg, "Message-ID", v, sizeof(v));
	assert_int_equal(strlen(v), 1 + 24 + 1 + strlen("sub.example.org") + 1);
	assert_string_equal(v + 26, "sub.example.org>");
	assert_int_equal(v[25], '@');
	free(msg);
}

static void
test_build_non_ascii_subject(void **state)
{
	struct message_spec m = base_spec;
	char *msg, v[1024], decoded[1024], *subject;

	(void)state;
	m.subject = "R\xc3\xa9initialisez votre mot de passe";
	msg = build(&m);
	header(msg, "Subject", v, sizeof(v));
	assert_string_equal(v,
	    "=?UTF-8?B?UsOpaW5pdGlhbGlzZXogdm90cmUgbW90IGRlIHBhc3Nl?=");
	decode_words(v, decoded, sizeof(decoded));
	assert_string_equal(decoded, m.subject);
	free(msg);

	/* Long: several words, none cutting a character in two. */
	subject =
	    unit_repeat("\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c ",
		12);
	m.subject = subject;
	msg = build(&m);
	header_folded(msg, "Subject", v, sizeof(v));
	assert_non_null(strstr(v, "?=\r\n =?UTF-8?B?"));
	decode_words(v, decoded, sizeof(decoded));
	assert_string_equal(decoded, subject);
	free(msg);
	free(subject);

	/* Four-byte characters at the cut. */
	subject = unit_repeat("\xf0\x9f\x94\x91", 30);
	m.subject = subject;
	msg = build(&m);
	header_folded(msg, "Subject", v, sizeof(v));
	decode_words(v, decoded, sizeof(decoded));
	assert_string_equal(decoded, subject);
	free(msg);
	free(subject);
}

/*
 * RFC 5322 section 2.1.1: lines SHOULD be no more than 78 characters.
 * The message is freed before the check so a failure leaks nothing.
 */
static void
test_build_header_lines_78(void **state)
{
	char *msg;
	size_t n;

	(void)state;
	msg = build(&base_spec);
	n = longest_header_line(msg);
	free(msg);
	assert_in_range(n, 1, 78);
}

/* The longest header line holding an RFC 2047 encoded word. */
static size_t
longest_encoded_line(const char *msg)
{
	const char *line, *e;
	size_t longest = 0;

	for (line = msg; (e = strstr(line, "\r\n")) != NULL && e != line;
	     line = e + 2)
		if (memmem(line, (size_t)(e - line), "=?UTF-8?", 8) != NULL &&
		    (size_t)(e - line) > longest)
			longest = (size_t)(e - line);
	return longest;
}

/*
 * RFC 2047 section 2: a header line holding an encoded word is limited to
 * 76 characters, in the Subject as in a display name.
 */
static void
test_build_encoded_header_lines_76(void **state)
{
	struct message_spec m = base_spec;
	char *msg, *subject, *name;
	size_t subject_len, name_len;

	(void)state;
	subject = unit_repeat("\xc3\xa9", 60);
	name = unit_repeat("\xc3\xa9", 40);
	m.subject = subject;
	msg = build(&m);
	subject_len = longest_encoded_line(msg);
	free(msg);
	m.subject = base_spec.subject;
	m.from_name = name;
	msg = build(&m);
	name_len = longest_encoded_line(msg);
	free(msg);
	free(subject);
	free(name);
	assert_in_range(subject_len, 1, 76);
	assert_in_range(name_len, 1, 76);
}

static void
test_build_long_body(void **state)
{
	struct message_spec m = base_spec;
	char *msg, *text, *html, *want, *url, *words, *accents, *body;
	size_t n;

	(void)state;
	/* A 600-character word, a long line of short words, accents, '='. */
	url = unit_repeat("x", 600);
	words = unit_repeat("word ", 100);
	accents = unit_repeat("\xc3\xa9=", 150);
	n = strlen(url) + strlen(words) + strlen(accents) + 64;
	body = malloc(n);
	assert_non_null(body);
	snprintf(body, n, "https://%s\n%s\n%s \n\t\nend", url, words, accents);
	m.text = body;
	m.html = body;
	msg = build(&m);
	assert_true(longest_body_line(msg) <= 76);
	parts(msg, &text, &html);
	want = to_crlf(body);
	assert_string_equal(text, want);
	assert_string_equal(html, want);
	free(want);
	free(text);
	free(html);
	free(msg);
	free(body);
	free(url);
	free(words);
	free(accents);
}

static void
refused(const struct message_spec *m, const char *why)
{
	char err[256] = "", *out = (char *)why;

	assert_int_equal(message_build(m, &out, err, sizeof(err)), -1);
	assert_ptr_equal(out, why);
	assert_string_equal(err, why);
}

#define HEADER_ERR "line break or control character in a header value"
#define ADDR_ERR "malformed sender or recipient address"

static void
test_build_refuses_line_breaks(void **state)
{
	struct message_spec m;

	(void)state;
	m = base_spec;
	m.subject = "Hello\r\nBcc: evil@x.test";
	refused(&m, HEADER_ERR);
	m.subject = "Hello\nBcc: evil@x.test";
	refused(&m, HEADER_ERR);
	m.subject = "Hello\rBcc: evil@x.test";
	refused(&m, HEADER_ERR);
	m.subject = "R\xc3\xa9init\nBcc: evil@x.test";
	refused(&m, HEADER_ERR);
	m.subject = "Bell\x07";
	refused(&m, HEADER_ERR);

	m = base_spec;
	m.from_name = "Acme\r\nBcc: evil@x.test";
	refused(&m, HEADER_ERR);
	m.from_name = "\xc3\x89quipe\n";
	refused(&m, HEADER_ERR);

	m = base_spec;
	m.to_addr = "alice@example.com\r\nBcc: evil@x.test";
	refused(&m, ADDR_ERR);
	m.to_addr = "alice@example.com\n";
	refused(&m, ADDR_ERR);
	m = base_spec;
	m.from_addr = "noreply@acme.test\r\nBcc: evil@x.test";
	refused(&m, ADDR_ERR);
	m.from_addr = "noreply@acme.test\r";
	refused(&m, ADDR_ERR);
}

/*
 * The same values are refused early, when a project is created, so that
 * a bad sender never sits in the database waiting to fail.
 */
static void
test_sender_settings(void **state)
{
	static const char *const bad_names[] = {
		"",
		"Acme\r\nBcc: evil@x.test",
		"Acme\nBcc: evil@x.test",
		"Acme\r",
		"Acme\tSupport",
		"Bell\x07",
		"Del\x7f",
		"caf\xe9",
		NULL,
	};
	static const char *const bad_addrs[] = {
		"",
		"acme",
		"noreply@acme.test\r\nBcc: evil@x.test",
		"noreply@acme.test\n",
		"Acme <noreply@acme.test>",
		"\"q\"@acme.test",
		"a:b@acme.test",
		"no(reply)@acme.test",
		"no,reply@acme.test",
		"n\xc3\xb6reply@acme.test",
		"noreply@acme",
		NULL,
	};
	const char *const *p;
	struct message_spec m;

	(void)state;
	assert_true(valid_sender_name("Acme Support"));
	assert_true(valid_sender_name("\xc3\x89quipe Acme \"Q\" \\ Co"));
	assert_true(valid_sender("noreply@acme.test"));
	assert_true(valid_sender("o'brien+reset@mail.acme.test"));
	for (p = bad_names; *p != NULL; p++)
		assert_false(valid_sender_name(*p));
	for (p = bad_addrs; *p != NULL; p++)
		assert_false(valid_sender(*p));
	/* Whatever project create lets through, message_build takes. */
	m = base_spec;
	m.from_name = "\xc3\x89quipe Acme \"Q\" \\ Co";
	m.from_addr = "o'brien+reset@mail.acme.test";
	free(build(&m));
}

static void
test_build_refuses_bad_addresses(void **state)
{
	static const char *const bad[] = {
		"",
		"alice",
		"@example.com",
		"alice@",
		"a@b@example.com",
		"Alice <alice@example.com>",
		"alice smith@example.com",
		"\"alice\"@example.com",
		"alice@example.com,bob@example.com",
		"alice@example.com;",
		"(alice)@example.com",
		"al\\ice@x.test",
		"\xc3\xa9@example.com",
		"alice@[127.0.0.1]",
		"alice@x:25",
		NULL,
	};
	const char *const *b;
	struct message_spec m;

	(void)state;
	for (b = bad; *b != NULL; b++) {
		m = base_spec;
		m.to_addr = *b;
		refused(&m, ADDR_ERR);
		m = base_spec;
		m.from_addr = *b;
		refused(&m, ADDR_ERR);
	}
}

/* message_qp_encode of s compared with want. */
static void
check_qp(const char *s, const char *want)
{
	struct buf b;
	char *back, *crlf;

	buf_init(&b, 1 << 16);
	assert_int_equal(message_qp_encode(&b, s), 0);
	assert_string_equal(buf_cstr(&b), want);
	assert_true(longest_line(buf_cstr(&b)) <= 76);
	back = qp_decode(b.data, b.len);
	crlf = to_crlf(s);
	assert_string_equal(back, crlf);
	free(back);
	free(crlf);
	buf_free(&b);
}

static void
test_qp(void **state)
{
	char *in, *want, *a74, *a75;

	(void)state;
	check_qp("", "");
	check_qp("plain text", "plain text");
	check_qp("a=b", "a=3Db");
	check_qp("==", "=3D=3D");
	check_qp("caf\xc3\xa9", "caf=C3=A9");
	check_qp("\xe2\x82\xac", "=E2=82=AC");
	check_qp("bell\x07"
		 "del\x7f",
	    "bell=07del=7F");
	/* Space and tab: literal inside a line, encoded at its end. */
	check_qp("a b\tc", "a b\tc");
	check_qp("end \nnext", "end=20\r\nnext");
	check_qp("end\t\nnext", "end=09\r\nnext");
	check_qp("end \r\nnext", "end=20\r\nnext");
	check_qp("trailing ", "trailing=20");
	check_qp("two  \n", "two =20\r\n");
	/* Line ends become CRLF. */
	check_qp("a\nb\n\nc", "a\r\nb\r\n\r\nc");
	check_qp("a\r\nb", "a\r\nb");

	/* Soft breaks keep lines at 76 characters with the '='. */
	a75 = unit_repeat("a", 75);
	check_qp(a75, a75);
	in = unit_repeat("a", 76);
	want = malloc(200);
	assert_non_null(want);
	snprintf(want, 200, "%s=\r\na", a75);
	check_qp(in, want);
	free(in);
	in = unit_repeat("a", 200);
	want = realloc(want, 300);
	assert_non_null(want);
	snprintf(want, 300, "%s=\r\n%s=\r\n%.*s", a75, a75, 50, in);
	check_qp(in, want);
	free(in);
	/* A line of exactly 75 then a hard break needs no soft one. */
	in = malloc(200);
	assert_non_null(in);
	snprintf(in, 200, "%s\n%s", a75, a75);
	snprintf(want, 300, "%s\r\n%s", a75, a75);
	check_qp(in, want);
	/* An escape is never split across a soft break. */
	a74 = unit_repeat("a", 74);
	snprintf(in, 200, "%s=", a74);
	snprintf(want, 300, "%s=\r\n=3D", a74);
	check_qp(in, want);
	snprintf(in, 200, "%s\xc3\xa9", a74);
	snprintf(want, 300, "%s=\r\n=C3=A9", a74);
	check_qp(in, want);
	snprintf(in, 200, "a%s\xc3\xa9", a74);
	snprintf(want, 300, "a%s=\r\n=C3=A9", a74);
	check_qp(in, want);
	free(in);
	free(want);
	free(a74);
	free(a75);
}

static void
test_qp_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(message_qp_encode(&b, "abcdefgh"), -1);
	assert_true(b.len <= 5);
	buf_free(&b);
}

static void
test_header_encode(void **state)
{
	struct buf b;
	char *s, decoded[256];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(message_header_encode(&b, "Plain ASCII"), 0);
	assert_string_equal(buf_cstr(&b), "Plain ASCII");
	buf_reset(&b);
	assert_int_equal(message_header_encode(&b, "\xc3\xa9"), 0);
	assert_string_equal(buf_cstr(&b), "=?UTF-8?B?w6k=?=");
	buf_reset(&b);
	/* 19 two-byte characters: the first word takes 36 bytes. */
	s = unit_repeat("\xc3\xa9", 19);
	assert_int_equal(message_header_encode(&b, s), 0);
	decode_words(buf_cstr(&b), decoded, sizeof(decoded));
	assert_string_equal(decoded, s);
	assert_int_equal(count(buf_cstr(&b), "=?UTF-8?B?"), 2);
	assert_non_null(strstr(buf_cstr(&b), "?=\r\n =?UTF-8?B?w6k=?="));
	free(s);
	buf_free(&b);
}

static void
test_template_expand(void **state)
{
	const struct mail_var vars[] = {
		{ "name", "Bob" },
		{ "evil", "<a href=\"x\">'&'</a>" },
		{ "null", NULL },
		{ "n", "N" },
		{ NULL, NULL },
	};
	struct buf b;
	const char *t;
	char *long_name;

	(void)state;
	buf_init(&b, 4096);
#define EXPAND(text, html, want) \
	do { \
		buf_reset(&b); \
		assert_int_equal(template_expand(&b, (text), strlen(text), \
				     vars, (html)), \
		    0); \
		assert_string_equal(buf_cstr(&b), (want)); \
	} while (0)
	EXPAND("Hi {{name}}!", 0, "Hi Bob!");
	EXPAND("Hi {{ name }}!", 0, "Hi Bob!");
	EXPAND("{{name}}{{name}}", 0, "BobBob");
	EXPAND("{{n}}{{name}}", 0, "NBob");
	EXPAND("no placeholders", 0, "no placeholders");
	EXPAND("", 0, "");
	/* Unknown and NULL values are empty. */
	EXPAND("[{{unknown}}]", 0, "[]");
	EXPAND("[{{null}}]", 0, "[]");
	EXPAND("[{{}}]", 0, "[]");
	/* Case matters in names. */
	EXPAND("[{{Name}}]", 0, "[]");
	/* An unclosed placeholder is kept as text. */
	EXPAND("Hi {{name", 0, "Hi {{name");
	EXPAND("Hi {{name}", 0, "Hi {{name}");
	EXPAND("a }} b", 0, "a }} b");
	/* HTML mode escapes values, not the template. */
	EXPAND("<p>{{evil}}</p>", 1,
	    "<p>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</p>");
	EXPAND("<p>{{evil}}</p>", 0, "<p><a href=\"x\">'&'</a></p>");
	EXPAND("<b>{{name}} & co</b>", 1, "<b>Bob & co</b>");

	/* Names longer than 32 characters are not placeholders. */
	long_name = malloc(64);
	assert_non_null(long_name);
	snprintf(long_name, 64, "{{%s}}", "abcdefghijklmnopqrstuvwxyz0123456");
	EXPAND(long_name, 0, long_name);
	free(long_name);

	/* Only len bytes are read. */
	buf_reset(&b);
	t = "ab{{name}}";
	assert_int_equal(template_expand(&b, t, 2, vars, 0), 0);
	assert_string_equal(buf_cstr(&b), "ab");
	buf_reset(&b);
	assert_int_equal(template_expand(&b, t, 9, vars, 0), 0);
	assert_string_equal(buf_cstr(&b), "ab{{name}");
	/* No vars at all. */
	buf_reset(&b);
	assert_int_equal(template_expand(&b, t, strlen(t), NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "ab");
#undef EXPAND
	buf_free(&b);

	/* Past the cap: -1. */
	buf_init(&b, 4);
	assert_int_equal(template_expand(&b, "{{name}}!!", 10, vars, 0), -1);
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(template_expand(&b, "{{evil}}", 8, vars, 1), -1);
	buf_free(&b);
}

static void
test_template_render(void **state)
{
	const struct mail_var vars[] = {
		{ "project_name", "A&B <Co>" },
		{ "email", "alice@example.com" },
		{ "link", "https://acme.test/r?t=abc&x=1" },
		{ "ttl_minutes", "60" },
		{ NULL, NULL },
	};
	struct rendered_mail en, pt, other;

	(void)state;
	assert_int_equal(template_render(NULL, NULL, "reset_link", "en", vars,
			     &en),
	    0);
	/* The subject has no line end; values go in as is outside HTML. */
	assert_string_equal(en.subject, "Reset your A&B <Co> password");
	assert_non_null(strstr(en.text, "https://acme.test/r?t=abc&x=1"));
	assert_non_null(strstr(en.text, "alice@example.com"));
	assert_non_null(strstr(en.text, "expires in 60 minutes"));
	assert_null(strstr(en.text, "{{"));
	assert_non_null(
	    strstr(en.html, "href=\"https://acme.test/r?t=abc&amp;x=1\""));
	assert_non_null(strstr(en.html, "A&amp;B &lt;Co&gt;"));
	assert_null(strstr(en.html, "A&B"));
	assert_null(strstr(en.html, "{{"));

	/* pt_BR has its own templates. */
	assert_int_equal(template_render(NULL, NULL, "reset_link", "pt_BR",
			     vars, &pt),
	    0);
	assert_string_equal(pt.subject,
	    "Redefini\xc3\xa7\xc3\xa3o da sua senha de A&B <Co>");
	assert_non_null(strstr(pt.text, "https://acme.test/r?t=abc&x=1"));
	assert_non_null(strstr(pt.html, "lang=\"pt-BR\""));
	rendered_mail_clear(&pt);
	/* pt_PT falls back to pt, then to English: rendering never guesses
	 * a region (engine_locale_choose does, before queueing). */
	assert_int_equal(template_render(NULL, NULL, "reset_link", "pt_PT",
			     vars, &pt),
	    0);
	assert_string_equal(pt.subject, en.subject);
	assert_string_equal(pt.text, en.text);
	assert_string_equal(pt.html, en.html);
	rendered_mail_clear(&pt);
	assert_null(pt.subject);
	assert_null(pt.text);
	assert_null(pt.html);
	assert_int_equal(template_render(NULL, NULL, "reset_link", NULL, vars,
			     &other),
	    0);
	assert_string_equal(other.text, en.text);
	rendered_mail_clear(&other);
	assert_int_equal(template_render(NULL, NULL, "reset_link", "xx_YY_long",
			     vars, &other),
	    0);
	assert_string_equal(other.text, en.text);
	rendered_mail_clear(&other);
	assert_int_equal(template_render(NULL, NULL, "reset_link", "../en",
			     vars, &other),
	    0);
	assert_string_equal(other.text, en.text);
	rendered_mail_clear(&other);
	rendered_mail_clear(&en);

	assert_int_equal(template_render(NULL, NULL, "password_changed",
			     "de_AT", vars, &other),
	    0);
	assert_string_equal(other.subject,
	    "Ihr Passwort f\xc3\xbcr A&B <Co> wurde ge\xc3\xa4ndert");
	rendered_mail_clear(&other);

	memset(&other, 0, sizeof(other));
	assert_int_equal(template_render(NULL, NULL, "no_such_kind", "en", vars,
			     &other),
	    -1);
	assert_int_equal(template_render(NULL, NULL, "", "en", vars, &other),
	    -1);
	assert_null(other.subject);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_headers),
		cmocka_unit_test(test_build_unique_ids),
		cmocka_unit_test(test_build_from_forms),
		cmocka_unit_test(test_build_non_ascii_subject),
		cmocka_unit_test(test_build_header_lines_78),
		cmocka_unit_test(test_build_encoded_header_lines_76),
		cmocka_unit_test(test_build_long_body),
		cmocka_unit_test(test_build_refuses_line_breaks),
		cmocka_unit_test(test_build_refuses_bad_addresses),
		cmocka_unit_test(test_sender_settings),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_qp_cap),
		cmocka_unit_test(test_header_encode),
		cmocka_unit_test(test_template_expand),
		cmocka_unit_test(test_template_render),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
