/*
 * The sign-in back-off: per login, not per address, so that guessing one
 * account's password from many addresses gets nowhere.
 *
 * A try is counted before the password is checked, in the database, in
 * one statement: concurrent tries of one login cannot all slip past the
 * check, and every instance sharing the database sees the same count.
 * From the login_backoff_after-th try since the last success on, each try
 * holds the login back for login_backoff_base seconds, doubled per further
 * try, up to login_backoff_max; a try while held is refused at once,
 * without a lookup or a hash, and not counted.  A held login is seen with
 * a read first, so a flood of tries at a held login writes nothing; the
 * write re-checks, so a try racing the hold is still caught there.  A
 * success forgets the login; a login left alone for a day starts again
 * from nothing.
 *
 * Logins are counted by a keyed hash of the project and the login as
 * typed, lower-cased as lookups are, whether or not an account has it:
 * an unknown login is held back exactly as a real one, the answers and
 * their timing are the same, and a copy of the table names nobody.
 */
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define FORGET_MS (24LL * 3600 * 1000) /* a quiet login starts afresh */
#define PRUNE_EVERY_MS (60LL * 1000)

void
backoff_subject(const struct engine *e, const char *project_id,
    const char *login, char out[BACKOFF_SUBJECT_LEN + 1])
{
	login_subject(e->backoff_key, project_id, login, out);
}

/* The hold after the n-th try since the last success, in ms (0: none). */
static int64_t
hold_ms(int64_t after, int64_t base_s, int64_t max_s, int64_t n)
{
	int64_t ms = base_s * 1000;
	int64_t cap = max_s * 1000;

	if (after <= 0 || n < after)
		return 0;
	for (n -= after; n > 0 && ms < cap; n--)
		ms *= 2;
	return ms < cap ? ms : cap;
}

struct backoff_tx {
	int64_t after, base_s, max_s; /* the settings */
	const struct request_context *ctx;
	const char *project_id;
	const char *subject;
	int64_t now;
	int prune;
	int64_t wait_ms; /* out: > 0 when refused */
};

static int
backoff_tx(struct db_conn *c, void *arg)
{
	struct backoff_tx *t = arg;
	int64_t failures, until, hold;
	int rc;

	if (t->prune) {
		rc = store_backoff_prune(c, t->now - FORGET_MS);
		if (rc < 0)
			return rc;
	}
	rc = store_backoff_count(c, t->subject, t->now, t->now - FORGET_MS,
	    &failures, &until);
	if (rc != STORE_OK)
		return rc;
	if (until > t->now) {
		t->wait_ms = until - t->now;
		return 0;
	}
	hold = hold_ms(t->after, t->base_s, t->max_s, failures);
	if (hold <= 0)
		return STORE_OK;
	rc = store_backoff_hold(c, t->subject, t->now + hold);
	/*
	 * Each try that sets a hold is recorded, with no subject: the
	 * account is not looked up yet, and the row must not depend on it.
	 * Refused tries are not recorded: a flood is not a write flood.
	 */
	if (rc == STORE_OK)
		rc = audit_write(c, t->ctx, t->project_id, AUDIT_RATE_LIMITED,
		    NULL, "login", t->now);
	return rc;
}

enum engine_result
backoff_begin(struct engine *e, const struct request_context *ctx,
    const char *project_id, const char *login,
    char subject[BACKOFF_SUBJECT_LEN + 1], int64_t *retry_after_s)
{
	struct backoff_tx t;
	struct db_conn *c;
	int64_t last, until = 0;
	int rc;

	backoff_subject(e, project_id, login, subject);
	memset(&t, 0, sizeof(t));
	t.after = ENGINE_TUNABLE(e, login_backoff_after);
	t.base_s = ENGINE_TUNABLE(e, login_backoff_base);
	t.max_s = ENGINE_TUNABLE(e, login_backoff_max);
	if (t.after <= 0)
		return ENGINE_OK;
	t.ctx = ctx;
	t.project_id = project_id;
	t.subject = subject;
	t.now = db_now(e->db);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_backoff_until(c, subject, &until);
	db_release(e->db, c);
	if (rc != STORE_OK)
		return ENGINE_UNAVAILABLE;
	if (until > t.now) {
		*retry_after_s = (until - t.now + 999) / 1000;
		return ENGINE_THROTTLED;
	}
	/* One instance prunes at a time, about once a minute. */
	last = __atomic_load_n(&e->backoff_pruned_ms, __ATOMIC_RELAXED);
	if (t.now - last >= PRUNE_EVERY_MS)
		t.prune = __atomic_compare_exchange_n(&e->backoff_pruned_ms,
		    &last, t.now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (db_write(e->db, backoff_tx, &t) != 0)
		return ENGINE_UNAVAILABLE;
	if (t.wait_ms > 0) {
		*retry_after_s = (t.wait_ms + 999) / 1000;
		return ENGINE_THROTTLED;
	}
	return ENGINE_OK;
}

int
backoff_success(struct db_conn *c, const char *subject)
{
	int rc = store_backoff_clear(c, subject);

	return rc < 0 ? rc : STORE_OK;
}

static int
undo_tx(struct db_conn *c, void *arg)
{
	int rc = store_backoff_uncount(c, arg);

	return rc < 0 ? rc : STORE_OK;
}

void
backoff_undo(struct engine *e, const char *subject)
{
	if (ENGINE_TUNABLE(e, login_backoff_after) <= 0)
		return;
	if (db_write(e->db, undo_tx, (void *)subject) != 0)
		log_warn("session: a sign-in try could not be taken back");
}
