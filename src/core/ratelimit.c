/*
 * The per-client token buckets (see ratelimit.h).
 *
 * Tokens are counted in millionths, so that slow refill rates (ten per
 * ten minutes) lose nothing to integer division.  One mutex guards the
 * table: a take is a few hashes and comparisons, far cheaper than the
 * request it guards.  Every scope's buckets live in the one table, keyed
 * by the scope and the range; a /56 or /48 that is busy is seen often and
 * so is the last to be evicted.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define PROBE 8	       /* slots a key may live in */
#define UNIT 1000000LL /* one token */

struct key {
	struct addr range; /* the address, bits past the prefix 0 */
	int scope;	   /* enum ratelimit_scope */
};

struct slot {
	struct key key;
	uint64_t seen; /* when last used, in takes; 0: free */
	int64_t tokens[RL__MAX];
	int64_t at_ms[RL__MAX]; /* when tokens was right */
	uint8_t refusing[RL__MAX];
};

struct ratelimit {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t mask;
	uint64_t takes; /* a clock for eviction order */
	struct ratelimit_rule rules[RS__MAX][RL__MAX];
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static const char *const class_names[RL__MAX] = {
	"request", /* RL_REQUEST */
	"confirm", /* RL_CONFIRM */
	"login",   /* RL_LOGIN */
	"api",	   /* RL_API */
};

const char *
ratelimit_class_name(enum ratelimit_class c)
{
	if (c < 0 || c >= RL__MAX)
		abort();
	return class_names[c];
}

/* The prefix length of each scope, for IPv6. */
static const int scope_bits[RS__MAX] = {
	64, /* RS_HOST */
	56, /* RS_NET56 */
	48, /* RS_NET48 */
};

int
ratelimit_scopes(const struct addr *a, struct addr out[RS__MAX],
    enum ratelimit_scope scopes[RS__MAX])
{
	int i;

	if (a->family != 6) {
		out[0] = *a;
		scopes[0] = RS_HOST;
		return 1;
	}
	for (i = 0; i < RS__MAX; i++) {
		addr_prefix(a, scope_bits[i], &out[i]);
		scopes[i] = (enum ratelimit_scope)i;
	}
	return RS__MAX;
}

struct ratelimit *
ratelimit_new(size_t slots, const struct ratelimit_rule rules[RS__MAX][RL__MAX])
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

void
ratelimit_set_rules(struct ratelimit *rl,
    const struct ratelimit_rule rules[RS__MAX][RL__MAX])
{
	struct slot *s;
	size_t i;
	int c;

	pthread_mutex_lock(&rl->lock);
	/*
	 * A class that had no limit kept no count: its buckets start full,
	 * as a new client's do.  A walk of the table, once per reload.
	 */
	for (i = 0; i <= rl->mask; i++) {
		s = &rl->slots[i];
		if (s->seen == 0)
			continue;
		for (c = 0; c < RL__MAX; c++)
			if (rl->rules[s->key.scope][c].limit <= 0 &&
			    rules[s->key.scope][c].limit > 0)
				s->tokens[c] = rules[s->key.scope][c].limit *
				    UNIT;
	}
	memcpy(rl->rules, rules, sizeof(rl->rules));
	pthread_mutex_unlock(&rl->lock);
}

void
ratelimit_rules(struct ratelimit *rl,
    struct ratelimit_rule rules[RS__MAX][RL__MAX])
{
	pthread_mutex_lock(&rl->lock);
	memcpy(rules, rl->rules, sizeof(rl->rules));
	pthread_mutex_unlock(&rl->lock);
}

/*
 * The slot of key a: its own, a free one, or the stalest to evict, but
 * never one of the nheld slots this call already holds.
 */
static struct slot *
slot_of(struct ratelimit *rl, const struct key *a, int64_t now_ms,
    struct slot *const *held, int nheld)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t start;
	struct slot *s, *victim = NULL;
	size_t i;
	int c, j;

	crypto_shorthash(h, (const uint8_t *)a, sizeof(*a), rl->key);
	memcpy(&start, h, sizeof(start));
	for (i = 0; i < PROBE; i++) {
		s = &rl->slots[(start + i) & rl->mask];
		if (s->seen != 0 && memcmp(&s->key, a, sizeof(*a)) == 0)
			return s;
		for (j = 0; j < nheld; j++)
			if (held[j] == s)
				break;
		if (j < nheld)
			continue;
		if (victim == NULL || s->seen < victim->seen)
			victim = s;
	}
	assert(victim != NULL); /* PROBE > RS__MAX */
	memset(victim, 0, sizeof(*victim));
	victim->key = *a;
	for (c = 0; c < RL__MAX; c++) {
		victim->tokens[c] = rl->rules[a->scope][c].limit * UNIT;
		victim->at_ms[c] = now_ms;
	}
	return victim;
}

/*
 * Bring the bucket of class cls in s up to now_ms under rule r, and return
 * 0 when it holds a token, or the milliseconds until it will.
 */
static int64_t
refill(struct slot *s, const struct ratelimit_rule *r, enum ratelimit_class cls,
    int64_t now_ms)
{
	int64_t elapsed, full = r->limit * UNIT;

	elapsed = now_ms - s->at_ms[cls];
	if (elapsed > r->window_s * 1000)
		elapsed = r->window_s * 1000; /* full by then anyway */
	if (elapsed > 0) {
		s->tokens[cls] += elapsed * r->limit * (UNIT / 1000) /
		    r->window_s;
		s->at_ms[cls] = now_ms;
	}
	/* Past a refill, or a reload that lowered the limit. */
	if (s->tokens[cls] > full)
		s->tokens[cls] = full;
	if (s->tokens[cls] >= UNIT)
		return 0;
	/* ms until one token: (UNIT - tokens) / (limit * 1000 / window). */
	return ((UNIT - s->tokens[cls]) * r->window_s + r->limit * 1000 - 1) /
	    (r->limit * 1000);
}

int64_t
ratelimit_take(struct ratelimit *rl, const struct addr *a,
    enum ratelimit_class cls, int64_t now_ms, int *first)
{
	struct addr ranges[RS__MAX];
	enum ratelimit_scope scopes[RS__MAX];
	struct slot *s[RS__MAX];
	struct key k;
	int64_t wait_ms[RS__MAX], longest = 0, wait = 0;
	int i, n, used = 0;

	if (cls < 0 || cls >= RL__MAX)
		abort();
	*first = 0;
	n = ratelimit_scopes(a, ranges, scopes);
	pthread_mutex_lock(&rl->lock);
	for (i = 0; i < n; i++) {
		if (rl->rules[scopes[i]][cls].limit <= 0)
			continue;
		memset(&k, 0, sizeof(k)); /* the hash reads the padding */
		k.range = ranges[i];
		k.scope = scopes[i];
		s[used] = slot_of(rl, &k, now_ms, s, used);
		s[used]->seen = ++rl->takes;
		wait_ms[used] = refill(s[used], &rl->rules[scopes[i]][cls], cls,
		    now_ms);
		if (wait_ms[used] > longest)
			longest = wait_ms[used];
		used++;
	}
	/* All or nothing: a refused call spends no bucket's token. */
	for (i = 0; i < used; i++) {
		if (longest == 0) {
			s[i]->tokens[cls] -= UNIT;
			s[i]->refusing[cls] = 0;
		} else if (wait_ms[i] > 0) {
			if (!s[i]->refusing[cls])
				*first = 1;
			s[i]->refusing[cls] = 1;
		}
	}
	pthread_mutex_unlock(&rl->lock);
	if (longest > 0) {
		wait = (longest + 999) / 1000;
		if (wait < 1)
			wait = 1;
	}
	return wait;
}
