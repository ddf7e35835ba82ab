/*
 * What every fuzz driver shares: libFuzzer's entry point, and a helper that
 * copies the input into a NUL-terminated string.  The same driver links
 * against libFuzzer (make fuzz, clang) or against replay.c (make test, any
 * compiler), which runs it once on each file of its corpus.
 */
#ifndef RESETD_FUZZ_H
#define RESETD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as a C string (NUL bytes included, so it may end early). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif
