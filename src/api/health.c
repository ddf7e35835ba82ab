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
	int ok = engine_ready(r->engine) == ENGINE_OK;

	api_json_take(resp, ok ? 200 : 503, json_pack("{s:s}", "status",
	    ok ? "ready" : "database unavailable"), HEALTH_FALLBACK);
	resp->outcome = ok ? "ok" : "unavailable";
}
