/*
 * The HTTP layer: libmicrohttpd connections, body caps, routing by the
 * faces' tables, client addresses, request ids, security headers and the
 * request log.  It knows nothing above it: no face, no engine.
 *
 * A face is one way in (a vendor's dialect, the hosted pages, health).
 * It exports a struct http_face: its route table, each route with a
 * method, a path pattern, a handler and a rate-limit class, and how to
 * answer "throttled" and an application failure in its own shape.  The
 * server is given a list of faces and an application (struct http_app):
 * an opaque pointer, handed to every handler as r->app, with the hooks
 * the server calls (the per-client throttle, the wake after a held
 * answer).  Every route spends its class through the throttle hook
 * before its handler runs (http_route_run), so no handler can forget it.
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
struct http_face;
struct MHD_Connection;
struct sockaddr;

#define HTTP_MAX_HEADERS 24
#define REQUEST_ID_LEN 26

/* Where a plain field of a request comes from. */
enum http_field_kind {
	HTTP_FIELD_HEADER,
	HTTP_FIELD_QUERY, /* a decoded query argument */
};

/* A header or query argument of a request made without a connection. */
struct http_field {
	enum http_field_kind kind;
	const char *name;
	const char *value;
};

struct http_request {
	void *app; /* http_app.app: opaque here */
	struct MHD_Connection *conn;
	const char *method;
	const char *path;	/* without the query string */
	const char *path_param; /* what a {} in the route matched */
	const char *body;	/* NUL-terminated; NULL: none */
	size_t body_len;
	int body_too_large;
	char request_id[REQUEST_ID_LEN + 1];
	char remote[64]; /* socket peer address, text */
	/*
	 * The client's address: the peer, or what a trusted proxy said in
	 * X-Forwarded-For.  Limits and the audit trail use this one.
	 */
	char client_ip[64];
	/* A query argument holds a NUL or text that is not UTF-8. */
	int query_invalid;
	/*
	 * Without a connection (conn NULL: tests and fuzz drivers run
	 * handlers so), the headers and query arguments are these.
	 */
	const struct http_field *fields;
	size_t nfields;
};

struct http_header {
	char *name;
	char *value;
};

struct http_response {
	int status;
	struct buf body;
	const char *content_type; /* static string */
	struct http_header headers[HTTP_MAX_HEADERS];
	int nheaders;
	const char *outcome; /* for the log, static string */
	/*
	 * Monotonic microseconds before which the answer must not go out (a
	 * time floor); 0: at once.  The connection waits, not a thread.
	 */
	int64_t answer_at_us;
};

/* A query argument, decoded; NULL when absent. */
const char *http_query(const struct http_request *, const char *name);
/*
 * The name of the first query argument of r not named in allowed (a
 * NULL-terminated list), living as long as r; NULL when every one is.
 */
const char *
http_query_stray(const struct http_request *, const char *const *allowed);
/*
 * Every value of a query argument that may repeat (events[]=a&events[]=b),
 * in order: the first max go to out, and the number there were is
 * returned (more than max: some were left out).
 */
size_t http_query_all(const struct http_request *, const char *name,
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
const char *
http_header_malformed(const struct http_request *, const char *const *names);
/*
 * The charset parameter of the request's Content-Type, lower-cased and
 * unquoted, in out (outlen bytes); "" when there is none.  Return -1 when
 * the parameter does not fit or is not plain ASCII, 0 otherwise.
 */
int http_content_charset(const struct http_request *, char *out, size_t outlen);
/*
 * The media type of the request body, lower-cased and without parameters,
 * in out (outlen bytes); "" when there is none.
 */
void http_content_type(const struct http_request *, char *out, size_t outlen);

/* Add a response header; name and value are copied. */
void
http_set_header(struct http_response *, const char *name, const char *value);
/* Set the status and a body (copied). */
void http_set_body(struct http_response *, int status, const char *content_type,
    const char *body, size_t len);

typedef void (
    *http_handler)(const struct http_request *, struct http_response *);

enum route_run {
	RUN_INLINE, /* cheap: runs on the polling thread */
	RUN_WORKER, /* may block: runs on the worker pool */
};

/*
 * A route's rate-limit class: HTTP_LIMIT(cls) spends a token of the
 * application's class cls (a small number >= 0 the throttle hook knows)
 * before the handler runs; HTTP_UNLIMITED spends none, for routes that do
 * no work worth limiting (health, preflights, stylesheets, 404s).  0 is
 * no class at all: a route without one is a programmer error, refused by
 * http_faces_valid.
 */
#define HTTP_LIMIT(cls) ((int)(cls) + 1)
#define HTTP_UNLIMITED (-1)
/* The application's class of a limited route's limit. */
#define HTTP_LIMIT_CLASS(limit) ((limit)-1)

struct route {
	const char *method; /* "GET", "POST", "OPTIONS", or "*" */
	const char *path;   /* exact, or with one "{}" segment */
	/*
	 * With value: the route matches only a request whose header of
	 * this name (http_header: clean text) is exactly value, as Cognito
	 * names its operation in X-Amz-Target, or, for a value ending in
	 * '*', begins with what comes before it.  NULL: any request.
	 */
	const char *header;
	const char *value;
	http_handler handler;
	enum route_run run;
	int limit; /* HTTP_LIMIT(cls) or HTTP_UNLIMITED */
};

/* One way in: its routes and its answers to what the server decides. */
struct http_face {
	const char *name;	    /* for the log; NULL: none */
	const struct route *routes; /* ends with a NULL method */
	/*
	 * Answer a request its route's throttle refused: 429 in the face's
	 * shape, with Retry-After: retry_after_s (http_set_retry_after).
	 */
	void (*throttled)(const struct http_request *, struct http_response *,
	    int64_t retry_after_s);
	/*
	 * Answer a request the application failed, result being the
	 * application's failure (an engine result), in the face's shape.
	 */
	void (*failed)(const struct http_request *, struct http_response *,
	    int result);
};

/*
 * The application the server serves: app is handed to every handler as
 * r->app, and to the hooks.
 */
struct http_app {
	void *app;
	/*
	 * Take a token of class cls for the client at client_ip (text; NULL
	 * when unknown) sending user_agent (NULL: none).  Return 0 when the
	 * request may go on; 1 when refused, with the seconds to wait in
	 * *retry_after_s; -1 when the application failed, with its result
	 * in *failure.  Called on the thread that runs the route.
	 */
	int (*throttle)(void *app, const char *client_ip,
	    const char *user_agent, int cls, int64_t *retry_after_s,
	    int *failure);
	/*
	 * Called as the answer of a request held to a time floor goes out:
	 * its work was committed before the floor (a reset request's mail),
	 * and what waits for that work (the mail senders) may start.  May
	 * be NULL.
	 */
	void (*wake)(void *app);
};

/*
 * A listener: an address and the faces it answers.  The public listener
 * and the admin listener are two sites, each with its own socket, polling
 * threads and workers, so no route of one is reachable on the other.
 */
struct http_site {
	const char *name;		      /* "public", "admin" */
	const char *listen;		      /* host:port */
	const struct http_face *const *faces; /* NULL-terminated */
	int reuse_port;			      /* SO_REUSEPORT */
	int threads;			      /* polling threads */
	int workers;			      /* worker threads */
	/* Most open connections; 0: max_connections within the fd budget. */
	int max_connections;
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
const char *
http_field(const struct http_request *, enum http_field_kind, const char *name);

/* routes.c */
/*
 * Find the route of request r (its method, HEAD as GET, its path, and for
 * header routes its headers) among the routes of faces (a NULL-terminated
 * list, matched in order: the first matching row wins).  *face receives
 * the route's face, *param what "{}" matched (a pointer into r->path, with
 * its length in *param_len).  NULL when no route has the path;
 * *method_mismatch is set when the path exists for another method.
 */
const struct route *http_route_find(const struct http_face *const *faces,
    const struct http_request *r, const struct http_face **face,
    const char **param, size_t *param_len, int *method_mismatch);
/*
 * Run route rt of face for r: first the throttle of its class through
 * app's hook, answering in the face's shape when it refuses or fails;
 * only then the handler.  r->app must be app->app.
 */
void http_route_run(const struct http_app *app, const struct http_face *,
    const struct route *rt, const struct http_request *r,
    struct http_response *);
/*
 * 1 when every route of faces has a rate-limit class, and a limited route
 * runs on a worker (the throttle may block on the database); otherwise 0,
 * with the first bad route logged.
 */
int http_faces_valid(const struct http_face *const *faces);
/*
 * Make room for the answers of site's faces in the metrics; called as a
 * server starts, before it serves.  -1 (logged) past the fixed room.
 */
int http_metrics_register(const struct http_site *);
/*
 * Count an answer of status that took us microseconds, to route rt of face
 * (both NULL: no route matched) on site: lock-free.
 */
void http_metrics_count(const struct http_site *, const struct http_face *,
    const struct route *rt, int status, int64_t us);
/*
 * Append resetd_http_requests_total, by listener, face, method, route
 * pattern and status, to b: the rows that counted anything.  0, or -1 at
 * b's cap.
 */
int http_metrics_render(struct buf *b) WUR;

/* clientip.c */
/*
 * The client address of a request from peer (text) with X-Forwarded-For
 * value xff (NULL: none; several header lines joined with commas): peer
 * itself unless it lies in one of the n trusted ranges; then the right-most
 * address of xff that is not trusted (or the left-most, when all are).
 * Written in text into out.
 */
void http_client_ip(const char *peer, const char *xff,
    const struct cidr *trusted, size_t n, char *out, size_t outlen);
/* The client address of r (client_ip), or NULL when there is none. */
const char *http_client(const struct http_request *);
/* Set the Retry-After header to seconds (a negative wait counts as 0). */
void http_set_retry_after(struct http_response *, int64_t seconds);
#define HTTP_PEER_KEY_LEN 9
/*
 * The key open connections are counted by, for a socket peer sa (NULL:
 * all zero): the family (4 or 6) and the IPv4 address, or the first 64
 * bits of an IPv6 one, since one host usually holds a whole /64.  An
 * IPv4-mapped IPv6 address gives its IPv4 key.  Written to key.
 */
void http_peer_key(const struct sockaddr *, uint8_t key[HTTP_PEER_KEY_LEN]);

/* server.c */
struct http_server;

/*
 * Start serving site (its faces and address; it must outlive the server)
 * for app (copied).  Return NULL on failure (logged), for example when
 * the address is taken or a route has no rate-limit class.
 */
struct http_server *http_server_start(const struct config *,
    const struct http_site *, const struct http_app *app);
/*
 * Apply the limits a reload may change while requests run: max_headers,
 * max_url_bytes, max_body_bytes (from the next request on; a request
 * keeps the cap it began with), max_connections_per_ip (from the next
 * connection on), request_head_timeout and request_body_timeout.  The rest
 * of cfg is ignored.  Safe from any thread; accepts NULL.
 */
void http_server_reload(struct http_server *, const struct config *);
/*
 * Begin a graceful stop, and return at once: stop accepting connections,
 * answer every request from now on with "Connection: close", and close the
 * connections that have no request under way.  Requests in flight go on.
 * Accepts NULL; a second call does nothing.
 */
void http_server_quiesce(struct http_server *);
/*
 * During a graceful stop, close the connections whose request has been
 * answered since (their clients kept them open), and return how many
 * connections are still open: 0 when the server is drained.  Accepts NULL.
 */
int http_server_drain(struct http_server *);
/*
 * Stop now: requests that no worker has started are answered 503 with
 * Retry-After; running handlers finish and their answers are sent, until
 * deadline_ms (time_mono_ms); then every connection is closed and the
 * server freed.  Return 0; or -1 (logged) when handlers still run at the
 * deadline: the server is then left as it is, and the caller must end the
 * process without freeing what those handlers use.  Accepts NULL.
 */
int http_server_stop(struct http_server *, int64_t deadline_ms);

#endif
