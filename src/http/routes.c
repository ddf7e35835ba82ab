/*
 * The route table: every path resetd answers, its method, its handler and
 * whether the handler may block.  Xsolla's paths are served at the root and
 * under /api, as its SDK lets the base URL include /api; Velocity's at the
 * root and under its vendor base path /authapi.  Cognito has one endpoint,
 * POST /, whose handler dispatches on X-Amz-Target.
 *
 * The hosted pages (pages/) are served at /forgot, /reset, /reset/code and
 * /reset/cancel, with their stylesheets under /assets.
 *
 * The first matching row wins.  A dialect whose clients need its own error
 * shape for unknown paths and methods (WorkOS: the SDK wants JSON) ends its
 * rows with method "*" rows for its paths (405) and a prefix row (404): a
 * pattern ending in a slash and an asterisk.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../api/api.h"
#include "../pages/pages.h"
#include "http.h"

#define XSOLLA(method, path, fn) \
	{ method, path, fn, RUN_WORKER, "xsolla" }, \
	{ method, "/api" path, fn, RUN_WORKER, "xsolla" }

#define WORKOS(method, path, fn) { method, path, fn, RUN_WORKER, "workos" }
/* Any other method on a path: answered without blocking. */
#define WORKOS_OTHER(path, fn) { "*", path, fn, RUN_INLINE, "workos" }
#define PAGES(method, path, fn) { method, path, fn, RUN_WORKER, "pages" }
#define VELOCITY(method, path, fn) \
	{ method, path, fn, RUN_WORKER, "velocity" }, \
	{ method, "/authapi" path, fn, RUN_WORKER, "velocity" }

const struct route http_routes[] = {
	{ "GET", "/healthz", health_live, RUN_INLINE, NULL },
	{ "GET", "/readyz", health_ready, RUN_WORKER, NULL },

	XSOLLA("POST", "/password/reset/request", xsolla_reset_request),
	XSOLLA("OPTIONS", "/password/reset/request", xsolla_preflight),
	XSOLLA("POST", "/password/reset/confirm", xsolla_reset_confirm),
	XSOLLA("OPTIONS", "/password/reset/confirm", xsolla_preflight),
	XSOLLA("POST", "/login", xsolla_login),
	XSOLLA("OPTIONS", "/login", xsolla_preflight),
	XSOLLA("GET", "/users/me", xsolla_users_me),
	XSOLLA("OPTIONS", "/users/me", xsolla_preflight),

	WORKOS("POST", "/user_management/password_reset", workos_reset_create),
	WORKOS("POST", "/user_management/password_reset/confirm",
	    workos_reset_confirm),
	WORKOS("POST", "/user_management/password_reset/send",
	    workos_reset_send),
	WORKOS("GET", "/user_management/password_reset/{}", workos_reset_get),
	WORKOS("POST", "/user_management/users", workos_user_create),
	WORKOS("GET", "/user_management/users/{}", workos_user_get),
	WORKOS("POST", "/user_management/authenticate", workos_authenticate),
	WORKOS_OTHER("/user_management/password_reset",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/confirm",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/send",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/password_reset/{}",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/users", workos_method_not_allowed),
	WORKOS_OTHER("/user_management/users/{}", workos_method_not_allowed),
	WORKOS_OTHER("/user_management/authenticate",
	    workos_method_not_allowed),
	WORKOS_OTHER("/user_management/*", workos_not_found),

	VELOCITY("POST", "/password/forgot", velocity_forgot),
	VELOCITY("POST", "/password/forgot/confirm", velocity_forgot_confirm),

	{ "POST", "/", cognito_dispatch, RUN_WORKER, "cognito" },
	{ "OPTIONS", "/", cognito_preflight, RUN_INLINE, "cognito" },

	PAGES("GET", "/forgot", page_forgot),
	PAGES("POST", "/forgot", page_forgot_post),
	PAGES("GET", "/reset", page_reset),
	PAGES("POST", "/reset", page_reset_post),
	PAGES("GET", "/reset/code", page_code),
	PAGES("POST", "/reset/code", page_code_post),
	PAGES("GET", "/reset/cancel", page_cancel),
	PAGES("POST", "/reset/cancel", page_cancel_post),
	{ "GET", "/assets/resetd.css", page_asset_css, RUN_INLINE, "pages" },
	PAGES("GET", "/assets/project/{}", page_asset_project_css),

	{ NULL, NULL, NULL, RUN_INLINE, NULL },
};

#define ADMIN(method, path, fn) { method, path, fn, RUN_WORKER, "admin" }

/*
 * The admin listener's table.  Every handler checks the bearer token
 * first (api/admin.c); nothing here is reachable from the public one.
 */
const struct route http_admin_routes[] = {
	ADMIN("GET", "/metrics", admin_metrics),
	ADMIN("GET", "/admin/projects", admin_projects_list),
	ADMIN("POST", "/admin/projects", admin_projects_create),
	ADMIN("GET", "/admin/projects/{}", admin_projects_get),
	ADMIN("GET", "/admin/projects/{}/users", admin_users_list),
	ADMIN("POST", "/admin/projects/{}/users", admin_users_create),
	ADMIN("POST", "/admin/projects/{}/users/import", admin_users_import),
	ADMIN("GET", "/admin/projects/{}/api-keys", admin_keys_list),
	ADMIN("POST", "/admin/projects/{}/api-keys", admin_keys_create),
	ADMIN("POST", "/admin/projects/{}/clients", admin_clients_create),
	ADMIN("GET", "/admin/users/{}", admin_users_get),
	ADMIN("DELETE", "/admin/users/{}", admin_users_delete),
	ADMIN("POST", "/admin/users/{}/disable", admin_users_disable),
	ADMIN("POST", "/admin/users/{}/enable", admin_users_enable),
	ADMIN("POST", "/admin/users/{}/reset", admin_users_reset),
	ADMIN("POST", "/admin/api-keys/{}/revoke", admin_keys_revoke),
	ADMIN("POST", "/admin/clients/{}/rotate-secret", admin_clients_rotate),
	ADMIN("GET", "/admin/outbox", admin_outbox_entries),
	ADMIN("POST", "/admin/outbox/retry-dead", admin_outbox_retry_dead),
	ADMIN("POST", "/admin/outbox/{}/retry", admin_outbox_retry_one),
	ADMIN("GET", "/admin/audit", admin_audit),
	ADMIN("*", "/admin/*", admin_not_found),

	{ NULL, NULL, NULL, RUN_INLINE, NULL },
};

/*
 * Answers counted per route and status.  The statuses are a fixed list
 * (any other is counted as "other"), and the routes are the rows of the
 * two tables, so the series are bounded by construction.
 */
#define ROUTES_MAX 128
#define TABLES 2

static const int counted_status[] = {
	200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409, 410,
	413, 414, 415, 422, 429, 431, 500, 502, 503,
};
#define NSTATUS (sizeof(counted_status) / sizeof(counted_status[0]))

/* Per table, per row (the last: no route matched), per status and other. */
static _Atomic uint64_t route_hits[TABLES][ROUTES_MAX + 1][NSTATUS + 1];

static const struct route *const tables[TABLES] = {
	http_routes, http_admin_routes,
};

void
http_route_count(const struct route *table, const struct route *r,
    int status)
{
	size_t t, row, i;

	for (t = 0; t < TABLES && tables[t] != table; t++)
		continue;
	if (t == TABLES)
		return;
	row = r != NULL ? (size_t)(r - table) : ROUTES_MAX;
	if (row > ROUTES_MAX)
		row = ROUTES_MAX;
	for (i = 0; i < NSTATUS && counted_status[i] != status; i++)
		continue;
	atomic_fetch_add_explicit(&route_hits[t][row][i], 1,
	    memory_order_relaxed);
}

/* One route's rows (r NULL: the unmatched requests of table t). */
static int
render_route(struct buf *b, size_t t, size_t row, const struct route *r)
{
	const char *face = r == NULL ? (t == 0 ? "none" : "admin") :
	    r->dialect != NULL ? r->dialect : "health";
	uint64_t v;
	size_t i;
	char status[8];

	for (i = 0; i <= NSTATUS; i++) {
		v = atomic_load_explicit(&route_hits[t][row][i],
		    memory_order_relaxed);
		if (v == 0)
			continue;
		if (i < NSTATUS)
			snprintf(status, sizeof(status), "%d", counted_status[i]);
		else
			snprintf(status, sizeof(status), "other");
		if (buf_printf(b, "resetd_http_requests_total{face=\"%s\","
		    "method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n", face,
		    r != NULL ? r->method : "*", r != NULL ? r->path : "unmatched",
		    status, (unsigned long long)v) == -1)
			return -1;
	}
	return 0;
}

int
http_metrics_render(struct buf *b)
{
	size_t t, row;

	if (buf_puts(b, "# HELP resetd_http_requests_total Requests answered, "
	    "by face, method, route pattern and status.\n"
	    "# TYPE resetd_http_requests_total counter\n") == -1)
		return -1;
	for (t = 0; t < TABLES; t++) {
		for (row = 0; row < ROUTES_MAX && tables[t][row].method != NULL;
		    row++)
			if (render_route(b, t, row, &tables[t][row]) == -1)
				return -1;
		if (render_route(b, t, ROUTES_MAX, NULL) == -1)
			return -1;
	}
	return 0;
}

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

const struct route *
http_route_find(const struct route *table, const char *method,
    const char *path, const char **param, size_t *param_len,
    int *method_mismatch)
{
	const struct route *r;
	const char *p = NULL;
	size_t n = 0;

	*method_mismatch = 0;
	for (r = table; r->method != NULL; r++) {
		if (!path_match(r->path, path, &p, &n))
			continue;
		if (strcmp(r->method, method) != 0 && strcmp(r->method, "*") != 0) {
			*method_mismatch = 1;
			continue;
		}
		*param = p;
		*param_len = n;
		return r;
	}
	return NULL;
}
