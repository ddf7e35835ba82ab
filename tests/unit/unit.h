/*
 * What every unit test shares: the includes cmocka needs in the order it
 * needs them, and small helpers for temporary folders and files.  Helpers
 * are static inline so a test that does not use one is not warned about it.
 */
#ifndef RESETD_UNIT_H
#define RESETD_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UNIT_DIR_MAX 64
#define UNIT_PATH_MAX 256

/* Make a fresh folder /tmp/resetd-unit-XXXXXX; its path goes into dir. */
static inline void
unit_tmpdir(char dir[UNIT_DIR_MAX])
{
	snprintf(dir, UNIT_DIR_MAX, "/tmp/resetd-unit-XXXXXX");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
}

static inline int
unit_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a folder made by unit_tmpdir and everything below it. */
static inline void
unit_rmdir(const char *dir)
{
	if (strncmp(dir, "/tmp/resetd-unit-", 17) != 0)
		fail_msg("refusing to remove %s", dir);
	if (nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fail_msg("cannot remove %s: %s", dir, strerror(errno));
}

/* Write text to dir/name; the full path goes into path. */
static inline void
unit_write_file(const char *dir, const char *name, const char *text,
    char path[UNIT_PATH_MAX])
{
	FILE *f;

	snprintf(path, UNIT_PATH_MAX, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	if (fputs(text, f) == EOF || fclose(f) == EOF)
		fail_msg("write %s: %s", path, strerror(errno));
}

/* Sleep for ms milliseconds. */
static inline void
unit_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* A string of n copies of c, which the caller frees. */
static inline char *
unit_repeat(const char *c, size_t n)
{
	size_t len = strlen(c), i;
	char *s = malloc(len * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, c, len);
	s[len * n] = '\0';
	return s;
}

/* qsort comparator for an array of char *. */
static inline int
unit_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#endif
