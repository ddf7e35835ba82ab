/*
 * Fuzz the password policy on any text: NFKC normalisation, the common
 * list, the context check and zxcvbn; and the breached-list search over a
 * file whose contents are the input itself (any bytes, any line lengths).
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/password.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct password_policy p = { 8, 2, NULL };
	const char *context[] = { "alice@example.com", "alice", "Acme", NULL };
	struct password_verdict v;
	char *s = fuzz_cstr(data, len), path[64];
	int fd;

	(void)password_check(&p, s, context, &v);
	fd = memfd_create("resetd-fuzz-breached", MFD_CLOEXEC);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)password_breached(path, "password");
	(void)password_breached(path, s);
	close(fd);
	free(s);
	return 0;
}
