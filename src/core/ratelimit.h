/*
 * Per-client rate limits, in memory: one token bucket per client address
 * and class of call, in a table of fixed size.
 *
 * A bucket holds up to limit tokens and refills at limit per window; a
 * call takes one token, and a call that finds none is refused with the
 * time until the next token.  Clients are keyed by address, IPv6 by its
 * /64 (one host usually holds a whole /64), through a keyed hash with a
 * random key, so nobody can aim collisions at a victim's slot.
 *
 * A /64 costs nothing to change: a home gets a /56 and a site a /48, so an
 * IPv6 client also spends a token of its /56 and of its /48, each scope
 * with limits of its own.  A call goes on only when every bucket it spends
 * from has a token, and then takes one from each; a refused call takes
 * none, so one noisy /64 refused by its own bucket does not drain its
 * neighbours' /56.  IPv4 has one scope, the address: a /24 often holds
 * many unrelated clients (a campus, a carrier's NAT pool, a cloud), and
 * addresses are not free to rotate.
 *
 * The table never grows.  A new client takes a free slot among the few its
 * hash points at, or else the one seen least recently there, whose counts
 * are forgotten.  Under a flood of fresh addresses the memory stays the
 * same and the oldest clients lose their history: the limiter fails open
 * for them, never closed for an innocent client.  The state is per
 * instance; instances behind one load balancer each count on their own,
 * unless rate_limit_store = database keeps the same buckets in the
 * database instead (core/ratelimit_shared.c).
 */
#ifndef RESETD_RATELIMIT_H
#define RESETD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* What a call spends; each class has its own bucket per client. */
enum ratelimit_class {
	RL_REQUEST, /* 0: reset requests (they send mail) */
	RL_CONFIRM, /* 1: reset confirms (they guess secrets) */
	RL_LOGIN,   /* 2: logins (they guess passwords) */
	RL_API,	    /* 3: server-to-server calls with an API key */
	RL__MAX
};

/* The address ranges a client is counted in. */
enum ratelimit_scope {
	RS_HOST,  /* 0: an IPv4 address, or an IPv6 /64 */
	RS_NET56, /* 1: the IPv6 /56 (a home's delegation) */
	RS_NET48, /* 2: the IPv6 /48 (a site's) */
	RS__MAX
};

struct ratelimit_rule {
	int64_t limit;	  /* tokens; 0: no limit for the class */
	int64_t window_s; /* seconds to refill limit tokens */
};

struct ratelimit;

/*
 * Make a limiter of at least slots entries (rounded up to a power of two)
 * with a rule per scope and class (a limit of 0: that scope does not
 * limit that class).  It allocates everything once, here.
 */
struct ratelimit *ratelimit_new(size_t slots,
    const struct ratelimit_rule rules[RS__MAX][RL__MAX]);
void ratelimit_free(struct ratelimit *);
/*
 * Replace the rules, for a reload: from the next take on, every bucket
 * fills to its new limit at its new rate, and a bucket holding more than a
 * lowered limit is cut down to it, and a class that had no limit starts
 * full.  Counts so far are kept.  Safe while other threads take tokens.
 */
void ratelimit_set_rules(struct ratelimit *,
    const struct ratelimit_rule rules[RS__MAX][RL__MAX]);
/* Copy the rules in force into rules. */
void ratelimit_rules(struct ratelimit *,
    struct ratelimit_rule rules[RS__MAX][RL__MAX]);
/*
 * Take a token of class cls for client a at now_ms from every scope a is
 * counted in.  Return 0 when the call may go on, or the seconds (at least
 * 1) until it may, for a Retry-After.  *first is set to 1 on the first
 * refusal by a bucket after it allowed a call, so that a run of refusals
 * is recorded once, even when each refused call comes from a fresh /64.
 */
int64_t ratelimit_take(struct ratelimit *, const struct addr *a,
    enum ratelimit_class cls, int64_t now_ms, int *first);
/* The name of a class, for logs and the audit trail: "request", ... */
const char *ratelimit_class_name(enum ratelimit_class);
/*
 * The scopes client a is counted in, narrowest first: out[i] is a's range
 * in scope scopes[i] (its address with the bits past the prefix cleared).
 * Return how many (1 for IPv4, RS__MAX for IPv6).
 */
int ratelimit_scopes(const struct addr *a, struct addr out[RS__MAX],
    enum ratelimit_scope scopes[RS__MAX]);

#endif
