/*
 * Fuzz the decoders of identifiers and secrets: base64url, hex, ULID and
 * prefixed ids, UUID checks.
 */
#include <strings.h>

#include "fuzz.h"
#include "util/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	uint8_t *out = malloc(len + 1);
	char uuid[UUID_STRLEN + 1], ulid[ULID_STRLEN + 1];
	size_t n = strlen(s);
	int rc = 0;

	if (out == NULL)
		abort();
	rc |= base64url_decode(s, n, out);
	rc |= hex_decode(s, n, out);
	if (id_is_uuid(s) && id_uuid_to_ulid(s, ulid) == 0 &&
	    (id_ulid_to_uuid(ulid, uuid) != 0 || strcasecmp(uuid, s) != 0))
		abort(); /* the two forms must round trip */
	rc |= id_ulid_to_uuid(s, uuid);
	rc |= id_unprefix("user_", s, uuid);
	rc |= id_unprefix("password_reset_", s, uuid);
	(void)rc; /* any answer is fine; a crash is not */
	free(out);
	free(s);
	return 0;
}
