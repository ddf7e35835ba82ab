/*
 * The client's address: the socket peer, unless the peer is a proxy the
 * configuration trusts, in which case X-Forwarded-For says who the client
 * was.  The header is read from the right: each trusted proxy appends the
 * address it got the request from, so the right-most address that is not
 * a trusted proxy is the first one nobody vouches for beyond, the client.
 * Everything to its left was written by the client itself and is ignored;
 * a forged header from an untrusted peer is ignored whole.
 *
 * The application gets that address (http_client), with the user agent,
 * through its throttle hook and from the faces: it counts per-client
 * limits by it and writes it to the audit trail.
 *
 * The socket peer also has a key (http_peer_key) that the server counts
 * open connections by: one IPv4 address, or one IPv6 /64.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"

/* Trim blanks around [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

void
http_client_ip(const char *peer, const char *xff, const struct cidr *trusted,
    size_t ntrusted, char *out, size_t outlen)
{
	struct addr a, client;
	const char *end, *s, *e;

	snprintf(out, outlen, "%s", peer);
	if (xff == NULL || ntrusted == 0 ||
	    addr_parse(peer, strlen(peer), &client) == -1 ||
	    !cidr_list_match(trusted, ntrusted, &client))
		return;
	end = xff + strlen(xff);
	while (end > xff) {
		e = end;
		s = e;
		while (s > xff && s[-1] != ',')
			s--;
		end = s > xff ? s - 1 : xff;
		trim(&s, &e);
		if (s == e)
			continue; /* an empty item, as in "a,,b" */
		if (addr_parse(s, (size_t)(e - s), &a) == -1)
			break; /* garbage: the last trusted hop is all we know */
		client = a;
		if (!cidr_list_match(trusted, ntrusted, &a))
			break;
	}
	addr_format(&client, out, outlen);
}

const char *
http_client(const struct http_request *r)
{
	return r->client_ip[0] != '\0' ? r->client_ip : NULL;
}

void
http_set_retry_after(struct http_response *resp, int64_t seconds)
{
	char secs[24];

	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(seconds < 0 ? 0 : seconds));
	http_set_header(resp, "Retry-After", secs);
}

void
http_peer_key(const struct sockaddr *sa, uint8_t key[HTTP_PEER_KEY_LEN])
{
	static const uint8_t v4_mapped[12] = {
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0xff,
		0xff,
	};
	const uint8_t *b;

	memset(key, 0, HTTP_PEER_KEY_LEN);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    4);
	} else if (sa->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)(const void *)sa)
			->sin6_addr.s6_addr;
		if (memcmp(b, v4_mapped, sizeof(v4_mapped)) == 0) {
			key[0] = 4;
			memcpy(key + 1, b + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, b, 8);
		}
	}
}
