/*
 * The password policy and hashing (see password.h).
 *
 * The checks run from cheapest to dearest and stop at the first rule
 * broken: bounds, the built-in common list (a scan of a few hundred short
 * lines), the account's own details, the strength estimate (zxcvbn,
 * well under a millisecond), and last the breached list, a binary search
 * over a file of any size with a dozen or so preads.
 *
 * The semaphore is the bound on concurrent Argon2id computations; waiting
 * for it is the queue.
 */
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <crypt.h>
#include <sodium.h>
#include <utf8proc.h>
#include <zxcvbn.h>

#include "../log.h"
#include "../util/embedded.h"
#include "../util/metrics.h"
#include "password.h"

#define COMMON_LIST "policy/common-passwords.txt"
#define BREACHED_LINE_MAX 128 /* "HEX40:COUNT" and room to spare */
#define BREACHED_CHUNK 256

struct hasher {
	unsigned long long opslimit;
	size_t memlimit; /* bytes */
	sem_t slots;
	char dummy[crypto_pwhash_STRBYTES];
};

static const char *const rule_names[PW__MAX] = {
	"ok",	      /* PW_OK */
	"min_length", /* PW_MIN_LENGTH */
	"max_length", /* PW_MAX_LENGTH */
	"valid_text", /* PW_VALID_TEXT */
	"common",     /* PW_COMMON */
	"breached",   /* PW_BREACHED */
	"context",    /* PW_CONTEXT */
	"strength",   /* PW_STRENGTH */
	"uppercase",  /* PW_UPPERCASE */
	"lowercase",  /* PW_LOWERCASE */
	"numbers",    /* PW_NUMBERS */
	"symbols",    /* PW_SYMBOLS */
};

static const struct password_profile_info profiles[PW_PROFILE__MAX] = {
	/* PW_PROFILE_NIST */
	{ "nist", PASSWORD_MIN_CHARS, PASSWORD_MIN_CHARS_MAX,
	    PASSWORD_MAX_CHARS, PW_CHECK_LISTS | PW_CHECK_SCORE },
	/* PW_PROFILE_COGNITO: Cognito's default pool policy */
	{ "cognito", 8, 99, PASSWORD_MAX_CHARS, PW_REQUIRE_ALL },
	/* PW_PROFILE_XSOLLA: new_password is 6 to 100 characters */
	{ "xsolla", 6, 100, 100, 0 },
};

/* The names password_require_parse takes, with their bits. */
static const struct {
	const char *name;
	unsigned bit;
} require_names[] = {
	{ "uppercase", PW_REQUIRE_UPPERCASE },
	{ "lowercase", PW_REQUIRE_LOWERCASE },
	{ "numbers", PW_REQUIRE_NUMBERS },
	{ "symbols", PW_REQUIRE_SYMBOLS },
};

/* Cognito's symbols (its PasswordPolicy documentation), space apart. */
static const char cognito_symbols[] = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/* What each rule tells the user; the dialects add their own framing. */
static const struct {
	const char *message;
	const char *suggestion;
} rule_texts[PW__MAX] = {
	/* PW_OK */
	{ "The password is acceptable.", "" },
	/* PW_MIN_LENGTH */
	{ "This password is too short.",
	    "Use a longer password; a few words make a good one." },
	/* PW_MAX_LENGTH */
	{ "This password is too long.", "Use a shorter password." },
	/* PW_VALID_TEXT */
	{ "This password contains characters that are not allowed.",
	    "Use letters, digits, spaces and symbols, without control, "
	    "invisible or line-breaking characters." },
	/* PW_COMMON */
	{ "This is one of the most common passwords.",
	    "Avoid common passwords; a few unrelated words are better." },
	/* PW_BREACHED */
	{ "This password has appeared in a data breach.",
	    "Choose a password you have never used anywhere." },
	/* PW_CONTEXT */
	{ "This password is your email address, username or the name of "
	  "the service.",
	    "Choose a password nobody could guess from "
	    "your account." },
	/* PW_STRENGTH */
	{ "This password is too easy to guess.",
	    "Add another word or two; uncommon words are better." },
	/* PW_UPPERCASE */
	{ "Password must have uppercase characters.",
	    "Add an uppercase letter." },
	/* PW_LOWERCASE */
	{ "Password must have lowercase characters.",
	    "Add a lowercase letter." },
	/* PW_NUMBERS */
	{ "Password must have numeric characters.", "Add a digit." },
	/* PW_SYMBOLS */
	{ "Password must have symbol characters.",
	    "Add a symbol such as ! @ # or %." },
};

const char *
password_rule_name(enum password_rule r)
{
	if (r < 0 || r >= PW__MAX)
		abort();
	return rule_names[r];
}

const struct password_profile_info *
password_profile(enum password_profile p)
{
	if (p < 0 || p >= PW_PROFILE__MAX)
		abort();
	return &profiles[p];
}

int
password_profile_parse(const char *name, enum password_profile *out)
{
	int i;

	for (i = 0; i < PW_PROFILE__MAX; i++)
		if (name != NULL && strcmp(name, profiles[i].name) == 0) {
			*out = (enum password_profile)i;
			return 0;
		}
	return -1;
}

int
password_require_parse(const char *list, unsigned *out)
{
	const char *p = list, *end;
	unsigned bits = 0;
	size_t i, n, found;

	if (strcmp(list, "none") == 0) {
		*out = 0;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		found = 0;
		for (i = 0;
		     i < sizeof(require_names) / sizeof(require_names[0]); i++)
			if (strlen(require_names[i].name) == n &&
			    strncmp(p, require_names[i].name, n) == 0) {
				bits |= require_names[i].bit;
				found = 1;
			}
		if (!found)
			return -1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = bits;
	return 0;
}

int
password_is_symbol(int32_t c)
{
	return c > 0 && c < 0x80 && strchr(cognito_symbols, (int)c) != NULL;
}

/*
 * The first class rule of checks that valid UTF-8 text s breaks, or PW_OK.
 * Letters are by Unicode category (Lu, Ll), numbers are decimal digits
 * (Nd), symbols are Cognito's set, and a space that neither starts nor
 * ends the password counts as a symbol, as Cognito counts it.
 */
static enum password_rule
classes_missing(const char *s, unsigned checks)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;
	unsigned have = 0;
	size_t len = strlen(s);

	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0)
			break;
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_LU:
			have |= PW_REQUIRE_UPPERCASE;
			break;
		case UTF8PROC_CATEGORY_LL:
			have |= PW_REQUIRE_LOWERCASE;
			break;
		case UTF8PROC_CATEGORY_ND:
			have |= PW_REQUIRE_NUMBERS;
			break;
		default:
			break;
		}
		if (password_is_symbol(cp) ||
		    (cp == ' ' && p != (const utf8proc_uint8_t *)s &&
			p + 1 < (const utf8proc_uint8_t *)s + len))
			have |= PW_REQUIRE_SYMBOLS;
		p += n;
	}
	if ((checks & PW_REQUIRE_UPPERCASE) && !(have & PW_REQUIRE_UPPERCASE))
		return PW_UPPERCASE;
	if ((checks & PW_REQUIRE_LOWERCASE) && !(have & PW_REQUIRE_LOWERCASE))
		return PW_LOWERCASE;
	if ((checks & PW_REQUIRE_NUMBERS) && !(have & PW_REQUIRE_NUMBERS))
		return PW_NUMBERS;
	if ((checks & PW_REQUIRE_SYMBOLS) && !(have & PW_REQUIRE_SYMBOLS))
		return PW_SYMBOLS;
	return PW_OK;
}

char *
password_normalise(const char *pw)
{
	size_t len = strnlen(pw, PASSWORD_MAX_BYTES + 1);
	utf8proc_uint8_t *n;
	char *out;

	if (len > PASSWORD_MAX_BYTES)
		return NULL;
	n = utf8proc_NFKC((const utf8proc_uint8_t *)pw);
	if (n == NULL)
		return NULL;
	/* utf8proc allocates with malloc; hand back our own copy. */
	out = xstrdup((const char *)n);
	sodium_memzero(n, strlen((char *)n));
	free(n);
	return out;
}

/*
 * 1 when no character of valid UTF-8 text s is in a category a password
 * may not hold: controls (Cc: C0, DEL and C1, tab included), format
 * characters (Cf: zero-width spaces and joiners, bidi overrides, the soft
 * hyphen, ...), and the line and paragraph separators (Zl, Zp).  They are
 * invisible or move the text around, so a password holding one cannot be
 * typed again as it is seen.
 */
static int
text_allowed(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;

	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0)
			return 0;
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_CC:
		case UTF8PROC_CATEGORY_CF:
		case UTF8PROC_CATEGORY_ZL:
		case UTF8PROC_CATEGORY_ZP:
			return 0;
		default:
			break;
		}
		p += n;
	}
	return 1;
}

size_t
password_chars(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t cp, prev = -1, state = 0;
	utf8proc_ssize_t n;
	size_t chars = 0;

	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &cp);
		if (n <= 0)
			break;
		if (prev == -1 ||
		    utf8proc_grapheme_break_stateful(prev, cp, &state))
			chars++;
		prev = cp;
		p += n;
	}
	return chars;
}

int
password_score(double bits)
{
	/*
	 * zxcvbn's scale is on guesses: under 10^3, 10^6, 10^8, 10^10, more.
	 * In bits of entropy: log2 of each.
	 */
	if (bits < 9.966)
		return 0;
	if (bits < 19.932)
		return 1;
	if (bits < 26.575)
		return 2;
	if (bits < 33.219)
		return 3;
	return 4;
}

/* Lower-case ASCII letters of s in place. */
static void
ascii_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int
password_common(const char *pw)
{
	const struct embedded_file *f = embedded_find(COMMON_LIST);
	const char *p, *end, *eol;
	size_t n = strlen(pw);
	char *low;
	int found = 0;

	if (f == NULL)
		abort(); /* built into the binary */
	low = xstrdup(pw);
	ascii_lower(low);
	end = f->data + f->len;
	for (p = f->data; p < end && !found; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (*p != '#' && (size_t)(eol - p) == n &&
		    memcmp(p, low, n) == 0)
			found = 1;
	}
	xfree_secret(low);
	return found;
}

/* 1 when pw equals one of the context items, ignoring ASCII case. */
static int
matches_context(const char *pw, const char *const *context)
{
	const char *item, *at;
	size_t n = strlen(pw);

	for (; context != NULL && *context != NULL; context++) {
		item = *context;
		if (*item == '\0')
			continue;
		if (strcasecmp(pw, item) == 0)
			return 1;
		/* An email's local part alone is as guessable. */
		at = strrchr(item, '@');
		if (at != NULL && (size_t)(at - item) == n &&
		    strncasecmp(pw, item, n) == 0)
			return 1;
	}
	return 0;
}

/* The strength score of pw, with context as zxcvbn's user dictionary. */
static int
strength(const char *pw, const char *const *context)
{
	const char *dict[2 * PASSWORD_CONTEXT_MAX + 1];
	char locals[PASSWORD_CONTEXT_MAX][256];
	const char *at;
	size_t i, n = 0, len;

	for (i = 0;
	     context != NULL && context[i] != NULL && i < PASSWORD_CONTEXT_MAX;
	     i++) {
		if (*context[i] == '\0')
			continue;
		dict[n++] = context[i];
		at = strrchr(context[i], '@');
		len = at ? (size_t)(at - context[i]) : 0;
		if (len > 0 && len < sizeof(locals[0])) {
			memcpy(locals[i], context[i], len);
			locals[i][len] = '\0';
			dict[n++] = locals[i];
		}
	}
	dict[n] = NULL;
	return password_score(ZxcvbnMatch(pw, dict, NULL));
}

/*
 * The start of the first line beginning at or after pos (pos itself when
 * it follows a newline or is 0), or size when there is none; -1 on a read
 * failure.
 */
static int64_t
line_start(int fd, int64_t pos, int64_t size)
{
	char chunk[BREACHED_CHUNK];
	ssize_t got, i;

	if (pos == 0)
		return 0;
	pos--; /* look at the byte before: is pos a line start? */
	while (pos < size) {
		got = pread(fd, chunk, sizeof(chunk), (off_t)pos);
		if (got < 0)
			return -1;
		if (got == 0)
			return size;
		for (i = 0; i < got; i++)
			if (chunk[i] == '\n')
				return pos + i + 1;
		pos += got;
	}
	return size;
}

/*
 * Compare the line at start with the 40 hex characters of want; *next
 * receives where the following line starts.  -1, 0, 1 as the line sorts
 * before, equal to or after want; -2 on a read failure.
 */
static int
line_compare(int fd, int64_t start, int64_t size, const char *want,
    int64_t *next)
{
	char line[BREACHED_LINE_MAX + 1];
	ssize_t got;
	char *nl;
	int i, a, b;

	got = pread(fd, line, BREACHED_LINE_MAX, (off_t)start);
	if (got < 0)
		return -2;
	line[got] = '\0';
	nl = memchr(line, '\n', (size_t)got);
	if (nl != NULL)
		*next = start + (nl - line) + 1;
	else if (got < BREACHED_LINE_MAX)
		*next = size;
	else {
		*next = line_start(fd, start + BREACHED_LINE_MAX, size);
		if (*next < 0)
			return -2;
	}
	for (i = 0; i < 40; i++) {
		a = i < got && (nl == NULL || line + i < nl) ?
		    (unsigned char)line[i] :
		    0;
		if (a >= 'a' && a <= 'z')
			a -= 'a' - 'A';
		b = (unsigned char)want[i];
		if (a != b)
			return a < b ? -1 : 1;
	}
	/* Equal hex: a match only when the hash ends there. */
	if (got > 40 && line[40] != ':' && line[40] != '\n' && line[40] != '\r')
		return 1;
	return 0;
}

int
password_breached(const char *path, const char *pw)
{
	uint8_t digest[SHA1_BYTES];
	char want[2 * SHA1_BYTES + 1];
	int64_t lo, hi, mid, start = 0, next, size;
	int fd, cmp, i, rc = -1;

	sha1(pw, strlen(pw), digest);
	hex_encode(digest, sizeof(digest), want);
	for (i = 0; want[i] != '\0'; i++)
		if (want[i] >= 'a' && want[i] <= 'f')
			want[i] = (char)(want[i] - 'a' + 'A');
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		log_error("password: cannot open %s: %s", path,
		    strerror(errno));
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		log_error("password: cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	/* Invariant: a matching line, if any, starts in [lo, hi). */
	lo = 0;
	hi = size;
	rc = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		start = mid == lo ? lo : line_start(fd, mid, size);
		if (start < 0)
			break;
		if (start >= hi) {
			hi = mid;
			continue;
		}
		cmp = line_compare(fd, start, size, want, &next);
		if (cmp == -2) {
			start = -1;
			break;
		}
		if (cmp == 0) {
			rc = 1;
			break;
		}
		if (cmp < 0)
			lo = next;
		else
			hi = start;
	}
	if (start < 0) {
		log_error("password: cannot read %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
out:
	if (fd != -1)
		close(fd);
	sodium_memzero(digest, sizeof(digest));
	sodium_memzero(want, sizeof(want));
	return rc;
}

enum password_rule
password_check(const struct password_policy *p, const char *pw,
    const char *const *context, struct password_verdict *out)
{
	enum password_rule rule = PW_OK;
	char *norm = NULL;
	size_t len, chars;
	int64_t max_length = p->max_length > 0 ? p->max_length :
						 PASSWORD_MAX_CHARS;
	int score = -1;

	len = strnlen(pw, PASSWORD_MAX_BYTES + 1);
	if (len > PASSWORD_MAX_BYTES) {
		rule = PW_MAX_LENGTH;
		goto out;
	}
	/* Both what was typed and what is kept must be allowed text. */
	if (!str_is_clean_utf8(pw, len) || !text_allowed(pw)) {
		rule = PW_VALID_TEXT;
		goto out;
	}
	norm = password_normalise(pw);
	if (norm == NULL || !str_is_clean_utf8(norm, strlen(norm)) ||
	    !text_allowed(norm)) {
		rule = PW_VALID_TEXT;
		goto out;
	}
	chars = password_chars(norm);
	if (chars < (size_t)p->min_length) {
		rule = PW_MIN_LENGTH;
		goto out;
	}
	if (chars > (size_t)max_length) {
		rule = PW_MAX_LENGTH;
		goto out;
	}
	if (p->min_score == PASSWORD_BOUNDS_ONLY)
		goto out;
	rule = classes_missing(norm, p->checks);
	if (rule != PW_OK)
		goto out;
	if ((p->checks & PW_CHECK_LISTS) && password_common(norm)) {
		rule = PW_COMMON;
		goto out;
	}
	if ((p->checks & PW_CHECK_LISTS) && matches_context(norm, context)) {
		rule = PW_CONTEXT;
		goto out;
	}
	if (p->checks & PW_CHECK_SCORE) {
		score = strength(norm, context);
		if (score < p->min_score) {
			rule = PW_STRENGTH;
			goto out;
		}
	}
	/* A list that cannot be read fails open: logged, not refused. */
	if ((p->checks & PW_CHECK_LISTS) && p->breached_file != NULL &&
	    password_breached(p->breached_file, norm) == 1)
		rule = PW_BREACHED;
out:
	if (out != NULL) {
		*out = (struct password_verdict){
			.rule = rule,
			.score = score < 0 ? 0 : score,
			.min_length = p->min_length,
			.max_length = max_length,
			.min_score = p->min_score,
			.message = rule_texts[rule].message,
			.suggestion = rule_texts[rule].suggestion,
		};
	}
	xfree_secret(norm);
	return rule;
}

/* hashing */

struct hasher *
hasher_new(uint64_t opslimit, size_t memory_kib, int concurrency)
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	char salt_pw[32];

	if (concurrency <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		concurrency = n > 0 ? (int)n : 1;
	}
	h->opslimit = opslimit;
	h->memlimit = memory_kib * 1024;
	sem_init(&h->slots, 0, (unsigned)concurrency);
	/* The dummy hash is of a random password nobody knows. */
	randombytes_buf(salt_pw, sizeof(salt_pw) - 1);
	salt_pw[sizeof(salt_pw) - 1] = '\0';
	if (crypto_pwhash_str(h->dummy, salt_pw, sizeof(salt_pw) - 1,
		h->opslimit, h->memlimit) != 0) {
		log_error("password: cannot make the dummy hash");
		sem_destroy(&h->slots);
		free(h);
		return NULL;
	}
	return h;
}

void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	sem_destroy(&h->slots);
	free(h);
}

/* Take a hashing slot: the wait and the hashes running are measured. */
static void
slot_take(struct hasher *h)
{
	int64_t t0 = time_mono_us();

	while (sem_wait(&h->slots) == -1)
		continue; /* EINTR */
	metrics_observe(H_HASH_WAIT, time_mono_us() - t0);
	metrics_inc(M_HASHES_IN_FLIGHT);
}

static void
slot_give(struct hasher *h)
{
	metrics_dec(M_HASHES_IN_FLIGHT);
	sem_post(&h->slots);
}

/*
 * 1 when hash is a bcrypt hash ($2a$, $2b$, $2y$) that libxcrypt accepts;
 * imported users may bring one, and it is replaced by Argon2id at the
 * next successful sign-in (hasher_needs_rehash).
 */
static int
is_bcrypt(const char *hash)
{
	return hash[0] == '$' && hash[1] == '2' && hash[2] != '\0' &&
	    strchr("aby", hash[2]) != NULL && hash[3] == '$' &&
	    crypt_checksalt(hash) == CRYPT_SALT_OK;
}

/* Check pw against a bcrypt hash through libxcrypt, in constant time. */
static int
bcrypt_verify(const char *hash, const char *pw)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *out;
	size_t n = strlen(hash);
	int ok;

	out = crypt_r(pw, hash, cd);
	ok = out != NULL && out[0] != '*' && strlen(out) == n &&
	    sodium_memcmp(out, hash, n) == 0;
	sodium_memzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

char *
hasher_hash(struct hasher *h, const char *pw)
{
	char out[crypto_pwhash_STRBYTES];
	char *norm = password_normalise(pw);
	int rc;

	if (norm == NULL)
		return NULL;
	slot_take(h);
	rc = crypto_pwhash_str(out, norm, strlen(norm), h->opslimit,
	    h->memlimit);
	slot_give(h);
	xfree_secret(norm);
	if (rc != 0) {
		log_error("password: hashing failed (out of memory?)");
		return NULL;
	}
	return xstrdup(out);
}

static int
verify_one(struct hasher *h, const char *hash, const char *pw)
{
	int rc;

	slot_take(h);
	if (is_bcrypt(hash))
		rc = bcrypt_verify(hash, pw) ? 0 : -1;
	else
		rc = crypto_pwhash_str_verify(hash, pw, strlen(pw));
	slot_give(h);
	return rc == 0;
}

int
hasher_verify(struct hasher *h, const char *hash, const char *pw)
{
	char *norm = password_normalise(pw);
	int ok = 0;

	/*
	 * The second verify depends only on the text typed, never on the
	 * account, so it tells nothing about who exists.
	 */
	if (norm != NULL && verify_one(h, hash != NULL ? hash : h->dummy, norm))
		ok = 1;
	else if ((norm == NULL || strcmp(norm, pw) != 0) &&
	    verify_one(h, hash != NULL ? hash : h->dummy, pw))
		ok = 2;
	xfree_secret(norm);
	return hash != NULL ? ok : 0;
}

int
hasher_importable(const char *hash)
{
	size_t n = strnlen(hash, crypto_pwhash_STRBYTES);
	size_t i;

	if (n == 0 || n >= crypto_pwhash_STRBYTES)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)hash[i] <= 0x20 ||
		    (unsigned char)hash[i] >= 0x7f)
			return 0;
	if (str_has_prefix(hash, "$argon2id$v=19$m="))
		return strchr(hash + 17, '$') != NULL;
	return is_bcrypt(hash);
}

int
hasher_needs_rehash(struct hasher *h, const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, h->opslimit, h->memlimit) !=
	    0;
}

struct bench_thread {
	struct hasher *h;
	int64_t until_ms;
	int64_t count;
	int failed;
};

static void *
bench_main(void *arg)
{
	struct bench_thread *b = arg;
	char *hash;

	while (time_mono_ms() < b->until_ms) {
		hash = hasher_hash(b->h, "correct horse battery staple");
		if (hash == NULL) {
			b->failed = 1;
			break;
		}
		free(hash);
		b->count++;
	}
	return NULL;
}

int64_t
hasher_bench(struct hasher *h, int threads, int64_t ms)
{
	struct bench_thread *b = xcalloc((size_t)threads, sizeof(*b));
	pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
	int64_t total = 0, until = time_mono_ms() + ms;
	int i, started = 0, failed = 0;

	for (i = 0; i < threads; i++) {
		b[i] = (struct bench_thread){ h, until, 0, 0 };
		if (pthread_create(&t[i], NULL, bench_main, &b[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		total += b[i].count;
		failed |= b[i].failed;
	}
	free(b);
	free(t);
	return failed || started < threads ? -1 : total;
}
