/*
 * Queueing and delivering mail.
 *
 * Senders claim due messages with a lease (store_outbox_claim), render and
 * send them, and record the outcome.  Each sender thread has its own
 * transport handle, so an SMTP sender keeps one connection open between
 * messages.  A temporary failure is retried with exponential backoff and
 * jitter; a permanent one, mail_max_tries tries, or a failure of a message
 * older than mail_max_age makes the message dead with its last error, for
 * an operator to see and retry (resetd outbox retry).  Senders sleep until
 * woken by a queued message or until the poll interval passes, which also
 * picks up retries and the leases of dead senders.
 *
 * A message whose lease ran out while its sender was busy with the others
 * of its batch is left alone: another sender may have claimed it since.
 *
 * Backoff is per message, so after an outage of the relay each message
 * would wait out its own backoff, though the relay is back.  So a send
 * that works after a failure of the relay itself (TRANSPORT_TEMPORARY, not
 * a 4xx to one message, which would make greylisted messages come back
 * early and die of too many tries) on this instance makes the
 * messages waiting on backoff due again (store_outbox_hasten), at most
 * HASTEN_BATCH at a time and one batch per HASTEN_SPACING_MS while full
 * batches keep coming, each announced like a queued message.  It is a
 * store update, so the messages of every instance on the database benefit.
 *
 * A stop wakes sleeping senders and cancels their transports: a send stuck
 * on a relay that says nothing gives up within a second, and its message
 * is made due again at once, for the next instance to send.
 *
 * Several instances on one database wake each other too.  When the
 * database has notifications (PostgreSQL), one listener thread per
 * instance holds a connection that LISTENs on OUTBOX_CHANNEL: a
 * notification from another instance wakes this instance's senders, and a
 * message queued here is announced to the others with a NOTIFY.  That
 * NOTIFY is sent after the queuing transaction has committed, from the
 * listener's own connection, at most one per NOTIFY_SPACING_MS: inside the
 * queuing transaction it would be simpler, but PostgreSQL makes every
 * transaction that notifies commit one after the other (it holds a global
 * lock through the commit's flush), which measured a third of the
 * throughput of the same transactions without it.  The notification is a
 * hint, never the only way a message is found: a lost one costs at most
 * the poll interval.  The listener runs even with no senders, so an
 * instance that only queues still wakes the others.
 *
 * A reload (mailer_reload) replaces the mail settings and templates while
 * senders work.  The settings are a reference-counted copy (struct
 * settings) that each sender holds while it uses it; new transports are
 * opened by the reload and handed over.  Each sender takes the new ones
 * between batches, never during a delivery, and closes its old transport
 * itself; the old settings go with the last sender that held them.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../log.h"
#include "../util/metrics.h"
#include "message.h"
#include "outbox.h"
#include "payload.h"
#include "template.h"
#include "transport.h"
#include "webhook.h"

#define CLAIM_BATCH 4
#define MAX_VARS 32
#define BACKOFF_MAX_MS (3600 * 1000)
#define OUTBOX_CHANNEL "resetd_outbox"
#define NOTIFY_SPACING_MS 10
#define HASTEN_BATCH 500       /* messages made due by one hasten */
#define HASTEN_SPACING_MS 1000 /* between hastens of one recovery */

/*
 * What a reload may change, copied from the configuration; shared, with
 * refs counted under the mailer's lock.
 */
struct settings {
	int refs;
	char *from;	 /* mail_from */
	char *from_name; /* mail_from_name */
	int64_t max_tries;
	int64_t lease_ms;
	int64_t poll_ms;
	int64_t test_hold_ms;
	int64_t backoff_ms;
	int64_t max_age_ms;
	int64_t webhook_timeout_ms;
	const struct template_set *templates; /* a reference */
};

struct sender {
	struct mailer *ml;
	struct transport transport; /* mail senders only */
	pthread_t thread;
	struct settings *set; /* held; the sender's own */
	/* From a reload, under the lock: the next transport, when open. */
	struct transport next;
	enum outbox_claim which; /* what it claims */
	uint64_t seen;		 /* the wake it last saw */
};

struct mailer {
	struct db *db;
	struct settings *set; /* in force; under lock */
	struct sender *senders;
	int nsenders; /* with a transport */
	int nthreads; /* started */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uint64_t wake_gen; /* counts wakes */
	int stopping;
	/* Between instances; listener NULL when the database has none. */
	struct db_listener *listener;
	pthread_t listen_thread;
	int listening;	    /* listen_thread runs */
	int pipe[2];	    /* wakes the listener */
	int notify_pending; /* guarded by lock */
	uint8_t key[PAYLOAD_KEY_BYTES];
	uint8_t webhook_key[PAYLOAD_KEY_BYTES];
	int has_webhook_key;
	int cancel;	      /* atomic: posts stop */
	mail_recorder record; /* or NULL */
	void *record_arg;
	outbox_task task; /* under lock; or NULL */
	void *task_arg;
	/* The relay's recovery, guarded by lock. */
	int relay_failed;  /* a temporary failure */
	int hasten_more;   /* a full batch was hastened */
	int64_t hasten_at; /* monotonic ms */
};

static struct settings *
settings_new(const struct config *cfg, const struct template_set *ts)
{
	struct settings *set = xcalloc(1, sizeof(*set));

	set->refs = 1;
	set->from = xstrdup(cfg->mail_from);
	set->from_name = xstrdup(cfg->mail_from_name);
	set->max_tries = cfg->mail_max_tries;
	set->lease_ms = cfg->mail_lease_seconds * 1000;
	set->poll_ms = cfg->mail_poll_ms;
	set->test_hold_ms = cfg->mail_test_hold_ms;
	set->backoff_ms = cfg->mail_backoff_ms;
	set->max_age_ms = cfg->mail_max_age * 1000;
	set->webhook_timeout_ms = cfg->webhook_timeout_ms;
	set->templates = template_set_hold(ts);
	return set;
}

/*
 * Under the mailer's lock: give back a reference to set.  Return set when
 * that was the last, for the caller to free with settings_free once
 * unlocked; else NULL.
 */
static struct settings *
settings_drop_locked(struct settings *set)
{
	if (set == NULL || --set->refs > 0)
		return NULL;
	return set;
}

static void
settings_free(struct settings *set)
{
	if (set == NULL)
		return;
	free(set->from);
	free(set->from_name);
	template_set_drop(set->templates);
	free(set);
}

int
outbox_queue(struct db_conn *c, const struct outbox_item *it, int64_t now)
{
	struct outbox_msg m;
	const struct mail_var *v;
	char id[UUID_STRLEN + 1];
	json_t *vars = json_object();
	char *payload, *sealed;
	int rc;

	for (v = it->vars; v != NULL && v->name != NULL; v++)
		json_object_set_new(vars, v->name,
		    json_string(v->value ? v->value : ""));
	payload = json_dumps(vars, JSON_COMPACT);
	json_decref(vars);
	if (payload == NULL) {
		/* A request's failure, never the process's. */
		log_error("mail: cannot encode a payload");
		return DB_ERROR;
	}
	id_new(id);
	assert(it->key != NULL);
	sealed = payload_seal(it->key,
	    &(struct payload_ad){ id, it->project_id, it->kind, it->to },
	    payload);
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.project_id = (char *)it->project_id;
	m.kind = (char *)it->kind;
	m.to_addr = (char *)it->to;
	m.locale = (char *)it->locale;
	m.payload = sealed;
	m.state = it->dropped ? "dropped" : "pending";
	m.subject = (char *)it->subject;
	m.from_addr = (char *)it->from_addr;
	m.from_name = (char *)it->from_name;
	m.next_try_at = it->not_before > now ? it->not_before : now;
	m.created_at = now;
	rc = store_outbox_insert(c, &m);
	xfree_secret(payload);
	free(sealed);
	return rc;
}

/* Backoff before try number tries + 1: doubling, capped, +-25% jitter. */
static int64_t
backoff_ms(int64_t base, int64_t tries)
{
	int64_t d = base;
	int64_t jitter;

	while (tries-- > 1 && d < BACKOFF_MAX_MS)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	jitter = (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1)) - d / 4;
	return d + jitter;
}

/* Decode a payload into vars (pointing into root); -1 if malformed. */
static int
payload_vars(json_t *root, struct mail_var vars[MAX_VARS + 1])
{
	const char *key;
	json_t *value;
	int n = 0;

	if (!json_is_object(root))
		return -1;
	json_object_foreach(root, key, value)
	{
		if (n >= MAX_VARS || !json_is_string(value))
			return -1;
		vars[n].name = key;
		vars[n].value = json_string_value(value);
		n++;
	}
	vars[n].name = NULL;
	vars[n].value = NULL;
	return 0;
}

/*
 * Post one claimed webhook delivery (to_addr names the endpoint) with its
 * body.  0 when the endpoint took it, or a transport failure code with the
 * reason in err: an endpoint deleted since, or a secret that does not
 * open, is permanent.
 */
static int
deliver_webhook(struct sender *s, const struct outbox_msg *m, const char *body,
    char *err, size_t errlen)
{
	struct mailer *ml = s->ml;
	struct webhook_endpoint *w = NULL;
	struct db_conn *c;
	char *secret = NULL, *msg_id = NULL;
	int rc = TRANSPORT_DEFERRED, private_ok = 0, got;
	long status;

	if (body == NULL) {
		snprintf(err, errlen, "malformed payload");
		return TRANSPORT_PERMANENT;
	}
	c = db_acquire(ml->db);
	if (c == NULL) {
		snprintf(err, errlen, "the database is unavailable");
		return TRANSPORT_DEFERRED;
	}
	got = store_webhook_get(c, m->to_addr, &w);
	if (got == STORE_OK)
		got = store_project_private_targets(c, m->project_id,
		    &private_ok);
	db_release(ml->db, c);
	if (got == STORE_NOT_FOUND ||
	    (got == STORE_OK && strcmp(w->project_id, m->project_id) != 0)) {
		snprintf(err, errlen, "the endpoint was deleted");
		rc = TRANSPORT_PERMANENT;
		goto out;
	}
	if (got != STORE_OK) {
		snprintf(err, errlen, "the database is unavailable");
		goto out;
	}
	if (ml->has_webhook_key)
		secret = webhook_secret_open(ml->webhook_key, w->id,
		    w->project_id, w->secret_sealed);
	if (secret == NULL) {
		snprintf(err, errlen,
		    "the endpoint's secret does not open "
		    "(another server secret?)");
		rc = TRANSPORT_PERMANENT;
		goto out;
	}
	msg_id = id_prefixed("msg_", m->id);
	rc = webhook_send(
	    &(struct webhook_post){
		.url = w->url,
		.secret = secret,
		.msg_id = msg_id != NULL ? msg_id : m->id,
		.body = body,
		.allow_private = private_ok,
		.timeout_ms = s->set->webhook_timeout_ms,
		.now_ms = time_now_ms(),
		.cancel = &ml->cancel,
	    },
	    &status, err, errlen);
out:
	free(msg_id);
	xfree_secret(secret);
	webhook_endpoint_free(w);
	return rc;
}

/* Run a claimed task with its payload (root); see outbox_task. */
static int
run_task(struct mailer *ml, const struct outbox_msg *m, json_t *root,
    struct mail_var vars[MAX_VARS + 1], char *err, size_t errlen)
{
	outbox_task task;
	void *arg;

	if (root == NULL || payload_vars(root, vars) == -1) {
		snprintf(err, errlen, "malformed payload");
		return TRANSPORT_PERMANENT;
	}
	pthread_mutex_lock(&ml->lock);
	task = ml->task;
	arg = ml->task_arg;
	pthread_mutex_unlock(&ml->lock);
	if (task == NULL) {
		snprintf(err, errlen, "no one runs tasks yet");
		return TRANSPORT_DEFERRED;
	}
	return task(m, vars, err, errlen, arg);
}

void
mailer_set_task(struct mailer *ml, outbox_task task, void *arg)
{
	pthread_mutex_lock(&ml->lock);
	ml->task = task;
	ml->task_arg = arg;
	pthread_mutex_unlock(&ml->lock);
}

/*
 * Render and send one claimed message.  Return 0 when sent, or a transport
 * failure code with the reason in err.
 */
static int
deliver_one(struct sender *s, const struct outbox_msg *m, char *err,
    size_t errlen)
{
	struct mailer *ml = s->ml;
	struct mail_var vars[MAX_VARS + 1];
	struct rendered_mail r = { NULL, NULL, NULL };
	struct message_spec spec;
	struct transport_msg tm;
	json_t *root = NULL;
	char *msg = NULL, *payload = NULL;
	int rc = TRANSPORT_PERMANENT;

	if (m->payload != NULL &&
	    payload_open(ml->key,
		&(struct payload_ad){ m->id, m->project_id, m->kind,
		    m->to_addr },
		m->payload, &payload) == 0)
		root = json_loads(payload, 0, NULL);
	xfree_secret(payload);
	/* A webhook sender has no transport, and claims calls alone. */
	assert(s->which != CLAIM_WEBHOOKS ||
	    strcmp(m->kind, WEBHOOK_KIND) == 0 ||
	    strcmp(m->kind, OUTBOX_TASK_KIND) == 0);
	if (strcmp(m->kind, OUTBOX_TASK_KIND) == 0) {
		rc = run_task(ml, m, root, vars, err, errlen);
		goto out;
	}
	if (root != NULL && strcmp(m->kind, WEBHOOK_KIND) == 0) {
		rc = deliver_webhook(s, m,
		    json_string_value(json_object_get(root, "body")), err,
		    errlen);
		goto out;
	}
	if (root == NULL || payload_vars(root, vars) == -1) {
		snprintf(err, errlen, "malformed payload");
		goto out;
	}
	if (template_render(s->set->templates, m->project_id, m->kind,
		m->locale, vars, &r) == -1) {
		snprintf(err, errlen, "no template for %s", m->kind);
		goto out;
	}
	spec = (struct message_spec){
		.to_addr = m->to_addr,
		.subject = r.subject,
		.text = r.text,
		.html = r.html,
		.date_ms = time_now_ms(),
		.from_addr = m->from_addr != NULL ? m->from_addr : s->set->from,
		.from_name = m->from_name != NULL ? m->from_name :
						    s->set->from_name,
	};
	if (message_build(&spec, &msg, err, errlen) == -1)
		goto out;
	tm = (struct transport_msg){
		.from = spec.from_addr,
		.to = m->to_addr,
		.data = msg,
		.len = strlen(msg),
		.text = r.text,
	};
	rc = transport_send(&s->transport, &tm, err, errlen);
out:
	xfree_secret(msg);
	rendered_mail_clear(&r);
	json_decref(root);
	return rc;
}

struct mark_tx {
	struct mailer *ml;
	const struct outbox_msg *m;
	const char *error;   /* NULL: sent */
	int64_t next_try_at; /* -1: dead */
	int64_t now;
};

/*
 * Mark a message sent, failed or dead, and when it is sent or dead, let
 * the layer above record that in the same transaction.
 */
static int
mark_tx(struct db_conn *c, void *arg)
{
	struct mark_tx *t = arg;
	struct outbox_msg told;
	int rc;

	if (t->error == NULL)
		rc = store_outbox_sent(c, t->m->id, t->now);
	else
		rc = store_outbox_failed(c, t->m->id, t->error, t->next_try_at,
		    t->m->tries);
	if (rc != STORE_OK || t->ml->record == NULL ||
	    (t->error != NULL && t->next_try_at >= 0))
		return rc;
	/* A dead message is told with the error it died of. */
	told = *t->m;
	told.last_error = (char *)t->error;
	return t->ml->record(c, &told, t->error == NULL ? MAIL_SENT : MAIL_DEAD,
	    t->now, t->ml->record_arg);
}

/* Mark m in one transaction (see mark_tx); 0, or a db failure (logged). */
static int
mark(struct mailer *ml, const struct outbox_msg *m, const char *error,
    int64_t next_try_at, int64_t now)
{
	struct mark_tx t = { ml, m, error, next_try_at, now };

	return db_write(ml->db, mark_tx, &t);
}

static int stopping(struct mailer *);
static void senders_wake(struct mailer *);
static void listener_poke(struct mailer *);

/*
 * After a send that worked: when sends had failed before it, or the last
 * hasten made a full batch due, make the messages waiting on backoff due
 * now, as the relay is evidently back.
 */
static void
relay_works(struct mailer *ml)
{
	int64_t now = time_mono_ms();
	int go, n;

	pthread_mutex_lock(&ml->lock);
	go = ml->relay_failed ||
	    (ml->hasten_more && now - ml->hasten_at >= HASTEN_SPACING_MS);
	if (go) {
		ml->relay_failed = 0;
		ml->hasten_more = 0;
		ml->hasten_at = now;
	}
	pthread_mutex_unlock(&ml->lock);
	if (!go)
		return;
	n = store_outbox_hasten(ml->db, db_now(ml->db), HASTEN_BATCH);
	if (n <= 0)
		return;
	log_info("mail: sending works again; %d messages waiting on backoff "
		 "are due now",
	    n);
	pthread_mutex_lock(&ml->lock);
	ml->hasten_more = n == HASTEN_BATCH;
	pthread_mutex_unlock(&ml->lock);
	senders_wake(ml);
	listener_poke(ml);
}

static void
relay_failing(struct mailer *ml)
{
	pthread_mutex_lock(&ml->lock);
	ml->relay_failed = 1;
	ml->hasten_more = 0;
	pthread_mutex_unlock(&ml->lock);
}

/* Count a delivery (ok) or a failure under the transport's own series. */
static void
count_delivery(const struct sender *s, int ok)
{
	const char *name = s->transport.driver != NULL ?
	    s->transport.driver->name :
	    NULL;
	int i = name == NULL		 ? 2 :
	    strcmp(name, "smtp") == 0	 ? 0 :
	    strcmp(name, "maildir") == 0 ? 1 :
					   2;

	metrics_inc((enum metric)(
	    (ok ? M_MAIL_DELIVERED_SMTP : M_MAIL_FAILED_SMTP) + i));
}

static void
deliver(struct sender *s, const struct outbox_msg *m)
{
	struct mailer *ml = s->ml;
	char err[TRANSPORT_REPLY_MAX] = "";
	const char *why = NULL;
	int64_t next = -1, now;
	int rc;

	rc = deliver_one(s, m, err, sizeof(err));
	count_delivery(s, rc == 0);
	if (rc == 0) {
		if (mark(ml, m, NULL, 0, db_now(ml->db)) != 0)
			log_error(
			    "mail: message %s sent but not marked; it may "
			    "be sent again",
			    m->id);
		else
			log_info("mail: sent %s message %s", m->kind, m->id);
		if (strcmp(m->kind, WEBHOOK_KIND) == 0 ||
		    strcmp(m->kind, OUTBOX_TASK_KIND) == 0)
			return; /* it says nothing of the relay */
		relay_works(ml);
		return;
	}
	now = db_now(ml->db);
	if (rc != TRANSPORT_PERMANENT && stopping(ml)) {
		/* Cut short by the stop, not the relay's doing. */
		log_warn("mail: message %s interrupted by the stop; it is due "
			 "again: %s",
		    m->id, err);
		(void)mark(ml, m, err, now, now);
		return;
	}
	/* A 4xx to one message (greylisting) says nothing of the relay. */
	if (rc == TRANSPORT_TEMPORARY)
		relay_failing(ml);
	if (rc == TRANSPORT_PERMANENT)
		why = "a permanent failure";
	else if (m->tries >= s->set->max_tries)
		why = "its last try (mail_max_tries)";
	else if (now - m->created_at >= s->set->max_age_ms)
		why = "a failure past mail_max_age";
	if (why != NULL) {
		log_warn("mail: message %s is dead after %s, try %lld: %s",
		    m->id, why, (long long)m->tries, err);
	} else {
		next = now + backoff_ms(s->set->backoff_ms, m->tries);
		log_warn("mail: message %s failed (try %lld), will retry in "
			 "%lld ms: %s",
		    m->id, (long long)m->tries, (long long)(next - now), err);
	}
	if (mark(ml, m, err, next, now) != 0 && why != NULL)
		log_warn("mail: cannot mark message %s dead", m->id);
	else if (why != NULL)
		senders_wake(ml); /* what its fate queued (webhooks) */
}

/*
 * Sleep until woken, stopped, or the poll interval has passed.  A wake is
 * a new generation, which every sender sees once, so one kind of sender
 * cannot take a wake meant for the other.
 */
static void
sender_wait(struct mailer *ml, struct sender *s)
{
	struct timespec ts;
	int64_t poll_ms = s->set->poll_ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += poll_ms / 1000;
	ts.tv_nsec += (poll_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ml->lock);
	while (ml->wake_gen == s->seen && !ml->stopping)
		if (pthread_cond_timedwait(&ml->wake, &ml->lock, &ts) ==
		    ETIMEDOUT)
			break;
	s->seen = ml->wake_gen;
	pthread_mutex_unlock(&ml->lock);
}

static int
stopping(struct mailer *ml)
{
	int s;

	pthread_mutex_lock(&ml->lock);
	s = ml->stopping;
	pthread_mutex_unlock(&ml->lock);
	return s;
}

/*
 * Sleep ms unless stopped; for mail_test_hold_ms, which lets a test kill
 * an instance while it holds claimed messages.
 */
static void
sender_hold(struct mailer *ml, int64_t ms)
{
	struct timespec ts;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (int64_t)ts.tv_nsec + (ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&ml->lock);
	while (!ml->stopping)
		if (pthread_cond_timedwait(&ml->wake, &ml->lock, &ts) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&ml->lock);
}

/*
 * Between batches: take the settings in force and the transport a reload
 * left for this sender, if they changed, and let go of the old ones.
 * Nothing is taken once the mailer stops, so that mailer_stop's cancel
 * reaches the transport in use.
 */
static void
sender_refresh(struct sender *s)
{
	struct mailer *ml = s->ml;
	struct settings *old = NULL;
	struct transport done = { NULL, NULL };

	pthread_mutex_lock(&ml->lock);
	if (!ml->stopping && s->set != ml->set) {
		old = settings_drop_locked(s->set);
		s->set = ml->set;
		s->set->refs++;
	}
	if (!ml->stopping && s->next.driver != NULL) {
		done = s->transport;
		s->transport = s->next;
		s->next = (struct transport){ NULL, NULL };
	}
	pthread_mutex_unlock(&ml->lock);
	transport_close(&done);
	settings_free(old);
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct mailer *ml = s->ml;
	struct store_list got;
	int64_t now;
	size_t i;

	while (!stopping(ml)) {
		sender_refresh(s);
		now = db_now(ml->db);
		if (store_outbox_claim_kind(ml->db, s->which, now,
			now + s->set->lease_ms, CLAIM_BATCH, &got) != 0) {
			sender_wait(ml, s);
			continue;
		}
		if (got.n > 0)
			log_debug("mail: claimed %zu due messages", got.n);
		if (got.n > 0 && s->set->test_hold_ms > 0)
			sender_hold(ml, s->set->test_hold_ms);
		for (i = 0; i < got.n && !stopping(ml); i++) {
			const struct outbox_msg *m = got.items[i];

			/* The claim set next_try_at to the end of the lease. */
			if (db_now(ml->db) >= m->next_try_at)
				continue;
			deliver(s, m);
		}
		if (got.n == 0)
			sender_wait(ml, s);
		store_list_free(&got, (void (*)(void *))outbox_msg_free);
	}
	return NULL;
}

/* Wake every sender of this instance. */
static void
senders_wake(struct mailer *ml)
{
	pthread_mutex_lock(&ml->lock);
	ml->wake_gen++;
	pthread_cond_broadcast(&ml->wake);
	pthread_mutex_unlock(&ml->lock);
}

/*
 * The listener thread: turns notifications from other instances into
 * wake-ups of this instance's senders, and announces what was queued here
 * to them, no more often than NOTIFY_SPACING_MS.
 */
static void *
listen_main(void *arg)
{
	struct mailer *ml = arg;
	char drain[64];
	int64_t last_notify = 0, now, wait_ms, poll_ms;
	int got, pending, stop;

	for (;;) {
		pthread_mutex_lock(&ml->lock);
		stop = ml->stopping;
		pending = ml->notify_pending;
		poll_ms = ml->set->poll_ms;
		pthread_mutex_unlock(&ml->lock);
		if (stop)
			break;
		now = time_mono_ms();
		if (pending && now - last_notify >= NOTIFY_SPACING_MS) {
			pthread_mutex_lock(&ml->lock);
			ml->notify_pending = 0;
			pthread_mutex_unlock(&ml->lock);
			last_notify = now;
			pending = 0;
			if (db_listener_notify(ml->listener) != 0) {
				/* Try again once the listener is back. */
				pthread_mutex_lock(&ml->lock);
				ml->notify_pending = 1;
				pthread_mutex_unlock(&ml->lock);
				pending = 1;
			}
		}
		wait_ms = pending ? NOTIFY_SPACING_MS - (now - last_notify) :
				    poll_ms;
		got = db_listener_wait(ml->listener, ml->pipe[0], (int)wait_ms);
		if (got & DB_WAKE_FD)
			while (read(ml->pipe[0], drain, sizeof(drain)) > 0)
				continue;
		if ((got & DB_WAKE_NOTIFIED) && ml->nthreads > 0)
			senders_wake(ml);
	}
	return NULL;
}

static int
listener_start(struct mailer *ml)
{
	ml->listener = db_listener_open(ml->db, OUTBOX_CHANNEL);
	if (ml->listener == NULL)
		return 0; /* one instance per database: nothing to do */
	if (pipe2(ml->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		db_listener_close(ml->listener);
		ml->listener = NULL;
		return log_fail("mail: cannot make a pipe: %s",
		    strerror(errno));
	}
	if (pthread_create(&ml->listen_thread, NULL, listen_main, ml) != 0)
		log_fatal("mail: cannot start the listener thread");
	ml->listening = 1;
	return 0;
}

struct mailer *
mailer_start(const struct config *cfg, struct db *db,
    const struct template_set *templates, const uint8_t *key,
    const uint8_t *webhook_key, mail_recorder record, void *arg)
{
	struct mailer *ml = xcalloc(1, sizeof(*ml));
	int i, nhooks;

	ml->db = db;
	ml->set = settings_new(cfg, templates);
	memcpy(ml->key, key, sizeof(ml->key));
	if (webhook_key != NULL) {
		memcpy(ml->webhook_key, webhook_key, sizeof(ml->webhook_key));
		ml->has_webhook_key = 1;
	}
	ml->record = record;
	ml->record_arg = arg;
	ml->pipe[0] = ml->pipe[1] = -1;
	pthread_mutex_init(&ml->lock, NULL);
	pthread_cond_init(&ml->wake, NULL);
	/* Webhook senders of their own, so a slow endpoint holds no mail. */
	nhooks = cfg->mail_workers > 0 ? (int)cfg->webhook_workers : 0;
	ml->senders = xcalloc((size_t)(cfg->mail_workers + nhooks) + 1,
	    sizeof(*ml->senders));
	for (i = 0; i < cfg->mail_workers + nhooks; i++) {
		ml->senders[i].ml = ml;
		ml->senders[i].which = i >= cfg->mail_workers ? CLAIM_WEBHOOKS :
		    nhooks > 0				      ? CLAIM_MAIL :
								CLAIM_ANY;
	}
	for (i = 0; i < cfg->mail_workers; i++) {
		if (transport_open(cfg->mail, cfg, &ml->senders[i].transport) ==
		    -1) {
			mailer_stop(ml);
			return NULL;
		}
		ml->senders[i].set = ml->set;
		ml->set->refs++;
		ml->nsenders++;
	}
	if (cfg->mail_lease_seconds * 1000 <= cfg->mail_send_timeout_ms)
		log_warn(
		    "mail: mail_lease_seconds (%lld s) is not longer than "
		    "mail_send_timeout_ms (%lld ms): a slow delivery may be "
		    "claimed and sent twice",
		    (long long)cfg->mail_lease_seconds,
		    (long long)cfg->mail_send_timeout_ms);
	if (str_has_prefix(cfg->mail, "log:"))
		log_warn("mail: the log transport writes reset links and codes "
			 "to %s; it is for development only",
		    cfg->mail[4] ? cfg->mail + 4 : "standard output");
	for (i = 0; i < cfg->mail_workers + nhooks; i++) {
		if (pthread_create(&ml->senders[i].thread, NULL, sender_main,
			&ml->senders[i]) != 0)
			log_fatal("mail: cannot start a sender thread");
		ml->nthreads++;
	}
	if (listener_start(ml) == -1) {
		mailer_stop(ml);
		return NULL;
	}
	return ml;
}

/* Under lock: have the listener tell the other instances. */
static void
listener_poke_locked(struct mailer *ml)
{
	if (ml->listening && !ml->notify_pending) {
		ml->notify_pending = 1;
		if (write(ml->pipe[1], "", 1) == -1 && errno != EAGAIN)
			log_warn("mail: cannot wake the listener: %s",
			    strerror(errno));
	}
}

static void
listener_poke(struct mailer *ml)
{
	pthread_mutex_lock(&ml->lock);
	listener_poke_locked(ml);
	pthread_mutex_unlock(&ml->lock);
}

void
mailer_wake(void *arg)
{
	struct mailer *ml = arg;

	pthread_mutex_lock(&ml->lock);
	ml->wake_gen++;
	pthread_cond_broadcast(&ml->wake);
	listener_poke_locked(ml);
	pthread_mutex_unlock(&ml->lock);
}

int
mailer_reload(struct mailer *ml, const struct config *cfg,
    const struct template_set *templates)
{
	struct transport *fresh, stale;
	struct settings *set, *old;
	int i, n = 0;

	/* Every transport first: a reload that cannot open one changes nothing. */
	fresh = xcalloc((size_t)ml->nsenders + 1, sizeof(*fresh));
	for (n = 0; n < ml->nsenders; n++) {
		if (transport_open(cfg->mail, cfg, &fresh[n]) == -1) {
			for (i = 0; i < n; i++)
				transport_close(&fresh[i]);
			free(fresh);
			return -1;
		}
	}
	set = settings_new(cfg, templates);
	pthread_mutex_lock(&ml->lock);
	old = settings_drop_locked(ml->set);
	ml->set = set;
	for (i = 0; i < ml->nsenders; i++) {
		/* One left by an earlier reload and not taken yet goes. */
		stale = ml->senders[i].next;
		ml->senders[i].next = fresh[i];
		fresh[i] = stale;
	}
	ml->wake_gen++;
	pthread_cond_broadcast(&ml->wake);
	pthread_mutex_unlock(&ml->lock);
	for (i = 0; i < ml->nsenders; i++)
		transport_close(&fresh[i]);
	free(fresh);
	settings_free(old);
	return 0;
}

void
mailer_stop(struct mailer *ml)
{
	int i;

	if (ml == NULL)
		return;
	pthread_mutex_lock(&ml->lock);
	ml->stopping = 1;
	pthread_cond_broadcast(&ml->wake);
	if (ml->listening && write(ml->pipe[1], "", 1) == -1 && errno != EAGAIN)
		log_warn("mail: cannot wake the listener: %s", strerror(errno));
	/*
	 * A send stuck on a silent relay gives up now, not at its timeout.
	 * Under the lock: no sender takes a new transport after this.
	 */
	__atomic_store_n(&ml->cancel, 1, __ATOMIC_RELAXED);
	for (i = 0; i < ml->nthreads && i < ml->nsenders; i++)
		transport_cancel(&ml->senders[i].transport);
	pthread_mutex_unlock(&ml->lock);
	for (i = 0; i < ml->nthreads; i++)
		pthread_join(ml->senders[i].thread, NULL);
	if (ml->listening)
		pthread_join(ml->listen_thread, NULL);
	db_listener_close(ml->listener);
	if (ml->pipe[0] != -1) {
		close(ml->pipe[0]);
		close(ml->pipe[1]);
	}
	/*
	 * Every thread has ended: the lock guards nothing any more.  Mail
	 * senders come first and hold transports; webhook senders hold
	 * settings only.
	 */
	for (i = 0; i < ml->nsenders || i < ml->nthreads; i++) {
		transport_close(&ml->senders[i].transport);
		transport_close(&ml->senders[i].next);
		settings_free(settings_drop_locked(ml->senders[i].set));
	}
	settings_free(settings_drop_locked(ml->set));
	free(ml->senders);
	pthread_mutex_destroy(&ml->lock);
	pthread_cond_destroy(&ml->wake);
	sodium_memzero(ml->key, sizeof(ml->key));
	sodium_memzero(ml->webhook_key, sizeof(ml->webhook_key));
	free(ml);
}

int
mailer_send_test(const struct config *cfg, const char *to,
    const char *from_addr, const char *from_name, char *reply, size_t replylen)
{
	static const char text[] =
	    "This is a test message from resetd, sent with \"resetd mail "
	    "test\".\nIt shows that the mail transport delivers; no answer is "
	    "needed.\n";
	static const char html[] =
	    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
	    "<title>resetd test message</title></head>\n<body>\n<p>This is a "
	    "test message from resetd, sent with &quot;resetd mail "
	    "test&quot;.</p>\n<p>It shows that the mail transport delivers; no "
	    "answer is needed.</p>\n</body>\n</html>\n";
	struct message_spec spec = {
		.from_name = from_name,
		.from_addr = from_addr,
		.to_addr = to,
		.subject = "resetd test message",
		.text = text,
		.html = html,
		.date_ms = time_now_ms(),
	};
	struct transport t;
	struct transport_msg tm;
	char *msg = NULL;
	int rc;

	if (message_build(&spec, &msg, reply, replylen) == -1)
		return TRANSPORT_PERMANENT;
	if (transport_open(cfg->mail, cfg, &t) == -1) {
		snprintf(reply, replylen, "cannot open the mail transport");
		free(msg);
		return TRANSPORT_TEMPORARY;
	}
	tm = (struct transport_msg){
		.from = from_addr,
		.to = to,
		.data = msg,
		.len = strlen(msg),
		.text = text,
	};
	rc = transport_send(&t, &tm, reply, replylen);
	transport_close(&t);
	free(msg);
	return rc;
}
