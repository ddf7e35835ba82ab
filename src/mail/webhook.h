/*
 * Events and their webhooks.  An event is recorded (webhook_emit) in the
 * transaction of the change it records, and in the same transaction one
 * outbox row of kind "webhook" is queued for each of the project's
 * endpoints that takes it.  The sender threads post those rows like mail,
 * with the outbox's leases, retries, backoff and dead letters, signed the
 * Standard Webhooks way:
 *
 *   webhook-id: msg_<ULID of the outbox row>   (the same on every retry)
 *   webhook-timestamp: <seconds since the epoch, at this try>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
 *
 * where key is the base64 text after "whsec_" in the endpoint's secret,
 * decoded.  The body is the event as WorkOS's events API shows it:
 * {"object":"event","id":"event_...","event":NAME,"data":{...},
 * "created_at":ISO}.
 *
 * Where a post may go: http or https only, no credentials in the URL, no
 * redirect followed, no proxy.  Unless the project allows private targets,
 * every address the host resolves to at the time of the post is checked
 * at connect (libcurl's socket opener), so a name that resolved to a
 * public address when the endpoint was made and to 127.0.0.1 since (DNS
 * rebinding) is refused.
 */
#ifndef RESETD_WEBHOOK_H
#define RESETD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "../store/store.h"

#define WEBHOOK_KIND "webhook" /* the outbox kind of a delivery */
#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_ERROR_MAX 256
#define WEBHOOK_BODY_MAX \
	(24 * 1024) /* one body; escaped twice, it fits a payload */
/* Endpoints of one project: each event queues a row for each taker. */
#define WEBHOOK_ENDPOINTS_MAX 16

struct sockaddr;

/*
 * Record event name of project_id with data (a JSON object's text, which
 * must hold no secret) on c, inside the caller's transaction, and queue
 * its delivery to each endpoint of the project that takes name, sealed
 * under outbox_key (32 bytes: the outbox's payload key).  now is the
 * event's time; the deliveries are not posted before not_before (0:
 * at once).  The deliveries queued are added to *queued (may be
 * NULL), so the caller knows to wake the senders after the commit.
 * STORE_OK or a db failure.
 */
int webhook_emit(struct db_conn *, const uint8_t *outbox_key,
    const char *project_id, const char *name, const char *data, int64_t now,
    int64_t not_before, int *queued);

/*
 * Seal an endpoint's secret under key (32 bytes), bound to the endpoint's
 * id and project; newly allocated.  webhook_secret_open undoes it: the
 * secret newly allocated (free with xfree_secret), or NULL when it does
 * not open (another key, another row).
 */
char *webhook_secret_seal(const uint8_t *key, const char *endpoint_id,
    const char *project_id, const char *secret);
char *webhook_secret_open(const uint8_t *key, const char *endpoint_id,
    const char *project_id, const char *sealed);

/*
 * Check a URL an endpoint is to have: an absolute http or https URL with
 * a host, no user or password, at most WEBHOOK_URL_MAX bytes.  Unless
 * allow_private is set, a host that is a private, loopback or link-local
 * address, or a name that resolves to one now, is refused too.  0, or -1
 * with the reason in err.
 */
int
webhook_url_check(const char *url, int allow_private, char *err, size_t errlen);
/* 1 when a is an address a project must allow to be reached. */
int webhook_addr_private(const struct sockaddr *a);

#define WEBHOOK_SIGNATURE_MAX 64 /* "v1," and base64 of 32 bytes */
/*
 * The webhook-signature value for message id, timestamp ts (decimal
 * seconds) and body under secret ("whsec_" and base64): "v1," and the
 * base64 HMAC-SHA256 of "id.ts.body", into out (outlen bytes, at least
 * WEBHOOK_SIGNATURE_MAX).  0, or -1 when the secret is malformed.
 */
int webhook_sign(const char *secret, const char *id, const char *ts,
    const char *body, char *out, size_t outlen);

/* One signed post. */
struct webhook_post {
	const char *url;
	const char *secret; /* "whsec_..." */
	const char *msg_id; /* webhook-id */
	const char *body;
	int allow_private;
	int64_t timeout_ms; /* the whole exchange */
	int64_t now_ms;	    /* signs webhook-timestamp */
	/* Checked at least once a second: non-zero cuts the post short. */
	const int *cancel;
};

/*
 * Post p now.  0 when the endpoint answered 2xx; TRANSPORT_DEFERRED for
 * any other answer or a failure to reach it (retried later);
 * TRANSPORT_PERMANENT when the post cannot be made at all (a malformed
 * secret or URL).  The reason, status included, is in err.  *status
 * receives the HTTP status (0: none).  The answer's body is read and
 * thrown away.
 */
int webhook_send(const struct webhook_post *p, long *status, char *err,
    size_t errlen);

/*
 * A call to an app's URL (user storage): a POST of a JSON body with a
 * bearer token, under the same rules as a post (http or https, no
 * credentials in the URL, no redirect followed, no proxy, private
 * addresses refused at connect unless allowed).  The answer is read in
 * full up to WEBHOOK_ANSWER_MAX bytes; a longer one is an error.
 */
#define WEBHOOK_ANSWER_MAX (16 * 1024)
#define WEBHOOK_CTYPE_MAX 128

struct webhook_call {
	const char *url;
	const char *bearer; /* the Authorization token; never logged */
	const char *body;   /* JSON text */
	const char *user_agent;
	int allow_private;
	int64_t timeout_ms; /* the whole exchange */
};

struct webhook_answer {
	long status;				  /* the HTTP status */
	char content_type[WEBHOOK_CTYPE_MAX + 1]; /* "" when none */
	char body[WEBHOOK_ANSWER_MAX + 1];	  /* NUL-terminated */
	size_t len;
};

/*
 * Make call c and fill *out with the answer.  0 when an answer came
 * (any status: the caller judges it), or -1 with the reason in err: the
 * app could not be reached, took longer than the timeout, answered more
 * than WEBHOOK_ANSWER_MAX bytes, or the call could not be made (a bad
 * URL, a private address not allowed).
 */
int webhook_call(const struct webhook_call *c, struct webhook_answer *out,
    char *err, size_t errlen);

#endif
