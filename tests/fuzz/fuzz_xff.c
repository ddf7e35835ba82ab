/*
 * Fuzz the client-address logic: a trusted-proxy list and an
 * X-Forwarded-For value, split at the first newline of the input.
 */
#include "fuzz.h"
#include "http/http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstr(data, len);
	char *nl = strchr(s, '\n');
	struct cidr list[16];
	static const struct cidr none[1];
	char out[64];
	size_t n = 0;

	if (nl != NULL)
		*nl = '\0';
	if (cidr_parse_list(s, list, 16, &n) == -1)
		n = 0;
	http_client_ip("127.0.0.1", nl ? nl + 1 : s, n ? list : none, n, out,
	    sizeof(out));
	http_client_ip("::1", nl ? nl + 1 : s, n ? list : none, n, out,
	    sizeof(out));
	free(s);
	return 0;
}
