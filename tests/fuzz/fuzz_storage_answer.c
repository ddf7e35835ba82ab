/*
 * Fuzz the reading of a user storage app's answers (core/userstore.c):
 * the first byte picks the Content-Type the answer came with, the rest is
 * its body, read as a user object (storage_parse_user) and as a bare JSON
 * object (storage_answer_object).  Any verdict is fine; a crash, a leak,
 * or a user believed without an id of 1 to 128 bytes and an email, is
 * not.
 */
#include "fuzz.h"
#include "core/userstore.h"

static const char *const ctypes[] = {
	"application/json",
	"application/json; charset=utf-8",
	"text/plain",
	"APPLICATION/JSON",
	"application/jsonx",
	"",
	NULL,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct storage_user su;
	const char *ctype;
	char err[STORAGE_ERR_MAX];
	size_t n = sizeof(ctypes) / sizeof(ctypes[0]);

	if (len == 0)
		return 0;
	ctype = ctypes[data[0] % n];
	data++;
	len--;
	memset(&su, 0, sizeof(su));
	if (storage_parse_user(ctype, (const char *)data, len, &su, err,
		sizeof(err)) == 0) {
		if (su.id == NULL || su.id[0] == '\0' ||
		    strlen(su.id) > STORAGE_ID_MAX || su.email == NULL)
			abort();
		storage_user_clear(&su);
	} else if (su.id != NULL || su.email != NULL)
		abort();
	(void)storage_answer_object(ctype, (const char *)data, len, err,
	    sizeof(err));
	return 0;
}
