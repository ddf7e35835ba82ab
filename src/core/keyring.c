/*
 * Each project's token signing keys: RSA-2048 keys for RS256 (WorkOS and
 * Cognito tokens, published as key sets) and a secret for HS256 (Xsolla's
 * login tokens, which the project's backend checks with that secret).
 *
 * Keys are rows of signing_keys, their private halves sealed with
 * crypto_secretbox under a key derived from the server secret.  Parsing a
 * PEM or DER key costs far more than checking a signature, so keys are
 * parsed once and kept, per project, in a table shared by all threads
 * (64 sets of 4 slots, so projects whose ids share a set do not evict
 * each other): a key is held (counted) by whoever uses it, so a reload never
 * frees one in use.  The table is read again after KEYRING_CACHE_MS, so
 * a rotation made by another process (the CLI, another instance) is seen
 * within that time; a token naming a kid the table lacks makes one read
 * by kid, so a key made elsewhere verifies at once, and a key set is read
 * afresh, so a new key is published before any instance signs with it.
 *
 * A project's first key of an algorithm is made when it is first needed.
 * Rotation retires the current key (it stops signing) and keeps it
 * verifying until the last token it can have signed has expired.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define KEYRING_CACHE_MS 10000
#define RSA_BITS 2048
#define HS_SECRET_BYTES 32 /* shown as 43 base64url characters */
#define SEALED_MAX 4096	   /* a sealed key, decoded */

static const char *
alg_text(enum jwt_alg a)
{
	return jwt_alg_name(a);
}

/* keys */

static struct keyring_key *
key_hold(struct keyring_key *k)
{
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
	return k;
}

void
keyring_key_release(struct keyring_key *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	EVP_PKEY_free(k->jwt.pkey);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

/* Seal len bytes as base64url(nonce || box), newly allocated. */
static char *
seal(const struct engine *e, const uint8_t *m, size_t len)
{
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
	    len;
	uint8_t *box = xmalloc(blen);
	char *out = xmalloc(B64URL_LEN(blen) + 1);

	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, m, len, box,
	    e->signing_seal_key);
	base64url_encode(box, blen, out);
	free(box);
	return out;
}

/* Open a sealed key into out (SEALED_MAX bytes): its length, or -1. */
static int
unseal(const struct engine *e, const char *sealed, uint8_t *out)
{
	uint8_t *box;
	size_t len = strnlen(sealed, B64URL_LEN(SEALED_MAX) + 1);
	int n, rc = -1;

	if (len > B64URL_LEN(SEALED_MAX))
		return -1;
	box = xmalloc(len);
	n = base64url_decode(sealed, len, box);
	if (n >= (int)(crypto_secretbox_NONCEBYTES +
		     crypto_secretbox_MACBYTES) &&
	    crypto_secretbox_open_easy(out, box + crypto_secretbox_NONCEBYTES,
		(size_t)n - crypto_secretbox_NONCEBYTES, box,
		e->signing_seal_key) == 0)
		rc = n -
		    (int)(crypto_secretbox_NONCEBYTES +
			crypto_secretbox_MACBYTES);
	free(box);
	return rc;
}

/* A row as a usable key, or NULL (logged). */
static struct keyring_key *
key_from_row(const struct engine *e, const struct signing_key *row)
{
	struct keyring_key *k;
	uint8_t *raw = xmalloc(SEALED_MAX);
	const uint8_t *p = raw;
	int n;

	n = unseal(e, row->secret_sealed, raw);
	if (n < 0) {
		log_error("keyring: signing key %s does not open; was the "
			  "server secret changed?",
		    row->id);
		free(raw);
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->refs = 1;
	snprintf(k->jwt.kid, sizeof(k->jwt.kid), "%s", row->id);
	snprintf(k->project_id, sizeof(k->project_id), "%s", row->project_id);
	k->retired_at = row->retired_at;
	k->verify_until = row->verify_until;
	if (strcmp(row->alg, "HS256") == 0 && n > 0 &&
	    (size_t)n <= JWT_HS_KEY_MAX) {
		k->jwt.alg = JWT_HS256;
		memcpy(k->jwt.secret, raw, (size_t)n);
		k->jwt.secret_len = (size_t)n;
	} else if (strcmp(row->alg, "RS256") == 0) {
		k->jwt.alg = JWT_RS256;
		k->jwt.pkey = d2i_AutoPrivateKey(NULL, &p, n);
	}
	sodium_memzero(raw, SEALED_MAX);
	free(raw);
	if (k->jwt.secret_len == 0 && k->jwt.pkey == NULL) {
		log_error("keyring: signing key %s (%s) does not parse",
		    row->id, row->alg);
		keyring_key_release(k);
		return NULL;
	}
	return k;
}

/* A new key row of alg for project_id (secret sealed), or NULL (logged). */
static struct signing_key *
key_generate(const struct engine *e, const char *project_id, enum jwt_alg alg,
    int64_t now)
{
	struct signing_key *row;
	uint8_t bytes[HS_SECRET_BYTES];
	char text[B64URL_LEN(HS_SECRET_BYTES) + 1];
	EVP_PKEY *pkey = NULL;
	uint8_t *der = NULL;
	int n;

	row = xcalloc(1, sizeof(*row));
	row->id = xmalloc(UUID_STRLEN + 1);
	id_new(row->id);
	row->project_id = xstrdup(project_id);
	row->alg = xstrdup(alg_text(alg));
	row->created_at = now;
	switch (alg) {
	case JWT_HS256:
		/* The secret is text, so a backend can paste it as is. */
		randombytes_buf(bytes, sizeof(bytes));
		base64url_encode(bytes, sizeof(bytes), text);
		row->secret_sealed = seal(e, (const uint8_t *)text,
		    strlen(text));
		sodium_memzero(bytes, sizeof(bytes));
		sodium_memzero(text, sizeof(text));
		break;
	case JWT_RS256:
		pkey = EVP_RSA_gen(RSA_BITS);
		n = pkey != NULL ? i2d_PrivateKey(pkey, &der) : -1;
		if (n <= 0) {
			log_error("keyring: cannot make an RSA key");
			EVP_PKEY_free(pkey);
			signing_key_free(row);
			return NULL;
		}
		row->secret_sealed = seal(e, der, (size_t)n);
		OPENSSL_clear_free(der, (size_t)n);
		EVP_PKEY_free(pkey);
		break;
	default:
		abort();
	}
	return row;
}

/* the table */

/*
 * The table is KEYRING_SETS sets of KEYRING_WAYS slots; a project's keys
 * live in one slot of the set its id hashes to.  Several ways keep a few
 * busy projects whose ids share a set from evicting each other on every
 * call, which would parse their keys again and again.
 */
static struct keyring_slot *
set_of(struct engine *e, const char *project_id)
{
	return &e->keyslots[(str_hash(project_id) % KEYRING_SETS) *
	    KEYRING_WAYS];
}

/* The project's slot, or NULL; the caller holds keys_lock. */
static struct keyring_slot *
slot_of(struct engine *e, const char *project_id)
{
	struct keyring_slot *set = set_of(e, project_id);
	int w;

	for (w = 0; w < KEYRING_WAYS; w++)
		if (strcmp(set[w].project_id, project_id) == 0)
			return &set[w];
	return NULL;
}

/*
 * The slot to load the project's keys into: its own, or the one of its
 * set read longest ago (an empty one first).  The caller holds keys_lock.
 */
static struct keyring_slot *
slot_for(struct engine *e, const char *project_id)
{
	struct keyring_slot *set = set_of(e, project_id), *s;
	int w;

	s = slot_of(e, project_id);
	if (s != NULL)
		return s;
	s = &set[0];
	for (w = 1; w < KEYRING_WAYS; w++)
		if (set[w].fetched_ms < s->fetched_ms)
			s = &set[w];
	return s;
}

/* Empty a slot; the caller holds keys_lock. */
static void
slot_clear(struct keyring_slot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		keyring_key_release(s->keys[i]);
	memset(s, 0, sizeof(*s));
}

/*
 * Read a project's keys that still verify into its slot.  ENGINE_OK or
 * ENGINE_UNAVAILABLE.
 */
static enum engine_result
load(struct engine *e, const char *project_id)
{
	struct store_list l = { NULL, 0 };
	struct keyring_slot fresh, *s;
	struct keyring_key *k;
	struct db_conn *c;
	size_t i;
	int rc;

	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_signing_key_list(c, project_id, db_now(e->db), &l);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	memset(&fresh, 0, sizeof(fresh));
	snprintf(fresh.project_id, sizeof(fresh.project_id), "%s", project_id);
	fresh.fetched_ms = time_mono_ms();
	for (i = 0; i < l.n && fresh.n < KEYRING_KEYS_MAX; i++) {
		k = key_from_row(e, l.items[i]);
		if (k != NULL)
			fresh.keys[fresh.n++] = k;
	}
	store_list_free(&l, (void (*)(void *))signing_key_free);
	pthread_mutex_lock(&e->keys_lock);
	s = slot_for(e, project_id);
	slot_clear(s);
	*s = fresh;
	pthread_mutex_unlock(&e->keys_lock);
	return ENGINE_OK;
}

/*
 * The newest signing key of alg of a project in the table, held; NULL
 * when the slot is stale or has none.
 */
static struct keyring_key *
cached_signer(struct engine *e, const char *project_id, enum jwt_alg alg)
{
	struct keyring_slot *s;
	struct keyring_key *k = NULL;
	size_t i;

	pthread_mutex_lock(&e->keys_lock);
	s = slot_of(e, project_id);
	if (s != NULL && time_mono_ms() - s->fetched_ms < KEYRING_CACHE_MS)
		for (i = 0; i < s->n; i++)
			if (s->keys[i]->jwt.alg == alg &&
			    s->keys[i]->retired_at == 0) {
				k = key_hold(s->keys[i]);
				break;
			}
	pthread_mutex_unlock(&e->keys_lock);
	return k;
}

struct create_tx {
	const struct signing_key *row;
	const char *alg;
	int rotate;
	int64_t verify_until;
	int64_t now;
};

static int
create_tx(struct db_conn *c, void *arg)
{
	struct create_tx *t = arg;
	int rc;

	if (t->rotate) {
		rc = store_signing_key_retire(c, t->row->project_id, t->alg,
		    t->now, t->verify_until);
		if (rc < 0)
			return rc;
	}
	return store_signing_key_insert(c, t->row);
}

/*
 * Make a key of alg for project p and store it; with rotate, retire the
 * current ones first.  ENGINE_OK or ENGINE_UNAVAILABLE.
 */
static enum engine_result
create(struct engine *e, const struct project *p, enum jwt_alg alg, int rotate)
{
	struct signing_key *row;
	struct create_tx t;
	int64_t now = db_now(e->db);
	int rc;

	row = key_generate(e, p->id, alg, now);
	if (row == NULL)
		return ENGINE_UNAVAILABLE;
	t = (struct create_tx){ row, alg_text(alg), rotate,
		now + token_longest_ttl_s(p, alg) * 1000 + 1000, now };
	rc = db_write(e->db, create_tx, &t);
	signing_key_free(row);
	return rc == 0 ? ENGINE_OK : ENGINE_UNAVAILABLE;
}

enum engine_result
keyring_signing(struct engine *e, const struct project *p, enum jwt_alg alg,
    struct keyring_key **out)
{
	enum engine_result res;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		*out = cached_signer(e, p->id, alg);
		if (*out != NULL)
			return ENGINE_OK;
		if (tries == 1) {
			/* The table is fresh and has none: make the first. */
			res = create(e, p, alg, 0);
			if (res != ENGINE_OK)
				return res;
		}
		res = load(e, p->id);
		if (res != ENGINE_OK)
			return res;
	}
	log_error("keyring: project %s has no %s key after making one", p->id,
	    alg_text(alg));
	return ENGINE_UNAVAILABLE;
}

/* The key kid in the table, held, if it verifies at now_ms; else NULL. */
static struct keyring_key *
cached_key(struct engine *e, const char *kid, int64_t now_ms)
{
	struct keyring_key *k = NULL;
	size_t i, j;

	pthread_mutex_lock(&e->keys_lock);
	for (i = 0;
	     i < sizeof(e->keyslots) / sizeof(e->keyslots[0]) && k == NULL; i++)
		for (j = 0; j < e->keyslots[i].n; j++)
			if (strcmp(e->keyslots[i].keys[j]->jwt.kid, kid) == 0) {
				if (e->keyslots[i].keys[j]->verify_until == 0 ||
				    e->keyslots[i].keys[j]->verify_until >
					now_ms)
					k = key_hold(e->keyslots[i].keys[j]);
				break;
			}
	pthread_mutex_unlock(&e->keys_lock);
	return k;
}

enum engine_result
keyring_find(struct engine *e, const char *kid, enum jwt_alg alg,
    struct keyring_key **out)
{
	struct signing_key *row = NULL;
	struct keyring_key *k;
	struct db_conn *c;
	int64_t now = db_now(e->db);
	enum engine_result res = ENGINE_SESSION_INVALID;
	int rc;

	*out = NULL;
	/* Every kid resetd writes is a key's row id. */
	if (!id_is_uuid(kid) || strlen(kid) != UUID_STRLEN)
		return ENGINE_SESSION_INVALID;
	k = cached_key(e, kid, now);
	if (k == NULL) {
		/* One read by kid: a key made by another process. */
		c = db_acquire(e->db);
		if (c == NULL)
			return ENGINE_UNAVAILABLE;
		rc = store_signing_key_get(c, kid, &row);
		db_release(e->db, c);
		if (rc < 0)
			return ENGINE_UNAVAILABLE;
		if (rc != STORE_OK)
			return ENGINE_SESSION_INVALID;
		if (row->verify_until == 0 || row->verify_until > now)
			res = load(e, row->project_id);
		signing_key_free(row);
		if (res != ENGINE_OK)
			return res;
		k = cached_key(e, kid, now);
		if (k == NULL)
			return ENGINE_SESSION_INVALID;
	}
	if (k->jwt.alg != alg) {
		keyring_key_release(k);
		return ENGINE_SESSION_INVALID;
	}
	*out = k;
	return ENGINE_OK;
}

enum engine_result
keyring_rotate(struct engine *e, const char *project_id, enum jwt_alg alg,
    char kid[UUID_STRLEN + 1])
{
	struct project *p = NULL;
	struct keyring_key *k = NULL;
	enum engine_result res;

	res = engine_project(e, project_id, &p);
	if (res != ENGINE_OK)
		return res;
	res = create(e, p, alg, 1);
	if (res == ENGINE_OK)
		res = load(e, p->id);
	if (res == ENGINE_OK)
		res = keyring_signing(e, p, alg, &k);
	if (res == ENGINE_OK)
		memcpy(kid, k->jwt.kid, UUID_STRLEN + 1);
	keyring_key_release(k);
	project_free(p);
	return res;
}

enum engine_result
keyring_secret(struct engine *e, const char *project_id, int rotate,
    char **secret_out, char kid[UUID_STRLEN + 1])
{
	struct project *p = NULL;
	struct keyring_key *k = NULL;
	enum engine_result res;

	res = engine_project(e, project_id, &p);
	if (res != ENGINE_OK)
		return res;
	if (rotate) {
		res = create(e, p, JWT_HS256, 1);
		if (res == ENGINE_OK)
			res = load(e, p->id);
	}
	if (res == ENGINE_OK)
		res = keyring_signing(e, p, JWT_HS256, &k);
	if (res == ENGINE_OK) {
		*secret_out = xstrndup((const char *)k->jwt.secret,
		    k->jwt.secret_len);
		memcpy(kid, k->jwt.kid, UUID_STRLEN + 1);
	}
	keyring_key_release(k);
	project_free(p);
	return res;
}

enum engine_result
keyring_jwks(struct engine *e, const struct project *p, char **out)
{
	struct keyring_key *signer = NULL, *keys[KEYRING_KEYS_MAX];
	struct keyring_slot *s;
	struct buf b;
	enum engine_result res;
	int64_t now = db_now(e->db);
	size_t i, n = 0;
	char *jwk;
	int first = 1, rc = 0;

	/* A project's first key set has a key in it. */
	res = keyring_signing(e, p, JWT_RS256, &signer);
	keyring_key_release(signer);
	/*
	 * Read afresh: a key made by another process is published at once,
	 * before any instance's cache lets it sign.
	 */
	if (res == ENGINE_OK)
		res = load(e, p->id);
	if (res != ENGINE_OK)
		return res;
	pthread_mutex_lock(&e->keys_lock);
	s = slot_of(e, p->id);
	if (s != NULL)
		for (i = 0; i < s->n; i++)
			if (s->keys[i]->jwt.alg == JWT_RS256 &&
			    (s->keys[i]->verify_until == 0 ||
				s->keys[i]->verify_until > now))
				keys[n++] = key_hold(s->keys[i]);
	pthread_mutex_unlock(&e->keys_lock);
	buf_init(&b, 1024 * 1024);
	rc |= buf_puts(&b, "{\"keys\":[");
	for (i = 0; i < n; i++) {
		jwk = jwt_key_jwk(&keys[i]->jwt);
		if (jwk != NULL) {
			rc |= buf_printf(&b, "%s%s", first ? "" : ",", jwk);
			first = 0;
		}
		free(jwk);
		keyring_key_release(keys[i]);
	}
	rc |= buf_puts(&b, "]}");
	if (rc != 0) {
		buf_free(&b);
		return ENGINE_UNAVAILABLE;
	}
	*out = buf_take(&b);
	buf_free(&b);
	return ENGINE_OK;
}

void
keyring_free(struct engine *e)
{
	size_t i;

	for (i = 0; i < sizeof(e->keyslots) / sizeof(e->keyslots[0]); i++)
		slot_clear(&e->keyslots[i]);
}
