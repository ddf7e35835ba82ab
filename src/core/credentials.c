/*
 * Credentials that name a project: API keys (WorkOS-style "sk_..." keys,
 * kept only as keyed hashes) and app clients (Cognito's ClientId and
 * Velocity's appclientid, with an optional secret).  A client secret has
 * to be read back to check a SecretHash, so it is sealed with
 * crypto_secretbox under a key derived from the server secret: a copy of
 * the database alone does not reveal it.
 *
 * Revoking a key and rotating a client's secret are plain row updates:
 * neither keys nor clients are cached anywhere (the engine's project
 * cache holds projects only), so the next call sees the change.
 *
 * A client with a secret makes every call through it prove the secret
 * with Cognito's SecretHash, Base64(HMAC-SHA256(secret, username ||
 * client id)), whichever dialect carries the call: one rule, checked
 * here, in constant time.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define API_KEY_PREFIX "sk_"
#define CLIENT_PREFIX "client_"
#define SEALED_MAX 256

void
app_client_clear(struct app_client *c)
{
	free(c->id);
	free(c->project_id);
	xfree_secret(c->secret);
	memset(c, 0, sizeof(*c));
}

static int
insert_api_key_tx(struct db_conn *c, void *arg)
{
	return store_api_key_insert(c, arg);
}

void
aws_credentials_clear(struct aws_credentials *a)
{
	xfree_secret(a->secret_access_key);
	memset(a, 0, sizeof(*a));
}

/*
 * The associated data of a sealed AWS secret: its row and access key id,
 * so that a sealed value copied to another row does not open.
 */
static char *
aws_seal_ad(const char *key_row_id, const char *akid)
{
	return xasprintf("aws-secret|%s|%s", key_row_id, akid);
}

/* Seal an AWS secret access key as "v1:" base64url(nonce || box). */
static char *
aws_seal(struct engine *e, const char *key_row_id, const char *akid,
    const char *secret)
{
	size_t mlen = strlen(secret);
	size_t blen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + mlen +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t *box = xmalloc(blen);
	char *ad = aws_seal_ad(key_row_id, akid);
	char *out = xmalloc(3 + B64URL_LEN(blen) + 1);

	randombytes_buf(box, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box +
		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    NULL, (const uint8_t *)secret, mlen, (const uint8_t *)ad,
	    strlen(ad), NULL, box, e->aws_key);
	memcpy(out, "v1:", 3);
	base64url_encode(box, blen, out + 3);
	free(ad);
	free(box);
	return out;
}

char *
engine_aws_unseal(struct engine *e, const struct api_key *k)
{
	uint8_t box[SEALED_MAX];
	const char *b64;
	char *ad, *out;
	unsigned long long mlen;
	size_t len;
	int n, rc;

	if (k->aws_secret_sealed == NULL || k->access_key_id == NULL ||
	    strncmp(k->aws_secret_sealed, "v1:", 3) != 0)
		return NULL;
	b64 = k->aws_secret_sealed + 3;
	len = strnlen(b64, B64URL_LEN(SEALED_MAX) + 1);
	if (len > B64URL_LEN(SEALED_MAX))
		return NULL;
	n = base64url_decode(b64, len, box);
	if (n < (int)(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
		    crypto_aead_xchacha20poly1305_ietf_ABYTES))
		return NULL;
	out = xmalloc((size_t)n);
	ad = aws_seal_ad(k->id, k->access_key_id);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)out, &mlen,
	    NULL, box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    (size_t)n - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    (const uint8_t *)ad, strlen(ad), box, e->aws_key);
	free(ad);
	if (rc != 0) {
		log_error(
		    "credentials: an AWS secret key does not open; was the "
		    "server secret changed?");
		free(out);
		return NULL;
	}
	out[mlen] = '\0';
	return out;
}

/* A new access key id: "AKIA" and 16 characters of base32 (80 bits). */
static void
aws_access_key_id_new(char out[AWS_ACCESS_KEY_ID_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t r[16];
	size_t i;

	randombytes_buf(r, sizeof(r));
	memcpy(out, "AKIA", 4);
	for (i = 0; i < 16; i++)
		out[4 + i] = b32[r[i] & 31];
	out[AWS_ACCESS_KEY_ID_LEN] = '\0';
}

enum engine_result
admin_api_key_create(struct engine *e, const char *project_id, char **key_out,
    char id_out[UUID_STRLEN + 1], struct aws_credentials *aws_out)
{
	struct project *p = NULL;
	struct api_key k;
	struct aws_credentials aws;
	char token[SECRET_TOKEN_LEN + 1];
	char hash[SECRET_HASH_LEN + 1];
	char id[UUID_STRLEN + 1];
	uint8_t raw[AWS_SECRET_BYTES];
	char *key, *sealed;
	enum engine_result result;

	result = engine_project(e, project_id, &p);
	if (result != ENGINE_OK)
		return result;
	secret_token_new(token);
	key = xasprintf(API_KEY_PREFIX "%s", token);
	sodium_memzero(token, sizeof(token));
	secret_hash(e->token_key, "api_key", key, hash);
	id_new(id);
	/* The same key, as AWS credentials: its secret is sealed. */
	memset(&aws, 0, sizeof(aws));
	aws_access_key_id_new(aws.access_key_id);
	randombytes_buf(raw, sizeof(raw));
	aws.secret_access_key = xmalloc(AWS_SECRET_ACCESS_KEY_LEN + 1);
	sodium_bin2base64(aws.secret_access_key, AWS_SECRET_ACCESS_KEY_LEN + 1,
	    raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(raw, sizeof(raw));
	sealed = aws_seal(e, id, aws.access_key_id, aws.secret_access_key);
	k = (struct api_key){
		.id = id,
		.project_id = p->id,
		.key_hash = hash,
		.created_at = db_now(e->db),
		.access_key_id = aws.access_key_id,
		.aws_secret_sealed = sealed,
	};
	if (db_write(e->db, insert_api_key_tx, &k) != 0) {
		xfree_secret(key);
		aws_credentials_clear(&aws);
		result = ENGINE_UNAVAILABLE;
	} else {
		*key_out = key;
		memcpy(id_out, id, sizeof(id));
		if (aws_out != NULL)
			*aws_out = aws;
		else
			aws_credentials_clear(&aws);
	}
	free(sealed);
	project_free(p);
	return result;
}

struct revoke_tx {
	const struct request_context *ctx;
	struct api_key *key;
	int64_t now;
};

static int
revoke_api_key_tx(struct db_conn *c, void *arg)
{
	struct revoke_tx *t = arg;
	int rc;

	rc = store_api_key_revoke(c, t->key->id, t->now);
	if (rc <= 0)
		return rc; /* revoked already: nothing to record */
	t->key->revoked_at = t->now;
	return audit_write(c, t->ctx, t->key->project_id, AUDIT_API_KEY_REVOKED,
	    NULL, t->key->id, t->now);
}

enum engine_result
admin_api_key_revoke(struct engine *e, const struct request_context *ctx,
    const char *id_or_key, struct api_key **out)
{
	struct db_conn *c;
	struct api_key *k = NULL;
	struct revoke_tx t;
	char hash[SECRET_HASH_LEN + 1];
	enum engine_result result = ENGINE_CREDENTIALS_INVALID;
	int rc = STORE_NOT_FOUND;

	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	if (str_has_prefix(id_or_key, API_KEY_PREFIX) &&
	    secret_token_valid(id_or_key + strlen(API_KEY_PREFIX))) {
		secret_hash(e->token_key, "api_key", id_or_key, hash);
		rc = store_api_key_by_hash(c, hash, &k);
		if (rc == STORE_OK && !secret_hash_equal(k->key_hash, hash))
			rc = STORE_NOT_FOUND;
		sodium_memzero(hash, sizeof(hash));
	} else if (id_is_uuid(id_or_key))
		rc = store_api_key_get(c, id_or_key, &k);
	db_release(e->db, c);
	if (rc < 0) {
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	if (rc != STORE_OK)
		goto out;
	if (k->revoked_at == 0) {
		t = (struct revoke_tx){ ctx, k, db_now(e->db) };
		if (db_write(e->db, revoke_api_key_tx, &t) != 0) {
			result = ENGINE_UNAVAILABLE;
			goto out;
		}
	}
	*out = k;
	k = NULL;
	result = ENGINE_OK;
out:
	api_key_free(k);
	return result;
}

enum engine_result
engine_project_by_api_key(struct engine *e, const char *key,
    struct project **out)
{
	struct db_conn *c;
	struct api_key *k = NULL;
	char hash[SECRET_HASH_LEN + 1];
	enum engine_result result = ENGINE_CREDENTIALS_INVALID;
	int rc;

	if (key == NULL || !str_has_prefix(key, API_KEY_PREFIX) ||
	    !secret_token_valid(key + strlen(API_KEY_PREFIX)))
		return ENGINE_CREDENTIALS_INVALID;
	secret_hash(e->token_key, "api_key", key, hash);
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_api_key_by_hash(c, hash, &k);
	if (rc == STORE_OK && k->revoked_at == 0 &&
	    secret_hash_equal(k->key_hash, hash))
		rc = store_project_get(c, k->project_id, out);
	else if (rc == STORE_OK)
		rc = STORE_NOT_FOUND;
	db_release(e->db, c);
	if (rc < 0)
		result = ENGINE_UNAVAILABLE;
	else if (rc == STORE_OK)
		result = ENGINE_OK;
	api_key_free(k);
	return result;
}

/* Seal a secret as base64url(nonce || box). */
static char *
seal(struct engine *e, const char *secret)
{
	size_t mlen = strlen(secret);
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
	    mlen;
	uint8_t *box = xmalloc(blen);
	char *out = xmalloc(B64URL_LEN(blen) + 1);

	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
	    (const uint8_t *)secret, mlen, box, e->seal_key);
	base64url_encode(box, blen, out);
	free(box);
	return out;
}

/* Open a sealed secret; NULL when it does not open (logged). */
static char *
unseal(struct engine *e, const char *sealed)
{
	uint8_t box[SEALED_MAX];
	char *out;
	size_t len = strnlen(sealed, B64URL_LEN(SEALED_MAX) + 1);
	int n;

	if (len > B64URL_LEN(SEALED_MAX))
		return NULL;
	n = base64url_decode(sealed, len, box);
	if (n < (int)(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES))
		return NULL;
	out = xmalloc((size_t)n);
	if (crypto_secretbox_open_easy((uint8_t *)out,
		box + crypto_secretbox_NONCEBYTES,
		(size_t)n - crypto_secretbox_NONCEBYTES, box,
		e->seal_key) != 0) {
		log_error("credentials: a client secret does not open; was the "
			  "server secret changed?");
		free(out);
		return NULL;
	}
	out[n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES] = '\0';
	return out;
}

static int
insert_client_tx(struct db_conn *c, void *arg)
{
	return store_client_insert(c, arg);
}

enum engine_result
admin_client_create(struct engine *e, const char *project_id, int with_secret,
    int reveal_user_existence, struct app_client *out)
{
	struct project *p = NULL;
	struct client cl;
	char uuid[UUID_STRLEN + 1], ulid[ULID_STRLEN + 1];
	char token[SECRET_TOKEN_LEN + 1];
	char *sealed = NULL;
	enum engine_result result;

	result = engine_project(e, project_id, &p);
	if (result != ENGINE_OK)
		return result;
	id_new(uuid);
	if (id_uuid_to_ulid(uuid, ulid) == -1)
		abort();
	memset(out, 0, sizeof(*out));
	out->id = xasprintf(CLIENT_PREFIX "%s", ulid);
	out->project_id = xstrdup(p->id);
	out->prevent_user_existence_errors = !reveal_user_existence;
	if (with_secret) {
		secret_token_new(token);
		out->secret = xstrdup(token);
		sodium_memzero(token, sizeof(token));
		sealed = seal(e, out->secret);
	}
	cl = (struct client){
		.id = out->id,
		.project_id = p->id,
		.secret_sealed = sealed,
		.prevent_user_existence_errors = !reveal_user_existence,
		.created_at = db_now(e->db),
	};
	if (db_write(e->db, insert_client_tx, &cl) != 0) {
		app_client_clear(out);
		result = ENGINE_UNAVAILABLE;
	}
	free(sealed);
	project_free(p);
	return result;
}

/*
 * The app client named client_id into *out (client_free); a name that is
 * no client's, or longer than any, is ENGINE_CREDENTIALS_INVALID.
 */
static enum engine_result
client_load(struct engine *e, const char *client_id, struct client **out)
{
	struct db_conn *c;
	int rc;

	if (client_id == NULL || strlen(client_id) > 128)
		return ENGINE_CREDENTIALS_INVALID;
	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_client_get(c, client_id, out);
	db_release(e->db, c);
	if (rc < 0)
		return ENGINE_UNAVAILABLE;
	if (rc == STORE_NOT_FOUND)
		return ENGINE_CREDENTIALS_INVALID;
	return ENGINE_OK;
}

struct rotate_tx {
	const struct request_context *ctx;
	const struct client *client;
	const char *sealed;
	int64_t now;
};

static int
rotate_secret_tx(struct db_conn *c, void *arg)
{
	struct rotate_tx *t = arg;
	int rc;

	rc = store_client_set_secret(c, t->client->id, t->sealed);
	if (rc < 0)
		return rc;
	return audit_write(c, t->ctx, t->client->project_id,
	    AUDIT_CLIENT_SECRET_ROTATED, NULL, t->client->id, t->now);
}

enum engine_result
admin_client_rotate_secret(struct engine *e, const struct request_context *ctx,
    const char *client_id, struct app_client *out)
{
	struct client *cl = NULL;
	struct rotate_tx t;
	char token[SECRET_TOKEN_LEN + 1];
	char *sealed = NULL;
	enum engine_result result;

	result = client_load(e, client_id, &cl);
	if (result != ENGINE_OK)
		return result;
	if (cl->secret_sealed == NULL) {
		result = ENGINE_CONFLICT;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	secret_token_new(token);
	out->secret = xstrdup(token);
	sodium_memzero(token, sizeof(token));
	sealed = seal(e, out->secret);
	t = (struct rotate_tx){ ctx, cl, sealed, db_now(e->db) };
	if (db_write(e->db, rotate_secret_tx, &t) != 0) {
		app_client_clear(out);
		result = ENGINE_UNAVAILABLE;
		goto out;
	}
	out->id = xstrdup(cl->id);
	out->project_id = xstrdup(cl->project_id);
	out->prevent_user_existence_errors = cl->prevent_user_existence_errors;
	result = ENGINE_OK;
out:
	free(sealed);
	client_free(cl);
	return result;
}

enum engine_result
engine_client(struct engine *e, const char *client_id, struct app_client *out)
{
	struct client *cl = NULL;
	enum engine_result result;

	result = client_load(e, client_id, &cl);
	if (result != ENGINE_OK)
		return result;
	memset(out, 0, sizeof(*out));
	if (cl->secret_sealed != NULL) {
		out->secret = unseal(e, cl->secret_sealed);
		if (out->secret == NULL) {
			result = ENGINE_UNAVAILABLE;
			goto out;
		}
	}
	out->id = xstrdup(cl->id);
	out->project_id = xstrdup(cl->project_id);
	out->prevent_user_existence_errors = cl->prevent_user_existence_errors;
	result = ENGINE_OK;
out:
	client_free(cl);
	return result;
}

enum engine_result
engine_client_check_key(struct engine *e, const struct project *p,
    const char *api_key, const char *client_id, const char *client_secret)
{
	struct app_client cl;
	enum engine_result result;
	size_t n;
	int same_project;

	if (api_key == NULL || client_secret == NULL)
		return ENGINE_CREDENTIALS_INVALID;
	result = engine_client(e, client_id, &cl);
	if (result != ENGINE_OK)
		return result;
	same_project = strcmp(cl.project_id, p->id) == 0;
	app_client_clear(&cl);
	n = strlen(api_key);
	if (!same_project || strlen(client_secret) != n ||
	    sodium_memcmp(client_secret, api_key, n) != 0)
		return ENGINE_CREDENTIALS_INVALID;
	return ENGINE_OK;
}

void
app_client_secret_hash(const char *secret, const char *username,
    const char *client_id, char out[APP_CLIENT_SECRET_HASH_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)username,
	    strlen(username));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)client_id,
	    strlen(client_id));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, APP_CLIENT_SECRET_HASH_LEN + 1, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(mac, sizeof(mac));
}

/* 1 when given is the SecretHash of username for client c. */
static int
secret_hash_ok(const struct app_client *c, const char *username,
    const char *given)
{
	char want[APP_CLIENT_SECRET_HASH_LEN + 1];
	int ok;

	/* The length of a SecretHash is public; only its bytes are not. */
	if (given == NULL || strlen(given) != APP_CLIENT_SECRET_HASH_LEN)
		return 0;
	app_client_secret_hash(c->secret, username, c->id, want);
	ok = sodium_memcmp(want, given, APP_CLIENT_SECRET_HASH_LEN) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

enum engine_result
engine_client_auth(struct engine *e, const struct client_auth *in,
    struct app_client *client_out, struct project **project_out)
{
	struct app_client cl;
	struct project *p = NULL;
	enum engine_result result;

	memset(&cl, 0, sizeof(cl));
	result = engine_client(e, in->client_id, &cl);
	if (result == ENGINE_CREDENTIALS_INVALID)
		return ENGINE_PROJECT_UNKNOWN;
	if (result != ENGINE_OK)
		return result;
	if (in->project_id != NULL &&
	    strcmp(in->project_id, cl.project_id) != 0) {
		result = ENGINE_PROJECT_UNKNOWN;
		goto out;
	}
	/* A SecretHash sent for a client without a secret is ignored. */
	if (cl.secret != NULL &&
	    (in->username == NULL ||
		!secret_hash_ok(&cl, in->username, in->secret_hash))) {
		result = ENGINE_CREDENTIALS_INVALID;
		goto out;
	}
	result = engine_project(e, cl.project_id, &p);
	if (result != ENGINE_OK)
		goto out;
	*client_out = cl;
	*project_out = p;
	memset(&cl, 0, sizeof(cl));
	result = ENGINE_OK;
out:
	app_client_clear(&cl);
	return result;
}

int
engine_client_user_hash_ok(const struct app_client *cl, const struct user *u,
    const char *secret_hash)
{
	const char *names[3] = { u->id, u->username, u->email };
	char want[APP_CLIENT_SECRET_HASH_LEN + 1];
	int i, ok = 0;

	if (cl->secret == NULL)
		return 1;
	if (secret_hash == NULL)
		return 0;
	/* Every name is tried, so the time does not tell which matched. */
	for (i = 0; i < 3; i++) {
		if (names[i] == NULL)
			continue;
		app_client_secret_hash(cl->secret, names[i], cl->id, want);
		ok |= engine_mac_equal(want, secret_hash);
	}
	return ok;
}
