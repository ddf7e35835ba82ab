/*
 * Process metrics for GET /metrics (Prometheus text format 0.0.4).
 *
 * Every series is a row of a const table, named here by an enum, so a
 * label value can only come from that table: no user, email, address or
 * path parameter can ever become a label, and the number of series is
 * fixed at build time.  Counters, gauges and histogram buckets are C11
 * atomics updated with relaxed order: a hot path pays one uncontended
 * atomic add, and takes no lock.  A scrape reads each value once; it may
 * see one series a little ahead of another, which Prometheus tolerates.
 *
 * Series whose values live elsewhere (requests per route in http/, the
 * outbox's depth in the database) are rendered by their owners beside
 * metrics_render.
 */
#ifndef RESETD_METRICS_H
#define RESETD_METRICS_H

#include <stdint.h>

#include "util.h"

/* Counters and gauges. */
enum metric {
	M_RATE_LIMITED_REQUEST,	  /* 0: by class, as ratelimit's */
	M_RATE_LIMITED_CONFIRM,	  /* 1 */
	M_RATE_LIMITED_LOGIN,	  /* 2 */
	M_RATE_LIMITED_API,	  /* 3 */
	M_RATE_LIMITED_ADMIN,	  /* 4: wrong admin tokens past the cap */
	M_SECRETS_ISSUED,	  /* 5 */
	M_SECRETS_CONSUMED,	  /* 6 */
	M_SECRETS_EXPIRED,	  /* 7: a confirm found it expired */
	M_SIGNINS_SUCCEEDED,	  /* 8 */
	M_SIGNINS_FAILED,	  /* 9 */
	M_MAIL_DELIVERED_SMTP,	  /* 10 */
	M_MAIL_DELIVERED_MAILDIR, /* 11 */
	M_MAIL_DELIVERED_LOG,	  /* 12 */
	M_MAIL_FAILED_SMTP,	  /* 13 */
	M_MAIL_FAILED_MAILDIR,	  /* 14 */
	M_MAIL_FAILED_LOG,	  /* 15 */
	M_HASHES_IN_FLIGHT,	  /* 16: gauge */
	M_ADMIN_AUTH_FAILED,	  /* 17: wrong or missing admin tokens */
	M__MAX
};

/* Histograms. */
enum histogram {
	H_HASH_WAIT, /* 0: seconds waiting for a hashing slot */
	H_DB_COMMIT, /* 1: seconds per commit */
	H_DB_BATCH,  /* 2: writes per group commit */
	H__MAX
};

/* The faces requests are counted by; a bounded set. */
enum metric_face {
	MF_NONE,     /* 0: no route matched */
	MF_HEALTH,   /* 1 */
	MF_XSOLLA,   /* 2 */
	MF_WORKOS,   /* 3 */
	MF_COGNITO,  /* 4 */
	MF_VELOCITY, /* 5 */
	MF_PAGES,    /* 6 */
	MF_ADMIN,    /* 7 */
	MF__MAX
};

void metrics_inc(enum metric);
void metrics_add(enum metric, int64_t);
/* For gauges: add -1. */
void metrics_dec(enum metric);
/*
 * Count one observation of value in a histogram, in its native unit:
 * microseconds for the timings (shown in seconds), a count for sizes.
 */
void metrics_observe(enum histogram, int64_t value);
/* A request's latency in microseconds, for its face's histogram. */
void metrics_observe_request(enum metric_face, int64_t us);
/* The face of a route's dialect name (NULL: health); MF_NONE if unknown. */
enum metric_face metrics_face(const char *name);
/* The label value of a face: "xsolla", ... */
const char *metrics_face_name(enum metric_face);
/* The value of a counter or gauge now. */
int64_t metrics_get(enum metric);
/*
 * Append every series of the tables above to b, with its HELP and TYPE
 * lines.  Return 0, or -1 when b's cap was reached.
 */
int metrics_render(struct buf *b) WUR;

#endif
