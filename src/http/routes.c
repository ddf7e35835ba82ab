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
	WORKOS("GET", "/events", workos_events_list),
	WORKOS_OTHER("/events", workos_method_not_allowed),

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
http_route_find(const char *method, const char *path, const char **param,
    size_t *param_len, int *method_mismatch)
{
	const struct route *r;
	const char *p = NULL;
	size_t n = 0;

	*method_mismatch = 0;
	for (r = http_routes; r->method != NULL; r++) {
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
