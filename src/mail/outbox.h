/*
 * The outbox: mail is queued as a row in the same transaction as the change
 * that causes it, and delivered afterwards by sender threads.  A message is
 * marked sent only after its transport accepted it, so a crash between the
 * two sends it twice, never zero times.
 *
 * Kinds name a template: "reset_link", "reset_code", "password_changed",
 * "unknown_account"; or "webhook", a signed post of an event to the
 * endpoint named as the recipient (mail/webhook.h).  Variables are
 * name/value pairs the template refers to as {{name}}.  The locale is the
 * template folder to write from, chosen by the engine
 * (engine_locale_choose).
 */
#ifndef RESETD_OUTBOX_H
#define RESETD_OUTBOX_H

#include <stdint.h>

#include "../config.h"
#include "../store/store.h"

struct mail_var {
	const char *name;
	const char *value;
};

struct outbox_item {
	const char *project_id;
	const char *kind;
	const char *to;		     /* "" for a dropped row */
	const char *locale;	     /* a template folder; NULL: en */
	const struct mail_var *vars; /* ends with a NULL name */
	int dropped;		     /* recorded for equal work, never sent */
	const char *subject;	     /* audit subject of a reset, or NULL */
	int64_t not_before;	     /* not sent before, ms; 0: now */
	const uint8_t *key;	     /* seals the payload (32 bytes) */
	/* The sender, chosen by the caller; NULL: the configured one. */
	const char *from_addr;
	const char *from_name;
};

/*
 * Queue a message on c, inside the caller's transaction, its payload
 * sealed under it->key (mail/payload.h).  Return STORE_OK, or a db
 * failure.
 */
int outbox_queue(struct db_conn *, const struct outbox_item *, int64_t now);

struct transport;
struct mailer;
struct template_set;

/* What became of a message, for the layer above to record. */
enum mail_fate {
	MAIL_SENT, /* the transport took it */
	MAIL_DEAD, /* it will not be tried again */
};

/*
 * Records what became of message m on c, inside the transaction that marks
 * it, at now (a dead message's last_error is the error it died of);
 * returns STORE_OK or a db failure, which rolls the marking back (the
 * message is then sent again, or tried again).
 */
typedef int (*mail_recorder)(struct db_conn *c, const struct outbox_msg *m,
    enum mail_fate, int64_t now, void *arg);

/*
 * Start cfg->mail_workers sender threads, each with its own connection
 * through the configured transport, rendering with templates (NULL: the
 * built-in ones; the mailer takes a reference of its own) and opening
 * payloads with key (32 bytes, copied: the key outbox_queue sealed them
 * with), and opening webhook endpoints' secrets with webhook_key (32
 * bytes, copied; NULL: webhook deliveries die unsent).  Deliveries of kind
 * "webhook" are posted (mail/webhook.h), the rest mailed.  What it needs
 * of cfg is copied: cfg may go once this returns.  A message sent or dead
 * is marked in one transaction with record(c, m, fate, now, arg) (record
 * NULL: nothing else is recorded).  With zero workers, return a mailer
 * that sends nothing.  NULL when the transport cannot be set up (logged).
 */
struct mailer *mailer_start(const struct config *, struct db *,
    const struct template_set *, const uint8_t *key, const uint8_t *webhook_key,
    mail_recorder record, void *arg);
/*
 * Replace, while senders work, the mail settings a reload may change: the
 * transport and its settings (mail, mail_starttls, mail_username,
 * mail_password, mail_ca_file, the timeouts), mail_from and
 * mail_from_name (for messages queued without a sender), mail_max_tries,
 * mail_lease_seconds, mail_poll_ms, mail_backoff_ms,
 * mail_max_age, mail_test_hold_ms, and the templates (a reference is
 * taken, as mailer_start does).  The number of senders stays.  A message
 * being delivered finishes with the old settings; each sender takes the
 * new ones before its next batch.  Return 0, or -1 (logged) when a
 * transport cannot be opened, and then nothing has changed.
 */
int mailer_reload(struct mailer *, const struct config *,
    const struct template_set *) WUR;
/*
 * The outbox kind of a task: a call to an app made by the webhook senders
 * for the layer above (a user storage lookup), with the outbox's leases,
 * retries, backoff and dead letters.
 */
#define OUTBOX_TASK_KIND "storage_lookup"
/*
 * Run a claimed task m whose payload holds vars, outside any transaction:
 * 0 when done, TRANSPORT_DEFERRED to try again after the backoff,
 * TRANSPORT_PERMANENT to let it die; the reason in err.  Whatever it
 * changes it commits itself, before the task is marked done: a crash
 * between the two runs it again.
 */
typedef int (*outbox_task)(const struct outbox_msg *m,
    const struct mail_var *vars, char *err, size_t errlen, void *arg);
/*
 * Set the function that runs tasks (see mailer_start's senders); until it
 * is set, a task claimed is tried again later.
 */
void mailer_set_task(struct mailer *, outbox_task, void *arg);
/* Wake the senders now rather than at their next poll; an engine waker. */
void mailer_wake(void *mailer);
/* Stop the senders, letting a message in flight finish; accepts NULL. */
void mailer_stop(struct mailer *);

/*
 * Send a fixed test message to to now, from from_addr and from_name, through
 * the transport cfg names, outside the outbox.  Return 0 with the
 * destination's answer in reply, or TRANSPORT_TEMPORARY, _DEFERRED or
 * _PERMANENT with the reason.
 */
int mailer_send_test(const struct config *, const char *to,
    const char *from_addr, const char *from_name, char *reply, size_t replylen);

#endif
