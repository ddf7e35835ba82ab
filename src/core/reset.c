/*
 * The two halves of a reset: the request, which stores a secret and queues
 * the email, and the confirm, which spends a link's secret on a new
 * password (code.c confirms typed codes).
 *
 * A request does the same work whether or not the account exists: the
 * lookup, one write transaction with the same statements, and a queued
 * row.  For an account that cannot be reset, the secret row is a decoy and
 * the outbox row is recorded as dropped, so neither the answer nor its
 * timing says which case it was.  A decoy link is dead from the start; a
 * decoy code lives like a real one, under a subject derived from the
 * typed login, so that its confirm counts and caps wrong tries like a real
 * code (code.c).  The per-login limit and the mail budget apply to that
 * subject exactly as to an account's id: over either, neither a real
 * login nor an unknown one gets a new current code.
 *
 * A project may ask for an "unknown account" notice instead: then a
 * request that names no account, typed as an email address, queues a
 * message to that address saying that it has no account (off by default,
 * since it mails any address typed; see docs/mail.md).  The work is the
 * same, only the outbox row's state and recipient differ.  A disabled
 * account gets no notice: it is an account, and its mail stays dropped.
 *
 * A trusted caller (a server holding a secret API key, which is given the
 * token) is the exception: it is told that an account is unknown, and
 * nothing is written for it.  Its resets may skip the email when the
 * project says so, since the caller delivers the token itself.
 *
 * Both halves take an optional idempotency claim (idem.c): its record is
 * written first in the same transaction as the work.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "../log.h"
#include "../mail/outbox.h"
#include "../mail/template.h"
#include "../mail/transport.h"
#include "engine_internal.h"
#include "userstore.h"

#define LOGIN_MAX 320
#define LINK_MAX 16384 /* reset_url and login_url are at most 2048 each */

void
reset_ticket_clear(struct reset_ticket *t)
{
	free(t->secret_id);
	xfree_secret(t->token);
	xfree_secret(t->link);
	user_free(t->user);
	free(t->destination);
	memset(t, 0, sizeof(*t));
}

/* Build the link the email carries. */
static char *
reset_link(struct engine *e, const struct reset_request *in,
    const struct user *u, const char *token, const char *locale)
{
	struct buf b;
	const char *base = in->link_base ? in->link_base :
					   in->project->reset_url;
	int rc;

	buf_init(&b, LINK_MAX);
	if (base != NULL)
		rc = buf_puts(&b, base);
	else
		rc = buf_printf(&b, "%s/reset", e->cfg->public_url);
	rc |= buf_puts(&b, strchr(buf_cstr(&b), '?') ? "&" : "?");
	if (in->link_style == LINK_TOKEN) {
		rc |= buf_printf(&b, "token=%s", token);
	} else {
		rc |= buf_printf(&b, "reset_code=%s&user_id=%s", token, u->id);
		if (in->login_url != NULL) {
			rc |= buf_puts(&b, "&login_url=");
			rc |= str_url_encode(&b, in->login_url);
		}
		if (locale != NULL)
			rc |= buf_printf(&b, "&locale=%s", locale);
	}
	if (rc != 0) {
		/* Every part was checked for size; a cut link is a bug. */
		log_error("reset: link longer than %d bytes", LINK_MAX);
		abort();
	}
	return buf_take(&b);
}

#define LIMIT_WINDOW_MS (3600LL * 1000) /* per-account and budget windows */

struct request_tx {
	struct engine *e;
	const struct engine_sender *sender; /* held for the tx */
	const struct reset_request *in;
	const struct user *user; /* NULL: unknown */
	struct secret real;	 /* for user */
	struct secret decoy;	 /* when it cannot be real */
	const char *link;	 /* DELIVER_LINK */
	const char *code;	 /* DELIVER_CODE */
	const char *locale;	 /* the request's */
	char mail_locale[ENGINE_LOCALE_MAX + 1];
	int notice;		   /* unknown_account */
	int notice_ok;		   /* within its limits */
	const char *cancel_link;   /* "this wasn't me" */
	const char *subject;	   /* audit subject */
	const char *login_subject; /* what limits count */
	int send_mail;
	int64_t now;
	int64_t mail_after; /* not sent before */
	char ttl_minutes[24];
	/* what the transaction decided */
	int used_real;
	const char *limited;	    /* why not, or NULL */
	int64_t retry_after_s;	    /* trusted, limited */
	enum engine_result outcome; /* with TX_REFUSED */
	/* User storage webhook, a public request: the app is asked later. */
	int lookup;
	char lookup_vars[2][8]; /* delivery, notice */
};

#define BUDGET_REFRESH_MS 1000

static struct budget_slot *
budget_slot(struct engine *e, const char *project_id)
{
	return &e->budget[str_hash(project_id) %
	    (sizeof(e->budget) / sizeof(e->budget[0]))];
}

/*
 * The most unknown-account notices project p may queue in an hour: its
 * share of the mail budget, the rest being kept for mail to accounts;
 * -1 when the project has no budget.
 */
static int64_t
notice_budget(const struct project *p)
{
	if (p->mail_budget_per_hour == 0)
		return -1;
	return p->mail_budget_per_hour * p->notice_share_percent / 100;
}

/*
 * The project's mail queued in the last hour, as far as its budget needs
 * to know, in *out, and how much of it were unknown-account notices in
 * *notices.  The database is asked at most once a second per project
 * (counts bounded by the budget, on an index of queued mail alone), and
 * what this instance queues meanwhile is added; other instances' mail
 * shows within a second.  Every request asks, known account or not.
 */
static int
budget_queued(struct engine *e, struct db_conn *c, const struct project *p,
    int64_t now, int64_t *out, int64_t *notices)
{
	struct budget_slot *b = budget_slot(e, p->id);
	int64_t queued = 0, sent = 0, nb = notice_budget(p);
	int fresh, rc;

	pthread_mutex_lock(&e->budget_lock);
	fresh = strcmp(b->project_id, p->id) == 0 &&
	    now - b->fetched_ms < BUDGET_REFRESH_MS && now >= b->fetched_ms;
	if (fresh) {
		queued = b->queued;
		sent = b->notices;
	}
	pthread_mutex_unlock(&e->budget_lock);
	if (!fresh) {
		rc = store_outbox_count_recent(c, p->id, now - LIMIT_WINDOW_MS,
		    p->mail_budget_per_hour, &queued);
		if (rc == STORE_OK && p->unknown_account_notice && nb > 0)
			rc = store_outbox_count_kind(c, p->id,
			    "unknown_account", now - LIMIT_WINDOW_MS, nb,
			    &sent);
		if (rc != STORE_OK)
			return rc;
		pthread_mutex_lock(&e->budget_lock);
		snprintf(b->project_id, sizeof(b->project_id), "%s", p->id);
		b->queued = queued;
		b->notices = sent;
		b->fetched_ms = now;
		pthread_mutex_unlock(&e->budget_lock);
	}
	*out = queued;
	*notices = sent;
	return STORE_OK;
}

/* Count one more message of project p (a notice or not) against its budget. */
static void
budget_spend(struct engine *e, const struct project *p, int notice)
{
	struct budget_slot *b = budget_slot(e, p->id);

	pthread_mutex_lock(&e->budget_lock);
	if (strcmp(b->project_id, p->id) == 0) {
		b->queued++;
		b->notices += notice != 0;
	}
	pthread_mutex_unlock(&e->budget_lock);
}

/*
 * Which limit, if any, keeps this request from being real: the login's
 * hourly count, then the project's mail budget.  Both apply to every
 * login alike: the count is of the secrets stored under the login's
 * subject (the account's id, or for no account the keyed hash of the
 * typed login its decoys carry), and the budget is the project's.  A
 * login over a limit gets no new current code, real or not, so that no
 * later confirm tells the two apart.
 */
static int
request_limits(struct db_conn *c, struct request_tx *t)
{
	const struct project *p = t->in->project;
	int64_t count = 0, oldest = 0, queued = 0, notices = 0;
	int64_t nb = notice_budget(p);
	int rc;

	rc = store_secret_count_recent(c, t->login_subject,
	    t->now - LIMIT_WINDOW_MS, &count, &oldest);
	if (rc == STORE_OK && p->mail_budget_per_hour > 0)
		rc = budget_queued(t->e, c, p, t->now, &queued, &notices);
	if (rc != STORE_OK)
		return rc;
	/*
	 * A notice, for a login that may have one, goes under the budget
	 * like any mail, to one address at most notice_limit_per_hour times
	 * (its login's count: every request of the hour that was not over a
	 * limit), and within the notices' share of the budget, so that mail
	 * to accounts always has the rest.  Neither holds the request back:
	 * a held notice is a dropped row, as for no notice at all.
	 */
	t->notice_ok = count < p->notice_limit_per_hour &&
	    (nb < 0 || notices < nb);
	t->limited = NULL;
	if (count >= p->reset_limit_per_hour) {
		t->limited = "account";
		t->retry_after_s = (oldest + LIMIT_WINDOW_MS - t->now + 999) /
		    1000;
		if (t->retry_after_s < 1)
			t->retry_after_s = 1;
	} else if (t->send_mail && p->mail_budget_per_hour > 0 &&
	    queued >= p->mail_budget_per_hour)
		t->limited = "mail_budget";
	return STORE_OK;
}

static int
request_tx(struct db_conn *c, void *arg)
{
	struct request_tx *t = arg;
	const struct user *u = t->user;
	struct secret row;
	char nobody[UUID_STRLEN + 1];
	int code = t->in->delivery == DELIVER_CODE;
	int real, budget, rc;
	struct mail_var vars[] = {
		/* A decoy's code goes nowhere, and is not kept either. */
		{ code ? "code" : "link", "" },
		{ "ttl_minutes", t->ttl_minutes },
		{ "project_name", t->in->project->name },
		{ "email", "" },
		{ "cancel_link", "" },
		{ NULL, NULL },
	};
	struct outbox_item mail = {
		.project_id = t->in->project->id,
		.locale = t->mail_locale,
		.vars = vars,
		.not_before = t->mail_after,
		.key = t->e->outbox_key,
	};

	engine_sender_pick(t->sender, t->in->project, &mail.from_addr,
	    &mail.from_name);

	if (t->in->idem != NULL) {
		rc = idem_record(t->e, c, t->in->project->id, t->in->idem,
		    t->now, &t->outcome);
		if (rc != STORE_OK)
			return rc;
	}
	/* What cannot be real names an id nobody has. */
	id_new(nobody);
	/* The app's user, as its app described it: the shadow row first. */
	if (t->in->shadow != NULL) {
		/* Written even when disabled: the app said so. */
		rc = t->in->shadow_new ?
		    store_user_insert(c, t->in->shadow) :
		    store_user_shadow_update(c, t->in->shadow);
		if (rc < 0)
			return rc;
		if (!t->in->shadow_new && rc == 0) {
			t->outcome = ENGINE_UNAVAILABLE; /* gone meanwhile */
			return TX_REFUSED;
		}
	}
	/* A deferred lookup's request was counted when it was made. */
	if (t->in->deferred)
		t->limited = NULL;
	else if ((rc = request_limits(c, t)) != STORE_OK)
		return rc;
	budget = t->limited != NULL && strcmp(t->limited, "mail_budget") == 0;
	if (t->limited != NULL && !budget && t->in->trusted) {
		t->outcome = ENGINE_THROTTLED;
		return TX_REFUSED;
	}
	/* A trusted caller holds the token: over budget, only mail is held. */
	real = u != NULL && (t->limited == NULL || (budget && t->in->trusted));
	t->used_real = real;
	rc = store_secret_revoke_user(c, real ? u->id : nobody, t->now);
	if (rc < 0)
		return rc;
	/*
	 * Over a limit, the decoy belongs to no subject: it is neither the
	 * login's current code nor counted, so the login keeps the code it
	 * had, wrong tries and all, whether it names an account or not.
	 */
	row = real ? t->real : t->decoy;
	if (!real && t->limited != NULL)
		row.subject = NULL;
	rc = store_secret_insert(c, &row);
	if (rc == STORE_OK && real)
		rc = event_password_reset(t->e, c, "password_reset.created",
		    &row, u, t->now, t->in->trusted ? 0 : t->mail_after);
	if (rc != STORE_OK)
		return rc;
	if (t->in->deferred)
		goto mail;
	rc = audit_write(c, t->in->ctx, t->in->project->id,
	    t->limited ? AUDIT_RATE_LIMITED : AUDIT_RESET_REQUESTED, t->subject,
	    t->limited			    ? t->limited :
		t->in->requested_by != NULL ? t->in->requested_by :
		u			    ? "account" :
		t->lookup		    ? "storage_lookup" :
					      "no_account",
	    t->now);
	if (rc != STORE_OK)
		return rc;
mail:
	if (!t->send_mail)
		return STORE_OK;
	if (real && !budget) {
		vars[0].value = code ? t->code : t->link;
		vars[3].value = u->email;
		vars[4].value = t->cancel_link;
		mail.kind = code ? "reset_code" : "reset_link";
		mail.to = u->email;
		mail.subject = t->subject;
		/*
		 * A deferred request's mail was counted as the lookup task
		 * that stands for it, when the public request was checked
		 * against the budget (below): counting it again would spend
		 * the budget twice for one mail.  (The database count that
		 * budget_queued reads at most once a second still sees both
		 * rows, the lookup's and the mail's, within the hour.)
		 */
		if (!t->in->deferred)
			budget_spend(t->e, t->in->project, 0);
	} else if (t->lookup && t->limited == NULL) {
		/*
		 * The project's app knows whether the login is a user: ask it
		 * in the outbox, after the answer (engine_storage_task).
		 */
		struct mail_var lv[] = {
			{ "login", t->in->login },
			{ "locale", t->locale != NULL ? t->locale : "" },
			{ "login_url",
			    t->in->login_url != NULL ? t->in->login_url : "" },
			{ "delivery", t->lookup_vars[0] },
			{ "notice", t->lookup_vars[1] },
			{ NULL, NULL },
		};

		snprintf(t->lookup_vars[0], sizeof(t->lookup_vars[0]), "%s",
		    code				? "code" :
			t->in->link_style == LINK_TOKEN ? "token" :
							  "link");
		snprintf(t->lookup_vars[1], sizeof(t->lookup_vars[1]), "%d",
		    t->notice && t->notice_ok);
		mail.kind = STORAGE_LOOKUP_KIND;
		mail.to = "user storage";
		mail.vars = lv;
		mail.from_addr = mail.from_name = NULL;
		/*
		 * This is the count of a webhook project's reset: the lookup
		 * is spent against the budget here, when the request is
		 * checked, for the mail it may become, so that the budget
		 * bounds the app's lookups as it bounds mail.  The deferred
		 * request that mails a user the app knows spends nothing.
		 */
		budget_spend(t->e, t->in->project, 0);
		return outbox_queue(c, &mail, t->now);
	} else if (u == NULL && t->notice && t->limited == NULL &&
	    t->notice_ok) {
		/* The project asked to tell addresses that have no account. */
		vars[3].value = t->in->login;
		mail.kind = "unknown_account";
		mail.to = t->in->login;
		budget_spend(t->e, t->in->project, 1);
	} else {
		mail.kind = u != NULL ? "over_limit" : "unknown_account";
		mail.to = "";
		mail.dropped = 1;
	}
	return outbox_queue(c, &mail, t->now);
}

/* 1 when the email goes out: see mail_optional in engine.h. */
static int
request_sends_mail(const struct reset_request *in)
{
	return !(in->trusted && in->mail_optional &&
	    !in->project->send_reset_emails);
}

/* Buffers of one secret a request may store. */
struct request_secret {
	char token[SECRET_TOKEN_LEN + 1];
	char hash[SECRET_HASH_LEN + 1];
	char subject[SECRET_HASH_LEN + 1];
	char id[UUID_STRLEN + 1];
};

/*
 * Make a secret of a request: a link token, or a code bound to its
 * subject, with the row that stores it in *row; for u NULL, a decoy.
 * The subject is the account's id, or for a decoy a keyed hash of the
 * typed login.  Every value the row points to lives in rs.
 */
static void
request_secret(struct engine *e, const struct reset_request *in,
    const struct user *u, int64_t now, struct request_secret *rs,
    struct secret *row)
{
	int code = in->delivery == DELIVER_CODE;
	const char *purpose;

	id_new(rs->id);
	/* Computed for every request, so that both cases cost alike. */
	code_decoy_subject(e->token_key, in->project->id, in->login,
	    rs->subject);
	if (u != NULL)
		snprintf(rs->subject, SECRET_HASH_LEN + 1, "%s", u->id);
	if (code) {
		secret_code_new(rs->token);
		secret_code_hash(e->token_key, rs->subject, rs->id, rs->token,
		    rs->hash);
		purpose = "reset_code";
	} else {
		secret_token_new(rs->token);
		purpose = u ? "reset_link" : "decoy";
		secret_hash(e->token_key, purpose, rs->token, rs->hash);
	}
	*row = (struct secret){
		.id = rs->id,
		.project_id = in->project->id,
		.user_id = u ? u->id : NULL,
		.purpose = (char *)purpose,
		.token_hash = rs->hash,
		.email = u ? u->email : "",
		.created_at = now,
		/* A decoy link is dead from the start; a decoy code is not. */
		.expires_at = u || code ? now + in->project->token_ttl * 1000 :
					  now,
		.login_url = (char *)in->login_url,
		.locale = NULL,
		/* The limits count by it; codes are found by it. */
		.subject = rs->subject,
	};
}

/*
 * The time floor of a public request, as Authelia does it: equal work
 * makes both cases cost alike, and the floor hides what is left (a row a
 * revoke touches, a background send competing for the disk).  A request
 * lasts at least max(floor, moving average of recent requests) plus a
 * random jitter; the average follows load, so the floor still covers
 * requests when the machine is busy.  Return the monotonic time, in us,
 * before which the answer of a request started at started_us must not go
 * out (0: none).  Known before the work, so that the request's mail can
 * wait for it too.
 */
static int64_t
request_deadline(struct engine *e, int64_t started_us)
{
	int64_t target, avg;

	int64_t floor_ms = ENGINE_TUNABLE(e, reset_floor_ms);
	int64_t jitter_ms = ENGINE_TUNABLE(e, reset_jitter_ms);

	if (floor_ms == 0)
		return 0;
	pthread_mutex_lock(&e->floor_lock);
	avg = e->floor_avg_us;
	pthread_mutex_unlock(&e->floor_lock);
	target = floor_ms * 1000;
	if (avg > target)
		target = avg;
	if (jitter_ms > 0)
		target += randombytes_uniform((uint32_t)(jitter_ms * 1000));
	return started_us + target;
}

/* Count a public request that took d us into the floor's average. */
static void
request_took(struct engine *e, int64_t d)
{
	pthread_mutex_lock(&e->floor_lock);
	e->floor_avg_us = e->floor_avg_us == 0 ?
	    d :
	    e->floor_avg_us + (d - e->floor_avg_us) / 16;
	pthread_mutex_unlock(&e->floor_lock);
}

/* Sleep until the monotonic time deadline_us. */
static void
sleep_until(int64_t deadline_us)
{
	int64_t left = deadline_us - time_mono_us();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000000);
	ts.tv_nsec = (long)(left % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1)
		continue; /* EINTR: sleep the rest */
}

static enum engine_result request_work(struct engine *,
    const struct reset_request *, int64_t, struct reset_ticket *);

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A copy of u. */
static struct user *
user_dup(const struct user *u)
{
	struct user *d = xcalloc(1, sizeof(*d));

	*d = *u;
	d->id = xstrdup(u->id);
	d->project_id = xstrdup(u->project_id);
	d->email = xstrdup(u->email);
	d->username = dup_or_null(u->username);
	d->password_hash = dup_or_null(u->password_hash);
	d->locale = dup_or_null(u->locale);
	d->first_name = dup_or_null(u->first_name);
	d->last_name = dup_or_null(u->last_name);
	d->external_id = dup_or_null(u->external_id);
	return d;
}

enum engine_result
storage_shadow_of(struct engine *e, const struct project *p,
    const struct storage_user *su, struct user **out, int *is_new)
{
	char locale[ENGINE_LOCALE_MAX + 1];
	struct db_conn *c;
	struct user *u = NULL;
	int64_t now = db_now(e->db);
	int rc;

	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_user_by_external(c, p->id, su->id, &u);
	/* A row of that email (made before, or by builtin storage): adopted. */
	if (rc == STORE_NOT_FOUND)
		rc = store_user_find(c, p->id, su->email, &u);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	*is_new = u == NULL;
	if (u == NULL) {
		u = xcalloc(1, sizeof(*u));
		u->id = xmalloc(UUID_STRLEN + 1);
		id_new(u->id);
		u->project_id = xstrdup(p->id);
		u->email_verified = 1;
		u->created_at = now;
		u->status = USER_CONFIRMED;
	}
	free(u->email);
	u->email = xstrdup(su->email);
	free(u->locale);
	u->locale = su->locale != NULL &&
		engine_locale_normalise(su->locale, locale) == 0 ?
	    xstrdup(locale) :
	    NULL;
	free(u->external_id);
	u->external_id = xstrdup(su->id);
	u->disabled = su->disabled;
	u->updated_at = now;
	*out = u;
	return ENGINE_OK;
}

/* Queue the unknown-account notice of a lookup the app answered 404. */
struct notice_tx {
	struct engine *e;
	const struct project *p;
	const char *login, *locale;
};

static int
notice_tx(struct db_conn *c, void *arg)
{
	struct notice_tx *t = arg;
	char mail_locale[ENGINE_LOCALE_MAX + 1];
	const struct template_set *ts;
	const struct engine_sender *snd;
	struct mail_var vars[] = {
		{ "email", t->login },
		{ "project_name", t->p->name },
		{ NULL, NULL },
	};
	struct outbox_item mail = {
		.project_id = t->p->id,
		.kind = "unknown_account",
		.to = t->login,
		.locale = mail_locale,
		.vars = vars,
		.key = t->e->outbox_key,
	};
	int rc;

	ts = engine_templates_hold(t->e);
	engine_locale_choose(ts, t->p->id, t->locale, NULL, t->p->locale,
	    mail_locale);
	template_set_drop(ts);
	snd = engine_sender_hold(t->e);
	engine_sender_pick(snd, t->p, &mail.from_addr, &mail.from_name);
	rc = outbox_queue(c, &mail, db_now(t->e->db));
	engine_sender_drop(t->e, snd);
	return rc;
}

/* The value of variable name of a task, or NULL. */
static const char *
task_var(const struct mail_var *vars, const char *name)
{
	for (; vars->name != NULL; vars++)
		if (strcmp(vars->name, name) == 0)
			return vars->value;
	return NULL;
}

int
engine_storage_task(const struct outbox_msg *m, const struct mail_var *vars,
    char *err, size_t errlen, void *arg)
{
	struct engine *e = arg;
	const struct user_storage_ops *ops;
	struct storage_user su;
	struct reset_request in;
	struct reset_ticket tk;
	struct project *p = NULL;
	struct user *u = NULL;
	const char *login = task_var(vars, "login");
	const char *delivery = task_var(vars, "delivery");
	const char *notice = task_var(vars, "notice");
	const char *locale = task_var(vars, "locale");
	const char *login_url = task_var(vars, "login_url");
	enum engine_result res;
	enum storage_result sr;
	int rc = TRANSPORT_DEFERRED, is_new = 0;

	memset(&su, 0, sizeof(su));
	memset(&tk, 0, sizeof(tk));
	if (login == NULL || delivery == NULL) {
		snprintf(err, errlen, "malformed lookup");
		return TRANSPORT_PERMANENT;
	}
	res = engine_project(e, m->project_id, &p);
	if (res == ENGINE_PROJECT_UNKNOWN) {
		snprintf(err, errlen, "the project was deleted");
		return TRANSPORT_PERMANENT;
	}
	if (res != ENGINE_OK) {
		snprintf(err, errlen, "the database is unavailable");
		return TRANSPORT_DEFERRED;
	}
	if (!storage_is_webhook(p)) {
		/* Back to builtin storage since: nothing to ask. */
		snprintf(err, errlen, "the project keeps its own users now");
		rc = 0;
		goto out;
	}
	ops = user_storage_of(p);
	sr = ops->lookup(e, p, login, &su, err, errlen);
	if (sr == STORAGE_NOT_FOUND || (sr == STORAGE_OK && su.disabled)) {
		rc = 0;
		snprintf(err, errlen, "no such user");
		if (sr == STORAGE_NOT_FOUND && notice != NULL &&
		    strcmp(notice, "1") == 0 &&
		    db_write(e->db, notice_tx,
			&(struct notice_tx){ e, p, login,
			    locale != NULL && *locale ? locale : NULL }) != 0) {
			snprintf(err, errlen, "the database is unavailable");
			rc = TRANSPORT_DEFERRED;
		}
		goto out;
	}
	if (sr != STORAGE_OK) {
		rc = TRANSPORT_DEFERRED; /* err says why */
		goto out;
	}
	if (storage_shadow_of(e, p, &su, &u, &is_new) != ENGINE_OK) {
		snprintf(err, errlen, "the database is unavailable");
		goto out;
	}
	in = (struct reset_request){
		.project = p,
		.login = login,
		.login_url = login_url != NULL && *login_url ? login_url : NULL,
		.locale = locale != NULL && *locale ? locale : NULL,
		.link_style = strcmp(delivery, "token") == 0 ? LINK_TOKEN :
							       LINK_RESET_CODE,
		.delivery = strcmp(delivery, "code") == 0 ? DELIVER_CODE :
							    DELIVER_LINK,
		.shadow = u,
		.shadow_new = is_new,
		.deferred = 1,
	};
	res = request_work(e, &in, 0, &tk);
	if (res == ENGINE_OK) {
		rc = 0;
		snprintf(err, errlen, "reset made");
		engine_mail_queued(e);
	} else
		snprintf(err, errlen, "the reset could not be stored: %s",
		    engine_result_name(res));
out:
	reset_ticket_clear(&tk);
	storage_user_clear(&su);
	user_free(u);
	project_free(p);
	return rc;
}

/*
 * A request of a webhook project whose caller is told whether the account
 * exists (a trusted caller; a Cognito client that reveals existence): the
 * app is asked now, before the work, and the request is made for the user
 * it answers, or as for an unknown account.  *local is the request to do
 * (free *shadow with user_free).
 */
static enum engine_result
request_resolve(struct engine *e, const struct reset_request *in,
    struct reset_request *local, struct user **shadow)
{
	struct storage_user su;
	struct user *u = NULL;
	char err[STORAGE_ERR_MAX] = "";
	enum storage_result sr;
	enum engine_result result;
	int is_new = 0;

	if (in->login == NULL || *in->login == '\0' ||
	    strlen(in->login) > LOGIN_MAX)
		return ENGINE_BAD_INPUT;
	memset(&su, 0, sizeof(su));
	sr = user_storage_of(in->project)
		 ->lookup(e, in->project, in->login, &su, err, sizeof(err));
	if (sr == STORAGE_OK)
		result = storage_shadow_of(e, in->project, &su, &u, &is_new);
	else if (sr == STORAGE_NOT_FOUND)
		result = ENGINE_OK;
	else {
		log_warn("reset: project %s: user storage failed: %s",
		    in->project->id, err);
		result = ENGINE_UNAVAILABLE;
	}
	storage_user_clear(&su);
	if (result != ENGINE_OK)
		return result;
	*local = *in;
	local->shadow = u;
	local->shadow_new = is_new;
	local->resolved = 1;
	*shadow = u;
	return ENGINE_OK;
}

enum engine_result
reset_request(struct engine *e, const struct reset_request *in,
    struct reset_ticket *out)
{
	struct reset_request local;
	struct user *shadow = NULL;
	int64_t started, answer_at;
	enum engine_result result;

	if ((in->trusted || in->reveal_user_existence) && in->shadow == NULL &&
	    !in->resolved && storage_is_webhook(in->project)) {
		result = request_resolve(e, in, &local, &shadow);
		if (result != ENGINE_OK)
			return result;
		in = &local;
	}
	started = time_mono_us();
	/* Trusted callers are told the truth anyway; they wait for nothing. */
	answer_at = in->trusted ? 0 : request_deadline(e, started);
	result = request_work(e, in, answer_at, out);
	user_free(shadow);
	if (answer_at != 0)
		request_took(e, time_mono_us() - started);
	/*
	 * The mail of a floored request is not sent before its answer: a
	 * send during the hold would keep the machine busy for real accounts
	 * alone, and a busy machine wakes a held answer sooner.  Its outbox
	 * row is not due until then (request_work), and the senders are woken
	 * when the answer goes out: an HTTP answer is held by the server,
	 * which does that; nothing else may sleep here.
	 */
	if (answer_at != 0 && in->answer_at_us != NULL) {
		*in->answer_at_us = answer_at;
		return result;
	}
	sleep_until(answer_at);
	engine_mail_queued(e);
	return result;
}

/*
 * The work of a reset request; answer_at is when its answer may go out
 * (monotonic us; 0: at once), the earliest its mail may be sent.
 */
static enum engine_result
request_work(struct engine *e, const struct reset_request *in,
    int64_t answer_at, struct reset_ticket *out)
{
	struct request_tx t;
	struct reset_ticket tk;
	struct idem_outcome o;
	struct db_conn *c;
	struct user *u = NULL;
	struct request_secret real, decoy;
	char destination[CODE_DESTINATION_MAX];
	char subject[AUDIT_SUBJECT_LEN + 1];
	char locale_buf[ENGINE_LOCALE_MAX + 1];
	const char *locale = NULL;
	const struct template_set *ts;
	char *cancel = NULL;
	enum engine_result result;
	int64_t hold_us;
	int rc, disabled = 0, lookup = 0;

	if (in->login == NULL || *in->login == '\0' ||
	    strlen(in->login) > LOGIN_MAX)
		return ENGINE_BAD_INPUT;
	if (in->login_url != NULL &&
	    !engine_login_url_allowed(in->project, in->login_url))
		return ENGINE_LOGIN_URL_REFUSED;
	if (in->link_base != NULL &&
	    (!in->trusted || !valid_url(in->link_base)))
		return ENGINE_BAD_INPUT;
	if (in->idem != NULL) {
		result = idem_begin(e, in->project->id, in->idem);
		if (result != ENGINE_OK)
			return result;
	}

	memset(&tk, 0, sizeof(tk));
	memset(&real, 0, sizeof(real));
	memset(&decoy, 0, sizeof(decoy));
	result = ENGINE_UNAVAILABLE;
	c = db_acquire(e->db);
	if (c == NULL)
		goto out;
	rc = store_user_find(c, in->project->id, in->login, &u);
	db_release(e->db, c);
	if (rc < 0)
		goto out;
	if (storage_is_webhook(in->project)) {
		/*
		 * The app's users: a shadow row is no answer.  The user is
		 * the one resolved before (a trusted caller's lookup, the
		 * outbox's), or, for a public request, unknown here: the app
		 * is asked after the answer, the same for every login.
		 */
		user_free(u);
		u = in->shadow != NULL ? user_dup(in->shadow) : NULL;
		/* A login no app could be sent is nobody's: dropped. */
		lookup = in->shadow == NULL && !in->trusted && !in->resolved &&
		    str_is_utf8(in->login, strlen(in->login));
	}
	if (u != NULL && u->disabled) {
		user_free(u);
		u = NULL;
		disabled = 1;
	}
	/* The account's address when there is one: one subject per account. */
	audit_subject(e, in->project->id, u ? u->email : in->login, subject);
	if (u == NULL && in->trusted) {
		audit_record(e, in->ctx, in->project->id, AUDIT_RESET_REQUESTED,
		    subject, "no_account");
		result = ENGINE_USER_UNKNOWN;
		goto out;
	}

	memset(&t, 0, sizeof(t));
	t.now = db_now(e->db);
	/* On the database's clock, rounded down: due once the answer is out. */
	hold_us = answer_at - time_mono_us();
	t.mail_after = t.now +
	    (answer_at != 0 && hold_us > 0 ? hold_us / 1000 : 0);
	if (engine_locale_normalise(in->locale, locale_buf) == 0)
		locale = locale_buf;
	t.e = e;
	t.in = in;
	t.user = u;
	t.lookup = lookup;
	t.locale = locale;
	t.notice = u == NULL && !disabled &&
	    in->project->unknown_account_notice && valid_sender(in->login);
	ts = engine_templates_hold(e);
	engine_locale_choose(ts, in->project->id, locale, u ? u->locale : NULL,
	    in->project->locale, t.mail_locale);
	template_set_drop(ts);
	t.subject = subject;
	t.send_mail = request_sends_mail(in);
	/* Both are made for every request, so that both cases cost alike. */
	request_secret(e, in, u, t.now, &real, &t.real);
	request_secret(e, in, NULL, t.now, &decoy, &t.decoy);
	t.real.locale = t.decoy.locale = (char *)locale;
	t.login_subject = t.real.subject;
	tk.user_found = u != NULL;
	tk.secret_id = xstrdup(real.id);
	tk.token = xstrdup(real.token);
	tk.created_at = t.now;
	tk.expires_at = t.real.expires_at;
	if (in->delivery == DELIVER_CODE) {
		t.code = real.token;
		code_destination(in->login, destination);
		tk.destination = xstrdup(destination);
	} else if (u != NULL)
		tk.link = reset_link(e, in, u, real.token, locale);
	t.link = tk.link;
	/* Made for every request, so that both cases cost alike. */
	cancel = cancel_link(e, real.id);
	t.cancel_link = cancel;
	snprintf(t.ttl_minutes, sizeof(t.ttl_minutes), "%lld",
	    (long long)((in->project->token_ttl + 59) / 60));
	tk.user = u;
	u = NULL;
	if (in->idem != NULL) {
		o = (struct idem_outcome){ .ticket = &tk };
		idem_encode(in->idem, &o);
	}
	/* db_write first: the outcome is read after it ran. */
	t.sender = engine_sender_hold(e);
	rc = db_write(e->db, request_tx, &t);
	engine_sender_drop(e, t.sender);
	result = tx_result(rc, t.outcome);
	if (result == ENGINE_THROTTLED && in->retry_after_s != NULL)
		*in->retry_after_s = t.retry_after_s;
	if (result != ENGINE_OK)
		goto out;
	if (t.used_real)
		metrics_inc(M_SECRETS_ISSUED);
	if (t.limited != NULL && strcmp(t.limited, "mail_budget") == 0)
		log_warn("reset: project %s: %s limit reached, %s",
		    in->project->id, t.limited,
		    t.used_real ? "mail held" : "nothing sent");
	if (tk.user == NULL && in->reveal_user_existence) {
		result = ENGINE_USER_UNKNOWN;
		goto out;
	}
	/*
	 * A client that reveals existence may be told the account's cap was
	 * reached (Cognito's LimitExceededException): the account is known
	 * to exist to it anyway.  The request was recorded (audited, nothing
	 * sent) as for any other client.
	 */
	if (in->reveal_user_existence && t.limited != NULL &&
	    strcmp(t.limited, "account") == 0) {
		if (in->retry_after_s != NULL)
			*in->retry_after_s = t.retry_after_s;
		result = ENGINE_RATE_LIMITED;
		goto out;
	}
	*out = tk;
	memset(&tk, 0, sizeof(tk));
	result = ENGINE_OK;
out:
	if (result != ENGINE_OK && in->idem != NULL)
		result = idem_settle(e, in->project->id, in->idem, result);
	sodium_memzero(&real, sizeof(real));
	sodium_memzero(&decoy, sizeof(decoy));
	reset_ticket_clear(&tk);
	free(cancel);
	user_free(u);
	return result;
}

enum engine_result
reset_get(struct engine *e, const struct project *p, const char *id,
    struct secret **out)
{
	struct db_conn *c;
	struct secret *s = NULL;
	int rc;

	if (id == NULL || !id_is_uuid(id))
		return ENGINE_SECRET_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_secret_get(c, p->id, id, &s);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	/* Decoys and secrets of other purposes are no resets. */
	if (rc == STORE_NOT_FOUND || s->user_id == NULL ||
	    (strcmp(s->purpose, "reset_link") != 0 &&
		strcmp(s->purpose, "reset_code") != 0)) {
		secret_free(s);
		return ENGINE_SECRET_INVALID;
	}
	free(s->token_hash);
	s->token_hash = NULL;
	*out = s;
	return ENGINE_OK;
}

/* lookup */

void
reset_link_info_clear(struct reset_link_info *info)
{
	project_free(info->project);
	free(info->email);
	free(info->login_url);
	free(info->locale);
	memset(info, 0, sizeof(*info));
}

/*
 * The state of link secret s of user u (NULL: gone) at now.  A used link
 * says so even once it has expired: that is what its holder needs to hear.
 */
static enum reset_link_state
link_state(const struct secret *s, const struct user *u, int64_t now)
{
	if (s->used_at != 0)
		return RESET_LINK_USED;
	if (s->revoked_at != 0 || u == NULL || u->disabled ||
	    !str_case_equal(s->email, u->email))
		return RESET_LINK_DEAD;
	if (now >= s->expires_at)
		return RESET_LINK_EXPIRED;
	return RESET_LINK_LIVE;
}

enum engine_result
reset_link_lookup(struct engine *e, const char *token, const char *user_id,
    struct reset_link_info *out)
{
	struct db_conn *c;
	struct secret *s = NULL;
	struct user *u = NULL;
	struct project *p = NULL;
	struct reset_link_info info;
	char hash[SECRET_HASH_LEN + 1];
	enum engine_result result = ENGINE_SECRET_INVALID;
	int rc;

	if (token == NULL || !secret_token_valid(token))
		return ENGINE_SECRET_INVALID;
	secret_hash(e->token_key, "reset_link", token, hash);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_secret_by_hash(c, hash, &s);
	if (rc == STORE_OK && s->user_id != NULL)
		rc = store_user_get(c, s->project_id, s->user_id, &u);
	if (rc >= 0 && s != NULL)
		rc = store_project_get(c, s->project_id, &p);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (s == NULL || p == NULL || s->user_id == NULL ||
	    strcmp(s->purpose, "reset_link") != 0 ||
	    !secret_hash_equal(s->token_hash, hash) ||
	    (user_id != NULL && strcmp(user_id, s->user_id) != 0))
		goto out;
	memset(&info, 0, sizeof(info));
	info.state = link_state(s, u, db_now(e->db));
	if (info.state == RESET_LINK_LIVE)
		info.email = xstrdup(u->email);
	if (s->login_url != NULL && engine_login_url_allowed(p, s->login_url))
		info.login_url = xstrdup(s->login_url);
	info.locale = s->locale ? xstrdup(s->locale) : NULL;
	info.expires_at = s->expires_at;
	info.project = p;
	p = NULL;
	*out = info;
	result = ENGINE_OK;
out:
	project_free(p);
	secret_free(s);
	user_free(u);
	return result;
}

/* confirm */

int
reset_apply_password(struct engine *e, struct db_conn *c,
    const struct request_context *ctx, const struct project *p,
    const struct user *u, const struct secret *s, const char *hash, int64_t now)
{
	const char *locale = s->locale;
	char mail_locale[ENGINE_LOCALE_MAX + 1];
	char subject[AUDIT_SUBJECT_LEN + 1];
	const struct template_set *ts;
	const struct engine_sender *snd;
	struct mail_var vars[] = {
		{ "project_name", p->name },
		{ "email", u->email },
		{ NULL, NULL },
	};
	struct outbox_item mail = {
		.project_id = p->id,
		.kind = "password_changed",
		.to = u->email,
		.locale = mail_locale,
		.vars = vars,
		.key = e->outbox_key,
	};
	int rc;

	ts = engine_templates_hold(e);
	engine_locale_choose(ts, p->id, locale, u->locale, p->locale,
	    mail_locale);
	template_set_drop(ts);
	audit_subject(e, p->id, u->email, subject);
	rc = store_user_set_password(c, u->id, hash, now);
	if (rc >= 0)
		rc = event_sessions_revoke(e, c, u->id, now);
	if (rc >= 0)
		rc = event_password_reset(e, c, "password_reset.succeeded", s,
		    u, now, 0);
	if (rc >= 0)
		rc = store_secret_revoke_user(c, u->id, now);
	if (rc >= 0)
		rc = audit_write(c, ctx, p->id, AUDIT_SECRET_USED, subject,
		    NULL, now);
	if (rc >= 0)
		rc = audit_write(c, ctx, p->id, AUDIT_PASSWORD_CHANGED, subject,
		    NULL, now);
	if (rc < 0)
		return rc;
	snd = engine_sender_hold(e);
	engine_sender_pick(snd, p, &mail.from_addr, &mail.from_name);
	rc = outbox_queue(c, &mail, now);
	engine_sender_drop(e, snd);
	return rc;
}

struct confirm_tx {
	struct engine *e;
	const struct request_context *ctx;
	const struct project *project;
	struct idem_claim *idem;
	struct secret *secret;
	struct user *user;
	const char *hash;
	int64_t now;
	enum engine_result outcome; /* with TX_REFUSED */
};

static int
confirm_tx(struct db_conn *c, void *arg)
{
	struct confirm_tx *t = arg;
	int rc;

	if (t->idem != NULL) {
		rc = idem_record(t->e, c, t->project->id, t->idem, t->now,
		    &t->outcome);
		if (rc != STORE_OK)
			return rc;
	}
	rc = store_secret_consume(c, t->secret->id, t->now);
	if (rc < 0)
		return rc;
	if (rc == 0) { /* someone else won, or it just expired */
		t->outcome = t->now >= t->secret->expires_at ?
		    ENGINE_SECRET_EXPIRED :
		    ENGINE_SECRET_INVALID;
		return TX_REFUSED;
	}
	return reset_apply_password(t->e, c, t->ctx, t->project, t->user,
	    t->secret, t->hash, t->now);
}

/* Load the secret behind token and its user, and say whether it may be spent. */
static enum engine_result
confirm_check(struct engine *e, const struct reset_confirm *in, int64_t now,
    struct secret **sout, struct user **uout)
{
	struct db_conn *c;
	struct secret *s = NULL;
	struct user *u = NULL;
	char hash[SECRET_HASH_LEN + 1];
	char subject[AUDIT_SUBJECT_LEN + 1];
	enum engine_result result = ENGINE_SECRET_INVALID;
	int rc;

	if (in->token == NULL || !secret_token_valid(in->token))
		return ENGINE_SECRET_INVALID;
	secret_hash(e->token_key, "reset_link", in->token, hash);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_secret_by_hash(c, hash, &s);
	if (rc == STORE_OK && s->user_id != NULL)
		rc = store_user_get(c, in->project->id, s->user_id, &u);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (s == NULL || u == NULL || strcmp(s->purpose, "reset_link") != 0 ||
	    strcmp(s->project_id, in->project->id) != 0 ||
	    !secret_hash_equal(s->token_hash, hash) ||
	    (in->user_id != NULL && strcmp(in->user_id, u->id) != 0))
		goto out;
	/* A real secret, tried too late or again: worth a line in the trail. */
	if (s->used_at != 0 || s->revoked_at != 0 || u->disabled ||
	    !str_case_equal(s->email, u->email)) {
		audit_subject(e, in->project->id, u->email, subject);
		audit_record(e, in->ctx, in->project->id, AUDIT_SECRET_REFUSED,
		    subject, s->used_at != 0 ? "used" : "revoked");
		goto out;
	}
	if (now >= s->expires_at) {
		audit_subject(e, in->project->id, u->email, subject);
		audit_record(e, in->ctx, in->project->id, AUDIT_SECRET_REFUSED,
		    subject, "expired");
		result = ENGINE_SECRET_EXPIRED;
		goto out;
	}
	*sout = s;
	*uout = u;
	s = NULL;
	u = NULL;
	result = ENGINE_OK;
out:
	secret_free(s);
	user_free(u);
	return result;
}

/* The engine result of a policy rule. */
static enum engine_result
policy_result(enum password_rule r)
{
	switch (r) {
	case PW_OK:
		return ENGINE_OK;
	case PW_MIN_LENGTH:
		return ENGINE_PASSWORD_TOO_SHORT;
	case PW_MAX_LENGTH:
		return ENGINE_PASSWORD_TOO_LONG;
	case PW_VALID_TEXT:
		return ENGINE_PASSWORD_INVALID_TEXT;
	case PW_COMMON:
	case PW_BREACHED:
	case PW_CONTEXT:
	case PW_STRENGTH:
	case PW_UPPERCASE:
	case PW_LOWERCASE:
	case PW_NUMBERS:
	case PW_SYMBOLS:
		return ENGINE_PASSWORD_WEAK;
	case PW__MAX:
	default:
		abort();
	}
}

enum engine_result
reset_password_policy(const struct engine *e, const struct project *p,
    const char *password, const char *email, const char *username,
    struct password_verdict *verdict)
{
	struct password_policy policy;
	const char *context[] = { email ? email : "", username ? username : "",
		p->name, NULL };

	engine_password_policy(e, p, &policy);
	return policy_result(
	    password_check(&policy, password, context, verdict));
}

enum engine_result
storage_set_password(struct engine *e, const struct project *p,
    const struct user *u, const char *password, const char *verify_code,
    char **hash_out)
{
	char err[STORAGE_ERR_MAX] = "";
	enum storage_result sr;

	*hash_out = NULL;
	sr = user_storage_of(p)->set(e, p, u, password, verify_code, hash_out,
	    err, sizeof(err));
	switch (sr) {
	case STORAGE_OK:
		return ENGINE_OK;
	case STORAGE_REFUSED:
	case STORAGE_NOT_FOUND:
	case STORAGE_EXISTS:
		log_info("reset: project %s: user storage refused a password: "
			 "%s",
		    p->id, err);
		return ENGINE_STORAGE_REFUSED;
	case STORAGE_FAILED:
	default:
		log_warn("reset: project %s: user storage failed: %s", p->id,
		    err);
		return ENGINE_UNAVAILABLE;
	}
}

struct refused_tx {
	const struct request_context *ctx;
	const char *project_id;
	const char *secret_id;
	const char *subject; /* audit subject */
	int64_t now;
};

/*
 * The app refused the password a link's confirm carried (a wrong
 * verify_code, say): a wrong try of the link, which dies at the
 * SECRET_MAX_WRONG-th, as a code does.
 */
static int
refused_tx(struct db_conn *c, void *arg)
{
	struct refused_tx *t = arg;
	int rc;

	rc = store_secret_count_wrong(c, t->secret_id, t->now,
	    SECRET_MAX_WRONG);
	if (rc < 0)
		return rc;
	return audit_write(c, t->ctx, t->project_id, AUDIT_SECRET_REFUSED,
	    t->subject, rc == 1 ? "app_refused" : "used", t->now);
}

enum engine_result
reset_confirm(struct engine *e, const struct reset_confirm *in,
    struct user **user_out)
{
	struct confirm_tx t;
	struct idem_outcome o;
	struct secret *s = NULL;
	struct user *u = NULL;
	char *hash = NULL;
	enum engine_result result;
	int rc;

	if (in->idem != NULL) {
		result = idem_begin(e, in->project->id, in->idem);
		if (result != ENGINE_OK)
			return result;
	}
	memset(&t, 0, sizeof(t));
	t.now = db_now(e->db);
	result = confirm_check(e, in, t.now, &s, &u);
	if (result != ENGINE_OK)
		goto out;
	result = reset_password_policy(e, in->project, in->new_password,
	    u->email, u->username, in->verdict);
	if (result != ENGINE_OK)
		goto out;
	/*
	 * The project's storage takes the password now, outside any
	 * transaction: builtin hashes it for the transaction to store, an
	 * app sets it itself.  Only then is the secret spent; an app that
	 * failed leaves it usable, one that refused takes a wrong try of it.
	 */
	result = storage_set_password(e, in->project, u, in->new_password,
	    in->verify_code, &hash);
	if (result == ENGINE_STORAGE_REFUSED) {
		struct refused_tx r = { in->ctx, in->project->id, s->id, NULL,
			db_now(e->db) };
		char subject[AUDIT_SUBJECT_LEN + 1];

		audit_subject(e, in->project->id, u->email, subject);
		r.subject = subject;
		if (db_write(e->db, refused_tx, &r) != 0)
			result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (result != ENGINE_OK)
		goto out;
	t.e = e;
	t.ctx = in->ctx;
	t.project = in->project;
	t.idem = in->idem;
	t.secret = s;
	t.user = u;
	t.hash = hash;
	t.now = db_now(e->db);
	t.outcome = ENGINE_OK;
	/* The user as the transaction leaves it, for the answer. */
	u->email_verified = 1;
	u->updated_at = t.now;
	xfree_secret(u->password_hash);
	u->password_hash = NULL;
	if (in->idem != NULL) {
		o = (struct idem_outcome){ .user = u };
		idem_encode(in->idem, &o);
	}
	rc = db_write(e->db, confirm_tx, &t);
	result = tx_result(rc, t.outcome);
	if (result != ENGINE_OK)
		goto out;
	engine_mail_queued(e);
	metrics_inc(M_SECRETS_CONSUMED);
	if (user_out != NULL) {
		*user_out = u;
		u = NULL;
	}
	result = ENGINE_OK;
out:
	if (result == ENGINE_SECRET_EXPIRED)
		metrics_inc(M_SECRETS_EXPIRED);
	if (result != ENGINE_OK && in->idem != NULL)
		result = idem_settle(e, in->project->id, in->idem, result);
	xfree_secret(hash);
	secret_free(s);
	user_free(u);
	return result;
}
