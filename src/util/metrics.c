/*
 * The metrics of metrics.h: const tables of series, and one atomic per
 * value.  Rows that share a metric name are kept together, so the
 * renderer writes the name's HELP and TYPE once, before its first row.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

enum metric_type {
	MT_COUNTER,
	MT_GAUGE,
};

struct metric_def {
	const char *name;
	const char *labels; /* "k=\"v\"", or NULL */
	enum metric_type type;
	const char *help;
};

#define RL_HELP "Requests answered 429 by a per-address limit, by class."
#define SEC_HELP "Reset secrets (links and codes) by what became of them."
#define SIGN_HELP "Sign-ins by outcome."
#define DEL_HELP "Mail handed to a transport and accepted, by transport."
#define FAIL_HELP \
	"Mail deliveries that failed (to retry or dead), by " \
	"transport."

static const struct metric_def metric_defs[M__MAX] = {
	/* M_RATE_LIMITED_REQUEST */
	{ "resetd_rate_limited_total", "class=\"request\"", MT_COUNTER,
	    RL_HELP },
	{ "resetd_rate_limited_total", "class=\"confirm\"", MT_COUNTER,
	    RL_HELP },
	{ "resetd_rate_limited_total", "class=\"login\"", MT_COUNTER, RL_HELP },
	{ "resetd_rate_limited_total", "class=\"api\"", MT_COUNTER, RL_HELP },
	{ "resetd_rate_limited_total", "class=\"admin\"", MT_COUNTER, RL_HELP },
	/* M_SECRETS_ISSUED */
	{ "resetd_secrets_total", "event=\"issued\"", MT_COUNTER, SEC_HELP },
	{ "resetd_secrets_total", "event=\"consumed\"", MT_COUNTER, SEC_HELP },
	{ "resetd_secrets_total", "event=\"expired\"", MT_COUNTER, SEC_HELP },
	/* M_SIGNINS_SUCCEEDED */
	{ "resetd_signins_total", "result=\"succeeded\"", MT_COUNTER,
	    SIGN_HELP },
	{ "resetd_signins_total", "result=\"failed\"", MT_COUNTER, SIGN_HELP },
	/* M_MAIL_DELIVERED_SMTP */
	{ "resetd_mail_delivered_total", "transport=\"smtp\"", MT_COUNTER,
	    DEL_HELP },
	{ "resetd_mail_delivered_total", "transport=\"maildir\"", MT_COUNTER,
	    DEL_HELP },
	{ "resetd_mail_delivered_total", "transport=\"log\"", MT_COUNTER,
	    DEL_HELP },
	/* M_MAIL_FAILED_SMTP */
	{ "resetd_mail_failed_total", "transport=\"smtp\"", MT_COUNTER,
	    FAIL_HELP },
	{ "resetd_mail_failed_total", "transport=\"maildir\"", MT_COUNTER,
	    FAIL_HELP },
	{ "resetd_mail_failed_total", "transport=\"log\"", MT_COUNTER,
	    FAIL_HELP },
	/* M_HASHES_IN_FLIGHT */
	{ "resetd_password_hashes_in_flight", NULL, MT_GAUGE,
	    "Password hashes and verifies computing now." },
	/* M_ADMIN_AUTH_FAILED */
	{ "resetd_admin_auth_failures_total", NULL, MT_COUNTER,
	    "Admin requests with a missing or wrong token." },
};

struct histogram_def {
	const char *name;
	const char *labels;
	const int64_t *bounds; /* native units, ascending */
	int nbounds;
	int64_t divisor; /* shown value = native / divisor */
	const char *help;
};

#define NB_TIME 14
#define NB_SIZE 9
#define NB_MAX NB_TIME

static const int64_t time_bounds[NB_TIME] = {
	500,
	1000,
	2500,
	5000,
	10000,
	25000,
	50000,
	100000,
	250000,
	500000,
	1000000,
	2500000,
	5000000,
	10000000,
};
static const int64_t size_bounds[NB_SIZE] = {
	1,
	2,
	4,
	8,
	16,
	32,
	64,
	128,
	256,
};

static const struct histogram_def histogram_defs[H__MAX] = {
	/* H_HASH_WAIT */
	{ "resetd_password_hash_wait_seconds", NULL, time_bounds, NB_TIME,
	    1000000, "Time a password hash or verify waited for a slot." },
	/* H_DB_COMMIT */
	{ "resetd_db_commit_seconds", NULL, time_bounds, NB_TIME, 1000000,
	    "Time of a write transaction's commit (a group commit on "
	    "SQLite)." },
	/* H_DB_BATCH */
	{ "resetd_db_commit_batch_size", NULL, size_bounds, NB_SIZE, 1,
	    "Writes per commit: the size of a group commit on SQLite, 1 on "
	    "PostgreSQL." },
};

static const char *const face_names[MF__MAX] = {
	"none",
	"health",
	"xsolla",
	"workos",
	"cognito",
	"velocity",
	"pages",
	"admin",
};

struct histogram_values {
	_Atomic uint64_t buckets[NB_MAX + 1]; /* the last: +Inf */
	_Atomic uint64_t sum;
	_Atomic uint64_t count;
};

static _Atomic int64_t metric_values[M__MAX];
static struct histogram_values histogram_values[H__MAX];
static struct histogram_values request_values[MF__MAX];

void
metrics_inc(enum metric m)
{
	atomic_fetch_add_explicit(&metric_values[m], 1, memory_order_relaxed);
}

void
metrics_add(enum metric m, int64_t n)
{
	atomic_fetch_add_explicit(&metric_values[m], n, memory_order_relaxed);
}

void
metrics_dec(enum metric m)
{
	atomic_fetch_sub_explicit(&metric_values[m], 1, memory_order_relaxed);
}

int64_t
metrics_get(enum metric m)
{
	return atomic_load_explicit(&metric_values[m], memory_order_relaxed);
}

static void
observe(struct histogram_values *h, const int64_t *bounds, int nbounds,
    int64_t v)
{
	int i;

	if (v < 0)
		v = 0;
	for (i = 0; i < nbounds && v > bounds[i]; i++)
		continue;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, (uint64_t)v, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
metrics_observe(enum histogram h, int64_t v)
{
	observe(&histogram_values[h], histogram_defs[h].bounds,
	    histogram_defs[h].nbounds, v);
}

void
metrics_observe_request(enum metric_face f, int64_t us)
{
	observe(&request_values[f], time_bounds, NB_TIME, us);
}

enum metric_face
metrics_face(const char *name)
{
	int i;

	if (name == NULL)
		return MF_HEALTH;
	for (i = 0; i < MF__MAX; i++)
		if (strcmp(face_names[i], name) == 0)
			return (enum metric_face)i;
	return MF_NONE;
}

const char *
metrics_face_name(enum metric_face f)
{
	return face_names[f];
}

/* A native value as the exposition shows it: divided, in decimal. */
static int
put_value(struct buf *b, int64_t v, int64_t divisor)
{
	if (divisor == 1)
		return buf_printf(b, "%lld", (long long)v);
	return buf_printf(b, "%.6f", (double)v / (double)divisor);
}

/*
 * One histogram's rows: buckets (cumulative), sum and count, with labels
 * (NULL: none) before "le".
 */
static int
render_histogram(struct buf *b, const char *name, const char *labels,
    const int64_t *bounds, int nbounds, int64_t divisor,
    struct histogram_values *h)
{
	uint64_t cum = 0, count;
	int i;

	for (i = 0; i <= nbounds; i++) {
		cum += atomic_load_explicit(&h->buckets[i],
		    memory_order_relaxed);
		if (buf_printf(b, "%s_bucket{%s%sle=\"", name,
			labels ? labels : "", labels ? "," : "") == -1)
			return -1;
		if (i < nbounds) {
			if (put_value(b, bounds[i], divisor) == -1)
				return -1;
		} else if (buf_puts(b, "+Inf") == -1)
			return -1;
		if (buf_printf(b, "\"} %llu\n", (unsigned long long)cum) == -1)
			return -1;
	}
	/* The count is the buckets' total, so the two always agree. */
	count = cum;
	if (buf_printf(b, "%s_sum%s%s%s ", name, labels ? "{" : "",
		labels ? labels : "", labels ? "}" : "") == -1 ||
	    put_value(b,
		(int64_t)atomic_load_explicit(&h->sum, memory_order_relaxed),
		divisor) == -1 ||
	    buf_printf(b, "\n%s_count%s%s%s %llu\n", name, labels ? "{" : "",
		labels ? labels : "", labels ? "}" : "",
		(unsigned long long)count) == -1)
		return -1;
	return 0;
}

int
metrics_render(struct buf *b)
{
	const struct metric_def *d;
	const struct histogram_def *hd;
	char labels[64];
	int i;

	for (i = 0; i < M__MAX; i++) {
		d = &metric_defs[i];
		if ((i == 0 || strcmp(metric_defs[i - 1].name, d->name) != 0) &&
		    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", d->name,
			d->help, d->name,
			d->type == MT_GAUGE ? "gauge" : "counter") == -1)
			return -1;
		if (buf_printf(b, "%s%s%s%s %lld\n", d->name,
			d->labels ? "{" : "", d->labels ? d->labels : "",
			d->labels ? "}" : "", (long long)metrics_get(i)) == -1)
			return -1;
	}
	for (i = 0; i < H__MAX; i++) {
		hd = &histogram_defs[i];
		if (buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n",
			hd->name, hd->help, hd->name) == -1 ||
		    render_histogram(b, hd->name, hd->labels, hd->bounds,
			hd->nbounds, hd->divisor, &histogram_values[i]) == -1)
			return -1;
	}
	if (buf_puts(b,
		"# HELP resetd_http_request_duration_seconds Time from "
		"a request's head to its answer, by face.\n"
		"# TYPE resetd_http_request_duration_seconds histogram\n") ==
	    -1)
		return -1;
	for (i = 0; i < MF__MAX; i++) {
		snprintf(labels, sizeof(labels), "face=\"%s\"", face_names[i]);
		if (render_histogram(b, "resetd_http_request_duration_seconds",
			labels, time_bounds, NB_TIME, 1000000,
			&request_values[i]) == -1)
			return -1;
	}
	return 0;
}
