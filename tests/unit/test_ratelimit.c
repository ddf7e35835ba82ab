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
A(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, strlen(s), &a), 0);
	return a;
}

static void
test_bucket(void **state)
{
	const struct ratelimit_rule rules[RL__MAX] = {
		{ 3, 60 }, { 0, 60 }, { 1, 10 }, { 1, 1 },
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

static void
test_ipv6_and_flood(void **state)
{
	const struct ratelimit_rule rules[RL__MAX] = {
		{ 1, 60 }, { 1, 60 }, { 1, 60 }, { 1, 60 },
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
		    2000 + i, &first), 0);
	}
	/* The oldest client was forgotten: fail open, never closed. */
	assert_int_equal(ratelimit_take(rl, &a, RL_REQUEST, 5000, &first), 0);
	ratelimit_free(rl);
}

static void
test_client_ip(void **state)
{
	struct cidr list[4];
	char out[64];
	size_t n;

	(void)state;
	assert_int_equal(cidr_parse_list("127.0.0.1, 10.0.0.0/8 ::1", list, 4,
	    &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(cidr_parse_list("10.0.0.0/33", list, 4, &n), -1);
	assert_int_equal(cidr_parse_list("nonsense", list, 4, &n), -1);
	assert_int_equal(cidr_parse_list("127.0.0.1, 10.0.0.0/8 ::1", list, 4,
	    &n), 0);
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
	http_client_ip("127.0.0.1", "203.0.113.5, junk, 10.0.0.3", list, n,
	    out, sizeof(out));
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
		cmocka_unit_test(test_ipv6_and_flood),
		cmocka_unit_test(test_client_ip),
		cmocka_unit_test(test_peer_key),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
