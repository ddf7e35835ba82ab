/*
 * Sealing queued mail payloads; see payload.h.  The associated data is
 * the row's id, project, kind and recipient, each ended by a NUL, so that
 * no two different rows give the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "payload.h"

#define PREFIX "v1:"
#define PREFIX_LEN 3
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_MAX (NONCE_BYTES + PAYLOAD_MAX + MAC_BYTES)

/* The associated data of ad in b; its length. */
static size_t
ad_bytes(const struct payload_ad *ad, struct buf *b)
{
	const char *parts[] = { ad->id, ad->project_id, ad->kind, ad->to };
	const char *p;
	size_t i;

	buf_init(b, 4096);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		p = parts[i] != NULL ? parts[i] : "";
		if (buf_append(b, p, strlen(p) + 1) == -1)
			abort(); /* ids and addresses are far shorter */
	}
	return b->len;
}

char *
payload_seal(const uint8_t key[PAYLOAD_KEY_BYTES], const struct payload_ad *ad,
    const char *text)
{
	size_t tlen = strlen(text), slen = NONCE_BYTES + tlen + MAC_BYTES;
	uint8_t *box = xmalloc(slen);
	char *out = xmalloc(PREFIX_LEN + B64URL_LEN(slen) + 1);
	struct buf b;
	size_t adlen;

	adlen = ad_bytes(ad, &b);
	randombytes_buf(box, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE_BYTES, NULL,
	    (const uint8_t *)text, tlen, (const uint8_t *)buf_cstr(&b), adlen,
	    NULL, box, key);
	memcpy(out, PREFIX, PREFIX_LEN);
	base64url_encode(box, slen, out + PREFIX_LEN);
	buf_free(&b);
	free(box);
	return out;
}

int
payload_open(const uint8_t key[PAYLOAD_KEY_BYTES], const struct payload_ad *ad,
    const char *stored, char **text)
{
	size_t len = strnlen(stored, B64URL_LEN(SEALED_MAX) + PREFIX_LEN + 1);
	unsigned long long plen;
	uint8_t *box = NULL;
	char *plain = NULL;
	struct buf b;
	size_t adlen, psize = 0;
	int n, rc = -1;

	if (stored[0] == '{' && len <= PAYLOAD_MAX) {
		*text = xstrdup(stored);
		return 0;
	}
	if (len > B64URL_LEN(SEALED_MAX) + PREFIX_LEN ||
	    strncmp(stored, PREFIX, PREFIX_LEN) != 0)
		return -1;
	box = xmalloc(len);
	n = base64url_decode(stored + PREFIX_LEN, len - PREFIX_LEN, box);
	if (n < (int)(NONCE_BYTES + MAC_BYTES))
		goto out;
	psize = (size_t)n - NONCE_BYTES - MAC_BYTES + 1;
	plain = xmalloc(psize);
	adlen = ad_bytes(ad, &b);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)plain, &plen,
		NULL, box + NONCE_BYTES, (size_t)n - NONCE_BYTES,
		(const uint8_t *)buf_cstr(&b), adlen, box, key) == 0 &&
	    memchr(plain, '\0', (size_t)plen) == NULL) {
		plain[plen] = '\0';
		*text = plain;
		plain = NULL;
		rc = 0;
	}
	buf_free(&b);
out:
	if (plain != NULL)
		sodium_memzero(plain, psize);
	free(plain);
	free(box);
	return rc;
}
