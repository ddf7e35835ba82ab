/*
 * The HTTP layer: libmicrohttpd connections, body caps, the route table,
 * request ids, security headers and the request log.
 *
 * A route's handler is a plain blocking function: it reads a struct
 * http_request and fills a struct http_response.  Handlers that touch the
 * database or hash passwords run on a pool of worker threads while their
 * connection is suspended, so the polling threads never block; trivial
 * handlers run inline.  A response is queued only once the whole body has
 * been read (queuing earlier makes libmicrohttpd close the connection).
 */
#ifndef RESETD_HTTP_H
#define RESETD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

struct config;
struct engine;
struct request_context;
struct MHD_Connection;
struct sockaddr;

#define HTTP_MAX_HEADERS 24
#define REQUEST_ID_LEN 26

/* Where a plain field of a request comes from. */
enum http_field_kind {
	HTTP_FIELD_HEADER,
	HTTP_FIELD_QUERY,	/* a decoded query argument */
};

/* A header or query argument of a request made without a connection. */
struct http_field {
	enum http_field_kind	 kind;
	const char		*name;
	const char		*value;
};

struct http_request {
	struct engine		*engine;
	struct MHD_Connection	*conn;
	const char		*method;
	const char		*path;		/* without the query string */
	const char		*path_param;	/* what a {} in the route matched */
	const char		*body;		/* NUL-terminated; NULL: none */
	size_t			 body_len;
	int			 body_too_large;
	char			 request_id[REQUEST_ID_LEN + 1];
	char			 remote[64];	/* socket peer address, text */
	/*
	 * The client's address: the peer, or what a trusted proxy said in
	 * X-Forwarded-For.  Limits and the audit trail use this one.
	 */
	char			 client_ip[64];
	/* A query argument holds a NUL or text that is not UTF-8. */
	int			 query_invalid;
	/*
	 * Without a connection (conn NULL: tests and fuzz drivers run
	 * handlers so), the headers and query arguments are these.
	 */
	const struct http_field	*fields;
	size_t			 nfields;
};

struct http_header {
	char	*name;
	char	*value;
};

struct http_response {
	int			 status;
	struct buf		 body;
	const char		*content_type;	/* static string */
	struct http_header	 headers[HTTP_MAX_HEADERS];
	int			 nheaders;
	const char		*outcome;	/* for the log, static string */
	/*
	 * Monotonic microseconds before which the answer must not go out (a
	 * time floor); 0: at once.  The connection waits, not a thread.
	 */
	int64_t			 answer_at_us;
};

/* A query argument, decoded; NULL when absent. */
const char *http_query(const struct http_request *, const char *name);
/*
 * Every value of a query argument that may repeat (events[]=a&events[]=b),
 * in order: the first max go to out, and the number there were is
 * returned (more than max: some were left out).
 */
size_t	http_query_all(const struct http_request *, const char *name,
	    const char **out, size_t max);
/*
 * A request header, case-insensitive; NULL when absent, and NULL too
 * when its value is not clean text (str_is_clean_utf8), so that no face
 * ever sees, stores or echoes bytes that are not UTF-8.  A face answers
 * such a request 400 in its shape first: see http_header_malformed.
 */
const char *http_header(const struct http_request *, const char *name);
/*
 * The first of the headers in names (a NULL-terminated list: the ones a
 * face reads) that is present but not clean text, or NULL when every one
 * is absent or clean.  Returns a pointer into names.
 */
const char *http_header_malformed(const struct http_request *,
	    const char *const *names);
/*
 * The charset parameter of the request's Content-Type, lower-cased and
 * unquoted, in out (outlen bytes); "" when there is none.  Return -1 when
 * the parameter does not fit or is not plain ASCII, 0 otherwise.
 */
int	http_content_charset(const struct http_request *, char *out,
	    size_t outlen);
/*
 * The media type of the request body, lower-cased and without parameters,
 * in out (outlen bytes); "" when there is none.
 */
void	http_content_type(const struct http_request *, char *out, size_t outlen);

/* Add a response header; name and value are copied. */
void	http_set_header(struct http_response *, const char *name,
	    const char *value);
/* Set the status and a body (copied). */
void	http_set_body(struct http_response *, int status,
	    const char *content_type, const char *body, size_t len);

typedef void (*http_handler)(const struct http_request *,
    struct http_response *);

enum route_run {
	RUN_INLINE,	/* cheap: runs on the polling thread */
	RUN_WORKER,	/* may block: runs on the worker pool */
};

struct route {
	const char	*method;	/* "GET", "POST", "OPTIONS", or "*" */
	const char	*path;		/* exact, or with one "{}" segment */
	http_handler	 handler;
	enum route_run	 run;
	const char	*dialect;	/* for the log */
};

/* request.c */
/*
 * A header as it was sent, unchecked: for http_header and the HTTP layer
 * only (server.c).
 */
const char *http_header_raw(const struct http_request *, const char *name);
/*
 * The value of field name of kind in r->fields (headers: names compared
 * without case); NULL when absent.  What http_query and http_header read
 * for a request made without a connection.
 */
const char *http_field(const struct http_request *, enum http_field_kind,
	    const char *name);

/* routes.c */
/* The route table; ends with a row whose method is NULL. */
extern const struct route http_routes[];
/*
 * Find the route for method and path; *param receives what "{}" matched
 * (a pointer into path, with its length in *param_len).  NULL when no
 * route has the path; *method_mismatch is set when the path exists for
 * another method.
 */
const struct route *http_route_find(const char *method, const char *path,
	    const char **param, size_t *param_len, int *method_mismatch);

/* clientip.c */
/*
 * The client address of a request from peer (text) with X-Forwarded-For
 * value xff (NULL: none; several header lines joined with commas): peer
 * itself unless it lies in one of the n trusted ranges; then the right-most
 * address of xff that is not trusted (or the left-most, when all are).
 * Written in text into out.
 */
void	http_client_ip(const char *peer, const char *xff,
	    const struct cidr *trusted, size_t n, char *out, size_t outlen);
/*
 * The context the engine gets of a request, for its limits and its audit
 * trail: the client address decided above (NULL when there is none) and
 * the User-Agent (NULL without a connection).  Every adapter, dialects and
 * hosted pages alike, builds it here, so each engine call is recorded the
 * same way.  Its strings live as long as r.
 */
void	http_context(const struct http_request *, struct request_context *out);
/*
 * The per-client limit, asked first by every adapter before any work: take
 * a token of class cls (enum ratelimit_class) for r's client.  Return 0
 * when allowed; or 1, with the seconds to wait in *retry_after_s and the
 * Retry-After header set on resp, for the adapter to answer in its shape.
 */
int	http_throttled(const struct http_request *, struct http_response *,
	    int cls, int64_t *retry_after_s);
/* Set the Retry-After header to seconds (a negative wait counts as 0). */
void	http_set_retry_after(struct http_response *, int64_t seconds);
#define HTTP_PEER_KEY_LEN 9
/*
 * The key open connections are counted by, for a socket peer sa (NULL:
 * all zero): the family (4 or 6) and the IPv4 address, or the first 64
 * bits of an IPv6 one, since one host usually holds a whole /64.  An
 * IPv4-mapped IPv6 address gives its IPv4 key.  Written to key.
 */
void	http_peer_key(const struct sockaddr *, uint8_t key[HTTP_PEER_KEY_LEN]);

/* server.c */
struct http_server;

/*
 * Start serving on cfg->listen with the engine.  Return NULL on failure
 * (logged), for example when the address is taken.
 */
struct http_server *http_server_start(const struct config *, struct engine *);
/*
 * Begin a graceful stop, and return at once: stop accepting connections,
 * answer every request from now on with "Connection: close", and close the
 * connections that have no request under way.  Requests in flight go on.
 * Accepts NULL; a second call does nothing.
 */
void	http_server_quiesce(struct http_server *);
/*
 * During a graceful stop, close the connections whose request has been
 * answered since (their clients kept them open), and return how many
 * connections are still open: 0 when the server is drained.  Accepts NULL.
 */
int	http_server_drain(struct http_server *);
/*
 * Stop now: requests that no worker has started are answered 503 with
 * Retry-After; running handlers finish and their answers are sent, until
 * deadline_ms (time_mono_ms); then every connection is closed and the
 * server freed.  Return 0; or -1 (logged) when handlers still run at the
 * deadline: the server is then left as it is, and the caller must end the
 * process without freeing what those handlers use.  Accepts NULL.
 */
int	http_server_stop(struct http_server *, int64_t deadline_ms);

#endif
