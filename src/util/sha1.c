/*
 * SHA-1, for one purpose only: looking passwords up in the public
 * breached-password lists, which are keyed by it.  It is never used to
 * protect anything.  libcrypto computes it; libcurl and libpq load that
 * library already.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "util.h"

void
sha1(const void *data, size_t len, uint8_t out[SHA1_BYTES])
{
	/*
	 * A built-in digest over a buffer fails only when libcrypto cannot
	 * allocate its context: fatal, as running out of memory is in
	 * xmalloc.
	 */
	if (EVP_Digest(data, len, out, NULL, EVP_sha1(), NULL) != 1) {
		fprintf(stderr, "resetd: out of memory computing SHA-1\n");
		abort();
	}
}
