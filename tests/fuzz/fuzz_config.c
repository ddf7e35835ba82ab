/*
 * Fuzz the config file parser: the input is a whole file, read through a
 * memory file so the real open-and-read path runs.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config *c = NULL;
	char path[64], err[512];
	int fd = memfd_create("resetd-fuzz-config", MFD_CLOEXEC);

	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &c, err, sizeof(err)) == 0)
		config_free(c);
	close(fd);
	return 0;
}
