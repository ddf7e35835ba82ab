/*
 * Liveness and readiness.  /healthz says the process answers; /readyz says
 * it can also read and write its database, which is what a load balancer
 * should ask: an instance whose writes fail (a full disk, a read-only
 * database) answers 503 until a probe write works again.
 */
#include "api.h"

/* The answer when another cannot be encoded. */
#define HEALTH_FALLBACK "{\"status\":\"error\"}"

void
health_live(const struct http_request *r, struct http_response *resp)
{
	(void)r;
	api_json_take(resp, 200, json_pack("{s:s}", "status", "ok"),
	    HEALTH_FALLBACK);
	resp->outcome = "ok";
}

void
health_ready(const struct http_request *r, struct http_response *resp)
{
	int ok = engine_ready(r->app) == ENGINE_OK;

	api_json_take(resp, ok ? 200 : 503,
	    json_pack("{s:s}", "status", ok ? "ready" : "database unavailable"),
	    HEALTH_FALLBACK);
	resp->outcome = ok ? "ok" : "unavailable";
}

/*
 * Health answers no refusal of its own: its routes spend nothing.  An
 * engine failure is the readiness answer's 503.
 */
static void
health_throttled(const struct http_request *r, struct http_response *resp,
    int64_t retry_after_s)
{
	(void)r;
	http_set_retry_after(resp, retry_after_s);
	api_json_take(resp, 429,
	    json_pack("{s:s}", "status", "too many requests"), HEALTH_FALLBACK);
	resp->outcome = "throttled";
}

static void
health_failed(const struct http_request *r, struct http_response *resp,
    int result)
{
	(void)r;
	(void)result;
	api_json_take(resp, 503,
	    json_pack("{s:s}", "status", "database unavailable"),
	    HEALTH_FALLBACK);
	resp->outcome = "unavailable";
}

/*
 * The routes: liveness answers on the polling thread; readiness may write
 * a probe, so it runs on a worker.  Neither is limited: load balancers
 * ask often, from few addresses.
 */
static const struct route health_routes[] = {
	{ "GET", "/healthz", NULL, NULL, health_live, RUN_INLINE,
	    HTTP_UNLIMITED },
	{ "GET", "/readyz", NULL, NULL, health_ready, RUN_WORKER,
	    HTTP_UNLIMITED },
	{ NULL, NULL, NULL, NULL, NULL, RUN_INLINE, 0 },
};

const struct http_face health_face = {
	.name = NULL, /* the log names no dialect */
	.routes = health_routes,
	.throttled = health_throttled,
	.failed = health_failed,
};
