/*
 * Routing by table: the routes of every face, matched in the order the
 * faces are listed and then in table order; the first matching row wins.
 * A face whose clients need its own error shape for unknown paths and
 * methods (WorkOS: the SDK wants JSON) ends its rows with method "*" rows
 * for its paths (405) and a prefix row (404): a pattern ending in a slash
 * and an asterisk.  A route may also be chosen by a header's value
 * (Cognito's one endpoint, POST /, names its operation in X-Amz-Target).
 *
 * Running a route is throttling it, then its handler: the route's class is
 * spent through the application's hook before the handler sees the
 * request, so every route is limited by construction, and a refusal is
 * answered by its face in the face's shape.
 */
#include <string.h>

#include "../log.h"
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

/* 1 when r matches the header condition of rt (none: always). */
static int
header_match(const struct route *rt, const struct http_request *r)
{
	const char *v;

	if (rt->header == NULL)
		return 1;
	v = http_header(r, rt->header);
	return v != NULL && strcmp(v, rt->value) == 0;
}

const struct route *
http_route_find(const struct http_face *const *faces,
    const struct http_request *r, const struct http_face **face,
    const char **param, size_t *param_len, int *method_mismatch)
{
	const struct route *rt;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" :
	    r->method;
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
