/*
 * The admin face: JSON over HTTP on the admin listener (admin_listen),
 * and GET /metrics.  Every request carries the bearer token first.
 *
 * The token is kept only as a BLAKE2b hash; what a request presents is
 * hashed the same way and the two hashes compared with sodium_memcmp, so
 * the comparison costs the same whatever the token's length or the place
 * of its first wrong byte, and a right and a wrong token take the same
 * path up to the answer.  Wrong tokens are counted per client address in
 * a token bucket (rate_admin_auth a minute): an address past it gets 429
 * for every request, right token or not, until the bucket refills, so a
 * guesser learns nothing from a right guess while held.
 *
 * Each handler decodes its input into the same core operation the CLI
 * calls (core/admin.c, core/credentials.c), so validation and audit
 * events are one implementation.  Errors are
 * {"error": {"code", "message", "field"?}}; unknown body fields are
 * refused with 400 naming the field.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "../config.h"
#include "../log.h"
#include "../util/metrics.h"
#include "api.h"

#define ADMIN_FALLBACK "{\"error\":{\"code\":\"internal\"," \
	"\"message\":\"the answer could not be encoded\"}}"
#define FAIL_SLOTS 1024
#define METRICS_MAX (4 * 1024 * 1024)

/* Wrong tokens of one client address: a token bucket. */
struct fail_slot {
	uint8_t		 key[16];	/* keyed hash of the address; 0: free */
	double		 tokens;
	int64_t		 at_ms;		/* when tokens was last refilled */
};

static struct {
	int			 ready;
	uint8_t			 token_hash[crypto_generichash_BYTES];
	double			 per_minute;
	pthread_mutex_t		 lock;
	uint8_t			 slot_key[crypto_shorthash_KEYBYTES];
	struct fail_slot	 slots[FAIL_SLOTS];
} adm = { .lock = PTHREAD_MUTEX_INITIALIZER };

void
admin_init(const struct config *cfg)
{
	const char *t = cfg->admin_token != NULL ? cfg->admin_token : "";

	crypto_generichash(adm.token_hash, sizeof(adm.token_hash),
	    (const unsigned char *)t, strlen(t), NULL, 0);
	crypto_shorthash_keygen(adm.slot_key);
	adm.per_minute = (double)cfg->rate_admin_auth;
	adm.ready = cfg->admin_token != NULL;
}

/* Answer an admin error: {"error": {code, message, field?}}. */
void
admin_error(struct http_response *resp, int status, const char *code,
    const char *message, const char *field)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	if (e != NULL && field != NULL)
		json_object_set_new(e, "field", json_string(field));
	api_json_take(resp, status, e != NULL ? json_pack("{s:o}", "error", e) :
	    NULL, ADMIN_FALLBACK);
	resp->outcome = code;
}

/* The bucket of addr, under adm.lock, refilled to now. */
static struct fail_slot *
fail_slot(const char *addr, int64_t now)
{
	uint8_t key[16];
	uint8_t h[crypto_shorthash_BYTES];
	struct fail_slot *s;
	double add;

	crypto_generichash(key, sizeof(key), (const unsigned char *)addr,
	    strlen(addr), adm.slot_key, sizeof(adm.slot_key));
	key[0] |= 1;	/* never all zero: that marks a free slot */
	crypto_shorthash(h, key, sizeof(key), adm.slot_key);
	s = &adm.slots[(h[0] | (size_t)h[1] << 8) % FAIL_SLOTS];
	if (memcmp(s->key, key, sizeof(key)) != 0) {
		/* A new address takes the slot; the old one is forgotten. */
		memcpy(s->key, key, sizeof(key));
		s->tokens = adm.per_minute;
		s->at_ms = now;
	}
	add = (double)(now - s->at_ms) * adm.per_minute / 60000.0;
	s->tokens = s->tokens + add > adm.per_minute ? adm.per_minute :
	    s->tokens + add;
	s->at_ms = now;
	return s;
}

/*
 * 1 when r carries the admin token and its address is not held back;
 * otherwise 0, with resp answered 401 or 429.
 */
static int
authorised(const struct http_request *r, struct http_response *resp)
{
	uint8_t h[crypto_generichash_BYTES];
	const char *auth = http_header(r, "Authorization");
	const char *tok = "";
	struct fail_slot *s;
	int64_t wait_s;
	int ok;

	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0)
		tok = auth + 7;
	crypto_generichash(h, sizeof(h), (const unsigned char *)tok,
	    strlen(tok), NULL, 0);
	ok = adm.ready && sodium_memcmp(h, adm.token_hash, sizeof(h)) == 0;
	pthread_mutex_lock(&adm.lock);
	s = fail_slot(r->client_ip, time_mono_ms());
	if (s->tokens < 1.0) {
		wait_s = (int64_t)((1.0 - s->tokens) * 60.0 / adm.per_minute) + 1;
		pthread_mutex_unlock(&adm.lock);
		metrics_inc(M_RATE_LIMITED_ADMIN);
		http_set_retry_after(resp, wait_s);
		admin_error(resp, 429, "rate_limited", "too many wrong tokens "
		    "from this address; try again later", NULL);
		return 0;
	}
	if (!ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&adm.lock);
	if (ok)
		return 1;
	metrics_inc(M_ADMIN_AUTH_FAILED);
	http_set_header(resp, "WWW-Authenticate", "Bearer realm=\"resetd-admin\"");
	admin_error(resp, 401, "unauthorized", "a valid bearer token is "
	    "required", NULL);
	return 0;
}

void
admin_not_found(const struct http_request *r, struct http_response *resp)
{
	if (!authorised(r, resp))
		return;
	admin_error(resp, 404, "not_found", "no such admin endpoint or method",
	    NULL);
}

void
admin_metrics(const struct http_request *r, struct http_response *resp)
{
	struct buf b;
	int64_t pending = 0, dead = 0;
	int rc;

	if (!authorised(r, resp))
		return;
	buf_init(&b, METRICS_MAX);
	rc = metrics_render(&b);
	if (rc == 0)
		rc = http_metrics_render(&b);
	if (rc == 0 && engine_outbox_depth(r->engine, &pending, &dead) ==
	    ENGINE_OK)
		rc = buf_printf(&b, "# HELP resetd_outbox_messages Messages in "
		    "the outbox, by state: pending (queued or to retry) and "
		    "dead.\n# TYPE resetd_outbox_messages gauge\n"
		    "resetd_outbox_messages{state=\"pending\"} %lld\n"
		    "resetd_outbox_messages{state=\"dead\"} %lld\n",
		    (long long)pending, (long long)dead);
	if (rc != 0) {
		buf_free(&b);
		admin_error(resp, 500, "internal", "the metrics did not fit",
		    NULL);
		return;
	}
	http_set_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	resp->outcome = "ok";
}
