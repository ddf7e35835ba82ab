/*
 * The audit trail: one row per thing that happened to an account or a
 * limit, with the time, the project, the client's address and user agent,
 * and the login as a keyed hash, never a secret.  The hash keeps rows of
 * one account together without the table naming anyone: without the
 * server secret it cannot be matched to an address, even by guessing.
 *
 * Rows about a request are written in the transaction that does its work
 * (audit_write), so equal work stays equal and a rolled-back request
 * leaves no row; rows about refusals that write nothing else go through
 * audit_record, which runs its own transaction and never fails its caller.
 * What became of a reset email is written in the mail sender's
 * transaction that marks the message (engine_mail_record).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define USER_AGENT_MAX 256 /* bytes of a user agent kept */

void
login_subject(const uint8_t *key, const char *project_id, const char *login,
    char out[LOGIN_SUBJECT_LEN + 1])
{
	crypto_generichash_state st;
	static const uint8_t sep = 0;
	uint8_t h[LOGIN_SUBJECT_LEN / 2], ch;
	const char *p;

	crypto_generichash_init(&st, key, 32, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)project_id,
	    strlen(project_id));
	crypto_generichash_update(&st, &sep, 1);
	/* Lookups ignore ASCII case (store.c's login_key); so does this. */
	for (p = login; *p != '\0'; p++) {
		ch = (uint8_t)*p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		crypto_generichash_update(&st, &ch, 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
}

void
audit_subject(const struct engine *e, const char *project_id, const char *login,
    char out[AUDIT_SUBJECT_LEN + 1])
{
	login_subject(e->audit_key, project_id, login, out);
}

/*
 * The user agent as recorded: at most USER_AGENT_MAX bytes, cut at a
 * character boundary; text that is not clean UTF-8 is not kept.
 */
static char *
user_agent_of(const struct request_context *ctx)
{
	const char *ua = ctx != NULL ? ctx->user_agent : NULL;
	size_t n;

	if (ua == NULL)
		return NULL;
	n = strnlen(ua, USER_AGENT_MAX + 1);
	if (n > USER_AGENT_MAX) {
		n = USER_AGENT_MAX;
		while (n > 0 && ((unsigned char)ua[n] & 0xc0) == 0x80)
			n--;
	}
	if (!str_is_clean_utf8(ua, n))
		return xstrdup("(not text)");
	return xstrndup(ua, n);
}

int
audit_write(struct db_conn *c, const struct request_context *ctx,
    const char *project_id, enum audit_kind kind, const char *subject,
    const char *detail, int64_t now)
{
	struct audit_event a;
	char id[UUID_STRLEN + 1];
	int rc;

	id_new(id);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.project_id = (char *)project_id;
	a.created_at = now;
	a.event = (char *)store_audit_name(kind);
	a.client_ip = ctx != NULL ? (char *)ctx->client_ip : NULL;
	a.user_agent = user_agent_of(ctx);
	a.subject = (char *)subject;
	a.detail = (char *)detail;
	rc = store_audit_insert(c, &a);
	free(a.user_agent);
	return rc;
}

struct record_tx {
	const struct request_context *ctx;
	const char *project_id;
	enum audit_kind kind;
	const char *subject;
	const char *detail;
	int64_t now;
};

static int
record_tx(struct db_conn *c, void *arg)
{
	struct record_tx *t = arg;

	return audit_write(c, t->ctx, t->project_id, t->kind, t->subject,
	    t->detail, t->now);
}

void
audit_record(struct engine *e, const struct request_context *ctx,
    const char *project_id, enum audit_kind kind, const char *subject,
    const char *detail)
{
	struct record_tx t = { ctx, project_id, kind, subject, detail,
		db_now(e->db) };

	if (db_write(e->db, record_tx, &t) != 0)
		log_warn("audit: cannot record %s", store_audit_name(kind));
}

int
engine_mail_record(struct db_conn *c, const struct outbox_msg *m,
    enum mail_fate fate, int64_t now, void *engine)
{
	int rc;

	if (fate == MAIL_DEAD) {
		rc = event_mail_dead(engine, c, m, now);
		if (rc != STORE_OK)
			return rc;
	}
	if (m->subject == NULL)
		return STORE_OK;
	return audit_write(c, NULL, m->project_id,
	    fate == MAIL_SENT ? AUDIT_RESET_MAIL_SENT : AUDIT_RESET_MAIL_FAILED,
	    m->subject, m->kind, now);
}
