/*
 * Routing by table: the routes of every face, matched in the order the
 * faces are listed and then in table order; the first matching row wins.
 * A face whose clients need its own error shape for unknown paths and
 * methods (WorkOS: the SDK wants JSON) ends its rows with method "*" rows
 * for its paths (405) and a prefix row (404): a pattern ending in a slash
 * and an asterisk.  A route may also be chosen by a header's value
 * (Cognito's one endpoint, POST /, names its operation in X-Amz-Target),
 * or by how it begins (a WorkOS API key in Authorization).
 *
 * Running a route is throttling it, then its handler: the route's class is
 * spent through the application's hook before the handler sees the
 * request, so every route is limited by construction, and a refusal is
 * answered by its face in the face's shape.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../log.h"
#include "../util/metrics.h"
#include "http.h"

/*
 * Match path against pattern; a "{}" segment in the pattern matches one
 * non-empty path segment, returned through param.  A pattern ending in
 * a slash and an asterisk matches the path before the slash and every
 * path under it.
 */
static int
path_match(const char *pattern, const char *path, const char **param,
    size_t *param_len)
{
	const char *hole = strstr(pattern, "{}");
	size_t pre, seg, len = strlen(pattern);

	if (len >= 2 && strcmp(pattern + len - 2, "/*") == 0)
		return strncmp(pattern, path, len - 2) == 0 &&
		    (path[len - 2] == '\0' || path[len - 2] == '/');
	if (hole == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(hole - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return 0;
	seg = strcspn(path + pre, "/");
	if (seg == 0 || strcmp(hole + 2, path + pre + seg) != 0)
		return 0;
	*param = path + pre;
	*param_len = seg;
	return 1;
}

/*
 * 1 when r matches the header condition of rt (none: always): the value
 * exactly, or its beginning when the route's value ends in '*'.
 */
static int
header_match(const struct route *rt, const struct http_request *r)
{
	const char *v;
	size_t n;

	if (rt->header == NULL)
		return 1;
	v = http_header(r, rt->header);
	if (v == NULL)
		return 0;
	n = strlen(rt->value);
	if (n > 0 && rt->value[n - 1] == '*')
		return strncmp(v, rt->value, n - 1) == 0;
	return strcmp(v, rt->value) == 0;
}

const struct route *
http_route_find(const struct http_face *const *faces,
    const struct http_request *r, const struct http_face **face,
    const char **param, size_t *param_len, int *method_mismatch)
{
	const struct route *rt;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	const char *p = NULL;
	size_t n = 0;

	*method_mismatch = 0;
	for (; *faces != NULL; faces++) {
		for (rt = (*faces)->routes; rt->method != NULL; rt++) {
			if (!path_match(rt->path, r->path, &p, &n))
				continue;
			if (strcmp(rt->method, method) != 0 &&
			    strcmp(rt->method, "*") != 0) {
				*method_mismatch = 1;
				continue;
			}
			if (!header_match(rt, r))
				continue;
			*face = *faces;
			*param = p;
			*param_len = n;
			return rt;
		}
	}
	return NULL;
}

void
http_route_run(const struct http_app *app, const struct http_face *face,
    const struct route *rt, const struct http_request *r,
    struct http_response *resp)
{
	int64_t wait = 0;
	int failure = 0, rc;

	if (rt->limit != HTTP_UNLIMITED) {
		rc = app->throttle(app->app, http_client(r),
		    http_header(r, "User-Agent"), HTTP_LIMIT_CLASS(rt->limit),
		    &wait, &failure);
		if (rc == 1) {
			face->throttled(r, resp, wait);
			return;
		}
		if (rc != 0) {
			face->failed(r, resp, failure);
			return;
		}
	}
	rt->handler(r, resp);
}

int
http_faces_valid(const struct http_face *const *faces)
{
	const struct route *rt;

	for (; *faces != NULL; faces++) {
		if ((*faces)->throttled == NULL || (*faces)->failed == NULL) {
			log_error("http: face %s answers no refusal",
			    (*faces)->name ? (*faces)->name : "(unnamed)");
			return 0;
		}
		for (rt = (*faces)->routes; rt->method != NULL; rt++) {
			if (rt->handler == NULL || rt->limit == 0 ||
			    rt->limit < HTTP_UNLIMITED ||
			    (rt->limit != HTTP_UNLIMITED &&
				rt->run != RUN_WORKER) ||
			    (rt->header != NULL) != (rt->value != NULL)) {
				log_error("http: route %s %s has no rate-limit "
					  "class, or a limited one runs inline",
				    rt->method, rt->path);
				return 0;
			}
		}
	}
	return 1;
}

/*
 * Answers counted per face, route and status, for /metrics.  Faces take a
 * slot as their server starts; the statuses are a fixed list (any other
 * is counted as "other") and the routes are the rows of the faces'
 * tables, so the series are bounded by construction.  The last row of a
 * listener's slot counts the requests no route matched.
 */
#define METRIC_SLOTS 16	 /* faces and listeners */
#define METRIC_ROUTES 64 /* rows of one face */

static const int counted_status[] = {
	200,
	201,
	202,
	204,
	301,
	302,
	303,
	304,
	400,
	401,
	403,
	404,
	405,
	409,
	410,
	413,
	414,
	415,
	422,
	429,
	431,
	500,
	502,
	503,
};
#define NSTATUS (sizeof(counted_status) / sizeof(counted_status[0]))

struct metric_slot {
	const struct http_face *face; /* NULL: a listener's unmatched */
	const char *listener;
};

static struct metric_slot slots[METRIC_SLOTS];
static _Atomic int nslots;
static _Atomic uint64_t hits[METRIC_SLOTS][METRIC_ROUTES][NSTATUS + 1];

/* The slot of face (NULL: the unmatched of listener), or -1. */
static int
slot_find(const struct http_face *face, const char *listener)
{
	int i, n = atomic_load_explicit(&nslots, memory_order_acquire);

	for (i = 0; i < n; i++)
		if (slots[i].face == face &&
		    (face != NULL || strcmp(slots[i].listener, listener) == 0))
			return i;
	return -1;
}

static int
slot_add(const struct http_face *face, const char *listener)
{
	int n = atomic_load_explicit(&nslots, memory_order_relaxed);

	if (slot_find(face, listener) != -1)
		return 0;
	if (n == METRIC_SLOTS) {
		log_error("http: more than %d faces to count", METRIC_SLOTS);
		return -1;
	}
	slots[n] = (struct metric_slot){ face, listener };
	atomic_store_explicit(&nslots, n + 1, memory_order_release);
	return 0;
}

int
http_metrics_register(const struct http_site *site)
{
	const struct http_face *const *f;
	const struct route *rt;
	int n;

	for (f = site->faces; *f != NULL; f++) {
		for (n = 0, rt = (*f)->routes; rt->method != NULL; rt++)
			n++;
		if (n >= METRIC_ROUTES) {
			log_error("http: face %s has more than %d routes to "
				  "count",
			    (*f)->name ? (*f)->name : "health",
			    METRIC_ROUTES - 1);
			return -1;
		}
		if (slot_add(*f, site->name) == -1)
			return -1;
	}
	return slot_add(NULL, site->name);
}

void
http_metrics_count(const struct http_site *site, const struct http_face *face,
    const struct route *rt, int status, int64_t us)
{
	size_t i, row;
	int slot = slot_find(face, site->name);

	metrics_observe_request(face != NULL ? metrics_face(face->name) :
					       MF_NONE,
	    us);
	if (slot == -1)
		return;
	row = rt != NULL ? (size_t)(rt - face->routes) : METRIC_ROUTES - 1;
	for (i = 0; i < NSTATUS && counted_status[i] != status; i++)
		continue;
	atomic_fetch_add_explicit(&hits[slot][row][i], 1, memory_order_relaxed);
}

/* One route's rows (rt NULL: the unmatched requests of the slot). */
static int
render_route(struct buf *b, int slot, size_t row, const struct route *rt)
{
	const struct http_face *face = slots[slot].face;
	uint64_t v;
	size_t i;
	char status[8];

	for (i = 0; i <= NSTATUS; i++) {
		v = atomic_load_explicit(&hits[slot][row][i],
		    memory_order_relaxed);
		if (v == 0)
			continue;
		if (i < NSTATUS)
			snprintf(status, sizeof(status), "%d",
			    counted_status[i]);
		else
			snprintf(status, sizeof(status), "other");
		if (buf_printf(b,
			"resetd_http_requests_total{listener=\"%s\","
			"face=\"%s\",method=\"%s\",route=\"%s\",status=\"%s\"} "
			"%llu\n",
			slots[slot].listener,
			face == NULL	       ? "none" :
			    face->name != NULL ? face->name :
						 "health",
			rt != NULL ? rt->method : "*",
			rt != NULL ? rt->path : "unmatched", status,
			(unsigned long long)v) == -1)
			return -1;
	}
	return 0;
}

int
http_metrics_render(struct buf *b)
{
	const struct route *rt;
	int slot, n = atomic_load_explicit(&nslots, memory_order_acquire);

	if (buf_puts(b,
		"# HELP resetd_http_requests_total Requests answered, "
		"by listener, face, method, route pattern and status.\n"
		"# TYPE resetd_http_requests_total counter\n") == -1)
		return -1;
	for (slot = 0; slot < n; slot++) {
		if (slots[slot].face == NULL) {
			if (render_route(b, slot, METRIC_ROUTES - 1, NULL) ==
			    -1)
				return -1;
			continue;
		}
		for (rt = slots[slot].face->routes; rt->method != NULL; rt++)
			if (render_route(b, slot,
				(size_t)(rt - slots[slot].face->routes),
				rt) == -1)
				return -1;
	}
	return 0;
}
