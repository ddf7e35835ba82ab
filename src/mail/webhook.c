/*
 * Recording events, queueing their webhooks, and posting them (see
 * webhook.h for the wire format and the rules on where a post may go).
 *
 * A post is one libcurl exchange on an easy handle of its own: the
 * endpoints of many projects share the sender threads, and a connection
 * kept to one of them would carry nothing for the next.  libcurl is told
 * to take http and https only, to follow no redirect, to use no proxy
 * (the environment's http_proxy would otherwise choose where a project's
 * post goes), and to open its sockets through webhook_opensocket, which
 * sees each address it is about to connect to, after resolution.  That is
 * where private addresses are refused, so the check holds for the address
 * actually used, whatever the name resolved to when the endpoint was set.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../log.h"
#include "outbox.h"
#include "payload.h"
#include "transport.h"
#include "webhook.h"

#define EVENT_PREFIX "event_"
#define MSG_PREFIX "msg_"
#define SECRET_AD_KIND "webhook_secret"
#define ANSWER_KEEP 200 /* bytes of an answer kept for the error */
#define CONNECT_TIMEOUT_MS 5000

/* events */

/* 1 when the newline-separated list takes name ("*" takes every one). */
static int
list_takes(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *end;

	while (*p != '\0') {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if (((size_t)(end - p) == n && strncmp(p, name, n) == 0) ||
		    (end - p == 1 && *p == '*'))
			return 1;
		p = *end == '\n' ? end + 1 : end;
	}
	return 0;
}

/* The event's body as posted and listed; NULL when it is too long. */
static char *
event_body(const char *id, const char *name, const char *data, int64_t now)
{
	struct buf b;
	char *pub = id_prefixed(EVENT_PREFIX, id);
	char when[ISO8601_LEN + 1];
	int rc;

	time_iso8601(now, when);
	buf_init(&b, WEBHOOK_BODY_MAX);
	rc = buf_puts(&b, "{\"object\":\"event\",\"id\":");
	if (rc == 0)
		rc = str_json_string(&b, pub);
	if (rc == 0)
		rc = buf_puts(&b, ",\"event\":");
	if (rc == 0)
		rc = str_json_string(&b, name);
	if (rc == 0)
		rc = buf_printf(&b, ",\"data\":%s,\"created_at\":", data);
	if (rc == 0)
		rc = str_json_string(&b, when);
	if (rc == 0)
		rc = buf_puts(&b, "}");
	free(pub);
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

int
webhook_emit(struct db_conn *c, const uint8_t *outbox_key,
    const char *project_id, const char *name, const char *data, int64_t now,
    int64_t not_before, int *queued)
{
	struct event_row ev;
	struct store_list eps = { NULL, 0 };
	char id[UUID_STRLEN + 1];
	char *body = NULL;
	size_t i;
	int rc;

	id_new_ordered(id);
	ev = (struct event_row){ id, (char *)project_id, (char *)name,
		(char *)data, now };
	rc = store_event_insert(c, &ev);
	if (rc == STORE_OK)
		rc = store_webhook_list(c, project_id, &eps);
	if (rc != STORE_OK)
		return rc;
	for (i = 0; i < eps.n && rc == STORE_OK; i++) {
		const struct webhook_endpoint *w = eps.items[i];
		struct mail_var vars[] = { { "body", NULL }, { NULL, NULL } };

		if (!list_takes(w->events, name))
			continue;
		if (body == NULL)
			body = event_body(id, name, data, now);
		if (body == NULL) {
			/* The data is the engine's own, and small. */
			log_error("webhook: event %s of %s is too long to post",
			    name, project_id);
			rc = DB_ERROR;
			break;
		}
		vars[0].value = body;
		rc = outbox_queue(c,
		    &(struct outbox_item){
			.project_id = project_id,
			.kind = WEBHOOK_KIND,
			.to = w->id,
			.vars = vars,
			.key = outbox_key,
			.not_before = not_before,
		    },
		    now);
		if (rc == STORE_OK && queued != NULL)
			(*queued)++;
	}
	free(body);
	store_list_free(&eps, (void (*)(void *))webhook_endpoint_free);
	return rc;
}

/* secrets */

char *
webhook_secret_seal(const uint8_t *key, const char *endpoint_id,
    const char *project_id, const char *secret)
{
	return payload_seal(key,
	    &(struct payload_ad){ endpoint_id, project_id, SECRET_AD_KIND, "" },
	    secret);
}

char *
webhook_secret_open(const uint8_t *key, const char *endpoint_id,
    const char *project_id, const char *sealed)
{
	char *secret = NULL;

	/* Only sealed text: payload_open takes bare JSON as older mail. */
	if (sealed == NULL || !str_has_prefix(sealed, "v1:"))
		return NULL;
	if (payload_open(key,
		&(struct payload_ad){ endpoint_id, project_id, SECRET_AD_KIND,
		    "" },
		sealed, &secret) != 0)
		return NULL;
	return secret;
}

/* addresses */

static int
v4_private(const uint8_t a[4])
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64) || /* 100.64/10 */
	    (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168) ||
	    (a[0] == 192 && a[1] == 0 && a[2] == 0) || /* 192.0.0/24 */
	    (a[0] == 198 && (a[1] & 0xfe) == 18) ||    /* 198.18/15 */
	    a[0] >= 224;			       /* multicast, reserved */
}

int
webhook_addr_private(const struct sockaddr *sa)
{
	const uint8_t *b;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (sa->sa_family == AF_INET)
		return v4_private((const uint8_t *)&(
		    (const struct sockaddr_in *)(const void *)sa)
				      ->sin_addr);
	if (sa->sa_family != AF_INET6)
		return 1;
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_private(b + 12);
	/* ::, ::1 and the rest of ::/96 (IPv4-compatible) */
	if (memcmp(b, mapped, 10) == 0 && b[10] == 0 && b[11] == 0)
		return 1;
	return (b[0] & 0xfe) == 0xfc ||		       /* fc00::/7 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* fec0::/10 */
	    b[0] == 0xff;			       /* multicast */
}

int
webhook_url_check(const char *url, int allow_private, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
	struct addrinfo hints, *res = NULL, *ai;
	int rc = -1;

	if (u == NULL) {
		snprintf(err, errlen, "cannot parse URLs now");
		return -1;
	}
	if (strlen(url) > WEBHOOK_URL_MAX ||
	    !str_is_clean_utf8(url, strlen(url))) {
		snprintf(err, errlen, "the URL is too long or not text");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		snprintf(err, errlen, "not an absolute URL with a host");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "the scheme must be http or https");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_USER, &user, 0);
	(void)curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	if (user != NULL || pass != NULL) {
		snprintf(err, errlen, "the URL must not hold credentials");
		goto out;
	}
	rc = 0;
	if (allow_private)
		goto out;
	/* A literal address, or a name as it resolves now. */
	if (host[0] == '[') {
		size_t n = strlen(host);

		memmove(host, host + 1, n - 1);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (str_case_equal(host, "localhost") ||
	    (strlen(host) > 10 &&
		str_case_equal(host + strlen(host) - 10, ".localhost")))
		rc = -1;
	else if (getaddrinfo(host, NULL, &hints, &res) == 0)
		for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next)
			if (webhook_addr_private(ai->ai_addr))
				rc = -1;
	if (rc == -1)
		snprintf(err, errlen,
		    "the host is a private or loopback "
		    "address; the project does not allow private targets");
out:
	if (res != NULL)
		freeaddrinfo(res);
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return rc;
}

/* posting */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

#define PRIVATE_REFUSED \
	"the host resolves to a private or loopback address; the project " \
	"does not allow private targets"

/*
 * What every outbound POST (a webhook post, a call to an app) shares:
 * the private-address check at connect.
 */
struct xfer {
	int allow_private;
	int refused; /* a private address was refused */
};

static curl_socket_t
xfer_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;

	(void)purpose;
	if (!x->allow_private && webhook_addr_private(&a->addr)) {
		x->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* A libcurl handle, or NULL when libcurl cannot start. */
static CURL *
xfer_handle(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
}

/*
 * Set curl up to POST body to url with headers h under the rules every
 * outbound POST keeps: http or https only, no redirect followed, no
 * proxy, the connect and whole-exchange timeouts, TLS verified, private
 * addresses checked at connect through x, the answer handed to write
 * with wdata.  CURLE_OK when every option took.
 */
static CURLcode
xfer_setup(CURL *curl, const char *url, const char *body, int64_t timeout_ms,
    struct curl_slist *h, struct xfer *x, curl_write_callback write,
    void *wdata)
{
	int set = 0;

	set |= curl_easy_setopt(curl, CURLOPT_URL, url);
	set |= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	set |= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	set |= curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	set |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	set |= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms :
						     CONNECT_TIMEOUT_MS));
	set |= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	set |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	set |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	set |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	set |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	set |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(body));
	set |= curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION,
	    xfer_opensocket);
	set |= curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, x);
	set |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
	set |= curl_easy_setopt(curl, CURLOPT_WRITEDATA, wdata);
	return set == 0 ? CURLE_OK : CURLE_FAILED_INIT;
}

struct post_state {
	const struct webhook_post *p;
	struct xfer x;
	char answer[ANSWER_KEEP + 1];
	size_t answer_len;
};

/* Keep the start of the answer for the error text; drop the rest. */
static size_t
webhook_write(char *data, size_t size, size_t n, void *arg)
{
	struct post_state *st = arg;
	size_t len = size * n, take;

	take = ANSWER_KEEP - st->answer_len;
	if (take > len)
		take = len;
	memcpy(st->answer + st->answer_len, data, take);
	st->answer_len += take;
	return len;
}

static int
webhook_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct post_state *st = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return st->p->cancel != NULL &&
	    __atomic_load_n(st->p->cancel, __ATOMIC_RELAXED) != 0;
}

int
webhook_sign(const char *secret, const char *id, const char *ts,
    const char *body, char *out, size_t outlen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t key[256], mac[crypto_auth_hmacsha256_BYTES];
	const char *b64;
	size_t keylen;
	char enc[sodium_base64_ENCODED_LEN(sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL)];

	if (!str_has_prefix(secret, WEBHOOK_SECRET_PREFIX))
		return -1;
	b64 = secret + strlen(WEBHOOK_SECRET_PREFIX);
	if (sodium_base642bin(key, sizeof(key), b64, strlen(b64), NULL, &keylen,
		NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    keylen == 0)
		return -1;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	sodium_bin2base64(enc, sizeof(enc), mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, outlen, "v1,%s", enc);
	return 0;
}

int
webhook_send(const struct webhook_post *p, long *status, char *err,
    size_t errlen)
{
	struct post_state st;
	struct curl_slist *h = NULL;
	char ts[24], sig[128], line[256], check[WEBHOOK_ERROR_MAX];
	CURL *curl = NULL;
	CURLcode cc;
	int rc = TRANSPORT_PERMANENT, set = 0;

	*status = 0;
	memset(&st, 0, sizeof(st));
	st.p = p;
	st.x.allow_private = p->allow_private;
	snprintf(ts, sizeof(ts), "%lld", (long long)(p->now_ms / 1000));
	if (webhook_sign(p->secret, p->msg_id, ts, p->body, sig, sizeof(sig)) !=
	    0) {
		snprintf(err, errlen, "the endpoint's secret is malformed");
		return TRANSPORT_PERMANENT;
	}
	/* Scheme and credentials again: the row may predate a rule. */
	if (webhook_url_check(p->url, 1, check, sizeof(check)) != 0) {
		snprintf(err, errlen, "%s", check);
		return TRANSPORT_PERMANENT;
	}
	if ((curl = xfer_handle()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return TRANSPORT_DEFERRED;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(line, sizeof(line), "webhook-id: %s", p->msg_id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %s", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "webhook-signature: %s", sig);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "User-Agent: resetd-webhooks");
	h = curl_slist_append(h, "Expect:");
	set |= xfer_setup(curl, p->url, p->body, p->timeout_ms, h, &st.x,
	    webhook_write, &st);
	set |= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	set |= curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
	    webhook_progress);
	set |= curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &st);
	if (set != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the post");
		goto out;
	}
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		rc = TRANSPORT_DEFERRED;
		snprintf(err, errlen, "%s",
		    st.x.refused ? PRIVATE_REFUSED : curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300) {
		rc = 0;
		snprintf(err, errlen, "%ld", *status);
		goto out;
	}
	rc = TRANSPORT_DEFERRED;
	st.answer[st.answer_len] = '\0';
	{
		char clean[ANSWER_KEEP + 4];

		(void)str_utf8_clean(clean, sizeof(clean), st.answer,
		    st.answer_len);
		snprintf(err, errlen, "the endpoint answered %ld: %s", *status,
		    clean);
	}
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return rc;
}

/* calls */

struct call_state {
	struct webhook_answer *out;
	struct xfer x;
	int oversize; /* more than WEBHOOK_ANSWER_MAX bytes */
};

/* Keep the answer; one byte past the cap ends the exchange. */
static size_t
call_write(char *data, size_t size, size_t n, void *arg)
{
	struct call_state *st = arg;
	size_t len = size * n;

	if (len > WEBHOOK_ANSWER_MAX - st->out->len) {
		st->oversize = 1;
		return 0;
	}
	memcpy(st->out->body + st->out->len, data, len);
	st->out->len += len;
	return len;
}

int
webhook_call(const struct webhook_call *c, struct webhook_answer *out,
    char *err, size_t errlen)
{
	struct call_state st;
	struct curl_slist *h = NULL;
	char line[WEBHOOK_URL_MAX + 64], check[WEBHOOK_ERROR_MAX];
	char *ctype = NULL;
	CURL *curl = NULL;
	CURLcode cc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.out = out;
	st.x.allow_private = c->allow_private;
	if (c->url == NULL ||
	    webhook_url_check(c->url, 1, check, sizeof(check)) != 0) {
		snprintf(err, errlen, "%s",
		    c->url == NULL ? "no URL is set" : check);
		return -1;
	}
	if ((curl = xfer_handle()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	snprintf(line, sizeof(line), "User-Agent: %s",
	    c->user_agent != NULL ? c->user_agent : "resetd");
	h = curl_slist_append(h, line);
	if (c->bearer != NULL) {
		/* As long as the token is: it names the URL (its audience). */
		size_t n = strlen(c->bearer) + sizeof("Authorization: Bearer ");
		char *auth = xmalloc(n);

		snprintf(auth, n, "Authorization: Bearer %s", c->bearer);
		h = curl_slist_append(h, auth);
		sodium_memzero(auth, n);
		free(auth);
	}
	h = curl_slist_append(h, "Expect:");
	if (xfer_setup(curl, c->url, c->body, c->timeout_ms, h, &st.x,
		call_write, &st) != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the call");
		goto out;
	}
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		if (st.x.refused)
			snprintf(err, errlen, "%s", PRIVATE_REFUSED);
		else if (st.oversize)
			snprintf(err, errlen,
			    "the answer is longer than %d bytes",
			    WEBHOOK_ANSWER_MAX);
		else
			snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype) ==
		CURLE_OK &&
	    ctype != NULL)
		snprintf(out->content_type, sizeof(out->content_type), "%s",
		    ctype);
	out->body[out->len] = '\0';
	rc = 0;
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return rc;
}
