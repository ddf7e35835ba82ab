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
unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
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

/*
 * Randomized tests draw from a seeded generator, so that a failure can be
 * replayed: the seed is RESETD_TEST_SEED when set, a fresh one otherwise,
 * and is printed either way.  splitmix64: small, and good enough to pick
 * inputs.
 */
struct unit_rng {
	uint64_t state;
};

static inline void
unit_rng_init(struct unit_rng *r, const char *test)
{
	const char *env = getenv("RESETD_TEST_SEED");
	struct timespec ts;
	uint64_t seed;

	if (env != NULL && *env != '\0')
		seed = strtoull(env, NULL, 10);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ULL ^
		    (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	}
	fprintf(stderr, "%s: seed %llu (RESETD_TEST_SEED=%llu replays it)\n",
	    test, (unsigned long long)seed, (unsigned long long)seed);
	r->state = seed;
}

static inline uint64_t
unit_rng_next(struct unit_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, bound), bound > 0. */
static inline uint32_t
unit_rng_uniform(struct unit_rng *r, uint32_t bound)
{
	return (uint32_t)(unit_rng_next(r) % bound);
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
