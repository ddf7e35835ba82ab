/*
 * Queueing and delivering mail.
 *
 * Senders claim due messages with a lease (store_outbox_claim), render and
 * send them, and record the outcome.  A temporary failure is retried with
 * exponential backoff and jitter; a permanent one, or too many tries, makes
 * the message dead with its last error, for an operator to see and retry.
 * Senders sleep until woken by a queued message or until the poll interval
 * passes, which also picks up retries and the leases of dead senders.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "../log.h"
#include "message.h"
#include "outbox.h"
#include "template.h"
#include "transport.h"

#define CLAIM_BATCH 16
#define MAX_VARS 32
#define BACKOFF_BASE_MS 5000
#define BACKOFF_MAX_MS (3600 * 1000)

struct mailer {
	const struct config	*cfg;
	struct db		*db;
	struct transport	 transport;
	pthread_t		*threads;
	int			 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	int			 woken;
	int			 stopping;
};

int
outbox_queue(struct db_conn *c, const struct outbox_item *it, int64_t now)
{
	struct outbox_msg m;
	const struct mail_var *v;
	char id[UUID_STRLEN + 1];
	json_t *vars = json_object();
	char *payload;
	int rc;

	for (v = it->vars; v != NULL && v->name != NULL; v++)
		json_object_set_new(vars, v->name, json_string(v->value ?
		    v->value : ""));
	payload = json_dumps(vars, JSON_COMPACT);
	json_decref(vars);
	if (payload == NULL)
		log_fatal("mail: cannot encode a payload");
	id_new(id);
	memset(&m, 0, sizeof(m));
	m.id = id;
	m.project_id = (char *)it->project_id;
	m.kind = (char *)it->kind;
	m.to_addr = (char *)it->to;
	m.locale = (char *)it->locale;
	m.payload = payload;
	m.state = it->dropped ? "dropped" : "pending";
	m.subject = (char *)it->subject;
	m.next_try_at = now;
	m.created_at = now;
	rc = store_outbox_insert(c, &m);
	xfree_secret(payload);
	return rc;
}

/* Backoff before try number tries + 1: doubling, capped, +-25% jitter. */
static int64_t
backoff_ms(int64_t tries)
{
	int64_t d = BACKOFF_BASE_MS;
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
	json_object_foreach(root, key, value) {
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
 * Render and send one claimed message.  Return 0 when sent, or a transport
 * failure code with the reason in err.
 */
static int
deliver_one(struct mailer *ml, const struct outbox_msg *m, char *err,
    size_t errlen)
{
	struct mail_var vars[MAX_VARS + 1];
	struct rendered_mail r = { NULL, NULL, NULL };
	struct message_spec spec;
	json_t *root;
	char *msg = NULL;
	int rc = TRANSPORT_PERMANENT;

	root = m->payload ? json_loads(m->payload, 0, NULL) : NULL;
	if (root == NULL || payload_vars(root, vars) == -1) {
		snprintf(err, errlen, "malformed payload");
		goto out;
	}
	if (template_render(m->kind, m->locale, vars, &r) == -1) {
		snprintf(err, errlen, "no template for %s", m->kind);
		goto out;
	}
	spec = (struct message_spec){
		.from_name = ml->cfg->mail_from_name,
		.from_addr = ml->cfg->mail_from,
		.to_addr = m->to_addr,
		.subject = r.subject,
		.text = r.text,
		.html = r.html,
		.date_ms = time_now_ms(),
	};
	if (message_build(&spec, &msg, err, errlen) == -1)
		goto out;
	rc = transport_send(&ml->transport, ml->cfg->mail_from, m->to_addr, msg,
	    strlen(msg), err, errlen);
out:
	xfree_secret(msg);
	rendered_mail_clear(&r);
	json_decref(root);
	return rc;
}

static int
audit_tx(struct db_conn *c, void *arg)
{
	return store_audit_insert(c, arg);
}

/*
 * Record the fate of a reset email in the audit trail, under the subject
 * the engine gave it; other mail is not audited.
 */
static void
audit_mail(struct mailer *ml, const struct outbox_msg *m, enum audit_kind k)
{
	struct audit_event a;
	char id[UUID_STRLEN + 1];

	if (m->subject == NULL)
		return;
	id_new(id);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.project_id = m->project_id;
	a.created_at = db_now(ml->db);
	a.event = (char *)store_audit_name(k);
	a.subject = m->subject;
	a.detail = m->kind;
	if (db_write(ml->db, audit_tx, &a) != 0)
		log_warn("mail: cannot record %s of message %s",
		    store_audit_name(k), m->id);
}

static void
deliver(struct mailer *ml, const struct outbox_msg *m)
{
	char err[512] = "";
	int64_t next;
	int rc;

	rc = deliver_one(ml, m, err, sizeof(err));
	if (rc == 0) {
		if (store_outbox_sent(ml->db, m->id, db_now(ml->db)) != 0)
			log_error("mail: message %s sent but not marked; it may "
			    "be sent again", m->id);
		else
			log_info("mail: sent %s message %s", m->kind, m->id);
		audit_mail(ml, m, AUDIT_RESET_MAIL_SENT);
		return;
	}
	if (rc == TRANSPORT_PERMANENT || m->tries >= ml->cfg->mail_max_tries) {
		log_warn("mail: giving up on message %s after %lld tries: %s",
		    m->id, (long long)m->tries, err);
		next = -1;
		audit_mail(ml, m, AUDIT_RESET_MAIL_FAILED);
	} else {
		next = db_now(ml->db) + backoff_ms(m->tries);
		log_warn("mail: message %s failed (try %lld), will retry: %s",
		    m->id, (long long)m->tries, err);
	}
	(void)store_outbox_failed(ml->db, m->id, err, next);
}

/* Sleep until woken, stopped, or the poll interval has passed. */
static void
sender_wait(struct mailer *ml)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ml->cfg->mail_poll_ms / 1000;
	ts.tv_nsec += (ml->cfg->mail_poll_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ml->lock);
	while (!ml->woken && !ml->stopping)
		if (pthread_cond_timedwait(&ml->wake, &ml->lock, &ts) == ETIMEDOUT)
			break;
	ml->woken = 0;
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

static void *
sender_main(void *arg)
{
	struct mailer *ml = arg;
	struct store_list got;
	int64_t now;
	size_t i;

	while (!stopping(ml)) {
		now = db_now(ml->db);
		if (store_outbox_claim(ml->db, now, now +
		    ml->cfg->mail_lease_seconds * 1000, CLAIM_BATCH, &got) != 0) {
			sender_wait(ml);
			continue;
		}
		for (i = 0; i < got.n; i++)
			deliver(ml, got.items[i]);
		if (got.n == 0)
			sender_wait(ml);
		store_list_free(&got, (void (*)(void *))outbox_msg_free);
	}
	return NULL;
}

struct mailer *
mailer_start(const struct config *cfg, struct db *db)
{
	struct mailer *ml = xcalloc(1, sizeof(*ml));
	int i;

	ml->cfg = cfg;
	ml->db = db;
	pthread_mutex_init(&ml->lock, NULL);
	pthread_cond_init(&ml->wake, NULL);
	if (cfg->mail_workers == 0)
		return ml;
	if (transport_open(cfg->mail, cfg, &ml->transport) == -1) {
		mailer_stop(ml);
		return NULL;
	}
	ml->threads = xcalloc((size_t)cfg->mail_workers, sizeof(pthread_t));
	for (i = 0; i < cfg->mail_workers; i++) {
		if (pthread_create(&ml->threads[i], NULL, sender_main, ml) != 0)
			log_fatal("mail: cannot start a sender thread");
		ml->nthreads++;
	}
	return ml;
}

void
mailer_wake(void *arg)
{
	struct mailer *ml = arg;

	pthread_mutex_lock(&ml->lock);
	ml->woken = 1;
	pthread_cond_signal(&ml->wake);
	pthread_mutex_unlock(&ml->lock);
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
	pthread_mutex_unlock(&ml->lock);
	for (i = 0; i < ml->nthreads; i++)
		pthread_join(ml->threads[i], NULL);
	free(ml->threads);
	transport_close(&ml->transport);
	pthread_mutex_destroy(&ml->lock);
	pthread_cond_destroy(&ml->wake);
	free(ml);
}
