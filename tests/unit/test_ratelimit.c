/*
 * Unit tests of the per-client limiter (core/ratelimit.c), of the client
 * address behind trusted proxies and of the key open connections are
 * counted by (http/clientip.c).
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sodium.h>

#include "core/ratelimit.h"
#include "http/http.h"

static struct addr
A(const char *s) {
	struct addr a;

	assert_int_equal(addr_parse(s, strlen(s), &a), 0);
	return a;
}

static void
test_bucket(void **state)
{
	const struct ratelimit_rule rules[RS__MAX][RL__MAX] = {
		{ { 3, 60 }, { 0, 60 }, { 1, 10 }, { 1, 1 } },
	};
	struct ratelimit *rl = ratelimit_new(16, rules);
	struct addr a = A("192.0.2.1"), b = A("192.0.2.2");
	int first;

	(void)state;
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 0);
	/* One token per 20 s: the fourth waits 20 s, recorded once. */
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 20);
	assert_int_equal(first, 1);
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 6000, &first), 15);
	assert_int_equal(first, 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 21000, &first), 0);
	/* Another client, another bucket; a class of 0 never limits. */
	assert_int_equal(ratelimit_take(rl, &b, RL_REQUEST, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_CONFIRM, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 1000, &first), 10);
	ratelimit_free(rl);
}

/*
 * New rules from a reload: a bucket fuller than a lowered limit is cut
 * down to it at once, a raised one refills at the new rate, and a class
 * that had no limit starts full.
 */
static void
test_set_rules(void **state)
{
	const struct ratelimit_rule high[RS__MAX][RL__MAX] = {
		{ { 1000, 60 }, { 0, 60 }, { 1, 60 }, { 1, 1 } },
	};
	const struct ratelimit_rule low[RS__MAX][RL__MAX] = {
		{ { 3, 60 }, { 2, 60 }, { 60, 60 }, { 1, 1 } },
	};
	struct ratelimit_rule now[RS__MAX][RL__MAX];
	struct ratelimit *rl = ratelimit_new(16, high);
	struct addr a = A("192.0.2.1");
	int first, i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000,
				     &first),
		    0);
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 1000, &first), 60);
	ratelimit_set_rules(rl, low);
	ratelimit_rules(rl, now);
	assert_memory_equal(now, low, sizeof(now));
	/* 995 tokens left, cut to 3, in the same millisecond. */
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000,
				     &first),
		    0);
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 20);
	/* 60 a minute now: a token a second, not one a minute. */
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 1000, &first), 1);
	assert_int_equal(ratelimit_take(rl, &a, RL_LOGIN, 2000, &first), 0);
	/* Confirms had no limit: two now. */
	assert_int_equal(ratelimit_take(rl, &a, RL_CONFIRM, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_CONFIRM, 1000, &first), 0);
	assert_int_equal(ratelimit_take(rl, &a, RL_CONFIRM, 1000, &first), 30);
	ratelimit_free(rl);
}

static void
test_ipv6_and_flood(void **state)
{
	const struct ratelimit_rule rules[RS__MAX][RL__MAX] = {
		{ { 1, 60 }, { 1, 60 }, { 1, 60 }, { 1, 60 } },
	};
	struct ratelimit *rl = ratelimit_new(8, rules);
	struct addr a = A("2001:db8:1:2::1"), same = A("2001:db8:1:2:ffff::9");
	struct addr other = A("2001:db8:1:3::1"), flood;
	char text[64];
	int first, i;

	(void)state;
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 0);
	assert_true(ratelimit_take(rl, &same, RL_REQUEST, 1000, &first) > 0);
	assert_int_equal(ratelimit_take(rl, &other, RL_REQUEST, 1000, &first),
	    0);
	/* A flood of fresh addresses evicts; the table does not grow. */
	for (i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "198.51.%d.%d", i / 250, i % 250);
		flood = A(text);
		assert_int_equal(ratelimit_take(rl, &flood, RL_REQUEST,
				     2000 + i, &first),
		    0);
	}
	/* The oldest client was forgotten: fail open, never closed. */
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 5000, &first), 0);
	ratelimit_free(rl);
}

/*
 * Rotating /64s: each fresh /64 has its own full bucket, so only the /56
 * and /48 buckets can stop a client that owns a /56 or a /48.
 */
static void
test_rotating_64s(void **state)
{
	const struct ratelimit_rule rules[RS__MAX][RL__MAX] = {
		{ { 2, 60 }, { 2, 60 }, { 2, 60 }, { 2, 60 } },	  /* /64 */
		{ { 5, 60 }, { 0, 60 }, { 5, 60 }, { 5, 60 } },	  /* /56 */
		{ { 12, 60 }, { 0, 60 }, { 0, 60 }, { 12, 60 } }, /* /48 */
	};
	struct ratelimit *rl = ratelimit_new(1024, rules);
	struct addr a;
	char text[64];
	int first, i, allowed, firsts;
	int64_t wait;

	(void)state;
	/* 256 /64s of one /56, one call each: the /56 allows 5. */
	allowed = firsts = 0;
	for (i = 0; i < 256; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:%x::%x", i, i + 1);
		a = A(text);
		wait = ratelimit_take(rl, &a, RL_REQUEST, 1000, &first);
		if (wait == 0)
			allowed++;
		else
			assert_int_equal(wait, 12); /* 60 s / 5 tokens */
		firsts += first;
	}
	assert_int_equal(allowed, 5);
	assert_int_equal(firsts, 1); /* recorded once, not per /64 */
	/*
	 * Another /56 of the same /48 has its own /56 bucket but shares the
	 * /48's: 12 in all, so 7 more, over however many /56s.
	 */
	allowed = 0;
	for (i = 0; i < 4096; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:%x:1::1", 0x100 + i);
		a = A(text);
		if (ratelimit_take(rl, &a, RL_REQUEST, 1000, &first) == 0)
			allowed++;
	}
	assert_int_equal(allowed, 7);
	/* Another /48 is not touched; nor is IPv4, which has no wider scope. */
	a = A("2001:db8:2::1");
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000, &first), 0);
	for (i = 0; i < 256; i++) {
		snprintf(text, sizeof(text), "192.0.2.%d", i);
		a = A(text);
		assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 1000,
				     &first),
		    0);
	}
	/* A class whose wider limits are 0 is limited per /64 alone. */
	allowed = 0;
	for (i = 0; i < 256; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:%x::1", i);
		a = A(text);
		if (ratelimit_take(rl, &a, RL_CONFIRM, 1000, &first) == 0)
			allowed++;
	}
	assert_int_equal(allowed, 256);
	/* The login class: /56 at 5 and no /48 limit; each /56 gets 5. */
	allowed = 0;
	for (i = 0; i < 16 * 256; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:%x::1", i);
		a = A(text);
		if (ratelimit_take(rl, &a, RL_LOGIN, 1000, &first) == 0)
			allowed++;
	}
	assert_int_equal(allowed, 16 * 5);
	/* Refilled with time: 12 s later, one more from the first /56. */
	a = A("2001:db8:1:ff::77");
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 13000, &first), 0);
	ratelimit_free(rl);
}

/*
 * All or nothing: a /64 refused by its own bucket spends nothing of its
 * /56, so one noisy host cannot lock its neighbours out.
 */
static void
test_refused_spends_nothing(void **state)
{
	const struct ratelimit_rule rules[RS__MAX][RL__MAX] = {
		{ { 2, 60 } },
		{ { 4, 60 } },
		{ { 100, 60 } },
	};
	struct ratelimit *rl = ratelimit_new(64, rules);
	struct addr noisy = A("2001:db8:5:1::1"), quiet = A("2001:db8:5:2::1");
	int first, i;

	(void)state;
	for (i = 0; i < 100; i++)
		(void)ratelimit_take(rl, &noisy, RL_REQUEST, 1000, &first);
	/* The noisy /64 took 2 of the /56's 4; its neighbour gets 2. */
	assert_int_equal(ratelimit_take(rl, &quiet, RL_REQUEST, 1000, &first),
	    0);
	assert_int_equal(ratelimit_take(rl, &quiet, RL_REQUEST, 1000, &first),
	    0);
	assert_true(ratelimit_take(rl, &quiet, RL_REQUEST, 1000, &first) > 0);
	ratelimit_free(rl);
}

/* Every scope is one key: addresses in it agree, and only those. */
static void
test_scopes(void **state)
{
	struct addr out[RS__MAX], out2[RS__MAX];
	enum ratelimit_scope sc[RS__MAX];
	struct addr a = A("2001:db8:aa:bbcc:1:2:3:4");
	struct addr b = A("2001:db8:aa:bbff::9");
	char text[64];

	(void)state;
	assert_int_equal(ratelimit_scopes(&a, out, sc), RS__MAX);
	addr_format(&out[RS_HOST], text, sizeof(text));
	assert_string_equal(text, "2001:db8:aa:bbcc::");
	addr_format(&out[RS_NET56], text, sizeof(text));
	assert_string_equal(text, "2001:db8:aa:bb00::");
	addr_format(&out[RS_NET48], text, sizeof(text));
	assert_string_equal(text, "2001:db8:aa::");
	assert_int_equal(ratelimit_scopes(&b, out2, sc), RS__MAX);
	assert_memory_not_equal(&out[RS_HOST], &out2[RS_HOST], sizeof(out[0]));
	assert_memory_equal(&out[RS_NET56], &out2[RS_NET56], sizeof(out[0]));
	assert_memory_equal(&out[RS_NET48], &out2[RS_NET48], sizeof(out[0]));
	/* IPv4, mapped or not: one scope, the address itself. */
	a = A("::ffff:192.0.2.9");
	assert_int_equal(ratelimit_scopes(&a, out, sc), 1);
	assert_int_equal(sc[0], RS_HOST);
	addr_format(&out[0], text, sizeof(text));
	assert_string_equal(text, "192.0.2.9");
}

static void
test_client_ip(void **state)
{
	struct cidr list[4];
	char out[64];
	size_t n;

	(void)state;
	assert_int_equal(cidr_parse_list("127.0.0.1, 10.0.0.0/8 ::1", list, 4,
			     &n),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(cidr_parse_list("10.0.0.0/33", list, 4, &n), -1);
	assert_int_equal(cidr_parse_list("nonsense", list, 4, &n), -1);
	assert_int_equal(cidr_parse_list("127.0.0.1, 10.0.0.0/8 ::1", list, 4,
			     &n),
	    0);
	/* An untrusted peer: its header is ignored whole. */
	http_client_ip("192.0.2.7", "203.0.113.5", list, n, out, sizeof(out));
	assert_string_equal(out, "192.0.2.7");
	/* A trusted peer: the right-most untrusted address. */
	http_client_ip("127.0.0.1", "1.1.1.1, 203.0.113.5, 10.9.9.9", list, n,
	    out, sizeof(out));
	assert_string_equal(out, "203.0.113.5");
	/* All trusted: the left-most. */
	http_client_ip("127.0.0.1", "10.0.0.2,10.0.0.3", list, n, out,
	    sizeof(out));
	assert_string_equal(out, "10.0.0.2");
	/* Garbage stops the walk at the last trusted hop. */
	http_client_ip("127.0.0.1", "203.0.113.5, junk, 10.0.0.3", list, n, out,
	    sizeof(out));
	assert_string_equal(out, "10.0.0.3");
	/* No header: the peer. */
	http_client_ip("::1", NULL, list, n, out, sizeof(out));
	assert_string_equal(out, "::1");
	/* A mapped address is its IPv4 one. */
	http_client_ip("::ffff:127.0.0.1", "2001:db8::5", list, n, out,
	    sizeof(out));
	assert_string_equal(out, "2001:db8::5");
}

/* The connection key of a socket peer given as text. */
static void
peer(const char *text, uint8_t key[HTTP_PEER_KEY_LEN])
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, text, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		http_peer_key((struct sockaddr *)&in4, key);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &in6.sin6_addr), 1);
	in6.sin6_family = AF_INET6;
	http_peer_key((struct sockaddr *)&in6, key);
}

static int
same_peer(const char *a, const char *b)
{
	uint8_t ka[HTTP_PEER_KEY_LEN], kb[HTTP_PEER_KEY_LEN];

	peer(a, ka);
	peer(b, kb);
	return memcmp(ka, kb, sizeof(ka)) == 0;
}

static void
test_peer_key(void **state)
{
	(void)state;
	/* IPv6: one /64 is one client, whatever its host bits. */
	assert_true(same_peer("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3"));
	assert_true(same_peer("2001:db8:1:2::1", "2001:db8:1:2::"));
	assert_false(same_peer("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_false(same_peer("2001:db8:1:2::1", "2001:db9:1:2::1"));
	/* IPv4: whole addresses. */
	assert_true(same_peer("192.0.2.1", "192.0.2.1"));
	assert_false(same_peer("192.0.2.1", "192.0.2.2"));
	assert_false(same_peer("127.0.0.2", "127.0.0.3"));
	/* A mapped IPv4 address is that IPv4 client, not a /64 of them all. */
	assert_true(same_peer("::ffff:192.0.2.1", "192.0.2.1"));
	assert_false(same_peer("::ffff:192.0.2.1", "::ffff:192.0.2.2"));
	/* An IPv6 /64 that starts like an IPv4 address is not that address. */
	assert_false(same_peer("c000:201::1", "192.0.2.1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_set_rules),
		cmocka_unit_test(test_ipv6_and_flood),
		cmocka_unit_test(test_rotating_64s),
		cmocka_unit_test(test_refused_spends_nothing),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_client_ip),
		cmocka_unit_test(test_peer_key),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
