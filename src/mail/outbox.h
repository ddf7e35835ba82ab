/*
 * The outbox: mail is queued as a row in the same transaction as the change
 * that causes it, and delivered afterwards by sender threads.  A message is
 * marked sent only after its transport accepted it, so a crash between the
 * two sends it twice, never zero times.
 *
 * Kinds name a template: "reset_link", "password_changed".  Variables are
 * name/value pairs the template refers to as {{name}}.
 */
#ifndef RESETD_OUTBOX_H
#define RESETD_OUTBOX_H

#include <stdint.h>

#include "../config.h"
#include "../store/store.h"

struct mail_var {
	const char	*name;
	const char	*value;
};

struct outbox_item {
	const char		*project_id;
	const char		*kind;
	const char		*to;		/* "" for a dropped row */
	const char		*locale;	/* NULL: English */
	const struct mail_var	*vars;		/* ends with a NULL name */
	int			 dropped;	/* recorded for equal work, never sent */
	const char		*subject;	/* audit subject of a reset, or NULL */
};

/*
 * Queue a message on c, inside the caller's transaction.  Return STORE_OK,
 * or a db failure.
 */
int	outbox_queue(struct db_conn *, const struct outbox_item *, int64_t now);

struct transport;
struct mailer;

/*
 * Start cfg->mail_workers sender threads delivering through the configured
 * transport.  With zero workers, return a mailer that sends nothing.  NULL
 * when the transport cannot be set up (logged).
 */
struct mailer *mailer_start(const struct config *, struct db *);
/* Wake the senders now rather than at their next poll; an engine waker. */
void	mailer_wake(void *mailer);
/* Stop the senders, letting a message in flight finish; accepts NULL. */
void	mailer_stop(struct mailer *);

#endif
