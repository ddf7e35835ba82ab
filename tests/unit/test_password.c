/*
 * Unit tests of passwords (core/password.c): the bounds every new password
 * must meet, counted in characters (grapheme clusters), and the Unicode
 * categories it may not hold; the policy's other rules (common,
 * context, strength, breached list, NFKC); and Argon2id hashing with small
 * parameters: hash, verify, the dummy verify, the rehash check, and hashes
 * made before normalisation.
 */
#include "unit.h"

#include <pthread.h>

#include <sodium.h>

#include "core/password.h"

#define OPS 1
#define MEM_KIB 8192

#define CYRILLIC_A "\xd0\xb0"	 /* U+0430, 2 bytes */
#define CJK_MI "\xe5\xaf\x86"	 /* U+5BC6, 3 bytes */
#define GCLEF "\xf0\x9d\x84\x9e" /* U+1D11E, 4 bytes */

/* The bounds alone, as imports check them. */
#define PASSWORD_OK PW_OK
#define PASSWORD_TOO_SHORT PW_MIN_LENGTH
#define PASSWORD_TOO_LONG PW_MAX_LENGTH
#define PASSWORD_INVALID_TEXT PW_VALID_TEXT

static enum password_rule
password_check_bounds(const char *pw)
{
	struct password_policy p = { .min_length = PASSWORD_MIN_CHARS,
		.min_score = PASSWORD_BOUNDS_ONLY };

	return password_check(&p, pw, NULL, NULL);
}

/* password_check_bounds of n copies of c. */
static enum password_rule
check_repeat(const char *c, size_t n)
{
	char *s = unit_repeat(c, n);
	enum password_rule rc = password_check_bounds(s);

	free(s);
	return rc;
}

static void
test_bounds_ascii(void **state)
{
	(void)state;
	assert_int_equal(password_check_bounds(""), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("a"), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("abcdefg"), PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds("abcdefgh"), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 255), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 256), PASSWORD_OK);
	assert_int_equal(check_repeat("a", 257), PASSWORD_TOO_LONG);
	/* Refused, never cut to the limit. */
	assert_int_equal(check_repeat("a", 1000), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 1024), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 1025), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat("a", 100000), PASSWORD_TOO_LONG);
}

static void
test_bounds_code_points(void **state)
{
	(void)state;
	/* 8 Cyrillic letters: 16 bytes, 8 characters. */
	assert_int_equal(
	    password_check_bounds(
		"\xd0\xb0\xd0\xb1\xd0\xb2\xd0\xb3\xd0\xb4\xd0\xb5\xd0\xb6\xd0\xb7"),
	    PASSWORD_OK);
	/* 7 of them are 14 bytes but still 7 characters. */
	assert_int_equal(check_repeat(CYRILLIC_A, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(CYRILLIC_A, 8), PASSWORD_OK);
	/* 7 CJK characters: 21 bytes, too short. */
	assert_int_equal(check_repeat(CJK_MI, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(CJK_MI, 8), PASSWORD_OK);
	assert_int_equal(check_repeat(GCLEF, 7), PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat(GCLEF, 8), PASSWORD_OK);
	/* The upper bound is in characters too. */
	assert_int_equal(check_repeat(CYRILLIC_A, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(CYRILLIC_A, 257), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat(CJK_MI, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(CJK_MI, 257), PASSWORD_TOO_LONG);
	/* 256 four-byte characters fill PASSWORD_MAX_BYTES exactly. */
	assert_int_equal(check_repeat(GCLEF, 256), PASSWORD_OK);
	assert_int_equal(check_repeat(GCLEF, 257), PASSWORD_TOO_LONG);
	assert_int_equal(check_repeat(GCLEF, 1000), PASSWORD_TOO_LONG);
	/* Mixed: 7 ASCII letters and one two-byte letter. */
	assert_int_equal(password_check_bounds("abcdefg\xc3\xa9"), PASSWORD_OK);
	assert_int_equal(password_check_bounds("abcdef\xc3\xa9"),
	    PASSWORD_TOO_SHORT);
}

static void
test_bounds_text(void **state)
{
	(void)state;
	/* Spaces are ordinary characters. */
	assert_int_equal(password_check_bounds("correct horse battery staple"),
	    PASSWORD_OK);
	assert_int_equal(password_check_bounds("        "), PASSWORD_OK);
	assert_int_equal(password_check_bounds(" a b c d "), PASSWORD_OK);
	/* Control characters. */
	assert_int_equal(password_check_bounds("abcdefgh\n"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\refgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\x01"
					       "efgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcd\x1b"
					       "efgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcdefgh\x7f"),
	    PASSWORD_INVALID_TEXT);
	/* Not UTF-8. */
	assert_int_equal(password_check_bounds("abcdefgh\xff"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xe9t\xe9 1234567"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("abcdefgh\xc3"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xc0\xaf"
					       "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xed\xa0\x80"
					       "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	assert_int_equal(password_check_bounds("\xf4\x90\x80\x80"
					       "abcdefgh"),
	    PASSWORD_INVALID_TEXT);
	/* Invalid text is refused even when it is short. */
	assert_int_equal(password_check_bounds("\xff"), PASSWORD_INVALID_TEXT);
}

/* The categories a password may not hold, several members of each. */
static const struct {
	const char *utf8;
	const char *what;
} forbidden[] = {
	/* Cc */
	{ "\t", "U+0009 tab" },
	{ "\x1f", "U+001F unit separator" },
	{ "\x7f", "U+007F delete" },
	{ "\xc2\x80", "U+0080 padding character" },
	{ "\xc2\x85", "U+0085 next line" },
	{ "\xc2\x9b", "U+009B control sequence introducer" },
	{ "\xc2\x9f", "U+009F application program command" },
	/* Cf */
	{ "\xc2\xad", "U+00AD soft hyphen" },
	{ "\xd8\x9c", "U+061C Arabic letter mark" },
	{ "\xe1\xa0\x8e", "U+180E Mongolian vowel separator" },
	{ "\xe2\x80\x8b", "U+200B zero width space" },
	{ "\xe2\x80\x8c", "U+200C zero width non-joiner" },
	{ "\xe2\x80\x8d", "U+200D zero width joiner" },
	{ "\xe2\x80\x8e", "U+200E left-to-right mark" },
	{ "\xe2\x80\x8f", "U+200F right-to-left mark" },
	{ "\xe2\x80\xaa", "U+202A left-to-right embedding" },
	{ "\xe2\x80\xae", "U+202E right-to-left override" },
	{ "\xe2\x81\xa0", "U+2060 word joiner" },
	{ "\xe2\x81\xa6", "U+2066 left-to-right isolate" },
	{ "\xe2\x81\xa9", "U+2069 pop directional isolate" },
	{ "\xef\xbb\xbf", "U+FEFF zero width no-break space" },
	{ "\xef\xbf\xb9", "U+FFF9 interlinear annotation anchor" },
	{ "\xf3\xa0\x80\x81", "U+E0001 language tag" },
	{ "\xf3\xa0\x81\x81", "U+E0041 tag latin capital A" },
	/* Zl, Zp */
	{ "\xe2\x80\xa8", "U+2028 line separator" },
	{ "\xe2\x80\xa9", "U+2029 paragraph separator" },
};

static void
test_text_categories(void **state)
{
	static const char *const bases[] = { "password", "Password1",
		"correct horse battery staple",
		"\xd0\xbf\xd0\xb0\xd1\x80"
		"\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xbf\xd0\xb0",
		NULL };
	char pw[256];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		for (j = 0; bases[j] != NULL; j++) {
			/* At the end, at the start and in the middle. */
			snprintf(pw, sizeof(pw), "%s%s", bases[j],
			    forbidden[i].utf8);
			if (password_check_bounds(pw) != PASSWORD_INVALID_TEXT)
				fail_msg("%s after \"%s\" was not refused",
				    forbidden[i].what, bases[j]);
			snprintf(pw, sizeof(pw), "%s%s", forbidden[i].utf8,
			    bases[j]);
			if (password_check_bounds(pw) != PASSWORD_INVALID_TEXT)
				fail_msg("%s before \"%s\" was not refused",
				    forbidden[i].what, bases[j]);
			snprintf(pw, sizeof(pw), "%.4s%s%s", bases[j],
			    forbidden[i].utf8, bases[j] + 4);
			if (password_check_bounds(pw) != PASSWORD_INVALID_TEXT)
				fail_msg("%s inside \"%s\" was not refused",
				    forbidden[i].what, bases[j]);
		}
	}
	/* Spaces of every kind, marks, symbols and private use are text. */
	assert_int_equal(password_check_bounds("pass\xc2\xa0word"),
	    PASSWORD_OK); /* U+00A0, NFKC: a space */
	assert_int_equal(password_check_bounds("pass\xe3\x80\x80word"),
	    PASSWORD_OK); /* U+3000 ideographic space */
	assert_int_equal(password_check_bounds("pass\xe2\x80\x83word"),
	    PASSWORD_OK); /* U+2003 em space */
	assert_int_equal(password_check_bounds("caf\xc3\xa9 au lait"),
	    PASSWORD_OK);
	assert_int_equal(password_check_bounds("cafe\xcc\x81 au lait"),
	    PASSWORD_OK); /* combining acute */
	assert_int_equal(password_check_bounds("\xe2\x9d\xa4\xef\xb8\x8f "
					       "my password"),
	    PASSWORD_OK); /* U+2764 U+FE0F */
	assert_int_equal(password_check_bounds("\xf0\x9f\x98\x80 smiles "
					       "here"),
	    PASSWORD_OK);
	assert_int_equal(password_check_bounds("\xee\x80\x80private use"),
	    PASSWORD_OK); /* U+E000 */
	/* The verdict names the rule, whichever face words it. */
	{
		struct password_policy p = { .min_length = PASSWORD_MIN_CHARS,
			.min_score = PASSWORD_SCORE_DEFAULT,
			.checks = PW_CHECK_LISTS | PW_CHECK_SCORE };
		struct password_verdict v;

		assert_int_equal(password_check(&p, "password\xe2\x80\x8b",
				     NULL, &v),
		    PW_VALID_TEXT);
		assert_int_equal(v.rule, PW_VALID_TEXT);
		assert_string_equal(password_rule_name(v.rule), "valid_text");
		assert_non_null(strstr(v.suggestion, "invisible"));
	}
}

#define ACUTE "\xcc\x81"     /* U+0301 combining acute accent */
#define DIAERESIS "\xcc\x88" /* U+0308 */
#define DOT_BELOW "\xcc\xa3" /* U+0323 */

static void
test_chars_graphemes(void **state)
{
	(void)state;
	assert_int_equal(password_chars(""), 0);
	assert_int_equal(password_chars("abc"), 3);
	assert_int_equal(password_chars("a" ACUTE), 1);
	assert_int_equal(password_chars("a" ACUTE ACUTE ACUTE ACUTE ACUTE ACUTE
				 ACUTE ACUTE),
	    1);
	assert_int_equal(password_chars(ACUTE ACUTE ACUTE), 1);
	assert_int_equal(password_chars("x" DOT_BELOW "y" DIAERESIS DOT_BELOW),
	    2);
	assert_int_equal(password_chars("\r\n"), 1);
	/* A flag is two regional indicators; a thumb with a skin tone. */
	assert_int_equal(password_chars("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa"), 1);
	assert_int_equal(password_chars("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), 1);
	assert_int_equal(password_chars(CJK_MI CJK_MI GCLEF), 3);
}

static void
test_bounds_graphemes(void **state)
{
	(void)state;
	/* One letter and 8 combining marks: 9 code points, 1 character. */
	assert_int_equal(password_check_bounds("a" ACUTE ACUTE ACUTE ACUTE ACUTE
				 ACUTE ACUTE ACUTE),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds(
			     "e" DOT_BELOW DOT_BELOW DOT_BELOW DOT_BELOW
				 DOT_BELOW DOT_BELOW DOT_BELOW DOT_BELOW),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds(ACUTE ACUTE ACUTE ACUTE ACUTE
				 ACUTE ACUTE ACUTE ACUTE),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(password_check_bounds(
			     "ab" ACUTE ACUTE ACUTE ACUTE
			     "c" DOT_BELOW DOT_BELOW DOT_BELOW),
	    PASSWORD_TOO_SHORT);
	/* 7 letters with two marks each: 21 code points, 7 characters. */
	assert_int_equal(check_repeat("x" DIAERESIS DOT_BELOW, 7),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat("x" DIAERESIS DOT_BELOW, 8), PASSWORD_OK);
	/* 4 flags and 4 toned thumbs: 8 code points, 4 characters. */
	assert_int_equal(check_repeat("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", 4),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 4),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", 8),
	    PASSWORD_OK);
	/* Conjoining jamo become 8 syllables under NFKC. */
	assert_int_equal(check_repeat("\xe1\x84\x80\xe1\x85\xa1", 7),
	    PASSWORD_TOO_SHORT);
	assert_int_equal(check_repeat("\xe1\x84\x80\xe1\x85\xa1", 8),
	    PASSWORD_OK);
	/* The upper bound counts characters too: 512 code points, 256. */
	assert_int_equal(check_repeat("x" DOT_BELOW, 256), PASSWORD_OK);
	assert_int_equal(check_repeat("x" DOT_BELOW, 257), PASSWORD_TOO_LONG);
}

static void
test_hash_verify(void **state)
{
	struct hasher *h;
	char *hash, *hash2;
	char prefix[64];

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 1);
	assert_non_null(h);
	hash = hasher_hash(h, "correct horse battery staple");
	assert_non_null(hash);
	snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=1$",
	    MEM_KIB, OPS);
	assert_memory_equal(hash, prefix, strlen(prefix));
	assert_true(strlen(hash) < crypto_pwhash_STRBYTES);

	assert_int_equal(hasher_verify(h, hash, "correct horse battery staple"),
	    1);
	assert_int_equal(hasher_verify(h, hash, "correct horse battery stapl"),
	    0);
	assert_int_equal(hasher_verify(h, hash, "Correct horse battery staple"),
	    0);
	assert_int_equal(hasher_verify(h, hash, ""), 0);
	/* No stored hash: the dummy is checked and the answer is always 0. */
	assert_int_equal(hasher_verify(h, NULL, "correct horse battery staple"),
	    0);
	assert_int_equal(hasher_verify(h, NULL, ""), 0);
	/* A malformed hash never verifies. */
	assert_int_equal(hasher_verify(h, "not a hash", "x"), 0);

	/* Salted: the same password hashes differently each time. */
	hash2 = hasher_hash(h, "correct horse battery staple");
	assert_non_null(hash2);
	assert_string_not_equal(hash, hash2);
	assert_int_equal(hasher_verify(h, hash2,
			     "correct horse battery staple"),
	    1);

	/* Multibyte passwords round trip byte for byte. */
	free(hash2);
	hash2 = hasher_hash(h,
	    "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c");
	assert_non_null(hash2);
	assert_int_equal(
	    hasher_verify(h, hash2,
		"\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c"),
	    1);
	assert_int_equal(hasher_verify(h, hash2,
			     "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb"),
	    0);
	free(hash2);
	free(hash);
	hasher_free(h);
	hasher_free(NULL);
}

static void
test_needs_rehash(void **state)
{
	struct hasher *h, *more_ops, *more_mem;
	char *hash;

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 1);
	more_ops = hasher_new(OPS + 1, MEM_KIB, 1);
	more_mem = hasher_new(OPS, MEM_KIB * 2, 1);
	assert_non_null(h);
	assert_non_null(more_ops);
	assert_non_null(more_mem);
	hash = hasher_hash(h, "password123");
	assert_non_null(hash);
	assert_int_equal(hasher_needs_rehash(h, hash), 0);
	assert_int_equal(hasher_needs_rehash(more_ops, hash), 1);
	assert_int_equal(hasher_needs_rehash(more_mem, hash), 1);
	/* A hash from other parameters still verifies. */
	assert_int_equal(hasher_verify(more_ops, hash, "password123"), 1);
	/* Something that is not an Argon2id hash wants replacing. */
	assert_int_equal(hasher_needs_rehash(h, "garbage"), 1);
	free(hash);
	hasher_free(h);
	hasher_free(more_ops);
	hasher_free(more_mem);
}

/* The full policy with the defaults, for an account alice@example.com. */
static enum password_rule
policy(const char *pw, const char *breached, struct password_verdict *v)
{
	struct password_policy p = { .min_length = PASSWORD_MIN_CHARS,
		.min_score = PASSWORD_SCORE_DEFAULT,
		.checks = PW_CHECK_LISTS | PW_CHECK_SCORE,
		.breached_file = breached };
	const char *context[] = { "Alice.Liddell@example.com", "alice",
		"Wonderland Books", NULL };

	return password_check(&p, pw, context, v);
}

static void
test_policy_rules(void **state)
{
	struct password_verdict v;

	(void)state;
	assert_int_equal(policy("password", NULL, &v), PW_COMMON);
	assert_string_equal(password_rule_name(v.rule), "common");
	assert_int_equal(policy("PassWord", NULL, NULL), PW_COMMON);
	assert_int_equal(policy("12345678", NULL, NULL), PW_COMMON);
	assert_int_equal(policy("qwertyuiop", NULL, NULL), PW_COMMON);
	/* The account's own details, in any case, and the local part. */
	assert_int_equal(policy("alice.liddell@EXAMPLE.com", NULL, &v),
	    PW_CONTEXT);
	assert_int_equal(policy("alice.liddell", NULL, NULL), PW_CONTEXT);
	assert_int_equal(policy("wonderland books", NULL, NULL), PW_CONTEXT);
	/* Guessable with the account's words: the strength rule. */
	assert_int_equal(policy("alice1234", NULL, &v), PW_STRENGTH);
	assert_true(v.score < 2);
	assert_int_equal(v.min_score, 2);
	assert_int_equal(policy("aaaaaaaaaaaa", NULL, NULL), PW_STRENGTH);
	/* Long passphrases with spaces and other scripts pass. */
	assert_int_equal(policy("correct horse battery staple", NULL, &v),
	    PW_OK);
	assert_int_equal(v.score, 4);
	assert_int_equal(
	    policy("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 \xd0\xbe\xd1\x82 "
		   "\xe5\xaf\x86\xe7\xa0\x81 tea kettle",
		NULL, NULL),
	    PW_OK);
	/* Too short, with the project's minimum in the verdict. */
	assert_int_equal(policy("Xq7#", NULL, &v), PW_MIN_LENGTH);
	assert_int_equal(v.min_length, 8);
}

static void
test_policy_nfkc(void **state)
{
	char *n;

	(void)state;
	/* Full-width letters and the "fi" ligature fold to ASCII. */
	n = password_normalise(
	    "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
	    "word");
	assert_non_null(n);
	assert_string_equal(n, "password");
	free(n);
	n = password_normalise("\xef\xac\x81ne");
	assert_string_equal(n, "fine");
	free(n);
	/* So the common list catches the full-width spelling. */
	assert_int_equal(
	    policy("\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
		   "word",
		NULL, NULL),
	    PW_COMMON);
	assert_null(password_normalise("abc\xff"));
	/* Length counts the normalised text: U+FDFA is 18 characters. */
	assert_int_equal(password_check_bounds("\xef\xb7\xba"), PW_OK);
}

/* Write a breached-password file of the SHA-1s of pws, sorted. */
static void
breached_file(const char *dir, const char *const *pws, char path[UNIT_PATH_MAX])
{
	char lines[16][64], hex[41], *text;
	uint8_t d[SHA1_BYTES];
	size_t i, j, n = 0;
	struct buf b;

	for (; pws[n] != NULL; n++) {
		sha1(pws[n], strlen(pws[n]), d);
		hex_encode(d, sizeof(d), hex);
		for (j = 0; j < 40; j++)
			if (hex[j] >= 'a')
				hex[j] = (char)(hex[j] - 'a' + 'A');
		snprintf(lines[n], sizeof(lines[n]), "%s:%zu", hex, n * 7 + 1);
	}
	qsort(lines, n, sizeof(lines[0]),
	    (int (*)(const void *, const void *))strcmp);
	buf_init(&b, 4096);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s\r\n", lines[i]), 0);
	text = buf_take(&b);
	unit_write_file(dir, "breached.txt", text, path);
	free(text);
}

/* A profile's policy, as engine_password_policy builds it. */
static enum password_rule
profile_check(enum password_profile prof, const char *pw)
{
	const struct password_profile_info *i = password_profile(prof);
	struct password_policy p = { .min_length = i->min_length,
		.max_length = i->max_length,
		.min_score = PASSWORD_SCORE_DEFAULT,
		.checks = i->checks };
	const char *context[] = { "alice@example.com", NULL };

	return password_check(&p, pw, context, NULL);
}

static void
test_profiles(void **state)
{
	enum password_profile prof;
	unsigned bits;
	char *s;

	(void)state;
	/* Cognito's default pool takes its documented examples. */
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Passw0rd!"), PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Summer2024!"),
	    PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Password1!"),
	    PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "passw0rd!"),
	    PW_UPPERCASE);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "PASSW0RD!"),
	    PW_LOWERCASE);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Password!"),
	    PW_NUMBERS);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Password1"),
	    PW_SYMBOLS);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Pw0rd!"),
	    PW_MIN_LENGTH);
	/* A space counts as a symbol only inside the password. */
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Pass w0rd"), PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, "Passw0rdx "),
	    PW_SYMBOLS);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO, " Passw0rdx"),
	    PW_SYMBOLS);
	/* Every symbol of Cognito's set, and a letter outside ASCII. */
	assert_true(password_is_symbol('^') && password_is_symbol('`') &&
	    password_is_symbol('\\') && password_is_symbol('"') &&
	    password_is_symbol('-') && !password_is_symbol('a') &&
	    !password_is_symbol(0xa7));
	assert_int_equal(profile_check(PW_PROFILE_COGNITO,
			     "\xc3\x89t\xc3\xa9"
			     "2024!"),
	    PW_OK); /* Été2024! */
	/* Xsolla: 6 to 100 characters, nothing else. */
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA, "password1230"),
	    PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA, "qwerty"), PW_OK);
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA, "qwert"),
	    PW_MIN_LENGTH);
	s = unit_repeat("y", 100);
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA, s), PW_OK);
	free(s);
	s = unit_repeat("y", 101);
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA, s), PW_MAX_LENGTH);
	free(s);
	/* The text rules hold under every profile. */
	assert_int_equal(profile_check(PW_PROFILE_XSOLLA,
			     "abc\xe2\x80\x8b"
			     "def"),
	    PW_VALID_TEXT);
	assert_int_equal(profile_check(PW_PROFILE_COGNITO,
			     "Passw0rd!\xe2\x80\xae"),
	    PW_VALID_TEXT);
	/* nist keeps its lists. */
	assert_int_equal(profile_check(PW_PROFILE_NIST, "password"), PW_COMMON);
	/* Names. */
	assert_int_equal(password_profile_parse("cognito", &prof), 0);
	assert_int_equal(prof, PW_PROFILE_COGNITO);
	assert_int_equal(password_profile_parse("Cognito", &prof), -1);
	assert_int_equal(password_profile_parse(NULL, &prof), -1);
	assert_int_equal(password_require_parse("uppercase,symbols", &bits), 0);
	assert_int_equal(bits, PW_REQUIRE_UPPERCASE | PW_REQUIRE_SYMBOLS);
	assert_int_equal(password_require_parse("none", &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(password_require_parse("uppercase,", &bits), -1);
	assert_int_equal(password_require_parse("", &bits), -1);
	assert_int_equal(password_require_parse("digits", &bits), -1);
	assert_string_equal(password_rule_name(PW_SYMBOLS), "symbols");
}

static void
test_breached(void **state)
{
	static const char *const pws[] = { "first breached pass",
		"tulip harbour 1987", "zebra crossing lights",
		"another one here", "xylophone quartet", NULL };
	char dir[UNIT_DIR_MAX], path[UNIT_PATH_MAX];
	uint8_t d[SHA1_BYTES];
	char hex[41];
	size_t i;

	(void)state;
	/* The SHA-1 of "abc", from FIPS 180-1. */
	sha1("abc", 3, d);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1("", 0, d);
	hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");

	unit_tmpdir(dir);
	breached_file(dir, pws, path);
	for (i = 0; pws[i] != NULL; i++)
		assert_int_equal(password_breached(path, pws[i]), 1);
	assert_int_equal(password_breached(path, "not in the list at all"), 0);
	assert_int_equal(password_breached(path, ""), 0);
	assert_int_equal(policy("tulip harbour 1987", path, NULL), PW_BREACHED);
	assert_int_equal(policy("tulip harbour 1988", path, NULL), PW_OK);
	/* An empty file and a missing one. */
	unit_write_file(dir, "empty.txt", "", path);
	assert_int_equal(password_breached(path, pws[0]), 0);
	assert_int_equal(password_breached("/nonexistent/breached", pws[0]),
	    -1);
	unit_rmdir(dir);
}

/* A hash made of the text as typed, before normalisation, still logs in. */
static void
test_legacy_hash(void **state)
{
	struct hasher *h;
	char hash[crypto_pwhash_STRBYTES];
	const char *typed = "\xef\xac\x81ne tuned violin strings";

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 1);
	assert_non_null(h);
	assert_int_equal(crypto_pwhash_str(hash, typed, strlen(typed), OPS,
			     (size_t)MEM_KIB * 1024),
	    0);
	assert_int_equal(hasher_verify(h, hash, typed), 2);
	assert_int_equal(hasher_verify(h, hash, "fine tuned violin strings"),
	    0);
	hasher_free(h);
}

struct worker {
	struct hasher *h;
	char pw[32];
	int ok;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char *hash = hasher_hash(w->h, w->pw);

	w->ok = hash != NULL && hasher_verify(w->h, hash, w->pw) == 1 &&
	    hasher_verify(w->h, hash, "other password") == 0;
	free(hash);
	return NULL;
}

/* More threads than slots: each waits its turn, none fails. */
static void
test_concurrent(void **state)
{
	struct worker w[6];
	pthread_t t[6];
	struct hasher *h;
	int i;

	(void)state;
	h = hasher_new(OPS, MEM_KIB, 2);
	assert_non_null(h);
	for (i = 0; i < 6; i++) {
		w[i].h = h;
		snprintf(w[i].pw, sizeof(w[i].pw), "password-%d", i);
		w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
				     &w[i]),
		    0);
	}
	for (i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].ok, 1);
	}
	hasher_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_ascii),
		cmocka_unit_test(test_bounds_code_points),
		cmocka_unit_test(test_bounds_text),
		cmocka_unit_test(test_text_categories),
		cmocka_unit_test(test_chars_graphemes),
		cmocka_unit_test(test_bounds_graphemes),
		cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_policy_nfkc),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_breached),
		cmocka_unit_test(test_legacy_hash),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_concurrent),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
