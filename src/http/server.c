/*
 * The server: libmicrohttpd with an internal thread pool on epoll, plus a
 * pool of worker threads for handlers that block.
 *
 * Life of a request, as libmicrohttpd calls the access handler:
 *  1. first call: a struct exchange is made, the request's shape is
 *     checked (header count, target length: 431 and 414 before any route
 *     runs), its client address found, and the route is chosen;
 *  2. calls with upload data: the body is kept up to max_body_bytes; past
 *     that it is read and thrown away, to its end or the body deadline, so
 *     the client still gets an answer;
 *  3. the final call: inline routes answer at once; worker routes suspend
 *     the connection and queue the exchange for a worker, which runs the
 *     handler and resumes the connection;
 *     (an answer with a time floor is parked on the timer until its
 *     time, so the floor costs a suspended connection, never a thread);
 *  4. the call after resuming queues the response;
 *  5. the completion callback writes the log line and frees the exchange.
 *
 * Every connection also has a small record (struct conn), made and freed by
 * libmicrohttpd's connection notices, that says whether a request is under
 * way on it.  Stopping uses it: a graceful stop (http_server_quiesce, then
 * http_server_drain until nothing is open) stops accepting, answers with
 * "Connection: close", and shuts the sockets of connections with no request
 * under way; a forced stop (http_server_stop) answers the requests no worker
 * has started with 503, waits for the running ones, and only then stops
 * libmicrohttpd, which aborts if a connection is still suspended.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "../config.h"
#include "../log.h"
#include "../util/metrics.h"
#include "http.h"

/* How often deadlines are checked, and their closings reported. */
#define REAP_US 250000
#define REPORT_US (10 * 1000000)
/* File handles kept for what is not a connection (see fd_budget). */
#define FD_MARGIN 32
/* Connections the kernel queues before they are accepted. */
#define LISTEN_BACKLOG 512
/* The most X-Forwarded-For text read, all header lines together. */
#define XFF_MAX 4096

/* What the HTTP layer refuses before any route sees the request. */
enum refusal {
	REFUSE_NONE,
	REFUSE_HEADERS, /* 431: too many header fields */
	REFUSE_URL,	/* 414: request target too long */
};

enum exchange_state {
	EX_READING,
	EX_RUNNING,  /* on the worker pool, connection suspended */
	EX_ANSWERED, /* response ready to queue */
};

struct exchange {
	struct http_server *server;
	struct http_request req;
	struct http_response resp;
	const struct http_face *face;
	const struct route *route;
	int method_mismatch;
	enum refusal refusal;
	char *path_param;
	struct buf body;
	enum exchange_state state;
	int64_t started_us;
	const char *cut_reason; /* set when the server cut it */
	struct exchange *next_job;
	struct conn *conn; /* its connection's record */
};

/* One open connection, under the server's lock. */
struct conn {
	struct conn *prev, *next;
	MHD_socket fd;
	struct exchange *ex; /* the request under way, or NULL */
	int reading;	     /* ex's body is still arriving */
	int cut;	     /* its socket was shut down */
	/* Since when it waits for a request head: opened, or last answer. */
	int64_t ready_us;
	struct addr_count *peer; /* its address's count */
};

/*
 * Open connections per client address: IPv4 addresses as they are, IPv6
 * by their /64 (one host usually holds a whole /64), IPv4-mapped IPv6 as
 * IPv4.  A chained hash table keyed with SipHash under a random key.
 */
#define PEER_BUCKETS 1024

struct addr_count {
	struct addr_count *next;
	uint8_t key[HTTP_PEER_KEY_LEN];
	int count;
};

/*
 * The limits a reload may change (http_server_reload), each read
 * atomically where it is used; the rest of cfg is fixed at start.
 */
struct http_limits {
	int64_t max_headers;
	int64_t max_url_bytes;
	int64_t max_body_bytes;
	int64_t max_connections_per_ip;
	int64_t head_timeout_s;
	int64_t body_timeout_s;
};

#define LIMIT(s, field) __atomic_load_n(&(s)->limits.field, __ATOMIC_RELAXED)

struct http_server {
	const struct config *cfg;
	struct http_limits limits;
	const struct http_site *site;
	const struct http_face *const *faces;
	struct http_app app;
	struct MHD_Daemon *mhd;
	pthread_t *workers;
	int nworkers;
	pthread_mutex_t lock;
	pthread_cond_t jobs_ready;
	pthread_cond_t idle;
	struct exchange *jobs_head, *jobs_tail;
	int draining;	    /* answers close their connection */
	int stopping;	    /* no handler starts any more */
	int in_flight;	    /* exchanges not yet completed */
	int suspended;	    /* connections not yet resumed */
	struct conn *conns; /* every open connection */
	int nconns;
	int ncut;      /* of them, shut and closing */
	int max_conns; /* the cap, after the fd budget */
	struct addr_count *peers[PEER_BUCKETS];
	uint8_t peer_key[crypto_shorthash_KEYBYTES];
	int64_t next_reap_us, next_report_us;
	/* What reap and accept_policy did since the last report. */
	int64_t cut_head, cut_body, evicted;
	int64_t refused_peer, refused_full;
	/* Answers held until their time: a min-heap on answer_at_us. */
	pthread_t timer;
	int timer_running;
	pthread_cond_t timer_wake; /* CLOCK_MONOTONIC */
	struct exchange **held;
	size_t nheld, held_size;
};

static void reap(struct http_server *, int64_t);

/* request and response helpers */

const char *
http_query(const struct http_request *r, const char *name)
{
	if (r->conn == NULL)
		return http_field(r, HTTP_FIELD_QUERY, name);
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static int
name_allowed(const char *name, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(*allowed, name) == 0)
			return 1;
	return 0;
}

struct query_names {
	const char *const *allowed;
	const char *stray;
};

static enum MHD_Result
query_name(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct query_names *q = cls;

	(void)kind;
	(void)value;
	if (!name_allowed(key, q->allowed)) {
		q->stray = key;
		return MHD_NO;
	}
	return MHD_YES;
}

const char *
http_query_stray(const struct http_request *r, const char *const *allowed)
{
	struct query_names q = { allowed, NULL };
	size_t i;

	if (r->conn == NULL) {
		for (i = 0; i < r->nfields; i++)
			if (r->fields[i].kind == HTTP_FIELD_QUERY &&
			    !name_allowed(r->fields[i].name, allowed))
				return r->fields[i].name;
		return NULL;
	}
	(void)MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
	    query_name, &q);
	return q.stray;
}

struct query_all {
	const char *name;
	const char **out;
	size_t max;
	size_t n;
};

static enum MHD_Result
query_all_one(void *arg, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct query_all *q = arg;

	(void)kind;
	if (key == NULL || strcmp(key, q->name) != 0)
		return MHD_YES;
	if (q->n < q->max)
		q->out[q->n] = value != NULL ? value : "";
	q->n++;
	return MHD_YES;
}

size_t
http_query_all(const struct http_request *r, const char *name, const char **out,
    size_t max)
{
	struct query_all q = { name, out, max, 0 };
	size_t i;

	if (r->conn != NULL) {
		(void)MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
		    query_all_one, &q);
		return q.n;
	}
	for (i = 0; i < r->nfields; i++)
		if (r->fields[i].kind == HTTP_FIELD_QUERY)
			(void)query_all_one(&q, MHD_GET_ARGUMENT_KIND,
			    r->fields[i].name, r->fields[i].value);
	return q.n;
}

const char *
http_header_raw(const struct http_request *r, const char *name)
{
	if (r->conn == NULL)
		return http_field(r, HTTP_FIELD_HEADER, name);
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void
http_content_type(const struct http_request *r, char *out, size_t outlen)
{
	const char *ct = http_header(r, "Content-Type");
	size_t i = 0;

	if (ct != NULL) {
		while (*ct == ' ')
			ct++;
		for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' &&
		     i + 1 < outlen;
		     i++)
			out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ?
				ct[i] - 'A' + 'a' :
				ct[i]);
	}
	out[i] = '\0';
}

void
http_set_header(struct http_response *resp, const char *name, const char *value)
{
	if (resp->nheaders >= HTTP_MAX_HEADERS)
		abort(); /* handlers set a known, small number */
	resp->headers[resp->nheaders].name = xstrdup(name);
	resp->headers[resp->nheaders].value = xstrdup(value);
	resp->nheaders++;
}

void
http_set_body(struct http_response *resp, int status, const char *content_type,
    const char *body, size_t len)
{
	resp->status = status;
	resp->content_type = content_type;
	buf_reset(&resp->body);
	if (buf_append(&resp->body, body, len) == -1)
		abort(); /* response buffers are uncapped */
}

static void
response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, SIZE_MAX / 2);
}

static void
response_clear(struct http_response *resp)
{
	int i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	resp->nheaders = 0;
	buf_free(&resp->body);
}

/* Answers of the HTTP layer itself, before any dialect is involved. */
static void
answer_plain(struct http_response *resp, int status, const char *code,
    const char *message)
{
	char body[256];
	int n;

	n = snprintf(body, sizeof(body),
	    "{\"error\":{\"code\":\"%s\","
	    "\"description\":\"%s\"}}",
	    code, message);
	http_set_body(resp, status, "application/json", body, (size_t)n);
	resp->outcome = code;
}

/* the worker pool */

static void
run_handler(struct exchange *ex)
{
	if (ex->refusal == REFUSE_HEADERS) {
		answer_plain(&ex->resp, 431, "header_fields_too_large",
		    "The request has too many header fields.");
		return;
	}
	if (ex->refusal == REFUSE_URL) {
		answer_plain(&ex->resp, 414, "uri_too_long",
		    "The request target is too long.");
		return;
	}
	if (ex->route == NULL) {
		if (ex->method_mismatch)
			answer_plain(&ex->resp, 405, "method_not_allowed",
			    "This endpoint does not take that method.");
		else
			answer_plain(&ex->resp, 404, "not_found",
			    "No such endpoint.");
		return;
	}
	ex->req.body = ex->body.data;
	ex->req.body_len = ex->body.len;
	http_route_run(&ex->server->app, ex->face, ex->route, &ex->req,
	    &ex->resp);
	if (ex->resp.status == 0)
		abort(); /* every handler answers */
}

/*
 * Let libmicrohttpd queue the answer of ex now.  An answer that had a time
 * floor calls the application's wake hook as it goes: its request left
 * work waiting for the answer (a reset request's mail, for the senders).
 * Once resumed, ex may be freed at any moment.
 */
static void
answer_now(struct exchange *ex)
{
	struct http_server *s = ex->server;
	int floored = ex->resp.answer_at_us != 0;

	ex->state = EX_ANSWERED;
	MHD_resume_connection(ex->req.conn);
	pthread_mutex_lock(&s->lock);
	if (--s->suspended == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	if (floored && s->app.wake != NULL)
		s->app.wake(s->app.app);
}

/* The answer of a request that no worker will run: the server is stopping. */
static void
answer_stopping(struct exchange *ex)
{
	answer_plain(&ex->resp, 503, "shutting_down",
	    "The server is stopping; try again.");
	http_set_header(&ex->resp, "Retry-After", "1");
}

/* The held-answer heap, under s->lock. */
static int
held_before(const struct exchange *a, const struct exchange *b)
{
	return a->resp.answer_at_us < b->resp.answer_at_us;
}

static void
held_push(struct http_server *s, struct exchange *ex)
{
	struct exchange *tmp;
	size_t i, up;

	if (s->nheld == s->held_size) {
		s->held_size = s->held_size ? s->held_size * 2 : 64;
		s->held = xrealloc(s->held, s->held_size * sizeof(*s->held));
	}
	i = s->nheld++;
	s->held[i] = ex;
	while (i > 0) {
		up = (i - 1) / 2;
		if (!held_before(s->held[i], s->held[up]))
			break;
		tmp = s->held[i];
		s->held[i] = s->held[up];
		s->held[up] = tmp;
		i = up;
	}
}

static struct exchange *
held_pop(struct http_server *s)
{
	struct exchange *top = s->held[0], *tmp;
	size_t i = 0, l, r, m;

	s->held[0] = s->held[--s->nheld];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->nheld && held_before(s->held[l], s->held[m]))
			m = l;
		if (r < s->nheld && held_before(s->held[r], s->held[m]))
			m = r;
		if (m == i)
			break;
		tmp = s->held[i];
		s->held[i] = s->held[m];
		s->held[m] = tmp;
		i = m;
	}
	return top;
}

/*
 * The timer thread: answers held exchanges when their time comes, and
 * every one still held when the server stops; and every REAP_US closes
 * the connections past their deadlines (reap).
 */
static void *
timer_main(void *arg)
{
	struct http_server *s = arg;
	struct exchange *ex;
	struct timespec ts;
	int64_t at, now;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		now = time_mono_us();
		if (now >= s->next_reap_us) {
			reap(s, now);
			s->next_reap_us = now + REAP_US;
		}
		if (s->nheld == 0 && s->stopping)
			break;
		at = s->next_reap_us;
		if (s->nheld > 0) {
			if (s->held[0]->resp.answer_at_us <= now ||
			    s->stopping) {
				ex = held_pop(s);
				pthread_mutex_unlock(&s->lock);
				answer_now(ex);
				pthread_mutex_lock(&s->lock);
				continue;
			}
			if (s->held[0]->resp.answer_at_us < at)
				at = s->held[0]->resp.answer_at_us;
		}
		ts.tv_sec = (time_t)(at / 1000000);
		ts.tv_nsec = (long)(at % 1000000) * 1000;
		pthread_cond_timedwait(&s->timer_wake, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *
worker_main(void *arg)
{
	struct http_server *s = arg;
	struct exchange *ex;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (s->jobs_head == NULL && !s->stopping)
			pthread_cond_wait(&s->jobs_ready, &s->lock);
		if (s->jobs_head == NULL) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		ex = s->jobs_head;
		s->jobs_head = ex->next_job;
		if (s->jobs_head == NULL)
			s->jobs_tail = NULL;
		pthread_mutex_unlock(&s->lock);

		run_handler(ex);
		/*
		 * Once the server stops, the timer thread may be gone: the
		 * answer goes out now, floor or not.
		 */
		pthread_mutex_lock(&s->lock);
		if (ex->resp.answer_at_us > time_mono_us() && !s->stopping) {
			held_push(s, ex);
			if (s->held[0] == ex)
				pthread_cond_signal(&s->timer_wake);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		pthread_mutex_unlock(&s->lock);
		answer_now(ex);
	}
}

/*
 * Queue ex, whose connection is suspended, for a worker.  Return -1 when
 * the server is stopping and no worker will take it.
 */
static int
job_push(struct http_server *s, struct exchange *ex)
{
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	ex->next_job = NULL;
	if (s->jobs_tail != NULL)
		s->jobs_tail->next_job = ex;
	else
		s->jobs_head = ex;
	s->jobs_tail = ex;
	pthread_cond_signal(&s->jobs_ready);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* libmicrohttpd callbacks */

static void
request_id_new(char *out)
{
	uint8_t b[16];
	char uuid[UUID_STRLEN + 1];

	/* A ULID: sortable by time, unique without coordination. */
	id_new(uuid);
	if (id_uuid_to_ulid(uuid, out) == -1) {
		randombytes_buf(b, sizeof(b));
		hex_encode(b, 13, out);
	}
}

static void
remote_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, outlen, "-");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    (socklen_t)outlen);
}

/* What the query arguments add up to, and whether each is clean text. */
struct query_scan {
	size_t bytes;
	int invalid;
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct query_scan *q = cls;

	(void)kind;
	q->bytes += key_size + value_size + 2; /* "&k=v" */
	if (memchr(key, '\0', key_size) != NULL ||
	    !str_is_clean_utf8(key, key_size) ||
	    (value != NULL &&
		(memchr(value, '\0', value_size) != NULL ||
		    !str_is_clean_utf8(value, value_size))))
		q->invalid = 1;
	return MHD_YES;
}

/* Join the X-Forwarded-For lines with commas, up to XFF_MAX bytes. */
static enum MHD_Result
xff_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct buf *b = cls;

	(void)kind;
	if (value == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	if ((b->len > 0 && buf_puts(b, ",") == -1) || buf_puts(b, value) == -1)
		return MHD_NO; /* past the cap: what was read so far */
	return MHD_YES;
}

/*
 * Check the request's shape before routing, and find its client: header
 * count, target length and query text, then the trusted client address.
 */
static void
exchange_inspect(struct http_server *s, struct exchange *ex,
    struct MHD_Connection *conn, const char *url)
{
	struct query_scan q = { 0, 0 };
	struct buf xff;
	int n;

	n = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
	if (n > LIMIT(s, max_headers))
		ex->refusal = REFUSE_HEADERS;
	(void)MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
	    query_arg, &q);
	if (strlen(url) + q.bytes > (size_t)LIMIT(s, max_url_bytes))
		ex->refusal = REFUSE_URL;
	ex->req.query_invalid = q.invalid;
	buf_init(&xff, XFF_MAX);
	if (s->cfg->nproxies > 0)
		(void)MHD_get_connection_values(conn, MHD_HEADER_KIND, xff_line,
		    &xff);
	http_client_ip(ex->req.remote, xff.len > 0 ? buf_cstr(&xff) : NULL,
	    s->cfg->proxies, s->cfg->nproxies, ex->req.client_ip,
	    sizeof(ex->req.client_ip));
	buf_free(&xff);
}

static struct exchange *
exchange_new(struct http_server *s, struct MHD_Connection *conn,
    const char *url, const char *method)
{
	struct exchange *ex = xcalloc(1, sizeof(*ex));
	const union MHD_ConnectionInfo *ci;
	const char *param = NULL;
	size_t param_len = 0;
	const char *cl;

	ex->server = s;
	ex->started_us = time_mono_us();
	ex->req.app = s->app.app;
	ex->req.conn = conn;
	ex->req.method = method;
	ex->req.path = url;
	request_id_new(ex->req.request_id);
	remote_address(conn, ex->req.remote, sizeof(ex->req.remote));
	exchange_inspect(s, ex, conn, url);
	response_init(&ex->resp);
	/* One cap for the whole exchange, whatever a reload does meanwhile. */
	buf_init(&ex->body, (size_t)LIMIT(s, max_body_bytes));
	/* HEAD is answered like GET; libmicrohttpd drops the body. */
	ex->route = http_route_find(s->faces, &ex->req, &ex->face, &param,
	    &param_len, &ex->method_mismatch);
	if (param != NULL) {
		ex->path_param = xstrndup(param, param_len);
		ex->req.path_param = ex->path_param;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Content-Length");
	if (cl != NULL && strtoull(cl, NULL, 10) > (uint64_t)ex->body.cap)
		ex->req.body_too_large = 1;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	pthread_mutex_lock(&s->lock);
	s->in_flight++;
	if (ci != NULL && ci->socket_context != NULL) {
		ex->conn = ci->socket_context;
		ex->conn->ex = ex;
		ex->conn->reading = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return ex;
}

static enum MHD_Result
queue_answer(struct exchange *ex)
{
	struct MHD_Response *r;
	struct http_response *resp = &ex->resp;
	enum MHD_Result ret;
	size_t len = resp->body.len;
	int i, close;

	r = MHD_create_response_from_buffer(len, len ? resp->body.data : "",
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "X-Request-ID", ex->req.request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->content_type != NULL)
		MHD_add_response_header(r, "Content-Type", resp->content_type);
	for (i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name,
		    resp->headers[i].value);
	pthread_mutex_lock(&ex->server->lock);
	close = ex->req.body_too_large || ex->server->draining;
	pthread_mutex_unlock(&ex->server->lock);
	if (close)
		MHD_add_response_header(r, "Connection", "close");
	ret = MHD_queue_response(ex->req.conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct exchange *ex = *con_cls;

	(void)version;
	if (ex == NULL) {
		*con_cls = exchange_new(s, conn, url, method);
		return MHD_YES;
	}
	if (ex->state == EX_ANSWERED)
		return queue_answer(ex);
	if (*upload_data_size > 0) {
		/*
		 * Past max_body_bytes the rest is read and thrown away, however
		 * much there is: an answer queued before the whole body is read
		 * makes libmicrohttpd close the connection with the client
		 * still sending, and the client sees a reset instead of the
		 * 413.  request_body_timeout bounds how long this may take.
		 */
		if (!ex->req.body_too_large &&
		    buf_append(&ex->body, upload_data, *upload_data_size) == -1)
			ex->req.body_too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The whole body is in: its deadline no longer applies. */
	pthread_mutex_lock(&s->lock);
	if (ex->conn != NULL)
		ex->conn->reading = 0;
	pthread_mutex_unlock(&s->lock);
	if (ex->req.body_too_large) {
		buf_free(&ex->body);
		/* The dialect shapes this error, so the route still runs. */
	}
	if (ex->route == NULL || ex->route->run == RUN_INLINE ||
	    ex->refusal != REFUSE_NONE) {
		run_handler(ex);
		ex->state = EX_ANSWERED;
		return queue_answer(ex);
	}
	ex->state = EX_RUNNING;
	pthread_mutex_lock(&s->lock);
	s->suspended++;
	pthread_mutex_unlock(&s->lock);
	MHD_suspend_connection(conn);
	if (job_push(s, ex) == -1) {
		answer_stopping(ex);
		answer_now(ex);
	}
	return MHD_YES;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct exchange *ex = *con_cls;
	struct log_request lr;
	const char *cut_reason;

	(void)conn;
	if (ex == NULL)
		return;
	/* The connection's record lets go of ex; reap may have cut it. */
	pthread_mutex_lock(&s->lock);
	cut_reason = ex->cut_reason;
	if (ex->conn != NULL) {
		ex->conn->ex = NULL;
		ex->conn->reading = 0;
		ex->conn->ready_us = time_mono_us();
	}
	pthread_mutex_unlock(&s->lock);
	lr = (struct log_request){
		.request_id = ex->req.request_id,
		.method = ex->req.method,
		.path = ex->req.path,
		.remote = ex->req.remote,
		.client = ex->req.client_ip,
		.dialect = ex->route ? ex->face->name : NULL,
		.outcome = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
		    ex->resp.outcome :
		    cut_reason != NULL ? cut_reason :
					 "connection_lost",
		.status = ex->resp.status,
		.duration_us = time_mono_us() - ex->started_us,
	};
	log_request(&lr);
	http_metrics_count(s->site, ex->route != NULL ? ex->face : NULL,
	    ex->route, ex->resp.status, lr.duration_us);
	pthread_mutex_lock(&s->lock);
	if (--s->in_flight == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	response_clear(&ex->resp);
	buf_free(&ex->body);
	free(ex->path_param);
	free(ex);
	*con_cls = NULL;
}

static size_t
peer_bucket(const struct http_server *s, const uint8_t key[HTTP_PEER_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, key, HTTP_PEER_KEY_LEN, s->peer_key);
	return (h[0] | (size_t)h[1] << 8) % PEER_BUCKETS;
}

/* The count of key, under s->lock; made (at 0) when create is set. */
static struct addr_count *
peer_find(struct http_server *s, const uint8_t key[HTTP_PEER_KEY_LEN],
    int create)
{
	struct addr_count *p;
	size_t b = peer_bucket(s, key);

	for (p = s->peers[b]; p != NULL; p = p->next)
		if (memcmp(p->key, key, HTTP_PEER_KEY_LEN) == 0)
			return p;
	if (!create)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	memcpy(p->key, key, HTTP_PEER_KEY_LEN);
	p->next = s->peers[b];
	s->peers[b] = p;
	return p;
}

/* Drop one connection of p, under s->lock; p is freed at zero. */
static void
peer_release(struct http_server *s, struct addr_count *p)
{
	struct addr_count **pp;

	if (--p->count > 0)
		return;
	for (pp = &s->peers[peer_bucket(s, p->key)]; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

/*
 * Shut the socket of c down, under s->lock: libmicrohttpd sees the end of
 * the stream and closes the connection from its own thread.  The socket is
 * still open: it is closed only after the connection's notice, which takes
 * the lock.
 */
static void
conn_cut(struct http_server *s, struct conn *c)
{
	if (c->cut || c->fd == MHD_INVALID_SOCKET)
		return;
	(void)shutdown(c->fd, SHUT_RDWR);
	c->cut = 1;
	s->ncut++;
}

/*
 * libmicrohttpd's accept policy: refuse at once, rather than let a client
 * wait, a connection from an address (IPv6: a /64) that has its cap
 * open.  At the global cap, the connection that has waited longest for a
 * request head is closed to make room (slow or idle clients give way to
 * a new one); with none, the new one is refused.
 */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct http_server *s = cls;
	struct addr_count *p;
	struct conn *c, *victim = NULL;
	uint8_t key[HTTP_PEER_KEY_LEN];
	enum MHD_Result ok = MHD_YES;
	int64_t per_ip;

	(void)salen;
	http_peer_key(sa, key);
	pthread_mutex_lock(&s->lock);
	p = peer_find(s, key, 0);
	per_ip = LIMIT(s, max_connections_per_ip);
	if (per_ip > 0 && p != NULL && p->count >= per_ip) {
		s->refused_peer++;
		ok = MHD_NO;
		goto out;
	}
	if (s->nconns - s->ncut < s->max_conns)
		goto out;
	for (c = s->conns; c != NULL; c = c->next)
		if (c->ex == NULL && !c->cut &&
		    (victim == NULL || c->ready_us < victim->ready_us))
			victim = c;
	if (victim == NULL) {
		s->refused_full++;
		ok = MHD_NO;
		goto out;
	}
	conn_cut(s, victim);
	s->evicted++;
out:
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* libmicrohttpd's notice of a connection opened or closed. */
static void
conn_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	uint8_t key[HTTP_PEER_KEY_LEN];
	struct conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = xcalloc(1, sizeof(*c));
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : MHD_INVALID_SOCKET;
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		http_peer_key(ci != NULL ? ci->client_addr : NULL, key);
		c->ready_us = time_mono_us();
		pthread_mutex_lock(&s->lock);
		c->peer = peer_find(s, key, 1);
		c->peer->count++;
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		pthread_mutex_unlock(&s->lock);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (c == NULL)
		return;
	/* Called before libmicrohttpd closes the socket. */
	pthread_mutex_lock(&s->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ex != NULL)
		c->ex->conn = NULL;
	if (c->cut)
		s->ncut--;
	peer_release(s, c->peer);
	if (--s->nconns == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	free(c);
	*socket_context = NULL;
}

/*
 * Close, under s->lock, the connections past a deadline: no whole request
 * head within request_head_timeout of being opened or of the last answer
 * (an idle kept-alive connection too), or no whole body within
 * request_body_timeout of its head.  libmicrohttpd's own timeout only
 * measures silence, which a client sending a byte at a time never keeps.
 * What was closed or refused is reported once per REPORT_US.
 */
static void
reap(struct http_server *s, int64_t now)
{
	int64_t head = LIMIT(s, head_timeout_s) * 1000000;
	int64_t body = LIMIT(s, body_timeout_s) * 1000000;
	struct conn *c;

	for (c = s->conns; c != NULL; c = c->next) {
		if (c->cut)
			continue;
		if (c->ex == NULL && now - c->ready_us > head) {
			conn_cut(s, c);
			s->cut_head++;
		} else if (c->ex != NULL && c->reading &&
		    now - c->ex->started_us > body) {
			c->ex->cut_reason = "body_timeout";
			conn_cut(s, c);
			s->cut_body++;
		}
	}
	if (now < s->next_report_us)
		return;
	s->next_report_us = now + REPORT_US;
	if (s->cut_head + s->cut_body + s->evicted + s->refused_peer +
		s->refused_full ==
	    0)
		return;
	log_warn(
	    "http: connections closed at the head deadline %lld, at the "
	    "body deadline %lld, waiting ones closed for new clients %lld; "
	    "refused: address at its cap %lld, all busy %lld",
	    (long long)s->cut_head, (long long)s->cut_body,
	    (long long)s->evicted, (long long)s->refused_peer,
	    (long long)s->refused_full);
	s->cut_head = s->cut_body = s->evicted = 0;
	s->refused_peer = s->refused_full = 0;
}

/*
 * Whether a request is arriving on c, whose last exchange is over: bytes
 * wait in its socket.
 */
static int
conn_has_input(const struct conn *c)
{
	char b;
	ssize_t n;

	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http: %s", msg);
}

/* Resolve "host:port" or "[v6]:port" into a socket address. */
static int
listen_address(const char *listen, struct sockaddr_storage *ss)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t n;
	int rc;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - listen);
	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
		listen++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, listen, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(n ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/*
 * How far past max_conns libmicrohttpd's own limit is set.  Its limit is
 * split among the polling threads, and a thread at its share stops
 * accepting: clients would then wait.  accept_policy holds the real cap
 * and refuses at once; the slack covers accepts racing on several threads
 * and connections closed for a new client that are not gone yet.
 */
static int64_t
conn_slack(const struct config *cfg)
{
	return 2 * cfg->http_threads + 8;
}

/*
 * The connection cap the file-handle limit allows.  Besides connections,
 * handles go to the database pool (SQLite: the database and its WAL per
 * connection; PostgreSQL: a socket), the mail senders (a socket or a
 * Maildir file each), the polling threads (an epoll and an eventfd each)
 * and FD_MARGIN more (standard streams, the listening socket, the WAL
 * index, Maildir folders, the breached-password file).  The soft limit is
 * raised as far as the hard one allows; past that, the cap is lowered and
 * one line says so.  Connections over the cap are refused at accept, so
 * the database and the mail never run out of handles.
 */
static int64_t
fd_budget(const struct config *cfg)
{
	struct rlimit rl, want_rl;
	int64_t pool, reserve, want, cap, was;

	pool = cfg->db_pool_size > 0 ? cfg->db_pool_size :
				       cfg->workers + cfg->mail_workers + 1;
	reserve = 2 * pool + 2 * cfg->mail_workers +
	    2 * (cfg->http_threads + 1) + FD_MARGIN;
	want = cfg->max_connections + conn_slack(cfg) + reserve;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return cfg->max_connections;
	if (rl.rlim_cur == RLIM_INFINITY || (int64_t)rl.rlim_cur >= want)
		return cfg->max_connections;
	was = (int64_t)rl.rlim_cur;
	want_rl = rl;
	want_rl.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		(int64_t)rl.rlim_max < want ?
	    rl.rlim_max :
	    (rlim_t)want;
	if (want_rl.rlim_cur > rl.rlim_cur &&
	    setrlimit(RLIMIT_NOFILE, &want_rl) == 0)
		rl = want_rl;
	if ((int64_t)rl.rlim_cur >= want) {
		log_info("http: raised the file-handle limit from %lld to %lld "
			 "for %lld connections",
		    (long long)was, (long long)rl.rlim_cur,
		    (long long)cfg->max_connections);
		return cfg->max_connections;
	}
	cap = (int64_t)rl.rlim_cur - reserve - conn_slack(cfg);
	if (cap < 1)
		cap = 1;
	log_warn(
	    "http: max_connections lowered from %lld to %lld: the "
	    "file-handle limit is %lld (hard limit %lld), and %lld are kept "
	    "for the database, the mail senders and files",
	    (long long)cfg->max_connections, (long long)cap,
	    (long long)rl.rlim_cur,
	    rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max,
	    (long long)(reserve + conn_slack(cfg)));
	return cap;
}

/*
 * Open the listening socket on ss.  A port another process listens on is
 * refused (no SO_REUSEPORT), unless reuse_port asks to share it.  Return
 * the socket, or -1 with a message logged.
 */
static int
listen_open(const char *listen_text, const struct sockaddr_storage *ss,
    int reuse_port)
{
	socklen_t len = ss->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	int fd, on = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd == -1) {
		log_error("http: cannot listen on %s: %s", listen_text,
		    strerror(errno));
		return -1;
	}
	/* A restart may bind while the last run's connections linger. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (reuse_port &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		log_warn("http: cannot share %s with other processes: %s",
		    listen_text, strerror(errno));
	if (bind(fd, (const struct sockaddr *)ss, len) == -1) {
		if (errno == EADDRINUSE)
			log_error("http: cannot listen on %s: address already "
				  "in use (is another resetd running on it?)",
			    listen_text);
		else
			log_error("http: cannot listen on %s: %s", listen_text,
			    strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		log_error("http: cannot listen on %s: %s", listen_text,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct http_server *
http_server_start(const struct config *cfg, const struct http_site *site,
    const struct http_app *app)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	const struct http_face *const *faces = site->faces;
	struct sockaddr_storage ss;
	pthread_condattr_t ca;
	unsigned int flags;
	int i, lfd;

	if (!http_faces_valid(faces) || http_metrics_register(site) == -1) {
		free(s);
		return NULL;
	}
	if (listen_address(site->listen, &ss) == -1) {
		log_error("http: cannot resolve %s listen address %s",
		    site->name, site->listen);
		free(s);
		return NULL;
	}
	lfd = listen_open(site->listen, &ss, site->reuse_port);
	if (lfd == -1) {
		free(s);
		return NULL;
	}
	s->cfg = cfg;
	http_server_reload(s, cfg);
	s->site = site;
	s->faces = faces;
	s->app = *app;
	s->max_conns = site->max_connections > 0 ? site->max_connections :
						   (int)fd_budget(cfg);
	crypto_shorthash_keygen(s->peer_key);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->jobs_ready, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->idle, &ca);
	pthread_cond_init(&s->timer_wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->timer, NULL, timer_main, s) != 0)
		log_fatal("http: cannot start the timer thread");
	s->timer_running = 1;
	s->workers = xcalloc((size_t)site->workers, sizeof(pthread_t));
	for (i = 0; i < site->workers; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			log_fatal("http: cannot start worker threads");
		s->nworkers++;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(flags, 0, accept_policy, s, access_handler, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
	    (MHD_socket)lfd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)site->threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(s->max_conns + conn_slack(cfg)),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, conn_notify, s, MHD_OPTION_END);
	if (s->mhd == NULL) {
		log_error("http: cannot serve on %s", site->listen);
		(void)http_server_stop(s, 0); /* nothing runs yet */
		return NULL;
	}
	log_info("http: %s listener on %s", site->name, site->listen);
	return s;
}

void
http_server_reload(struct http_server *s, const struct config *cfg)
{
	if (s == NULL)
		return;
	__atomic_store_n(&s->limits.max_headers, cfg->max_headers,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&s->limits.max_url_bytes, cfg->max_url_bytes,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&s->limits.max_body_bytes, cfg->max_body_bytes,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&s->limits.max_connections_per_ip,
	    cfg->max_connections_per_ip, __ATOMIC_RELAXED);
	__atomic_store_n(&s->limits.head_timeout_s, cfg->request_head_timeout,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&s->limits.body_timeout_s, cfg->request_body_timeout,
	    __ATOMIC_RELAXED);
}

/* Wait on s->idle, under s->lock, until deadline_ms; 0, or -1 past it. */
static int
idle_wait(struct http_server *s, int64_t deadline_ms)
{
	struct timespec ts;

	if (time_mono_ms() >= deadline_ms)
		return -1;
	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
	(void)pthread_cond_timedwait(&s->idle, &s->lock, &ts);
	return 0;
}

void
http_server_quiesce(struct http_server *s)
{
	MHD_socket fd;

	if (s == NULL || s->mhd == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->draining) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->draining = 1;
	pthread_mutex_unlock(&s->lock);
	fd = MHD_quiesce_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	(void)http_server_drain(s);
}

int
http_server_drain(struct http_server *s)
{
	struct conn *c;
	int n;

	if (s == NULL || s->mhd == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (c = s->conns; c != NULL; c = c->next)
		if (c->ex == NULL && !c->cut && !conn_has_input(c))
			conn_cut(s, c);
	n = s->nconns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int
http_server_stop(struct http_server *s, int64_t deadline_ms)
{
	struct exchange *jobs, *ex;
	int i, n;

	if (s == NULL)
		return 0;
	if (s->mhd != NULL) {
		http_server_quiesce(s);
		/* No handler starts from now on: the queued ones get 503. */
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		jobs = s->jobs_head;
		s->jobs_head = s->jobs_tail = NULL;
		pthread_cond_broadcast(&s->jobs_ready);
		pthread_cond_signal(&s->timer_wake);
		pthread_mutex_unlock(&s->lock);
		while (jobs != NULL) {
			ex = jobs;
			jobs = ex->next_job;
			answer_stopping(ex);
			answer_now(ex);
		}
		/*
		 * Handlers running now finish (what they commit is answered),
		 * and held answers go out; libmicrohttpd must not be stopped
		 * before every connection is resumed.
		 */
		pthread_mutex_lock(&s->lock);
		while (s->suspended > 0)
			if (idle_wait(s, deadline_ms) == -1)
				break;
		n = s->suspended;
		/* Let the answers just resumed reach their clients. */
		while (n == 0 && s->in_flight > 0)
			if (idle_wait(s, deadline_ms) == -1)
				break;
		pthread_mutex_unlock(&s->lock);
		if (n > 0) {
			log_error("http: %d requests still running at the "
				  "deadline",
			    n);
			return -1;
		}
		MHD_stop_daemon(s->mhd);
	}
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->jobs_ready);
	pthread_cond_signal(&s->timer_wake);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	if (s->timer_running)
		pthread_join(s->timer, NULL);
	free(s->held);
	pthread_cond_destroy(&s->timer_wake);
	free(s->workers);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->jobs_ready);
	pthread_cond_destroy(&s->idle);
	free(s);
	return 0;
}
