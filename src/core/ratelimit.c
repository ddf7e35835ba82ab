/*
 * The per-client token buckets (see ratelimit.h).
 *
 * Tokens are counted in millionths, so that slow refill rates (ten per
 * ten minutes) lose nothing to integer division.  One mutex guards the
 * table: a take is a hash and a few comparisons, far cheaper than the
 * request it guards.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define PROBE 8			/* slots a key may live in */
#define UNIT 1000000LL		/* one token */

struct slot {
	struct addr	 key;
	int64_t		 seen_ms;	/* 0: free */
	int64_t		 tokens[RL__MAX];
	int64_t		 at_ms[RL__MAX];	/* when tokens was right */
	uint8_t		 refusing[RL__MAX];
};

struct ratelimit {
	pthread_mutex_t		 lock;
	struct slot		*slots;
	size_t			 mask;
	struct ratelimit_rule	 rules[RL__MAX];
	uint8_t			 key[crypto_shorthash_KEYBYTES];
};

static const char *const class_names[RL__MAX] = {
	"request",	/* RL_REQUEST */
	"confirm",	/* RL_CONFIRM */
	"login",	/* RL_LOGIN */
	"api",		/* RL_API */
};

const char *
ratelimit_class_name(enum ratelimit_class c)
{
	if (c < 0 || c >= RL__MAX)
		abort();
	return class_names[c];
}

struct ratelimit *
ratelimit_new(size_t slots, const struct ratelimit_rule rules[RL__MAX])
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));
	size_t n = PROBE;

	while (n < slots)
		n *= 2;
	rl->slots = xcalloc(n, sizeof(*rl->slots));
	rl->mask = n - 1;
	memcpy(rl->rules, rules, sizeof(rl->rules));
	crypto_shorthash_keygen(rl->key);
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	free(rl);
}

/* The slot of key a: its own, a free one, or the stalest to evict. */
static struct slot *
slot_of(struct ratelimit *rl, const struct addr *a, int64_t now_ms)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t start;
	struct slot *s, *victim = NULL;
	size_t i;
	int c;

	crypto_shorthash(h, (const uint8_t *)a, sizeof(*a), rl->key);
	memcpy(&start, h, sizeof(start));
	for (i = 0; i < PROBE; i++) {
		s = &rl->slots[(start + i) & rl->mask];
		if (s->seen_ms != 0 && memcmp(&s->key, a, sizeof(*a)) == 0)
			return s;
		if (victim == NULL || s->seen_ms < victim->seen_ms)
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = *a;
	for (c = 0; c < RL__MAX; c++) {
		victim->tokens[c] = rl->rules[c].limit * UNIT;
		victim->at_ms[c] = now_ms;
	}
	return victim;
}

int64_t
ratelimit_take(struct ratelimit *rl, const struct addr *a,
    enum ratelimit_class cls, int64_t now_ms, int *first)
{
	const struct ratelimit_rule *r;
	struct addr key;
	struct slot *s;
	int64_t elapsed, full, wait_ms, wait = 0;

	if (cls < 0 || cls >= RL__MAX)
		abort();
	*first = 0;
	r = &rl->rules[cls];
	if (r->limit <= 0)
		return 0;
	addr_group(a, &key);
	if (now_ms <= 0)
		now_ms = 1;	/* 0 marks a free slot */
	pthread_mutex_lock(&rl->lock);
	s = slot_of(rl, &key, now_ms);
	s->seen_ms = now_ms;
	full = r->limit * UNIT;
	elapsed = now_ms - s->at_ms[cls];
	if (elapsed > r->window_s * 1000)
		elapsed = r->window_s * 1000;	/* full by then anyway */
	if (elapsed > 0) {
		s->tokens[cls] += elapsed * r->limit * (UNIT / 1000) /
		    r->window_s;
		if (s->tokens[cls] > full)
			s->tokens[cls] = full;
		s->at_ms[cls] = now_ms;
	}
	if (s->tokens[cls] >= UNIT) {
		s->tokens[cls] -= UNIT;
		s->refusing[cls] = 0;
	} else {
		/* ms until one token: (UNIT - tokens) / (limit * 1000 / window). */
		wait_ms = ((UNIT - s->tokens[cls]) * r->window_s +
		    r->limit * 1000 - 1) / (r->limit * 1000);
		wait = (wait_ms + 999) / 1000;
		if (wait < 1)
			wait = 1;
		*first = !s->refusing[cls];
		s->refusing[cls] = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
