/*
 * Queued mail payloads at rest.  A payload holds what a template needs,
 * a live reset link or code included, from the moment it is queued until
 * it is sent, and the database's write-ahead log keeps copies after that.
 * So it is stored sealed: XChaCha20-Poly1305 under a key derived from the
 * server secret, with the row's id, project, kind and recipient as
 * associated data, so a sealed payload opens only in the row it was made
 * for and a copy of the database alone reads nothing.
 *
 * Stored form: "v1:" then base64url(nonce || ciphertext).  A payload
 * queued by an older version is the bare JSON object, starting with '{':
 * it is still opened, so that mail queued before an upgrade goes out.
 */
#ifndef RESETD_PAYLOAD_H
#define RESETD_PAYLOAD_H

#include <stdint.h>

#include "../util/util.h"

#define PAYLOAD_KEY_BYTES 32
#define PAYLOAD_MAX (64 * 1024) /* longest payload text, sealed or not */

/* What a sealed payload is bound to: its outbox row. */
struct payload_ad {
	const char *id;
	const char *project_id;
	const char *kind;
	const char *to;
};

/*
 * Seal the payload text under key, bound to ad.  Return the stored form,
 * which the caller frees.
 */
char *payload_seal(const uint8_t key[PAYLOAD_KEY_BYTES],
    const struct payload_ad *, const char *text);

/*
 * Open a stored payload under key, bound to ad, into *text (the caller
 * frees it with xfree_secret).  An older, unsealed payload is copied as it
 * is.  Return 0, or -1 when it is malformed, tampered with, made for
 * another row, or sealed under another key.
 */
int payload_open(const uint8_t key[PAYLOAD_KEY_BYTES],
    const struct payload_ad *, const char *stored, char **text) WUR;

#endif
