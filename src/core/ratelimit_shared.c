/*
 * Per-address limits shared through the database (rate_limit_store =
 * database), for instances behind one balancer that must count one
 * client together.
 *
 * The buckets and scopes are those of ratelimit.c: the same rules, the
 * same all-or-nothing take over a client's /64, /56 and /48.  A take is
 * one statement per bucket that refills it and takes a token if it has
 * one (store_rate_take); a bucket that refuses has the earlier buckets'
 * tokens given back.  Times are the database's (db_now), so instances
 * with skewed clocks agree.  Rows are keyed by a keyed hash of the scope,
 * class and range under a subkey of the server secret, which every
 * instance shares: the table holds no address.  Rows idle past the
 * longest window are full buckets and are deleted, by one instance about
 * once a minute.
 *
 * A take that fails (the database is down) lets the call through: the
 * limiter fails open, as the in-memory one does under eviction, and the
 * call's own work will meet the same failure.
 */
#include <string.h>

#include <sodium.h>

#include "../log.h"
#include "engine_internal.h"

#define PRUNE_EVERY_MS (60LL * 1000)

/* Buckets idle this long are full under rules, and can be deleted. */
static int64_t
longest_window_ms(const struct ratelimit_rule rules[RS__MAX][RL__MAX])
{
	int64_t longest = 0;
	int s, c;

	for (s = 0; s < RS__MAX; s++)
		for (c = 0; c < RL__MAX; c++)
			if (rules[s][c].window_s * 1000 > longest)
				longest = rules[s][c].window_s * 1000;
	return longest;
}

/* The row key of one bucket: hex of a keyed hash, RATE_KEY_LEN chars. */
static void
bucket_key(const struct engine *e, enum ratelimit_scope scope,
    enum ratelimit_class cls, const struct addr *range,
    char out[RATE_KEY_LEN + 1])
{
	crypto_generichash_state st;
	uint8_t h[RATE_KEY_LEN / 2], head[3];

	head[0] = (uint8_t)scope;
	head[1] = (uint8_t)cls;
	head[2] = (uint8_t)range->family;
	crypto_generichash_init(&st, e->rate_key, sizeof(e->rate_key),
	    sizeof(h));
	crypto_generichash_update(&st, head, sizeof(head));
	crypto_generichash_update(&st, range->bytes, sizeof(range->bytes));
	crypto_generichash_final(&st, h, sizeof(h));
	hex_encode(h, sizeof(h), out);
}

int64_t
ratelimit_shared_take(struct engine *e, const struct addr *a,
    enum ratelimit_class cls, int *first)
{
	struct addr ranges[RS__MAX];
	enum ratelimit_scope scopes[RS__MAX];
	char keys[RS__MAX][RATE_KEY_LEN + 1];
	struct ratelimit_rule rules[RS__MAX][RL__MAX];
	const struct ratelimit_rule *r;
	struct store_rate_bucket b[RS__MAX];
	int64_t now, last, prune_before = 0, wait_ms = 0;
	int i, n, used;

	*first = 0;
	ratelimit_rules(e->ratelimit, rules);
	n = ratelimit_scopes(a, ranges, scopes);
	for (i = used = 0; i < n; i++) {
		r = &rules[scopes[i]][cls];
		if (r->limit <= 0)
			continue;
		bucket_key(e, scopes[i], cls, &ranges[i], keys[used]);
		b[used].key = keys[used];
		b[used].full = r->limit * STORE_RATE_UNIT;
		b[used].window_ms = r->window_s * 1000;
		b[used].per_ms = r->limit * (STORE_RATE_UNIT / 1000) /
		    r->window_s;
		used++;
	}
	if (used == 0)
		return 0;
	now = db_now(e->db);
	last = __atomic_load_n(&e->rate_pruned_ms, __ATOMIC_RELAXED);
	if (now - last >= PRUNE_EVERY_MS &&
	    __atomic_compare_exchange_n(&e->rate_pruned_ms, &last, now, 0,
		__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		prune_before = now - longest_window_ms(rules);
	if (store_rate_take(e->db, b, used, now, prune_before, &wait_ms,
		first) != STORE_OK)
		return 0; /* fail open; the db layer logged why */
	if (wait_ms == 0)
		return 0;
	return (wait_ms + 999) / 1000;
}
