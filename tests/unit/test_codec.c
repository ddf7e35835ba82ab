/*
 * Unit tests of the byte and text utilities: base64url and hex codecs
 * (util/codec.c), the capped buffer (util/buf.c) and the string checks
 * (util/str.c).
 */
#include "unit.h"

#include "util/util.h"

/* Encode n bytes and compare with the expected text. */
static void
check_b64(const char *in, size_t n, const char *want)
{
	char out[128];
	uint8_t back[96];
	int got;

	assert_true(B64URL_LEN(n) < sizeof(out));
	memset(out, 'X', sizeof(out));
	base64url_encode((const uint8_t *)in, n, out);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), B64URL_LEN(n));
	got = base64url_decode(want, strlen(want), back);
	assert_int_equal(got, (int)n);
	assert_memory_equal(back, in, n);
}

static void
test_b64_rfc4648_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10, without the padding. */
	check_b64("", 0, "");
	check_b64("f", 1, "Zg");
	check_b64("fo", 2, "Zm8");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg");
	check_b64("fooba", 5, "Zm9vYmE");
	check_b64("foobar", 6, "Zm9vYmFy");
}

static void
test_b64_url_alphabet(void **state)
{
	(void)state;
	/* Standard base64 would write '+' and '/' here. */
	check_b64("\xfb\xef\xbe", 3, "----");
	check_b64("\xff\xff\xff", 3, "____");
	check_b64("\xfb\xff", 2, "-_8");
	check_b64("\x00\x00\x00", 3, "AAAA");
	check_b64("\x00", 1, "AA");
	check_b64("\x03\xe0", 2, "A-A");
}

static void
test_b64_round_trip(void **state)
{
	uint8_t in[64], back[64];
	char text[B64URL_LEN(64) + 1];
	size_t n, i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		base64url_encode(in, n, text);
		assert_int_equal(strlen(text), B64URL_LEN(n));
		assert_null(strpbrk(text, "+/="));
		memset(back, 0, sizeof(back));
		got = base64url_decode(text, strlen(text), back);
		assert_int_equal(got, (int)n);
		assert_memory_equal(back, in, n);
	}
}

static void
test_b64_decode_rejects(void **state)
{
	uint8_t out[32];

	(void)state;
	/* A length of 1 mod 4 cannot be base64 of anything. */
	assert_int_equal(base64url_decode("A", 1, out), -1);
	assert_int_equal(base64url_decode("AAAAA", 5, out), -1);
	/* Characters of other alphabets, padding, space, NUL. */
	assert_int_equal(base64url_decode("Zm9+", 4, out), -1);
	assert_int_equal(base64url_decode("Zm9/", 4, out), -1);
	assert_int_equal(base64url_decode("Zg==", 4, out), -1);
	assert_int_equal(base64url_decode("Zg=", 3, out), -1);
	assert_int_equal(base64url_decode("Zm 9", 4, out), -1);
	assert_int_equal(base64url_decode("Zm\0v", 4, out), -1);
	assert_int_equal(base64url_decode("Zm9v\xc3\xa9", 6, out), -1);
	/* Non-canonical: the unused trailing bits must be zero. */
	assert_int_equal(base64url_decode("Zh", 2, out), -1);
	assert_int_equal(base64url_decode("Zm9", 3, out), -1);
	assert_int_equal(base64url_decode("Zm-", 3, out), -1);
	assert_int_equal(base64url_decode("AB", 2, out), -1);
	/* Their canonical neighbours are fine. */
	assert_int_equal(base64url_decode("Zg", 2, out), 1);
	assert_int_equal(out[0], 'f');
	assert_int_equal(base64url_decode("Zm8", 3, out), 2);
	assert_memory_equal(out, "fo", 2);
	/* Only len bytes are read. */
	assert_int_equal(base64url_decode("Zm9vYmFy!!", 8, out), 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(base64url_decode("", 0, out), 0);
}

static void
test_hex(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char text[2 * sizeof(bytes) + 1];
	uint8_t out[8];

	(void)state;
	hex_encode(bytes, sizeof(bytes), text);
	assert_string_equal(text, "00017f80abff");
	hex_encode(bytes, 0, text);
	assert_string_equal(text, "");

	memset(out, 0, sizeof(out));
	assert_int_equal(hex_decode("00017f80abff", 12, out), 6);
	assert_memory_equal(out, bytes, sizeof(bytes));
	/* Upper case is accepted too. */
	assert_int_equal(hex_decode("ABfF", 4, out), 2);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(hex_decode("", 0, out), 0);

	assert_int_equal(hex_decode("abc", 3, out), -1);
	assert_int_equal(hex_decode("0g", 2, out), -1);
	assert_int_equal(hex_decode("g0", 2, out), -1);
	assert_int_equal(hex_decode(" 0", 2, out), -1);
	assert_int_equal(hex_decode("0x12", 4, out), -1);
	assert_int_equal(hex_decode("-1", 2, out), -1);
}

static void
test_buf_basic(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 100);
	/* An empty buffer still reads as a string. */
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "defgh", 2), 0);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_int_equal(buf_printf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "abcde-42-x");
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");

	s = buf_take(&b);
	assert_string_equal(s, "again");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.size, 0);
	free(s);
	/* The buffer is usable after a take, and a take of nothing is "". */
	s = buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_puts(&b, "more"), 0);
	assert_string_equal(buf_cstr(&b), "more");
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void
test_buf_cap(void **state)
{
	struct buf b;
	char *big;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "abcd"), 0);
	/* Refused whole: nothing of it is appended. */
	assert_int_equal(buf_puts(&b, "efghi"), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "abcd");
	assert_int_equal(buf_printf(&b, "%s", "12345"), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "abcd");
	/* Exactly up to the cap is fine, one more byte is not. */
	assert_int_equal(buf_puts(&b, "efgh"), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_cstr(&b), "abcdefgh");
	assert_int_equal(buf_append(&b, "i", 1), -1);
	assert_int_equal(buf_printf(&b, "i"), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_cstr(&b), "abcdefgh");
	/* A huge length must not wrap around the cap check. */
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 4), -1);
	assert_string_equal(buf_cstr(&b), "abcdefgh");
	buf_free(&b);

	/* The same for output past the 256-byte first try of buf_printf. */
	big = unit_repeat("z", 400);
	buf_init(&b, 300);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	assert_int_equal(buf_printf(&b, "%s", big), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_free(&b);

	/* A zero cap holds only the empty string. */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(buf_puts(&b, "a"), -1);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
	free(big);
}

static void
test_buf_printf_long(void **state)
{
	struct buf b;
	char *a300, *want;
	size_t n;

	(void)state;
	a300 = unit_repeat("a", 300);
	buf_init(&b, 4096);
	assert_int_equal(buf_puts(&b, "<"), 0);
	assert_int_equal(buf_printf(&b, "%s-%d", a300, 12345), 0);
	assert_int_equal(b.len, 1 + 300 + 6);
	want = malloc(400);
	assert_non_null(want);
	snprintf(want, 400, "<%s-12345", a300);
	assert_string_equal(buf_cstr(&b), want);
	free(want);
	buf_free(&b);

	/* Either side of the 256-byte stack buffer. */
	for (n = 253; n <= 258; n++) {
		buf_init(&b, 4096);
		assert_int_equal(buf_printf(&b, "%.*s", (int)n, a300), 0);
		assert_int_equal(b.len, n);
		assert_int_equal(strlen(buf_cstr(&b)), n);
		assert_memory_equal(b.data, a300, n);
		buf_free(&b);
	}

	/* A long printf that exactly fills the cap. */
	buf_init(&b, 300);
	assert_int_equal(buf_printf(&b, "%s", a300), 0);
	assert_int_equal(b.len, 300);
	assert_string_equal(buf_cstr(&b), a300);
	assert_int_equal(buf_puts(&b, "b"), -1);
	buf_free(&b);
	free(a300);
}

static void
test_buf_growth(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 100000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_append(&b, &"0123456789"[i % 10], 1), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.size <= 100001);
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], '0' + (int)(i % 10));
	assert_int_equal(b.data[10000], '\0');
	buf_free(&b);
}

static void
test_utf8_clean(void **state)
{
	(void)state;
#define OK(s) assert_int_equal(str_is_clean_utf8((s), sizeof(s) - 1), 1)
#define BAD(s) assert_int_equal(str_is_clean_utf8((s), sizeof(s) - 1), 0)
	OK("");
	OK("hello, world");
	OK("a\tb");
	OK("\t");
	OK("~ !");
	OK("\xc3\xa9");		/* U+00E9 */
	OK("\xc2\x80");		/* U+0080 */
	OK("\xdf\xbf");		/* U+07FF */
	OK("\xe0\xa0\x80");	/* U+0800 */
	OK("\xe2\x82\xac");	/* U+20AC */
	OK("\xed\x9f\xbf");	/* U+D7FF */
	OK("\xee\x80\x80");	/* U+E000 */
	OK("\xef\xbf\xbf");	/* U+FFFF */
	OK("\xf0\x90\x80\x80"); /* U+10000 */
	OK("\xf0\x9d\x84\x9e"); /* U+1D11E */
	OK("\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	OK("\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c");

	/* Controls: every C0 but tab, and DEL. */
	BAD("\n");
	BAD("a\nb");
	BAD("a\rb");
	BAD("\x01");
	BAD("\x1b[0m");
	BAD("\x1f");
	BAD("\x7f");
	BAD("a\0b");
	/* Overlong forms. */
	BAD("\xc0\x80");
	BAD("\xc0\xaf");
	BAD("\xc1\xbf");
	BAD("\xe0\x80\x80");
	BAD("\xe0\x80\xaf");
	BAD("\xe0\x9f\xbf");
	BAD("\xf0\x80\x80\x80");
	BAD("\xf0\x8f\xbf\xbf");
	/* UTF-16 surrogates. */
	BAD("\xed\xa0\x80");		 /* U+D800 */
	BAD("\xed\xaf\xbf");		 /* U+DBFF */
	BAD("\xed\xb0\x80");		 /* U+DC00 */
	BAD("\xed\xbf\xbf");		 /* U+DFFF */
	BAD("\xed\xa0\xbd\xed\xb2\xa9"); /* an encoded pair */
	/* Beyond U+10FFFF, and bytes that never start a character. */
	BAD("\xf4\x90\x80\x80");
	BAD("\xf5\x80\x80\x80");
	BAD("\xf7\xbf\xbf\xbf");
	BAD("\xf8\x88\x80\x80\x80");
	BAD("\xfc\x84\x80\x80\x80\x80");
	BAD("\xfe");
	BAD("\xff");
	/* Stray or missing continuation bytes. */
	BAD("\x80");
	BAD("a\xbf");
	BAD("\xc3");
	BAD("\xc3\x28");
	BAD("\xe2\x82");
	BAD("\xe2\x28\xac");
	BAD("\xe2\x82\x28");
	BAD("\xf0\x9d\x84");
	BAD("\xc3\xa9\xa9");
#undef OK
#undef BAD
	/* The length bounds the check, both ways. */
	assert_int_equal(str_is_clean_utf8("\xc3\xa9", 1), 0);
	assert_int_equal(str_is_clean_utf8("ab\ncd", 2), 1);
	assert_int_equal(str_is_clean_utf8("\xe2\x82\xac", 2), 0);
}

/*
 * Echoing outside bytes: every member of the class (lone lead bytes, cut
 * sequences, overlong forms, surrogates, beyond U+10FFFF, stray
 * continuation bytes, NUL) becomes U+FFFD, valid text is kept, and a copy
 * that does not fit is cut on a character boundary.
 */
static void
test_utf8_echo(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "abc", 3, "abc" },
		{ "h\xc3\xa9", 3, "h\xc3\xa9" },
		{ "\xc3", 1, "\xef\xbf\xbd" },
		{ "x\xe2\x82", 3, "x\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", 4,
		    "\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\x80z", 2, "\xef\xbf\xbdz" },
		{ "a\0b", 3,
		    "a\xef\xbf\xbd"
		    "b" },
		{ "\xf0\x9d\x84\x9e", 4, "\xf0\x9d\x84\x9e" },
		/* jansson's parse error for {"\é"}: its text ends so. */
		{ "invalid escape near '\"\\\xc3'", 25,
		    "invalid escape near '\"\\\xef\xbf\xbd'" },
	};
	char out[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = str_utf8_clean(out, sizeof(out), cases[i].in, cases[i].len);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
		assert_int_equal(str_is_utf8(out, n), 1);
	}
	/* Cut on a boundary: room for "a" and not for all of U+00E9. */
	assert_int_equal(str_utf8_clean(out, 3, "a\xc3\xa9", 3), 1);
	assert_string_equal(out, "a");
	assert_int_equal(str_utf8_clean(out, 3, "\xff\xff", 2), 0);
	assert_string_equal(out, "");
	/* The sequence checks alone. */
	assert_int_equal(str_utf8_seq("\xc3\xa9", 2), 2);
	assert_int_equal(str_utf8_seq("\xc3\xa9", 1), 0);
	assert_int_equal(str_utf8_seq("\xe0\x80\xaf", 3), 0);
	assert_int_equal(str_utf8_seq("\xef\xbf\xbd", 3), 3);
	assert_int_equal(str_is_utf8("a\x01\tb", 4), 1);
	assert_int_equal(str_is_utf8("a\xed\xbf\xbf", 4), 0);
}

static void
test_utf8_count(void **state)
{
	(void)state;
	assert_int_equal(str_utf8_count(""), 0);
	assert_int_equal(str_utf8_count("abc"), 3);
	assert_int_equal(str_utf8_count("h\xc3\xa9llo"), 5);
	assert_int_equal(str_utf8_count("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
	    3);
	assert_int_equal(str_utf8_count("\xf0\x9d\x84\x9ex"), 2);
	assert_int_equal(str_utf8_count("\xf4\x8f\xbf\xbf\xc2\x80\t"), 3);
}

static void
test_url_encode(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(str_url_encode(&b, "AZaz09-_.~"), 0);
	assert_string_equal(buf_cstr(&b), "AZaz09-_.~");
	buf_reset(&b);
	assert_int_equal(str_url_encode(&b,
			     "a b&c=d/e?f#g+h%i\xc3\xa9\"<>\x01\x7f\xff"),
	    0);
	assert_string_equal(buf_cstr(&b),
	    "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25i%C3%A9%22%3C%3E%01%7F%FF");
	buf_reset(&b);
	assert_int_equal(str_url_encode(&b, ""), 0);
	assert_string_equal(buf_cstr(&b), "");
	/* Appends to what is there. */
	assert_int_equal(buf_puts(&b, "?t="), 0);
	assert_int_equal(str_url_encode(&b, "x y"), 0);
	assert_string_equal(buf_cstr(&b), "?t=x%20y");
	buf_free(&b);

	/* Past the cap: -1. */
	buf_init(&b, 5);
	assert_int_equal(str_url_encode(&b, "abc d"), -1);
	assert_true(b.len <= 5);
	buf_free(&b);
	buf_init(&b, 5);
	assert_int_equal(str_url_encode(&b, "ab%"), 0);
	assert_string_equal(buf_cstr(&b), "ab%25");
	buf_free(&b);
}

static void
test_case_equal(void **state)
{
	(void)state;
	assert_int_equal(str_case_equal("", ""), 1);
	assert_int_equal(str_case_equal("Hello", "hELLO"), 1);
	assert_int_equal(str_case_equal("Alice@Example.COM",
			     "alice@example.com"),
	    1);
	assert_int_equal(str_case_equal("abc", "abd"), 0);
	assert_int_equal(str_case_equal("abc", "abcd"), 0);
	assert_int_equal(str_case_equal("abcd", "abc"), 0);
	assert_int_equal(str_case_equal("", "a"), 0);
	assert_int_equal(str_case_equal("a", ""), 0);
	/* Only A-Z fold: these pairs differ by 0x20 but are not letters. */
	assert_int_equal(str_case_equal("[", "{"), 0);
	assert_int_equal(str_case_equal("@", "`"), 0);
	assert_int_equal(str_case_equal("^", "~"), 0);
	/* No Unicode folding. */
	assert_int_equal(str_case_equal("\xc3\xa9", "\xc3\x89"), 0);
	assert_int_equal(str_case_equal("\xc3\xa9", "\xc3\xa9"), 1);

	assert_int_equal(str_has_prefix("sqlite:/x", "sqlite:"), 1);
	assert_int_equal(str_has_prefix("sqlite", "sqlite:"), 0);
	assert_int_equal(str_has_prefix("anything", ""), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_url_alphabet),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_b64_decode_rejects),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_buf_basic),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_printf_long),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_utf8_echo),
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_case_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
