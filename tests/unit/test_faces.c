/*
 * Unit tests of the faces' route tables (faces.h, http.h): every route of
 * every face has a rate-limit class, the routes that spend nothing are
 * exactly the ones meant to, and running a limited route asks the
 * throttle hook for its class before the handler: a refusal is the
 * face's own 429, byte for byte, and a failure of the hook the face's own
 * failure answer, with the handler never run.  The faces run on a real
 * engine over SQLite, as the server runs them.
 */
#include "unit.h"

#include <sodium.h>
#include <strings.h>

#include "api/api.h"
#include "config.h"
#include "core/engine.h"
#include "faces.h"
#include "http/http.h"
#include "log.h"
#include "pages/pages.h"
#include "store/store.h"

struct fixture {
	char dir[UNIT_DIR_MAX];
	struct config *cfg;
	struct db *db;
	struct engine *e;
};

/* What the throttle hook of a test saw and is to answer. */
struct hook_state {
	int answer; /* 0 go on, 1 refuse, -1 fail */
	int64_t wait;
	int calls;
	int cls;
};

static struct hook_state hook;

static int
test_throttle(void *app, const char *client_ip, const char *user_agent, int cls,
    int64_t *retry_after_s, int *failure)
{
	(void)app;
	(void)client_ip;
	(void)user_agent;
	hook.calls++;
	hook.cls = cls;
	if (hook.answer == 1)
		*retry_after_s = hook.wait;
	if (hook.answer == -1)
		*failure = ENGINE_UNAVAILABLE;
	return hook.answer;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[UNIT_PATH_MAX], err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	unit_tmpdir(f->dir);
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	unsetenv("RESETD_CONFIG");
	setenv("RESETD_DATABASE", url, 1);
	setenv("RESETD_PUBLIC_URL", "https://reset.example.com", 1);
	assert_int_equal(config_load(NULL, &f->cfg, err, sizeof(err)), 0);
	assert_int_equal(log_set_level("error"), 0);
	assert_int_equal(db_open(f->cfg->database, 2, &f->db), 0);
	assert_int_equal(store_migrate(f->db), 0);
	f->e = engine_new(f->cfg, f->db);
	assert_non_null(f->e);
	pages_load();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	engine_free(f->e);
	db_close(f->db);
	config_free(f->cfg);
	unsetenv("RESETD_PUBLIC_URL");
	unit_rmdir(f->dir);
	free(f);
	return 0;
}

static void
response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, 1 << 20);
}

static void
response_clear(struct http_response *resp)
{
	int i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	buf_free(&resp->body);
}

static const char *
header(const struct http_response *resp, const char *name)
{
	int i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/* The same answer: status, type, body, and headers in order. */
static void
assert_same_answer(const struct http_response *a, const struct http_response *b)
{
	int i;

	assert_int_equal(a->status, b->status);
	assert_true((a->content_type == NULL) == (b->content_type == NULL));
	if (a->content_type != NULL)
		assert_string_equal(a->content_type, b->content_type);
	assert_int_equal(a->body.len, b->body.len);
	if (a->body.len > 0)
		assert_memory_equal(a->body.data, b->body.data, a->body.len);
	assert_int_equal(a->nheaders, b->nheaders);
	for (i = 0; i < a->nheaders; i++) {
		assert_string_equal(a->headers[i].name, b->headers[i].name);
		assert_string_equal(a->headers[i].value, b->headers[i].value);
	}
}

/* A request to route rt: its method ("*": DELETE), path and header. */
struct made {
	struct http_request r;
	struct http_field fields[2];
	char path[256];
};

static void
make_request(struct made *m, struct engine *e, const struct route *rt)
{
	const char *hole = strstr(rt->path, "{}");

	memset(m, 0, sizeof(*m));
	if (hole != NULL)
		snprintf(m->path, sizeof(m->path), "%.*sx%s",
		    (int)(hole - rt->path), rt->path, hole + 2);
	else
		snprintf(m->path, sizeof(m->path), "%s", rt->path);
	m->r.app = e;
	m->r.method = strcmp(rt->method, "*") == 0 ? "DELETE" : rt->method;
	m->r.path = m->path;
	m->r.path_param = hole != NULL ? "x" : NULL;
	m->fields[0] = (struct http_field){ HTTP_FIELD_HEADER, "User-Agent",
		"unit" };
	m->r.nfields = 1;
	if (rt->header != NULL) {
		m->fields[1] = (struct http_field){ HTTP_FIELD_HEADER,
			rt->header, rt->value };
		m->r.nfields = 2;
	}
	m->r.fields = m->fields;
	snprintf(m->r.request_id, sizeof(m->r.request_id),
	    "01J00000000000000000000000");
	snprintf(m->r.client_ip, sizeof(m->r.client_ip), "192.0.2.1");
}

/*
 * The routes that spend no token, each for a reason: health (load
 * balancers), preflights (no work), stylesheets, the dialect's 404 and
 * 405, Cognito's unknown operation (answered before any work), and the
 * empty forms (no secret, no mail).  A new route that spends nothing must
 * be added here, on purpose.
 */
static const char *const unlimited[] = {
	"GET /healthz",
	"GET /readyz",
	"OPTIONS /password/reset/request",
	"OPTIONS /api/password/reset/request",
	"OPTIONS /password/reset/confirm",
	"OPTIONS /api/password/reset/confirm",
	"OPTIONS /login",
	"OPTIONS /api/login",
	"OPTIONS /users/me",
	"OPTIONS /api/users/me",
	"* /user_management/password_reset",
	"* /user_management/password_reset/confirm",
	"* /user_management/password_reset/send",
	"* /user_management/password_reset/{}",
	"* /user_management/users",
	"* /user_management/users/{}",
	"* /user_management/authenticate",
	"* /user_management/*",
	"* /events",
	"* /user_management/users/{}/sessions",
	"* /user_management/sessions/revoke",
	"* /user_management/sessions/logout",
	"POST /",
	"OPTIONS /",
	"GET /forgot",
	"GET /reset/code",
	"GET /assets/resetd.css",
	"GET /assets/project/{}",
	NULL,
};

static int
meant_unlimited(const struct route *rt)
{
	char name[256];
	size_t i;

	if (rt->header != NULL)
		return 0; /* a named operation does work */
	snprintf(name, sizeof(name), "%s %s", rt->method, rt->path);
	for (i = 0; unlimited[i] != NULL; i++)
		if (strcmp(unlimited[i], name) == 0)
			return 1;
	return 0;
}

/* Every route has a class, and spends nothing only when meant to. */
static void
test_every_route_has_a_class(void **state)
{
	const struct http_face *const *fp;
	const struct route *rt;
	int n = 0, nunlimited = 0, nfaces = 0;

	(void)state;
	assert_true(http_faces_valid(resetd_faces));
	for (fp = resetd_faces; *fp != NULL; fp++, nfaces++) {
		assert_non_null((*fp)->throttled);
		assert_non_null((*fp)->failed);
		for (rt = (*fp)->routes; rt->method != NULL; rt++, n++) {
			assert_non_null(rt->handler);
			assert_int_not_equal(rt->limit, 0);
			if (rt->limit == HTTP_UNLIMITED) {
				if (!meant_unlimited(rt))
					fail_msg("%s %s spends no token",
					    rt->method, rt->path);
				nunlimited++;
				continue;
			}
			assert_true(HTTP_LIMIT_CLASS(rt->limit) >= 0);
			assert_true(HTTP_LIMIT_CLASS(rt->limit) < RL__MAX);
			assert_int_equal(rt->run, RUN_WORKER);
		}
	}
	assert_int_equal(nfaces, 7); /* and the WorkOS unknown-path face */
	assert_int_equal(nunlimited,
	    (int)(sizeof(unlimited) / sizeof(unlimited[0]) - 1));
	assert_true(n > nunlimited);
}

/* The routes that forgot their limit before the tables: now they spend. */
static void
test_named_routes_spend(void **state)
{
	static const struct {
		const struct http_face *face;
		const char *method, *path;
		int cls;
	} want[] = {
		{ &xsolla_face, "GET", "/users/me", RL_API },
		{ &xsolla_face, "GET", "/api/users/me", RL_API },
		{ &pages_face, "GET", "/reset", RL_CONFIRM },
		{ &pages_face, "GET", "/reset/cancel", RL_CONFIRM },
	};
	const struct route *rt;
	size_t i;
	int found;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		found = 0;
		for (rt = want[i].face->routes; rt->method != NULL; rt++)
			if (strcmp(rt->method, want[i].method) == 0 &&
			    strcmp(rt->path, want[i].path) == 0) {
				assert_int_equal(rt->limit,
				    HTTP_LIMIT(want[i].cls));
				found = 1;
			}
		assert_true(found);
	}
}

/* A table with a route of no class is refused before serving. */
static void
test_route_without_class_refused(void **state)
{
	static const struct route routes[] = {
		{ "GET", "/x", NULL, NULL, health_live, RUN_WORKER, 0 },
		{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
	};
	static const struct route inline_limited[] = {
		{ "GET", "/x", NULL, NULL, health_live, RUN_INLINE,
		    HTTP_LIMIT(RL_API) },
		{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
	};
	struct http_face bad = health_face;
	const struct http_face *faces[] = { &bad, NULL };

	(void)state;
	bad.routes = routes;
	assert_false(http_faces_valid(faces));
	bad.routes = inline_limited;
	assert_false(http_faces_valid(faces));
	bad.routes = health_face.routes;
	bad.throttled = NULL;
	assert_false(http_faces_valid(faces));
}

/*
 * Every limited route, found through the tables and run: the hook is
 * asked once for the route's class, and when it refuses the answer is
 * exactly the face's 429 (the handler did not run before or after it);
 * when it fails, exactly the face's failure answer.
 */
static void
test_throttled_before_handler(void **state)
{
	struct fixture *f = *state;
	const struct http_face *const *fp, *found;
	const struct route *rt, *got;
	const struct http_app app = { f->e, test_throttle, NULL };
	struct http_response resp, want;
	struct made m;
	const char *param;
	size_t param_len;
	int mismatch, n = 0;

	for (fp = resetd_faces; *fp != NULL; fp++) {
		for (rt = (*fp)->routes; rt->method != NULL; rt++) {
			if (rt->limit == HTTP_UNLIMITED)
				continue;
			make_request(&m, f->e, rt);
			/* The tables lead to this very route. */
			found = NULL;
			param = NULL;
			got = http_route_find(resetd_faces, &m.r, &found,
			    &param, &param_len, &mismatch);
			assert_ptr_equal(got, rt);
			assert_ptr_equal(found, *fp);

			/* Refused: the face's 429, and nothing else. */
			hook = (struct hook_state){ .answer = 1, .wait = 42 };
			response_init(&resp);
			http_route_run(&app, *fp, rt, &m.r, &resp);
			assert_int_equal(hook.calls, 1);
			assert_int_equal(hook.cls, HTTP_LIMIT_CLASS(rt->limit));
			assert_int_equal(resp.status, 429);
			assert_non_null(header(&resp, "Retry-After"));
			assert_string_equal(header(&resp, "Retry-After"), "42");
			response_init(&want);
			(*fp)->throttled(&m.r, &want, 42);
			assert_same_answer(&resp, &want);
			response_clear(&want);
			response_clear(&resp);

			/* The hook failed: the face's failure answer. */
			hook = (struct hook_state){ .answer = -1 };
			response_init(&resp);
			http_route_run(&app, *fp, rt, &m.r, &resp);
			assert_int_equal(hook.calls, 1);
			/* 503, or a dialect's 500 (Cognito's InternalError). */
			assert_true(resp.status == 503 || resp.status == 500);
			response_init(&want);
			(*fp)->failed(&m.r, &want, ENGINE_UNAVAILABLE);
			assert_same_answer(&resp, &want);
			response_clear(&want);
			response_clear(&resp);
			n++;
		}
	}
	assert_true(n >= 15);
}

/* The engine's hook: a class it does not have is a failure, not a read. */
static void
test_engine_hook(void **state)
{
	struct fixture *f = *state;
	int64_t wait = 0;
	int failure = 0;

	assert_int_equal(engine_throttle_hook(f->e, "192.0.2.7", "unit",
			     RL_REQUEST, &wait, &failure),
	    0);
	assert_int_equal(engine_throttle_hook(f->e, "192.0.2.7", "unit",
			     RL__MAX, &wait, &failure),
	    -1);
	assert_int_equal(failure, ENGINE_UNAVAILABLE);
	failure = 0;
	assert_int_equal(engine_throttle_hook(f->e, "192.0.2.7", "unit", -1,
			     &wait, &failure),
	    -1);
	assert_int_equal(failure, ENGINE_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_has_a_class),
		cmocka_unit_test(test_named_routes_spend),
		cmocka_unit_test(test_route_without_class_refused),
		cmocka_unit_test(test_throttled_before_handler),
		cmocka_unit_test(test_engine_hook),
	};

	return cmocka_run_group_tests_name("faces", tests, setup, teardown);
}
