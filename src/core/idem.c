/*
 * Idempotent calls: the answer to a call that carried an idempotency key is
 * recorded with the work it answers, so that a retry with the same key gets
 * the same answer instead of doing the work again.
 *
 * The record goes into the work's own transaction, first, under the primary
 * key (project, key).  Two retries that race both find no record, both do
 * their checks, and both try to commit: the primary key lets one through
 * and rolls the other back whole, work included, and the loser replays the
 * winner's answer.  A loser may also fail earlier, on what the winner
 * changed (a consumed token, a taken email); idem_settle looks again after
 * every failure, and since the winner's record committed with its change,
 * a failure caused by the winner always finds the record.
 *
 * An answer can hold a reset token in clear, so it is stored sealed with an
 * AEAD under a key derived from the sealing key of client secrets; the
 * associated data binds it to its project, key, fingerprint and status.  A
 * copy of the database alone does not reveal it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define IDEM_KDF_CONTEXT "resetidm"
#define IDEM_SUBKEY 1
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_MAX (NONCE_BYTES + IDEM_ANSWER_MAX + MAC_BYTES)

int
idem_key_valid(const char *key)
{
	size_t i, n;

	if (key == NULL)
		return 0;
	n = strnlen(key, IDEM_KEY_MAX + 1);
	if (n == 0 || n > IDEM_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x21 ||
		    (unsigned char)key[i] > 0x7e)
			return 0;
	return 1;
}

/* Hash one part, prefixed by its length as 8 bytes, big-endian. */
static void
hash_part(crypto_generichash_state *st, const void *p, size_t len)
{
	uint8_t n[8];
	int i;

	for (i = 0; i < 8; i++)
		n[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	crypto_generichash_update(st, n, sizeof(n));
	if (len > 0)
		crypto_generichash_update(st, p, len);
}

void
idem_fingerprint(const char *method, const char *path, const char *body,
    size_t len, char out[IDEM_FINGERPRINT_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[IDEM_FINGERPRINT_LEN / 2];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	hash_part(&st, method, strlen(method));
	hash_part(&st, path, strlen(path));
	hash_part(&st, body, body != NULL ? len : 0);
	crypto_generichash_final(&st, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
	out[IDEM_FINGERPRINT_LEN] = '\0';
}

void
idem_claim_clear(struct idem_claim *claim)
{
	xfree_secret(claim->answer.body);
	claim->answer.body = NULL;
	claim->answer.status = 0;
}

/* The associated data of a sealed answer: what it answers, NUL-separated. */
static char *
sealed_ad(const struct idem_record *r, size_t *len)
{
	char status[16];
	const char *parts[] = { r->project_id, r->idem_key, r->fingerprint,
		status };
	struct buf b;
	size_t i;

	snprintf(status, sizeof(status), "%d", r->status);
	buf_init(&b, 1024); /* 36 + 255 + 64 + 11 bytes and separators */
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (buf_append(&b, parts[i], strlen(parts[i]) + 1) == -1)
			abort();
	*len = b.len;
	return buf_take(&b);
}

static void
seal_key(const struct engine *e, uint8_t key[32])
{
	crypto_kdf_derive_from_key(key, 32, IDEM_SUBKEY, IDEM_KDF_CONTEXT,
	    e->seal_key);
}

/* Seal an answer body as base64url(nonce || ciphertext). */
static char *
seal_answer(const struct engine *e, const struct idem_record *r,
    const char *body)
{
	uint8_t key[32];
	size_t blen = strlen(body), adlen;
	size_t slen = NONCE_BYTES + blen + MAC_BYTES;
	uint8_t *box = xmalloc(slen);
	char *ad, *out = xmalloc(B64URL_LEN(slen) + 1);

	seal_key(e, key);
	ad = sealed_ad(r, &adlen);
	randombytes_buf(box, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE_BYTES, NULL,
	    (const uint8_t *)body, blen, (const uint8_t *)ad, adlen, NULL, box,
	    key);
	base64url_encode(box, slen, out);
	sodium_memzero(key, sizeof(key));
	free(ad);
	free(box);
	return out;
}

/* Open a sealed answer; NULL when it does not open (logged). */
static char *
open_answer(const struct engine *e, const struct idem_record *r)
{
	uint8_t key[32];
	uint8_t *box = NULL;
	char *ad = NULL, *body = NULL;
	size_t len = strnlen(r->answer_sealed, B64URL_LEN(SEALED_MAX) + 1);
	size_t adlen;
	unsigned long long mlen;
	int n;

	if (len > B64URL_LEN(SEALED_MAX))
		goto fail;
	box = xmalloc(len * 3 / 4 + 1);
	n = base64url_decode(r->answer_sealed, len, box);
	if (n < (int)(NONCE_BYTES + MAC_BYTES))
		goto fail;
	seal_key(e, key);
	ad = sealed_ad(r, &adlen);
	body = xmalloc((size_t)n - NONCE_BYTES - MAC_BYTES + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)body, &mlen,
		NULL, box + NONCE_BYTES, (size_t)n - NONCE_BYTES,
		(const uint8_t *)ad, adlen, box, key) != 0) {
		sodium_memzero(key, sizeof(key));
		free(body);
		body = NULL;
		goto fail;
	}
	sodium_memzero(key, sizeof(key));
	body[mlen] = '\0';
	free(ad);
	free(box);
	return body;
fail:
	log_error("idem: a recorded answer does not open; was the server "
		  "secret changed?");
	free(ad);
	free(box);
	return NULL;
}

/*
 * Look the key up.  ENGINE_OK when absent, ENGINE_REPLAYED with the answer,
 * ENGINE_IDEMPOTENCY_MISMATCH, or ENGINE_UNAVAILABLE.
 */
static enum engine_result
lookup(struct engine *e, const char *project_id, struct idem_claim *claim)
{
	struct db_conn *c;
	struct idem_record *r = NULL;
	enum engine_result result = ENGINE_UNAVAILABLE;
	char *body;
	int rc;

	c = db_acquire(e->db);
	if (c == NULL)
		return ENGINE_UNAVAILABLE;
	rc = store_idem_get(c, project_id, claim->key, db_now(e->db), &r);
	db_release(e->db, c);
	if (rc < 0)
		goto out;
	if (rc == STORE_NOT_FOUND) {
		result = ENGINE_OK;
		goto out;
	}
	if (strcmp(r->fingerprint, claim->fingerprint) != 0) {
		result = ENGINE_IDEMPOTENCY_MISMATCH;
		goto out;
	}
	body = open_answer(e, r);
	if (body == NULL)
		goto out;
	idem_claim_clear(claim);
	claim->answer.status = r->status;
	claim->answer.body = body;
	result = ENGINE_REPLAYED;
out:
	idem_record_free(r);
	return result;
}

enum engine_result
idem_begin(struct engine *e, const char *project_id, struct idem_claim *claim)
{
	if (!idem_key_valid(claim->key) ||
	    strlen(claim->fingerprint) != IDEM_FINGERPRINT_LEN)
		abort(); /* dialects check keys at the edge */
	return lookup(e, project_id, claim);
}

void
idem_encode(struct idem_claim *claim, const struct idem_outcome *o)
{
	idem_claim_clear(claim);
	claim->encode(claim->encode_arg, o, &claim->answer);
	if (claim->answer.body == NULL || claim->answer.status == 0 ||
	    strlen(claim->answer.body) > IDEM_ANSWER_MAX)
		abort(); /* encoders answer, and briefly */
}

int
idem_record(struct engine *e, struct db_conn *c, const char *project_id,
    const struct idem_claim *claim, int64_t now, enum engine_result *outcome)
{
	struct idem_record r;
	int rc;

	rc = store_idem_purge(c, now);
	if (rc < 0)
		return rc;
	r = (struct idem_record){
		.project_id = (char *)project_id,
		.idem_key = (char *)claim->key,
		.fingerprint = (char *)claim->fingerprint,
		.status = claim->answer.status,
		.created_at = now,
		.expires_at = now + IDEM_TTL_MS,
	};
	r.answer_sealed = seal_answer(e, &r, claim->answer.body);
	rc = store_idem_insert(c, &r);
	free(r.answer_sealed);
	if (rc == DB_CONSTRAINT) {
		*outcome = ENGINE_REPLAYED;
		return TX_REFUSED;
	}
	return rc;
}

enum engine_result
idem_settle(struct engine *e, const char *project_id, struct idem_claim *claim,
    enum engine_result result)
{
	enum engine_result again;

	if (claim == NULL || result == ENGINE_OK)
		return result;
	again = lookup(e, project_id, claim);
	if (again == ENGINE_REPLAYED || again == ENGINE_IDEMPOTENCY_MISMATCH)
		return again;
	if (result == ENGINE_REPLAYED) {
		/* The key was taken, yet no live record holds it. */
		log_error("idem: a racing record vanished");
		return ENGINE_UNAVAILABLE;
	}
	return result;
}
