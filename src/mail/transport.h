/*
 * Mail transports: a const table of functions plus a private handle, chosen
 * by the scheme of the "mail" setting from a NULL-terminated list.
 *
 *	maildir:DIR			a file per message in DIR/new
 *	smtp://HOST[:PORT][/EHLO]	SMTP with STARTTLS (mail_starttls)
 *	smtps://HOST[:PORT][/EHLO]	SMTP over TLS from the first byte
 *	log:[FILE]			headers and text on standard output or
 *					in FILE, for development only
 *
 * A handle is used by one thread at a time: each mail sender opens its
 * own, so an SMTP sender keeps its connection open between messages.
 */
#ifndef RESETD_TRANSPORT_H
#define RESETD_TRANSPORT_H

#include <stddef.h>

#include "../config.h"

/* What a failed send means for the message. */
#define TRANSPORT_TEMPORARY (-1) /* try again later */
#define TRANSPORT_PERMANENT (-2) /* give up now */
#define TRANSPORT_DEFERRED (-3)	 /* this message later: a 4xx to it */

/* Room for a reply or an error, NUL included. */
#define TRANSPORT_REPLY_MAX 512

/* One message to deliver. */
struct transport_msg {
	const char *from; /* envelope sender, a plain address */
	const char *to;	  /* envelope recipient */
	const char *data; /* the whole message, CRLF lines */
	size_t len;
	const char *text; /* its text part, for log: */
};

struct transport_driver {
	const char *name;
	const char *prefix;
	int (*open)(const char *url, const struct config *, void **handle);
	void (*close)(void *handle);
	/*
	 * Deliver one message.  Return 0 once the destination accepted it,
	 * with the destination's answer in reply ("" when it gives none), or
	 * a failure with the reason in reply: TRANSPORT_TEMPORARY when the
	 * destination itself failed (unreachable, a refused session, a full
	 * Maildir), TRANSPORT_DEFERRED when it put this message off (a 4xx
	 * to the message, such as greylisting), TRANSPORT_PERMANENT when it
	 * refused the message for good.  Both of the first are tried again;
	 * only TRANSPORT_TEMPORARY says anything about other messages.
	 */
	int (*send)(void *handle, const struct transport_msg *, char *reply,
	    size_t replylen);
	/*
	 * Make the send in progress on another thread, and every later one,
	 * give up within about a second as TRANSPORT_TEMPORARY.  The only
	 * call that may come from another thread than the handle's.  NULL
	 * when sends cannot hang (they end within the send timeout anyway).
	 */
	void (*cancel)(void *handle);
};

struct transport {
	const struct transport_driver *driver;
	void *handle;
};

/* transport.c */
/*
 * Open the transport named by url into *out; -1 when the scheme is unknown
 * or the driver cannot start (logged).  Close it with transport_close.
 */
int transport_open(const char *url, const struct config *,
    struct transport *out) WUR;
/* Close a transport; accepts one that was never opened (zeroed). */
void transport_close(struct transport *);
/* Deliver through the transport's driver; see struct transport_driver. */
int transport_send(struct transport *, const struct transport_msg *,
    char *reply, size_t replylen);
/*
 * Stop a send that is in progress on the handle's own thread, for a
 * shutdown: see the driver's cancel.  Safe from any thread while the
 * transport is open; does nothing for a driver without cancel.
 */
void transport_cancel(struct transport *);
/* The driver name for url ("smtp", "maildir", ...), or NULL. */
const char *transport_name(const char *url);

/* transport_smtp.c */
/*
 * 1 when the host of the smtp:// or smtps:// url resolves, and every
 * address it resolves to is loopback (127.0.0.0/8, ::1, or 127.0.0.0/8
 * mapped into IPv6); 0 otherwise, and when it does not resolve (logged)
 * or is under the special-use domain "invalid".  A name is never taken
 * for loopback by its spelling: "127.mail.example.net" counts only if
 * it resolves to loopback alone.
 */
int transport_smtp_loopback(const char *url);
/*
 * What an SMTP exchange that ended with libcurl's result curl_code and the
 * server's last reply code means: 0 (accepted), TRANSPORT_PERMANENT for a
 * 5xx reply to the message itself (MAIL FROM, RCPT TO, DATA; in_envelope
 * says the exchange got that far), TRANSPORT_DEFERRED for a 4xx reply to
 * it, TRANSPORT_TEMPORARY for everything else: connection and TLS
 * failures, timeouts, and 4xx and 5xx replies about the session rather
 * than the message (greeting, EHLO, STARTTLS, and the AUTH family 530,
 * 534, 535, 538 wherever they come), which an operator fixes once for
 * every message.
 */
int transport_smtp_classify(int curl_code, long reply, int in_envelope);

#endif
