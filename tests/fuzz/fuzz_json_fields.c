/*
 * Fuzz the request decoding the dialects share: a body parsed as
 * api_parse_object parses it (duplicates refused, jansson's depth cap),
 * then every field each dialect reads, with its cap, through
 * api_string_field.  The handlers themselves need a live connection; what
 * they do with a decoded field is the engine's, tested elsewhere.
 */
#include <jansson.h>

#include "api/api.h"
#include "fuzz.h"

static const struct {
	const char *name;
	size_t max;
} fields[] = {
	{ "username", 1024 },
	{ "new_password", 4096 },
	{ "reset_code", 1024 },
	{ "user_id", 1024 },
	{ "password", 4096 },
	{ "email", 1024 },
	{ "token", 1024 },
	{ "password_reset_url", 2048 },
	{ "ClientId", 128 },
	{ "Username", 320 },
	{ "SecretHash", 128 },
	{ "ConfirmationCode", 2048 },
	{ "Password", 4096 },
	{ "userName", 320 },
	{ "verificationCode", 2048 },
	{ "newPassword", 4096 },
	{ "secretHash", 128 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_error_t je;
	const char *v;
	json_t *body;
	size_t i;

	body = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (api_string_field(body, fields[i].name, fields[i].max, &v) ==
			1 &&
		    strlen(v) > fields[i].max)
			abort(); /* a cap that did not hold */
	json_decref(body);
	return 0;
}
