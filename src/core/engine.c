/*
 * The engine's state: configuration, database, derived keys and the
 * password hasher.  Keys are derived from one server secret with
 * libsodium's KDF, one subkey per use, so a token-hash key never signs a
 * session and the other way round.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "../mail/template.h"
#include "engine_internal.h"
#include "serverkey.h"

#define KDF_CONTEXT "resetd01"
#define SUBKEY_TOKEN_HASH 1
#define SUBKEY_SESSION \
	2 /* retired: the one session key, before
				   each project had its own keys */
#define SUBKEY_SEAL 3
/*
 * A subkey's number never changes once used: what it keyed (audit MACs,
 * sealed secrets, shared rows) outlives an upgrade.  New uses take a
 * number no other use has had.
 */
#define SUBKEY_AUDIT 4
#define SUBKEY_PAGE 16
#define SUBKEY_CANCEL 17
#define SUBKEY_BACKOFF 32
#define SUBKEY_RATE 33
#define SUBKEY_AWS 45	       /* seals API keys' AWS secret access keys */
#define SUBKEY_CURSOR 55       /* the admin API's paging cursors */
#define SUBKEY_WEBHOOK 50      /* seals webhook endpoints' secrets */
#define SUBKEY_SIGNING_SEAL 34 /* signing keys at rest */
#define SUBKEY_REFRESH 35      /* refresh token hashes */
#define SUBKEY_CHALLENGE 36    /* sign-in challenges */
/* The outbox's key has a context of its own. */
#define OUTBOX_KDF_CONTEXT "rdoutbox"
#define OUTBOX_SUBKEY 1

static const char *const result_names[ENGINE__MAX] = {
	"ok",			    /* ENGINE_OK */
	"project_unknown",	    /* ENGINE_PROJECT_UNKNOWN */
	"bad_input",		    /* ENGINE_BAD_INPUT */
	"login_url_refused",	    /* ENGINE_LOGIN_URL_REFUSED */
	"secret_invalid",	    /* ENGINE_SECRET_INVALID */
	"secret_expired",	    /* ENGINE_SECRET_EXPIRED */
	"password_too_short",	    /* ENGINE_PASSWORD_TOO_SHORT */
	"password_too_long",	    /* ENGINE_PASSWORD_TOO_LONG */
	"password_invalid_text",    /* ENGINE_PASSWORD_INVALID_TEXT */
	"credentials_invalid",	    /* ENGINE_CREDENTIALS_INVALID */
	"user_disabled",	    /* ENGINE_USER_DISABLED */
	"session_invalid",	    /* ENGINE_SESSION_INVALID */
	"user_unknown",		    /* ENGINE_USER_UNKNOWN */
	"conflict",		    /* ENGINE_CONFLICT */
	"unavailable",		    /* ENGINE_UNAVAILABLE */
	"replayed",		    /* ENGINE_REPLAYED */
	"idempotency_mismatch",	    /* ENGINE_IDEMPOTENCY_MISMATCH */
	"code_mismatch",	    /* ENGINE_CODE_MISMATCH */
	"code_locked",		    /* ENGINE_CODE_LOCKED */
	"rate_limited",		    /* ENGINE_RATE_LIMITED */
	"throttled",		    /* ENGINE_THROTTLED */
	"password_weak",	    /* ENGINE_PASSWORD_WEAK */
	"password_change_required", /* ENGINE_PASSWORD_CHANGE_REQUIRED */
	"password_reset_required",  /* ENGINE_PASSWORD_RESET_REQUIRED */
	"storage_refused",	    /* ENGINE_STORAGE_REFUSED */
};

const char *
engine_result_name(enum engine_result r)
{
	if (r < 0 || r >= ENGINE__MAX)
		abort();
	return result_names[r];
}

static void
rules_of(const struct config *, struct ratelimit_rule[RS__MAX][RL__MAX]);
static void tunables_of(struct engine *, const struct config *);
static void sender_set(struct engine *, const struct config *);
static struct engine_sender *sender_drop_locked(struct engine_sender *);
static void sender_free(struct engine_sender *);

struct engine *
engine_new(const struct config *cfg, struct db *db)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	struct ratelimit_rule rules[RS__MAX][RL__MAX];
	uint8_t master[32];

	e->cfg = cfg;
	e->db = db;
	pthread_mutex_init(&e->floor_lock, NULL);
	pthread_mutex_init(&e->budget_lock, NULL);
	pthread_mutex_init(&e->projects_lock, NULL);
	pthread_mutex_init(&e->live_lock, NULL);
	pthread_mutex_init(&e->keys_lock, NULL);
	if (serverkey_load(cfg, db, master) == -1)
		goto fail;
	crypto_kdf_derive_from_key(e->token_key, sizeof(e->token_key),
	    SUBKEY_TOKEN_HASH, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->seal_key, sizeof(e->seal_key),
	    SUBKEY_SEAL, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->page_key, sizeof(e->page_key),
	    SUBKEY_PAGE, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->cancel_key, sizeof(e->cancel_key),
	    SUBKEY_CANCEL, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->audit_key, sizeof(e->audit_key),
	    SUBKEY_AUDIT, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->outbox_key, sizeof(e->outbox_key),
	    OUTBOX_SUBKEY, OUTBOX_KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->backoff_key, sizeof(e->backoff_key),
	    SUBKEY_BACKOFF, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->rate_key, sizeof(e->rate_key),
	    SUBKEY_RATE, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->aws_key, sizeof(e->aws_key), SUBKEY_AWS,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->cursor_key, sizeof(e->cursor_key),
	    SUBKEY_CURSOR, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->webhook_key, sizeof(e->webhook_key),
	    SUBKEY_WEBHOOK, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->signing_seal_key,
	    sizeof(e->signing_seal_key), SUBKEY_SIGNING_SEAL, KDF_CONTEXT,
	    master);
	crypto_kdf_derive_from_key(e->refresh_key, sizeof(e->refresh_key),
	    SUBKEY_REFRESH, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(e->challenge_key, sizeof(e->challenge_key),
	    SUBKEY_CHALLENGE, KDF_CONTEXT, master);
	sodium_memzero(master, sizeof(master));
	rules_of(cfg, rules);
	tunables_of(e, cfg);
	sender_set(e, cfg);
	e->rate_shared = strcmp(cfg->rate_limit_store, "database") == 0;
	e->ratelimit = ratelimit_new(e->rate_shared ?
		0 :
		(size_t)cfg->rate_ip_table_size,
	    rules);
	e->hasher = hasher_new((uint64_t)cfg->argon2_opslimit,
	    (size_t)cfg->argon2_memory_kib, (int)cfg->hash_concurrency);
	if (e->hasher == NULL)
		goto fail;
	return e;
fail:
	sodium_memzero(master, sizeof(master));
	engine_free(e);
	return NULL;
}

/* The per-address rules cfg sets. */
static void
rules_of(const struct config *cfg,
    struct ratelimit_rule rules[RS__MAX][RL__MAX])
{
	_Static_assert(RL__MAX ==
		sizeof(cfg->rate_ip6_56) / sizeof(cfg->rate_ip6_56[0]),
	    "one /56 limit per class");
	memcpy(rules,
	    (const struct ratelimit_rule[RS__MAX][RL__MAX]){
		/* RS_HOST */
		{ { cfg->rate_ip_request, cfg->rate_ip_request_window },
		    { cfg->rate_ip_confirm, cfg->rate_ip_confirm_window },
		    { cfg->rate_ip_login, cfg->rate_ip_login_window },
		    { cfg->rate_ip_api, cfg->rate_ip_api_window } },
		/* RS_NET56 */
		{ { cfg->rate_ip6_56[RL_REQUEST], cfg->rate_ip_request_window },
		    { cfg->rate_ip6_56[RL_CONFIRM],
			cfg->rate_ip_confirm_window },
		    { cfg->rate_ip6_56[RL_LOGIN], cfg->rate_ip_login_window },
		    { cfg->rate_ip6_56[RL_API], cfg->rate_ip_api_window } },
		/* RS_NET48 */
		{ { cfg->rate_ip6_48[RL_REQUEST], cfg->rate_ip_request_window },
		    { cfg->rate_ip6_48[RL_CONFIRM],
			cfg->rate_ip_confirm_window },
		    { cfg->rate_ip6_48[RL_LOGIN], cfg->rate_ip_login_window },
		    { cfg->rate_ip6_48[RL_API], cfg->rate_ip_api_window } },
	    },
	    sizeof(struct ratelimit_rule[RS__MAX][RL__MAX]));
}

/* The settings a reload may change, from cfg; each stored atomically. */
static void
tunables_of(struct engine *e, const struct config *cfg)
{
	__atomic_store_n(&e->login_backoff_after, cfg->login_backoff_after,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&e->login_backoff_base, cfg->login_backoff_base,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&e->login_backoff_max, cfg->login_backoff_max,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&e->reset_floor_ms, cfg->reset_floor_ms,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&e->reset_jitter_ms, cfg->reset_jitter_ms,
	    __ATOMIC_RELAXED);
}

void
engine_reload(struct engine *e, const struct config *cfg)
{
	struct ratelimit_rule rules[RS__MAX][RL__MAX];

	rules_of(cfg, rules);
	ratelimit_set_rules(e->ratelimit, rules);
	tunables_of(e, cfg);
	sender_set(e, cfg);
}

void
engine_free(struct engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < sizeof(e->projects) / sizeof(e->projects[0]); i++)
		project_free(e->projects[i].project);
	pthread_mutex_destroy(&e->projects_lock);
	template_set_drop(e->templates);
	sender_free(sender_drop_locked(e->sender));
	pthread_mutex_destroy(&e->live_lock);
	keyring_free(e);
	pthread_mutex_destroy(&e->keys_lock);
	hasher_free(e->hasher);
	ratelimit_free(e->ratelimit);
	pthread_mutex_destroy(&e->floor_lock);
	pthread_mutex_destroy(&e->budget_lock);
	sodium_memzero(e, sizeof(*e));
	free(e);
}

void
engine_set_mail_waker(struct engine *e, void (*fn)(void *), void *arg)
{
	e->wake_mail = fn;
	e->wake_mail_arg = arg;
}

void
engine_set_templates(struct engine *e, const struct template_set *ts)
{
	const struct template_set *old;

	template_set_hold(ts);
	pthread_mutex_lock(&e->live_lock);
	old = e->templates;
	e->templates = ts;
	pthread_mutex_unlock(&e->live_lock);
	template_set_drop(old);
}

const struct template_set *
engine_templates_hold(struct engine *e)
{
	const struct template_set *ts;

	pthread_mutex_lock(&e->live_lock);
	ts = template_set_hold(e->templates);
	pthread_mutex_unlock(&e->live_lock);
	return ts;
}

void
engine_mail_queued(struct engine *e)
{
	if (e->wake_mail != NULL)
		e->wake_mail(e->wake_mail_arg);
}

const uint8_t *
engine_webhook_key(const struct engine *e)
{
	return e->webhook_key;
}

const uint8_t *
engine_outbox_key(const struct engine *e)
{
	return e->outbox_key;
}

enum engine_result
tx_result(int rc, enum engine_result outcome)
{
	if (rc == 0)
		return ENGINE_OK;
	if (rc == TX_REFUSED && outcome != ENGINE_OK)
		return outcome;
	if (rc > 0)
		log_error("engine: a transaction ended with %d, not a result "
			  "of its own",
		    rc);
	return ENGINE_UNAVAILABLE;
}

/* The project's own sender where it has one, else the configured one. */
static void
sender_pick(const char *cfg_addr, const char *cfg_name, const struct project *p,
    const char **addr, const char **name)
{
	*addr = p != NULL && p->mail_from != NULL ? p->mail_from : cfg_addr;
	*name = p != NULL && p->mail_from_name != NULL ? p->mail_from_name :
							 cfg_name;
}

void
engine_mail_sender(const struct config *cfg, const struct project *p,
    const char **addr, const char **name)
{
	sender_pick(cfg->mail_from, cfg->mail_from_name, p, addr, name);
}

void
engine_sender_pick(const struct engine_sender *s, const struct project *p,
    const char **addr, const char **name)
{
	sender_pick(s->addr, s->name, p, addr, name);
}

static struct engine_sender *
sender_new(const struct config *cfg)
{
	struct engine_sender *s = xcalloc(1, sizeof(*s));

	s->refs = 1;
	s->addr = xstrdup(cfg->mail_from);
	s->name = xstrdup(cfg->mail_from_name);
	return s;
}

/* Under live_lock: one reference less; the last frees once unlocked. */
static struct engine_sender *
sender_drop_locked(struct engine_sender *s)
{
	if (s == NULL || --s->refs > 0)
		return NULL;
	return s;
}

static void
sender_free(struct engine_sender *s)
{
	if (s == NULL)
		return;
	free(s->addr);
	free(s->name);
	free(s);
}

/* Put cfg's sender in force; the one it replaces goes with its last user. */
static void
sender_set(struct engine *e, const struct config *cfg)
{
	struct engine_sender *s = sender_new(cfg), *old;

	pthread_mutex_lock(&e->live_lock);
	old = sender_drop_locked(e->sender);
	e->sender = s;
	pthread_mutex_unlock(&e->live_lock);
	sender_free(old);
}

const struct engine_sender *
engine_sender_hold(struct engine *e)
{
	struct engine_sender *s;

	pthread_mutex_lock(&e->live_lock);
	s = e->sender;
	s->refs++;
	pthread_mutex_unlock(&e->live_lock);
	return s;
}

void
engine_sender_drop(struct engine *e, const struct engine_sender *cs)
{
	struct engine_sender *s = (struct engine_sender *)cs, *last;

	pthread_mutex_lock(&e->live_lock);
	last = sender_drop_locked(s);
	pthread_mutex_unlock(&e->live_lock);
	sender_free(last);
}

void
engine_page_mac(const struct engine *e, const char *purpose, const char *value,
    char out[ENGINE_MAC_LEN + 1])
{
	secret_mac(e->page_key, purpose, value, out);
}

int
engine_mac_equal(const char *a, const char *b)
{
	return secret_hash_equal(a, b);
}

const struct config *
engine_config(const struct engine *e)
{
	return e->cfg;
}

int64_t
engine_now(struct engine *e)
{
	return db_now(e->db);
}

enum engine_result
engine_ping(struct engine *e)
{
	struct db_conn *c = db_acquire(e->db);
	int rc;

	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_ping(c);
	db_release(e->db, c);
	return rc == STORE_OK ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

enum engine_result
engine_ready(struct engine *e)
{
	if (engine_ping(e) != ENGINE_OK)
		return ENGINE_UNAVAILABLE;
	return store_write_check(e->db) == STORE_OK ? ENGINE_OK :
						      ENGINE_UNAVAILABLE;
}

/*
 * Projects are read on every public request and never change once
 * created, so each one read is kept for PROJECT_CACHE_MS and shared: the
 * caller's project_free lets go of its hold.  The time limit bounds how
 * long a project edited by hand in the database goes unseen.
 */
#define PROJECT_CACHE_MS 10000

enum engine_result
engine_project(struct engine *e, const char *id, struct project **out)
{
	struct project_slot *slot;
	struct project *p = NULL, *old;
	struct db_conn *c;
	int64_t now = time_mono_ms();
	int rc;

	if (!id_is_uuid(id))
		return ENGINE_PROJECT_UNKNOWN;
	slot = &e->projects[str_hash(id) %
	    (sizeof(e->projects) / sizeof(e->projects[0]))];
	pthread_mutex_lock(&e->projects_lock);
	if (slot->project != NULL && strcmp(slot->project->id, id) == 0 &&
	    now - slot->fetched_ms < PROJECT_CACHE_MS)
		p = project_hold(slot->project);
	pthread_mutex_unlock(&e->projects_lock);
	if (p != NULL) {
		*out = p;
		return ENGINE_OK;
	}
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_project_get(c, id, &p);
	db_release(e->db, c);
	if (rc == STORE_NOT_FOUND)
		return ENGINE_PROJECT_UNKNOWN;
	if (rc != STORE_OK)
		return ENGINE_UNAVAILABLE;
	pthread_mutex_lock(&e->projects_lock);
	old = slot->project;
	slot->project = project_hold(p);
	slot->fetched_ms = now;
	pthread_mutex_unlock(&e->projects_lock);
	project_free(old);
	*out = p;
	return ENGINE_OK;
}

const char **
engine_list_split(const char *list)
{
	const char **out;
	char *copy, *p, *nl;
	size_t n = 2, i = 1;

	/* Slot 0 keeps the copy the strings point into, for the free. */
	copy = xstrdup(list != NULL ? list : "");
	for (p = copy; *p != '\0'; p++)
		n += *p == '\n';
	out = xcalloc(n + 1, sizeof(*out));
	out[0] = copy;
	for (p = copy; p != NULL && *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		out[i++] = p;
	}
	return out + 1;
}

void
engine_list_free(const char **list)
{
	if (list == NULL)
		return;
	free((char *)list[-1]);
	free(list - 1);
}

void
engine_project_forget(struct engine *e, const char *id)
{
	struct project_slot *slot;
	struct project *old = NULL;

	slot = &e->projects[str_hash(id) %
	    (sizeof(e->projects) / sizeof(e->projects[0]))];
	pthread_mutex_lock(&e->projects_lock);
	if (slot->project != NULL && strcmp(slot->project->id, id) == 0) {
		old = slot->project;
		slot->project = NULL;
	}
	pthread_mutex_unlock(&e->projects_lock);
	project_free(old);
}

/* 1 when line-separated list holds item exactly. */
int
engine_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;
	const char *eol;

	while (p != NULL && *p != '\0') {
		eol = strchr(p, '\n');
		if ((size_t)((eol ? eol : p + strlen(p)) - p) == n &&
		    strncmp(p, item, n) == 0)
			return 1;
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

int
engine_login_url_allowed(const struct project *p, const char *url)
{
	return engine_list_has(p->callback_urls, url);
}

/* Write the origin (scheme://host[:port]) of url into out. */
static int
url_origin(const char *url, char *out, size_t outlen)
{
	const char *host = strstr(url, "://");
	size_t n;

	if (host == NULL)
		return -1;
	n = strcspn(host + 3, "/?#");
	n += (size_t)(host + 3 - url);
	if (n + 1 > outlen)
		return -1;
	memmove(out, url, n);
	out[n] = '\0';
	return 0;
}

int
engine_origin_allowed(const struct project *p, const char *origin)
{
	char o[512];
	const char *line, *eol;
	size_t n;

	if (origin == NULL || *origin == '\0')
		return 0;
	if (engine_list_has(p->allowed_origins, origin))
		return 1;
	for (line = p->callback_urls; line != NULL && *line != '\0';
	     line = eol ? eol + 1 : NULL) {
		eol = strchr(line, '\n');
		n = eol ? (size_t)(eol - line) : strlen(line);
		if (n >= sizeof(o))
			continue;
		memcpy(o, line, n);
		o[n] = '\0';
		if (url_origin(o, o, sizeof(o)) == 0 && strcmp(o, origin) == 0)
			return 1;
	}
	return 0;
}

enum engine_result
engine_throttle(struct engine *e, const struct request_context *ctx,
    enum ratelimit_class cls, int64_t *retry_after_s)
{
	struct addr a;
	int64_t wait;
	int first;

	if (ctx == NULL || ctx->client_ip == NULL ||
	    addr_parse(ctx->client_ip, strlen(ctx->client_ip), &a) == -1)
		return ENGINE_OK;
	if (e->rate_shared)
		wait = ratelimit_shared_take(e, &a, cls, &first);
	else
		wait = ratelimit_take(e->ratelimit, &a, cls, time_mono_ms(),
		    &first);
	if (wait == 0)
		return ENGINE_OK;
	metrics_inc((enum metric)(M_RATE_LIMITED_REQUEST + cls));
	/* Once per run of refusals: a flood must not become a write flood. */
	if (first)
		audit_record(e, ctx, NULL, AUDIT_RATE_LIMITED, NULL,
		    ratelimit_class_name(cls));
	*retry_after_s = wait;
	return ENGINE_THROTTLED;
}

int
engine_throttle_hook(void *e, const char *client_ip, const char *user_agent,
    int cls, int64_t *retry_after_s, int *failure)
{
	struct request_context ctx = { client_ip, user_agent };
	enum engine_result res;

	if (cls < 0 || cls >= RL__MAX) {
		log_error("engine: no rate-limit class %d", cls);
		*failure = ENGINE_UNAVAILABLE;
		return -1;
	}
	res = engine_throttle(e, &ctx, (enum ratelimit_class)cls,
	    retry_after_s);
	if (res == ENGINE_OK)
		return 0;
	if (res == ENGINE_THROTTLED)
		return 1;
	*failure = res;
	return -1;
}

void
engine_wake_hook(void *e)
{
	engine_mail_queued(e);
}

void
engine_password_policy(const struct engine *e, const struct project *p,
    struct password_policy *out)
{
	enum password_profile prof;

	if (p->password_profile == NULL ||
	    password_profile_parse(p->password_profile, &prof) == -1)
		prof = PW_PROFILE_NIST;
	*out = (struct password_policy){
		.min_length = p->password_min_length,
		.max_length = password_profile(prof)->max_length,
		.min_score = p->password_min_score,
		.checks = (unsigned)p->password_checks & PW_CHECKS_ALL,
		.breached_file = e != NULL ? e->cfg->breached_passwords_file :
					     NULL,
	};
}
