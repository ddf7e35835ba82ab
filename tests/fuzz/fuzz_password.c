/*
 * Fuzz the password policy on any text: NFKC normalisation, the common
 * list, the context check, zxcvbn and the character classes; and the breached-list search over a
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
	/* Every rule on: the lists, the score and Cognito's classes. */
	struct password_policy p = { .min_length = 8,
		.min_score = 2,
		.checks = PW_CHECKS_ALL };
	const char *context[] = { "alice@example.com", "alice", "Acme", NULL };
	struct password_verdict v;
	char *s = fuzz_cstr(data, len), path[64];
	int fd;

	(void)password_check(&p, s, context, &v);
	/* Xsolla's bounds, nothing else. */
	p = (struct password_policy){ .min_length = 6, .max_length = 100 };
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
