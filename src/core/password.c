/*
 * Password bounds and hashing.  The semaphore is the bound on concurrent
 * Argon2id computations; waiting for it is the queue.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../log.h"
#include "password.h"

struct hasher {
	unsigned long long	 opslimit;
	size_t			 memlimit;	/* bytes */
	sem_t			 slots;
	char			 dummy[crypto_pwhash_STRBYTES];
};

enum password_check
password_check_bounds(const char *pw)
{
	size_t len = strnlen(pw, PASSWORD_MAX_BYTES + 1);
	size_t chars;

	if (len > PASSWORD_MAX_BYTES)
		return PASSWORD_TOO_LONG;
	if (!str_is_clean_utf8(pw, len))
		return PASSWORD_INVALID_TEXT;
	chars = str_utf8_count(pw);
	if (chars < PASSWORD_MIN_CHARS)
		return PASSWORD_TOO_SHORT;
	if (chars > PASSWORD_MAX_CHARS)
		return PASSWORD_TOO_LONG;
	return PASSWORD_OK;
}

struct hasher *
hasher_new(uint64_t opslimit, size_t memory_kib, int concurrency)
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	char salt_pw[32];

	if (concurrency <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		concurrency = n > 0 ? (int)n : 1;
	}
	h->opslimit = opslimit;
	h->memlimit = memory_kib * 1024;
	sem_init(&h->slots, 0, (unsigned)concurrency);
	/* The dummy hash is of a random password nobody knows. */
	randombytes_buf(salt_pw, sizeof(salt_pw) - 1);
	salt_pw[sizeof(salt_pw) - 1] = '\0';
	if (crypto_pwhash_str(h->dummy, salt_pw, sizeof(salt_pw) - 1,
	    h->opslimit, h->memlimit) != 0) {
		log_error("password: cannot make the dummy hash");
		sem_destroy(&h->slots);
		free(h);
		return NULL;
	}
	return h;
}

void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	sem_destroy(&h->slots);
	free(h);
}

static void
slot_take(struct hasher *h)
{
	while (sem_wait(&h->slots) == -1)
		continue;	/* EINTR */
}

char *
hasher_hash(struct hasher *h, const char *pw)
{
	char out[crypto_pwhash_STRBYTES];
	int rc;

	slot_take(h);
	rc = crypto_pwhash_str(out, pw, strlen(pw), h->opslimit, h->memlimit);
	sem_post(&h->slots);
	if (rc != 0) {
		log_error("password: hashing failed (out of memory?)");
		return NULL;
	}
	return xstrdup(out);
}

int
hasher_verify(struct hasher *h, const char *hash, const char *pw)
{
	int rc;

	slot_take(h);
	rc = crypto_pwhash_str_verify(hash != NULL ? hash : h->dummy, pw,
	    strlen(pw));
	sem_post(&h->slots);
	return hash != NULL && rc == 0;
}

int
hasher_needs_rehash(struct hasher *h, const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, h->opslimit,
	    h->memlimit) != 0;
}

struct bench_thread {
	struct hasher	*h;
	int64_t		 until_ms;
	int64_t		 count;
	int		 failed;
};

static void *
bench_main(void *arg)
{
	struct bench_thread *b = arg;
	char *hash;

	while (time_mono_ms() < b->until_ms) {
		hash = hasher_hash(b->h, "correct horse battery staple");
		if (hash == NULL) {
			b->failed = 1;
			break;
		}
		free(hash);
		b->count++;
	}
	return NULL;
}

int64_t
hasher_bench(struct hasher *h, int threads, int64_t ms)
{
	struct bench_thread *b = xcalloc((size_t)threads, sizeof(*b));
	pthread_t *t = xcalloc((size_t)threads, sizeof(*t));
	int64_t total = 0, until = time_mono_ms() + ms;
	int i, started = 0, failed = 0;

	for (i = 0; i < threads; i++) {
		b[i] = (struct bench_thread){ h, until, 0, 0 };
		if (pthread_create(&t[i], NULL, bench_main, &b[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		total += b[i].count;
		failed |= b[i].failed;
	}
	free(b);
	free(t);
	return failed || started < threads ? -1 : total;
}
