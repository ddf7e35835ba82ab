/*
 * Typed reset codes: what a code request shows (the masked destination,
 * which depends only on the typed login), and the confirm, which
 * spends a typed code under caps on wrong tries.  reset.c makes and stores
 * the codes.
 *
 * A code of 6 digits is one in a million: it is only as strong as its
 * caps.  A code dies after CODE_MAX_WRONG wrong tries, and the codes of one
 * account take at most CODE_MAX_WRONG_WINDOW wrong tries among them, over
 * the codes created in the last CODE_WINDOW_MS.  Both counts live in the
 * secrets rows, so they hold across instances sharing a database, and
 * every try is counted by one UPDATE whose WHERE clause carries both caps,
 * so concurrent guesses cannot pass them.  Once a cap is reached the right
 * code is refused like a wrong one: guessing on gains nothing.
 *
 * Nothing here tells accounts apart.  A request for a login that names no
 * account (or a disabled one) stores a decoy code under a subject derived
 * from the typed login with a keyed hash; its confirm then finds that
 * decoy, counts and caps wrong tries on it exactly as on a real code, and
 * answers with the same results.  Every confirm does the same reads, the
 * same hash and compare, and, for a live code, the same write.  Only the
 * right code, which only the account's mailbox has, answers differently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"
#include "userstore.h"

#define CODE_MAX_WRONG SECRET_MAX_WRONG /* wrong tries on one code */
#define CODE_MAX_WRONG_WINDOW 10	/* wrong tries per account per window */
#define CODE_WINDOW_MS (3600LL * 1000)
#define CODE_INPUT_MAX 2048 /* Cognito's bound on ConfirmationCode */
#define LOGIN_MAX 320

/* destinations */

int
code_email_shaped(const char *s)
{
	const char *at = strrchr(s, '@');

	return at != NULL && at != s && at[1] != '\0';
}

/*
 * Append the first character of s (one UTF-8 sequence), lower-cased if
 * ASCII, then "***".  A broken sequence is shown as "*".
 */
static void
mask_part(struct buf *b, const char *s)
{
	const unsigned char c = (unsigned char)*s;
	size_t n;
	int rc;

	if (c < 0x80)
		n = 1;
	else if ((c & 0xe0) == 0xc0)
		n = 2;
	else if ((c & 0xf0) == 0xe0)
		n = 3;
	else if ((c & 0xf8) == 0xf0)
		n = 4;
	else
		n = 0;
	if (n > 0 && strnlen(s, n) == n && str_is_clean_utf8(s, n)) {
		if (n == 1 && c >= 'A' && c <= 'Z')
			rc = buf_printf(b, "%c", (char)(c - 'A' + 'a'));
		else
			rc = buf_append(b, s, n);
	} else
		rc = buf_puts(b, "*");
	rc |= buf_puts(b, "***");
	if (rc != 0)
		abort(); /* the buffer holds the longest case */
}

void
code_mask_email(const char *email, char *out, size_t outlen)
{
	struct buf b;
	const char *at = strrchr(email, '@');
	int rc;

	buf_init(&b, CODE_DESTINATION_MAX - 1);
	if (at == NULL || at == email || at[1] == '\0') {
		/* Not an address: show nothing of it. */
		rc = buf_puts(&b, "****");
	} else {
		mask_part(&b, email);
		rc = buf_puts(&b, "@");
		mask_part(&b, at + 1);
	}
	if (rc != 0)
		abort();
	snprintf(out, outlen, "%s", buf_cstr(&b));
	buf_free(&b);
}

/*
 * BLAKE2b of purpose, project id and the lower-cased login under key: the
 * same login in any case maps to the same value, as account lookups do.
 */
static void
login_hash(const uint8_t key[SECRET_KEY_BYTES], const char *purpose,
    const char *project_id, const char *login, uint8_t *h, size_t hlen)
{
	crypto_generichash_state st;
	static const uint8_t sep = 0;
	uint8_t ch;
	const char *p;

	crypto_generichash_init(&st, key, SECRET_KEY_BYTES, hlen);
	crypto_generichash_update(&st, (const uint8_t *)purpose,
	    strlen(purpose));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)project_id,
	    strlen(project_id));
	crypto_generichash_update(&st, &sep, 1);
	for (p = login; *p != '\0'; p++) {
		ch = (uint8_t)*p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		crypto_generichash_update(&st, &ch, 1);
	}
	crypto_generichash_final(&st, h, hlen);
}

void
code_destination(const char *login, char out[CODE_DESTINATION_MAX])
{
	/*
	 * Only what was typed decides: an account found by its username
	 * must not show its address, or the answer would say it exists.
	 */
	if (code_email_shaped(login))
		code_mask_email(login, out, CODE_DESTINATION_MAX);
	else
		snprintf(out, CODE_DESTINATION_MAX, "%s",
		    CODE_DESTINATION_HIDDEN);
}

void
code_decoy_subject(const uint8_t key[SECRET_KEY_BYTES], const char *project_id,
    const char *login, char out[SECRET_HASH_LEN + 1])
{
	uint8_t h[32];

	login_hash(key, "decoy_subject", project_id, login, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
}

/* confirm */

/* Where a code stands, before or after a try. */
enum code_state {
	CODE_NONE, /* none, used, revoked, or sent to an old address */
	CODE_EXPIRED,
	CODE_LOCKED,  /* the code took its wrong tries */
	CODE_LIMITED, /* the account took its wrong tries for the window */
	CODE_LIVE,
};

static struct store_code_caps
caps_at(int64_t now)
{
	return (struct store_code_caps){
		.now = now,
		.since = now - CODE_WINDOW_MS,
		.per_code = CODE_MAX_WRONG,
		.per_subject = CODE_MAX_WRONG_WINDOW,
	};
}

/*
 * The state of code s of user u (NULL: a decoy), given the wrong tries its
 * subject took in the window.  The order matters: a dead code is dead
 * whatever its count, and the code's own cap wins over the account's.
 */
static enum code_state
code_state(const struct secret *s, const struct user *u, int64_t window_wrong,
    const struct store_code_caps *k)
{
	if (s == NULL || s->used_at != 0 || s->revoked_at != 0)
		return CODE_NONE;
	/* Bound to the address it was sent to, as links are. */
	if (u != NULL && !str_case_equal(s->email, u->email))
		return CODE_NONE;
	if (k->now >= s->expires_at)
		return CODE_EXPIRED;
	if (s->attempts >= k->per_code)
		return CODE_LOCKED;
	if (window_wrong >= k->per_subject)
		return CODE_LIMITED;
	return CODE_LIVE;
}

/* The detail an audit row gives a refused state. */
static const char *const refusal_names[] = {
	"none",	   /* CODE_NONE */
	"expired", /* CODE_EXPIRED */
	"locked",  /* CODE_LOCKED */
	"limited", /* CODE_LIMITED */
	"live",	   /* CODE_LIVE */
};

/*
 * The answer to a try that did not spend the code.  Hiding existence, "no
 * code" must look like a wrong code; an expired code says so only to the
 * holder of the right code.
 */
static enum engine_result
code_refusal(enum code_state st, int match, int reveal)
{
	switch (st) {
	case CODE_NONE:
		return reveal ? ENGINE_SECRET_INVALID : ENGINE_CODE_MISMATCH;
	case CODE_EXPIRED:
		return match || reveal ? ENGINE_SECRET_EXPIRED :
					 ENGINE_CODE_MISMATCH;
	case CODE_LOCKED:
		return ENGINE_CODE_LOCKED;
	case CODE_LIMITED:
		return ENGINE_RATE_LIMITED;
	case CODE_LIVE:
		return ENGINE_CODE_MISMATCH;
	default:
		abort();
	}
}

/*
 * 1 when the typed code is one the subject was sent before live (used, or
 * killed by a newer request) within the window since.  Only for clients
 * that reveal existence, after the wrong try was counted: Cognito then
 * says ExpiredCodeException, not CodeMismatchException.  Hiding
 * existence, this is never asked, so the work of the others is unchanged.
 */
static int
code_superseded(struct engine *e, const struct reset_code_confirm *in,
    const char *subject, const struct secret *live, int64_t since)
{
	char hash[SECRET_HASH_LEN + 1];
	struct store_list l = { NULL, 0 };
	struct db_conn *c;
	const struct secret *old;
	size_t i;
	int found = 0;

	c = db_acquire(e->db);
	if (c == NULL)
		return 0;
	if (store_code_recent(c, in->project->id, subject, since, &l) < 0) {
		db_release(e->db, c);
		return 0;
	}
	db_release(e->db, c);
	for (i = 0; i < l.n && !found; i++) {
		old = l.items[i];
		if (live != NULL && strcmp(old->id, live->id) == 0)
			continue;
		if (old->used_at == 0 && old->revoked_at == 0)
			continue;
		secret_code_hash(e->token_key, subject, old->id, in->code,
		    hash);
		found = secret_hash_equal(old->token_hash, hash);
		sodium_memzero(hash, sizeof(hash));
	}
	store_list_free(&l, (void (*)(void *))secret_free);
	return found;
}

struct code_tx {
	struct engine *e;
	const struct request_context *ctx;
	const char *audit; /* audit subject */
	const struct project *project;
	const struct secret *secret;
	const struct user *user; /* NULL: a decoy */
	const char *subject;
	const char *hash; /* new password's; NULL: none to store */
	int matched;	  /* the right code: spend it; else count it */
	int refused;	  /* counted as the app refused the password */
	struct store_code_caps caps;
	int done;	       /* counted, or spent */
	enum code_state after; /* when refused: why */
};

/*
 * Count a wrong try, or spend the code and set the password, in one
 * statement that checks the caps.  When the statement is refused, a
 * concurrent try got there first: read the row again to say why.
 */
static int
code_tx(struct db_conn *c, void *arg)
{
	struct code_tx *t = arg;
	struct secret *s = NULL;
	int64_t wrong = 0;
	int rc;

	rc = store_code_lock(c, t->subject);
	if (rc < 0)
		return rc;
	if (!t->matched)
		rc = store_code_count_wrong(c, t->secret->id, t->subject,
		    &t->caps);
	else
		rc = store_code_consume(c, t->secret->id, t->subject, &t->caps);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		t->done = 1;
		if (!t->matched)
			return audit_write(c, t->ctx, t->project->id,
			    AUDIT_SECRET_REFUSED, t->audit,
			    t->refused ? "app_refused" : "wrong_code",
			    t->caps.now);
		return reset_apply_password(t->e, c, t->ctx, t->project,
		    t->user, t->secret, t->hash, t->caps.now);
	}
	rc = store_secret_get(c, t->project->id, t->secret->id, &s);
	if (rc == STORE_OK)
		rc = store_code_attempts(c, t->subject, t->caps.since, &wrong);
	if (rc >= 0)
		t->after = code_state(s, t->user, wrong, &t->caps);
	secret_free(s);
	return rc < 0 ? rc : 0;
}

enum engine_result
reset_confirm_code(struct engine *e, const struct reset_code_confirm *in,
    struct user **user_out)
{
	struct code_tx t;
	struct db_conn *c;
	struct user *u = NULL;
	struct secret *s = NULL;
	char decoy[SECRET_HASH_LEN + 1], hash[SECRET_HASH_LEN + 1];
	char nothing[UUID_STRLEN + 1];
	char audit[AUDIT_SUBJECT_LEN + 1];
	const char *subject;
	char *pwhash = NULL;
	int64_t wrong = 0;
	enum code_state st;
	enum engine_result result;
	int rc, match;

	if (in->login == NULL || *in->login == '\0' ||
	    strlen(in->login) > LOGIN_MAX || in->code == NULL ||
	    *in->code == '\0' || strlen(in->code) > CODE_INPUT_MAX ||
	    in->new_password == NULL)
		return ENGINE_BAD_INPUT;
	/*
	 * The policy first, with what was typed as context: it needs no
	 * account, so it tells nothing.  The account's own details are
	 * checked once the code is known to be right.
	 */
	result = reset_password_policy(e, in->project, in->new_password,
	    in->login, NULL, in->verdict);
	if (result != ENGINE_OK)
		return result;

	code_decoy_subject(e->token_key, in->project->id, in->login, decoy);
	memset(&t, 0, sizeof(t));
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_find(c, in->project->id, in->login, &u);
	if (rc == STORE_OK && u->disabled) {
		user_free(u);
		u = NULL;
	}
	if (rc >= 0 && u == NULL && in->reveal_user_existence) {
		db_release(e->db, c);
		result = ENGINE_USER_UNKNOWN;
		goto out;
	}
	subject = u != NULL ? u->id : decoy;
	t.caps = caps_at(db_now(e->db));
	if (rc >= 0)
		rc = store_code_latest(c, in->project->id, subject, &s);
	if (rc >= 0)
		rc = store_code_attempts(c, subject, t.caps.since, &wrong);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}

	/* Hash and compare whatever was found, so every path costs alike. */
	id_new(nothing);
	secret_code_hash(e->token_key, subject, s != NULL ? s->id : nothing,
	    in->code, hash);
	match = s != NULL && secret_hash_equal(s->token_hash, hash) &&
	    u != NULL && s->user_id != NULL && strcmp(s->user_id, u->id) == 0;
	sodium_memzero(hash, sizeof(hash));
	st = code_state(s, u, wrong, &t.caps);
	audit_subject(e, in->project->id, u ? u->email : in->login, audit);
	if (st != CODE_LIVE) {
		if (st != CODE_NONE)
			audit_record(e, in->ctx, in->project->id,
			    AUDIT_SECRET_REFUSED, audit, refusal_names[st]);
		result = code_refusal(st, match, in->reveal_user_existence);
		goto out;
	}
	if (match) {
		result = reset_password_policy(e, in->project, in->new_password,
		    u->email, u->username, in->verdict);
		if (result != ENGINE_OK)
			goto out;
		/* The password goes to the project's storage (userstore.h). */
		result = storage_set_password(e, in->project, u,
		    in->new_password, NULL, &pwhash);
		/*
		 * An app that refuses the password takes a wrong try of the
		 * code, so that refusals cannot be tried without bound.
		 */
		if (result == ENGINE_STORAGE_REFUSED)
			t.refused = 1;
		else if (result != ENGINE_OK)
			goto out;
		/* Hashing takes a while; the code must still live after it. */
		t.caps = caps_at(db_now(e->db));
	}
	t.e = e;
	t.ctx = in->ctx;
	t.audit = audit;
	t.project = in->project;
	t.secret = s;
	t.user = u;
	t.subject = subject;
	t.hash = pwhash;
	t.matched = match && !t.refused;
	if (db_write(e->db, code_tx, &t) != 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (!t.done) {
		result = code_refusal(t.after, match,
		    in->reveal_user_existence);
		goto out;
	}
	if (t.refused) {
		result = ENGINE_STORAGE_REFUSED;
		goto out;
	}
	if (!match) {
		result = ENGINE_CODE_MISMATCH;
		if (in->reveal_user_existence && u != NULL &&
		    code_superseded(e, in, subject, s, t.caps.since))
			result = ENGINE_SECRET_EXPIRED;
		goto out;
	}
	engine_mail_queued(e);
	metrics_inc(M_SECRETS_CONSUMED);
	if (user_out != NULL) {
		u->email_verified = 1;
		u->updated_at = t.caps.now;
		xfree_secret(u->password_hash);
		u->password_hash = NULL;
		*user_out = u;
		u = NULL;
	}
	result = ENGINE_OK;
out:
	if (result == ENGINE_SECRET_EXPIRED)
		metrics_inc(M_SECRETS_EXPIRED);
	xfree_secret(pwhash);
	secret_free(s);
	user_free(u);
	return result;
}
